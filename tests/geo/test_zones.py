import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import utm_crs_for
from geo.errors import StaleWrite
from geo.zones import (
    ZoneVersion,
    check_save,
    days_since,
    diff_versions,
    downgrade_date,
    snap_to_neighbourhoods,
    validate_zone,
    zone_impact,
    zones_from_cases,
)

CRS = utm_crs_for(112.55, 37.86)  # UTM 49N
X0, Y0 = 660_000, 4_190_000  # near Taiyuan
KM = 1000.0


def wgs(geom):
    """A metric (UTM 49N) geometry converted to WGS-84."""
    return gpd.GeoSeries([geom], crs=CRS).to_crs("EPSG:4326").iloc[0]


def box(x1, y1, x2, y2):
    """A box in km offsets from (X0, Y0), in WGS-84."""
    return wgs(shapely.box(X0 + x1 * KM, Y0 + y1 * KM, X0 + x2 * KM, Y0 + y2 * KM))


def pts(*xy_km):
    return gpd.GeoSeries(
        [shapely.Point(X0 + x * KM, Y0 + y * KM) for x, y in xy_km], crs=CRS
    ).to_crs("EPSG:4326")


def metric_area(geom):
    return gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(CRS).iloc[0].area


@pytest.fixture(scope="module")
def grid():
    """5 × 5 cells of 1 km, id N{column}{row}; columns 0–2 in 140105, 3–4 in 140106."""
    rows = []
    for i in range(5):
        for j in range(5):
            rows.append(
                {
                    "id": f"N{i}{j}",
                    "district_adcode": "140105" if i <= 2 else "140106",
                    "population": 1000 + 1000 * (i == 1 and j == 0) * 2,  # N10 has 3000
                    "geometry": shapely.box(X0 + i * KM, Y0 + j * KM, X0 + (i + 1) * KM, Y0 + (j + 1) * KM),
                }
            )
    return gpd.GeoDataFrame(rows, crs=CRS).to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def city(grid):
    return shapely.union_all(grid.geometry.to_numpy())


# ----------------------------------------------------------------------------------------------
# Snapping


@pytest.mark.parametrize(
    ("min_share", "expected"),
    [
        (0.5, ["N00", "N10"]),  # N00 100 %, N10 60 %, N01 40 %
        (0.3, ["N00", "N01", "N10"]),
        (0.6, ["N00"]),  # strictly more than the share: N10 at 60 % is out
    ],
)
def test_snap_keeps_neighbourhoods_covered_by_more_than_min_share(grid, min_share, expected):
    shape = box(0, 0, 1.6, 1.0).union(box(0, 0, 1.0, 1.4))
    geom, ids = snap_to_neighbourhoods(shape, grid, min_share=min_share)
    assert ids == expected
    assert metric_area(geom) == pytest.approx(len(expected) * KM * KM, rel=1e-6)
    assert geom.equals(shapely.union_all(grid.set_index("id").loc[expected].geometry.to_numpy()))


def test_snap_nothing_covered_enough_raises_bilingual(grid):
    with pytest.raises(ValueError, match=r"covers no neighbourhood by more than 50% .*/|未覆盖任何社区"):
        snap_to_neighbourhoods(box(0.1, 0.1, 0.5, 0.5), grid)
    with pytest.raises(ValueError, match="未覆盖任何社区面积的 50% 以上"):
        snap_to_neighbourhoods(box(10, 10, 11, 11), grid)


# ----------------------------------------------------------------------------------------------
# Generation


def test_zones_from_case_neighbourhoods(grid):
    z = zones_from_cases(pts((2.5, 2.5)), grid, r2=500)
    assert z["tier"].tolist() == ["sealed", "controlled", "precaution"]
    sealed, controlled, precaution = z.geometry
    assert z["neighbourhood_ids"][0] == ["N22"]
    # edge neighbours have 50 % inside the 500 m buffer, diagonal ones π/4 · 0.25 ≈ 19.6 % < 30 %
    assert z["neighbourhood_ids"][1] == ["N12", "N21", "N23", "N32"]
    assert sorted(z["neighbourhood_ids"][2]) == sorted(
        f"N{i}{j}" for i in range(3) for j in range(5) if (i, j) not in {(2, 2), (1, 2), (2, 1), (2, 3)}
    )
    assert z["area_km2"].tolist() == pytest.approx([1.0, 4.0, 11.0], rel=1e-6)
    assert metric_area(sealed.intersection(controlled)) == 0
    assert metric_area(precaution.intersection(sealed.union(controlled))) == 0
    assert z.attrs["cases_outside"] == []


