"""集中隔离转运 — quarantine room allocation and transfer batches.

Pure: no Streamlit, no storage. Seed 002 asks to "持续提升隔离转运效率" and "抓好隔离场所储备":
the people whose measure starts with centralized quarantine and who are not yet placed
(:func:`people_to_place`) are assigned to hotels with free rooms so that the total distance from
their residence to the hotel is least, subject to:

* a hotel's capacity: its free rooms (:func:`geo.followup.hotel_rooms_free`) less its reserved
  rooms, never exceeded — one person per room (单人单间);
* a household (same household id, else the same residence point) goes to one hotel;
* a person with needs (e.g. ``孕妇`` pregnant, ``老人`` elderly, ``近医院`` near a hospital) goes
  only to a hotel marked suitable for all of them;
* hotels in use first: standby hotels are opened only when the hotels in use cannot take
  everyone, and the plan says which (:func:`allocate`).

The solver (:func:`assign_units`) is a min-cost flow (OR-Tools' ``SimpleMinCostFlow``, a network
simplex in C++): households → hotels → sink, one unit of flow per person, cost = metres. For
one-person households the flow's optimum is the optimal assignment (a transportation problem is
totally unimodular). A household of several people must not be split, which a flow cannot
express; the households the flow splits are placed by an exact mixed-integer programme (HiGHS,
through ``scipy.optimize.milp``) — over all households when the problem is small, else over
the split households and the households sharing their hotels — and the plan reports the gap to
the flow's optimum, which is a lower bound of every plan (``bound_km``, ``gap``).

Distances are great-circle distances in km between WGS-84 points: there is no road network offline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.hours import local_naive

__all__ = [
    "AllocationPlan",
    "assign_units",
    "allocate",
    "greedy_nearest",
    "haversine_km",
    "households",
    "hotels_for_plan",
    "hotel_phase_kinds",
    "people_to_place",
    "transfer_batches",
    "parse_flags",
    "plan_totals",
    "plan_flows",
]

EARTH_KM = 6371.0088
#: Cost of leaving one person unplaced, in metres: more than any real transfer, so the solver
#: places as many people as capacity allows before it looks at distance.
UNPLACED_COST = 10**9
#: Units × hotels up to which a split household is resolved by one exact programme over all households.
EXACT_VARIABLES = 40_000
#: Nearest hotels each freed household may move to in the local re-optimisation (plus its flow hotels).
LOCAL_CHOICES = 8


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km (broadcasting numpy arrays of degrees)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype="float64")) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def parse_flags(value: object) -> frozenset[str]:
    """``"孕妇; 老人"`` → {"孕妇", "老人"}: flags separated by ; , 、 ， or ｜/|; empty → none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return frozenset()
    text = str(value)
    for sep in ("；", "，", "、", "|", "｜", ","):
        text = text.replace(sep, ";")
    return frozenset(f.strip() for f in text.split(";") if f.strip())


# ----------------------------------------------------------------------------------------------
# Who is to be placed


def hotel_phase_kinds(rule_set) -> dict[str, tuple[int, int]]:
    """Rule id → (first day, days) of its measure's centralized-quarantine phase (``at = "hotel"``)."""
    out: dict[str, tuple[int, int]] = {}
    for r in rule_set.rules:
        off = 0
        for p in r.phases:
            if p.at == "hotel" and r.id not in out:
                out[r.id] = (off, p.days)
            off += p.days
    return out


