"""Judge a :class:`RawTable` against a layer's schema: every bad row named with its column and reason.

Nothing is guessed: an unknown value, an ambiguous date, coordinates that look swapped or a
place name that does not resolve are rejected, never corrected silently. What *is* changed is
reported as a note: polygons repaired with ``make_valid``, the encoding and coordinate system used.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

from geo.crs import CHINA_BBOX, convert_geometry, normalize_crs_name, to_metric, utm_crs_for
from layers import get_spec
from layers.boundaries import city_counties, gazetteer
from layers.io._geocode import Locator
from layers.io._headers import (
    GEOM_LABEL,
    LAT_LABEL,
    LON_LABEL,
    ROLE_LABELS,
    ColumnMap,
    clash_text,
    column_label,
    map_headers,
)
from layers.io._issues import Issue, Unit
from layers.io._readers import CrsLike, RawTable
from layers.io._values import DOMAINS, BadText, BadValue, domain_value, is_empty, parse, parse_number
from layers.spec import LayerSpec

__all__ = ["Validated", "validate", "crs_display", "NATIONAL_LAYERS"]

#: layers whose features may lie anywhere in China (the rest must lie in the city)
NATIONAL_LAYERS = frozenset({"risk_areas"})
CITY_MARGIN_M = 20_000
XY_LABEL = "经纬度 lon/lat"
_CITY_EN = {"140100": "Taiyuan"}
_ADCODE_COLUMNS = ("district_adcode", "adcode")
_DATE_ORDER = {
    "zones": (("start", "planned_end"), ("start", "lifted")),
    "risk_areas": (("since", "lifted"),),
    "visits": (("from_date", "to_date"),),
    "hotels": (("in_use_since", "in_use_until"),),
}


@dataclass
class Validated:
    """The outcome of :func:`validate`.

    ``good`` holds the rows without any problem, ready for ``spec.coerce`` and the store (WGS-84);
    ``good_rows`` their row/feature numbers. ``rejects`` lists ``(row, column, reason_zh,
    reason_en)`` for every problem (``row`` is ``None`` for a problem with the whole file);
    ``notes`` what was changed or assumed without being an error.
    """

    key: str
    good: pd.DataFrame
    good_rows: list[int]
    rejects: list[Issue]
    notes: list[Issue]
    total: int
    unit: Unit
    raw: RawTable
    crs_used: str | None = None

    @property
    def fatal(self) -> bool:
        """A problem with the whole file: nothing can be imported."""
        return any(r.row is None for r in self.rejects)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({r.row for r in self.rejects if r.row is not None})


def crs_display(crs: CrsLike) -> str:
    if isinstance(crs, pyproj.CRS):
        return crs.name
    names = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
    if crs in names:
        return names[crs]
    try:
        return f"{crs} ({pyproj.CRS.from_user_input(crs).name})"
    except pyproj.exceptions.CRSError:
        return str(crs)


def _is_geographic(crs: CrsLike) -> bool:
    if crs in ("wgs84", "gcj02", "bd09"):
        return True
    return pyproj.CRS.from_user_input(crs).is_geographic


def _to_wgs84(geoms: list[BaseGeometry], src: CrsLike) -> np.ndarray:
    arr = np.asarray(geoms, dtype=object)
    if isinstance(src, pyproj.CRS):
        t = pyproj.Transformer.from_crs(src, "EPSG:4326", always_xy=True)

        def fn(xy: np.ndarray) -> np.ndarray:
            x, y = t.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(arr, fn)
    if src == "wgs84":
        return arr
    return convert_geometry(arr, src=src, dst="wgs84")


@lru_cache(maxsize=8)
def _city_extent(city_adcode: str) -> tuple[BaseGeometry, str, str]:
    counties = city_counties(city_adcode)
    metric = to_metric(counties)
    area = gpd.GeoSeries([metric.union_all().buffer(CITY_MARGIN_M)], crs=metric.crs).to_crs("EPSG:4326").iloc[0]
    shapely.prepare(area)
    g = gazetteer()
    row = g[(g["level"] == "city") & (g["adcode"] == city_adcode)]
    zh = row["name"].iloc[0] if not row.empty else city_adcode
    en = f"{zh} {_CITY_EN[city_adcode]}" if city_adcode in _CITY_EN else f"{zh} (adcode {city_adcode})"
    return area, zh, en


@lru_cache(maxsize=1)
def _adcodes() -> frozenset[str]:
    return frozenset(gazetteer()["adcode"].astype(str))


def _polygonal(g: BaseGeometry) -> BaseGeometry | None:
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return None if g.is_empty else g
    if g.geom_type == "GeometryCollection":
        polys = [p for part in g.geoms if part.geom_type in ("Polygon", "MultiPolygon") for p in getattr(part, "geoms", [part])]
        polys = [p for p in polys if not p.is_empty]
        if not polys:
            return None
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return None


def _rows_text(rows: list[int], unit: Unit) -> tuple[str, str]:
    nums = [str(r) for r in rows]
    if unit == "feature":
        return f"第 {'、'.join(nums)} 个要素", f"feature{'s' if len(nums) > 1 else ''} {', '.join(nums)}"
    return f"第 {'、'.join(nums)} 行", f"row{'s' if len(nums) > 1 else ''} {', '.join(nums)}"


class _Checker:
    """One validation run; collects issues by row position."""

    def __init__(self, raw: RawTable, spec: LayerSpec):
        self.raw = raw
        self.spec = spec
        self.by_pos: dict[int, list[Issue]] = defaultdict(list)
        for pos, issues in raw.row_errors.items():
            self.by_pos[pos].extend(issues)
        self.notes: list[Issue] = list(raw.notes)
        self.file_errors: list[Issue] = []

    def reject(self, pos: int, column: str | None, zh: str, en: str, value: Any = None, *, hide: bool = False) -> None:
        shown = None if hide or is_empty(value) else value
        self.by_pos[pos].append(Issue(self.raw.rows[pos], column, zh, en, value=shown, unit=self.raw.unit))

    def note(self, zh: str, en: str, pos: int | None = None, column: str | None = None) -> None:
        row = None if pos is None else self.raw.rows[pos]
        self.notes.append(Issue(row, column, zh, en, unit=self.raw.unit))

    def file_error(self, zh: str, en: str) -> None:
        self.file_errors.append(Issue(None, None, zh, en, unit=self.raw.unit))

    def bad(self, pos: int) -> bool:
        return bool(self.by_pos.get(pos))


def validate(
    raw: RawTable,
    key: str,
    *,
    crs: str | None = None,
    store: Any = None,
    mode: str = "append",
    city_adcode: str = "140100",
) -> Validated:
    """Check every row of ``raw`` for layer ``key``; convert geometry to WGS-84.

    Parameters
    ----------
    crs
        The coordinate system of the file's coordinates (``wgs84``, ``gcj02``, ``bd09``,
        ``EPSG:n``). Default: the one given to :func:`read_file`, else the file's own, else WGS-84.
    store
        A :class:`layers.store.gpkg.GpkgStore`: in ``append`` mode ids already stored are rejected;
        its neighbourhoods resolve place names in an address column.
    city_adcode
        The city whose extent (plus 20 km) city layers must lie in.
    """
    spec = get_spec(key)
    ck = _Checker(raw, spec)
    n = len(raw)
    headers = [str(h) for h in raw.frame.columns]
    cmap = map_headers(headers, key)
    src = _declared_crs(ck, raw, crs, spec)

    for target, hs in cmap.clashes:
        label = ROLE_LABELS.get(target) or column_label(spec.column(target))
        ck.file_error(*clash_text(label, hs))
    clashed = {target for target, _ in cmap.clashes}
    missing = [column_label(c) for c in spec.columns if c.required and c.name not in cmap.schema and c.name not in clashed]
    if missing:
        ck.file_error(f"缺少必填列：{'、'.join(missing)}", f"missing required columns: {', '.join(missing)}")
    if cmap.unknown:
        ck.note(f"未识别的列（已忽略）：{'、'.join(cmap.unknown)}", f"unrecognised columns (ignored): {', '.join(cmap.unknown)}")
    source, address = _geometry_source(ck, raw, spec, cmap, headers)

    values: dict[str, list[Any]] = {}
    if not ck.file_errors:
        values = _check_attributes(ck, raw, spec, cmap)
        _check_ids(ck, spec, values, store if mode == "append" else None)
        _check_references(ck, spec, values, store)
    geoms: list[BaseGeometry | None] = [None] * n
    if not ck.file_errors and source == "admin":
        geoms = _admin_boundaries(ck, values, n)
        cmap.schema.setdefault("approximate", "approximate")
    elif not ck.file_errors and source is not None:
        geoms = _check_geometry(ck, raw, spec, cmap, source, address, src, store, city_adcode)
    if not ck.file_errors and spec.key == "neighbourhoods":
        _check_overlaps(ck, spec, values, geoms, store if mode == "append" else None)

    rejects = list(ck.file_errors)
    if ck.file_errors:
        good_pos: list[int] = []
    else:
        for pos in sorted(ck.by_pos):
            rejects.extend(ck.by_pos[pos])
        good_pos = [p for p in range(n) if not ck.bad(p)]
    good = pd.DataFrame({c: [values[c][p] for p in good_pos] for c in spec.column_names if c in cmap.schema}, dtype=object)
    if spec.geometry:
        good = gpd.GeoDataFrame(good, geometry=gpd.GeoSeries([geoms[p] for p in good_pos], crs="EPSG:4326"), crs="EPSG:4326")
    return Validated(
        key=key,
        good=good,
        good_rows=[raw.rows[p] for p in good_pos],
        rejects=rejects,
        notes=ck.notes,
        total=n,
        unit=raw.unit,
        raw=raw,
        crs_used=crs_display(src) if src is not None and spec.geometry else None,
    )


def _admin_boundaries(ck: _Checker, values: dict[str, list[Any]], n: int) -> list[BaseGeometry | None]:
    """Risk-list rows without geometry: their county's boundary, from code or names."""
    from layers.risk_areas import resolve_boundaries

    frame = pd.DataFrame({k: values.get(k, [None] * n) for k in ("province", "city", "county", "adcode", "area_name")})
    geoms, approx, reasons, units = resolve_boundaries(frame)
    for pos, why in enumerate(reasons):
        if why is not None:
            ck.reject(pos, "区县 county", why[0], why[1], frame["county"][pos] or frame["adcode"][pos])
    # names and code filled from the resolved county (derived from what the row gives, not guessed)
    for name, attr in (("city", "city"), ("county", "county"), ("adcode", "county_adcode")):
        col = values.setdefault(name, [None] * n)
        for pos, unit in enumerate(units):
            if unit is not None and reasons[pos] is None and is_empty(col[pos]):
                col[pos] = getattr(unit, attr) or None
    given = values.get("approximate")
    values["approximate"] = [
        bool(a) or (given is not None and given[pos] is True) for pos, a in enumerate(approx)
    ]
    return geoms


