"""Follow-up outcomes kept as versioned records, and the screening they change.

The write path of an outcome (:func:`record_outcome`) — the page, a bulk import and any other
caller go through it: the rules of :func:`geo.followup.next_state`, the record's version (a
second worker saving the same item is refused with "recorded by X at T — reload"), the scope
(the neighbourhood now responsible, so the list of a grid worker reads only theirs). A hand-over
(moved out) moves every obligation of the person to the new neighbourhood in one transaction.

:func:`with_followup` gives a screening with every recorded outcome applied — what the
follow-up page, the screening page, the command centre's figures and the exports show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geo.followup import (
    CHECKIN_KIND,
    KIND,
    OUTCOMES,
    FollowupError,
    checkin_key,
    checkin_state,
    checkins_frame,
    moved_in_per_hotel,
    next_state,
    record_key,
    states_frame,
)
from geo.hours import local_naive, local_times
from geo.screening import AS_OF_RANGE
from layers.screening_io import screen_store, with_followup
from layers.store.records import Record, Records, records_for, stale_write

__all__ = [
    "RoomsFull", "rooms_check",
    "record_outcome", "record_outcomes_bulk", "load_states", "with_followup", "until_verified_kinds",
    "load_checkins", "record_checkin", "record_checkins_bulk", "OUTCOME_HEADERS", "import_outcomes",
]


class RoomsFull(FollowupError):
    """A transfer to a hotel with no room left for it (the message names the hotel and counts)."""


def rooms_check(rooms: Mapping[str, int] | None, hotels: Iterable[str]):
    """The rule a transfer's save runs inside its transaction (``Records.save_many(check=)``):
    no hotel of ``hotels`` holds more people recorded as transferred there and not yet closed
    (:func:`geo.followup.moved_in_per_hotel`) than ``rooms[hotel]`` — its free rooms as the
    hotels layer says (total − occupied). A hotel not in ``rooms`` (unknown, closed) takes no one.
    None when ``rooms`` is None (the caller does not guard rooms) or no hotel is involved."""
    wanted = sorted({str(h) for h in hotels if h is not None and str(h)})
    if rooms is None or not wanted:
        return None

    def check(current) -> None:
        moved = moved_in_per_hotel(states_frame(current(KIND)))
        for h in wanted:
            have, n = int(rooms.get(h, 0) or 0), int(moved.get(h, 0))
            if n > have:
                msg = (f"酒店 {h} 房间不足：空余 {have} 间，转入后为 {n} 人，未记录任何转运"
                       f" / hotel {h} has {have} free rooms, {n} people would be moved in; no transfer was recorded")
                raise RoomsFull(msg)

    return check


def until_verified_kinds(rule_set) -> set[str]:
    """The obligation kinds (rule ids) that wait for a person's verification (big-data pushes)."""
    return {r.id for r in rule_set.rules if r.until_verified}


def load_states(records: Records, *, scopes: Iterable[str] | None = None) -> pd.DataFrame:
    """The recorded follow-up states (all, or of records whose scope is in ``scopes``)."""
    return states_frame(records.current(KIND, scopes=scopes))


def load_checkins(records: Records, *, scopes: Iterable[str] | None = None) -> pd.DataFrame:
    """The recorded daily check-ins (all, or of records whose scope is in ``scopes``)."""
    return checkins_frame(records.current(CHECKIN_KIND, scopes=scopes))


def record_checkin(
    records: Records,
    traveller_id: object,
    day: object,
    fields: Mapping[str, Any],
    *,
    based_on: int,
    user: str,
    at: dt.datetime,
    scope: str,
) -> Record:
    """Record one person's daily check-in for ``day`` (:func:`geo.followup.checkin_state`: a
    temperature and symptoms, or missed with the reason). ``based_on``: the version the worker saw
    (0: none recorded yet); a check-in someone else recorded since is refused (``StaleWrite``).
    Raises :class:`geo.followup.CheckinError` for a check-in the rules refuse."""
    key = checkin_key(traveller_id, day)
    prev = records.get(CHECKIN_KIND, key)
    if prev is not None and prev.version > int(based_on):
        raise stale_write(prev)  # checked again in the saving transaction
    state = checkin_state(fields, day=day, at=at)
    action = "checkin_missed" if state["missed"] else "checkin"
    return records.save(CHECKIN_KIND, key, state, based_on=int(based_on), user=user, action=action, scope=scope, now=at)


