"""时间回放 The map over time: what was in force on a day, what had just been lifted, and the
quarantine hotels in use that day.

Risk areas and zones keep their lifetimes (``since``/``start`` … ``lifted``; a level change of a
risk area ends one entry and starts another, :func:`layers.risk_areas.apply_daily_list`), so any
day can be shown as it was. "In force on a day" is the layers' one definition
(:meth:`layers.spec.LayerSpec.as_of`: started on or before the day, not lifted by then); an item
lifted within the last ``fade_days`` days (lifted after ``day − fade_days`` and on or before the
day) is drawn faded, so a lift is seen, not just an absence.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from layers import get_spec

__all__ = ["Day", "MAX_DAYS", "day_figures", "day_range", "on_day"]

#: The longest range the slider offers (days).
MAX_DAYS = 120


@dataclass(frozen=True)
class Day:
    """One day of the map: the zones and risk areas in force, and those lifted shortly before."""

    day: pd.Timestamp
    zones: pd.DataFrame
    zones_lifted: pd.DataFrame
    risk_areas: pd.DataFrame
    risk_lifted: pd.DataFrame
    hotels: pd.DataFrame | None = None  # the quarantine hotels in use that day (None: not asked)


def _lifted_within(frame: pd.DataFrame, day: pd.Timestamp, fade_days: int) -> pd.DataFrame:
    if frame is None or len(frame) == 0 or "lifted" not in frame.columns or fade_days <= 0:
        return frame.iloc[0:0] if frame is not None else pd.DataFrame()
    lifted = pd.to_datetime(frame["lifted"])
    keep = (lifted <= day) & (lifted > day - pd.Timedelta(days=int(fade_days)))
    return frame[keep.to_numpy()]


def on_day(zones: pd.DataFrame, risk_areas: pd.DataFrame, day: object, *, fade_days: int,
           hotels: pd.DataFrame | None = None) -> Day:
    """The zones and risk areas in force on ``day`` (every row given with its lifetime), those
    lifted within ``fade_days`` days before it, and of ``hotels`` those in use that day
    (:func:`layers.hotels.in_use`)."""
    from layers.hotels import in_use

    d = pd.Timestamp(day).normalize()
    return Day(
        day=d,
        zones=get_spec("zones").as_of(zones, d),
        zones_lifted=_lifted_within(zones, d, fade_days),
        risk_areas=get_spec("risk_areas").as_of(risk_areas, d),
        risk_lifted=_lifted_within(risk_areas, d, fade_days),
        hotels=None if hotels is None else hotels[in_use(hotels, d)],
    )


def day_figures(d: Day, *, province: str | None = None) -> dict[str, int]:
    """The figures that follow the slider: zones in force by tier and risk areas in force by level
    (nationally, and high or medium in ``province`` when given) — counted as the command page's
    key figures count them (:mod:`layers.figures`) — how many were lifted in the fade window, and
    (when the day has hotels) the quarantine hotels in use and their rooms."""
    from layers.figures import risk_counts, zone_counts_by_tier

    national, in_province = risk_counts(d.risk_areas, province)
    out = zone_counts_by_tier(d.zones) | {"high": national["high"], "medium": national["medium"],
                                           "zones_lifted": len(d.zones_lifted), "risk_lifted": len(d.risk_lifted)}
    if province is not None:
        out["in_province"] = in_province["high"] + in_province["medium"]
    if d.hotels is not None:
        out["hotels_in_use"] = len(d.hotels)
        out["hotel_rooms"] = int(pd.to_numeric(d.hotels["rooms_total"]).fillna(0).sum()) if len(d.hotels) else 0
    return out


def day_range(zones: pd.DataFrame, risk_areas: pd.DataFrame, end: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The days worth showing up to ``end``: from the first zone start or risk-area listing (at
    most :data:`MAX_DAYS` before ``end``)."""
    last = pd.Timestamp(end).normalize()
    starts = []
    if zones is not None and len(zones) and "start" in zones.columns:
        starts.append(pd.to_datetime(zones["start"]).min())
    if risk_areas is not None and len(risk_areas) and "since" in risk_areas.columns:
        starts.append(pd.to_datetime(risk_areas["since"]).min())
    starts = [s for s in starts if pd.notna(s)]
    first = min(starts) if starts else last
    first = max(first.normalize(), last - pd.Timedelta(days=MAX_DAYS - 1))
    return min(first, last), last
