"""账户管理 Accounts (administrators only): list, add, disable/enable accounts, reset passwords,
change roles and areas; read, filter and export the audit log.

Every action runs in the page script after ``page_frame`` has checked the role, and checks it
again (``require_role``) right before it writes. Account changes are audited by
:class:`dashboard.accounts.Accounts` itself; reading the log is not, exporting it is.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard.accounts import MIN_PASSWORD, AccountError
from dashboard.audit import audit_csv_bytes, audit_xlsx_bytes, record
from dashboard.auth import accounts, md_text, require_role
from dashboard.i18n import STRINGS, t
from dashboard.roles import AREA_ROLES, ROLES
from dashboard.ui import page_frame, read_public_layer
from layers.boundaries import city_counties

ctx = page_frame("page_admin")
lang = ctx.lang
db = accounts(ctx.settings)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _role(r: str) -> str:
    return t(f"role_{r}", lang)


def _area_names() -> dict[str, str]:
    """Area code → name: the city's districts (6-digit codes) and neighbourhoods (ids)."""
    counties = city_counties(ctx.settings.city_adcode)
    names = dict(zip(counties["adcode"].astype(str), counties["name_en" if lang == "en" else "name"], strict=True))
    nb = read_public_layer(ctx, "neighbourhoods")
    names.update(zip(nb["id"].astype(str), nb["name"].astype(str), strict=True))
    return names


def _areas(codes, gone: set[str] = frozenset()) -> str:
    """An account's areas by name, each with its code (what is typed to change them); those the
    store no longer has (``gone``) marked."""
    sep, form = ("、", "{name}（{code}）") if lang == "zh" else (", ", "{name} ({code})")

    def one(c: str) -> str:
        if c in gone:
            return f"{c}{t('adm_area_gone', lang)}"
        return form.format(name=_AREA_NAMES[c], code=c) if c in _AREA_NAMES else c

    return sep.join(one(str(c)) for c in codes)


def _action(action: str, lang: str) -> str:
    """An audit action in the page's language (an action the catalogue does not know: its code)."""
    return t(f"aud_{action}", lang) if f"aud_{action}" in STRINGS else action


