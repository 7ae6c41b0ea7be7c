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

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._gazetteer_match import OK, PlaceIndex, normalize_place, resolution_frame

__all__ = [
    "CODES",
    "OUTPUT_COLUMNS",
    "LEVELS",
    "MATCHES",
    "ANCHORS",
    "SCREENING_LEVELS",
    "Step",
    "Phase",
    "Rule",
    "RuleSet",
    "Screening",
    "NoRuleSetInForce",
    "rule_set_in_force",
    "classify_travellers",
    "screen_neighbourhoods",
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
PERSON_MATCHES = ("inbound", "companion", "bigdata_push")
MATCHES = PLACE_MATCHES + PERSON_MATCHES
ANCHORS = ("arrival", "flag")
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
    "first_action_zh": "first action (Chinese)", "first_action_en": "first action (English)",
    "first_action_due": "its deadline (datetime; NaT = none stated)",
    "test_due": "list of test deadlines (landing test first)",
    "test_schedule_zh": "tests with deadlines (Chinese)", "test_schedule_en": "tests with deadlines (English)",
    "measure_start": "first day of the measure", "measure_end": "last day of the measure",
    "lifted": "the case is closed (measure ended, or nothing left to verify)",
    "out_of_province": "a stay outside the home province in the window, or inbound",
    "needs_verification": "some stay or field could not be used (see the reason)",
    "pending_issues": "bits: 1 place, 2 date, 4 province-only place, 8 arrival date, 16 inbound days, 32 flag date",
    "matched_rules": "every matching rule id, by priority, ';'-separated",
    "overdue": "first action past its deadline and the case not closed",
    "rule_set": "effective_from of the rule set applied",
}

#: ``measure_id`` values besides rule ids.
LANDING, NONE, PENDING, LIFTED = "landing", "none", "pending", "lifted"
ZONE_TOLERANCE_DEG = 1e-6  # ~0.1 m: zone and neighbourhood edges that should coincide after reprojection

# pending issue bits
_I_PLACE, _I_DATE, _I_PROVINCE, _I_ARRIVAL, _I_INBOUND, _I_FLAG = 1, 2, 4, 8, 16, 32
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

    @property
    def total_days(self) -> int | None:
        """Length of the measure in days, ``None`` when the source states none."""
        return sum(p.days for p in self.phases) if self.phases else None


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


def _as_of(as_of: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    ts = pd.Timestamp(as_of)
    if ts is pd.NaT:
        msg = f"as_of is not a date: {as_of!r}"
        raise ValueError(msg)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("Asia/Shanghai").tz_localize(None)
    return ts, ts.normalize()


def _days(values: object) -> np.ndarray:
    """Dates as int64 day numbers since 1970-01-01; missing → ``_NA``."""
    s = pd.to_datetime(pd.Series(values), errors="raise")
    arr = s.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(arr)] = _NA
    return out


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


def _join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left[i] == right[j]`` and key ≥ 0, ordered by i then j (an equi-join)."""
    order = np.argsort(right, kind="stable")
    rs = right[order]
    lo = np.searchsorted(rs, left, side="left")
    hi = np.searchsorted(rs, left, side="right")
    cnt = np.where(left >= 0, hi - lo, 0)
    li = np.repeat(np.arange(len(left)), cnt)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
    ri = order[np.arange(len(li)) + start] if len(li) else np.zeros(0, dtype=np.int64)
    return li, ri


# ----------------------------------------------------------------------------------------------
# Privacy helpers


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


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
# Risk entries


@dataclass
class _Entries:
    frame: pd.DataFrame  # the known entries (since ≤ as-of day), original row order
    county: np.ndarray  # int code, -1 none
    city: np.ndarray
    province: np.ndarray
    since: np.ndarray
    lifted: np.ndarray  # _BIG when never lifted
    level: np.ndarray  # object
    label: list[str]
    area_keys: dict[tuple[int, str], list[int]]
    unresolved: list[str]


class _Codes:
    """adcode string ↔ small int, shared by visits and entries."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, code: str) -> int:
        if not code:
            return -1
        i = self.ids.get(code)
        if i is None:
            i = self.ids[code] = len(self.ids)
        return i


