"""排队上报 Queue report: sampling-site staff (their own sites) and the command centre report a
testing site's queue — 畅通 / 忙碌 / 拥堵 / 暂停 and the wait — from a phone. Residents see the
level and its time on the resident page; the command map colours sites by it.

Reports go through :func:`layers.queue.report_queue` (versioned records, audited here). The
rules are :mod:`geo.queue`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import require_role
from dashboard.i18n import t
from dashboard.safe_text import md_text
from dashboard.ui import page_frame, read_public_layer, records_of, saved_record
from geo.queue import KIND, LEVELS, QueueError, age_text
from layers.queue import load_queue, report_queue

ctx = page_frame("page_queue")
lang = ctx.lang
zh = lang == "zh"
account = require_role(ctx, action="report_queue")
day = ctx.scenario_today
now = ctx.now_on(day)
stale = ctx.settings.queue_stale_minutes
st.caption(t("q_intro", lang).format(n=stale))

sites = read_public_layer(ctx, "testing_sites")
if account.role == "site":  # site staff: only their own sites
    sites = sites[sites["id"].astype(str).isin(account.areas)]
if sites.empty:
    st.warning(t("q_no_sites", lang))
    st.stop()
labels = dict(zip(sites["id"].astype(str), sites["id"].astype(str) + " · " + sites["name"].astype(str), strict=True))
sid = st.selectbox(t("q_site", lang), list(labels), format_func=lambda s: labels[s], key="q_site")
records = records_of(ctx)


def _level(level: str | None) -> str:
    return LEVELS[level][0 if zh else 1] if level in LEVELS else "—"


current = records.get(KIND, sid)
if current is None:
    st.caption(t("q_current_none", lang))
else:
    at = current.data.get("reported_at")
    if (pd.Timestamp(now) - pd.Timestamp(at)).total_seconds() > stale * 60:
        st.caption(t("q_current_stale", lang).format(n=stale))
    st.caption(md_text(t("q_current", lang).format(level=_level(current.data.get("level")), age=age_text(at, now, lang),
                                                   by=current.saved_by)))

level = st.pills(t("q_level", lang), list(LEVELS), format_func=_level, key=f"q_level_{sid}")
wait = st.number_input(t("q_wait", lang), min_value=0, max_value=600, value=None, step=5, key=f"q_wait_{sid}",
                       disabled=level == "paused")
if st.button(t("q_save", lang), type="primary", disabled=level is None, key="q_save"):
    acc = require_role(ctx, action="report_queue")  # checked again, now
    ids = read_public_layer(ctx, "testing_sites")["id"].astype(str)
    saved = saved_record(lambda: report_queue(records, sid, level, wait, sites=set(ids), user=acc.name, at=now,
                                              allowed=acc.areas if acc.role == "site" else None),
                         lang, refused_by=(QueueError,))
    if saved is not None:
        record(acc.name, "report_queue", sid, f"{level}; wait={wait if wait is not None else '-'}", role=acc.role)
        st.toast(t("q_saved", lang).format(site=labels[sid], level=_level(level)))
        st.rerun()

st.subheader(t("q_all", lang))
states = load_queue(records, now=now, stale_minutes=stale).set_index("site_id")
ids = sites["id"].astype(str)
st.dataframe(
    pd.DataFrame({
        t("q_col_site", lang): [labels[s] for s in ids],
        t("q_col_level", lang): [_level(states["level"].get(s)) if s in states.index else "—" for s in ids],
        t("q_col_wait", lang): [states["wait_min"].get(s) if s in states.index else None for s in ids],
        t("q_col_age", lang): [age_text(states.loc[s, "reported_at"], now, lang) if s in states.index else "—" for s in ids],
    }),
    hide_index=True, width="stretch",
)
