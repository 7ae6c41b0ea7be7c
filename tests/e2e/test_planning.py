"""The planners' page in a browser: draw a zone with the mouse, save it, find it after a reload,
and see a stale edit refused with "changed by X at T — reload" instead of overwriting."""

from __future__ import annotations

import uuid

import pytest
import shapely
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, XSS_POINT
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e

FOLIUM = "iframe[title*='streamlit_folium']"
TO_PIXEL_JS = "([lat, lon]) => { const p = window.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }"
SET_VIEW_JS = "([lat, lon, z]) => { window.map.setView([lat, lon], z, {animate: false}); }"
# the zone's name in a tooltip of the map's zone layer
ZONE_ON_MAP_JS = """
name => {
  let found = 0;
  window.map.eachLayer(l => {
    if (l instanceof L.Polygon && l.getTooltip && l.getTooltip() && String(l.getTooltip().getContent()).includes(name)) found++;
  });
  return found;
}
"""


@pytest.fixture(scope="module")
def spot(demo_store):
    """A neighbourhood of 杏花岭区 well away from every zone and from the resident lookup's test
    location (other browser tests expect that spot outside zones): its centre, WGS-84."""
    import geopandas as gpd

    from layers.store.gpkg import GpkgStore

    store = GpkgStore(demo_store)
    nb = store.read("neighbourhoods")
    zones = shapely.union_all(store.read("zones").geometry.to_numpy())
    metric = nb.to_crs(32649)
    far_zone = metric.geometry.distance(gpd.GeoSeries([zones], crs=4326).to_crs(32649).iloc[0]) > 1500
    resident = gpd.GeoSeries([shapely.Point(*XSS_POINT)], crs=4326).to_crs(32649).iloc[0]
    far_home = metric.geometry.centroid.distance(resident) > 3000
    big = metric.area > 600_000
    pick = metric[(nb["district_adcode"] == "140107") & far_zone & far_home & big].iloc[0]
    centre = gpd.GeoSeries([pick.geometry.representative_point()], crs=32649).to_crs(4326).iloc[0]
    return centre.x, centre.y


def _map_frame(page, timeout_s: float = 60.0):
    """The map's frame once Leaflet has drawn in it and it has stayed for a second (a save
    rebuilds the base map, which replaces the frame)."""
    import time

    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frames = [f for f in page.frames if "streamlit_folium" in f.url and not f.is_detached()]
        for frame in frames:
            try:
                if frame.evaluate("() => !!(window.map && window.L && window.map._loaded)"):
                    page.wait_for_timeout(1000)
                    if not frame.is_detached() and frame.evaluate("() => !!window.map"):
                        return frame
            except PlaywrightError:  # navigating or detached: look again
                continue
        page.wait_for_timeout(300)
    pytest.fail(f"the planning map did not draw within {timeout_s}s")


def _click_at(page, frame, lon: float, lat: float) -> None:
    x, y = frame.evaluate(TO_PIXEL_JS, [lat, lon])
    box = page.locator(FOLIUM).first.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.parametrize("page_and_traffic", [{"width": 1600, "height": 2000}], indirect=True)
