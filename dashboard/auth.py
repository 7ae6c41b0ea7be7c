"""Sign-in, sessions and role checks for the Streamlit pages (storage in :mod:`dashboard.accounts`,
policy in :mod:`dashboard.roles`).

How a page run is checked
-------------------------
:func:`dashboard.ui.page_frame` calls :func:`current_account` and :func:`gate` before it reads
anything from the store: nobody signed in → the sign-in form and ``st.stop()``; a role the page
does not allow → "无权访问 / not allowed" and ``st.stop()``. Actions inside pages call
:func:`require_role` again right before they act, so a crafted rerun cannot do what the role
lacks. Callbacks (``on_click``) run *before* the page script, so an action must never live in a
callback unless the callback checks for itself (:func:`callback_account`).

Built-in sign-in (setting ``auth = "builtin"``)
-----------------------------------------------
Signing in and out are server routes beside the pages (:mod:`dashboard.signin`): the form at
``signin`` checks the name and password (:meth:`Accounts.authenticate`, argon2id, throttled by
account and client address), opens a session in the accounts database and sets its random token
as the cookie ``riskmap_session`` — ``HttpOnly`` (no page script can read it), ``SameSite=Strict``,
``Secure`` on https, lifetime = the absolute limit; ``signout`` (a form with a token derived from
the session) ends the session and clears the cookie. The pages read the cookie from the request
(``st.context.cookies``) and never write it. The cookie holds only the token; the database holds
its SHA-256. Every page run looks the token up again: the account must still be enabled, with the
role it signed in with, seen within ``session_idle_minutes`` and signed in less than
``session_max_hours`` ago.

Single sign-on (setting ``auth = "oidc"``)
------------------------------------------
``st.login()`` sends people to the intranet identity provider configured in
``.streamlit/secrets.toml`` (Streamlit keeps the identity in its own cookie; needs Authlib).
The claim named by ``oidc_claim`` (default ``email``) must name an enabled account, whose role
applies (:func:`dashboard.accounts.account_for_identity`). The absolute limit is checked against
the token's ``iat``; the idle limit within one browser session. Accounts are still created with
``riskmap user add NAME --role R --no-password``.
"""

from __future__ import annotations

import html
import importlib.util
import time
from datetime import timedelta
from urllib.parse import quote

import streamlit as st

from dashboard.accounts import Account, Accounts, SessionCheck, account_for_identity
from dashboard.audit import accounts_for, record
from dashboard.i18n import t
from dashboard.roles import ACTION_ROLES, PAGE_ROLES, PUBLIC, may_do, pages_for
from dashboard.safe_text import md_text
from dashboard.settings import Settings
from dashboard.signin import signout_token

__all__ = [
    "COOKIE",
    "PAGE_PATHS",
    "TOKEN_KEY",
    "accounts",
    "callback_account",
    "current_account",
    "gate",
    "has_role",
    "login_form",
    "may",
    "md_text",
    "nav_role",
    "page_links",
    "require_role",
    "show_flash",
    "session_check",
    "sidebar",
]

COOKIE = "riskmap_session"
TOKEN_KEY = "_auth_token"
_FLASH = "_auth_flash"
_SIGNED_OUT = "_auth_signed_out"
_DEAD = "_auth_dead_cookie"
_DENIED = "_auth_denied_seen"
_OIDC = "_auth_oidc"

# relative links to each page (the app's own URL paths; relative so a proxy prefix still works)
PAGE_PATHS = {
    "page_command": "./",
    "page_daily_report": "daily-report",
    "page_followup": "followup",
    "page_transfers": "transfers",
    "page_queue": "queue",
    "page_mass_testing": "mass-testing",
    "page_screening": "screening",
    "page_planning": "planning",
    "page_resident": "resident",
    "page_data": "data",
    "page_admin": "admin",
    "page_login": "login",
}


def accounts(s: Settings) -> Accounts:
    """The accounts database of the configured store (opened once per process)."""
    return accounts_for(s.store)


def _limits(s: Settings) -> tuple[timedelta, timedelta]:
    return s.session_limits


def _role_label(role: str, lang: str) -> str:
    return t(f"role_{role}", lang)


# ---------------------------------------------------------------------------------------------
# Who is signed in


