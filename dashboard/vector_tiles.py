"""Vector tiles on the map: the layer element the map draws them with, and the server route that
serves them (the tiles themselves: :mod:`layers.tiles`).

The route answers ``tiles/<layer>/<token>/<z>/<x>/<y>.mvt`` from the archive of that tile set,
gzip-encoded as stored (for a set still being built, once it is done), and an empty tile where
the set has none (the drawing library reads an
empty body as a tile without features). A token that names no archive — an unknown one, or an
older set already replaced — answers 404: a map never gets tiles other than the ones built from
the figures its page read. Tiles are public data (the neighbourhood and county outlines any
visitor sees); the route needs no session, and serves no other layer.
"""

from __future__ import annotations

import json

from folium.map import Layer
from jinja2 import Template

from dashboard.assets import ProtomapsAssets, streamlit_base_path

__all__ = ["VectorTileLayer", "tile_endpoint", "tile_url"]

_MVT = "application/vnd.mapbox-vector-tile"


def tile_url(key: str, token: str) -> str:
    """The URL template of a tile set, under Streamlit's ``server.baseUrlPath``."""
    return f"{streamlit_base_path()}/tiles/{key}/{token}/{{z}}/{{x}}/{{y}}.mvt"


class VectorTileLayer(ProtomapsAssets, Layer):
    """A tiled polygon layer drawn by protomaps-leaflet (canvas), listed in the layer switcher.

    ``style``: ``fill``, ``fill_opacity``, ``stroke``, ``width``. A click shows the clicked
    feature's ``fields`` (``(property, label)`` pairs) as text — the tiles are drawn, not
    interactive, so the click asks the layer which feature is under it. From ``label_zoom`` on,
    each feature's ``label_prop`` (the tiles' ``<layer>_labels`` points) is written on the map
    in the page's fonts (none is fetched).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {  // above the district fill (overlay pane), below markers and labels' pane
            if (map.getPane("rm-vector-tiles")) return;
            var pane = map.createPane("rm-vector-tiles");
            pane.style.zIndex = 410;
            pane.style.pointerEvents = "none";
        })({{ this._parent.get_name() }});
        var {{ this.get_name() }} = protomapsL.leafletLayer({
            pane: "rm-vector-tiles",
            url: {{ this.url|tojson }},
            maxDataZoom: {{ this.max_zoom }},
            attribution: "",
            paintRules: [
                {dataLayer: {{ this.data_layer|tojson }},
                 symbolizer: new protomapsL.PolygonSymbolizer({fill: {{ this.style.fill|tojson }},
                                                              opacity: {{ this.style.fill_opacity }}})},
                {dataLayer: {{ this.data_layer|tojson }},
                 symbolizer: new protomapsL.LineSymbolizer({color: {{ this.style.stroke|tojson }},
                                                           width: {{ this.style.width }}})}
            ],
            labelRules: [
                {dataLayer: {{ (this.data_layer ~ "_labels")|tojson }}, minzoom: {{ this.label_zoom }},
                 symbolizer: new protomapsL.CenteredTextSymbolizer({
                     labelProps: [{{ this.label_prop|tojson }}], fill: "#2c3e50", stroke: "#ffffff", width: 1.5,
                     font: "12px 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"})}
            ]
        });
        (function (layer, map, fields) {
            map.on("click", function (e) {
                if (!map.hasLayer(layer) || !layer.queryTileFeaturesDebug) return;
                var found = null;
                layer.queryTileFeaturesDebug(e.latlng.lng, e.latlng.lat).forEach(function (list) {
                    list.forEach(function (p) { if (!found && p.feature) found = p.feature; });
                });
                if (!found) return;
                var box = document.createElement("div");
                fields.forEach(function (f) {
                    var v = found.props[f[0]];
                    if (v === undefined || v === null || v === "") return;
                    var line = document.createElement("div");
                    var b = document.createElement("b");
                    b.textContent = f[1] + "：";
                    line.appendChild(b);
                    line.appendChild(document.createTextNode(String(v)));
                    box.appendChild(line);
                });
                L.popup().setLatLng(e.latlng).setContent(box).openOn(map);
            });
        })({{ this.get_name() }}, {{ this._parent.get_name() }}, {{ this.fields_json }});
        {% endmacro %}
        """
    )

    def __init__(
        self, url: str, *, data_layer: str, name: str, style: dict, fields: list[tuple[str, str]], max_zoom: int,
        label_prop: str = "name", label_zoom: int = 15, show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VectorTileLayer"
        self.url = url
        self.data_layer = data_layer
        self.style = {"fill": "#ffffff", "fill_opacity": 0.05, "stroke": "#6b7c93", "width": 0.7} | dict(style)
        self.fields_json = json.dumps([list(f) for f in fields], ensure_ascii=False)
        self.max_zoom = int(max_zoom)
        self.label_prop = label_prop
        self.label_zoom = int(label_zoom)


def tile_endpoint(request):  # noqa: ANN001, ANN201 - a starlette route
    """``tiles/<layer>/<token>/<z>/<x>/<y>.mvt`` (see the module docstring)."""
    from starlette.responses import Response

    from dashboard.settings import load_settings
    from layers.tiles import MAX_ZOOM, await_build, read_tile, tile_path

    p = request.path_params
    try:
        z, x, y = int(p["z"]), int(p["x"]), int(p["y"])
    except (KeyError, ValueError):
        return Response("not a tile", status_code=404)
    path = tile_path(load_settings().tiles_path, str(p.get("key", "")), str(p.get("token", "")))
    if path is None or not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        return Response("no such tile set", status_code=404)
    if not path.is_file() and not await_build(path):  # a set still being built: answered when done
        return Response("no such tile set", status_code=404)
    data = read_tile(path, z, x, y)
    headers = {"Cache-Control": "public, max-age=86400, immutable"}  # a token names fixed contents
    if data is None:
        return Response(b"", media_type=_MVT, headers=headers)
    return Response(data, media_type=_MVT, headers=headers | {"Content-Encoding": "gzip"})
