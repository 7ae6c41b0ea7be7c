"""Import and export: every format, encodings, coordinate systems, every reject named, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from dashboard.cli import main
from geo.crs import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import CoordinateError, ImportRejected
from layers import REGISTRY, get_spec
from layers.io import (
    export_frame,
    export_layer,
    format_issue,
    import_file,
    read_file,
    short_field_names,
    validate,
)
from layers.io._headers import map_headers, schema_keys
from layers.io._values import BadValue, parse_date
from layers.store.gpkg import GpkgStore, write_new_store
from layers.zone_versions import STAMP_COLUMNS

XIAODIAN = (112.594299, 37.723263)  # gazetteer point of 小店区 (140105)
YINGZE = (112.683721, 37.863403)  # 迎泽区 (140106)
SITE_HEADERS = ["编号", "名称", "类型", "开放时间", "经度(°)", "纬度(°)", "每小时采样能力", "免费"]


# ---------------------------------------------------------------- fixtures and helpers


def _neighbourhoods() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["N1", "N2"],
            "name": ["通达街社区", "新村社区"],
            "district_adcode": ["140105", "140106"],
            "district": ["小店区", "迎泽区"],
            "street": ["小店街道", "桥东街道"],
            "population": [7700, 5000],
        },
        geometry=[shapely.box(112.56, 37.82, 112.57, 37.83), shapely.box(112.58, 37.85, 112.59, 37.86)],
        crs="EPSG:4326",
    )


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["S9"],
            "name": ["已有采样点"],
            "type": ["fixed"],
            "hours": ["08:00-20:00"],
            "district_adcode": ["140105"],
            "capacity_per_hour": [100],
            "free": [True],
        },
        geometry=[shapely.Point(112.55, 37.85)],
        crs="EPSG:4326",
    )


@pytest.fixture
def store(tmp_path: Path) -> GpkgStore:
    path = tmp_path / "store.gpkg"
    write_new_store(path, {"neighbourhoods": _neighbourhoods(), "testing_sites": _sites()})
    return GpkgStore(path)


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def site_rows(*rows: list[object]) -> list[list[object]]:
    return [SITE_HEADERS, *rows]


def good_site(i: int = 1, lon: float = 112.55, lat: float = 37.86) -> list[object]:
    return [f"A{i}", f"采样点{i}", "医院", "24h", lon, lat, 100, "是"]


def geojson(path: Path, features: list[dict], **extra) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", **extra, "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


def feature(props: dict, geom) -> dict:
    return {"type": "Feature", "properties": props, "geometry": None if geom is None else shapely.geometry.mapping(geom)}


def zone_props(i: str = "Z1", **kw) -> dict:
    return {"id": i, "tier": "封控区", "name": f"区域{i}", "start": "2022-03-20", **kw}


# ---------------------------------------------------------------- headers


def test_every_layer_has_unambiguous_header_keys():
    for key in REGISTRY:
        assert schema_keys(key)  # raises on a key that maps to two columns


@pytest.mark.parametrize(
    "headers",
    [
        ["编号", "名称", "类型", "开放时间", "经度(°)", "纬度（°）"],
        ["ID", "Name", "Type", "Opening hours", "Longitude", "LATITUDE"],
        ["id", "name", "type", "hours", "lng", "lat"],
        ["编号 id", "名称 name", "类型 type", "开放时间 hours", "经度 lon", "纬度 lat"],
        [" Id ", "名称", "类别", "营业时间", "X", "Y"],
    ],
)
def test_chinese_and_english_headers_map(headers):
    cmap = map_headers(headers, "testing_sites")
    assert cmap.schema == {"id": headers[0], "name": headers[1], "type": headers[2], "hours": headers[3]}
    assert (cmap.lon, cmap.lat, cmap.unknown, cmap.clashes) == (headers[4], headers[5], [], [])


# ---------------------------------------------------------------- CSV, encodings, XLSX


@pytest.mark.parametrize(
    ("encoding", "label"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"), ("gbk", "GBK/GB18030"), ("gb18030", "GBK/GB18030")],
)
def test_csv_encodings_detected(tmp_path, store, encoding, label):
    path = write_csv(tmp_path / "sites.csv", site_rows(good_site(1), good_site(2, 112.56, 37.87)), encoding)
    raw = read_file(path)
    assert raw.encoding == label
    assert (None, None, f"文字编码：{label}（自动识别）", f"text encoding: {label} (detected)") in raw.notes
    report = import_file(path, "testing_sites", store=store)
    assert (report.written, report.layer_rows, report.encoding) == (2, 3, label)
    got = store.read("testing_sites").set_index("id")
    assert got.loc["A1", "name"] == "采样点1" and got.loc["A1", "type"] == "hospital" and bool(got.loc["A1", "free"])


@pytest.mark.parametrize("data", [b"\xfa\xfb,\x81\xff\n", b"\xff\xfe\xfa\xfb,\x81\n"])
def test_csv_undecodable_is_one_message(tmp_path, data):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRejected, match=re.escape("x.csv：无法可靠识别文字编码")):
        read_file(path)


def test_xlsx_rows_are_spreadsheet_rows(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "类型", "开放时间", "经度", "纬度", "每小时采样能力"])
    ws.append(["X1", "甲", "流动采样车", "24h", 112.55, 37.86, 120])
    ws.append([2, "乙", "固定采样点", "8-20", 112.55, 137.2, 12.5])
    path = tmp_path / "sites.xlsx"
    wb.save(path)
    checked = validate(read_file(path), "testing_sites", store=store)
    assert checked.rejects == [
        (3, "每小时采样能力 capacity_per_hour", "不是整数", "not a whole number"),
        (3, "纬度 lat", "超出范围 [-90, 90]", "out of range [-90, 90]"),
    ]
    assert list(checked.good["type"]) == ["mobile"] and checked.good_rows == [2]
    assert format_issue(checked.rejects[1]) == "第 3 行 row 3 · 纬度 lat: 超出范围 [-90, 90] / out of range [-90, 90] ('137.2')"


def test_xlsx_dates_and_numbers_as_cells(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", "本地新增确诊", "新增疑似", "本地新增无症状", "新增境外输入确诊", "新增境外输入无症状", "治愈出院",
               "重点地区返（抵）并人员", "当日核酸检测人次", "累计确诊", "累计境外输入确诊", "累计境外输入无症状", "累计核酸检测人次"])
    ws.append([dt.datetime(2022, 3, 28), 1, 0, 2, 0, 0, 0, 10, 1000, 5, 1, 1, 2000])
    ws.append(["2022年3月29日", 0, 0, 0, 0, 0, 0, 3, 900, 5, 1, 1, 2900])
    path = tmp_path / "daily.xlsx"
    wb.save(path)
    checked = validate(read_file(path), "daily_reports")
    assert checked.rejects == []
    assert list(checked.good["date"]) == [pd.Timestamp("2022-03-28"), pd.Timestamp("2022-03-29")]


# ---------------------------------------------------------------- every error, exactly


def test_each_row_error_named_exactly(tmp_path, store):
    rows = site_rows(
        good_site(1),                                              # 2 good (医院 → hospital)
        ["B3", "乙", "固定采样点", "8-20", 112.56, 137.2, 1, "否"],  # 3 lat out of range
        ["B4", "丙", "便民采样点", "8-20", 37.86, 112.55, 1, "否"],  # 4 swapped
        ["B5", "丁", "mobile", "8-20", 200, 37.8, 1, "否"],         # 5 lon out of range
        ["B6", "戊", "mobile", "8-20", 116.4, 39.9, 1, "否"],       # 6 Beijing: outside Taiyuan
        ["", "己", "mobile", "8-20", 112.56, 37.8, 1, "否"],        # 7 empty id
        ["D1", "庚", "mobile", "8-20", 112.56, 37.8, 1, "否"],      # 8 duplicate
        ["D1", "辛", "mobile", "8-20", 112.56, 37.8, 1, "否"],      # 9 duplicate
        ["B10", "壬", "怪", "8-20", 112.56, 37.8, 1, "否"],         # 10 unknown type
        ["B11", "癸", "mobile", "8-20", 112.56, 37.8, 12.5, "否"],  # 11 not an int
        ["B12", "子", "mobile", "8-20", 112.56, 37.8, -3, "否"],    # 12 negative
        ["B13", "丑", "mobile", "8-20", 112.56, 37.8, 1, "也许"],   # 13 not yes/no
        ["S9", "寅", "mobile", "8-20", 112.56, 37.8, 1, "否"],      # 14 id already stored
        ["B15", "卯", "mobile", "8-20", "abc", 37.8, 1, "否"],      # 15 not a number
        ["B16", "辰", "mobile", "", 112.56, 37.8, 1, "否"],         # 16 required empty
    )
    checked = validate(read_file(write_csv(tmp_path / "s.csv", rows)), "testing_sites", store=store)
    allowed_zh = "不是可选值之一：医院（hospital）、固定采样点（fixed）、便民采样点（convenience）、流动采样车（mobile）"
    allowed_en = "not one of the allowed values: hospital (医院), fixed (固定采样点), convenience (便民采样点), mobile (流动采样车)"
    assert checked.rejects == [
        (3, "纬度 lat", "超出范围 [-90, 90]", "out of range [-90, 90]"),
        (4, "经纬度 lon/lat", "经纬度可能颠倒", "latitude and longitude look swapped"),
        (5, "经度 lon", "超出范围 [-180, 180]", "out of range [-180, 180]"),
        (6, "经纬度 lon/lat", "超出太原市范围（含周边 20 公里）", "outside 太原市 Taiyuan (with a 20 km margin)"),
        (7, "编号 id", "必填，不能为空", "required; empty"),
        (8, "编号 id", "编号重复（另见第 9 行）", "duplicate id (also on row 9)"),
        (9, "编号 id", "编号重复（另见第 8 行）", "duplicate id (also on row 8)"),
        (10, "类型 type", allowed_zh, allowed_en),
        (11, "每小时采样能力 capacity_per_hour", "不是整数", "not a whole number"),
        (12, "每小时采样能力 capacity_per_hour", "不能为负数", "must not be negative"),
        (13, "免费 free", "不是“是/否”值（可用 是/否、true/false、1/0）", "not a yes/no value (use 是/否, true/false or 1/0)"),
        (14, "编号 id", "编号已存在于数据库中（追加模式）", "id already in the store (append mode)"),
        (15, "经度 lon", "不是数字", "not a number"),
        (16, "开放时间 hours", "必填，不能为空", "required; empty"),
    ]
    assert checked.good_rows == [2]
    assert [r.value for r in checked.rejects[:4]] == ["137.2", "37.86, 112.55", "200", "116.4, 39.9"]
    # in replace mode ids already stored are no conflict
    again = validate(read_file(tmp_path / "s.csv"), "testing_sites", store=store, mode="replace")
    assert 14 not in again.rejected_rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-28", "2022-03-28"),
        ("2022/3/28", "2022-03-28"),
        ("2022.3.28", "2022-03-28"),
        ("2022年3月28日", "2022-03-28"),
        ("20220328", "2022-03-28"),
        ("2022-03-28 00:00:00", "2022-03-28"),
        (dt.datetime(2022, 3, 28), "2022-03-28"),
    ],
)
def test_dates_accepted(text, expected):
    assert parse_date(text)[0] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("text", "zh"),
    [
        ("03/04/2022", "日期有歧义（日、月顺序不明）；请用 2022-03-28、2022/3/28 或 2022年3月28日"),
        ("28/03/2022", "日期有歧义（日、月顺序不明）；请用 2022-03-28、2022/3/28 或 2022年3月28日"),
        ("2022-02-30", "没有这一天（月或日超出范围）"),
        ("next week", "不是日期；请用 2022-03-28、2022/3/28 或 2022年3月28日"),
        (44648, "是数字而不是日期；请用 2022-03-28、2022/3/28 或 2022年3月28日"),
        ("1900-01-01", "日期超出范围 2020-01-01 … 2099-12-31（多半是笔误）"),  # the product's data start in 2020
        ("0022-03-27", "日期超出范围 2020-01-01 … 2099-12-31（多半是笔误）"),  # a two-digit year typed as four
        (dt.datetime(1899, 12, 31), "日期超出范围 2020-01-01 … 2099-12-31（多半是笔误）"),  # a spreadsheet's day 0
    ],
)
def test_dates_refused_not_guessed(text, zh):
    with pytest.raises(BadValue) as info:
        parse_date(text)
    assert info.value.zh == zh


def _wkt_zone(i: str, start: str, lifted: str = "", tier: str = "封控区") -> list[str]:
    return [i, tier, f"区域{i}", start, lifted, shapely.box(112.55, 37.85, 112.56, 37.86).wkt]


def test_zone_csv_with_wkt_dates_and_tiers(tmp_path):
    rows = [
        ["编号", "级别", "名称", "开始日期", "解除日期", "几何 WKT"],
        _wkt_zone("Z1", "2022年3月20日", "2022/3/28"),
        _wkt_zone("Z2", "03/04/2022"),
        _wkt_zone("Z3", "2022-03-20", "2022-03-01", tier="管控区"),
        _wkt_zone("Z4", "2022-03-20", tier="隔离区"),
        ["Z5", "防范区", "区域Z5", "2022-03-20", "", "POLYGON ((1 2, 3"],
    ]
    checked = validate(read_file(write_csv(tmp_path / "z.csv", rows)), "zones")
    assert checked.rejects == [
        (3, "开始日期 start", "日期有歧义（日、月顺序不明）；请用 2022-03-28、2022/3/28 或 2022年3月28日",
         "ambiguous date (day/month order unknown); use 2022-03-28, 2022/3/28 or 2022年3月28日"),
        (4, "解除日期 lifted", "早于开始日期", "before start"),
        (5, "级别 tier", "不是可选值之一：防范区（precaution）、管控区（controlled）、封控区（sealed）",
         "not one of the allowed values: precaution (防范区), controlled (管控区), sealed (封控区)"),
        (6, "几何 geometry", "WKT 几何无法解析", "WKT geometry cannot be parsed"),
    ]
    good = checked.good
    assert list(good["tier"]) == ["sealed"] and good["lifted"].iloc[0] == pd.Timestamp("2022-03-28")


def test_hotel_rooms_occupied_not_above_total(tmp_path):
    rows = [
        ["编号", "名称", "房间总数", "已用房间", "状态", "lng", "lat"],
        ["H1", "甲", 100, 80, "使用中", 112.55, 37.86],
        ["H2", "乙", 100, 120, "in_use", 112.55, 37.86],
        ["H3", "丙", 10, 0, "关门", 112.55, 37.86],
    ]
    checked = validate(read_file(write_csv(tmp_path / "h.csv", rows)), "hotels")
    assert checked.rejects == [
        (3, "已用房间 rooms_occupied", "已用房间数大于房间总数", "more rooms occupied than rooms_total"),
        (4, "状态 status", "不是可选值之一：使用中（in_use）、备用（standby）、停用（closed）",
         "not one of the allowed values: in_use (使用中), standby (备用), closed (停用)"),
    ]
    assert checked.good["status"].tolist() == ["in_use"]


def test_missing_required_columns_is_one_file_error(tmp_path, store):
    path = write_csv(tmp_path / "sites.csv", [["编号", "名称", "经度", "纬度"], ["A1", "甲", 112.55, 37.86]])
    msg = "sites.csv：缺少必填列：类型 type、开放时间 hours；未写入任何数据 / sites.csv: missing required columns: 类型 type, 开放时间 hours; nothing was written"
    with pytest.raises(ImportRejected, match=f"^{re.escape(msg)}") as info:
        import_file(path, "testing_sites", store=store, skip_bad=True)
    assert info.value.rows == [(None, None, "缺少必填列：类型 type、开放时间 hours", "missing required columns: 类型 type, 开放时间 hours")]


def test_no_coordinates_and_no_address_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "s.csv", [["编号", "类型", "开放时间", "电话"], ["A1", "医院", "24h", "1"]])
    checked = validate(read_file(path), "testing_sites")
    assert checked.fatal and checked.rejects[-1][3] == "no coordinate columns (经度/纬度, lng/lat, x/y) and no address column (地址/address/地点/名称)"


def test_two_headers_for_one_column_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "s.csv", [["编号", "名称", "name", "类型", "开放时间", "经度", "纬度"], ["A", "甲", "乙", "医院", "24h", 112.5, 37.8]])
    checked = validate(read_file(path), "testing_sites")
    assert checked.rejects == [(None, None, "多个列都对应 名称 name：名称、name", "several columns map to 名称 name: 名称, name")]


# ---------------------------------------------------------------- address column


def test_address_resolved_by_gazetteer_and_neighbourhoods(tmp_path, store):
    rows = [
        ["编号", "名称", "类型", "开放时间", "地址"],
        ["A1", "甲", "医院", "24h", "小店区"],
        ["A2", "乙", "医院", "24h", "山西省太原市迎泽区"],
        ["A3", "丙", "医院", "24h", "小店区通达街社区"],
        ["A4", "丁", "医院", "24h", "太原市小店区小店街道演示路206号"],
        ["A5", "戊", "医院", "24h", "朝阳区"],
        ["A6", "己", "医院", "24h", ""],
    ]
    checked = validate(read_file(write_csv(tmp_path / "a.csv", rows)), "testing_sites", store=store)
    not_found = (
        "无法按地址定位：须为本市的区县名或社区/村名（不按门牌地址推测位置）",
        "address not found: must be a district/county or neighbourhood name in the city (street addresses are not guessed)",
    )
    assert checked.rejects == [
        (5, "地址 address", *not_found),
        (6, "地址 address", *not_found),
        (7, "地址 address", "没有坐标，也没有可定位的地址", "no coordinates and no address to place it by"),
    ]
    pts = {i: (g.x, g.y) for i, g in zip(checked.good["id"], checked.good.geometry, strict=True)}
    assert pts["A1"] == XIAODIAN and pts["A2"] == YINGZE
    nb = _neighbourhoods().geometry.iloc[0].representative_point()
    assert pts["A3"] == (nb.x, nb.y)
    assert (4, "地址 address", "按地址定位到该社区/村的代表点", "placed at the representative point of the named neighbourhood") in checked.notes
    assert checked.good["address"].tolist() == ["小店区", "山西省太原市迎泽区", "小店区通达街社区"]


def test_coordinates_win_and_blank_coordinates_fall_back_to_address(tmp_path):
    rows = [["编号", "名称", "类型", "开放时间", "经度", "纬度", "地址"],
            ["A1", "甲", "医院", "24h", 112.55, 37.86, "小店区"],
            ["A2", "乙", "医院", "24h", "", "", "小店区"]]
    checked = validate(read_file(write_csv(tmp_path / "a.csv", rows)), "testing_sites", crs="gcj02")
    g = checked.good.geometry
    assert g.iloc[1].coords[0] == XIAODIAN  # gazetteer points are WGS-84: never shifted as GCJ-02
    assert g.iloc[0].coords[0] != (112.55, 37.86)


# ---------------------------------------------------------------- coordinate systems


def test_gcj02_input_converted_to_wgs84(tmp_path, store):
    true_lon, true_lat = 112.55, 37.86
    glon, glat = (float(v) for v in wgs84_to_gcj02(true_lon, true_lat))
    path = write_csv(tmp_path / "s.csv", site_rows(good_site(1, glon, glat)))
    report = import_file(path, "testing_sites", store=store, crs="gcj02")
    assert report.crs_used == "GCJ-02"
    p = store.read("testing_sites").set_index("id").geometry["A1"]
    expect = gcj02_to_wgs84(glon, glat)
    assert (p.x, p.y) == pytest.approx((float(expect[0]), float(expect[1])), abs=1e-12)
    assert (p.x, p.y) == pytest.approx((true_lon, true_lat), abs=1e-8)
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(glon, glat, p.x, p.y)
    assert 400 < metres < 700  # in Taiyuan GCJ-02 is about 560 m off


def test_bd09_and_epsg_declared(tmp_path):
    blon, blat = (float(v) for v in wgs84_to_bd09(112.55, 37.86))
    checked = validate(read_file(write_csv(tmp_path / "s.csv", site_rows(good_site(1, blon, blat)))), "testing_sites", crs="bd09")
    g = checked.good.geometry.iloc[0]
    assert (g.x, g.y) == pytest.approx(tuple(float(v) for v in bd09_to_wgs84(blon, blat)), abs=1e-12)
    # a projected CRS (UTM 49N, metres): out-of-degree-range values are fine before conversion
    x, y = pyproj.Transformer.from_crs(4326, 32649, always_xy=True).transform(112.55, 37.86)
    rows = [["编号", "名称", "类型", "开放时间", "x", "y"], ["A1", "甲", "医院", "24h", x, y]]
    checked = validate(read_file(write_csv(tmp_path / "u.csv", rows)), "testing_sites", crs="EPSG:32649")
    assert checked.rejects == [] and checked.good.geometry.iloc[0].coords[0] == pytest.approx((112.55, 37.86), abs=1e-9)


def test_unknown_crs_raises_coordinate_error(tmp_path):
    path = write_csv(tmp_path / "s.csv", site_rows(good_site()))
    with pytest.raises(CoordinateError, match="unknown coordinate system 'mars2'"):
        read_file(path, crs="mars2")


# ---------------------------------------------------------------- GeoJSON, GeoPackage, Shapefile, KML


def test_geojson_features_numbered_and_geometry_checked(tmp_path):
    bowtie = shapely.Polygon([(112.55, 37.85), (112.56, 37.86), (112.56, 37.85), (112.55, 37.86)])
    spike = shapely.Polygon([(112.55, 37.85), (112.56, 37.86), (112.56, 37.86), (112.55, 37.85)])
    flat = shapely.Polygon([(112.55, 37.85), (112.56, 37.86), (112.57, 37.87), (112.55, 37.85)])
    feats = [
        feature(zone_props("Z1"), shapely.box(112.55, 37.85, 112.56, 37.86)),
        feature(zone_props("Z2"), shapely.Point(112.55, 37.85)),
        feature(zone_props("Z3"), bowtie),
        feature(zone_props("Z4"), spike),
        feature(zone_props("Z5"), None),
        {"type": "Feature", "properties": zone_props("Z6"), "geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}},
        feature(zone_props("Z7"), shapely.box(37.85, 112.55, 37.86, 112.56)),
        feature(zone_props("Z8"), flat),
    ]
    checked = validate(read_file(geojson(tmp_path / "z.geojson", feats)), "zones")
    assert checked.rejects == [
        (2, "几何 geometry", "几何类型应为面（Polygon/MultiPolygon），实为 Point", "geometry should be a Polygon, got Point"),
        (4, "几何 geometry", "几何无效且无法修复为面（Too few points in geometry component[112.55 37.85]）",
         "invalid geometry that cannot be repaired into a polygon (Too few points in geometry component[112.55 37.85])"),
        (5, "几何 geometry", "缺少几何", "missing geometry"),
        (6, "几何 geometry", "几何无法读取（A linearring requires at least 4 coordinates.）",
         "geometry cannot be read (A linearring requires at least 4 coordinates.)"),
        (7, "几何 geometry", "经纬度可能颠倒", "latitude and longitude look swapped"),
        (8, "几何 geometry", "面积为 0（几何退化）", "the polygon has no area (degenerate)"),
    ]
    assert format_issue(checked.rejects[0]).startswith("第 2 个要素 feature 2 · 几何 geometry: ")
    assert checked.good_rows == [1, 3]
    repaired = checked.good.geometry.iloc[1]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon" and repaired.area == pytest.approx(shapely.make_valid(bowtie).area)
    assert any(n[0] == 3 and n[2].startswith("几何无效（Self-intersection") and "make_valid" in n[3] for n in checked.notes)


def test_risk_areas_are_national(tmp_path):
    props = {"id": "R1", "level": "高风险区", "province": "浙江省", "since": "2022-03-01"}
    feats = [
        feature(props, shapely.box(120.1, 30.2, 120.2, 30.3)),  # Hangzhou: fine for a national layer
        feature({**props, "id": "R2"}, shapely.box(10.0, 50.0, 10.1, 50.1)),
    ]
    checked = validate(read_file(geojson(tmp_path / "r.geojson", feats)), "risk_areas")
    assert checked.rejects == [(2, "几何 geometry", "超出中国范围", "outside China")]
    assert checked.good["level"].tolist() == ["high"]


def test_geojson_crs_member_used_unless_crs_given(tmp_path):
    x, y = 112.55, 37.86
    f = [feature(zone_props(), shapely.box(x, y, x + 0.01, y + 0.01))]
    named = {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}}
    path = geojson(tmp_path / "z.geojson", f, **named)
    checked = validate(read_file(path), "zones")
    assert checked.crs_used == "EPSG:4490 (China Geodetic Coordinate System 2000)"
    checked = validate(read_file(path, crs="gcj02"), "zones")
    assert checked.crs_used == "GCJ-02"
    assert (None, None, "文件自带坐标系为 EPSG:4490 (China Geodetic Coordinate System 2000)，按指定的 GCJ-02 处理",
            "the file says EPSG:4490 (China Geodetic Coordinate System 2000); read as GCJ-02 as given") in checked.notes


def test_gpkg_first_layer_or_named(tmp_path, store):
    path = tmp_path / "in.gpkg"
    sites = _sites().assign(id=["G1"]).to_crs(4490)
    pyogrio.write_dataframe(gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326), path, layer="other")
    pyogrio.write_dataframe(sites, path, layer="采样点")
    raw = read_file(path)
    assert list(raw.frame.columns) == ["a"]
    assert (None, None, "读取图层“other”（共 2 个：other、采样点）", "read layer 'other' (of 2: other, 采样点)") in raw.notes
    raw = read_file(path, layer="采样点")
    assert raw.crs == "EPSG:4490"
    report = import_file(path, "testing_sites", store=store, layer="采样点")
    assert report.written == 1 and report.crs_used == "EPSG:4490 (China Geodetic Coordinate System 2000)"
    assert store.read("testing_sites").set_index("id").geometry["G1"].coords[0] == pytest.approx((112.55, 37.85), abs=1e-9)


def _shp_zip(tmp_path: Path, *, encoding: str, cpg: bool, name: str = "sites.zip") -> Path:
    frame = gpd.GeoDataFrame(
        # (a 4-character Chinese name is 12 bytes in UTF-8 and would be cut at 10 by the format)
        {"编号": ["K1", "K2"], "名称": ["小店区医院", "迎泽采样点"], "类型": ["医院", "固定采样点"], "hours": ["24h", "8-20"]},
        geometry=[shapely.Point(112.55, 37.86), shapely.Point(112.56, 37.87)],
        crs="EPSG:4326",
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / "sites.shp", encoding=encoding)
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix == ".cpg" and not cpg:
                continue
            zf.write(part, arcname=f"data/{part.name}")
    return path


@pytest.mark.parametrize(("encoding", "cpg", "how"), [
    ("GBK", True, "GBK/GB18030（来自 .cpg）"),
    ("GBK", False, "GBK/GB18030（无 .cpg，按 .dbf 内容识别）"),
    ("UTF-8", False, "UTF-8（无 .cpg，按 .dbf 内容识别）"),
])
def test_zipped_shapefile_gbk_with_and_without_cpg(tmp_path, store, encoding, cpg, how):
    path = _shp_zip(tmp_path, encoding=encoding, cpg=cpg)
    raw = read_file(path)
    assert list(raw.frame.columns) == ["编号", "名称", "类型", "hours"]
    assert any(n[2] == f".dbf 文字编码：{how}" for n in raw.notes)
    report = import_file(path, "testing_sites", store=store)
    assert report.written == 2
    got = store.read("testing_sites").set_index("id")
    assert got.loc["K1", "name"] == "小店区医院" and got.loc["K2", "type"] == "fixed"


@pytest.mark.filterwarnings("ignore:Could not decode error message")
@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
def test_shapefile_field_name_cut_mid_character(tmp_path):
    frame = gpd.GeoDataFrame({"编号": ["K1"], "开放时间": ["24h"]}, geometry=[shapely.Point(112.55, 37.86)], crs="EPSG:4326")
    pyogrio.write_dataframe(frame, tmp_path / "a.shp", encoding="UTF-8")  # "开放时间" is 12 bytes: cut at 10
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            zf.write(tmp_path / f"a{ext}", arcname=f"a{ext}")
    raw = read_file(path)
    assert list(raw.frame.columns) == ["编号", "开放时"] and raw.encoding == "UTF-8"
    assert raw.notes[0] == (None, None, "字段名“开放时…”在第 10 字节处被截断（Shapefile 的限制），请核对",
                            "field name '开放时'… was cut at 10 bytes (a Shapefile limit); please check")


def test_wrong_cpg_is_one_message(tmp_path):
    path = _shp_zip(tmp_path, encoding="GBK", cpg=False)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("data/sites.cpg", "UTF-8")
    with pytest.raises(ImportRejected, match=re.escape("sites.zip：.cpg 声明编码为 utf-8，但 .dbf 内容不是该编码")):
        read_file(path)


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder>
<Placemark><name>柳巷封控区</name>
  <ExtendedData><Data name="编号"><value>K1</value></Data><Data name="级别"><value>封控区</value></Data>
  <Data name="开始日期"><value>2022/3/20</value></Data></ExtendedData>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>112.55,37.85,0 112.56,37.85,0 112.56,37.86,0 112.55,37.85,0</coordinates></LinearRing></outerBoundaryIs>
  <innerBoundaryIs><LinearRing><coordinates>112.557,37.851 112.559,37.851 112.559,37.853 112.557,37.851</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
<Placemark><name>点</name><ExtendedData><SchemaData><SimpleData name="编号">K2</SimpleData><SimpleData name="级别">sealed</SimpleData>
  <SimpleData name="开始日期">2022-03-20</SimpleData></SchemaData></ExtendedData><Point><coordinates>112.55,37.85</coordinates></Point></Placemark>
<Placemark><name>坏</name><ExtendedData><Data name="编号"><value>K3</value></Data><Data name="级别"><value>sealed</value></Data>
  <Data name="开始日期"><value>2022-03-20</value></Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>1,x</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Folder></Document></kml>"""


