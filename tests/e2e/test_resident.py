"""The resident lookup on a phone: a shared link opens the answer, nothing personal arrives."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import map_state, search_place

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# Bring an element to the top of Streamlit's scrolling pane, clear of its 60 px header.
SCROLL_BELOW_HEADER_JS = """
e => {
  e.scrollIntoView({block: 'start'});
  let p = e.parentElement;
  while (p && !['auto', 'scroll'].includes(getComputedStyle(p).overflowY)) p = p.parentElement;
  (p || window).scrollBy(0, -70);
}
"""


def _search(page, app_url: str, text: str, *, choose: str | None = None):
    """Open the resident page (Chinese) and search ``text`` as a resident types it; the search box."""
    page.goto(f"{app_url}/resident?lang=zh", wait_until="domcontentloaded")
    return search_place(page, text, choose=choose)


@pytest.fixture(scope="module")
def people(demo_store):
    from layers.store.gpkg import GpkgStore

    trav = GpkgStore(demo_store).read("travellers")
    sample = trav.sample(300, random_state=2)
    names = [n for n in sample["name"] if len(n) >= 3][:100]
    return {"names": names, "phones": list(sample["phone"]), "ids": list(sample["id_number"])}


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_shared_link_on_a_phone(app_url, page_and_traffic, people):
    page, traffic = page_and_traffic
    page.goto(f"{app_url}/resident?loc=112.5712,37.8571&lang=zh", wait_until="domcontentloaded")
    page.locator(".rm-site").first.wait_for(timeout=60_000)
    page.locator("iframe[title*='streamlit_folium']").scroll_into_view_if_needed(timeout=60_000)
    state = map_state(page)
    assert state["markers"] >= 1  # testing-site markers
    # #17: the location and its lines are drawn above the site markers and clusters
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    panes = frame.evaluate(
        "() => { const p = window.map.getPane('rm-here'), m = window.map.getPane('markerPane');"
        " return p ? [+getComputedStyle(p).zIndex, +getComputedStyle(m).zIndex, p.querySelectorAll('canvas, path').length] : null; }"
    )
    assert panes is not None and panes[0] > panes[1] and panes[2] >= 1, panes
    # the numbers on the map are the cards' numbers, in the pane above the sites
    numbers = frame.evaluate("() => [...window.map.getPane('rm-here').querySelectorAll('.rm-num')].map(e => e.textContent)")
    assert numbers == ["1", "2", "3", "4", "5"], numbers
    cards = page.locator(".rm-site")
    assert cards.count() == 5
    texts = [cards.nth(i).inner_text() for i in range(5)]
    dists = [float(cards.nth(i).get_attribute("data-distance-m")) for i in range(5)]
    assert dists == sorted(dists)
    for i, text in enumerate(texts, start=1):
        assert text.startswith(f"{i}. ")
        assert re.search(r"\d+(\.\d)? (米|公里)", text), text
    # the hostile site sits on the location itself: first, as text, 0 m away
    assert "<img src=x onerror=alert(1)>" in texts[0]
    assert dists[0] == 0
    assert page.locator(".rm-site img").count() == 0
    assert page.get_by_text("不在管控区域内").is_visible()
    assert page.get_by_text("位置：112.57120, 37.85710（迎泽区）").is_visible()
    # the share link reproduces the answer
    assert page.get_by_text("loc=112.57120,37.85710").count() >= 1
    # phone first: nothing wider than the screen
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(".rm-where").evaluate(SCROLL_BELOW_HEADER_JS)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "page-resident-phone.png"), full_page=False)
    page.screenshot(path=str(ARTIFACTS / "page-resident-phone-full.png"), full_page=True)
    assert traffic.foreign(app_url) == []
    leaked = [v for v in people["phones"] + people["ids"] + people["names"] if traffic.contains(v)]
    assert leaked == []


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_outside_the_city_says_so(app_url, page_and_traffic):
    page, traffic = page_and_traffic
    page.goto(f"{app_url}/resident?loc=116.40,39.90&lang=en", wait_until="domcontentloaded")
    page.get_by_text("This location is outside Taiyuan").wait_for(timeout=60_000)
    assert page.locator(".rm-site").count() == 0
    assert traffic.foreign(app_url) == []


def _inside(demo_store, tier: str) -> tuple[float, float]:
    """A point inside a zone of ``tier`` in force on the scenario day, and outside any stricter one."""
    import shapely

    from layers import get_spec
    from layers.store.gpkg import GpkgStore

    store = GpkgStore(demo_store)
    today = store.meta()["scenario_today"]
    zones = get_spec("zones").as_of(store.read("zones"), today)
    stricter = {"controlled": ("sealed",), "sealed": ()}[tier]
    others = shapely.union_all(zones[zones["tier"].isin(stricter)].geometry.to_numpy()) if stricter else shapely.Polygon()
    for geom in zones[zones["tier"] == tier].geometry:
        p = geom.difference(others).representative_point() if stricter else geom.representative_point()
        if not p.is_empty:
            return round(p.x, 6), round(p.y, 6)
    pytest.skip(f"no {tier} zone in the demo")


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_a_sealed_zone_resident_is_told_to_stay_home_before_any_site(app_url, page_and_traffic, demo_store):
    page, traffic = page_and_traffic
    lon, lat = _inside(demo_store, "sealed")
    page.goto(f"{app_url}/resident?loc={lon},{lat}&lang=zh", wait_until="domcontentloaded")
    advice = page.locator("[data-advice='stay_home']")
    advice.wait_for(timeout=60_000)
    assert "上门采样" in advice.inner_text() and "足不出户" in advice.inner_text()
    # the neighbourhood's office phone, as a tel: link (the demo neighbourhood there has one)
    import shapely

    from layers.store import open_store

    nb = open_store(demo_store).read("neighbourhoods")
    phone = nb[nb.geometry.covers(shapely.Point(lon, lat))]["contact_phone"].iloc[0]
    assert isinstance(phone, str)
    assert advice.locator(f"a[href='tel:{phone.replace('-', '')}']").inner_text() == phone
    page.locator(".rm-site").first.wait_for(timeout=60_000)
    assert advice.bounding_box()["y"] < page.locator(".rm-site").first.bounding_box()["y"]
    assert page.get_by_text("仅供参考").first.is_visible()
    assert page.locator(".rm-nav a").count() == 0  # nothing that invites going to a site
    assert traffic.foreign(app_url) == []


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_cards_carry_the_address_and_navigate_links_in_each_maps_system(app_url, page_and_traffic, demo_store):
    from urllib.parse import parse_qs, urlsplit

    from geo.crs import convert_xy
    from layers.store.gpkg import GpkgStore

    page, traffic = page_and_traffic
    page.goto(f"{app_url}/resident?loc=112.5500,37.8600&lang=zh", wait_until="domcontentloaded")
    card = page.locator(".rm-site").first
    card.wait_for(timeout=60_000)
    sites = GpkgStore(demo_store).read("testing_sites").set_index("id")
    site = sites.loc[card.get_attribute("data-site-id")]
    lon, lat = site.geometry.x, site.geometry.y
    assert str(site["address"]) in card.inner_text()
    assert "步行约" in card.inner_text() and "按直线估算" in card.inner_text()
    amap = parse_qs(urlsplit(card.locator("a.rm-nav-amap").get_attribute("href")).query)
    gx, gy = (float(v) for v in amap["position"][0].split(","))
    (ex,), (ey,) = convert_xy([lon], [lat], src="wgs84", dst="gcj02")
    assert abs(gx - ex) < 1e-5 and abs(gy - ey) < 1e-5 and amap["coordinate"] == ["gaode"]
    baidu = parse_qs(urlsplit(card.locator("a.rm-nav-baidu").get_attribute("href")).query)
    by, bx = (float(v) for v in baidu["location"][0].split(","))
    (fx,), (fy,) = convert_xy([lon], [lat], src="wgs84", dst="bd09")
    assert abs(bx - fx) < 1e-5 and abs(by - fy) < 1e-5 and baidu["coord_type"] == ["bd09ll"]
    geo = card.locator("a.rm-nav-geo").get_attribute("href")
    assert traffic.foreign(app_url) == []  # nothing requested until a link is tapped
    # the "other map app" link is this server's redirect to a standard geo: URI (WGS-84)
    import urllib.request

    class _Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):  # do not follow: read where it points
            return None

    opener = urllib.request.build_opener(_Keep)
    try:
        opener.open(f"{app_url}/{geo}", timeout=10)
        location = None
    except urllib.error.HTTPError as exc:
        location = exc.headers["Location"]
    assert location.startswith(f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}("), location


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_pinyin_search_answers_and_a_failed_search_clears_the_answer(app_url, page_and_traffic):
    from urllib.parse import unquote

    page, _ = page_and_traffic
    _search(page, app_url, "xiaodian", choose="小店区 · 区县")
    page.get_by_text("位置：小店区（小店区）").wait_for(timeout=60_000)
    page.locator(".rm-site").first.wait_for(timeout=60_000)
    link = page.locator("code", has_text="loc=").first.inner_text()
    assert "place=小店区" in unquote(link)  # the share link names the place searched
    shared = link.strip()
    search_place(page, "zzzq", choose="")
    page.get_by_text("没有找到“zzzq”").wait_for(timeout=60_000)
    # the previous answer is gone once the run has finished (a loaded machine may take a moment)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]') && !document.querySelector('.rm-site')",
                           timeout=30_000)
    assert page.locator(".rm-site").count() == 0
    assert page.get_by_text("位置：小店区（小店区）").count() == 0
    page.goto(shared.replace("http://localhost", app_url) if shared.startswith("http") else f"{app_url}{shared}",
              wait_until="domcontentloaded")
    page.get_by_text("位置：小店区（小店区）").wait_for(timeout=60_000)  # the link shows the name, not coordinates
    from tests.e2e.helpers import SEARCHBOX

    box = page.frame_locator(SEARCHBOX).locator("input")
    box.wait_for(timeout=60_000)
    for _ in range(40):  # and so does the search box
        if box.input_value() == "小店区":
            break
        page.wait_for_timeout(250)
    assert box.input_value() == "小店区"


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_suggestions_while_typing_initials_and_nothing_answered_until_chosen(app_url, page_and_traffic):
    from tests.e2e.helpers import SEARCHBOX

    page, traffic = page_and_traffic
    _search(page, app_url, "xd", choose="")  # initials, no Enter: the list comes while typing
    options = page.frame_locator(SEARCHBOX).locator("[class*='option']")
    options.first.wait_for(timeout=60_000)
    labels = [options.nth(i).inner_text() for i in range(options.count())]
    assert "小店区 · 区县" in labels and all("·" in x for x in labels), labels
    assert page.locator(".rm-where").count() == 0  # suggestions only: no place chosen yet
    assert not any("No options" in x for x in labels)
    options.filter(has_text="小店街道 · 街道").first.click()
    page.get_by_text("位置：小店街道（小店区）").wait_for(timeout=60_000)
    assert traffic.foreign(app_url) == []  # the suggestion box is served by the app, like the maps


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_a_district_searched_by_name_answers_for_the_area(app_url, page_and_traffic, demo_store):
    from layers import get_spec
    from layers.boundaries import city_counties
    from layers.store.gpkg import GpkgStore

    store = GpkgStore(demo_store)
    zones = get_spec("zones").as_of(store.read("zones"), store.meta()["scenario_today"])
    names = city_counties("140100").set_index("adcode")["name"]
    district = names[str(zones.iloc[0]["district_adcode"])]
    page, _ = page_and_traffic
    _search(page, app_url, district)
    advice = page.locator("[data-advice='area']")
    advice.wait_for(timeout=60_000)
    assert f"{district}的部分区域在" in advice.inner_text() and "在地图上点选" in advice.inner_text()
    assert page.get_by_text("不在管控区域内").count() == 0  # no point answer claimed for the whole district


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_an_address_from_the_gazetteer_answers(app_url, page_and_traffic, demo_store):
    from layers.store.gpkg import GpkgStore

    addresses = GpkgStore(demo_store).read("addresses", public=True)
    name = str(addresses[addresses["kind"] == "address"]["name"].iloc[7])
    page, _ = page_and_traffic
    _search(page, app_url, name)
    page.get_by_text(f"位置：{name}").wait_for(timeout=60_000)  # a house number, found and answered
    page.locator(".rm-site").first.wait_for(timeout=60_000)


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_the_selected_cards_site_is_highlighted_on_the_map(app_url, page_and_traffic):
    page, _ = page_and_traffic
    page.goto(f"{app_url}/resident?lang=zh&loc=112.5600,37.8600", wait_until="domcontentloaded")
    page.locator(".rm-site").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stButtonGroup']").last.get_by_text("3", exact=True).click(timeout=60_000)
    page.locator(".rm-site.rm-selected").wait_for(timeout=60_000)
    assert page.locator(".rm-site.rm-selected .rm-site-name").inner_text().startswith("3.")
    found = None
    for _ in range(60):  # the map redraws with the third site's number ringed
        for frame in page.frames:
            if "streamlit_folium" in frame.url:
                try:
                    found = frame.evaluate("() => { const e = document.querySelector('.rm-num-sel'); return e && e.dataset.num; }")
                except Exception:  # noqa: BLE001 - the frame may be reloading
                    found = None
                if found:
                    break
        if found:
            break
        page.wait_for_timeout(500)
    assert found == "3"
    page.locator(".rm-site.rm-selected").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "resident-selected-card-zh.png"))


@pytest.mark.parametrize("page_and_traffic", [PHONE], indirect=True)
def test_after_a_search_the_first_card_is_on_a_phones_first_screen(app_url, page_and_traffic, demo_store):
    from layers.store.gpkg import GpkgStore

    addresses = GpkgStore(demo_store).read("addresses", public=True)
    # an address outside every zone (inside a sealed zone the stay-home message rightly comes first)
    name = str(addresses[(addresses["kind"] == "address") & (addresses["district_adcode"] == "140110")]["name"].iloc[0])
    page, _ = page_and_traffic
    box = _search(page, app_url, name)  # an address: the usual search
    card = page.locator(".rm-site").first
    card.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    # without scrolling: the search box and the whole first card inside the 844-pixel screen
    top = page.evaluate("() => { const m = document.querySelector('[data-testid=stMain]') || document.scrollingElement; return m.scrollTop; }")
    assert top == 0
    page.screenshot(path=str(ARTIFACTS / "resident-first-screen.png"))
    b = card.bounding_box()
    assert b is not None and b["y"] >= 0 and b["y"] + b["height"] <= PHONE["height"], b
    assert box.bounding_box()["y"] >= 0
