"""随访任务 Follow-up: the grid worker's list on a phone, and who is still open for the command centre.

Personal data: computed per session (never a shared cache). The full phone is shown only after a
tap, only to the worker whose list holds the person (or command staff), and each reveal is
audited (who, whose, when — never the number). Outcomes go through layers.followup.record_outcome.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import accounts, md_text, require_role
from dashboard.community_ui import render_my_reports, render_rollup
from dashboard.i18n import t
from dashboard.roles import screening_in_scope
from dashboard.ui import (
    hotel_moved_in,
    page_frame,
    read_public_layer,
    records_of,
    saved_record,
    session_screening,
    upload_import,
)
from geo.followup import (
    CHECKIN_KIND,
    FEVER_C,
    OUTCOMES,
    SYMPTOMS,
    TEST_RESULTS,
    FollowupError,
    checkin_figures,
    checkin_items,
    followup_figures,
    hotel_rooms_free,
    responsible,
    task_list,
    time_left,
    workload,
)
from geo.screening import CODE_LABELS, mask_phone
from layers.allocation import layer_rooms
from layers.followup import load_checkins, load_states, record_checkin, record_outcome, until_verified_kinds
from layers.hotels import in_use as hotels_in_use
from layers.screening_io import tasks_xlsx_bytes

PAGE_SIZE = 20
COLOURS = {"red": "red", "yellow": "orange", "pending": "violet", "green": "green"}

ctx = page_frame("page_followup")
lang = ctx.lang
zh = lang == "zh"
account = require_role(ctx, action="record_outcome")
day = ctx.scenario_today
now = ctx.now_on(day)
st.caption(t("fu_intro", lang))
if account.role == "grid" and not account.areas:
    st.warning(t("fu_no_scope", lang))
    st.stop()

with st.spinner(t("screening_running", lang)):
    result = screening_in_scope(session_screening(ctx, day), account.role, account.areas)
checkins = checkin_items(result, load_checkins(records_of(ctx)), now=now)
tasks = task_list(result, now=now, checkins=checkins)
fig = followup_figures(result).iloc[0]
ck_fig = checkin_figures(checkins, now=now)
st.caption(t("fu_judged_at", lang).format(time=f"{now:%Y-%m-%d %H:%M}"))
pct = "—" if pd.isna(fig["in_time_pct"]) else f"{fig['in_time_pct']:.0f}%"
with st.container(key="fu_summary"):  # one line, so the first card is on a phone's first screen
    st.markdown(
        f"{t('fu_open', lang)} **{int(fig['open']):,}** · {t('fu_overdue', lang)} **:red[{int(fig['overdue']):,}]** · "
        f"{t('fu_done', lang)} **{int(fig['done']):,}** · {t('fu_in_time', lang)} **{pct}**"
        + (f" · {t('fu_checkins', lang)} **{ck_fig['done']:,}/{ck_fig['expected']:,}**"
           f" · {t('fu_checkins_missed', lang)} **:red[{ck_fig['missed']:,}]**"
           f" · {t('fu_checkins_abnormal', lang)} **:red[{ck_fig['abnormal']:,}]**" if len(checkins) else ""),
        help=t("fu_in_time_help", lang),
    )

revealed: set[str] = st.session_state.setdefault("_fu_revealed", set())
waits = until_verified_kinds(result.rule_set)


def _reveal(tid: str) -> None:
    acc = require_role(ctx, action="reveal_phone")
    record(acc.name, "reveal_phone", tid, "follow-up card", role=acc.role)  # whose, never the number
    revealed.add(tid)


def _hotels() -> tuple[list[str], dict[str, str]]:
    hotels = read_public_layer(ctx, "hotels")
    hotels = hotels[hotels_in_use(hotels)]
    free = hotel_rooms_free(hotels, hotel_moved_in(ctx))
    labels = {
        h: t("fu_hotel_option", lang).format(name=n, free=f)
        for h, n, f in zip(hotels["id"], hotels["name"], free, strict=True)
    }
    return list(labels), labels


def _neighbourhoods() -> tuple[list[str], dict[str, str]]:
    nb = read_public_layer(ctx, "neighbourhoods")
    labels = dict(zip(nb["id"], nb["district"].fillna("") + " · " + nb["street"].fillna("") + " · " + nb["name"], strict=True))
    return list(labels), labels


def _key(row: pd.Series) -> str:
    """Widget keys follow the item (an obligation, or one day's check-in), not its position (the
    order changes as items are done)."""
    day = f"|{pd.Timestamp(row['day']):%Y-%m-%d}" if row["kind"] == CHECKIN_KIND else ""
    return hashlib.sha1(f"{row['traveller_id']}|{row['kind']}{day}".encode()).hexdigest()[:12]


def _remember_base(k: str, version: int) -> None:
    """The record version the worker saw when they picked the outcome: the save is based on it,
    so an outcome someone else recorded meanwhile is a conflict, not silently built upon."""
    st.session_state[f"fu_base_{k}"] = version


def _reload_button(k: str) -> None:
    """After a refused save: forget the outcome picked, so the item shows what is stored now."""
    st.button(t("fu_reload", lang), key=f"fu_reload_{k}", on_click=_forget, args=(k,))


def _forget(k: str) -> None:
    st.session_state.pop(f"fu_pick_{k}", None)
    st.session_state.pop(f"fu_base_{k}", None)


def _outcome_form(row: pd.Series) -> None:
    """Tap an outcome, fill what it needs, tap save: one small request."""
    options = [o.id for o in OUTCOMES.values() if not o.push_only or row["kind"] in waits]
    k = _key(row)
    choice = st.pills(
        t("fu_record", lang), options, format_func=lambda o: OUTCOMES[o].zh if zh else OUTCOMES[o].en,
        key=f"fu_pick_{k}", on_change=_remember_base, args=(k, int(row["version"])),
    )
    if choice is None:
        return
    fields: dict[str, object] = {}
    if choice == "unreachable":
        fields["reason"] = st.text_input(t("fu_reason", lang), key=f"fu_reason_{k}", max_chars=200)
    elif choice == "test_taken":
        fields["test_date"] = str(st.date_input(t("fu_test_date", lang), value=now.date(), key=f"fu_date_{k}"))
    elif choice == "test_result":
        fields["result"] = st.radio(t("fu_result", lang), list(TEST_RESULTS), key=f"fu_res_{k}", horizontal=True,
                                    format_func=lambda r: TEST_RESULTS[r][0 if zh else 1])
    elif choice == "transferred":
        ids, labels = _hotels()
        fields["hotel_id"] = st.selectbox(t("fu_hotel", lang), ids, format_func=labels.get, key=f"fu_hotel_{k}", index=None)
    elif choice == "moved_out":
        ids, labels = _neighbourhoods()
        ids = [x for x in ids if x != row["neighbourhood_id"]]
        fields["to_neighbourhood"] = st.selectbox(t("fu_to_neighbourhood", lang), ids, format_func=labels.get,
                                                  key=f"fu_nb_{k}", index=None)
    elif choice == "push_verified":  # the stay the check found: the person is classified again by it
        fields["place"] = st.text_input(t("fu_stay_place", lang), key=f"fu_place_{k}", max_chars=100,
                                        placeholder=t("fu_stay_place_hint", lang))
        c1, c2 = st.columns(2)
        fields["from_date"] = str(c1.date_input(t("fu_stay_from", lang), value=None, max_value=now.date(), key=f"fu_from_{k}") or "")
        fields["to_date"] = str(c2.date_input(t("fu_stay_to", lang), value=None, max_value=now.date(), key=f"fu_to_{k}") or "")
    if choice in ("home_quarantine", "transferred", "completed", "reached_visit"):
        fields["note"] = st.text_input(t("fu_note", lang), key=f"fu_note_{k}", max_chars=200)
    if st.button(t("fu_save", lang), key=f"fu_save_{k}", type="primary"):
        acc = require_role(ctx, action="record_outcome")  # checked again, now
        siblings = result.obligations[result.obligations["traveller_id"] == row["traveller_id"]]
        siblings = siblings[siblings["community"].astype(bool)].to_dict("records")
        based_on = int(st.session_state.get(f"fu_base_{k}", row["version"]))
        if saved_record(lambda: record_outcome(
            records_of(ctx), row.to_dict(), choice, fields, based_on=based_on, user=acc.name, at=now,
            scope=str(row["neighbourhood_id"] or ""), until_verified=row["kind"] in waits, siblings=siblings,
            rooms=layer_rooms(read_public_layer(ctx, "hotels")) if choice == "transferred" else None,
        ), lang, refused_by=(FollowupError,), on_stale=lambda: _reload_button(k)) is None:
            return
        record(acc.name, "record_outcome", str(row["traveller_id"]), f"{row['kind']}: {choice}", role=acc.role)
        st.toast(t("fu_saved", lang).format(outcome=OUTCOMES[choice].zh if zh else OUTCOMES[choice].en))
        _forget(k)
        st.rerun()


def _checkin_form(row: pd.Series) -> None:
    """One day's check-in: the temperature and any symptoms, or why it could not be done."""
    k = _key(row)
    day = pd.Timestamp(row["day"])
    choice = st.pills(
        t("fu_checkin_pick", lang), ["done", "missed"], key=f"fu_pick_{k}",
        format_func=lambda c: t(f"fu_checkin_{c}", lang), on_change=_remember_base, args=(k, int(row["version"])),
    )
    if choice is None:
        return
    fields: dict[str, object] = {}
    if choice == "done":
        fields["temperature"] = st.number_input(t("fu_temperature", lang), min_value=34.0, max_value=43.0, value=None,
                                                step=0.1, format="%.1f", key=f"fu_temp_{k}",
                                                help=t("fu_fever_help", lang).format(c=FEVER_C))
        fields["symptoms"] = st.pills(t("fu_symptoms", lang), list(SYMPTOMS), selection_mode="multi", key=f"fu_sym_{k}",
                                      format_func=lambda x: SYMPTOMS[x][0 if zh else 1])
    else:
        fields["missed"] = True
        fields["reason"] = st.text_input(t("fu_checkin_reason", lang), key=f"fu_reason_{k}", max_chars=200)
    if st.button(t("fu_save", lang), key=f"fu_save_{k}", type="primary"):
        acc = require_role(ctx, action="record_outcome")
        based_on = int(st.session_state.get(f"fu_base_{k}", row["version"]))
        rec = saved_record(lambda: record_checkin(
            records_of(ctx), row["traveller_id"], day, fields, based_on=based_on, user=acc.name, at=now,
            scope=str(row["neighbourhood_id"] or ""),
        ), lang, refused_by=(FollowupError,), on_stale=lambda: _reload_button(k))
        if rec is None:
            return
        record(acc.name, "record_checkin", str(row["traveller_id"]), f"{day:%Y-%m-%d}: {choice}", role=acc.role)
        msg = "fu_checkin_abnormal_saved" if rec.data.get("abnormal") else "fu_checkin_saved"
        st.toast(t(msg, lang).format(day=f"{day:%m-%d}"))
        _forget(k)
        st.rerun()


