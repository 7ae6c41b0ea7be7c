"""Shared helpers for the browser tests."""

from __future__ import annotations

import time

import pytest

MAP_STATE_JS = """
() => {
  const m = window.map;
  if (!m || !window.L) return null;
  let polygons = 0, markers = 0;
  m.eachLayer(l => {
    if (l instanceof L.Polygon) polygons++;
    else if (l instanceof L.Marker) markers++;
  });
  const text = s => (document.querySelector(s) || {}).textContent || "";  // folded controls still hold their layers
  return {
    polygons, markers,
    control: text('.leaflet-control-layers'),
    legend: text('.rm-legend'),
    scale: !!document.querySelector('.leaflet-control-scale'),
    draw: document.querySelectorAll('.leaflet-draw-toolbar a').length,
    awesome: document.querySelectorAll('.awesome-marker, .marker-cluster, .rm-cluster').length,
    clusters: [...document.querySelectorAll('.rm-cluster')].map(c => c.title),
    faFont: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    faLoaded: [...document.fonts].filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length,
  };
}
"""


CREDENTIALS: dict[str, tuple[str, str]] = {}  # role → (name, password), filled by the `accounts` fixture
SIGN_IN = {"zh": ("用户名", "密码", "登录", "已登录。"), "en": ("Account name", "Password", "Sign in", "Signed in.")}


def session_cookie(page) -> str | None:
    """The session cookie of the page's browser context (``HttpOnly``: not in ``document.cookie``)."""
    return next((c["value"] for c in page.context.cookies() if c["name"] == "riskmap_session"), None)


def login(page, base_url: str, role: str, *, lang: str = "zh") -> None:
    """Sign in as the test account of ``role`` on the server's sign-in form and wait until the
    sign-in page says so, so every page opened afterwards in this browser context is signed in."""
    name, password = CREDENTIALS[role]
    label_name, label_pw, button, done = SIGN_IN[lang]
    page.goto(f"{base_url}/signin?lang={lang}&next=login", wait_until="domcontentloaded")
    page.get_by_label(label_name, exact=True).fill(name)
    page.get_by_label(label_pw, exact=True).fill(password)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text(done, exact=True).wait_for(timeout=60_000)
    assert session_cookie(page)


def map_state(page, timeout_s: float = 60.0) -> dict:
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
                    # let markers/fonts settle, then read once more (a map replaced meanwhile — the
                    # page drew another — detaches its frame: look again)
                    page.wait_for_timeout(1500)
                    try:
                        return frame.evaluate(MAP_STATE_JS)
                    except Exception:  # noqa: BLE001 - a detached frame; retry with the page's current one
                        continue
        page.wait_for_timeout(300)
    pytest.fail(f"Leaflet map did not draw within {timeout_s}s (last state {last})")


def open_national_view(page, base_url: str) -> dict:
    """Signed in as the command centre: the command page switched to the national view, once its
    province labels are drawn; returns the map's state."""
    login(page, base_url, "command")
    page.goto(f"{base_url}/?lang=zh", wait_until="domcontentloaded")
    map_state(page)
    page.get_by_text("全国", exact=True).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].some(f => { try { return f.contentDocument.querySelector('.rm-label-province'); }"
        " catch (e) { return false; } })", timeout=90_000)
    return map_state(page)


SEARCHBOX = "iframe[title='streamlit_searchbox.searchbox']"


def search_place(page, text: str, *, choose: str | None = None):
    """Type ``text`` into the resident page's place search as a person types, wait for the
    suggestions and choose the one containing ``choose`` (default: ``text`` itself); the box's
    input is returned. With ``choose=""`` nothing is chosen (a search expected to find nothing)."""
    box = page.frame_locator(SEARCHBOX).locator("input")
    box.wait_for(timeout=60_000)
    if box.input_value():  # type over the place shown (Backspace on an empty box resets the component)
        box.select_text()
    box.press_sequentially(text, delay=40)
    if choose == "":
        return box
    option = page.frame_locator(SEARCHBOX).locator("[class*='option']", has_text=choose or text).first
    option.wait_for(timeout=60_000)
    option.click()
    return box