def people_to_place(result, *, now: object) -> pd.DataFrame:
    """The people to transfer to a quarantine hotel at ``now``: one row per person whose open
    obligation (one the community follows up) has a centralized-quarantine phase that has not
    ended, and who is not recorded as transferred (no hotel on any of their obligations).

    ``result``: a screening with follow-up applied (:func:`geo.followup.apply_followup`).
    Columns: ``traveller_id``, ``kind`` (the obligation the transfer is recorded on),
    ``neighbourhood_id``, ``code``, ``phase_start``, ``phase_end`` (days), ``due`` (the
    obligation's first-action deadline) — the strictest obligation per person."""
    now = local_naive(now)
    spans = hotel_phase_kinds(result.rule_set)
    ob = result.obligations
    cols = ["traveller_id", "kind", "neighbourhood_id", "code", "phase_start", "phase_end", "due"]
    if not spans or not len(ob):
        return pd.DataFrame(columns=cols)
    placed = set()
    if "hotel_id" in ob.columns:
        placed = set(ob.loc[ob["hotel_id"].notna(), "traveller_id"].astype(str))
    ob = ob[ob["community"].astype(bool) & (ob["status"] == "open") & ob["kind"].isin(spans)]
    ob = ob[~ob["traveller_id"].astype(str).isin(placed)]
    if ob.empty:
        return pd.DataFrame(columns=cols)
    off = ob["kind"].map(lambda k: spans[k][0]).astype("int64")
    days = ob["kind"].map(lambda k: spans[k][1]).astype("int64")
    start = pd.to_datetime(ob["start"]).dt.normalize()
    p_start = start + pd.to_timedelta(off, unit="D")
    p_end = p_start + pd.to_timedelta(days, unit="D")
    keep = (p_end > now) | start.isna()
    ob = ob[keep.to_numpy()].assign(phase_start=p_start[keep], phase_end=p_end[keep])
    t = result.travellers.set_index(result.travellers["id"].astype(str))
    tid = ob["traveller_id"].astype(str)
    out = pd.DataFrame({
        "traveller_id": tid.to_numpy(),
        "kind": ob["kind"].astype(str).to_numpy(),
        "neighbourhood_id": tid.map(t["neighbourhood_id"]).to_numpy() if "neighbourhood_id" in t.columns else None,
        "code": ob["code"].to_numpy(),
        "phase_start": ob["phase_start"].to_numpy(),
        "phase_end": ob["phase_end"].to_numpy(),
        "due": pd.to_datetime(ob["due"]).to_numpy(),
    })
    return out.drop_duplicates("traveller_id").reset_index(drop=True)


def households(people: pd.DataFrame) -> pd.Series:
    """A household key per person: the ``household_id`` column where given, else the residence
    point (``lon``, ``lat`` to 1e-6°, about 0.1 m); a person with neither is a household alone."""
    idx = people.index
    hid = people["household_id"] if "household_id" in people.columns else pd.Series(None, index=idx, dtype=object)
    hid = hid.astype("string").str.strip().replace("", pd.NA)
    point = pd.Series(pd.NA, index=idx, dtype="string")
    if {"lon", "lat"} <= set(people.columns):
        lon, lat = pd.to_numeric(people["lon"], errors="coerce"), pd.to_numeric(people["lat"], errors="coerce")
        ok = lon.notna() & lat.notna()
        point[ok] = "pt:" + lon[ok].round(6).astype(str) + "," + lat[ok].round(6).astype(str)
    alone = "id:" + people["id"].astype(str)
    return ("hh:" + hid).fillna(point).fillna(alone).astype(str)


