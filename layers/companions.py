"""时空伴随者 into the traveller list: the companions found (:mod:`geo.companions`) flag the
travellers whose pseudonymous ``device_id`` they name — ``companion`` set, ``companion_date`` the
detection day — so the screening rules give them their code and obligations (seed 004: 黄码,
"7+3" home health monitoring; seed 001: investigated within 24 hours). One write of the
travellers layer, refused when the store changed since it was read; a traveller flagged on an
earlier day keeps that day."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FlagResult", "flag_companions", "SUMMARY_KIND", "save_summary", "latest_summary"]

#: The record kind of a detection's aggregates (``geo.companions.companion_summary``), key = the as-of day.
SUMMARY_KIND = "companion_summary"


@dataclass(frozen=True)
class FlagResult:
    flagged: int  # travellers newly flagged
    already: int  # travellers flagged on an earlier day (kept)
    unmatched: int  # companion devices no traveller carries


def flag_companions(store_location: str, found: pd.DataFrame, *, detected: object, user: str) -> FlagResult:
    """Flag the travellers whose ``device_id`` is among ``found["device"]`` as companions detected
    on ``detected`` (a day). Raises ``StaleWrite`` when the store changed meanwhile."""
    from layers.store import open_store

    store = open_store(store_location)
    version = store.version()
    t = store.read("travellers")
    devices = set(found["device"].astype(str))
    if "device_id" not in t.columns or not devices:
        return FlagResult(0, 0, len(devices))
    dev = t["device_id"].astype("string")
    hit = dev.isin(devices).fillna(False).to_numpy(dtype=bool)
    day = pd.Timestamp(detected).normalize()
    was = t["companion"].fillna(False).astype(bool).to_numpy() if "companion" in t.columns else hit & False
    earlier = pd.to_datetime(t["companion_date"]).le(day).fillna(False).to_numpy() if "companion_date" in t.columns else was
    keep = hit & was & earlier
    new = hit & ~keep
    if new.any():
        t = t.copy()
        t.loc[new, "companion"] = True
        t.loc[new, "companion_date"] = day
        store.write_layers({"travellers": t}, {"travellers": "replace"}, expect_version=version, user=user, action="companions")
    matched = set(dev[hit].dropna())
    return FlagResult(int(new.sum()), int(keep.sum()), len(devices - matched))


def save_summary(store_location: str, summary: dict, *, user: str):
    """Keep a detection's aggregates (no device, no person) as a versioned record keyed by its day."""
    from layers.store.records import records_for

    records = records_for(store_location)
    current = records.get(SUMMARY_KIND, summary["as_of"])
    return records.save(SUMMARY_KIND, summary["as_of"], summary, based_on=current.version if current else 0, user=user,
                        action="companions")


def latest_summary(records, as_of: object) -> dict | None:
    """The aggregates of the newest detection on or before ``as_of`` (None: none yet)."""
    day = pd.Timestamp(as_of).strftime("%Y-%m-%d")
    runs = [r for r in records.current(SUMMARY_KIND) if r.key <= day]
    return dict(max(runs, key=lambda r: r.key).data) if runs else None
