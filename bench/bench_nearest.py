"""k-nearest testing sites: bulk throughput and single-query latency, each beside a same-run baseline.

Rows follow ``bench/__main__.py``. ``ratio`` is always "times better than the baseline":
``value / baseline`` for throughput (unit ``queries/s``, higher is better) and
``baseline / value`` for latency (unit ``ms``, lower is better).

Cases (seeded, Taiyuan extent 111.5–113.2 °E, 37.4–38.5 °N, 2,000 sites):

1. 1 M query points, k=3, ``sites_near`` (index build included) — default and ``exact=True`` —
   against brute-force geodesic search (``Geod.inv`` to all 2,000 sites per query, measured on
   2,000 queries and scaled).
2. The same 1 M points, k=1, against ``geopandas.sjoin_nearest`` in UTM zone 49N (EPSG:32649),
   timed from lon/lat arrays (frame building and projection included, as a caller would pay).
3. Single-query latency over 1,000 single queries on a prebuilt ``NearestIndex`` (median and
   p99) against one brute-force query.
"""

from __future__ import annotations

import time

import numpy as np
from pyproj import Geod

from bench._timing import best_of

N_POINTS = 1_000_000
N_SITES = 2_000
N_BRUTE = 2_000  # brute-force queries measured for the bulk baseline
N_SINGLE = 1_000
K = 3
_GEOD = Geod(ellps="WGS84")




def _taiyuan(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack([rng.uniform(111.5, 113.2, n), rng.uniform(37.4, 38.5, n)])


def _brute_force_one(q: np.ndarray, sites: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Geod.inv from one point to every site, then the k smallest by (distance, position)."""
    m = sites.shape[0]
    d = _GEOD.inv(np.full(m, q[0]), np.full(m, q[1]), sites[:, 0], sites[:, 1], return_back_azimuth=False)[2]
    order = np.lexsort((np.arange(m), d))[:k]
    return order, d[order]


def _row(name: str, unit: str, value: float, baseline: float, baseline_name: str, *, higher_better: bool) -> dict:
    ratio = value / baseline if higher_better else baseline / value
    digits = 0 if unit == "queries/s" else 4
    return {
        "name": name,
        "unit": unit,
        "value": round(value, digits),
        "baseline": round(baseline, digits),
        "baseline_name": baseline_name,
        "ratio": round(ratio, 1),
    }


def run() -> list[dict]:
    """Run every case; return rows in the ``bench/__main__.py`` format."""
    import geopandas as gpd

    from geo.nearest import NearestIndex, sites_near

    rng = np.random.default_rng(20220401)
    sites = _taiyuan(rng, N_SITES)
    points = _taiyuan(rng, N_POINTS)
    rows: list[dict] = []

    # 1. bulk k=3 against brute-force geodesic search on a sample
    sample = points[:N_BRUTE]
    t0 = time.perf_counter()
    brute = [_brute_force_one(q, sites, K) for q in sample]
    brute_qps = N_BRUTE / (time.perf_counter() - t0)
    check = sites_near(sample, sites, k=K)
    if not np.array_equal(check.index, np.array([b[0] for b in brute])):
        msg = "sites_near disagrees with brute force on the benchmark sample"
        raise RuntimeError(msg)
    brute_name = f"brute-force Geod.inv to all {N_SITES} sites per query, 1 thread ({N_BRUTE} measured, scaled)"
    fast = best_of(lambda: sites_near(points, sites, k=K), 5)
    rows.append(
        _row("nearest_bulk_1M_points_2000_sites_k3", "queries/s", N_POINTS / fast, brute_qps, brute_name,
             higher_better=True)
    )
    exact = best_of(lambda: sites_near(points, sites, k=K, exact=True), 5)
    rows.append(
        _row("nearest_bulk_1M_points_2000_sites_k3_exact", "queries/s", N_POINTS / exact, brute_qps, brute_name,
             higher_better=True)
    )

    # 2. bulk k=1 against geopandas.sjoin_nearest in UTM 49N
    def _sjoin() -> object:
        utm = "EPSG:32649"
        left = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points[:, 0], points[:, 1]), crs="EPSG:4326").to_crs(utm)
        right = gpd.GeoDataFrame(geometry=gpd.points_from_xy(sites[:, 0], sites[:, 1]), crs="EPSG:4326").to_crs(utm)
        return gpd.sjoin_nearest(left, right, how="left", distance_col="distance")

    sjoin = best_of(_sjoin, 1)
    k1 = best_of(lambda: sites_near(points, sites, k=1), 5)
    rows.append(
        _row("nearest_bulk_1M_points_2000_sites_k1", "queries/s", N_POINTS / k1, N_POINTS / sjoin,
             "geopandas.sjoin_nearest in UTM 49N (EPSG:32649), frames and projection included, k=1 only",
             higher_better=True)
    )

    # 3. single-query latency on a prebuilt index
    index = NearestIndex(sites)
    singles = points[:N_SINGLE]
    index.query(singles[0], k=K)  # warm-up
    times = np.empty(N_SINGLE)
    for i, q in enumerate(singles):
        t0 = time.perf_counter()
        index.query(q, k=K)
        times[i] = time.perf_counter() - t0
    base_times = np.empty(200)
    for i, q in enumerate(singles[:200]):
        t0 = time.perf_counter()
        _brute_force_one(q, sites, K)
        base_times[i] = time.perf_counter() - t0
    one = f"one brute-force query, Geod.inv to all {N_SITES} sites (200 measured)"
    for label, pct in (("median", 50), ("p99", 99)):
        rows.append(
            _row(f"nearest_single_query_k3_{label}", "ms", float(np.percentile(times, pct)) * 1e3,
                 float(np.percentile(base_times, pct)) * 1e3, f"{one}, {label}", higher_better=False)
        )
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
