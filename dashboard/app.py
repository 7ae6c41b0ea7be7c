"""Streamlit entry point: builds the navigation, nothing else.

Every page is registered (so its URL works), but the menu shows only the pages the signed-in
role may open (``dashboard.roles``); each page checks the role again itself (``page_frame``).
"""

from pathlib import Path

import streamlit as st

from dashboard.auth import PAGE_PATHS, nav_role
from dashboard.i18n import t
from dashboard.roles import may_open
from dashboard.ui import current_language, settings
from geo.errors import SettingsError

lang = current_language()
st.set_page_config(page_title=t("app_title", lang), page_icon=str(Path(__file__).parent / "static" / "favicon.png"), layout="wide")
try:
    role = nav_role(settings())
except SettingsError:
    role = None  # the page shows the settings error


def _page(script: str, key: str, icon: str, **kw) -> st.Page:
    shown = may_open(role, key) and not (key == "page_login" and role is not None)
    if key != "page_command":
        kw["url_path"] = PAGE_PATHS[key]  # one table of page paths (the sign-in links use it too)
    return st.Page(script, title=t(key, lang), icon=icon, visibility="visible" if shown else "hidden", **kw)


st.navigation(
    [
        _page("views/command.py", "page_command", ":material/monitor_heart:", default=True),
        _page("views/daily_report.py", "page_daily_report", ":material/summarize:"),
        _page("views/followup.py", "page_followup", ":material/checklist:"),
        _page("views/screening.py", "page_screening", ":material/groups:"),
        _page("views/planning.py", "page_planning", ":material/draw:"),
        _page("views/transfers.py", "page_transfers", ":material/airport_shuttle:"),
        _page("views/mass_testing.py", "page_mass_testing", ":material/biotech:"),
        _page("views/queue.py", "page_queue", ":material/groups_3:"),
        _page("views/resident.py", "page_resident", ":material/near_me:"),
        _page("views/data.py", "page_data", ":material/database:"),
        _page("views/admin.py", "page_admin", ":material/manage_accounts:"),
        _page("views/login.py", "page_login", ":material/login:"),
    ]
).run()
