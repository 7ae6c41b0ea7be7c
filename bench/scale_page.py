"""One map page for the scale benchmark (``bench/bench_scale.py``): generated neighbourhoods and
arrival points (files named by ``BENCH_SCALE_DATA``) on the command map, drawn our way (``ours``:
``build_map`` — neighbourhoods from vector tiles at this size, arrivals as 500 m cell counts —
prepared once and cached) or the naive way (``naive``: plain ``GeoJson`` at full precision and
one ``Marker`` per arrival in a ``MarkerCluster``, built on every run and shown with
``st_folium``), by ``BENCH_SCALE_MODE``. Run by the benchmark only."""

import os

import folium
import geopandas as gpd
import streamlit as st
from folium.plugins import MarkerCluster
from streamlit_folium import st_folium

from dashboard.assets import streamlit_base_path, use_local_assets
from dashboard.mapview import build_map, prepare_map, show_prepared
from dashboard.settings import load_settings
from geo.density import grid_counts

DATA = os.environ["BENCH_SCALE_DATA"]
MODE = os.environ.get("BENCH_SCALE_MODE", "ours")


@st.cache_resource
def _frames():
    return gpd.read_parquet(f"{DATA}/neighbourhoods.parquet"), gpd.read_parquet(f"{DATA}/arrivals.parquet")


@st.cache_resource
def _ours():
    nb, pts = _frames()
    return prepare_map(build_map(load_settings(), "zh", {"neighbourhoods": nb, "traveller_density": grid_counts(pts.geometry)}))


def _naive() -> folium.Map:
    nb, pts = _frames()
    use_local_assets(streamlit_base_path())
    minx, miny, maxx, maxy = nb.total_bounds
    m = folium.Map(location=((miny + maxy) / 2, (minx + maxx) / 2), zoom_start=10, tiles=None, maxZoom=18)
    folium.GeoJson(nb.to_json(), name="neighbourhoods",
                   tooltip=folium.GeoJsonTooltip([c for c in nb.columns if c != "geometry"])).add_to(m)
    cluster = MarkerCluster(name="arrivals").add_to(m)
    for p in pts.geometry:
        folium.Marker((p.y, p.x)).add_to(cluster)
    return m


st.title("scale")
if MODE == "ours":
    show_prepared(_ours(), key="scale_map", height=620)
else:
    st_folium(_naive(), key="scale_map", height=620, use_container_width=True, returned_objects=[])
