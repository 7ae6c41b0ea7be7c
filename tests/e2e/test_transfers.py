"""集中隔离转运 in the browser: a planner opens the transfer page, sees the plan (figures, the map
with its lines, the hotels' free rooms before → after), confirms it, and sees the rooms change and
nobody left to place; the workbook they download holds IDs only (planners see no names).

Runs its own server on a copy of the demo store: confirming records outcomes that the other
browser tests' figures must not see."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from tests.e2e import helpers
from tests.e2e.conftest import ARTIFACTS, running_server, store_copy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_store(demo_store, accounts, tmp_path_factory):
    return store_copy(demo_store, tmp_path_factory.mktemp("transfers"))


def _metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has=page.get_by_text(label, exact=True)).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def _settled(page) -> None:
    page.get_by_text("集中隔离转运").first.wait_for(timeout=90_000)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=120_000)


def test_a_planner_makes_and_confirms_a_transfer_plan(own_store, browser):
    from geo.followup import hotel_rooms_free, moved_in_per_hotel
    from layers.followup import load_states
    from layers.store import open_store
    from layers.store.records import records_for

    with running_server(own_store, log_name="server-transfers.log") as url:
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)
        requests: list[str] = []
        ctx.on("request", lambda r: requests.append(r.url))
        try:
            page = ctx.new_page()
            helpers.login(page, url, "planner")
            page.goto(f"{url}/transfers?lang=zh", wait_until="domcontentloaded")
            _settled(page)
            to_place = int(_metric(page, "待转运").replace(",", ""))
            placed = int(_metric(page, "已安排").replace(",", ""))
            assert to_place > 0 and placed > 0
            assert re.fullmatch(r"[\d,.]+ 公里", _metric(page, "总路程"))
            state = helpers.map_state(page)
            assert state["polygons"] > 0
            assert "转运路线（社区→酒店）" in state["control"]
            page.screenshot(path=str(ARTIFACTS / "transfers-plan.png"), full_page=True)

            with page.expect_download() as dl:
                page.get_by_role("button", name="下载转运方案（XLSX，按酒店与车次）").click()
            wb = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))  # the download has no .xlsx name
            headers = {c.value for ws in wb.worksheets[3:-1] for c in ws[1]}
            assert "人员编号 Person ID" in headers and "姓名 Name" not in headers and "电话 Phone" not in headers

            hotels = open_store(own_store).read("hotels")
            records = records_for(str(own_store))
            free_before = int(hotel_rooms_free(hotels, moved_in_per_hotel(load_states(records))).sum())
            page.get_by_text(f"已核对方案，确认转运 {placed} 人").click()
            page.get_by_role("button", name="确认并记录转运").click()
            page.get_by_text("目前没有需要转运集中隔离的人员。").or_(page.get_by_text("房间不足")).first.wait_for(timeout=120_000)
            _settled(page)
            assert int(_metric(page, "待转运").replace(",", "")) == to_place - placed
            free_after = int(hotel_rooms_free(hotels, moved_in_per_hotel(load_states(records))).sum())
            assert free_before - free_after == placed
            page.screenshot(path=str(ARTIFACTS / "transfers-confirmed.png"), full_page=True)
        finally:
            ctx.close()
    assert [u for u in requests if not u.startswith(url) and not u.startswith(("data:", "blob:"))] == []
