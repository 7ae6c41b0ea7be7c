"""时间回放: what was in force on a day, what had just been lifted, and the figures (layers.time_machine)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from layers.time_machine import MAX_DAYS, day_figures, day_range, on_day

BOX = shapely.box(112.5, 37.8, 112.51, 37.81)
ZONES = gpd.GeoDataFrame({
    "id": ["Z1", "Z2", "Z3"], "tier": ["sealed", "controlled", "sealed"], "name": ["甲", "乙", "丙"],
    "start": pd.to_datetime(["2022-03-01", "2022-03-10", "2022-03-20"]),
    "lifted": pd.to_datetime(["2022-03-15", None, None]),
}, geometry=[BOX] * 3, crs="EPSG:4326")
RISK = gpd.GeoDataFrame({
    "id": ["R1", "R2"], "level": ["high", "medium"], "province": ["山西省", "安徽省"], "area_name": ["一", "二"],
    "since": pd.to_datetime(["2022-03-05", "2022-03-12"]), "lifted": pd.to_datetime(["2022-03-18", None]),
}, geometry=[BOX] * 2, crs="EPSG:4326")


def test_a_day_shows_what_was_in_force_and_fades_what_was_just_lifted():
    d = on_day(ZONES, RISK, "2022-03-14", fade_days=7)
    assert sorted(d.zones["id"]) == ["Z1", "Z2"] and d.zones_lifted.empty  # Z1 still in force the day before its lift
    d = on_day(ZONES, RISK, "2022-03-15", fade_days=7)
    assert list(d.zones["id"]) == ["Z2"] and list(d.zones_lifted["id"]) == ["Z1"]  # lifted that day: faded
    d = on_day(ZONES, RISK, "2022-03-21", fade_days=7)
    assert list(d.zones_lifted["id"]) == ["Z1"]  # six days after
    d = on_day(ZONES, RISK, "2022-03-22", fade_days=7)
    assert d.zones_lifted.empty and sorted(d.zones["id"]) == ["Z2", "Z3"]  # seven days after: gone
    assert on_day(ZONES, RISK, "2022-03-15", fade_days=0).zones_lifted.empty


def test_the_figures_follow_the_day():
    fig = day_figures(on_day(ZONES, RISK, "2022-03-12", fade_days=7), province="山西省")
    assert fig == {"sealed": 1, "controlled": 1, "precaution": 0, "high": 1, "medium": 1, "zones_lifted": 0,
                   "risk_lifted": 0, "in_province": 1}
    fig = day_figures(on_day(ZONES, RISK, "2022-03-19", fade_days=7))
    assert (fig["sealed"], fig["high"], fig["medium"], fig["zones_lifted"], fig["risk_lifted"]) == (0, 0, 1, 1, 1)


def test_the_range_starts_at_the_first_listing_and_is_bounded():
    assert day_range(ZONES, RISK, "2022-03-28") == (pd.Timestamp("2022-03-01"), pd.Timestamp("2022-03-28"))
    first, last = day_range(ZONES, RISK, "2023-03-28")
    assert (last - first).days == MAX_DAYS - 1
    assert day_range(ZONES.iloc[0:0], RISK.iloc[0:0], "2022-03-28") == (pd.Timestamp("2022-03-28"),) * 2


HOTELS = gpd.GeoDataFrame({
    "id": ["H1", "H2", "H3", "H4"], "name": ["甲", "乙", "丙", "丁"],
    "status": ["in_use", "standby", "closed", "in_use"], "rooms_total": [100, 80, 60, 50], "rooms_occupied": [40, 0, 0, 10],
    "in_use_since": pd.to_datetime(["2022-03-10", "2022-03-02", None, None]),
    "in_use_until": pd.to_datetime([None, "2022-03-12", None, None]),
}, geometry=shapely.points([(112.5, 37.8)] * 4), crs="EPSG:4326")


def test_hotels_in_use_follow_their_periods():
    from layers.hotels import in_use

    # today: the status; on a day: the period (until the day before the stand-down; an in-use
    # hotel with no start date was in use throughout; a closed one without a period never)
    assert list(in_use(HOTELS)) == [True, False, False, True]
    assert list(in_use(HOTELS, "2022-03-01")) == [False, False, False, True]
    assert list(in_use(HOTELS, "2022-03-02")) == [False, True, False, True]
    assert list(in_use(HOTELS, "2022-03-11")) == [True, True, False, True]
    assert list(in_use(HOTELS, "2022-03-12")) == [True, False, False, True]  # stood down that day
    assert list(in_use(HOTELS, "2022-03-28")) == list(in_use(HOTELS))
    assert list(in_use(HOTELS.drop(columns=["in_use_since", "in_use_until"]), "2022-03-01")) == [True, False, False, True]


def test_the_day_shows_the_hotels_in_use_and_counts_them():
    d = on_day(ZONES, RISK, "2022-03-11", fade_days=7, hotels=HOTELS)
    assert sorted(d.hotels["id"]) == ["H1", "H2", "H4"]
    fig = day_figures(d)
    assert (fig["hotels_in_use"], fig["hotel_rooms"]) == (3, 230)
    fig = day_figures(on_day(ZONES, RISK, "2022-03-01", fade_days=7, hotels=HOTELS))
    assert (fig["hotels_in_use"], fig["hotel_rooms"]) == (1, 50)
    assert "hotels_in_use" not in day_figures(on_day(ZONES, RISK, "2022-03-11", fade_days=7))  # no hotels given


def test_the_importer_refuses_contradicting_hotel_periods(tmp_path):
    from layers.io import read_file, validate

    path = tmp_path / "hotels.csv"
    pd.DataFrame({
        "id": ["H1", "H2", "H3"], "name": ["甲", "乙", "丙"], "rooms_total": [10, 10, 10], "rooms_occupied": [1, 0, 0],
        "status": ["in_use", "standby", "closed"], "lon": [112.55] * 3, "lat": [37.85] * 3,
        "in_use_since": ["2022-03-01", "2022-03-10", "2022-03-01"], "in_use_until": ["2022-03-05", "2022-03-05", "2022-03-09"],
    }).to_csv(path, index=False)
    v = validate(read_file(path), "hotels")
    bad = {(r[0], r[1]) for r in v.rejects}
    assert len(v.good) == 1, v.rejects  # only H3: stood down after it started
    assert any("停用日期" in str(c) for _, c in bad)
    reasons = " ".join(r[3] for r in v.rejects)
    assert "stand-down date is given" in reasons and "before in_use_since" in reasons