def test_kml_placemarks_extended_data_and_name(tmp_path):
    path = tmp_path / "z.kml"
    path.write_text(KML, encoding="utf-8")
    checked = validate(read_file(path), "zones")
    assert checked.rejects == [
        (2, "几何 geometry", "几何类型应为面（Polygon/MultiPolygon），实为 Point", "geometry should be a Polygon, got Point"),
        (3, "几何 geometry", "几何无法读取（could not convert string to float: 'x'）", "geometry cannot be read (could not convert string to float: 'x')"),
    ]
    good = checked.good
    assert good["name"].tolist() == ["柳巷封控区"] and good["tier"].tolist() == ["sealed"]
    assert len(good.geometry.iloc[0].interiors) == 1 and not good.geometry.iloc[0].has_z


# ---------------------------------------------------------------- malformed files: one clear message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feat',
         "a.geojson：不是有效的 JSON（第 1 行第 53 列：Unterminated string starting at；文件可能不完整）"),
        ("a.geojson", b'{"type": "Point", "coordinates": [1, 2]}', "a.geojson：不是 GeoJSON 要素集合（FeatureCollection） / a.geojson: not a GeoJSON FeatureCollection"),
        ("a.json", b"", "a.json：文件为空 / a.json: the file is empty"),
        ("a.csv", b"", "a.csv：文件为空 / a.csv: the file is empty"),
        ("a.csv", "\ufeff\n\n".encode(), "a.csv：文件为空 / a.csv: the file is empty"),
        ("a.csv", "编号,名称\n".encode(), "a.csv：文件中没有数据行 / a.csv: the file has no data rows"),
        ("a.zip", b"this is not a zip", "a.zip：不是有效的 ZIP 压缩包 / a.zip: not a valid ZIP archive"),
        ("a.xlsx", b"PK\x03\x04 not really", "a.xlsx：不是有效的 Excel (.xlsx) 工作簿 / a.xlsx: not a valid Excel .xlsx workbook"),
        ("a.xlsx", b"name,type\n1,2\n", "a.xlsx：不是有效的 Excel (.xlsx) 工作簿 / a.xlsx: not a valid Excel .xlsx workbook"),
        ("a.gpkg", b"SQLite format 3\x00 broken", "a.gpkg：不是有效的 GeoPackage / a.gpkg: not a valid GeoPackage"),
        ("a.kml", b"<kml><Placemark>", "a.kml：不是有效的 KML/XML（no element found: line 1, column 16）"),
        ("a.xls", b"\xd0\xcf\x11\xe0", "a.xls：不支持的文件类型 .xls；请在 Excel 中另存为 .xlsx"),
        ("a.shp", b"\x00\x00\x27\x0a", "a.shp：不支持的文件类型 .shp；请把 .shp、.dbf、.shx、.prj（及 .cpg）打包为一个 .zip"),
    ],
)
def test_malformed_file_one_clear_message(tmp_path, store, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected, match=f"^{re.escape(message)}") as info:
        import_file(path, "testing_sites", store=store)
    assert len(info.value.rows) == 1 and info.value.rows[0][0] is None
    assert store.path.read_bytes() == before


