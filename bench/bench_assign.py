"""Benchmark: points → neighbourhoods, ``geo.assign`` against ``geopandas.sjoin(predicate="within")``.

3,000 irregular neighbourhoods (Voronoi cells of clustered seeds, clipped to a ragged city
outline about the size of Taiyuan, in UTM zone 49N; some cells have a hole that another cell
fills, which makes that one multi-part) and 100 k, 1 M and 5 M seeded points (most near the seeds,
where neighbourhoods are small, the rest uniform over the extent and a margin, a few exactly
on polygon vertices). Both methods are timed in the same run on the same points; the results
must agree wherever the join gives exactly one polygon. Peak memory is measured for the
coordinate-array input with ``tracemalloc``: every numpy array the call allocates, output
included; GEOS's own allocations (the prepared polygons, well under 1 MB for 3,000 small
polygons) are not counted, nor are the arrays the compiled walk grid allocates (numba's own
allocator), so their size is reported apart (``peak_mem_walk_grid_mb``: the grid a call of that size
builds, plus the build's 4 bytes a cell of scratch). The prebuilt index is built once for the
size it expects; ``index_grid_mb`` is what it keeps (every array of its grid).

Run: ``python -c "from bench.bench_assign import run; print(run())"``.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from geo.assign import AssignIndex, Reason, _polygon_array, _walk_grid, neighbourhood_of_points

CRS = "EPSG:32649"  # UTM 49N, the zone of Taiyuan
CENTRE = (548_000.0, 4_191_000.0)  # central Taiyuan in that CRS, metres
N_POLYGONS = 3000
SIZES = (100_000, 1_000_000, 5_000_000)
SJOIN_REPEAT_LIMIT_S = 20.0  # time sjoin once if a single run takes longer than this


def _best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def neighbourhoods(n: int = N_POLYGONS, seed: int = 20220328) -> gpd.GeoDataFrame:
    """``n`` valid, non-overlapping neighbourhood polygons tiling a ragged city outline."""
    rng = np.random.default_rng(seed)
    cx, cy = CENTRE
    angle = np.sort(rng.uniform(0.0, 2.0 * np.pi, 80))
    radius = 55_000.0 * (0.7 + 0.3 * rng.uniform(size=80))
    outline = shapely.Polygon(np.column_stack([cx + radius * np.cos(angle), cy + 1.2 * radius * np.sin(angle)]))
    # Seeds: dense urban clusters, sparser suburbs, a thin rural spread.
    centres = np.column_stack([cx + rng.normal(0, 12_000, 8), cy + rng.normal(0, 15_000, 8)])
    spread = rng.choice([1_200.0, 4_000.0, 20_000.0], 4 * n, p=[0.55, 0.3, 0.15])
    cand = centres[rng.integers(0, len(centres), 4 * n)] + rng.normal(0, 1, (4 * n, 2)) * spread[:, None]
    cand = cand[shapely.contains_xy(outline, cand[:, 0], cand[:, 1])]
    seeds = cand[:n]
    cells = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=shapely.box(*outline.buffer(5_000).bounds), ordered=True
    )
    geoms = shapely.intersection(np.asarray(cells.geoms, dtype=object), outline)
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    # Holes filled by another cell: cut a hexagon out of some cells and give it to a neighbour.
    tree = shapely.STRtree(geoms)
    for i in rng.choice(n, n // 40, replace=False):
        cell = geoms[i]
        inner = cell.buffer(-0.25 * math.sqrt(cell.area))
        if inner.is_empty:
            continue
        centre = inner.representative_point()
        r = 0.12 * math.sqrt(cell.area)
        hexagon = shapely.Polygon(
            [(centre.x + r * math.cos(a), centre.y + r * math.sin(a)) for a in np.linspace(0, 2 * np.pi, 7)[:-1]]
        )
        if not cell.contains_properly(hexagon):
            continue
        neighbours = [j for j in tree.query(cell, predicate="touches") if j != i]
        if not neighbours:
            continue
        j = int(rng.choice(neighbours))
        geoms[i] = cell.difference(hexagon)
        geoms[j] = shapely.union(geoms[j], hexagon)
    if not shapely.is_valid(geoms).all():
        msg = "benchmark polygons came out invalid"
        raise RuntimeError(msg)
    return gpd.GeoDataFrame({"id": [f"N{i:04d}" for i in range(n)]}, geometry=geoms, crs=CRS)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def points(n: int, polys: gpd.GeoDataFrame, seed: int = 1) -> np.ndarray:
    """``n`` seeded points as an (n, 2) array: clustered where neighbourhoods are small."""
    rng = np.random.default_rng(seed)
    geoms = polys.geometry.to_numpy()
    minx, miny, maxx, maxy = polys.total_bounds
    xy = np.empty((n, 2))
    near = int(0.65 * n)
    anchors = shapely.get_coordinates(shapely.point_on_surface(geoms))
    xy[:near] = anchors[rng.integers(0, len(anchors), near)] + rng.normal(0, 700.0, (near, 2))
    xy[near:, 0] = rng.uniform(minx - 2_000, maxx + 2_000, n - near)
    xy[near:, 1] = rng.uniform(miny - 2_000, maxy + 2_000, n - near)
    # A few exactly on polygon vertices (boundary points that sjoin "within" drops).
    vertices = shapely.get_coordinates(geoms)
    k = n // 1000
    xy[rng.choice(n, k, replace=False)] = vertices[rng.integers(0, len(vertices), k)]
    return xy


def _sjoin_answer(joined: gpd.GeoDataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per point: how many polygons the join found, and the lowest position among them."""
    left = joined.index.to_numpy()
    right = joined["index_right"].to_numpy()
    count = np.bincount(left, minlength=n)
    lowest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(lowest, left, right)
    return count, np.where(count > 0, lowest, -1)