def current_account(s: Settings) -> Account | None:
    """The signed-in account of this browser session, checked against the accounts database on
    every call (enabled, same role, within the idle and absolute limits); ``None`` for nobody."""
    if s.auth == "oidc":
        return _oidc_account(s)
    ss = st.session_state
    token = ss.get(TOKEN_KEY)
    if token is None and not ss.get(_SIGNED_OUT):
        cookie = _cookie_token()
        if cookie and cookie != ss.get(_DEAD):
            token = cookie
    if not token:
        return None
    check = session_check(s, token)
    if check.account is None:
        ss.pop(TOKEN_KEY, None)
        ss.pop("user", None)
        ss[_DEAD] = token  # the browser may still send it; do not look it up again
        if check.reason != "none":
            ss[_FLASH] = "auth_expired"
        return None
    ss[TOKEN_KEY] = token
    ss["user"] = check.account.name  # the name other sections record (e.g. the daily report)
    return check.account


def session_check(s: Settings, token: str | None) -> SessionCheck:
    """A session token checked against the accounts database with the configured idle and
    absolute limits (the pages' check, and the wall screen's); an expired session is audited."""
    idle, absolute = _limits(s)
    check = accounts(s).session_account(token, idle=idle, absolute=absolute)
    if check.account is None and check.reason != "none":
        record(check.name, "session_expired", detail=check.reason, store=s.store)
    return check


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):  # no browser request (headless runs)
        return None
    return value if isinstance(value, str) and value else None


def callback_account(s: Settings, *roles: str) -> Account | None:
    """For ``on_click`` callbacks, which run before the page's own check: the signed-in account
    if its role is one of ``roles``, else ``None`` (and the refusal is audited)."""
    acc = current_account(s)
    if acc is None or acc.role not in roles:
        record(acc.name if acc else None, "access_denied", "callback", f"role={acc.role if acc else PUBLIC}")
        return None
    return acc


def has_role(ctx, *roles: str) -> bool:
    """Whether the page's signed-in role is one of ``roles`` (for showing or hiding a section)."""
    return ctx.role in roles


def require_role(ctx, *roles: str, action: str = "") -> Account:
    """Stop the page unless the signed-in account — checked against the database again, now —
    has one of ``roles`` (default: the roles of ``action`` in :data:`dashboard.roles.ACTION_ROLES`).
    Call it right before an action (import, export, save…)."""
    if not roles:
        roles = ACTION_ROLES.get(action, ())
    acc = current_account(ctx.settings) if ctx.user else None
    if acc is None or acc.role not in roles:
        role = acc.role if acc else PUBLIC
        record(acc.name if acc else None, "access_denied", action or "action", f"role={role}", role=role)
        what = t(f"act_{action}", ctx.lang) if f"act_{action}" in _ACTION_KEYS else action
        st.error(t("auth_action_denied", ctx.lang).format(role=_role_label(role, ctx.lang), action=what))
        st.stop()
    return acc


_ACTION_KEYS = {f"act_{a}" for a in ACTION_ROLES}


# ---------------------------------------------------------------------------------------------
# The page gate and the sign-in form


def gate(page_key: str, account: Account | None, s: Settings, lang: str, roles: tuple[str, ...] | None = None) -> None:
    """Let the page run only for the roles allowed (``roles`` or :data:`PAGE_ROLES`); otherwise
    show the sign-in form or the refusal and stop the script before the page reads anything."""
    if roles is None:
        roles = PAGE_ROLES[page_key]  # an unknown page is a programming error: fail loudly
    if PUBLIC in roles:
        return
    if account is None:
        show_flash(lang)
        st.info(t("auth_required", lang), icon=":material/lock:")
        login_form(s, lang, page_key=page_key)
        st.caption(t("auth_public_hint", lang))
        st.markdown(f"- [{t('page_resident', lang)}]({PAGE_PATHS['page_resident']})")
        st.stop()
    if account.role not in roles:
        st.error(t("auth_denied", lang).format(role=_role_label(account.role, lang)), icon=":material/block:")
        page_links(account.role, lang)
        seen = st.session_state.setdefault(_DENIED, set())
        if page_key not in seen:  # once per browser session and page, not on every rerun
            seen.add(page_key)
            record(account.name, "access_denied", page_key, f"role={account.role}", role=account.role)
        st.stop()


def show_flash(lang: str) -> None:
    """A one-time note from the last run (session ended, signed out)."""
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.warning(t(flash, lang))


def page_links(role: str | None, lang: str) -> None:
    """Links to the pages ``role`` may use."""
    keys = [k for k in pages_for(role) if k != "page_login"]
    st.markdown(t("auth_your_pages", lang) + "\n" + "\n".join(f"- [{t(k, lang)}]({PAGE_PATHS[k]})" for k in keys))


