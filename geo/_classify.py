"""Traveller classification in five named phases (used by :func:`geo.screening.classify_travellers`).

1. :func:`resolve_stays`   — each visit's place as deep as the gazetteer knows it (province →
   city → county), the rest kept as *detail*; dates clipped to the 14-day window.
2. :func:`prepare_entries` — the risk entries known on the as-of day and the rule set's notices,
   each resolved to a county (or a city), with its area key, street and look-back start.
3. :func:`match_stays`     — the relation of every stay to every entry of its city (the risk
   area itself / its county or street / another county or street / undecidable), and from it
   the one place rule each stay gives, or the reason it cannot be decided.
4. :func:`build_obligations` — every obligation a traveller has: one per matching place rule,
   one per person rule (inbound, companion, big-data push, health code), the landing test,
   and the verification of what could not be decided; each with its first action, deadline,
   start, end and status on the as-of day (the **lifting** rules live here).
5. :func:`summarise`       — per traveller: the strictest open code (red > pending > yellow >
   green), its measure, the earliest open deadline, the end date, overdue.

Everything is column-wise (numpy / pandas); the only Python loops run over distinct place
strings, risk entries and rules, never over travellers or visits. The slow, obvious reference
that the tests and the benchmark hold this against is ``bench/bench_screening.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo._gazetteer_match import OK, PlaceIndex, normalize_place, resolution_frame

if TYPE_CHECKING:  # typing only (avoids a cycle with geo.screening)
    from geo.screening import RuleSet, Step

_NA = np.iinfo(np.int64).min
_BIG = np.iinfo(np.int64).max

#: Municipalities 直辖市: the street / town is the unit (seed 004 "直辖市的街道、乡镇").
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
SEVERITY = {"green": 0, "yellow": 1, "pending": 2, "red": 3}
SEVERITY_CODES = np.array(["green", "yellow", "pending", "red"], dtype=object)

# pending issue bits
I_PLACE, I_DATE, I_PROVINCE, I_ARRIVAL, I_INBOUND, I_FLAG, I_COUNTY, I_STREET = 1, 2, 4, 8, 16, 32, 64, 128

# relation of a stay to an entry
REL_AREA, REL_COUNTY, REL_CITY, REL_UNKNOWN = 0, 1, 2, 3
#: which rule matches each relation may satisfy (most specific first)
_REL_MATCHES = {REL_AREA: ("area", "county"), REL_COUNTY: ("county",), REL_CITY: ("city",)}

_STREET_RE = re.compile(r"^(.+?)(?:街道|镇|乡)")


def street_stem(detail: str) -> str:
    """The street / town named at the start of a detail, without its suffix (``周浦镇瑞安小区`` → ``周浦``).

    ``""`` when the detail names no 街道 / 镇 / 乡. Never fuzzy: streets match by this stem exactly.
    """
    m = _STREET_RE.match(detail or "")
    return m.group(1) if m else ""


def days(values: object) -> np.ndarray:
    """Dates as int64 day numbers since 1970-01-01; missing → ``_NA``."""
    s = pd.to_datetime(pd.Series(values), errors="raise")
    arr = s.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(arr)] = _NA
    return out


def text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def equi_join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left[i] == right[j]`` and key ≥ 0, ordered by i then j."""
    order = np.argsort(right, kind="stable")
    rs = right[order]
    lo = np.searchsorted(rs, left, side="left")
    hi = np.searchsorted(rs, left, side="right")
    cnt = np.where(left >= 0, hi - lo, 0)
    li = np.repeat(np.arange(len(left)), cnt)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
    ri = order[np.arange(len(li)) + start] if len(li) else np.zeros(0, dtype=np.int64)
    return li, ri