def test_zip_without_shp_and_without_dbf(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ImportRejected, match=re.escape("a.zip：压缩包中没有 .shp 文件（内含：readme.txt） / a.zip: the zip contains no .shp file (it has: readme.txt)")):
        read_file(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.shp", b"\x00" * 100)
        zf.writestr("x.shx", b"\x00" * 100)
    with pytest.raises(ImportRejected, match=re.escape("a.zip：x.shp 缺少配套的 .dbf 文件 / a.zip: x.shp has no matching .dbf file in the zip")):
        read_file(path)


# ---------------------------------------------------------------- all or nothing, skip bad


def _mixed_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "mixed.csv", site_rows(
        good_site(1),
        ["B3", "乙", "固定采样点", "8-20", 112.56, 137.2, 1, "否"],
        good_site(4, 112.57, 37.88),
        ["B5", "丙", "怪", "8-20", 112.56, 37.8, 1, "否"],
    ))


def test_rejected_import_writes_nothing(tmp_path, store):
    path = _mixed_csv(tmp_path)
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected, match=re.escape("导入被拒绝：4 行中有 2 行有问题（共 2 处），未写入任何数据；行号为表格行号（第 1 行是表头，数据从第 2 行开始）")) as info:
        import_file(path, "testing_sites", store=store)
    assert [r[:2] for r in info.value.rows] == [(3, "纬度 lat"), (5, "类型 type")]
    assert "文件 file: 文字编码：UTF-8（自动识别） / text encoding: UTF-8 (detected)" in info.value.__notes__
    assert store.path.read_bytes() == before
    assert not (tmp_path / "mixed.rejects.csv").exists()


