"""Every page opens offline, draws its map with the expected layers, and fetches nothing from elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import login, map_state, open_national_view

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.e2e

PAGES = [
    # path, lang, layer names expected in the layer control, min polygons, min markers, draw toolbar
    ("command", "zh", ["区县界", "社区/村", "社区筛查", "社区随访状态", "返并人员密度", "中高风险区", "封控/管控/防范区", "集中隔离酒店", "核酸检测点"], 300, 10, False),
    ("planning", "zh", ["区县界", "社区/村", "封控/管控/防范区"], 300, 0, True),
    ("resident", "zh", ["区县界", "社区/村", "封控/管控/防范区", "核酸检测点"], 300, 3, False),
    ("data", "zh", ["区县界", "社区/村", "集中隔离酒店", "核酸检测点"], 300, 10, False),
    ("command", "en", ["District boundaries", "Neighbourhoods", "Neighbourhood follow-up", "Control zones", "Testing sites",
                       "Quarantine hotels"], 300, 10, False),
]


@pytest.mark.parametrize(("path", "lang", "layers", "min_polys", "min_markers", "draw"), PAGES)
def test_page_draws_map_offline(app_url, page_and_traffic, path, lang, layers, min_polys, min_markers, draw):
    page, traffic = page_and_traffic
    if path != "resident":
        login(page, app_url, "command", lang=lang)  # every page but the resident lookup needs a sign-in
    # the default page (command centre) lives at the root
    url_path = "" if path == "command" else path
    page.goto(f"{app_url}/{url_path}?lang={lang}", wait_until="domcontentloaded")
    state = map_state(page)
    for name in layers:
        assert name in state["control"], f"layer {name!r} missing from the layer switcher: {state['control']!r}"
        assert name in state["legend"] or name == "社区/村" or name == "Neighbourhoods", state["legend"]
    assert state["polygons"] >= min_polys
    assert state["markers"] >= min_markers
    assert state["scale"]
    if min_markers:
        assert state["awesome"] > 0, "marker icons (awesome-markers) not drawn"
    if "核酸检测点" in layers or "Testing sites" in layers:  # #17: a cluster says what it holds
        assert state["clusters"], "no testing-site cluster drawn"
        word = "开放中" if lang == "zh" else "Open now"
        assert any(word in c or ("当前关闭" if lang == "zh" else "Closed now") in c for c in state["clusters"]), state["clusters"]
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
    login(page, app_url, "command", lang="en")
    page.goto(f"{app_url}/data?lang=en", wait_until="domcontentloaded")
    page.get_by_text("Provenance").wait_for(timeout=30000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "page-data-en.png"), full_page=True)
    assert traffic.foreign(app_url) == []
    assert traffic.failures == []


def test_daily_report_page_from_the_command_centre(app_url, page_and_traffic):
    """The command page carries the latest bulletin in one line and links to the daily-report
    page, which shows the form, the zero-report button, the table and the charts, offline."""
    page, traffic = page_and_traffic
    login(page, app_url, "command", lang="zh")
    page.goto(f"{app_url}/?lang=zh", wait_until="domcontentloaded")
    summary = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="最新日报（")
    summary.first.wait_for(timeout=60_000)
    assert "0时至24时" in summary.first.inner_text()  # the bulletin's own wording, first paragraph
    assert page.get_by_text("一键零报告").count() == 0  # the form is not on the wall-screen page
    map_state(page)  # let the map finish loading: leaving earlier aborts its requests
    page.get_by_role("link", name="填报 / 查看日报告").click()
    page.get_by_role("button", name="一键零报告").wait_for(timeout=60_000)
    assert "/daily-report" in page.url
    page.get_by_text("最近30天日报").wait_for(timeout=30_000)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-daily-report-zh.png"), full_page=True)
    assert traffic.foreign(app_url) == []
    assert traffic.failures == []


FOLD_JS = """
() => {
  const c = document.querySelector('.leaflet-control-layers');
  const d = document.querySelector('.rm-legend details');
  return {layers_open: !!c && c.classList.contains('leaflet-control-layers-expanded'), legend_open: !!d && d.open,
          width: document.querySelector('.folium-map, .leaflet-container').clientWidth, window: window.innerWidth};
}
"""


def _fold_state(page) -> dict:
    map_state(page)  # drawn
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    return frame.evaluate(FOLD_JS)


@pytest.mark.parametrize("page_and_traffic", [{"width": 390, "height": 844}], indirect=True)
@pytest.mark.parametrize("path", ["", "planning", "data", "resident"])
def test_on_a_phone_every_map_starts_with_its_controls_folded(app_url, page_and_traffic, path):
    """#17: on narrow screens the layer switcher and the legend start folded on every page (before,
    only the resident page did), and the map takes the screen's width."""
    page, _ = page_and_traffic
    if path != "resident":
        login(page, app_url, "command")
    page.goto(f"{app_url}/{path}?lang=zh", wait_until="domcontentloaded")
    state = _fold_state(page)
    assert not state["layers_open"] and not state["legend_open"], state
    assert state["width"] >= 0.85 * 390, state  # the screen's width, less the page's margins


