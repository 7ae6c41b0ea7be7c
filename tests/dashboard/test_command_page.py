"""The command page below its map, run headless (Streamlit AppTest): the companion aggregates and
the zone history are behind switches, so nothing of them is built (no table for the browser to
draw before the map) until someone turns one on; turned on, they show what the store holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from dashboard.accounts import Accounts, accounts_location
from dashboard.i18n import t
from tests.dashboard._pages import signed_in_page

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "command.py")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The demo store with one companion detection kept (through the command line, as in use)."""
    from dashboard.cli import main
    from data.demo import SCENARIO_TODAY, build_demo, demo_meta
    from layers.store.gpkg import write_new_store

    folder = tmp_path_factory.mktemp("command")
    path = folder / "riskmap.gpkg"
    layers = build_demo(20220328)
    home = layers["travellers"].geometry.dropna().iloc[0]
    write_new_store(path, layers, meta=demo_meta(20220328))
    rows = [("aaaa000000000009", home.x, home.y, f"2022-03-{20 + d} 20:00", f"2022-03-{21 + d} 08:00") for d in range(3)]
    rows += [(f"bbbb00000000000{i}", home.x, home.y, "2022-03-22 06:00", "2022-03-22 07:00") for i in range(4)]
    pd.DataFrame(rows, columns=["device", "lon", "lat", "start", "end"]).to_csv(folder / "r.csv", index=False)
    pd.DataFrame({"device": ["aaaa000000000009"], "infectious_from": ["2022-03-19"], "infectious_to": [None]}).to_csv(
        folder / "c.csv", index=False)
    assert main(["companions", "--records", str(folder / "r.csv"), "--cases", str(folder / "c.csv"), "--as-of", SCENARIO_TODAY,
                 "--out", str(folder / "found.csv"), "--flag", "--store", str(path)]) == 0
    return path


@pytest.fixture
def page(store, monkeypatch) -> AppTest:
    from dashboard.ui import settings

    monkeypatch.setenv("RISKMAP_STORE", str(store))
    monkeypatch.delenv("RISKMAP_CONFIG", raising=False)
    settings.clear()
    db = Accounts(accounts_location(str(store)), hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    account = db.get("command1") or db.add("command1", "command", "a long enough password")
    yield signed_in_page(PAGE, db, account)
    settings.clear()


def _toggle(at: AppTest, key: str):
    return next(w for w in at.toggle if w.key == key)


def test_nothing_below_the_map_is_built_until_its_switch_is_on(page):
    assert page.get("component_instance")  # the map is there
    assert len(page.dataframe) == 0  # no table: the browser has nothing to draw before the map
    assert [w.key for w in page.selectbox] == []
    switch = _toggle(page, "cmp_open")
    assert "伴随者 4 人" in switch.label and "病例 1 名" in switch.label  # the headline is shown while off
    assert not switch.value and not _toggle(page, "zone_hist_open").value


def test_the_companion_switch_shows_the_aggregates(page):
    _toggle(page, "cmp_open").set_value(True).run()
    assert not page.exception, page.exception
    by_nb, cells = page.dataframe
    assert by_nb.value[t("cmp_col_n", "zh")].sum() == 4  # every companion, counted where they met the case
    assert cells.value[t("cmp_col_n", "zh")].tolist() == [4]  # one cell, none suppressed (4 ≥ 3)


def test_the_zone_history_switch_shows_a_zones_versions(page):
    _toggle(page, "zone_hist_open").set_value(True).run()
    assert not page.exception, page.exception
    (pick,) = page.selectbox
    assert pick.key == "zone_hist" and pick.value
    (table,) = page.dataframe
    assert len(table.value) >= 1  # the chosen zone's versions


def test_the_risk_area_history_names_the_list_and_user_behind_each_entry(page, store):
    """Lists applied by `riskmap import risk_areas --mode daily` are recorded; the history table
    says which list (and who) started and ended each entry."""
    from layers.store import open_store
    from tests.layers.test_risk_daily_list import apply_high_then_medium

    apply_high_then_medium(store, store.parent, "H1", prefix="h")
    assert "H1" in set(open_store(store).read("risk_areas")["id"])
    page.session_state["view"] = "national"  # the risk areas' history is on the national view
    page.run()
    _toggle(page, "risk_hist_open").set_value(True).run()
    assert not page.exception, page.exception
    pick = next(w for w in page.selectbox if w.key == "risk_hist")
    pick.set_value("H1").run()
    assert not page.exception, page.exception
    table = page.dataframe[-1].value
    cols = t("risk_history_cols", "zh").split("|")
    assert list(table[cols[1]]) == ["高风险区", "中风险区"]
    assert table[cols[5]].tolist()[0].startswith("h29.csv · cli:") and table[cols[6]].tolist()[0].startswith("h30.csv · cli:")
    assert table[cols[5]].tolist()[1].startswith("h30.csv · cli:") and table[cols[6]].tolist()[1] == ""