def _declared_crs(ck: _Checker, raw: RawTable, crs: str | None, spec: LayerSpec) -> CrsLike | None:
    if spec.geometry is None:
        return None
    declared = normalize_crs_name(crs) if crs else raw.declared_crs
    if declared:
        if raw.crs is not None and raw.crs != declared:
            ck.note(
                f"文件自带坐标系为 {crs_display(raw.crs)}，按指定的 {crs_display(declared)} 处理",
                f"the file says {crs_display(raw.crs)}; read as {crs_display(declared)} as given",
            )
        else:
            zh, en = _converted(declared)
            ck.note(f"坐标系：{crs_display(declared)}（指定）{zh}", f"coordinate system: {crs_display(declared)} (given){en}")
        return declared
    if raw.crs is not None:
        zh, en = _converted(raw.crs)
        ck.note(f"坐标系：{crs_display(raw.crs)}（文件自带）{zh}", f"coordinate system: {crs_display(raw.crs)} (from the file){en}")
        return raw.crs
    ck.note("未指定坐标系，按 WGS-84 处理", "no coordinate system given; read as WGS-84")
    return "wgs84"


def _converted(crs: CrsLike) -> tuple[str, str]:
    return ("", "") if crs == "wgs84" else ("，已转换为 WGS-84", ", converted to WGS-84")


