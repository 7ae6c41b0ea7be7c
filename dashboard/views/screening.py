"""人员筛查 Screening: who must be reached by when, and which neighbourhoods need screening.

Personal data: computed per session (never a shared cache); phones and ID numbers are masked
on screen; the download for grid workers is masked too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import accounts, md_text, require_role
from dashboard.i18n import t
from dashboard.roles import may_do, screening_in_scope
from dashboard.ui import page_frame, session_screening
from geo.screening import CODE_LABELS, CODES, SCREENING_LEVELS, mask_id, mask_phone
from layers.screening_io import write_screening
from layers.zones import tier_label

ctx = page_frame("page_screening")
lang = ctx.lang
zh = lang == "zh"
st.caption(t("screening_intro", lang))

as_of = pd.Timestamp(st.date_input(t("as_of", lang), value=ctx.scenario_today.date(), key="screen_as_of"))
account = require_role(ctx, action="view_personal")  # command: everyone; grid: their areas only
if account.role == "grid":
    st.caption(t("scr_scope", lang).format(areas=md_text("、".join(account.areas) if zh else ", ".join(account.areas)))
               if account.areas else t("scr_no_scope", lang))
with st.spinner(t("screening_running", lang)):
    result = screening_in_scope(session_screening(ctx, as_of), account.role, account.areas)
_seen = st.session_state.setdefault("_screening_viewed", set())
if as_of not in _seen:  # one audit entry per session and date, not one per rerun
    _seen.add(as_of)
    record(ctx.user, "view_personal", "screening", f"as_of={as_of:%Y-%m-%d}; people={len(result.travellers)}", role=ctx.role)
st.caption(
    f"{t('rule_set', lang)}: {result.rule_set.name_zh if lang == 'zh' else result.rule_set.name_en}"
)

codes = result.code_counts()
levels = result.screening_counts()
trav = result.travellers
cols = st.columns(len(CODES) + 2)
for col, code in zip(cols, CODES, strict=False):
    col.metric(CODE_LABELS[code][0 if zh else 1], f"{codes[code]:,}")
cols[-2].metric(t("overdue_nongreen", lang), f"{result.overdue_count():,}")
cols[-1].metric(t("full_screening", lang), f"{levels.get('full', 0)} / {levels.get('targeted', 0)}",
                help=t("full_screening_help", lang))

st.subheader(t("neighbourhood_list", lang))
nb = pd.DataFrame(result.neighbourhoods.drop(columns="geometry"))
rank = {level: i for i, level in enumerate(SCREENING_LEVELS)}
nb = nb.assign(_rank=nb["screening"].map(rank)).sort_values(["_rank", "travellers"], ascending=[True, False])
nb_view = pd.DataFrame(
    {
        t("col_neighbourhood", lang): nb["name"],
        t("col_street", lang): nb["street"],
        t("col_district", lang): nb["district"],
        t("col_screening", lang): [SCREENING_LEVELS.get(v, (v, v))[0 if zh else 1] for v in nb["screening"]],
        t("col_arrivals", lang): nb["travellers"],
        CODE_LABELS["red"][0 if zh else 1]: nb["red"],
        CODE_LABELS["yellow"][0 if zh else 1]: nb["yellow"],
        CODE_LABELS["pending"][0 if zh else 1]: nb["pending"],
        t("col_overdue", lang): nb["overdue"],
        t("col_zone", lang): [tier_label(z, lang) if isinstance(z, str) and z else "" for z in nb["zone_tier"]],
    }
)
st.dataframe(nb_view, hide_index=True, width="stretch", height=320)

st.subheader(t("traveller_list", lang))
f1, f2, f3 = st.columns([2, 2, 1])
pick = f1.multiselect(
    t("filter_code", lang), options=list(CODES), default=["red", "yellow", "pending"],
    format_func=lambda c: CODE_LABELS[c][0 if zh else 1],
)
districts = sorted(x for x in trav["district"].dropna().unique())
district = f2.selectbox(t("filter_district", lang), options=["*", *districts], format_func=lambda d: t("all", lang) if d == "*" else d)
overdue_only = f3.toggle(t("filter_overdue", lang), value=False)
view = trav[trav["code"].isin(pick)]
if district != "*":
    view = view[view["district"] == district]
if overdue_only:
    view = view[view["overdue"]]
table = pd.DataFrame(
    {
        t("col_id", lang): view["id"],
        t("col_name", lang): view["name"],
        t("col_phone", lang): [mask_phone(v) for v in view["phone"]],
        t("col_id_number", lang): [mask_id(v) for v in view["id_number"]],
        t("col_neighbourhood", lang): view["neighbourhood"],
        t("col_arrival", lang): view["arrival_date"].dt.date,
        t("col_code", lang): [CODE_LABELS[c][0 if zh else 1] for c in view["code"]],
        t("col_measure", lang): view["measure_zh" if zh else "measure_en"],
        t("col_first_action", lang): view["first_action_zh" if zh else "first_action_en"],
        t("col_due", lang): view["first_action_due"],
        t("col_overdue", lang): view["overdue"],
        t("col_obligations", lang): view["open_obligations"].astype(str) + " / " + view["obligations"].astype(str),
        t("col_all_obligations", lang): view["obligations_zh" if zh else "obligations_en"],
        t("col_history_incomplete", lang): view["history_incomplete"],
        t("col_basis", lang): view["reason_zh" if zh else "reason_en"],
    }
).sort_values(t("col_due", lang))
st.caption(t("traveller_count", lang).format(n=len(table)))
st.dataframe(
    table, hide_index=True, width="stretch", height=420,
    column_config={t("col_due", lang): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
)

with st.expander(t("obligations_of", lang)):
    who = st.selectbox(t("col_id", lang), options=table[t("col_id", lang)].tolist(), index=None, key="scr_obligations_of")
    if who is not None:
        ob = result.obligations[result.obligations["traveller_id"] == who]
        st.dataframe(
            pd.DataFrame(
                {
                    t("col_code", lang): [CODE_LABELS[c][0 if zh else 1] for c in ob["code"]],
                    t("col_measure", lang): ob["measure_zh" if zh else "measure_en"],
                    t("col_first_action", lang): ob["first_action_zh" if zh else "first_action_en"],
                    t("col_due", lang): ob["due"],
                    t("col_end", lang): ob["end"].dt.date,
                    t("col_status", lang): [t(f"ob_{x}", lang) for x in ob["status"]],
                    t("col_overdue", lang): ob["overdue"],
                    t("col_basis", lang): ob["reason_zh" if zh else "reason_en"],
                }
            ),
            hide_index=True, width="stretch",
            column_config={t("col_due", lang): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )

_db, _who, _role, _store = accounts(ctx.settings), account.name, account.role, ctx.settings.store


def _grid_workbook() -> bytes:
    # built only when the button is clicked (about 4 s for 20,000 people), on another thread:
    # check the account again and record the export before anything is built
    now = _db.get(_who)
    if now is None or now.disabled or now.role != _role or not may_do(now.role, "export_personal"):
        record(_who, "access_denied", "screening_xlsx", f"role={now.role if now else '-'}", store=_store)
        msg = "account no longer allowed to export"
        raise PermissionError(msg)
    record(_who, "export_personal", "screening_xlsx", f"as_of={as_of:%Y-%m-%d}; people={len(result.travellers)}; masked", role=_role, store=_store)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "screening.xlsx"
        write_screening(result, out, role="grid")
        return out.read_bytes()


st.download_button(
    t("download_grid_xlsx", lang),
    data=_grid_workbook,
    file_name=f"screening_{as_of:%Y%m%d}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
