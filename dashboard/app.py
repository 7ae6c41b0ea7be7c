"""Streamlit entry point: builds the navigation, nothing else."""

from pathlib import Path

import streamlit as st

from dashboard.i18n import t
from dashboard.ui import current_language

lang = current_language()
st.set_page_config(page_title=t("app_title", lang), page_icon=str(Path(__file__).parent / "static" / "favicon.png"), layout="wide")
st.navigation(
    [
        st.Page("views/command.py", title=t("page_command", lang), icon=":material/monitor_heart:", default=True),
        st.Page("views/screening.py", title=t("page_screening", lang), icon=":material/groups:", url_path="screening"),
        st.Page("views/planning.py", title=t("page_planning", lang), icon=":material/draw:", url_path="planning"),
        st.Page("views/resident.py", title=t("page_resident", lang), icon=":material/near_me:", url_path="resident"),
        st.Page("views/data.py", title=t("page_data", lang), icon=":material/database:", url_path="data"),
    ]
).run()
