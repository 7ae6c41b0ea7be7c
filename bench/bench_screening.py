"""Benchmark: classify 100,000 travellers with 300,000 visits against the national risk list.

``run()`` returns rows in the format of ``bench/__main__.py`` (name, unit, value, baseline,
baseline_name, ratio). The fast path is :func:`geo.screening.classify_travellers`; the baseline
is :func:`classify_reference`, a plain Python loop over travellers, their visits and the risk
entries applying the same rules. The baseline runs on a sample of travellers (all their visits)
and is scaled to the full input; before timing anything the two are checked to give identical
results on that sample (``AssertionError`` otherwise).

Inputs are generated deterministically from the demo scenario's vocabulary
(:func:`scaled_inputs`): travellers are resampled from ``build_demo(20220328)`` with new ids, each
keeps its source traveller's travel history, and extra stays drawn from the demo's place strings
(including its deliberately broken ones) bring the visits to 300,000.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bench._timing import best_of
from geo._gazetteer_match import OK, PlaceIndex
from geo.screening import (
    LANDING,
    LIFTED,
    NONE,
    PENDING,
    PLACE_MATCHES,
    RuleSet,
    Step,
    classify_travellers,
    rule_set_in_force,
)

__all__ = ["run", "scaled_inputs", "classify_reference", "COMPARED_COLUMNS"]

N_TRAVELLERS = 100_000
N_VISITS = 300_000
SAMPLE = 5_000
AS_OF = "2022-03-28"
SEED = 20220328

#: Columns that must be identical between the fast path and the reference.
COMPARED_COLUMNS = (
    "id", "code", "assigned_code", "rule_id", "measure_id", "first_action_due", "measure_end", "lifted", "overdue",
    "pending_issues", "out_of_province", "history_incomplete", "matched_rules", "test_due",
)

_I_PLACE, _I_DATE, _I_PROVINCE, _I_ARRIVAL, _I_INBOUND, _I_FLAG = 1, 2, 4, 8, 16, 32  # 64 county, 128 street needed




def scaled_inputs(
    n_travellers: int = N_TRAVELLERS, n_visits: int = N_VISITS, seed: int = SEED, *, demo: dict | None = None
) -> dict[str, pd.DataFrame]:
    """Travellers, visits, risk areas, gazetteer scaled up from the demo scenario (deterministic).

    ``demo`` is ``build_demo(seed)`` if given (built here otherwise).
    """
    from data.demo import build_demo
    from layers.boundaries import gazetteer

    demo = demo if demo is not None else build_demo(seed)
    rng = np.random.default_rng(seed + 1)
    base_t = pd.DataFrame(demo["travellers"]).drop(columns="geometry")
    base_v = demo["visits"]
    src = rng.choice(len(base_t), n_travellers)
    t = base_t.iloc[src].reset_index(drop=True)
    t["id"] = [f"B{i:06d}" for i in range(1, n_travellers + 1)]
    # the source's visits, carried to the new ids
    pos = pd.Index(base_t["id"]).get_indexer(base_v["traveller_id"])
    by_src = pd.Series(np.arange(len(base_v))).groupby(pos).agg(list)
    rows: list[int] = []
    owner: list[int] = []
    for i, s in enumerate(src):
        vs = by_src.get(s, [])
        rows += vs
        owner += [i] * len(vs)
    v = base_v.iloc[rows].reset_index(drop=True)
    v["traveller_id"] = t["id"].to_numpy()[owner]
    extra = max(n_visits - len(v), 0)
    if extra:
        who = rng.choice(n_travellers, extra)
        pick = rng.choice(len(base_v), extra)
        arrival = pd.to_datetime(t["arrival_date"]).to_numpy()[who]
        start = rng.integers(1, 15, extra)
        length = rng.integers(0, 4, extra)
        f = arrival - start.astype("timedelta64[D]")
        to = np.minimum(f + length.astype("timedelta64[D]"), arrival - np.timedelta64(1, "D"))
        add = pd.DataFrame(
            {
                "traveller_id": t["id"].to_numpy()[who],
                "place": base_v["place"].to_numpy()[pick],
                "adcode": base_v["adcode"].to_numpy()[pick],
                "from_date": pd.to_datetime(f),
                "to_date": pd.to_datetime(to),
            }
        )
        v = pd.concat([v, add], ignore_index=True)
    v = v.iloc[:n_visits].reset_index(drop=True)
    return {"travellers": t, "visits": v, "risk_areas": pd.DataFrame(demo["risk_areas"]).drop(columns="geometry"), "gazetteer": gazetteer()}


# ----------------------------------------------------------------------------------------------
# The reference: one traveller, one visit, one risk entry at a time.

_MUNI = {"110000", "120000", "310000", "500000"}
_SEV = {"green": 0, "yellow": 1, "pending": 2, "red": 3}


def _date(v: object) -> dt.date | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    return pd.Timestamp(v).date()


def _text(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    return str(v).strip()


def _due(step: Step | None, anchor: dt.date | None) -> pd.Timestamp:
    if step is None or step.hours is None or anchor is None:
        return pd.NaT
    return pd.Timestamp(anchor) + pd.Timedelta(hours=step.hours)


def _street(detail: str) -> str:
    for i in range(1, len(detail)):
        if detail[i:].startswith(("街道", "镇", "乡")):
            return detail[:i]
    return ""


def _entries(risk_areas: pd.DataFrame, idx: PlaceIndex, rs: RuleSet, day: dt.date) -> list[dict]:
    out = []
    for _, e in risk_areas.iterrows():
        since = _date(e.get("since"))
        if since is None or since > day:
            continue
        u = idx.resolve_code(e.get("adcode"))
        if u is None:
            p, c, k = _text(e.get("province")), _text(e.get("city")), _text(e.get("county"))
            r = idx.resolve(p + (c if c != p else "") + k)
            u = r.unit if r.status == OK and not r.rest else None
        if u is None or u.level == "province":
            continue
        area = "".join(_text(e.get("area_name")).split())
        for name in sorted((u.label, u.city + u.county, u.county, u.province + u.county), key=len, reverse=True):
            if name and area.startswith(name):
                area = area[len(name):]
                break
        out.append({"level": str(e["level"]), "county": u.county_adcode, "city": u.city_adcode, "province": u.province_adcode,
                    "since": since, "lifted": _date(e.get("lifted")), "area": area,
                    "whole": bool(u.county_adcode) and not area and rs.whole_county_entry == "area",
                    "street": _street(area) if u.province_adcode in _MUNI else ""})
    for n in rs.notices:
        u = idx.resolve_code(n.adcode) if n.adcode else idx.resolve(n.place).unit
        since = dt.date.fromisoformat(n.since)
        for e in out:
            inside = e["county"] == u.county_adcode if u.level == "county" else e["city"] == u.city_adcode
            if inside:
                e["since"] = min(e["since"], since)
        out.append({"level": "notice", "county": u.county_adcode if u.level == "county" else "", "city": u.city_adcode,
                    "province": u.province_adcode, "since": since, "lifted": None, "area": "", "whole": False, "street": ""})
    return out


def _relation(u, detail: str, e: dict, rs: RuleSet) -> str:  # noqa: ANN001 - a gazetteer unit
    """area / county / city / unknown for a stay resolved to ``u`` (with ``detail``) and an entry of its city."""
    if not e["county"]:
        return "city"
    if u.level == "city":
        return "unknown"
    if u.county_adcode != e["county"]:
        return "city"
    if e["whole"] or (detail and detail == e["area"]):
        return "area"
    if u.province_adcode in _MUNI and rs.municipality_unit == "street":
        street = _street(detail)
        if e["street"] and (street == e["street"] or detail == e["street"]):
            return "county"
        if e["street"] and street:
            return "city"
        return "unknown"
    return "county"


def classify_reference(
    travellers: pd.DataFrame,
    visits: pd.DataFrame,
    risk_areas: pd.DataFrame,
    gazetteer: pd.DataFrame,
    rules: RuleSet | list[RuleSet],
    *,
    as_of: object,
) -> pd.DataFrame:
    """The same rules as :func:`geo.screening.classify_travellers`, written as plain loops."""
    ts = pd.Timestamp(as_of)
    day = ts.normalize().date()
    rs = rules if isinstance(rules, RuleSet) else rule_set_in_force(rules, ts)
    idx = PlaceIndex.from_gazetteer(gazetteer)
    H = dt.timedelta(days=rs.history_days)
    entries = _entries(risk_areas, idx, rs, day)
    by_traveller: dict[str, list[dict]] = {}
    for rec in visits.to_dict("records"):
        by_traveller.setdefault(str(rec["traveller_id"]), []).append(rec)
    horizon = None
    place_rules = [r for r in rs.rules if r.match in (*PLACE_MATCHES, "inbound")]
    if place_rules and all(r.total_days is not None and r.auto_lift for r in place_rules):
        horizon = max(r.total_days or 0 for r in place_rules)
    matches = {"area": ("area", "county"), "county": ("county",), "city": ("city",)}
    health = {"red": "red", "红": "red", "红码": "red", "yellow": "yellow", "黄": "yellow", "黄码": "yellow"}

    out = []
    for rec in travellers.to_dict("records"):
        arrival = _date(rec.get("arrival_date"))
        if arrival is not None and arrival > day:
            continue
        issues = 0
        place_rules_hit: dict[int, int] = {}  # rank → first stay
        matched: set[int] = set()
        inbound = bool(rec.get("inbound")) if rec.get("inbound") is not pd.NA else False
        out_prov = inbound
        covered: set[dt.date] = set()
        if arrival is None:
            issues |= _I_ARRIVAL
        for vo, v in enumerate(by_traveller.get(str(rec["id"]), []) if arrival is not None else []):
            f, to = _date(v.get("from_date")), _date(v.get("to_date"))
            date_ok = f is not None and to is not None and f <= to
            in_win = False
            cf = ct = None
            if date_ok:
                cf, ct = max(f, arrival - H), min(to, arrival)
                in_win = cf <= ct
                d = max(f, arrival - H)
                while d <= min(to, arrival - dt.timedelta(days=1)):
                    covered.add(d)
                    d += dt.timedelta(days=1)
            r = idx.resolve_pairs([_text(v.get("place"))], [_text(v.get("adcode"))], partial=True)[0]
            ok = r.status == OK
            if not ok and (in_win or not date_ok):
                issues |= _I_PLACE
            if not date_ok:
                issues |= _I_DATE
            if ok and r.unit.province_adcode != rs.home_province_adcode and (f is None or f <= arrival):
                out_prov = True
            if not (ok and in_win):
                continue
            u = r.unit
            detail = "".join(r.rest.split())
            county_name = idx.units[u.county_adcode].county if u.county_adcode in idx.units else ""
            if county_name and detail.startswith(county_name) and len(detail) > len(county_name):
                detail = detail[len(county_name):]
            best, undecided = None, 0
            for e in entries:
                if not (e["since"] <= ct and (e["lifted"] is None or e["lifted"] > cf)):
                    continue
                if u.level == "province":
                    if e["province"] == u.province_adcode:
                        issues |= _I_PROVINCE
                    continue
                if e["city"] != u.city_adcode:
                    continue
                rel = _relation(u, detail, e, rs)
                if rel == "unknown":
                    if any(e["level"] in x.levels and x.match in ("area", "county") for x in rs.rules):
                        undecided |= 64 if u.level == "city" else 128
                        continue
                    rel = "city"
                for rank, rule in enumerate(rs.rules):
                    if rule.match in matches[rel] and e["level"] in rule.levels:
                        matched.add(rank)
                        best = rank if best is None else min(best, rank)
                        break
            issues |= undecided
            if best is not None and (not undecided or rs.rules[best].code == "red"):
                place_rules_hit.setdefault(best, vo)
        # person rules
        obligations: list[dict] = []
        days_q = rec.get("entry_quarantine_days")
        days_q = None if days_q is None or days_q is pd.NA or (isinstance(days_q, float) and days_q != days_q) else int(days_q)
        inbound_hit = False
        flags = {
            "companion": (bool(rec.get("companion")) if rec.get("companion") is not pd.NA else False, _date(rec.get("companion_date"))),
            "bigdata_push": (bool(rec.get("bigdata_push")) if rec.get("bigdata_push") is not pd.NA else False, _date(rec.get("push_date"))),
            "health_code": (_text(rec.get("health_code")) in health, _date(rec.get("health_code_date"))),
        }
        for rank, rule in enumerate(rs.rules):
            start = arrival
            if rank in place_rules_hit:
                pass
            elif rule.match == "inbound":
                lo, hi = rule.min_entry_days or 0, rule.max_entry_days if rule.max_entry_days is not None else 10**9
                if not (arrival is not None and inbound and days_q is not None and lo <= days_q <= hi):
                    continue
                inbound_hit = True
            elif rule.match in flags:
                flag, fday = flags[rule.match]
                if rule.match == "health_code":
                    flag = flag and health[_text(rec.get("health_code"))] in rule.colours
                if not flag or arrival is None:
                    continue
                if fday is None:
                    issues |= _I_FLAG
                    continue
                start = fday
            else:
                continue
            matched.add(rank)
            anchor = start if rule.first_action.anchor == "flag" else arrival
            end = start + dt.timedelta(days=rule.total_days - 1) if rule.total_days else None
            closed = bool(rule.auto_lift and not rule.until_verified and end is not None and end < day)
            obligations.append({"kind": rule.id, "code": rule.code, "prio": rule.priority, "due": _due(rule.first_action, anchor),
                                "start": start, "end": end, "closed": closed, "community": True, "rule": rule})
        if inbound and not inbound_hit and arrival is not None and any(r.match == "inbound" for r in rs.rules):
            issues |= _I_INBOUND
        stale = horizon is not None and arrival is not None and arrival + dt.timedelta(days=horizon - 1) < day
        if out_prov and rs.landing_test is not None and all(o["rule"].landing_test for o in obligations):
            due = _due(rs.landing_test, arrival)
            obligations.append({"kind": LANDING, "code": "green", "prio": 10**9 + 1, "due": due, "start": arrival, "end": None,
                                "closed": bool((due is not pd.NaT and due <= ts) or stale), "community": False, "rule": None})
        if issues:
            obligations.append({"kind": PENDING, "code": "pending", "prio": 10**9, "due": _due(rs.pending, arrival), "start": arrival,
                                "end": None, "closed": stale, "community": True, "rule": None})
        obligations.sort(key=lambda o: (-_SEV[o["code"]], o["prio"]))
        for o in obligations:
            o["overdue"] = o["community"] and not o["closed"] and o["due"] is not pd.NaT and o["due"] < ts
        open_ = [o for o in obligations if not o["closed"]]
        assigned = obligations[0] if obligations else None
        current = open_[0] if open_ else None
        dated = sorted((o for o in open_ if o["due"] is not pd.NaT and o["community"]), key=lambda o: o["due"])
        dated = dated or sorted((o for o in open_ if o["due"] is not pd.NaT), key=lambda o: o["due"])
        shown = dated[0] if dated else (current or assigned)
        same = [o for o in obligations if assigned is not None and o["code"] == assigned["code"]]
        end = max(o["end"] for o in same) if same and all(o["end"] is not None for o in same) else None
        tests: list[pd.Timestamp] = []
        for o in obligations:
            if o["kind"] == LANDING:
                tests.insert(0, o["due"])
            elif o["rule"] is not None:
                for st in o["rule"].tests:
                    tests += [_due(st, o["start"])] * st.count
        out.append(
            {
                "id": str(rec["id"]),
                "code": current["code"] if current else "green",
                "assigned_code": assigned["code"] if assigned else "green",
                "rule_id": assigned["kind"] if assigned else NONE,
                "measure_id": current["kind"] if current else (LIFTED if obligations else NONE),
                "first_action_due": shown["due"] if shown else pd.NaT,
                "measure_end": pd.Timestamp(end) if end is not None else pd.NaT,
                "lifted": bool(obligations) and not open_,
                "overdue": any(o["overdue"] for o in obligations),
                "pending_issues": issues,
                "out_of_province": out_prov,
                "history_incomplete": arrival is not None and len(covered) < rs.history_days,
                "matched_rules": ";".join(rs.rules[k].id for k in sorted(matched)),
                "test_due": tests,
            }
        )
    return pd.DataFrame(out)


def compare(fast: pd.DataFrame, ref: pd.DataFrame) -> list[str]:
    """Differences between the two results on :data:`COMPARED_COLUMNS` (empty when identical)."""
    problems: list[str] = []
    if len(fast) != len(ref):
        return [f"row counts differ: fast {len(fast)}, reference {len(ref)}"]
    for c in COMPARED_COLUMNS:
        a = fast[c].tolist()
        b = ref[c].tolist()
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same = (x is pd.NaT and y is pd.NaT) or x == y
            if isinstance(x, list):
                same = len(x) == len(y) and all((p is pd.NaT and q is pd.NaT) or p == q for p, q in zip(x, y, strict=True))
            if not same:
                problems.append(f"{c} differs for {fast['id'].iloc[i]}: fast {x!r}, reference {y!r}")
                break
    return problems


def run() -> list[dict]:
    """Time the fast path on 100,000 / 300,000 against the scaled loop baseline."""
    from layers.rules import load_rule_sets

    rule_sets = load_rule_sets()
    d = scaled_inputs()
    t, v, risk, gaz = d["travellers"], d["visits"], d["risk_areas"], d["gazetteer"]
    rs = rule_set_in_force(rule_sets, AS_OF)

    # identical results on the sample first
    sample_ids = t["id"].iloc[:SAMPLE]
    ts = t.iloc[:SAMPLE]
    vs = v[v["traveller_id"].isin(sample_ids)]
    fast = classify_travellers(ts, vs, risk, gaz, rs, as_of=AS_OF)
    ref = classify_reference(ts, vs, risk, gaz, rs, as_of=AS_OF)
    problems = compare(fast, ref)
    if problems:
        msg = "fast path and reference differ on the sample:\n" + "\n".join(problems[:20])
        raise AssertionError(msg)

    PlaceIndex.from_gazetteer(gaz)  # built once per process, as in the app
    ours = best_of(lambda: classify_travellers(t, v, risk, gaz, rs, as_of=AS_OF), 3)
    base = best_of(lambda: classify_reference(ts, vs, risk, gaz, rs, as_of=AS_OF), 1) * (len(t) / SAMPLE)
    rows = [
        {
            "name": f"classify_{len(t) // 1000}k_travellers_{len(v) // 1000}k_visits",
            "unit": "s",
            "value": round(ours, 4),
            "baseline": round(base, 4),
            "baseline_name": (
                f"plain-Python loop over travellers, visits and risk entries "
                f"({SAMPLE:,} travellers with {len(vs):,} visits measured, scaled to {len(t):,}; identical results checked)"
            ),
            "ratio": round(base / ours, 1),
        }
    ]
    rows += _large_run()
    return rows


LARGE_T, LARGE_V = 1_000_000, 3_000_000


def _large_child(n_t: int, n_v: int) -> dict:
    """In a fresh process: build the inputs, then classify once; time and resident memory."""
    import resource
    import time

    from layers.rules import load_rule_sets

    d = scaled_inputs(n_t, n_v)
    rs = rule_set_in_force(load_rule_sets(), AS_OF)
    PlaceIndex.from_gazetteer(d["gazetteer"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    classify_travellers(d["travellers"], d["visits"], d["risk_areas"], d["gazetteer"], rs, as_of=AS_OF)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": secs, "peak_mib": peak / 1024, "inputs_mib": before / 1024}


def _large_run() -> list[dict]:
    """1,000,000 travellers / 3,000,000 visits in a child process: time and peak memory (no baseline
    can run at this size; the 100,000-traveller row above carries the ratio)."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        r = pool.apply(_large_child, (LARGE_T, LARGE_V))
    name = f"classify_{LARGE_T // 1_000_000}M_travellers_{LARGE_V // 1_000_000}M_visits"
    per_100k = r["seconds"] / (LARGE_T / N_TRAVELLERS)
    return [
        {"name": name, "unit": "s", "value": round(r["seconds"], 3), "baseline": None,
         "baseline_name": f"(no baseline at this size; {per_100k:.3f} s per 100,000 travellers)", "ratio": None},
        {"name": f"{name}_peak_memory", "unit": "MiB", "value": round(r["peak_mib"], 0), "baseline": round(r["inputs_mib"], 0),
         "baseline_name": "resident memory with the inputs built, before classifying (same process)",
         "ratio": round(r["peak_mib"] / r["inputs_mib"], 2)},
    ]


if __name__ == "__main__":  # pragma: no cover - manual run
    for row in run():
        print(row)
