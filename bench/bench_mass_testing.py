"""全员核酸: the mass-testing plan for the whole demo city (every neighbourhood, every site) and
the 15-minute sampling circle, each beside a naive baseline in the same run.

* ``mass_testing_city``: :func:`geo.mass_testing.mass_testing_plan` on the demo store's 448
  neighbourhoods and 202 sites (24 h target, 1 km walk), against a naive plan written the usual
  way: a Python loop over neighbourhoods and sites for the distances, each neighbourhood filling
  its nearest sites first, greedy temporary points (the place covering most people left, again
  and again). The target is under 5 s. ``value_temporary_points`` / ``value_naive_points``: how
  many temporary points each proposes (the exact cover needs no more places than the greedy one).
* ``sampling_circle_city``: :func:`geo.mass_testing.sampling_circle` against a loop computing
  each neighbourhood's share one at a time.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

import numpy as np
import pandas as pd

from bench._timing import best_of

START = datetime(2022, 3, 28, 10, 0)


def _inputs():
    from data.demo import build_demo
    from layers.mass_testing import area_demand, site_frame

    layers = build_demo(20220328)
    nb, sites = layers["neighbourhoods"], layers["testing_sites"]
    import shapely

    city = shapely.union_all(nb.geometry.to_numpy())
    return nb, sites, area_demand(nb, city), site_frame(sites)


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _naive(demand: pd.DataFrame, sites: pd.DataFrame, walk_km: float = 1.0, hours: float = 24.0, temp_per_hour: int = 300) -> int:
    """The plan written the usual way; returns the number of temporary points."""
    from geo.mass_testing import site_capacity

    cap = {}
    for s in sites.itertuples():
        try:
            cap[s.id] = site_capacity(float(s.capacity_per_hour), str(s.hours), START, START + pd.Timedelta(hours=hours).to_pytimedelta())
        except (ValueError, TypeError):
            continue
    left = {}
    for d in demand.itertuples():
        near = sorted((_haversine(d.lon, d.lat, s.lon, s.lat), s.id) for s in sites.itertuples() if s.id in cap)
        need = int(d.population)
        for dist, sid in near:
            if dist > walk_km or need == 0:
                break
            take = min(need, cap[sid])
            cap[sid] -= take
            need -= take
        left[d.id] = need
    pos = {d.id: (d.lon, d.lat) for d in demand.itertuples()}
    points = 0
    while any(v > 0 for v in left.values()):
        best, covered = None, []
        for c, (x, y) in pos.items():
            cov = [i for i, v in left.items() if v > 0 and _haversine(x, y, *pos[i]) <= walk_km]
            if best is None or sum(left[i] for i in cov) > sum(left[i] for i in covered):
                best, covered = c, cov
        people = sum(left[i] for i in covered)
        points += max(1, math.ceil(people / (temp_per_hour * hours)))
        for i in covered:
            left[i] = 0
    return points


def _naive_circle(nb, sites, walk_km: float = 1.0) -> float:
    import shapely

    from geo.crs import utm_crs_for

    crs = utm_crs_for(112.5, 37.8)
    circle = shapely.union_all([p.buffer(walk_km * 1000.0) for p in sites.to_crs(crs).geometry])
    covered = 0.0
    for g, p in zip(nb.to_crs(crs).geometry, nb["population"], strict=True):
        covered += float(p) * shapely.intersection(g, circle).area / g.area
    return covered / float(nb["population"].sum())


def run() -> list[dict]:
    from geo.mass_testing import mass_testing_plan, sampling_circle
    from layers.mass_testing import open_sites

    nb, sites, demand, site_rows = _inputs()
    plan = mass_testing_plan(demand, site_rows, start=START)
    ours = best_of(lambda: mass_testing_plan(demand, site_rows, start=START), 3)
    t0 = time.perf_counter()
    naive_points = _naive(demand, site_rows)
    naive = time.perf_counter() - t0
    rows = [{
        "name": "mass_testing_city", "unit": "s", "value": round(ours, 3), "baseline": round(naive, 3),
        "baseline_name": "Python loops: nearest sites first, greedy temporary points", "ratio": round(naive / ours, 1),
        "value_target_s": 5.0, "value_neighbourhoods": len(demand), "value_sites": len(site_rows),
        "value_temporary_points": plan.temporary_points, "value_naive_points": naive_points,
        "value_places": len(plan.temporary),
    }]
    open_ = open_sites(sites)
    ours_c = best_of(lambda: sampling_circle(nb, open_), 3)
    t0 = time.perf_counter()
    share_naive = _naive_circle(nb, open_)
    naive_c = time.perf_counter() - t0
    share = float(sampling_circle(nb, open_)[1].iloc[-1]["share"])
    rows.append({
        "name": "sampling_circle_city", "unit": "s", "value": round(ours_c, 3), "baseline": round(naive_c, 3),
        "baseline_name": "one neighbourhood at a time (shapely loop)", "ratio": round(naive_c / ours_c, 1),
        "value_share": round(share, 4), "value_naive_share": round(share_naive, 4),
        "identical": bool(np.isclose(share, share_naive, atol=1e-3)),
    })
    return rows