def _local(ts: str) -> str:
    if not ts:
        return ""
    return pd.Timestamp(ts).tz_convert(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _outcome() -> None:
    done = st.session_state.pop("_adm_outcome", None)
    if done:
        kind, text = done
        (st.success if kind == "ok" else st.error)(md_text(text))  # names typed by people: shown as text


# ---------------------------------------------------------------------------------- accounts

st.subheader(t("adm_accounts", lang))
_outcome()
_AREA_NAMES = _area_names()
people = db.list()
gone = db.unknown_areas(people)  # the write path's check: areas the store no longer has
if gone:
    st.warning(md_text(t("adm_areas_gone", lang).format(
        accounts="；".join(f"{name}（{'、'.join(codes)}）" for name, codes in gone.items()))))
st.dataframe(
    pd.DataFrame(
        {
            t("adm_col_name", lang): [a.name for a in people],
            t("adm_col_display", lang): [a.display_name for a in people],
            t("adm_col_role", lang): [_role(a.role) for a in people],
            t("adm_col_areas", lang): [_areas(a.areas, set(gone.get(a.name, ()))) for a in people],
            t("adm_col_status", lang): [t("adm_disabled" if a.disabled else "adm_active", lang) for a in people],
            t("adm_col_password", lang): [t("yes" if a.has_password else "no", lang) for a in people],
            t("adm_col_created", lang): [_local(a.created_at) for a in people],
            t("adm_col_changed", lang): [_local(a.changed_at) for a in people],
        }
    ),
    hide_index=True,
    width="stretch",
)

c_add, c_edit = st.columns(2)
with c_add, st.form("adm_add_form", clear_on_submit=True):
    st.markdown(f"**{t('adm_add', lang)}**")
    new_name = st.text_input(t("adm_col_name", lang), max_chars=64)
    new_display = st.text_input(t("adm_col_display", lang), max_chars=80)
    new_role = st.selectbox(t("adm_col_role", lang), ROLES, format_func=_role)
    new_areas = st.text_input(t("adm_col_areas", lang), help=t("adm_areas_help", lang))
    pw1 = st.text_input(t("auth_password", lang), type="password", help=t("adm_password_help", lang).format(n=MIN_PASSWORD),
                        autocomplete="new-password")
    pw2 = st.text_input(t("adm_password2", lang), type="password", autocomplete="new-password")
    add = st.form_submit_button(t("adm_create", lang), type="primary")
if add:
    require_role(ctx, action="accounts")
    if pw1 != pw2:
        st.session_state["_adm_outcome"] = ("error", t("adm_mismatch", lang))
    else:
        try:
            made = db.add(new_name, new_role, pw1, display_name=new_display, areas=new_areas, by=ctx.user)
        except AccountError as exc:
            st.session_state["_adm_outcome"] = ("error", f"{t('adm_invalid', lang)}: {exc}")
        else:
            st.session_state["_adm_outcome"] = ("ok", t("adm_created", lang).format(name=made.name))
    st.rerun()

with c_edit:
    st.markdown(f"**{t('adm_edit', lang)}**")
    names = [a.name for a in people]
    pick = st.selectbox(t("adm_pick", lang), names, key="adm_pick") if names else None
    chosen = next((a for a in people if a.name == pick), None)
    if chosen is not None:
        b1, b2 = st.columns(2)
        toggle = b1.button(
            t("adm_enable" if chosen.disabled else "adm_disable", lang), key="adm_toggle",
            icon=":material/toggle_on:" if chosen.disabled else ":material/block:",
        )
        with st.form("adm_reset_form", clear_on_submit=True):
            r1 = st.text_input(t("adm_new_password", lang), type="password", autocomplete="new-password",
                               help=t("adm_password_help", lang).format(n=MIN_PASSWORD))
            r2 = st.text_input(t("adm_password2", lang), type="password", autocomplete="new-password")
            reset = st.form_submit_button(t("adm_reset", lang))
        with st.form("adm_change_form"):
            ch_role = st.selectbox(t("adm_col_role", lang), ROLES, index=ROLES.index(chosen.role), format_func=_role)
            ch_areas = st.text_input(t("adm_col_areas", lang), value=" ".join(chosen.areas), help=t("adm_areas_help", lang))
            ch_display = st.text_input(t("adm_col_display", lang), value=chosen.display_name, max_chars=80)
            change = st.form_submit_button(t("adm_save", lang))
        if toggle or reset or change:
            require_role(ctx, action="accounts")
            try:
                if toggle:
                    db.set_disabled(chosen.name, not chosen.disabled, by=ctx.user)
                    key = "adm_enabled_ok" if chosen.disabled else "adm_disabled_ok"
                elif reset:
                    if r1 != r2:
                        raise AccountError(t("adm_mismatch", lang))
                    db.set_password(chosen.name, r1, by=ctx.user)
                    key = "adm_reset_ok"
                else:
                    db.update(chosen.name, role=ch_role, areas=ch_areas if ch_role in AREA_ROLES else "",
                              display_name=ch_display, by=ctx.user)
                    key = "adm_saved"
            except AccountError as exc:
                st.session_state["_adm_outcome"] = ("error", f"{t('adm_invalid', lang)}: {exc}")
            else:
                st.session_state["_adm_outcome"] = ("ok", t(key, lang).format(name=chosen.name))
            st.rerun()

# ---------------------------------------------------------------------------------- audit log

st.subheader(t("adm_audit", lang))
st.caption(t("adm_audit_intro", lang))
require_role(ctx, action="audit_read")
today = pd.Timestamp.now(tz=SHANGHAI).date()
f1, f2, f3, f4 = st.columns([2, 3, 2, 2])
who = f1.selectbox(t("adm_filter_user", lang), ["*", "-", *names], format_func=lambda n: t("all", lang) if n == "*" else n,
                   key="adm_f_user")
what = f2.multiselect(t("adm_filter_action", lang), db.audit_actions(), key="adm_f_action", format_func=lambda a: _action(a, lang))
since = f3.date_input(t("adm_filter_from", lang), value=today - timedelta(days=30), key="adm_f_from")
until = f4.date_input(t("adm_filter_to", lang), value=today, key="adm_f_to")
log = db.audit_log(
    user=None if who == "*" else who,
    actions=what or None,
    since=datetime.combine(since, time.min, tzinfo=SHANGHAI),
    until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=SHANGHAI),
    limit=None,
)
shown = pd.DataFrame(
    {
        t("adm_col_at", lang): log["at"].dt.tz_convert(SHANGHAI).dt.strftime("%Y-%m-%d %H:%M:%S"),
        t("adm_filter_user", lang): log["name"],
        t("adm_col_role", lang): [t(f"role_{r}", lang) if f"role_{r}" in STRINGS else (r or "—") for r in log["role"]],
        t("adm_col_action", lang): [_action(a, lang) for a in log["action"]],
        t("adm_col_target", lang): log["target"],
        t("adm_col_detail", lang): log["detail"],
    }
)
st.caption(t("adm_audit_count", lang).format(n=len(shown)))
st.dataframe(shown, hide_index=True, width="stretch", height=420)

filters = f"user={who}; actions={','.join(what) or '*'}; {since}..{until}"
stem = f"riskmap_audit_{since:%Y%m%d}_{until:%Y%m%d}"
d1, d2 = st.columns(2)
if d1.download_button(t("adm_download_csv", lang), audit_csv_bytes(shown),
                      file_name=f"{stem}.csv", mime="text/csv", key="adm_dl_csv", icon=":material/download:"):
    require_role(ctx, action="audit_read")
    record(ctx.user, "audit_export", "audit", f"csv; rows={len(shown)}; {filters}", role=ctx.role)
if d2.download_button(t("adm_download_xlsx", lang), audit_xlsx_bytes(shown), file_name=f"{stem}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="adm_dl_xlsx",
                      icon=":material/download:"):
    require_role(ctx, action="audit_read")
    record(ctx.user, "audit_export", "audit", f"xlsx; rows={len(shown)}; {filters}", role=ctx.role)
