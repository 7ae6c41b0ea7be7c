"""日报告/零报告: check, save (with revision history), export and word the city's daily report.

The figures and their bilingual names are declared in :mod:`layers.daily_reports`. Here:

- :func:`validate_report` checks one report against the reports already in the store;
- :func:`save_report` saves a day's report as the next version of its record, every revision kept;
- :func:`zero_report` and :func:`fill_cumulative` prepare a report from the latest earlier one;
- :func:`export_reports` writes XLSX or CSV with bilingual headers;
- :func:`bulletin_text` words a report like the city's bulletin (seed 000).

Cumulative identities
---------------------
Seed 000 reports local and imported cases apart: "累计报告新冠肺炎确诊病例21例" is the *local*
cumulative (the imported ones follow as "累计报告境外输入确诊病例99例"). With ``prev`` the latest
report dated before ``d`` (not necessarily ``d - 1``: a gap is a warning, not an error)::

    cum_confirmed(d)             = cum_confirmed(prev)             + new_local_confirmed(d)
    cum_imported_confirmed(d)    = cum_imported_confirmed(prev)    + new_imported_confirmed(d)
    cum_imported_asymptomatic(d) = cum_imported_asymptomatic(prev) + new_imported_asymptomatic(d)
    cum_tests(d)                 = cum_tests(prev)                 + tests(d)

The demo series (``data/demo.py``) is built with exactly these identities. Suspected cases,
local asymptomatic infections, recoveries and returnees have no cumulative column. The first
report in the store has no ``prev``: each cumulative must then be at least the day's figure.

Revisions
---------
Each day's report is a versioned record (:mod:`layers.store.records`, kind ``daily_report``, key the
ISO date) — the one versioned-record API of the store, as for follow-up outcomes, community
reports and queue reports. Every save is a new version carrying its revision number and note;
:func:`load_reports` reads the reports in force and :func:`load_revisions` every revision. The
first save of a date is revision 1. The demo's series is recorded as originals, revision 0, and
a store made by the previous layout (reports in the ``daily_reports`` layer, revisions in
``daily_report_revisions``) has them taken in as they were on first use
(:func:`adopt_layer_reports`). Saving values identical to the current report records nothing (a
double click does not make a revision).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geo.errors import StaleWrite
from layers._cells import neutralise_row
from layers.daily_reports import CUMULATIVE, FIGURES, REVISIONS_SPEC, SPEC

if TYPE_CHECKING:
    from layers.store import Store
    from layers.store.records import Record, Records

__all__ = [
    "FIGURE_NAMES",
    "CUMULATIVE_NAMES",
    "IDENTITIES",
    "ReportError",
    "ReportRejected",
    "SaveResult",
    "ReportChanged",
    "NO_REPORT",
    "current_revision",
    "validate_report",
    "previous_report",
    "fill_cumulative",
    "zero_report",
    "save_report",
    "save_reports",
    "load_reports",
    "load_revisions",
    "report_records",
    "save_originals",
    "import_reports",
    "revisions_for",
    "export_headers",
    "reports_csv_bytes",
    "reports_xlsx_bytes",
    "export_reports",
    "bulletin_text",
]

FIGURE_NAMES: tuple[str, ...] = tuple(k for k, _, _ in FIGURES)
CUMULATIVE_NAMES: tuple[str, ...] = tuple(k for k, _, _ in CUMULATIVE)

#: (cumulative column, daily figure it adds up): ``cum(d) = cum(prev) + figure(d)``.
IDENTITIES: tuple[tuple[str, str], ...] = (
    ("cum_confirmed", "new_local_confirmed"),
    ("cum_imported_confirmed", "new_imported_confirmed"),
    ("cum_imported_asymptomatic", "new_imported_asymptomatic"),
    ("cum_tests", "tests"),
)

TIMEZONE = ZoneInfo("Asia/Shanghai")
ORIGINAL_NOTE = "原始报告 / original report"
#: ``expect_revision`` of an edit begun when the day had no report yet.
NO_REPORT = -1
XLSX_SHEET = "日报告 Daily reports"

_INT_TEXT = re.compile(r"[+-]?\d+")


# ----------------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class ReportError:
    """One problem with a report: the field it concerns and a message in both languages.

    ``severity`` is ``"error"`` (the report is refused) or ``"warning"`` (saved, but shown).
    ``code`` is one of ``missing``, ``not_integer``, ``negative``, ``unknown_field``,
    ``bad_date``, ``inconsistent``, ``below_figure``, ``gap``, ``later_inconsistent``.
    """

    field: str
    code: str
    message_zh: str
    message_en: str
    severity: Literal["error", "warning"] = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def message(self, lang: str) -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class ReportRejected(ValueError):
    """A report was refused; ``errors`` lists every :class:`ReportError` (severity ``error``).
    Of several reports saved together, ``by_report`` maps each refused report's position to its
    errors (``errors`` are the first one's)."""

    def __init__(self, errors: list[ReportError], by_report: dict[int, list[ReportError]] | None = None):
        self.errors = list(errors)
        self.by_report = dict(by_report or {0: self.errors})
        super().__init__("; ".join(str(e) for e in self.errors) or "report rejected")


class ReportChanged(StaleWrite):
    """The day's report was saved by someone else after the editor opened it: the edit is not
    written. ``revision``, ``saved_by``, ``saved_at`` describe the report now current and
    ``current`` holds its figures, so the editor can compare before saving again."""

    def __init__(self, day: pd.Timestamp, revision: int, saved_by: str | None, saved_at: str | None,
                 current: dict[str, int | None]):
        self.day, self.revision, self.saved_by, self.saved_at, self.current = day, revision, saved_by, saved_at, current
        super().__init__(
            f"{_day(day)} 的日报已被他人修改（修订 {revision}）/ the report of {_day(day)} was changed "
            f"by someone else (revision {revision})"
        )


@dataclass(frozen=True)
class SaveResult:
    """What :func:`save_report` did: the date, the revision now current, whether anything was
    written (``False`` when the values equal the current report) and the warnings."""

    date: pd.Timestamp
    revision: int
    changed: bool
    warnings: list[ReportError] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Values


def _label(name: str, lang: str) -> str:
    return SPEC.column(name).label(lang)


def _missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _as_int(v: object) -> tuple[int | None, str | None]:
    """``(value, None)`` or ``(None, "missing" | "not_integer")``; bools are not numbers here."""
    if _missing(v):
        return None, "missing"
    if isinstance(v, bool | np.bool_):
        return None, "not_integer"
    if isinstance(v, numbers.Integral):
        return int(v), None
    if isinstance(v, numbers.Real | Decimal):
        f = float(v)
        if math.isnan(f):
            return None, "missing"
        if not math.isfinite(f) or not f.is_integer():
            return None, "not_integer"
        return int(f), None
    if isinstance(v, str):
        text = v.strip()
        if not text:
            return None, "missing"
        if _INT_TEXT.fullmatch(text):
            return int(text), None
    return None, "not_integer"


def _as_date(v: object) -> tuple[pd.Timestamp | None, str | None]:
    if _missing(v) or (isinstance(v, str) and not v.strip()):
        return None, "missing"
    try:
        ts = pd.Timestamp(v)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None, "bad_date"
    if pd.isna(ts):
        return None, "missing"
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize(), None


def _history(history: pd.DataFrame | None) -> pd.DataFrame:
    """The reports typed by the spec, sorted by date (a copy; the caller's frame is untouched)."""
    if history is None:
        history = pd.DataFrame()
    return SPEC.coerce(history).sort_values("date", kind="stable").reset_index(drop=True)


def _row_value(row: pd.Series, name: str) -> int | None:
    v = row[name]
    return None if _missing(v) else int(v)


def _day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


# ----------------------------------------------------------------------------------------------
# Validation


def validate_report(new: Mapping[str, Any] | pd.Series, history: pd.DataFrame | None) -> list[ReportError]:
    """Check a report against the reports already saved; return errors and warnings.

    Parameters
    ----------
    new : mapping
        ``date`` plus every daily figure and cumulative total of :mod:`layers.daily_reports`
        (``demo`` may be given too). Integers, or integral floats/strings; nothing negative.
    history : DataFrame
        The ``daily_reports`` layer (a row for ``new``'s own date is ignored: it is being
        replaced).

    Returns
    -------
    list of ReportError
        Empty when the report is fine. Errors (``is_error``) refuse the save; warnings do not:
        a gap since the previous report, or a later report whose cumulative totals no longer
        add up once this one is saved.
    """
    new = dict(new.items())  # a mapping or a row (Series)
    issues: list[ReportError] = []

    def error(
        name: str, code: str, zh: str, en: str, severity: Literal["error", "warning"] = "error"
    ) -> None:
        issues.append(ReportError(name, code, zh, en, severity))

    for key in new:
        if key not in SPEC.column_names:
            error(key, "unknown_field", f"未知字段 {key!r}", f"unknown field {key!r}")

    day, problem = _as_date(new.get("date"))
    if problem == "missing":
        error("date", "missing", "日期：必须填写", "Date: required")
    elif problem == "bad_date":
        error(
            "date",
            "bad_date",
            f"日期：无法识别 {new.get('date')!r}",
            f"Date: not a date: {new.get('date')!r}",
        )

    values: dict[str, int] = {}
    for name in FIGURE_NAMES + CUMULATIVE_NAMES:
        zh, en = _label(name, "zh"), _label(name, "en")
        raw = new.get(name)
        v, problem = _as_int(raw)
        if problem == "missing":
            error(name, "missing", f"{zh}：必须填写", f"{en}: required")
        elif problem == "not_integer":
            error(
                name,
                "not_integer",
                f"{zh}：必须是整数，收到 {raw!r}",
                f"{en}: must be a whole number, got {raw!r}",
            )
        elif v is not None and v < 0:
            error(name, "negative", f"{zh}：不能为负数（{v}）", f"{en}: must not be negative ({v})")
        elif v is not None:
            values[name] = v

    if day is None:
        return issues
    hist = _history(history)
    prev = previous_report(day, hist)
    if prev is not None:
        prev_day = pd.Timestamp(prev["date"])
        gap = (day - prev_day).days - 1
        if gap > 0:
            error(
                "date",
                "gap",
                f"日期：上一份日报是 {_day(prev_day)}，中间缺少 {gap} 天的日报；累计数按 {_day(prev_day)} 的日报核对",
                f"Date: the previous report is from {_day(prev_day)}; {gap} day(s) missing in between; "
                f"cumulative totals are checked against {_day(prev_day)}",
                "warning",
            )
    for cum, fig in IDENTITIES:
        if cum not in values or fig not in values:
            continue
        cz, ce, fz, fe = _label(cum, "zh"), _label(cum, "en"), _label(fig, "zh"), _label(fig, "en")
        if prev is None:
            if values[cum] < values[fig]:
                error(
                    cum,
                    "below_figure",
                    f"{cz}：不能小于当日{fz}（{values[fig]}），填写的是 {values[cum]}",
                    f"{ce}: cannot be less than the day's {fe} ({values[fig]}); entered {values[cum]}",
                )
            continue
        base = _row_value(prev, cum)
        if base is None:
            continue
        expected = base + values[fig]
        if values[cum] != expected:
            pd_ = _day(pd.Timestamp(prev["date"]))
            error(
                cum,
                "inconsistent",
                f"{cz}：应为 {expected}（{pd_} 的{cz} {base} + 当日{fz} {values[fig]}），填写的是 {values[cum]}",
                f"{ce}: should be {expected} ({ce} of {pd_}: {base} + {fe}: {values[fig]}); entered {values[cum]}",
            )

    nxt = _next_report(day, hist)
    if nxt is not None:
        nd = _day(pd.Timestamp(nxt["date"]))
        for cum, fig in IDENTITIES:
            later_cum, later_fig = _row_value(nxt, cum), _row_value(nxt, fig)
            if cum not in values or later_cum is None or later_fig is None:
                continue
            expected = values[cum] + later_fig
            if later_cum != expected:
                cz, ce = _label(cum, "zh"), _label(cum, "en")
                error(
                    cum,
                    "later_inconsistent",
                    f"{cz}：保存后 {nd} 的日报将对不上（应为 {expected}，现为 {later_cum}），请随后修订该日报",
                    f"{ce}: once saved, the report of {nd} no longer adds up (should be {expected}, is "
                    f"{later_cum}); revise it next",
                    "warning",
                )
    return issues


def previous_report(day: pd.Timestamp | Date | str, history: pd.DataFrame | None) -> pd.Series | None:
    """The latest report dated before ``day`` (gaps allowed), or ``None``."""
    hist = _history(history)
    earlier = hist[hist["date"] < pd.Timestamp(day).normalize()]
    return None if earlier.empty else earlier.iloc[-1]


def _next_report(day: pd.Timestamp, hist: pd.DataFrame) -> pd.Series | None:
    later = hist[hist["date"] > day]
    return None if later.empty else later.iloc[0]


def fill_cumulative(
    day: pd.Timestamp | Date | str, figures: Mapping[str, int], history: pd.DataFrame | None
) -> dict[str, Any]:
    """A report for ``day``: the given daily figures (missing ones 0) and the cumulative totals
    they imply, carried from the latest earlier report (0 when there is none)."""
    d = pd.Timestamp(day).normalize()
    prev = previous_report(d, history)
    out: dict[str, Any] = {"date": d}
    out.update({name: int(figures.get(name, 0)) for name in FIGURE_NAMES})
    for cum, fig in IDENTITIES:
        base = 0 if prev is None else (_row_value(prev, cum) or 0)
        out[cum] = base + out[fig]
    return out


def zero_report(
    day: pd.Timestamp | Date | str, history: pd.DataFrame | None, *, tests: int = 0
) -> dict[str, Any]:
    """零报告: a day with no new cases, suspected cases, recoveries or returnees.

    Every daily figure is 0 and every cumulative total is carried unchanged from the latest
    earlier report. Tests are still performed on a quiet day, so ``tests`` (default 0) is the
    one figure a zero report may carry; ``cum_tests`` grows by it.
    """
    return fill_cumulative(day, {"tests": tests}, history)


# ----------------------------------------------------------------------------------------------
# Saving


def _clean(report: Mapping[str, Any] | pd.Series) -> dict[str, Any]:
    day, _ = _as_date(report.get("date"))
    out: dict[str, Any] = {"date": day}
    for name in FIGURE_NAMES + CUMULATIVE_NAMES:
        out[name] = _as_int(report.get(name))[0]
    out["demo"] = bool(report.get("demo", False))
    return out


def current_revision(day: pd.Timestamp | Date | str, reports: pd.DataFrame, revisions: pd.DataFrame) -> int:
    """The revision of ``day``'s report now in force: :data:`NO_REPORT` when there is none, 0 for
    an original never edited here, else the highest recorded revision."""
    d = pd.Timestamp(day).normalize()
    if not (_history(reports)["date"] == d).any():
        return NO_REPORT
    mine = revisions_for(d, revisions)
    return int(mine["revision"].max()) if not mine.empty else 0


def save_report(
    store: Store,
    report: Mapping[str, Any] | pd.Series,
    *,
    user: str,
    note: str = "",
    now: datetime | None = None,
    expect_revision: int | None = None,
) -> SaveResult:
    """Validate and save a report: one row per day, every save kept as a revision.

    The day's report is a versioned record (:mod:`layers.store.records`); the save is its next
    version, revision previous + 1 (an original is revision 0). Saved in one transaction that
    checks nobody saved the day since it was read (else ``StaleWrite``, naming who and when)
    and that the cumulative totals still add up with the other days as they are then.

    With ``expect_revision`` (the revision the editor saw, :data:`NO_REPORT` if the day had no
    report), a save is refused with :class:`ReportChanged` when the day's report has moved on
    since: one person's edit never silently replaces another's.

    Parameters
    ----------
    store : Store
        An existing store.
    report : mapping or Series
        As for :func:`validate_report`. ``demo`` defaults to ``False`` (a person entered it).
    user : str
        Who saves (recorded as ``saved_by``).
    note : str
        Why (recorded with the revision).
    now : datetime, optional
        The save time; default the current time in Asia/Shanghai. Stored as ISO 8601 text.

    Raises
    ------
    ReportRejected
        When :func:`validate_report` finds errors; nothing is written.
    ReportChanged
        When ``expect_revision`` is not the day's current revision; nothing is written.
    """
    return save_reports(store, [report], user=user, note=note, now=now, expect_revisions=[expect_revision])[0]


def save_reports(
    store: Store,
    reports: list[Mapping[str, Any] | pd.Series],
    *,
    user: str,
    note: str = "",
    now: datetime | None = None,
    expect_revisions: list[int | None] | None = None,
    action: str = "save",
) -> list[SaveResult]:
    """Validate and save several reports in one transaction (an import), in date order, each
    checked against the reports before it as saved by this same write; each changed day gets its
    revision as :func:`save_report` gives it. Raises :class:`ReportRejected` naming every report
    with errors (``by_report``; nothing is written) or :class:`ReportChanged` like :func:`save_report`.

    The reports are versioned records (:mod:`layers.store.records`, kind :data:`KIND`, key the ISO
    date): each save names the version it read, and inside the saving transaction the
    cumulative identities of the saved days are checked again against the reports as they are
    then, so a concurrent save of another day cannot leave them broken — the second save is
    refused with ``StaleWrite`` instead of being retried.
    """
    if not str(user).strip():
        msg = "user must name who saves the report"
        raise ValueError(msg)
    records = report_records(store)
    expect = list(expect_revisions) if expect_revisions is not None else [None] * len(reports)
    order = sorted(range(len(reports)), key=lambda i: _as_date(reports[i].get("date"))[0] or pd.Timestamp.min)
    current = {r.key: r for r in records.current(KIND)}
    hist = _frame(current.values())
    results: dict[int, SaveResult] = {}
    pending: dict[str, tuple[int, int]] = {}  # day → (the version this write makes, its revision)
    items: list[tuple[str, str, dict[str, Any], int, str]] = []
    rejected: dict[int, list[ReportError]] = {}
    names = FIGURE_NAMES + CUMULATIVE_NAMES
    for i in order:
        issues = validate_report(reports[i], hist)
        errors = [e for e in issues if e.is_error]
        if errors:
            rejected[i] = errors  # the later reports are checked without it
            continue
        warnings = [e for e in issues if not e.is_error]
        clean = _clean(reports[i])
        day = clean["date"]
        key = _day(day)
        stored = current.get(key)
        last = pending[key][1] if key in pending else (_revision(stored) if stored is not None else NO_REPORT)
        in_hist = hist[hist["date"] == day]
        if not in_hist.empty and all(_row_value(in_hist.iloc[-1], n) == clean[n] for n in names):
            results[i] = SaveResult(day, last, False, warnings)  # nothing to write, nothing replaced
            continue
        if expect[i] is not None and key not in pending and expect[i] != last:
            assert stored is not None or last == NO_REPORT
            raise ReportChanged(  # an original has no one to name
                day, last, (stored.saved_by or None) if stored is not None else None,
                (stored.saved_at or None) if stored is not None else None,
                {} if in_hist.empty else {n: _row_value(in_hist.iloc[-1], n) for n in names},
            )
        revision = max(last, 0) + 1
        # a day twice in one import: its second version names the first
        base = pending[key][0] if key in pending else (stored.version if stored is not None else 0)
        data = _report_data(clean, demo=bool(clean.get("demo", False)), revision=revision, note=note)
        items.append((KIND, key, data, base, SCOPE))
        pending[key] = (base + 1, revision)
        results[i] = SaveResult(day, revision, True, warnings)
        row = SPEC.coerce(pd.DataFrame([clean], columns=SPEC.column_names))
        others = hist[hist["date"] != day]
        hist = (pd.concat([others, row], ignore_index=True) if not others.empty else row).sort_values("date", kind="stable")
        hist = hist.reset_index(drop=True)
    if rejected:
        first = min(rejected)
        raise ReportRejected(rejected[first], rejected)
    if items:
        records.save_many(items, user=str(user), action=action, now=now, check=_identities_still_hold(set(pending)))
    return [results[i] for i in range(len(reports))]


def _identities_still_hold(days: set[str]) -> Any:
    """The saving transaction's check: with every report as it is now (someone may have saved
    another day since this save read them), the saved days still pass validation."""

    def check(current_of: Any) -> None:
        hist = _frame(current_of(KIND))
        for key in sorted(days):
            row = hist[hist["date"] == pd.Timestamp(key)]
            if row.empty:
                continue
            report = row.iloc[0].to_dict()
            if any(e.is_error for e in validate_report(report, hist)):
                msg = (f"{key} 前后的日报刚被他人修改，累计数不再一致；请重新加载后再保存 / the reports around {key} "
                       "were just changed by someone else and the totals no longer add up; reload and save again")
                raise StaleWrite(msg)

    return check


# ----------------------------------------------------------------------------------------------
# The reports as records


#: Record kind and scope of the city's daily reports in :mod:`layers.store.records`.
KIND = "daily_report"
SCOPE = "city"


def _revision(record: Record) -> int:
    return int(record.data.get("revision", record.version))


def _report_data(figures: Mapping[str, Any], *, demo: bool, revision: int, note: str) -> dict[str, Any]:
    """A report's record fields: its figures (from a dict or a layer row), demo, revision and note."""
    values = {n: _row_value(figures, n) if isinstance(figures, pd.Series) else figures[n] for n in FIGURE_NAMES + CUMULATIVE_NAMES}
    return values | {"demo": demo, "revision": revision, "note": note}


def _report_row(r: Record) -> dict[str, Any]:
    """A record's report as a row of :data:`layers.daily_reports.SPEC` columns."""
    return {"date": r.key, **{n: r.data.get(n) for n in FIGURE_NAMES + CUMULATIVE_NAMES}, "demo": bool(r.data.get("demo", False))}


def _frame(records: Iterable[Record]) -> pd.DataFrame:
    """The reports of ``records`` as a frame of :data:`layers.daily_reports.SPEC` columns, by date."""
    frame = SPEC.coerce(pd.DataFrame([_report_row(r) for r in records], columns=SPEC.column_names))
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def report_records(store: Store) -> Records:
    """The records holding ``store``'s daily reports, with the reports of a store made by the
    previous layout (the ``daily_reports`` and ``daily_report_revisions`` layers; a new demo
    store's series) taken in first (:func:`adopt_layer_reports`)."""
    from layers.store.records import records_for

    records = records_for(store.location)
    if store.exists() and "daily_reports" in store.layers() and not records.has(KIND):
        adopt_layer_reports(store, records)
    return records


def adopt_layer_reports(store: Store, records: Records) -> int:
    """Move the reports a store kept as layers into records, once: each day's recorded revisions
    as they were (who, when, note), and a report never edited as its original, revision 0. The
    layers are left as they are (nothing is lost) and no longer read. Returns the versions written."""
    from layers.store.records import Record, local_stamp

    reports = store.read("daily_reports")
    revisions = store.read("daily_report_revisions") if "daily_report_revisions" in store.layers() else None
    versions: list[Record] = []
    adopted_at = local_stamp()
    for _, row in reports.sort_values("date", kind="stable").iterrows():
        key = _day(pd.Timestamp(row["date"]))
        mine = revisions_for(key, revisions) if revisions is not None else pd.DataFrame()
        rows = [r for _, r in mine.iterrows()] if not mine.empty else [row]
        for n, r in enumerate(rows, start=1):
            rev = int(r["revision"]) if "revision" in r and not pd.isna(r["revision"]) else 0
            original = rev == 0
            data = _report_data(r, demo=bool(r.get("demo")) if not pd.isna(r.get("demo")) else False, revision=rev,
                                note=ORIGINAL_NOTE if original else str(r.get("note") or ""))
            # an original was saved by no one the store knows of: nobody is named for it
            by = "" if original else str(r.get("saved_by") or "")
            at = "" if original else str(r.get("saved_at") or "") or adopted_at
            versions.append(Record(KIND, key, n, SCOPE, "original" if original else "save", data, by, at))
    return records.adopt(KIND, versions)


def save_originals(records: Records, reports: pd.DataFrame, *, user: str) -> int:
    """A series of reports as originals (revision 0) — the demo's — into a store holding none
    yet; returns how many were written (0 when the store has reports)."""
    from layers.store.records import Record, local_stamp

    at = local_stamp()
    versions = [
        Record(KIND, _day(pd.Timestamp(r["date"])), 1, SCOPE, "original",
               _report_data(r, demo=bool(r.get("demo", False)), revision=0, note=ORIGINAL_NOTE), user, at)
        for _, r in SPEC.coerce(reports).iterrows()
    ]
    return records.adopt(KIND, versions)


def load_reports(store: Store) -> pd.DataFrame:
    """Every day's report now in force, by date (:data:`layers.daily_reports.SPEC` columns)."""
    return _frame(report_records(store).current(KIND))


def load_revisions(store: Store) -> pd.DataFrame:
    """Every saved revision of every day (:data:`layers.daily_reports.REVISIONS_SPEC` columns),
    by date then revision; an original is revision 0."""
    rows = [
        _report_row(r) | {"revision": _revision(r), "saved_at": r.saved_at or None, "saved_by": r.saved_by or None,
                          "note": str(r.data.get("note") or "")}
        for r in report_records(store).histories(KIND)
    ]
    frame = REVISIONS_SPEC.coerce(pd.DataFrame(rows, columns=REVISIONS_SPEC.column_names))
    return frame.sort_values(["date", "revision"], kind="stable").reset_index(drop=True)


def revisions_for(day: pd.Timestamp | Date | str, revisions: pd.DataFrame) -> pd.DataFrame:
    """The revision rows of one day, oldest first (a copy)."""
    d = pd.Timestamp(day).normalize()
    out = revisions[pd.to_datetime(revisions["date"]) == d]
    return out.sort_values("revision", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Export

_EXPORT_COLUMNS = ("date",) + FIGURE_NAMES + CUMULATIVE_NAMES + ("demo",)


def export_headers() -> dict[str, str]:
    """Column name → bilingual header, e.g. ``new_local_confirmed`` → ``本地新增确诊 New local confirmed``."""
    return {name: f"{SPEC.column(name).label_zh} {SPEC.column(name).label_en}" for name in _EXPORT_COLUMNS}


def _export_rows(frame: pd.DataFrame) -> list[list[Any]]:
    typed = _history(frame)
    rows = []
    for rec in typed[list(_EXPORT_COLUMNS)].itertuples(index=False):
        row: list[Any] = []
        for name, v in zip(_EXPORT_COLUMNS, rec, strict=True):
            if _missing(v):
                row.append(None)
            elif name == "date":
                row.append(pd.Timestamp(v).date())
            elif name == "demo":
                row.append(bool(v))
            else:
                row.append(int(v))
        rows.append(row)
    return rows


def reports_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The reports as CSV: UTF-8 with BOM (opens in Excel), bilingual headers, dates ``YYYY-MM-DD``,
    oldest first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(export_headers().values())
    for row in _export_rows(frame):
        writer.writerow(neutralise_row("" if v is None else v.isoformat() if isinstance(v, Date) else v for v in row))
    return buf.getvalue().encode("utf-8-sig")


def reports_xlsx_bytes(frame: pd.DataFrame) -> bytes:
    """The reports as an XLSX workbook: one sheet, bilingual bold header row, dates as date cells
    shown ``yyyy-mm-dd``, oldest first."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = XLSX_SHEET
    headers = list(export_headers().values())
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in _export_rows(frame):
        ws.append(neutralise_row(row))
        ws.cell(row=ws.max_row, column=1).number_format = "yyyy-mm-dd"
    ws.freeze_panes = "B2"
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(12, len(header) + 4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_reports(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write the reports to ``path`` as XLSX (``.xlsx``) or CSV (``.csv``); return the path."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        data = reports_xlsx_bytes(frame)
    elif suffix == ".csv":
        data = reports_csv_bytes(frame)
    else:
        msg = f"export format must be .xlsx or .csv, got {p.name!r}"
        raise ValueError(msg)
    p.write_bytes(data)
    return p


# ----------------------------------------------------------------------------------------------
# Bulletin wording

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _count_en(n: int, singular: str, plural: str) -> str:
    if n == 0:
        return f"no {plural}"
    return f"1 {singular}" if n == 1 else f"{n:,} {plural}"


def _and_en(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def bulletin_text(report: Mapping[str, Any] | pd.Series, lang: str) -> str:
    """The report worded like the city's bulletin (seed 000), ``zh`` or ``en``.

    Two paragraphs: the day's figures ("2月7日0时至24时，我市本地无新增确诊病例，…；当日核酸检测
    应检尽检、愿检尽检17012人次。") and the cumulative totals ("截至2月7日24时，累计报告…").
    ``recovered`` is worded "治愈出院确诊病例": the layer does not say whether the patients were
    local or imported (seed 000 says "治愈出院境外输入确诊病例"). A cumulative total that is
    missing is left out.
    """
    day, problem = _as_date(report.get("date"))
    if day is None:
        msg = f"report has no usable date ({problem})"
        raise ValueError(msg)
    v: dict[str, int | None] = {
        name: _as_int(report.get(name))[0] for name in FIGURE_NAMES + CUMULATIVE_NAMES
    }
    missing = [name for name in FIGURE_NAMES if v[name] is None]
    if missing:
        msg = f"report of {_day(day)} lacks daily figures: {', '.join(missing)}"
        raise ValueError(msg)
    n = {k: int(x) for k, x in v.items() if x is not None}
    return _bulletin_zh(day, n) if lang == "zh" else _bulletin_en(day, n)


def _bulletin_zh(day: pd.Timestamp, n: dict[str, int]) -> str:
    md = f"{day.month}月{day.day}日"

    def case(k: str, noun: str) -> str:
        return f"新增{noun}{n[k]}例" if n[k] else f"无新增{noun}"

    local = "，".join(
        (
            case("new_local_confirmed", "确诊病例"),
            case("new_suspected", "疑似病例"),
            case("new_local_asymptomatic", "无症状感染者"),
        )
    )
    parts = [
        f"{md}0时至24时，我市本地{local}",
        case("new_imported_confirmed", "境外输入确诊病例"),
        case("new_imported_asymptomatic", "境外输入无症状感染者"),
        f"当日治愈出院确诊病例{n['recovered']}例" if n["recovered"] else "当日无治愈出院病例",
        f"当日重点地区返(抵)并人员{n['returnees_key_regions']}人"
        if n["returnees_key_regions"]
        else "当日无重点地区返(抵)并人员",
        f"当日核酸检测应检尽检、愿检尽检{n['tests']}人次",
    ]
    first = "；".join(parts) + "。"
    totals = []
    if "cum_confirmed" in n:
        totals.append(f"累计报告新冠肺炎确诊病例{n['cum_confirmed']}例")
    if "cum_imported_confirmed" in n:
        totals.append(f"累计报告境外输入确诊病例{n['cum_imported_confirmed']}例")
    if "cum_imported_asymptomatic" in n:
        totals.append(f"累计报告{n['cum_imported_asymptomatic']}例境外输入无症状感染者")
    if "cum_tests" in n:
        totals.append(f"累计核酸检测应检尽检、愿检尽检{n['cum_tests']}人次")
    if not totals:
        return first
    return first + "\n\n" + f"截至{md}24时，" + "；".join(totals) + "。"


def _bulletin_en(day: pd.Timestamp, n: dict[str, int]) -> str:
    dm = f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    local = _and_en(
        [
            _count_en(n["new_local_confirmed"], "new local confirmed case", "new local confirmed cases"),
            _count_en(n["new_suspected"], "new suspected case", "new suspected cases"),
            _count_en(
                n["new_local_asymptomatic"],
                "new local asymptomatic infection",
                "new local asymptomatic infections",
            ),
        ]
    )
    rec = n["recovered"]
    recovered = (
        "no confirmed cases recovered and were discharged"
        if rec == 0
        else "1 confirmed case recovered and was discharged"
        if rec == 1
        else f"{rec:,} confirmed cases recovered and were discharged"
    )
    tests = n["tests"]
    parts = [
        f"From 0:00 to 24:00 on {dm}, Taiyuan reported {local}",
        _count_en(n["new_imported_confirmed"], "new imported confirmed case", "new imported confirmed cases"),
        _count_en(
            n["new_imported_asymptomatic"],
            "new imported asymptomatic infection",
            "new imported asymptomatic infections",
        ),
        recovered,
        _count_en(n["returnees_key_regions"], "returnee from key regions", "returnees from key regions"),
        "1 nucleic acid test was performed" if tests == 1 else f"{tests:,} nucleic acid tests were performed",
    ]
    first = "; ".join(parts) + "."
    totals = []
    if "cum_confirmed" in n:
        totals.append(
            _count_en(n["cum_confirmed"], "local confirmed case", "local confirmed cases")
            + " reported in total"
        )
    if "cum_imported_confirmed" in n:
        totals.append(
            _count_en(n["cum_imported_confirmed"], "imported confirmed case", "imported confirmed cases")
        )
    if "cum_imported_asymptomatic" in n:
        totals.append(
            _count_en(
                n["cum_imported_asymptomatic"],
                "imported asymptomatic infection",
                "imported asymptomatic infections",
            )
        )
    if "cum_tests" in n:
        totals.append(_count_en(n["cum_tests"], "nucleic acid test", "nucleic acid tests"))
    if not totals:
        return first
    return first + "\n\n" + f"As of 24:00 on {dm}: " + "; ".join(totals) + "."


# ----------------------------------------------------------------------------------------------
# Import


def import_reports(path: Path | str, store: Store, *, user: str, note: str = "", limits=None) -> list[SaveResult]:
    """Import daily reports from a CSV or XLSX file (headers: the field names, their Chinese or
    English labels, or the export's "中文 English" headers) through the same validation and
    versioning as the form: checked in date order, each day a new revision, all in one write or
    nothing. Raises ``ImportRejected`` naming every rejected row by its row in the file, with the
    field and why in Chinese and English."""
    from geo.errors import ImportRejected
    from layers.io import read_table
    from layers.io._issues import Issue

    name = Path(path).name
    fields = ("date", *FIGURE_NAMES, *CUMULATIVE_NAMES)
    columns = {f: (SPEC.column(f).label_zh, SPEC.column(f).label_en, f"{SPEC.column(f).label_zh} {SPEC.column(f).label_en}")
               for f in fields}
    raw, frame = read_table(path, columns=columns, required=fields, what=("日报", "daily reports"), limits=limits)
    reports = [dict(r) for r in frame[list(fields)].to_dict("records")]
    try:
        return save_reports(store, reports, user=user, note=note or f"导入 import: {name}")
    except ReportRejected as exc:
        issues = [
            Issue(raw.rows[i], e.field, e.message_zh, e.message_en)
            for i in sorted(exc.by_report) for e in exc.by_report[i]
        ]
        n = len(exc.by_report)
        msg = f"{name}：{n} 行有误，未写入任何日报 / {name}: {n} rows rejected; no report was written"
        raise ImportRejected(msg, rows=issues) from None
