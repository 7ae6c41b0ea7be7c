"""The ``riskmap`` command line.

    riskmap demo [--seed N] [--store PATH] [--force]   build the demo store
    riskmap serve [--port P] [--address A]             serve the dashboard
    riskmap settings                                   print the effective settings
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from dashboard.settings import PROJECT_ROOT, load_settings
from geo.errors import SettingsError

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from data.demo import build_demo, demo_meta
    from layers.store import write_new_store

    settings = load_settings()
    path = Path(args.store) if args.store else settings.store_path
    if path.exists() and not args.force:
        print(f"store exists, kept: {path.name} (use --force to rebuild)")
        return 0
    seed = settings.demo_seed if args.seed is None else args.seed
    t0 = time.perf_counter()
    print(f"building demo scenario (seed {seed}) …", flush=True)
    layers = build_demo(seed)
    write_new_store(path, layers, meta=demo_meta(seed))
    counts = ", ".join(f"{k} {len(v):,}" for k, v in layers.items())
    print(f"wrote {path.name} in {time.perf_counter() - t0:.1f} s: {counts}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    load_settings()  # fail fast, before the server starts, with the key named
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.port", str(args.port),
        "--server.address", args.address,
        "--server.headless", "true",
        "--server.enableStaticServing", "true",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
    ]
    print(f"riskmap: serving on http://{args.address}:{args.port}", flush=True)
    return subprocess.call(cmd, cwd=PROJECT_ROOT, env=env)


def _cmd_settings(_args: argparse.Namespace) -> int:
    s = load_settings()
    for k, v in vars(s).items():
        print(f"{k} = {v!r}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="riskmap", description="riskmap: epidemic risk-area mapping dashboard")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="build the demo store (seeded, deterministic)")
    d.add_argument("--seed", type=int, default=None, help="scenario seed (default: setting demo_seed)")
    d.add_argument("--store", default=None, help="GeoPackage path (default: setting store)")
    d.add_argument("--force", action="store_true", help="rebuild even if the store exists")
    d.set_defaults(func=_cmd_demo)
    s = sub.add_parser("serve", help="serve the dashboard")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--address", default="localhost")
    s.set_defaults(func=_cmd_serve)
    st = sub.add_parser("settings", help="print the effective settings")
    st.set_defaults(func=_cmd_settings)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"riskmap: settings error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
