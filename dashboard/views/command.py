"""指挥中心 Command centre: every layer on one map, key figures, the latest daily bulletin."""

from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from dashboard.i18n import compact_number, t
from dashboard.maps import command_map
from dashboard.mapview import show_prepared
from dashboard.roles import may_do
from dashboard.ui import page_frame, read_public_layer, traveller_aggregates
from layers import MAP_LAYERS
from layers.boundaries import gazetteer
from layers.daily_report import bulletin_text
from layers.figures import key_figures
from layers.testing_sites import open_now

ctx = page_frame("page_command")
lang = ctx.lang

c_date, c_view = st.columns([3, 2])
as_of = pd.Timestamp(c_date.date_input(t("as_of", lang), value=ctx.scenario_today.date(), key="as_of"))
national = (
    c_view.segmented_control(
        t("view", lang),
        options=["city", "national"],
        format_func=lambda v: t(f"view_{v}", lang),
        default="city",
        key="view",
    )
    == "national"
)

frames = {key: read_public_layer(ctx, key, as_of=as_of) for key in MAP_LAYERS}
gaz = gazetteer()
province = gaz.loc[gaz["adcode"] == ctx.settings.city_adcode[:2] + "0000", "name"]
province_name = str(province.iloc[0]) if len(province) else ""

when = ctx.clock(as_of)
_, _, arrivals = traveller_aggregates(ctx, as_of)
fig = key_figures(
    risk_areas=frames["risk_areas"],
    zones=frames["zones"],
    hotels=frames["hotels"],
    sites=frames["testing_sites"],
    neighbourhoods=frames["neighbourhoods"],
    province=province_name,
    sites_open_mask=open_now(frames["testing_sites"], when),
    travellers=arrivals,
)

# two rows of four: seven figures in one row truncate ("1,652 / …") on a 1600-pixel screen
c1, c2, c3, c4 = st.columns([1, 1, 1, 1.5])
c5, c6, c7, c_link = st.columns([1, 1, 1, 1.5], vertical_alignment="center")
c1.metric(
    t("fig_risk", lang),
    f"{fig.risk_national['high']} / {fig.risk_national['medium']}",
    help=t("fig_risk_help", lang),
)
c2.metric(
    f"{t('fig_risk_province', lang)}（{province_name}）" if lang == "zh" else t("fig_risk_province", lang),
    f"{fig.risk_province['high']} / {fig.risk_province['medium']}",
)
c3.metric(
    t("fig_zones", lang),
    f"{fig.zones['sealed']} / {fig.zones['controlled']} / {fig.zones['precaution']}",
)
c4.metric(
    t("fig_zone_pop", lang),
    " / ".join(compact_number(fig.zone_population[k], lang) for k in ("sealed", "controlled", "precaution")),
    help=t("fig_zone_pop_help", lang)
    + ": "
    + " / ".join(f"{fig.zone_population[k]:,}" for k in ("sealed", "controlled", "precaution")),
)
c5.metric(t("fig_rooms", lang), f"{fig.rooms_free:,} / {fig.rooms_total:,}", help=f"{t('fig_rooms_help', lang)}: {fig.rooms_standby:,}")
c6.metric(
    t("fig_sites_open", lang),
    f"{fig.sites_open} / {fig.sites_total}",
    help=f"{when:%H:%M} · {t('fig_sites_24h', lang)}: {fig.sites_24h}",
)
c7.metric(
    t("fig_travellers", lang),
    f"{fig.travellers.get('pending', 0):,} / {fig.travellers.get('overdue', 0):,}",
    help=t("fig_travellers_help", lang),
)

# the latest daily bulletin up to the as-of date, one line; the form, table and charts are on
# their own page (dashboard/views/daily_report.py) so the wall screen does not wait for them
reports = read_public_layer(ctx, "daily_reports")
latest = reports[reports["date"] <= as_of].sort_values("date").tail(1)
if latest.empty:
    line = t("dr_latest_none", lang)
else:
    report = latest.iloc[0]
    heading = t("dr_latest", lang).format(date=pd.Timestamp(report["date"]).strftime("%Y-%m-%d"))
    try:
        wording = bulletin_text(report, lang).split("\n")[0]
    except ValueError:  # an imported report without every daily figure: say so, do not guess
        wording = t("dr_incomplete", lang)
    line = f"**{heading}**{'：' if lang == 'zh' else ': '}{wording}"
st.caption(line)
if may_do(ctx.role, "daily_report"):  # the page is command-only (dashboard.roles)
    # no link when the page runs outside the app's navigation (a benchmark)
    with contextlib.suppress(StreamlitPageNotFoundError):
        c_link.page_link("views/daily_report.py", label=t("dr_open", lang), icon=":material/summarize:")

show_prepared(
    command_map(ctx, as_of, when, national=national),
    key="command_national_map" if national else "command_map",
    height=600 if national else 640,
)
if national:
    risk = frames["risk_areas"]
    table = (
        risk.pivot_table(index="province", columns="level", values="id", aggfunc="count", fill_value=0)
        .reindex(columns=["high", "medium", "cases_unrated"], fill_value=0)
        .assign(total=lambda d: d.sum(axis=1))
        .sort_values("total", ascending=False)
        .reset_index()
    )
    st.subheader(t("risk_by_province", lang))
    st.dataframe(
        table.rename(columns={k: t(k, lang) for k in ("province", "high", "medium", "cases_unrated", "total")}),
        hide_index=True,
        width="stretch",
    )

