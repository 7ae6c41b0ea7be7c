"""时空伴随者 into the traveller list: the companions found (:mod:`geo.companions`) flag the
travellers whose pseudonymous ``device_id`` they name — ``companion`` set, ``companion_date`` the
detection day — so the screening rules give them their code and obligations (seed 004: 黄码,
"7+3" home health monitoring; seed 001: investigated within 24 hours). One write of the
travellers layer, refused when the store changed since it was read; a traveller flagged on an
earlier day keeps that day.

A companion device no traveller carries is a person to identify, not a count to drop: it enters
the list as a new row (``TC-`` and a hash of the device; name "待核实身份（时空伴随）"; no phone,
address or residence point — nothing is guessed) flagged the same way, in the neighbourhood where
it was first together with a case (the centre of that grid cell), so that neighbourhood's grid
worker gets the 24-hour investigation. A later detection of the same device finds that row."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FlagResult", "flag_companions", "SUMMARY_KIND", "save_summary", "latest_summary"]

#: The record kind of a detection's aggregates (``geo.companions.companion_summary``), key = the as-of day.
SUMMARY_KIND = "companion_summary"


#: The name of a companion added as a person to identify.
UNKNOWN_NAME = "待核实身份（时空伴随）"


@dataclass(frozen=True)
class FlagResult:
    flagged: int  # travellers newly flagged
    already: int  # travellers flagged on an earlier day (kept)
    unmatched: int  # companion devices no traveller carried

    @property
    def added(self) -> int:
        """People added to the list to identify: every device no traveller carried."""
        return self.unmatched


def _added_id(device: str) -> str:
    import hashlib

    return "TC-" + hashlib.sha256(device.encode()).hexdigest()[:12]


def _first_cells(found: pd.DataFrame, devices: list[str]) -> pd.Series:
    """Each device's cell where it was first together with a case (None without those columns)."""
    if "cell" not in found.columns:
        return pd.Series([None] * len(devices), index=devices, dtype=object)
    f = found.assign(device=found["device"].astype(str))
    if "first_together" in f.columns:
        f = f.sort_values("first_together", kind="stable")
    return f.drop_duplicates("device").set_index("device")["cell"].reindex(devices)


def flag_companions(
    store_location: str, found: pd.DataFrame, *, detected: object, user: str, cell_m: float | None = None, crs: str | None = None
) -> FlagResult:
    """Flag the travellers whose ``device_id`` is among ``found["device"]`` as companions detected
    on ``detected`` (a day), and add each device no traveller carries as a person to identify (see
    the module docstring; ``cell_m`` and ``crs``: the detection's grid, to find the neighbourhood
    of the cell in ``found["cell"]``). One write; raises ``StaleWrite`` when the store changed meanwhile."""
    import geopandas as gpd
    import shapely

    from layers.store import open_store

    store = open_store(store_location)
    version = store.version()
    t = store.read("travellers")
    devices = set(found["device"].astype(str))
    if not devices:
        return FlagResult(0, 0, 0)
    dev = t["device_id"].astype("string") if "device_id" in t.columns else pd.Series(pd.NA, index=t.index, dtype="string")
    hit = dev.isin(devices).fillna(False).to_numpy(dtype=bool)
    day = pd.Timestamp(detected).normalize()
    was = t["companion"].fillna(False).astype(bool).to_numpy() if "companion" in t.columns else hit & False
    earlier = pd.to_datetime(t["companion_date"]).le(day).fillna(False).to_numpy() if "companion_date" in t.columns else was
    keep = hit & was & earlier
    new = hit & ~keep
    matched = set(dev[hit].dropna())
    unknown = sorted(devices - matched)
    rows = None
    if unknown:
        nb_ids: list = [None] * len(unknown)
        cells = _first_cells(found, unknown)
        if cell_m and crs and cells.notna().any():
            from geo.companions import cell_centres
            from geo.screening import neighbourhood_ids_for_points

            have = cells.notna().to_numpy()
            lon, lat = cell_centres(cells[have].astype("int64").to_numpy(), cell_m, crs)
            ids = neighbourhood_ids_for_points(shapely.points(lon, lat), store.read("neighbourhoods", public=True))
            it = iter(ids)
            nb_ids = [next(it) if h else None for h in have]
        demo = store.meta().get("demo") == "true"
        rows = gpd.GeoDataFrame({
            "id": [_added_id(d) for d in unknown], "name": UNKNOWN_NAME, "arrival_date": day, "neighbourhood_id": nb_ids,
            "inbound": False, "companion": True, "companion_date": day, "device_id": unknown, "demo": demo,
        }, geometry=[None] * len(unknown), crs="EPSG:4326")
    if new.any() or rows is not None:
        t = t.copy()
        t.loc[new, "companion"] = True
        t.loc[new, "companion_date"] = day
        if rows is not None:
            t = gpd.GeoDataFrame(pd.concat([t, rows], ignore_index=True), geometry="geometry", crs="EPSG:4326")
        store.write_layers({"travellers": t}, {"travellers": "replace"}, expect_version=version, user=user, action="companions")
    return FlagResult(int(new.sum()), int(keep.sum()), len(unknown))


def save_summary(store_location: str, summary: dict, *, user: str):
    """Keep a detection's aggregates (no device, no person) as a versioned record keyed by its day."""
    from layers.store.records import records_for

    records = records_for(store_location)
    current = records.get(SUMMARY_KIND, summary["as_of"])
    return records.save(SUMMARY_KIND, summary["as_of"], summary, based_on=current.version if current else 0, user=user,
                        action="companions")


def latest_summary(records, as_of: object) -> dict | None:
    """The aggregates of the newest detection on or before ``as_of`` (None: none yet)."""
    day = pd.Timestamp(as_of).strftime("%Y-%m-%d")
    runs = [r for r in records.current(SUMMARY_KIND) if r.key <= day]
    return dict(max(runs, key=lambda r: r.key).data) if runs else None
