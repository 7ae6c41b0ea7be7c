"""封控区 / 管控区 / 防范区 sealed / controlled / precaution zones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry.base import BaseGeometry

from geo.crs import convert_xy, normalize_crs_name
from geo.errors import CoordinateError
from geo.zones import ZoneForm, as_iso, as_text
from layers._encoded import geojson_group
from layers._render import esc, table_html, truthy
from layers.spec import Column, LayerSpec, LegendEntry

if TYPE_CHECKING:
    from layers.io._issues import Issue

TIERS = {
    # tier: (zh, en, colour, fill opacity, z-order: drawn last = on top)
    "precaution": ("防范区", "Precaution zone", "#f4c542", 0.18),
    "controlled": ("管控区", "Controlled zone", "#f28c28", 0.30),
    "sealed": ("封控区", "Sealed zone", "#c0392b", 0.45),
}

SPEC_COLUMNS = (
    Column("id", "str", "编号", "ID", required=True),
    Column("tier", "str", "级别", "Tier", required=True),
    Column("name", "str", "名称", "Name", required=True),
    Column("reason", "str", "原因", "Reason"),
    Column("start", "date", "开始日期", "Start", required=True),
    Column("planned_end", "date", "计划解除日期", "Planned end"),
    Column("lifted", "date", "解除日期", "Lifted"),
    # the day of the zone's last case (sealed zones): days since, and when it may be downgraded
    Column("last_case", "date", "最近病例日期", "Last case"),
    Column("district_adcode", "str", "区县代码", "District code"),
    Column("demo", "bool", "演示数据", "Demo data"),
    # Written by the store on every save (layers/zone_versions.py), never taken from an import:
    Column("version", "int", "版本", "Version"),
    Column("saved_by", "str", "保存人", "Saved by"),  # a staff account, never shown to residents
    Column("saved_at", "str", "保存时间", "Saved at"),
)


def tier_label(tier: str, lang: str) -> str:
    zh, en, *_ = TIERS.get(tier, (tier, tier, "", 0))
    return zh if lang == "zh" else en


def render(
    gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True, as_of: pd.Timestamp | None = None
) -> folium.FeatureGroup:
    """Tier colours, precaution drawn first and sealed on top; popup with dates and days remaining."""
    zh = lang == "zh"
    day = pd.Timestamp(as_of).normalize() if as_of is not None else pd.Timestamp.now().normalize()
    order = {t: i for i, t in enumerate(TIERS)}
    frame = gdf.assign(_o=gdf["tier"].map(order).fillna(-1)).sort_values("_o", kind="stable")

    def pop(r):
        end = r.get("planned_end")
        left = None
        if end is not None and not pd.isna(end):
            left = max(int((pd.Timestamp(end) - day).days), 0)
        return table_html(
            f"{tier_label(r['tier'], lang)} · {r['name']}",
            [
                ("原因" if zh else "Reason", r.get("reason")),
                ("开始" if zh else "Start", r.get("start")),
                ("计划解除" if zh else "Planned end", r.get("planned_end")),
                ("剩余天数" if zh else "Days remaining", left),
            ],
            note=("演示数据" if zh else "Demo data") if truthy(r.get("demo")) else None,
        )

    def style(p):
        _, _, colour, opacity = TIERS.get(p["tier"], ("", "", "#888", 0.2))
        return {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": opacity}

    return geojson_group(
        frame.drop(columns="_o"),
        name=SPEC.name(lang),
        style=style,
        tooltip=lambda r: esc(f"{tier_label(r['tier'], lang)} · {r['name']}"),
        popup=pop,
        show=show,
    )


SPEC = LayerSpec(
    key="zones",
    name_zh="封控/管控/防范区",
    name_en="Control zones",
    geometry="Polygon",
    columns=SPEC_COLUMNS,
    temporal=("start", "lifted"),
    legend=tuple(LegendEntry(c, zh, en) for zh, en, c, _ in reversed(TIERS.values())),
    render=render,
)


# ----------------------------------------------------------------------------------------------
# A planner's zone as the store takes it, and case points from a file


def zone_record(
    form: ZoneForm,
    geometry: BaseGeometry,
    *,
    zone_id: str,
    district_adcode: str | None = None,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The zone as :meth:`layers.store.gpkg.GpkgStore.save_zone` takes it.

    ``base`` is the stored row of an edited zone: columns the form does not hold (``demo``,
    the district when none is given) are kept from it. Dates are ISO strings, missing ones None.
    """
    base = base or {}
    demo = base.get("demo")
    out: dict[str, Any] = {
        "id": zone_id,
        "tier": form.tier,
        "name": form.name.strip(),
        "reason": form.reason.strip() or None,
        "start": as_iso(form.start),
        "planned_end": as_iso(form.planned_end),
        "lifted": as_iso(form.lifted),
        "last_case": as_iso(form.last_case),
        "district_adcode": district_adcode or (as_text(base.get("district_adcode")) or None),
        "demo": bool(demo) if demo is not None and demo is not pd.NA else False,
        "geometry": geometry,
    }
    return out


