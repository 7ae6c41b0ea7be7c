"""Polygons sent as encoded polylines (the delta + varint text encoding used by web maps).

A vertex costs about 6 bytes instead of about 22 as GeoJSON text; the browser decodes each
ring with a dozen lines of JavaScript. Properties travel as one array per feature, styles as a
small table, and every text is escaped before it leaves the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from layers._render import esc, fmt, js_payload

__all__ = ["encode_ring", "decode_ring", "encode_geometry", "EncodedPolygons", "geojson_group"]


def _encode_values(deltas: np.ndarray) -> str:
    out: list[str] = []
    for v in deltas.tolist():
        v = ~(v << 1) if v < 0 else v << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def encode_ring(coords: np.ndarray, *, precision: int = 5) -> str:
    """Encode an (n, 2) lon/lat ring as text: (lat, lon) pairs, rounded, delta-coded."""
    scaled = np.round(np.asarray(coords, dtype=float)[:, ::-1] * 10**precision).astype(np.int64)
    if len(scaled) == 0:
        return ""
    deltas = np.diff(scaled, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return _encode_values(deltas.reshape(-1))


def decode_ring(text: str, *, precision: int = 5) -> np.ndarray:
    """Inverse of :func:`encode_ring` (for tests): an (n, 2) lon/lat array."""
    values: list[int] = []
    shift = result = 0
    for ch in text:
        b = ord(ch) - 63
        result |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift = result = 0
    latlon = np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / 10**precision
    return latlon[:, ::-1]


def encode_geometry(geom, *, precision: int = 5) -> list[list[str]]:
    """A (Multi)Polygon as a list of polygons, each a list of encoded rings (shell first).

    Rings lose their closing vertex (Leaflet closes polygons itself); repeated vertices after
    rounding are dropped.
    """
    if geom is None or shapely.is_empty(geom):
        return []
    parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for poly in parts:
        if poly.geom_type != "Polygon":
            continue
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:-1]
            q = np.round(xy * 10**precision)
            keep = np.ones(len(q), dtype=bool)
            keep[1:] = np.any(q[1:] != q[:-1], axis=1)
            xy = xy[keep]
            if len(xy) >= 3:
                rings.append(encode_ring(xy, precision=precision))
        if rings:
            out.append(rings)
    return out


class EncodedPolygons(MacroElement):
    """Polygons added to the parent layer from encoded rings.

    ``features``: list of ``(encoded_geometry, style_index, tooltip_values, popup_html)`` where
    tooltip values and popup HTML are already escaped. ``styles``: Leaflet path options.
    ``tooltip_labels``: escaped labels for a table tooltip, or empty for a single-value tooltip.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var d = {{ this.payload }};
          function dec(s) {
            var pts = [], i = 0, lat = 0, lng = 0;
            while (i < s.length) {
              var r = 0, sh = 0, b;
              do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
              lat += (r & 1) ? ~(r >> 1) : (r >> 1);
              r = 0; sh = 0;
              do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
              lng += (r & 1) ? ~(r >> 1) : (r >> 1);
              pts.push([lat / d.f, lng / d.f]);
            }
            return pts;
          }
          var layer = {{ this._parent.get_name() }};
          d.x.forEach(function(f){
            var style = d.s[f[1]];
            var poly = L.polygon(f[0].map(function(p){ return p.map(dec); }), style);
            var t = f[2];
            if (t && t.length) {
              var html = d.l.length ? '<table>' + t.map(function(v, i){
                  return '<tr><th>' + d.l[i] + '</th><td>' + v + '</td></tr>'; }).join('') + '</table>' : t[0];
              poly.bindTooltip(html, {sticky: true});
            }
            if (f[3]) { poly.bindPopup(f[3], {maxWidth: 340}); }
            poly.on('mouseover', function(){ this.setStyle({weight: (style.weight || 1) + 2, fillOpacity: Math.min((style.fillOpacity || 0.2) + 0.25, 0.9)}); });
            poly.on('mouseout', function(){ this.setStyle(style); });
            layer.addLayer(poly);
          });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: Sequence[tuple[list, int, Sequence[str], str | None]],
        *,
        styles: Sequence[dict],
        tooltip_labels: Sequence[str] = (),
        precision: int = 5,
    ):
        super().__init__()
        self._name = "EncodedPolygons"
        self.payload = js_payload(
            {
                "f": 10**precision,
                "s": list(styles),
                "l": list(tooltip_labels),
                "x": [[g, i, list(t), p] for g, i, t, p in features],
            }
        )


def geojson_group(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: Callable[[dict], dict],
    tooltip_fields: Sequence[tuple[str, str]] = (),
    tooltip: Callable[[pd.Series], str] | None = None,
    popup: Callable[[pd.Series], str] | None = None,
    show: bool = True,
    precision: int = 5,
) -> folium.FeatureGroup:
    """Polygons in a FeatureGroup, sent as compactly as possible (see ``layers._encoded``).

    ``style`` receives the row's values as a dict (equal styles are sent once). Tooltips come from ``tooltip_fields`` (column, label), escaped
    here and laid out as a table in the browser, or from ``tooltip``/``popup`` callables that
    return *already escaped* HTML (build it with :func:`table_html`/:func:`esc`).
    """
    fg = folium.FeatureGroup(name=name, show=show)
    if gdf.empty:
        return fg
    styles: list[dict] = []
    style_index: dict[str, int] = {}
    features = []
    for (_, r), geom in zip(gdf.iterrows(), gdf.geometry, strict=True):
        enc = encode_geometry(geom, precision=precision)
        if not enc:
            continue
        st = style(r.to_dict())
        key = json.dumps(st, sort_keys=True)
        if key not in style_index:
            style_index[key] = len(styles)
            styles.append(st)
        tip = [tooltip(r)] if tooltip is not None else [esc(fmt(r[col])) for col, _ in tooltip_fields]
        features.append((enc, style_index[key], tip, popup(r) if popup is not None else None))
    labels = [] if tooltip is not None else [esc(label) for _, label in tooltip_fields]
    EncodedPolygons(features, styles=styles, tooltip_labels=labels, precision=precision).add_to(fg)
    return fg
