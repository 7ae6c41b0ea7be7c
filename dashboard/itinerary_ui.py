"""我去过风险区吗？ The resident page's itinerary check: widgets only (the check is
:func:`geo.itinerary.check_itinerary`).

What a visitor enters stays in their own session: it is not stored, logged, audited, put in a
cache shared across users, or written into the share link (the page's link parameters never
name it). The answer is computed on click and kept for this visitor only.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.safe_text import in_lang
from dashboard.ui import PageContext, read_public_layer
from geo.geocode import PlaceGazetteer
from geo.itinerary import MAX_STAYS, WINDOW_DAYS, ItineraryAnswer, ItineraryError, Stay, check_itinerary
from geo.screening import CODE_LABELS
from layers._render import esc
from layers.risk_areas import level_label
from layers.zones import tier_label

_ROWS = "it_rows"  # the visitor's stay rows (ids); each row's widgets are keyed by its id
_ANSWER = "_it_answer"
_CODE_COLOURS = {"red": "#c0392b", "yellow": "#d4a017", "green": "#2e8b57", "pending": "#7f8c8d"}


def _add_row() -> None:
    rows = st.session_state.setdefault(_ROWS, [])
    if len(rows) < MAX_STAYS:
        rows.append(secrets.token_hex(4))
    st.session_state.pop(_ANSWER, None)


def _remove_row(row: str) -> None:
    rows = st.session_state.get(_ROWS, [])
    if row in rows and len(rows) > 1:
        rows.remove(row)
        for k in ("place", "first", "last"):
            st.session_state.pop(f"it_{k}_{row}", None)
    st.session_state.pop(_ANSWER, None)


def _clear() -> None:
    for row in st.session_state.get(_ROWS, []):
        for k in ("place", "first", "last"):
            st.session_state.pop(f"it_{k}_{row}", None)
    st.session_state[_ROWS] = [secrets.token_hex(4)]
    st.session_state.pop(_ANSWER, None)


def _stays(gaz: PlaceGazetteer) -> list[Stay]:
    out = []
    for row in st.session_state.get(_ROWS, []):
        place = str(st.session_state.get(f"it_place_{row}") or "").strip()
        first, last = st.session_state.get(f"it_first_{row}"), st.session_state.get(f"it_last_{row}")
        if not place and first is None and last is None:
            continue  # an empty row added and left
        lon = lat = None
        if place:  # a place of this city (a street, a neighbourhood, a site…): its point, for the zones
            found = gaz.search(place)
            if found and found[0].how == "exact":
                lon, lat = found[0].place.lon, found[0].place.lat
        out.append(Stay(place, first, last, lon, lat))  # a missing day is said by the check, not guessed
    return out


def _check(ctx: PageContext, gaz: PlaceGazetteer, today: dt.date) -> None:
    from layers.boundaries import gazetteer
    from layers.rules import load_rule_sets

    try:
        answer = check_itinerary(
            _stays(gaz),
            risk_areas=read_public_layer(ctx, "risk_areas"),  # every entry with its lifetime, not today's list
            zones=read_public_layer(ctx, "zones"),
            gazetteer=gazetteer(),
            rules=load_rule_sets(),
            today=today,
        )
    except ItineraryError as exc:
        st.session_state[_ANSWER] = exc
    else:
        st.session_state[_ANSWER] = answer


def _day(v) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


def _stay_html(i: int, answer, lang: str) -> str:
    zh = lang == "zh"
    s = answer.stay
    where = answer.resolved or (t("it_not_found", lang) if s.place else "")
    head = f"<b>{i}. {esc(s.place)}</b> · {s.first:%m-%d} – {s.last:%m-%d}"
    if answer.resolved and answer.resolved != s.place:
        head += f" <span class='rm-queue-none'>（{esc(where)}）</span>" if zh else f" <span class='rm-queue-none'>({esc(where)})</span>"
    lines = []
    if not answer.resolved:
        lines.append(esc(t("it_not_found", lang)))
    for e in answer.entries.itertuples(index=False):
        scope = t(f"it_scope_{e.scope}", lang)
        lifted = t("it_lifted_on", lang).format(day=_day(e.lifted)) if _day(e.lifted) else t("it_still_listed", lang)
        lines.append(f"⚠️ {esc(level_label(str(e.level), lang))} · {esc(str(e.area_name))} · {esc(scope)} · "
                     f"{esc(t('it_listed_on', lang).format(day=_day(e.since)))}，{esc(lifted)}" if zh else
                     f"⚠️ {esc(level_label(str(e.level), lang))} · {esc(str(e.area_name))} · {esc(scope)} · "
                     f"{esc(t('it_listed_on', lang).format(day=_day(e.since)))}, {esc(lifted)}")
    for z in answer.zones.itertuples(index=False):
        lines.append(f"🔒 {esc(tier_label(str(z.tier), lang))} · {esc(str(z.name))} · "
                     f"{esc(t('it_zone_from', lang).format(day=_day(z.start)))}")
    if answer.resolved and answer.entries.empty and answer.zones.empty:
        lines.append(esc(t("it_clear", lang)))
    body = "<br>".join(lines)
    return f"<div class='rm-site' data-stay='{i}'>{head}<div class='rm-meaning'>{body}</div></div>"


def _answer_html(answer: ItineraryAnswer, lang: str) -> str:
    zh = lang == "zh"
    o = answer.outcome
    code = str(o.get("code", "pending"))
    label = CODE_LABELS.get(code, (code, code))[0 if zh else 1]
    measure = str(o.get("measure_zh" if zh else "measure_en") or "")
    reason = str(o.get("reason_zh" if zh else "reason_en") or "")
    rules = t("it_rules", lang).format(name=answer.rule_set.name_zh if zh else answer.rule_set.name_en)
    todo = []
    for ob in answer.obligations.itertuples(index=False):
        due = _day(ob.due)
        first = str(getattr(ob, "first_action_zh" if zh else "first_action_en") or "")
        todo.append(f"<li>{esc(first)}" + (f"（{esc(t('it_due', lang).format(day=due))}）" if zh and due else
                                           (f" ({esc(t('it_due', lang).format(day=due))})" if due else "")) + "</li>")
    return (f"<div class='rm-status' data-code='{esc(code)}'><span class='rm-badge' style='background:{_CODE_COLOURS.get(code, '#7f8c8d')}'>"
            f"{esc(label)}</span><b>{esc(measure)}</b></div>"
            f"<div class='rm-meaning'>{esc(reason)}</div>"
            + (f"<div class='rm-meaning'><b>{esc(t('it_todo', lang))}</b><ul>{''.join(todo)}</ul></div>" if todo else "")
            + f"<div class='rm-queue-none'>{esc(rules)}</div>")


def render_itinerary(ctx: PageContext, gaz: PlaceGazetteer, today: dt.date) -> None:
    """The section: privacy note, up to 14 stay rows added one by one, the check and its answer."""
    lang = ctx.lang
    ss = st.session_state
    if not ss.get(_ROWS):
        ss[_ROWS] = [secrets.token_hex(4)]
    with st.expander(t("it_title", lang), expanded=bool(ss.get(_ANSWER))):
        st.caption(t("it_privacy", lang))
        st.caption(t("it_help", lang).format(days=WINDOW_DAYS, n=MAX_STAYS))
        earliest = today - dt.timedelta(days=WINDOW_DAYS)
        for n, row in enumerate(ss[_ROWS], start=1):
            c1, c2, c3, c4 = st.columns([5, 3, 3, 1], vertical_alignment="bottom")
            c1.text_input(t("it_place", lang).format(n=n), key=f"it_place_{row}", placeholder=t("it_place_ph", lang), max_chars=80)
            c2.date_input(t("it_first", lang), key=f"it_first_{row}", value=None, min_value=earliest, max_value=today,
                          format="YYYY/MM/DD")
            c3.date_input(t("it_last", lang), key=f"it_last_{row}", value=None, min_value=earliest, max_value=today,
                          format="YYYY/MM/DD")
            c4.button("✕", key=f"it_rm_{row}", help=t("it_remove", lang), on_click=_remove_row, args=(row,),
                      disabled=len(ss[_ROWS]) == 1)
        b1, b2, b3 = st.columns(3)
        b1.button(t("it_add", lang), key="it_add", on_click=_add_row, disabled=len(ss[_ROWS]) >= MAX_STAYS,
                  icon=":material/add:")
        b2.button(t("it_check", lang), key="it_check", type="primary", on_click=_check, args=(ctx, gaz, today),
                  icon=":material/travel_explore:")
        b3.button(t("it_clear_all", lang), key="it_clear", on_click=_clear, icon=":material/delete:")
        answer = ss.get(_ANSWER)
        if isinstance(answer, ItineraryError):
            st.error(in_lang(answer, lang))
        elif isinstance(answer, ItineraryAnswer):
            st.markdown(f"###### {t('it_answer', lang)}")
            st.html(_answer_html(answer, lang))
            st.html("<div class='rm-sites'>" + "".join(_stay_html(i, a, lang) for i, a in enumerate(answer.stays, start=1)) + "</div>")
            st.caption(t("it_basis", lang))