def _geometry_source(
    ck: _Checker, raw: RawTable, spec: LayerSpec, cmap: ColumnMap, headers: list[str]
) -> tuple[str | None, str | None]:
    """Where geometry comes from: ``geometry`` (the file's), ``wkt``, ``xy`` or ``address``; and the address header."""
    has_geom = raw.geometry is not None and any(g is not None for g in raw.geometry)
    if spec.geometry is None:
        if has_geom:
            ck.note("该图层没有几何，文件中的几何已忽略", "this layer has no geometry; the file's geometry is ignored")
        return None, None
    if has_geom:
        return "geometry", None
    if cmap.wkt:
        return "wkt", None
    if spec.key == "risk_areas" and any(c in cmap.schema for c in ("adcode", "county")):
        ck.note(
            "没有几何，按区县代码/地名取所在区县边界（写到区县以下的风险区标记为近似）",
            "no geometry; each row gets its county's boundary from the code or names (areas below county level are marked approximate)",
        )
        return "admin", None
    address = cmap.address(headers, spec.key) if spec.geometry == "Point" else None
    if spec.geometry == "Point" and (cmap.lon or cmap.lat):
        if not (cmap.lon and cmap.lat):
            miss = LAT_LABEL if cmap.lon else LON_LABEL
            ck.file_error(f"缺少坐标列 {miss}", f"missing coordinate column {miss}")
        return "xy", address
    if spec.geometry == "Point" and address:
        ck.note(f"没有坐标列，按“{address}”列的地名定位", f"no coordinate columns; points placed by the place names in column {address!r}")
        return "address", address
    if raw.geometry is not None:
        return "geometry", None  # every feature lacks geometry: each is rejected by number
    if spec.geometry == "Point":
        ck.file_error(
            "缺少坐标列（经度/纬度、lng/lat、x/y）或地址列（地址/地点/名称）",
            "no coordinate columns (经度/纬度, lng/lat, x/y) and no address column (地址/address/地点/名称)",
        )
    else:
        ck.file_error(
            "面图层需要 WKT 几何列（几何/WKT），或使用 GeoJSON、GeoPackage、Shapefile、KML",
            "a polygon layer needs a WKT geometry column (几何/WKT), or use GeoJSON, GeoPackage, Shapefile or KML",
        )
    return None, None


