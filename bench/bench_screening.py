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
    "pending_issues", "out_of_province", "matched_rules", "test_due",
)

_I_PLACE, _I_DATE, _I_PROVINCE, _I_ARRIVAL, _I_INBOUND, _I_FLAG = 1, 2, 4, 8, 16, 32




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

    entries = []
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
        keys = set()
        area = "".join(_text(e.get("area_name")).split())
        if area:
            keys.add(area)
            for name in (u.county, u.city + u.county, u.label):
                if name and area.startswith(name) and len(area) > len(name):
                    keys.add(area[len(name):])
        entries.append(
            {"level": str(e["level"]), "county": u.county_adcode, "city": u.city_adcode, "province": u.province_adcode,
             "since": since, "lifted": _date(e.get("lifted")), "keys": keys}
        )

    by_traveller: dict[str, list[dict]] = {}
    for rec in visits.to_dict("records"):
        by_traveller.setdefault(str(rec["traveller_id"]), []).append(rec)

    horizon = None
    place_rules = [r for r in rs.rules if r.match in (*PLACE_MATCHES, "inbound")]
    if place_rules and all(r.total_days is not None and r.auto_lift for r in place_rules):
        horizon = max(r.total_days or 0 for r in place_rules)

    out = []
    for rec in travellers.to_dict("records"):
        arrival = _date(rec.get("arrival_date"))
        if arrival is not None and arrival > day:
            continue
        issues = 0
        hits: list[tuple[int, int, int]] = []
        inbound = bool(rec.get("inbound")) if rec.get("inbound") is not pd.NA else False
        out_prov = inbound
        if arrival is None:
            issues |= _I_ARRIVAL
        else:
            for vo, v in enumerate(by_traveller.get(str(rec["id"]), [])):
                f, to = _date(v.get("from_date")), _date(v.get("to_date"))
                date_ok = f is not None and to is not None and f <= to
                in_win = False
                cf = ct = None
                if date_ok:
                    cf, ct = max(f, arrival - H), min(to, arrival)
                    in_win = cf <= ct
                r = idx.resolve_pairs([_text(v.get("place"))], [_text(v.get("adcode"))])[0]
                ok = r.status == OK
                u = r.unit
                area_level = False
                if ok and r.rest:
                    if any((u.county_adcode, r.rest) == (e["county"], k) for e in entries for k in e["keys"]):
                        area_level = True
                    elif not r.coded:
                        ok = False
                if not ok and (in_win or not date_ok):
                    issues |= _I_PLACE
                if not date_ok:
                    issues |= _I_DATE
                if not (ok and in_win):
                    continue
                if u.province_adcode != rs.home_province_adcode:
                    out_prov = True
                stay_hits: list[tuple[int, int, int]] = []
                city_hits: list[tuple[int, int, int]] = []
                for eo, e in enumerate(entries):
                    if not (e["since"] <= ct and (e["lifted"] is None or e["lifted"] > cf)):
                        continue
                    if u.level == "province" and not area_level and e["province"] == u.province_adcode:
                        issues |= _I_PROVINCE
                    for rank, rule in enumerate(rs.rules):
                        if e["level"] not in rule.levels:
                            continue
                        if rule.match == "area":
                            if area_level and e["county"] == u.county_adcode and r.rest in e["keys"]:
                                stay_hits.append((rank, vo, eo))
                        elif rule.match == "county":
                            if u.county_adcode and e["county"] == u.county_adcode:
                                stay_hits.append((rank, vo, eo))
                        elif rule.match == "city" and u.city_adcode and e["city"] == u.city_adcode:
                            city_hits.append((rank, vo, eo))
                # a stay in a county with an entry is not in one of the city's *other* counties
                hits += stay_hits if stay_hits else city_hits
            days_q = rec.get("entry_quarantine_days")
            days_q = None if days_q is None or days_q is pd.NA or (isinstance(days_q, float) and days_q != days_q) else int(days_q)
            inbound_hit = False
            for rank, rule in enumerate(rs.rules):
                if rule.match == "inbound" and inbound and days_q is not None:
                    lo = rule.min_entry_days or 0
                    hi = rule.max_entry_days if rule.max_entry_days is not None else 10**9
                    if lo <= days_q <= hi:
                        hits.append((rank, -1, -1))
                        inbound_hit = True
                elif rule.match in ("companion", "bigdata_push"):
                    flag = rec.get("companion" if rule.match == "companion" else "bigdata_push")
                    if flag is True or (flag is not pd.NA and flag is not None and bool(flag)):
                        if _date(rec.get("companion_date" if rule.match == "companion" else "push_date")) is None:
                            issues |= _I_FLAG
                        else:
                            hits.append((rank, -1, -1))
            if inbound and not inbound_hit and any(r.match == "inbound" for r in rs.rules):
                issues |= _I_INBOUND
        hits.sort()
        rule = rs.rules[hits[0][0]] if hits else None
        pending = arrival is None or (issues != 0 and not (rule is not None and rule.code == "red"))
        if pending:
            kind, step, code, mid, total, auto, landing_ok = PENDING, rs.pending, "pending", PENDING, None, False, True
        elif rule is not None:
            kind, step, code, mid, total, auto, landing_ok = "rule", rule.first_action, rule.code, rule.id, rule.total_days, rule.auto_lift, rule.landing_test
        elif out_prov and rs.landing_test is not None:
            kind, step, code, mid, total, auto, landing_ok = LANDING, rs.landing_test, "green", LANDING, None, False, True
        else:
            kind, step, code, mid, total, auto, landing_ok = NONE, None, "green", NONE, None, False, False
        flag_day = None
        if kind == "rule" and rule is not None and rule.match in ("companion", "bigdata_push"):
            flag_day = _date(rec.get("companion_date" if rule.match == "companion" else "push_date"))
        start = flag_day if flag_day is not None else arrival
        end = start + dt.timedelta(days=total - 1) if total and start is not None else None
        stale = horizon is not None and arrival is not None and arrival + dt.timedelta(days=horizon - 1) < day
        lifted = bool(auto and end is not None and end < day and (issues == 0 or stale))
        lapsed = kind in (LANDING, NONE, PENDING) and not lifted and stale
        closed = lifted or lapsed
        due = _due(step, flag_day if (step is not None and step.anchor == "flag") else arrival)
        tests: list[pd.Timestamp] = []
        if out_prov and rs.landing_test is not None and landing_ok:
            tests.append(_due(rs.landing_test, arrival))
        if kind == "rule" and rule is not None:
            for st in rule.tests:
                d = _due(st, flag_day if st.anchor == "flag" else arrival)
                tests += [d] * st.count
        matched = sorted({h[0] for h in hits})
        out.append(
            {
                "id": str(rec["id"]),
                "code": "green" if closed else code,
                "assigned_code": code,
                "rule_id": mid,
                "measure_id": LIFTED if closed and kind != NONE else mid,
                "first_action_due": due,
                "measure_end": pd.Timestamp(end) if end is not None else pd.NaT,
                "lifted": closed,
                "overdue": bool(due is not pd.NaT and due < ts and not closed),
                "pending_issues": issues,
                "out_of_province": out_prov,
                "matched_rules": ";".join(rs.rules[k].id for k in matched),
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
    return [
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


if __name__ == "__main__":  # pragma: no cover - manual run
    for row in run():
        print(row)
