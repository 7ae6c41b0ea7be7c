"""Case locations read from a file, for the planning page's zone proposal: points only, every
row that gives no usable point named (never the row's other cells, which may be personal data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from geo.crs import convert_xy, normalize_crs_name
from geo.errors import CoordinateError
from geo.zones import as_text
from layers.io import read_file
from layers.io._headers import ROLE_LABELS, clash_text, map_headers
from layers.io._issues import Issue

__all__ = ["CasePoints", "case_points_from_file"]


@dataclass(frozen=True)
class CasePoints:
    """Case locations read from a file: lon/lat (WGS-84), and what was rejected (row numbers,
    reasons; never the row's other cells, which may be personal data)."""

    lonlat: np.ndarray
    rejects: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)


def _crs_name(crs: Any) -> str:
    if isinstance(crs, pyproj.CRS):
        code = crs.to_epsg()
        if code is None:
            msg = f"the file's coordinate system has no EPSG code: {crs.name}"
            raise CoordinateError(msg)
        return normalize_crs_name(f"EPSG:{code}")
    return normalize_crs_name(str(crs))


def case_points_from_file(path: Path | str, *, crs: str | None = None) -> CasePoints:
    """Read case locations from a CSV/XLSX (lon/lat columns: 经度/纬度, 东经/北纬, lng/lon/longitude,
    lat/latitude, x/y, read as every layer importer reads them: units in brackets and a second
    language in the header are fine; two longitude or latitude columns are refused, never one
    of them guessed) or a GeoJSON/GeoPackage/KML/zipped Shapefile of points.

    ``crs`` declares the coordinates' system (``wgs84``, ``gcj02``, ``bd09``, ``EPSG:n``); default
    the file's own, else WGS-84. Only coordinates are read. A row without a usable point is a
    reject ``(row, column, zh, en)``; a file that cannot be read raises
    :class:`geo.errors.ImportRejected` (from :func:`layers.io.read_file`).
    """
    raw = read_file(path, crs=crs)
    src = normalize_crs_name(crs) if crs else (_crs_name(raw.crs) if raw.crs is not None else "wgs84")
    rejects: list[Issue] = []
    xs: list[float] = []
    ys: list[float] = []
    unit = raw.unit
    for issues in raw.row_errors.values():
        rejects.extend(issues)
    bad_rows = {raw.rows[p] for p in raw.row_errors}
    if raw.geometry is not None:
        for pos, g in enumerate(raw.geometry):
            row = raw.rows[pos]
            if row in bad_rows:
                continue
            if g is None or g.is_empty:
                rejects.append(Issue(row, "geometry", "缺少坐标", "no location", unit=unit))
            elif g.geom_type != "Point":
                rejects.append(Issue(row, "geometry", f"病例位置须为点，不能是 {g.geom_type}",
                                     f"a case location must be a point, not a {g.geom_type}", unit=unit))
            else:
                xs.append(g.x)
                ys.append(g.y)
    else:
        # The importers' own reading of headers: only the coordinate roles matter here.
        cmap = map_headers([str(h) for h in raw.frame.columns], keys={})
        twice = [Issue(None, None, *clash_text(ROLE_LABELS[target], hs), unit=unit)
                 for target, hs in cmap.clashes if target in (":lon", ":lat")]
        if twice:
            return CasePoints(np.empty((0, 2)), twice, [])
        lon_h, lat_h = cmap.lon, cmap.lat
        if lon_h is None or lat_h is None:
            issue = Issue(None, None, "未找到经度、纬度列（经度/纬度、lng/lat、x/y）",
                          "no longitude and latitude columns (经度/纬度, lng/lat, x/y)", unit=unit)
            return CasePoints(np.empty((0, 2)), [issue], [])
        for pos, (lon, lat) in enumerate(zip(raw.frame[lon_h], raw.frame[lat_h], strict=True)):
            row = raw.rows[pos]
            if row in bad_rows:
                continue
            if as_text(lon).strip() == "" or as_text(lat).strip() == "":
                rejects.append(Issue(row, f"{lon_h}/{lat_h}", "缺少经纬度", "missing longitude/latitude", unit=unit))
                continue
            try:
                x, y = float(lon), float(lat)
            except (TypeError, ValueError):
                rejects.append(Issue(row, f"{lon_h}/{lat_h}", "经纬度不是数字", "longitude/latitude is not a number", unit=unit))
                continue
            if not (np.isfinite(x) and np.isfinite(y)):
                rejects.append(Issue(row, f"{lon_h}/{lat_h}", "缺少经纬度", "missing longitude/latitude", unit=unit))
            elif not (-180 <= x <= 180 and -90 <= y <= 90):
                swapped = -180 <= y <= 180 and -90 <= x <= 90
                zh, en = ("经纬度可能颠倒", "latitude and longitude look swapped") if swapped else ("经纬度超出范围", "longitude/latitude out of range")
                rejects.append(Issue(row, f"{lon_h}/{lat_h}", zh, en, unit=unit))
            else:
                xs.append(x)
                ys.append(y)
    lonlat = np.column_stack([xs, ys]) if xs else np.empty((0, 2))
    if len(lonlat) and src != "wgs84":
        x, y = convert_xy(lonlat[:, 0], lonlat[:, 1], src=src, dst="wgs84")
        lonlat = np.column_stack([x, y])
    notes = [Issue(None, None, f"坐标系：{src}", f"coordinate system: {src}", unit=unit)]
    return CasePoints(lonlat, sorted(rejects, key=lambda r: (r.row is not None, r.row or 0)), notes)
