"""Every page opens offline, draws its map with the expected layers, and fetches nothing from elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.e2e

MAP_STATE_JS = """
() => {
  const m = window.map;
  if (!m || !window.L) return null;
  let polygons = 0, markers = 0;
  m.eachLayer(l => {
    if (l instanceof L.Polygon) polygons++;
    else if (l instanceof L.Marker) markers++;
  });
  const text = s => (document.querySelector(s) || {}).innerText || "";
  return {
    polygons, markers,
    control: text('.leaflet-control-layers'),
    legend: text('.rm-legend'),
    scale: !!document.querySelector('.leaflet-control-scale'),
    draw: document.querySelectorAll('.leaflet-draw-toolbar a').length,
    awesome: document.querySelectorAll('.awesome-marker, .marker-cluster').length,
    faFont: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    faLoaded: [...document.fonts].filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length,
  };
}
"""


def _map_state(page, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "streamlit_folium" in frame.url:
                try:
                    state = frame.evaluate(MAP_STATE_JS)
                except Exception:  # noqa: BLE001 - the frame may be navigating; retry
                    state = None
                if state and state["polygons"] > 0:
                    last = state
                    # let markers/fonts settle, then read once more
                    page.wait_for_timeout(1500)
                    return frame.evaluate(MAP_STATE_JS)
        page.wait_for_timeout(300)
    pytest.fail(f"Leaflet map did not draw within {timeout_s}s (last state {last})")


PAGES = [
    # path, lang, layer names expected in the layer control, min polygons, min markers, draw toolbar
    ("command", "zh", ["区县界", "社区/村", "社区筛查", "返并人员密度", "中高风险区", "封控/管控/防范区", "集中隔离酒店", "核酸检测点"], 300, 10, False),
    ("planning", "zh", ["区县界", "社区/村", "封控/管控/防范区"], 300, 0, True),
    ("resident", "zh", ["区县界", "社区/村", "封控/管控/防范区", "核酸检测点"], 300, 3, False),
    ("data", "zh", ["区县界", "社区/村", "集中隔离酒店", "核酸检测点"], 300, 10, False),
    ("command", "en", ["District boundaries", "Neighbourhoods", "Control zones", "Testing sites", "Quarantine hotels"], 300, 10, False),
]


@pytest.mark.parametrize(("path", "lang", "layers", "min_polys", "min_markers", "draw"), PAGES)
def test_page_draws_map_offline(app_url, page_and_traffic, path, lang, layers, min_polys, min_markers, draw):
    page, traffic = page_and_traffic
    # the default page (command centre) lives at the root
    url_path = "" if path == "command" else path
    page.goto(f"{app_url}/{url_path}?lang={lang}", wait_until="domcontentloaded")
    state = _map_state(page)
    for name in layers:
        assert name in state["control"], f"layer {name!r} missing from the layer switcher: {state['control']!r}"
        assert name in state["legend"] or name == "社区/村" or name == "Neighbourhoods", state["legend"]
    assert state["polygons"] >= min_polys
    assert state["markers"] >= min_markers
    assert state["scale"]
    if min_markers:
        assert state["awesome"] > 0, "marker icons (awesome-markers) not drawn"
        assert state["faLoaded"] > 0 and state["faFont"], f"Font Awesome not loaded: {state}"
    if draw:
        assert state["draw"] >= 2, "draw toolbar missing"
    banner = "演示数据" if lang == "zh" else "Demo data"
    assert page.get_by_text(banner).first.is_visible()
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{path}-{lang}.png"), full_page=True)
    assert page.get_by_text("Page not found").count() == 0
    assert traffic.foreign(app_url) == [], "requests left the machine"
    assert traffic.failures == []


def test_data_page_lists_layers(app_url, page_and_traffic):
    page, traffic = page_and_traffic
    page.goto(f"{app_url}/data?lang=en", wait_until="domcontentloaded")
    page.get_by_text("Provenance").wait_for(timeout=30000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "page-data-en.png"), full_page=True)
    assert traffic.foreign(app_url) == []
    assert traffic.failures == []