def _prepare_entries(risk: pd.DataFrame, idx: PlaceIndex, day: int, codes: _Codes) -> _Entries:
    need = ["level", "since"]
    missing = [c for c in need if c not in risk.columns]
    if missing:
        msg = f"risk_areas lacks column(s): {', '.join(missing)}"
        raise ValueError(msg)
    since_all = _days(risk["since"])
    known = (since_all != _NA) & (since_all <= day)
    e = risk[known].reset_index(drop=True)
    n = len(e)
    undated = [str(x) for x in (risk["id"] if "id" in risk.columns else risk.index)[since_all == _NA]]
    county = np.full(n, -1, dtype=np.int64)
    city = np.full(n, -1, dtype=np.int64)
    prov = np.full(n, -1, dtype=np.int64)
    labels: list[str] = [""] * n
    unresolved: list[str] = [f"risk entry {x}: no since date, ignored" for x in undated]
    area_keys: dict[tuple[int, str], list[int]] = {}

    def col(name: str) -> list[str]:
        return [_text(v) for v in e[name]] if name in e.columns else [""] * n

    adcodes, provs, cities, counties, areas, ids = (
        col("adcode"), col("province"), col("city"), col("county"), col("area_name"), col("id"),
    )
    for i in range(n):
        u = idx.resolve_code(adcodes[i])
        if u is None:
            r = idx.resolve(provs[i] + (cities[i] if cities[i] != provs[i] else "") + counties[i])
            u = r.unit if r.status == OK and not r.rest else None
        if u is None or u.level == "province":
            where = f"{provs[i]}{cities[i] if cities[i] != provs[i] else ''}{counties[i]} {adcodes[i]}".strip()
            unresolved.append(f"risk entry {ids[i] or i}: place not resolved to a county or city ({where}), ignored")
            continue
        county[i] = codes(u.county_adcode)
        city[i] = codes(u.city_adcode)
        prov[i] = codes(u.province_adcode)
        labels[i] = u.label
        area = normalize_place(areas[i])
        if area and county[i] >= 0:
            keys = {area}
            for name in (u.county, u.city + u.county, u.label):
                if name and area.startswith(name) and len(area) > len(name):
                    keys.add(area[len(name):])
            for k in keys:
                area_keys.setdefault((int(county[i]), k), []).append(i)
    lifted = _days(e["lifted"]) if "lifted" in e.columns else np.full(n, _NA)
    lifted = np.where(lifted == _NA, _BIG, lifted)
    return _Entries(
        frame=e, county=county, city=city, province=prov, since=_days(e["since"]), lifted=lifted,
        level=e["level"].astype(str).to_numpy(dtype=object), label=labels, area_keys=area_keys, unresolved=unresolved,
    )


# ----------------------------------------------------------------------------------------------
# Classification


@dataclass
class _Hits:
    t: list[np.ndarray] = field(default_factory=list)
    rank: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    e: list[np.ndarray] = field(default_factory=list)

    def add(self, t: np.ndarray, rank: int, v: np.ndarray | None = None, e: np.ndarray | None = None) -> None:
        t = np.asarray(t, dtype=np.int64)
        self.t.append(t)
        self.rank.append(np.full(len(t), rank, dtype=np.int64))
        self.v.append(np.full(len(t), -1, dtype=np.int64) if v is None else np.asarray(v, dtype=np.int64))
        self.e.append(np.full(len(t), -1, dtype=np.int64) if e is None else np.asarray(e, dtype=np.int64))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.t:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z, z
        return tuple(np.concatenate(x) for x in (self.t, self.rank, self.v, self.e))  # type: ignore[return-value]


def _in_force(ent: _Entries, ei: np.ndarray, cf: np.ndarray, ct: np.ndarray) -> np.ndarray:
    return (ent.since[ei] <= ct) & (ent.lifted[ei] > cf)


