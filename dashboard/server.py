"""The app as served: the Streamlit pages (``dashboard/app.py``) plus the wall screen
(``dashboard/wall.py``) at ``wall`` beside them, on one server and port.

``streamlit run dashboard/server.py`` (what ``riskmap serve`` and ``make run`` do) finds the
``app`` below and serves it with all of Streamlit's own settings and routes.

Requests first pass :class:`dashboard.guard.Guard` (no metrics endpoint; media only with a live
session). Nothing of the pages is imported here, and the wall's modules load on its first
request. Custom components are registered with the runtime by the pages that mount them
(:func:`dashboard.components.registered`), so the order in which modules are first imported — a
wall screen asking before any page after a restart — cannot leave the maps unregistered.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from streamlit import config

from dashboard.guard import Guard


def wall_path() -> str:
    """``/wall``, under ``server.baseUrlPath`` when one is set (the pages' own prefix)."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/wall" if base else "/wall"


def wall(request: Request) -> Response:
    from dashboard.wall import wall_endpoint

    return wall_endpoint(request)


app = st.App(Path(__file__).resolve().parent / "app.py", routes=[Route(wall_path(), wall)], middleware=[Middleware(Guard)])