class Codes:
    """adcode string ↔ small int, shared by stays and entries."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, code: str) -> int:
        if not code:
            return -1
        i = self.ids.get(code)
        if i is None:
            i = self.ids[code] = len(self.ids)
        return i


# ----------------------------------------------------------------------------------------------
# Phase 1: stays


@dataclass
class Stays:
    """One row per visit of an arrived traveller (visit row order kept)."""

    t: np.ndarray  # traveller position
    place: np.ndarray  # as written
    adcode: np.ndarray
    f: np.ndarray  # day numbers, _NA missing
    to: np.ndarray
    cf: np.ndarray  # clipped to the window (valid where in_win)
    ct: np.ndarray
    date_ok: np.ndarray
    in_win: np.ndarray
    ok: np.ndarray  # the place resolved
    status: np.ndarray  # ok / unknown / ambiguous / conflict / empty
    level: np.ndarray  # province / city / county ('' unresolved)
    prov: np.ndarray  # int codes, -1 none
    city: np.ndarray
    county: np.ndarray
    detail: np.ndarray  # normalised text below the resolved unit
    street: np.ndarray  # street stem of the detail ('' none)
    home: np.ndarray  # in the home province
    muni: np.ndarray  # in a municipality

    @property
    def live(self) -> np.ndarray:
        """Stays that can match: resolved and inside the window."""
        return self.ok & self.in_win


def resolve_stays(
    visits: pd.DataFrame, vt: np.ndarray, arrival: np.ndarray, history_days: int, idx: PlaceIndex, home: str, codes: Codes
) -> Stays:
    """Phase 1: resolve each distinct (place, adcode) once, clip dates to the window.

    The window is days ``arrival − history_days … arrival`` (inclusive).
    """
    f = days(visits["from_date"])
    to = days(visits["to_date"])
    date_ok = (f != _NA) & (to != _NA) & (f <= to)
    a = arrival[vt]
    a_ok = a != _NA
    cf = np.where(date_ok & a_ok, np.maximum(f, a - history_days), 0)
    ct = np.where(date_ok & a_ok, np.minimum(to, a), -1)
    in_win = date_ok & a_ok & (cf <= ct)

    p_codes, p_uniq = pd.factorize(visits["place"])
    if "adcode" in visits.columns:
        a_codes, a_uniq = pd.factorize(visits["adcode"])
    else:
        a_codes, a_uniq = np.full(len(visits), -1, dtype=np.int64), pd.Index([])
    width = len(a_uniq) + 1
    pcodes, ukeys = pd.factorize((p_codes.astype(np.int64) + 1) * width + (a_codes + 1))
    p_text = np.concatenate([[""], p_uniq.to_numpy(dtype=object)])
    a_text = np.concatenate([[""], a_uniq.to_numpy(dtype=object)])
    up = p_text[ukeys // width].tolist()
    uc = a_text[ukeys % width].tolist()
    res = resolution_frame(idx.resolve_pairs(up, uc, partial=True))
    u_ok = (res["status"] == OK).to_numpy()
    # the detail below the unit; a county name written twice (上海市浦东新区浦东新区…) is dropped once
    names = [idx.units[c].county if c in idx.units else "" for c in res["county_adcode"]]
    u_detail = np.array(
        [d[len(k):] if k and d.startswith(k) and len(d) > len(k) else d for d, k in zip((normalize_place(x) for x in res["rest"]), names, strict=True)],
        dtype=object,
    )
    u_street = np.array([street_stem(x) for x in u_detail], dtype=object)
    pa = res["province_adcode"].to_numpy(dtype=object)

    def per_visit(u: np.ndarray) -> np.ndarray:
        return u[pcodes]

    return Stays(
        t=vt, place=p_text[p_codes + 1], adcode=a_text[a_codes + 1], f=f, to=to, cf=cf, ct=ct, date_ok=date_ok,
        in_win=in_win, ok=per_visit(u_ok), status=per_visit(res["status"].to_numpy(dtype=object)),
        level=per_visit(res["level"].to_numpy(dtype=object)),
        prov=per_visit(np.array([codes(c) for c in pa], dtype=np.int64)),
        city=per_visit(np.array([codes(c) for c in res["city_adcode"]], dtype=np.int64)),
        county=per_visit(np.array([codes(c) for c in res["county_adcode"]], dtype=np.int64)),
        detail=per_visit(u_detail), street=per_visit(u_street),
        home=per_visit(pa == home), muni=per_visit(np.isin(pa, list(MUNICIPALITIES))),
    )


# ----------------------------------------------------------------------------------------------
# Phase 2: entries


@dataclass
class Entries:
    """Risk entries known on the as-of day, then the rule set's notices (row order kept)."""

    county: np.ndarray  # int code; -1 for an entry of a whole city (notices)
    city: np.ndarray
    province: np.ndarray
    since: np.ndarray  # look-back start: the listing day, or an earlier notice for its place
    listed: np.ndarray  # the listing day itself
    lifted: np.ndarray  # _BIG when never lifted
    level: np.ndarray  # object
    label: list[str]
    area: list[str]  # area name as listed
    area_key: np.ndarray  # the area name below the county ('' = the whole county)
    street: np.ndarray  # street stem of the area key ('' none)
    whole: np.ndarray  # the entry is the whole county (no area name)
    notice: np.ndarray  # from the rule set's notices
    unresolved: list[str]

    def __len__(self) -> int:
        return len(self.level)