def _check_attributes(ck: _Checker, raw: RawTable, spec: LayerSpec, cmap: ColumnMap) -> dict[str, list[Any]]:
    n = len(raw)
    values: dict[str, list[Any]] = {c.name: [None] * n for c in spec.columns}
    for c in spec.columns:
        header = cmap.schema.get(c.name)
        if header is None:
            continue
        label = column_label(c)
        dropped = 0
        for pos, v in enumerate(raw.frame[header].tolist()):
            if is_empty(v):
                if c.required:
                    ck.reject(pos, label, "必填，不能为空", "required; empty")
                continue
            try:
                val, lost_time = parse(v, c.dtype)
                if (spec.key, c.name) in DOMAINS:
                    val = domain_value(spec.key, c.name, val)
                if c.dtype == "int" and val < 0:
                    raise BadValue("不能为负数", "must not be negative")
                if c.name in _ADCODE_COLUMNS:
                    if not re.fullmatch(r"\d{6}", val):
                        raise BadValue("不是 6 位行政区划代码", "not a 6-digit admin code")
                    if val not in _adcodes():
                        raise BadValue("行政区划代码不存在", "unknown admin code")
            except BadText as e:  # say which encoding the text was read with
                enc = f"（按 {raw.encoding} 解码）" if raw.encoding else ""
                enc_en = f" (read as {raw.encoding})" if raw.encoding else ""
                ck.reject(pos, label, e.zh + enc, e.en + enc_en, v.encode("unicode_escape").decode("ascii") if isinstance(v, str) else v, hide=c.personal)
                continue
            except BadValue as e:
                ck.reject(pos, label, e.zh, e.en, v, hide=c.personal)
                continue
            dropped += lost_time
            values[c.name][pos] = val
        if dropped:
            ck.note(f"{label}：{dropped} 行的时间部分已忽略（只保留日期）", f"{label}: time of day ignored on {dropped} rows (dates only)")
    _check_cross(ck, spec, values)
    return values


