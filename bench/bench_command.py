"""Command-centre page in headless Chromium: time until the map has drawn all default layers and
bytes sent to the browser, ours vs a naive page (``bench/naive_command_app.py``) in the same run;
plus the server time of a warm rerun (Streamlit AppTest), which caching keeps small.

Both pages are opened signed in (a session cookie of a command-role account in the bench store);
runs alternate between the two so that load from elsewhere on the machine hits both alike, and
medians are reported."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._server import ROOT, serve

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
RUNS = 7


def _session_token(store: Path) -> str:
    """A signed-in session of a command-role account in the bench store's accounts database (the
    command page needs a sign-in): its token, for the cookie and for AppTest's session state."""
    import secrets

    from dashboard.accounts import Accounts, accounts_location

    db = Accounts(accounts_location(str(store)))
    account = db.get("bench_command") or db.add("bench_command", "command", secrets.token_urlsafe(16))
    return db.open_session(account)


def _open(browser, url: str, token: str):
    """A fresh browser context (cold cache), signed in with the session cookie, and its page, not
    yet navigated."""
    from dashboard.auth import COOKIE

    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": token, "url": url}])
    return context, context.new_page()


def _measure(browser, url: str, min_polygons: int, token: str) -> tuple[float, int, int]:
    """Seconds from navigation until the map has drawn its layers; bytes received over the
    websocket (the page's data, map included) and over HTTP (scripts, styles, fonts; cold cache)."""
    context, page = _open(browser, url, token)
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


def _server_rerun_ms(store: Path, token: str) -> tuple[float, float]:
    """Cold first run and median warm rerun of the command page script (AppTest, in-process)."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import TOKEN_KEY

    os.environ["RISKMAP_STORE"] = str(store)
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "command.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state[TOKEN_KEY] = token
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
    if not at.get("component_instance"):  # e.g. stopped at the sign-in form: the figure would be a lie
        msg = "the command page did not show its map under AppTest"
        raise RuntimeError(msg)
    return cold, statistics.median(warm)


def _compare(tmp: Path, store: Path, view: str, query: str, *, min_polygons: int, token: str) -> tuple[list, list]:
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
        procs[name] = serve(d / "app.py", store)
    (ours_proc, ours_url), (naive_proc, naive_url) = procs["ours"], procs["naive"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            _measure(browser, ours_url + query, min_polygons, token)  # warm both servers' caches and the browser
            _measure(browser, naive_url + query, min_polygons, token)
            ours, naive = [], []
            for _ in range(RUNS):  # alternate, so load from elsewhere on the machine hits both alike
                ours.append(_measure(browser, ours_url + query, min_polygons, token))
                naive.append(_measure(browser, naive_url + query, min_polygons, token))
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
    token = _session_token(store)
    ours, naive = _compare(tmp, store, "command.py", "", min_polygons=300, token=token)
    cold_ms, warm_ms = _server_rerun_ms(store, token)
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
    ] + _resident_rows(tmp, store, token)


def _resident_rows(tmp: Path, store: Path, token: str) -> list[dict]:
    """The public resident page answering one location, vs the same page with every site as its
    own folium Marker (with popup) and plain GeoJson layers."""
    ours, naive = _compare(tmp, store, "resident.py", "/?loc=112.5712,37.8571&lang=zh", min_polygons=300, token=token)
    t_ours, t_naive = statistics.median(r[0] for r in ours), statistics.median(r[0] for r in naive)
    b_ours, b_naive = statistics.median(r[1] for r in ours), statistics.median(r[1] for r in naive)
    return [
        {"name": "resident_page_data_bytes_to_browser", "unit": "bytes", "value": int(b_ours), "baseline": int(b_naive),
         "baseline_name": "same page, naive map: every site its own Marker with popup, plain GeoJson (websocket data)",
         "ratio": round(b_naive / b_ours, 2), "target_ratio": 3},
        {"name": "resident_page_time_to_map_drawn", "unit": "s", "value": round(t_ours, 3), "baseline": round(t_naive, 3),
         "baseline_name": "same page, naive map", "ratio": round(t_naive / t_ours, 2), "runs": RUNS},
    ]
