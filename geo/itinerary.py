"""我去过风险区吗？ Was I in a risk area? — one anonymous itinerary, checked.

A resident lists where they stayed in the last 14 days (a place name, and a point for a place in
the city, with the days). For each stay: the risk-area entries in force at that place during
those days (from the risk areas' lifetimes, so an entry lifted since still counts for a stay
before it was lifted) and the zones in force at that point then; and for the whole itinerary,
what the screening rules in force today ask of someone arriving with it today — the same
:func:`geo.screening.classify_with_obligations` the command centre's screening uses, applied to
one traveller who has no id, no name and no residence.

Pure: frames in, an answer out. Nothing here stores, logs or caches the itinerary; the page
keeps it in the visitor's own session only.

Which entries a stay "meets" (shown per stay; the classification decides the code):
- a place resolved to a county: the entries of that county (``area`` when the place text names
  the entry's area as well);
- a place resolved only to a city: the entries of the city's counties;
- a place resolved only to a province: its entries (the rules match nothing at that level: the
  classification says the place must name the county).
An entry is in force during a stay when ``since ≤ last day`` and (``lifted`` empty or
``lifted > first day``) — the screening's definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from geo._gazetteer_match import OK, PlaceIndex
from geo.screening import RuleSet, classify_with_obligations, rule_set_in_force
from geo.zones import in_force_during

__all__ = ["MAX_STAYS", "WINDOW_DAYS", "ItineraryAnswer", "ItineraryError", "Stay", "StayAnswer", "check_itinerary"]

#: Stays one itinerary may hold, and how far back it reaches (the rules' 14-day window).
MAX_STAYS = 14
WINDOW_DAYS = 14
_ID = "itinerary"


class ItineraryError(ValueError):
    """An itinerary that cannot be checked as entered; ``problems`` lists ``(stay number from 1
    or None, zh, en)``."""

    def __init__(self, problems: Sequence[tuple[int | None, str, str]]):
        self.problems = list(problems)
        zh = "；".join((f"第 {i} 条：" if i else "") + p_zh for i, p_zh, _ in self.problems)
        en = "; ".join((f"stay {i}: " if i else "") + p_en for i, _, p_en in self.problems)
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True)
class Stay:
    """One stay: the place as typed, its first and last day, and a point (WGS-84) when the
    place was found in the city (zones are checked at points only)."""

    place: str
    first: dt.date | None
    last: dt.date | None
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class StayAnswer:
    """What one stay met. ``resolved`` is the place's admin unit ("" when not found), ``status``
    the resolution (ok / empty / unknown / ambiguous / conflict); ``entries`` the risk entries
    in force there then (``level``, ``area_name``, ``county``, ``since``, ``lifted``, ``scope``);
    ``zones`` the zones at the point then (``tier``, ``name``, ``start``, ``lifted``)."""

    stay: Stay
    resolved: str
    status: str
    entries: pd.DataFrame
    zones: pd.DataFrame


@dataclass(frozen=True)
class ItineraryAnswer:
    """Every stay's answer, and the classification of the itinerary by the rule set in force
    today: ``outcome`` holds ``code``, ``measure_zh``/``measure_en``, ``reason_zh``/``reason_en``;
    ``obligations`` what it asks, each with its deadline."""

    stays: list[StayAnswer]
    rule_set: RuleSet
    outcome: pd.Series
    obligations: pd.DataFrame = field(default_factory=pd.DataFrame)


def _check(stays: Sequence[Stay], today: dt.date) -> None:
    problems: list[tuple[int | None, str, str]] = []
    if not stays:
        problems.append((None, "请至少填写一条行程", "enter at least one stay"))
    if len(stays) > MAX_STAYS:
        problems.append((None, f"最多 {MAX_STAYS} 条行程", f"at most {MAX_STAYS} stays"))
    earliest = today - dt.timedelta(days=WINDOW_DAYS)
    for i, s in enumerate(stays, start=1):
        if not str(s.place or "").strip() and s.lon is None:
            problems.append((i, "请填写地点", "enter the place"))
        if s.first is None or s.last is None:
            problems.append((i, "请填写到达和离开日期", "enter the days you arrived and left"))
            continue
        if s.last < s.first:
            problems.append((i, f"离开日期 {s.last} 早于到达日期 {s.first}", f"left on {s.last}, before arriving on {s.first}"))
        if s.last > today:
            problems.append((i, f"离开日期 {s.last} 晚于今天（{today}）", f"left on {s.last}, after today ({today})"))
        if s.last < earliest:
            problems.append((i, f"早于 {WINDOW_DAYS} 天前（{earliest}）的行程不在查询范围内",
                             f"ended before the {WINDOW_DAYS}-day window ({earliest})"))
    if problems:
        raise ItineraryError(problems)


_ENTRY_COLUMNS = ["level", "area_name", "county", "since", "lifted", "scope"]
_ZONE_COLUMNS = ["tier", "name", "start", "lifted"]


def _entries(stay: Stay, unit, rest: str, risk_areas: pd.DataFrame) -> pd.DataFrame:
    if unit is None or risk_areas is None or len(risk_areas) == 0:
        return pd.DataFrame(columns=_ENTRY_COLUMNS)
    code = risk_areas["adcode"].astype(str)
    if unit.level == "county":
        near = (code == unit.county_adcode).to_numpy()
    elif unit.level == "city":
        near = (code.str[:4] == unit.city_adcode[:4]).to_numpy()
    else:
        near = (code.str[:2] == unit.province_adcode[:2]).to_numpy()
    hit = risk_areas[near & in_force_during(risk_areas["since"], risk_areas["lifted"], stay.first, stay.last)]
    out = hit.reindex(columns=["level", "area_name", "county", "since", "lifted"]).copy()
    text = f"{stay.place}{rest}"
    named = [bool(str(a).strip()) and str(a).strip() in text for a in out["area_name"].fillna("")]
    out["scope"] = ["area" if n else unit.level for n in named]
    return out.sort_values(["since"], kind="stable").reset_index(drop=True)[_ENTRY_COLUMNS]


def _zones(stay: Stay, zones: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if stay.lon is None or stay.lat is None or zones is None or len(zones) == 0:
        return pd.DataFrame(columns=_ZONE_COLUMNS)
    point = shapely.Point(stay.lon, stay.lat)
    covers = shapely.covers(zones.geometry.to_numpy(), point)
    hit = zones[covers & in_force_during(zones["start"], zones["lifted"], stay.first, stay.last)]
    return hit.reindex(columns=_ZONE_COLUMNS).reset_index(drop=True)


def check_itinerary(
    stays: Sequence[Stay],
    *,
    risk_areas: pd.DataFrame,
    zones: gpd.GeoDataFrame | None,
    gazetteer: pd.DataFrame,
    rules: RuleSet | Sequence[RuleSet],
    today: dt.date,
    place_index: PlaceIndex | None = None,
) -> ItineraryAnswer:
    """Check one itinerary (see the module docstring). ``risk_areas`` and ``zones`` are every
    entry and zone with their lifetimes (not filtered to today); ``place_index`` may be given to
    reuse one built from ``gazetteer``. Raises :class:`ItineraryError` for an itinerary that
    cannot be checked as entered (no stay, more than 14, a stay ending before it starts, after
    today or before the 14-day window)."""
    _check(stays, today)
    index = place_index or PlaceIndex.from_gazetteer(gazetteer)
    answers = []
    for s in stays:
        res = index.resolve(s.place, partial=True)
        unit = res.unit if res.status == OK else None
        answers.append(StayAnswer(s, unit.label if unit is not None else "", res.status,
                                  _entries(s, unit, res.rest, risk_areas), _zones(s, zones)))
    rs = rules if isinstance(rules, RuleSet) else rule_set_in_force(rules, pd.Timestamp(today))
    traveller = pd.DataFrame({"id": [_ID], "arrival_date": [pd.Timestamp(today)], "inbound": [False]})
    visits = pd.DataFrame({
        "traveller_id": [_ID] * len(stays),
        "place": [s.place for s in stays],
        "adcode": [None] * len(stays),
        "from_date": [pd.Timestamp(s.first) for s in stays],
        "to_date": [pd.Timestamp(s.last) for s in stays],
    })
    classified, obligations = classify_with_obligations(traveller, visits, risk_areas, gazetteer, rs, as_of=pd.Timestamp(today))
    outcome = classified.iloc[0] if len(classified) else pd.Series(dtype=object)
    return ItineraryAnswer(answers, rs, outcome, obligations.reset_index(drop=True))
