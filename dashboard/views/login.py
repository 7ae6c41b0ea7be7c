"""登录 Sign in: the sign-in form, or, once signed in, the pages the role may use.

A public page (anybody may open it); every other page also shows the form when nobody is signed in.
"""

from __future__ import annotations

import streamlit as st

from dashboard.auth import login_form, page_links, show_flash
from dashboard.i18n import t
from dashboard.ui import page_frame

ctx = page_frame("page_login")
lang = ctx.lang
show_flash(lang)
if st.query_params.get("signed_out") and ctx.user is None:
    st.success(t("auth_signed_out", lang), icon=":material/logout:")
if ctx.user is None:
    st.caption(t("login_intro", lang))
    login_form(ctx.settings, lang, page_key="page_login")
else:
    st.success(t("login_done", lang), icon=":material/verified_user:")
    page_links(ctx.role, lang)
