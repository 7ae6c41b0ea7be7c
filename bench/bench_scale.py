"""Benchmark: the command map at province scale, ours against the naive folium map, in Chromium.

Generated, seeded inputs (``bench.bench_assign``: Voronoi neighbourhoods of clustered seeds over a
city-sized outline around Taiyuan, and arrival points clustered where neighbourhoods are small):
3,000 neighbourhoods with 10,000 arrivals, and 30,000 neighbourhoods with 100,000 arrivals. Each
as one map page (``bench/scale_page.py``):

* ours — ``dashboard.mapview.build_map``: at these sizes the neighbourhoods come as vector tiles
  from the app's tile route (built beforehand, as the background build would have), the arrivals
  as 500 m cell counts; the map prepared once and cached, as the command page does;
* naive — plain ``folium.GeoJson`` of the neighbourhoods at full precision with a tooltip of all
  columns, and one ``folium.Marker`` per arrival in a ``MarkerCluster``, built on every run and
  shown with ``st_folium``.

Measured per run in a fresh browser context (cold cache): seconds from navigation until the map
has drawn (ours: the tiles in view loaded and drawn; naive: every neighbourhood polygon and every
marker in the cluster), and bytes received for the map (the websocket's page data, the map's
scripts and styles, the tiles), apart from Streamlit's own front end (``/static/``, the same
for every page, reported once). Medians of
``RUNS`` alternating runs after one warming load each, with ``SETTLE_S`` seconds between runs:
on this two-core machine the naive page's teardown (a browser context holding a 36 MB page)
otherwise ran into the next run's measurement. A map that has not drawn after ``LIMIT_S``
seconds is reported as not drawn.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench._server import ROOT, serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SIZES = ((3_000, 10_000), (30_000, 100_000))
RUNS = 3
LIMIT_S = 120
SETTLE_S = 3.0

READY_OURS = """
() => {
  const m = window.map;
  if (!m || !window.protomapsL) return false;
  let tiled = null, heat = false;
  m.eachLayer(l => { if (l.paintRules) tiled = l; if (l._heat || (l.options && l.options.gradient)) heat = true; });
  if (!tiled || !tiled._map || (tiled.isLoading && tiled.isLoading())) return false;
  return document.querySelectorAll('.leaflet-tile-container canvas').length > 0 && heat;
}
"""
READY_NAIVE = """
(n) => {
  const m = window.map;
  if (!m || !window.L) return false;
  let polygons = 0, markers = 0;
  m.eachLayer(l => { if (l instanceof L.Polygon) polygons++; if (l.getLayers && l._featureGroup) markers = l.getLayers().length; });
  return polygons >= n[0] && markers >= n[1];
}
"""


def _data(folder: Path, n_polygons: int, n_points: int) -> None:
    import geopandas as gpd

    from bench.bench_assign import CRS, neighbourhoods, points
    from bench.bench_tiles import named

    polys = neighbourhoods(n_polygons)
    xy = points(n_points, polys)
    named(polys.to_crs("EPSG:4326")).to_parquet(folder / "neighbourhoods.parquet")
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS).to_crs("EPSG:4326")
    pts.to_parquet(folder / "arrivals.parquet")


def _app(folder: Path) -> Path:
    """``bench/scale_page.py`` and its server beside the app's static folder (local Leaflet)."""
    (folder / "static").symlink_to(ROOT / "dashboard" / "static", target_is_directory=True)
    for name in ("scale_page.py", "scale_server.py"):
        shutil.copy(ROOT / "bench" / name, folder / name)
    return folder / "scale_server.py"


