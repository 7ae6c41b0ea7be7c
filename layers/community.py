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
from layers.records import Record, Records, stale_write

__all__ = ["save_report", "load_reports", "report_history"]


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
