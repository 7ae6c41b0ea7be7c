"""Benchmark: neighbourhoods and the national view's counties as vector tiles (``layers.tiles``)
against the same layer inline.

3,000 and 30,000 generated neighbourhood polygons (``bench.bench_assign.neighbourhoods``: Voronoi
cells of clustered seeds over a city-sized outline, in lon/lat here) with names, streets,
districts and populations. For each size: the bytes the browser fetches for the first view of
the city (the zoom-10 tiles covering the polygons' bounds, gzip-encoded as the tile route sends
them) beside the bytes of the layer inline as folium sends it (GeoJSON at full precision, all
features, in the page), and the background build time (tippecanoe) with the archive's size.
The same for China's 2,875 counties (the boundary data) at the national view's first zoom (4,
over mainland China's bounds), against the county file inline.

Not measured here: time until the browser has drawn the tiles (the command page's own benchmark
measures time-to-map for the demo, whose 448 neighbourhoods stay inline).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = (3_000, 30_000)
VIEW_ZOOM = 10
NATIONAL_ZOOM = 4  # the national view opens on mainland China (dashboard.mapview.build_map)
CHINA_BOUNDS = (73.5, 18.0, 135.0, 53.6)


def _tiles_over(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    minx, miny, maxx, maxy = bounds
    n = 2**z

    def tx(lon: float) -> int:
        return int((lon + 180.0) / 360.0 * n)

    def ty(lat: float) -> int:
        r = math.radians(lat)
        return int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)

    return [(x, y) for x in range(tx(minx), tx(maxx) + 1) for y in range(ty(maxy), ty(miny) + 1)]


def named(polys):
    """Generated neighbourhoods with the columns their tiles carry: a name, a street per 12, a
    district per 400, a population (also the scale benchmark's)."""
    k = np.arange(len(polys))
    polys["name"] = [f"演示第{i}社区" for i in k]
    polys["street"] = [f"演示第{i // 12}街道" for i in k]
    polys["district"] = [f"演示{i // 400}区" for i in k]
    polys["population"] = 800 + (k * 37) % 5000
    return polys


def _frame(n: int):
    from bench.bench_assign import neighbourhoods

    return named(neighbourhoods(n).to_crs("EPSG:4326"))


def _one(key: str, frame, label: str, zoom: int, bounds: tuple[float, float, float, float]) -> dict:
    from layers import tiles

    inline = len(frame.to_json().encode())  # folium's GeoJson embeds this in the page
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        token = tiles.wait(Path(tmp), key, frame, timeout=1800)
        build_s = time.perf_counter() - t0
        path = tiles.tile_path(Path(tmp), key, token)
        archive = path.stat().st_size
        view = _tiles_over(bounds, zoom)
        sent = [tiles.read_tile(path, zoom, x, y) for x, y in view]
        first_view = sum(len(b) for b in sent if b)
    return {
        "name": f"tiles_first_view_bytes_{label}",
        "unit": "bytes",
        "value": first_view,
        "baseline": inline,
        "baseline_name": f"the same {label.replace('_', ' ')} inline (folium GeoJSON, full precision)",
        "ratio": round(inline / max(first_view, 1), 1),
        "value_tiles_in_view": len(view),
        "index_build_s": round(build_s, 2),
        "value_archive_bytes": archive,
    }


def run() -> list[dict]:
    from layers.boundaries import china_counties

    rows = []
    for n in SIZES:
        frame = _frame(n)
        rows.append(_one("neighbourhoods", frame, f"{n // 1000}k_neighbourhoods", VIEW_ZOOM, tuple(frame.total_bounds)))
    rows.append(_one("counties", china_counties(), "national_counties", NATIONAL_ZOOM, CHINA_BOUNDS))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