def _area_key(area: str, unit_names: tuple[str, ...]) -> str:
    key = normalize_place(area)
    for name in sorted((n for n in unit_names if n), key=len, reverse=True):
        if key.startswith(name) and len(key) >= len(name):
            return key[len(name):]
    return key


def prepare_entries(risk: pd.DataFrame, idx: PlaceIndex, day: int, codes: Codes, rs: RuleSet) -> Entries:
    """Phase 2: resolve the entries known on ``day`` (``since`` ≤ day) and append the notices.

    An entry without an area name is the whole county when the rule set says so
    (``whole_county_entry = "area"``). A notice ("3月13日以来有…旅居史") is an entry of level
    ``notice`` for its place, and moves the look-back start of every entry inside that place
    back to its date.
    """
    need = ["level", "since"]
    missing = [c for c in need if c not in risk.columns]
    if missing:
        msg = f"risk_areas lacks column(s): {', '.join(missing)}"
        raise ValueError(msg)
    since_all = days(risk["since"])
    known = (since_all != _NA) & (since_all <= day)
    e = risk[known].reset_index(drop=True)
    n = len(e)
    undated = [str(x) for x in (risk["id"] if "id" in risk.columns else risk.index)[since_all == _NA]]
    unresolved = [f"risk entry {x}: no since date, ignored" for x in undated]

    def col(name: str) -> list[str]:
        return [text(v) for v in e[name]] if name in e.columns else [""] * n

    adcodes, provs, cities, counties, areas, ids = (
        col("adcode"), col("province"), col("city"), col("county"), col("area_name"), col("id"),
    )
    county, city, prov = (np.full(n, -1, dtype=np.int64) for _ in range(3))
    labels, area_keys, streets = [""] * n, [""] * n, [""] * n
    whole = np.zeros(n, dtype=bool)
    use = np.zeros(n, dtype=bool)
    for i in range(n):
        u = idx.resolve_code(adcodes[i])
        if u is None:
            r = idx.resolve(provs[i] + (cities[i] if cities[i] != provs[i] else "") + counties[i])
            u = r.unit if r.status == OK and not r.rest else None
        if u is None or u.level == "province":
            where = f"{provs[i]}{cities[i] if cities[i] != provs[i] else ''}{counties[i]} {adcodes[i]}".strip()
            unresolved.append(f"risk entry {ids[i] or i}: place not resolved to a county or city ({where}), ignored")
            continue
        use[i] = True
        county[i], city[i], prov[i] = codes(u.county_adcode), codes(u.city_adcode), codes(u.province_adcode)
        labels[i] = u.label
        key = _area_key(areas[i], (u.label, u.city + u.county, u.county, u.province + u.county))
        area_keys[i] = key
        streets[i] = street_stem(key) if u.province_adcode in MUNICIPALITIES else ""
        whole[i] = county[i] >= 0 and not key and rs.whole_county_entry == "area"
    lifted = days(e["lifted"]) if "lifted" in e.columns else np.full(n, _NA)
    lifted = np.where(lifted == _NA, _BIG, lifted)
    listed = days(e["since"])
    level = e["level"].astype(str).to_numpy(dtype=object)

    # the notices of the rule set: entries of level "notice" for a city or county
    nn = len(rs.notices)
    n_county = np.full(nn, -1, dtype=np.int64)
    n_city = np.full(nn, -1, dtype=np.int64)
    n_prov = np.full(nn, -1, dtype=np.int64)
    n_labels: list[str] = []
    n_since = np.full(nn, _NA, dtype=np.int64)
    for k, notice in enumerate(rs.notices):
        u = idx.resolve_code(notice.adcode) if notice.adcode else None
        if u is None:
            r = idx.resolve(notice.place)
            u = r.unit if r.status == OK and not r.rest else None
        if u is None:  # layers.rules checks every notice against the gazetteer at load
            unresolved.append(f"notice {notice.place}: place not resolved, ignored")
            n_labels.append(notice.place)
            continue
        n_county[k] = codes(u.county_adcode) if u.level == "county" else -1
        n_city[k], n_prov[k] = codes(u.city_adcode), codes(u.province_adcode)
        n_labels.append(u.label)
        n_since[k] = int(np.datetime64(notice.since, "D").astype(np.int64))
    n_ok = n_city >= 0
    since = listed.copy()
    for k in np.flatnonzero(n_ok):
        inside = (county == n_county[k]) if n_county[k] >= 0 else (city == n_city[k])
        since = np.where(use & inside, np.minimum(since, n_since[k]), since)

    keep = np.flatnonzero(use)
    nk = np.flatnonzero(n_ok)
    cat = np.concatenate
    return Entries(
        county=cat([county[keep], n_county[nk]]), city=cat([city[keep], n_city[nk]]),
        province=cat([prov[keep], n_prov[nk]]), since=cat([since[keep], n_since[nk]]),
        listed=cat([listed[keep], n_since[nk]]), lifted=cat([lifted[keep], np.full(len(nk), _BIG)]),
        level=cat([level[keep], np.full(len(nk), "notice", dtype=object)]).astype(object),
        label=[labels[i] for i in keep] + [n_labels[k] for k in nk],
        area=[areas[i] for i in keep] + [""] * len(nk),
        area_key=np.array([area_keys[i] for i in keep] + [""] * len(nk), dtype=object),
        street=np.array([streets[i] for i in keep] + [""] * len(nk), dtype=object),
        whole=cat([whole[keep], np.zeros(len(nk), dtype=bool)]),
        notice=cat([np.zeros(len(keep), dtype=bool), np.ones(len(nk), dtype=bool)]),
        unresolved=unresolved,
    )


