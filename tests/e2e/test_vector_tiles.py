"""Vector tiles in the browser: a server told to tile the neighbourhoods (any layer of 100 or more
features) draws them from its own tile route with the vendored protomaps-leaflet — nothing
leaves the machine — and a click on a neighbourhood names it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, running_server, store_copy
from tests.e2e.helpers import login, map_state

pytestmark = pytest.mark.e2e

TILED_JS = """
() => {
  const m = window.map;
  if (!m || !window.protomapsL) return null;
  let layer = null;
  m.eachLayer(l => { if (l.paintRules && l.queryTileFeaturesDebug) layer = l; });
  if (!layer) return {layer: false};
  const c = m.getCenter();
  let names = [];
  layer.queryTileFeaturesDebug(c.lng, c.lat).forEach(list => list.forEach(p => names.push(p.feature.props.name)));
  return {layer: true, canvases: document.querySelectorAll('.leaflet-tile-container canvas').length, names: names};
}
"""


@pytest.fixture(scope="module")
def tiled_url(demo_store, accounts, tmp_path_factory):
    store = store_copy(demo_store, tmp_path_factory.mktemp("tiled"))
    with running_server(store, log_name="server-tiles.log", settings={"RISKMAP_VECTOR_TILES_MIN_FEATURES": "100"}) as url:
        yield url


def test_neighbourhoods_come_as_vector_tiles_from_the_app(tiled_url, page_and_traffic):
    page, traffic = page_and_traffic
    page.goto(f"{tiled_url}/resident?loc=112.5600,37.8600&lang=zh", wait_until="domcontentloaded")
    page.locator(".rm-site").first.wait_for(timeout=60_000)
    page.locator("iframe[title*='streamlit_folium']").scroll_into_view_if_needed(timeout=60_000)
    map_state(page)  # the map has drawn
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    state = None
    for _ in range(120):  # the first tiles wait for the set to be built (in the background)
        state = frame.evaluate(TILED_JS)
        if state and state.get("layer") and state["canvases"] and state["names"]:
            break
        page.wait_for_timeout(500)
    assert state and state["layer"] and state["canvases"] > 0, state
    assert state["names"] and all(isinstance(n, str) and n for n in state["names"])  # the tile under the centre
    tile_requests = [u for u in traffic.requests if "/tiles/neighbourhoods/" in u]
    assert tile_requests and all(u.startswith(tiled_url) and u.endswith(".mvt") for u in tile_requests)
    assert any("protomaps-leaflet.js" in u for u in traffic.requests)
    assert not [f for f in traffic.failures if "/tiles/" in f]
    assert traffic.foreign(tiled_url) == []


def _tile_frame(page):
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    for _ in range(120):
        state = frame.evaluate(TILED_JS)
        if state and state.get("layer") and state["canvases"] and state["names"]:
            return frame
        page.wait_for_timeout(500)
    raise AssertionError("no vector tiles drawn")


def test_a_click_on_a_tiled_neighbourhood_names_it(tiled_url, page_and_traffic):
    page, traffic = page_and_traffic
    login(page, tiled_url, "command")
    page.goto(f"{tiled_url}/?lang=zh", wait_until="domcontentloaded")
    map_state(page)
    frame = _tile_frame(page)
    frame.evaluate("() => window.map.setView([37.8571, 112.5712], 15)")  # the urban core, at neighbourhood zoom
    page.wait_for_timeout(1500)
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(position={"x": box["width"] / 2 + 30, "y": box["height"] / 2 + 30})
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "社区/村：" in text and "人口：" in text, text
    page.wait_for_timeout(1000)  # the popup and the tiles fade in
    page.screenshot(path=str(ARTIFACTS / "command-vector-tiles.png"))
    assert traffic.foreign(tiled_url) == []
