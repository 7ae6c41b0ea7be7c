"""The naive way to put the command centre's layers on a folium map, shared by the two naive
baselines of ``bench/bench_command.py``: every layer with plain ``folium.GeoJson`` (every
column, full precision, per-feature tooltips of all columns) and one ``folium.Marker`` with a
popup per point (testing sites inside a ``MarkerCluster``, as the layer requires)."""

import folium
import pandas as pd
from folium.plugins import HeatMap, MarkerCluster

from dashboard.assets import streamlit_base_path, use_local_assets
from layers.boundaries import city_counties


def _json(gdf):
    out = gdf.copy()
    for c in out.columns:
        if c != "geometry" and str(out[c].dtype).startswith("datetime"):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out.to_json()


def naive_build_map(settings, lang, layers, **_kwargs):
    use_local_assets(streamlit_base_path())
    counties = city_counties(settings.city_adcode)
    minx, miny, maxx, maxy = counties.total_bounds
    m = folium.Map(location=((miny + maxy) / 2, (minx + maxx) / 2), zoom_start=10, tiles=None, maxZoom=18)
    folium.GeoJson(_json(counties), name="districts").add_to(m)
    for key, frame in layers.items():
        if frame.empty:
            continue
        if key == "traveller_density":
            HeatMap([[p.y, p.x, c] for p, c in zip(frame.geometry, frame["count"], strict=True)], name=key).add_to(m)
        elif key in ("testing_sites", "hotels"):
            group = MarkerCluster(name=key) if key == "testing_sites" else folium.FeatureGroup(name=key)
            for _, r in frame.iterrows():
                html = "".join(f"<b>{c}</b>: {r[c]}<br>" for c in frame.columns if c != "geometry")
                folium.Marker((r.geometry.y, r.geometry.x), popup=folium.Popup(html), tooltip=str(r["name"])).add_to(group)
            group.add_to(m)
        else:
            fields = [c for c in frame.columns if c != "geometry"]
            folium.GeoJson(_json(frame), name=key, tooltip=folium.GeoJsonTooltip(fields=fields)).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def naive_command_map(ctx, as_of, when, *, national):
    """The command centre's map built the naive way from the same frames as ours
    (``dashboard.maps.command_layers``; the national view: the risk areas)."""
    import dashboard.maps as maps
    from dashboard.ui import read_public_layer

    day = pd.Timestamp(as_of).normalize()
    if national:
        return naive_build_map(ctx.settings, ctx.lang, {"risk_areas": read_public_layer(ctx, "risk_areas", as_of=day)})
    return naive_build_map(ctx.settings, ctx.lang, maps.command_layers(ctx, day))