def hotels_for_plan(hotels: pd.DataFrame, moved_in: Mapping[str, int], *, reserve_share: float) -> pd.DataFrame:
    """The hotels layer as :func:`allocate` takes it: ``hotel_id``, ``name``, ``status``, ``lon``,
    ``lat``, ``suitable`` (``suitable_for``), ``free_before`` (free rooms, the one count:
    :func:`geo.followup.hotel_rooms_free`), ``reserved`` (``reserved_rooms`` where given, else
    ``reserve_share`` of the rooms, rounded up) and ``capacity`` (free less reserved, never
    below 0). Rooms missing, not numbers, negative, or more occupied than there are: ``capacity``
    is NaN and ``problem_zh`` / ``problem_en`` say why — never read as 0 or as unlimited."""
    from geo.followup import hotel_rooms_free
    from geo.nearest import point_lonlat

    h = hotels.reset_index(drop=True)
    total = pd.to_numeric(h["rooms_total"], errors="coerce")
    occ = pd.to_numeric(h["rooms_occupied"], errors="coerce")
    problem = pd.Series("", index=h.index, dtype=object)
    problem_en = pd.Series("", index=h.index, dtype=object)
    for bad, zh, en in (
        (h["rooms_total"].isna(), "缺少房间总数", "rooms total missing"),
        (h["rooms_total"].notna() & total.isna(), "房间总数不是数字", "rooms total is not a number"),
        (total < 0, "房间总数为负数", "rooms total is negative"),
        (h["rooms_occupied"].isna(), "缺少已用房间数", "rooms occupied missing"),
        (h["rooms_occupied"].notna() & occ.isna(), "已用房间数不是数字", "rooms occupied is not a number"),
        (occ < 0, "已用房间数为负数", "rooms occupied is negative"),
        (occ > total, "已用房间多于房间总数", "more rooms occupied than there are"),
    ):
        hit = bad.fillna(False).to_numpy(dtype=bool) & (problem == "").to_numpy()
        problem[hit], problem_en[hit] = zh, en
    free = hotel_rooms_free(h, moved_in).astype("float64")
    reserved = pd.to_numeric(h["reserved_rooms"], errors="coerce") if "reserved_rooms" in h.columns else pd.Series(np.nan, index=h.index)
    reserved = reserved.where(reserved.notna() & (reserved >= 0), np.ceil(total.fillna(0) * float(reserve_share)))
    bad = problem != ""
    if "geometry" in h.columns:
        lon, lat = point_lonlat(h.geometry, what="hotels")
    else:
        lon, lat = h.get("lon"), h.get("lat")
    out = pd.DataFrame({
        "hotel_id": h["id"].astype(str),
        "name": h["name"].astype(str) if "name" in h.columns else h["id"].astype(str),
        "status": h["status"].astype(str) if "status" in h.columns else "in_use",
        "lon": lon,
        "lat": lat,
        "suitable": h["suitable_for"] if "suitable_for" in h.columns else None,
        "free_before": free.where(~bad),
        "reserved": reserved.where(~bad),
        "capacity": (free - reserved).clip(lower=0).where(~bad),
        "problem_zh": problem,
        "problem_en": problem_en,
    })
    return out


# ----------------------------------------------------------------------------------------------
# The solver


@dataclass(frozen=True)
class UnitAssignment:
    """What :func:`assign_units` returns: ``hotel[u]`` is the hotel index of unit ``u`` or -1
    (unplaced); ``cost`` the total metres of the placed people; ``bound`` the min-cost flow's
    metres and ``bound_placed`` the people it places (households may be split there): no plan
    places more people, and none placing as many travels less; ``method`` how it was solved."""

    hotel: np.ndarray
    cost: int
    bound: int
    method: str
    bound_placed: int = 0

    def objective(self, sizes: np.ndarray) -> int:
        """Unplaced people × :data:`UNPLACED_COST` + metres: what is minimised."""
        return self.cost + UNPLACED_COST * int(np.asarray(sizes)[self.hotel < 0].sum())

    def bound_objective(self, sizes: np.ndarray) -> int:
        """The flow's value of the same objective: a lower bound of :meth:`objective`."""
        return self.bound + UNPLACED_COST * (int(np.asarray(sizes).sum()) - self.bound_placed)


