"""不漏一人 — follow-up: what grid workers record about each obligation, and what follows from it.

Pure: no Streamlit, no storage. Outcomes are kept as versioned records (``layers/store/records.py``,
kind ``followup``, one record per obligation, key :func:`record_key`); this module says what an
outcome does (:func:`next_state`), and applies the recorded states to a screening
(:func:`apply_followup`) — the one place where "reached", "closed" and "overdue" meet.

The loop the seeds describe: reach every person on the list in time — seed 001 "确保时空伴随者24
小时内、重点区域驻留人员48小时内完成排查任务" — then test, quarantine or transfer them and follow
them until their measure ends (seed 002: 网格员 arrange home quarantine, transfers and daily
care). So:

* An obligation's **first action** (排查: reaching the person) is done by the first outcome that
  reaches them: reached by phone or in person, a test taken, home quarantine started, a transfer
  to a quarantine hotel, a big-data push verified. "Not reachable" is an attempt: the item stays
  open and is retried.
* **Overdue** (the one definition): the community follows the obligation up, its deadline has
  passed, it is still open, and its first action is not done. Recording "reached" before (or
  after) the deadline stops it being overdue; whether it was done in time is kept (``in_time``).
* An obligation **closes** when its completing outcome is recorded — the measure completed, or
  a big-data push excluded (the person was not there) — or when the screening rules end it. The
  code lifts when every obligation of the person has closed; until then it is the strictest open
  one's (as in the screening rules).
* **Moved out** hands the person over to the neighbourhood that now holds them: all their
  obligations move to that neighbourhood's list, deadlines unchanged.
* Outcomes are in time order: each is stamped with the moment it was recorded (the page's clock),
  and a state recorded after the moment a list is computed for is not applied to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo._classify import SEVERITY
from geo.hours import local_naive

__all__ = [
    "KIND",
    "OUTCOMES",
    "Outcome",
    "FollowupError",
    "TEST_RESULTS",
    "record_key",
    "next_state",
    "states_frame",
    "verified_visits",
    "apply_followup",
    "task_list",
    "time_left",
    "followup_figures",
    "responsible",
    "hotel_rooms_free",
    "moved_in_per_hotel",
    "workload",
    "anonymous_screening",
    "pseudonymise_states",
    "FOLLOWUP_STATES",
    "neighbourhood_followup_states",
    "CHECKIN_KIND",
    "FEVER_C",
    "SYMPTOMS",
    "CheckinError",
    "checkin_key",
    "checkin_state",
    "checkins_frame",
    "home_days",
    "checkin_items",
    "checkin_figures",
]

KIND = "followup"  # the record kind (layers/store/records.py)


@dataclass(frozen=True)
class Outcome:
    id: str
    zh: str
    en: str
    effect: str  # done | attempt | result | handover | close
    required: tuple[str, ...] = ()  # fields that must be given
    push_only: bool = False  # only for obligations that wait for a person's verification


OUTCOMES: dict[str, Outcome] = {
    o.id: o
    for o in (
        Outcome("reached_phone", "已电话联系", "reached by phone", "done"),
        Outcome("reached_visit", "已上门联系", "reached in person", "done"),
        Outcome("unreachable", "联系不上", "not reachable", "attempt", ("reason",)),
        Outcome("test_taken", "已采样", "test taken", "done", ("test_date",)),
        Outcome("test_result", "检测结果", "test result", "result", ("result",)),
        Outcome("home_quarantine", "已落实居家隔离", "home quarantine started", "done"),
        Outcome("transferred", "已转运集中隔离", "transferred to a quarantine hotel", "done", ("hotel_id",)),
        Outcome("moved_out", "已迁出本辖区", "moved out of my area", "handover", ("to_neighbourhood",)),
        Outcome("push_verified", "核实：查到相关旅居（重新分类）", "push verified: stay found (reclassified)", "close",
                ("place", "from_date", "to_date"), push_only=True),
        Outcome("push_excluded", "核实：排除风险", "push checked: risk excluded", "close", push_only=True),
        Outcome("completed", "措施已完成", "measure completed", "close"),
    )
}
TEST_RESULTS = {"negative": ("阴性", "negative"), "positive": ("阳性", "positive"), "pending": ("待出结果", "pending")}


class FollowupError(ValueError):
    """An outcome that cannot be recorded; the message is bilingual (中文 / English)."""


def record_key(traveller_id: object, kind: object) -> str:
    """The record key of an obligation: ``"<traveller id>|<obligation kind>"``."""
    return f"{traveller_id}|{kind}"


def _iso(at: dt.datetime) -> str:
    return pd.Timestamp(at).strftime("%Y-%m-%dT%H:%M:%S")


def next_state(
    prev: Mapping[str, Any] | None, outcome: str, fields: Mapping[str, Any] | None = None, *, at: dt.datetime,
    until_verified: bool = False,
) -> dict[str, Any]:
    """The follow-up state of an obligation after recording ``outcome`` at ``at`` (local time).

    ``prev`` is the state before (None: nothing recorded yet). ``fields`` holds the outcome's
    details (``reason``, ``method``, ``test_date``, ``result``, ``hotel_id``, ``to_neighbourhood``,
    ``note``). ``until_verified``: the obligation waits for a person's verification (a big-data
    push), the only kind a push outcome applies to.

    Raises :class:`FollowupError` for an unknown outcome, a missing field, an outcome on a closed
    obligation, a push outcome on another obligation, or a test result with no test taken.
    """
    o = OUTCOMES.get(outcome)
    if o is None:
        msg = f"未知的结果 {outcome!r} / unknown outcome {outcome!r}"
        raise FollowupError(msg)
    fields = {k: v for k, v in (fields or {}).items() if v not in (None, "")}
    state = dict(prev or {})
    if state.get("closed_at"):
        msg = "该事项已结束，不能再记录 / this item is closed: nothing more can be recorded"
        raise FollowupError(msg)
    missing = [f for f in o.required if not str(fields.get(f, "")).strip()]
    if missing:
        msg = f"请填写：{', '.join(missing)} / required: {', '.join(missing)}"
        raise FollowupError(msg)
    if o.push_only and not until_verified:
        msg = "只有大数据推送等待核实的事项才能记录核实结果 / only a push waiting for verification takes this outcome"
        raise FollowupError(msg)
    if outcome == "push_verified":
        try:
            lo, hi = (pd.Timestamp(str(fields[f])).normalize() for f in ("from_date", "to_date"))
        except (ValueError, TypeError):
            msg = "核实的旅居日期无法识别 / the dates of the verified stay are not understood"
            raise FollowupError(msg) from None
        if hi < lo:
            msg = "核实的旅居结束日期早于开始日期 / the verified stay ends before it began"
            raise FollowupError(msg)
        if hi > pd.Timestamp(at).normalize():
            msg = "核实的旅居不能晚于记录时间 / the verified stay cannot end after the moment it is recorded"
            raise FollowupError(msg)
        state.update(stay_place=str(fields["place"]).strip(), stay_from=f"{lo:%Y-%m-%d}", stay_to=f"{hi:%Y-%m-%d}")
    if o.effect == "result":
        if not state.get("test_date"):
            msg = "尚未记录采样，不能记录结果 / no test recorded yet: record the test first"
            raise FollowupError(msg)
        if fields["result"] not in TEST_RESULTS:
            msg = f"检测结果应为 {'/'.join(TEST_RESULTS)} / result must be one of {', '.join(TEST_RESULTS)}"
            raise FollowupError(msg)
    when = _iso(at)
    state.update(outcome=outcome, at=when)
    for f in ("reason", "method", "test_date", "result", "hotel_id", "note"):
        if f in fields:
            state["test_result" if f == "result" else f] = str(fields[f])
    if o.effect == "done" and not state.get("done_at"):
        state["done_at"] = when
    elif o.effect == "attempt":
        state["attempts"] = int(state.get("attempts", 0)) + 1
    elif o.effect == "handover":
        state["handover_to"] = str(fields["to_neighbourhood"])
    elif o.effect == "close":
        state["closed_at"] = when
        state["closed_by"] = outcome
        state.setdefault("done_at", when)  # closing it is also reaching it
    return state


STATE_COLUMNS = (
    "key", "traveller_id", "kind", "version", "outcome", "at", "done_at", "closed_at", "closed_by", "attempts",
    "handover_to", "test_date", "test_result", "hotel_id", "reason", "note", "saved_by",
)


def states_frame(records: Iterable[Any]) -> pd.DataFrame:
    """Recorded states (``layers.store.records.Record`` of kind ``followup``) as a frame, one row per
    obligation (:data:`STATE_COLUMNS`; times as naive local timestamps)."""
    rows = []
    for r in records:
        d = dict(r.data)
        tid, _, kind = str(r.key).partition("|")
        rows.append({
            "key": r.key, "traveller_id": tid, "kind": kind, "version": int(r.version), "saved_by": r.saved_by,
            **{c: d.get(c) for c in STATE_COLUMNS if c not in ("key", "traveller_id", "kind", "version", "saved_by")},
        })
    out = pd.DataFrame(rows, columns=list(STATE_COLUMNS))
    for c in ("at", "done_at", "closed_at"):
        out[c] = pd.to_datetime(out[c], errors="coerce")
    out["attempts"] = pd.to_numeric(out["attempts"], errors="coerce").fillna(0).astype("int64")
    out["version"] = out["version"].astype("int64")
    return out


def verified_visits(records: Iterable[Any]) -> pd.DataFrame:
    """The stays that verified big-data pushes found (records of kind ``followup`` whose state
    holds one), as rows of the visits layer: ``traveller_id``, ``place``, ``adcode`` (empty: the
    place is matched by name), ``from_date``, ``to_date``. They join the person's travel history
    for the screening, which then classifies them again."""
    rows = [
        (str(r.key).partition("|")[0], r.data["stay_place"], None, r.data.get("stay_from"), r.data.get("stay_to"))
        for r in records if r.data.get("stay_place")
    ]
    out = pd.DataFrame(rows, columns=["traveller_id", "place", "adcode", "from_date", "to_date"])
    for c in ("from_date", "to_date"):
        out[c] = pd.to_datetime(out[c])
    return out


# ----------------------------------------------------------------------------------------------
# Applying recorded states to a screening


def apply_followup(result, states: pd.DataFrame, *, now: object, neighbourhoods: pd.DataFrame | None = None):
    """The screening ``result`` (:class:`geo.screening.Screening`) with the recorded follow-up
    ``states`` (:func:`states_frame`) applied at the moment ``now``: a new Screening.

    Obligations gain ``done_at``, ``closed_by``, ``in_time``, ``outcome``, ``attempts``,
    ``version`` (the record version to base the next save on; 0 = nothing recorded) and
    ``followup`` (``todo`` / ``done`` / ``closed``); their ``status`` and ``overdue`` follow the
    module's rules. Travellers get ``overdue``, ``open_obligations``, ``code``, ``measure``,
    ``lifted``, the next action and its deadline again; a hand-over moves them (and their
    district) to the new neighbourhood. Neighbourhood counts are recounted. With no states this
    is the screening's own definition evaluated at ``now``.
    """
    from geo.screening import LIFTED, count_per_neighbourhood, screening_levels

    now = local_naive(now)
    st = states[(states["at"].isna()) | (states["at"] <= now)] if len(states) else states
    ob = result.obligations.copy()
    key = ob["traveller_id"].astype(str) + "|" + ob["kind"].astype(str)
    idx = st.set_index("key") if len(st) else None

    def col(name: str) -> pd.Series:
        if idx is None:
            return pd.Series([None] * len(ob), index=ob.index, dtype=object)
        return key.map(idx[name])

    done_at = pd.to_datetime(col("done_at"))
    closed_at = pd.to_datetime(col("closed_at"))
    done = done_at.notna() & (done_at <= now)
    closed = (ob["status"] == "closed").to_numpy() | (closed_at.notna() & (closed_at <= now)).to_numpy()
    due = pd.to_datetime(ob["due"])
    overdue = ob["community"].to_numpy(dtype=bool) & ~closed & due.notna().to_numpy() & (due < now).to_numpy() & ~done.to_numpy()
    ob["status"] = np.where(closed, "closed", "open")
    ob["overdue"] = overdue
    ob["done_at"] = done_at.where(done)
    ob["in_time"] = done & (due.isna() | (done_at <= due))
    ob["closed_by"] = col("closed_by")
    ob["outcome"] = col("outcome")
    ob["attempts"] = pd.to_numeric(col("attempts"), errors="coerce").fillna(0).astype("int64")
    ob["version"] = pd.to_numeric(col("version"), errors="coerce").fillna(0).astype("int64")
    ob["test_result"] = col("test_result")
    ob["hotel_id"] = col("hotel_id")
    ob["closed_at"] = closed_at.where(closed_at <= now)
    ob["followup"] = np.where(closed, "closed", np.where(done.to_numpy(), "done", "todo"))

    t = result.travellers.copy()
    tid = t["id"].astype(str)
    g = pd.DataFrame({"t": ob["traveller_id"].astype(str), "open": ~closed, "overdue": overdue})
    agg = g.groupby("t").agg(open=("open", "sum"), overdue=("overdue", "any"))
    t["overdue"] = tid.map(agg["overdue"]).fillna(False).astype(bool).to_numpy()
    t["open_obligations"] = tid.map(agg["open"]).fillna(0).astype("int64").to_numpy()

    # travellers whose obligations the records changed: their code, measure and next action again
    touched = set(st["traveller_id"].astype(str)) if len(st) else set()
    if touched:
        sel_t = tid.isin(touched).to_numpy()
        o = ob[ob["traveller_id"].astype(str).isin(touched)]
        # the obligations are strictest first per traveller: the first open one decides the code
        first_open = o[o["status"] == "open"].drop_duplicates("traveller_id").set_index("traveller_id")
        has_open = tid[sel_t].isin(first_open.index.astype(str))
        for c, src, empty in (("code", "code", "green"), ("measure_zh", "measure_zh", "已结束"), ("measure_en", "measure_en", "ended")):
            vals = tid[sel_t].map(first_open[src]) if len(first_open) else pd.Series(empty, index=tid[sel_t].index)
            t.loc[sel_t, c] = vals.where(has_open, empty).to_numpy()
        t.loc[sel_t, "measure_id"] = np.where(
            has_open.to_numpy(), t.loc[sel_t, "measure_id"].to_numpy(dtype=object), LIFTED
        )
        t.loc[sel_t, "lifted"] = ~has_open.to_numpy()
        if "provisional" in t.columns:  # provisional while the deciding open obligation is (a push not yet checked)
            prov = {r.id for r in result.rule_set.rules if r.provisional}
            kinds = tid[sel_t].map(first_open["kind"]) if len(first_open) else pd.Series(None, index=tid[sel_t].index)
            t.loc[sel_t, "provisional"] = (kinds.isin(prov) & has_open).to_numpy()
        nxt = o[(o["status"] == "open") & o["community"].astype(bool) & ~o["done_at"].notna() & o["due"].notna()]
        nxt = nxt.sort_values("due", kind="stable").drop_duplicates("traveller_id").set_index("traveller_id")
        t.loc[sel_t, "first_action_due"] = tid[sel_t].map(nxt["due"]).to_numpy() if len(nxt) else pd.NaT
        for lang in ("zh", "en"):
            m = tid[sel_t].map(nxt[f"first_action_{lang}"]) if len(nxt) else pd.Series("", index=tid[sel_t].index)
            t.loc[sel_t, f"first_action_{lang}"] = m.fillna("").to_numpy()
        # hand-over: the person is followed up where they now live
        moved = st[st["handover_to"].notna()].sort_values("at").drop_duplicates("traveller_id", keep="last")
        if len(moved):
            to = tid.map(moved.set_index("traveller_id")["handover_to"])
            hit = to.notna().to_numpy()
            t.loc[hit, "neighbourhood_id"] = to[hit].to_numpy()
            nbf = neighbourhoods if neighbourhoods is not None else result.neighbourhoods
            info = pd.DataFrame(nbf.drop(columns="geometry", errors="ignore")).set_index("id")
            for c_t, c_n in (("neighbourhood", "name"), ("street", "street"), ("district", "district"),
                             ("district_adcode", "district_adcode")):
                if c_t in t.columns and c_n in info.columns:
                    t.loc[hit, c_t] = to[hit].map(info[c_n]).to_numpy()
    nb = result.neighbourhoods.copy()
    if len(nb):
        nb = screening_levels(count_per_neighbourhood(nb, t))
    return dataclasses.replace(result, travellers=t, obligations=ob.reset_index(drop=True), neighbourhoods=nb)


# ----------------------------------------------------------------------------------------------
# Aggregates without persons: a screening a cache shared across users may hold

#: What :func:`anonymous_screening` keeps: no name, phone, ID number, address, reason or travel text.
ANONYMOUS_TRAVELLER_COLUMNS = (
    "id", "neighbourhood_id", "neighbourhood", "street", "district", "district_adcode", "arrival_date", "code",
    "assigned_code", "rule_id", "measure_id", "measure_zh", "measure_en", "provisional", "first_action_zh",
    "first_action_en", "first_action_due", "lifted", "needs_verification", "overdue", "open_obligations",
)
ANONYMOUS_OBLIGATION_COLUMNS = (
    "traveller_id", "kind", "code", "measure_zh", "measure_en", "first_action_zh", "first_action_en", "due", "start",
    "end", "status", "community", "overdue",
)


def _pseudonyms(ids: pd.Series, key: bytes) -> pd.Series:
    import hashlib
    import hmac

    uniq = pd.unique(ids.astype(str))
    table = {u: hmac.new(key, u.encode(), hashlib.sha256).hexdigest()[:20] for u in uniq}
    return ids.astype(str).map(table)


def anonymous_screening(result, key: bytes):
    """``result`` without persons: only the columns of :data:`ANONYMOUS_TRAVELLER_COLUMNS` /
    :data:`ANONYMOUS_OBLIGATION_COLUMNS`, traveller ids replaced by keyed hashes (HMAC-SHA-256
    under ``key``, a secret the process holds in memory only). What the command centre's
    aggregates are computed from, so the screening by the rules can be kept in a cache shared
    across users and the recorded outcomes (:func:`pseudonymise_states`, same ``key``) applied to
    it: figures equal to those of the full screening, no person in the cache."""
    t = result.travellers[[c for c in ANONYMOUS_TRAVELLER_COLUMNS if c in result.travellers.columns]].copy()
    t["id"] = _pseudonyms(t["id"], key).to_numpy()
    ob = result.obligations[[c for c in ANONYMOUS_OBLIGATION_COLUMNS if c in result.obligations.columns]].copy()
    ob["traveller_id"] = _pseudonyms(ob["traveller_id"], key).to_numpy()
    return dataclasses.replace(result, travellers=t, obligations=ob)


def pseudonymise_states(states: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Recorded states (:func:`states_frame`) keyed like :func:`anonymous_screening` under the
    same ``key``, with their free text (reason, note) dropped."""
    out = states.copy()
    out["traveller_id"] = _pseudonyms(out["traveller_id"], key).to_numpy() if len(out) else out["traveller_id"]
    out["key"] = out["traveller_id"].astype(str) + "|" + out["kind"].astype(str)
    for c in ("reason", "note", "saved_by"):
        out[c] = None
    return out


