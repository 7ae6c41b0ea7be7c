"""时间回放 on the command page: play steps the day, the figures follow, and the map is updated in
place (the same mounted map, a new overlay), not rebuilt."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import login, map_state

pytestmark = pytest.mark.e2e

# set on the Leaflet map object itself: a rebuilt map (a new base script) is a new object without it
PROBE_SET = "() => { window.map_div.rm_probe = 'still here'; return true; }"
PROBE = "() => (window.map_div && window.map_div.rm_probe) || null"
OVERLAY = "() => (window.feature_group || []).reduce((n, g) => n + (g.getLayers ? g.getLayers().length : 0), 0)"


def _tm_frame(page):
    """The time machine's map frame (the last streamlit-folium frame: the command map comes first)."""
    frames = [f for f in page.frames if "streamlit_folium" in f.url]
    return frames[-1] if len(frames) >= 2 else None


def test_play_steps_the_day_and_updates_the_map_in_place(app_url, page_and_traffic):
    page, traffic = page_and_traffic
    login(page, app_url, "command")
    page.goto(f"{app_url}/?lang=zh", wait_until="domcontentloaded")
    map_state(page)  # the page has finished its first run
    page.get_by_text("时间回放：按日期查看风险区与管控区域").click(timeout=60_000)
    slider = page.get_by_role("slider")
    slider.first.wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('iframe[title*=\"streamlit_folium\"]').length >= 2", timeout=60_000)
    frame = None
    for _ in range(60):
        frame = _tm_frame(page)
        if frame is not None:
            try:
                if frame.evaluate("() => !!window.map_div"):
                    break
            except Exception:  # noqa: BLE001 - the frame may still be loading
                pass
        page.wait_for_timeout(500)
    assert frame is not None
    first_day = slider.first.get_attribute("aria-valuetext")
    page.get_by_role("button", name="播放").click()

    def days_seen(n: int) -> set:
        seen = set()
        for _ in range(60):  # a day about every second
            page.wait_for_timeout(400)
            seen.add(slider.first.get_attribute("aria-valuetext"))
            if len(seen) >= n:
                break
        return seen

    assert len(days_seen(2) - {first_day}) >= 1
    # while it steps, the map is the same Leaflet map object: set a mark on it, step on, find it
    _tm_frame(page).evaluate(PROBE_SET)
    stepped = days_seen(3)
    assert len(stepped) >= 3, stepped
    page.get_by_role("button", name="暂停").click()
    # the figures are the day's: the metric row sits above the map in the same section
    assert page.get_by_text("全国高/中风险区").count() == 1
    # the same map took the new days: the probe set in it before playing is still there
    assert _tm_frame(page).evaluate(PROBE) == "still here"
    assert _tm_frame(page).evaluate(OVERLAY) >= 0
    # the hotels in use that day are on the map as dots, as many as the figure says
    metric = page.locator("[data-testid='stMetric']").filter(has_text="使用中的隔离酒店")
    dots = "() => { let n = 0; window.map.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n; }"
    pair = None
    for _ in range(30):  # the map takes the paused day's overlay a moment after the figures
        shown = int(metric.locator("[data-testid='stMetricValue']").inner_text())
        pair = (shown, _tm_frame(page).evaluate(dots))
        if pair[0] == pair[1] and pair[0] > 0:
            break
        page.wait_for_timeout(500)
    assert pair is not None and pair[0] == pair[1] and pair[0] > 0, pair
    page.screenshot(path=str(ARTIFACTS / "command-time-machine-zh.png"), full_page=True)
    assert traffic.foreign(app_url) == []


def test_a_zones_history_is_on_the_command_page(app_url, page_and_traffic):
    page, _ = page_and_traffic
    login(page, app_url, "command")
    page.goto(f"{app_url}/?lang=zh", wait_until="domcontentloaded")
    map_state(page)
    page.get_by_text("管控区域历史：划定、调整、解除及操作人员").click(timeout=60_000)
    table = page.locator("[data-testid='stDataFrame']").last
    table.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    text = table.evaluate("e => e.textContent")  # the grid's accessible table (it draws on a canvas)
    assert "版本" in text and "保存人" in text  # every version: who saved it and what changed
