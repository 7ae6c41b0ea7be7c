"""The resident page takes the browser's own location (a secure context: the machine itself)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_use_my_location_sets_the_answer(app_url, browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation={"latitude": 37.8571, "longitude": 112.5712},
        permissions=["geolocation"],
    )
    foreign: list[str] = []
    context.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((app_url, "data:", "blob:", "about:")) else None)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/resident?lang=zh", wait_until="domcontentloaded")
        frame = page.frame_locator("iframe[title*='geolocate']")
        button = frame.get_by_role("button", name="使用我的位置")
        button.wait_for(timeout=60_000)
        assert button.is_enabled()  # 127.0.0.1 is a secure context
        button.click()
        page.wait_for_function("() => location.search.includes('loc=112.5712')", timeout=60_000)
        page.get_by_text("最近的核酸检测点").first.wait_for(timeout=60_000)
        assert page.get_by_text("我的位置").count() > 0
        assert foreign == []
    finally:
        context.close()
