"""The app as served: the Streamlit pages (``dashboard/app.py``) plus the wall screen
(``dashboard/wall.py``) at ``wall`` beside them, on one server and port.

``streamlit run dashboard/server.py`` (what ``riskmap serve`` and ``make run`` do) finds the
``app`` below and serves it with all of Streamlit's own settings and routes.

Sign-in and sign-out are server routes too (``signin``, ``signout``: :mod:`dashboard.signin`),
so the session cookie is set and cleared by the server, ``HttpOnly``. Requests first pass
:class:`dashboard.guard.Guard` (no metrics endpoint; media only with a live
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


def route_path(name: str) -> str:
    """``/<name>``, under ``server.baseUrlPath`` when one is set (the pages' own prefix)."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{name}" if base else f"/{name}"


def wall_path() -> str:
    return route_path("wall")


def wall(request: Request) -> Response:
    from dashboard.wall import wall_endpoint

    return wall_endpoint(request)


def geo_link(request: Request) -> Response:
    """``geo?lat=…&lon=…&name=…``: a redirect to the standard ``geo:`` URI, which opens the phone's
    own map app at that point. Pages link here because the HTML they show may only carry web
    links (the sanitiser drops ``geo:``); the tap reaches this server, nothing else."""
    from dashboard.lookup_links import geo_redirect

    return geo_redirect(request)


def tiles(request: Request) -> Response:
    from dashboard.vector_tiles import tile_endpoint

    return tile_endpoint(request)


async def signin(request: Request) -> Response:
    from dashboard.signin import signin_endpoint

    return await signin_endpoint(request)


async def signout(request: Request) -> Response:
    from dashboard.signin import signout_endpoint

    return await signout_endpoint(request)


app = st.App(
    Path(__file__).resolve().parent / "app.py",
    routes=[
        Route(wall_path(), wall),
        Route(route_path("geo"), geo_link),
        Route(route_path("tiles/{key}/{token}/{z}/{x}/{y}.mvt"), tiles),
        Route(route_path("signin"), signin, methods=["GET", "POST"]),
        Route(route_path("signout"), signout, methods=["GET", "POST"]),
    ],
    middleware=[Middleware(Guard)],
)
