"""社区日报 / 零报告 widgets: a grid worker's report for each of their neighbourhoods, and the
command centre's roll-up with the missing-reports list.

Logic lives in :mod:`geo.community` (rules, roll-up) and :mod:`layers.community` (the versioned
write); this module only lays out widgets. Reports hold figures and a community's own words, no
personal details; they are read per session all the same (records, not a shared cache).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import md_text, require_role
from dashboard.i18n import t
from dashboard.ui import PageContext, records_of, saved_record
from geo.community import FIGURES, STATUSES, CommunityReportError, report_status, rollup, system_figures
from layers.community import load_reports, report_history, save_report

__all__ = ["render_my_reports", "render_rollup"]



def _status_label(status: str, lang: str) -> str:
    zh_l, en_l = STATUSES[status]
    return zh_l if lang == "zh" else en_l


def render_my_reports(ctx: PageContext, result, states: pd.DataFrame, checkins: pd.DataFrame, *, day: pd.Timestamp, now) -> None:
    """The worker's neighbourhoods (``result``: their screening, follow-up applied) and today's
    report of each: a one-tap zero report, or the daily report from the system's figures."""
    lang = ctx.lang
    zh = lang == "zh"
    cutoff = ctx.settings.report_cutoff
    nb = result.neighbourhoods
    if nb.empty:
        st.info(t("cr_no_neighbourhoods", lang))
        return
    records = records_of(ctx)
    status = report_status(nb, load_reports(records, scopes=nb["id"].astype(str).tolist()), day=day, now=now, cutoff=cutoff)
    system = system_figures(result, states, checkins, day=day)
    st.caption(t("cr_intro", lang).format(cutoff=f"{cutoff:%H:%M}", day=f"{day:%Y-%m-%d}"))
    open_ = status[status["status"].isin(("not_yet", "missing"))]
    st.markdown(t("cr_progress", lang).format(done=len(status) - len(open_), total=len(status)))
    ids = status["id"].tolist()
    labels = {r["id"]: f"{r['name']} · {_status_label(r['status'], lang)}" for _, r in status.iterrows()}
    first = open_["id"].iloc[0] if len(open_) else ids[0]
    pick = ids[0] if len(ids) == 1 else st.selectbox(
        t("cr_neighbourhood", lang), ids, index=ids.index(first), format_func=labels.get, key="cr_pick"
    )
    row = status.set_index("id").loc[pick]
    sys_row = {f: int(system.loc[pick, f]) if pick in system.index else 0 for f in system.columns}
    state = row["status"]
    colour = {"missing": "red", "not_yet": "orange", "late": "orange"}.get(state, "green")
    with st.container(border=True, key=f"cr_card_{pick}"):
        st.markdown(f"**{md_text(row['name'])}** · :{colour}-badge[{_status_label(state, lang)}]")
        if int(row["version"]):
            saved = t("cr_saved_as", lang).format(
                kind=t("cr_zero" if row["zero"] else "cr_daily", lang), at=f"{pd.Timestamp(row['at']):%H:%M}",
                by=md_text(row["saved_by"] or ""), version=int(row["version"]))
            st.caption(saved)
        base_key = f"cr_base_{pick}_{day:%Y%m%d}"
        st.session_state.setdefault(base_key, int(row["version"]))
        nothing = not (sys_row.get("new_arrivals") or sys_row.get("abnormal_checkins"))
        st.caption(t("cr_system", lang) + " · ".join(
            f"{FIGURES[f][0 if zh else 1]} {sys_row.get(f, 0)}" for f in FIGURES if FIGURES[f][2]))
        if st.button(t("cr_zero_button", lang), key=f"cr_zero_{pick}", type="primary" if nothing and not int(row["version"]) else "secondary",
                     help=t("cr_zero_help", lang), icon=":material/exposure_zero:"):
            _save(ctx, pick, day, {}, zero=True, system=sys_row, base_key=base_key, now=now)
        with st.expander(t("cr_daily_form", lang), expanded=not nothing and not int(row["version"])):
            fields: dict[str, object] = {}
            cols = st.columns(2)
            for i, (f, (zh_l, en_l, from_system)) in enumerate(FIGURES.items()):
                start = int(row[f]) if int(row["version"]) else (sys_row.get(f, 0) if from_system else 0)
                fields[f] = cols[i % 2].number_input(zh_l if zh else en_l, min_value=0, value=start, step=1,
                                                     key=f"cr_{f}_{pick}_{day:%Y%m%d}")
            fields["abnormal"] = st.text_area(t("cr_abnormal", lang), value=str(row["abnormal"] or ""), max_chars=500,
                                              key=f"cr_abn_{pick}_{day:%Y%m%d}", height=80)
            if st.button(t("cr_submit", lang), key=f"cr_submit_{pick}", icon=":material/send:"):
                _save(ctx, pick, day, fields, zero=False, system=sys_row, base_key=base_key, now=now)
        hist = report_history(records, pick, day)
        if len(hist) > 1:
            with st.expander(t("cr_revisions", lang).format(n=len(hist))):
                st.dataframe(pd.DataFrame([{
                    t("cr_col_version", lang): h.version, t("cr_col_by", lang): h.saved_by, t("cr_col_at", lang): h.saved_at,
                    t("cr_col_kind", lang): t("cr_zero" if h.data.get("zero") else "cr_daily", lang),
                    **{FIGURES[f][0 if zh else 1]: h.data.get(f) for f in FIGURES},
                    t("cr_abnormal", lang): h.data.get("abnormal", ""),
                } for h in hist]), hide_index=True, width="stretch")