# ----------------------------------------------------------------------------------------------
# The grid worker's list


URGENCY = ("overdue", "missed_checkin", "due", "no_deadline", "in_progress", "closed")


def task_list(result, *, now: object, checkins: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per obligation the community follows up, of the travellers in ``result`` (already
    scoped to the worker and with follow-up applied), most urgent first: overdue (the strictest
    code first — red, pending, yellow — then the longest overdue), open with a deadline (soonest first), open without one, first action done
    but the measure still running, then closed. Columns: the obligation's, plus the traveller's
    ``name``, ``phone``, ``address``, ``neighbourhood``, ``neighbourhood_id``, ``code`` (the
    person's current code as ``person_code``), ``urgency`` and ``hours_left`` (negative: overdue).

    ``checkins`` (:func:`checkin_items`): the daily check-ins of people at home join the list as
    items of kind ``checkin`` (``day``): a missed day (``missed_checkin``, right after the
    overdue obligations) and today's (``due``, by its deadline: the end of the day)."""
    now = local_naive(now)
    ob = result.obligations
    ob = ob[ob["community"].astype(bool)]
    if checkins is not None and len(checkins):
        ob = pd.concat([ob, _checkin_tasks(result, checkins)], ignore_index=True)
    t = result.travellers.set_index(result.travellers["id"].astype(str))
    ob = ob[ob["traveller_id"].astype(str).isin(t.index)].copy()
    tid = ob["traveller_id"].astype(str)
    for c in ("name", "phone", "address", "neighbourhood", "neighbourhood_id", "district", "arrival_date"):
        ob[c] = tid.map(t[c]).to_numpy() if c in t.columns else None
    ob["person_code"] = tid.map(t["code"]).to_numpy()
    due = pd.to_datetime(ob["due"])
    ob["hours_left"] = ((due - now).dt.total_seconds() / 3600.0).to_numpy()
    closed = (ob["status"] == "closed").to_numpy()
    done = ob["done_at"].notna().to_numpy() if "done_at" in ob.columns else np.zeros(len(ob), dtype=bool)
    missed = (ob["kind"] == CHECKIN_KIND).to_numpy() & (ob["status"] == "open").to_numpy() & (due <= now).to_numpy()
    urgency = np.select(
        [closed, ob["overdue"].to_numpy(dtype=bool), missed, done, due.notna().to_numpy()],
        ["closed", "overdue", "missed_checkin", "in_progress", "due"],
        default="no_deadline",
    )
    ob["urgency"] = urgency
    ob["_u"] = pd.Categorical(urgency, categories=list(URGENCY), ordered=True).codes
    # overdue: the strictest code first (red, pending, yellow), then the longest overdue
    ob["_s"] = np.where(np.isin(urgency, ("overdue", "missed_checkin")), -ob["code"].map(SEVERITY).fillna(0).to_numpy(), 0)
    ob["_d"] = due.fillna(pd.Timestamp.max)
    out = ob.sort_values(["_u", "_s", "_d", "traveller_id", "kind"], kind="stable").drop(columns=["_u", "_s", "_d"])
    return out.reset_index(drop=True)


def time_left(hours: float | None, lang: str = "zh") -> str:
    """``5.2`` → "还剩 5 小时" / "5 h left"; ``-3.4`` → "已逾期 3 小时" / "3 h overdue"; days past 48 h."""
    if hours is None or pd.isna(hours):
        return "无期限" if lang == "zh" else "no deadline"
    h = abs(float(hours))
    if h >= 48:
        n, zh_u, en_u = int(h // 24), "天", "d"
    elif h >= 1:
        n, zh_u, en_u = int(h), "小时", "h"
    else:
        n, zh_u, en_u = max(1, int(round(h * 60))), "分钟", "min"
    if hours < 0:
        return f"已逾期 {n} {zh_u}" if lang == "zh" else f"{n} {en_u} overdue"
    return f"还剩 {n} {zh_u}" if lang == "zh" else f"{n} {en_u} left"


def followup_figures(result, by: str | list[str] | None = None) -> pd.DataFrame:
    """Key follow-up figures from the obligations the community follows up (follow-up applied):
    ``open``, ``overdue`` (the one definition), ``done`` (first action done), ``in_time`` (done by
    the deadline) and ``in_time_pct`` (of those done, or of those whose deadline has passed) — for
    the whole list, or per ``by`` (a traveller column such as ``district`` or ``neighbourhood_id``,
    or a list of them)."""
    ob = result.obligations
    ob = ob[ob["community"].astype(bool)]
    t = result.travellers.set_index(result.travellers["id"].astype(str))
    ob = ob[ob["traveller_id"].astype(str).isin(t.index)]
    frame = pd.DataFrame({
        "open": (ob["status"] == "open").to_numpy(),
        "overdue": ob["overdue"].to_numpy(dtype=bool),
        "done": ob["done_at"].notna().to_numpy() if "done_at" in ob.columns else False,
        "in_time": ob["in_time"].to_numpy(dtype=bool) if "in_time" in ob.columns else False,
    })
    if by is None:
        agg = frame.sum().to_frame().T
    else:
        keys = [by] if isinstance(by, str) else list(by)
        for k in keys:
            frame[k] = ob["traveller_id"].astype(str).map(t[k]).fillna("—").to_numpy()
        agg = frame.groupby(keys).sum().reset_index()
    agg = agg.astype({c: "int64" for c in ("open", "overdue", "done", "in_time")})
    judged = agg["done"] + agg["overdue"]
    agg["in_time_pct"] = np.where(judged > 0, 100.0 * agg["in_time"] / judged.where(judged > 0, 1), np.nan)
    return agg


def responsible(neighbourhood_ids: pd.Series, district_adcodes: pd.Series, workers: Iterable[tuple[str, Iterable[str]]]) -> pd.Series:
    """The grid worker responsible for each item: the first worker (in the order given) whose
    areas name its neighbourhood, else the first whose areas name its district; None when no
    worker covers it (shown as unassigned, never dropped)."""
    out = pd.Series([None] * len(neighbourhood_ids), index=neighbourhood_ids.index, dtype=object)
    nb = neighbourhood_ids.astype("string")
    dc = district_adcodes.astype("string")
    workers = [(name, {str(a) for a in areas}) for name, areas in workers]
    for match in (nb, dc):
        for name, areas in workers:
            hit = out.isna() & match.isin(areas).fillna(False).to_numpy()
            out[hit] = name
    return out


def moved_in_per_hotel(states: pd.DataFrame) -> pd.Series:
    """People recorded as transferred to each hotel whose item is still open (not yet in the
    hotels layer's own occupied count): hotel id → count."""
    open_transfers = states[states["hotel_id"].notna() & states["closed_at"].isna()] if len(states) else states
    if not len(open_transfers):
        return pd.Series(dtype="int64")
    return open_transfers.drop_duplicates("traveller_id")["hotel_id"].astype(str).value_counts()


def hotel_rooms_free(hotels: pd.DataFrame, moved_in: pd.Series | Mapping[str, int]) -> pd.Series:
    """Free rooms per hotel (aligned with ``hotels``): total − occupied as the layer says − the
    people recorded as transferred there (:func:`moved_in_per_hotel`), never below 0. The one
    count of free rooms: the follow-up page's hotel picker and the command centre's figure."""
    total = pd.to_numeric(hotels["rooms_total"], errors="coerce").fillna(0).astype("int64")
    occupied = pd.to_numeric(hotels["rooms_occupied"], errors="coerce").fillna(0).astype("int64")
    ids = hotels["id"].astype(str) if "id" in hotels.columns else pd.Series("", index=hotels.index)
    moved = ids.map(pd.Series(moved_in, dtype="int64")).fillna(0).astype("int64")
    return (total - occupied - moved).clip(lower=0)


def workload(tasks: pd.DataFrame) -> pd.DataFrame:
    """Open and overdue items per responsible worker (``tasks`` with a ``worker`` column), most overdue first."""
    op = tasks[tasks["urgency"] != "closed"]
    out = pd.DataFrame({"open": op.groupby("worker").size(), "overdue": (op["urgency"] == "overdue").groupby(op["worker"]).sum()})
    return out.fillna(0).astype("int64").sort_values(["overdue", "open"], ascending=False)


#: A neighbourhood's follow-up state (its worst item's), worst first: id → (colour, zh, en).
#: "Within 24 h" counts from 00:00 of the item's anchor day (arrival, or the flag day).
FOLLOWUP_STATES: dict[str, tuple[str, str, str]] = {
    "overdue": ("#b2182b", "有逾期未联系人员", "someone overdue"),
    "open": ("#f4a582", "有待联系人员（未到期限）", "someone still to reach (in time)"),
    "late": ("#fdb863", "均已联系，有人超期后才联系", "all reached, some after the deadline"),
    "after_24h": ("#fee08b", "均已联系，部分超过 24 小时", "all reached, some after 24 h"),
    "within_24h": ("#1a9850", "均在 24 小时内联系", "all reached within 24 h"),
    "none": ("#f7f7f7", "无随访事项", "nothing to follow up"),
}


def neighbourhood_followup_states(result) -> pd.Series:
    """Each neighbourhood's follow-up state (:data:`FOLLOWUP_STATES`), from the items the community
    follows up of the people who live there now (``result``: follow-up applied): the worst of its
    items — overdue; open and not yet reached; reached after the deadline; reached more than
    24 h after the anchor day began; reached within 24 h. Items the rules closed before anyone
    reached them do not count. Index: neighbourhood id; every neighbourhood of the result."""
    nb_ids = result.neighbourhoods["id"].astype(str)
    ob = result.obligations
    if not len(ob) or "done_at" not in ob.columns:
        return pd.Series("none", index=nb_ids.to_numpy(), dtype=object)
    ob = ob[ob["community"].astype(bool)]
    done_at = pd.to_datetime(ob["done_at"])
    reached = done_at.notna()
    keep = reached | (ob["status"] == "open")
    ob, done_at, reached = ob[keep], done_at[keep], reached[keep]
    due = pd.to_datetime(ob["due"])
    delay_h = (done_at - pd.to_datetime(ob["start"]).dt.normalize()).dt.total_seconds() / 3600.0
    cls = np.select(
        [ob["overdue"].to_numpy(dtype=bool), ~reached.to_numpy(), (due.notna() & (done_at > due)).to_numpy(), (delay_h > 24).to_numpy()],
        [0, 1, 2, 3], default=4,
    )
    t = result.travellers
    nb_of = t.set_index(t["id"].astype(str))["neighbourhood_id"].astype(str)
    worst = pd.Series(cls, index=ob.index).groupby(ob["traveller_id"].astype(str).map(nb_of).to_numpy()).min()
    names = np.array(list(FOLLOWUP_STATES))
    return pd.Series(names[worst.reindex(nb_ids.to_numpy()).fillna(5).astype(int).to_numpy()], index=nb_ids.to_numpy(), dtype=object)


# ----------------------------------------------------------------------------------------------
# Daily check-in of people kept at home (seed 000: 健康监测; 体温监测和记录)

CHECKIN_KIND = "checkin"  # record kind; one record per person and day (:func:`checkin_key`)
#: A temperature from this value up is a fever (腋温 ≥ 37.3 ℃, the threshold China's COVID-19
#: guidance uses for 发热); riskmap's choice, the seeds give no figure.
FEVER_C = 37.3
#: Symptoms asked at the check-in (the common COVID-19 list), id → (zh, en).
SYMPTOMS: dict[str, tuple[str, str]] = {
    "fever": ("发热", "fever"),
    "cough": ("咳嗽", "cough"),
    "sore_throat": ("咽痛", "sore throat"),
    "fatigue": ("乏力", "fatigue"),
    "smell_taste": ("嗅（味）觉减退", "loss of smell or taste"),
    "diarrhoea": ("腹泻", "diarrhoea"),
}


class CheckinError(FollowupError):
    """A check-in that cannot be recorded; the message is bilingual (中文 / English)."""


def checkin_key(traveller_id: object, day: object) -> str:
    """The record key of one person's check-in for one day: ``"<traveller id>|<YYYY-MM-DD>"``."""
    return f"{traveller_id}|{pd.Timestamp(day):%Y-%m-%d}"


def checkin_state(fields: Mapping[str, Any], *, day: object, at: dt.datetime) -> dict[str, Any]:
    """The record of a check-in for ``day`` made at ``at``: ``temperature`` (℃) and ``symptoms``
    (ids of :data:`SYMPTOMS`), or ``missed`` with a ``reason`` (the person could not be checked
    that day, said why: the item closes as missed). ``abnormal``: a fever or any symptom; ``late``:
    recorded after the day ended. Raises :class:`CheckinError`."""
    d = pd.Timestamp(day).normalize()
    when = pd.Timestamp(at)
    if d > when.normalize():
        msg = f"不能为未来日期 {d:%Y-%m-%d} 打卡 / cannot check in for a future day ({d:%Y-%m-%d})"
        raise CheckinError(msg)
    state: dict[str, Any] = {"day": f"{d:%Y-%m-%d}", "at": _iso(at), "late": bool(when >= d + pd.Timedelta(days=1))}
    if fields.get("missed"):
        reason = str(fields.get("reason") or "").strip()
        if not reason:
            msg = "请填写未能打卡的原因 / required: why the check-in was missed"
            raise CheckinError(msg)
        return {**state, "missed": True, "reason": reason, "abnormal": False}
    raw = fields.get("temperature")
    try:
        temp = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"体温无法识别：{raw!r} / temperature not understood: {raw!r}"
        raise CheckinError(msg) from None
    if not 34.0 <= temp <= 43.0:
        msg = f"体温 {temp} ℃ 不在 34–43 ℃ 之间，请核对 / temperature {temp} °C is outside 34–43 °C: check it"
        raise CheckinError(msg)
    symptoms = [str(x) for x in (fields.get("symptoms") or [])]
    unknown = [x for x in symptoms if x not in SYMPTOMS]
    if unknown:
        msg = f"未知的症状：{', '.join(unknown)} / unknown symptoms: {', '.join(unknown)}"
        raise CheckinError(msg)
    note = str(fields.get("note") or "").strip()
    return {
        **state, "temperature": round(temp, 1), "symptoms": symptoms, "missed": False,
        "abnormal": bool(temp >= FEVER_C or symptoms), **({"note": note} if note else {}),
    }


CHECKIN_COLUMNS = ("traveller_id", "day", "version", "temperature", "symptoms", "abnormal", "missed", "reason", "late", "at", "saved_by")


def checkins_frame(records: Iterable[Any]) -> pd.DataFrame:
    """Recorded check-ins (``layers.store.records.Record`` of kind ``checkin``) as a frame (:data:`CHECKIN_COLUMNS`)."""
    rows = []
    for r in records:
        d = dict(r.data)
        tid, _, day = str(r.key).partition("|")
        rows.append({
            "traveller_id": tid, "day": day, "version": int(r.version), "saved_by": r.saved_by,
            **{c: d.get(c) for c in CHECKIN_COLUMNS if c not in ("traveller_id", "day", "version", "saved_by")},
        })
    out = pd.DataFrame(rows, columns=list(CHECKIN_COLUMNS))
    out["day"] = pd.to_datetime(out["day"], errors="coerce")
    out["at"] = pd.to_datetime(out["at"], errors="coerce")
    for c in ("abnormal", "missed", "late"):
        out[c] = out[c].fillna(False).astype(bool)
    out["temperature"] = pd.to_numeric(out["temperature"], errors="coerce")
    out["version"] = out["version"].astype("int64")
    return out


def _home_spans(rule_set) -> pd.DataFrame:
    """Per rule id, the phases kept at home: ``kind``, ``off`` (days after the measure's start) and ``days``."""
    rows = []
    for r in rule_set.rules:
        off = 0
        for p in r.phases:
            if p.at == "home":
                rows.append((r.id, off, p.days))
            off += p.days
    return pd.DataFrame(rows, columns=["kind", "off", "days"])


def home_days(result, *, now: object) -> pd.DataFrame:
    """The days each person is kept at home and checked in on by the community, up to ``now``'s
    day: one row per ``traveller_id`` and ``day``.

    A day counts when it falls in a home phase (``Phase.at == "home"``) of an obligation the
    community follows up, from the day the person was reached (the obligation's first action done:
    before that the obligation itself is the open item) to the day before it closed, and not after
    the measure's last day. ``result``: a screening with follow-up applied."""
    now = local_naive(now)
    today = now.normalize()
    spans = _home_spans(result.rule_set)
    ob = result.obligations
    empty = pd.DataFrame({"traveller_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]")})
    if spans.empty or not len(ob) or "done_at" not in ob.columns:
        return empty
    ob = ob[ob["community"].astype(bool) & ob["done_at"].notna() & ob["start"].notna()]
    ob = ob[["traveller_id", "kind", "start", "end", "done_at", "closed_at", "status"]].merge(spans, on="kind")
    if ob.empty:
        return empty
    start = pd.to_datetime(ob["start"]).dt.normalize()
    lo = pd.Series(np.maximum((start + pd.to_timedelta(ob["off"], unit="D")).to_numpy(),
                              pd.to_datetime(ob["done_at"]).dt.normalize().to_numpy()), index=ob.index)
    hi = start + pd.to_timedelta(ob["off"] + ob["days"] - 1, unit="D")
    end = pd.to_datetime(ob["end"])
    hi = hi.where(end.isna() | (hi <= end), end)
    closed = pd.to_datetime(ob["closed_at"]).dt.normalize() - pd.Timedelta(days=1)
    hi = hi.where(closed.isna() | (hi <= closed), closed)
    hi = hi.where(hi <= today, today)
    n = ((hi - lo).dt.days + 1).clip(lower=0).fillna(0).astype("int64").to_numpy()
    rep = np.repeat(np.arange(len(ob)), n)
    offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    out = pd.DataFrame({
        "traveller_id": ob["traveller_id"].astype(str).to_numpy()[rep],
        "day": lo.to_numpy()[rep] + offsets.astype("timedelta64[D]"),
    })
    return out.drop_duplicates().sort_values(["traveller_id", "day"], kind="stable").reset_index(drop=True)


def checkin_items(result, checkins: pd.DataFrame, *, now: object) -> pd.DataFrame:
    """Every expected check-in (:func:`home_days`) with what was recorded for it: ``traveller_id``,
    ``day``, ``due`` (the end of the day), ``status`` — ``done`` (recorded), ``missed`` (the day
    ended and nothing was recorded: an open item), ``today`` (still due), ``explained`` (recorded
    as missed, with the reason) — and ``temperature``, ``symptoms``, ``abnormal``, ``late``,
    ``version`` (0: nothing recorded). A check-in recorded after ``now`` does not count."""
    now = local_naive(now)
    days = home_days(result, now=now)
    ck = checkins[checkins["at"].isna() | (checkins["at"] <= now)] if len(checkins) else checkins
    cols = ["traveller_id", "day", "version", "temperature", "symptoms", "abnormal", "missed", "reason", "late"]
    out = days.merge(ck[cols].assign(traveller_id=ck["traveller_id"].astype(str)), on=["traveller_id", "day"], how="left")
    rec = out["version"].notna()
    out["version"] = out["version"].fillna(0).astype("int64")
    out["due"] = out["day"] + pd.Timedelta(days=1)
    missed = out["missed"].fillna(False).astype(bool)
    out["status"] = np.select(
        [rec & missed, rec, out["due"] <= now], ["explained", "done", "missed"], default="today"
    )
    for c in ("abnormal", "late", "missed"):
        out[c] = out[c].fillna(False).astype(bool)
    return out


def _checkin_tasks(result, items: pd.DataFrame) -> pd.DataFrame:
    """Open check-ins (missed, or today's) as task rows (the obligation columns task_list uses)."""
    it = items[items["status"].isin(("missed", "today"))]
    t = result.travellers.set_index(result.travellers["id"].astype(str))
    it = it[it["traveller_id"].isin(t.index)]
    day = it["day"].dt.strftime("%m-%d")
    return pd.DataFrame({
        "traveller_id": it["traveller_id"].to_numpy(),
        "kind": CHECKIN_KIND,
        "day": it["day"].to_numpy(),
        "code": it["traveller_id"].map(t["code"]).to_numpy(),
        "measure_zh": it["traveller_id"].map(t["measure_zh"]).to_numpy(),
        "measure_en": it["traveller_id"].map(t["measure_en"]).to_numpy(),
        "first_action_zh": ("每日健康打卡（体温、症状）：" + day).to_numpy(),
        "first_action_en": ("daily check-in (temperature, symptoms): " + day).to_numpy(),
        "due": it["due"].to_numpy(),
        "status": "open",
        "community": True,
        "overdue": False,  # a missed check-in is its own item, not an overdue obligation
        "version": it["version"].to_numpy(),
        "attempts": 0,
    })


def checkin_figures(items: pd.DataFrame, *, now: object) -> dict[str, int]:
    """Today's check-in figures: ``expected`` (people to check in today), ``done`` (today's
    recorded), ``missed`` (open missed days, any day), ``abnormal`` (today's with a fever or a symptom)."""
    day = local_naive(now).normalize()
    today = items[items["day"] == day]
    return {
        "expected": int(len(today)),
        "done": int(today["status"].isin(("done", "explained")).sum()),
        "missed": int((items["status"] == "missed").sum()),
        "abnormal": int(today["abnormal"].sum()),
    }