def test_on_a_desktop_the_controls_start_open(app_url, page_and_traffic):
    page, _ = page_and_traffic
    login(page, app_url, "command")
    page.goto(f"{app_url}/?lang=zh", wait_until="domcontentloaded")
    state = _fold_state(page)
    assert state["layers_open"] and state["legend_open"], state


LABELS_AT_JS = """
z => {
  window.map.setZoom(z, {animate: false});
  return [...document.querySelectorAll('.rm-label')].map(e => e.className.split(' ').pop().replace('rm-label-', '') + ':' + e.textContent);
}
"""


def _labels_at(page, zoom: int) -> list[str]:
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    return frame.evaluate(LABELS_AT_JS, zoom)


@pytest.mark.parametrize(("lang", "district", "hotel_word"), [("zh", "小店区", "酒店"), ("en", "Xiaodian District", "Hotel")])
def test_place_names_show_at_their_zooms_in_the_pages_language(app_url, page_and_traffic, lang, district, hotel_word):
    """#17: an offline map labels districts at city zoom, streets closer in, neighbourhoods closest
    and sites and hotels when zoomed right in — in the page's language."""
    page, _ = page_and_traffic
    login(page, app_url, "command", lang=lang)
    page.goto(f"{app_url}/?lang={lang}", wait_until="domcontentloaded")
    map_state(page)
    city = _labels_at(page, 11)
    assert f"district:{district}" in city
    assert not any(x.startswith(("street:", "neighbourhood:")) for x in city)
    closer = _labels_at(page, 13)
    assert any(x.startswith("street:") for x in closer) and not any(x.startswith("district:") for x in closer)
    closest = _labels_at(page, 15)
    names = [x for x in closest if x.startswith("neighbourhood:")]
    assert len(names) >= 300
    if lang == "en":
        assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in x) for x in names), names[:5]  # no Chinese in the English map
    poi = _labels_at(page, 16)
    assert any(x.startswith("poi:") for x in poi)


def test_the_national_view_shows_every_risk_area_and_counts_by_province(app_url, page_and_traffic):
    page, _ = page_and_traffic
    state = open_national_view(page, app_url)
    assert "本省" in state["control"]
    labels = _labels_at(page, 5)
    counted = [x for x in labels if x.startswith("province:") and x.split(" ")[-1].isdigit()]
    assert counted, labels
    assert "capital:● 太原" in labels  # the province capitals, a zoom in from the provinces
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    dots = frame.evaluate("() => { let n = 0; window.map.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n; }")
    total = sum(int(x.split(" ")[-1]) for x in counted)
    assert dots >= total > 0  # a dot for every risk area counted on the provinces
    page.screenshot(path=str(ARTIFACTS / "page-command-national.png"))