def test_draw_save_reload_and_a_stale_edit_is_refused(app_url, page_and_traffic, demo_store, spot):
    from layers.store.gpkg import GpkgStore

    page, traffic = page_and_traffic
    name = f"测试管控区{uuid.uuid4().hex[:6]}"
    login(page, app_url, "planner")
    page.goto(f"{app_url}/planning?lang=zh", wait_until="domcontentloaded")
    frame = _map_frame(page)
    lon, lat = spot
    frame.evaluate(SET_VIEW_JS, [lat, lon, 15])
    page.wait_for_timeout(500)

    # draw a polygon with the mouse: the toolbar's polygon tool, four corners, the first again to close
    frame.locator(".leaflet-draw-draw-polygon").click()
    corners = [(-0.0016, -0.0011), (0.0015, -0.0012), (0.0017, 0.0010), (-0.0013, 0.0012)]
    for dx, dy in [*corners, corners[0]]:
        _click_at(page, frame, lon + dx, lat + dy)
        page.wait_for_timeout(300)
    page.get_by_text("影响范围（保存前）").wait_for(timeout=30_000)  # the page has the shape and its impact

    page.get_by_label("名称", exact=True).fill(name)
    page.get_by_role("radiogroup", name="区域级别").get_by_text("管控区", exact=True).click()
    page.get_by_label("原因", exact=True).fill("浏览器测试")
    page.wait_for_timeout(1000)
    assert page.locator("[data-testid='stMetricValue']").first.inner_text() != "0.00"  # area (km²)
    _shot(page, "page-planning-drawn.png")
    page.get_by_role("button", name="保存区域").click()
    page.get_by_text(f"已保存：管控区 · {name}").wait_for(timeout=30_000)

    store = GpkgStore(demo_store)
    zones = store.read("zones")
    saved = zones[zones["name"] == name]
    assert len(saved) == 1
    row = saved.iloc[0].to_dict()
    zone_id = row["id"]
    assert (row["tier"], row["version"], row["saved_by"], row["reason"]) == ("controlled", 1, "e2e_planner", "浏览器测试")
    assert row["district_adcode"] == "140107"
    drawn = row["geometry"]
    assert drawn.contains(shapely.Point(lon, lat))
    assert 0.05 < drawn.area * 88_000 * 111_000 / 1e6 < 0.15  # roughly 0.27 km × 0.25 km, in km²

    # a reload finds it in the table and on the map
    page.reload(wait_until="domcontentloaded")
    frame = _map_frame(page)
    # the table is drawn on a canvas; its cells are also in an accessible (hidden) table
    page.locator("[data-testid='stDataFrame'] td", has_text=name).first.wait_for(state="attached", timeout=30_000)
    assert frame.evaluate(ZONE_ON_MAP_JS, name) >= 1
    _shot(page, "page-planning-reloaded.png")

    # open it for editing; meanwhile another planner saves it
    page.get_by_role("radiogroup", name="功能").get_by_text("编辑已有区域", exact=True).click()
    page.get_by_role("combobox", name="选择区域").click()
    page.get_by_role("option", name=name).click()
    page.get_by_text(f"正在编辑 {zone_id}，基于版本 1").wait_for(timeout=30_000)
    frame = _map_frame(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].some(f => { try { return f.contentWindow.drawnItems && "
        "f.contentWindow.drawnItems.getLayers().length === 1; } catch (e) { return false; } })",
        timeout=30_000,
    )  # the zone's shape is in the draw layer, ready for the edit tool
    page.get_by_label("原因", exact=True).fill("甲的修改")
    page.wait_for_timeout(800)
    other = store.read("zones")
    other = other[other["id"] == zone_id].iloc[0].to_dict()
    store.save_zone({**other, "reason": "乙的修改"}, based_on=1, user="e2e_other", action="edit")
    page.get_by_role("button", name="保存修改").click()
    refused = page.get_by_text("已被 e2e_other 于", exact=False)
    refused.first.wait_for(timeout=30_000)
    message = refused.first.inner_text()
    assert "请重新加载" in message and "changed by" not in message  # one language at a time
    _map_frame(page)  # the other planner's save rebuilt the base map: let it draw before the screenshot
    page.wait_for_timeout(1000)
    _shot(page, "page-planning-stale.png")
    latest = store.read("zones")
    assert latest[latest["id"] == zone_id].iloc[0]["reason"] == "乙的修改"  # nothing was overwritten
    assert [v.version for v in store.zone_history(zone_id)] == [1, 2]

    # reloading shows the other planner's version; saving on top of it works
    page.get_by_role("button", name="重新加载最新版本").click()
    page.get_by_text(f"正在编辑 {zone_id}，基于版本 2").wait_for(timeout=30_000)
    expect(page.get_by_label("原因", exact=True)).to_have_value("乙的修改", timeout=30_000)  # the form follows the text
    page.get_by_label("原因", exact=True).fill("乙的修改；甲补充")
    page.wait_for_timeout(800)
    page.get_by_role("button", name="保存修改").click()
    page.get_by_text(f"已保存：管控区 · {name}（编号 {zone_id}，版本 3）").wait_for(timeout=30_000)
    history = store.zone_history(zone_id)
    assert [(v.version, v.saved_by, v.action) for v in history] == [
        (1, "e2e_planner", "create"), (2, "e2e_other", "edit"), (3, "e2e_planner", "edit")]
    assert "geometry: unchanged" in history[-1].changes  # an untouched shape stays exactly as stored

    assert traffic.foreign(app_url) == [], "requests left the machine"
    # a save rebuilds the base map: the browser drops the old map frame, and loads it was still
    # making are aborted (net::ERR_ABORTED); anything else is a real failure
    assert [f for f in traffic.failures if not f.endswith("(net::ERR_ABORTED)")] == []