def assign_units(sizes: np.ndarray, cost_m: np.ndarray, allowed: np.ndarray, capacity: np.ndarray) -> UnitAssignment:
    """Assign units (households) of ``sizes`` people to hotels of ``capacity`` rooms.

    ``cost_m``: units × hotels, metres per person (int); ``allowed``: units × hotels bool (a
    needs-suitable hotel, and a unit no larger than the hotel). Lexicographic objective: place as
    many people as possible, then least total metres. Never exceeds a capacity, never splits a unit.
    """
    sizes = np.asarray(sizes, dtype="int64")
    capacity = np.maximum(np.asarray(capacity, dtype="int64"), 0)
    U, H = cost_m.shape
    if U == 0:
        return UnitAssignment(np.zeros(0, dtype="int64"), 0, 0, "empty")
    allowed = allowed & (sizes[:, None] <= capacity[None, :])
    flows, bound = _min_cost_flow(sizes, cost_m, allowed, capacity)
    hotel = np.full(U, -1, dtype="int64")
    used = (flows > 0).sum(axis=1)
    whole = (used == 1) & (flows.max(axis=1, initial=0) == sizes)
    hotel[whole] = flows[whole].argmax(axis=1)
    split = np.flatnonzero(used > 1) if H else np.zeros(0, dtype="int64")
    partial = np.flatnonzero((used == 1) & ~whole)  # part placed, part unplaced: resolve too
    method = "min-cost flow (optimal)"
    todo = np.union1d(split, partial)
    if len(todo):
        if U * H <= EXACT_VARIABLES:
            free = np.arange(U)
            method = "min-cost flow + exact integer programme (optimal)"
        else:
            touched = (flows[todo] > 0).any(axis=0)
            free = np.union1d(todo, np.flatnonzero(((flows > 0) & touched[None, :]).any(axis=1)))
            method = "min-cost flow + local integer programme (gap reported)"
        hotel[free] = -1
        rest = np.bincount(hotel[hotel >= 0], weights=sizes[hotel >= 0], minlength=H).astype("int64")
        limit = None if U * H <= EXACT_VARIABLES else LOCAL_CHOICES
        hotel[free] = _exact(sizes[free], cost_m[free], allowed[free], capacity - rest, flows[free] > 0, limit)
    placed = hotel >= 0
    cost = int((cost_m[np.flatnonzero(placed), hotel[placed]] * sizes[placed]).sum())
    return UnitAssignment(hotel, cost, bound, method, int(flows.sum()))


def _min_cost_flow(sizes, cost_m, allowed, capacity) -> tuple[np.ndarray, int]:
    """The flow per unit × hotel (people) and its cost of the placed people (metres)."""
    from ortools.graph.python import min_cost_flow

    U, H = cost_m.shape
    P = int(sizes.sum())
    uu, hh = np.nonzero(allowed)
    sink, spill = U + H, U + H + 1
    f = min_cost_flow.SimpleMinCostFlow()
    arcs = f.add_arcs_with_capacity_and_unit_cost(uu, U + hh, sizes[uu], cost_m[uu, hh].astype("int64"))
    f.add_arcs_with_capacity_and_unit_cost(U + np.arange(H), np.full(H, sink), capacity, np.zeros(H, dtype="int64"))
    f.add_arcs_with_capacity_and_unit_cost(np.arange(U), np.full(U, spill), sizes, np.full(U, UNPLACED_COST, dtype="int64"))
    f.add_arcs_with_capacity_and_unit_cost(np.array([spill]), np.array([sink]), np.array([P]), np.array([0]))
    f.set_nodes_supplies(np.arange(U), sizes)
    f.set_node_supply(sink, -P)
    status = f.solve()
    if status != f.OPTIMAL:  # cannot happen: the spill arc makes every instance feasible
        msg = f"min-cost flow failed (status {status})"
        raise RuntimeError(msg)
    flows = np.zeros((U, H), dtype="int64")
    if len(arcs):
        flows[uu, hh] = f.flows(arcs)
    bound = int((flows * np.where(allowed, cost_m, 0)).sum())
    return flows, bound


