"""区域划定 Zone planning: what the planners' page computes, without Streamlit.

The page (``dashboard/views/planning.py``) wires widgets and the map; everything it decides is
here so it can be tested directly: the zone record built from the form, the drawn shape read
back from the map, the zones a new zone is checked against, the impact tables, the downgrade
dates, the zones and history tables, case points read from a file, the proposal turned into
zones, and the checks an import of zones must pass.

Geometries are WGS-84 (what the store holds) unless a function says otherwise; shapes drawn on
the map arrive in the basemap's coordinate system and are converted by
:func:`shape_from_features`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from dashboard.i18n import t
from geo.crs import convert_geometry, convert_xy, normalize_crs_name
from geo.errors import CoordinateError
from geo.zones import TIER_ORDER, Impact, ZoneVersion, days_since, downgrade_date
from layers.io import read_file
from layers.io._issues import Issue
from layers.testing_sites import type_label
from layers.zone_rules import as_date as _date
from layers.zone_rules import as_text as _text
from layers.zone_rules import check_zone_import, normalise_tier, zones_in_force_between
from layers.zone_versions import ACTION_TEXT
from layers.zones import SPEC as ZONES_SPEC
from layers.zones import tier_label

__all__ = [
    "QUIET_DAYS",
    "DOWNGRADE_TO",
    "EXPORT_FORMATS",
    "Message",
    "message_text",
    "ZoneForm",
    "form_problems",
    "zone_record",
    "new_zone_id",
    "shape_from_features",
    "same_shape",
    "zones_in_force_between",
    "district_of",
    "DowngradeInfo",
    "downgrade_info",
    "downgraded_name",
    "ImpactTables",
    "impact_tables",
    "zones_table",
    "zone_choice_label",
    "changes_text",
    "history_table",
    "action_label",
    "CasePoints",
    "case_points_from_file",
    "proposal_zones",
    "normalise_tier",
    "check_zone_import",
    "export_file_name",
]

#: Quiet days before a sealed zone may be downgraded. The rule tables (``data/rules/*.toml``)
#: hold no zone rule yet, so this is the issue's "7 days without new cases".
QUIET_DAYS = 7
#: The tier a zone is downgraded to.
DOWNGRADE_TO = {"sealed": "controlled", "controlled": "precaution"}
#: Planned duration in days of a new zone of each tier (the demo scenario's 14 / 7 / 7).
DEFAULT_DAYS = {"sealed": 14, "controlled": 7, "precaution": 7}
#: Export formats planners exchange with QGIS: suffix → (label, MIME type).
EXPORT_FORMATS = {
    ".geojson": ("GeoJSON", "application/geo+json"),
    ".kml": ("KML", "application/vnd.google-earth.kml+xml"),
    ".gpkg": ("GeoPackage", "application/geopackage+sqlite3"),
}

_TIER_ZH = {"sealed": "封控区", "controlled": "管控区", "precaution": "防范区"}
Message = tuple[str, str, str]  # (level, zh, en): level "error" blocks saving, "warning" / "info" inform


def message_text(message: Message, lang: str) -> str:
    """The text of a message in ``lang``."""
    return message[1] if lang == "zh" else message[2]


def _iso(value: Any) -> str | None:
    d = _date(value)
    return d.isoformat() if d is not None else None


# ----------------------------------------------------------------------------------------------
# The form and the zone record


@dataclass(frozen=True)
class ZoneForm:
    """What the planner typed: tier, name, reason and dates (``lifted`` only when lifting)."""

    tier: str
    name: str
    reason: str = ""
    start: dt.date | None = None
    planned_end: dt.date | None = None
    last_case: dt.date | None = None
    lifted: dt.date | None = None

    @classmethod
    def from_zone(cls, zone: Mapping[str, Any]) -> ZoneForm:
        """The form filled from a stored zone row."""
        return cls(
            tier=_text(zone.get("tier")),
            name=_text(zone.get("name")),
            reason=_text(zone.get("reason")),
            start=_date(zone.get("start")),
            planned_end=_date(zone.get("planned_end")),
            last_case=_date(zone.get("last_case")),
            lifted=_date(zone.get("lifted")),
        )


def form_problems(form: ZoneForm, *, today: dt.date) -> list[Message]:
    """What is wrong with the form (errors block saving), in form order."""
    out: list[Message] = []
    if form.tier not in TIER_ORDER:
        out.append(("error", "请选择区域级别", "choose the tier"))
    if not form.name.strip():
        out.append(("error", "请填写区域名称", "enter the zone's name"))
    elif len(form.name.strip()) > 100:
        out.append(("error", "名称过长（最多 100 字）", "the name is too long (100 characters at most)"))
    if form.start is None:
        out.append(("error", "请填写开始日期", "enter the start date"))
    if form.start and form.planned_end and form.planned_end < form.start:
        out.append(("error", f"计划解除日期 {form.planned_end} 早于开始日期 {form.start}",
                    f"the planned end {form.planned_end} is before the start {form.start}"))
    if form.last_case and form.last_case > today:
        out.append(("error", f"最近病例日期 {form.last_case} 晚于今天（{today}）",
                    f"the last case date {form.last_case} is after today ({today})"))
    if form.start and form.lifted and form.lifted < form.start:
        out.append(("error", f"解除日期 {form.lifted} 早于开始日期 {form.start}",
                    f"the lift date {form.lifted} is before the start {form.start}"))
    if form.tier == "sealed" and form.last_case is None:
        out.append(("info", "未填写最近病例日期：无法计算可降级日期",
                    "no last case date: the downgrade date cannot be computed"))
    return out


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
        "start": _iso(form.start),
        "planned_end": _iso(form.planned_end),
        "lifted": _iso(form.lifted),
        "last_case": _iso(form.last_case),
        "district_adcode": district_adcode or (_text(base.get("district_adcode")) or None),
        "demo": bool(demo) if demo is not None and demo is not pd.NA else False,
        "geometry": geometry,
    }
    return out


def new_zone_id(start: dt.date | None, *, token: str | None = None) -> str:
    """A new zone id, ``Z<yyyymmdd>-<6 hex>`` (random, so two planners never pick the same one)."""
    day = (start or dt.date.today()).strftime("%Y%m%d")
    return f"Z{day}-{token or secrets.token_hex(3)}"


# ----------------------------------------------------------------------------------------------
# Shapes from the map


def _polygonal_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]


def shape_from_features(features: Sequence[Mapping[str, Any]] | None, *, src: str = "wgs84") -> tuple[BaseGeometry | None, list[Message]]:
    """The shape on the map: the union of the drawn polygons, converted from ``src`` to WGS-84.

    ``features`` are GeoJSON features as Leaflet.draw returns them (``all_drawings``). A single
    polygon comes back as drawn (self-intersections are for :func:`geo.zones.validate_zone` to
    repair and report); several are repaired one by one and united. Anything but polygons is
    ignored with a warning. Returns ``(None, messages)`` when nothing polygonal was drawn.
    """
    messages: list[Message] = []
    polys: list[BaseGeometry] = []
    other = 0
    for f in features or []:
        g = (f or {}).get("geometry")
        if not g:
            continue
        try:
            geom = shapely.geometry.shape(g)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            other += 1
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_empty:
            polys.append(geom)
        else:
            other += 1
    if other:
        messages.append(("warning", f"忽略了 {other} 个非面图形（只有多边形和矩形可作为区域）",
                         f"ignored {other} shape(s) that are not polygons (only polygons and rectangles make zones)"))
    if not polys:
        return None, messages
    if len(polys) == 1:
        shape = polys[0]
    else:
        fixed = []
        for p in polys:
            if not p.is_valid:
                fixed.append(shapely.make_valid(p, method="structure"))
                messages.append(("warning", "图形边界自相交，已自动修复", "a shape's outline crossed itself and was repaired"))
            else:
                fixed.append(p)
        shape = shapely.union_all(fixed)
        parts = _polygonal_parts(shape)
        shape = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
        messages.append(("info", f"地图上有 {len(polys)} 个图形，已合并为一个区域",
                         f"{len(polys)} shapes on the map were combined into one zone"))
    if src != "wgs84":
        shape = convert_geometry(shape, src=src, dst="wgs84")
    return shape, messages


def same_shape(a: BaseGeometry | None, b: BaseGeometry | None, *, tolerance: float = 1e-5) -> bool:
    """True when two shapes differ by less than ``tolerance`` degrees (about 1 m) anywhere:
    a zone that went to the map and back unedited is the same zone."""
    if a is None or b is None or a.is_empty or b.is_empty:
        return (a is None or a.is_empty) and (b is None or b.is_empty)
    return bool(shapely.hausdorff_distance(a, b) < tolerance)


def district_of(geom: BaseGeometry | None, counties: gpd.GeoDataFrame) -> str | None:
    """The adcode of the county holding most of ``geom`` (None when it touches none)."""
    if geom is None or geom.is_empty or len(counties) == 0:
        return None
    inter = shapely.area(shapely.intersection(counties.geometry.to_numpy(), geom))
    if not np.any(inter > 0):
        return None
    return str(counties["adcode"].iloc[int(np.argmax(inter))])


# ----------------------------------------------------------------------------------------------
# Downgrade


@dataclass(frozen=True)
class DowngradeInfo:
    """Days since a sealed zone's last case and the first day it may be downgraded."""

    last_case: dt.date
    days_since: int | None  # None when ``today`` is before the last case
    may_downgrade_on: dt.date
    quiet_days: int

    def allowed(self, today: dt.date) -> bool:
        return today >= self.may_downgrade_on