def test_skip_bad_writes_good_rows_and_every_reject(tmp_path, store):
    path = _mixed_csv(tmp_path)
    report = import_file(path, "testing_sites", store=store, skip_bad=True)
    assert (report.written, report.layer_rows, report.skipped) == (2, 3, 2)
    assert sorted(store.read("testing_sites")["id"]) == ["A1", "A4", "S9"]
    assert report.rejects_path == tmp_path / "mixed.rejects.csv"
    data = report.rejects_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["行号 row", "列 column", "错误原因 reason_zh", "reason_en", *SITE_HEADERS]
    assert lines[1] == ["3", "纬度 lat", "超出范围 [-90, 90]", "out of range [-90, 90]", "B3", "乙", "固定采样点", "8-20", "112.56", "137.2", "1", "否"]
    assert [row[0] for row in lines[1:]] == ["3", "5"]
    assert report.summary().startswith("已导入 2 行到“核酸检测点”（testing_sites），该图层现有 3 行；跳过 2 行（2 处问题），详见 mixed.rejects.csv。")


def test_skip_bad_with_nothing_good_raises(tmp_path, store):
    path = write_csv(tmp_path / "bad.csv", site_rows(["B3", "乙", "医院", "8-20", 112.56, 137.2, 1, "否"]))
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected, match=re.escape("bad.csv：没有可导入的行，未写入任何数据")):
        import_file(path, "testing_sites", store=store, skip_bad=True, mode="replace")
    assert store.path.read_bytes() == before and (tmp_path / "bad.rejects.csv").exists()


