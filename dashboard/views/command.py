"""指挥中心 Command centre: every layer on one map, key figures, daily report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.mapview import build_map, show_map
from dashboard.ui import page_frame, read_public_layer
from layers import MAP_LAYERS
from layers.daily_reports import CUMULATIVE, FIGURES

ctx = page_frame("page_command")
lang = ctx.lang

as_of = pd.Timestamp(st.date_input(t("as_of", lang), value=ctx.scenario_today.date(), key="as_of"))
frames = {key: read_public_layer(ctx, key, as_of=as_of) for key in MAP_LAYERS}

risk = frames["risk_areas"]
zones = frames["zones"]
hotels = frames["hotels"]
sites = frames["testing_sites"]
c1, c2, c3, c4 = st.columns(4)
c1.metric(
    t("fig_risk", lang),
    f"{int((risk['level'] == 'high').sum())} / {int((risk['level'] == 'medium').sum())}",
    help=t("fig_risk_help", lang),
)
tiers = zones["tier"].value_counts()
c2.metric(t("fig_zones", lang), f"{tiers.get('sealed', 0)} / {tiers.get('controlled', 0)} / {tiers.get('precaution', 0)}")
in_use = hotels[hotels["status"] == "in_use"]
free = int((in_use["rooms_total"] - in_use["rooms_occupied"]).sum())
c3.metric(t("fig_rooms", lang), f"{free:,} / {int(in_use['rooms_total'].sum()):,}")
c4.metric(t("fig_sites", lang), f"{len(sites)}", help=f"{t('fig_sites_24h', lang)}: {int((sites['hours'] == '24h').sum())}")

m = build_map(ctx.settings, lang, frames, render_options={"zones": {"as_of": as_of}})
show_map(m, key="command_map", height=640)

st.subheader(t("daily_recent", lang))
reports = read_public_layer(ctx, "daily_reports")
recent = reports[reports["date"] <= as_of].sort_values("date", ascending=False).head(14)
labels = {"date": "日期" if lang == "zh" else "Date"} | {k: (zh if lang == "zh" else en) for k, zh, en in FIGURES + CUMULATIVE}
st.dataframe(
    recent[list(labels)].rename(columns=labels),
    hide_index=True,
    width="stretch",
    column_config={labels["date"]: st.column_config.DateColumn(format="YYYY-MM-DD")},
)
