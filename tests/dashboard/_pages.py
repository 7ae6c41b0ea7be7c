"""Run a dashboard page headless (Streamlit AppTest), signed in, in Chinese."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.auth import TOKEN_KEY


def signed_in_page(page_file: str, db, account) -> AppTest:
    """The page at ``page_file`` run once for ``account`` (a session opened in ``db``), checked to
    have raised nothing."""
    at = AppTest.from_file(page_file, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state[TOKEN_KEY] = db.open_session(account)
    at.run()
    assert not at.exception, at.exception
    return at
