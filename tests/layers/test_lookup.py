"""layers.lookup: zone status and the nearest-site list of the resident lookup."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.nearest import NearestIndex
from layers.lookup import (
    NONE_MEANING,
    TIER_MEANING,
    district_at,
    location_status,
    nearest_sites,
    sealed_zone_of_sites,
    site_mask,
)

HERE = (112.5000, 37.8000)
# Sites due east of HERE, 0.001° apart (≈ 88 m each at this latitude).
SITES = gpd.GeoDataFrame(
    {
        "id": ["A", "B", "C", "D", "E"],
        "name": ["夜间点", "全天点", "白天点", "医院", "封控区内点"],
        "type": ["fixed", "convenience", "fixed", "hospital", "fixed"],
        "hours": ["20:00-02:00", "24h", "08:00-12:00,14:00-18:00", "07:00-19:00", "24h"],
        "free": [True, True, False, None, True],
    },
    geometry=[shapely.Point(HERE[0] + 0.001 * (i + 1), HERE[1]) for i in (1, 2, 3, 4, 0)],
    crs="EPSG:4326",
)
SEALED = shapely.box(112.5005, 37.7995, 112.5015, 37.8005)  # covers site E only
ZONES = gpd.GeoDataFrame(
    {"id": ["Z1", "Z2", "Z3"], "tier": ["sealed", "controlled", "precaution"], "name": ["封控", "管控", "防范"]},
    geometry=[SEALED, SEALED.buffer(0.0005, join_style="mitre"), shapely.box(112.49, 37.79, 112.52, 37.81)],
    crs="EPSG:4326",
)
RISK = gpd.GeoDataFrame(
    {"id": ["R1"], "level": ["medium"], "county": ["某区"], "area_name": ["某小区"]},
    geometry=[shapely.box(112.6, 37.9, 112.7, 38.0)],
    crs="EPSG:4326",
)


def _answer(when, *, k=5, open_now=False, types=None, resident_sealed=()):
    index = NearestIndex(SITES, mask=site_mask(SITES, when=when, open_now=open_now, types=types))
    return nearest_sites(
        index, SITES, HERE, k=k, when=when, sealed_of_site=sealed_zone_of_sites(SITES, ZONES), resident_sealed=resident_sealed
    )


def test_nearest_list_order_distance_and_fields():
    when = datetime(2022, 3, 28, 10, 0)
    ans = _answer(when)
    assert [a.id for a in ans] == ["A", "B", "C", "D", "E"]  # E is nearest but sealed in: listed last
    assert [a.unavailable for a in ans] == [False, False, False, False, True]
    assert np.allclose([a.distance_m for a in ans[:4]], [176.2, 264.3, 352.4, 440.5], atol=0.5)
    assert ans[4].distance_m == pytest.approx(88.1, abs=0.5)
    b = ans[1]
    assert (b.status, b.opens_at, b.free, b.type) == ("24h", None, True, "convenience")
    assert ans[3].free is None


@pytest.mark.parametrize(
    ("when", "status_a", "opens_a"),
    [
        (datetime(2022, 3, 28, 1, 30), "open", None),  # 20:00-02:00 is open after midnight
        (datetime(2022, 3, 28, 2, 0), "closed", datetime(2022, 3, 28, 20, 0)),
        (datetime(2022, 3, 28, 19, 59), "closed", datetime(2022, 3, 28, 20, 0)),
        (datetime(2022, 3, 28, 23, 0), "open", None),
    ],
)
def test_open_now_across_midnight(when, status_a, opens_a):
    a = next(x for x in _answer(when) if x.id == "A")
    assert (a.status, a.opens_at) == (status_a, opens_a)


def test_open_now_filter_keeps_24h_and_open_sites_only():
    night = datetime(2022, 3, 28, 1, 30)
    ans = _answer(night, open_now=True)
    assert [(a.id, a.status) for a in ans] == [("A", "open"), ("B", "24h"), ("E", "24h")]
    noon = datetime(2022, 3, 28, 12, 30)
    ans = _answer(noon, open_now=True)
    assert [a.id for a in ans] == ["B", "D", "E"]  # C closes 12:00-14:00, A is a night site


def test_closed_site_says_when_it_opens_next_day():
    ans = _answer(datetime(2022, 3, 28, 18, 30))
    c = next(x for x in ans if x.id == "C")
    assert (c.status, c.opens_at) == ("closed", datetime(2022, 3, 29, 8, 0))


def test_type_filter_and_k():
    ans = _answer(datetime(2022, 3, 28, 10, 0), types=("fixed",), k=1)
    # k=1 available (A, 176 m) then the nearer sealed-in fixed site E
    assert [(a.id, a.unavailable) for a in ans] == [("A", False), ("E", True)]
    with pytest.raises(ValueError, match="k must be a positive integer"):
        _answer(datetime(2022, 3, 28, 10, 0), k=0)


def test_sealed_site_is_available_to_residents_of_the_same_zone():
    ans = _answer(datetime(2022, 3, 28, 10, 0), resident_sealed=("Z1",))
    assert [(a.id, a.unavailable) for a in ans][:2] == [("E", False), ("A", False)]


def test_sealed_site_only_listed_when_nearer_than_the_last_available():
    far = gpd.GeoDataFrame(SITES.copy(), crs="EPSG:4326")
    index = NearestIndex(far)
    sealed = [()] * 4 + [("Z1",)]
    ans = nearest_sites(index, far, (112.5060, 37.8000), k=2, when=datetime(2022, 3, 28, 10), sealed_of_site=sealed)
    assert [a.id for a in ans] == ["D", "C"]  # E (sealed) is farther than both


def test_sealed_zone_of_sites_uses_covers_on_edges():
    on_edge = gpd.GeoDataFrame({"id": ["P"]}, geometry=[shapely.Point(112.5005, 37.8)], crs="EPSG:4326")
    assert sealed_zone_of_sites(on_edge, ZONES) == [("Z1",)]
    assert sealed_zone_of_sites(SITES, ZONES) == [(), (), (), (), ("Z1",)]


@pytest.mark.parametrize(
    ("point", "tier", "sealed_ids"),
    [
        ((112.5010, 37.8000), "sealed", ("Z1",)),
        ((112.5005, 37.8000), "sealed", ("Z1",)),  # exactly on the sealed edge: covers → inside
        ((112.5015, 37.8005), "sealed", ("Z1",)),  # on a corner
        ((112.5001, 37.8000), "controlled", ()),
        ((112.4950, 37.8000), "precaution", ()),
        ((112.4900, 37.7900), "precaution", ()),  # the precaution zone's corner
        ((112.4800, 37.8000), None, ()),
    ],
)
def test_zone_status(point, tier, sealed_ids):
    s = location_status(*point, ZONES, RISK)
    assert (s.tier, s.sealed_zone_ids, s.risk_level) == (tier, sealed_ids, None)
    if tier:
        assert s.meanings("zh") == [TIER_MEANING[tier][0]]
        assert s.meanings("en") == [TIER_MEANING[tier][1]]
    else:
        assert s.meanings("en") == [NONE_MEANING[1]]


def test_risk_area_status():
    s = location_status(112.6, 37.95, ZONES, RISK)  # on the risk area's west edge
    assert (s.tier, s.risk_level, s.risk_name) == (None, "medium", "某区 某小区")
    assert s.meanings("zh")[0].startswith("中风险区")
    empty = location_status(112.6, 37.95, ZONES.iloc[0:0], RISK.iloc[0:0])
    assert (empty.tier, empty.risk_level) == (None, None)


def test_district_at():
    d = gpd.GeoDataFrame({"name": ["甲区", "乙区"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    assert district_at(0.5, 0.5, d) == "甲区"
    assert district_at(1.0, 0.5, d) == "甲区"  # shared edge: the first district covering it
    assert district_at(5.0, 5.0, d) is None


def test_open_now_mask_needs_a_time():
    with pytest.raises(ValueError, match="open_now needs"):
        site_mask(SITES, open_now=True)


def test_an_area_searched_by_name_says_which_zones_cover_part_of_it():
    import geopandas as gpd
    import shapely

    from layers.lookup import area_of_place, zones_touching

    districts = gpd.GeoDataFrame({"name": ["甲区"]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:4326")
    nb = gpd.GeoDataFrame({"name": ["一社区", "二社区", "三社区"], "street": ["东街道", "东街道", "西街道"], "district": ["甲区"] * 3},
                          geometry=[shapely.box(0, 0, 5, 5), shapely.box(5, 0, 10, 5), shapely.box(0, 5, 10, 10)], crs="EPSG:4326")
    zones = gpd.GeoDataFrame({"id": ["Z1", "Z2", "Z3"], "tier": ["controlled", "sealed", "controlled"]},
                             geometry=[shapely.box(1, 1, 2, 2), shapely.box(6, 1, 7, 2), shapely.box(10, 0, 11, 5)], crs="EPSG:4326")
    east = area_of_place("street", "东街道", "甲区", districts, nb)
    assert east.equals(shapely.box(0, 0, 10, 5))
    assert zones_touching(east, zones) == {"sealed": 1, "controlled": 1}  # Z3 only touches the edge
    assert zones_touching(area_of_place("street", "西街道", "甲区", districts, nb), zones) == {}
    assert zones_touching(area_of_place("district", "甲区", "", districts, nb), zones) == {"sealed": 1, "controlled": 1}
    assert area_of_place("neighbourhood", "一社区", "甲区", districts, nb) is None  # a point answers for it
