"""Chinese coordinate systems and metric projections.

The store holds WGS-84 (EPSG:4326). Chinese web maps use GCJ-02 (Amap/Gaode, Tencent,
Google China) or BD-09 (Baidu, GCJ-02 shifted again). This module converts between the three,
vectorized over numpy arrays, shapely geometries and GeoDataFrames, and picks a projected CRS
for metric work.

Rule for "outside China": a point is shifted only if it lies inside the rectangle
72.004–137.8347 °E, 0.8293–55.8271 °N, the bounding box the published GCJ-02 implementations
use. Points outside that box are returned unchanged by every conversion. (The rectangle
includes some neighbouring countries; their data is rare here and the rule is the one other
tools apply, so files converted elsewhere agree with ours.)

Forward conversions (WGS-84→GCJ-02, GCJ-02→BD-09) follow the published formulas. Inverses
(GCJ-02→WGS-84, BD-09→GCJ-02) are solved by fixed-point iteration on the forward formula to
1e-9 degree (about 0.1 mm), so round trips are exact for practical purposes.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyproj
import shapely

from geo.errors import CoordinateError

__all__ = [
    "CHINA_BBOX",
    "in_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "convert_xy",
    "convert_geometry",
    "to_wgs84",
    "from_wgs84",
    "normalize_crs_name",
    "utm_crs_for",
    "to_metric",
]

CrsName = Literal["wgs84", "gcj02", "bd09"]

CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)  # minx, miny, maxx, maxy

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL = 1e-9
_MAX_ITER = 30


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean mask of coordinates the GCJ-02 offset applies to (see module docstring)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = CHINA_BBOX
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon, dlat


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.array(lon, dtype=float, copy=True)
    lat = np.array(lat, dtype=float, copy=True)
    if lon.shape != lat.shape:
        msg = f"lon and lat differ in shape: {lon.shape} vs {lat.shape}"
        raise CoordinateError(msg)
    return lon, lat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (published formula). Points outside China are unchanged."""
    lon, lat = _as_arrays(lon, lat)
    m = in_china(lon, lat)
    if m.any():
        dlon, dlat = _gcj_delta(lon[m], lat[m])
        lon[m] += dlon
        lat[m] += dlat
    return lon, lat


def _invert(forward, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = target by fixed-point iteration x ← x - (forward(x) - target)."""
    tx, ty = _as_arrays(lon, lat)
    x, y = tx.copy(), ty.copy()
    todo = np.ones(x.shape, dtype=bool)
    for _ in range(_MAX_ITER):
        fx, fy = forward(x[todo], y[todo])
        ex = fx - tx[todo]
        ey = fy - ty[todo]
        x[todo] -= ex
        y[todo] -= ey
        done = (np.abs(ex) < _TOL) & (np.abs(ey) < _TOL)
        idx = np.flatnonzero(todo)
        todo[idx[done]] = False
        if not todo.any():
            break
    return x, y


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84 by iteration (error < 1e-9 degree). Points outside China are unchanged."""
    lon, lat = _as_arrays(lon, lat)
    m = in_china(lon, lat)
    if m.any():
        lon[m], lat[m] = _invert(wgs84_to_gcj02, lon[m], lat[m])
    return lon, lat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (published formula). Points outside China are unchanged."""
    lon, lat = _as_arrays(lon, lat)
    m = in_china(lon, lat)
    if m.any():
        x, y = lon[m], lat[m]
        z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
        lon[m] = z * np.cos(theta) + 0.0065
        lat[m] = z * np.sin(theta) + 0.006
    return lon, lat


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 by iteration on the forward formula. Points outside China are unchanged."""
    lon, lat = _as_arrays(lon, lat)
    m = in_china(lon, lat)
    if m.any():
        lon[m], lat[m] = _invert(gcj02_to_bd09, lon[m], lat[m])
    return lon, lat


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CHINESE = {"wgs84", "gcj02", "bd09"}
_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs_84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "tencent": "gcj02", "mars": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "bd09ll": "bd09",
}


def normalize_crs_name(name: str) -> str:
    """Return ``wgs84``/``gcj02``/``bd09`` or an ``EPSG:n`` string; raise on anything else.

    ``EPSG:4490`` (CGCS2000) and other EPSG codes are kept for pyproj.
    """
    key = str(name).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.startswith("epsg:") and key[5:].isdigit():
        code = int(key[5:])
        try:
            pyproj.CRS.from_epsg(code)
        except pyproj.exceptions.CRSError as exc:
            msg = f"unknown coordinate system {name!r}: {exc}"
            raise CoordinateError(msg) from exc
        return f"EPSG:{code}"
    msg = f"unknown coordinate system {name!r}; use wgs84, gcj02, bd09 or EPSG:<code>"
    raise CoordinateError(msg)


_TO_WGS = {"wgs84": None, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS = {"wgs84": None, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def convert_xy(lon, lat, *, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinate arrays between any two of wgs84/gcj02/bd09/EPSG:n."""
    src = normalize_crs_name(src)
    dst = normalize_crs_name(dst)
    lon, lat = _as_arrays(lon, lat)
    if src == dst:
        return lon, lat
    if src in _CHINESE:
        fn = _TO_WGS[src]
        if fn is not None:
            lon, lat = fn(lon, lat)
    else:
        t = pyproj.Transformer.from_crs(src, "EPSG:4326", always_xy=True)
        lon, lat = t.transform(lon, lat)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if dst in _CHINESE:
        fn = _FROM_WGS[dst]
        return fn(lon, lat) if fn is not None else (lon, lat)
    t = pyproj.Transformer.from_crs("EPSG:4326", dst, always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def convert_geometry(geoms, *, src: str, dst: str):
    """Convert shapely geometries (scalar or array; any type, holes and parts kept)."""

    def _fn(coords: np.ndarray) -> np.ndarray:
        x, y = convert_xy(coords[:, 0], coords[:, 1], src=src, dst=dst)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _fn)


def to_wgs84(gdf, *, src: str):
    """Return a copy of a GeoDataFrame converted from ``src`` to WGS-84 (EPSG:4326)."""
    out = gdf.copy()
    out["geometry"] = convert_geometry(np.asarray(gdf.geometry.values), src=src, dst="wgs84")
    return out.set_crs("EPSG:4326", allow_override=True)


def from_wgs84(gdf, *, dst: str):
    """Return a copy of a WGS-84 GeoDataFrame converted to ``dst``.

    GCJ-02 and BD-09 have no EPSG code; the frame keeps EPSG:4326 as its nominal CRS and the
    caller must remember the shift (this is only ever done at the display/export edge).
    """
    dst_n = normalize_crs_name(dst)
    out = gdf.copy()
    out["geometry"] = convert_geometry(np.asarray(gdf.geometry.values), src="wgs84", dst=dst_n)
    if dst_n not in _CHINESE:
        return out.set_crs(dst_n, allow_override=True)
    return out


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """The WGS-84 UTM zone CRS for a location (EPSG:326xx north, 327xx south)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        msg = f"location out of range: lon={lon}, lat={lat}"
        raise CoordinateError(msg)
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_metric(gdf):
    """Project a GeoDataFrame to the UTM zone at the centre of its bounds (EPSG:32649 for Taiyuan)."""
    src = gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")
    wgs = src.to_crs("EPSG:4326") if not src.crs.equals("EPSG:4326") else src
    minx, miny, maxx, maxy = wgs.total_bounds
    return src.to_crs(utm_crs_for((minx + maxx) / 2.0, (miny + maxy) / 2.0))
