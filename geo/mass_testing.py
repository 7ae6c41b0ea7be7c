"""全员核酸 — a mass-testing plan for an area, and the 15-minute sampling circle.

Pure: no Streamlit, no storage. Seeds 002 and 004 ask to "加强全员核酸采样和检测能力"; the
national guide (3rd edition) asks a delimited area to be sampled within 24 hours, and provincial
capitals such as Taiyuan to give every resident a sampling site within a 15-minute walk
(15 分钟核酸采样圈, from 2022-05-23).

**Walking distance** is a straight line of ``walk_km`` (default 1 km ≈ 15 minutes at 4 km/h):
an approximation, since there is no road network offline. A neighbourhood is served by the
sites within ``walk_km`` of its centre.

**Plan** (:func:`mass_testing_plan`): the people of each neighbourhood in the area (apportioned by
area, :mod:`geo.apportion`) go to the sites within walking distance, each site sampling its
``capacity_per_hour`` during its opening hours. Whether everyone can be sampled by the target
time is a maximum-flow question (neighbourhoods → sites → sink, capacities in people; scipy's
``maximum_flow``); the earliest finish is found by bisection on the time (the flow is monotone
in it). People no existing site can take in time need **temporary sampling points**, placed on
neighbourhood centres by an exact set cover (HiGHS through ``scipy.optimize.milp``: the fewest
places from which every neighbourhood left over is within walking distance), each place with as
many points as its load needs, listed most people first. Staff: sampling stations (one sampler,
``station_per_hour`` people an hour) × shifts of ``shift_hours``; tubes: people ÷ pooling (1, 5
or 10 per tube).

**Coverage** (:func:`sampling_circle`): the share of each neighbourhood's area (so of its
population, uniform within it) within ``walk_km`` of a site open at some time of the day, by
district and for the city, and the neighbourhoods left outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.allocation import haversine_km
from geo.hours import open_intervals

__all__ = ["MassTestingPlan", "mass_testing_plan", "sampling_circle", "site_capacity", "finish_time", "POOLING"]

POOLING = (1, 5, 10)  # single tube, 5-in-1, 10-in-1 (混采)


@dataclass(frozen=True)
class MassTestingPlan:
    """A mass-testing plan (see :func:`mass_testing_plan`).

    ``neighbourhoods``: ``id``, ``name``, ``population`` (in the area), ``served`` (people the
    existing sites take in time), ``temporary`` (people sent to temporary points), ``finish``
    (expected time the last of them is sampled; NaT: nobody to sample or not placed), ``sites``
    (the sites within walking distance). ``sites``: ``id``, ``name``, ``capacity`` (people in the
    window), ``load``, ``finish``. ``temporary``: ``place`` (a neighbourhood whose centre hosts
    them), ``lon``, ``lat``, ``points``, ``load``, ``stations``, ``staff``, ``covers`` (the
    neighbourhood ids it serves), most people first. ``issues``: sites left out with why.
    """

    start: datetime
    target_hours: float
    population: int
    reachable: bool
    finish_hours: float | None  # earliest time to sample everyone with existing sites (None: not possible)
    neighbourhoods: pd.DataFrame
    sites: pd.DataFrame
    temporary: pd.DataFrame
    tubes: int
    stations: int
    staff: int
    shifts: int
    pooling: int
    issues: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def temporary_points(self) -> int:
        return int(self.temporary["points"].sum()) if len(self.temporary) else 0


def site_capacity(capacity_per_hour: float, hours: str, start: datetime, end: datetime) -> int:
    """People a site can sample between ``start`` and ``end``: its hourly capacity × the hours it
    is open in the window."""
    spans = open_intervals(hours, start, end)
    return int(math.floor(capacity_per_hour * sum((b - a).total_seconds() for a, b in spans) / 3600.0 + 1e-9))


def finish_time(load: float, capacity_per_hour: float, hours: str, start: datetime, *, horizon_days: int = 7) -> datetime | None:
    """When a site sampling ``capacity_per_hour`` during its ``hours`` from ``start`` has sampled
    ``load`` people (None: not within ``horizon_days``)."""
    if load <= 0:
        return start
    left = float(load)
    for a, b in open_intervals(hours, start, start + timedelta(days=horizon_days)):
        can = capacity_per_hour * (b - a).total_seconds() / 3600.0
        if can >= left - 1e-9:
            return a + timedelta(hours=left / capacity_per_hour)
        left -= can
    return None


def _max_flow(pop: np.ndarray, links: tuple[np.ndarray, np.ndarray], caps: np.ndarray) -> np.ndarray:
    """People of each neighbourhood sampled (flow neighbourhood → site), given the links and the
    sites' capacities: a maximum flow (scipy). Returns the N × S flow as a dense array."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    n, s = len(pop), len(caps)
    ni, sj = links
    src, sink = n + s, n + s + 1
    big = int(pop.sum()) + 1
    rows = np.concatenate([np.full(n, src), ni, n + np.arange(s)])
    cols = np.concatenate([np.arange(n), n + sj, np.full(s, sink)])
    data = np.concatenate([pop, np.full(len(ni), big), caps]).astype(np.int32)
    g = csr_matrix((data, (rows, cols)), shape=(n + s + 2, n + s + 2))
    res = maximum_flow(g, src, sink, method="dinic")
    f = res.flow.tocsr()
    out = np.zeros((n, s), dtype=np.int64)
    if len(ni):
        out[ni, sj] = np.asarray(f[ni, n + sj]).ravel()
    return out


