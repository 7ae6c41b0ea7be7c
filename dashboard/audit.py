"""The audit trail: who did what, when (logins, imports, exports, zone changes, views of personal data).

``record`` is the one call pages and commands make. The storage behind it is built with the
accounts (dashboard/auth.py); callers never depend on where it is kept.
"""

from __future__ import annotations

import logging

__all__ = ["record"]

_log = logging.getLogger("riskmap.audit")


def record(user: str | None, action: str, target: str = "", detail: str = "") -> None:
    """Record one event. ``detail`` must never hold personal data (names, phones, ID numbers)."""
    _log.info("audit user=%s action=%s target=%s", user or "-", action, target)
