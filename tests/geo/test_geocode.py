"""geo.geocode: the local place gazetteer and reading pasted coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import convert_xy
from geo.geocode import (
    FUZZY_MIN,
    PlaceGazetteer,
    name_core,
    normalize_name,
    parse_coordinates,
    read_coordinates,
)


def _box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


@pytest.fixture(scope="module")
def gaz() -> PlaceGazetteer:
    districts = gpd.GeoDataFrame(
        {"adcode": ["140105", "140106"], "name": ["小店区", "迎泽区"]},
        geometry=[_box(112.50, 37.70, 112.60, 37.80), _box(112.50, 37.80, 112.60, 37.90)],
        crs="EPSG:4326",
    )
    nbh = gpd.GeoDataFrame(
        {
            "name": ["通达街社区", "小店街道第1社区", "西矿街南社区", "桥东社区"],
            "district": ["小店区", "小店区", "迎泽区", "迎泽区"],
            "street": ["小店街道", "小店街道", "迎泽第一街道", "迎泽第一街道"],
        },
        geometry=[
            _box(112.50, 37.70, 112.52, 37.72),
            _box(112.52, 37.70, 112.54, 37.72),
            _box(112.50, 37.80, 112.52, 37.82),
            _box(112.52, 37.80, 112.54, 37.82),
        ],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"name": ["小店街道固定采样点1号", "东门便民采样点"], "district_adcode": ["140105", "140106"]},
        geometry=[shapely.Point(112.51, 37.71), shapely.Point(112.55, 37.85)],
        crs="EPSG:4326",
    )
    return PlaceGazetteer.from_frames(districts, nbh, sites)


def test_entries_have_every_kind_with_points_inside(gaz):
    kinds = sorted({p.kind for p in gaz.places})
    assert kinds == ["district", "neighbourhood", "site", "street"]
    street = next(p for p in gaz.places if p.kind == "street" and p.name == "小店街道")
    assert street.district == "小店区"
    assert shapely.box(112.50, 37.70, 112.54, 37.72).covers(shapely.Point(street.lon, street.lat))
    assert len(gaz) == 2 + 2 + 4 + 2


@pytest.mark.parametrize(
    ("query", "name", "how"),
    [
        ("通达街社区", "通达街社区", "exact"),
        ("  通达街社区 ", "通达街社区", "exact"),
        ("通达街", "通达街社区", "exact"),  # suffix 社区 stripped
        ("太原市迎泽区", "迎泽区", "exact"),  # city prefix dropped
        ("迎泽", "迎泽区", "exact"),
        ("西矿", "西矿街南社区", "prefix"),
        ("固定采样点1", "小店街道固定采样点1号", "substring"),
        ("通達街社區", "通达街社区", "exact"),  # traditional variants
        ("西礦街南社區", "西矿街南社区", "exact"),
        ("橋東社區", "桥东社区", "exact"),
        ("东門便民採樣點", "东门便民采样点", "exact"),
    ],
)
def test_search_tiers(gaz, query, name, how):
    found = gaz.search(query)
    assert found[0].place.name == name
    assert found[0].how == how


def test_exact_beats_prefix_beats_substring(gaz):
    found = gaz.search("小店")
    assert [m.place.name for m in found[:2]] == ["小店区", "小店街道"]  # both exact on the core; district first
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert {m.how for m in found} >= {"exact", "prefix"}


def test_typo_gives_a_fuzzy_suggestion(gaz):
    found = gaz.search("通达街社去")  # 去 typed for 区
    assert found[0].place.name == "通达街社区"
    assert found[0].how == "fuzzy"
    assert found[0].score == pytest.approx(0.5 * 0.8)
    assert found[0].score >= 0.5 * FUZZY_MIN


def test_district_prefix_restricts_to_the_district(gaz):
    found = gaz.search("小店区通达街")
    assert found[0].place.name == "通达街社区"
    assert found[0].place.district == "小店区"


def test_nothing_found_is_empty_with_a_message(gaz):
    found = gaz.search("火星基地")
    assert list(found) == []
    assert found.message is not None
    assert "火星基地" in found.message[0]
    assert "Nothing found" in found.message[1]
    blank = gaz.search("   ")
    assert list(blank) == [] and blank.message == ("请输入地名或地址。", "Type a place name or address.")


def test_limit(gaz):
    assert len(gaz.search("社区", limit=2)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢ　通達", "ab通达"),
        ("山西省太原市小店区", "小店区"),
        ("小店区", "小店区"),
    ],
)
def test_normalize_name(text, expected):
    assert normalize_name(text) == expected


@pytest.mark.parametrize(("norm", "core"), [("通达街社区", "通达街"), ("小店街道", "小店"), ("城区", "城区"), ("东村", "东村")])
def test_name_core(norm, core):
    assert name_core(norm) == core


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("112.55,37.86", (112.55, 37.86)),
        ("37.86, 112.55", (112.55, 37.86)),  # swapped: unambiguous for China
        ("112.55 37.86", (112.55, 37.86)),
        ("１１２．５５，３７．８６", (112.55, 37.86)),  # full-width
        ("经度112.55 纬度37.86", (112.55, 37.86)),
        ("纬度：37.86，经度：112.55", (112.55, 37.86)),
        ("lat 37.86 lng 112.55", (112.55, 37.86)),
        ("latitude 37.86 longitude 112.55", (112.55, 37.86)),
        ("E112.55 N37.86", (112.55, 37.86)),
    ],
)
def test_parse_coordinates(text, expected):
    assert parse_coordinates(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.5, 2.5", "不在中国范围内"),  # neither order fits China: no guess
        ("-74.0, 40.7", "不在中国范围内"),
        ("112.55", "读到 1 个"),
        ("112.55, 37.86, 5", "读到 3 个"),
        ("", "请输入坐标"),
        ("经度 200 纬度 37", "超出范围"),
    ],
)
def test_unreadable_coordinates_give_a_reason(text, reason):
    reading = read_coordinates(text)
    assert reading.lonlat is None
    assert parse_coordinates(text) is None
    assert reason in reading.reason[0]


def test_gcj02_paste_round_trips_to_wgs84():
    wgs = (112.5712, 37.8571)
    gx, gy = convert_xy([wgs[0]], [wgs[1]], src="wgs84", dst="gcj02")
    pasted = f"{gx[0]:.6f},{gy[0]:.6f}"  # as Amap/WeChat would show it
    lon, lat = parse_coordinates(pasted)
    assert (lon, lat) != pytest.approx(wgs, abs=1e-3)  # GCJ-02 is visibly shifted (≈ 500 m)
    x, y = convert_xy([lon], [lat], src="gcj02", dst="wgs84")
    assert np.allclose([x[0], y[0]], wgs, atol=2e-6)


@pytest.mark.parametrize(
    ("query", "first", "how"),
    [
        ("xiaodian", "小店区", "pinyin"),  # the district's name without its suffix, in pinyin
        ("XiaoDian", "小店区", "pinyin"),  # case does not matter
        ("xd", "小店区", "initials"),
        ("tongdajie", "通达街社区", "pinyin"),
        ("tdj", "通达街社区", "initials"),
        ("yingzequ", "迎泽区", "pinyin"),
    ],
)
def test_pinyin_and_initials_find_what_people_type(gaz, query, first, how):
    found = gaz.search(query)
    assert found and (found[0].place.name, found[0].how) == (first, how)


def test_chinese_characters_rank_above_pinyin_and_nonsense_finds_nothing(gaz):
    assert gaz.search("小店")[0].how in ("exact", "prefix")
    nothing = gaz.search("zzzq")
    assert not nothing and "zzzq" in nothing.message[1]
