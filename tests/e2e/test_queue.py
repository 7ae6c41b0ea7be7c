"""排队情况 in the browser: sampling-site staff report a queue level from a phone; a resident near
that site sees the level and its time on the site's card, and nothing else of the report (not the
wait, not who reported) reaches the public page; the "not crowded" filter leaves the site out.

Runs its own server on a copy of the demo store: the reports must not change what the other
browser tests' resident cards say."""

from __future__ import annotations

import pytest

from tests.e2e import helpers
from tests.e2e.conftest import ARTIFACTS, SITE_AREAS, running_server, store_copy

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
WAIT = 137  # minutes: never shown to residents (a bare number may occur in any payload: look for it as a wait)


@pytest.fixture(scope="module")
def own_store(demo_store, accounts, tmp_path_factory):
    return store_copy(demo_store, tmp_path_factory.mktemp("queue"))


def test_site_staff_report_and_a_resident_sees_the_level_only(own_store, browser):
    from layers.store import open_store

    sites = open_store(own_store).read("testing_sites").set_index("id")
    site = SITE_AREAS[0]
    lon, lat = sites.loc[site, "geometry"].x, sites.loc[site, "geometry"].y
    with running_server(own_store, log_name="server-queue.log") as url:
        staff = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True)
        public = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True)
        received: list[bytes] = []
        requests: list[str] = []
        public.on("request", lambda r: requests.append(r.url))
        try:
            page = staff.new_page()
            helpers.login(page, url, "site")
            page.goto(f"{url}/queue?lang=zh", wait_until="domcontentloaded")
            page.get_by_text("尚无上报").wait_for(timeout=90_000)
            # the site list holds only their own sites
            page.get_by_role("combobox", name="检测点").click()
            options = page.get_by_role("option").all_inner_texts()
            assert sorted(o.split(" · ")[0] for o in options) == sorted(SITE_AREAS)
            page.keyboard.press("Escape")
            page.get_by_role("radio", name="拥堵", exact=True).click()
            page.get_by_label("预计等候（分钟，可不填）").fill(str(WAIT))
            page.get_by_label("预计等候（分钟，可不填）").press("Enter")
            page.wait_for_timeout(500)
            page.get_by_role("button", name="上报", exact=True).click()
            page.get_by_text("当前：拥堵").wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "queue-report-phone.png"), full_page=True)

            res = public.new_page()
            res.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(f if isinstance(f, bytes) else f.encode())))
            res.goto(f"{url}/resident?lang=zh&loc={lon:.5f},{lat:.5f}", wait_until="domcontentloaded")
            card = res.locator(f".rm-site[data-site-id='{site}']")
            card.wait_for(timeout=90_000)
            queue = card.locator(".rm-queue")
            assert queue.get_attribute("data-queue") == "crowded"
            assert queue.inner_text().startswith("排队：拥堵（")
            res.screenshot(path=str(ARTIFACTS / "queue-resident-phone.png"), full_page=True)
            # nothing but the level and the time: not the wait, not the reporter
            blob = b"".join(received)
            assert b"wait_min" not in blob and f"{WAIT} 分钟".encode() not in blob and f"{WAIT} min".encode() not in blob
            assert b"e2e_site" not in blob and "测试 site".encode() not in blob
            # the "not crowded" filter leaves the site out
            res.goto(f"{url}/resident?lang=zh&loc={lon:.5f},{lat:.5f}&quiet=1", wait_until="domcontentloaded")
            res.locator(".rm-site").first.wait_for(timeout=90_000)
            res.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
            assert res.locator(f".rm-site[data-site-id='{site}']").count() == 0
        finally:
            staff.close()
            public.close()
    assert [u for u in requests if not u.startswith(url) and not u.startswith(("data:", "blob:"))] == []