def test_case_outside_every_neighbourhood_is_reported(grid):
    cases = pts((2.5, 2.5), (-5, 2), (2.6, 2.4))
    z = zones_from_cases(cases, grid)
    assert z.attrs["cases_outside"] == [1]
    (lon, lat), = z.attrs["cases_outside_lonlat"]
    assert (lon, lat) == pytest.approx((cases.iloc[1].x, cases.iloc[1].y))
    assert z["neighbourhood_ids"][0] == ["N22"]
    for same in (np.column_stack([cases.x, cases.y]), cases.to_numpy()):  # lon/lat array, shapely points
        again = zones_from_cases(same, grid)
        assert again.attrs["cases_outside"] == [1] and again.geometry.geom_equals(z.geometry).all()
    with pytest.raises(ValueError, match="none of the 1 cases lies inside a neighbourhood"):
        zones_from_cases(pts((-5, 2)), grid)


def test_sealed_buffer_r1_and_precaution_buffer_r3(grid):
    z = zones_from_cases(pts((2.5, 2.5)), grid, r1=200, r2=200, r3=1500)
    sealed, controlled, precaution = z.geometry
    assert metric_area(sealed) == pytest.approx(math.pi * 200**2, rel=0.01)
    # the 400 m circle covers > 30 % of N22 only; the controlled zone is N22 minus the sealed circle
    assert z["neighbourhood_ids"][1] == ["N22"]
    assert metric_area(controlled) == pytest.approx(KM * KM - metric_area(sealed), rel=1e-6)
    assert metric_area(sealed.intersection(controlled)) == pytest.approx(0, abs=1e-3)
    assert metric_area(precaution.intersection(sealed.union(controlled))) == pytest.approx(0, abs=1e-3)
    assert metric_area(precaution) == pytest.approx(math.pi * 1700**2 - KM * KM, rel=0.01)


def test_district_overrides_precaution_and_radii_are_checked(grid):
    z = zones_from_cases(pts((2.5, 2.5)), grid, district="140106")
    assert sorted(z["neighbourhood_ids"][2]) == sorted(f"N{i}{j}" for i in (3, 4) for j in range(5) if (i, j) != (3, 2))
    with pytest.raises(ValueError, match="r2 must be a positive number of metres, got -1"):
        zones_from_cases(pts((2.5, 2.5)), grid, r2=-1)
    with pytest.raises(ValueError, match="holds no neighbourhood"):
        zones_from_cases(pts((2.5, 2.5)), grid, district="999999")


# ----------------------------------------------------------------------------------------------
# Validation


def texts(check, level):
    return " | ".join(en for lv, _, en in check.messages if lv == level)


def test_bow_tie_repaired_and_reported(city):
    a, b = X0 + 1000, X0 + 2000
    bow = wgs(shapely.Polygon([(a, Y0 + 1000), (b, Y0 + 2000), (b, Y0 + 1000), (a, Y0 + 2000)]))
    assert not bow.is_valid
    check = validate_zone(bow, city_boundary=city)
    assert check.ok
    assert check.geometry.is_valid and check.geometry.geom_type == "MultiPolygon"
    assert metric_area(check.geometry) == pytest.approx(0.5 * KM * KM, rel=1e-6)
    assert "crossed itself and was repaired" in texts(check, "warning")


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (box(1, 1, 2, 1.00005), "too small"),  # 50 m²
        (box(1, 1, 3, 1.001), "too thin"),  # 2 km × 1 m
        (box(10, 10, 11, 11), "outside the city"),
        (wgs(shapely.LineString([(X0 + 100, Y0 + 100), (X0 + 900, Y0 + 900)])), "must be a polygon"),
        (shapely.Polygon(), "empty"),
    ],
)
def test_refused(city, shape, message):
    check = validate_zone(shape, city_boundary=city)
    assert not check.ok and check.geometry is None
    assert message in texts(check, "error")


