"""集中隔离转运 from a store: the transfer plan's inputs, its confirmation, its workbook.

The plan itself is pure (:mod:`geo.allocation`). Here: who is to be placed (the screening with
every recorded outcome applied, :func:`geo.allocation.people_to_place`, with the residence
points, households and needs from the travellers layer), the hotels with their free rooms (the
one count, :func:`geo.followup.hotel_rooms_free`), and the confirmation — one follow-up outcome
"transferred" per person through the outcome write path (:func:`layers.followup.record_outcomes_bulk`),
all or none, with the hotels' rooms checked inside the saving transaction: free rooms are hotel
rooms less the people recorded as moved in, so the room counts change in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.allocation import AllocationPlan, allocate, hotels_for_plan, people_to_place, plan_totals
from geo.followup import hotel_rooms_free, moved_in_per_hotel
from geo.nearest import point_lonlat
from layers.followup import record_outcomes_bulk, until_verified_kinds

__all__ = ["PlanInputs", "plan_inputs", "make_plan", "layer_rooms", "confirm_transfers", "plan_workbook", "PLAN_HEADERS"]


@dataclass(frozen=True)
class PlanInputs:
    people: pd.DataFrame  # people_to_place + lon, lat, household_id, needs
    hotels: pd.DataFrame  # hotels_for_plan
    rooms: dict[str, int]  # hotel id → free rooms the layer says (total − occupied): the write-path check


def layer_rooms(hotels: pd.DataFrame) -> dict[str, int]:
    """Hotel id → rooms free as the hotels layer says (total − occupied, before anyone recorded as
    moved in), for hotels in use or standby; closed hotels and bad counts take no one."""
    h = hotels[hotels["status"].astype(str).isin(["in_use", "standby"])] if "status" in hotels.columns else hotels
    return {str(k): int(v) for k, v in zip(h["id"], hotel_rooms_free(h, {}), strict=True)}


def plan_inputs(result, travellers_layer: pd.DataFrame, hotels_layer: pd.DataFrame, states: pd.DataFrame, *,
                now: object, reserve_share: float) -> PlanInputs:
    """The people to place and the hotels, from ``result`` (a screening with follow-up applied at
    ``now``), the travellers layer (residence points, households, needs), the hotels layer and
    the recorded follow-up states."""
    people = people_to_place(result, now=now)
    t = travellers_layer
    t = t.set_index(t["id"].astype(str))
    tid = people["traveller_id"].astype(str)
    if "geometry" in t.columns:
        people["lon"], people["lat"] = point_lonlat(t.geometry.reindex(tid.to_numpy()), what="travellers")
    else:
        people["lon"] = people["lat"] = None
    for c in ("household_id", "needs"):
        people[c] = tid.map(t[c]).to_numpy() if c in t.columns else None
    moved = moved_in_per_hotel(states)
    hotels = hotels_for_plan(hotels_layer, moved, reserve_share=reserve_share)
    return PlanInputs(people, hotels, layer_rooms(hotels_layer))


def make_plan(store_location: str | Path, *, as_of: object, now: object | None = None, seats: int = 10,
              reserve_share: float = 0.1) -> tuple[AllocationPlan, PlanInputs, object]:
    """The transfer plan for a store at ``now`` (default: the as-of day's end, or the present if
    sooner): the plan, its inputs and the screening it was made from (follow-up applied)."""
    from geo.followup import KIND, apply_followup, states_frame, verified_visits
    from layers.screening_io import screen_store
    from layers.store import open_store
    from layers.store.records import records_for

    if now is None:
        now = min(pd.Timestamp(as_of) + pd.Timedelta(hours=23, minutes=59), pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None))
    store = open_store(store_location)
    travellers = store.read("travellers")
    current = records_for(str(store_location)).current(KIND)  # read once: verified stays and outcome states
    states = states_frame(current)
    base = screen_store(store_location, as_of, travellers=travellers, followup=False, verified=verified_visits(current))
    result = apply_followup(base, states, now=now)
    inputs = plan_inputs(result, travellers, store.read("hotels"), states, now=now, reserve_share=reserve_share)
    return allocate(inputs.people, inputs.hotels, seats=seats), inputs, result


def confirm_transfers(records, plan: AllocationPlan, result, rooms: dict[str, int], *, user: str, at: dt.datetime) -> int:
    """Record the plan: outcome "transferred" with its hotel for each person placed, on the
    obligation the plan names, stamped ``at`` — all or none. Refused (nothing recorded) when a
    person's item was recorded by someone since the plan was made (``StaleWrite``), an outcome
    is not allowed any more (``FollowupError`` with the rows), or a hotel would hold more people
    than it has rooms (``RoomsFull``, checked in the saving transaction). Returns records saved."""
    from geo.errors import ImportRejected
    from layers.io._issues import Issue

    a = plan.assignments
    if a.empty:
        return 0
    rows = pd.DataFrame({
        "traveller_id": a["traveller_id"].astype(str).to_numpy(),
        "kind": a["kind"].astype(str).to_numpy(),
        "outcome": "transferred",
        "at": pd.Timestamp(at).strftime("%Y-%m-%d %H:%M:%S"),
        "hotel_id": a["hotel_id"].astype(str).to_numpy(),
        "note": ("转运批次 " + a["batch"].astype(str) + " / batch " + a["batch"].astype(str)).to_numpy(),
    })
    saved, rejected = record_outcomes_bulk(
        records, rows, result.obligations, until_verified=until_verified_kinds(result.rule_set), user=user,
        rooms=rooms, action="transfer_plan", as_seen=True,
    )
    if rejected:
        msg = f"转运方案中 {len(rejected)} 人无法记录，未记录任何转运 / {len(rejected)} people in the plan cannot be recorded; nothing was recorded"
        raise ImportRejected(msg, rows=[Issue(n, None, f"{rows['traveller_id'].iat[n - 1]}：{zh}", f"{rows['traveller_id'].iat[n - 1]}: {en}")
                                        for n, zh, en in rejected])
    return saved


#: Workbook headers: column → (中文, English).
PLAN_HEADERS: dict[str, tuple[str, str]] = {
    "batch": ("车次", "Batch"),
    "stop": ("接送顺序", "Pick-up order"),
    "hotel_id": ("酒店编号", "Hotel ID"),
    "hotel": ("酒店", "Hotel"),
    "neighbourhood_id": ("社区编号", "Neighbourhood ID"),
    "neighbourhood": ("社区", "Neighbourhood"),
    "traveller_id": ("人员编号", "Person ID"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "address": ("住址", "Address"),
    "household": ("同户", "Household"),
    "km": ("距离（公里）", "Distance (km)"),
    "people": ("人数", "People"),
    "seats": ("座位", "Seats"),
    "status": ("状态", "Status"),
    "capacity": ("可安排房间", "Rooms available to the plan"),
    "free_before": ("安排前空余", "Free before"),
    "placed": ("本次转入", "Moved in by the plan"),
    "free_after": ("安排后空余", "Free after"),
    "opened": ("启用备用酒店", "Standby opened"),
    "reason": ("原因", "Reason"),
}


def _headed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={c: f"{zh} {en}" for c, (zh, en) in PLAN_HEADERS.items() if c in frame.columns})


def plan_workbook(plan: AllocationPlan, result, *, neighbourhood_names: dict[str, str] | None = None,
                  personal: bool = True) -> bytes:
    """The plan as an XLSX workbook: 汇总 summary, 酒店 hotels (fill before/after), 车次 batches,
    one sheet per hotel (who arrives, by batch and pick-up order), 未安置 unplaced with the
    reason. ``personal``: with names, phones and addresses (staff who see personal data: command,
    the CLI); else person IDs only (planners). No formula cells."""
    from layers._cells import xlsx_bytes

    names = neighbourhood_names or {}
    hotel_name = dict(zip(plan.hotels["hotel_id"], plan.hotels["name"], strict=True))
    t = result.travellers.set_index(result.travellers["id"].astype(str))
    a = plan.assignments.copy()
    tid = a["traveller_id"].astype(str)
    for c in ("name", "phone", "address"):
        a[c] = tid.map(t[c]).to_numpy() if c in t.columns else None
    a["hotel"] = a["hotel_id"].map(hotel_name)
    a["neighbourhood"] = a["neighbourhood_id"].map(names)
    a["household"] = a.groupby("household").ngroup() + 1 if len(a) else a["household"]
    a["km"] = a["km"].round(2)
    people_cols = ["batch", "stop", "hotel", "neighbourhood", "traveller_id", "name", "phone", "address", "household", "km"]
    if not personal:
        people_cols = [c for c in people_cols if c not in ("name", "phone", "address")]
    totals = plan_totals(plan)
    labels = {
        "placed": ("安置人数", "people placed"), "unplaced": ("无法安置人数", "people not placed"),
        "km_total": ("总距离（公里）", "total distance (km)"), "km_per_person": ("人均距离（公里）", "distance per person (km)"),
        "hotels_used": ("使用酒店", "hotels used"), "hotels_opened": ("启用备用酒店", "standby hotels opened"),
        "batches": ("车次", "batches"), "gap_pct": ("距最优下界（%）", "above the lower bound (%)"),
    }
    summary = pd.DataFrame([(f"{labels[k][0]} {labels[k][1]}", v) for k, v in totals.items()], columns=["项目 Item", "数值 Value"])
    hotels = plan.hotels.copy()
    hotels["hotel"] = hotels["name"]
    hotels["opened"] = hotels["opened"].map({True: "是 yes", False: ""})
    batches = plan.batches.assign(hotel=plan.batches["hotel_id"].map(hotel_name),
                                  neighbourhood=plan.batches["neighbourhood_id"].map(names), km=plan.batches["km"].round(2))
    un = plan.unplaced.assign(reason=plan.unplaced["reason_zh"] + " / " + plan.unplaced["reason_en"])
    un["name"] = un["traveller_id"].astype(str).map(t["name"]) if "name" in t.columns and personal else None
    sheets: dict[str, pd.DataFrame] = {
        "汇总 Summary": summary,
        "酒店 Hotels": _headed(hotels[["hotel_id", "hotel", "status", "capacity", "free_before", "placed", "free_after", "opened"]]),
        "车次 Batches": _headed(batches[["batch", "hotel", "neighbourhood", "people", "seats", "km"]]),
    }
    for hid, grp in a.groupby("hotel_id", sort=True):
        sheets[f"{hid} {hotel_name.get(hid, '')}"] = _headed(grp[people_cols])
    sheets["未安置 Unplaced"] = _headed(un[["traveller_id", "name", "reason"] if personal else ["traveller_id", "reason"]])
    return xlsx_bytes(sheets)
