"""Write a layer to a file the importer reads back: GeoJSON, GeoPackage, zipped Shapefile, KML, CSV, XLSX.

Headers of CSV/XLSX are Chinese first (``名称 name``, ``经度 lon``) and map back on import;
Shapefile field names are shortened to 10 characters with the mapping in ``fields.csv``
inside the zip. Coordinates are written in the requested system. The output appears all at
once (written beside the target, then renamed), so a failed export leaves no half file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.crs import from_wgs84, normalize_crs_name
from layers import get_spec
from layers._cells import neutralise_row
from layers.io._readers import FORMATS
from layers.spec import LayerSpec

__all__ = ["export_layer", "export_frame", "short_field_names", "EXPORT_FORMATS"]

EXPORT_FORMATS = FORMATS
_CHINESE_SYSTEMS = ("wgs84", "gcj02", "bd09")
_SHP_TEXT_BYTES = 254
_XLSX_CELL_CHARS = 32767


def _export_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        msg = f"unsupported export format {path.suffix or '(none)'!r}; use one of {', '.join(dict.fromkeys(FORMATS))}"
        raise ValueError(msg)
    return fmt


def export_layer(store: Any, key: str, path: Path | str, *, crs: str = "wgs84") -> int:
    """Write layer ``key`` from ``store`` to ``path`` (format by suffix) in ``crs``; return the row count.

    Personal columns are included: exporting is an operator's act on a local file. Raises
    ``ValueError`` for an unsupported suffix, a layer without geometry to Shapefile/KML, or a
    value the format cannot hold (Shapefile text over 254 bytes, Excel cells over 32,767 characters).
    """
    spec = get_spec(key)
    frame = spec.reader(store) if spec.reader is not None else store.read(key)
    return export_frame(frame, key, path, crs=crs)


def export_frame(frame: pd.DataFrame, key: str, path: Path | str, *, crs: str = "wgs84") -> int:
    """Like :func:`export_layer` for a frame already read (typed by the layer's spec, WGS-84)."""
    path = Path(path)
    fmt = _export_format(path)
    spec = get_spec(key)
    dst = normalize_crs_name(crs)
    if fmt in ("shp", "kml") and spec.geometry is None:
        msg = f"layer {key!r} has no geometry; export it as CSV, XLSX, GeoPackage or GeoJSON"
        raise ValueError(msg)
    frame = spec.coerce(frame)
    if spec.geometry and dst != "wgs84":
        frame = from_wgs84(frame, dst=dst)
    writer_fn: Callable[[pd.DataFrame, LayerSpec, Path, str], None] = {
        "geojson": _write_geojson,
        "gpkg": _write_gpkg,
        "shp": _write_shp_zip,
        "kml": _write_kml,
        "csv": _write_csv,
        "xlsx": _write_xlsx,
    }[fmt]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        with warnings.catch_warnings():
            # GCJ-02/BD-09 files are written without a CRS on purpose (see _ogr_crs)
            warnings.filterwarnings("ignore", message=".*crs.* was not provided", category=UserWarning)
            writer_fn(frame, spec, tmp, dst)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return len(frame)


# ---------------------------------------------------------------- plain values


def _plain(v: Any, dtype: str) -> Any:
    """A value as JSON/CSV would hold it: None, str, int, float, bool, or an ISO date string."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if dtype == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if dtype == "int":
        return int(v)
    if dtype == "float":
        return float(v)
    if dtype == "bool":
        return bool(v)
    return str(v)


def _records(frame: pd.DataFrame, spec: LayerSpec) -> list[dict[str, Any]]:
    cols = {c.name: frame[c.name].tolist() for c in spec.columns}
    return [{c.name: _plain(cols[c.name][i], c.dtype) for c in spec.columns} for i in range(len(frame))]


def _geoms(frame: pd.DataFrame, spec: LayerSpec) -> list[BaseGeometry | None]:
    if not spec.geometry:
        return [None] * len(frame)
    return [None if g is None or g.is_empty else g for g in frame.geometry]


def _header(c_zh: str, name: str) -> str:
    return f"{c_zh} {name}"


# ---------------------------------------------------------------- GeoJSON


def _write_geojson(frame: pd.DataFrame, spec: LayerSpec, path: Path, dst: str) -> None:
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": spec.key}
    if dst not in _CHINESE_SYSTEMS:
        code = dst.split(":", 1)[1]
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}}
    doc["features"] = [
        {"type": "Feature", "properties": rec, "geometry": mapping(g) if g is not None else None}
        for rec, g in zip(_records(frame, spec), _geoms(frame, spec), strict=True)
    ]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


# ---------------------------------------------------------------- GeoPackage and Shapefile


def _typed_for_ogr(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Columns pyogrio writes faithfully: dates as ISO text, nullable ints/bools kept nullable."""
    out = {}
    for c in spec.columns:
        s = frame[c.name]
        if c.dtype == "date":
            out[c.name] = pd.Series([_plain(v, "date") for v in s], dtype=object)
        elif c.dtype == "int":
            out[c.name] = s.astype("Int64").reset_index(drop=True)
        elif c.dtype == "bool":
            out[c.name] = s.astype("boolean").reset_index(drop=True)
        elif c.dtype == "float":
            out[c.name] = s.astype("float64").reset_index(drop=True)
        else:
            out[c.name] = pd.Series([_plain(v, "str") for v in s], dtype=object)
    return pd.DataFrame(out)


def _ogr_crs(dst: str) -> str | None:
    # GCJ-02 and BD-09 have no CRS definition: write none rather than a false WGS-84.
    if dst in ("gcj02", "bd09"):
        return None
    return "EPSG:4326" if dst == "wgs84" else dst


def _write_gpkg(frame: pd.DataFrame, spec: LayerSpec, path: Path, dst: str) -> None:
    data = _typed_for_ogr(frame, spec)
    if spec.geometry:
        gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(frame.geometry), crs=None), crs=_ogr_crs(dst))
        pyogrio.write_dataframe(gdf, path, layer=spec.key, driver="GPKG")
    else:
        pyogrio.write_dataframe(data, path, layer=spec.key, driver="GPKG")


