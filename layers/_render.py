"""Rendering helpers shared by the layer modules. Everything that reaches HTML is escaped here."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["esc", "table_html", "fmt", "text", "truthy", "geojson_group", "compact_geojson"]


def esc(value: object) -> str:
    """HTML-escape any value (quotes included). ``None``/NaN become an em dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "—"
    return html.escape(str(value), quote=True)


def fmt(value: object) -> str:
    """Human formatting of a cell value before escaping: dates as YYYY-MM-DD, booleans as ✓/✗."""
    if isinstance(value, pd.Timestamp):
        return "—" if pd.isna(value) else value.strftime("%Y-%m-%d")
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return "—"
    except (TypeError, ValueError):
        pass
    return str(value)


def table_html(title: str, rows: Iterable[tuple[str, object]], *, note: str | None = None) -> str:
    """A small popup table. Title, labels and values are all escaped."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v))}</td></tr>" for k, v in rows)
    extra = f"<div class='rm-note'>{esc(note)}</div>" if note else ""
    return f"<div class='rm-popup'><b>{esc(title)}</b><table>{body}</table>{extra}</div>"


def compact_geojson(
    gdf: gpd.GeoDataFrame, properties: Sequence[str], *, precision: int = 5
) -> dict:
    """A GeoJSON FeatureCollection with only ``properties`` and coordinates rounded.

    5 decimals is about 1 m at Taiyuan's latitude, far below what a screen can show; this keeps
    the bytes sent to the browser small.
    """
    geoms = shapely.set_precision(np.asarray(gdf.geometry.values), 10.0 ** (-precision))
    features = []
    for i, (geom, (_, row)) in enumerate(zip(geoms, gdf[list(properties)].iterrows(), strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        props = {k: (None if _isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
        features.append(
            {"type": "Feature", "id": i, "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
        )
    return {"type": "FeatureCollection", "features": features}


def text(v: object) -> str:
    """A cell as plain text ('' for missing values); escape it before it reaches HTML."""
    return "" if _isna(v) else str(v)


def truthy(v: object) -> bool:
    """True only for a present, true value (NA/None/NaN are not true)."""
    return not _isna(v) and bool(v)


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def geojson_group(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: Callable[[dict], dict],
    style_columns: Sequence[str] = (),
    tooltip_fields: Sequence[tuple[str, str]] = (),
    tooltip: Callable[[pd.Series], str] | None = None,
    popup: Callable[[pd.Series], str] | None = None,
    show: bool = True,
    precision: int = 5,
) -> folium.FeatureGroup:
    """Polygons as one GeoJson layer inside a FeatureGroup, with as few bytes as possible.

    ``style`` receives the feature's properties (only ``style_columns`` travel for it; folium
    folds equal styles into one switch). Tooltips come from ``tooltip_fields`` (column, label):
    the values are escaped here and laid out by Leaflet, or from ``tooltip``/``popup`` callables
    that return *already escaped* HTML (use :func:`table_html`/:func:`esc`); use those only for
    layers with few features.
    """
    fg = folium.FeatureGroup(name=name, show=show)
    if gdf.empty:
        return fg
    frame = gdf.copy()
    props: list[str] = list(style_columns)
    tip_props: list[str] = []
    for i, (col, _label) in enumerate(tooltip_fields):
        key = f"t{i}"
        frame[key] = [esc(fmt(v)) for v in frame[col]]
        tip_props.append(key)
    if tooltip is not None:
        frame["_tip"] = [tooltip(r) for _, r in frame.iterrows()]
        tip_props = ["_tip"]
    if popup is not None:
        frame["_pop"] = [popup(r) for _, r in frame.iterrows()]
        props.append("_pop")
    props += tip_props
    data = compact_geojson(frame, props, precision=precision)
    tip = None
    if tooltip is not None:
        tip = folium.GeoJsonTooltip(fields=["_tip"], labels=False)
    elif tooltip_fields:
        tip = folium.GeoJsonTooltip(fields=tip_props, aliases=[esc(label) for _, label in tooltip_fields], labels=True)
    gj = folium.GeoJson(
        data,
        name=name,
        style_function=lambda f: style(f["properties"]),
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.55},
        tooltip=tip,
        popup=folium.GeoJsonPopup(fields=["_pop"], labels=False) if popup else None,
        smooth_factor=1.0,
    )
    gj.add_to(fg)
    return fg
