"""Sign-in and sign-out as server routes beside the pages (``/signin``, ``/signout``).

The session cookie is set and cleared here, by the server, with ``HttpOnly`` (no page script can
read it), ``SameSite=Strict``, ``Path=/``, a lifetime of the absolute session limit, and ``Secure``
when the request came over https (directly or, as a proxy reports it, ``X-Forwarded-Proto``). The
pages only read it from the request (``st.context.cookies``) and never see it in the browser.

CSRF: the sign-in form carries a random token that must equal the ``riskmap_csrf`` cookie the
form's page set (double submit; the cookie is ``HttpOnly`` and ``SameSite=Strict``, so another
site can neither read it nor send it). The sign-out form carries a token derived from the session
itself (:func:`signout_token`), which only a page of that session can know. A form posted from
another origin (``Origin`` header) is refused too.

Failures are audited as before (``login_failed`` with the reason, never the password) and
throttled by account and client address (:meth:`dashboard.accounts.Accounts.authenticate`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dashboard.accounts import LoginRefused
from dashboard.audit import accounts_for, record
from dashboard.i18n import LANGUAGES, t
from dashboard.settings import load_settings

__all__ = ["signin_endpoint", "signout_endpoint", "signout_token", "COOKIE", "CSRF_COOKIE"]

COOKIE = "riskmap_session"
CSRF_COOKIE = "riskmap_csrf"
_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def signout_token(session_token: str) -> str:
    """The sign-out form's CSRF token for a session (a page of that session embeds it)."""
    return hashlib.sha256(b"riskmap-signout\x1f" + session_token.encode("ascii", "replace")).hexdigest()[:32]


def _secure(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


_PAGE_PATH = re.compile(r"(?:\./|[a-z][a-z0-9-]{0,40})")


def _next(value: str | None) -> str:
    """Where to go after signing in: one of this app's page paths (``screening``, ``./``), never
    another site, scheme or header."""
    v = (value or "").strip()
    return v if _PAGE_PATH.fullmatch(v) else "login"


def _lang(request: Request, form: dict | None = None) -> str:
    asked = (form or {}).get("lang") or request.query_params.get("lang")
    return asked if asked in LANGUAGES else load_settings().language


def _form_page(lang: str, csrf: str, nxt: str, *, error: str = "", name: str = "", status: int = 200) -> Response:
    e = html.escape
    err = f"<p class='err' role='alert'>{e(error)}</p>" if error else ""
    doc = f"""<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>
<meta name='viewport' content='width=device-width, initial-scale=1'>
<title>{e(t('page_login', lang))} · {e(t('app_title', lang))}</title>
<style>
body{{font:16px/1.5 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#222}}
main{{max-width:380px;margin:10vh auto;background:#fff;padding:28px 28px 20px;border-radius:10px;box-shadow:0 1px 6px rgba(0,0,0,.12)}}
h1{{font-size:22px;margin:0 0 6px}} p{{margin:6px 0 14px;color:#555}} .err{{color:#b3261e}}
label{{display:block;margin:10px 0 4px}} input[type=text],input[type=password]{{width:100%;box-sizing:border-box;padding:9px;font:inherit;border:1px solid #bbb;border-radius:6px}}
button{{margin-top:16px;width:100%;padding:10px;font:inherit;color:#fff;background:#c0392b;border:0;border-radius:6px;cursor:pointer}}
a{{color:#1a5fb4}}
</style></head><body><main>
<h1>{e(t('page_login', lang))}</h1><p>{e(t('login_intro', lang))}</p>{err}
<form method='post' action='signin'>
<input type='hidden' name='csrf' value='{e(csrf)}'><input type='hidden' name='next' value='{e(nxt)}'>
<input type='hidden' name='lang' value='{e(lang)}'>
<label for='name'>{e(t('auth_name', lang))}</label>
<input id='name' name='name' type='text' autocomplete='username' maxlength='64' value='{e(name)}' required autofocus>
<label for='password'>{e(t('auth_password', lang))}</label>
<input id='password' name='password' type='password' autocomplete='current-password' maxlength='1024' required>
<button type='submit'>{e(t('auth_submit', lang))}</button>
</form>
<p>{e(t('auth_public_hint', lang))} <a href='resident?lang={e(lang)}'>{e(t('page_resident', lang))}</a></p>
</main></body></html>"""
    return HTMLResponse(doc, status_code=status, headers=_HEADERS)


def _with_csrf_cookie(response: Response, csrf: str, request: Request) -> Response:
    response.set_cookie(CSRF_COOKIE, csrf, max_age=3600, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


async def signin_endpoint(request: Request) -> Response:
    s = load_settings()
    if s.auth != "builtin":
        return RedirectResponse("login", status_code=303, headers=_HEADERS)
    if request.method != "POST":
        lang = _lang(request)
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        return _with_csrf_cookie(_form_page(lang, csrf, _next(request.query_params.get("next"))), csrf, request)
    form = dict(await request.form())
    lang = _lang(request, form)
    nxt = _next(str(form.get("next") or ""))
    cookie_csrf = request.cookies.get(CSRF_COOKIE) or ""
    sent = str(form.get("csrf") or "")
    if not _same_origin(request) or not cookie_csrf or not hmac.compare_digest(cookie_csrf, sent):
        fresh = secrets.token_urlsafe(24)
        page = _form_page(lang, fresh, nxt, error=t("auth_form_expired", lang), status=403)
        return _with_csrf_cookie(page, fresh, request)
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    db = accounts_for(s.store)
    client = request.client.host if request.client else "unknown"
    from starlette.concurrency import run_in_threadpool

    try:
        account = await run_in_threadpool(db.authenticate, name, password, client=client)
    except LoginRefused as exc:
        record(None, "login_failed", name.strip()[:64], f"reason={exc.reason}; page=signin", role="", store=s.store)
        error = t("auth_throttled", lang).format(seconds=exc.retry_after) if exc.reason == "throttled" else t("auth_failed", lang)
        return _with_csrf_cookie(
            _form_page(lang, cookie_csrf, nxt, error=error, name=name[:64], status=429 if exc.reason == "throttled" else 401),
            cookie_csrf, request,
        )
    token = db.open_session(account)
    record(account.name, "login", "signin", "builtin", role=account.role, store=s.store)
    response = RedirectResponse(f"{nxt}{'&' if '?' in nxt else '?'}lang={lang}", status_code=303, headers=_HEADERS)
    response.set_cookie(
        COOKIE, token, max_age=int(s.session_max_hours * 3600), path="/", httponly=True, samesite="strict", secure=_secure(request)
    )
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


async def signout_endpoint(request: Request) -> Response:
    s = load_settings()
    form = dict(await request.form()) if request.method == "POST" else {}
    lang = _lang(request, form)
    token = request.cookies.get(COOKIE)
    if request.method != "POST" or not token or not _same_origin(request) or not hmac.compare_digest(
        signout_token(token), str(form.get("csrf") or "")
    ):
        return RedirectResponse(f"login?lang={lang}", status_code=303, headers=_HEADERS)
    db = accounts_for(s.store)
    idle, absolute = s.session_limits
    check = db.session_account(token, idle=idle, absolute=absolute)
    db.close_session(token)
    if check.account is not None:
        record(check.account.name, "logout", "signout", role=check.account.role, store=s.store)
    response = RedirectResponse(f"login?lang={lang}&signed_out=1", status_code=303, headers=_HEADERS)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response