def short_field_names(names: list[str]) -> dict[str, str]:
    """Deterministic Shapefile field names (≤ 10 characters, unique ignoring case): name → short."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        short = name[:10]
        i = 1
        while short.lower() in used:
            suffix = str(i)
            short = name[: 10 - len(suffix) - 1] + "_" + suffix
            i += 1
        used.add(short.lower())
        out[name] = short
    return out


def _write_shp_zip(frame: pd.DataFrame, spec: LayerSpec, path: Path, dst: str) -> None:
    data = _typed_for_ogr(frame, spec)
    for c in spec.columns:
        if c.dtype != "str":
            continue
        for i, v in enumerate(data[c.name]):
            if v is not None and len(v.encode("utf-8")) > _SHP_TEXT_BYTES:
                msg = (
                    f"column {c.name!r} row {i + 1} holds more than {_SHP_TEXT_BYTES} bytes, the Shapefile limit; "
                    "export as GeoPackage or GeoJSON instead"
                )
                raise ValueError(msg)
    names = short_field_names(spec.column_names)
    data = data.rename(columns=names)
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(frame.geometry), crs=None), crs=_ogr_crs(dst))
    with tempfile.TemporaryDirectory(prefix="riskmap-shp-") as tmp:
        shp = Path(tmp) / f"{spec.key}.shp"
        pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile", encoding="UTF-8")
        (Path(tmp) / f"{spec.key}.cpg").write_text("UTF-8", encoding="ascii")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["short", "name", "label_zh", "label_en"])
        for c in spec.columns:
            w.writerow([names[c.name], c.name, c.label_zh, c.label_en])
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                part = shp.with_suffix(ext)
                if part.exists():
                    zf.write(part, arcname=part.name)
            zf.writestr("fields.csv", buf.getvalue().encode("utf-8"))


# ---------------------------------------------------------------- KML

_KML_NS = "http://www.opengis.net/kml/2.2"


def _kml_coords(coords: Any) -> str:
    return " ".join(f"{x!r},{y!r}" for x, y in ((float(c[0]), float(c[1])) for c in coords))


def _kml_geometry(parent: ElementTree.Element, g: BaseGeometry) -> None:
    E = ElementTree.SubElement
    if g.geom_type == "Point":
        E(E(parent, "Point"), "coordinates").text = _kml_coords(g.coords)
    elif g.geom_type == "Polygon":
        poly = E(parent, "Polygon")
        E(E(E(poly, "outerBoundaryIs"), "LinearRing"), "coordinates").text = _kml_coords(g.exterior.coords)
        for ring in g.interiors:
            E(E(E(poly, "innerBoundaryIs"), "LinearRing"), "coordinates").text = _kml_coords(ring.coords)
    else:
        multi = E(parent, "MultiGeometry")
        for part in g.geoms:
            _kml_geometry(multi, part)


def _write_kml(frame: pd.DataFrame, spec: LayerSpec, path: Path, dst: str) -> None:
    ElementTree.register_namespace("", _KML_NS)
    E = ElementTree.SubElement
    root = ElementTree.Element("kml", xmlns=_KML_NS)
    doc = E(root, "Document")
    E(doc, "name").text = f"{spec.name_zh} {spec.name_en}"
    title = "name" if "name" in spec.column_names else spec.id_column
    for rec, g in zip(_records(frame, spec), _geoms(frame, spec), strict=True):
        pm = E(doc, "Placemark")
        if title and rec.get(title) is not None:
            E(pm, "name").text = str(rec[title])
        ext = E(pm, "ExtendedData")
        for k, v in rec.items():
            if v is None:
                continue
            d = E(ext, "Data", name=k)
            E(d, "value").text = ("true" if v else "false") if isinstance(v, bool) else str(v)
        if g is not None:
            _kml_geometry(pm, g)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


# ---------------------------------------------------------------- CSV and XLSX


def _table(frame: pd.DataFrame, spec: LayerSpec, dst: str, *, for_excel: bool) -> tuple[list[str], list[list[Any]]]:
    headers = [_header(c.label_zh, c.name) for c in spec.columns]
    rows = []
    for rec in _records(frame, spec):
        row = []
        for c in spec.columns:
            v = rec[c.name]
            if isinstance(v, bool):
                v = "是" if v else "否"
            elif for_excel and c.dtype == "date" and v is not None:
                v = dt.date.fromisoformat(v)
            row.append(v)
        rows.append(row)
    if spec.geometry == "Point":
        geographic = dst in _CHINESE_SYSTEMS or _is_geographic(dst)
        headers += ["经度 lon", "纬度 lat"] if geographic else ["x", "y"]
        for row, g in zip(rows, _geoms(frame, spec), strict=True):
            row += [g.x, g.y] if g is not None else [None, None]
    elif spec.geometry == "Polygon":
        headers.append("几何 WKT")
        for i, (row, g) in enumerate(zip(rows, _geoms(frame, spec), strict=True)):
            wkt = shapely.to_wkt(g, rounding_precision=-1) if g is not None else None
            if for_excel and wkt is not None and len(wkt) > _XLSX_CELL_CHARS:
                msg = f"row {i + 1}: the polygon is too detailed for an Excel cell ({len(wkt):,} characters); export as GeoPackage or GeoJSON"
                raise ValueError(msg)
            row.append(wkt)
    return headers, rows


def _is_geographic(dst: str) -> bool:
    return pyproj.CRS.from_user_input(dst).is_geographic


def _write_csv(frame: pd.DataFrame, spec: LayerSpec, path: Path, dst: str) -> None:
    headers, rows = _table(frame, spec, dst, for_excel=False)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for row in rows:
            w.writerow(neutralise_row("" if v is None else repr(v) if isinstance(v, float) else v for v in row))


def _write_xlsx(frame: pd.DataFrame, spec: LayerSpec, path: Path, dst: str) -> None:
    headers, rows = _table(frame, spec, dst, for_excel=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = spec.key
    ws.append(headers)
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(neutralise_row(row), start=1):
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # text stays text, even "=…" (never a formula)
    for j, c in enumerate(spec.columns, start=1):
        if c.dtype == "date":
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    wb.save(path)