# ----------------------------------------------------------------------------------------------
# Phase 3: stays against entries


@dataclass
class StayFindings:
    """Per stay: the place rule it gives (rank, entry) or -1, and its pending bits."""

    rank: np.ndarray  # rule rank (index into rs.rules), -1 none
    entry: np.ndarray  # the deciding entry, -1 none
    issues: np.ndarray  # I_COUNTY / I_STREET / I_PROVINCE bits of this stay
    matched: np.ndarray  # bit mask of every place rule this stay satisfies (for matched_rules)


def _rule_tables(rs: RuleSet, levels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``best[rel, level]`` → smallest rule rank for that relation and entry level (-1 none);
    ``could[level]`` → some area/county rule takes that level (an unknown county matters)."""
    best = np.full((3, len(levels)), -1, dtype=np.int64)
    could = np.zeros(len(levels), dtype=bool)
    for rank, r in enumerate(rs.rules):
        for j, lv in enumerate(levels):
            if lv not in r.levels:
                continue
            if r.match in ("area", "county"):
                could[j] = True
            for rel, matches in _REL_MATCHES.items():
                if r.match in matches and best[rel, j] < 0:
                    best[rel, j] = rank
    return best, could


def match_stays(st: Stays, ent: Entries, rs: RuleSet) -> StayFindings:
    """Phase 3: relate every live stay to the entries of its city that were in force during it.

    - **area** (the risk area itself): same county and the entry is the whole county, or the
      stay's detail is the entry's area name;
    - **county**: same county (municipalities with ``municipality_unit = "street"``: same street);
    - **city**: another county (street) of the entry's city, or an entry for a whole city;
    - **unknown**: the stay names the city only (or, in a municipality, not the street) and the
      entry's county could decide a stricter rule — the stay cannot be decided (pending).
    An entry is in force during a stay when ``since ≤ clipped end`` and ``lifted > clipped start``.
    """
    nv = len(st.t)
    rank = np.full(nv, -1, dtype=np.int64)
    entry = np.full(nv, -1, dtype=np.int64)
    issues = np.zeros(nv, dtype=np.int64)
    matched = np.zeros(nv, dtype=np.int64)
    if not len(ent) or not nv:
        return StayFindings(rank, entry, issues, matched)
    live = st.live
    # province-only stays: the province had an entry in force then → city needed
    pv = live & (st.level == "province")
    si, ei = equi_join(np.where(pv, st.prov, -1), ent.province)
    ok = (ent.since[ei] <= st.ct[si]) & (ent.lifted[ei] > st.cf[si])
    issues[np.unique(si[ok])] |= I_PROVINCE

    cand = live & np.isin(st.level, ["city", "county"])
    si, ei = equi_join(np.where(cand, st.city, -1), ent.city)
    ok = (ent.since[ei] <= st.ct[si]) & (ent.lifted[ei] > st.cf[si])
    si, ei = si[ok], ei[ok]
    if not len(si):
        return StayFindings(rank, entry, issues, matched)

    e_county = ent.county[ei] >= 0
    s_city_only = st.level[si] == "city"
    same_county = e_county & ~s_city_only & (st.county[si] == ent.county[ei])
    detail = st.detail[si]
    area_hit = same_county & (ent.whole[ei] | ((detail != "") & (detail == ent.area_key[ei])))
    rel = np.full(len(si), REL_CITY, dtype=np.int64)
    rel[e_county & s_city_only] = REL_UNKNOWN
    rel[same_county] = REL_COUNTY
    rel[area_hit] = REL_AREA
    street_unit = same_county & ~area_hit & st.muni[si] & (rs.municipality_unit == "street")
    if street_unit.any():
        es, ss = ent.street[ei], st.street[si]
        same_street = (es != "") & ((ss == es) | (detail == es))
        other_street = (es != "") & (ss != "") & ~same_street
        rel[street_unit & other_street] = REL_CITY
        rel[street_unit & ~same_street & ~other_street] = REL_UNKNOWN
    unknown_kind = np.where(s_city_only, I_COUNTY, I_STREET)

    levels = list(dict.fromkeys([*(lv for r in rs.rules for lv in r.levels), *ent.level.tolist()]))
    lv_idx = pd.Index(levels).get_indexer(ent.level[ei])
    best, could = _rule_tables(rs, levels)
    undecided = (rel == REL_UNKNOWN) & could[lv_idx]
    rel = np.where((rel == REL_UNKNOWN) & ~could[lv_idx], REL_CITY, rel)
    r_pair = np.where(undecided, -1, best[np.minimum(rel, 2), lv_idx])
    np.bitwise_or.at(issues, si[undecided], unknown_kind[undecided])
    hit = r_pair >= 0
    np.bitwise_or.at(matched, si[hit], np.left_shift(1, r_pair[hit]))
    # the stay's rule: smallest rank, then the earliest entry
    order = np.lexsort((ei[hit], r_pair[hit], si[hit]))
    s_h, r_h, e_h = si[hit][order], r_pair[hit][order], ei[hit][order]
    first = np.unique(s_h, return_index=True)[1]
    rank[s_h[first]] = r_h[first]
    entry[s_h[first]] = e_h[first]
    # an undecidable stay gives no milder rule of its own (it might be red): pending instead
    red = np.array([r.code == "red" for r in rs.rules] + [False])
    drop = ((issues & (I_COUNTY | I_STREET)) != 0) & ~red[rank]
    rank[drop], entry[drop] = -1, -1
    return StayFindings(rank, entry, issues, matched)


# ----------------------------------------------------------------------------------------------
# Phase 4: obligations (with deadlines and the lifting rules)


@dataclass
class Person:
    """The per-traveller inputs the person rules read (arrival, flags and their days)."""

    arrival: np.ndarray
    inbound: np.ndarray
    entry_days: np.ndarray  # float, nan unknown
    flags: dict[str, np.ndarray]  # match kind → flag (bool)
    flag_days: dict[str, np.ndarray]  # match kind → flag day (_NA missing)
    health_code: np.ndarray  # object: red / yellow / ''


def step_due(step: Step | None, anchor_days: np.ndarray) -> np.ndarray:
    """Deadline in int hours since epoch (``_NA`` none): ``hours`` after 00:00 of the anchor day."""
    if step is None or step.hours is None:
        return np.full(len(anchor_days), _NA, dtype=np.int64)
    return np.where(anchor_days == _NA, _NA, anchor_days * 24 + int(step.hours))


def horizon(rs: RuleSet) -> int | None:
    """Days after arrival by which every measure a stay or entry could give has ended.

    ``None`` when some such rule has no length or does not lift by itself (2021-12-08 rules).
    """
    rules = [r for r in rs.rules if r.match in ("area", "county", "city", "inbound")]
    if not rules or any(r.total_days is None or not r.auto_lift for r in rules):
        return None
    return max(r.total_days or 0 for r in rules)


def person_hits(p: Person, rs: RuleSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person rules: (traveller, rule rank) pairs and the per-traveller pending bits they add."""
    n = len(p.arrival)
    arr_ok = p.arrival != _NA
    ts: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    issues = np.zeros(n, dtype=np.int64)
    inbound_matched = np.zeros(n, dtype=bool)
    for k, r in enumerate(rs.rules):
        if r.match == "inbound":
            lo = r.min_entry_days if r.min_entry_days is not None else 0
            hi = r.max_entry_days if r.max_entry_days is not None else np.inf
            m = p.inbound & arr_ok & ~np.isnan(p.entry_days) & (p.entry_days >= lo) & (p.entry_days <= hi)
            inbound_matched |= m
        elif r.match in ("companion", "bigdata_push", "health_code"):
            flag = p.flags[r.match]
            if r.match == "health_code":
                flag = flag & np.isin(p.health_code, list(r.colours))
            d = p.flag_days[r.match]
            m = flag & (d != _NA) & arr_ok
            issues |= np.where(flag & (d == _NA) & arr_ok, I_FLAG, 0)
        else:
            continue
        sel = np.flatnonzero(m)
        ts.append(sel)
        ranks.append(np.full(len(sel), k, dtype=np.int64))
    if any(r.match == "inbound" for r in rs.rules):
        issues |= np.where(p.inbound & ~inbound_matched & arr_ok, I_INBOUND, 0)
    issues |= np.where(arr_ok, 0, I_ARRIVAL)
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(ts) if ts else empty), (np.concatenate(ranks) if ranks else empty), issues


