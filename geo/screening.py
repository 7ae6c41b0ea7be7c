"""Screening engine: which travellers get which code and measure, and which neighbourhoods to screen.

Pure and vectorized: DataFrames in, DataFrames out, no files. The policy is data
(:class:`RuleSet`, loaded from ``data/rules/*.toml`` by :mod:`layers.rules`); this module only
knows the *kinds* of match a rule can ask for. :func:`classify_travellers` does one traveller per
row; :func:`screen_neighbourhoods` aggregates; :func:`screen` does both.

Definitions (``tests/geo/test_screening.py`` pins each one with a case)
----------------------------------------------------------------------
- **As of.** ``as_of`` is a date (read as 00:00 of that day) or a date-time. The rule set in
  force is the one with the latest ``effective_from`` ≤ the as-of day; it is applied to every
  traveller. Travellers whose arrival date is after the as-of day have not arrived yet and are
  left out (a note says how many). Risk entries whose ``since`` is after the as-of day are not
  known yet.
- **14-day window** ("14天内", ``history_days``): the 14 days before the arrival day *and* the
  arrival day itself, i.e. days ``arrival − 14 … arrival``. A stay that ended on day
  ``arrival − 14`` counts; one that ended on ``arrival − 15`` does not; passing through on the
  arrival day counts.
- **Risk entry in force during a stay**: the stay is clipped to the window; the entry counts
  when ``since ≤ clipped end`` and (``lifted`` empty or ``lifted > clipped start``). An entry
  lifted on day L was in force up to L − 1, as in ``LayerSpec.as_of``.
- **Matches** a rule can ask for: ``area`` (the stay names the risk area itself: its text is an
  admin prefix resolving to the entry's county followed by the entry's ``area_name``, with or
  without the county name repeated), ``county`` (the stay's county holds an entry), ``city``
  (the stay's city holds an entry and the stay matched no ``area``/``county`` rule: one of the
  city's *other* counties, the 涉疫地市 test), ``inbound`` (days quarantined at the entry point in
  a range), ``companion``, ``bigdata_push``. Rules list the entry levels that count.
- **Municipalities** (北京/天津/上海/重庆): the seed's unit is the street/town (街道、乡镇), which
  nothing here resolves; the **district** is used as the county and the municipality as the
  city. Over-inclusive by design: every street of a district holding a risk area counts as that
  area's "county" (red 14+7 home instead of yellow for the other streets of that district).
- **A stay written only down to the city** in an affected city matches the ``city`` rule (yellow
  in the 2022 rules); the reason says the county was not stated and asks to verify it. A stay
  written only down to the **province** matches nothing; if the province had an entry in force
  during the stay, the traveller is pending ("place names only the province").
- **Pending** (待核实): a stay in the window whose place does not resolve (unknown, ambiguous,
  place text and adcode disagree, empty), a stay with a missing or inverted date (its window is
  unknown), a missing arrival date, inbound without usable entry-quarantine days, a companion /
  push flag without its date. Nothing is guessed. Precedence: **red > pending > yellow > green**
  — a red from another stay stands (``needs_verification``; the unresolved stays are listed in
  its reason); anything milder becomes pending, because the unresolved stay might be red; the
  milder finding is kept in the reason ("另：… / also: …"). A broken stay wholly outside the
  window (both dates known) is ignored.
- **One outcome per traveller**: the matching rule with the smallest ``priority``; ties go to
  the earliest stay (row order of ``visits``), then the earliest risk entry (row order). The
  other matching rules are listed in the reason ("同时符合 / also matches") and ``matched_rules``.
- **Landing test**: a traveller with a resolved stay outside the home province in the window, or
  inbound, is "from outside the province"; the rule set's landing test heads their test
  schedule (a rule may opt out), and with no rule they are green with the landing test as their
  measure. With no rule and no such stay: green, measure none.
- **Times**: dates carry no time of day, so a deadline is ``hours`` after 00:00 of its anchor day
  (the arrival day, or the companion / push flag day) — the earliest reading, never later than
  the rule allows. A measure of N days starting on day S (arrival, or the flag day for
  companions) ends on day S + N − 1 (the start day is day 1), and a rule with ``auto_lift``
  lifts on the next day: ``lifted``, code green, ``measure_id`` ``lifted``. There are no test
  results or case data, so "no abnormality" is assumed. A red code with stays still to verify
  does not lift before every measure the rule set could give has ended (``horizon``: arrival +
  the longest place or inbound measure); a landing-test or pending outcome closes at that point
  too (the reason says so). Rule sets with measures of no stated length (2021-12-08) never close
  anything by themselves.
- **Overdue**: the first action's deadline is before the as-of time and the traveller's case is
  not closed. There is no completion data yet, so every action counts as not done: before test
  results and contact logs are imported, overdue over-counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import _classify as _c
from geo._gazetteer_match import PlaceIndex
from geo.hours import local_naive

__all__ = [
    "CODES",
    "OUTPUT_COLUMNS",
    "LEVELS",
    "MATCHES",
    "ANCHORS",
    "SCREENING_LEVELS",
    "Step",
    "Phase",
    "PHASE_PLACES",
    "Rule",
    "RuleSet",
    "Notice",
    "RULE_LEVELS",
    "OBLIGATION_COLUMNS",
    "obligations_frame",
    "Screening",
    "NoRuleSetInForce",
    "rule_set_in_force",
    "parse_as_of",
    "AS_OF_RANGE",
    "classify_travellers",
    "classify_with_obligations",
    "screen_neighbourhoods",
    "count_per_neighbourhood",
    "screening_levels",
    "screen",
    "neighbourhood_ids_for_points",
    "mask_phone",
    "mask_id",
    "suppress_small",
]

CODES = ("red", "yellow", "green", "pending")
CODE_LABELS = {
    "red": ("红码", "red"),
    "yellow": ("黄码", "yellow"),
    "green": ("绿码", "green"),
    "pending": ("待核实", "pending"),
}
LEVELS = ("high", "medium", "cases_unrated")
LEVEL_LABELS = {
    "high": ("高风险区", "high-risk area"),
    "medium": ("中风险区", "medium-risk area"),
    "cases_unrated": ("有病例尚未定级区县", "county with cases not yet rated"),
}
PLACE_MATCHES = ("area", "county", "city")
PERSON_MATCHES = ("inbound", "companion", "bigdata_push", "health_code")
#: Levels a rule may list: the risk list's, and ``notice`` (a place a rule set's notice names).
RULE_LEVELS = (*LEVELS, "notice")
HEALTH_CODE_COLOURS = ("red", "yellow")
MATCHES = PLACE_MATCHES + PERSON_MATCHES
ANCHORS = ("arrival", "flag")
#: Where a phase of a measure is kept (``Phase.at``); ``home`` phases get the community's daily check-in.
PHASE_PLACES = ("home", "hotel", "community")
SCREENING_LEVELS = {
    "full": ("全员核酸", "full screening"),
    "targeted": ("重点人员", "targeted (key persons)"),
    "none": ("无", "none"),
}
#: Columns of :func:`classify_travellers`' result.
OUTPUT_COLUMNS = {
    "id": "traveller id",
    "name": "personal: name", "phone": "personal: phone", "id_number": "personal: ID-card number",
    "address": "personal: address",
    "neighbourhood_id": "residence neighbourhood (given, else from the residence point)",
    "neighbourhood": "its name", "street": "its street", "district": "its district", "district_adcode": "district code",
    "arrival_date": "arrival day",
    "code": "current code: red / yellow / green / pending (green once lifted or closed)",
    "assigned_code": "the code the deciding rule gives (before lifting)",
    "rule_id": "deciding rule id, or landing / none / pending",
    "measure_id": "rule_id, or lifted once the case is closed",
    "measure_zh": "measure (Chinese)", "measure_en": "measure (English)",
    "provisional": "the code is provisional (big-data push)",
    "reason_zh": "why (Chinese)", "reason_en": "why (English)",
    "first_action_zh": "the action with the earliest open deadline (Chinese)", "first_action_en": "(English)",
    "first_action_due": "the earliest open deadline (datetime; NaT = none stated)",
    "test_due": "list of test deadlines (landing test first)",
    "test_schedule_zh": "tests with deadlines (Chinese)", "test_schedule_en": "tests with deadlines (English)",
    "measure_start": "first day of the measure", "measure_end": "last day of the measure",
    "lifted": "the case is closed (measure ended, or nothing left to verify)",
    "out_of_province": "a stay outside the home province in the window, or inbound",
    "needs_verification": "some stay or field could not be used (see the reason)",
    "pending_issues": "bits: 1 place, 2 date, 4 province only, 8 arrival date, 16 inbound days, 32 flag date, 64 county needed, 128 street needed",
    "history_incomplete": "the dated stays do not cover the 14 days before arrival",
    "matched_rules": "every matching rule id, by priority, ';'-separated",
    "obligations": "number of obligations",
    "open_obligations": "number still open",
    "obligations_zh": "every obligation, one per line (Chinese)",
    "obligations_en": "every obligation, one per line (English)",
    "overdue": "some obligation is overdue: its deadline passed and it is still open (the one definition)",
    "rule_set": "effective_from of the rule set applied",
}

#: ``measure_id`` values besides rule ids.
LANDING, NONE, PENDING, LIFTED = "landing", "none", "pending", "lifted"
ZONE_TOLERANCE_DEG = 1e-6  # ~0.1 m: zone and neighbourhood edges that should coincide after reprojection

# pending issue bits
_NA = np.iinfo(np.int64).min
_BIG = np.iinfo(np.int64).max


# ----------------------------------------------------------------------------------------------
# Rule objects (built by layers.rules from the TOML files; plain frozen data)


@dataclass(frozen=True)
class Step:
    """An action or a test with an optional deadline: ``hours`` after 00:00 of the anchor day.

    ``hours=None`` means the source states no deadline ("按规定 / as required").
    """

    zh: str
    en: str
    hours: int | None = None
    anchor: str = "arrival"
    count: int = 1
    quote: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Phase:
    """One part of a measure, e.g. 14 days of centralized quarantine."""

    days: int
    zh: str
    en: str
    at: str = ""  # where it is kept: home (daily check-in by the community), hotel, community; "" unstated


@dataclass(frozen=True)
class Rule:
    """One classification rule: what it matches, the code and measure it gives, and deadlines."""

    id: str
    priority: int
    match: str
    code: str
    label_zh: str
    label_en: str
    measure_zh: str
    measure_en: str
    first_action: Step
    quote: tuple[str, ...] = ()
    source: str = ""
    levels: tuple[str, ...] = ()
    min_entry_days: int | None = None
    max_entry_days: int | None = None
    phases: tuple[Phase, ...] = ()
    auto_lift: bool = False
    provisional: bool = False
    tests: tuple[Step, ...] = ()
    landing_test: bool = True
    code_note: str = ""
    colours: tuple[str, ...] = ()  # health_code: the holder's code colours this rule takes
    until_verified: bool = False  # never lifts by itself: open until a person verifies it

    @property
    def total_days(self) -> int | None:
        """Length of the measure in days, ``None`` when the source states none."""
        return sum(p.days for p in self.phases) if self.phases else None


@dataclass(frozen=True)
class Notice:
    """A notice's look-back: stays in ``place`` on or after ``since`` count (seed 001 "11月23日以来有…旅居史")."""

    place: str
    since: str  # YYYY-MM-DD
    adcode: str = ""
    quote: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class RuleSet:
    """The rules in force from ``effective_from`` until a later rule set."""

    effective_from: pd.Timestamp
    name_zh: str
    name_en: str
    source: str
    source_file: str
    quote: tuple[str, ...]
    home_province_adcode: str
    history_days: int
    rules: tuple[Rule, ...]
    pending: Step
    landing_test: Step | None = None
    file: str = ""
    notices: tuple[Notice, ...] = ()
    municipality_unit: str = "district"  # street: in 直辖市 the street / town is the unit
    whole_county_entry: str = "county"  # area: an entry with no area name is the whole county
    effective_until: pd.Timestamp | None = None

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        msg = f"rule set {self.effective_from:%Y-%m-%d} has no rule {rule_id!r}"
        raise KeyError(msg)

    def measure_labels(self) -> dict[str, tuple[str, str]]:
        """``measure_id`` → (zh, en) for every measure this set can give."""
        out = {r.id: (r.measure_zh, r.measure_en) for r in self.rules}
        if self.landing_test is not None:
            out[LANDING] = (self.landing_test.zh, self.landing_test.en)
        out[NONE] = ("无", "none")
        out[PENDING] = ("待核实", "pending verification")
        out[LIFTED] = ("已结束（期满解码）", "ended (code lifted)")
        return out


