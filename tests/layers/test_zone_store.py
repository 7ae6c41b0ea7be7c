"""Zone versions in the store: every save a new version, history, restore, and conflicts refused.

Runs against every store backend (``new_store`` in conftest.py)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
import shapely

from geo.errors import StaleWrite
from layers.zone_versions import history_id

T0 = dt.datetime(2022, 3, 28, 9, 15)


def _zones():
    return gpd.GeoDataFrame(
        {
            "id": ["Z1", "Z2"],
            "tier": ["sealed", "controlled"],
            "name": ["甲小区", "乙街道"],
            "reason": ["病例", None],
            "start": ["2022-03-20", "2022-03-25"],
            "planned_end": ["2022-04-03", None],
            "lifted": [None, None],
            "district_adcode": ["140105", "140105"],
            "demo": [False, False],
            # stamps in an import are ignored: the store numbers versions itself
            "version": [41, 7],
            "saved_by": ["forged", "forged"],
        },
        geometry=[shapely.box(112.5, 37.8, 112.51, 37.81), shapely.box(112.49, 37.79, 112.52, 37.82)],
        crs="EPSG:4326",
    )


def _zone(store, zone_id):
    z = store.read("zones")
    return z[z["id"] == zone_id].iloc[0].to_dict()


def test_a_new_store_stamps_version_one_with_an_import_record(new_store):
    store = new_store({"zones": _zones()}, user="demo")
    z = store.read("zones")
    assert list(z["version"]) == [1, 1] and list(z["saved_by"]) == ["demo", "demo"]
    assert all(s.endswith("+08:00") for s in z["saved_at"])
    (v1,) = store.zone_history("Z1")
    assert (v1.version, v1.action, v1.saved_by) == (1, "import", "demo")
    assert v1.attributes["name"] == "甲小区" and v1.attributes["start"] == "2022-03-20"
    assert store.zone_history("nope") == []


def test_create_edit_and_history(new_store):
    store = new_store({"zones": _zones()})
    new = {"id": "Z3", "tier": "controlled", "name": "新管控区", "reason": "病例 2 例", "start": "2022-03-28",
           "planned_end": "2022-04-11", "district_adcode": "140105", "demo": False,
           "geometry": shapely.box(112.55, 37.85, 112.56, 37.86)}
    v = store.save_zone(new, based_on=None, user="planner-a", action="create", now=T0)
    assert (v.zone_id, v.version, v.saved_by, v.action) == ("Z3", 1, "planner-a", "create")
    assert v.saved_at == dt.datetime(2022, 3, 28, 9, 15, tzinfo=v.saved_at.tzinfo)
    row = _zone(store, "Z3")
    assert row["version"] == 1 and row["saved_at"] == "2022-03-28T09:15:00+08:00"

    edited = {**new, "reason": "病例 3 例", "geometry": shapely.box(112.55, 37.85, 112.57, 37.86)}
    v2 = store.save_zone(edited, based_on=1, user="planner-b", action="edit", now=T0 + dt.timedelta(hours=1))
    assert v2.version == 2 and _zone(store, "Z3")["reason"] == "病例 3 例"
    assert "reason: '病例 2 例' → '病例 3 例'" in v2.changes
    assert "geometry: changed" in v2.changes  # and by how much area
    history = store.zone_history("Z3")
    assert [h.version for h in history] == [1, 2]
    assert [h.saved_by for h in history] == ["planner-a", "planner-b"]
    # the other zones are untouched, and the history ids are unique
    assert sorted(store.read("zones")["id"]) == ["Z1", "Z2", "Z3"]
    ids = store.read("zone_history")["id"]
    assert ids.is_unique and history_id("Z3", 2) in set(ids)


def test_a_stale_save_is_refused_and_names_who_saved(new_store):
    store = new_store({"zones": _zones()})
    a = _zone(store, "Z1")  # planner A and planner B both open version 1
    b = dict(a)
    store.save_zone({**a, "reason": "A 的修改"}, based_on=1, user="planner-a", now=T0)
    with pytest.raises(StaleWrite, match=r"changed by planner-a at 2022-03-28 09:15 — reload") as info:
        store.save_zone({**b, "reason": "B 的修改"}, based_on=1, user="planner-b")
    assert "已被 planner-a 于 2022-03-28 09:15 修改，请重新加载" in str(info.value)
    # nothing of B's was written; A's save stands
    assert _zone(store, "Z1")["reason"] == "A 的修改"
    assert [h.version for h in store.zone_history("Z1")] == [1, 2]
    # after reloading, B can save on top of A's version
    v3 = store.save_zone({**_zone(store, "Z1"), "reason": "B 的修改"}, based_on=2, user="planner-b")
    assert v3.version == 3


def test_create_refuses_an_existing_id_and_edit_refuses_an_unknown_one(new_store):
    store = new_store({"zones": _zones()})
    with pytest.raises(ValueError, match="exists already"):
        store.save_zone(_zone(store, "Z1"), based_on=None, user="p", action="create")
    with pytest.raises(ValueError, match="does not exist"):
        store.save_zone({**_zone(store, "Z1"), "id": "Z9"}, based_on=1, user="p")
    with pytest.raises(ValueError, match="who saves"):
        store.save_zone(_zone(store, "Z1"), based_on=1, user="")
    with pytest.raises(ValueError, match="unknown action"):
        store.save_zone(_zone(store, "Z1"), based_on=1, user="p", action="delete")
    assert [h.version for h in store.zone_history("Z1")] == [1]


def test_lift_keeps_the_record_with_its_end_date(new_store):
    store = new_store({"zones": _zones()})
    store.save_zone({**_zone(store, "Z1"), "lifted": "2022-03-30"}, based_on=1, user="p", action="lift")
    assert "Z1" in set(store.read("zones")["id"])  # lifted, not deleted
    assert "Z1" in set(store.read("zones", as_of="2022-03-29")["id"])
    assert "Z1" not in set(store.read("zones", as_of="2022-03-30")["id"])
    assert store.zone_history("Z1")[-1].action == "lift"


def test_restore_an_earlier_version(new_store):
    store = new_store({"zones": _zones()})
    first = _zone(store, "Z2")
    # sealed now: clear of Z1, the sealed zone in force (the store refuses a double)
    store.save_zone({**first, "tier": "sealed", "geometry": shapely.box(112.52, 37.82, 112.6, 37.9)}, based_on=1, user="p")
    v3 = store.restore_zone("Z2", 1, based_on=2, user="q")
    assert (v3.version, v3.action, v3.saved_by) == (3, "restore v1", "q")
    now = _zone(store, "Z2")
    assert now["tier"] == "controlled" and now["geometry"].equals(first["geometry"])
    with pytest.raises(StaleWrite):
        store.restore_zone("Z2", 1, based_on=2, user="q")
    with pytest.raises(ValueError, match="no version 9"):
        store.restore_zone("Z2", 9, based_on=3, user="q")


def test_an_import_bumps_versions_and_records_it(new_store):
    store = new_store({"zones": _zones()})
    store.save_zone({**_zone(store, "Z1"), "name": "改名"}, based_on=1, user="p")
    store.write_layers({"zones": _zones()}, {"zones": "replace"}, user="importer")
    z = store.read("zones").set_index("id")
    assert z.loc["Z1", "version"] == 3 and z.loc["Z2", "version"] == 2
    assert z.loc["Z1", "saved_by"] == "importer"
    assert [h.action for h in store.zone_history("Z1")] == ["import", "edit", "import"]


def test_history_cannot_be_written_directly(new_store):
    store = new_store({"zones": _zones()})
    with pytest.raises(ValueError, match="written by the store"):
        store.write_layers({"zone_history": store.read("zone_history")}, {"zone_history": "replace"})


def test_public_reads_never_include_history(new_store):
    store = new_store({"zones": _zones()})
    with pytest.raises(PermissionError):
        store.read("zone_history", public=True)


# -- the zone rules live on the store's write path (#15): page, CLI import and API get one answer


def _new(zone_id, geometry, tier="sealed", start="2022-03-28"):
    return {"id": zone_id, "tier": tier, "name": f"区域{zone_id}", "reason": "病例", "start": start,
            "planned_end": None, "lifted": None, "district_adcode": "140105", "demo": False, "geometry": geometry}


def _frame(*zones):
    rows = [{k: v for k, v in z.items() if k != "geometry"} for z in zones]
    return gpd.GeoDataFrame(rows, geometry=[z["geometry"] for z in zones], crs="EPSG:4326")


BEIJING = shapely.box(116.30, 39.90, 116.31, 39.91)


def test_the_store_refuses_a_zone_outside_the_city_whoever_writes_it(new_store):
    from layers.zone_rules import ZoneRefused

    store = new_store({"zones": _zones()})
    with pytest.raises(ZoneRefused, match="outside the city") as info:
        store.save_zone(_new("Z8", BEIJING), based_on=None, user="p", action="create")
    assert "区域在城市范围之外" in str(info.value) and "Z8" in str(info.value)
    with pytest.raises(ZoneRefused, match="outside the city"):
        store.write_layers({"zones": _frame(_new("Z8", BEIJING))}, {"zones": "append"})
    with pytest.raises(ZoneRefused, match="outside the city"):
        store.write_layers({"zones": _frame(_new("Z8", BEIJING))}, {"zones": "replace"})
    # an edit moving a stored zone out of the city is refused too
    with pytest.raises(ZoneRefused, match="outside the city"):
        store.save_zone({**_zone(store, "Z1"), "geometry": BEIJING}, based_on=1, user="p")
    assert sorted(store.read("zones")["id"]) == ["Z1", "Z2"]
    assert [h.version for h in store.zone_history("Z1")] == [1]


def test_the_store_refuses_a_double_of_a_zone_of_the_same_tier_in_force(new_store):
    from layers.zone_rules import ZoneRefused

    store = new_store({"zones": _zones()})
    twin = _new("Z5", shapely.box(112.5, 37.8, 112.51, 37.81))  # Z1's shape, sealed, in force
    with pytest.raises(ZoneRefused, match="overlaps existing sealed zone Z1") as info:
        store.save_zone(twin, based_on=None, user="p", action="create")
    assert "与已有封控区 Z1 重叠" in str(info.value)
    with pytest.raises(ZoneRefused, match="Z1"):
        store.write_layers({"zones": _frame(twin)}, {"zones": "append"})
    # two rows of one write doubling each other
    with pytest.raises(ZoneRefused, match="Z6"):
        store.write_layers({"zones": _frame(_new("Z6", shapely.box(112.6, 37.9, 112.61, 37.91)),
                                            _new("Z7", shapely.box(112.6, 37.9, 112.61, 37.91)))}, {"zones": "append"})
    assert sorted(store.read("zones")["id"]) == ["Z1", "Z2"]
    # another tier may overlap (a precaution zone around a sealed one) ...
    store.save_zone({**twin, "tier": "precaution", "id": "Z5"}, based_on=None, user="p", action="create")
    # ... a replace does not check against the zones it replaces ...
    store.write_layers({"zones": _frame({**twin, "id": "Z9"})}, {"zones": "replace"})
    assert sorted(store.read("zones")["id"]) == ["Z9"]


def test_a_zone_may_take_the_place_of_a_lifted_one_or_of_those_it_merges(new_store):
    store = new_store({"zones": _zones()})
    twin = _new("Z5", shapely.box(112.5, 37.8, 112.51, 37.81), start="2022-04-05")
    # lifting never meets the rules (it only ends a zone), even for a zone stored before them
    store.save_zone({**_zone(store, "Z1"), "lifted": "2022-04-01"}, based_on=1, user="p", action="lift")
    store.save_zone(twin, based_on=None, user="p", action="create")  # Z1 is lifted before Z5 starts
    bigger = _new("Z6", shapely.box(112.495, 37.795, 112.515, 37.815), start="2022-04-06")
    store.save_zone(bigger, based_on=None, user="p", action="create", merging=("Z5",))
    assert {"Z5", "Z6"} <= set(store.read("zones")["id"])
    # the page then lifts the merged zone the day the new one starts, saying into which
    from layers.zones import lift_merged

    (done,) = lift_merged(store, ["Z5"], into="Z6", start=dt.date(2022, 4, 6), today=dt.date(2022, 4, 6), user="p")
    assert done == ("Z5", 2, None)
    z5 = _zone(store, "Z5")
    assert str(z5["lifted"])[:10] == "2022-04-06" and "merged into Z6" in z5["reason"]
    # an id no longer stored is passed over
    assert lift_merged(store, ["nope"], into="Z6", start=None, today=dt.date(2022, 4, 6), user="p") == []