def _check_cross(ck: _Checker, spec: LayerSpec, values: dict[str, list[Any]]) -> None:
    if spec.key == "hotels":
        for pos, (total, occ) in enumerate(zip(values["rooms_total"], values["rooms_occupied"], strict=True)):
            if total is not None and occ is not None and occ > total:
                ck.reject(pos, column_label(spec.column("rooms_occupied")), "已用房间数大于房间总数", "more rooms occupied than rooms_total", f"{occ} > {total}")
        for pos, (status, until) in enumerate(zip(values["status"], values["in_use_until"], strict=True)):
            if status == "in_use" and until is not None:  # stood down, yet in use: which is it?
                ck.reject(pos, column_label(spec.column("in_use_until")), "状态为使用中，却填了停用日期（停用后请把状态改为备用或停用）",
                          "status is in use, yet a stand-down date is given (set the status to standby or closed once stood down)",
                          f"{until:%Y-%m-%d}")
    for first, then in _DATE_ORDER.get(spec.key, ()):
        a, b = spec.column(first), spec.column(then)
        for pos, (d0, d1) in enumerate(zip(values[first], values[then], strict=True)):
            if d0 is not None and d1 is not None and d1 < d0:
                ck.reject(
                    pos, column_label(b), f"早于{a.label_zh}", f"before {a.name}",
                    f"{d1:%Y-%m-%d} < {d0:%Y-%m-%d}", hide=b.personal or a.personal,
                )


#: Neighbourhoods may share edges, not area: an overlap above this (m²) is refused, because a
#: residence in it would be counted in two neighbourhoods. Digitising slivers below it are let through.
NEIGHBOURHOOD_OVERLAP_M2 = 10.0


def _check_overlaps(
    ck: _Checker, spec: LayerSpec, values: dict[str, list[Any]], geoms: list[BaseGeometry | None], store: Any
) -> None:
    """Each neighbourhood overlapping an earlier one (or, appending, a stored one) by more than
    :data:`NEIGHBOURHOOD_OVERLAP_M2` is rejected, naming the other one and the area; with
    ``--skip-bad`` the first of each pair is kept."""
    ids = values.get(spec.id_column or "id", [None] * len(geoms))
    pos = [p for p, g in enumerate(geoms) if g is not None and not ck.bad(p)]
    if not pos:
        return
    new = np.array([geoms[p] for p in pos], dtype=object)
    stored = np.zeros(0, dtype=object)
    stored_ids: list[Any] = []
    if store is not None and store.exists() and "neighbourhoods" in store.layers():
        st = store.read("neighbourhoods")
        stored, stored_ids = st.geometry.to_numpy(), st["id"].tolist()
    allg = np.concatenate([stored, new])
    lon, lat = shapely.centroid(shapely.union_all(new)).coords[0]
    metric = gpd.GeoSeries(allg, crs="EPSG:4326").to_crs(utm_crs_for(lon, lat)).to_numpy()
    tree = shapely.STRtree(metric)
    k = len(stored)
    a, b = tree.query(metric[k:], predicate="intersects")
    a = a + k  # positions in allg of the new geometries
    keep = b < a  # each pair once, the later one rejected
    a, b = a[keep], b[keep]
    area = shapely.area(shapely.intersection(metric[a], metric[b]))
    id_label = column_label(spec.column(spec.id_column or "id"))
    done: set[int] = set()
    for i, j, m2 in sorted(zip(a.tolist(), b.tolist(), area.tolist(), strict=True)):
        if m2 <= NEIGHBOURHOOD_OVERLAP_M2 or i in done:
            continue
        done.add(i)
        if j < k:
            other_zh, other_en = f"{stored_ids[j]}（数据库中）", f"{stored_ids[j]} (in the store)"
        else:
            pz, pe = _rows_text([ck.raw.rows[pos[j - k]]], ck.raw.unit)
            other_zh, other_en = f"{ids[pos[j - k]]}（{pz}）", f"{ids[pos[j - k]]} ({pe})"
        ck.reject(pos[i - k], id_label, f"与 {other_zh}重叠约 {m2:,.0f} 平方米", f"overlaps {other_en} by about {m2:,.0f} m²", ids[pos[i - k]])


