"""区域划定 Zone planning: zones and neighbourhoods on a map with the drawing toolbar."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from dashboard.i18n import t
from dashboard.mapview import build_map, display_crs, show_map
from dashboard.ui import page_frame, read_public_layer
from geo.crs import convert_geometry, to_metric
from layers.zones import tier_label

ctx = page_frame("page_planning")
lang = ctx.lang
st.caption(t("planning_intro", lang))

as_of = pd.Timestamp(st.date_input(t("as_of", lang), value=ctx.scenario_today.date(), key="plan_as_of"))
frames = {key: read_public_layer(ctx, key, as_of=as_of) for key in ("neighbourhoods", "zones", "hotels", "testing_sites")}
m = build_map(ctx.settings, lang, frames, draw=True, hidden=("hotels", "testing_sites"), render_options={"zones": {"as_of": as_of}, "testing_sites": {"when": ctx.clock(as_of)}})
out = show_map(m, key="planning_map", height=600, returned=["last_active_drawing"])

drawing = out.get("last_active_drawing")
if drawing and drawing.get("geometry"):
    # drawn on the map: in the basemap's coordinate system; the store and all measures use WGS-84
    shape = convert_geometry(shapely.geometry.shape(drawing["geometry"]), src=display_crs(ctx.settings), dst="wgs84")
    area = to_metric(gpd.GeoDataFrame(geometry=[shape], crs="EPSG:4326")).area.iloc[0] / 1e6
    st.info(f"{t('drawn_shape', lang)} · {t('drawn_area', lang)}: {area:,.3f}")

st.subheader(t("zones_table", lang))
zones = frames["zones"]
view = pd.DataFrame(
    {
        ("级别" if lang == "zh" else "Tier"): [tier_label(x, lang) for x in zones["tier"]],
        ("名称" if lang == "zh" else "Name"): zones["name"],
        ("原因" if lang == "zh" else "Reason"): zones["reason"],
        ("开始" if lang == "zh" else "Start"): zones["start"].dt.date,
        ("计划解除" if lang == "zh" else "Planned end"): zones["planned_end"].dt.date,
    }
)
if view.empty:
    st.caption(t("empty_layer", lang))
else:
    st.dataframe(view, hide_index=True, width="stretch")