# ---------------------------------------------------------------- personal data


def test_personal_values_never_in_messages(tmp_path):
    rows = [["编号", "姓名", "电话", "住址", "经度", "纬度", "抵并日期"],
            ["T1", "张三", "13800001234", "秘密路1号", "", "", "2022-03-01"],
            ["T2", "李四", "13900001234", "小店区", 112.5, 99.5, "2022-03-01"]]
    checked = validate(read_file(write_csv(tmp_path / "t.csv", rows)), "travellers")
    assert [r[:2] for r in checked.rejects] == [(2, "住址 address"), (3, "纬度 lat")]
    assert all(r.value is None for r in checked.rejects)
    text = "\n".join(format_issue(r) for r in checked.rejects + checked.notes)
    for secret in ("张三", "李四", "1380000", "秘密路", "99.5"):
        assert secret not in text
    visits = [["人员编号", "地点", "开始日期"], ["T1", "四川省阿坝县", "2022/13/45"]]
    checked = validate(read_file(write_csv(tmp_path / "v.csv", visits)), "visits")
    assert checked.rejects == [(2, "开始日期 from_date", "没有这一天（月或日超出范围）", "no such day (month or day out of range)")]
    assert checked.rejects[0].value is None


# ---------------------------------------------------------------- export → import round trips