def _check_ids(ck: _Checker, spec: LayerSpec, values: dict[str, list[Any]], store: Any) -> None:
    if not spec.id_column:
        return
    col = spec.column(spec.id_column)
    label = column_label(col)
    ids = values[spec.id_column]
    where: dict[Any, list[int]] = defaultdict(list)
    for pos, v in enumerate(ids):
        if v is not None:
            where[v].append(pos)
    for positions in where.values():
        if len(positions) < 2:
            continue
        for pos in positions:
            others = [ck.raw.rows[p] for p in positions if p != pos]
            zh, en = _rows_text(others, ck.raw.unit)
            ck.reject(pos, label, f"编号重复（另见{zh}）", f"duplicate id (also on {en})", ids[pos], hide=col.personal)
    if store is None or not store.exists() or spec.key not in store.layers():
        return
    stored = set(store.read(spec.key)[spec.id_column].dropna().tolist())
    for pos, v in enumerate(ids):
        if v is not None and v in stored:
            ck.reject(pos, label, "编号已存在于数据库中（追加模式）", "id already in the store (append mode)", v, hide=col.personal)


#: What a value of a column that names another layer's ids is refused with, by that layer.
_UNKNOWN_REFERENCE = {
    "neighbourhoods": ("社区编号不在社区图层中", "neighbourhood id not in the neighbourhoods layer"),
    "travellers": ("人员编号不在人员图层中（请先导入人员）", "traveller id not in the travellers layer (import the travellers first)"),
}


def _check_references(ck: _Checker, spec: LayerSpec, values: dict[str, list[Any]], store: Any) -> None:
    """Refuse a value of a column that names another layer's ids (:attr:`Column.references`) when
    the store's layer does not have it: a traveller in a neighbourhood no one knows is on no grid
    worker's list and in no neighbourhood's counts; a visit of no known traveller is never screened.
    Without a store nothing is checked; without the named layer, a note says so."""
    if store is None:
        return
    for col in spec.columns:
        target = col.references
        if target is None or col.name not in values or all(v is None for v in values[col.name]):
            continue
        label = column_label(col)
        target_spec = get_spec(target)
        if not store.exists() or target not in store.layers():
            ck.note(f"{label}未核对：数据库中还没有“{target_spec.name_zh}”图层",
                    f"{label} not checked: the store has no {target_spec.name_en} layer yet")
            continue
        known = set(store.read(target, public=target_spec.public)["id"].dropna().astype(str))  # kept: the ids only
        zh, en = _UNKNOWN_REFERENCE[target]
        for pos, v in enumerate(values[col.name]):
            if v is not None and str(v) not in known:
                ck.reject(pos, label, zh, en, v, hide=col.personal)