def _differences(index: np.ndarray, reason: np.ndarray, count: np.ndarray, lowest: np.ndarray) -> int:
    one = count == 1
    bad = one & ((index != lowest) | (reason != Reason.INSIDE))
    bad |= (count == 0) & (reason == Reason.INSIDE)
    bad |= (count > 1) & (index != lowest)
    return int(bad.sum())


def _peak_memory(fn: Callable[[], object]) -> float:
    """Peak of the memory numpy allocates while ``fn`` runs, in MB (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 1e6, 1)


def _nbytes(obj: object) -> int:
    """Bytes of every numpy array held by a grid and the records it holds (dataclasses, _Axis)."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    fields = getattr(obj, "__dict__", None)
    return sum(_nbytes(v) for v in fields.values()) if fields else 0


def _with_holes(geoms: np.ndarray) -> int:
    parts, which = shapely.get_parts(geoms, return_index=True)
    return len(np.unique(which[shapely.get_num_interior_rings(parts) > 0]))


def _one_size(n: int, polys: gpd.GeoDataFrame) -> dict:
    poly_geoms = polys.geometry
    xy = points(n, polys)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    neighbourhood_of_points(xy[:1000], poly_geoms)  # warm-up (imports, first calls)

    def sjoin() -> gpd.GeoDataFrame:
        return gpd.sjoin(pts, polys, predicate="within", how="inner")

    base, joined = _best_of(sjoin, 1)
    repeat = 1 if base > SJOIN_REPEAT_LIMIT_S else 2
    if repeat > 1:
        again, joined = _best_of(sjoin, repeat - 1)
        base = min(base, again)
    count, lowest = _sjoin_answer(joined, n)
    del joined

    ours, result = _best_of(lambda: neighbourhood_of_points(xy, poly_geoms), 5)
    ours_gdf, result_gdf = _best_of(lambda: neighbourhood_of_points(pts, poly_geoms), 3)
    diff = _differences(result.index, result.reason, count, lowest)
    diff += int((result_gdf.index != result.index).sum() + (result_gdf.reason != result.reason).sum())
    peak_mb = _peak_memory(lambda: neighbourhood_of_points(xy, poly_geoms))
    grid = _walk_grid(_polygon_array(poly_geoms), n_points=n, grid_size=None)
    grid_mb = (2 * grid.table.nbytes + sum(a.nbytes for a in (grid.crec, grid.erec, grid.items))) / 1e6
    t0 = time.perf_counter()
    prebuilt = AssignIndex(poly_geoms, expected_points=n)  # built once, as the app keeps it
    build_s = time.perf_counter() - t0
    ours_idx, result_idx = _best_of(lambda: prebuilt.assign(xy), 5)
    diff += int((result_idx.index != result.index).sum() + (result_idx.reason != result.reason).sum())
    counts = result.counts()
    label = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
    return {
        "name": f"assign_points_{label}_to_3000_neighbourhoods",
        "unit": "s",
        "value": round(ours, 4),
        "baseline": round(base, 4),
        "baseline_name": f"geopandas.sjoin(predicate='within'), same {label} points as a GeoDataFrame (not timed), best of {repeat}",
        "ratio": round(base / ours, 1),
        "value_prebuilt_index": round(ours_idx, 4),
        "ratio_prebuilt_index": round(base / ours_idx, 1),
        "value_prebuilt_index_mpoints_per_s": round(n / ours_idx / 1e6, 1),
        "index_build_s": round(build_s, 4),
        "index_grid_mb": round(_nbytes(prebuilt._grid) / 1e6, 1),
        "value_from_geodataframe": round(ours_gdf, 4),
        "ratio_from_geodataframe": round(base / ours_gdf, 1),
        "identical": diff == 0,
        "differences": diff,
        "compared_points": int((count >= 1).sum()),
        "on_edge_points": counts[Reason.ON_EDGE],
        "outside_points": counts[Reason.OUTSIDE],
        "peak_mem_mb": peak_mb,
        "input_mb": round(xy.nbytes / 1e6, 1),
        "peak_mem_over_input": round(peak_mb / (xy.nbytes / 1e6), 2),
        "peak_mem_walk_grid_mb": round(grid_mb, 1),
        "polygons": len(polys),
        "multipart_polygons": int((shapely.get_type_id(poly_geoms.to_numpy()) == 6).sum()),
        "polygons_with_holes": _with_holes(poly_geoms.to_numpy()),
    }


def run() -> list[dict]:
    """Time both methods on 100 k, 1 M and 5 M points; one row per size (see bench/__main__.py)."""
    polys = neighbourhoods()
    rows = []
    for n in SIZES:
        rows.append(_one_size(n, polys))
        gc.collect()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