def record_checkins_bulk(
    records: Records, rows: pd.DataFrame, *, scope_of: Mapping[str, str], user: str
) -> tuple[int, list[tuple[int, str, str]]]:
    """Record many check-ins at once (the demo, an import): all or none. ``rows``:
    ``traveller_id``, ``day``, ``at`` and the fields of :func:`geo.followup.checkin_state`.
    ``scope_of``: traveller id → neighbourhood. Returns ``(saved, rejected)`` like
    :func:`record_outcomes_bulk`; a row for a day already recorded is rejected (edit it on the page)."""
    existing = {r.key for r in records.current(CHECKIN_KIND)}
    items, rejected, seen = [], [], set()
    ats = local_times(rows["at"]).tolist() if "at" in rows.columns else [pd.NaT] * len(rows)
    for n, row in enumerate(rows.to_dict("records"), start=1):
        tid = str(row.get("traveller_id") or "").strip()
        if tid not in scope_of:
            rejected.append((n, f"编号 {tid!r} 不在随访名单中", f"id {tid!r} is not on the follow-up list"))
            continue
        at = ats[n - 1]
        if pd.isna(at):
            rejected.append((n, "时间无法识别", "time not understood"))
            continue
        try:
            state = checkin_state(row, day=row.get("day"), at=at.to_pydatetime())
        except (FollowupError, ValueError) as exc:
            zh_msg, _, en_msg = str(exc).partition(" / ")
            rejected.append((n, zh_msg, en_msg or zh_msg))
            continue
        key = checkin_key(tid, row["day"])
        if key in existing or key in seen:
            rejected.append((n, f"{key} 已有打卡记录", f"{key} is already recorded"))
            continue
        seen.add(key)
        items.append((CHECKIN_KIND, key, state, 0, scope_of[tid]))
    if rejected:
        return 0, rejected
    return len(records.save_many(items, user=user, action="import") if items else []), []


def record_outcome(
    records: Records,
    obligation: Mapping[str, Any],
    outcome: str,
    fields: Mapping[str, Any] | None = None,
    *,
    based_on: int,
    user: str,
    at: dt.datetime,
    scope: str,
    until_verified: bool = False,
    siblings: Iterable[Mapping[str, Any]] = (),
    rooms: Mapping[str, int] | None = None,
) -> list[Record]:
    """Record ``outcome`` for one obligation (a row of ``Screening.obligations`` with follow-up
    applied: ``traveller_id``, ``kind``) and return the records saved.

    ``based_on``: the record version the worker saw (0: nothing recorded). ``scope``: the
    neighbourhood responsible now. ``siblings``: the person's other obligations (each with its
    ``version``): a hand-over (``moved_out``) moves them too, all or none; their scope becomes
    ``fields["to_neighbourhood"]``.

    Raises :class:`geo.followup.FollowupError` (the outcome's rules), ``StaleWrite`` (someone
    recorded the item since ``based_on``), :class:`RoomsFull` (a transfer to a hotel of ``rooms``
    — hotel id → free rooms the hotels layer says — with no room left, checked in the saving
    transaction).
    """
    o = OUTCOMES.get(outcome)
    if o is None:
        msg = f"未知的结果 {outcome!r} / unknown outcome {outcome!r}"
        raise FollowupError(msg)
    items = [(obligation, based_on)]
    if o.effect == "handover":
        items += [(s, int(s.get("version") or 0)) for s in siblings if str(s.get("kind")) != str(obligation.get("kind"))]
    to_save = []
    for ob, base in items:
        key = record_key(ob["traveller_id"], ob["kind"])
        prev = records.get(KIND, key)
        if prev is not None and prev.version > int(base):
            raise stale_write(prev)  # checked again in the saving transaction
        kind_waits = until_verified if ob is obligation else bool(ob.get("until_verified", False))
        state = next_state(prev.data if prev else None, outcome, fields, at=at, until_verified=kind_waits)
        new_scope = str(fields["to_neighbourhood"]) if o.effect == "handover" and fields else scope
        to_save.append((KIND, key, state, int(base), new_scope))
    check = rooms_check(rooms, [(fields or {}).get("hotel_id")] if outcome == "transferred" else [])
    return records.save_many(to_save, user=user, action=outcome, now=at, check=check)