def _save(ctx: PageContext, nb_id: str, day: pd.Timestamp, fields: dict, *, zero: bool, system: dict, base_key: str, now) -> None:
    lang = ctx.lang
    acc = require_role(ctx, action="record_outcome")
    rec = saved_record(
        lambda: save_report(records_of(ctx), nb_id, day, fields, zero=zero, system=system,
                            based_on=int(st.session_state.get(base_key, 0)), user=acc.name, at=now,
                            cutoff=ctx.settings.report_cutoff),
        lang, refused_by=(CommunityReportError,),
        on_stale=lambda: st.session_state.pop(base_key, None),  # the next save is based on what is stored now
    )
    if rec is None:
        return
    record(acc.name, rec.action, nb_id, f"{day:%Y-%m-%d} v{rec.version}", role=acc.role)
    st.session_state[base_key] = rec.version
    st.toast(t("cr_saved", lang).format(kind=t("cr_zero" if zero else "cr_daily", lang), day=f"{day:%m-%d}"))
    st.rerun()


def community_status(ctx: PageContext, neighbourhoods: pd.DataFrame, *, day: pd.Timestamp, now) -> pd.DataFrame:
    """Every neighbourhood's report status for ``day`` at ``now`` (:func:`geo.community.report_status`)."""
    return report_status(neighbourhoods, load_reports(records_of(ctx)), day=day, now=now, cutoff=ctx.settings.report_cutoff)


def render_rollup(ctx: PageContext, neighbourhoods: pd.DataFrame, *, day: pd.Timestamp, now, workers: pd.Series | None = None) -> None:
    """The command centre's view: the city's figures from the communities' reports, the missing
    list (``workers``: the responsible grid worker by neighbourhood id), and the roll-up by
    district and street."""
    lang = ctx.lang
    zh = lang == "zh"
    cutoff = ctx.settings.report_cutoff
    status = community_status(ctx, neighbourhoods, day=day, now=now)
    city = rollup(status, None).iloc[0]
    received = int(city["reported"] + city["zero"] + city["late"])
    c = st.columns(4)
    c[0].metric(t("cr_m_received", lang), f"{received:,} / {int(city['neighbourhoods']):,}")
    c[1].metric(t("cr_m_zero", lang), f"{int(city['zero']):,}")
    c[2].metric(t("cr_m_missing", lang) if now >= day + pd.Timedelta(hours=cutoff.hour, minutes=cutoff.minute)
                else t("cr_m_not_yet", lang), f"{int(city['missing'] + city['not_yet']):,}")
    c[3].metric(t("cr_m_abnormal", lang), f"{int(city['abnormal_checkins']):,}")
    st.caption(t("cr_cutoff_note", lang).format(cutoff=f"{cutoff:%H:%M}", day=f"{day:%Y-%m-%d}"))
    missing = status[status["status"].isin(("missing", "not_yet"))]
    st.markdown(f"**{t('cr_missing_list', lang)}**（{len(missing):,}）")
    if missing.empty:
        st.success(t("cr_all_in", lang))
    else:
        table = pd.DataFrame({
            t("col_district", lang): missing["district"], t("cr_col_street", lang): missing["street"],
            t("col_neighbourhood", lang): missing["name"],
            t("cr_col_status", lang): [_status_label(s, lang) for s in missing["status"]],
        })
        if workers is not None:
            table[t("fu_col_worker", lang)] = missing["id"].map(workers).fillna(t("fu_nobody", lang)).to_numpy()
        st.dataframe(table, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(table)))
    names = {f: FIGURES[f][0 if zh else 1] for f in FIGURES}
    heads = {s: _status_label(s, lang) for s in STATUSES} | names | {
        "neighbourhoods": t("cr_col_neighbourhoods", lang), "reported_pct": t("cr_col_received_pct", lang),
        "abnormal": t("cr_abnormal", lang), "district": t("col_district", lang), "street": t("cr_col_street", lang)}
    pct = {heads["reported_pct"]: st.column_config.NumberColumn(format="%.0f%%")}
    for level in ("district", "street"):
        with st.expander(t(f"cr_by_{level}", lang), expanded=level == "district"):
            st.dataframe(rollup(status, level).rename(columns=heads), hide_index=True, width="stretch", column_config=pct)
    words = status[status["abnormal"] != ""]
    if len(words):
        with st.expander(t("cr_abnormal_list", lang).format(n=len(words)), expanded=True):
            for _, r in words.iterrows():
                st.markdown(f"- **{md_text(r['district'])} · {md_text(r['name'])}**：{md_text(r['abnormal'])}")