def _measure(browser, url: str, ready: str, arg) -> tuple[float | None, int, int]:
    """Seconds until drawn (None: not within LIMIT_S); bytes received for the map (websocket
    data, the map's scripts and styles, tiles) and for Streamlit's own front end (``/static/``,
    the same for every page)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    got = {"map": 0, "shell": 0}
    urls: dict[str, str] = {}
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: got.__setitem__(
        "map", got["map"] + (len(p) if isinstance(p, (bytes, str)) else 0))))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))

    def done(e: dict) -> None:
        part = "shell" if urls.get(e["requestId"], "").startswith(f"{url}/static/") else "map"
        got[part] += int(e.get("encodedDataLength", 0))

    cdp.on("Network.loadingFinished", done)
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    elapsed = None
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline and elapsed is None:
        for frame in page.frames:
            if "streamlit_folium" not in frame.url:
                continue
            try:
                if frame.evaluate(ready, arg):
                    elapsed = time.perf_counter() - t0
                    break
            except Exception:  # noqa: BLE001 - the frame may still be loading
                pass
        if elapsed is None:
            page.wait_for_timeout(25)
    page.wait_for_timeout(500)
    context.close()
    return elapsed, got["map"], got["shell"]


def _one(n_polygons: int, n_points: int) -> dict:
    import geopandas as gpd
    from playwright.sync_api import sync_playwright

    from layers import tiles

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _data(folder, n_polygons, n_points)
        tiles_dir = folder / "tiles"
        tiles.wait(tiles_dir, "neighbourhoods", gpd.read_parquet(folder / "neighbourhoods.parquet"), timeout=1800)
        script = _app(folder)
        store = folder / "unused.gpkg"  # the page reads no store; the settings want a path
        common = {"BENCH_SCALE_DATA": str(folder), "RISKMAP_TILES_DIR": str(tiles_dir), "RISKMAP_VECTOR_TILES_MIN_FEATURES": "2000"}
        procs = {mode: serve(script, store, env=common | {"BENCH_SCALE_MODE": mode}, limit_s=1800) for mode in ("ours", "naive")}
        runs: dict[str, list] = {"ours": [], "naive": []}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                checks = {"ours": (READY_OURS, None), "naive": (READY_NAIVE, [n_polygons, n_points])}
                for mode, (_proc, url) in procs.items():
                    _measure(browser, url, *checks[mode])  # warm the server's caches (ours) and imports
                    time.sleep(SETTLE_S)
                for _ in range(RUNS):
                    for mode, (_proc, url) in procs.items():
                        runs[mode].append(_measure(browser, url, *checks[mode]))
                        time.sleep(SETTLE_S)
                browser.close()
        finally:
            for proc, _url in procs.values():
                proc.terminate()
                proc.wait(timeout=10)

    def med(mode: str, i: int) -> float | None:
        vals = [r[i] for r in runs[mode] if r[i] is not None]
        return statistics.median(vals) if len(vals) == len(runs[mode]) else None

    ours_t, naive_t = med("ours", 0), med("naive", 0)
    ours_b, naive_b = med("ours", 1), med("naive", 1)
    label = f"{n_polygons // 1000}k_neighbourhoods_{n_points // 1000}k_arrivals"
    return {
        "name": f"scale_map_drawn_{label}",
        "unit": "s",
        "value": round(ours_t, 3) if ours_t is not None else None,
        "baseline": round(naive_t, 3) if naive_t is not None else f"not drawn in {LIMIT_S} s",
        "baseline_name": "naive folium map (GeoJson at full precision, one Marker per arrival in a MarkerCluster), same page",
        "ratio": round(naive_t / ours_t, 1) if ours_t and naive_t else None,
        "value_map_bytes": int(ours_b) if ours_b is not None else None,
        "value_naive_map_bytes": int(naive_b) if naive_b is not None else None,
        "ratio_map_bytes": round(naive_b / ours_b, 1) if ours_b and naive_b else None,
        "value_streamlit_shell_bytes": int(med("ours", 2) or 0),  # Streamlit's own front end, the same for both
    }


def run() -> list[dict]:
    return [_one(n, m) for n, m in SIZES]


if __name__ == "__main__":
    for row in run():
        print(row)