def login_form(s: Settings, lang: str, *, page_key: str) -> None:
    """A link to the sign-in form (built-in: the server's ``signin`` route, which sets the
    session cookie ``HttpOnly``) or the single-sign-on button (oidc)."""
    if s.auth == "oidc":
        _oidc_button(s, lang)
        return
    target = PAGE_PATHS.get(page_key, "login")
    href = html.escape(f"signin?next={quote(target, safe='')}&lang={lang}")
    st.html(
        f"<a href='{href}' target='_self' style='display:inline-block;padding:.5em 1.4em;border-radius:.5em;"
        f"background:#c0392b;color:#fff;text-decoration:none;font-weight:600'>{html.escape(t('auth_go_sign_in', lang))}</a>"
    )


# ---------------------------------------------------------------------------------------------
# The sidebar block: who is signed in, sign out, and the cookie


def sidebar(account: Account | None, s: Settings, lang: str) -> None:
    """Signed-in name and role with a sign-out button (built-in: a form posted to the server's
    ``signout`` route, which ends the session and clears the ``HttpOnly`` cookie)."""
    with st.sidebar:
        if account is not None:
            st.caption(t("auth_signed_in_as", lang).format(name=md_text(account.label), role=_role_label(account.role, lang)))
            if s.auth == "oidc":
                if st.button(t("auth_sign_out", lang), key="_auth_sign_out", icon=":material/logout:"):
                    record(account.name, "logout", "oidc")
                    st.session_state.pop(_OIDC, None)
                    st.logout()
            else:
                token = st.session_state.get(TOKEN_KEY) or ""
                csrf = html.escape(signout_token(token)) if token else ""
                st.html(
                    f"<form method='post' action='signout' style='margin:0'>"
                    f"<input type='hidden' name='csrf' value='{csrf}'><input type='hidden' name='lang' value='{html.escape(lang)}'>"
                    f"<button type='submit' style='padding:.35em 1em;border:1px solid #ccc;border-radius:.5em;background:#fff;"
                    f"font:inherit;cursor:pointer'>{html.escape(t('auth_sign_out', lang))}</button></form>"
                )


# ---------------------------------------------------------------------------------------------
# Single sign-on


def _oidc_ready() -> bool:
    if importlib.util.find_spec("authlib") is None:
        return False
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError):
        return False


def _oidc_button(s: Settings, lang: str) -> None:
    flash = st.session_state.get(_OIDC + "_refused")
    if flash:
        st.error(t("auth_sso_unknown", lang))
    if not _oidc_ready():
        st.error(t("auth_sso_missing", lang))
        return
    if st.button(t("auth_sso", lang), type="primary", icon=":material/login:", key="_auth_sso"):
        if s.oidc_provider:
            st.login(s.oidc_provider)
        else:
            st.login()


def _oidc_claims() -> dict:
    user = st.user
    if not getattr(user, "is_logged_in", False):
        return {}
    return user.to_dict() if hasattr(user, "to_dict") else dict(user)


def _oidc_account(s: Settings) -> Account | None:
    claims = _oidc_claims()
    ss = st.session_state
    if not claims:
        ss.pop(_OIDC, None)
        return None
    acc, reason = account_for_identity(accounts(s), claims, claim=s.oidc_claim)
    if acc is None:
        if ss.get(_OIDC + "_refused") != reason:
            ss[_OIDC + "_refused"] = reason
            record(None, "login_failed", str(claims.get(s.oidc_claim, ""))[:64], f"oidc; reason={reason}", role="")
        ss.pop(_OIDC, None)
        return None
    ss.pop(_OIDC + "_refused", None)
    now = time.time()
    idle, absolute = _limits(s)
    seen = ss.get(_OIDC)
    issued = claims.get("iat")
    started = float(issued) if isinstance(issued, int | float) else (seen[2] if seen else now)
    same = seen is not None and seen[0] == acc.name and seen[1] == acc.role
    idle_out = same and now - seen[3] > idle.total_seconds()
    if idle_out or now - started > absolute.total_seconds():
        # st.logout() clears the identity and sends the browser to the sign-out endpoint; it does
        # not stop this run, so nobody is signed in for the rest of it
        record(acc.name, "session_expired", detail="oidc; " + ("idle" if idle_out else "absolute"))
        ss.pop(_OIDC, None)
        ss.pop("user", None)
        ss[_FLASH] = "auth_expired"
        st.logout()
        return None
    if not same:
        record(acc.name, "login", "oidc", f"claim={s.oidc_claim}", role=acc.role)
    ss[_OIDC] = (acc.name, acc.role, started, now)
    ss["user"] = acc.name
    return acc


def nav_role(s: Settings | None) -> str | None:
    """The role for the navigation menu (``None`` = nobody); the pages check again themselves."""
    if s is None:
        return None
    acc = current_account(s)
    return acc.role if acc else None


def may(account: Account | None, action: str) -> bool:
    """Whether ``account`` may do ``action`` (for showing an action at all)."""
    return may_do(account.role if account else None, action)
