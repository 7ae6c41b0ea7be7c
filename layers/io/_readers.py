"""Read an import file into a :class:`RawTable`: cells as written, geometry as found, nothing judged yet.

Every way a file can be unreadable (empty, truncated, not the format its name says, a zip
without a shapefile, an unknown encoding) ends in one :class:`ImportRejected` with a bilingual
message naming the file — never a traceback. Row-level problems found while reading (a feature
whose geometry cannot be parsed, a CSV row with more cells than the header) are kept in
``row_errors`` for the validator to report with the rest.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely
import shapely.errors
import shapely.geometry
from openpyxl.utils.exceptions import InvalidFileException
from shapely.geometry.base import BaseGeometry

from geo.crs import normalize_crs_name
from geo.errors import CoordinateError, ImportRejected
from layers.io._headers import GEOM_LABEL
from layers.io._issues import Issue, Unit

__all__ = ["RawTable", "read_file", "FORMATS", "format_of", "CrsLike", "decode_text"]

CrsLike = str | pyproj.CRS

#: file suffix → format name
FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shp",
    ".kml": "kml",
    ".csv": "csv",
    ".xlsx": "xlsx",
}
_HINTS = {
    ".xls": ("请在 Excel 中另存为 .xlsx", "save it as .xlsx in Excel"),
    ".shp": ("请把 .shp、.dbf、.shx、.prj（及 .cpg）打包为一个 .zip", "zip the .shp, .dbf, .shx, .prj (and .cpg) together"),
    ".kmz": ("请解压出其中的 .kml", "unzip it and import the .kml inside"),
}
_MAX_UNZIPPED = 2 * 1024**3
_MIB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """What one import may hold, checked before the file is read in full (settings
    ``import_max_file_mb``, ``import_max_unpacked_mb``, ``import_max_rows``, ``import_max_vertices``).

    A 1 MB zip can unpack to a gigabyte and a CSV of two million rows takes gigabytes once parsed:
    both are refused up front, with the limit and the setting named, instead of taking the server
    down while they are read.
    """

    file_mb: int = 100
    unpacked_mb: int = 500
    rows: int = 500_000
    vertices: int = 5_000_000


DEFAULT_LIMITS = ImportLimits()


def _too_big(name: str, what_zh: str, what_en: str, value: str, limit: str, setting: str) -> ImportRejected:
    return _reject(
        name, f"{what_zh}（{value}，上限 {limit}；可在设置 {setting} 中调整）",
        f"{what_en} ({value}; the limit is {limit}, setting {setting})",
    )


def _check_size(p: Path, fmt: str, limits: ImportLimits) -> None:
    """File size, unpacked size of zip containers and the row count of CSV/XLSX, without reading
    the contents into memory."""
    size = p.stat().st_size
    if size > limits.file_mb * _MIB:
        raise _too_big(p.name, "文件过大", "the file is too large", f"{size / _MIB:,.1f} MB", f"{limits.file_mb:,} MB", "import_max_file_mb")
    if fmt in ("shp", "xlsx"):
        try:
            with zipfile.ZipFile(p) as zf:
                unpacked = sum(i.file_size for i in zf.infolist())
        except (zipfile.BadZipFile, OSError):
            return  # the reader says what is wrong with it
        if unpacked > limits.unpacked_mb * _MIB:
            raise _too_big(
                p.name, "解压后过大", "it unpacks to too much", f"{unpacked / _MIB:,.0f} MB", f"{limits.unpacked_mb:,} MB",
                "import_max_unpacked_mb",
            )
    if fmt == "csv":
        lines = 0
        with p.open("rb") as fh:
            while chunk := fh.read(_MIB):
                lines += chunk.count(b"\n")
                if lines > limits.rows + 1:
                    raise _too_big(p.name, "行数过多", "too many rows", f"{limits.rows:,}+", f"{limits.rows:,}", "import_max_rows")


def _check_read(raw: RawTable, limits: ImportLimits) -> None:
    if len(raw) > limits.rows:
        raise _too_big(raw.name, "行数过多", "too many rows", f"{len(raw):,}", f"{limits.rows:,}", "import_max_rows")
    if raw.geometry:
        geoms = [g for g in raw.geometry if g is not None]
        vertices = int(shapely.get_num_coordinates(geoms).sum()) if geoms else 0
        if vertices > limits.vertices:
            raise _too_big(raw.name, "坐标点过多", "too many vertices", f"{vertices:,}", f"{limits.vertices:,}", "import_max_vertices")


@dataclass
class RawTable:
    """A file as read: attribute cells under the file's own headers, geometry, row numbers.

    ``rows[i]`` is the number the user sees for row ``i``: the spreadsheet row (header = row 1)
    for CSV/XLSX (``unit="row"``), the feature number from 1 otherwise (``unit="feature"``).
    ``crs`` is the file's own coordinate system (``.prj``, GeoPackage SRS, GeoJSON ``crs``),
    ``declared_crs`` the one the user gave, if any.
    """

    frame: pd.DataFrame
    geometry: list[BaseGeometry | None] | None
    rows: list[int]
    unit: Unit
    fmt: str
    name: str
    crs: CrsLike | None = None
    declared_crs: str | None = None
    encoding: str | None = None
    notes: list[Issue] = field(default_factory=list)
    row_errors: dict[int, list[Issue]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def note(self, zh: str, en: str, row: int | None = None, column: str | None = None) -> None:
        self.notes.append(Issue(row, column, zh, en, unit=self.unit))

    def row_error(self, pos: int, column: str | None, zh: str, en: str) -> None:
        self.row_errors.setdefault(pos, []).append(Issue(self.rows[pos], column, zh, en, unit=self.unit))


def _reject(name: str, zh: str, en: str) -> ImportRejected:
    zh, en = f"{name}：{zh}", f"{name}: {en}"
    return ImportRejected(f"{zh} / {en}", rows=[Issue(None, None, zh, en)])


def format_of(path: Path | str) -> str:
    """The format of a file by its suffix; :class:`ImportRejected` for an unsupported one."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    zh, en = f"不支持的文件类型 {suffix or '（无扩展名）'}", f"unsupported file type {suffix or '(no extension)'}"
    hint = _HINTS.get(suffix)
    supported = " ".join(dict.fromkeys(FORMATS))
    if hint:
        zh, en = f"{zh}；{hint[0]}", f"{en}; {hint[1]}"
    raise _reject(p.name, f"{zh}（支持 {supported}）", f"{en} (supported: {supported})")


