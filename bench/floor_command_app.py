"""Floor for the command-centre benchmark: the same command page with the smallest map that
passes the benchmark's readiness check (300 small triangles and one marker; no boundaries, legend
or controls), built once and shown through the page's own cache and component. No map can be
drawn sooner on this page, so the naive page's time divided by this one's is the most any map
delivery could reach here. Run by ``bench/bench_command.py`` only.
"""

from pathlib import Path

import folium
import streamlit as st

import dashboard.maps as maps
from dashboard.assets import streamlit_base_path, use_local_assets
from dashboard.mapview import prepare_map

TRIANGLES = 300


@st.cache_resource(show_spinner=False)
def _floor_map():
    use_local_assets(streamlit_base_path())
    m = folium.Map(location=(37.87, 112.55), zoom_start=10, tiles=None, prefer_canvas=True, maxZoom=18)
    features = [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[x, 37.8], [x + 0.004, 37.8], [x, 37.804], [x, 37.8]]]}}
        for x in (112.4 + 0.001 * i for i in range(TRIANGLES))
    ]
    folium.GeoJson({"type": "FeatureCollection", "features": features}).add_to(m)
    folium.Marker((37.87, 112.55)).add_to(m)
    return prepare_map(m)


def floor_command_map(ctx, as_of, when, *, national):
    return _floor_map()


maps.command_map = floor_command_map
_page = Path(__file__).resolve().parent / "page.py"
exec(compile(_page.read_text(encoding="utf-8"), str(_page), "exec"), {"__name__": "__main__"})  # noqa: S102