def _check_geometry(
    ck: _Checker,
    raw: RawTable,
    spec: LayerSpec,
    cmap: ColumnMap,
    source: str,
    address: str | None,
    src: CrsLike | None,
    store: Any,
    city_adcode: str,
) -> list[BaseGeometry | None]:
    n = len(raw)
    hide = not spec.public  # locations of personal layers are personal
    geographic = src is None or _is_geographic(src)
    wanted = "Point" if spec.geometry == "Point" else "Polygon"
    parsed: dict[int, BaseGeometry] = {}
    label_of: dict[int, str] = {}
    xy_text: dict[int, str] = {}
    by_address: list[int] = []
    had_z = 0

    if source in ("geometry", "wkt"):
        cells = raw.geometry if source == "geometry" else raw.frame[cmap.wkt].tolist()
        for pos, g in enumerate(cells):
            if any(i.column == GEOM_LABEL for i in ck.by_pos.get(pos, [])):
                continue  # the reader already said why
            if source == "wkt" and not is_empty(g):
                try:
                    g = shapely.from_wkt(str(g).strip())
                except shapely.errors.ShapelyError:
                    ck.reject(pos, GEOM_LABEL, "WKT 几何无法解析", "WKT geometry cannot be parsed")
                    continue
            if g is None or is_empty(g) or g.is_empty:
                ck.reject(pos, GEOM_LABEL, "缺少几何", "missing geometry")
                continue
            if g.has_z:
                had_z += 1
                g = shapely.force_2d(g)
            if g.geom_type == "MultiPoint" and len(g.geoms) == 1:
                g = g.geoms[0]
            ok = g.geom_type == "Point" if wanted == "Point" else g.geom_type in ("Polygon", "MultiPolygon")
            if not ok:
                zh_kind = "点" if wanted == "Point" else "面（Polygon/MultiPolygon）"
                ck.reject(pos, GEOM_LABEL, f"几何类型应为{zh_kind}，实为 {g.geom_type}", f"geometry should be a {wanted}, got {g.geom_type}")
                continue
            parsed[pos] = g
            label_of[pos] = GEOM_LABEL
    else:  # xy or address
        lon_cells = raw.frame[cmap.lon].tolist() if source == "xy" else [None] * n
        lat_cells = raw.frame[cmap.lat].tolist() if source == "xy" else [None] * n
        for pos in range(n):
            lon_v, lat_v = lon_cells[pos], lat_cells[pos]
            if is_empty(lon_v) and is_empty(lat_v):
                if address:
                    by_address.append(pos)
                else:
                    ck.reject(pos, XY_LABEL, "缺少坐标", "missing coordinates")
                continue
            xy: list[float] = []
            for label, v, zh, en in ((LON_LABEL, lon_v, "经度", "longitude"), (LAT_LABEL, lat_v, "纬度", "latitude")):
                if is_empty(v):
                    ck.reject(pos, label, f"缺少{zh}", f"missing {en}")
                    continue
                try:
                    xy.append(parse_number(v))
                except BadValue as e:
                    ck.reject(pos, label, e.zh, e.en, v, hide=hide)
            if len(xy) == 2:
                parsed[pos] = shapely.Point(xy)
                label_of[pos] = XY_LABEL
                xy_text[pos] = f"{lon_v}, {lat_v}"

    # coordinates as written: swapped or out of range (only meaningful in degrees)
    if geographic:
        for pos in list(parsed):
            minx, miny, maxx, maxy = parsed[pos].bounds
            is_xy = label_of[pos] == XY_LABEL
            value = xy_text.get(pos)
            if minx >= 18 and maxx <= 54 and miny >= 73 and maxy <= 136:
                ck.reject(pos, label_of[pos], "经纬度可能颠倒", "latitude and longitude look swapped", value, hide=hide)
                del parsed[pos]
                continue
            problems = []
            if minx < -180 or maxx > 180:
                problems.append((LON_LABEL, "经度", "longitude", "[-180, 180]", 0))
            if miny < -90 or maxy > 90:
                problems.append((LAT_LABEL, "纬度", "latitude", "[-90, 90]", 1))
            for col, zh, en, rng, i in problems:
                if is_xy:
                    cell = (lon_cells if i == 0 else lat_cells)[pos]
                    ck.reject(pos, col, f"超出范围 {rng}", f"out of range {rng}", cell, hide=hide)
                else:
                    ck.reject(pos, GEOM_LABEL, f"{zh}超出范围 {rng}", f"{en} out of range {rng}")
            if problems:
                del parsed[pos]

    out: list[BaseGeometry | None] = [None] * n
    if parsed:
        order = sorted(parsed)
        converted = _to_wgs84([parsed[p] for p in order], src or "wgs84")
        for pos, g in zip(order, converted, strict=True):
            coords = shapely.get_coordinates(g)
            if not np.isfinite(coords).all():
                ck.reject(pos, label_of[pos], "坐标无法转换到 WGS-84", "coordinates cannot be converted to WGS-84", xy_text.get(pos), hide=hide)
                continue
            out[pos] = g
    if had_z:
        ck.note(f"{had_z} 个几何含高程（Z），已忽略", f"{had_z} geometries had heights (Z); dropped")

    if by_address:
        located = 0
        locator = _locator(city_adcode, store)
        col = address or ""
        schema_col = next((c for c in spec.columns if cmap.schema.get(c.name) == address), None)
        label = column_label(schema_col) if schema_col else col
        hide_addr = hide or (schema_col.personal if schema_col else False)
        cells = raw.frame[col].tolist()
        for pos in by_address:
            text = cells[pos]
            if is_empty(text):
                ck.reject(pos, label, "没有坐标，也没有可定位的地址", "no coordinates and no address to place it by")
                continue
            try:
                hit = locator.locate(text)
            except BadValue as e:
                ck.reject(pos, label, e.zh, e.en, text, hide=hide_addr)
                continue
            out[pos] = hit.point
            label_of[pos] = label
            located += 1
            kind_zh, kind_en = ("区县", "district") if hit.kind == "district" else ("社区/村", "neighbourhood")
            ck.note(f"按地址定位到该{kind_zh}的代表点", f"placed at the representative point of the named {kind_en}", pos, label)

    # repair polygons, then the extent check on what will be stored
    if spec.geometry == "Polygon":
        for pos, g in enumerate(out):
            if g is None:
                continue
            if shapely.is_valid(g):
                if g.area <= 1e-9 * max(g.envelope.area, g.length**2):  # zero up to rounding: collinear rings
                    ck.reject(pos, GEOM_LABEL, "面积为 0（几何退化）", "the polygon has no area (degenerate)")
                    out[pos] = None
                continue
            why = shapely.is_valid_reason(g)
            fixed = _polygonal(shapely.make_valid(g))
            if fixed is None:
                ck.reject(pos, GEOM_LABEL, f"几何无效且无法修复为面（{why}）", f"invalid geometry that cannot be repaired into a polygon ({why})")
                out[pos] = None
                continue
            out[pos] = fixed
            ck.note(f"几何无效（{why}），已用 make_valid 修复", f"invalid geometry ({why}) repaired with make_valid", pos, GEOM_LABEL)
    _check_extent(ck, spec, out, label_of, xy_text, city_adcode, hide)
    return out


