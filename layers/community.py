"""Community daily reports (日报告 / 零报告) kept as versioned records.

The write path of a neighbourhood's report (:func:`save_report`): the rules of
:func:`geo.community.report_state` and the record's version — an edit is a new revision based on
the one the reporter saw; a report someone else saved since is refused with "recorded by X at T —
reload", never overwritten. The scope of a report is its neighbourhood, so a grid worker reads
and writes only theirs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from geo.community import KIND, report_key, report_state, reports_frame
from layers.store.records import Record, Records, stale_write

__all__ = ["save_report", "save_reports_bulk", "load_reports", "report_history"]


def load_reports(records: Records, *, scopes: Iterable[str] | None = None) -> pd.DataFrame:
    """Every neighbourhood's saved reports (all, or those of the neighbourhoods in ``scopes``)."""
    return reports_frame(records.current(KIND, scopes=scopes))


def save_report(
    records: Records,
    neighbourhood_id: str,
    day: object,
    fields: Mapping[str, Any],
    *,
    zero: bool,
    system: Mapping[str, int],
    based_on: int,
    user: str,
    at: dt.datetime,
    cutoff: dt.time,
) -> Record:
    """Save ``neighbourhood_id``'s report for ``day`` (a zero report when ``zero``); ``system``:
    the figures the system holds for it (:func:`geo.community.system_figures`). ``based_on``: the
    version the reporter saw (0: none yet). Raises :class:`geo.community.CommunityReportError`
    (the rules) and ``StaleWrite`` (saved by someone else since)."""
    key = report_key(neighbourhood_id, day)
    prev = records.get(KIND, key)
    if prev is not None and prev.version > int(based_on):
        raise stale_write(prev)  # checked again in the saving transaction
    state = report_state(fields, zero=zero, system=system, day=day, at=at, cutoff=cutoff)
    action = "zero_report" if zero else ("revise_report" if prev is not None else "daily_report")
    return records.save(KIND, key, state, based_on=int(based_on), user=user, action=action,
                        scope=str(neighbourhood_id), now=at)


def report_history(records: Records, neighbourhood_id: str, day: object) -> list[Record]:
    """Every revision of a neighbourhood's report for a day, oldest first."""
    return records.history(KIND, report_key(neighbourhood_id, day))


def save_reports_bulk(
    records: Records, rows: pd.DataFrame, system: pd.DataFrame, *, user: str, cutoff: dt.time
) -> tuple[int, list[tuple[int, str, str]]]:
    """Save many reports at once (the demo, an import from another system): all or none.

    ``rows``: ``neighbourhood_id``, ``day``, ``at``, ``zero`` and the figures / ``abnormal`` of a
    daily report. ``system``: the system's figures per ``neighbourhood_id`` and ``day``. Returns
    ``(saved, rejected)``: rejected rows as ``(row number from 1, reason_zh, reason_en)``, and
    nothing saved when any is rejected (a day already reported is rejected: revise it on the page)."""
    from geo.community import FIGURES, CommunityReportError

    sys_by = {(str(r["neighbourhood_id"]), pd.Timestamp(r["day"]).normalize()): r for r in system.to_dict("records")}
    existing = {r.key for r in records.current(KIND)}
    items, rejected, seen = [], [], set()
    for n, row in enumerate(rows.to_dict("records"), start=1):
        nb = str(row.get("neighbourhood_id") or "").strip()
        day = pd.to_datetime(row.get("day"), errors="coerce")
        at = pd.to_datetime(row.get("at"), errors="coerce")
        if pd.isna(day) or pd.isna(at):
            rejected.append((n, "日期或时间无法识别", "day or time not understood"))
            continue
        sys_row = sys_by.get((nb, day.normalize()))
        if sys_row is None:
            rejected.append((n, f"社区 {nb!r} 不在名单中", f"neighbourhood {nb!r} is not known"))
            continue
        key = report_key(nb, day)
        if key in existing or key in seen:
            rejected.append((n, f"{key} 已上报", f"{key} is already reported"))
            continue
        try:
            state = report_state(row, zero=bool(row.get("zero")), system={f: int(sys_row.get(f, 0)) for f in FIGURES},
                                 day=day, at=at.to_pydatetime(), cutoff=cutoff)
        except CommunityReportError as exc:
            zh_msg, _, en_msg = str(exc).partition(" / ")
            rejected.append((n, zh_msg, en_msg or zh_msg))
            continue
        seen.add(key)
        items.append((KIND, key, state, 0, nb))
    if rejected:
        return 0, rejected
    return len(records.save_many(items, user=user, action="import") if items else []), []
