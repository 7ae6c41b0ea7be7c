"""Requests that must not reach Streamlit's own routes as they are (an ASGI middleware for the app
as served, ``dashboard/server.py``).

- ``/_stcore/metrics`` (Streamlit's server metrics: sessions, memory) is not served: 404.
- ``/media/…`` files that are downloads (what ``st.download_button`` serves: CSV, XLSX, anything
  but an image) need a live riskmap session: the session cookie, checked against the accounts
  database like every page run. A download URL of a personal or audited file copied before
  sign-out answers 403 afterwards, and so does one asked without a session. Images (the page
  icon, pictures on public pages) are served as Streamlit serves them. Answers carry
  ``Cache-Control: no-store``.

Nothing of the pages is imported here (see ``dashboard/server.py``): only the accounts database
and the settings, on first use.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

__all__ = ["Guard", "COOKIE"]

COOKIE = "riskmap_session"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico")


def _session_ok(token: str | None) -> bool:
    """A live built-in session for this cookie (with single sign-on the identity lives in
    Streamlit's own cookie, which this check cannot read: media stay as Streamlit serves them)."""

    from dashboard.audit import accounts_for
    from dashboard.settings import load_settings

    s = load_settings()
    if s.auth == "oidc":
        return True
    if not token:
        return False
    idle, absolute = s.session_limits
    check = accounts_for(s.store).session_account(token, idle=idle, absolute=absolute)
    return check.account is not None


class Guard:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/").endswith("/_stcore/metrics"):
            await _answer(send, 404, "not served")
            return
        if path.startswith(_media_prefix()) and not path.lower().endswith(_IMAGE_SUFFIXES):
            token = _cookie(scope, COOKIE)
            from starlette.concurrency import run_in_threadpool

            if not await run_in_threadpool(_session_ok, token):
                await _answer(send, 403, "sign in again: downloads end with the session")
                return
        await self.app(scope, receive, send)


def _media_prefix() -> str:
    """``/media/`` under ``server.baseUrlPath`` (Streamlit's media route; ``/static/media/`` holds
    the front end's own fonts and is not it)."""
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/media/" if base else "/media/"


def _cookie(scope: dict, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no session
                return None
            if name in jar:
                return jar[name].value
    return None


async def _answer(send: Any, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
