"""Quarantine room allocation (geo/allocation.py): capacity never exceeded, households kept
together, needs respected, the optimum equal to brute force on small cases, the shortage
reported exactly, standby hotels opened only when needed, transfer batches."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.allocation import (
    EXACT_VARIABLES,
    UNPLACED_COST,
    allocate,
    assign_units,
    greedy_nearest,
    haversine_km,
    households,
    parse_flags,
    plan_totals,
)


def brute_force(sizes, cost, allowed, capacity):
    """Every assignment of units to hotels or nowhere: the least (unplaced × penalty + metres)."""
    U, H = cost.shape
    best = None
    for choice in itertools.product(range(-1, H), repeat=U):
        load = np.zeros(H, dtype="int64")
        total = 0
        ok = True
        for u, h in enumerate(choice):
            if h < 0:
                total += UNPLACED_COST * sizes[u]
                continue
            if not allowed[u, h]:
                ok = False
                break
            load[h] += sizes[u]
            total += cost[u, h] * sizes[u]
        if ok and (load <= capacity).all() and (best is None or total < best):
            best = total
    return best


def objective(sizes, cost, hotel):
    placed = hotel >= 0
    return int((cost[np.flatnonzero(placed), hotel[placed]] * sizes[placed]).sum() + UNPLACED_COST * sizes[~placed].sum())


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_the_optimum_equals_brute_force_on_small_cases(data):
    U = data.draw(st.integers(1, 6))
    H = data.draw(st.integers(1, 3))
    sizes = np.array(data.draw(st.lists(st.integers(1, 3), min_size=U, max_size=U)), dtype="int64")
    cost = np.array(data.draw(st.lists(st.integers(0, 5000), min_size=U * H, max_size=U * H)), dtype="int64").reshape(U, H)
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=U * H, max_size=U * H))).reshape(U, H)
    capacity = np.array(data.draw(st.lists(st.integers(0, 6), min_size=H, max_size=H)), dtype="int64")
    r = assign_units(sizes, cost, allowed, capacity)
    # never over capacity, never a forbidden hotel
    load = np.bincount(r.hotel[r.hotel >= 0], weights=sizes[r.hotel >= 0], minlength=H)
    assert (load <= capacity).all()
    assert all(allowed[u, h] for u, h in enumerate(r.hotel) if h >= 0)
    assert objective(sizes, cost, r.hotel) == brute_force(sizes, cost, allowed, capacity) == r.objective(sizes)
    assert r.bound_objective(sizes) <= r.objective(sizes)


def test_a_split_household_is_placed_whole_and_optimally():
    # two hotels with 3 rooms each; households of 2, 2, 2: the flow could split one household
    sizes = np.array([2, 2, 2])
    cost = np.array([[100, 900], [100, 900], [100, 900]])
    r = assign_units(sizes, cost, np.ones((3, 2), bool), np.array([3, 3]))
    assert sorted(r.hotel.tolist()) == [0, 1, -1] or (r.hotel >= 0).sum() == 2
    assert objective(sizes, cost, r.hotel) == brute_force(sizes, cost, np.ones((3, 2), bool), np.array([3, 3]))
    assert "exact" in r.method


def test_the_local_programme_keeps_households_whole_at_scale(monkeypatch):
    import geo.allocation as al

    monkeypatch.setattr(al, "EXACT_VARIABLES", 10)  # force the large-problem path on a small case
    rng = np.random.default_rng(3)
    U, H = 60, 6
    sizes = rng.integers(1, 4, U)
    cost = rng.integers(100, 20_000, (U, H))
    capacity = rng.integers(10, 30, H)
    r = al.assign_units(sizes, cost, np.ones((U, H), bool), capacity)
    load = np.bincount(r.hotel[r.hotel >= 0], weights=sizes[r.hotel >= 0], minlength=H)
    assert (load <= capacity).all()
    assert "local" in r.method or "optimal" in r.method
    assert r.bound_objective(sizes) <= r.objective(sizes)
    assert EXACT_VARIABLES > 10


def test_greedy_is_never_better_than_the_plan():
    rng = np.random.default_rng(7)
    for _ in range(20):
        U, H = 40, 5
        sizes = np.ones(U, dtype="int64")
        cost = rng.integers(100, 10_000, (U, H))
        capacity = rng.integers(5, 12, H)
        allowed = np.ones((U, H), bool)
        ours = assign_units(sizes, cost, allowed, capacity)
        greedy = greedy_nearest(sizes, cost, allowed, capacity)
        assert objective(sizes, cost, ours.hotel) <= objective(sizes, cost, greedy)


def _people(rows):
    return pd.DataFrame(rows, columns=["traveller_id", "kind", "neighbourhood_id", "lon", "lat", "household_id", "needs"])


def _hotels(rows):
    return pd.DataFrame(rows, columns=["hotel_id", "name", "lon", "lat", "status", "capacity", "suitable"])


def test_capacity_households_needs_and_shortage_on_a_plan():
    people = _people([
        ("a1", "r", "N1", 112.50, 37.80, "H1", ""),
        ("a2", "r", "N1", 112.50, 37.80, "H1", ""),   # household of two
        ("b", "r", "N1", 112.51, 37.80, None, "孕妇"),  # needs a suitable hotel
        ("c", "r", "N2", 112.60, 37.90, None, ""),
        ("d", "r", "N2", 112.60, 37.90, None, ""),     # same residence point as c: one household
        ("e", "r", "N2", 112.61, 37.91, None, ""),
    ])
    hotels = _hotels([
        ("X", "近酒店", 112.50, 37.81, "in_use", 1, ""),
        ("Y", "远酒店", 112.62, 37.90, "in_use", 3, "孕妇;老人"),
        ("Z", "未知", 112.55, 37.85, "in_use", np.nan, ""),
    ])
    plan = allocate(people, hotels, seats=4)
    a = plan.assignments.set_index("traveller_id")
    # household a1+a2 cannot fit X (1 room) and stays together
    assert a.loc["a1", "hotel_id"] == a.loc["a2", "hotel_id"] if "a1" in a.index else "a1" in set(plan.unplaced["traveller_id"])
    assert a.loc["b", "hotel_id"] == "Y"  # only Y is suitable for 孕妇
    # capacity: Y has 3 rooms, X 1; six people: at least two cannot be placed
    fill = plan.hotels.set_index("hotel_id")
    assert (fill["placed"] <= fill["capacity"]).all()
    assert plan.placed + len(plan.unplaced) == 6
    assert plan.placed == 4
    assert set(plan.unplaced["reason_en"]) <= {"not enough rooms", "no hotel can take the household's 2 people together"}
    # the hotel with unknown rooms is named, never treated as 0 or infinite silently
    assert [i[0] for i in plan.issues] == ["Z"]
    assert "Z" not in set(plan.hotels["hotel_id"])
    totals = plan_totals(plan)
    assert totals["placed"] == 4 and totals["unplaced"] == 2


def test_standby_hotels_open_only_when_needed_and_the_plan_says_which():
    people = _people([(f"p{i}", "r", "N1", 112.5 + i * 1e-3, 37.8, None, "") for i in range(5)])
    hotels = _hotels([
        ("U", "在用", 112.50, 37.80, "in_use", 3, ""),
        ("S1", "备用近", 112.51, 37.80, "standby", 10, ""),
        ("S2", "备用远", 112.90, 37.80, "standby", 10, ""),
        ("C", "停用", 112.50, 37.80, "closed", 50, ""),
    ])
    plan = allocate(people, hotels)
    assert plan.opened == ("S1",)
    assert plan.placed == 5 and plan.unplaced.empty
    assert set(plan.assignments["hotel_id"]) == {"U", "S1"}
    # enough rooms in use: nothing opened
    plan2 = allocate(people.head(3), hotels)
    assert plan2.opened == ()
    assert set(plan2.assignments["hotel_id"]) == {"U"}


def test_a_household_larger_than_every_hotel_is_named():
    people = _people([(f"p{i}", "r", "N1", 112.5, 37.8, "BIG", "") for i in range(4)])
    hotels = _hotels([("U", "在用", 112.50, 37.80, "in_use", 3, "")])
    plan = allocate(people, hotels)
    assert plan.placed == 0
    assert set(plan.unplaced["reason_en"]) == {"no hotel can take the household's 4 people together"}


def test_transfer_batches_keep_seats_and_households():
    people = _people(
        [(f"a{i}", "r", "N1", 112.50, 37.80, "A", "") for i in range(3)]
        + [(f"b{i}", "r", "N1", 112.52, 37.80, "B", "") for i in range(3)]
        + [(f"c{i}", "r", "N1", 112.54, 37.80, None, "") for i in range(1)]
    )
    hotels = _hotels([("U", "在用", 112.60, 37.80, "in_use", 50, "")])
    plan = allocate(people, hotels, seats=4)
    b = plan.batches
    assert (b["people"] <= 4).all()
    assert b["people"].sum() == 7
    a = plan.assignments
    for hh in ("A", "B"):
        assert a[a["household"] == "hh:" + hh]["batch"].nunique() == 1
    # the farthest household is picked up first
    first = a.sort_values(["batch", "stop"]).groupby("batch").head(1)
    assert "a0" in set(first["traveller_id"])


def test_seats_must_be_positive():
    with pytest.raises(ValueError, match="seats per vehicle"):
        allocate(_people([]), _hotels([]), seats=0)


def test_an_empty_plan():
    plan = allocate(_people([]), _hotels([("U", "在用", 112.6, 37.8, "in_use", 5, "")]))
    assert plan.placed == 0 and plan.unplaced.empty and plan.batches.empty


def test_households_by_id_else_point_else_alone():
    p = pd.DataFrame({"id": ["a", "b", "c", "d"], "household_id": ["H", "H", None, None],
                      "lon": [1.0, 2.0, 3.0, np.nan], "lat": [1.0, 2.0, 3.0, np.nan]})
    h = households(p)
    assert h[0] == h[1] == "hh:H"
    assert h[2].startswith("pt:") and h[3] == "id:d"


def test_parse_flags_and_distance():
    assert parse_flags("孕妇；老人、 近医院") == {"孕妇", "老人", "近医院"}
    assert parse_flags(None) == frozenset() and parse_flags(float("nan")) == frozenset()
    # 1° of latitude ≈ 111.2 km
    assert haversine_km(112.5, 37.0, 112.5, 38.0) == pytest.approx(111.19, abs=0.05)


def test_a_person_without_coordinates_is_named_not_dropped():
    people = _people([("a", "r", "N1", None, None, None, ""), ("b", "r", "N1", 112.5, 37.8, None, "")])
    plan = allocate(people, _hotels([("U", "在用", 112.5, 37.8, "in_use", 5, "")]))
    assert list(plan.assignments["traveller_id"]) == ["b"]
    assert plan.unplaced.set_index("traveller_id").loc["a", "reason_en"].startswith("no residence coordinates")


@pytest.mark.parametrize(
    ("total", "occupied", "why"),
    [(None, 1, "rooms total missing"), ("many", 1, "rooms total is not a number"), (-3, 0, "rooms total is negative"),
     (10, None, "rooms occupied missing"), (10, -1, "rooms occupied is negative"), (10, 12, "more rooms occupied than there are")],
)
def test_bad_room_counts_are_named_never_zero_or_unlimited(total, occupied, why):
    import geopandas as gpd
    import shapely

    from geo.allocation import hotels_for_plan

    h = gpd.GeoDataFrame({"id": ["H1", "H2"], "name": ["坏", "好"], "status": ["in_use", "in_use"],
                          "rooms_total": pd.Series([total, 10], dtype=object), "rooms_occupied": pd.Series([occupied, 4], dtype=object)},
                         geometry=[shapely.Point(112.5, 37.8)] * 2, crs=4326)
    t = hotels_for_plan(h, {}, reserve_share=0.1)
    assert t.loc[0, "problem_en"] == why and np.isnan(t.loc[0, "capacity"])
    assert t.loc[1, "capacity"] == 10 - 4 - 1  # free 6, reserve ceil(10 × 0.1) = 1
    plan = allocate(_people([("a", "r", "N1", 112.5, 37.8, None, "")]), t)
    assert plan.issues == [("H1", f"{t.loc[0, 'problem_zh']}，未纳入方案", f"{why}: left out of the plan")]
    assert list(plan.assignments["hotel_id"]) == ["H2"]


def test_reserved_rooms_column_wins_over_the_share_and_moved_in_counts():
    import geopandas as gpd
    import shapely

    from geo.allocation import hotels_for_plan

    h = gpd.GeoDataFrame({"id": ["H1"], "name": ["甲"], "status": ["in_use"], "rooms_total": [20], "rooms_occupied": [5],
                          "reserved_rooms": [4]}, geometry=[shapely.Point(112.5, 37.8)], crs=4326)
    t = hotels_for_plan(h, {"H1": 3}, reserve_share=0.5)
    assert t.loc[0, "free_before"] == 12 and t.loc[0, "reserved"] == 4 and t.loc[0, "capacity"] == 8
