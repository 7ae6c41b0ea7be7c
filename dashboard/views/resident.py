"""便民查询 Resident lookup (public): testing sites and zones. Reads public layers only."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.mapview import build_map, show_map
from dashboard.ui import page_frame, read_public_layer

ctx = page_frame("page_resident")
lang = ctx.lang
st.caption(t("resident_intro", lang))
today = ctx.scenario_today
# Public layers only: boundaries, neighbourhood outlines, risk areas, zones, testing sites.
frames = {key: read_public_layer(ctx, key, as_of=today) for key in ("neighbourhoods", "risk_areas", "zones", "testing_sites")}
m = build_map(ctx.settings, lang, frames, render_options={"zones": {"as_of": today}, "testing_sites": {"when": ctx.clock(today)}})
show_map(m, key="resident_map", height=560)