class NoRuleSetInForce(LookupError):
    """No rule set had started on the as-of day."""


def rule_set_in_force(rule_sets: Sequence[RuleSet], as_of: object) -> RuleSet:
    """The rule set with the latest ``effective_from`` on or before the as-of day.

    Raises
    ------
    NoRuleSetInForce
        When every rule set starts after ``as_of`` (the message names the earliest).
    """
    day = pd.Timestamp(as_of).normalize()
    valid = [r for r in rule_sets if r.effective_from <= day]
    if not valid:
        first = min((r.effective_from for r in rule_sets), default=None)
        msg = f"no rule set in force on {day:%Y-%m-%d}" + (f"; the earliest starts {first:%Y-%m-%d}" if first is not None else "")
        raise NoRuleSetInForce(msg)
    return max(valid, key=lambda r: r.effective_from)


# ----------------------------------------------------------------------------------------------
# Small vectorized helpers


#: The days an as-of date may name: the product's data start in 2020; anything else is a typo.
AS_OF_RANGE = (pd.Timestamp("2020-01-01"), pd.Timestamp("2099-12-31"))


def parse_as_of(value: object) -> pd.Timestamp:
    """A date or date-time for ``as_of`` (screen, wall, CLI), or ``ValueError`` naming the value:
    not a date, or outside :data:`AS_OF_RANGE` (``1000-01-01`` parses, and then breaks every
    date computation downstream)."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        msg = f"as_of is not a date: {value!r} (use YYYY-MM-DD)"
        raise ValueError(msg)
    day = ts.tz_localize(None).normalize() if ts.tzinfo is not None else ts.normalize()
    if not AS_OF_RANGE[0] <= day <= AS_OF_RANGE[1]:
        msg = f"as_of {value!r} is outside {AS_OF_RANGE[0]:%Y-%m-%d} … {AS_OF_RANGE[1]:%Y-%m-%d}"
        raise ValueError(msg)
    return ts.as_unit("ns")


def _as_of(as_of: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    ts = local_naive(parse_as_of(as_of))
    return ts, ts.normalize()


_days = _c.days  # one day-number conversion for the classifier and the neighbourhood frames


def _to_dates(days: np.ndarray) -> pd.Series:
    d = np.where(days == _NA, np.datetime64("NaT"), days.astype("datetime64[D]")).astype("datetime64[ns]")
    return pd.Series(d)


def _hours_to_ts(hours: np.ndarray) -> pd.Series:
    """int64 hours since epoch (``_NA`` missing) → datetime64[ns] Series."""
    d = np.where(hours == _NA, np.datetime64("NaT"), hours.astype("datetime64[h]")).astype("datetime64[ns]")
    return pd.Series(d)


def _fmt_day(d: int) -> str:
    return "?" if d == _NA else str(np.datetime64(int(d), "D"))


def _bool(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return pd.Series(frame[col]).astype("boolean").fillna(False).to_numpy(dtype=bool)


# ----------------------------------------------------------------------------------------------
# Privacy helpers


_text = _c.text  # one missing-aware text helper for the classifier and the privacy helpers


def mask_phone(phone: object) -> str:
    """``"13812341234"`` → ``"138****1234"``: first 3 and last 4 kept; shorter than 8 → all ``*``."""
    s = _text(phone)
    if len(s) < 8:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def mask_id(id_number: object) -> str:
    """``"140105199001011234"`` → ``"1401**********1234"``: first 4 and last 4 kept; shorter than 9 → all ``*``."""
    s = _text(id_number)
    if len(s) < 9:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def suppress_small(frame: pd.DataFrame, columns: Sequence[str], threshold: int = 3) -> pd.DataFrame:
    """A copy where counts from 1 to ``threshold − 1`` read ``"<threshold"`` (``"<3"``).

    For aggregates shown to roles other than the command centre. Zero stays 0 (it points at
    nobody); the changed columns become ``object``.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"suppress_small: no column(s) {', '.join(map(repr, missing))}"
        raise KeyError(msg)
    if threshold < 1:
        msg = f"suppress_small: threshold must be ≥ 1, got {threshold}"
        raise ValueError(msg)
    out = frame.copy()
    for c in columns:
        v = pd.to_numeric(out[c])
        small = (v > 0) & (v < threshold)
        col = out[c].astype(object)
        col[small.to_numpy()] = f"<{threshold}"
        out[c] = col
    return out


