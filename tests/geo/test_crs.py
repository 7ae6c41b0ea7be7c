import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.crs import (
    bd09_to_wgs84,
    convert_geometry,
    convert_xy,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalize_crs_name,
    to_metric,
    to_wgs84,
    utm_crs_for,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import CoordinateError

GEOD = Geod(ellps="WGS84")


def _ref_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """Scalar textbook form of the published algorithm, written out independently."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    d_lon = (d_lon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def _ref_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    xp = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * xp)
    th = math.atan2(lat, lon) + 0.000003 * math.cos(lon * xp)
    return z * math.cos(th) + 0.0065, z * math.sin(th) + 0.006


china_lon = st.floats(min_value=73.5, max_value=135.0, allow_nan=False)
china_lat = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_forward_matches_published_formula(lon, lat):
    gx, gy = wgs84_to_gcj02([lon], [lat])
    rx, ry = _ref_wgs_to_gcj(lon, lat)
    assert abs(gx[0] - rx) < 1e-9 and abs(gy[0] - ry) < 1e-9
    bx, by = gcj02_to_bd09([lon], [lat])
    rbx, rby = _ref_gcj_to_bd(lon, lat)
    assert abs(bx[0] - rbx) < 1e-9 and abs(by[0] - rby) < 1e-9


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_round_trips_within_half_a_metre(lon, lat):
    for fwd, inv in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        x, y = inv(*fwd([lon], [lat]))
        _, _, dist = GEOD.inv(lon, lat, x[0], y[0])
        assert dist < 0.5


def test_gcj_offset_in_taiyuan_is_about_half_a_kilometre_east():
    lon, lat = 112.549, 37.857  # Taiyuan city centre
    gx, gy = wgs84_to_gcj02([lon], [lat])
    az, _, dist = GEOD.inv(lon, lat, gx[0], gy[0])
    assert 450 < dist < 700
    assert 60 < az % 360 < 120  # roughly east


def test_outside_china_is_unchanged():
    lon = np.array([2.35, -74.0, 139.7])  # Paris, New York, Tokyo (east of the box)
    lat = np.array([48.85, 40.7, 35.7])
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
        x, y = fn(lon, lat)
        assert np.array_equal(x, lon) and np.array_equal(y, lat)


def test_inputs_are_not_mutated_and_shapes_checked():
    lon = np.array([112.5, 112.6])
    lat = np.array([37.8, 37.9])
    wgs84_to_gcj02(lon, lat)
    assert lon.tolist() == [112.5, 112.6]
    with pytest.raises(CoordinateError, match="differ in shape"):
        wgs84_to_gcj02([1.0, 2.0], [1.0])


def test_geometry_conversion_keeps_holes_and_parts():
    shell = [(112.5, 37.8), (112.6, 37.8), (112.6, 37.9), (112.5, 37.9)]
    hole = [(112.52, 37.82), (112.54, 37.82), (112.54, 37.84)]
    poly = shapely.Polygon(shell, [hole])
    multi = shapely.MultiPolygon([poly, shapely.box(112.7, 37.7, 112.8, 37.75)])
    out = convert_geometry(multi, src="wgs84", dst="gcj02")
    assert out.geom_type == "MultiPolygon" and len(out.geoms) == 2
    assert len(out.geoms[0].interiors) == 1
    back = convert_geometry(out, src="gcj02", dst="wgs84")
    assert shapely.equals_exact(back, multi, tolerance=1e-8)
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(112.5, 37.8)], crs="EPSG:4326")
    w = to_wgs84(gdf, src="bd09")
    assert gdf.geometry.iloc[0].x == 112.5  # caller's frame untouched
    assert w.geometry.iloc[0].x < 112.5


@pytest.mark.parametrize(
    ("name", "expected"),
    [("WGS84", "wgs84"), ("gcj-02", "gcj02"), ("Baidu", "bd09"), ("EPSG:4490", "EPSG:4490"), ("epsg:4326", "wgs84")],
)
def test_normalize_crs_name(name, expected):
    assert normalize_crs_name(name) == expected


@pytest.mark.parametrize("bad", ["mercator", "EPSG:999999", ""])
def test_normalize_crs_name_rejects(bad):
    with pytest.raises(CoordinateError, match="coordinate system"):
        normalize_crs_name(bad)


def test_cgcs2000_goes_through_pyproj():
    x, y = convert_xy([112.5], [37.8], src="EPSG:4490", dst="wgs84")
    assert abs(x[0] - 112.5) < 1e-6 and abs(y[0] - 37.8) < 1e-6


def test_metric_crs_for_taiyuan():
    assert utm_crs_for(112.55, 37.86).to_epsg() == 32649
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(112.5, 37.8, 112.6, 37.9)], crs="EPSG:4326")
    area_km2 = to_metric(gdf).area.iloc[0] / 1e6
    # 0.1° x 0.1° at 37.85°N: 8.78 km x 11.1 km
    assert 96 < area_km2 < 99