def downgrade_info(last_case: Any, today: Any, *, quiet_days: int = QUIET_DAYS) -> DowngradeInfo | None:
    """None when there is no last case date."""
    last = _date(last_case)
    if last is None:
        return None
    now = _date(today)
    since = days_since(last, now) if now is not None and now >= last else None
    return DowngradeInfo(last, since, downgrade_date(last, quiet_days=quiet_days), quiet_days)


def downgraded_name(name: str, old_tier: str, new_tier: str) -> str:
    """The name with the tier word replaced (通达街封控区 → 通达街管控区); unchanged otherwise."""
    old, new = _TIER_ZH.get(old_tier), _TIER_ZH.get(new_tier)
    if old and new and old in name:
        return name.replace(old, new)
    return name


# ----------------------------------------------------------------------------------------------
# Impact


@dataclass(frozen=True)
class ImpactTables:
    """An :class:`geo.zones.Impact` as the page shows it: figures and three tables (labels in one language)."""

    area_km2: float
    population: int
    neighbourhood_count: int
    travellers: int | None
    site_count: int
    hotel_count: int
    neighbourhoods: pd.DataFrame
    sites: pd.DataFrame
    hotels: pd.DataFrame


def _rows_by_id(frame: pd.DataFrame, ids: Sequence[Any]) -> pd.DataFrame:
    if frame is None or len(ids) == 0:
        return frame.iloc[0:0] if frame is not None else pd.DataFrame()
    pos = {str(v): i for i, v in enumerate(frame["id"].astype(str))}
    return frame.iloc[[pos[str(i)] for i in ids if str(i) in pos]]