# ----------------------------------------------------------------------------------------------
# Classification (the phases live in geo._classify)


def _at(values: np.ndarray, idx: np.ndarray, default: object) -> np.ndarray:
    """``values[idx]`` where ``idx >= 0``, else ``default`` — also when ``values`` is empty (no
    traveller has an obligation)."""
    padded = np.append(values, default)
    return padded[np.where(idx >= 0, idx, len(padded) - 1)]


def _person(T: pd.DataFrame, arr: np.ndarray) -> _c.Person:
    n = len(T)
    hc = np.full(n, "", dtype=object)
    if "health_code" in T.columns:  # each distinct value looked up once
        codes, uniq = pd.factorize(T["health_code"])
        colour = np.array([_HEALTH_CODES.get(_text(v), "") for v in uniq] + [""], dtype=object)
        hc = colour[codes]
    return _c.Person(
        arrival=arr,
        inbound=_bool(T, "inbound"),
        entry_days=(
            pd.to_numeric(T["entry_quarantine_days"], errors="coerce").to_numpy(dtype=float)
            if "entry_quarantine_days" in T.columns else np.full(n, np.nan)
        ),
        flags={"companion": _bool(T, "companion"), "bigdata_push": _bool(T, "bigdata_push"), "health_code": hc != ""},
        flag_days={
            "companion": _days(T["companion_date"]) if "companion_date" in T.columns else np.full(n, _NA),
            "bigdata_push": _days(T["push_date"]) if "push_date" in T.columns else np.full(n, _NA),
            "health_code": _days(T["health_code_date"]) if "health_code_date" in T.columns else np.full(n, _NA),
        },
        health_code=hc,
    )


