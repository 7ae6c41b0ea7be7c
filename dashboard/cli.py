"""The ``riskmap`` command line.

    riskmap demo [--seed N] [--store PATH] [--force]   build the demo store
    riskmap serve [--port P] [--address A]             serve the dashboard
    riskmap settings                                   print the effective settings
    riskmap import LAYER FILE [--crs C] [--skip-bad] [--rejects F] [--mode append|replace] [--store PATH]
    riskmap export LAYER FILE [--crs C] [--store PATH]
    riskmap screen --as-of DATE [--out FILE.csv|FILE.xlsx] [--store PATH]

Exit codes: 0 done, 1 the file was rejected (every reject printed) or the export failed,
2 usage or settings error (bad option, unknown coordinate system, missing file or store).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from dashboard.settings import PROJECT_ROOT, load_settings
from geo.errors import CoordinateError, ImportRejected, SettingsError, StaleWrite
from layers import REGISTRY

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
    write_new_store(path, layers, meta=demo_meta(seed), user="demo")
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


def _store(args: argparse.Namespace):
    from layers.store import GpkgStore

    return GpkgStore(Path(args.store) if args.store else load_settings().store_path)


def _personal_labels(key: str) -> set[str]:
    from layers._headers import column_label

    spec = REGISTRY[key]
    return {column_label(c) for c in spec.columns if c.personal}


def _print_issue(issue, personal: set[str], *, file=None) -> None:
    from layers.io import format_issue

    # values are never kept for personal columns; the label check is a second lock on that door
    print(f"  {format_issue(issue, show_value=issue.column not in personal)}", file=file)


def _cmd_import(args: argparse.Namespace) -> int:
    from layers.io import format_issue, import_file

    path = Path(args.file)
    if not path.is_file():
        print(f"riskmap: 找不到文件 / file not found: {args.file}", file=sys.stderr)
        return 2
    store = _store(args)
    personal = _personal_labels(args.layer)
    try:
        report = import_file(
            path,
            args.layer,
            store=store,
            crs=args.crs,
            skip_bad=args.skip_bad,
            rejects_path=args.rejects,
            mode=args.mode,
            layer=args.source_layer,
            city_adcode=load_settings().city_adcode,
        )
    except ImportRejected as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", []):
            print(f"  说明 note · {note}", file=sys.stderr)
        for issue in exc.rows:
            _print_issue(issue, personal, file=sys.stderr)
        if args.rejects and exc.rows:
            print(f"  错误清单 rejects file: {args.rejects}", file=sys.stderr)
        return 1
    except StaleWrite:
        print("riskmap: 导入期间数据库被他人修改，未写入任何数据，请重新运行 / the store changed during the import; nothing was written; run it again", file=sys.stderr)
        return 1
    print(report.summary())
    for note in report.notes:
        print(f"  说明 note · {format_issue(note)}")
    for issue in report.rejects:
        _print_issue(issue, personal)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from layers.io import FORMATS, export_layer
    from layers.store import StoreMissing

    suffix = Path(args.file).suffix.lower()
    if suffix not in FORMATS:
        known = " ".join(dict.fromkeys(FORMATS))
        print(f"riskmap: 不支持的导出格式 {suffix or '（无）'}（可用 {known}） / unsupported export format (use {known})", file=sys.stderr)
        return 2
    store = _store(args)
    try:
        n = export_layer(store, args.layer, args.file, crs=args.crs or "wgs84")
    except StoreMissing as exc:
        print(f"riskmap: 找不到数据库 / store not found: {exc}", file=sys.stderr)
        return 2
    except CoordinateError:
        raise  # a usage error, exit 2 in main()
    except ValueError as exc:
        print(f"riskmap: 导出失败 / export failed: {exc}", file=sys.stderr)
        return 1
    spec = REGISTRY[args.layer]
    crs = args.crs or "wgs84"
    print(f"已导出“{spec.name_zh}”{n} 行到 {args.file}（{crs}） / exported {n} rows of {spec.name_en} to {args.file} ({crs})")
    return 0


def _cmd_screen(args: argparse.Namespace) -> int:
    from layers.screening_io import cli_screen

    path = Path(args.store) if args.store else load_settings().store_path
    return cli_screen(args.as_of, args.out, path)


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
    layers = list(REGISTRY)
    crs_help = "coordinate system: wgs84, gcj02 (Amap/Tencent), bd09 (Baidu) or EPSG:<code> (e.g. EPSG:4490)"
    im = sub.add_parser("import", help="import a file into a layer (all or nothing unless --skip-bad)")
    im.add_argument("layer", choices=layers, metavar="LAYER", help=f"one of: {', '.join(layers)}")
    im.add_argument("file", metavar="FILE", help=".geojson .json .gpkg .zip (Shapefile) .kml .csv .xlsx")
    im.add_argument("--crs", default=None, help=crs_help + " (default: the file's own, else wgs84)")
    im.add_argument("--skip-bad", action="store_true", help="write the good rows and list the bad ones in the rejects file")
    im.add_argument("--rejects", default=None, help="rejects file (default with --skip-bad: <file stem>.rejects.csv)")
    im.add_argument("--mode", choices=("append", "replace"), default="append", help="append rows (default) or replace the layer")
    im.add_argument("--store", default=None, help="GeoPackage path (default: setting store)")
    im.add_argument("--source-layer", default=None, help="GeoPackage layer, shapefile in the zip, or XLSX sheet to read")
    im.set_defaults(func=_cmd_import)
    ex = sub.add_parser("export", help="export a layer to a file (format by suffix)")
    ex.add_argument("layer", choices=layers, metavar="LAYER", help=f"one of: {', '.join(layers)}")
    ex.add_argument("file", metavar="FILE", help=".geojson .json .gpkg .zip (Shapefile) .kml .csv .xlsx")
    ex.add_argument("--crs", default=None, help=crs_help + " (default: wgs84)")
    ex.add_argument("--store", default=None, help="GeoPackage path (default: setting store)")
    ex.set_defaults(func=_cmd_export)
    sc = sub.add_parser("screen", help="classify travellers and list the neighbourhoods to screen on a date")
    sc.add_argument("--as-of", required=True, help="date, YYYY-MM-DD")
    sc.add_argument("--out", default=None, help="write the lists to .csv (two files) or .xlsx (a sheet per district)")
    sc.add_argument("--store", default=None, help="GeoPackage path (default: setting store)")
    sc.set_defaults(func=_cmd_screen)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"riskmap: settings error: {exc}", file=sys.stderr)
        return 2
    except CoordinateError as exc:
        print(f"riskmap: 坐标系错误 / coordinate system error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