def impact_tables(
    impact: Impact,
    *,
    neighbourhoods: pd.DataFrame,
    sites: pd.DataFrame,
    hotels: pd.DataFrame,
    lang: str,
) -> ImpactTables:
    """Figures and tables of an impact; populations rounded to whole people.

    Neighbourhoods are listed by the population inside (largest first); the traveller figure is
    a count only (no person is listed).
    """
    nb = _rows_by_id(neighbourhoods, impact.neighbourhood_ids)
    share = dict(zip(map(str, impact.neighbourhood_ids), impact.neighbourhood_shares, strict=True))
    shares = np.array([share.get(str(i), 0.0) for i in nb["id"]], dtype=float) if len(nb) else np.array([])
    pops = pd.to_numeric(nb["population"], errors="coerce").fillna(0).to_numpy() if len(nb) else np.array([])
    nb_table = pd.DataFrame(
        {
            t("pl_col_neighbourhood", lang): nb["name"].astype(str).to_numpy() if len(nb) else [],
            t("pl_col_street", lang): nb["street"].astype(str).to_numpy() if len(nb) and "street" in nb else [""] * len(nb),
            t("pl_col_district", lang): nb["district"].astype(str).to_numpy() if len(nb) and "district" in nb else [""] * len(nb),
            t("pl_col_share", lang): np.round(shares * 100, 1),
            t("pl_col_pop_inside", lang): np.round(shares * pops).astype(int),
        }
    )
    if len(nb_table):
        nb_table = nb_table.sort_values(t("pl_col_pop_inside", lang), ascending=False, kind="stable").reset_index(drop=True)
    st_rows = _rows_by_id(sites, impact.site_ids)
    site_table = pd.DataFrame(
        {
            t("pl_col_name", lang): st_rows["name"].astype(str).to_numpy() if len(st_rows) else [],
            t("pl_col_type", lang): [type_label(x, lang) for x in st_rows["type"]] if len(st_rows) else [],
            t("pl_col_address", lang): [_text(x) for x in st_rows["address"]] if len(st_rows) and "address" in st_rows else [""] * len(st_rows),
        }
    )
    h_rows = _rows_by_id(hotels, impact.hotel_ids)
    hotel_table = pd.DataFrame(
        {
            t("pl_col_name", lang): h_rows["name"].astype(str).to_numpy() if len(h_rows) else [],
            t("pl_col_rooms", lang): [
                f"{_text(o) or '?'} / {_text(n) or '?'}" for o, n in zip(h_rows["rooms_occupied"], h_rows["rooms_total"], strict=True)
            ]
            if len(h_rows) and "rooms_total" in h_rows
            else [""] * len(h_rows),
        }
    )
    return ImpactTables(
        area_km2=float(impact.area_km2),
        population=int(round(impact.population)),
        neighbourhood_count=len(impact.neighbourhood_ids),
        travellers=impact.travellers,
        site_count=len(impact.site_ids),
        hotel_count=len(impact.hotel_ids),
        neighbourhoods=nb_table,
        sites=site_table,
        hotels=hotel_table,
    )