POINTS = gpd.GeoDataFrame(
    {
        "id": ["P1", "P2", "P3"],
        "name": ["甲检测点", "乙检测点, \"引号\"", "=HYPERLINK(\"x\")"],
        "type": ["hospital", "mobile", "convenience"],
        "district_adcode": ["140105", None, "140106"],
        "address": ["太原市小店区某路1号", None, "迎泽区"],
        "hours": ["24h", "08:00-20:00", "9-17"],
        "capacity_per_hour": [120, None, 0],
        "free": [True, False, None],
    },
    geometry=[shapely.Point(112.55, 37.86), shapely.Point(112.5123456789, 37.7654321), shapely.Point(112.7, 37.9)],
    crs="EPSG:4326",
)
ZONES = gpd.GeoDataFrame(
    {
        "id": ["Z1", "Z2"],
        "tier": ["sealed", "precaution"],
        "name": ["柳巷", "长风"],
        "reason": ["病例", None],
        "start": ["2022-03-20", "2022-03-21"],
        "planned_end": ["2022-04-03", None],
        "lifted": [None, "2022-03-28"],
        "district_adcode": ["140106", "140105"],
        "demo": [True, False],
    },
    geometry=[
        shapely.Polygon([(112.55, 37.85), (112.56, 37.85), (112.56, 37.86), (112.55, 37.86)],
                        [[(112.552, 37.852), (112.554, 37.852), (112.554, 37.854), (112.552, 37.852)]]),
        shapely.MultiPolygon([shapely.box(112.5, 37.8, 112.51, 37.81), shapely.box(112.52, 37.8, 112.53, 37.81)]),
    ],
    crs="EPSG:4326",
)
FORMATS = [".geojson", ".gpkg", ".zip", ".kml", ".csv", ".xlsx"]
CARRY_CRS = {".geojson", ".gpkg", ".zip"}  # files that record an EPSG system themselves


def _same(a: pd.DataFrame, b: pd.DataFrame, key: str) -> None:
    spec = REGISTRY[key]
    a, b = spec.coerce(a).reset_index(drop=True), spec.coerce(b).reset_index(drop=True)
    # the store stamps each zone's version, saver and time itself (layers/zone_versions.py)
    cols = [c for c in spec.column_names if key != "zones" or c not in STAMP_COLUMNS]
    pd.testing.assert_frame_equal(pd.DataFrame(a[cols]), pd.DataFrame(b[cols]), check_dtype=True)
    if spec.geometry:
        for g1, g2 in zip(a.geometry, b.geometry, strict=True):
            # the store may hold a Polygon as a one-part MultiPolygon: compare shapes, not types
            assert shapely.hausdorff_distance(g1, g2) < 1e-9 and g1.area == pytest.approx(g2.area, rel=1e-9), (g1, g2)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09", "EPSG:4490"])
@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize(("key", "frame"), [("testing_sites", POINTS), ("zones", ZONES)])
def test_export_import_round_trip(tmp_path, key, frame, suffix, crs):
    out = tmp_path / f"out{suffix}"
    assert export_frame(frame, key, out, crs=crs) == len(frame)
    store = GpkgStore(tmp_path / "s.gpkg")
    declared = None if crs == "wgs84" or (crs.startswith("EPSG") and suffix in CARRY_CRS) else crs
    report = import_file(out, key, store=store, crs=declared)
    assert report.rejects == [] and report.written == len(frame)
    _same(frame, store.read(key), key)
    if crs != "wgs84" and key == "testing_sites" and crs != "EPSG:4490":
        raw = read_file(out)  # the file really holds shifted coordinates
        g = raw.geometry[0] if raw.geometry is not None else shapely.Point(float(raw.frame.iloc[0, -2]), float(raw.frame.iloc[0, -1]))
        assert shapely.distance(g, frame.geometry.iloc[0]) > 1e-3


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".csv", ".xlsx"])
def test_round_trip_without_geometry(tmp_path, suffix):
    frame = pd.DataFrame({"date": ["2022-03-27", "2022-03-28"], **{c.name: [1, 2] for c in REGISTRY["daily_reports"].columns[1:-1]}, "demo": [True, True]})
    out = tmp_path / f"d{suffix}"
    export_frame(frame, "daily_reports", out)
    checked = validate(read_file(out), "daily_reports")  # read back as an import would (not writable directly)
    assert checked.rejects == []
    write_new_store(tmp_path / "s.gpkg", {"daily_reports": get_spec("daily_reports").coerce(pd.DataFrame(checked.good))})
    _same(frame, GpkgStore(tmp_path / "s.gpkg").read("daily_reports"), "daily_reports")


@pytest.mark.parametrize("key", ["daily_report_revisions", "zone_history", "daily_reports"])
def test_history_and_versioned_layers_refuse_every_direct_import(tmp_path, store, key, capsys):
    """Attack: `riskmap import daily_report_revisions` accepted a forged revision, and
    `import daily_reports --mode replace` turned 136 reports into 1 without validation."""
    frame = pd.DataFrame({"date": ["2022-03-27"], **{c.name: [1] for c in REGISTRY["daily_reports"].columns[1:-1]}})
    src = tmp_path / "forged.csv"
    frame.assign(revision=1, saved_by="someone", saved_at="2022-03-27T08:00:00").to_csv(src, index=False)
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected, match="不能直接导入"):
        import_file(src, key, store=store, mode="replace")
    assert store.path.read_bytes() == before
    assert not REGISTRY[key].importable
    if key == "daily_reports":  # the CLI takes daily reports only through the form's validation and revisions
        assert main(["import", key, str(src), "--store", str(store.path), "--mode", "replace"]) == 2
        assert "never replaced" in capsys.readouterr().err
        assert main(["import", key, str(src), "--store", str(store.path)]) == 1
        assert "unknown column 'revision'" in capsys.readouterr().err
    else:
        assert main(["import", key, str(src), "--store", str(store.path)]) == 2  # not a layer the CLI imports into
        assert "invalid choice" in capsys.readouterr().err
    assert store.path.read_bytes() == before