@dataclass
class Obligations:
    """One row per obligation, ordered by traveller, then severity (strictest first), then priority.

    ``kind``: rule rank ``0 … R−1``, ``R`` the landing test, ``R+1`` the verification of what
    could not be decided (pending).
    """

    t: np.ndarray
    kind: np.ndarray
    stay: np.ndarray  # the stay that gave a place rule (-1 otherwise)
    entry: np.ndarray
    code: np.ndarray  # object
    severity: np.ndarray
    priority: np.ndarray
    start: np.ndarray  # day, _NA none
    end: np.ndarray  # last day, _NA when no stated length
    due: np.ndarray  # hours, _NA none
    closed: np.ndarray
    lapsed: np.ndarray  # a pending / landing obligation closed because any measure had ended
    community: np.ndarray  # the community follows it up (the landing test is the landing point's)
    overdue: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def build_obligations(
    rs: RuleSet, p: Person, st: Stays, fnd: StayFindings, issues: np.ndarray, out_prov: np.ndarray, day: int,
    ts_hours: float,
) -> Obligations:
    """Phase 4: every obligation, its deadline, length and status on the as-of day.

    **Lifting**: a rule's obligation with ``auto_lift`` closes the day after its last day; one
    with ``until_verified`` (a big-data push) or without a stated length never closes by itself.
    The landing test is taken at the first landing point and closes at its deadline. The
    verification of an undecidable stay closes once every measure it could have led to has
    ended (arrival + the longest place or inbound measure). An obligation is **overdue** when
    the community follows it up, its deadline has passed and it is still open.
    """
    R = len(rs.rules)
    n = len(p.arrival)
    # place rules: one obligation per (traveller, rule), from its earliest stay
    vs = np.flatnonzero(fnd.rank >= 0)
    order = np.lexsort((vs, fnd.rank[vs], st.t[vs]))
    vs = vs[order]
    key = st.t[vs] * (R + 2) + fnd.rank[vs]
    vs = vs[np.unique(key, return_index=True)[1]]
    pt, pr, _ = person_hits(p, rs)
    t = np.concatenate([st.t[vs], pt])
    kind = np.concatenate([fnd.rank[vs], pr])
    stay = np.concatenate([vs, np.full(len(pt), -1)])
    entry = np.concatenate([fnd.entry[vs], np.full(len(pt), -1)])
    # the landing test, unless a rule of the traveller's opts out of it
    no_landing = np.zeros(n, dtype=bool)
    opt_out = np.array([not r.landing_test for r in rs.rules], dtype=bool)
    no_landing[t[opt_out[kind]]] = True
    land = np.flatnonzero(out_prov & ~no_landing) if rs.landing_test is not None else np.zeros(0, dtype=np.int64)
    pend = np.flatnonzero(issues != 0)
    t = np.concatenate([t, land, pend]).astype(np.int64)
    kind = np.concatenate([kind, np.full(len(land), R), np.full(len(pend), R + 1)]).astype(np.int64)
    stay = np.concatenate([stay, np.full(len(land) + len(pend), -1)]).astype(np.int64)
    entry = np.concatenate([entry, np.full(len(land) + len(pend), -1)]).astype(np.int64)

    codes = np.array([r.code for r in rs.rules] + ["green", "pending"], dtype=object)
    sev = np.array([SEVERITY[c] for c in codes], dtype=np.int64)
    prio = np.array([r.priority for r in rs.rules] + [10**9 + 1, 10**9], dtype=np.int64)
    o = np.lexsort((prio[kind], -sev[kind], t))
    t, kind, stay, entry = t[o], kind[o], stay[o], entry[o]

    arr = p.arrival[t]
    flag_day = np.full(len(t), _NA, dtype=np.int64)
    for k, r in enumerate(rs.rules):
        if r.match in p.flag_days:
            sel = kind == k
            flag_day[sel] = p.flag_days[r.match][t[sel]]
    steps: list[Step | None] = [r.first_action for r in rs.rules] + [rs.landing_test, rs.pending]
    due = np.full(len(t), _NA, dtype=np.int64)
    for k, s in enumerate(steps):
        sel = kind == k
        if s is not None and sel.any():
            due[sel] = step_due(s, flag_day[sel] if s.anchor == "flag" else arr[sel])
    flagged = np.array([r.match in p.flag_days for r in rs.rules] + [False, False])
    start = np.where(flagged[kind], flag_day, arr)
    total = np.array([r.total_days or 0 for r in rs.rules] + [0, 0], dtype=np.int64)[kind]
    end = np.where((total > 0) & (start != _NA), start + total - 1, _NA)
    auto = np.array([r.auto_lift and not r.until_verified for r in rs.rules] + [False, False])[kind]
    hz = horizon(rs)
    stale = (arr != _NA) & (arr + hz - 1 < day) if hz is not None else np.zeros(len(t), dtype=bool)
    is_land, is_pend = kind == R, kind == R + 1
    due_passed = (due != _NA) & (due <= ts_hours)
    closed = (auto & (end != _NA) & (end < day)) | (is_land & (due_passed | stale)) | (is_pend & stale)
    community = ~is_land
    overdue = community & ~closed & (due != _NA) & (due < ts_hours)
    return Obligations(
        t=t, kind=kind, stay=stay, entry=entry, code=codes[kind], severity=sev[kind], priority=prio[kind],
        start=start, end=end, due=due, closed=closed, lapsed=(is_land | is_pend) & stale & closed, community=community,
        overdue=overdue,
    )