def _history_incomplete(st: _c.Stays, arr: np.ndarray, n: int, history_days: int) -> np.ndarray:
    """The dated stays leave a day of ``arrival − history_days … arrival − 1`` uncovered."""
    a = arr[st.t]
    lo = np.maximum(st.f, a - history_days)
    hi = np.minimum(st.to, a - 1)
    ok = np.flatnonzero(st.date_ok & (a != _NA) & (lo <= hi))
    covered = np.zeros(n, dtype=np.int64)
    if len(ok):
        t, lo, hi = st.t[ok], lo[ok], hi[ok]
        o = np.lexsort((lo, t))
        t, lo, hi = t[o], lo[o], hi[o]
        # running end of the union within each traveller: t is sorted, so t·K + hi only grows
        # across travellers and a plain running maximum never carries one traveller into the next
        base = hi.min()
        K = np.int64(hi.max() - base + 2)
        run = np.maximum.accumulate(t * K + (hi - base))
        prev = np.concatenate([[np.iinfo(np.int64).min // 4], run[:-1] - t[1:] * K + base])
        prev[np.concatenate([[True], t[1:] != t[:-1]])] = np.iinfo(np.int64).min // 4
        gain = np.maximum(hi - np.maximum(lo, prev + 1) + 1, 0)
        np.add.at(covered, t, gain)
    return (arr != _NA) & (covered < history_days)


def classify_travellers(
    travellers: pd.DataFrame,
    visits: pd.DataFrame,
    risk_areas: pd.DataFrame,
    gazetteer: pd.DataFrame,
    rules: RuleSet | Sequence[RuleSet],
    *,
    as_of: object,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Classify every arrived traveller: code, measure, reason, obligations, deadlines, overdue.

    Parameters
    ----------
    travellers : DataFrame
        The ``travellers`` layer (``id``, ``arrival_date``, ``inbound``, ``entry_quarantine_days``,
        ``companion``/``companion_date``, ``bigdata_push``/``push_date``,
        ``health_code``/``health_code_date``, ``neighbourhood_id``; optional personal columns
        are carried through; a ``geometry`` column is used only to fill a missing
        ``neighbourhood_id``).
    visits : DataFrame
        The ``visits`` layer (``traveller_id``, ``place``, ``adcode``, ``from_date``, ``to_date``).
    risk_areas : DataFrame
        The national list (``level``, ``province``, ``city``, ``county``, ``adcode``,
        ``area_name``, ``since``, ``lifted``).
    gazetteer : DataFrame
        ``layers.boundaries.gazetteer()``.
    rules : RuleSet or sequence of RuleSet
        A rule set, or all of them (the one in force on ``as_of`` is used).
    as_of : date or datetime
        See the module docstring.
    neighbourhoods : GeoDataFrame, optional
        For names/district of each traveller's neighbourhood, and to assign one from the
        residence point when ``neighbourhood_id`` is missing.
    notes : list, optional
        Receives human-readable notes (unresolved risk entries, visits of unknown travellers…).

    Returns
    -------
    DataFrame
        One row per arrived traveller, in input order; columns in :data:`OUTPUT_COLUMNS`. The
        obligations themselves come from :func:`classify_with_obligations` (and ``Screening.obligations``).
    """
    return classify_with_obligations(travellers, visits, risk_areas, gazetteer, rules, as_of=as_of, neighbourhoods=neighbourhoods, notes=notes)[0]


def classify_with_obligations(
    travellers: pd.DataFrame,
    visits: pd.DataFrame,
    risk_areas: pd.DataFrame,
    gazetteer: pd.DataFrame,
    rules: RuleSet | Sequence[RuleSet],
    *,
    as_of: object,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    notes: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    ts, day_ts = _as_of(as_of)
    rs = rules if isinstance(rules, RuleSet) else rule_set_in_force(rules, day_ts)
    day = int(day_ts.to_datetime64().astype("datetime64[D]").astype(np.int64))
    ts_hours = (ts.to_datetime64() - np.datetime64(0, "ns")) / np.timedelta64(1, "h")
    notes = notes if notes is not None else []
    for c in ("id", "arrival_date"):
        if c not in travellers.columns:
            msg = f"travellers lacks column {c!r}"
            raise ValueError(msg)
    for c in ("traveller_id", "place", "from_date", "to_date"):
        if c not in visits.columns:
            msg = f"visits lacks column {c!r}"
            raise ValueError(msg)
    # traveller ids and the visits' traveller ids hashed together, once
    nt = len(travellers)
    both = pd.concat([pd.Series(travellers["id"]).reset_index(drop=True), pd.Series(visits["traveller_id"]).reset_index(drop=True)], ignore_index=True)
    all_codes, all_uniq = pd.factorize(both)
    id_codes, vcodes = all_codes[:nt], all_codes[nt:]
    if (id_codes < 0).any() or len(np.unique(id_codes)) != nt:
        ids_all = pd.Series(travellers["id"])
        dup = ids_all[ids_all.duplicated() | ids_all.isna()].unique().tolist()
        msg = f"travellers: duplicate or missing id(s): {', '.join(map(str, dup[:10]))}"
        raise ValueError(msg)

    arrival_all = _days(travellers["arrival_date"])
    scope = (arrival_all == _NA) | (arrival_all <= day)
    if (~scope).any():
        notes.append(f"{int((~scope).sum())} traveller(s) arrive after {day_ts:%Y-%m-%d} and are not classified yet")
    T = travellers[scope].reset_index(drop=True)
    n = len(T)
    arr = arrival_all[scope]

    # visits → arrived travellers
    pos_all = np.full(len(all_uniq), -1, dtype=np.int64)
    pos_all[id_codes] = np.arange(nt)
    scope_pos = np.full(len(travellers), -1, dtype=np.int64)
    scope_pos[scope] = np.arange(int(scope.sum()))
    tpos_all = np.where(vcodes >= 0, pos_all[np.maximum(vcodes, 0)], -1)
    unknown_tid = int((tpos_all < 0).sum())
    if unknown_tid:
        notes.append(f"{unknown_tid} visit(s) name no known traveller and are ignored")
    tpos = np.where(tpos_all >= 0, scope_pos[np.maximum(tpos_all, 0)], -1)
    keep = np.flatnonzero(tpos >= 0)

    # phases 1–3: stays, entries, stays against entries
    idx = PlaceIndex.from_gazetteer(gazetteer)
    codes = _c.Codes()
    st = _c.resolve_stays(visits.iloc[keep], tpos[keep].astype(np.int64), arr, int(rs.history_days), idx, rs.home_province_adcode, codes)
    ent = _c.prepare_entries(risk_areas, idx, day, codes, rs)
    notes.extend(ent.unresolved)
    fnd = _c.match_stays(st, ent, rs)

    # per-traveller pending bits: unusable stays, undecidable stays, person fields
    p = _person(T, arr)
    _, _, issues = _c.person_hits(p, rs)
    a_ok = arr[st.t] != _NA
    bad_place = ~st.ok & (st.in_win | ~st.date_ok) & a_ok
    bad_date = ~st.date_ok & a_ok
    np.bitwise_or.at(issues, st.t[bad_place], _c.I_PLACE)
    np.bitwise_or.at(issues, st.t[bad_date], _c.I_DATE)
    np.bitwise_or.at(issues, st.t, fnd.issues)
    # from outside the province: a resolved stay outside it up to the arrival day, or inbound
    out_prov = np.zeros(n, dtype=bool)
    outside = st.ok & ~st.home & a_ok & ((st.f == _NA) | (st.f <= arr[st.t]))
    out_prov[st.t[outside]] = True
    out_prov |= p.inbound
    incomplete = _history_incomplete(st, arr, n, int(rs.history_days))

    # phases 4–5: obligations and the traveller's summary
    ob = _c.build_obligations(rs, p, st, fnd, issues, out_prov, day, ts_hours)
    sm = _c.summarise(ob, n)
    R = len(rs.rules)
    mask = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(mask, st.t, fnd.matched)
    rule_kinds = ob.kind < R
    np.bitwise_or.at(mask, ob.t[rule_kinds], np.left_shift(1, ob.kind[rule_kinds]))

    ob_text = _obligation_texts(rs, ob, st, ent, p, issues, fnd)
    reason_zh, reason_en = _traveller_reasons(rs, ob, sm, ob_text, issues, incomplete, n)

    kt = _kind_texts(rs)
    kind_ids, mzh, men, fzh, fen = kt["id"], kt["measure_zh"], kt["measure_en"], kt["first_zh"], kt["first_en"]
    prov_flags = np.array([r.provisional for r in rs.rules] + [False, False])
    shown = np.where(sm.current >= 0, sm.current, sm.assigned)  # the measure shown
    sk = _at(ob.kind, shown, -1)
    nd = sm.next_due
    nk = _at(ob.kind, nd, -1)

    def pick(values: np.ndarray, k: np.ndarray, default: object) -> np.ndarray:
        return np.where(k >= 0, values[np.maximum(k, 0)], default).astype(object)

    rule_id = pick(kind_ids, _at(ob.kind, sm.assigned, -1), NONE)
    measure_id = np.where(sm.lifted, LIFTED, pick(kind_ids, _at(ob.kind, sm.current, -1), NONE))
    due = _at(ob.due, nd, _NA)
    current_kind = _at(ob.kind, sm.current, -1)
    provisional = np.where(current_kind >= 0, prov_flags[np.maximum(current_kind, 0)], False)
    tests = _test_schedules(rs, ob, n)

    # residence: the neighbourhood id, else from the point; names from the neighbourhoods layer
    if "neighbourhood_id" in T.columns:
        nb_ids = T["neighbourhood_id"].to_numpy(dtype=object, na_value=None)
        nb_ids[nb_ids == ""] = None
    else:
        nb_ids = np.full(n, None, dtype=object)
    gap = pd.isna(nb_ids)
    if neighbourhoods is not None and gap.any() and "geometry" in T.columns:
        nb_ids[gap] = neighbourhood_ids_for_points(np.asarray(T.geometry, dtype=object)[gap], neighbourhoods)
    place_cols: dict[str, np.ndarray] = {c: np.full(n, None, dtype=object) for c in ("neighbourhood", "street", "district", "district_adcode")}
    if neighbourhoods is not None and n:
        codes_nb, uniq_nb = pd.factorize(pd.Series(nb_ids, dtype=object))
        pos = pd.Index(neighbourhoods["id"].to_numpy(dtype=object)).get_indexer(uniq_nb)
        pos = np.where(codes_nb >= 0, pos[np.maximum(codes_nb, 0)], -1)
        for src, dst in (("name", "neighbourhood"), ("street", "street"), ("district", "district"), ("district_adcode", "district_adcode")):
            if src in neighbourhoods.columns:
                vals = neighbourhoods[src].to_numpy(dtype=object, na_value=None)
                place_cols[dst] = np.where(pos >= 0, vals[np.maximum(pos, 0)], None)

    def obj(a: object) -> pd.Series:
        return pd.Series(a, dtype=object, copy=False)

    ob_zh, ob_en = _join_per(ob.t, ob_text["line_zh"], ob_text["line_en"], n, np.arange(len(ob)), ("\n", "\n"))
    count = np.bincount(ob.t, minlength=n) if len(ob) else np.zeros(n, dtype=np.int64)
    open_count = np.bincount(ob.t[~ob.closed], minlength=n) if len(ob) else np.zeros(n, dtype=np.int64)

    cols: dict[str, object] = {"id": obj(T["id"].to_numpy(dtype=object))}
    for c in ("name", "phone", "id_number", "address"):
        cols[c] = pd.Series(T[c].array, copy=False) if c in T.columns else obj(np.full(n, None))
    cols["neighbourhood_id"] = obj(nb_ids)
    cols.update({k: obj(v) for k, v in place_cols.items()})
    cols.update(
        {
            "arrival_date": _to_dates(arr),
            "code": obj(sm.code),
            "assigned_code": obj(sm.assigned_code),
            "rule_id": obj(rule_id),
            "measure_id": obj(measure_id),
            "measure_zh": obj(pick(mzh, sk, "无")),
            "measure_en": obj(pick(men, sk, "none")),
            "provisional": provisional.astype(bool),
            "reason_zh": obj(reason_zh),
            "reason_en": obj(reason_en),
            "first_action_zh": obj(pick(fzh, nk, "")),
            "first_action_en": obj(pick(fen, nk, "")),
            "first_action_due": _hours_to_ts(due),
            "test_due": obj(tests[0]),
            "test_schedule_zh": obj(tests[1]),
            "test_schedule_en": obj(tests[2]),
            "measure_start": _to_dates(sm.measure_start),
            "measure_end": _to_dates(sm.measure_end),
            "lifted": sm.lifted,
            "out_of_province": out_prov,
            "needs_verification": issues != 0,
            "pending_issues": issues,
            "history_incomplete": incomplete,
            "matched_rules": obj(_mask_names(mask, rs)),
            "obligations": count.astype(np.int64),
            "open_obligations": open_count.astype(np.int64),
            "obligations_zh": obj(ob_zh),
            "obligations_en": obj(ob_en),
            "overdue": sm.overdue,
            "rule_set": obj(np.full(n, f"{rs.effective_from:%Y-%m-%d}", dtype=object)),
        }
    )
    out = pd.DataFrame(cols)
    obl = obligations_frame(rs, ob, ob_text, out["id"].to_numpy(dtype=object))
    return out, obl


_HEALTH_CODES = {"red": "red", "红": "red", "红码": "red", "yellow": "yellow", "黄": "yellow", "黄码": "yellow"}

def _kind_texts(rs: RuleSet) -> dict[str, np.ndarray]:
    """Per obligation kind — the rules in order, then the landing test, then the verification of
    what could not be decided — its id, label, measure and first action (zh/en), indexable by
    ``Obligations.kind``."""
    land_zh, land_en = (rs.landing_test.zh, rs.landing_test.en) if rs.landing_test else ("", "")

    def col(values: Iterable[object], landing: object, pending: object) -> np.ndarray:
        return np.array([*values, landing, pending], dtype=object)

    return {
        "id": col((r.id for r in rs.rules), LANDING, PENDING),
        "label_zh": col((r.label_zh for r in rs.rules), "第一落点核酸检测", "旅居史待核实"),
        "label_en": col((r.label_en for r in rs.rules), "landing test", "travel history to verify"),
        "measure_zh": col((r.measure_zh for r in rs.rules), land_zh, "待核实"),
        "measure_en": col((r.measure_en for r in rs.rules), land_en, "pending verification"),
        "first_zh": col((r.first_action.zh for r in rs.rules), land_zh, rs.pending.zh),
        "first_en": col((r.first_action.en for r in rs.rules), land_en, rs.pending.en),
    }


#: Columns of :func:`obligations_frame` (one row per obligation).
OBLIGATION_COLUMNS = {
    "traveller_id": "traveller id",
    "kind": "rule id, landing or pending",
    "code": "the code it keeps: red / yellow / pending / green (landing test)",
    "label_zh": "what it comes from (Chinese)", "label_en": "what it comes from (English)",
    "measure_zh": "measure (Chinese)", "measure_en": "measure (English)",
    "first_action_zh": "first action (Chinese)", "first_action_en": "first action (English)",
    "due": "its deadline (NaT = none stated)",
    "start": "first day of the measure", "end": "last day of the measure (NaT: no stated length)",
    "status": "open / closed (ended, or lapsed)",
    "community": "followed up by the community (the landing test is the landing point's)",
    "overdue": "deadline passed and still open (community obligations)",
    "reason_zh": "why (Chinese)", "reason_en": "why (English)",
}


def obligations_frame(rs: RuleSet, ob: _c.Obligations, texts: dict[str, np.ndarray], ids: np.ndarray) -> pd.DataFrame:
    """The obligations as a table (:data:`OBLIGATION_COLUMNS`), strictest first per traveller."""
    kt = _kind_texts(rs)
    kinds, lz, le, mz, me, fz, fe = (
        kt[k] for k in ("id", "label_zh", "label_en", "measure_zh", "measure_en", "first_zh", "first_en")
    )
    return pd.DataFrame(
        {
            "traveller_id": pd.Series(ids[ob.t] if len(ids) else np.zeros(0, dtype=object), dtype=object),
            "kind": pd.Series(kinds[ob.kind], dtype=object),
            "code": pd.Series(ob.code, dtype=object),
            "label_zh": pd.Series(lz[ob.kind], dtype=object), "label_en": pd.Series(le[ob.kind], dtype=object),
            "measure_zh": pd.Series(mz[ob.kind], dtype=object), "measure_en": pd.Series(me[ob.kind], dtype=object),
            "first_action_zh": pd.Series(fz[ob.kind], dtype=object), "first_action_en": pd.Series(fe[ob.kind], dtype=object),
            "due": _hours_to_ts(ob.due),
            "start": _to_dates(ob.start),
            "end": _to_dates(ob.end),
            "status": pd.Series(np.where(ob.closed, "closed", "open"), dtype=object),
            "community": ob.community,
            "overdue": ob.overdue,
            "reason_zh": pd.Series(texts["reason_zh"], dtype=object),
            "reason_en": pd.Series(texts["reason_en"], dtype=object),
        }
    )


def _test_schedules(rs: RuleSet, ob: _c.Obligations, n: int) -> tuple[list[list[pd.Timestamp]], np.ndarray, np.ndarray]:
    """Per traveller: test deadlines (the landing test first, then each rule's tests by priority).

    A schedule depends only on the landing test's deadline and the start day of each rule with
    tests, so it is built once per distinct combination (arrival days repeat) and shared.
    """
    R = len(rs.rules)
    with_tests = [k for k, r in enumerate(rs.rules) if r.tests]
    key = {"land": np.full(n, _NA, dtype=np.int64)}
    land = ob.kind == R
    key["land"][ob.t[land]] = ob.due[land]
    has_land = np.zeros(n, dtype=bool)
    has_land[ob.t[land]] = True
    for k in with_tests:
        col = np.full(n, _NA, dtype=np.int64)
        sel = ob.kind == k
        col[ob.t[sel]] = ob.start[sel]
        key[f"r{k}"] = col
    has_rule = {k: np.isin(np.arange(n), ob.t[ob.kind == k]) for k in with_tests}
    frame = pd.DataFrame(key)
    for k in with_tests:
        frame[f"h{k}"] = has_rule[k]
    frame["hl"] = has_land
    gid = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy() if n else np.zeros(0, dtype=np.int64)
    first = pd.Series(np.arange(n)).groupby(gid).first().to_numpy() if n else np.zeros(0, dtype=np.int64)
    lists: list[list[pd.Timestamp]] = []
    zh_u: list[str] = []
    en_u: list[str] = []
    for row in first:
        items: list[tuple[str, str, int]] = []
        if has_land[row] and rs.landing_test is not None:
            items.append((rs.landing_test.zh, rs.landing_test.en, int(key["land"][row])))
        for k in with_tests:
            if not has_rule[k][row]:
                continue
            start = int(key[f"r{k}"][row])
            for step in rs.rules[k].tests:
                d = int(_c.step_due(step, np.array([start]))[0])
                for c in range(step.count):
                    tag = f"（第{c + 1}/{step.count}次）" if step.count > 1 else ""
                    tag_en = f" ({c + 1}/{step.count})" if step.count > 1 else ""
                    items.append((step.zh + tag, step.en + tag_en, d))
        lists.append([pd.Timestamp(np.datetime64(d, "h")) if d != _NA else pd.NaT for _, _, d in items])
        zh_u.append("；".join(f"{z} {_fmt_hours(d, '按规定')}" for z, _, d in items))
        en_u.append("; ".join(f"{e} {_fmt_hours(d, 'as required')}" for _, e, d in items))
    return [lists[g] for g in gid], np.array(zh_u, dtype=object)[gid], np.array(en_u, dtype=object)[gid]


_STATUS_TEXT = {
    "unknown": ("地点无法识别", "place not recognised"),
    "ambiguous": ("地点有歧义", "place ambiguous"),
    "conflict": ("地点与区划代码不一致", "place and admin code disagree"),
    "empty": ("地点缺失", "place missing"),
}


def _day_str(days: np.ndarray) -> np.ndarray:
    """Day numbers as ``YYYY-MM-DD`` (``?`` when missing), as an object array (each distinct day formatted once)."""
    days = np.asarray(days, dtype=np.int64)
    inv, uniq = pd.factorize(days)
    out = np.full(len(uniq), "?", dtype=object)
    ok = uniq != _NA
    if ok.any():
        out[ok] = np.datetime_as_string(uniq[ok].astype("datetime64[D]")).astype(object)
    return out[inv.reshape(-1)] if len(days) else np.zeros(0, dtype=object)


def _cat(*parts: object) -> np.ndarray:
    """Element-wise string concatenation of object arrays and plain strings."""
    out: object = ""
    for p in parts:
        out = out + (p if isinstance(p, str) else np.asarray(p, dtype=object))
    return np.asarray(out, dtype=object)


def _join_per(
    t: np.ndarray, zh: np.ndarray, en: np.ndarray, n: int, order: np.ndarray, seps: tuple[str, str] = ("；", "; ")
) -> tuple[np.ndarray, np.ndarray]:
    """Texts joined per traveller (by ``seps``) in ``order``; ``""`` where none.

    Column-wise: one concatenation pass per position within a traveller's group (groups are a
    handful of items), never a Python call per traveller.
    """
    oz = np.full(n, "", dtype=object)
    oe = np.full(n, "", dtype=object)
    if not len(t):
        return oz, oe
    idx = np.lexsort((np.asarray(order), np.asarray(t)))
    ts, zs, es = np.asarray(t)[idx], np.asarray(zh, dtype=object)[idx], np.asarray(en, dtype=object)[idx]
    first = np.concatenate([[True], ts[1:] != ts[:-1]])
    starts = np.flatnonzero(first)
    rank = np.arange(len(ts)) - starts[np.cumsum(first) - 1]
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        tt = ts[sel]
        if k == 0:
            oz[tt], oe[tt] = zs[sel], es[sel]
        else:
            oz[tt] = _cat(oz[tt], seps[0], zs[sel])
            oe[tt] = _cat(oe[tt], seps[1], es[sel])
    return oz, oe


def _issue_texts(st: _c.Stays, fnd: _c.StayFindings, issues: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """What could not be used or decided, stay by stay (visit order), then the traveller's own fields."""
    fs, ts = _day_str(st.f), _day_str(st.to)
    a_ok = (issues[st.t] & _c.I_ARRIVAL) == 0
    T, Ord, Z, E = [], [], [], []
    rows = np.arange(len(st.t), dtype=np.int64)

    def add(v: np.ndarray, k: int, z: np.ndarray, e: np.ndarray) -> None:
        T.append(st.t[v]), Ord.append(rows[v] * 8 + k), Z.append(z), E.append(e)

    v = np.flatnonzero(~st.ok & (st.in_win | ~st.date_ok) & a_ok)
    if len(v):
        sv = st.status[v].astype(str)
        sz = np.array([_STATUS_TEXT.get(x, _STATUS_TEXT["unknown"])[0] for x in sv], dtype=object)
        se = np.array([_STATUS_TEXT.get(x, _STATUS_TEXT["unknown"])[1] for x in sv], dtype=object)
        conflict = sv == "conflict"
        cz = np.where(conflict, _cat("，代码", st.adcode[v]), "")
        ce = np.where(conflict, _cat(", code ", st.adcode[v]), "")
        add(v, 0, _cat(sz, "「", st.place[v], "」（", fs[v], "至", ts[v], cz, "）"),
            _cat(se, " '", st.place[v], "' (", fs[v], " to ", ts[v], ce, ")"))
    v = np.flatnonzero(~st.date_ok & a_ok)
    if len(v):
        inv = (st.f[v] != _NA) & (st.to[v] != _NA)
        add(v, 1, _cat(np.where(inv, "日期有误", "日期缺失").astype(object), "「", st.place[v], "」（", fs[v], "至", ts[v], "）"),
            _cat(np.where(inv, "dates inverted", "date missing").astype(object), " '", st.place[v], "' (", fs[v], " to ", ts[v], ")"))
    for bit, k, z0, z1, e0, e1 in (
        (_c.I_PROVINCE, 2, "地点仅到省级「", "），该省当时有风险区", "place names only the province '", "); it had risk areas then"),
        (_c.I_COUNTY, 3, "需写明区县「", "），该市当时有风险区所在县，可能为红码",
         "county needed '", "); the city had a risk county then, so it could be red"),
        (_c.I_STREET, 4, "需写明街道（乡镇）「", "），该区当时有风险区所在街道，可能为红码",
         "street needed '", "); the district had a risk street then, so it could be red"),
    ):
        v = np.flatnonzero((fnd.issues & bit) != 0)
        if len(v):
            add(v, k, _cat(z0, st.place[v], "」（", fs[v], "至", ts[v], z1),
                _cat(e0, st.place[v], "' (", fs[v], " to ", ts[v], e1))
    big = np.int64(len(st.t) * 8 + 8)
    for j, (bit, z, e) in enumerate((
        (_c.I_ARRIVAL, "抵并日期缺失", "arrival date missing"),
        (_c.I_INBOUND, "境外入境，入境点隔离天数不明", "inbound: days quarantined at entry unknown"),
        (_c.I_FLAG, "伴随/推送/健康码日期缺失", "companion / push / health-code date missing"),
    )):
        tt = np.flatnonzero(issues & bit)
        if len(tt):
            T.append(tt), Ord.append(np.full(len(tt), big + j)), Z.append(np.full(len(tt), z, dtype=object))
            E.append(np.full(len(tt), e, dtype=object))
    if not T:
        return np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    return _join_per(np.concatenate(T), np.concatenate(Z), np.concatenate(E), n, np.concatenate(Ord))


def _entry_texts(ent: _c.Entries) -> tuple[np.ndarray, np.ndarray]:
    zh, en = [], []
    for i in range(len(ent)):
        lv = str(ent.level[i])
        since = _fmt_day(int(ent.since[i]))
        if ent.notice[i]:
            zh.append(f"通告所列{ent.label[i]}（{since}以来）")
            en.append(f"{ent.label[i]} named in a notice (since {since})")
            continue
        lz, le = LEVEL_LABELS.get(lv, (lv, lv))
        area = f" {ent.area[i]}" if ent.area[i] else "（全县）"
        area_en = f" {ent.area[i]}" if ent.area[i] else " (whole county)"
        listed = int(ent.listed[i])
        back_z = f"，通告追溯至{since}" if listed != int(ent.since[i]) else ""
        back_e = f", notice looks back to {since}" if listed != int(ent.since[i]) else ""
        lift = int(ent.lifted[i])
        zh.append(f"{lz}{ent.label[i]}{area}（{_fmt_day(listed)}起{back_z}" + (f"，{_fmt_day(lift)}解除）" if lift != _BIG else "）"))
        en.append(f"{le} {ent.label[i]}{area_en} (since {_fmt_day(listed)}{back_e}" + (f", lifted {_fmt_day(lift)})" if lift != _BIG else ")"))
    return np.array(zh + [""], dtype=object), np.array(en + [""], dtype=object)


def _obligation_texts(
    rs: RuleSet, ob: _c.Obligations, st: _c.Stays, ent: _c.Entries, p: _c.Person, issues: np.ndarray, fnd: _c.StayFindings
) -> dict[str, np.ndarray]:
    """Per obligation: its reason, and one line for the obligations list (code · measure · deadline · end · status)."""
    R = len(rs.rules)
    m = len(ob)
    n = len(p.arrival)
    kt_labels = _kind_texts(rs)
    lab_zh, lab_en = kt_labels["label_zh"], kt_labels["label_en"]  # read for rule kinds only
    match = np.array([r.match for r in rs.rules] + ["landing", "pending"], dtype=object)[ob.kind]
    zh = np.full(m, "", dtype=object)
    en = np.full(m, "", dtype=object)
    ez, ee = _entry_texts(ent)
    sel = np.flatnonzero(np.isin(match, ["area", "county", "city"]))
    if len(sel):
        v, e = ob.stay[sel], ob.entry[sel]
        fs, ts = _day_str(st.f[v]), _day_str(st.to[v])
        zh[sel] = _cat(lab_zh[ob.kind[sel]], "：「", st.place[v], "」", fs, "至", ts, "；", ez[e])
        en[sel] = _cat(lab_en[ob.kind[sel]], ": '", st.place[v], "' ", fs, " to ", ts, "; ", ee[e])
    sel = np.flatnonzero(match == "inbound")
    if len(sel):
        d = p.entry_days[ob.t[sel]].astype(np.int64).astype(str).astype(object)
        zh[sel] = _cat(lab_zh[ob.kind[sel]], "：入境点已隔离", d, "天")
        en[sel] = _cat(lab_en[ob.kind[sel]], ": ", d, " days quarantined at entry")
    for kind in ("companion", "bigdata_push", "health_code"):
        sel = np.flatnonzero(match == kind)
        if len(sel):
            d = _day_str(p.flag_days[kind][ob.t[sel]])
            zh[sel] = _cat(lab_zh[ob.kind[sel]], "：", d, "推送" if kind != "health_code" else "赋码")
            en[sel] = _cat(lab_en[ob.kind[sel]], ": flagged ", d)
    sel = np.flatnonzero(match == "landing")
    zh[sel] = "省外返（抵）并或境外入境，第一落点核酸检测"
    en[sel] = "arrival from outside the province or from abroad: test at the first landing point"
    iz, ie = _issue_texts(st, fnd, issues, n)
    sel = np.flatnonzero(match == "pending")
    zh[sel] = _cat("待核实：", iz[ob.t[sel]])
    en[sel] = _cat("pending: ", ie[ob.t[sel]])

    # the list lines repeat (arrival days × kinds): build each distinct line once
    key = pd.DataFrame({"k": ob.kind, "d": ob.due, "e": ob.end, "c": ob.closed, "l": ob.lapsed, "o": ob.overdue})
    gid = key.groupby(list(key.columns), sort=False).ngroup().to_numpy() if m else np.zeros(0, dtype=np.int64)
    codes_u, first = np.unique(gid, return_index=True)
    u = first  # one obligation standing for each distinct line
    uk = ob.kind[u]
    code_zh = np.array([CODE_LABELS[c][0] for c in ob.code[u]], dtype=object)
    code_en = np.array([CODE_LABELS[c][1] for c in ob.code[u]], dtype=object)
    kt = _kind_texts(rs)  # in the list, the verification's measure reads as what to do
    mz = np.where(uk == R + 1, "核实旅居史", kt["measure_zh"][uk]).astype(object)
    me = np.where(uk == R + 1, "verify the travel history", kt["measure_en"][uk]).astype(object)
    due_z = _hours_str(ob.due[u], "按规定")
    due_e = _hours_str(ob.due[u], "as required")
    end_s = _day_str(ob.end[u])
    has_end = ob.end[u] != _NA
    closed, lapsed, overdue = ob.closed[u], ob.lapsed[u], ob.overdue[u]
    status_z = np.where(closed, np.where(lapsed, "已结束（期满无需核实）", "已结束"), np.where(overdue, "逾期", "进行中")).astype(object)
    status_e = np.where(closed, np.where(lapsed, "ended (nothing left to verify)", "ended"), np.where(overdue, "overdue", "open")).astype(object)
    until = np.array([r.until_verified for r in rs.rules] + [False, False])[uk]
    until_z = np.where(has_end, _cat("，至", end_s), np.where(until, "，核实前不解除", "")).astype(object)
    until_e = np.where(has_end, _cat(", until ", end_s), np.where(until, ", until verified", "")).astype(object)
    line_zh = _cat("【", code_zh, "】", mz, "：期限", due_z, until_z, "（", status_z, "）")
    line_en = _cat("[", code_en, "] ", me, ": due ", due_e, until_e, " (", status_e, ")")
    rank_of = np.empty(len(codes_u), dtype=np.int64)
    rank_of[codes_u] = np.arange(len(codes_u))
    line_zh, line_en = line_zh[rank_of[gid]], line_en[rank_of[gid]]
    return {
        "reason_zh": zh, "reason_en": en,
        "line_zh": line_zh,
        "line_en": line_en,
        "issues_zh": iz, "issues_en": ie,
    }


def _traveller_reasons(
    rs: RuleSet, ob: _c.Obligations, sm: _c.Summary, tx: dict[str, np.ndarray], issues: np.ndarray, incomplete: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The deciding obligation's reason, then the other rules that apply, what is still to verify,
    an incomplete history, and why the code lifted."""
    R = len(rs.rules)
    zh = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)
    has = sm.assigned >= 0
    a = np.maximum(sm.assigned, 0)
    a_kind = _at(ob.kind, sm.assigned, -1)
    zh[has] = tx["reason_zh"][a[has]]
    en[has] = tx["reason_en"][a[has]]
    # other rule obligations: "also matches" (or, under a pending decision, "also: <reason>")
    other = (ob.kind < R) & (np.arange(len(ob)) != sm.assigned[ob.t])
    pend_dec = a_kind == R + 1
    o_t = ob.t[other]
    kt_labels = _kind_texts(rs)
    lab_zh, lab_en = kt_labels["label_zh"], kt_labels["label_en"]  # read for rule kinds only
    az, ae = _join_per(o_t, lab_zh[ob.kind[other]], lab_en[ob.kind[other]], n, np.flatnonzero(other), ("、", ", "))
    rz, re_ = _join_per(o_t, tx["reason_zh"][other], tx["reason_en"][other], n, np.flatnonzero(other))
    sel = (az != "") & ~pend_dec
    zh[sel] = _cat(zh[sel], "；同时符合：", az[sel])
    en[sel] = _cat(en[sel], "; also matches: ", ae[sel])
    sel = (rz != "") & pend_dec
    zh[sel] = _cat(zh[sel], "；另：", rz[sel])
    en[sel] = _cat(en[sel], "; also: ", re_[sel])
    sel = (issues != 0) & ~pend_dec & has
    zh[sel] = _cat(zh[sel], "；另有旅居史待核实：", tx["issues_zh"][sel])
    en[sel] = _cat(en[sel], "; also to verify: ", tx["issues_en"][sel])
    none = ~has
    zh[none & ~incomplete] = "14天内无省外或涉疫旅居史"
    en[none & ~incomplete] = "no out-of-province or outbreak history in the 14 days"
    zh[none & incomplete] = "旅居史不完整：抵并前14天未全部登记，已登记部分无省外或涉疫旅居史"
    en[none & incomplete] = "history incomplete: the 14 days before arrival are not all recorded; none of what is recorded is out of province or in an outbreak area"
    sel = incomplete & has
    zh[sel] = _cat(zh[sel], "；旅居史不完整（抵并前14天未全部登记）")
    en[sel] = _cat(en[sel], "; history incomplete (the 14 days before arrival are not all recorded)")
    # lifting
    sel = np.flatnonzero(sm.lifted & (sm.measure_end != _NA))
    zh[sel] = _cat(zh[sel], "；", _day_str(sm.measure_end[sel]), "期满，自动解码")
    en[sel] = _cat(en[sel], "; measure ended ", _day_str(sm.measure_end[sel]), ", code lifted automatically")
    hz = _c.horizon(rs)
    sel = np.flatnonzero(sm.lifted & pend_dec)
    if len(sel) and hz is not None:
        arr_days = ob.start[sm.assigned[sel]]
        end = _day_str(np.where(arr_days != _NA, arr_days + hz - 1, _NA))
        zh[sel] = _cat(zh[sel], "；任何可能的措施均已于", end, "前期满，无需再核实")
        en[sel] = _cat(en[sel], "; any possible measure had ended by ", end, ": no verification needed")
    return zh, en



def _fmt_hours(h: int, none: str) -> str:
    if h == _NA:
        return none
    return str(np.datetime64(int(h), "h").astype("datetime64[m]")).replace("T", " ")


def _hours_str(hours: np.ndarray, none: str) -> np.ndarray:
    """Hours since epoch as ``YYYY-MM-DD HH:MM`` (``none`` where missing), each distinct value formatted once."""
    hours = np.asarray(hours, dtype=np.int64)
    if not len(hours):
        return np.zeros(0, dtype=object)
    inv, uniq = pd.factorize(hours)
    out = np.full(len(uniq), none, dtype=object)
    ok = uniq != _NA
    if ok.any():
        s = np.datetime_as_string(uniq[ok].astype("datetime64[h]").astype("datetime64[m]"))
        out[ok] = np.char.replace(s, "T", " ").astype(object)
    return out[inv.reshape(-1)]


def _mask_names(mask: np.ndarray, rs: RuleSet) -> np.ndarray:
    uniq, inv = np.unique(mask, return_inverse=True)
    names = []
    for m in uniq:
        names.append(";".join(r.id for k, r in enumerate(rs.rules) if (int(m) >> k) & 1))
    return np.array(names, dtype=object)[inv] if len(mask) else np.zeros(0, dtype=object)


# ----------------------------------------------------------------------------------------------
# Neighbourhoods


def neighbourhood_ids_for_points(points: np.ndarray, neighbourhoods: gpd.GeoDataFrame) -> np.ndarray:
    """The ``id`` of the neighbourhood containing each point (``None`` outside all, or no point).

    Uses :func:`geo.assign.neighbourhood_of_points` (points on a shared edge go to the first
    neighbourhood in row order). Without that module, a plain ``shapely.STRtree`` ``within``
    query with the same first-in-row-order rule for interior points.
    """
    pts = np.asarray(points, dtype=object)
    out = np.full(len(pts), None, dtype=object)
    if not len(pts) or neighbourhoods is None or neighbourhoods.empty:
        return out
    ids = neighbourhoods["id"].astype(str).to_numpy(dtype=object)
    try:
        from geo.assign import neighbourhood_of_points
    except ImportError:  # pragma: no cover - geo.assign ships with the project
        neighbourhood_of_points = None
    if neighbourhood_of_points is not None:
        return neighbourhood_of_points(pts, neighbourhoods.geometry.to_numpy(), ids=ids).labels()
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    if not ok.any():
        return out
    tree = shapely.STRtree(neighbourhoods.geometry.to_numpy())
    pi, ni = tree.query(pts[ok], predicate="within")
    order = np.lexsort((ni, pi))
    pi, ni = pi[order], ni[order]
    first = np.unique(pi, return_index=True)[1]
    sub = np.full(int(ok.sum()), None, dtype=object)
    sub[pi[first]] = ids[ni[first]]
    out[ok] = sub
    return out


def screen_neighbourhoods(
    classified: pd.DataFrame,
    neighbourhoods: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    *,
    as_of: object,
    measure_ids: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Counts per neighbourhood and its screening level.

    Counts by current code (``red``, ``yellow``, ``green``, ``pending``), by ``measure_id``
    (columns ``measure:<id>``), ``overdue``, ``travellers``. Zones: sealed / controlled zones
    in force on the as-of day (``start`` ≤ day and ``lifted`` empty or after it) that the
    neighbourhood lies in (overlapping area) or touches (within ``ZONE_TOLERANCE_DEG``).
    Screening: ``full`` 全员核酸 when in/touching such a zone; else ``targeted`` 重点人员 when it
    has red or yellow travellers; else ``none`` 无.
    """
    _, day = _as_of(as_of)
    nb = count_per_neighbourhood(neighbourhoods.copy(), classified, measure_ids)
    relation = np.full(len(nb), "", dtype=object)
    tier = np.full(len(nb), "", dtype=object)
    zone_ids = np.full(len(nb), "", dtype=object)
    if zones is not None and len(zones):
        z = zones[zones["tier"].isin(["sealed", "controlled"])]
        start = pd.to_datetime(z["start"])
        lifted = pd.to_datetime(z["lifted"]) if "lifted" in z.columns else pd.Series(pd.NaT, index=z.index)
        z = z[((start <= day) & (lifted.isna() | (lifted > day))).to_numpy()]
        if len(z):
            zg = z.geometry.to_numpy()
            tree = shapely.STRtree(zg)
            ng = nb.geometry.to_numpy()
            ni, zi = tree.query(ng, predicate="dwithin", distance=ZONE_TOLERANCE_DEG)
            inter = shapely.area(shapely.intersection(ng[ni], zg[zi]))
            inside = inter > 1e-4 * shapely.area(ng[ni])
            rank = {"sealed": 2, "controlled": 1}
            zt = z["tier"].to_numpy()
            zid = z["id"].astype(str).to_numpy() if "id" in z.columns else np.arange(len(z)).astype(str)
            for a, b, ins in zip(ni, zi, inside, strict=True):
                if rank[zt[b]] > rank.get(tier[a], 0):
                    tier[a] = zt[b]
                relation[a] = "in" if (ins or relation[a] == "in") else "touches"
                zone_ids[a] = ";".join(filter(None, [zone_ids[a], zid[b]]))
    nb["zone_tier"] = tier
    nb["zone_relation"] = relation
    nb["zone_ids"] = zone_ids
    return screening_levels(nb)


def count_per_neighbourhood(nb: pd.DataFrame, classified: pd.DataFrame, measure_ids: Sequence[str] = ()) -> pd.DataFrame:
    """``nb`` with the counts of ``classified`` per neighbourhood set: by current code, by
    ``measure_id`` (``measure:<id>``), ``overdue`` and ``travellers`` (in place; returned)."""
    ids = nb["id"].astype("string")
    c = classified[classified["neighbourhood_id"].notna()]
    for code in CODES:
        nb[code] = ids.map(c.loc[c["code"] == code, "neighbourhood_id"].value_counts()).fillna(0).astype("int64").to_numpy()
    nb["travellers"] = nb[list(CODES)].sum(axis=1)
    nb["overdue"] = ids.map(c.loc[c["overdue"], "neighbourhood_id"].value_counts()).fillna(0).astype("int64").to_numpy()
    present = list(dict.fromkeys([*measure_ids, *sorted(c["measure_id"].dropna().unique())]))
    for m in present:
        nb[f"measure:{m}"] = (
            ids.map(c.loc[c["measure_id"] == m, "neighbourhood_id"].value_counts()).fillna(0).astype("int64").to_numpy()
        )
    return nb


def screening_levels(nb: pd.DataFrame) -> pd.DataFrame:
    """``nb`` (with ``zone_tier`` and code counts) with its screening level: ``full`` 全员核酸 in
    or touching a sealed / controlled zone, else ``targeted`` with red or yellow travellers, else
    ``none`` (in place; returned)."""
    tier = nb["zone_tier"].fillna("").to_numpy(dtype=object)
    level = np.where(tier != "", "full", np.where((nb["red"] + nb["yellow"]).to_numpy() > 0, "targeted", "none"))
    nb["screening"] = level
    nb["screening_zh"] = [SCREENING_LEVELS[x][0] for x in level]
    nb["screening_en"] = [SCREENING_LEVELS[x][1] for x in level]
    return nb


# ----------------------------------------------------------------------------------------------
# Everything at once


@dataclass
class Screening:
    """The result of :func:`screen`: per-traveller and per-neighbourhood frames."""

    as_of: pd.Timestamp
    rule_set: RuleSet
    travellers: pd.DataFrame
    neighbourhoods: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    obligations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(OBLIGATION_COLUMNS)))

    def code_counts(self) -> dict[str, int]:
        vc = self.travellers["code"].value_counts()
        return {c: int(vc.get(c, 0)) for c in CODES}

    def overdue_count(self) -> int:
        """Travellers with an overdue obligation — the one definition the screen, the command
        centre's figure and every export use (an obligation is overdue when its deadline has
        passed and it is still open; green travellers never are)."""
        return int(self.travellers["overdue"].sum())

    def screening_counts(self) -> dict[str, int]:
        vc = self.neighbourhoods["screening"].value_counts()
        return {k: int(vc.get(k, 0)) for k in SCREENING_LEVELS}


def screen(
    travellers: pd.DataFrame,
    visits: pd.DataFrame,
    risk_areas: pd.DataFrame,
    gazetteer: pd.DataFrame,
    rules: RuleSet | Sequence[RuleSet],
    *,
    as_of: object,
    neighbourhoods: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
) -> Screening:
    """Classify travellers and aggregate them per neighbourhood (see the module docstring)."""
    ts, day = _as_of(as_of)
    rs = rules if isinstance(rules, RuleSet) else rule_set_in_force(rules, day)
    notes: list[str] = []
    t, obligations = classify_with_obligations(travellers, visits, risk_areas, gazetteer, rs, as_of=ts, neighbourhoods=neighbourhoods, notes=notes)
    unassigned = int(t["neighbourhood_id"].isna().sum())
    if unassigned:
        notes.append(f"{unassigned} traveller(s) have no neighbourhood (no id and no point inside one)")
    nb = screen_neighbourhoods(t, neighbourhoods, zones, as_of=ts, measure_ids=list(rs.measure_labels()))
    return Screening(as_of=ts, rule_set=rs, travellers=t, neighbourhoods=nb, notes=notes, obligations=obligations)