def read_file(
    path: Path | str, *, crs: str | None = None, layer: str | None = None, key: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> RawTable:
    """Read an import file.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg``, ``.zip`` (a zipped Shapefile), ``.kml``, ``.csv`` or ``.xlsx``.
    crs
        The coordinate system the user declares (``wgs84``, ``gcj02``, ``bd09``, ``EPSG:n``);
        checked here, applied by :func:`layers.io.validate`. Overrides the file's own.
    layer
        GeoPackage layer, shapefile name in the zip, or XLSX sheet to read (default: one named
        like ``key``, else the first, with a note).
    key
        The target layer key, used only to pick a same-named layer/sheet.
    limits
        Size, unpacked size, rows and vertices (:class:`ImportLimits`), checked before reading
        the file in full where the format allows it, and again on what was read.
    """
    p = Path(path)
    declared = normalize_crs_name(crs) if crs else None
    fmt = format_of(p)
    if not p.exists():
        msg = f"file not found: {p}"
        raise FileNotFoundError(msg)
    if p.stat().st_size == 0:
        raise _reject(p.name, "文件为空", "the file is empty")
    _check_size(p, fmt, limits)
    reader = {
        "geojson": _read_geojson,
        "gpkg": _read_gpkg,
        "shp": _read_shp_zip,
        "kml": _read_kml,
        "csv": _read_csv,
        "xlsx": _read_xlsx,
    }[fmt]
    try:
        raw = reader(p, layer=layer, key=key, max_rows=limits.rows)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _reject(
            p.name, f"文件已损坏（{exc}），请重新导出或重新下载后再导入",
            f"the file is damaged ({exc}); export or download it again, then import it",
        ) from None
    except RecursionError:
        raise _reject(
            p.name, "JSON 嵌套层数过多，无法读取（GeoJSON 不会这样嵌套，文件可能有误）",
            "the JSON is nested too deeply to read (GeoJSON never is; the file is probably wrong)",
        ) from None
    raw.declared_crs = declared
    _check_read(raw, limits)
    if len(raw) == 0:
        raise _reject(p.name, "文件中没有数据行", "the file has no data rows")
    return raw


# ---------------------------------------------------------------- text and encodings

_ENC_LABEL = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GBK/GB18030", "utf-16": "UTF-16", "big5": "Big5"}
#: The legacy encodings Chinese files come in when they are not UTF-8 (mainland GBK/GB18030,
#: Hong Kong / Taiwan Big5). Either decodes most bytes of the other without error, so a detector
#: decides which text is coherent (charset-normalizer, a well-kept detector: chaos and language
#: coherence per candidate).
_LEGACY = ("gb18030", "big5")


def _detect_legacy(data: bytes) -> str | None:
    """GB18030 or Big5, whichever reads ``data`` as coherent text; ``None`` when neither does or
    the two cannot be told apart (the caller refuses: never a guess)."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=list(_LEGACY), threshold=0.2))
    if not matches:
        return None
    matches.sort(key=lambda m: (m.chaos, -m.coherence))
    best = matches[0]
    if len(matches) > 1:
        other = matches[1]
        if abs(best.chaos - other.chaos) < 0.01 and abs(best.coherence - other.coherence) < 0.01:
            return None
    return best.encoding if best.encoding in _LEGACY else None


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Text and codec: UTF-16 by its BOM, else UTF-8 (with or without BOM) strictly, else GB18030
    or Big5 as :func:`_detect_legacy` decides, else refused naming the encodings tried."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        except UnicodeDecodeError:
            pass
        codec = _detect_legacy(data)
        if codec is not None:
            return data.decode(codec, errors="replace"), codec
    raise _reject(
        name,
        "无法可靠识别文字编码（已尝试 UTF-8、GBK/GB18030、Big5）；请将文件另存为 UTF-8 后再导入",
        "cannot tell the text encoding reliably (tried UTF-8, GBK/GB18030 and Big5); save the file as UTF-8 and import it again",
    )


def _encoding_note(raw: RawTable, codec: str) -> None:
    label = _ENC_LABEL.get(codec, codec)
    raw.encoding = label
    raw.note(f"文字编码：{label}（自动识别）", f"text encoding: {label} (detected)")


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if v is pd.NaT or v is pd.NA:
        return None
    return v


# ---------------------------------------------------------------- CSV and XLSX


def _table(records: list[tuple[int, list[Any]]], name: str, fmt: str) -> RawTable:
    """A table from ``(spreadsheet row, cells)``: header = first non-blank record."""

    def blank(cells: list[Any]) -> bool:
        return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)

    start = next((i for i, (_, cells) in enumerate(records) if not blank(cells)), None)
    if start is None:
        raise _reject(name, "文件中没有表头和数据", "the file has no header and no data")
    header_row, header_cells = records[start]
    width = len(header_cells)
    while width and (header_cells[width - 1] is None or not str(header_cells[width - 1]).strip()):
        width -= 1
    headers: list[str] = []
    for i, h in enumerate(header_cells[:width]):
        text = str(h).strip() if h is not None else ""
        text = text or f"(第 {i + 1} 列 column {i + 1})"
        base, n = text, 2
        while text in headers:
            text = f"{base} ({n})"
            n += 1
        headers.append(text)
    rows: list[int] = []
    data: list[list[Any]] = []
    extra: dict[int, int] = {}
    skipped = 0
    for row, cells in records[start + 1 :]:
        if blank(cells):
            skipped += 1
            continue
        cells = [_cell(c) for c in cells]
        over = [c for c in cells[width:] if not blank([c])]
        if over:
            extra[len(rows)] = len(over)
        rows.append(row)
        data.append((cells + [None] * width)[:width])
    raw = RawTable(pd.DataFrame(data, columns=headers, dtype=object), None, rows, "row", fmt, name)
    if header_row != 1:
        raw.note(f"表头在第 {header_row} 行", f"the header is on row {header_row}")
    trailing = 0
    for _, cells in reversed(records):
        if not blank(cells):
            break
        trailing += 1
    if skipped - trailing > 0:
        raw.note(f"跳过 {skipped - trailing} 个空行", f"{skipped - trailing} blank rows skipped")
    for pos, n in extra.items():
        raw.row_error(pos, None, f"比表头多出 {n} 个非空单元格", f"{n} more non-empty cells than the header has")
    return raw


def _read_csv(p: Path, **_: Any) -> RawTable:
    text, codec = decode_text(p.read_bytes(), p.name)
    if not text.strip():
        raise _reject(p.name, "文件为空", "the file is empty")
    first = text.lstrip().split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first.count) if any(d in first for d in ",\t;") else ","
    try:
        records = [(i + 1, list(r)) for i, r in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))]
    except csv.Error as exc:
        raise _reject(p.name, f"不是有效的 CSV（{exc}）", f"not a valid CSV file ({exc})") from None
    records = [(i, [c if c.strip() else None for c in cells]) for i, cells in records]
    raw = _table(records, p.name, "csv")
    _encoding_note(raw, codec)
    if delimiter != ",":
        raw.note("分隔符为制表符" if delimiter == "\t" else "分隔符为分号", f"delimiter: {delimiter!r}")
    return raw


def _read_xlsx(p: Path, *, layer: str | None = None, key: str | None = None, max_rows: int | None = None) -> RawTable:
    try:
        wb = openpyxl.load_workbook(p, data_only=True, read_only=True)  # streamed, row by row
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError):
        raise _reject(p.name, "不是有效的 Excel (.xlsx) 工作簿", "not a valid Excel .xlsx workbook") from None
    try:
        names = wb.sheetnames
        if layer is not None:
            if layer not in names:
                raise _reject(p.name, f"没有名为 {layer} 的工作表（有：{'、'.join(names)}）", f"no sheet named {layer!r} (sheets: {', '.join(names)})")
            sheet = layer
        else:
            sheet = key if key in names else names[0]
        ws = wb[sheet]
        if max_rows is not None and (ws.max_row or 0) > max_rows + 1:  # the sheet's stated dimension
            raise _too_big(p.name, "行数过多", "too many rows", f"{ws.max_row - 1:,}", f"{max_rows:,}", "import_max_rows")
        records = []
        for i, r in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            if max_rows is not None and i > max_rows + 1:  # a sheet whose dimension was missing or wrong
                raise _too_big(p.name, "行数过多", "too many rows", f"{max_rows:,}+", f"{max_rows:,}", "import_max_rows")
            records.append((i, list(r)))
    finally:
        wb.close()
    records = [(i, [c.isoformat() if hasattr(c, "isoformat") and not hasattr(c, "year") else c for c in cells]) for i, cells in records]
    raw = _table(records, p.name, "xlsx")
    if len(names) > 1:
        raw.note(f"读取工作表“{sheet}”（共 {len(names)} 个）", f"read sheet {sheet!r} (of {len(names)})")
    return raw


# ---------------------------------------------------------------- GeoJSON


def file_crs(crs: Any) -> CrsLike | None:
    """``wgs84``/``EPSG:n`` for a CRS with a code, else the pyproj CRS itself; ``None`` if absent."""
    if crs is None or crs == "":
        return None
    c = pyproj.CRS.from_user_input(crs)
    auth = c.to_authority(min_confidence=70)
    if auth and auth[0] == "OGC" and auth[1] == "CRS84":
        return "wgs84"
    if auth and auth[0] == "EPSG":
        return normalize_crs_name(f"EPSG:{auth[1]}")
    return c


def _shape(geom: Any) -> BaseGeometry:
    return shapely.geometry.shape(geom)


def _read_geojson(p: Path, **_: Any) -> RawTable:
    text, codec = decode_text(p.read_bytes(), p.name)
    if not text.strip():
        raise _reject(p.name, "文件为空", "the file is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _reject(
            p.name,
            f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}；文件可能不完整）",
            f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}; the file may be truncated)",
        ) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = doc["features"]
    else:
        raise _reject(p.name, "不是 GeoJSON 要素集合（FeatureCollection）", "not a GeoJSON FeatureCollection")
    crs = None
    member = doc.get("crs")
    if member:
        name = (member.get("properties") or {}).get("name") if isinstance(member, dict) else None
        try:
            crs = file_crs(name)
        except (pyproj.exceptions.CRSError, CoordinateError, TypeError):
            raise _reject(p.name, f"无法识别文件声明的坐标系 {name!r}；请指定 --crs", f"unknown coordinate system {name!r} in the file; give --crs") from None
    props: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    bad: dict[int, tuple[str, str]] = {}
    for i, f in enumerate(features):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            props.append({})
            geoms.append(None)
            bad[i] = ("不是 GeoJSON 要素（Feature）", "not a GeoJSON Feature")
            continue
        pr = f.get("properties") or {}
        props.append({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in pr.items()} if isinstance(pr, dict) else {})
        g = f.get("geometry")
        if g is None:
            geoms.append(None)
            continue
        try:
            geoms.append(_shape(g))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
            geoms.append(None)
            bad[i] = (f"几何无法读取（{exc}）", f"geometry cannot be read ({exc})")
    columns = list(dict.fromkeys(k for pr in props for k in pr))
    frame = pd.DataFrame([[_cell(pr.get(c)) for c in columns] for pr in props], columns=columns, dtype=object)
    raw = RawTable(frame, geoms, list(range(1, len(features) + 1)), "feature", "geojson", p.name, crs=crs)
    for i, (zh, en) in bad.items():
        raw.row_error(i, GEOM_LABEL, zh, en)
    if codec not in ("utf-8", "utf-8-sig"):
        _encoding_note(raw, codec)
    return raw


# ---------------------------------------------------------------- GeoPackage and Shapefile (via pyogrio)


def _from_ogr(path: Path, name: str, fmt: str, *, layer: str | None, encoding: str | None = None) -> RawTable:
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        df = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="ignore")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, pyogrio.errors.FeatureError, UnicodeDecodeError) as exc:
        kind = "GeoPackage" if fmt == "gpkg" else "Shapefile"
        raise _reject(name, f"无法读取 {kind}（{exc}）", f"cannot read the {kind} ({exc})") from None
    geoms = None
    if "geometry" in df.columns:
        geoms = [None if g is None or (isinstance(g, float)) else g for g in df["geometry"]]
        df = pd.DataFrame(df.drop(columns="geometry"))
    frame = pd.DataFrame({c: [_cell(v) for v in df[c].tolist()] for c in df.columns}, dtype=object)
    crs = None
    if info.get("crs"):
        try:
            crs = file_crs(info["crs"])
        except (pyproj.exceptions.CRSError, CoordinateError):
            crs = None
    return RawTable(frame, geoms, list(range(1, len(frame) + 1)), "feature", fmt, name, crs=crs)


def _read_gpkg(p: Path, *, layer: str | None = None, key: str | None = None, **_: Any) -> RawTable:
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(p)]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        raise _reject(p.name, "不是有效的 GeoPackage", "not a valid GeoPackage") from None
    layers = [n for n in layers if n != "riskmap_meta"] or layers
    if not layers:
        raise _reject(p.name, "GeoPackage 中没有图层", "the GeoPackage has no layers")
    if layer is not None and layer not in layers:
        raise _reject(p.name, f"没有名为 {layer} 的图层（有：{'、'.join(layers)}）", f"no layer named {layer!r} (layers: {', '.join(layers)})")
    chosen = layer or (key if key in layers else layers[0])
    raw = _from_ogr(p, p.name, "gpkg", layer=chosen)
    if len(layers) > 1:
        raw.note(f"读取图层“{chosen}”（共 {len(layers)} 个：{'、'.join(layers)}）", f"read layer {chosen!r} (of {len(layers)}: {', '.join(layers)})")
    return raw


_CODEPAGES = {"936": "gb18030", "65001": "utf-8", "950": "big5", "54936": "gb18030"}


def _cpg_codec(text: str, name: str) -> str:
    t = text.strip().strip("\ufeff")
    m = re.fullmatch(r"(?:ansi\s*|cp\s*)?(\d+)", t, flags=re.IGNORECASE)
    if m:
        t = _CODEPAGES.get(m[1], f"cp{m[1]}")
    try:
        codec = codecs.lookup(t).name
    except LookupError:
        raise _reject(name, f".cpg 中的编码 {t!r} 无法识别", f"unknown encoding {t!r} in the .cpg file") from None
    return "gb18030" if codec in ("gbk", "gb2312", "gb18030") else codec


def _dbf_text(data: bytes, name: str) -> bytes:
    """The text parts of a .dbf (field names and records; not the binary header).

    Field names are cut at 10 bytes, often in the middle of a multi-byte character; the
    incomplete tail of each name is left out so it does not spoil the detection.
    """
    if len(data) < 33 or data[0] not in (0x02, 0x03, 0x30, 0x31, 0x83, 0x8B, 0xF5):
        raise _reject(name, ".dbf 文件损坏", "the .dbf file is damaged")
    n = int.from_bytes(data[4:8], "little")
    header_len = int.from_bytes(data[8:10], "little")
    rec_len = max(int.from_bytes(data[10:12], "little"), 1)
    names = []
    for off in range(32, header_len - 1, 32):
        if data[off] == 0x0D:
            break
        names.append(_whole_chars(data[off : off + 11].split(b"\0", 1)[0]))
    count = min(n, max(1, 4_000_000 // rec_len))
    return b"\n".join(names) + b"\n" + data[header_len : header_len + count * rec_len]


def _trim_incomplete(field: bytes, codec: str) -> bytes | None:
    """``field`` without a trailing incomplete character of ``codec``; ``None`` if it is not that codec."""
    for cut in range(4):
        head = field[: len(field) - cut]
        try:
            head.decode(codec)
            return head
        except UnicodeDecodeError:
            continue
    return None


def _whole_chars(field: bytes) -> bytes:
    """A field name without a trailing incomplete UTF-8 or GBK character (when there is one)."""
    for codec in ("utf-8", "gb18030"):
        head = _trim_incomplete(field, codec)
        if head is not None:
            return head
    return field


def _repair_field_names(data: bytes, codec: str) -> tuple[bytes, list[str]]:
    """Blank out the incomplete last character of field names cut at 10 bytes (GDAL would fail on them)."""
    out = bytearray(data)
    header_len = int.from_bytes(data[8:10], "little")
    cut_names = []
    for off in range(32, header_len - 1, 32):
        if data[off] == 0x0D:
            break
        field = data[off : off + 11].split(b"\0", 1)[0]
        head = _trim_incomplete(field, codec)
        if head is not None and head != field:
            out[off : off + 11] = head.ljust(11, b"\0")
            cut_names.append(head.decode(codec))
    return bytes(out), cut_names


def _dbf_codec(data: bytes, name: str) -> str:
    sample = _dbf_text(data, name)
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    codec = _detect_legacy(sample)
    if codec is None:
        raise _reject(
            name, "无法可靠识别 .dbf 的文字编码（已尝试 UTF-8、GBK/GB18030、Big5）；请在压缩包中加入 .cpg 文件",
            "cannot tell the .dbf text encoding reliably (tried UTF-8, GBK/GB18030 and Big5); add a .cpg file to the zip",
        )
    return codec


def _read_shp_zip(p: Path, *, layer: str | None = None, key: str | None = None, **_: Any) -> RawTable:
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError):
        raise _reject(p.name, "不是有效的 ZIP 压缩包", "not a valid ZIP archive") from None
    with zf:
        members = [
            i for i in zf.infolist()
            if not i.is_dir() and "__MACOSX/" not in i.filename and not PurePosixPath(i.filename).name.startswith("._")
        ]
        by_lower = {i.filename.lower(): i for i in members}
        shps = sorted(i.filename for i in members if i.filename.lower().endswith(".shp"))
        if not shps:
            listing = ", ".join(PurePosixPath(i.filename).name for i in members[:10]) or "-"
            raise _reject(p.name, f"压缩包中没有 .shp 文件（内含：{listing}）", f"the zip contains no .shp file (it has: {listing})")
        stems = {PurePosixPath(s).stem: s for s in shps}
        if layer is not None and layer not in stems:
            raise _reject(p.name, f"压缩包中没有 {layer}.shp（有：{'、'.join(stems)}）", f"no {layer}.shp in the zip (it has: {', '.join(stems)})")
        chosen = stems[layer] if layer else stems.get(key or "", shps[0])
        base = chosen[:-4]
        parts = {}
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            info = by_lower.get((base + ext).lower())
            if info is not None:
                parts[ext] = info
        for ext in (".dbf", ".shx"):
            if ext not in parts:
                shp = PurePosixPath(chosen).name
                raise _reject(p.name, f"{shp} 缺少配套的 {ext} 文件", f"{shp} has no matching {ext} file in the zip")
        if sum(i.file_size for i in parts.values()) > _MAX_UNZIPPED:
            raise _reject(p.name, "压缩包解压后过大（超过 2 GB）", "the zip unpacks to more than 2 GB")
        folder = PurePosixPath(chosen).parent
        sidecar = by_lower.get("fields.csv" if str(folder) == "." else f"{folder}/fields.csv".lower())
        with tempfile.TemporaryDirectory(prefix="riskmap-shp-") as tmp:
            for ext, info in parts.items():
                (Path(tmp) / f"layer{ext}").write_bytes(zf.read(info))
            dbf = (Path(tmp) / "layer.dbf").read_bytes()
            if ".cpg" in parts:
                codec = _cpg_codec(zf.read(parts[".cpg"]).decode("ascii", "replace"), p.name)
                sample = _dbf_text(dbf, p.name)
                try:
                    sample.decode(codec)
                    # a .cpg that names one legacy encoding for text in the other is not believed
                    other = _detect_legacy(sample) if codec in _LEGACY else None
                    if other is not None and other != codec:
                        raise UnicodeDecodeError(codec, b"", 0, 1, "the text reads as " + other)
                except UnicodeDecodeError:
                    raise _reject(
                        p.name, f".cpg 声明编码为 {codec}，但 .dbf 内容不是该编码；请更正或删除 .cpg",
                        f"the .cpg says {codec} but the .dbf is not in that encoding; fix or remove the .cpg",
                    ) from None
                how = ("（来自 .cpg）", "(from the .cpg file)")
            else:
                codec = _dbf_codec(dbf, p.name)
                how = ("（无 .cpg，按 .dbf 内容识别）", "(no .cpg; detected from the .dbf)")
            dbf, cut_names = _repair_field_names(dbf, codec)
            (Path(tmp) / "layer.dbf").write_bytes(dbf)
            raw = _from_ogr(Path(tmp) / "layer.shp", p.name, "shp", layer=None, encoding=codec)
        for field in cut_names:
            raw.note(
                f"字段名“{field}…”在第 10 字节处被截断（Shapefile 的限制），请核对",
                f"field name {field!r}… was cut at 10 bytes (a Shapefile limit); please check",
            )
        mapping = _fields_mapping(zf.read(sidecar)) if sidecar is not None else {}
    if mapping:
        raw.frame = raw.frame.rename(columns=mapping)
        raw.note("按压缩包内 fields.csv 还原字段名", "field names restored from fields.csv in the zip")
    label = _ENC_LABEL.get(codec, codec.upper())
    raw.encoding = label
    raw.note(f".dbf 文字编码：{label}{how[0]}", f".dbf text encoding: {label} {how[1]}")
    if len(shps) > 1:
        raw.note(f"读取 {PurePosixPath(chosen).name}（压缩包中共 {len(shps)} 个 .shp）", f"read {PurePosixPath(chosen).name} ({len(shps)} .shp files in the zip)")
    return raw


def _fields_mapping(data: bytes) -> dict[str, str]:
    text = data.decode("utf-8-sig", "replace")
    rows = list(csv.DictReader(io.StringIO(text)))
    return {r["short"]: r["name"] for r in rows if r.get("short") and r.get("name")}


# ---------------------------------------------------------------- KML

_GEOM_TAGS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _coords(el: ElementTree.Element | None) -> list[tuple[float, float]]:
    if el is None or not (el.text or "").strip():
        msg = "no coordinates"
        raise ValueError(msg)
    out = []
    for tup in el.text.split():
        parts = tup.split(",")
        if len(parts) < 2:
            msg = f"bad coordinate tuple {tup!r}"
            raise ValueError(msg)
        out.append((float(parts[0]), float(parts[1])))
    return out


def _child(el: ElementTree.Element, *path: str) -> ElementTree.Element | None:
    cur: ElementTree.Element | None = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur if _local(c.tag) == name), None)
    return cur


def _kml_geometry(el: ElementTree.Element) -> BaseGeometry:
    tag = _local(el.tag)
    if tag == "Point":
        return shapely.Point(_coords(_child(el, "coordinates"))[0])
    if tag in ("LineString", "LinearRing"):
        return shapely.LineString(_coords(_child(el, "coordinates")))
    if tag == "Polygon":
        shell = _coords(_child(el, "outerBoundaryIs", "LinearRing", "coordinates"))
        holes = [
            _coords(_child(b, "LinearRing", "coordinates")) for b in el if _local(b.tag) == "innerBoundaryIs"
        ]
        return shapely.Polygon(shell, holes)
    parts = [_kml_geometry(c) for c in el if _local(c.tag) in _GEOM_TAGS]
    if parts and all(g.geom_type in ("Polygon", "MultiPolygon") for g in parts):
        return shapely.MultiPolygon([q for g in parts for q in getattr(g, "geoms", [g])])
    if parts and all(g.geom_type == "Point" for g in parts):
        return shapely.MultiPoint(parts)
    return shapely.GeometryCollection(parts)


def _read_kml(p: Path, **_: Any) -> RawTable:
    try:
        root = ElementTree.fromstring(p.read_bytes())
    except ElementTree.ParseError as exc:
        raise _reject(p.name, f"不是有效的 KML/XML（{exc}）", f"not valid KML/XML ({exc})") from None
    if _local(root.tag) != "kml":
        raise _reject(p.name, "不是 KML 文件（根元素不是 <kml>）", "not a KML file (the root element is not <kml>)")
    placemarks = [e for e in root.iter() if _local(e.tag) == "Placemark"]
    records: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    bad: dict[int, str] = {}
    for i, pm in enumerate(placemarks):
        rec: dict[str, Any] = {}
        ext = _child(pm, "ExtendedData")
        if ext is not None:
            for d in ext.iter():
                tag = _local(d.tag)
                if tag == "Data" and d.get("name"):
                    v = _child(d, "value")
                    rec[d.get("name")] = v.text if v is not None else None
                elif tag == "SimpleData" and d.get("name"):
                    rec[d.get("name")] = d.text
        # <name>/<description> become columns unless they only repeat an ExtendedData value
        keys = {k.strip().lower() for k in rec}
        repeated = {(v or "").strip() for v in rec.values()}
        for tag in ("name", "description"):
            el = _child(pm, tag)
            text = (el.text or "").strip() if el is not None else ""
            if text and tag not in keys and text not in repeated:
                rec[tag] = el.text
        records.append({k: (v if v is None or v.strip() else None) for k, v in rec.items()})
        gel = next((c for c in pm if _local(c.tag) in _GEOM_TAGS), None)
        if gel is None:
            geoms.append(None)
            continue
        try:
            geoms.append(_kml_geometry(gel))
        except (ValueError, IndexError, shapely.errors.ShapelyError) as exc:
            geoms.append(None)
            bad[i] = str(exc)
    columns = list(dict.fromkeys(k for r in records for k in r))
    frame = pd.DataFrame([[r.get(c) for c in columns] for r in records], columns=columns, dtype=object)
    raw = RawTable(frame, geoms, list(range(1, len(records) + 1)), "feature", "kml", p.name, crs="wgs84")
    for i, why in bad.items():
        raw.row_error(i, GEOM_LABEL, f"几何无法读取（{why}）", f"geometry cannot be read ({why})")
    return raw
