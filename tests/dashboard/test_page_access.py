"""Access proof on the server, headless (Streamlit AppTest): every page key and every action as
nobody and as each role, decided by the accounts database — not by what the browser claims.

The browser version (real pages, real cookies) is tests/e2e/test_access.py.
"""

from __future__ import annotations

import sqlite3

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from dashboard.accounts import Accounts, accounts_location
from dashboard.roles import ACTION_ROLES, PAGE_ROLES, ROLES, may_do, may_open

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PW = "a long enough password"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from layers.store.gpkg import write_new_store

    path = tmp_path_factory.mktemp("access") / "riskmap.gpkg"
    write_new_store(path, {}, meta={"demo": "true"})
    return path


@pytest.fixture(scope="module")
def db(store) -> Accounts:
    db = Accounts(accounts_location(str(store)), hasher=FAST)
    for role in ROLES:
        db.add(f"{role}1", role, PW, areas="N0001" if role == "grid" else None)
    return db


@pytest.fixture(autouse=True)
def _configured(store, monkeypatch):
    from dashboard.ui import settings

    monkeypatch.setenv("RISKMAP_STORE", str(store))
    monkeypatch.delenv("RISKMAP_CONFIG", raising=False)
    settings.clear()
    yield
    settings.clear()


def _page(page_key: str) -> None:
    import streamlit as st

    from dashboard.ui import page_frame

    ctx = page_frame(page_key)
    st.write(f"CONTENT {ctx.user} {ctx.role}")


def _run_page(page_key: str, token: str | None) -> AppTest:
    at = AppTest.from_function(_page, args=(page_key,), default_timeout=30)
    at.session_state["lang"] = "zh"
    if token:
        at.session_state["_auth_token"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "info", "error", "warning", "caption", "success") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page_key", list(PAGE_ROLES))
@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_page_as_every_role(db, page_key, role):
    token = db.open_session(db.get(f"{role}1")) if role else None
    at = _run_page(page_key, token)
    text = _texts(at)
    if may_open(role, page_key):
        assert f"CONTENT {role + '1' if role else None} {role or 'public'}" in text
        assert "需要登录" not in text and "无权访问" not in text
    else:
        assert "CONTENT" not in text  # stopped before the page read anything
        if role is None:
            assert "需要登录" in text
            (link,) = [h.value for h in at.get("html")]  # a link to the server's sign-in form, back here
            assert "href='signin?next=" in link and ">登录</a>" in link
        else:
            assert "无权访问" in text and "需要登录" not in text
            assert any(e["action"] == "access_denied" and e["target"] == page_key
                       for _, e in db.audit_log(user=f"{role}1").iterrows())


def _act(action: str, claimed_role: str, claimed_user: str | None) -> None:
    import streamlit as st

    from dashboard.auth import require_role
    from dashboard.ui import PageContext, settings
    from layers.store.gpkg import GpkgStore

    s = settings()
    # a context that claims a role: require_role must believe the database, not the claim
    ctx = PageContext(settings=s, lang="zh", store=GpkgStore(s.store_path), meta={}, user=claimed_user, role=claimed_role)
    acc = require_role(ctx, action=action)
    st.write(f"DONE {acc.name}")


@pytest.mark.parametrize("action", list(ACTION_ROLES))
@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_action_as_every_role_even_when_the_context_lies(db, action, role):
    token = db.open_session(db.get(f"{role}1")) if role else None
    at = AppTest.from_function(_act, args=(action, "command", f"{role}1" if role else "command1"), default_timeout=30)
    at.session_state["lang"] = "zh"
    if token:
        at.session_state["_auth_token"] = token
    at.run()
    assert not at.exception, at.exception
    text = _texts(at)
    if may_do(role, action):
        assert f"DONE {role}1" in text
    else:
        assert "DONE" not in text and "无权执行此操作" in text
        denied = db.audit_log(actions=["access_denied"])
        assert ((denied["target"] == action) & (denied["detail"] == f"role={role or 'public'}")).any()