def _exact(sizes, cost_m, allowed, capacity, hint, limit: int | None) -> np.ndarray:
    """An exact integer programme (HiGHS): each unit to one allowed hotel or unplaced; capacity
    respected; least (unplaced people × UNPLACED_COST + metres). ``limit``: only each unit's
    ``limit`` nearest allowed hotels and its ``hint`` hotels are choices (None: all allowed)."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    U, H = cost_m.shape
    cand = allowed.copy()
    if limit is not None and limit < H:
        masked = np.where(allowed, cost_m, np.iinfo("int64").max)
        near = np.argpartition(masked, limit - 1, axis=1)[:, :limit]
        keep = np.zeros_like(allowed)
        keep[np.arange(U)[:, None], near] = True
        cand = allowed & (keep | hint)
    uu, hh = np.nonzero(cand)
    nx = len(uu)
    # costs in km (HiGHS works in floating point; metres × people would lose its tolerance)
    c = np.concatenate([cost_m[uu, hh] * sizes[uu] / 1000.0, np.full(U, UNPLACED_COST / 1000.0) * sizes])
    nv = nx + U
    one = sp.csr_matrix((np.ones(nx + U), (np.concatenate([uu, np.arange(U)]), np.arange(nv))), shape=(U, nv))
    cap = sp.csr_matrix((sizes[uu].astype("float64"), (hh, np.arange(nx))), shape=(H, nv))
    res = milp(
        c,
        constraints=[LinearConstraint(one, 1, 1), LinearConstraint(cap, 0, np.maximum(capacity, 0))],
        integrality=np.ones(nv),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    if res.x is None:  # cannot happen: everyone unplaced is feasible
        msg = f"integer programme failed: {res.message}"
        raise RuntimeError(msg)
    x = res.x[:nx] > 0.5
    out = np.full(U, -1, dtype="int64")
    out[uu[x]] = hh[x]
    return out


def greedy_nearest(sizes: np.ndarray, cost_m: np.ndarray, allowed: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """The baseline a dispatcher would do by hand: each unit in turn to its nearest allowed hotel
    with room (units in the order given). Hotel index per unit, -1 when none has room."""
    cap = np.maximum(np.asarray(capacity, dtype="int64"), 0).copy()
    out = np.full(len(sizes), -1, dtype="int64")
    order = np.argsort(np.where(allowed, cost_m, np.iinfo("int64").max), axis=1)
    for u, s in enumerate(np.asarray(sizes, dtype="int64")):
        for h in order[u]:
            if not allowed[u, h]:
                break
            if cap[h] >= s:
                cap[h] -= s
                out[u] = h
                break
    return out


# ----------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class AllocationPlan:
    """A transfer plan (see :func:`allocate`).

    ``assignments``: one row per placed person — ``traveller_id``, ``kind``, ``household``,
    ``neighbourhood_id``, ``hotel_id``, ``km``, ``batch``, ``stop`` (pick-up order in the batch);
    ``unplaced``: ``traveller_id``, ``household``, ``reason_zh``, ``reason_en``;
    ``hotels``: ``hotel_id``, ``name``, ``status``, ``capacity`` (rooms the plan may fill),
    ``free_before``, ``placed``, ``free_after``, ``opened`` (a standby hotel the plan opens);
    ``batches``: ``batch``, ``hotel_id``, ``neighbourhood_id``, ``people``, ``seats``, ``km``
    (residence → hotel of the first pick-up); ``issues``: hotels left out, with why.
    """

    assignments: pd.DataFrame
    unplaced: pd.DataFrame
    hotels: pd.DataFrame
    batches: pd.DataFrame
    issues: list[tuple[str, str, str]] = field(default_factory=list)
    method: str = ""
    bound_km: float = float("nan")
    opened: tuple[str, ...] = ()

    @property
    def placed(self) -> int:
        return len(self.assignments)

    @property
    def km_total(self) -> float:
        return float(self.assignments["km"].sum()) if len(self.assignments) else 0.0

    @property
    def km_per_person(self) -> float:
        return self.km_total / self.placed if self.placed else 0.0

    @property
    def gap(self) -> float:
        """How far above the lower bound the plan's distance is (0.0 = proven optimal; NaN when the
        bound placed more people by splitting a household, so the distances do not compare)."""
        if math.isnan(self.bound_km):
            return float("nan")
        return max(0.0, (self.km_total - self.bound_km) / self.bound_km) if self.bound_km > 0 else 0.0


def _cost_matrix(people: pd.DataFrame, hotels: pd.DataFrame) -> np.ndarray:
    d = haversine_km(people["lon"].to_numpy()[:, None], people["lat"].to_numpy()[:, None],
                     hotels["lon"].to_numpy()[None, :], hotels["lat"].to_numpy()[None, :])
    return np.rint(d * 1000.0).astype("int64")


def allocate(
    people: pd.DataFrame,
    hotels: pd.DataFrame,
    *,
    seats: int = 10,
) -> AllocationPlan:
    """Plan the transfer of ``people`` to ``hotels``.

    ``people``: ``traveller_id``, ``kind``, ``neighbourhood_id``, ``lon``, ``lat`` (residence,
    WGS-84), optional ``household_id`` and ``needs`` (flags, :func:`parse_flags`).
    ``hotels``: ``hotel_id``, ``name``, ``lon``, ``lat``, ``status`` (``in_use`` / ``standby``;
    others are not used), ``capacity`` (rooms the plan may fill: free less reserved; NaN =
    unknown, the hotel is left out and named in ``issues``), optional ``suitable`` (flags).
    ``seats``: seats per vehicle (transfer batches).

    Hotels in use are filled first. When they cannot take everyone, standby hotels are opened
    nearest first (from the centre of the people left over) until their rooms cover the
    shortage, and the plan is made again over the hotels in use and those opened. People who
    still cannot be placed are listed with the reason.
    """
    if seats < 1:
        msg = f"每车座位数必须至少为 1 / seats per vehicle must be at least 1 (got {seats})"
        raise ValueError(msg)
    people = people.reset_index(drop=True).copy()
    if "traveller_id" in people.columns and "id" not in people.columns:
        people["id"] = people["traveller_id"]
    people["household"] = households(people)
    hotels = hotels.reset_index(drop=True).copy()
    issues: list[tuple[str, str, str]] = []
    cap = pd.to_numeric(hotels["capacity"], errors="coerce")
    unknown = cap.isna() | hotels["lon"].isna() | hotels["lat"].isna()
    for _, h in hotels[unknown].iterrows():
        zh, en = (h.get("problem_zh") or "房间数未知或位置缺失"), (h.get("problem_en") or "rooms unknown or no location")
        issues.append((str(h["hotel_id"]), f"{zh}，未纳入方案", f"{en}: left out of the plan"))
    status = hotels["status"].astype(str)
    usable = hotels[~unknown & status.isin(["in_use", "standby"])].reset_index(drop=True)
    usable["capacity"] = pd.to_numeric(usable["capacity"]).clip(lower=0).astype("int64")

    units = people.groupby("household", sort=False)
    u_keys = list(units.groups)
    first = units.head(1).set_index("household").loc[u_keys]
    sizes = units.size().loc[u_keys].to_numpy(dtype="int64")
    needs = units["needs"].agg(lambda s: frozenset().union(*map(parse_flags, s))).loc[u_keys] if "needs" in people.columns \
        else pd.Series([frozenset()] * len(u_keys), index=u_keys)
    suit = [parse_flags(v) for v in (usable["suitable"] if "suitable" in usable.columns else [None] * len(usable))]
    allowed_all = np.ones((len(u_keys), len(usable)), dtype=bool)
    for need in set(needs):  # a few distinct sets of needs: one row of hotels each
        if need:
            allowed_all[needs.map(lambda n, need=need: n == need).to_numpy(dtype=bool)] = np.array([need <= s for s in suit], dtype=bool)
    first = first.assign(lon=pd.to_numeric(first["lon"], errors="coerce"), lat=pd.to_numeric(first["lat"], errors="coerce"))
    no_point = (first["lon"].isna() | first["lat"].isna()).to_numpy()
    allowed_all[no_point] = False
    located = first.fillna({"lon": 0.0, "lat": 0.0})
    cost_all = _cost_matrix(located, usable) if len(u_keys) and len(usable) else np.zeros((len(u_keys), len(usable)), "int64")

    def solve(mask: np.ndarray) -> tuple[UnitAssignment, np.ndarray]:
        cols = np.flatnonzero(mask)
        r = assign_units(sizes, cost_all[:, cols], allowed_all[:, cols], usable["capacity"].to_numpy()[cols])
        return r, np.where(r.hotel >= 0, cols[np.maximum(r.hotel, 0)], -1)

    in_use = (usable["status"] == "in_use").to_numpy()
    result, hotel_of = solve(in_use)
    opened: list[str] = []
    standby = np.flatnonzero(~in_use)
    short = int(sizes[hotel_of < 0].sum())
    if short and len(standby):
        left = first[hotel_of < 0]
        cx, cy = float(left["lon"].mean()), float(left["lat"].mean())
        d = haversine_km(cx, cy, usable["lon"].to_numpy()[standby], usable["lat"].to_numpy()[standby])
        rooms = 0
        mask = in_use.copy()
        tried: list[int] = []
        for j in standby[np.argsort(d, kind="stable")]:
            if usable["capacity"].iat[j] <= 0:
                continue
            mask[j] = True
            tried.append(int(j))
            rooms += int(usable["capacity"].iat[j])
            if rooms >= short:
                break
        result, hotel_of = solve(mask)
        # a standby hotel the new plan leaves empty is not opened after all
        used_cols = set(hotel_of[hotel_of >= 0].tolist())
        opened = [str(usable["hotel_id"].iat[j]) for j in tried if j in used_cols]

    # people
    unit_hotel = pd.Series(hotel_of, index=u_keys)
    unit_km = pd.Series(
        [cost_all[i, h] / 1000.0 if h >= 0 else np.nan for i, h in enumerate(hotel_of)], index=u_keys
    )
    people["_h"] = people["household"].map(unit_hotel).astype("int64")
    placed = people[people["_h"] >= 0].copy()
    placed["hotel_id"] = usable["hotel_id"].astype(str).to_numpy()[placed["_h"].to_numpy()]
    placed["km"] = placed["household"].map(unit_km).to_numpy()
    left = people[people["_h"] < 0]
    reasons = []
    unit_of = {k: i for i, k in enumerate(u_keys)}
    for hh, grp in left.groupby("household", sort=False):
        i = unit_of[hh]
        n = len(grp)
        if no_point[i]:
            why = ("住址没有坐标，无法计算距离", "no residence coordinates: the distance cannot be computed")
        elif not allowed_all[i].any():
            why = ("没有适合其特殊需要的酒店", "no hotel suitable for their needs")
        elif not (allowed_all[i] & (usable["capacity"].to_numpy() >= n)).any():
            why = (f"没有酒店能同时容纳该户 {n} 人", f"no hotel can take the household's {n} people together")
        else:
            why = ("房间不足", "not enough rooms")
        reasons += [(t, hh, *why) for t in grp["traveller_id"].astype(str)]
    unplaced = pd.DataFrame(reasons, columns=["traveller_id", "household", "reason_zh", "reason_en"])

    assignments, batches = transfer_batches(placed, seats=seats)
    fill = assignments.groupby("hotel_id").size() if len(assignments) else pd.Series(dtype="int64")
    hotel_table = pd.DataFrame({
        "hotel_id": usable["hotel_id"].astype(str),
        "name": usable["name"] if "name" in usable.columns else usable["hotel_id"],
        "status": usable["status"],
        "capacity": usable["capacity"],
        "free_before": usable["free_before"] if "free_before" in usable.columns else usable["capacity"],
    })
    hotel_table["placed"] = hotel_table["hotel_id"].map(fill).fillna(0).astype("int64").to_numpy()
    hotel_table["free_after"] = hotel_table["free_before"] - hotel_table["placed"]
    hotel_table["opened"] = hotel_table["hotel_id"].isin(opened)
    return AllocationPlan(
        assignments=assignments,
        unplaced=unplaced,
        hotels=hotel_table.reset_index(drop=True),
        batches=batches,
        issues=issues,
        method=result.method,
        # the flow's metres bound this plan only when it placed as many people (no household split off)
        bound_km=result.bound / 1000.0 if result.bound_placed == int(sizes[hotel_of >= 0].sum()) else float("nan"),
        opened=tuple(opened),
    )


def transfer_batches(placed: pd.DataFrame, *, seats: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group the placed people into vehicles of ``seats``, per hotel: neighbourhood by
    neighbourhood (the farthest from the hotel first, so a vehicle ends its round near the
    hotel), households farthest first within one, packed in that order — a vehicle is full or
    the next household does not fit, then the next vehicle starts; a household stays in one
    vehicle unless it is larger than a vehicle (then whole vehicles of its own first). Returns
    the people with ``batch`` and ``stop`` (pick-up order) and one row per batch
    (``neighbourhood_id``: the neighbourhoods it calls at, in order, joined by "、")."""
    cols = ["batch", "hotel_id", "neighbourhood_id", "people", "seats", "km"]
    if placed.empty:
        out = placed.assign(batch=pd.Series(dtype=object), stop=pd.Series(dtype="int64"))
        return out.drop(columns=["_h"], errors="ignore"), pd.DataFrame(columns=cols)
    placed = placed.copy()
    placed["neighbourhood_id"] = placed["neighbourhood_id"].astype("string").fillna("—")
    placed["_nb_km"] = placed.groupby(["hotel_id", "neighbourhood_id"])["km"].transform("max")
    batch_of: dict[int, str] = {}
    stop_of: dict[int, int] = {}
    rows = []
    n = 0
    for hotel, grp in placed.groupby("hotel_id", sort=True):
        grp = grp.sort_values(["_nb_km", "neighbourhood_id", "km", "household"], ascending=[False, True, False, True], kind="stable")
        vehicles: list[list[int]] = []
        current: list[int] = []
        for _, hh in grp.groupby("household", sort=False):
            members = list(hh.index)
            while len(members) > seats:  # a household bigger than a vehicle: whole vehicles first
                vehicles.append(members[:seats])
                members = members[seats:]
            if len(current) + len(members) > seats:
                vehicles.append(current)
                current = []
            current = current + members
        if current:
            vehicles.append(current)
        for v in vehicles:
            n += 1
            name = f"B{n:03d}"
            for s, i in enumerate(v, start=1):
                batch_of[i], stop_of[i] = name, s
            calls = "、".join(dict.fromkeys(placed.loc[v, "neighbourhood_id"].astype(str)))
            rows.append((name, hotel, calls, len(v), seats, float(placed.loc[v[0], "km"])))
    placed["batch"] = pd.Series(batch_of)
    placed["stop"] = pd.Series(stop_of).astype("int64")
    keep = ["traveller_id", "kind", "household", "neighbourhood_id", "hotel_id", "km", "batch", "stop"]
    placed = placed[[c for c in keep if c in placed.columns]].sort_values(["batch", "stop"], kind="stable")
    return placed.reset_index(drop=True), pd.DataFrame(rows, columns=cols)