def _set_cover(need: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """The fewest candidates (columns of ``cover``, bool N × C: candidate c is within walking
    distance of neighbourhood n) such that every ``need`` row is covered: exact (HiGHS)."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    rows = np.flatnonzero(need)
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    a = sp.csr_matrix(cover[rows].astype(float))
    c = np.ones(cover.shape[1])
    res = milp(c, constraints=[LinearConstraint(a, 1, np.inf)], integrality=np.ones_like(c), bounds=Bounds(0, 1))
    if res.x is None:  # cannot happen: each neighbourhood covers itself
        msg = f"set cover failed: {res.message}"
        raise RuntimeError(msg)
    return np.flatnonzero(res.x > 0.5)


def mass_testing_plan(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    start: datetime,
    target_hours: float = 24.0,
    walk_km: float = 1.0,
    pooling: int = 10,
    temp_per_hour: int = 300,
    station_per_hour: int = 100,
    shift_hours: float = 6.0,
) -> MassTestingPlan:
    """Plan sampling everyone in ``demand`` by ``start + target_hours``.

    ``demand``: neighbourhoods in the area — ``id``, ``name``, ``lon``, ``lat`` (centre),
    ``population`` (people in the area). ``sites``: ``id``, ``name``, ``lon``, ``lat``,
    ``capacity_per_hour``, ``hours`` (a site with capacity or hours missing or unreadable is
    left out and named in ``issues``, never read as 0 or as always open). ``temp_per_hour``:
    people a temporary point samples an hour (it works round the clock from ``start``).
    """
    if pooling not in POOLING:
        msg = f"混采须为 {POOLING} 之一 / pooling must be one of {POOLING} (got {pooling})"
        raise ValueError(msg)
    if target_hours <= 0 or walk_km <= 0 or temp_per_hour <= 0 or station_per_hour <= 0 or shift_hours <= 0:
        msg = "目标时间、步行距离、采样能力和班次须为正数 / target, walking distance, capacities and shift must be positive"
        raise ValueError(msg)
    d = demand.reset_index(drop=True)
    pop = np.rint(pd.to_numeric(d["population"], errors="coerce").fillna(0).to_numpy()).astype(np.int64)
    issues: list[tuple[str, str, str]] = []
    s = sites.reset_index(drop=True)
    cap_h = pd.to_numeric(s["capacity_per_hour"], errors="coerce")
    ok = []
    for i, row in s.iterrows():
        if pd.isna(cap_h.iat[i]) or cap_h.iat[i] <= 0:
            issues.append((str(row["id"]), "每小时采样能力缺失或无效，未纳入方案", "capacity per hour missing or not positive: left out of the plan"))
            continue
        try:
            open_intervals(str(row["hours"]), start, start + timedelta(hours=1))
        except (ValueError, TypeError):
            issues.append((str(row["id"]), "开放时间无法识别，未纳入方案", "opening hours not understood: left out of the plan"))
            continue
        ok.append(i)
    s = s.iloc[ok].reset_index(drop=True)
    cap_h = cap_h.iloc[ok].reset_index(drop=True)
    dist = haversine_km(d["lon"].to_numpy()[:, None], d["lat"].to_numpy()[:, None],
                        s["lon"].to_numpy()[None, :], s["lat"].to_numpy()[None, :]) if len(d) and len(s) else np.zeros((len(d), len(s)))
    near = dist <= walk_km
    links = np.nonzero(near)
    hours = s["hours"].astype(str).to_numpy()

    def caps_at(h: float) -> np.ndarray:
        stop = start + timedelta(hours=h)
        return np.array([site_capacity(float(c), hrs, start, stop) for c, hrs in zip(cap_h, hours, strict=True)], dtype=np.int64)

    caps = caps_at(target_hours)
    flow = _max_flow(pop, links, caps) if len(s) else np.zeros((len(d), 0), dtype=np.int64)
    served_total = int(flow.sum())
    reachable = served_total == int(pop.sum())
    finish_hours = None
    if reachable and pop.sum() > 0:  # the earliest time the existing sites finish: bisection (flow is monotone in time)
        lo, hi = 0.0, float(target_hours)
        while hi - lo > 0.25:
            mid = (lo + hi) / 2
            if int(_max_flow(pop, links, caps_at(mid)).sum()) == int(pop.sum()):
                hi = mid
            else:
                lo = mid
        finish_hours = hi
        flow = _max_flow(pop, links, caps_at(hi))
    elif reachable:
        finish_hours = 0.0
    served = flow.sum(axis=1)
    left = pop - served
    load = flow.sum(axis=0)
    site_finish = [finish_time(float(lv), float(c), h, start) for lv, c, h in zip(load, cap_h, hours, strict=True)]

    # temporary points on neighbourhood centres for the people left over
    between = haversine_km(d["lon"].to_numpy()[:, None], d["lat"].to_numpy()[:, None],
                           d["lon"].to_numpy()[None, :], d["lat"].to_numpy()[None, :]) if len(d) else np.zeros((0, 0))
    cover = between <= walk_km
    chosen = _set_cover(left > 0, cover)
    temp_rows = []
    temp_of = np.full(len(d), -1, dtype=np.int64)
    shifts = math.ceil(target_hours / shift_hours)
    if len(chosen):
        need = np.flatnonzero(left > 0)
        dd = np.where(cover[np.ix_(need, chosen)], between[np.ix_(need, chosen)], np.inf)
        temp_of[need] = chosen[np.argmin(dd, axis=1)]
        per_point = temp_per_hour * target_hours
        for c in chosen:
            mine = np.flatnonzero(temp_of == c)
            people = int(left[mine].sum())
            points = max(1, math.ceil(people / per_point))
            rate = people / target_hours
            stations = max(points, math.ceil(rate / station_per_hour))
            temp_rows.append((str(d["id"].iat[c]), str(d["name"].iat[c]), float(d["lon"].iat[c]), float(d["lat"].iat[c]),
                              points, people, stations, stations * shifts, tuple(str(d["id"].iat[i]) for i in mine)))
    temporary = pd.DataFrame(temp_rows, columns=["place", "name", "lon", "lat", "points", "load", "stations", "staff", "covers"])
    temporary = temporary.sort_values(["load", "place"], ascending=[False, True], kind="stable").reset_index(drop=True)
    temp_finish = {r.place: start + timedelta(hours=r.load / (temp_per_hour * r.points)) for r in temporary.itertuples()}

    fin = []
    for i in range(len(d)):
        times = [site_finish[j] for j in np.flatnonzero(flow[i] > 0)]
        if left[i] > 0:
            times.append(temp_finish.get(str(d["id"].iat[temp_of[i]])) if temp_of[i] >= 0 else None)
        fin.append(pd.NaT if not times or any(t is None for t in times) else max(times))
    nb = pd.DataFrame({
        "id": d["id"].astype(str), "name": d["name"].astype(str), "population": pop, "served": served,
        "temporary": left, "finish": pd.to_datetime(pd.Series(fin, dtype=object)),
        "sites": [tuple(s["id"].astype(str).to_numpy()[near[i]]) for i in range(len(d))],
    })
    st = pd.DataFrame({"id": s["id"].astype(str), "name": s["name"].astype(str), "capacity": caps, "load": load,
                       "finish": pd.to_datetime(pd.Series(site_finish, dtype=object))})
    return MassTestingPlan(
        start=start, target_hours=float(target_hours), population=int(pop.sum()), reachable=reachable,
        finish_hours=finish_hours, neighbourhoods=nb, sites=st, temporary=temporary,
        tubes=int(math.ceil(pop.sum() / pooling)), stations=int(temporary["stations"].sum()) if len(temporary) else 0,
        staff=int(temporary["staff"].sum()) if len(temporary) else 0, shifts=shifts, pooling=pooling, issues=issues,
    )


def sampling_circle(neighbourhoods: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *, walk_km: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 15-minute sampling circle: per neighbourhood, the share of its area (so of its
    population) within ``walk_km`` of one of ``sites`` (those open at some time of the day:
    the caller filters), and the same by district (``district``, ``population``,
    ``covered``, ``share``) with a city row (district ``"全市 City"``).

    Returns ``(neighbourhoods, districts)``; neighbourhoods: ``id``, ``name``, ``district``,
    ``population``, ``share``, ``covered``, ``uncovered`` (people outside), worst first."""
    from geo.apportion import overlap_shares
    from geo.crs import utm_crs_for

    nb = neighbourhoods.reset_index(drop=True)
    pop = pd.to_numeric(nb["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    share = np.zeros(len(nb))
    if len(sites) and len(nb):
        minx, miny, maxx, maxy = nb.total_bounds
        crs = utm_crs_for((minx + maxx) / 2, (miny + maxy) / 2)
        pts = gpd.GeoSeries(sites.geometry.to_numpy(), crs=sites.crs or "EPSG:4326").to_crs(crs)
        circle = shapely.union_all(shapely.buffer(pts.to_numpy(), walk_km * 1000.0, quad_segs=16))
        area = gpd.GeoSeries([circle], crs=crs).to_crs(nb.crs or "EPSG:4326")
        _, ni, sh = overlap_shares(area, gpd.GeoSeries(nb.geometry.to_numpy(), crs=nb.crs or "EPSG:4326"))
        np.add.at(share, ni, sh)
    share = np.clip(share, 0.0, 1.0)
    out = pd.DataFrame({
        "id": nb["id"].astype(str), "name": nb["name"].astype(str),
        "district": nb["district"].astype(str) if "district" in nb.columns else "",
        "population": pop, "share": share, "covered": pop * share, "uncovered": pop * (1 - share),
    })
    by = out.groupby("district", as_index=False)[["population", "covered"]].sum()
    city = pd.DataFrame({"district": ["全市 City"], "population": [out["population"].sum()], "covered": [out["covered"].sum()]})
    by = pd.concat([by.sort_values("district"), city], ignore_index=True)
    by["share"] = np.where(by["population"] > 0, by["covered"] / by["population"].where(by["population"] > 0, 1), np.nan)
    return out.sort_values(["share", "uncovered"], ascending=[True, False], kind="stable").reset_index(drop=True), by
