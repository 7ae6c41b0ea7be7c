"""More than one app server on one PostGIS store (a command centre behind a proxy): a session
signed in on one server is valid on the other; a zone saved on one is seen on the other on its
next page run; a stale save across them is refused with who and when; a sign-out on one ends the
session on both."""

from __future__ import annotations

import pytest

from tests.e2e import helpers
from tests.e2e.conftest import running_server

pytestmark = pytest.mark.e2e

PW = "Two-servers-one-store-9!"


@pytest.fixture(scope="module")
def pg_store(tmp_path_factory):
    """The demo scenario in a fresh PostGIS database, with a planner and a command account."""
    from dashboard.accounts import Accounts, accounts_location
    from data.demo import build_demo, demo_meta
    from layers.store import write_new_store_at
    from tests.conftest import _Cluster, _postgis_unavailable, _server_bin

    bin_dir = _server_bin()
    reason = _postgis_unavailable(bin_dir)
    if reason:
        pytest.skip(reason)
    cluster = _Cluster(bin_dir)
    cluster.start()
    try:
        cluster.execute("CREATE DATABASE two_servers")
        cluster.execute("CREATE EXTENSION IF NOT EXISTS postgis", database="two_servers")
        url = cluster.url("two_servers")
        write_new_store_at(url, build_demo(20220328), meta=demo_meta(20220328))
        db = Accounts(accounts_location(url))
        for role in ("planner", "command"):
            db.add(f"two_{role}", role, PW, display_name=f"两台 {role}")
        yield url
    finally:
        cluster.stop()


def _edit(page, base: str, name: str, zone_id: str, version: int) -> None:
    """Open zone ``name`` for editing on the planning page and wait for the version it is based on."""
    page.goto(f"{base}/planning?lang=zh", wait_until="domcontentloaded")
    page.get_by_role("radiogroup", name="功能").get_by_text("编辑已有区域", exact=True).click()
    page.get_by_role("combobox", name="选择区域").click()
    page.get_by_role("option", name=name).click()
    page.get_by_text(f"正在编辑 {zone_id}，基于版本 {version}").wait_for(timeout=60_000)


def test_two_servers_share_sessions_zones_and_conflicts(pg_store, browser):
    from layers.store import open_store

    zones = open_store(pg_store).read("zones")
    first, second = zones.iloc[0], zones.iloc[1]
    with running_server(pg_store, log_name="server-a.log") as a, running_server(pg_store, log_name="server-b.log") as b:
        helpers.CREDENTIALS["two_planner"] = ("two_planner", PW)
        ctx_a = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        ctx_b = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        try:
            # signed in on A; the same session cookie opens B's pages
            pa = ctx_a.new_page()
            helpers.login(pa, a, "two_planner")
            cookie = helpers.session_cookie(pa)
            ctx_b.add_cookies([{"name": "riskmap_session", "value": cookie, "url": b}])
            pb = ctx_b.new_page()
            pb.goto(f"{b}/planning?lang=zh", wait_until="domcontentloaded")
            pb.get_by_text("演示数据").first.wait_for(timeout=90_000)
            assert pb.get_by_text("需要登录").count() == 0

            # a zone saved on A is seen on B on its next page run
            _edit(pb, b, first["name"], first["id"], int(first["version"]))
            _edit(pa, a, first["name"], first["id"], int(first["version"]))
            pa.get_by_label("原因", exact=True).fill("甲服务器的修改")
            pa.wait_for_timeout(800)
            pa.get_by_role("button", name="保存修改").click()
            pa.get_by_text(f"（编号 {first['id']}，版本 {int(first['version']) + 1}）").first.wait_for(timeout=60_000)
            _edit(pb, b, first["name"], first["id"], int(first["version"]) + 1)

            # a stale save across the servers is refused with who and when
            _edit(pb, b, second["name"], second["id"], int(second["version"]))
            _edit(pa, a, second["name"], second["id"], int(second["version"]))
            pa.get_by_label("原因", exact=True).fill("甲先保存")
            pa.wait_for_timeout(800)
            pa.get_by_role("button", name="保存修改").click()
            pa.get_by_text(f"（编号 {second['id']}，版本 {int(second['version']) + 1}）").first.wait_for(timeout=60_000)
            pb.get_by_label("原因", exact=True).fill("乙后保存")
            pb.wait_for_timeout(800)
            pb.get_by_role("button", name="保存修改").click()
            pb.get_by_text("已被 two_planner 于", exact=False).first.wait_for(timeout=60_000)
            latest = open_store(pg_store).read("zones").set_index("id").loc[second["id"]]
            assert (latest["reason"], int(latest["version"])) == ("甲先保存", int(second["version"]) + 1)

            # a sign-out on A ends the session on B too
            pa.get_by_role("button", name="退出登录").click()
            pa.get_by_text("已退出登录").first.wait_for(timeout=60_000)
            pb.goto(f"{b}/planning?lang=zh", wait_until="domcontentloaded")
            pb.get_by_text("需要登录").first.wait_for(timeout=60_000)
            assert pb.get_by_text("演示数据").count() == 0
        finally:
            ctx_a.close()
            ctx_b.close()