# ----------------------------------------------------------------------------------------------
# Phase 5: one row per traveller


@dataclass
class Summary:
    """Per traveller (positions 0 … n−1): the deciding obligations and the figures derived from them."""

    assigned: np.ndarray  # index into the obligations of the strictest obligation, -1 none
    current: np.ndarray  # the strictest *open* obligation, -1 none open
    next_due: np.ndarray  # the obligation with the earliest open deadline (see summarise), -1 none
    code: np.ndarray
    assigned_code: np.ndarray
    measure_start: np.ndarray
    measure_end: np.ndarray
    lifted: np.ndarray  # has obligations, all closed
    overdue: np.ndarray


def _first_per(t: np.ndarray, sel: np.ndarray, n: int, order_keys: tuple[np.ndarray, ...] = ()) -> np.ndarray:
    """Per traveller, the first selected obligation (in the obligations' order, or by ``order_keys``)."""
    out = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(sel)
    if order_keys:
        idx = idx[np.lexsort(tuple(k[idx] for k in order_keys) + (t[idx],))]
    tt = t[idx]
    first = np.unique(tt, return_index=True)[1]
    out[tt[first]] = idx[first]
    return out


def summarise(ob: Obligations, n: int) -> Summary:
    """Phase 5: the traveller's code is the strictest open obligation's (red > pending > yellow >
    green; green when none is open); the measure shown is that obligation's; the deadline shown
    is the earliest open one the community must meet (a landing-test-only arrival: the landing
    test's). The end date is the latest end among the obligations of the strictest code — the
    later-ending measure governs, and nothing lifts before it. Overdue: any obligation overdue."""
    assigned = _first_per(ob.t, np.ones(len(ob), dtype=bool), n)
    current = _first_per(ob.t, ~ob.closed, n)
    dues = np.where(ob.due == _NA, _BIG, ob.due)
    open_comm = _first_per(ob.t, ~ob.closed & ob.community & (ob.due != _NA), n, (dues,))
    open_any = _first_per(ob.t, ~ob.closed & (ob.due != _NA), n, (dues,))
    next_due = np.where(open_comm >= 0, open_comm, np.where(open_any >= 0, open_any, np.where(current >= 0, current, assigned)))
    # "green" appended: a traveller without an obligation (-1) reads it, even when no one has any
    codes = np.append(np.asarray(ob.code, dtype=object), "green")
    code = codes[np.where(current >= 0, current, len(codes) - 1)].astype(object)
    has = assigned >= 0
    a_code = codes[np.where(has, assigned, len(codes) - 1)].astype(object)
    # end: latest end among obligations of the assigned code (NaT if one of them has no length)
    same = ob.code == a_code[ob.t]
    ends = pd.DataFrame({"t": ob.t[same], "end": ob.end[same], "start": ob.start[same], "nolen": ob.end[same] == _NA})
    m_end = np.full(n, _NA, dtype=np.int64)
    m_start = np.full(n, _NA, dtype=np.int64)
    if len(ends):
        g = ends.groupby("t")
        agg = pd.DataFrame({"end": g["end"].max(), "start": g["start"].min(), "nolen": g["nolen"].max()})
        agg = agg[~agg["nolen"]]
        m_end[agg.index.to_numpy()] = agg["end"].to_numpy()
        m_start[agg.index.to_numpy()] = agg["start"].to_numpy()
    overdue = np.zeros(n, dtype=bool)
    overdue[ob.t[ob.overdue]] = True
    return Summary(
        assigned=assigned, current=current, next_due=next_due, code=code, assigned_code=a_code,
        measure_start=m_start, measure_end=m_end, lifted=has & (current < 0), overdue=overdue,
    )