def _locator(city_adcode: str, store: Any) -> Locator:
    neighbourhoods = None
    if store is not None and store.exists() and "neighbourhoods" in store.layers():
        neighbourhoods = store.read("neighbourhoods")
    return Locator(city_adcode, neighbourhoods)


def _check_extent(
    ck: _Checker,
    spec: LayerSpec,
    geoms: list[BaseGeometry | None],
    label_of: dict[int, str],
    xy_text: dict[int, str],
    city_adcode: str,
    hide: bool,
) -> None:
    positions = [p for p, g in enumerate(geoms) if g is not None]
    if not positions:
        return
    arr = np.asarray([geoms[p] for p in positions], dtype=object)
    if spec.key in NATIONAL_LAYERS:
        inside = shapely.covers(shapely.box(*CHINA_BBOX), arr)
        zh, en = "超出中国范围", "outside China"
    else:
        area, city_zh, city_en = _city_extent(city_adcode)
        inside = shapely.covers(area, arr)
        km = CITY_MARGIN_M // 1000
        zh, en = f"超出{city_zh}范围（含周边 {km} 公里）", f"outside {city_en} (with a {km} km margin)"
    for pos, ok in zip(positions, inside, strict=True):
        if not ok:
            ck.reject(pos, label_of.get(pos, GEOM_LABEL), zh, en, xy_text.get(pos), hide=hide)
            geoms[pos] = None