def test_shapefile_export_layout(tmp_path):
    out = tmp_path / "z.zip"
    export_frame(ZONES, "zones", out)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["fields.csv", "zones.cpg", "zones.dbf", "zones.prj", "zones.shp", "zones.shx"]
        assert zf.read("zones.cpg") == b"UTF-8"
        mapping = dict(line.split(",")[:2] for line in zf.read("fields.csv").decode().splitlines()[1:])
    assert mapping == {v: k for k, v in short_field_names(REGISTRY["zones"].column_names).items()}
    assert all(len(k) <= 10 for k in mapping)
    assert mapping["planned_en"] == "planned_end" and mapping["district_a"] == "district_adcode"
    assert short_field_names(["abcdefghijkl", "abcdefghijXX", "ABCDEFGHIJyy"]) == {
        "abcdefghijkl": "abcdefghij", "abcdefghijXX": "abcdefgh_1", "ABCDEFGHIJyy": "ABCDEFGH_2"}


def test_export_refuses_what_a_format_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="the Shapefile limit"):
        export_frame(POINTS.assign(address=["长" * 100, None, None]), "testing_sites", tmp_path / "p.zip")
    with pytest.raises(ValueError, match="has no geometry"):
        export_frame(pd.DataFrame({"traveller_id": ["T1"], "place": ["x"]}), "visits", tmp_path / "v.kml")
    with pytest.raises(ValueError, match="unsupported export format '.xls'"):
        export_frame(POINTS, "testing_sites", tmp_path / "p.xls")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_xlsx_export_keeps_text_as_text(tmp_path):
    out = tmp_path / "p.xlsx"
    export_frame(POINTS, "testing_sites", out)
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == "编号 id" and ws["Q1"].value is None and ws["J1"].value == "经度 lon"
    assert ws["B4"].value == "'=HYPERLINK(\"x\")" and ws["B4"].data_type == "s"  # neutralised, and still text


def test_export_layer_reads_the_store(tmp_path, store):
    out = tmp_path / "n.geojson"
    assert export_layer(store, "neighbourhoods", out, crs="gcj02") == 2
    doc = json.loads(out.read_text(encoding="utf-8"))
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    first = _neighbourhoods().geometry.iloc[0].exterior.coords[0]
    assert tuple(ring[0]) == pytest.approx(tuple(float(v) for v in wgs84_to_gcj02(*first)), abs=1e-12)


# ---------------------------------------------------------------- CLI


def test_cli_import_rejects_exit_1_and_lists_every_reject(tmp_path, store, capsys):
    path = _mixed_csv(tmp_path)
    before = store.path.read_bytes()
    assert main(["import", "testing_sites", str(path), "--store", str(store.path)]) == 1
    err = capsys.readouterr().err
    assert "  第 3 行 row 3 · 纬度 lat: 超出范围 [-90, 90] / out of range [-90, 90] ('137.2')" in err.splitlines()
    assert any(line.startswith("  第 5 行 row 5 · 类型 type: 不是可选值之一") and line.endswith("('怪')") for line in err.splitlines())
    assert store.path.read_bytes() == before


def test_cli_import_skip_bad_and_summary(tmp_path, store, capsys):
    path = _mixed_csv(tmp_path)
    rejects = tmp_path / "out" / "r.csv"
    rejects.parent.mkdir()
    code = main(["import", "testing_sites", str(path), "--store", str(store.path), "--skip-bad", "--rejects", str(rejects), "--crs", "wgs84"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == (
        "已导入 2 行到“核酸检测点”（testing_sites），该图层现有 3 行；跳过 2 行（2 处问题），详见 r.csv。 / "
        "Imported 2 rows into Testing sites (testing_sites); the layer now has 3 rows; skipped 2 rows (2 problems), listed in r.csv."
    )
    assert rejects.exists() and store.count("testing_sites") == 3


def test_cli_never_prints_personal_values(tmp_path, capsys):
    rows = [["编号", "姓名", "电话", "住址", "经度", "纬度", "抵并日期"],
            ["T1", "张三", "13800001234", "秘密路1号", "", "", "2022/13/01"],
            ["T2", "李四", "13900001234", "小店区", 112.5, 99.5, "2022-03-01"]]
    path = write_csv(tmp_path / "t.csv", rows)
    assert main(["import", "travellers", str(path), "--store", str(tmp_path / "s.gpkg")]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "第 2 行 row 2 · 住址 address: 无法按地址定位" in text and "第 3 行 row 3 · 纬度 lat: 超出范围 [-90, 90] / out of range [-90, 90]\n" in text
    assert "第 2 行 row 2 · 抵并日期 arrival_date: 没有这一天（月或日超出范围） / no such day (month or day out of range) ('2022/13/01')" in text
    for secret in ("张三", "李四", "13800001234", "秘密路", "99.5"):
        assert secret not in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["import", "nope", "x.csv"], "invalid choice"),
        (["import", "testing_sites", "missing.csv"], "file not found"),
        (["import", "testing_sites", "{csv}", "--crs", "wgs85"], "unknown coordinate system 'wgs85'"),
        (["import", "testing_sites", "{csv}", "--mode", "merge"], "invalid choice"),
        (["export", "testing_sites", "x.xls"], "unsupported export format"),
        (["export", "testing_sites", "x.csv", "--crs", "EPSG:999999"], "unknown coordinate system"),
        (["export", "zones", "x.csv", "--store", "{missing}"], "store not found"),
    ],
)
def test_cli_usage_errors_exit_2(tmp_path, store, capsys, argv, needle):
    names = {
        "{csv}": str(write_csv(tmp_path / "s.csv", site_rows(good_site()))),
        "{missing}": str(tmp_path / "none.gpkg"),
        "x.csv": str(tmp_path / "x.csv"),
        "x.xls": str(tmp_path / "x.xls"),
        "missing.csv": str(tmp_path / "missing.csv"),
    }
    argv = [names.get(a, a) for a in argv]
    if "--store" not in argv:
        argv += ["--store", str(store.path)]
    before = store.path.read_bytes()
    assert main(argv) == 2
    assert store.path.read_bytes() == before
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".xlsx", ".zip"])
def test_cli_export_then_import(tmp_path, store, capsys, suffix):
    out = tmp_path / f"sites{suffix}"
    assert main(["export", "testing_sites", str(out), "--store", str(store.path), "--crs", "gcj02"]) == 0
    assert capsys.readouterr().out.startswith("已导出“核酸检测点”1 行到")
    target = GpkgStore(tmp_path / "t.gpkg")
    assert main(["import", "testing_sites", str(out), "--store", str(target.path), "--crs", "gcj02"]) == 0
    _same(store.read("testing_sites"), target.read("testing_sites"), "testing_sites")


# ---------------------------------------------------------------- neighbourhoods that overlap


def _nb_feature(i: str, box: tuple[float, float, float, float]) -> dict:
    props = {"id": i, "name": f"社区{i}", "district_adcode": "140105", "district": "小店区", "street": "小店街道", "population": 1000}
    return feature(props, shapely.box(*box))