# ----------------------------------------------------------------------------------------------
# Tables of zones and versions


def _status(row: Mapping[str, Any], today: dt.date, lang: str) -> str:
    start, lifted = _date(row.get("start")), _date(row.get("lifted"))
    if lifted is not None and lifted <= today:
        return t("pl_status_lifted", lang)
    if start is not None and start > today:
        return t("pl_status_planned", lang)
    return t("pl_status_active", lang)


def zones_table(zones: pd.DataFrame, *, today: dt.date, lang: str, quiet_days: int = QUIET_DAYS) -> pd.DataFrame:
    """Every zone with its status on ``today``, dates, last case, downgrade date and version.

    Sorted: in force first (sealed, controlled, precaution), then planned, then lifted.
    """
    order = {k: i for i, k in enumerate(TIER_ORDER)}
    rows = []
    for r in zones.to_dict("records"):
        status = _status(r, today, lang)
        info = downgrade_info(r.get("last_case"), today, quiet_days=quiet_days) if r.get("tier") == "sealed" else None
        rank = 2 if status == t("pl_status_lifted", lang) else (1 if status == t("pl_status_planned", lang) else 0)
        rows.append(
            {
                "_rank": (rank, order.get(r.get("tier"), 9), _iso(r.get("start")) or ""),
                t("pl_col_tier", lang): tier_label(_text(r.get("tier")), lang),
                t("pl_col_name", lang): _text(r.get("name")),
                t("pl_col_status", lang): status,
                t("pl_col_start", lang): _iso(r.get("start")) or "",
                t("pl_col_planned_end", lang): _iso(r.get("planned_end")) or "",
                t("pl_col_lifted", lang): _iso(r.get("lifted")) or "",
                t("pl_col_last_case", lang): _iso(r.get("last_case")) or "",
                t("pl_col_days_since", lang): "" if info is None or info.days_since is None else str(info.days_since),
                t("pl_col_downgrade_on", lang): "" if info is None else info.may_downgrade_on.isoformat(),
                t("pl_col_version", lang): _text(r.get("version")),
                t("pl_col_saved", lang): f"{_text(r.get('saved_by'))} {_text(r.get('saved_at'))[:16].replace('T', ' ')}".strip(),
                t("pl_col_id", lang): _text(r.get("id")),
            }
        )
    if not rows:
        return pd.DataFrame(columns=[t(k, lang) for k in ("pl_col_tier", "pl_col_name", "pl_col_status", "pl_col_id")])
    out = pd.DataFrame(rows).sort_values("_rank", kind="stable").drop(columns="_rank")
    return out.reset_index(drop=True)


