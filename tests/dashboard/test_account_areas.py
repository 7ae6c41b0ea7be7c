"""A grid worker's or site staff's areas are checked against the store on the write path: a typo
would leave a grid worker with an empty list and nobody reached (不漏一人). The CLI and the admin
page get the same answer; editing a site staff account on the admin page keeps its sites."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from dashboard.accounts import AccountError
from tests.dashboard._pages import signed_in_page

PW = "a long enough password"
ADMIN_PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "admin.py")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from data.demo import build_demo, demo_meta
    from layers.store import open_store
    from layers.store.gpkg import write_new_store

    path = tmp_path_factory.mktemp("areas") / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    s = open_store(path)
    nb = str(s.read("neighbourhoods", public=True)["id"].iloc[0])
    site = str(s.read("testing_sites", public=True)["id"].iloc[0])
    return path, nb, site


@pytest.fixture
def db(store):
    from dashboard.audit import accounts_for

    acc = accounts_for(str(store[0]))
    acc._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return acc


def test_unknown_areas_are_refused_naming_each(store, db):
    _, nb, site = store
    with pytest.raises(AccountError) as err:
        db.add("g_typo", "grid", PW, areas=f"{nb} N9999x 999999", by="test")
    text = str(err.value)
    assert "N9999x" in text and "999999" in text and nb not in text.split("：", 1)[1].split(" / ")[0]
    assert "未知的负责范围" in text and "unknown areas" in text
    assert db.get("g_typo") is None  # nothing written
    made = db.add("g_ok", "grid", PW, areas=f"{nb} 140105", by="test")  # a neighbourhood and a district of the city
    assert made.areas == (nb, "140105")
    with pytest.raises(AccountError, match="S-none"):
        db.add("s_typo", "site", PW, areas="S-none", by="test")
    assert db.add("s_ok", "site", PW, areas=site, by="test").areas == (site,)
    with pytest.raises(AccountError, match="N-none"):
        db.update("g_ok", areas="N-none", by="test")
    assert db.get("g_ok").areas == (nb, "140105")


def test_the_cli_gets_the_same_answer(store, monkeypatch, capsys):
    from dashboard.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert main(["user", "add", "g_cli", "--role", "grid", "--areas", "NOPE", "--password-stdin", "--store", str(store[0])]) == 1
    err = capsys.readouterr().err
    assert "unknown areas: NOPE" in err


@pytest.fixture
def admin_page(store, db, monkeypatch):
    """The admin page, headless, for an administrator: ``open()`` runs it with what the store and
    the accounts hold at that moment."""
    from dashboard.ui import settings

    monkeypatch.setenv("RISKMAP_STORE", str(store[0]))
    monkeypatch.delenv("RISKMAP_CONFIG", raising=False)
    settings.clear()
    admin = db.get("a_page") or db.add("a_page", "admin", PW, by="test")

    def open_page() -> AppTest:
        return signed_in_page(ADMIN_PAGE, db, admin)

    yield open_page
    settings.clear()


def test_editing_a_site_staff_account_on_the_admin_page_keeps_its_sites(store, db, admin_page):
    _, _, site = store
    db.add("s_edit", "site", PW, areas=site, display_name="采样点甲", by="test")
    at = admin_page()
    at.selectbox(key="adm_pick").set_value("s_edit").run()
    form_inputs = [w for w in at.text_input if w.value == "采样点甲"]
    form_inputs[0].set_value("采样点乙")
    next(b for b in at.button if b.label in ("保存修改", "Save changes") or "保存" in b.label).click().run()
    assert not at.exception, at.exception
    edited = db.get("s_edit")
    assert edited.display_name == "采样点乙" and edited.areas == (site,)


def test_the_admin_page_warns_of_accounts_whose_areas_the_store_no_longer_has(store, db, admin_page):
    """A neighbourhood removed (a replace import) after a grid worker was given it leaves that
    worker's list without its people: the accounts page says so, naming the account and the area."""
    import sqlite3

    from dashboard.accounts import accounts_location

    path, nb, _ = store
    db.add("g_stale", "grid", PW, areas=nb, by="test")
    with sqlite3.connect(accounts_location(str(path))) as con:  # as if the neighbourhood had been removed since
        con.execute("UPDATE riskmap_users SET areas = ? WHERE name = 'g_stale'", (f"{nb} N-gone",))
    at = admin_page()
    warned = " ".join(w.value for w in at.warning).replace("\\", "")  # names are escaped for markdown
    assert "g_stale" in warned and "N-gone" in warned and "库中已没有" in warned
    table = at.dataframe[0].value
    areas = table.set_index(table.columns[0]).loc["g_stale", "负责区域"]
    assert "N-gone（库中已没有）" in areas