def _call(endpoint, method: str, path: str, *, form: dict | None = None, cookies: dict | None = None,
          origin: str | None = "http://testserver", query: str = ""):
    """Call a server route (dashboard.signin) with a real ASGI request, as the server would."""
    import asyncio
    from urllib.parse import urlencode

    from starlette.requests import Request

    body = urlencode(form or {}).encode()
    headers = [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    if origin:
        headers.append((b"origin", origin.encode()))
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": headers,
             "client": ("203.0.113.5", 50000), "scheme": "http", "server": ("testserver", 80)}
    return asyncio.run(endpoint(Request(scope, receive)))


def _set_cookies(response) -> dict[str, str]:
    out = {}
    for k, v in response.raw_headers:
        if k == b"set-cookie":
            name, _, rest = v.decode().partition("=")
            out[name] = rest
    return out


def test_sign_in_and_out_through_the_server(db):
    """The server route signs in (HttpOnly cookie, audited) and out (session ended, cookie cleared)."""
    from dashboard.signin import signin_endpoint, signout_endpoint, signout_token

    page = _call(signin_endpoint, "GET", "/signin", query="lang=zh&next=screening")
    assert page.status_code == 200 and "用户名" in page.body.decode() and "<form method='post' action='signin'>" in page.body.decode()
    csrf = _set_cookies(page)["riskmap_csrf"].split(";")[0]
    assert "HttpOnly" in _set_cookies(page)["riskmap_csrf"]
    done = _call(signin_endpoint, "POST", "/signin", form={"name": "Command1", "password": PW, "csrf": csrf, "next": "screening", "lang": "zh"},
                 cookies={"riskmap_csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == "screening?lang=zh"
    cookie = _set_cookies(done)["riskmap_session"]
    token = cookie.split(";")[0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie and "Max-Age=43200" in cookie
    assert db.session_account(token, idle=_idle(), absolute=_abs()).account.name == "command1"
    last = db.audit_log(user="command1", actions=["login"]).iloc[0]
    assert (last["target"], last["detail"], last["role"]) == ("signin", "builtin", "command")
    # the page, with that cookie, is signed in
    at = _run_page("page_screening", token)
    assert "CONTENT command1 command" in _texts(at)
    # sign out: a token of another session is not accepted; the session's own is
    refused = _call(signout_endpoint, "POST", "/signout", form={"csrf": signout_token("other")}, cookies={"riskmap_session": token})
    assert refused.status_code == 303 and db.session_account(token, idle=_idle(), absolute=_abs()).account is not None
    out = _call(signout_endpoint, "POST", "/signout", form={"csrf": signout_token(token), "lang": "zh"}, cookies={"riskmap_session": token})
    assert out.status_code == 303 and out.headers["location"] == "login?lang=zh&signed_out=1"
    assert 'riskmap_session=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    assert db.session_account(token, idle=_idle(), absolute=_abs()).reason == "none"
    assert db.audit_log(user="command1").iloc[0]["action"] == "logout"


def test_wrong_password_is_refused_and_audited_without_the_password(db, store):
    from dashboard.signin import signin_endpoint

    wrong = "Wrong-Secret-5551"
    res = _call(signin_endpoint, "POST", "/signin", form={"name": "grid1", "password": wrong, "csrf": "c", "next": "x"},
                cookies={"riskmap_csrf": "c"})
    assert res.status_code == 401 and "用户名或密码错误" in res.body.decode() and "riskmap_session" not in _set_cookies(res)
    failed = db.audit_log(actions=["login_failed"]).iloc[0]
    assert (failed["name"], failed["target"], failed["detail"]) == ("-", "grid1", "reason=wrong_password; page=signin")
    blob = b"".join(p.read_bytes() for p in store.parent.iterdir() if p.is_file())
    assert wrong.encode() not in blob and wrong not in res.body.decode()


@pytest.mark.parametrize(
    ("form_csrf", "cookie_csrf", "origin"),
    [("c", None, "http://testserver"), ("c", "d", "http://testserver"), ("c", "c", "http://evil.example")],
)
def test_a_sign_in_without_the_forms_token_is_refused(db, form_csrf, cookie_csrf, origin):
    from dashboard.signin import signin_endpoint

    res = _call(signin_endpoint, "POST", "/signin", form={"name": "command1", "password": PW, "csrf": form_csrf},
                cookies={"riskmap_csrf": cookie_csrf} if cookie_csrf else None, origin=origin)
    assert res.status_code == 403 and "riskmap_session" not in _set_cookies(res)


@pytest.mark.parametrize("nxt", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "x\r\nSet-Cookie: a=b"])
def test_the_page_after_sign_in_is_always_this_app(db, nxt):
    from dashboard.signin import signin_endpoint

    res = _call(signin_endpoint, "POST", "/signin", form={"name": "command1", "password": PW, "csrf": "c", "next": nxt},
                cookies={"riskmap_csrf": "c"})
    assert res.status_code == 303 and res.headers["location"] == "login?lang=zh"


def _idle():
    from datetime import timedelta

    return timedelta(minutes=30)


def _abs():
    from datetime import timedelta

    return timedelta(hours=12)


def test_idle_session_expires_and_is_audited(db):
    token = db.open_session(db.get("planner1"))
    at = _run_page("page_planning", token)
    assert "CONTENT planner1" in _texts(at)
    with sqlite3.connect(db.location) as con:  # the last page run was two hours ago
        con.execute("UPDATE riskmap_sessions SET last_seen = '2000-01-01T00:00:00.000000Z'")
    at.run()
    text = _texts(at)
    assert "登录已过期" in text and "需要登录" in text and "CONTENT" not in text
    last = db.audit_log(user="planner1").iloc[0]
    assert (last["action"], last["detail"]) == ("session_expired", "idle")


def test_disabling_an_account_ends_its_open_session_at_the_next_run(db):
    db.add("cmd2", "command", PW)
    db.add("admin2", "admin", PW)
    token = db.open_session(db.get("cmd2"))
    at = _run_page("page_data", token)
    assert "CONTENT cmd2" in _texts(at)
    db.set_disabled("cmd2", True, by="admin2")
    at.run()
    assert "CONTENT" not in _texts(at) and "需要登录" in _texts(at)


def test_a_role_change_takes_effect_at_the_next_run(db):
    db.add("cmd3", "command", PW)
    token = db.open_session(db.get("cmd3"))
    at = _run_page("page_data", token)
    assert "CONTENT cmd3 command" in _texts(at)
    db.update("cmd3", role="planner")
    at.run()
    assert "CONTENT" not in _texts(at)
    # signing in again gives the new role, which the data page refuses
    token = db.open_session(db.authenticate("cmd3", PW))
    assert "无权访问" in _texts(_run_page("page_data", token)) and "CONTENT" not in _texts(_run_page("page_data", token))


def test_a_forged_token_is_nobody(db):
    at = _run_page("page_command", "forged-token-value")
    assert "需要登录" in _texts(at) and "CONTENT" not in _texts(at)


# ---------------------------------------------------------------------------------------------
# Single sign-on (auth = "oidc"): no identity provider offline, so the identity Streamlit would
# give (st.user) is stubbed; the mapping to an account and role, the checks and the audit are real.


@pytest.fixture
def oidc(monkeypatch, db):
    import time

    from dashboard import auth
    from dashboard.ui import settings

    monkeypatch.setenv("RISKMAP_AUTH", "oidc")
    settings.clear()
    claims: dict = {}
    logouts: list[int] = []
    monkeypatch.setattr(auth, "_oidc_claims", lambda: dict(claims))
    monkeypatch.setattr(auth.st, "logout", lambda: logouts.append(1))
    if db.get("wang@corp.example") is None:
        db.add("wang@corp.example", "planner", None)
        db.add("off@corp.example", "command", None)
        db.set_disabled("off@corp.example", True)
    return claims, logouts, time.time()


def test_sso_identity_gets_its_accounts_role(db, oidc):
    claims, logouts, now = oidc
    claims.update(email="Wang@Corp.example", iat=int(now))
    assert "CONTENT wang@corp.example planner" in _texts(_run_page("page_planning", None))
    at = _run_page("page_data", None)
    assert "无权访问" in _texts(at) and "CONTENT" not in _texts(at)
    last = db.audit_log(user="wang@corp.example", actions=["login"]).iloc[0]
    assert (last["target"], last["role"]) == ("oidc", "planner")
    assert logouts == []


@pytest.mark.parametrize("email", ["stranger@corp.example", "off@corp.example", None])
def test_sso_identity_without_an_enabled_account_is_nobody(db, oidc, email):
    claims, _, now = oidc
    if email:
        claims.update(email=email, iat=int(now))
    at = _run_page("page_planning", None)
    text = _texts(at)
    assert "需要登录" in text and "CONTENT" not in text
    assert at.text_input.len == 0  # no password form under single sign-on
    assert "单点登录未就绪" in text or "统一身份认证" in " ".join(b.label for b in at.button)
    if email:
        assert "没有对应的启用账户" in text
        failed = db.audit_log(actions=["login_failed"]).iloc[0]
        assert failed["target"] == email and failed["detail"].startswith("oidc; reason=")


def test_sso_session_past_the_absolute_limit_is_signed_out(db, oidc):
    claims, logouts, now = oidc
    claims.update(email="wang@corp.example", iat=int(now - 13 * 3600))  # the token is 13 hours old
    at = _run_page("page_planning", None)
    assert logouts  # st.logout() was called
    assert "CONTENT" not in _texts(at) and "需要登录" in _texts(at)
    last = db.audit_log(user="wang@corp.example").iloc[0]
    assert (last["action"], last["detail"]) == ("session_expired", "oidc; absolute")


def test_sso_session_idle_too_long_is_signed_out(db, oidc):
    claims, logouts, now = oidc
    claims.update(email="wang@corp.example", iat=int(now))
    at = _run_page("page_planning", None)
    assert "CONTENT wang@corp.example" in _texts(at)
    name, role, started, _seen = at.session_state["_auth_oidc"]
    at.session_state["_auth_oidc"] = (name, role, started, now - 31 * 60)  # last page run 31 minutes ago
    at.run()
    assert logouts and "CONTENT" not in _texts(at)
    assert db.audit_log(user="wang@corp.example").iloc[0]["detail"] == "oidc; idle"


def test_display_names_are_shown_as_text(db):
    from dashboard.auth import md_text

    assert md_text("![x](http://elsewhere/x.png)") == "\\!\\[x\\]\\(http\\://elsewhere/x\\.png\\)"
    acc = db.add("shown", "command", PW, display_name="![x](http://elsewhere/x.png) **张三**")
    at = _run_page("page_command", db.open_session(acc))
    caption = next(c.value for c in at.sidebar.caption if "已登录" in c.value)
    assert "\\!\\[x\\]" in caption and "\\*\\*张三\\*\\*" in caption


def test_a_truncated_store_gives_a_message_not_a_traceback(tmp_path, monkeypatch):
    """Defect: with a truncated store even the sign-in page failed with a raw traceback."""
    from dashboard.ui import settings
    from layers.store.gpkg import write_new_store

    path = tmp_path / "broken.gpkg"
    write_new_store(path, {}, meta={"demo": "true"})
    db = Accounts(accounts_location(str(path)), hasher=FAST)
    db.add("command9", "command", PW)
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 3)
    monkeypatch.setenv("RISKMAP_STORE", str(path))
    settings.clear()
    for page_key, token in (("page_login", None), ("page_resident", None), ("page_command", db.open_session(db.get("command9")))):
        at = _run_page(page_key, token)  # asserts no exception
        if page_key != "page_login":
            assert "已损坏或不完整" in _texts(at), page_key


def test_a_disabled_account_is_told_so_at_its_next_run(db):
    """Defect: a disabled account saw a bare sign-in form, not "your account was disabled or changed"."""
    db.add("cmd7", "command", PW)
    token = db.open_session(db.get("cmd7"))
    at = _run_page("page_command", token)
    assert "CONTENT cmd7 command" in _texts(at)
    db.set_disabled("cmd7", True, by="admin1")
    at.run()
    text = _texts(at)
    assert "登录已过期或账户已变更" in text and "CONTENT" not in text
    db.set_disabled("cmd7", False, by="admin1")  # enabling again does not bring the old session back
    assert db.session_account(token, idle=_idle(), absolute=_abs()).account is None
