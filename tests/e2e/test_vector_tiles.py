"""Vector tiles in the browser: a server told to tile the neighbourhoods (any layer of 100 or more
features) draws them from its own tile route with the vendored protomaps-leaflet — nothing
leaves the machine — and a click on a neighbourhood names it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, running_server, store_copy
from tests.e2e.helpers import login, map_state, open_national_view

pytestmark = pytest.mark.e2e

TILES_JS = """
(key) => {
  const m = window.map;
  if (!m || !window.protomapsL) return null;
  let layer = null;
  m.eachLayer(l => { if (l.paintRules && l.queryTileFeaturesDebug && String(l.options.url).includes(`/tiles/${key}/`)) layer = l; });
  if (!layer) return {layer: false};
  const c = m.getCenter();
  let names = [];
  layer.queryTileFeaturesDebug(c.lng, c.lat).forEach(list => list.forEach(p => names.push(p.feature.props.name)));
  return {layer: true, canvases: document.querySelectorAll('.leaflet-tile-container canvas').length, names: names};
}
"""


def _tile_state(page, key: str) -> tuple[object, dict | None]:
    """The map's frame and the state of its ``key`` tile layer once drawn with names under the
    centre (the first tiles wait for the set to be built in the background), else the last seen."""
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    state = None
    for _ in range(120):
        state = frame.evaluate(TILES_JS, key)
        if state and state.get("layer") and state["canvases"] and state["names"]:
            break
        page.wait_for_timeout(500)
    return frame, state


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
    _frame, state = _tile_state(page, "neighbourhoods")
    assert state and state["layer"] and state["canvases"] > 0, state
    assert state["names"] and all(isinstance(n, str) and n for n in state["names"])  # the tile under the centre
    tile_requests = [u for u in traffic.requests if "/tiles/neighbourhoods/" in u]
    assert tile_requests and all(u.startswith(tiled_url) and u.endswith(".mvt") for u in tile_requests)
    assert any(u.endswith("/riskmap/leaflet-tiles-bundle.js") for u in traffic.requests)  # Leaflet and protomaps-leaflet in one
    assert not [f for f in traffic.failures if "/tiles/" in f]
    assert traffic.foreign(tiled_url) == []


def test_a_click_on_a_tiled_neighbourhood_names_it(tiled_url, page_and_traffic):
    page, traffic = page_and_traffic
    login(page, tiled_url, "command")
    page.goto(f"{tiled_url}/?lang=zh", wait_until="domcontentloaded")
    map_state(page)
    frame, state = _tile_state(page, "neighbourhoods")
    assert state and state["layer"] and state["canvases"] and state["names"], f"no vector tiles drawn: {state}"
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


def test_the_national_view_draws_every_county_from_the_apps_tiles(app_url, page_and_traffic):
    """Default settings: the national view's 2,875 counties come as tiles from the app (not
    megabytes inline); at zoom 8 over Taiyuan the tiles name its counties, a click names one."""
    page, traffic = page_and_traffic
    assert "区县界" in open_national_view(page, app_url)["control"]  # listed in the layer switcher
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    frame.evaluate("() => { window.map.setView([37.80, 112.55], 8); }")
    frame, state = _tile_state(page, "counties")
    assert state and state["layer"] and state["names"], state
    assert set(state["names"]) & {"小店区", "迎泽区", "晋源区", "清徐县", "杏花岭区", "万柏林区", "尖草坪区"}, state["names"]
    frame.evaluate("() => { window.__rmClick = null; window.map.once('click', e => { window.__rmClick = [e.latlng.lng, e.latlng.lat]; }); }")
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(position={"x": box["width"] / 2 + 20, "y": box["height"] / 2 + 20})
    popup = frame.locator(".leaflet-popup-content").last
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    # the county the click fell in, by the boundary file itself
    import shapely

    from layers.boundaries import china_counties

    lon, lat = frame.evaluate("() => window.__rmClick")
    counties = china_counties()
    under = counties[counties.contains(shapely.Point(lon, lat))].iloc[0]
    assert f"区县：{under['name']}" in text and f"省份：{under['province']}" in text and under["adcode"] in text, (text, lon, lat)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "command-national-counties.png"))
    frame.evaluate("() => { window.map.closePopup(); window.map.setView([37.85, 112.45], 9); }")  # the counties' names
    page.wait_for_timeout(2500)
    frame.locator(".leaflet-container").screenshot(path=str(ARTIFACTS / "command-national-counties-z9.png"))
    tile_requests = [u for u in traffic.requests if "/tiles/counties/" in u]
    assert tile_requests and all(u.startswith(app_url) for u in tile_requests)
    assert not [f for f in traffic.failures if "/tiles/" in f]
    assert traffic.foreign(app_url) == []
