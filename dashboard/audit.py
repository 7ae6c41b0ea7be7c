"""The audit trail: who did what, when (logins, imports, exports, zone changes, views of personal data).

``record`` is the one call pages and commands make. Entries go to the accounts database beside
the store (:mod:`dashboard.accounts`: ``riskmap_audit`` in ``<store>.accounts.sqlite``, or in
the PostgreSQL database of a ``postgresql://`` store); callers never depend on where it is kept.
Administrators read and export it on the 账户管理 Accounts page.

Actions recorded (``action`` · ``target`` · ``detail``):

=====================  ==========================  ===========================================
action                 target                      detail
=====================  ==========================  ===========================================
login                  page or ``oidc``            method
login_failed           the name tried              reason (unknown, wrong_password, disabled,
                                                   locked, no_password, …) — never a password
logout                 —                           —
session_expired        —                           idle / absolute / disabled / role_changed
access_denied          page or action              the role's name
import                 layer                       file type, mode, rows written / rejected
export                 layer                       format, coordinate system, rows
view_personal          ``screening``               as-of date, rows shown (no names)
export_personal        ``screening_xlsx``          as-of date, rows (masked workbook)
zone_change            zone id                     what changed (planning page)
account_*              account name                role / areas count / …
audit_export           ``audit``                   format, rows, filters
accounts_bootstrap     —                           accounts created on first run
=====================  ==========================  ===========================================

``detail`` never holds personal data (traveller names, phones, ID numbers) nor passwords. If an
entry cannot be written the error is raised, not hidden: an action that cannot be audited should
be seen to fail.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["record", "accounts_for", "audit_csv_bytes", "audit_xlsx_bytes"]

_log = logging.getLogger("riskmap.audit")
_open: dict[str, object] = {}
_lock = threading.Lock()


def accounts_for(store: str | None = None):
    """The :class:`dashboard.accounts.Accounts` of a store setting (default: the configured one),
    opened (and migrated) once per process."""
    from dashboard.accounts import Accounts, accounts_location, store_areas
    from dashboard.settings import PROJECT_ROOT, load_settings

    if store is None:
        store = load_settings().store
    location = accounts_location(str(store), root=PROJECT_ROOT)
    with _lock:
        acc = _open.get(location)
        if acc is None:
            acc = Accounts(location, areas_known=partial(store_areas, str(store), root=PROJECT_ROOT))
            _open[location] = acc
    return acc


def record(
    user: str | None,
    action: str,
    target: str = "",
    detail: str = "",
    *,
    role: str | None = None,
    store: str | Path | None = None,
) -> None:
    """Record one event. ``detail`` must never hold personal data (names, phones, ID numbers).

    ``store``: the store setting (path or URL) whose audit trail gets the entry; default the
    configured store. ``role``: the user's role, looked up from the account when not given.
    """
    # the log gets no detail, and no target for failed sign-ins (people type passwords into the name box)
    _log.info("audit user=%s action=%s target=%s", user or "-", action, "…" if action == "login_failed" else target)
    accounts_for(None if store is None else str(store)).record(user, action, target, detail, role=role)


def audit_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The audit table as CSV for administrators (UTF-8 with BOM), every cell neutralised: names
    typed at the public sign-in form end up here, so none may run as a formula."""
    from layers._cells import neutralise_frame

    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def audit_xlsx_bytes(frame: pd.DataFrame) -> bytes:
    """The audit table as XLSX, every cell neutralised (see :func:`audit_csv_bytes`)."""
    import io

    from layers._cells import neutralise_frame

    buf = io.BytesIO()
    neutralise_frame(frame).to_excel(buf, index=False, sheet_name="audit")
    return buf.getvalue()
