"""时空伴随者 into the traveller list (layers/companions.py, riskmap companions --flag): the
travellers whose device the detection names are flagged on the detection day, the screening gives
them the companion rule's code, a second run keeps the first day, unknown devices are counted."""

from __future__ import annotations

import pandas as pd
import pytest

from data.demo import SCENARIO_TODAY, build_demo, demo_meta
from layers.companions import flag_companions
from layers.screening_io import screen_store
from layers.store import write_new_store
from layers.stores import open_store


@pytest.fixture
def store(tmp_path):
    layers = build_demo(20220328)
    t = layers["travellers"]
    plain = t[~t["companion"].fillna(False).astype(bool) & ~t["inbound"].fillna(False).astype(bool)].index[:3]
    t["device_id"] = None
    t.loc[plain, "device_id"] = ["aaaa000000000001", "aaaa000000000002", "aaaa000000000003"]
    path = tmp_path / "riskmap.gpkg"
    write_new_store(path, layers, meta=demo_meta(20220328))
    return str(path), list(t.loc[plain, "id"])


def test_found_devices_flag_their_travellers_once(store):
    path, ids = store
    found = pd.DataFrame({"device": ["aaaa000000000001", "aaaa000000000002", "ffff000000000000"]})
    res = flag_companions(path, found, detected=SCENARIO_TODAY, user="cli:test")
    assert (res.flagged, res.already, res.unmatched) == (2, 0, 1)
    t = open_store(path).read("travellers").set_index("id")
    assert t.loc[ids[:2], "companion"].all() and not t.loc[ids[2], "companion"]
    assert (pd.to_datetime(t.loc[ids[:2], "companion_date"]) == pd.Timestamp(SCENARIO_TODAY)).all()
    screened = screen_store(path, SCENARIO_TODAY, followup=False)
    kinds = set(screened.obligations.loc[screened.obligations["traveller_id"].isin(ids[:2]), "kind"])
    assert any("companion" in k for k in kinds)
    # a later detection keeps the first day
    again = flag_companions(path, found, detected="2022-03-29", user="cli:test")
    assert (again.flagged, again.already) == (0, 2)
    t2 = open_store(path).read("travellers").set_index("id")
    assert (pd.to_datetime(t2.loc[ids[:2], "companion_date"]) == pd.Timestamp(SCENARIO_TODAY)).all()
