"""指挥中心 Command centre: every layer on one map, key figures, the latest daily bulletin."""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from dashboard.command_data import command_figures, latest_bulletin
from dashboard.i18n import t
from dashboard.maps import command_map
from dashboard.mapview import show_prepared
from dashboard.roles import may_do
from dashboard.safe_text import md_text
from dashboard.time_machine_ui import render_time_machine
from dashboard.ui import page_frame, read_public_layer, records_of

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

when = ctx.clock(as_of)
figures = command_figures(ctx, as_of, when)
# two rows of four: seven figures in one row truncate ("1,652 / …") on a 1600-pixel screen
c1, c2, c3, c4 = st.columns([1, 1, 1, 1.5])
c5, c6, c7, c_link = st.columns([1, 1, 1, 1.5], vertical_alignment="center")
for column, figure in zip((c1, c2, c3, c4, c5, c6, c7), figures, strict=True):
    column.metric(figure.label, figure.value, help=figure.help)

# the latest daily bulletin up to the as-of date, one line; the form, table and charts are on
# their own page (dashboard/views/daily_report.py) so the wall screen does not wait for them
bulletin = latest_bulletin(ctx, as_of)
if bulletin is None:
    st.caption(t("dr_latest_none", lang))
else:
    st.caption(f"**{md_text(bulletin.heading)}**{'：' if lang == 'zh' else ': '}{md_text(bulletin.wording)}")
if may_do(ctx.role, "daily_report"):  # the page is command-only (dashboard.roles)
    # no link when the page runs outside the app's navigation (a benchmark)
    with contextlib.suppress(StreamlitPageNotFoundError):
        c_link.page_link("views/daily_report.py", label=t("dr_open", lang), icon=":material/summarize:")
# the same map and figures as one plain page for the wall screen (dashboard/wall.py), same date,
# view and language; relative, so a URL prefix is kept
wall_query = urlencode({"as_of": f"{as_of:%Y-%m-%d}", "view": "national" if national else "city", "lang": lang})
c_link.markdown(f":material/tv: [{t('wall_open', lang)}](wall?{wall_query})")

show_prepared(
    command_map(ctx, as_of, when, national=national),
    key="command_national_map" if national else "command_map",
    height=600 if national else 640,
)
if not national:
    from layers.companions import latest_summary

    summary = latest_summary(records_of(ctx), as_of)  # aggregates only (geo.companions.companion_summary)
    # switches, not expanders, below the map: an expander's tables are built and drawn in the
    # browser even while it is folded, which delayed the map by about 0.35 s (bench command_page);
    # a switch builds nothing until someone turns it on (as the time machine's)
    if summary is None:
        st.caption(t("cmp_none", lang))
    elif st.toggle(t("cmp_title", lang).format(day=summary["as_of"], devices=summary["devices"], cases=summary["cases"]),
                   key="cmp_open"):
        c_nb, c_cell = st.columns(2)
        c_nb.markdown(f"**{t('cmp_by_nb', lang)}**")
        c_nb.dataframe(pd.DataFrame({t("cmp_col_nb", lang): [r["name"] for r in summary["neighbourhoods"]],
                                     t("cmp_col_n", lang): [r["companions"] for r in summary["neighbourhoods"]]}),
                       hide_index=True, width="stretch")
        c_cell.markdown(f"**{t('cmp_cells', lang)}**")
        c_cell.dataframe(pd.DataFrame({t("cmp_col_where", lang): [f"{r['lon']:.4f}, {r['lat']:.4f}" for r in summary["cells"]],
                                       t("cmp_col_nb", lang): [r["neighbourhood"] for r in summary["cells"]],
                                       t("cmp_col_n", lang): [r["companions"] for r in summary["cells"]]}),
                         hide_index=True, width="stretch")
        st.caption(t("cmp_note", lang).format(n=summary["min_count"], a=summary["suppressed_neighbourhoods"],
                                              b=summary["suppressed_cells"]))
if not national:
    # every zone's history beside the risk areas' (national view): when drawn, changed, lifted and by whom
    from dashboard.planning_ui import history_table, zone_choice_label

    if st.toggle(t("zone_history", lang), key="zone_hist_open"):
        every_zone = read_public_layer(ctx, "zones")
        if every_zone.empty:
            st.caption(t("zone_history_none", lang))
        else:
            rows = {str(z["id"]): z for z in every_zone.sort_values("start", ascending=False).to_dict("records")}
            pick = st.selectbox(t("zone_history_pick", lang), list(rows), key="zone_hist",
                                format_func=lambda i: zone_choice_label(rows[i], as_of.date(), lang))
            if pick:
                st.dataframe(history_table(ctx.store.zone_history(pick), lang), hide_index=True, width="stretch")
if national:
    risk = read_public_layer(ctx, "risk_areas", as_of=as_of)
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
    # every entry of one area, oldest first: when it was listed, its level changes, when lifted
    from layers.risk_areas import LIST_KIND, area_history, level_label, list_provenance
    from layers.store.records import records_for

    if st.toggle(t("risk_history", lang), key="risk_hist_open"):
        every = read_public_layer(ctx, "risk_areas")
        labels = dict(zip(every["id"].astype(str), every["id"].astype(str) + " · " + every["province"].fillna("").astype(str)
                          + every["city"].fillna("").astype(str) + every["county"].fillna("").astype(str) + " "
                          + every["area_name"].fillna("").astype(str), strict=True))
        pick = st.selectbox(t("risk_history_pick", lang), list(labels), format_func=lambda i: labels[i], key="risk_hist")
        if pick:
            hist = area_history(every, pick, lists=list_provenance(records_for(ctx.store.location).current(LIST_KIND)))
            cols = t("risk_history_cols", lang).split("|")
            st.dataframe(pd.DataFrame({
                cols[0]: hist["id"], cols[1]: [level_label(v, lang) for v in hist["level"]],
                cols[2]: pd.to_datetime(hist["since"]).dt.strftime("%Y-%m-%d"),
                cols[3]: pd.to_datetime(hist["lifted"]).dt.strftime("%Y-%m-%d").fillna(t("risk_history_open", lang)),
                cols[4]: hist["source"] if "source" in hist.columns else "",
                cols[5]: hist["listed_by"].fillna(""), cols[6]: hist["lifted_by"].fillna(""),
            }), hide_index=True, width="stretch")

# 时间回放: the map day by day (a fragment below the map; stepping reruns only it)
render_time_machine(ctx)