def _card(row: pd.Series) -> None:
    code = str(row["person_code"])
    colour = COLOURS.get(code, "gray")
    label = CODE_LABELS.get(code, (code, code))[0 if zh else 1]
    tid = str(row["traveller_id"])
    with st.container(border=True, key=f"fu_card_{_key(row)}"):
        st.markdown(f"**{md_text(row['name'])}** · :{colour}-badge[{md_text(label)}] · {md_text(row['measure_zh' if zh else 'measure_en'])}")
        st.markdown(md_text(row["first_action_zh" if zh else "first_action_en"]))
        left = time_left(row["hours_left"], lang)
        due = "" if pd.isna(row["due"]) else f"{t('fu_deadline', lang)} {pd.Timestamp(row['due']):%m-%d %H:%M} · "
        if row["urgency"] in ("overdue", "missed_checkin"):
            st.markdown(f":red[**{due}{left}**]")
        elif row["urgency"] in ("due", "no_deadline"):
            st.markdown(f"**{due}{left}**")
        else:
            st.markdown(f":green[{t('fu_urgency_' + row['urgency'], lang)}]")
        st.caption(md_text(f"{row['neighbourhood'] or ''} · {row['address'] or ''}"))
        if isinstance(row.get("outcome"), str) and row["outcome"] in OUTCOMES:
            st.caption(md_text(f"{OUTCOMES[row['outcome']].zh if zh else OUTCOMES[row['outcome']].en}"
                               + (f" · {t('fu_attempts', lang).format(n=int(row['attempts']))}" if row["attempts"] else "")))
        phone = str(row["phone"] or "")
        if phone:
            if tid in revealed:
                digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
                st.markdown(f"[📞 {md_text(phone)}](tel:{digits})")
            else:
                st.button(t("fu_call", lang).format(masked=mask_phone(phone)), key=f"fu_call_{_key(row)}", icon=":material/call:",
                          help=t("fu_call_help", lang), on_click=_reveal, args=(tid,))
        if row["kind"] == CHECKIN_KIND:
            _checkin_form(row)
        elif row["urgency"] != "closed":
            _outcome_form(row)