def zone_choice_label(zone: Mapping[str, Any], today: dt.date, lang: str) -> str:
    """One line naming a zone in a select box: tier · name (id, vN) and its status."""
    return (
        f"{tier_label(_text(zone.get('tier')), lang)} · {_text(zone.get('name'))} "
        f"({_text(zone.get('id'))}, v{_text(zone.get('version'))}) · {_status(zone, today, lang)}"
    )


def action_label(action: str, lang: str) -> str:
    """``restore v2`` → 恢复 v2 / restored v2; ``edit`` → 修改 / edited."""
    base, _, rest = (action or "").partition(" ")
    zh, en = ACTION_TEXT.get(base, (base, base))
    word = zh if lang == "zh" else en
    return f"{word} {rest}".strip()


_NONE = re.compile(r"(?<![\w'])None(?![\w'])")  # a missing value in diff_versions' repr() lines


def changes_text(changes: str, lang: str) -> str:
    """A version's "what changed" in one language: ``reason: 'a' → 'b'`` becomes ``原因：'a' → 'b'``,
    bilingual lines (``geometry: unchanged / 范围：未变``) keep the half in ``lang``."""
    labels = {c.name: c.label(lang) for c in ZONES_SPEC.columns}
    out = []
    for line in (changes or "").splitlines():
        key, sep, rest = line.partition(": ")
        if sep and key in labels and key != "geometry":
            rest = _NONE.sub("—", rest)
            out.append(f"{labels[key]}{'：' if lang == 'zh' else ': '}{rest}")
        elif " / " in line:
            en, _, zh = line.partition(" / ")
            out.append(zh if lang == "zh" else en)
        else:
            out.append(line)
    return "；".join(out) if lang == "zh" else "; ".join(out)


def history_table(versions: Sequence[ZoneVersion], lang: str) -> pd.DataFrame:
    """The versions of a zone, newest first: version, action, who, when and what changed."""
    rows = [
        {
            t("pl_col_version", lang): v.version,
            t("pl_col_action", lang): action_label(v.action, lang),
            t("pl_col_saved_by", lang): v.saved_by,
            t("pl_col_saved_at", lang): v.saved_at.strftime("%Y-%m-%d %H:%M") if v.saved_at else "",
            t("pl_col_changes", lang): changes_text(v.changes, lang),
        }
        for v in reversed(list(versions))
    ]
    return pd.DataFrame(rows, columns=[t(k, lang) for k in ("pl_col_version", "pl_col_action", "pl_col_saved_by", "pl_col_saved_at", "pl_col_changes")])


# ----------------------------------------------------------------------------------------------
# Case points


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
            if _text(lon).strip() == "" or _text(lat).strip() == "":
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


# ----------------------------------------------------------------------------------------------
# Proposal → zones


def proposal_zones(
    proposal: gpd.GeoDataFrame,
    *,
    prefix: str,
    reason: str,
    start: dt.date,
    ends: Mapping[str, dt.date | None],
    last_case: dt.date | None,
) -> list[tuple[ZoneForm, BaseGeometry]]:
    """The tiers of :func:`geo.zones.zones_from_cases` as forms with their shapes (empty tiers left out).

    Names are ``<prefix><tier word>`` (通达街封控区); the last case date goes to the sealed zone.
    """
    out = []
    for r in proposal.to_dict("records"):
        geom = r["geometry"]
        if geom is None or geom.is_empty:
            continue
        tier = r["tier"]
        form = ZoneForm(
            tier=tier,
            name=f"{prefix.strip()}{_TIER_ZH[tier]}",
            reason=reason,
            start=start,
            planned_end=ends.get(tier),
            last_case=last_case if tier == "sealed" else None,
        )
        out.append((form, geom))
    return out


# ----------------------------------------------------------------------------------------------
# Import and export


def export_file_name(suffix: str, crs: str, day: dt.date) -> str:
    """``管控区域_zones_20220328_wgs84.geojson``: Chinese and English in one name."""
    return f"管控区域_zones_{day:%Y%m%d}_{crs.replace(':', '').lower()}{suffix}"
