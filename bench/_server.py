"""Start a Streamlit script on a free loopback port for a benchmark (it stops itself)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["ROOT", "free_port", "serve"]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: Path, store: Path, *, limit_s: int = 600, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` on 127.0.0.1 with ``store``; killed after ``limit_s`` at the latest.

    Returns the process and the base URL once the server answers its health check.
    """
    port = free_port()
    full_env = dict(os.environ, RISKMAP_STORE=str(store), PYTHONPATH=str(ROOT))
    full_env.pop("RISKMAP_TILE_URL", None)
    full_env.update(env or {})
    proc = subprocess.Popen(
        ["timeout", "--signal=KILL", str(limit_s), sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    msg = f"server for {script.name} did not start"
    raise RuntimeError(msg)
