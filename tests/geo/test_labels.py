"""Place-name labels (geo/labels.py): which names, at which zoom, in which language."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.labels import ZOOMS, english_name, label_groups


@pytest.mark.parametrize(
    ("zh", "en"),
    [
        ("小店街道第7社区", "Xiaodian Subdistrict No. 7 Community"),
        ("光华街社区", "Guanghuajie Community"),
        ("晋源镇", "Jinyuan Town"),
        ("山西省", "Shanxi Province"),
        ("陕西省", "Shaanxi Province"),  # not the same as 山西 in pinyin
        ("北京市", "Beijing"),
        ("内蒙古自治区", "Inner Mongolia Autonomous Region"),
        ("广西壮族自治区", "Guangxi Zhuang Autonomous Region"),
        ("Riverside", "Riverside"),
        ("", ""),
    ],
)
def test_english_names(zh, en):
    assert english_name(zh) == en


def _nb():
    return gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "name": ["甲社区", "乙社区", "丙村"], "street": ["一街道", "一街道", "二镇"],
         "district": ["小店区"] * 3},
        geometry=[shapely.box(112.5, 37.8, 112.51, 37.81), shapely.box(112.51, 37.8, 112.52, 37.81),
                  shapely.box(112.6, 37.8, 112.61, 37.81)], crs="EPSG:4326",
    )


def test_city_labels_by_zoom_and_language():
    districts = gpd.GeoDataFrame({"name": ["小店区"], "name_en": ["Xiaodian District"]},
                                 geometry=[shapely.box(112.4, 37.7, 112.7, 37.9)], crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"name": ["演示检测点<b>"]}, geometry=[shapely.Point(112.55, 37.85)], crs="EPSG:4326")
    zh = {kind: (lo, hi, [r[2] for r in rows]) for kind, lo, hi, rows in label_groups("zh", districts=districts, neighbourhoods=_nb(), points=[sites])}
    assert zh["district"] == (*ZOOMS["district"], ["小店区"])
    assert sorted(zh["street"][2]) == ["一街道", "二镇"]  # one label per street, not per neighbourhood
    assert zh["neighbourhood"][2] == ["甲社区", "乙社区", "丙村"]
    assert zh["poi"][2] == ["演示检测点<b>"]  # plain text: the map escapes it
    assert ZOOMS["district"][1] < ZOOMS["street"][0] <= ZOOMS["street"][1] < ZOOMS["neighbourhood"][0]
    en = {kind: [r[2] for r in rows] for kind, _, _, rows in label_groups("en", districts=districts, neighbourhoods=_nb())}
    assert en["district"] == ["Xiaodian District"]  # the data's English name
    assert sorted(en["street"]) == ["Er Town", "Yi Subdistrict"]
    assert en["neighbourhood"] == ["Jia Community", "Yi Community", "Bing Village"]
    # each label sits inside its area
    (_, _, _, rows), = [g for g in label_groups("zh", neighbourhoods=_nb()) if g[0] == "neighbourhood"]
    assert all(shapely.Point(lon, lat).within(geom) for (lat, lon, _), geom in zip(rows, _nb().geometry, strict=True))


def test_province_labels_carry_the_risk_areas_in_force():
    prov = gpd.GeoDataFrame({"adcode": ["140000", "330000"], "name": ["山西省", "浙江省"]},
                            geometry=[shapely.box(110, 35, 114, 40), shapely.box(118, 27, 122, 31)], crs="EPSG:4326")
    (kind, lo, hi, rows), = label_groups("zh", provinces=prov, province_counts={"330000": 3})
    assert (kind, lo, hi) == ("province", *ZOOMS["province"])
    assert [r[2] for r in rows] == ["山西省", "浙江省 3"]
    (_, _, _, rows_en), = label_groups("en", provinces=prov, province_counts={"330000": 3})
    assert [r[2] for r in rows_en] == ["Shanxi Province", "Zhejiang Province 3"]


def test_province_capitals_are_labelled_a_zoom_in_from_the_provinces():
    from layers.boundaries import PROVINCE_CAPITALS, capitals

    caps = capitals()
    assert len(caps) == len(PROVINCE_CAPITALS) == 27
    assert {"太原", "石家庄", "乌鲁木齐", "拉萨", "海口"} <= set(caps["name"])
    (zh,) = [g for g in label_groups("zh", capitals=caps) if g[0] == "capital"]
    (en,) = [g for g in label_groups("en", capitals=caps) if g[0] == "capital"]
    assert zh[1] > ZOOMS["province"][0] and zh[2] == ZOOMS["province"][1]
    assert "● 太原" in [r[2] for r in zh[3]]
    assert {"● Taiyuan", "● Hohhot", "● Urumqi", "● Lhasa"} <= {r[2] for r in en[3]}
    # each label sits inside its province
    from layers.boundaries import provinces

    prov = provinces().set_index("adcode")
    import shapely

    for r, code in zip(zh[3], caps["province_adcode"], strict=True):
        assert shapely.covers(prov.geometry[code].buffer(0.05), shapely.Point(r[1], r[0])), code
