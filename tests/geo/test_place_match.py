"""Place names as travellers write them → gazetteer units (geo._gazetteer_match)."""

from __future__ import annotations

import pandas as pd
import pytest

from geo._gazetteer_match import PlaceIndex, normalize_place, resolution_frame, short_forms
from layers.boundaries import gazetteer


@pytest.fixture(scope="module")
def index() -> PlaceIndex:
    return PlaceIndex.from_gazetteer(gazetteer())


@pytest.mark.parametrize(
    ("text", "status", "adcode", "rest"),
    [
        # exact names, any level, with or without parents
        ("浙江省杭州市上城区", "ok", "330102", ""),
        ("杭州市上城区", "ok", "330102", ""),
        ("浙江省上城区", "ok", "330102", ""),
        ("上城区", "ok", "330102", ""),
        ("浙江省杭州市", "ok", "330100", ""),
        ("杭州市", "ok", "330100", ""),
        ("浙江省", "ok", "330000", ""),
        (" 浙江省 杭州市 ", "ok", "330100", ""),  # whitespace ignored
        ("330102", "ok", "330102", ""),  # an adcode
        ("３３０１０２", "ok", "330102", ""),  # full-width digits (NFKC)
        ("999999", "unknown", None, ""),
        # suffix-stripped, only when unambiguous
        ("杭州", "ok", "330100", ""),
        ("浙江杭州上城", "ok", "330102", ""),
        ("黔南", "ok", "522700", ""),  # 黔南布依族苗族自治州
        ("黔南布依族苗族", "ok", "522700", ""),  # 自治州 stripped, ethnic words kept
        ("内蒙古", "ok", "150000", ""),
        ("广西", "ok", "450000", ""),
        ("龙胜", "ok", "450328", ""),  # 龙胜各族自治县
        ("定安", "ok", "469021", ""),  # city;county unit
        ("海南省文昌市文昌市", "ok", "469005", ""),  # city and county written out
        # municipalities: the province and its city row are one territory
        ("北京", "ok", "110100", ""),
        ("北京市", "ok", "110100", ""),
        ("上海市浦东新区", "ok", "310115", ""),
        ("上海浦东", "ok", "310115", ""),
        ("重庆", "ok", "500000", ""),
        # one candidate contains the others: the container (true whichever was meant)
        ("长沙", "ok", "430100", ""),  # 长沙市 ⊃ 长沙县
        ("吉林", "ok", "220000", ""),  # 吉林省 ⊃ 吉林市
        # ambiguous: candidates side by side
        ("朝阳区", "ambiguous", None, ""),  # Beijing and Changchun
        ("甘南", "ambiguous", None, ""),  # 甘南藏族自治州 and 甘南县
        ("大同", "ambiguous", None, ""),  # 大同市 and 大同区 (Daqing)
        # unknown: typos and non-places are never fuzzy-matched
        ("杭洲", "unknown", None, ""),
        ("某地", "unknown", None, ""),
        ("不详", "unknown", None, ""),
        ("安徽合费", "unknown", None, ""),  # a province prefix and junk
        ("佛山顺得", "unknown", None, ""),  # a city prefix and junk
        ("", "empty", None, ""),
        (None, "empty", None, ""),
        # a county prefix and a remainder (the caller checks it against risk-area names)
        ("浙江省杭州市上城区演示风险区1", "ok", "330102", "演示风险区1"),
        ("上海浦东新新区", "ok", "310115", "新区"),
    ],
)
def test_resolve(index: PlaceIndex, text: object, status: str, adcode: str | None, rest: str) -> None:
    r = index.resolve(text)
    assert r.status == status
    assert (r.unit.adcode if r.unit else None) == adcode
    assert r.rest == rest


@pytest.mark.parametrize(
    ("place", "code", "status", "adcode", "coded"),
    [
        ("杭州", "330102", "ok", "330102", False),  # code finer than the text: the code
        ("浙江省杭州市上城区", "330100", "ok", "330102", True),  # text finer, inside the code: the text
        ("杭州市上城区某某小区", "330102", "ok", "330102", True),  # remainder confirmed by the code
        ("杭洲", "330102", "ok", "330102", False),  # unreadable text, valid code
        ("杭州", "999999", "ok", "330100", False),  # unknown code, readable text
        ("杭州市上城区", "440605", "conflict", None, False),  # they disagree
        ("杭州", "330102.0", "ok", "330102", False),  # an adcode once read as a float
    ],
)
def test_resolve_pairs(index: PlaceIndex, place: str, code: str, status: str, adcode: str | None, coded: bool) -> None:
    (r,) = index.resolve_pairs([place], [code])
    assert r.status == status
    assert (r.unit.adcode if r.unit else None) == adcode
    assert r.coded is coded


def test_units_carry_parent_codes(index: PlaceIndex) -> None:
    pudong = index.resolve("上海市浦东新区").unit
    assert (pudong.province_adcode, pudong.city_adcode, pudong.county_adcode, pudong.level) == ("310000", "310100", "310115", "county")
    chongqing_district = index.resolve("重庆市万州区").unit
    assert (chongqing_district.city_adcode, chongqing_district.county_adcode) == ("500000", "500101")
    dongguan = index.resolve("东莞").unit  # both city and county
    assert (dongguan.city_adcode, dongguan.county_adcode, dongguan.level) == ("441900", "441900", "county")
    zhejiang = index.resolve("浙江").unit
    assert (zhejiang.level, zhejiang.city_adcode, zhejiang.county_adcode) == ("province", "", "")


@pytest.mark.parametrize(
    ("name", "level", "forms"),
    [
        ("甘南藏族自治州", "city", ["甘南藏族", "甘南"]),
        ("浦东新区", "county", ["浦东新", "浦东"]),
        ("城区", "county", []),  # one character left: no short form
        ("新疆维吾尔自治区", "province", ["新疆维吾尔", "新疆"]),
        ("博尔塔拉蒙古自治州", "city", ["博尔塔拉蒙古", "博尔塔拉"]),
        ("龙胜各族自治县", "county", ["龙胜各族", "龙胜"]),
        ("香港特别行政区", "province", ["香港"]),
    ],
)
def test_short_forms(name: str, level: str, forms: list[str]) -> None:
    assert short_forms(name, level) == forms


def test_normalize_place() -> None:
    assert normalize_place(" 杭州　市 ") == "杭州市"  # ideographic space too
    assert normalize_place(pd.NA) == ""
    assert normalize_place(float("nan")) == ""


def test_resolution_frame_columns(index: PlaceIndex) -> None:
    f = resolution_frame(index.resolve_pairs(["杭州", "杭洲"], ["", ""]))
    assert f.to_dict("records") == [
        {"status": "ok", "level": "city", "province_adcode": "330000", "city_adcode": "330100", "county_adcode": "",
         "rest": "", "label": "浙江省杭州市", "coded": False},
        {"status": "unknown", "level": "", "province_adcode": "", "city_adcode": "", "county_adcode": "",
         "rest": "", "label": "", "coded": False},
    ]


def test_index_is_built_once_per_gazetteer() -> None:
    g = gazetteer()
    assert PlaceIndex.from_gazetteer(g) is PlaceIndex.from_gazetteer(gazetteer())
    other = g[g["province"] == "浙江省"]
    assert PlaceIndex.from_gazetteer(other) is not PlaceIndex.from_gazetteer(g)
    assert PlaceIndex.from_gazetteer(other).resolve("上海").status == "unknown"


def test_missing_gazetteer_column_is_named() -> None:
    with pytest.raises(ValueError, match="gazetteer lacks column"):
        PlaceIndex(gazetteer().drop(columns=["levels"]))
