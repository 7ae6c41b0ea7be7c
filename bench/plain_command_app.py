"""Baseline "naive page" for the command-centre benchmark: the same command page, with its map
made the way a plain Streamlit page makes one: the naive folium map (``bench/naive_map.py``) of
the same layers (``dashboard.maps.command_layers``), built on every run and shown with
``st_folium``. The layer reads, the key figures and the rest of the page are the app's own. Run
by ``bench/bench_command.py`` only.
"""

from pathlib import Path

from streamlit_folium import st_folium

import dashboard.maps as maps
import dashboard.mapview as mapview
from bench.naive_map import naive_command_map


def plain_show(m, *, key, height=620, returned=None):
    return st_folium(m, key=key, height=height, use_container_width=True, returned_objects=returned or []) or {}


maps.command_map = naive_command_map
mapview.show_prepared = plain_show
_page = Path(__file__).resolve().parent / "page.py"
exec(compile(_page.read_text(encoding="utf-8"), str(_page), "exec"), {"__name__": "__main__"})  # noqa: S102
