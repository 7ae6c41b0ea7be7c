"""Proof: several writer processes saving the same and different zones at once, on every backend —
every conflict is reported (``StaleWrite``), no update is lost, and the history is complete.

Six processes each save a shared zone and their own zone, three times each, interleaved. Each
save reads the zone, then saves it based on the version read; a refused save re-reads and tries
again, as a planner reloading would. In the first round every process reads the shared zone's
version 1 and waits for the others before saving, so at least five of those saves must be
refused. Afterwards every accepted save must be in the history exactly once, at the version
the store returned for it, with versions 1..N per zone and the zone row equal to version N.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections import Counter

import geopandas as gpd
import shapely

from geo.errors import StaleWrite
from layers.store import open_store, write_new_store_at

WORKERS = 6
SAVES = 3  # per worker, on the shared zone and on its own zone
SHARED = "SHARED"


def _zone_ids() -> list[str]:
    return [SHARED] + [f"OWN{w}" for w in range(WORKERS)]


def _initial_zones() -> gpd.GeoDataFrame:
    ids = _zone_ids()
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "tier": ["controlled"] * len(ids),
            "name": [f"区域{i}" for i in ids],
            "start": ["2022-03-20"] * len(ids),
            "district_adcode": ["140105"] * len(ids),
            "reason": ["initial"] * len(ids),
        },
        geometry=[shapely.box(112.5 + i * 0.01, 37.8, 112.505 + i * 0.01, 37.805) for i in range(len(ids))],
        crs="EPSG:4326",
    )


def _writer(location: str, me: str, barrier, results) -> None:
    """One planner process: returns (accepted saves, refused saves, unexpected errors)."""
    accepted: list[tuple[str, int, str]] = []
    refused: list[tuple[str, int, str]] = []
    errors: list[str] = []
    try:
        store = open_store(location)

        def save(zone_id: str, reason: str, *, wait: bool) -> None:
            while True:
                zones = store.read("zones")
                row = zones[zones["id"] == zone_id].iloc[0].to_dict()
                based_on = int(row["version"])
                if wait:
                    barrier.wait(timeout=120)  # everyone has read the same version
                    wait = False
                try:
                    v = store.save_zone({**row, "reason": reason}, based_on=based_on, user=me)
                except StaleWrite as exc:
                    refused.append((zone_id, based_on, str(exc)))
                    continue
                accepted.append((zone_id, v.version, reason))
                return

        for n in range(SAVES):
            save(SHARED, f"{me}#{n}", wait=n == 0)
            save(f"OWN{me[1:]}", f"{me}#{n}", wait=False)
    except BaseException:  # noqa: BLE001 - reported to the test, which fails on it
        errors.append(traceback.format_exc())
    results.put((me, accepted, refused, errors))


def test_concurrent_writers_lose_nothing_and_every_conflict_is_reported(store_location):
    write_new_store_at(store_location, {"zones": _initial_zones()}, user="setup")
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(store_location, f"w{w}", barrier, results)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    outcome = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    errors = [e for _, _, _, errs in outcome for e in errs]
    assert errors == [], errors[0] if errors else ""
    accepted = [a for _, acc, _, _ in outcome for a in acc]
    refused = [r for _, _, ref, _ in outcome for r in ref]

    # every writer got every save in, eventually: nothing was given up or lost
    assert Counter(z for z, _, _ in accepted) == {SHARED: WORKERS * SAVES, **{f"OWN{w}": SAVES for w in range(WORKERS)}}
    # every refusal was reported as a conflict naming who saved and when; only the shared zone conflicts
    assert len(refused) >= WORKERS - 1
    assert {z for z, _, _ in refused} == {SHARED}
    assert all("— reload" in msg and "changed by w" in msg for _, _, msg in refused)

    store = open_store(store_location)
    zones = store.read("zones")
    assert sorted(zones["id"]) == sorted(_zone_ids())  # one row per zone
    history = store.read("zone_history")
    assert history["id"].is_unique
    for zone_id in _zone_ids():
        versions = store.zone_history(zone_id)
        mine = sorted((v, r) for z, v, r in accepted if z == zone_id)
        # versions 1..N without gaps or repeats: v1 the initial import, then one per accepted save
        assert [v.version for v in versions] == list(range(1, len(mine) + 2)), zone_id
        assert versions[0].action == "import"
        # each accepted save is in the history exactly once, at the version the store returned
        assert [(v.version, v.attributes["reason"]) for v in versions[1:]] == mine, zone_id
        assert all(v.saved_by == v.attributes["reason"].split("#")[0] for v in versions[1:])
        row = zones[zones["id"] == zone_id].iloc[0]
        assert (int(row["version"]), row["reason"]) == (versions[-1].version, versions[-1].attributes["reason"])
    # each writer's own saves of the shared zone landed in the order it made them
    for me, acc, _, _ in outcome:
        shared = [(v, r) for z, v, r in acc if z == SHARED]
        assert [r for _, r in shared] == [f"{me}#{n}" for n in range(SAVES)]
        assert [v for v, _ in shared] == sorted(v for v, _ in shared)
