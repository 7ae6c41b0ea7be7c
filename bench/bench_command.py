"""Command-centre page in headless Chromium: time until the map has drawn all default layers and
bytes sent to the browser, ours vs two naive baselines in the same run; plus the server time of a
warm rerun (Streamlit AppTest), which caching keeps small.

Baselines (both the same page; only the map differs; ``bench/naive_map.py`` builds it):

* naive page (``bench/plain_command_app.py``): the naive folium map built on every run and shown
  with ``st_folium``, the way a plain Streamlit page does it. The issue's baseline.
* naive map, our delivery (``bench/naive_command_app.py``): the naive map through the page's own
  cache and prepared component, which isolates what the map's content costs in the browser.

And a floor (``bench/floor_command_app.py``): the same page with the smallest map that passes the
readiness check, through our cache and component. Everything it takes is the page and the map
machinery, not the map's content, so the naive page's time over the floor's is the most any map
could reach on this page.

The wall screen (``/wall``, ``dashboard/wall.py``) shows the same map and figures as one plain
page; it is measured against the same page with the naive map built on every request
(``bench/wall_server.py``), and beside the naive Streamlit page.

All pages are opened signed in (a session cookie of a command-role account in the bench store);
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


DESKTOP = {"width": 1600, "height": 1000}
PHONE = {"width": 390, "height": 844}


def _open(browser, url: str, token: str, viewport: dict | None = None):
    """A fresh browser context (cold cache), signed in with the session cookie, and its page, not
    yet navigated."""
    from dashboard.auth import COOKIE

    context = browser.new_context(viewport=viewport or DESKTOP)
    context.add_cookies([{"name": COOKIE, "value": token, "url": url}])
    return context, context.new_page()


MAP_FRAME_BYTES = 100_000  # a websocket frame this large carries the map (the rest of the page is small)


def _map_frame(page, frame) -> bool:
    """The frame holding the map: streamlit-folium's iframe on a Streamlit page, the page itself
    on the wall screen."""
    return "streamlit_folium" in frame.url or (frame == page.main_frame and "/wall" in frame.url)


def _measure(browser, url: str, min_polygons: int, token: str, viewport: dict | None = None) -> tuple[float, int, int, float, float]:
    """Seconds from navigation until the map has drawn its layers; bytes received over the
    websocket (the page's data, map included) and over HTTP (scripts, styles, fonts; cold cache);
    seconds until the map's data arrived (the page shell and the server's run before it); seconds
    until the first testing-site card was shown (resident page; NaN elsewhere)."""
    context, page = _open(browser, url, token, viewport)
    card = {"at": None}
    received = {"ws": 0, "map_at": None}

    def on_frame(payload) -> None:
        n = len(payload) if isinstance(payload, (bytes, str)) else 0
        received["ws"] += n
        if n >= MAP_FRAME_BYTES and received["map_at"] is None:
            received["map_at"] = time.perf_counter() - t0

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    http = {"bytes": 0}
    cdp.on("Network.loadingFinished", lambda e: http.__setitem__("bytes", http["bytes"] + int(e.get("encodedDataLength", 0))))
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    elapsed = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and elapsed is None:
        if card["at"] is None and page.locator(".rm-site").count():
            card["at"] = time.perf_counter() - t0
        for frame in page.frames:
            if not _map_frame(page, frame):
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
    return elapsed, received["ws"], http["bytes"], received["map_at"] or float("nan"), card["at"] or float("nan")


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


def variant_app(tmp: Path, view: str, name: str) -> Path:
    """A folder with ``dashboard/views/<view>`` as ``page.py`` and ``bench/<name>_command_app.py``
    as ``app.py`` beside the app's static folder (local Leaflet); returns the app's path."""
    d = tmp / f"{Path(view).stem}-{name}"
    if (d / "app.py").is_file():  # made for an earlier comparison of the same page (desktop, then phone)
        return d / "app.py"
    d.mkdir()
    (d / "static").symlink_to(ROOT / "dashboard" / "static", target_is_directory=True)
    (d / "page.py").write_text((ROOT / "dashboard" / "views" / view).read_text(encoding="utf-8"), encoding="utf-8")
    (d / "app.py").write_text((ROOT / "bench" / f"{name}_command_app.py").read_text(encoding="utf-8"), encoding="utf-8")
    return d / "app.py"


def _alternate(urls: dict[str, str], min_polygons: int, token: str, viewport: dict | None = None) -> dict[str, list]:
    """Measure every URL ``RUNS`` times in one browser, alternating, so load from elsewhere on
    the machine hits each alike (after one warming load each: server caches, browser)."""
    from playwright.sync_api import sync_playwright

    results: dict[str, list] = {name: [] for name in urls}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for url in urls.values():
            _measure(browser, url, min_polygons, token, viewport)
        for _ in range(RUNS):
            for name, url in urls.items():
                results[name].append(_measure(browser, url, min_polygons, token, viewport))
        browser.close()
    return results


def _compare(tmp: Path, store: Path, view: str, query: str, *, min_polygons: int, token: str,
             variants: tuple[str, ...] = ("ours", "naive"), viewport: dict | None = None) -> dict[str, list]:
    """Serve ``dashboard/views/<view>`` as is and with each baseline map (``bench/<variant>_command_app.py``),
    each on its own server, and measure them alternately."""
    procs = {name: serve(variant_app(tmp, view, name), store) for name in variants}
    try:
        return _alternate({name: url + query for name, (_proc, url) in procs.items()}, min_polygons, token, viewport)
    finally:
        for proc, _url in procs.values():
            proc.terminate()
            proc.wait(timeout=10)


WALL_VARIANTS = {"wall": "/wall", "wall_naive": "/wall-naive"}


def _document_bytes(url: str, token: str, *, gzip: bool = False) -> int:
    """Bytes of one wall document as the server sends it: uncompressed, or gzip-compressed as a
    browser asks for it (the server compresses HTML)."""
    import urllib.request

    from dashboard.auth import COOKIE

    headers = {"Cookie": f"{COOKIE}={token}"} | ({"Accept-Encoding": "gzip"} if gzip else {})
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as response:
        return len(response.read())


def _compare_wall(store: Path, token: str) -> dict[str, list]:
    """The wall screen (``/wall``) and the same page with the naive map built on every request
    (``/wall-naive``), one server (``bench/wall_server.py``), alternating runs."""
    proc, base = serve(ROOT / "bench" / "wall_server.py", store)
    try:
        results = _alternate({name: base + path for name, path in WALL_VARIANTS.items()}, 300, token)
        for name, path in WALL_VARIANTS.items():
            results[name + "_document"] = [_document_bytes(base + path, token)]
            results[name + "_document_gzip"] = [_document_bytes(base + path, token, gzip=True)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return results


def _median(rows: list, i: int) -> float:
    return statistics.median(r[i] for r in rows)


def run() -> list[dict]:
    from data.demo import build_demo, demo_meta
    from layers.store.gpkg import write_new_store

    tmp = Path(tempfile.mkdtemp(prefix="riskmap-bench-"))
    store = tmp / "riskmap.gpkg"
    write_new_store(store, build_demo(20220328), meta=demo_meta(20220328))
    token = _session_token(store)
    res = _compare(tmp, store, "command.py", "", min_polygons=300, token=token, variants=("ours", "plain", "naive", "floor"))
    cold_ms, warm_ms = _server_rerun_ms(store, token)
    walls = _compare_wall(store, token)
    t_wall, t_wall_naive = _median(walls["wall"], 0), _median(walls["wall_naive"], 0)
    h_wall, h_wall_naive = _median(walls["wall"], 2), _median(walls["wall_naive"], 2)
    d_wall, d_wall_naive = walls["wall_document"][0], walls["wall_naive_document"][0]
    z_wall, z_wall_naive = walls["wall_document_gzip"][0], walls["wall_naive_document_gzip"][0]
    ours, plain, naive, floor = res["ours"], res["plain"], res["naive"], res["floor"]
    t_ours, t_plain, t_naive, t_floor = _median(ours, 0), _median(plain, 0), _median(naive, 0), _median(floor, 0)
    b_ours, b_plain = _median(ours, 1), _median(plain, 1)
    h_ours, h_plain = _median(ours, 2), _median(plain, 2)
    m_ours, m_plain = _median(ours, 3), _median(plain, 3)
    plain_name = "same page, naive page map: plain GeoJson at full precision, one Marker per point, built every run, st_folium"
    return [
        {"name": "command_page_time_to_map_drawn", "unit": "s", "value": round(t_ours, 3), "baseline": round(t_plain, 3),
         "baseline_name": plain_name, "ratio": round(t_plain / t_ours, 2), "target_ratio": 2, "runs": RUNS},
        {"name": "command_page_time_to_map_drawn_vs_naive_content", "unit": "s", "value": round(t_ours, 3),
         "baseline": round(t_naive, 3),
         "baseline_name": "same page, the naive map's content through our cache and prepared component (what the content alone costs)",
         "ratio": round(t_naive / t_ours, 2), "runs": RUNS},
        {"name": "command_page_floor_time_to_map_drawn", "unit": "s", "value": round(t_floor, 3), "baseline": round(t_plain, 3),
         "baseline_name": "naive page; value: the same page with a trivial map (300 triangles, one marker) through our cache "
                          "and component. The ratio is the most any map could reach on this page",
         "ratio": round(t_plain / t_floor, 2), "runs": RUNS},
        {"name": "command_page_time_to_map_data", "unit": "s", "value": round(m_ours, 3), "baseline": round(m_plain, 3),
         "baseline_name": "naive page: until the map's data reached the browser (page shell + server run; the rest is drawing)",
         "ratio": round(m_plain / m_ours, 2), "runs": RUNS},
        {"name": "command_page_data_bytes_to_browser", "unit": "bytes", "value": int(b_ours), "baseline": int(b_plain),
         "baseline_name": "naive page (websocket: page data incl. the map)", "ratio": round(b_plain / b_ours, 2), "target_ratio": 3},
        {"name": "command_page_static_bytes_cold_cache", "unit": "bytes", "value": int(h_ours), "baseline": int(h_plain),
         "baseline_name": "naive page (HTTP: scripts, styles, fonts; cold cache)", "ratio": round(h_plain / h_ours, 2)},
        {"name": "command_page_warm_rerun_server_time", "unit": "ms", "value": round(warm_ms, 1), "baseline": round(cold_ms, 1),
         "baseline_name": "first (cold) run of the same page", "ratio": round(cold_ms / warm_ms, 2), "target_ms": 300},
        {"name": "wall_screen_time_to_map_drawn", "unit": "s", "value": round(t_wall, 3), "baseline": round(t_wall_naive, 3),
         "baseline_name": "the same wall page with the naive map (plain GeoJson at full precision, one Marker per point) "
                          "built on every request", "ratio": round(t_wall_naive / t_wall, 2), "target_ratio": 2, "runs": RUNS},
        {"name": "wall_screen_time_vs_naive_streamlit_page", "unit": "s", "value": round(t_wall, 3), "baseline": round(t_plain, 3),
         "baseline_name": "the naive Streamlit command page (first rows)", "ratio": round(t_plain / t_wall, 2), "runs": RUNS},
        {"name": "wall_screen_document_bytes", "unit": "bytes", "value": int(d_wall), "baseline": int(d_wall_naive),
         "baseline_name": "the naive wall page's document (the page with its map)", "ratio": round(d_wall_naive / d_wall, 2),
         "target_ratio": 3},
        {"name": "wall_screen_document_bytes_gzip", "unit": "bytes", "value": int(z_wall), "baseline": int(z_wall_naive),
         "baseline_name": "the naive wall page's document as sent with gzip (full-precision JSON compresses well)",
         "ratio": round(z_wall_naive / z_wall, 2)},
        {"name": "wall_screen_bytes_cold_cache", "unit": "bytes", "value": int(h_wall), "baseline": int(h_wall_naive),
         "baseline_name": "naive wall page (HTTP: document, scripts, styles, fonts; cold cache)",
         "ratio": round(h_wall_naive / h_wall, 2)},
    ] + _resident_rows(tmp, store, token)


def _resident_rows(tmp: Path, store: Path, token: str) -> list[dict]:
    """The public resident page answering one location, vs the same page with every site as its
    own folium Marker (with popup) and plain GeoJson layers."""
    res = _compare(tmp, store, "resident.py", "/?loc=112.5712,37.8571&lang=zh", min_polygons=300, token=token)
    ours, naive = res["ours"], res["naive"]
    t_ours, t_naive = _median(ours, 0), _median(naive, 0)
    b_ours, b_naive = _median(ours, 1), _median(naive, 1)
    return [
        {"name": "resident_page_data_bytes_to_browser", "unit": "bytes", "value": int(b_ours), "baseline": int(b_naive),
         "baseline_name": "same page, naive map: every site its own Marker with popup, plain GeoJson (websocket data)",
         "ratio": round(b_naive / b_ours, 2), "target_ratio": 3},
        {"name": "resident_page_time_to_map_drawn", "unit": "s", "value": round(t_ours, 3), "baseline": round(t_naive, 3),
         "baseline_name": "same page, naive map", "ratio": round(t_naive / t_ours, 2), "runs": RUNS},
    ] + _phone_rows(tmp, store, token)


def _phone_rows(tmp: Path, store: Path, token: str) -> list[dict]:
    """The resident page on a phone-sized screen (390 × 844): time until the first site card is
    shown and until the map has drawn, ours vs the same page with the naive map."""
    res = _compare(tmp, store, "resident.py", "/?loc=112.5712,37.8571&lang=zh", min_polygons=300, token=token,
                   viewport=PHONE)
    ours, naive = res["ours"], res["naive"]
    c_ours, c_naive = _median(ours, 4), _median(naive, 4)
    t_ours, t_naive = _median(ours, 0), _median(naive, 0)
    return [
        {"name": "resident_phone_time_to_first_card", "unit": "s", "value": round(c_ours, 3), "baseline": round(c_naive, 3),
         "baseline_name": "same page on a 390 x 844 screen, naive map", "ratio": round(c_naive / c_ours, 2), "runs": RUNS},
        {"name": "resident_phone_time_to_map_drawn", "unit": "s", "value": round(t_ours, 3), "baseline": round(t_naive, 3),
         "baseline_name": "same page on a 390 x 844 screen, naive map", "ratio": round(t_naive / t_ours, 2), "runs": RUNS},
    ]
