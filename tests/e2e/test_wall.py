"""The wall screen (大屏) in the browser: signed in, every default layer drawn, figures and
bulletin above the map, nothing fetched from outside the machine, imported text shown as text;
other roles refused and nobody signed in sent to sign in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, XSS_NAME, XSS_POINT
from tests.e2e.helpers import MAP_STATE_JS, login
from tests.e2e.test_escaping import OPEN_JS

pytestmark = pytest.mark.e2e


def _drawn(page) -> dict:
    page.wait_for_function(
        "() => { const m = window.map; if (!m || !window.L) return false; let p = 0, k = 0;"
        " m.eachLayer(l => { if (l instanceof L.Polygon) p++; else if (l instanceof L.Marker) k++; });"
        " return p >= 300 && k > 0; }",
        timeout=60_000,
    )
    page.wait_for_timeout(1000)  # fonts and marker icons settle
    return page.evaluate(MAP_STATE_JS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_wall_screen_draws_offline_with_figures(app_url, page_and_traffic, lang):
    page, traffic = page_and_traffic
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, app_url, "command", lang=lang)
    response = page.goto(f"{app_url}/wall?lang={lang}", wait_until="domcontentloaded")
    assert response.status == 200
    state = _drawn(page)
    assert state["scale"] and state["faFont"] and state["awesome"] > 0
    assert ("中高风险区" if lang == "zh" else "Medium/high risk areas") in state["control"]
    assert ("图例" if lang == "zh" else "Legend") in state["legend"]
    figures = page.locator(".fig")
    assert figures.count() == 7
    assert ("隔离房间" if lang == "zh" else "Quarantine rooms") in page.locator(".figs").inner_text()
    assert ("最新日报" if lang == "zh" else "Latest daily report") in page.locator(".bulletin").inner_text()
    assert ("演示数据" if lang == "zh" else "Demo data") in page.locator(".demo").inner_text()
    # the hostile testing site's name is shown as text in its tooltip and popup
    result = page.evaluate(OPEN_JS, [XSS_POINT[1], XSS_POINT[0]])
    assert result is not None and XSS_NAME in result["tooltip"] and XSS_NAME in result["popup"]
    assert result["injected"] == 0 and dialogs == []
    page.goto(f"{app_url}/wall?lang={lang}", wait_until="domcontentloaded")
    _drawn(page)
    page.screenshot(path=str(ARTIFACTS / f"wall_{lang}.png"))
    assert traffic.foreign(app_url) == []
    assert traffic.failures == []


def test_wall_screen_national_view(app_url, page_and_traffic):
    page, traffic = page_and_traffic
    login(page, app_url, "grid")  # every role that may open the command page may open the wall
    page.goto(f"{app_url}/wall?view=national&as_of=2022-03-28", wait_until="domcontentloaded")
    page.wait_for_function("() => window.map && document.querySelector('.rm-legend')", timeout=60_000)
    nav = page.locator("header nav").inner_text()
    assert "本市" in nav and "全国" not in nav  # the switch now offers the city view
    page.wait_for_function("() => window.protomapsL && document.querySelector('.leaflet-tile-container canvas')", timeout=60_000)
    assert [u for u in traffic.requests if "/tiles/counties/" in u]  # the counties, from the app's own tiles
    assert traffic.foreign(app_url) == [] and traffic.failures == []


def test_wall_screen_refuses_other_roles_and_asks_to_sign_in(app_url, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{app_url}/wall", wait_until="domcontentloaded")
    assert page.url.rstrip("/").endswith("?lang=zh")  # sent to the app, which shows its sign-in
    login(page, app_url, "admin")
    response = page.goto(f"{app_url}/wall", wait_until="domcontentloaded")
    assert response.status == 403
    assert "不能查看" in page.inner_text("body")
    context.close()


def test_wall_first_after_a_restart_leaves_every_map_drawn(demo_store, accounts, browser):
    """Defect (high): after a restart, a first request to /wall left the streamlit-folium
    component unregistered, and every map on every page stayed grey until the next restart."""
    import urllib.request

    from dashboard.accounts import Accounts, accounts_location
    from tests.e2e.conftest import CHROMIUM_ARGS, running_server  # noqa: F401 - the same browser flags
    from tests.e2e.helpers import map_state

    db = Accounts(accounts_location(str(demo_store)))
    token = db.open_session(db.get(accounts["command"][0]))
    with running_server(demo_store, log_name="server-wall-first.log") as url:
        req = urllib.request.Request(f"{url}/wall?lang=zh", headers={"Cookie": f"riskmap_session={token}"})
        with urllib.request.urlopen(req, timeout=120) as r:  # the wall screen is the first client
            assert r.status == 200 and b"leaflet" in r.read().lower()
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
        try:
            context.add_cookies([{"name": "riskmap_session", "value": token, "url": url}])
            failures: list[str] = []
            context.on("response", lambda resp: failures.append(resp.url) if resp.status == 404 and "component" in resp.url else None)
            page = context.new_page()
            page.goto(f"{url}/?lang=zh", wait_until="domcontentloaded")
            assert map_state(page)["polygons"] > 100  # the command page's map is drawn
            page.goto(f"{url}/resident?loc=112.5712,37.8571&lang=zh", wait_until="domcontentloaded")
            assert map_state(page)["polygons"] > 100  # and the public page's
            assert failures == []
        finally:
            context.close()
