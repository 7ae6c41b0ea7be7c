"""全员核酸 (geo/mass_testing.py): finish times against hand-computed cases, reachability and the
maximum flow against a linear programme, temporary points, staff and tubes, bad site rows named,
and the 15-minute sampling circle against a slow per-neighbourhood reference."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.mass_testing import _max_flow, finish_time, mass_testing_plan, sampling_circle, site_capacity

START = datetime(2022, 3, 28, 10, 0)
# 0.01° of longitude at 37.8° N ≈ 0.88 km; of latitude ≈ 1.11 km
FAR = 0.05


def test_finish_time_and_capacity_by_hand():
    # 100 an hour, 08:00-12:00, from 10:00: 200 by noon, the next 150 from 08:00 the next day → 09:30
    assert finish_time(350, 100, "08:00-12:00", START) == datetime(2022, 3, 29, 9, 30)
    assert finish_time(200, 100, "08:00-12:00", START) == datetime(2022, 3, 28, 12, 0)
    assert finish_time(0, 100, "closed", START) == START
    assert finish_time(1, 100, "closed", START) is None
    assert site_capacity(100, "08:00-12:00", START, datetime(2022, 3, 29, 10, 0)) == 200 + 200
    assert site_capacity(60, "20:00-02:00", START, datetime(2022, 3, 29, 10, 0)) == 6 * 60


def _demand(rows):
    return pd.DataFrame(rows, columns=["id", "name", "lon", "lat", "population"])


def _sites(rows):
    return pd.DataFrame(rows, columns=["id", "name", "lon", "lat", "capacity_per_hour", "hours"])


def test_a_reachable_area_finishes_when_the_sites_have_sampled_everyone():
    plan = mass_testing_plan(_demand([("A", "甲", 112.5, 37.8, 1000)]), _sites([("S1", "点1", 112.5, 37.8, 100, "24h")]), start=START)
    assert plan.reachable and plan.temporary.empty and plan.temporary_points == 0
    assert plan.finish_hours == pytest.approx(10.0, abs=0.25)
    assert plan.neighbourhoods.loc[0, "finish"] == pd.Timestamp("2022-03-28 20:00")
    assert plan.tubes == 100 and plan.pooling == 10


def test_people_out_of_walking_distance_get_temporary_points_staff_and_tubes():
    plan = mass_testing_plan(
        _demand([("A", "甲", 112.5, 37.8, 1000), ("B", "乙", 112.5 + FAR, 37.8, 500)]),
        _sites([("S1", "点1", 112.5, 37.8, 100, "24h")]), start=START, pooling=5, temp_per_hour=300, station_per_hour=100,
        shift_hours=6,
    )
    assert not plan.reachable and plan.finish_hours is None
    t = plan.temporary
    assert list(t["place"]) == ["B"] and int(t.loc[0, "load"]) == 500 and int(t.loc[0, "points"]) == 1
    assert int(t.loc[0, "stations"]) == 1 and int(t.loc[0, "staff"]) == 4  # 1 station × 4 shifts of 6 h
    nb = plan.neighbourhoods.set_index("id")
    assert nb.loc["A", "served"] == 1000 and nb.loc["B", "temporary"] == 500
    assert nb.loc["B", "finish"] == pd.Timestamp(START) + pd.Timedelta(hours=500 / 300)
    assert plan.tubes == 300


def test_capacity_short_within_walking_distance_needs_more_points():
    # one site of 10 an hour cannot sample 1,000 people in 24 h: 760 left over, one place, one point
    plan = mass_testing_plan(_demand([("A", "甲", 112.5, 37.8, 1000)]), _sites([("S1", "点1", 112.5, 37.8, 10, "24h")]),
                        start=START, temp_per_hour=20)
    assert not plan.reachable
    assert int(plan.neighbourhoods.loc[0, "served"]) == 240 and int(plan.neighbourhoods.loc[0, "temporary"]) == 760
    assert int(plan.temporary.loc[0, "points"]) == 2  # 20 an hour × 24 h = 480 per point


def test_bad_sites_are_named_not_read_as_zero_or_always_open():
    plan = mass_testing_plan(_demand([("A", "甲", 112.5, 37.8, 100)]), _sites([
        ("S1", "无能力", 112.5, 37.8, None, "24h"), ("S2", "坏时间", 112.5, 37.8, 100, "早上"), ("S3", "好", 112.5, 37.8, 100, "24h"),
    ]), start=START)
    assert [i[0] for i in plan.issues] == ["S1", "S2"]
    assert "capacity per hour" in plan.issues[0][2] and "opening hours" in plan.issues[1][2]
    assert list(plan.sites["id"]) == ["S3"] and plan.reachable


def test_pooling_must_be_one_of_the_kinds():
    with pytest.raises(ValueError, match="pooling must be one of"):
        mass_testing_plan(_demand([]), _sites([]), start=START, pooling=3)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_maximum_flow_equals_a_linear_programme(data):
    from scipy.optimize import linprog

    n = data.draw(st.integers(1, 5))
    s = data.draw(st.integers(1, 4))
    pop = np.array(data.draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)), dtype=np.int64)
    caps = np.array(data.draw(st.lists(st.integers(0, 60), min_size=s, max_size=s)), dtype=np.int64)
    link = np.array(data.draw(st.lists(st.booleans(), min_size=n * s, max_size=n * s))).reshape(n, s)
    flow = _max_flow(pop, np.nonzero(link), caps)
    assert (flow.sum(axis=1) <= pop).all() and (flow.sum(axis=0) <= caps).all() and (flow[~link] == 0).all()
    ni, sj = np.nonzero(link)
    if not len(ni):
        assert flow.sum() == 0
        return
    a_ub = np.zeros((n + s, len(ni)))
    a_ub[ni, np.arange(len(ni))] = 1
    a_ub[n + sj, np.arange(len(ni))] = 1
    lp = linprog(-np.ones(len(ni)), A_ub=a_ub, b_ub=np.concatenate([pop, caps]), bounds=(0, None), method="highs")
    assert int(flow.sum()) == round(-lp.fun)


def test_the_sampling_circle_against_a_slow_reference():
    from geo.crs import utm_crs_for

    rng = np.random.default_rng(5)
    cells = []
    for i in range(6):
        for j in range(4):
            x0, y0 = 112.5 + i * 0.02, 37.8 + j * 0.02
            cells.append(shapely.box(x0, y0, x0 + 0.02, y0 + 0.02))
    nb = gpd.GeoDataFrame({"id": [f"N{i}" for i in range(len(cells))], "name": "x", "district": ["甲", "乙"] * (len(cells) // 2),
                           "population": rng.integers(100, 1000, len(cells))}, geometry=cells, crs=4326)
    sites = gpd.GeoDataFrame({"id": ["S1", "S2"]}, geometry=[shapely.Point(112.53, 37.83), shapely.Point(112.59, 37.85)], crs=4326)
    got, by = sampling_circle(nb, sites, walk_km=1.0)
    # the slow, obvious way: one neighbourhood at a time, in metres
    crs = utm_crs_for(112.56, 37.84)
    circle = shapely.union_all([p.buffer(1000.0, quad_segs=16) for p in sites.to_crs(crs).geometry])
    ref = {r.id: shapely.intersection(g, circle).area / g.area for r, g in zip(nb.itertuples(), nb.to_crs(crs).geometry, strict=True)}
    for r in got.itertuples():
        assert r.share == pytest.approx(ref[r.id], abs=1e-6)
    city = by[by["district"] == "全市 City"].iloc[0]
    expected = sum(ref[i] * p for i, p in zip(nb["id"], nb["population"], strict=True)) / nb["population"].sum()
    assert city["share"] == pytest.approx(expected, abs=1e-6)
    assert got.iloc[0]["share"] <= got.iloc[-1]["share"]  # the least covered first


def test_area_demand_apportions_by_area_and_the_workbooks():
    import io

    import openpyxl

    from layers.mass_testing import area_demand, coverage_workbook, plan_workbook

    nb = gpd.GeoDataFrame({"id": ["N1", "N2"], "name": ["甲", "=乙"], "district": ["小店区", "小店区"], "population": [1000, 400]},
                          geometry=[shapely.box(112.50, 37.80, 112.52, 37.82), shapely.box(112.52, 37.80, 112.54, 37.82)], crs=4326)
    area = shapely.box(112.51, 37.80, 112.53, 37.82)  # half of each
    d = area_demand(nb, area).set_index("id")
    assert d.loc["N1", "population"] == pytest.approx(500, abs=2) and d.loc["N2", "population"] == pytest.approx(200, abs=2)
    assert area.contains(shapely.Point(d.loc["N1", "lon"], d.loc["N1", "lat"]))
    plan = mass_testing_plan(d.reset_index(), _sites([("S1", "点1", 112.52, 37.81, 100, "24h")]), start=START)
    wb = openpyxl.load_workbook(io.BytesIO(plan_workbook(plan, area_name="测试区域")))
    assert wb.sheetnames == ["汇总 Summary", "社区 Neighbourhoods", "临时采样点 Temporary", "检测点 Sites", "未纳入 Left out"]
    names = [c.value for c in wb["社区 Neighbourhoods"]["B"][1:]]
    assert "'=乙" in names  # text that would run as a formula is neutralised
    n, by = sampling_circle(nb, gpd.GeoDataFrame({"id": ["S1"]}, geometry=[shapely.Point(112.52, 37.81)], crs=4326))
    wb2 = openpyxl.load_workbook(io.BytesIO(coverage_workbook(n, by, walk_km=1.0)))
    assert wb2.sheetnames == ["按区县 By district (1 km)", "按社区 By neighbourhood"]
