"""Command-centre page in headless Chromium: time until the map has drawn all default layers and
bytes sent to the browser, ours vs a naive page (``bench/naive_command_app.py``) in the same run;
plus the server time of a warm rerun (Streamlit AppTest), which caching keeps small."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
READY_JS = """
() => {
  const m = window.map;
  if (!m || !window.L) return null;
  let polygons = 0, markers = 0;
  m.eachLayer(l => { if (l instanceof L.Polygon) polygons++; else if (l instanceof L.Marker) markers++; });
  return {polygons, markers};
}
"""
RUNS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(script: Path, store: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, RISKMAP_STORE=str(store), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        ["timeout", "--signal=KILL", "600", sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    msg = f"server for {script.name} did not start"
    raise RuntimeError(msg)


def _measure(browser, url: str, min_polygons: int) -> tuple[float, int, int]:
    """Seconds from navigation until the map has drawn its layers; bytes received over the
    websocket (the page's data, map included) and over HTTP (scripts, styles, fonts; cold cache)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    received = {"ws": 0}
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.__setitem__(
        "ws", received["ws"] + (len(payload) if isinstance(payload, (bytes, str)) else 0))))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    http = {"bytes": 0}
    cdp.on("Network.loadingFinished", lambda e: http.__setitem__("bytes", http["bytes"] + int(e.get("encodedDataLength", 0))))
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    elapsed = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and elapsed is None:
        for frame in page.frames:
            if "streamlit_folium" not in frame.url:
                continue
            try:
                state = frame.evaluate(READY_JS)
            except Exception:  # noqa: BLE001 - the frame may still be loading
                state = None
            if state and state["polygons"] >= min_polygons and state["markers"] > 0:
                elapsed = time.perf_counter() - t0
                break
        if elapsed is None:
            page.wait_for_timeout(20)
    page.wait_for_timeout(500)  # let trailing messages arrive before counting bytes
    context.close()
    if elapsed is None:
        msg = f"map at {url} did not draw"
        raise RuntimeError(msg)
    return elapsed, received["ws"], http["bytes"]


def _server_rerun_ms(store: Path) -> tuple[float, float]:
    """Cold first run and median warm rerun of the command page script (AppTest, in-process)."""
    from streamlit.testing.v1 import AppTest

    os.environ["RISKMAP_STORE"] = str(store)
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "command.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    t0 = time.perf_counter()
    at.run()
    cold = (time.perf_counter() - t0) * 1000
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        at.run()
        warm.append((time.perf_counter() - t0) * 1000)
    if at.exception:
        msg = f"command page raised: {at.exception}"
        raise RuntimeError(msg)
    return cold, statistics.median(warm)


def _compare(tmp: Path, store: Path, view: str, query: str, *, min_polygons: int) -> tuple[list, list]:
    """Serve ``dashboard/views/<view>`` as is and with a naive map; measure both in one run."""
    from playwright.sync_api import sync_playwright

    procs = {}
    for name in ("ours", "naive"):
        # each variant runs the page script beside the app's static folder (local Leaflet)
        d = tmp / f"{Path(view).stem}-{name}"
        d.mkdir()
        (d / "static").symlink_to(ROOT / "dashboard" / "static", target_is_directory=True)
        (d / "page.py").write_text((ROOT / "dashboard" / "views" / view).read_text(encoding="utf-8"), encoding="utf-8")
        (d / "app.py").write_text((ROOT / "bench" / f"{name}_command_app.py").read_text(encoding="utf-8"), encoding="utf-8")
        procs[name] = _serve(d / "app.py", store)
    (ours_proc, ours_url), (naive_proc, naive_url) = procs["ours"], procs["naive"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            _measure(browser, ours_url + query, min_polygons)  # warm both servers' caches and the browser
            _measure(browser, naive_url + query, min_polygons)
            ours = [_measure(browser, ours_url + query, min_polygons) for _ in range(RUNS)]
            naive = [_measure(browser, naive_url + query, min_polygons) for _ in range(RUNS)]
            browser.close()
    finally:
        for proc in (ours_proc, naive_proc):
            proc.terminate()
            proc.wait(timeout=10)
    return ours, naive


def run() -> list[dict]:
    from data.demo import build_demo, demo_meta
    from layers.store import write_new_store

    tmp = Path(tempfile.mkdtemp(prefix="riskmap-bench-"))
    store = tmp / "riskmap.gpkg"
    write_new_store(store, build_demo(20220328), meta=demo_meta(20220328))
    ours, naive = _compare(tmp, store, "command.py", "", min_polygons=300)
    cold_ms, warm_ms = _server_rerun_ms(store)
    t_ours = statistics.median(r[0] for r in ours)
    t_naive = statistics.median(r[0] for r in naive)
    b_ours = statistics.median(r[1] for r in ours)
    b_naive = statistics.median(r[1] for r in naive)
    h_ours = statistics.median(r[2] for r in ours)
    h_naive = statistics.median(r[2] for r in naive)
    return [
        {"name": "command_page_time_to_map_drawn", "unit": "s", "value": round(t_ours, 3), "baseline": round(t_naive, 3),
         "baseline_name": "same page, naive map (plain GeoJson, full precision, one Marker per point)",
         "ratio": round(t_naive / t_ours, 2), "runs": RUNS},
        {"name": "command_page_data_bytes_to_browser", "unit": "bytes", "value": int(b_ours), "baseline": int(b_naive),
         "baseline_name": "same page, naive map (websocket: page data incl. the map)", "ratio": round(b_naive / b_ours, 2)},
        {"name": "command_page_static_bytes_cold_cache", "unit": "bytes", "value": int(h_ours), "baseline": int(h_naive),
         "baseline_name": "same page, naive map (HTTP: scripts, styles, fonts; identical bundles expected)",
         "ratio": round(h_naive / h_ours, 2)},
        {"name": "command_page_warm_rerun_server_time", "unit": "ms", "value": round(warm_ms, 1), "baseline": round(cold_ms, 1),
         "baseline_name": "first (cold) run of the same page", "ratio": round(cold_ms / warm_ms, 2), "target_ms": 300},
    ] + _resident_rows(tmp, store)


def _resident_rows(tmp: Path, store: Path) -> list[dict]:
    """The public resident page answering one location, vs the same page with every site as its
    own folium Marker (with popup) and plain GeoJson layers."""
    ours, naive = _compare(tmp, store, "resident.py", "/?loc=112.5712,37.8571&lang=zh", min_polygons=300)
    t_ours, t_naive = statistics.median(r[0] for r in ours), statistics.median(r[0] for r in naive)
    b_ours, b_naive = statistics.median(r[1] for r in ours), statistics.median(r[1] for r in naive)
    return [
        {"name": "resident_page_data_bytes_to_browser", "unit": "bytes", "value": int(b_ours), "baseline": int(b_naive),
         "baseline_name": "same page, naive map: every site its own Marker with popup, plain GeoJson (websocket data)",
         "ratio": round(b_naive / b_ours, 2), "target_ratio": 3},
        {"name": "resident_page_time_to_map_drawn", "unit": "s", "value": round(t_ours, 3), "baseline": round(t_naive, 3),
         "baseline_name": "same page, naive map", "ratio": round(t_naive / t_ours, 2), "runs": RUNS},
    ]