def plan_totals(plan: AllocationPlan) -> Mapping[str, float | int]:
    """The plan's key figures — one definition for the page, the export and the CLI."""
    return {
        "placed": plan.placed,
        "unplaced": len(plan.unplaced),
        "km_total": round(plan.km_total, 1),
        "km_per_person": round(plan.km_per_person, 2),
        "hotels_used": int((plan.hotels["placed"] > 0).sum()) if len(plan.hotels) else 0,
        "hotels_opened": len(plan.opened),
        "batches": len(plan.batches),
        "gap_pct": None if math.isnan(plan.gap) else round(100 * plan.gap, 2),
    }


def plan_flows(plan: AllocationPlan) -> pd.DataFrame:
    """People per neighbourhood → hotel (``neighbourhood_id``, ``hotel_id``, ``people``, ``km``:
    the mean), most people first: what the map draws — a line per pair from the neighbourhood's
    centre, never a person's residence (the map is for planners too)."""
    a = plan.assignments
    if a.empty:
        return pd.DataFrame(columns=["neighbourhood_id", "hotel_id", "people", "km"])
    g = a.groupby(["neighbourhood_id", "hotel_id"], as_index=False).agg(people=("traveller_id", "size"), km=("km", "mean"))
    return g.sort_values(["people", "neighbourhood_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
