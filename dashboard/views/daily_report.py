"""日报告 Daily report: the form for the city's daily bulletin figures, the zero report, the
table and charts over time, and the XLSX / CSV exports (command-centre role).

Its own page rather than a section under the command-centre map: the wall screen opens with
the map and figures only, so it does not wait for the form, the table and the charts (measured
by ``make bench``: ``command_page_time_to_map_drawn``)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.daily_report_ui import render_daily_report
from dashboard.i18n import t
from dashboard.ui import page_frame

ctx = page_frame("page_daily_report")
lang = ctx.lang
st.caption(t("dr_page_intro", lang))
render_daily_report(ctx, pd.Timestamp(ctx.scenario_today), heading=False)
