"""Testing-site queue reports kept as versioned records (``layers/store/records.py``, kind
:data:`geo.queue.KIND`, key = the site id, scope = the site id).

The write path of a report (:func:`report_queue`) — the page and any other caller: the rules of
:func:`geo.queue.queue_report`, the site must exist, and the reporter must answer for it (site
staff: only their own sites, ``allowed``). A report is a new
observation, not an edit of the last one: it is saved on the version current when it is made,
so two people reporting the same site a moment apart both land, in order, in the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd

from geo.queue import KIND, QueueError, queue_report, queue_states
from layers.store.records import Record, Records

__all__ = ["report_queue", "load_queue"]


def report_queue(records: Records, site_id: str, level: str, wait_min: object = None, *, sites: Collection[str],
                 user: str, at: dt.datetime, allowed: Collection[str] | None = None) -> Record:
    """Save a queue report for ``site_id`` (one of ``sites``, the testing-site ids) and return it.
    ``allowed``: the sites the reporter answers for (site staff: their account's areas; None:
    every site, the command centre). Raises :class:`geo.queue.QueueError` for an unknown site, a
    site the reporter does not answer for, an unknown level or a bad wait."""
    sid = str(site_id)
    if sid not in {str(s) for s in sites}:
        msg = f"没有编号为 {sid!r} 的检测点 / no testing site {sid!r}"
        raise QueueError(msg)
    if allowed is not None and sid not in {str(s) for s in allowed}:
        msg = f"您不负责检测点 {sid}，不能上报 / you do not answer for testing site {sid}: not reported"
        raise QueueError(msg)
    data = queue_report(level, wait_min, at=at)
    current = records.get(KIND, sid)
    return records.save(KIND, sid, data, based_on=current.version if current else 0, user=user, action="report_queue",
                        scope=sid, now=at)


def load_queue(records: Records, *, now: object, stale_minutes: int) -> pd.DataFrame:
    """Every site's queue at ``now`` (:func:`geo.queue.queue_states`)."""
    return queue_states(records.current(KIND), now=now, stale_minutes=stale_minutes)
