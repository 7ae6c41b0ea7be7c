"""Streamlit entry point: builds the navigation, nothing else."""

import streamlit as st

from dashboard.i18n import t
from dashboard.ui import current_language

lang = current_language()
st.set_page_config(page_title=t("app_title", lang), page_icon="🗺️", layout="wide")
st.navigation(
    [
        st.Page("pages/command.py", title=t("page_command", lang), icon="🛰️", url_path="command", default=True),
        st.Page("pages/planning.py", title=t("page_planning", lang), icon="✏️", url_path="planning"),
        st.Page("pages/resident.py", title=t("page_resident", lang), icon="🧭", url_path="resident"),
        st.Page("pages/data.py", title=t("page_data", lang), icon="🗂️", url_path="data"),
    ]
).run()
