"""The planners' page logic: form, drawn shapes, checks, impact tables, dates, history, case files, imports."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard import planning_ui as pu
from dashboard.planning_map import OverlayShape, overlay_script, tier_style
from geo import zones as gz
from geo.crs import utm_crs_for, wgs84_to_gcj02
from geo.zones import Impact, ZoneVersion, zone_impact, zones_from_cases
from layers import zone_rules as zr
from layers import zones as lz
from layers.io.case_points import case_points_from_file

CRS = utm_crs_for(112.55, 37.86)
X0, Y0 = 660_000, 4_190_000  # near Taiyuan, UTM 49N
D = dt.date


def km_box(x1, y1, x2, y2):
    """A box in km offsets from (X0, Y0), in WGS-84."""
    g = shapely.box(X0 + x1 * 1000, Y0 + y1 * 1000, X0 + x2 * 1000, Y0 + y2 * 1000)
    return gpd.GeoSeries([g], crs=CRS).to_crs("EPSG:4326").iloc[0]


def km_point(x, y):
    return gpd.GeoSeries([shapely.Point(X0 + x * 1000, Y0 + y * 1000)], crs=CRS).to_crs("EPSG:4326").iloc[0]


@pytest.fixture(scope="module")
def grid():
    """4 × 4 neighbourhoods of 1 km² (1000 people each, N11 has 3000); columns 0–1 in 140105, 2–3 in 140106."""
    rows = [
        {
            "id": f"N{i}{j}",
            "name": f"社区{i}{j}",
            "street": "甲街道" if j < 2 else "乙街道",
            "district": "小店区" if i < 2 else "迎泽区",
            "district_adcode": "140105" if i < 2 else "140106",
            "population": 3000 if (i, j) == (1, 1) else 1000,
            "geometry": km_box(i, j, i + 1, j + 1),
        }
        for i in range(4)
        for j in range(4)
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


@pytest.fixture(scope="module")
def city(grid):
    return shapely.union_all(grid.geometry.to_numpy())


def zones_frame(rows):
    return gpd.GeoDataFrame(
        [{"lifted": None, "start": "2022-03-20", "version": 1, **r} for r in rows], geometry="geometry", crs="EPSG:4326"
    )


# ---------------------------------------------------------------------------------------------- form


TODAY = D(2022, 3, 28)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (gz.ZoneForm("controlled", "甲管控区", start=TODAY, planned_end=D(2022, 4, 4)), []),
        (gz.ZoneForm("controlled", "  ", start=TODAY), [("error", "请填写区域名称", "enter the zone's name")]),
        (gz.ZoneForm("purple", "甲", start=TODAY), [("error", "请选择区域级别", "choose the tier")]),
        (gz.ZoneForm("controlled", "甲"), [("error", "请填写开始日期", "enter the start date")]),
        (
            gz.ZoneForm("controlled", "甲", start=TODAY, planned_end=D(2022, 3, 27)),
            [("error", "计划解除日期 2022-03-27 早于开始日期 2022-03-28", "the planned end 2022-03-27 is before the start 2022-03-28")],
        ),
        (
            gz.ZoneForm("sealed", "甲", start=TODAY, last_case=D(2022, 3, 29)),
            [("error", "最近病例日期 2022-03-29 晚于今天（2022-03-28）", "the last case date 2022-03-29 is after today (2022-03-28)")],
        ),
        (
            gz.ZoneForm("controlled", "甲", start=TODAY, lifted=D(2022, 3, 1)),
            [("error", "解除日期 2022-03-01 早于开始日期 2022-03-28", "the lift date 2022-03-01 is before the start 2022-03-28")],
        ),
        (
            gz.ZoneForm("sealed", "甲", start=TODAY),
            [("info", "未填写最近病例日期：无法计算可降级日期", "no last case date: the downgrade date cannot be computed")],
        ),
    ],
)
def test_form_problems(form, expected):
    assert gz.form_problems(form, today=TODAY) == expected


def test_zone_record_for_a_new_zone_and_an_edit():
    geom = shapely.box(112.5, 37.8, 112.51, 37.81)
    form = gz.ZoneForm("sealed", " 甲小区封控区 ", "  ", D(2022, 3, 28), D(2022, 4, 11), D(2022, 3, 27))
    rec = lz.zone_record(form, geom, zone_id="Z1", district_adcode="140105")
    assert rec == {
        "id": "Z1", "tier": "sealed", "name": "甲小区封控区", "reason": None, "start": "2022-03-28",
        "planned_end": "2022-04-11", "lifted": None, "last_case": "2022-03-27", "district_adcode": "140105",
        "demo": False, "geometry": geom,
    }
    base = {"id": "Z004", "demo": True, "district_adcode": "140106", "version": 3}
    edit = lz.zone_record(gz.ZoneForm("controlled", "乙", "病例", D(2022, 3, 28), lifted=D(2022, 4, 1)), geom, zone_id="Z004", base=base)
    assert (edit["demo"], edit["district_adcode"], edit["lifted"], edit["reason"]) == (True, "140106", "2022-04-01", "病例")
    assert "version" not in edit  # the store numbers versions itself


def test_form_from_a_stored_zone_round_trips():
    row = {"tier": "sealed", "name": "甲", "reason": pd.NA, "start": pd.Timestamp("2022-03-28"), "planned_end": pd.NaT,
           "last_case": pd.Timestamp("2022-03-26"), "lifted": None}
    assert gz.ZoneForm.from_zone(row) == gz.ZoneForm("sealed", "甲", "", D(2022, 3, 28), None, D(2022, 3, 26), None)


def test_new_zone_ids():
    assert gz.new_zone_id(D(2022, 3, 28), token="abc123") == "Z20220328-abc123"
    a, b = gz.new_zone_id(D(2022, 3, 28)), gz.new_zone_id(D(2022, 3, 28))
    assert a != b and a.startswith("Z20220328-") and len(a) == 16


# ---------------------------------------------------------------------------------------------- shapes


def feature(geom, **props):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def test_a_drawn_shape_comes_back_in_wgs84():
    wgs = shapely.box(112.55, 37.85, 112.56, 37.86)
    ring = np.asarray(wgs.exterior.coords)
    x, y = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
    gcj = shapely.Polygon(np.column_stack([x, y]))  # as drawn on Amap tiles
    shape, messages = gz.shape_from_features([feature(gcj)], src="gcj02")
    assert messages == []
    assert shapely.hausdorff_distance(shape, wgs) < 1e-6  # about 0.1 m
    same, _ = gz.shape_from_features([feature(wgs)], src="wgs84")
    assert same.equals(wgs)


def test_several_shapes_are_united_and_non_polygons_ignored():
    a, b = shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)
    bowtie = shapely.Polygon([(10, 10), (12, 12), (12, 10), (10, 12)])
    shape, messages = gz.shape_from_features([feature(a), feature(b), feature(bowtie), feature(shapely.Point(5, 5))])
    assert shape.area == pytest.approx(7 + 2)  # the union of the squares, and the repaired bow-tie (two triangles)
    assert shape.is_valid
    levels = [m[0] for m in messages]
    assert levels == ["warning", "warning", "info"]
    assert messages[0][2].startswith("ignored 1 shape(s)")
    assert messages[-1][1] == "地图上有 3 个图形，已合并为一个区域"


def test_a_single_self_intersecting_drawing_is_left_to_validation():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    shape, messages = gz.shape_from_features([feature(bowtie)])
    assert messages == [] and not shape.is_valid  # validate_zone repairs it and says so


def test_nothing_drawn():
    assert gz.shape_from_features(None) == (None, [])
    assert gz.shape_from_features([]) == (None, [])


def test_same_shape_allows_the_rounding_of_a_round_trip():
    a = shapely.box(112.55, 37.85, 112.56, 37.86)
    assert gz.same_shape(a, shapely.box(112.5500004, 37.85, 112.56, 37.8599996))
    assert not gz.same_shape(a, shapely.box(112.55, 37.85, 112.5602, 37.86))  # ~18 m wider
    assert gz.same_shape(None, shapely.Polygon()) and not gz.same_shape(a, None)


def test_zones_in_force_between():
    g = shapely.box(0, 0, 1, 1)
    zones = zones_frame([
        {"id": "Z1", "tier": "sealed", "geometry": g},
        {"id": "Z2", "tier": "sealed", "lifted": "2022-03-25", "geometry": g},  # lifted before the period
        {"id": "Z3", "tier": "sealed", "lifted": "2022-04-01", "geometry": g},  # lifted during it: still in force then
        {"id": "Z4", "tier": "sealed", "start": "2022-05-01", "geometry": g},  # starts after it
        {"id": "Z5", "tier": "sealed", "geometry": g},
    ])
    out = zr.zones_in_force_between(zones, D(2022, 3, 28), D(2022, 4, 11), exclude=["Z5"])
    assert list(out["id"]) == ["Z1", "Z3"]
    assert out["lifted"].isna().all()
    assert list(zr.zones_in_force_between(zones, D(2022, 3, 28), None)["id"]) == ["Z1", "Z3", "Z4", "Z5"]


def test_district_of(grid):
    counties = gpd.GeoDataFrame(
        {"adcode": ["140105", "140106"]}, geometry=[km_box(0, 0, 2, 4), km_box(2, 0, 4, 4)], crs="EPSG:4326"
    )
    assert gz.district_of(km_box(1.5, 1, 3.5, 2), counties) == "140106"  # 1.5 km² of 2 in 140106
    assert gz.district_of(km_box(10, 10, 11, 11), counties) is None
    assert gz.district_of(None, counties) is None


# ---------------------------------------------------------------------------------------------- downgrade


@pytest.mark.parametrize(
    ("last", "today", "since", "on", "allowed"),
    [
        ("2022-03-20", D(2022, 3, 28), 8, D(2022, 3, 28), True),  # quiet 21st–27th, downgrade on the 28th
        ("2022-03-21", D(2022, 3, 28), 7, D(2022, 3, 29), False),
        ("2022-03-28", D(2022, 3, 28), 0, D(2022, 4, 5), False),
        ("2022-03-30", D(2022, 3, 28), None, D(2022, 4, 7), False),  # a last case after "today": no day count
    ],
)
def test_downgrade_info(last, today, since, on, allowed):
    info = gz.downgrade_info(last, today)
    assert (info.days_since, info.may_downgrade_on, info.allowed(today), info.quiet_days) == (since, on, allowed, 7)


def test_no_last_case_no_downgrade_date():
    assert gz.downgrade_info(None, D(2022, 3, 28)) is None
    assert gz.downgrade_info(pd.NaT, D(2022, 3, 28)) is None


def test_downgraded_name():
    assert gz.downgraded_name("通达街社区封控区", "sealed", "controlled") == "通达街社区管控区"
    assert gz.downgraded_name("通达街", "sealed", "controlled") == "通达街"
    assert gz.DOWNGRADE_TO == {"sealed": "controlled", "controlled": "precaution"}


# ---------------------------------------------------------------------------------------------- impact


def test_impact_tables_list_neighbourhoods_sites_and_hotels(grid):
    sites = gpd.GeoDataFrame(
        {"id": ["S1", "S2"], "name": ["甲检测点", "乙检测点"], "type": ["fixed", "hospital"], "address": ["甲路1号", None]},
        geometry=[km_point(1.5, 1.5), km_point(3.5, 3.5)], crs="EPSG:4326",
    )
    hotels = gpd.GeoDataFrame(
        {"id": ["H1"], "name": ["甲酒店"], "rooms_total": [100], "rooms_occupied": [40]},
        geometry=[km_point(0.7, 1.2)], crs="EPSG:4326",
    )
    shape = km_box(0.5, 1, 2, 2)  # half of N01, all of N11 (3000 people)
    travellers = np.array([[p.x, p.y] for p in (km_point(1.2, 1.2), km_point(1.8, 1.8), km_point(3, 3))])
    impact = zone_impact(shape, neighbourhoods=grid, travellers_points=travellers, sites=sites, hotels=hotels)
    tables = pu.impact_tables(impact, neighbourhoods=grid, sites=sites, hotels=hotels, lang="zh")
    assert (tables.neighbourhood_count, tables.travellers, tables.site_count, tables.hotel_count) == (2, 2, 1, 1)
    assert tables.area_km2 == pytest.approx(1.5, rel=1e-6)
    assert tables.population == 3500
    assert tables.neighbourhoods.to_dict("list") == {
        "社区/村": ["社区11", "社区01"], "街道": ["甲街道", "甲街道"], "区县": ["小店区", "小店区"],
        "面积占比（%）": [100.0, 50.0], "区内估算人口": [3000, 500],
    }
    assert tables.sites.to_dict("list") == {"名称": ["甲检测点"], "类型": ["固定采样点"], "地址": ["甲路1号"]}
    assert tables.hotels.to_dict("list") == {"名称": ["甲酒店"], "房间 占用/总数": ["40 / 100"]}
    en = pu.impact_tables(impact, neighbourhoods=grid, sites=sites, hotels=hotels, lang="en")
    assert list(en.neighbourhoods.columns) == ["Neighbourhood", "Street", "District", "Share of area (%)", "Population inside (est.)"]


def test_impact_tables_of_an_empty_impact(grid):
    empty = Impact(0.0, 0.0, (), (), None, (), ())
    tables = pu.impact_tables(empty, neighbourhoods=grid, sites=grid.iloc[0:0], hotels=grid.iloc[0:0], lang="zh")
    assert (tables.population, tables.neighbourhood_count, tables.travellers) == (0, 0, None)
    assert tables.neighbourhoods.empty and tables.sites.empty and tables.hotels.empty


# ---------------------------------------------------------------------------------------------- tables


def test_zones_table_status_downgrade_and_order():
    g = shapely.box(0, 0, 1, 1)
    zones = zones_frame([
        {"id": "Z1", "tier": "precaution", "name": "丙", "geometry": g},
        {"id": "Z2", "tier": "sealed", "name": "甲", "last_case": "2022-03-20", "geometry": g, "saved_by": "李",
         "saved_at": "2022-03-28T09:15:00+08:00"},
        {"id": "Z3", "tier": "controlled", "name": "乙", "lifted": "2022-03-27", "geometry": g},
        {"id": "Z4", "tier": "controlled", "name": "丁", "start": "2022-04-02", "geometry": g},
    ])
    table = pu.zones_table(zones, today=TODAY, lang="zh")
    assert list(table["编号"]) == ["Z2", "Z1", "Z4", "Z3"]
    assert list(table["状态"]) == ["生效中", "生效中", "未开始", "已解除"]
    first = table.iloc[0]
    assert (first["距最近病例（天）"], first["可降级日期"], first["最后保存"]) == ("8", "2022-03-28", "李 2022-03-28 09:15")
    assert table.iloc[1]["可降级日期"] == ""  # precaution zones have no downgrade date
    assert list(pu.zones_table(zones.iloc[0:0], today=TODAY, lang="en").columns) == ["Tier", "Name", "Status", "ID"]


def test_history_table_newest_first_in_one_language():
    def v(n, action, changes):
        return ZoneVersion("Z1", n, f"p{n}", dt.datetime(2022, 3, 28, 9, n), b"", {}, action, changes)

    versions = [v(1, "create", "created / 新建"), v(2, "edit", "reason: None → '病例'\ngeometry: unchanged / 范围：未变"),
                v(3, "restore v1", "reason: '病例' → None\ngeometry: changed, area -5 m² / 范围：已修改，面积 -5 平方米")]
    zh = pu.history_table(versions, "zh")
    assert zh.to_dict("list") == {
        "版本": [3, 2, 1],
        "操作": ["恢复 v1", "修改", "新建"],
        "保存人": ["p3", "p2", "p1"],
        "保存时间": ["2022-03-28 09:03", "2022-03-28 09:02", "2022-03-28 09:01"],
        "修改内容": ["原因：'病例' → —；范围：已修改，面积 -5 平方米", "原因：— → '病例'；范围：未变", "新建"],
    }
    en = pu.history_table(versions, "en")
    assert list(en["Action"]) == ["restored v1", "edited", "created"]
    assert en["What changed"].iloc[1] == "Reason: — → '病例'; geometry: unchanged"


def test_zone_choice_label():
    zone = {"id": "Z9", "tier": "sealed", "name": "甲", "version": 3, "start": "2022-03-20", "lifted": None}
    assert pu.zone_choice_label(zone, TODAY, "zh") == "封控区 · 甲 (Z9, v3) · 生效中"
    assert pu.zone_choice_label(zone, TODAY, "en") == "Sealed zone · 甲 (Z9, v3) · In force"


# ---------------------------------------------------------------------------------------------- case files


def test_case_points_from_a_csv_with_rejects(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "姓名,经度,纬度\n张三,112.55,37.86\n李四,abc,37.86\n王五,37.86,112.55\n赵六,,\n钱七,112.56,37.87\n", encoding="utf-8"
    )
    pts = case_points_from_file(path)
    np.testing.assert_allclose(pts.lonlat, [[112.55, 37.86], [112.56, 37.87]])
    assert [tuple(r) for r in pts.rejects] == [
        (3, "经度/纬度", "经纬度不是数字", "longitude/latitude is not a number"),
        (4, "经度/纬度", "经纬度可能颠倒", "latitude and longitude look swapped"),
        (5, "经度/纬度", "缺少经纬度", "missing longitude/latitude"),
    ]
    assert not any("张三" in str(r) or "李四" in str(r) for r in pts.rejects)  # names never in messages


@pytest.mark.parametrize("header", ["东经,北纬", "经度（°）,纬度（°）", "Longitude (deg),Latitude (deg)", "经度 lon,纬度 lat"])
def test_case_point_columns_are_found_as_every_importer_finds_them(tmp_path, header):
    """The headers the layer importers read as longitude/latitude, this file reads too."""
    path = tmp_path / "cases.csv"
    path.write_text(f"{header}\n112.55,37.86\n", encoding="utf-8")
    np.testing.assert_allclose(case_points_from_file(path).lonlat, [[112.55, 37.86]])


def test_two_longitude_columns_are_refused_not_guessed(tmp_path):
    """Refused in the words every importer uses for two columns mapping to one."""
    path = tmp_path / "cases.csv"
    path.write_text("lon,x,lat\n112.55,500000,37.86\n", encoding="utf-8")
    pts = case_points_from_file(path)
    assert len(pts.lonlat) == 0
    ((row, column, zh, en),) = pts.rejects
    assert row is None and column is None
    assert (zh, en) == ("多个列都对应 经度 lon：lon、x", "several columns map to 经度 lon: lon, x")


def test_case_points_declared_gcj02_are_converted(tmp_path):
    gx, gy = wgs84_to_gcj02([112.55], [37.86])
    path = tmp_path / "cases.csv"
    path.write_text(f"lng,lat\n{gx[0]:.7f},{gy[0]:.7f}\n", encoding="utf-8")
    pts = case_points_from_file(path, crs="gcj02")
    np.testing.assert_allclose(pts.lonlat, [[112.55, 37.86]], atol=1e-6)


def test_case_points_from_geojson_points_only(tmp_path):
    path = tmp_path / "cases.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "甲"}, "geometry": {"type": "Point", "coordinates": [112.55, 37.86]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
    ]}
    path.write_text(json.dumps(fc), encoding="utf-8")
    pts = case_points_from_file(path)
    np.testing.assert_allclose(pts.lonlat, [[112.55, 37.86]])
    assert [tuple(r) for r in pts.rejects] == [(2, "geometry", "病例位置须为点，不能是 Polygon", "a case location must be a point, not a Polygon")]


def test_case_file_without_coordinates(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("姓名,地址\n张三,某街\n", encoding="utf-8")
    pts = case_points_from_file(path)
    assert len(pts.lonlat) == 0
    assert [tuple(r) for r in pts.rejects] == [
        (None, None, "未找到经度、纬度列（经度/纬度、lng/lat、x/y）", "no longitude and latitude columns (经度/纬度, lng/lat, x/y)")
    ]


# ---------------------------------------------------------------------------------------------- proposal


def test_proposal_zones_name_the_tiers_and_skip_empty_ones(grid):
    proposal = zones_from_cases(gpd.GeoSeries([km_point(1.5, 1.5)], crs="EPSG:4326"), grid, r2=300, district="140105")
    zones = gz.proposal_zones(
        proposal, prefix="社区11", reason="病例 1 例", start=TODAY,
        ends={"sealed": D(2022, 4, 11), "controlled": D(2022, 4, 4), "precaution": D(2022, 4, 4)}, last_case=D(2022, 3, 27),
    )
    assert [(f.tier, f.name, f.planned_end, f.last_case) for f, _ in zones] == [
        ("sealed", "社区11封控区", D(2022, 4, 11), D(2022, 3, 27)),
        ("controlled", "社区11管控区", D(2022, 4, 4), None),
        ("precaution", "社区11防范区", D(2022, 4, 4), None),
    ]
    assert zones[0][1].equals(proposal.geometry.iloc[0])
    emptied = proposal.copy()
    emptied.loc[2, "geometry"] = shapely.Polygon()
    assert [f.tier for f, _ in gz.proposal_zones(emptied, prefix="x", reason="", start=TODAY, ends={}, last_case=None)] == [
        "sealed", "controlled"]


# ---------------------------------------------------------------------------------------------- import checks


@pytest.mark.parametrize(("value", "tier"), [("封控区", "sealed"), (" Sealed ", "sealed"), ("管控", "controlled"),
                                             ("precaution zone", "precaution"), ("red", None), (None, None)])
def test_normalise_tier(value, tier):
    assert zr.normalise_tier(value) == tier


def test_check_zone_import_refuses_doubles_and_strangers(city):
    existing = zones_frame([{"id": "Z1", "tier": "controlled", "geometry": km_box(0, 0, 1, 1)}])
    good = gpd.GeoDataFrame(
        {"id": ["A", "B", "C", "D", "E"], "tier": ["管控区", "防范区", "controlled", "purple", "sealed"],
         "start": ["2022-03-28"] * 5},
        geometry=[km_box(0.5, 0.5, 1.5, 1.5),  # overlaps Z1, same tier: refused
                  km_box(0.5, 0.5, 1.5, 1.5),  # other tier: fine
                  km_box(2, 2, 3, 3),  # fine
                  km_box(3, 0, 4, 1),  # unknown tier
                  km_box(10, 10, 11, 11)],  # outside the city
        crs="EPSG:4326",
    )
    out, rejects, notes = zr.check_zone_import(good, [1, 2, 3, 4, 5], existing=existing, city=city)
    assert list(out["id"]) == ["B", "C"] and list(out["tier"]) == ["precaution", "controlled"]
    assert [(r.row, r.column) for r in rejects] == [(1, "geometry"), (4, "tier"), (5, "geometry")]
    assert rejects[0].reason_zh.startswith("与已有管控区 Z1 重叠")
    assert rejects[2].reason_en == "the zone lies outside the city"
    assert notes == []


def test_check_zone_import_refuses_overlaps_within_the_file(city):
    good = gpd.GeoDataFrame(
        {"id": ["A", "B"], "tier": ["sealed", "封控区"], "start": ["2022-03-28"] * 2},
        geometry=[km_box(0, 0, 1, 1), km_box(0.5, 0, 1.5, 1)], crs="EPSG:4326",
    )
    out, rejects, _ = zr.check_zone_import(good, [1, 2], existing=None, city=city)
    assert list(out["id"]) == ["A"]
    assert [(r.row, r.reason_en.split(" by ")[0]) for r in rejects] == [(2, "overlaps existing sealed zone A")]


def test_export_file_name():
    assert pu.export_file_name(".kml", "EPSG:4490", D(2022, 3, 28)) == "管控区域_zones_20220328_epsg4490.kml"
    assert set(pu.EXPORT_FORMATS) == {".geojson", ".kml", ".gpkg"}


# ---------------------------------------------------------------------------------------------- overlay


def _payload(script: str) -> dict:
    start = script.index("var d = ") + len("var d = ")
    end = script.index(";\n", start)
    return json.loads(script[start:end])


def test_overlay_escapes_text_and_carries_the_shape_to_edit():
    shape = shapely.MultiPolygon([shapely.box(112.5, 37.8, 112.51, 37.81), shapely.box(112.52, 37.8, 112.53, 37.81)])
    script = overlay_script(
        [OverlayShape(shape, tier_style("sealed"), "<img src=x onerror=alert(1)>{{7*7}}")],
        load=shape, load_token="edit-3", fit=True, draw=False,
    )
    assert "<img" not in script and "{{" not in script and "</" not in script
    d = _payload(script)
    assert d["draw"] is False and d["clicks"] is False
    assert d["shapes"][0]["tip"] == "&lt;img src=x onerror=alert(1)&gt;&#123;&#123;7*7&#125;&#125;"
    assert d["shapes"][0]["style"]["dashArray"] == "8 6"  # not saved yet
    load = d["load"]
    assert load["token"] == "edit-3" and load["fit"] is True
    # one feature per polygon part (Leaflet.draw edits polygons), each carrying the token
    assert [f["properties"] for f in load["data"]["features"]] == [{"rm_token": "edit-3"}] * 2


def test_overlay_in_gcj02_and_clearing_the_draw_layer():
    box = shapely.box(112.55, 37.85, 112.56, 37.86)
    d = _payload(overlay_script([OverlayShape(box, tier_style("controlled", proposal=False))], crs="gcj02",
                                load_token="draw-1", clicks=True))
    x0 = d["shapes"][0]["data"]["features"][0]["geometry"]["coordinates"][0][0][0]
    assert abs(x0 - 112.55) > 4e-3  # shifted onto the GCJ-02 basemap
    assert d["load"]["data"]["features"] == [] and d["load"]["fit"] is False
    assert d["clicks"] is True and "dashArray" not in d["shapes"][0]["style"]
    assert "load" not in _payload(overlay_script())


def test_overlay_zooms_to_a_saved_zone_and_speaks_the_page_language():
    box = shapely.box(112.55, 37.85, 112.56, 37.86)
    d = _payload(overlay_script(view=box, lang="zh"))
    assert d["view"] == [112.55, 37.85, 112.56, 37.86]
    assert d["local"]["strings"]["draw"]["toolbar"]["buttons"]["polygon"] == "绘制多边形"
    en = _payload(overlay_script(lang="en"))
    assert "local" not in en and "view" not in en