def test_partly_outside_is_clipped_and_reported(city):
    check = validate_zone(box(-1, 1, 1, 2), city_boundary=city)
    assert check.ok
    assert metric_area(check.geometry) == pytest.approx(KM * KM, rel=1e-6)
    assert "the part outside the city (1,000,000 m²) was clipped" in texts(check, "warning")


def test_same_tier_overlap_refused_unless_merged(city, grid):
    existing = gpd.GeoDataFrame(
        {"id": ["Z1", "Z2", "Z3"], "tier": ["sealed", "controlled", "sealed"], "lifted": [None, None, "2022-03-01"]},
        geometry=[box(1, 1, 2, 2), box(0, 0, 5, 5), box(1, 1, 3, 3)],
        crs="EPSG:4326",
    )
    new = box(1.5, 1, 2.5, 2)
    refused = validate_zone(new, city_boundary=city, existing=existing, tier="sealed")
    assert not refused.ok and refused.geometry is None
    error = texts(refused, "error")
    assert error.startswith("overlaps existing sealed zone Z1 by ") and error.endswith(" m²; adjust it or merge")
    assert float(error.split(" by ")[1].split(" ")[0].replace(",", "")) == pytest.approx(500_000, rel=1e-4)
    merged = validate_zone(new, city_boundary=city, existing=existing, tier="sealed", merge=True)
    assert merged.ok and merged.merged_ids == ("Z1",)
    assert metric_area(merged.geometry) == pytest.approx(1.5 * KM * KM, rel=1e-5)  # WGS-84 edges
    assert "merged" in texts(merged, "warning")
    # another tier overlapping (Z2) and a lifted zone of the same tier (Z3) are no conflict
    assert len(refused.of_level("error")) == 1
    assert not any(z in en for z in ("Z2", "Z3") for check in (refused, merged) for _, _, en in check.messages)
    assert validate_zone(new, city_boundary=city, existing=existing, tier="precaution").ok


def test_sealed_not_covered_by_controlled_warns(grid, city):
    by_id = grid.set_index("id").geometry
    sealed = by_id["N22"]
    ring = [by_id[f"N{i}{j}"] for i in (1, 2, 3) for j in (1, 2, 3) if (i, j) != (2, 2)]
    full = gpd.GeoDataFrame({"id": ["C1"], "tier": ["controlled"]}, geometry=[shapely.union_all(ring)], crs="EPSG:4326")
    assert validate_zone(sealed, city_boundary=city, existing=full, tier="sealed").messages == []
    half = gpd.GeoDataFrame({"id": ["C1"], "tier": ["controlled"]}, geometry=[by_id["N12"]], crs="EPSG:4326")
    check = validate_zone(sealed, city_boundary=city, existing=half, tier="sealed")
    assert check.ok
    assert texts(check, "warning") == "75% of the sealed zone's edge is not covered by a controlled zone"
    alone = validate_zone(sealed, city_boundary=city, tier="sealed")
    assert texts(alone, "warning") == "100% of the sealed zone's edge is not covered by a controlled zone"


# ----------------------------------------------------------------------------------------------
# Impact


def test_zone_impact(grid):
    shape = box(0.5, 0, 1.5, 1)  # half of N00 (1000 people) and half of N10 (3000)
    travellers = pts((0.6, 0.5), (1.4, 0.1), (1.0, 0.9), (2.5, 2.5), (0.1, 0.1))
    travellers = gpd.GeoDataFrame({"name": ["a", "b", "c", "d", "e"]}, geometry=travellers)
    sites = gpd.GeoDataFrame({"id": ["S1", "S2"]}, geometry=pts((0.7, 0.7), (3, 3)))
    hotels = gpd.GeoDataFrame({"id": ["H1"]}, geometry=pts((1.2, 0.2)))
    impact = zone_impact(shape, neighbourhoods=grid, travellers_points=travellers, sites=sites, hotels=hotels)
    assert impact.area_km2 == pytest.approx(1.0, rel=1e-6)
    assert impact.population == pytest.approx(500 + 1500, rel=1e-6)
    assert impact.neighbourhood_ids == ("N00", "N10")
    assert impact.neighbourhood_shares == pytest.approx((0.5, 0.5), rel=1e-6)
    assert impact.travellers == 3
    assert impact.site_ids == ("S1",) and impact.hotel_ids == ("H1",)
    assert zone_impact(shape, neighbourhoods=grid).travellers is None