def record_outcomes_bulk(
    records: Records,
    rows: pd.DataFrame,
    obligations: pd.DataFrame,
    *,
    until_verified: set[str] | frozenset[str] = frozenset(),
    neighbourhood_of: Mapping[str, str] | None = None,
    user: str,
    numbers: list[int] | None = None,
    rooms: Mapping[str, int] | None = None,
    action: str = "import",
    as_seen: bool = False,
) -> tuple[int, list[tuple[int, str, str]]]:
    """Record many outcomes at once (an import from another system, the demo): all or none.

    ``rows``: ``traveller_id``, ``outcome``, ``at`` (local time), ``by`` (who recorded it there),
    optional ``kind`` (one obligation; empty: every open obligation of the person the community
    follows up) and the outcome's fields (``reason``, ``test_date``, ``result``, ``hotel_id``,
    ``to_neighbourhood``, ``note``, ``method``; a verified push's stay: ``place``, ``from_date``, ``to_date``). Rows are applied in time order.
    ``obligations``: ``Screening.obligations`` with follow-up applied (``version``).

    Returns ``(records saved, rejected)``; ``rejected`` lists ``(row number, reason_zh,
    reason_en)`` — ``numbers[i]`` for row ``i`` (a file's own row numbers), else from 1 — and
    nothing is saved when it is not empty. ``rooms`` (hotel id → free rooms): transfers are
    checked against them in the saving transaction (:func:`rooms_check`; raises :class:`RoomsFull`).
    ``as_seen``: each item is saved on the version ``obligations`` shows (what the user saw), so
    an item recorded since raises ``StaleWrite`` (a plan confirmed twice); default: on the newest.
    """
    comm = obligations[obligations["community"].astype(bool)]
    by_person: dict[str, list[dict]] = {}
    for ob in comm.to_dict("records"):
        by_person.setdefault(str(ob["traveller_id"]), []).append(ob)
    current = {r.key: r for r in records.current(KIND, scopes=None)}
    states: dict[str, tuple[dict | None, int, str]] = {}
    rejected: list[tuple[int, str, str]] = []
    field_names = ("reason", "test_date", "result", "hotel_id", "to_neighbourhood", "note", "method", "place", "from_date", "to_date")
    ats = local_times(rows["at"])  # Shanghai local time whatever zone the other system wrote
    latest = local_naive(pd.Timestamp.now(tz="Asia/Shanghai")) + pd.Timedelta(minutes=5)  # clocks drift a little
    order = ats.sort_values(kind="stable").index
    for pos in order:
        row = rows.loc[pos]
        i = int(rows.index.get_loc(pos))
        n = numbers[i] if numbers is not None else i + 1
        tid = str(row.get("traveller_id") or "").strip()
        at = ats.loc[pos]
        if tid not in by_person:
            rejected.append((n, f"编号 {tid!r} 不在随访名单中", f"id {tid!r} is not on the follow-up list"))
            continue
        if pd.isna(at):
            rejected.append((n, "时间无法识别", "time not understood"))
            continue
        if at > latest:
            rejected.append((n, "时间晚于现在", "the time is later than now"))
            continue
        if at < AS_OF_RANGE[0]:  # recorded as done decades before the deadline: a typo
            first = f"{AS_OF_RANGE[0]:%Y-%m-%d}"
            rejected.append((n, f"时间早于 {first}（多半是笔误）", f"the time is before {first} (most likely a typo)"))
            continue
        kind = str(row.get("kind") or "").strip()
        targets = [o for o in by_person[tid] if not kind or str(o["kind"]) == kind]
        if not targets:
            rejected.append((n, f"该人员没有事项 {kind!r}", f"this person has no item {kind!r}"))
            continue
        fields = {f: row.get(f) for f in field_names if f in rows.columns and pd.notna(row.get(f))}
        try:
            for ob in targets:
                key = record_key(tid, ob["kind"])
                prev_data, base, scope = states.get(key, (None, 0, ""))
                if key not in states:
                    rec = current.get(key)
                    prev_data, base = (dict(rec.data), rec.version) if rec else (None, 0)
                    if as_seen and base != int(ob.get("version") or 0):
                        assert rec is not None
                        raise stale_write(rec)
                    scope = rec.scope if rec else (neighbourhood_of or {}).get(tid, "")
                if not kind and (prev_data or {}).get("closed_at"):
                    continue  # a person-wide row leaves their closed items alone
                state = next_state(prev_data, str(row.get("outcome") or ""), fields, at=at.to_pydatetime(),
                                   until_verified=str(ob["kind"]) in until_verified)
                if pd.notna(row.get("by")) and str(row.get("by")).strip():
                    state["by"] = str(row["by"]).strip()  # who recorded it in the other system
                if OUTCOMES[str(row["outcome"])].effect == "handover":
                    scope = str(fields["to_neighbourhood"])
                states[key] = (state, base, scope)
        except FollowupError as exc:
            zh_msg, _, en_msg = str(exc).partition(" / ")
            rejected.append((n, zh_msg, en_msg or zh_msg))
    if rejected:
        return 0, rejected
    items = [(KIND, key, state, base, scope) for key, (state, base, scope) in states.items() if state is not None]
    hotels = rows["hotel_id"] if "hotel_id" in rows.columns and (rows["outcome"] == "transferred").any() else []
    check = rooms_check(rooms, [h for h, o in zip(hotels, rows["outcome"], strict=False) if o == "transferred" and pd.notna(h)])
    saved = records.save_many(items, user=user, action=action, check=check) if items else []
    return len(saved), []