def test_overlapping_neighbourhoods_are_refused_by_id_pair_and_area(tmp_path, store):
    # N11 and N12 share a strip 0.001° wide (about 90 m × 1.1 km); N13 only touches N12
    path = geojson(tmp_path / "nb.geojson", [
        _nb_feature("N11", (112.60, 37.80, 112.611, 37.81)),
        _nb_feature("N12", (112.61, 37.80, 112.62, 37.81)),
        _nb_feature("N13", (112.62, 37.80, 112.63, 37.81)),
    ])
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected) as info:
        import_file(path, "neighbourhoods", store=store, mode="replace")
    assert store.path.read_bytes() == before
    (row,) = info.value.rows
    assert row[0] == 2  # the second feature; the first is kept with --skip-bad
    assert re.fullmatch(r"与 N11（第 1 个要素）重叠约 [\d,]+ 平方米 / overlaps N11 \(feature 1\) by about [\d,]+ m²", f"{row[2]} / {row[3]}")
    area = int(re.search(r"重叠约 ([\d,]+)", row[2]).group(1).replace(",", ""))
    assert 90_000 < area < 110_000
    report = import_file(path, "neighbourhoods", store=store, mode="replace", skip_bad=True)
    assert sorted(store.read("neighbourhoods")["id"]) == ["N11", "N13"] and report.skipped == 1


def test_neighbourhood_appended_over_a_stored_one_is_refused(tmp_path, store):
    # the store holds N1 = box(112.56, 37.82, 112.57, 37.83)
    path = geojson(tmp_path / "nb.geojson", [_nb_feature("N21", (112.565, 37.82, 112.58, 37.83))])
    with pytest.raises(ImportRejected) as info:
        import_file(path, "neighbourhoods", store=store)
    assert "与 N1（数据库中）重叠约" in info.value.rows[0][2]


# ---------------------------------------------------------------- zones: the same rules as the planning page


def _zone_file(tmp_path: Path, name: str, features: list[dict]) -> Path:
    return geojson(tmp_path / name, features)


def test_the_cli_zone_import_refuses_a_double_and_a_zone_outside_the_city(tmp_path, store, capsys):
    """Defect: `riskmap import zones` stored a zone identical to one in force (doubled) and a zone
    entirely outside the city, both of which the planning page refuses."""
    inside = shapely.box(112.55, 37.85, 112.56, 37.86)
    first = _zone_file(tmp_path, "a.geojson", [feature(zone_props("Z1"), inside)])
    assert main(["import", "zones", str(first), "--store", str(store.path)]) == 0
    before = store.path.read_bytes()
    double = _zone_file(tmp_path, "b.geojson", [feature(zone_props("Z2"), inside)])
    assert main(["import", "zones", str(double), "--store", str(store.path)]) == 1
    err = capsys.readouterr().err
    assert "Z1" in err or "重叠" in err or "overlap" in err
    outside = _zone_file(tmp_path, "c.geojson", [feature(zone_props("Z3"), shapely.box(116.3, 39.9, 116.31, 39.91))])
    assert main(["import", "zones", str(outside), "--store", str(store.path)]) == 1
    assert store.path.read_bytes() == before
    assert sorted(store.read("zones")["id"]) == ["Z1"]


# ---------------------------------------------------------------- address gazetteer (#21)


def test_an_exported_poi_list_in_gcj02_imports_as_the_address_gazetteer(tmp_path, store):
    glon, glat = (float(v) for v in wgs84_to_gcj02(112.56, 37.87))
    rows = [["编号", "名称", "类别", "经度", "纬度"],
            ["P1", "迎泽大街188号", "门牌", glon, glat],
            ["P2", "迎泽大街", "道路", glon + 0.01, glat],
            ["P3", "太原火车站", "", glon - 0.01, glat]]
    report = import_file(write_csv(tmp_path / "poi.csv", rows), "addresses", store=store, crs="gcj02")
    assert report.written == 3
    got = store.read("addresses", public=True).set_index("id")
    assert list(got["kind"].fillna("")) == ["address", "road", ""]
    assert (got.geometry["P1"].x, got.geometry["P1"].y) == pytest.approx((112.56, 37.87), abs=1e-8)  # stored in WGS-84
    # and the resident lookup's search finds them, by name, pinyin and initials
    from geo.geocode import PlaceGazetteer
    from layers.boundaries import city_counties

    gaz = PlaceGazetteer.from_frames(city_counties("140100"), store.read("neighbourhoods", public=True),
                                     store.read("testing_sites", public=True), got.reset_index())
    assert [(m.place.name, m.place.kind) for m in gaz.search("迎泽大街188号")][:1] == [("迎泽大街188号", "address")]
    assert gaz.search("yingzedajie")[0].place.kind == "road"
    assert gaz.search("太原火车站")[0].place.kind == "address"  # no kind given: an address


def test_an_address_list_with_a_bad_kind_or_no_point_names_the_row(tmp_path, store):
    rows = [["编号", "名称", "类别", "经度", "纬度"], ["P1", "某路1号", "河流", 112.55, 37.86], ["P2", "某路2号", "门牌", "", ""]]
    with pytest.raises(ImportRejected) as info:
        import_file(write_csv(tmp_path / "bad.csv", rows), "addresses", store=store)
    rejected = {(r.row, r.column) for r in info.value.rows}
    assert (2, "类别 kind") in rejected and any(row == 3 for row, _ in rejected)
    assert store.read("addresses").empty  # all or nothing


# ---------------------------------------------------------------- references to other layers


def test_a_traveller_in_a_neighbourhood_the_store_does_not_have_is_refused(tmp_path, store):
    """A typo in 社区编号 would put the person in no neighbourhood's counts and on no grid
    worker's list; the row is refused, named (the id is not personal: shown)."""
    rows = [["编号", "姓名", "社区编号", "抵并日期", "经度", "纬度"], ["T1", "张三", "N1", "2022-03-27", 112.565, 37.825],
            ["T2", "李四", "N9", "2022-03-27", 112.565, 37.825], ["T3", "王五", "", "2022-03-27", 112.565, 37.825]]
    checked = validate(read_file(write_csv(tmp_path / "t.csv", rows)), "travellers", store=store)
    assert checked.rejects == [(3, "社区编号 neighbourhood_id", "社区编号不在社区图层中", "neighbourhood id not in the neighbourhoods layer")]
    assert checked.rejects[0].value == "N9"


def test_a_visit_of_a_traveller_the_store_does_not_have_is_refused(tmp_path, store):
    """A visit nobody is found for is never screened; refused, named, its personal value unshown."""
    write = [["编号", "姓名", "抵并日期", "经度", "纬度"], ["T1", "张三", "2022-03-27", 112.565, 37.825]]
    import_file(write_csv(tmp_path / "t.csv", write), "travellers", store=store)
    visits = [["人员编号", "地点", "开始日期"], ["T1", "四川省阿坝县", "2022-03-20"], ["T7", "四川省阿坝县", "2022-03-20"]]
    checked = validate(read_file(write_csv(tmp_path / "v.csv", visits)), "visits", store=store)
    assert checked.rejects == [(3, "人员编号 traveller_id", "人员编号不在人员图层中（请先导入人员）",
                                "traveller id not in the travellers layer (import the travellers first)")]
    assert checked.rejects[0].value is None  # traveller ids are personal here


def test_references_are_not_checked_without_the_layer_they_name(tmp_path):
    empty = GpkgStore(tmp_path / "none.gpkg")
    rows = [["编号", "姓名", "社区编号", "抵并日期", "经度", "纬度"], ["T1", "张三", "N9", "2022-03-27", 112.565, 37.825]]
    checked = validate(read_file(write_csv(tmp_path / "t.csv", rows)), "travellers", store=empty)
    assert checked.rejects == []
    assert any("未核对" in n[2] and "not checked" in n[3] for n in checked.notes)
