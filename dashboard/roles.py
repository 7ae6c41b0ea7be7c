"""Who may open which page and do which action: the access policy as data, no Streamlit, no storage.

Roles (an account has exactly one; ``public`` is everybody, signed in or not):

=========  ======================  ==========================================================
role       Chinese                 may
=========  ======================  ==========================================================
public     市民                    the resident lookup (no sign-in)
grid       社区网格员              command centre (aggregates), the follow-up list and the
                                   screening lists of *their* neighbourhoods (by neighbourhood id
                                   or district adcode); recording outcomes
planner    规划人员                command centre (aggregates), zone planning
command    指挥中心                everything with data: command centre, the daily report,
                                   screening of everyone (personal data), planning, import/export
admin      管理员                  accounts and the audit log (no layer data: duties separated)
=========  ======================  ==========================================================

Pages and actions name the roles allowed (:data:`PAGE_ROLES`, :data:`ACTION_ROLES`); anything
not listed is refused (fail closed). Every signed-in role may also open the public pages.
The navigation hides pages a role may not open, but each page and each action checks again on
the server (:mod:`dashboard.auth`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

__all__ = [
    "ACTION_ROLES",
    "PAGE_ROLES",
    "PUBLIC",
    "ROLES",
    "AREA_ROLES",
    "may_do",
    "may_open",
    "pages_for",
    "screening_in_scope",
]

PUBLIC = "public"
ROLES = ("grid", "site", "planner", "command", "admin")  # account roles, least to most data
#: Roles whose accounts carry areas: grid workers (neighbourhood ids / district codes), site staff (testing-site ids).
AREA_ROLES = ("grid", "site")

PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "page_command": ("command", "planner", "grid"),
    "page_daily_report": ("command",),  # its form saves on click
    "page_screening": ("command", "grid"),
    "page_followup": ("grid", "command"),
    "page_planning": ("planner", "command"),
    "page_transfers": ("planner", "command"),
    "page_queue": ("site", "command"),
    "page_mass_testing": ("planner", "command"),
    "page_resident": (PUBLIC,),
    "page_data": ("command",),
    "page_admin": ("admin",),
    "page_login": (PUBLIC,),
}

ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "daily_report": ("command",),  # submit a daily report / zero report
    "import": ("command",),
    "export": ("command",),
    "view_personal": ("command", "grid"),  # screening lists (grid: own neighbourhoods only)
    "export_personal": ("command", "grid"),  # the masked screening workbook
    "zone_change": ("planner", "command"),
    "transfer_plan": ("planner", "command"),
    "report_queue": ("site", "command"),  # a testing site's queue level (site: own sites only)  # confirm a quarantine transfer plan (records 'transferred')
    "record_outcome": ("grid", "command"),  # follow-up outcomes (grid: own neighbourhoods only)
    "reveal_phone": ("grid", "command"),  # the full phone of a person on one's list (audited)
    "accounts": ("admin",),  # add, disable, enable, reset password, change role
    "audit_read": ("admin",),  # read and export the audit log
}


def may_open(role: str | None, page_key: str) -> bool:
    """Whether ``role`` (``None`` = nobody signed in) may open the page ``page_key``.

    Unknown pages are refused. Public pages are open to everybody.
    """
    allowed = PAGE_ROLES.get(page_key, ())
    return PUBLIC in allowed or (role is not None and role in allowed)


def may_do(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action`` (see :data:`ACTION_ROLES`); unknown actions are refused."""
    return role is not None and role in ACTION_ROLES.get(action, ())


def pages_for(role: str | None) -> list[str]:
    """The page keys ``role`` may open, in navigation order."""
    return [key for key in PAGE_ROLES if may_open(role, key)]


def _in_scope(ids: pd.Series, adcodes: pd.Series, areas: Iterable[str]) -> pd.Series:
    areas = {str(a) for a in areas}
    return ids.astype("string").isin(areas).fillna(False) | adcodes.astype("string").isin(areas).fillna(False)


def screening_in_scope(result, role: str, areas: Iterable[str]):
    """The screening result a role may see: all for ``command``; for ``grid`` only travellers and
    neighbourhoods in the worker's areas (neighbourhood ids or 6-digit district adcodes).

    Any other role gets :class:`PermissionError`. ``result`` is a :class:`geo.screening.Screening`;
    a new one is returned, the caller's is not changed.
    """
    if role == "command":
        return result
    if role != "grid":
        msg = f"role {role!r} may not see screening lists"
        raise PermissionError(msg)
    areas = tuple(areas)
    t = result.travellers
    nb = result.neighbourhoods
    keep_t = _in_scope(t["neighbourhood_id"], t["district_adcode"], areas).to_numpy(dtype=bool)
    keep_nb = _in_scope(nb["id"], nb["district_adcode"], areas).to_numpy(dtype=bool)
    travellers = t[keep_t].reset_index(drop=True)
    ob = result.obligations
    ob = ob[ob["traveller_id"].isin(travellers["id"])].reset_index(drop=True)  # theirs only
    return dataclasses.replace(
        result, travellers=travellers, obligations=ob, neighbourhoods=nb[keep_nb].reset_index(drop=True)
    )