def _step_due(step: Step | None, anchor_days: np.ndarray) -> np.ndarray:
    """Deadline in int hours since epoch (``_NA`` none) for each anchor day."""
    if step is None or step.hours is None:
        return np.full(len(anchor_days), _NA, dtype=np.int64)
    return np.where(anchor_days == _NA, _NA, anchor_days * 24 + int(step.hours))


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
    """Classify every arrived traveller: code, measure, reason, first action, tests, overdue.

    Parameters
    ----------
    travellers : DataFrame
        The ``travellers`` layer (``id``, ``arrival_date``, ``inbound``, ``entry_quarantine_days``,
        ``companion``/``companion_date``, ``bigdata_push``/``push_date``, ``neighbourhood_id``;
        optional personal columns are carried through; a ``geometry`` column is used only to
        fill a missing ``neighbourhood_id``).
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
        One row per arrived traveller, in input order; columns in :data:`OUTPUT_COLUMNS`.
    """
    ts, day_ts = _as_of(as_of)
    rs = rules if isinstance(rules, RuleSet) else rule_set_in_force(rules, day_ts)
    day = int(day_ts.to_datetime64().astype("datetime64[D]").astype(np.int64))
    ts_exact = ts.to_datetime64()
    notes = notes if notes is not None else []
    for c in ("id", "arrival_date"):
        if c not in travellers.columns:
            msg = f"travellers lacks column {c!r}"
            raise ValueError(msg)
    for c in ("traveller_id", "place", "from_date", "to_date"):
        if c not in visits.columns:
            msg = f"visits lacks column {c!r}"
            raise ValueError(msg)
    id_codes, id_uniq = pd.factorize(travellers["id"])
    if len(id_uniq) != len(travellers):
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
    arr_ok = arr != _NA
    H = int(rs.history_days)

    # ---- visits → travellers, dates, window
    vcodes, vuniq = pd.factorize(visits["traveller_id"])
    pos_all = pd.Index(id_uniq).get_indexer(vuniq)  # position in `travellers` of each distinct visit id
    scope_pos = np.full(len(travellers), -1, dtype=np.int64)
    scope_pos[scope] = np.arange(int(scope.sum()))
    tpos_all = np.where(vcodes >= 0, pos_all[np.maximum(vcodes, 0)], -1)
    unknown_tid = int((tpos_all < 0).sum())
    if unknown_tid:
        notes.append(f"{unknown_tid} visit(s) name no known traveller and are ignored")
    tpos = np.where(tpos_all >= 0, scope_pos[np.maximum(tpos_all, 0)], -1)
    keep = np.flatnonzero(tpos >= 0)
    vt = tpos[keep].astype(np.int64)
    V = visits.iloc[keep]
    vf = _days(V["from_date"])
    vto = _days(V["to_date"])
    date_ok = (vf != _NA) & (vto != _NA) & (vf <= vto)
    a = arr[vt]
    a_ok = a != _NA
    cf = np.where(date_ok & a_ok, np.maximum(vf, a - H), 0)
    ct = np.where(date_ok & a_ok, np.minimum(vto, a), -1)
    in_win = date_ok & a_ok & (cf <= ct)

    # ---- places: resolve each distinct (place, adcode) once
    idx = PlaceIndex.from_gazetteer(gazetteer)
    codes = _Codes()
    ent = _prepare_entries(risk_areas, idx, day, codes)
    notes.extend(ent.unresolved)
    p_codes, p_uniq = pd.factorize(V["place"])
    if "adcode" in V.columns:
        a_codes, a_uniq = pd.factorize(V["adcode"])
    else:
        a_codes, a_uniq = np.full(len(V), -1, dtype=np.int64), pd.Index([])
    width = len(a_uniq) + 1
    pcodes, ukeys = pd.factorize((p_codes.astype(np.int64) + 1) * width + (a_codes + 1))
    p_text = np.concatenate([[""], p_uniq.to_numpy(dtype=object)])
    a_text = np.concatenate([[""], a_uniq.to_numpy(dtype=object)])
    up = p_text[ukeys // width].tolist()
    uc = a_text[ukeys % width].tolist()
    res = resolution_frame(idx.resolve_pairs(up, uc))
    u_status = res["status"].to_numpy(dtype=object).copy()
    u_level = res["level"].to_numpy(dtype=object).copy()
    u_county = np.array([codes(c) for c in res["county_adcode"]], dtype=np.int64)
    u_city = np.array([codes(c) for c in res["city_adcode"]], dtype=np.int64)
    u_prov = np.array([codes(c) for c in res["province_adcode"]], dtype=np.int64)
    u_home = res["province_adcode"].to_numpy(dtype=object) == rs.home_province_adcode
    u_ok = u_status == OK
    # a remainder after a county must name a risk area of that county
    # (unless the row's adcode confirms the county: then it is detail, e.g. a street)
    u_area = np.full(len(up), -1, dtype=np.int64)  # area-key id
    area_key_ids: dict[tuple[int, str], int] = {}
    u_coded = res["coded"].to_numpy(dtype=bool)
    for i, rest in enumerate(res["rest"]):
        if not rest or not u_ok[i]:
            continue
        key = (int(u_county[i]), rest)
        if key in ent.area_keys:
            u_area[i] = area_key_ids.setdefault(key, len(area_key_ids))
            u_level[i] = "area"
        elif not u_coded[i]:
            u_ok[i] = False
            u_status[i] = "unknown"
    v_ok = u_ok[pcodes]
    v_county = np.where(v_ok, u_county[pcodes], -1)
    v_city = np.where(v_ok, u_city[pcodes], -1)
    v_prov = np.where(v_ok, u_prov[pcodes], -1)
    v_area = np.where(v_ok, u_area[pcodes], -1)
    v_level = u_level[pcodes]
    live = in_win & v_ok  # stays that can match

    # ---- place rules: joins on county / city / area key, then the in-force test
    hits = _Hits()
    ranks = {r.id: k for k, r in enumerate(rs.rules)}
    joins: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    need = {r.match for r in rs.rules}
    if "county" in need:
        joins["county"] = _join(np.where(live, v_county, -1), ent.county)
    if "city" in need:
        joins["city"] = _join(np.where(live, v_city, -1), ent.city)
    if "area" in need:
        ek_e: list[int] = []
        ek_k: list[int] = []
        for key, rows in ent.area_keys.items():
            kid = area_key_ids.get(key)
            if kid is not None:
                ek_e += rows
                ek_k += [kid] * len(rows)
        li, rj = _join(np.where(live, v_area, -1), np.asarray(ek_k, dtype=np.int64))
        joins["area"] = (li, np.asarray(ek_e, dtype=np.int64)[rj] if len(rj) else rj)
    for m, (li, ei) in joins.items():
        if len(li):
            ok = _in_force(ent, ei, cf[li], ct[li])
            li, ei = li[ok], ei[ok]
            order = np.lexsort((ei, li))
            joins[m] = (li[order], ei[order])
    # county / area rules first: a stay they match is not in one of the city's *other* counties
    in_county_rule = np.zeros(len(vt), dtype=bool)
    for r in sorted((r for r in rs.rules if r.match in PLACE_MATCHES), key=lambda r: r.match == "city"):
        li, ei = joins[r.match]
        sel = np.isin(ent.level[ei], list(r.levels)) if len(ei) else np.zeros(0, dtype=bool)
        if r.match == "city":
            sel &= ~in_county_rule[li]
        else:
            in_county_rule[li[sel]] = True
        hits.add(vt[li[sel]], ranks[r.id], li[sel], ei[sel])

    # ---- person rules
    inbound = _bool(T, "inbound")
    eq_days = (
        pd.to_numeric(T["entry_quarantine_days"], errors="coerce").to_numpy(dtype=float)
        if "entry_quarantine_days" in T.columns else np.full(n, np.nan)
    )
    companion = _bool(T, "companion")
    push = _bool(T, "bigdata_push")
    comp_d = _days(T["companion_date"]) if "companion_date" in T.columns else np.full(n, _NA)
    push_d = _days(T["push_date"]) if "push_date" in T.columns else np.full(n, _NA)
    issues = np.zeros(n, dtype=np.int64)
    inbound_matched = np.zeros(n, dtype=bool)
    for r in rs.rules:
        if r.match == "inbound":
            lo = r.min_entry_days if r.min_entry_days is not None else 0
            hi = r.max_entry_days if r.max_entry_days is not None else np.inf
            m = inbound & arr_ok & ~np.isnan(eq_days) & (eq_days >= lo) & (eq_days <= hi)
            inbound_matched |= m
            hits.add(np.flatnonzero(m), ranks[r.id])
        elif r.match in ("companion", "bigdata_push"):
            flag, d = (companion, comp_d) if r.match == "companion" else (push, push_d)
            hits.add(np.flatnonzero(flag & (d != _NA) & arr_ok), ranks[r.id])
            issues |= np.where(flag & (d == _NA) & arr_ok, _I_FLAG, 0)
    if any(r.match == "inbound" for r in rs.rules):
        issues |= np.where(inbound & ~inbound_matched & arr_ok, _I_INBOUND, 0)

    # ---- pending issues from stays
    bad_place = ~v_ok & (in_win | ~date_ok) & a_ok
    bad_date = ~date_ok & a_ok
    np.bitwise_or.at(issues, vt[bad_place], _I_PLACE)
    np.bitwise_or.at(issues, vt[bad_date], _I_DATE)
    prov_only = live & (v_level == "province")
    li, ei = _join(np.where(prov_only, v_prov, -1), ent.province)
    if len(li):
        okp = _in_force(ent, ei, cf[li], ct[li])
        li = np.unique(li[okp])
    else:
        li = np.zeros(0, dtype=np.int64)
    np.bitwise_or.at(issues, vt[li], _I_PROVINCE)
    prov_issue_visits = np.zeros(len(vt), dtype=bool)
    prov_issue_visits[li] = True
    issues |= np.where(arr_ok, 0, _I_ARRIVAL)

    out_prov = np.zeros(n, dtype=bool)
    out_prov[vt[live & ~u_home[pcodes]]] = True
    out_prov |= inbound

    # ---- reduce: best rule per traveller
    h_t, h_rank, h_v, h_e = hits.arrays()
    best = np.full(n, _BIG, dtype=np.int64)
    dv = np.full(n, -1, dtype=np.int64)
    de = np.full(n, -1, dtype=np.int64)
    mask = np.zeros(n, dtype=np.int64)
    if len(h_t):
        order = np.lexsort((h_e, h_v, h_rank, h_t))
        st, first = np.unique(h_t[order], return_index=True)
        pick = order[first]
        best[st] = h_rank[pick]
        dv[st] = h_v[pick]
        de[st] = h_e[pick]
        np.bitwise_or.at(mask, h_t, np.left_shift(1, h_rank))
    has_rule = best != _BIG
    rule_codes = np.array([r.code for r in rs.rules] + [""], dtype=object)
    b_idx = np.where(has_rule, best, len(rs.rules))
    red = rule_codes[b_idx] == "red"
    pending = (issues != 0) & ~(has_rule & red)
    pending |= ~arr_ok

    # outcome id: 0..R-1 rules, R landing, R+1 none, R+2 pending
    R = len(rs.rules)
    outcome = np.where(has_rule, best, np.where(out_prov & (rs.landing_test is not None), R, R + 1))
    outcome = np.where(pending, R + 2, outcome)

    # anchors: arrival, or the flag day for companion / push rules
    flag_day = np.full(n, _NA, dtype=np.int64)
    for k, r in enumerate(rs.rules):
        if r.match == "companion":
            flag_day = np.where(outcome == k, comp_d, flag_day)
        elif r.match == "bigdata_push":
            flag_day = np.where(outcome == k, push_d, flag_day)

    # ---- per-outcome constants
    steps: list[Step | None] = [r.first_action for r in rs.rules] + [rs.landing_test, None, rs.pending]
    totals = np.array([r.total_days if r.total_days is not None else -1 for r in rs.rules] + [-1, -1, -1])
    auto = np.array([r.auto_lift for r in rs.rules] + [False, False, False])
    codes_o = np.array([r.code for r in rs.rules] + ["green", "green", "pending"], dtype=object)
    mids = np.array([r.id for r in rs.rules] + [LANDING, NONE, PENDING], dtype=object)
    mzh = np.array([r.measure_zh for r in rs.rules] + [rs.landing_test.zh if rs.landing_test else "", "无", "待核实"], dtype=object)
    men = np.array(
        [r.measure_en for r in rs.rules] + [rs.landing_test.en if rs.landing_test else "", "none", "pending verification"],
        dtype=object,
    )
    start_anchor = np.array([r.match in ("companion", "bigdata_push") for r in rs.rules] + [False, False, False])
    m_start = np.where(start_anchor[outcome], flag_day, arr)
    tot = totals[outcome]
    m_end = np.where((tot > 0) & (m_start != _NA), m_start + tot - 1, _NA)
    # landing / pending outcomes close once any measure the stays could have given has ended;
    # a code with stays still to verify does not lift before then either
    horizon = _horizon(rs)
    stale = arr_ok & (arr + horizon - 1 < day) if horizon is not None else np.zeros(n, dtype=bool)
    lifted = auto[outcome] & (m_end != _NA) & (m_end < day) & ((issues == 0) | stale)
    closes = np.array([False] * R + [True, True, True])
    lapsed = stale & closes[outcome] & ~lifted
    closed = lifted | lapsed

    due = np.full(n, _NA, dtype=np.int64)
    fa_zh = np.empty(n, dtype=object)
    fa_en = np.empty(n, dtype=object)
    fa_zh[:] = ""
    fa_en[:] = ""
    for o, step in enumerate(steps):
        sel = outcome == o
        if step is None or not sel.any():
            continue
        anchor = flag_day[sel] if step.anchor == "flag" else arr[sel]
        due[sel] = _step_due(step, anchor)
        fa_zh[sel] = step.zh
        fa_en[sel] = step.en
    due_ts = _hours_to_ts(due)
    overdue = (due != _NA) & (due_ts.to_numpy() < ts_exact) & ~closed

    # ---- test schedules: built once per (outcome, landing?, arrival, flag) combination
    with_landing = out_prov & (rs.landing_test is not None)
    land_flags = np.array([r.landing_test for r in rs.rules] + [True, False, True])
    use_landing = with_landing & land_flags[outcome]
    combo = pd.DataFrame({"o": outcome, "l": use_landing, "a": arr, "f": flag_day})
    gid = combo.groupby(["o", "l", "a", "f"], sort=False).ngroup().to_numpy()
    first_rows = pd.Series(np.arange(n)).groupby(gid).first().to_numpy()
    sched_due: list[list[pd.Timestamp]] = []
    sched_zh: list[str] = []
    sched_en: list[str] = []
    for row in first_rows:
        o, land, ad, fd = int(outcome[row]), bool(use_landing[row]), int(arr[row]), int(flag_day[row])
        items: list[tuple[str, str, int]] = []
        if land and rs.landing_test is not None:
            items.append((rs.landing_test.zh, rs.landing_test.en, int(_step_due(rs.landing_test, np.array([ad]))[0])))
        if o < R:
            for step in rs.rules[o].tests:
                anchor = fd if step.anchor == "flag" else ad
                d = int(_step_due(step, np.array([anchor]))[0])
                for j in range(step.count):
                    tag = f"（第{j + 1}/{step.count}次）" if step.count > 1 else ""
                    tag_en = f" ({j + 1}/{step.count})" if step.count > 1 else ""
                    items.append((step.zh + tag, step.en + tag_en, d))
        sched_due.append([pd.Timestamp(np.datetime64(d, "h")) if d != _NA else pd.NaT for _, _, d in items])
        sched_zh.append("；".join(f"{z} {_fmt_hours(d, '按规定')}" for z, _, d in items))
        sched_en.append("; ".join(f"{e} {_fmt_hours(d, 'as required')}" for _, e, d in items))
    test_due = [sched_due[g] for g in gid]
    test_zh = np.array(sched_zh, dtype=object)[gid] if n else np.zeros(0, dtype=object)
    test_en = np.array(sched_en, dtype=object)[gid] if n else np.zeros(0, dtype=object)

    # ---- reasons
    reason_zh, reason_en = _reasons(
        rs, n, outcome, has_rule, best, dv, de, mask, issues, lifted, m_end, inbound, eq_days, comp_d, push_d,
        p_text[p_codes + 1], a_text[a_codes + 1], vf, vto, v_level, u_status[pcodes], bad_place, bad_date,
        prov_issue_visits, vt, ent, out_prov,
    )
    if lapsed.any():
        end = arr + (horizon or 0) - 1
        for t in np.flatnonzero(lapsed & (outcome == R + 2)):
            reason_zh[t] += f"；任何可能的措施均已于{_fmt_day(int(end[t]))}前期满，无需再核实"
            reason_en[t] += f"; any possible measure had ended by {_fmt_day(int(end[t]))}: no verification needed"

    code = np.where(closed, "green", codes_o[outcome])
    measure_id = np.where(closed & (outcome != R + 1), LIFTED, mids[outcome])

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

    cols: dict[str, object] = {"id": obj(T["id"].to_numpy(dtype=object))}
    for c in ("name", "phone", "id_number", "address"):
        cols[c] = pd.Series(T[c].array, copy=False) if c in T.columns else obj(np.full(n, None))
    cols["neighbourhood_id"] = obj(nb_ids)
    cols.update({k: obj(v) for k, v in place_cols.items()})
    cols.update(
        {
            "arrival_date": _to_dates(arr),
            "code": obj(code),
            "assigned_code": obj(codes_o[outcome]),
            "rule_id": obj(mids[outcome]),
            "measure_id": obj(measure_id),
            "measure_zh": obj(mzh[outcome]),
            "measure_en": obj(men[outcome]),
            "provisional": np.array([r.provisional for r in rs.rules] + [False] * 3)[outcome],
            "reason_zh": obj(reason_zh),
            "reason_en": obj(reason_en),
            "first_action_zh": obj(fa_zh),
            "first_action_en": obj(fa_en),
            "first_action_due": due_ts,
            "test_due": obj(test_due),
            "test_schedule_zh": obj(test_zh),
            "test_schedule_en": obj(test_en),
            "measure_start": _to_dates(np.where(tot > 0, m_start, _NA)),
            "measure_end": _to_dates(m_end),
            "lifted": closed,
            "out_of_province": out_prov,
            "needs_verification": issues != 0,
            "pending_issues": issues,
            "matched_rules": obj(_mask_names(mask, rs)),
            "overdue": overdue,
            "rule_set": obj(np.full(n, f"{rs.effective_from:%Y-%m-%d}", dtype=object)),
        }
    )
    out = pd.DataFrame(cols)
    return out


def _horizon(rs: RuleSet) -> int | None:
    """Days after arrival by which every measure a stay or entry could give has ended.

    ``None`` when some such rule has no length or does not lift by itself (2021-12-08 rules).
    """
    rules = [r for r in rs.rules if r.match in (*PLACE_MATCHES, "inbound")]
    if not rules or any(r.total_days is None or not r.auto_lift for r in rules):
        return None
    return max(r.total_days or 0 for r in rules)


def _fmt_hours(h: int, none: str) -> str:
    if h == _NA:
        return none
    return str(np.datetime64(int(h), "h").astype("datetime64[m]")).replace("T", " ")


def _mask_names(mask: np.ndarray, rs: RuleSet) -> np.ndarray:
    uniq, inv = np.unique(mask, return_inverse=True)
    names = []
    for m in uniq:
        names.append(";".join(r.id for k, r in enumerate(rs.rules) if (int(m) >> k) & 1))
    return np.array(names, dtype=object)[inv] if len(mask) else np.zeros(0, dtype=object)


_STATUS_TEXT = {
    "unknown": ("地点无法识别", "place not recognised"),
    "ambiguous": ("地点有歧义", "place ambiguous"),
    "conflict": ("地点与区划代码不一致", "place and admin code disagree"),
    "empty": ("地点缺失", "place missing"),
}


def _day_str(days: np.ndarray) -> np.ndarray:
    """Day numbers as ``YYYY-MM-DD`` (``?`` when missing), as an object array."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(len(days), "?", dtype=object)
    ok = days != _NA
    if ok.any():
        out[ok] = np.datetime_as_string(days[ok].astype("datetime64[D]")).astype(object)
    return out


def _cat(*parts: object) -> np.ndarray:
    """Element-wise string concatenation of object arrays and plain strings."""
    out: object = ""
    for p in parts:
        out = out + (p if isinstance(p, str) else np.asarray(p, dtype=object))
    return np.asarray(out, dtype=object)


def _reasons(
    rs: RuleSet, n: int, outcome: np.ndarray, has_rule: np.ndarray, best: np.ndarray, dv: np.ndarray, de: np.ndarray,
    mask: np.ndarray, issues: np.ndarray, lifted: np.ndarray, m_end: np.ndarray, inbound: np.ndarray,
    eq_days: np.ndarray, comp_d: np.ndarray, push_d: np.ndarray, places: np.ndarray, adcodes: np.ndarray,
    vf: np.ndarray, vto: np.ndarray, v_level: np.ndarray, v_status: np.ndarray, bad_place: np.ndarray,
    bad_date: np.ndarray, prov_issue: np.ndarray, vt: np.ndarray, ent: _Entries, out_prov: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Reason texts (zh, en) per traveller, built column-wise."""
    R = len(rs.rules)
    zh = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)
    lab_zh = np.array([r.label_zh for r in rs.rules] + [""], dtype=object)
    lab_en = np.array([r.label_en for r in rs.rules] + [""], dtype=object)
    match = np.array([r.match for r in rs.rules] + [""], dtype=object)
    b = np.where(has_rule, best, R)
    bm = match[b]

    # stays that decided: rule label, the stay, the entry
    e_area = [_text(x) for x in ent.frame["area_name"]] if "area_name" in ent.frame.columns else [""] * len(ent.frame)
    e_zh, e_en = [], []
    for i in range(len(ent.frame)):
        lv = str(ent.level[i])
        lz, le = LEVEL_LABELS.get(lv, (lv, lv))
        area = f" {e_area[i]}" if e_area[i] else ""
        since = _fmt_day(int(ent.since[i]))
        lift = int(ent.lifted[i])
        e_zh.append(f"{lz}{ent.label[i]}{area}（{since}起" + (f"，{_fmt_day(lift)}解除）" if lift != _BIG else "）"))
        e_en.append(f"{le} {ent.label[i]}{area} (since {since}" + (f", lifted {_fmt_day(lift)})" if lift != _BIG else ")"))
    e_zh_a = np.array(e_zh + [""], dtype=object)
    e_en_a = np.array(e_en + [""], dtype=object)
    sel = np.flatnonzero(has_rule & np.isin(bm, PLACE_MATCHES))
    if len(sel):
        v, e = dv[sel], de[sel]
        fs, ts = _day_str(vf[v]), _day_str(vto[v])
        zh[sel] = _cat(lab_zh[b[sel]], "：「", places[v], "」", fs, "至", ts, "；", e_zh_a[e])
        en[sel] = _cat(lab_en[b[sel]], ": '", places[v], "' ", fs, " to ", ts, "; ", e_en_a[e])
        if any(r.match in ("county", "area") for r in rs.rules):
            note = sel[(bm[sel] == "city") & (v_level[v] == "city")]
            zh[note] = _cat(zh[note], "（区县未写明，按涉疫地市其他县处理，请核实区县）")
            en[note] = _cat(en[note], " (county not stated: treated as another county of the affected city; verify the county)")
    sel = np.flatnonzero(has_rule & (bm == "inbound"))
    if len(sel):
        d = eq_days[sel].astype(np.int64).astype(str).astype(object)
        zh[sel] = _cat(lab_zh[b[sel]], "：入境点已隔离", d, "天")
        en[sel] = _cat(lab_en[b[sel]], ": ", d, " days quarantined at entry")
    for kind, days in (("companion", comp_d), ("bigdata_push", push_d)):
        sel = np.flatnonzero(has_rule & (bm == kind))
        if len(sel):
            d = _day_str(days[sel])
            zh[sel] = _cat(lab_zh[b[sel]], "：", d, "推送")
            en[sel] = _cat(lab_en[b[sel]], ": flagged ", d)
    no_rule = ~has_rule
    landing = no_rule & out_prov & (rs.landing_test is not None)
    zh[landing] = "14天内有省外旅居史或境外入境，第一落点核酸检测"
    en[landing] = "out-of-province history in the 14 days or inbound: test at the first landing point"
    zh[no_rule & ~landing] = "14天内无省外或涉疫旅居史"
    en[no_rule & ~landing] = "no out-of-province or outbreak history in the 14 days"

    # other matching rules
    pend = outcome == R + 2
    own = np.where(has_rule, np.left_shift(1, np.where(has_rule, best, 0)), 0)
    others = np.where(pend, 0, mask & ~own)
    for m in np.unique(others[others != 0]):
        names = [r for k, r in enumerate(rs.rules) if (int(m) >> k) & 1]
        sel = np.flatnonzero(others == m)
        zh[sel] = _cat(zh[sel], "；同时符合：" + "、".join(r.label_zh for r in names))
        en[sel] = _cat(en[sel], "; also matches: " + ", ".join(r.label_en for r in names))

    # pending issues, stay by stay, joined per traveller
    parts_t: list[np.ndarray] = []
    parts_k: list[np.ndarray] = []
    parts_zh: list[np.ndarray] = []
    parts_en: list[np.ndarray] = []

    def part(vs: np.ndarray, k: int, z: np.ndarray, e: np.ndarray) -> None:
        parts_t.append(vt[vs])
        parts_k.append(vs * 4 + k)
        parts_zh.append(z)
        parts_en.append(e)

    for k, (flag, status_col) in enumerate(((bad_place, True), (bad_date, False), (prov_issue, False))):
        vs = np.flatnonzero(flag)
        if not len(vs):
            continue
        fs, ts = _day_str(vf[vs]), _day_str(vto[vs])
        pl = places[vs]
        if status_col:
            st = v_status[vs].astype(str)
            sz = np.array([_STATUS_TEXT.get(x, _STATUS_TEXT["unknown"])[0] for x in st], dtype=object)
            se = np.array([_STATUS_TEXT.get(x, _STATUS_TEXT["unknown"])[1] for x in st], dtype=object)
            conflict = st == "conflict"
            cz = np.where(conflict, _cat("，代码", adcodes[vs]), "")
            ce = np.where(conflict, _cat(", code ", adcodes[vs]), "")
            part(vs, k, _cat(sz, "「", pl, "」（", fs, "至", ts, cz, "）"), _cat(se, " '", pl, "' (", fs, " to ", ts, ce, ")"))
        elif k == 1:
            inverted = (vf[vs] != _NA) & (vto[vs] != _NA)
            sz = np.where(inverted, "日期有误", "日期缺失").astype(object)
            se = np.where(inverted, "dates inverted", "date missing").astype(object)
            part(vs, k, _cat(sz, "「", pl, "」（", fs, "至", ts, "）"), _cat(se, " '", pl, "' (", fs, " to ", ts, ")"))
        else:
            part(
                vs, k, _cat("地点仅到省级「", pl, "」（", fs, "至", ts, "），该省当时有风险区"),
                _cat("place names only the province '", pl, "' (", fs, " to ", ts, "); it had risk areas then"),
            )
    big = np.int64(len(vt) * 4 + 8)
    for j, (bit, a, b2) in enumerate((
        (_I_ARRIVAL, "抵并日期缺失", "arrival date missing"),
        (_I_INBOUND, "境外入境，入境点隔离天数不明", "inbound: days quarantined at entry unknown"),
        (_I_FLAG, "伴随/推送日期缺失", "companion / push flag date missing"),
    )):
        ts_ = np.flatnonzero(issues & bit)
        if len(ts_):
            parts_t.append(ts_)
            parts_k.append(np.full(len(ts_), big + j))
            parts_zh.append(np.full(len(ts_), a, dtype=object))
            parts_en.append(np.full(len(ts_), b2, dtype=object))
    iz: dict[int, str] = {}
    ie: dict[int, str] = {}
    if parts_t:
        pt, pk = np.concatenate(parts_t), np.concatenate(parts_k)
        order = np.lexsort((pk, pt))
        pt = pt[order]
        pz, pe = np.concatenate(parts_zh)[order], np.concatenate(parts_en)[order]
        cuts = np.flatnonzero(np.diff(pt)) + 1
        for tt, gz, ge in zip(pt[np.concatenate([[0], cuts])], np.split(pz, cuts), np.split(pe, cuts), strict=True):
            iz[int(tt)] = "；".join(gz)
            ie[int(tt)] = "; ".join(ge)
    for t in np.flatnonzero(issues != 0):
        t = int(t)
        lz, le = iz.get(t, ""), ie.get(t, "")
        if pend[t]:
            other_z = f"；另：{zh[t]}" if has_rule[t] else ""
            other_e = f"; also: {en[t]}" if has_rule[t] else ""
            zh[t], en[t] = f"待核实：{lz}{other_z}", f"pending: {le}{other_e}"
        else:
            zh[t], en[t] = f"{zh[t]}；另有旅居史待核实：{lz}", f"{en[t]}; also to verify: {le}"

    sel = np.flatnonzero(lifted)
    if len(sel):
        d = _day_str(m_end[sel])
        zh[sel] = _cat(zh[sel], "；", d, "期满，自动解码")
        en[sel] = _cat(en[sel], "; measure ended ", d, ", code lifted automatically")
    return zh, en


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
    nb = neighbourhoods.copy()
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

    def code_counts(self) -> dict[str, int]:
        vc = self.travellers["code"].value_counts()
        return {c: int(vc.get(c, 0)) for c in CODES}

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
    t = classify_travellers(travellers, visits, risk_areas, gazetteer, rs, as_of=ts, neighbourhoods=neighbourhoods, notes=notes)
    unassigned = int(t["neighbourhood_id"].isna().sum())
    if unassigned:
        notes.append(f"{unassigned} traveller(s) have no neighbourhood (no id and no point inside one)")
    nb = screen_neighbourhoods(t, neighbourhoods, zones, as_of=ts, measure_ids=list(rs.measure_labels()))
    return Screening(as_of=ts, rule_set=rs, travellers=t, neighbourhoods=nb, notes=notes)