# ----------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("last", "quiet", "expected"),
    [
        (dt.date(2022, 3, 28), 7, dt.date(2022, 4, 5)),  # quiet 03-29 … 04-04, downgrade 04-05
        ("2022-03-28", 14, dt.date(2022, 4, 12)),
        (dt.datetime(2022, 3, 28, 23, 0), 0, dt.date(2022, 3, 29)),
    ],
)
def test_downgrade_date(last, quiet, expected):
    assert downgrade_date(last, quiet_days=quiet) == expected


def test_days_since():
    assert days_since("2022-03-28", dt.date(2022, 4, 4)) == 7
    assert days_since(dt.date(2022, 3, 28), "2022-03-28") == 0
    with pytest.raises(ValueError, match=r"today \(2022-03-27\) is before the last case \(2022-03-28\)"):
        days_since("2022-03-28", "2022-03-27")
    with pytest.raises(ValueError, match="quiet_days must be a non-negative integer"):
        downgrade_date("2022-03-28", quiet_days=-1)


# ----------------------------------------------------------------------------------------------
# Versions


def test_check_save():
    when = dt.datetime(2022, 3, 28, 14, 5)
    check_save(3, 3, current_saved_by="王芳", current_saved_at=when)
    with pytest.raises(StaleWrite, match="^changed by 王芳 at 2022-03-28 14:05 — reload / 已被 王芳 于 2022-03-28 14:05 修改，请重新加载$"):
        check_save(4, 3, current_saved_by="王芳", current_saved_at=when)
    with pytest.raises(ValueError, match="newer than the stored version"):
        check_save(3, 4, current_saved_by="王芳", current_saved_at=when)


def test_diff_versions():
    when = dt.datetime(2022, 3, 28, 14, 5)
    attrs = {"tier": "sealed", "name": "坞城封控区", "reason": None, "planned_end": "2022-04-04"}
    v1 = ZoneVersion("Z1", 1, "王芳", when, shapely.to_wkb(box(1, 1, 2, 2)), attrs)
    v2 = ZoneVersion(
        "Z1", 2, "李强", when, shapely.to_wkb(box(1, 1, 2, 2.5)), {**attrs, "reason": float("nan"), "planned_end": "2022-04-11"}
    )
    assert diff_versions(v1, v2) == [
        "planned_end: '2022-04-04' → '2022-04-11'",
        "geometry: changed, area +500,000 m² / 范围：已修改，面积 +500,000 平方米",
    ]
    assert diff_versions(v1, v1) == ["geometry: unchanged / 范围：未变"]


# ----------------------------------------------------------------------------------------------
# Demo


@pytest.fixture(scope="module")
def demo():
    from data.demo import build_demo

    return build_demo(20220328)


def test_demo_zones_from_three_travellers_nest(demo):
    nb, travellers = demo["neighbourhoods"], demo["travellers"]
    xiaodian = set(nb.loc[nb["district_adcode"] == "140105", "id"])
    cases = travellers[travellers["neighbourhood_id"].isin(xiaodian)].head(3)
    z = zones_from_cases(cases, nb)
    assert z.attrs["cases_outside"] == []
    assert sorted(z["neighbourhood_ids"][0]) == sorted(set(cases["neighbourhood_id"]))
    sealed, controlled, precaution = z.geometry
    assert all(g.is_valid and not g.is_empty for g in z.geometry)
    assert sealed.covered_by(sealed.union(controlled))
    for a, b in ((sealed, controlled), (sealed, precaution), (controlled, precaution)):
        assert metric_area(a.intersection(b)) < 1.0
    district = shapely.union_all(nb.loc[nb["district_adcode"] == "140105"].geometry.to_numpy())
    assert metric_area(precaution.difference(district)) < 1.0
    total = metric_area(sealed) + metric_area(controlled) + metric_area(precaution)
    assert total == pytest.approx(metric_area(sealed.union(controlled).union(precaution)), rel=1e-9)
    assert set(z["neighbourhood_ids"][1]).isdisjoint(z["neighbourhood_ids"][0])
    assert np.isclose(z["area_km2"].sum(), total / 1e6)
