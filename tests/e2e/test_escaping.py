"""A hostile name from imported data shows as text in the browser: no script runs, no element appears."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import map_state, search_place

pytestmark = pytest.mark.e2e

XSS_NAME = "<img src=x onerror=alert(1)>"
LON, LAT = 112.5712, 37.8571

OPEN_JS = """
([lat, lng]) => new Promise(resolve => {
  window.map.setView([lat, lng], 17, {animate: false});
  setTimeout(() => {
    let found = null;
    window.map.eachLayer(l => {
      if (l instanceof L.Marker && l.getTooltip && l.getTooltip()) {
        const c = String(l.getTooltip().getContent());
        if (c.includes('onerror')) found = l;
      }
    });
    if (!found) { resolve(null); return; }
    found.openTooltip();
    found.openPopup();
    setTimeout(() => resolve({
      tooltip: (document.querySelector('.leaflet-tooltip') || {}).innerText || '',
      popup: (document.querySelector('.leaflet-popup-content') || {}).innerText || '',
      injected: document.querySelectorAll('img[src="x"]').length,
    }), 300);
  }, 800);
})
"""


def test_hostile_site_name_is_shown_as_text(app_url, page_and_traffic):
    page, traffic = page_and_traffic
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{app_url}/resident?lang=zh", wait_until="domcontentloaded")
    map_state(page)
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    result = frame.evaluate(OPEN_JS, [LAT, LON])
    assert result is not None, "the hostile site's marker was not found on the map"
    assert XSS_NAME in result["tooltip"]
    assert XSS_NAME in result["popup"]
    assert result["injected"] == 0
    assert dialogs == []
    assert traffic.foreign(app_url) == []


def test_markdown_in_a_site_name_is_shown_as_text_on_the_public_page(app_url, page_and_traffic):
    """Attack: a site named ``![x](http://…/track.png)`` rendered an image in the resident page's
    suggestion buttons, so the browser fetched it. The suggestions while typing show it as text too."""
    from tests.e2e.conftest import MD_NAME

    page, traffic = page_and_traffic
    page.goto(f"{app_url}/resident?lang=zh", wait_until="domcontentloaded")
    search_place(page, "追踪标记")
    # the suggestion is text; chosen, its name is the location line's, as text
    where = page.locator(".rm-where").filter(has_text="追踪标记")
    where.first.wait_for(timeout=60_000)
    assert MD_NAME in where.first.inner_text()
    page.wait_for_timeout(1000)
    assert [u for u in traffic.requests if "track.png" in u] == []
    assert page.locator("img[src*='track.png']").count() == 0
    assert traffic.foreign(app_url) == []
