"""Baseline "naive page" for the command-centre benchmark: the same command page, with its map
made the way a plain Streamlit page makes one: the naive folium map (``bench/naive_map.py``) of
the same layers (``dashboard.maps.command_layers``), built on every run and shown with
``st_folium``. The layer reads, the key figures and the rest of the page are the app's own. Run
by ``bench/bench_command.py`` only.
"""

from pathlib import Path

import pandas as pd
from streamlit_folium import st_folium

import dashboard.maps as maps
import dashboard.mapview as mapview
from bench.naive_map import naive_build_map
from dashboard.ui import read_public_layer


def plain_command_map(ctx, as_of, when, *, national):
    day = pd.Timestamp(as_of).normalize()
    if national:
        return naive_build_map(ctx.settings, ctx.lang, {"risk_areas": read_public_layer(ctx, "risk_areas", as_of=day)})
    return naive_build_map(ctx.settings, ctx.lang, maps.command_layers(ctx, day))


def plain_show(m, *, key, height=620, returned=None):
    return st_folium(m, key=key, height=height, use_container_width=True, returned_objects=returned or []) or {}


maps.command_map = plain_command_map
mapview.show_prepared = plain_show
_page = Path(__file__).resolve().parent / "page.py"
exec(compile(_page.read_text(encoding="utf-8"), str(_page), "exec"), {"__name__": "__main__"})  # noqa: S102