def _task_cards(items: pd.DataFrame) -> None:
    if (items["kind"] == CHECKIN_KIND).any():  # the day's check-ins, or the rest, on their own
        show = st.segmented_control(t("fu_show", lang), ["all", "followup", "checkin"], default="all", key="fu_filter_kind",
                                    format_func=lambda x: t(f"fu_show_{x}", lang), label_visibility="collapsed")
        if show == "followup":
            items = items[items["kind"] != CHECKIN_KIND]
        elif show == "checkin":
            items = items[items["kind"] == CHECKIN_KIND]
    if items.empty:
        st.info(t("fu_empty", lang))
        return
    open_items = items[items["urgency"] != "closed"]
    closed = items[items["urgency"] == "closed"]
    shown = st.session_state.setdefault("_fu_shown", PAGE_SIZE)
    # an item with an outcome being recorded stays on screen even when the list moved under it
    # (someone else recorded it meanwhile): its save must still reach the server and be refused
    picking = {k[len("fu_pick_"):] for k, v in st.session_state.items() if str(k).startswith("fu_pick_") and v}
    page = open_items.head(shown)
    if picking:
        rest = open_items.iloc[shown:]
        held = rest[[_key(r) in picking for _, r in rest.iterrows()]] if len(rest) else rest
        page = pd.concat([held, page])
    for _, row in page.iterrows():
        _card(row)
    st.caption(t("fu_showing", lang).format(shown=min(shown, len(open_items)), total=len(open_items)))
    more = min(PAGE_SIZE, len(open_items) - shown)
    if more > 0 and st.button(t("fu_more", lang).format(n=more), key="fu_more"):
        st.session_state["_fu_shown"] = shown + PAGE_SIZE
        st.rerun()
    if len(closed):
        with st.expander(t("fu_closed_items", lang).format(n=len(closed))):
            for _, row in closed.head(50).iterrows():
                st.caption(md_text(f"{row['name']} · {row['measure_zh' if zh else 'measure_en']} · "
                                   f"{OUTCOMES[row['outcome']].zh if zh and row['outcome'] in OUTCOMES else row['outcome'] or ''}"))


