"""Import and export of layers: bad input gets a clear error and loses nothing.

    raw = read_file("sites.csv")                    # cells as written; malformed file → ImportRejected
    checked = validate(raw, "testing_sites", crs="gcj02")   # .good (WGS-84), .rejects, .notes
    import_file("sites.csv", "testing_sites", store=store, crs="gcj02")   # all or nothing
    export_layer(store, "testing_sites", "sites.xlsx", crs="gcj02")

Formats: GeoJSON (``.geojson``/``.json``), GeoPackage (``.gpkg``), zipped Shapefile (``.zip``),
KML (``.kml``), CSV (``.csv``; UTF-8, UTF-8 with BOM or GBK/GB18030, detected) and Excel
(``.xlsx``). Coordinate systems: ``wgs84``, ``gcj02``, ``bd09``, ``EPSG:n``.

Every reject is ``(row, column, reason_zh, reason_en)``: ``row`` is the spreadsheet row number
for CSV/XLSX (the header is row 1, so the first data row is 2) and the feature number (from 1)
for the other formats; ``None`` for a problem with the whole file. Values of personal columns
never appear in messages; the rejects file the operator asks for does hold the rows as given.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import shapely

from geo.errors import ImportRejected
from layers import get_spec
from layers._cells import neutralise_row
from layers.io._issues import Issue, Unit, format_issue, row_numbers_note
from layers.io._readers import (
    DEFAULT_LIMITS,
    FORMATS,
    ImportLimits,
    RawTable,
    decode_text,
    format_of,
    read_file,
)
from layers.io._validate import Validated, validate
from layers.io._writers import export_frame, export_layer, short_field_names

__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "ImportLimits",
    "ImportReport",
    "Issue",
    "RawTable",
    "Validated",
    "decode_text",
    "export_frame",
    "export_layer",
    "format_issue",
    "format_of",
    "import_file",
    "read_table",
    "read_file",
    "short_field_names",
    "validate",
    "write_rejects",
    "rejects_path_for",
]


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows written, rows skipped (each in ``rejects``), notes, files."""

    key: str
    path: Path
    mode: str
    written: int
    layer_rows: int
    total: int
    unit: Unit
    rejects: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)
    rejects_path: Path | None = None
    encoding: str | None = None
    crs_used: str | None = None
    changes: pd.DataFrame | None = None  # a daily risk-area list: added / changed / lifted

    @property
    def skipped(self) -> int:
        return len({r.row for r in self.rejects if r.row is not None})

    def summary(self) -> str:
        """One bilingual sentence: what was written, what was skipped and where the rejects are."""
        spec = get_spec(self.key)
        unit_zh = "个要素" if self.unit == "feature" else "行"
        unit_en = "feature" if self.unit == "feature" else "row"
        verb_zh, verb_en = {"replace": ("替换为", "replaced the layer with"), "daily": ("按当日名单核对", "checked the daily list of")}.get(
            self.mode, ("导入", "imported"))
        zh = f"已{verb_zh} {self.written} 行到“{spec.name_zh}”（{self.key}），该图层现有 {self.layer_rows} 行"
        en = f"{verb_en} {_count(self.written, 'row')} into {spec.name_en} ({self.key}); the layer now has {_count(self.layer_rows, 'row')}"
        if self.rejects:
            zh += f"；跳过 {self.skipped} {unit_zh}（{len(self.rejects)} 处问题）"
            en += f"; skipped {_count(self.skipped, unit_en)} ({_count(len(self.rejects), 'problem')})"
            if self.rejects_path is not None:
                zh += f"，详见 {self.rejects_path.name}"
                en += f", listed in {self.rejects_path.name}"
        return f"{zh}。 / {en[0].upper()}{en[1:]}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def rejects_path_for(path: Path | str) -> Path:
    """The default rejects file: ``<file stem>.rejects.csv`` beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}.rejects.csv")


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:
        return ""
    return str(v)


def write_rejects(checked: Validated, path: Path | str) -> Path:
    """Write every reject with the original row values (UTF-8 with BOM, so Excel opens it).

    Columns: ``行号 row`` (or ``要素 feature``), ``列 column``, ``错误原因 reason_zh``,
    ``reason_en``, then the row's cells under the file's own headers (and ``几何 WKT`` for
    files with geometry). A row with several problems appears once per problem.
    """
    raw = checked.raw
    path = Path(path)
    headers = [str(h) for h in raw.frame.columns]
    with_geom = raw.geometry is not None
    pos_of = {row: i for i, row in enumerate(raw.rows)}
    first = "要素 feature" if raw.unit == "feature" else "行号 row"
    cells = raw.frame.to_numpy(dtype=object) if len(headers) else None
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([first, "列 column", "错误原因 reason_zh", "reason_en", *headers, *(["几何 WKT"] if with_geom else [])])
        for r in checked.rejects:
            line = ["" if r.row is None else r.row, r.column or "", r.reason_zh, r.reason_en]
            pos = pos_of.get(r.row) if r.row is not None else None
            if pos is None:
                line += [""] * (len(headers) + with_geom)
            else:
                line += [_cell_text(v) for v in (cells[pos] if cells is not None else [])]
                if with_geom:
                    g = raw.geometry[pos]
                    line.append(shapely.to_wkt(g, rounding_precision=-1) if g is not None else "")
            w.writerow(neutralise_row(line))
    return path


def _rejected(checked: Validated, *, skip_hint: bool) -> ImportRejected:
    if checked.fatal:
        errors = [r for r in checked.rejects if r.row is None]
        zh = "；".join(r.reason_zh for r in errors)
        en = "; ".join(r.reason_en for r in errors)
        msg = f"{checked.raw.name}：{zh}；未写入任何数据 / {checked.raw.name}: {en}; nothing was written"
    else:
        bad = len(checked.rejected_rows)
        how_zh, how_en = row_numbers_note(checked.unit)
        unit_zh = "个要素" if checked.unit == "feature" else "行"
        unit_en = "features" if checked.unit == "feature" else "rows"
        zh = f"导入被拒绝：{checked.total} {unit_zh}中有 {bad} {unit_zh}有问题（共 {len(checked.rejects)} 处），未写入任何数据；{how_zh}"
        en = f"import rejected: {bad} of {checked.total} {unit_en} have problems ({len(checked.rejects)} in all); nothing was written; {how_en}"
        if skip_hint:
            zh += "；可选择跳过错误行（--skip-bad）只导入无误的行"
            en += "; choose to skip bad rows (--skip-bad) to import the good ones"
        msg = f"{zh} / {en}"
    exc = ImportRejected(msg, rows=list(checked.rejects))
    for note in checked.notes:
        exc.add_note(format_issue(note))
    return exc


def _check_zones(checked: Validated, store: Any, mode: str, city_adcode: str) -> None:
    """The planning page's zone rules (:func:`layers.zone_rules.check_zone_import`) on every zone
    import: inside the city, valid, no double of a zone of the same tier in force (the stored
    zones when appending) or earlier in the file. Refused rows join the other rejects."""
    if checked.fatal or checked.good.empty:
        return
    from layers.zone_rules import check_zone_import, city_shape

    existing = store.read("zones") if mode == "append" and store.exists() and "zones" in store.layers() else None
    good, rejects, notes = check_zone_import(checked.good, checked.good_rows, existing=existing, city=city_shape(city_adcode),
                                             unit=checked.unit)
    bad = {r.row for r in rejects}
    checked.good = good
    checked.good_rows = [r for r in checked.good_rows if r not in bad]
    checked.rejects = sorted([*checked.rejects, *rejects], key=lambda r: (r.row is not None, r.row or 0))
    checked.notes = [*checked.notes, *notes]


def read_table(
    path: Path | str,
    *,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
    what: tuple[str, str],
    limits: ImportLimits | None = None,
) -> tuple[RawTable, Any]:
    """A CSV or XLSX file of records that are not a map layer (follow-up outcomes, daily reports):
    its headers mapped the way every import maps them (:func:`layers.io._headers.map_headers` on
    ``columns``: column → accepted headers; ``columns[c][0]`` is its Chinese name) and the frame
    renamed to the columns. ``what``: the records, (zh, en), for messages. Raises
    ``ImportRejected`` for another format, or naming every missing, unknown or doubled column."""
    from layers.io._headers import header_keys, map_headers

    name = Path(path).name
    raw = read_file(path, limits=limits or DEFAULT_LIMITS)
    if raw.fmt not in ("csv", "xlsx"):
        zh, en = f"{what[0]}只能从 CSV 或 XLSX 导入", f"{what[1]} are imported from CSV or XLSX only"
        raise ImportRejected(f"{name}：{zh} / {name}: {en}", rows=[Issue(None, None, zh, en)])
    headers = [str(h) for h in raw.frame.columns]
    cmap = map_headers(headers, keys=header_keys(columns, what=what[1]))
    clashes = [(t, hs) for t, hs in cmap.clashes if not t.startswith(":")]  # ":lon" etc.: not columns here
    placed = set(cmap.schema.values()) | {h for _, hs in clashes for h in hs}
    unknown = [h for h in headers if h not in placed]
    missing = [c for c in required if c not in cmap.schema and c not in dict(clashes)]  # doubled is not missing
    issues = []
    if missing:
        need = ", ".join(f"{c}（{columns[c][0]}）" for c in missing)
        issues.append(Issue(None, None, f"缺少列：{need}", f"missing columns: {', '.join(missing)}"))
    issues += [Issue(None, h, f"未知的列 {h!r}", f"unknown column {h!r}") for h in unknown]
    issues += [Issue(None, t, f"多列对应 {t}：{'、'.join(hs)}", f"several columns for {t}: {', '.join(hs)}") for t, hs in clashes]
    if issues:
        raise ImportRejected(f"{name}：列名不符 / {name}: columns do not match", rows=issues)
    return raw, raw.frame.rename(columns={h: c for c, h in cmap.schema.items()})


def import_file(
    path: Path | str,
    key: str,
    *,
    store: Any,
    crs: str | None = None,
    skip_bad: bool = False,
    rejects_path: Path | str | None = None,
    mode: Literal["append", "replace", "daily"] = "append",
    layer: str | None = None,
    city_adcode: str = "140100",
    audit: Callable[[int, int], None] | None = None,
    as_of: object | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    progress: Callable[[str], None] | None = None,
    user: str = "system",
) -> ImportReport:
    """Read, validate and write a file into layer ``key`` of ``store``.

    ``audit(rows_to_write, rows_rejected)`` is called after the checks and *before* the write: if
    it raises (the audit trail cannot be written), nothing is written — an import that cannot be
    audited does not happen. ``progress(stage)`` is told ``read``, ``validate`` and ``write`` as
    each begins. A daily list (``mode="daily"``) older than one applied is refused
    (:func:`layers.risk_areas.check_list_day`); each list applied is recorded, by ``user``.

    All or nothing by default: any reject raises :class:`ImportRejected` (``.rows`` lists every
    ``(row, column, reason_zh, reason_en)``) and the store is not touched. With ``skip_bad`` the
    good rows are written and every reject goes to ``rejects_path`` (default
    ``<file stem>.rejects.csv`` beside the input); the rejects file is also written without
    ``skip_bad`` when ``rejects_path`` is given. A problem with the whole file (malformed,
    missing required columns) and a file without a single good row always raise. If someone else
    writes the store between the checks and the write, :class:`geo.errors.StaleWrite` is raised and
    nothing is written (run the import again). Notes (encoding,
    coordinate system, repairs) are on the report, or attached to the exception as ``__notes__``.
    """
    if mode not in ("append", "replace", "daily"):
        msg = f"mode must be 'append', 'replace' or 'daily', got {mode!r}"
        raise ValueError(msg)
    if mode == "daily" and (key != "risk_areas" or as_of is None):
        msg = "mode 'daily' is for the risk_areas layer and needs as_of (the day the list was published)"
        raise ValueError(msg)
    spec = get_spec(key)
    if not spec.importable:
        zh = f"“{spec.name_zh}”不能直接导入：它由系统在保存时写入（带版本与审计），请使用对应页面"
        en = f"{spec.name_en} cannot be imported: riskmap writes it itself when a record is saved (versioned and audited); use its page"
        raise ImportRejected(f"{Path(path).name}：{zh} / {Path(path).name}: {en}", rows=[Issue(None, None, zh, en)])
    path = Path(path)
    # what the checks below see (ids already stored) must still hold when we write
    version = store.version() if store.exists() else None
    tell = progress or (lambda _stage: None)
    tell("read")
    raw = read_file(path, crs=crs, layer=layer, key=key, limits=limits)
    tell("validate")
    checked = validate(raw, key, crs=crs, store=store, mode="replace" if mode == "daily" else mode, city_adcode=city_adcode)
    if spec.key == "zones":
        _check_zones(checked, store, mode, city_adcode)
    target = Path(rejects_path) if rejects_path is not None else (rejects_path_for(path) if skip_bad else None)
    if checked.rejects and target is not None:
        write_rejects(checked, target)
    if checked.fatal or (checked.rejects and not skip_bad):
        raise _rejected(checked, skip_hint=not skip_bad)
    if checked.good.empty:
        zh, en = "没有可导入的行，未写入任何数据", "no row can be imported; nothing was written"
        exc = ImportRejected(f"{raw.name}：{zh} / {raw.name}: {en}", rows=list(checked.rejects))
        for note in checked.notes:
            exc.add_note(format_issue(note))
        raise exc
    if mode == "daily":  # refused before the audit entry: a list older than one applied writes nothing
        from layers.risk_areas import LIST_KIND, apply_daily_list, check_list_day, list_record
        from layers.store.records import records_for

        records = records_for(store.location)
        applied = {r.key: r for r in records.current(LIST_KIND)}
        check_list_day(applied, as_of)
    if audit is not None:
        audit(len(checked.good), len(checked.rejects))
    tell("write")
    changes = None
    if mode == "daily":  # the list of the day: what it adds, changes and lifts; old entries are kept
        current = store.read("risk_areas") if store.exists() and "risk_areas" in store.layers() else checked.good.iloc[0:0]
        merged, changes = apply_daily_list(current, checked.good, day=as_of)
        layer_rows = store.write_layers({spec.key: merged}, {spec.key: "replace"}, expect_version=version)[spec.key]
        day = f"{pd.Timestamp(as_of):%Y-%m-%d}"
        records.save(LIST_KIND, day, list_record(changes, path.name, applied.get(day)),
                     based_on=applied[day].version if day in applied else 0, user=user, action="daily list")
    else:
        layer_rows = store.write_layers({spec.key: checked.good}, {spec.key: mode}, expect_version=version)[spec.key]
    return ImportReport(
        key=key,
        path=path,
        mode=mode,
        written=len(checked.good),
        layer_rows=layer_rows,
        total=checked.total,
        unit=checked.unit,
        rejects=list(checked.rejects),
        notes=list(checked.notes),
        rejects_path=target if checked.rejects else None,
        encoding=raw.encoding,
        crs_used=checked.crs_used,
        changes=changes,
    )