_LON_HEADERS = ("经度", "lng", "lon", "long", "longitude", "x")


_LAT_HEADERS = ("纬度", "lat", "latitude", "y")


def _find_header(headers: Sequence[str], names: Sequence[str]) -> str | None:
    low = {str(h).strip().lower(): str(h) for h in headers}
    for n in names:
        if n in low:
            return low[n]
    for h in headers:  # bilingual export headers such as "经度 lon"
        words = str(h).strip().lower().replace("(", " ").replace(")", " ").split()
        if any(w in names for w in words):
            return str(h)
    return None


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
    """Read case locations from a CSV/XLSX (lon/lat columns: 经度/纬度, lng/lon/longitude, lat/latitude,
    x/y) or a GeoJSON/GeoPackage/KML/zipped Shapefile of points.

    ``crs`` declares the coordinates' system (``wgs84``, ``gcj02``, ``bd09``, ``EPSG:n``); default
    the file's own, else WGS-84. Only coordinates are read. A row without a usable point is a
    reject ``(row, column, zh, en)``; a file that cannot be read raises
    :class:`geo.errors.ImportRejected` (from :func:`layers.io.read_file`).
    """
    from layers.io import read_file
    from layers.io._issues import Issue

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
        headers = [str(h) for h in raw.frame.columns]
        lon_h, lat_h = _find_header(headers, _LON_HEADERS), _find_header(headers, _LAT_HEADERS)
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


def lift_merged(
    store: Any, merged_ids: Sequence[str], *, into: str, start: dt.date | None, today: dt.date, user: str
) -> list[tuple[str, int | None, str | None]]:
    """Lift the zones merged into zone ``into`` (their records stay, ended the day the merged zone
    starts, the reason saying into which): ``(zone id, new version, None)`` for each lifted, or
    ``(zone id, None, why)`` when its save was refused (someone changed it meanwhile)."""
    from geo.errors import StaleWrite

    zones = store.read("zones")
    out: list[tuple[str, int | None, str | None]] = []
    for zid in merged_ids:
        rows = zones[zones["id"].astype(str) == str(zid)]
        if not len(rows):
            continue
        row = rows.iloc[0].to_dict()
        form = ZoneForm.from_zone(row)
        lifted = max(start or today, form.start or today)
        reason = f"{form.reason}（已并入 {into} / merged into {into}）".strip()
        rec = zone_record(
            ZoneForm(form.tier, form.name, reason, form.start, form.planned_end, form.last_case, lifted),
            row["geometry"], zone_id=str(zid), base=row,
        )
        try:
            v = store.save_zone(rec, based_on=int(row["version"]), user=user, action="lift")
        except (StaleWrite, ValueError) as exc:
            out.append((str(zid), None, str(exc)))
        else:
            out.append((str(zid), v.version, None))
    return out
