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
    awesome: document.querySelectorAll('.awesome-marker, .marker-cluster').length,
    faFont: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    faLoaded: [...document.fonts].filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length,
  };
}
"""


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
                    # let markers/fonts settle, then read once more
                    page.wait_for_timeout(1500)
                    return frame.evaluate(MAP_STATE_JS)
        page.wait_for_timeout(300)
    pytest.fail(f"Leaflet map did not draw within {timeout_s}s (last state {last})")
