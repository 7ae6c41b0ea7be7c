"""我去过风险区吗？ on the public resident page: an itinerary entered on a phone gets its answer, and
nothing of it is stored, logged, put in the share link or shown to another visitor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
MARKER = "XQZ7"  # typed into the place: findable wherever the itinerary might have gone
PLACE = f"安徽省淮南市凤台县{MARKER}小区"


def _fill_date(page, label: str, value: str) -> None:
    """Type ``YYYY/MM/DD`` into a date field: its year, month and day segments in turn."""
    field = page.get_by_label(label).first
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(value.replace("/", ""))
    page.keyboard.press("Tab")


def _open(page, app_url: str) -> None:
    page.goto(f"{app_url}/resident?lang=zh", wait_until="domcontentloaded")
    page.get_by_text("我去过风险区吗？（行程自查）").click(timeout=60_000)
    page.get_by_text("不保存、不记录").wait_for(timeout=30_000)  # the page says so


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_an_itinerary_is_answered_and_goes_nowhere(app_url, page_and_traffic, browser, demo_store):
    page, traffic = page_and_traffic
    _open(page, app_url)
    page.get_by_label("地点 1").fill(PLACE)
    _fill_date(page, "到达日期", "2022/03/17")
    _fill_date(page, "离开日期", "2022/03/20")
    page.get_by_role("button", name="查询").click()
    status = page.locator(".rm-status[data-code]")
    status.wait_for(timeout=60_000)
    stay = page.locator("[data-stay='1']")
    stay.wait_for(timeout=30_000)
    text = stay.inner_text()
    assert "凤台县演示风险区" in text and "列为风险区" in text  # the entries in force there then
    assert status.get_attribute("data-code") in ("red", "yellow", "pending")
    page.screenshot(path=str(ARTIFACTS / "resident-itinerary-zh.png"), full_page=True)

    # not in the share link nor the address bar
    link = page.locator("code", has_text="/resident").first.inner_text()
    assert MARKER not in link and MARKER not in page.url
    # not stored: nothing beside the store (GeoPackage, accounts, records, audit, journals) holds it
    found = [p.name for p in Path(demo_store).parent.iterdir() if p.is_file() and MARKER.encode() in p.read_bytes()]
    assert found == []
    # not logged
    assert MARKER not in (ARTIFACTS / "server.log").read_text(encoding="utf-8", errors="replace")
    # not on disk in any cache of the app's own
    cache = Path.home() / ".streamlit" / "cache"
    if cache.exists():
        assert [p for p in cache.rglob("*") if p.is_file() and MARKER.encode() in p.read_bytes()] == []
    # not shown to another visitor: a second browser opens the page with an empty itinerary
    other = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        second = other.new_page()
        _open(second, app_url)
        second.wait_for_timeout(1500)
        assert second.get_by_label("地点 1").input_value() == ""
        assert MARKER not in second.content()
        assert second.locator(".rm-status[data-code]").count() == 0
    finally:
        other.close()
    assert traffic.foreign(app_url) == []


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_an_itinerary_that_cannot_be_checked_says_why(app_url, page_and_traffic):
    page, _ = page_and_traffic
    _open(page, app_url)
    page.get_by_label("地点 1").fill("安徽省淮南市凤台县")
    _fill_date(page, "到达日期", "2022/03/20")
    _fill_date(page, "离开日期", "2022/03/18")
    page.get_by_role("button", name="查询").click()
    page.get_by_text("离开日期 2022-03-18 早于到达日期 2022-03-20").wait_for(timeout=60_000)
    assert "before arriving" not in page.content()  # one language at a time
