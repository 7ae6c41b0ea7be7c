"""Server for the wall-screen benchmark (``bench/bench_command.py``): the app as served
(``dashboard/server.py``: pages and ``/wall``) plus ``/wall-naive``, the same wall page with the
naive map (``bench/naive_map.py``: plain ``GeoJson`` at full precision, one ``Marker`` per point)
built on every request. Run by the benchmark only.
"""

from functools import cache
from pathlib import Path

import streamlit as st
from starlette.routing import Route

from dashboard.server import wall


@cache
def _naive_endpoint():
    # imported on the first request, after Streamlit's runtime has started (dashboard/server.py)
    from bench.naive_map import naive_command_map
    from dashboard.mapview import prepare_map
    from dashboard.wall import make_wall_endpoint

    return make_wall_endpoint(lambda *a, **kw: prepare_map(naive_command_map(*a, **kw)))


def naive_wall(request):
    return _naive_endpoint()(request)


app = st.App(
    Path(__file__).resolve().parent.parent / "dashboard" / "app.py",
    routes=[Route("/wall", wall), Route("/wall-naive", naive_wall)],
)
