"""排队情况 — testing-site queue levels.

Pure: no Streamlit, no storage. Staff at a sampling site (role ``site``, their own sites) or the
command centre report a site's queue as one of four levels — 畅通 smooth, 忙碌 busy, 拥堵
crowded, 暂停 paused — with the wait in minutes when they know it. A report is a versioned
record (``layers/store/records.py``, kind :data:`KIND`, key = the site id); the newest one is the
site's level until it goes stale: after ``stale_minutes`` (setting ``queue_stale_minutes``,
default 60) the site shows "no recent report" — never an old level as if it were now.

:func:`queue_states` is the one definition of a site's level at a moment: residents' cards, the
"not crowded" filter and the command map all read it. :func:`public_queue` is what a public page
may receive: the level and the time of the report, nothing else (not who reported, not the wait).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.hours import local_naive

__all__ = [
    "KIND",
    "LEVELS",
    "CROWDED",
    "QueueError",
    "queue_report",
    "queue_states",
    "public_queue",
    "not_crowded",
    "age_text",
]

KIND = "site_queue"
#: level → (zh, en, colour)
LEVELS: dict[str, tuple[str, str, str]] = {
    "smooth": ("畅通", "Smooth", "#1a9850"),
    "busy": ("忙碌", "Busy", "#f39c12"),
    "crowded": ("拥堵", "Crowded", "#d73027"),
    "paused": ("暂停", "Paused", "#6c757d"),
}
#: Levels the resident's "not crowded" filter leaves out.
CROWDED = frozenset({"crowded", "paused"})
MAX_WAIT_MIN = 600


class QueueError(ValueError):
    """A queue report that cannot be saved; the message is bilingual (中文 / English)."""


def queue_report(level: str, wait_min: object = None, *, at: dt.datetime) -> dict[str, Any]:
    """The fields of one report: ``level`` (a key of :data:`LEVELS`), ``wait_min`` (whole minutes
    0–600, or None when not known), ``reported_at`` (local time to the second). Raises
    :class:`QueueError` for an unknown level or a wait that is not a whole number in range."""
    if level not in LEVELS:
        msg = f"未知的排队情况 {level!r} / unknown queue level {level!r}; one of {', '.join(LEVELS)}"
        raise QueueError(msg)
    wait = None
    if wait_min is not None and not (isinstance(wait_min, float) and np.isnan(wait_min)) and str(wait_min).strip() != "":
        try:
            wait = int(str(wait_min).strip())
        except ValueError:
            msg = f"等候时间须为整数分钟，收到 {wait_min!r} / the wait must be whole minutes, got {wait_min!r}"
            raise QueueError(msg) from None
        if not 0 <= wait <= MAX_WAIT_MIN:
            msg = f"等候时间须在 0–{MAX_WAIT_MIN} 分钟之间 / the wait must be 0 to {MAX_WAIT_MIN} minutes, got {wait}"
            raise QueueError(msg)
    if level == "paused":
        wait = None  # no queue while sampling is paused
    return {"level": level, "wait_min": wait, "reported_at": local_naive(at).strftime("%Y-%m-%dT%H:%M:%S")}


def queue_states(records: Iterable[Any], *, now: object, stale_minutes: int = 60) -> pd.DataFrame:
    """Each site's queue at ``now`` from its newest report (records of kind :data:`KIND`: ``key``
    the site id, ``data`` from :func:`queue_report`): ``site_id``, ``level`` (None when the
    report is older than ``stale_minutes`` or later than ``now``), ``wait_min``, ``reported_at``,
    ``age_min`` (whole minutes since the report), ``fresh`` and ``reported_level`` (the level
    reported, fresh or not)."""
    now = local_naive(now)
    rows = [(r.key, r.data.get("level"), r.data.get("wait_min"), r.data.get("reported_at")) for r in records]
    out = pd.DataFrame(rows, columns=["site_id", "reported_level", "wait_min", "reported_at"])
    out["reported_at"] = pd.to_datetime(out["reported_at"], errors="coerce")
    age = (now - out["reported_at"]).dt.total_seconds() / 60.0
    out["age_min"] = np.floor(age).astype("Int64") if len(out) else pd.Series(dtype="Int64")
    fresh = (age >= 0) & (age <= stale_minutes) & out["reported_level"].isin(list(LEVELS))
    out["fresh"] = fresh.to_numpy(dtype=bool)
    out["level"] = pd.Series([lv if f else None for lv, f in zip(out["reported_level"], out["fresh"], strict=True)],
                             index=out.index, dtype=object)
    out["wait_min"] = pd.to_numeric(out["wait_min"], errors="coerce").astype("Int64").where(out["fresh"])
    return out[["site_id", "level", "wait_min", "reported_at", "age_min", "fresh", "reported_level"]]


def public_queue(states: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """What a public page may receive: site id → (level, report time ``YYYY-MM-DD HH:MM``), fresh
    reports only. Not who reported, not the wait."""
    f = states[states["fresh"]]
    return {str(s): (str(lv), pd.Timestamp(t).strftime("%Y-%m-%d %H:%M"))
            for s, lv, t in zip(f["site_id"], f["level"], f["reported_at"], strict=True)}


def not_crowded(site_ids: Iterable[object], queue: Mapping[str, tuple[str, str]]) -> np.ndarray:
    """Flags for the resident's "not crowded" filter: the site has no fresh report of 拥堵 crowded
    or 暂停 paused (a site without a recent report is kept: not known to be crowded; its card says so)."""
    return np.array([queue.get(str(s), ("", ""))[0] not in CROWDED for s in site_ids], dtype=bool)


def age_text(reported_at: object, now: object, lang: str) -> str:
    """``"12 分钟前"`` / ``"12 min ago"``; ``"刚刚"`` / ``"just now"`` under a minute."""
    minutes = int((local_naive(now) - local_naive(reported_at)).total_seconds() // 60)
    if minutes < 1:
        return "刚刚" if lang == "zh" else "just now"
    if minutes < 60:
        return f"{minutes} 分钟前" if lang == "zh" else f"{minutes} min ago"
    return f"{minutes // 60} 小时前" if lang == "zh" else f"{minutes // 60} h ago"