def _workers() -> list[tuple[str, tuple[str, ...]]]:
    return [(a.name, a.areas) for a in accounts(ctx.settings).list() if a.role == "grid" and not a.disabled]


def _import_form() -> None:
    """Outcomes from another system (CSV/XLSX): the same import as ``riskmap import outcomes``."""
    from layers.followup import OUTCOME_HEADERS, import_outcomes

    st.caption(t("fu_import_help", lang).format(columns=", ".join(f"{c}（{a[0]}）" for c, a in OUTCOME_HEADERS.items())))
    saved = upload_import(
        ctx, form_key="fu_import_form", action="import", target="outcomes", detail=f"as_of={day:%Y-%m-%d}",
        run=lambda path, user: import_outcomes(path, ctx.store.location, as_of=day, user=user,
                                               limits=ctx.settings.import_limits),
    )
    if saved is not None:
        st.success(t("fu_imported", lang).format(n=saved))


if account.role == "command":
    tab_tasks, tab_overdue, tab_load, tab_dist, tab_reports = st.tabs(
        [t("fu_tab_tasks", lang), t("fu_tab_overdue", lang), t("fu_tab_workload", lang), t("fu_tab_districts", lang),
         t("fu_tab_reports", lang)]
    )
    tasks["worker"] = responsible(tasks["neighbourhood_id"], tasks["traveller_id"].map(
        result.travellers.set_index("id")["district_adcode"]), _workers()).fillna(t("fu_nobody", lang))
    with tab_overdue:
        od = tasks[tasks["urgency"] == "overdue"]
        st.dataframe(pd.DataFrame({
            t("col_name", lang): od["name"],
            t("col_neighbourhood", lang): od["neighbourhood"],
            t("col_district", lang): od["district"],
            t("col_first_action", lang): od["first_action_zh" if zh else "first_action_en"],
            t("col_due", lang): od["due"],
            t("fu_col_open_for", lang): [time_left(h, lang) for h in od["hours_left"]],
            t("fu_col_worker", lang): od["worker"],
        }), hide_index=True, width="stretch",
            column_config={t("col_due", lang): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    with tab_load:
        st.dataframe(workload(tasks).rename_axis(t("fu_col_worker", lang)).rename(
            columns={"open": t("fu_col_open_items", lang), "overdue": t("fu_overdue", lang)}
        ), width="stretch")
    with tab_dist:
        heads = {
            "district": t("col_district", lang), "neighbourhood": t("col_neighbourhood", lang), "open": t("fu_open", lang),
            "overdue": t("fu_overdue", lang), "done": t("fu_done", lang), "in_time": t("fu_in_time", lang), "in_time_pct": "%",
        }
        pct = {"%": st.column_config.NumberColumn(format="%.0f%%")}
        st.dataframe(followup_figures(result, by="district").rename(columns=heads), hide_index=True, width="stretch", column_config=pct)
        with st.expander(t("fu_by_neighbourhood", lang)):
            by_nb = followup_figures(result, by=["district", "neighbourhood_id", "neighbourhood"])
            by_nb = by_nb.drop(columns="neighbourhood_id").sort_values(["overdue", "open"], ascending=False)
            st.dataframe(by_nb.rename(columns=heads), hide_index=True, width="stretch", column_config=pct)
    with tab_tasks:
        districts = sorted(x for x in tasks["district"].dropna().unique())
        pick = st.selectbox(t("fu_filter_district", lang), ["*", *districts], format_func=lambda d: t("all", lang) if d == "*" else d)
        _task_cards(tasks if pick == "*" else tasks[tasks["district"] == pick])
    with tab_overdue, st.expander(t("fu_import", lang)):
        _import_form()
    with tab_reports:
        nbs = result.neighbourhoods
        who = responsible(nbs["id"], nbs["district_adcode"], _workers())
        render_rollup(ctx, nbs, day=day, now=now, workers=pd.Series(who.to_numpy(), index=nbs["id"].astype(str)))
else:
    tab_tasks, tab_reports = st.tabs([t("fu_tab_tasks", lang), t("fu_tab_reports", lang)])
    with tab_reports:
        render_my_reports(ctx, result, load_states(records_of(ctx)), checkins, day=day, now=now)
    with tab_tasks:
        _task_cards(tasks)

_db, _who, _role, _store = accounts(ctx.settings), account.name, account.role, ctx.settings.store


def _workbook() -> bytes:
    acc = _db.get(_who)
    if acc is None or acc.disabled or acc.role != _role:
        msg = "account no longer allowed to export"
        raise PermissionError(msg)
    record(_who, "export_personal", "followup_xlsx", f"items={len(tasks)}; masked", role=_role, store=_store)
    return tasks_xlsx_bytes(tasks)


st.download_button(
    t("fu_export", lang), data=_workbook, file_name=f"followup_{now:%Y%m%d_%H%M}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
