"""集中隔离转运 Quarantine transfers: plan rooms for the people to transfer, see it on the map,
download it, confirm it (records "transferred" for each person; the hotels' free rooms follow).

Planners and command staff. The plan is made per session from the full screening (personal data:
residence points) and never cached across users; the map draws neighbourhood → hotel lines, never
a residence. The logic is in :mod:`geo.allocation` (the plan) and :mod:`layers.allocation`
(inputs, confirmation, workbook).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import require_role
from dashboard.i18n import t
from dashboard.maps import transfer_map
from dashboard.mapview import show_map
from dashboard.roles import may_do
from dashboard.safe_text import in_lang, md_text
from dashboard.ui import page_frame, read_public_layer, records_of, saved_record, session_screening
from geo.allocation import allocate, plan_totals
from geo.errors import ImportRejected
from geo.followup import FollowupError, states_frame
from layers.allocation import confirm_transfers, plan_inputs, plan_workbook
from layers.hotels import STATUS

ctx = page_frame("page_transfers")
lang = ctx.lang
zh = lang == "zh"
day = ctx.scenario_today
now = ctx.now_on(day)
st.caption(t("tr_intro", lang))

c_seats, c_when = st.columns([1, 3], vertical_alignment="bottom")
seats = int(c_seats.number_input(t("tr_seats", lang), min_value=1, max_value=60, value=ctx.settings.transfer_seats, step=1))
c_when.caption(t("tr_judged_at", lang).format(time=f"{now:%Y-%m-%d %H:%M}", share=ctx.settings.hotel_reserve_share))


def _travellers() -> pd.DataFrame:
    """The travellers layer (residence points, households, needs): per session, per store version."""
    key = (ctx.store.location, ctx.store.version())
    kept = st.session_state.get("_tr_travellers")
    if kept is None or kept[0] != key:
        kept = (key, ctx.store.read("travellers"))
        st.session_state["_tr_travellers"] = kept
    return kept[1]


with st.spinner(t("screening_running", lang)):
    result = session_screening(ctx, day)
    records = records_of(ctx)
    pkey = (ctx.store.location, ctx.store.version(), records.version(), seats, now)
    kept = st.session_state.get("_tr_plan")
    if kept is None or kept[0] != pkey:  # this session only: the plan holds residence points
        from geo.followup import KIND

        inputs = plan_inputs(result, _travellers(), ctx.store.read("hotels"), states_frame(records.current(KIND)),
                             now=now, reserve_share=ctx.settings.hotel_reserve_share)
        kept = (pkey, inputs, allocate(inputs.people, inputs.hotels, seats=seats))
        st.session_state["_tr_plan"] = kept
    _, inputs, plan = kept

tot = plan_totals(plan)
gap = "—" if tot["gap_pct"] is None else f"{tot['gap_pct']:.2f}%"
cols = st.columns(4)
cols[0].metric(t("tr_to_place", lang), f"{len(inputs.people):,}")
cols[1].metric(t("tr_placed", lang), f"{tot['placed']:,}")
cols[2].metric(t("tr_unplaced", lang), f"{tot['unplaced']:,}")
cols[3].metric(t("tr_km_total", lang), t("tr_km", lang).format(km=tot["km_total"]),
               help=t("tr_gap_help", lang).format(gap=gap, method=plan.method))
cols = st.columns(4)
cols[0].metric(t("tr_km_per_person", lang), t("tr_km", lang).format(km=tot["km_per_person"]))
cols[1].metric(t("tr_hotels_used", lang), f"{tot['hotels_used']:,}")
cols[2].metric(t("tr_hotels_opened", lang), f"{tot['hotels_opened']:,}")
cols[3].metric(t("tr_batches", lang), f"{tot['batches']:,}")
st.caption(t("tr_distance_note", lang))

hotel_names = dict(zip(plan.hotels["hotel_id"], plan.hotels["name"].astype(str), strict=True))
if inputs.people.empty:
    st.info(t("tr_nobody", lang))
if plan.opened:
    st.warning(md_text(t("tr_opened", lang).format(names="、".join(hotel_names.get(h, h) for h in plan.opened))))
if len(plan.unplaced):
    st.error(t("tr_short", lang).format(n=len(plan.unplaced)))
if plan.issues:
    st.warning(t("tr_hotel_issues", lang) + "\n\n" + "\n".join(
        f"- {md_text(h)}：{md_text(zh_ if zh else en_)}" for h, zh_, en_ in plan.issues))

show_map(transfer_map(ctx, plan, lang), key="transfer_map", height=520)

nbh = read_public_layer(ctx, "neighbourhoods")
nb_names = dict(zip(nbh["id"].astype(str), nbh["name"].astype(str), strict=True))
st.subheader(t("tr_hotels_table", lang))
shown = plan.hotels[(plan.hotels["placed"] > 0) | plan.hotels["opened"] | (plan.hotels["status"] == "in_use")]
st.dataframe(
    pd.DataFrame({
        t("tr_col_hotel", lang): shown["name"],
        t("tr_col_status", lang): [STATUS.get(s, (s, s))[0 if zh else 1] for s in shown["status"]],
        t("tr_col_capacity", lang): shown["capacity"].astype("int64"),
        t("tr_col_before", lang): shown["free_before"].astype("int64"),
        t("tr_col_placed", lang): shown["placed"],
        t("tr_col_after", lang): shown["free_after"].astype("int64"),
        t("tr_col_opened", lang): shown["opened"].map({True: "✓", False: ""}),
    }).sort_values(t("tr_col_placed", lang), ascending=False, kind="stable"),
    hide_index=True, width="stretch",
)
if len(plan.batches):
    st.subheader(t("tr_batches_table", lang))
    b = plan.batches
    st.dataframe(
        pd.DataFrame({
            t("tr_col_batch", lang): b["batch"],
            t("tr_col_hotel", lang): b["hotel_id"].map(hotel_names),
            t("tr_col_calls", lang): ["、".join(nb_names.get(n, n) for n in calls.split("、")) for calls in b["neighbourhood_id"]],
            t("tr_col_people", lang): b["people"],
            t("tr_col_km", lang): b["km"].round(1),
        }),
        hide_index=True, width="stretch",
    )
if len(plan.unplaced):
    st.subheader(t("tr_unplaced_table", lang))
    tid_nb = dict(zip(inputs.people["traveller_id"].astype(str), inputs.people["neighbourhood_id"].astype(str), strict=True))
    u = plan.unplaced.assign(nb=plan.unplaced["traveller_id"].astype(str).map(tid_nb).map(lambda n: nb_names.get(n, n)),
                             reason=plan.unplaced["reason_zh" if zh else "reason_en"])
    st.dataframe(
        u.groupby(["nb", "reason"]).size().reset_index(name="n").rename(columns={
            "nb": t("tr_col_neighbourhood", lang), "reason": t("tr_col_reason", lang), "n": t("tr_col_people", lang)}),
        hide_index=True, width="stretch",
    )

personal = may_do(ctx.role, "view_personal")
st.download_button(
    t("tr_download", lang),
    data=plan_workbook(plan, result, neighbourhood_names=nb_names, personal=personal),
    file_name=f"transfer-plan-{now:%Y%m%d-%H%M}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    help=t("tr_download_help_personal" if personal else "tr_download_help_ids", lang),
    disabled=plan.placed == 0,
    on_click="ignore",
)

if plan.placed:
    sure = st.checkbox(t("tr_confirm_check", lang).format(n=plan.placed), key="tr_sure")
    if st.button(t("tr_confirm", lang), type="primary", disabled=not sure, key="tr_confirm"):
        acc = require_role(ctx, action="transfer_plan")  # checked again, now
        try:
            saved = saved_record(lambda: confirm_transfers(records, plan, result, inputs.rooms, user=acc.name, at=now),
                                 lang, refused_by=(FollowupError,))
        except ImportRejected as exc:
            saved = None
            st.error(md_text(in_lang(exc, lang)))
            for row in exc.rows[:20]:
                st.caption(md_text(row[2] if zh else row[3]))
        if saved is not None:
            record(acc.name, "transfer_plan", "hotels",
                   f"{plan.placed} people, {len(plan.batches)} batches, {math.fsum(plan.assignments['km']):.1f} km", role=acc.role)
            st.session_state.pop("tr_sure", None)
            st.toast(t("tr_confirmed", lang).format(n=plan.placed))
            st.rerun()
