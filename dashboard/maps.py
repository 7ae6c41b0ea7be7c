"""Cached maps for the pages: a map is built and rendered once per store version, date, language
and view, then reused on every rerun (so a rerun costs milliseconds and the map does not flash).

Only public layers and aggregates go into these maps, so sharing them across users is safe.
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.mapview import MapPayload, build_map, prepare_map
from dashboard.settings import Settings
from dashboard.ui import PageContext, read_public_layer, traveller_aggregates
from layers import MAP_LAYERS

__all__ = ["command_layers", "command_map"]


def command_layers(ctx: PageContext, day: pd.Timestamp) -> dict[str, gpd.GeoDataFrame]:
    """The city view's layers on ``day``, in map order: public layers as of that day plus the
    screening choropleth and the arrivals density (aggregates only). The benchmark's naive
    baseline draws the same frames (``bench/plain_command_app.py``)."""
    frames = {key: read_public_layer(ctx, key, as_of=day) for key in MAP_LAYERS}
    per_nbh, grid, _ = traveller_aggregates(ctx, day)
    nbh = frames["neighbourhoods"]
    screening = nbh[["id", "name", "geometry"]].merge(per_nbh[["id", "travellers", "screening"]], on="id", how="left")
    screening["travellers"] = screening["travellers"].fillna(0).astype(int)
    screening = screening.rename(columns={"screening": "screening_level"})
    state = nbh[["id", "name", "geometry"]].merge(per_nbh[["id", "followup_state"]], on="id", how="left")
    state["followup_state"] = state["followup_state"].fillna("none")
    density = gpd.GeoDataFrame(grid[["count"]], geometry=gpd.points_from_xy(grid["lon"], grid["lat"]), crs="EPSG:4326")
    return {
        "neighbourhoods": nbh,
        "neighbourhood_screening": gpd.GeoDataFrame(screening, crs="EPSG:4326"),
        "neighbourhood_followup": gpd.GeoDataFrame(state, crs="EPSG:4326"),
        "traveller_density": density,
        "risk_areas": frames["risk_areas"],
        "zones": frames["zones"],
        "hotels": frames["hotels"],
        "testing_sites": frames["testing_sites"],
    }


@st.cache_resource(max_entries=16, show_spinner=False)
def _command_map(
    _ctx: PageContext, path: str, version: float, as_of: str, when: str, lang: str, settings: Settings, national: bool,
    records_version: int = 0,
) -> MapPayload:
    ctx = _ctx
    day = pd.Timestamp(as_of)
    if national:
        m = build_map(settings, lang, {"risk_areas": read_public_layer(ctx, "risk_areas", as_of=day)}, national=True)
    else:
        m = build_map(
            settings, lang, command_layers(ctx, day), hidden=("neighbourhood_screening", "neighbourhood_followup", "traveller_density"), render_options={"zones": {"as_of": day}, "testing_sites": {"when": datetime.fromisoformat(when)}}
        )
    return prepare_map(m)


def command_map(ctx: PageContext, as_of: pd.Timestamp, when: datetime, *, national: bool) -> MapPayload:
    """The command centre's map, prepared once per store version, recorded outcomes, date, clock
    time (testing sites' open/closed; pass it rounded to a few minutes), language and view."""
    from dashboard.ui import records_of

    return _command_map(
        ctx, ctx.store.location, ctx.store.version(), as_of.strftime("%Y-%m-%d"), when.isoformat(), ctx.lang, ctx.settings, national,
        0 if national else records_of(ctx).version(),  # the follow-up colours change with every outcome recorded
    )