#: Columns of an outcomes file: id → accepted headers besides the id (Chinese first, then
#: English), matched the way every import matches headers (``layers.io._headers``).
OUTCOME_HEADERS: dict[str, tuple[str, ...]] = {
    "traveller_id": ("编号", "人员编号", "id", "traveller id"),
    "outcome": ("结果", "随访结果"),
    "at": ("时间", "记录时间", "time"),
    "by": ("记录人", "recorded by"),
    "kind": ("事项", "义务"),
    "reason": ("原因",),
    "method": ("方式",),
    "test_date": ("采样日期", "test date"),
    "result": ("检测结果",),
    "hotel_id": ("隔离酒店编号", "酒店编号", "hotel id"),
    "to_neighbourhood": ("迁入社区编号", "现居社区编号", "to neighbourhood"),
    "note": ("备注",),
    "place": ("核实地点", "地点"),
    "from_date": ("开始日期", "from"),
    "to_date": ("结束日期", "to"),
}
_REQUIRED_HEADERS = ("traveller_id", "outcome", "at")


def import_outcomes(path: Path | str, store_location: str, *, as_of: object, user: str, limits=None) -> int:
    """Import follow-up outcomes from another system (CSV or XLSX; headers in :data:`OUTCOME_HEADERS`;
    an outcome as its id or its Chinese / English name) for the screening of ``as_of``: all or
    nothing. Returns the number of records saved; raises ``ImportRejected`` naming each rejected
    row (its row number in the file) and why, in Chinese and English."""
    from geo.errors import ImportRejected
    from layers.io import read_table
    from layers.io._issues import Issue

    name = Path(path).name
    raw, rows = read_table(path, columns=OUTCOME_HEADERS, required=_REQUIRED_HEADERS, what=("随访结果", "outcomes"),
                           limits=limits)
    rows = rows.reset_index(drop=True)
    by_name = {v.strip().lower(): k for k, o in OUTCOMES.items() for v in (k, o.zh, o.en)}
    rows["outcome"] = [by_name.get(str(v).strip().lower(), str(v).strip()) for v in rows["outcome"]]
    base = screen_store(store_location, as_of, followup=False)
    nb = dict(zip(base.travellers["id"].astype(str), base.travellers["neighbourhood_id"].fillna(""), strict=True))
    saved, rejected = record_outcomes_bulk(
        records_for(store_location), rows, base.obligations, until_verified=until_verified_kinds(base.rule_set),
        neighbourhood_of=nb, user=user, numbers=list(raw.rows),
    )
    if rejected:
        issues = [Issue(n, None, zh, en) for n, zh, en in sorted(rejected)]
        raise ImportRejected(
            f"{name}：{len(issues)} 行有误，未写入任何结果 / {name}: {len(issues)} rows rejected; nothing was recorded",
            rows=issues,
        )
    return saved
