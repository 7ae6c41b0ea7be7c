"""Server for the scale benchmark: ``bench/scale_page.py`` with the app's tile route, as
``dashboard/server.py`` serves the pages. Run by the benchmark only."""

from pathlib import Path

import streamlit as st
from starlette.routing import Route

from dashboard.server import tiles

app = st.App(
    Path(__file__).resolve().parent / "scale_page.py",
    routes=[Route("/tiles/{key}/{token}/{z}/{x}/{y}.mvt", tiles)],
)
