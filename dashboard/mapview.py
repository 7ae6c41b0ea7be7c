"""Build the folium map every page shows: offline boundary basemap, layers, legend, controls.

No page builds a folium map by hand; they call :func:`build_map` and :func:`show_map`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import streamlit as st
import streamlit_folium as _sf
from branca.element import MacroElement
from folium.plugins import Draw, Fullscreen
from folium.utilities import JsCode
from jinja2 import Template

from dashboard.assets import map_scripts, streamlit_base_path, use_local_assets
from dashboard.components import registered
from dashboard.i18n import t
from dashboard.settings import Settings
from geo.crs import convert_xy, from_wgs84
from geo.labels import ZOOMS, label_groups
from layers import REGISTRY, neighbourhoods
from layers._encoded import geojson_group
from layers._render import esc, js_payload
from layers.boundaries import (
    COUNTY_STYLE,
    capitals,
    china_counties,
    city_counties,
    county_fields,
    provinces,
    render_districts,
)
from layers.derived import NEIGHBOURHOOD_FOLLOWUP, NEIGHBOURHOOD_SCREENING, SITE_QUEUE, TRAVELLER_DENSITY
from layers.spec import LegendEntry

_log = logging.getLogger(__name__)

__all__ = ["build_map", "show_map", "Legend", "display_crs", "to_store_coords", "MapPayload", "prepare_map", "show_prepared"]

_CSS = """
<style>
.rm-popup table{border-collapse:collapse;margin-top:4px;font-size:12px}
.rm-popup th{text-align:left;padding:1px 8px 1px 0;color:#555;font-weight:normal;white-space:nowrap}
.rm-popup td{padding:1px 0}
.rm-note{margin-top:4px;color:#8a6d3b;font-size:11px}
.rm-label-icon{background:transparent;border:0}
.rm-label{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;color:#1f2d3d;font-size:11px;
text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff;pointer-events:none}
.rm-label-province{font-size:13px;font-weight:600}
.rm-label-capital{font-size:11px;color:#34495e}
.rm-label-district{font-size:14px;font-weight:600;letter-spacing:1px}
.rm-label-street{font-size:12px;color:#34495e}
.rm-label-poi{font-size:11px;color:#1f4e79;transform:translate(10px,-50%)}
.rm-cluster-icon{background:transparent}
.rm-num-icon{background:transparent;border:0}
.rm-num{width:24px;height:24px;border-radius:50%;border:2px solid #fff;box-sizing:border-box;color:#fff;
font-weight:700;font-size:13px;line-height:20px;text-align:center;box-shadow:0 1px 3px rgba(0,0,0,.4)}
.rm-num.rm-num-sel{width:34px;height:34px;line-height:28px;font-size:16px;border:3px solid #d81b60;
box-shadow:0 0 0 4px rgba(216,27,96,.35),0 1px 4px rgba(0,0,0,.5)}
.rm-cluster{width:100%;height:100%;border-radius:50%;background:rgba(255,255,255,.92);border:2px solid #1f4e79;
box-sizing:border-box;display:flex;flex-direction:column;align-items:center;justify-content:center;font-size:12px;color:#1f2d3d}
.rm-cluster-bar{display:flex;width:70%;height:5px;border-radius:2px;overflow:hidden;margin-top:1px}
.rm-legend{background:rgba(255,255,255,.93);padding:8px 10px;border-radius:6px;
  box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.5 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}
.rm-legend summary{font-weight:bold;font-size:13px;cursor:pointer}
.rm-legend .rm-body{max-height:38vh;overflow:auto}
.rm-legend .rm-sec{margin-top:4px;font-weight:bold}
.rm-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;opacity:.85}
.rm-legend i.circle{border-radius:50%}
.rm-legend i.line{height:0;border-top:2px solid;opacity:1}
.rm-legend .rm-icon{display:inline-block;width:14px;margin-right:6px;text-align:center}
.leaflet-container{background:#dfe6ec}
</style>
"""


class ZoomLabels(MacroElement):
    """Place-name labels (:func:`geo.labels.label_groups`) shown at their zooms, in a pane above the
    map's colours and below its markers; text only (no box), so colours stay visible, and never
    in the way of a click. Every text is escaped here."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var map = {{ this._parent.get_name() }}, d = {{ this.payload }};
          if (!map.getPane('rm-labels')) {
            var pane = map.createPane('rm-labels'); pane.style.zIndex = 450; pane.style.pointerEvents = 'none';
          }
          var groups = d.map(function (g) {
            return {zmin: g[1], zmax: g[2], layer: L.layerGroup(g[3].map(function (r) {
              return L.marker([r[0], r[1]], {pane: 'rm-labels', interactive: false, keyboard: false, rmLabel: true,
                icon: L.divIcon({className: 'rm-label-icon', iconSize: null,
                                 html: '<span class="rm-label rm-label-' + g[0] + '">' + r[2] + '</span>'})});
            }))};
          });
          function update() {
            var z = map.getZoom();
            groups.forEach(function (g) {
              var on = z >= g.zmin && z <= g.zmax;
              if (on && !map.hasLayer(g.layer)) { g.layer.addTo(map); }
              else if (!on && map.hasLayer(g.layer)) { map.removeLayer(g.layer); }
            });
          }
          map.on('zoomend', update);
          update();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, groups):
        super().__init__()
        self._name = "ZoomLabels"
        self.payload = js_payload([[kind, lo, hi, [[la, lo_, esc(txt)] for la, lo_, txt in rows]] for kind, lo, hi, rows in groups])


class MapControls(MacroElement):
    """The zoom buttons titled in the page's language and a metric-only scale bar (Leaflet's own
    zoom control is English and its scale also shows feet and miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var map = {{ this._parent.get_name() }};
          if (map.zoomControl) { map.removeControl(map.zoomControl); }
          map.zoomControl = L.control.zoom({zoomInTitle: {{ this.zoom_in|tojson }}, zoomOutTitle: {{ this.zoom_out|tojson }}}).addTo(map);
          L.control.scale({metric: true, imperial: false}).addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str):
        super().__init__()
        self._name = "MapControls"
        self.zoom_in, self.zoom_out = t("map_zoom_in", lang), t("map_zoom_out", lang)


#: Maps narrower than this (CSS pixels: a phone) start with the layer switcher and legend folded.
NARROW_PX = 640


class Legend(MacroElement):
    """A Leaflet control with the legend. The HTML is built from escaped labels only."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}""" + _CSS + """{% endmacro %}
        {% macro script(this, kwargs) %}
        (function(){
          var legend = L.control({position: 'bottomleft'});
          legend.onAdd = function () {
            var div = L.DomUtil.create('div', 'rm-legend');
            div.innerHTML = {{ this.html|tojson }};
            if (window.innerWidth < {{ this.narrow }}) {  // a phone: the map first, the legend one tap away
              var d = div.querySelector('details');
              if (d) d.open = false;
            }
            L.DomEvent.disableClickPropagation(div);
            return div;
          };
          legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, title: str, sections: Sequence[tuple[str, Iterable[LegendEntry]]], lang: str, *, folded: bool = False
    ):
        super().__init__()
        self._name = "Legend"
        self.narrow = NARROW_PX
        opened = "" if folded else " open"
        parts = [f"<details{opened}><summary>{esc(title)}</summary><div class='rm-body'>"]
        for name, entries in sections:
            parts.append(f"<div class='rm-sec'>{esc(name)}</div>")
            for e in entries:
                if e.shape == "icon" and e.icon:
                    swatch = f"<span class='fa fa-{esc(e.icon)} rm-icon' style='color:{esc(e.color)}'></span>"
                else:
                    style = f"border-color:{esc(e.color)}" if e.shape == "line" else f"background:{esc(e.color)}"
                    swatch = f"<i class='{esc(e.shape)}' style='{style}'></i>"
                parts.append(f"<div>{swatch}{esc(e.label(lang))}</div>")
        parts.append("</div></details>")
        self.html = "".join(parts)


_DISPLAY_SPECS = {
    **REGISTRY, TRAVELLER_DENSITY.key: TRAVELLER_DENSITY, NEIGHBOURHOOD_SCREENING.key: NEIGHBOURHOOD_SCREENING,
    NEIGHBOURHOOD_FOLLOWUP.key: NEIGHBOURHOOD_FOLLOWUP, SITE_QUEUE.key: SITE_QUEUE,
}


def display_crs(settings: Settings) -> str:
    """The coordinate system the map is drawn in: GCJ-02 under Amap/Tencent tiles, else WGS-84."""
    return "gcj02" if settings.tile_url and settings.tile_crs == "gcj02" else "wgs84"


def _display(gdf: gpd.GeoDataFrame, settings: Settings) -> gpd.GeoDataFrame:
    """Shift overlays into the basemap's coordinate system (GCJ-02 tiles need GCJ-02 overlays)."""
    if display_crs(settings) == "gcj02" and not gdf.empty:
        return from_wgs84(gdf, dst="gcj02")
    return gdf


def to_display(gdf: gpd.GeoDataFrame, settings: Settings) -> gpd.GeoDataFrame:
    """``gdf`` (WGS-84) in the coordinate system the map is drawn in (for overlays a page adds)."""
    return _display(gdf, settings)


def to_store_coords(lon: float, lat: float, settings: Settings) -> tuple[float, float]:
    """A position read off the map (a click, a drawn vertex) in the store's WGS-84."""
    x, y = convert_xy([lon], [lat], src=display_crs(settings), dst="wgs84")
    return float(x[0]), float(y[0])


def _labels(settings: Settings, lang: str, counties: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], *, national: bool,
            tiled: set[str] = frozenset()):
    """The map's place-name labels: provinces with their high and medium risk areas in force
    (national view; the key figure's count), or
    districts, streets, neighbourhoods, sites and hotels (city view). Neighbourhoods drawn from
    vector tiles carry their names in the tiles; only their streets are labelled here."""
    if national:
        risk = layers.get("risk_areas")
        counts: dict[str, int] = {}
        if risk is not None and len(risk):
            code = counties.set_index("name")["adcode"].astype(str)
            rated = risk[risk["level"].isin(("high", "medium"))]  # as the key figure counts them
            per = rated["province"].map(code).value_counts()
            counts = {str(k): int(v) for k, v in per.items()}
        return label_groups(lang, provinces=_display(counties, settings), province_counts=counts,
                            capitals=_display(capitals(), settings))
    nb = layers.get("neighbourhoods")
    pts = [layers[k] for k in ("testing_sites", "hotels") if k in layers]
    return label_groups(lang, districts=_display(counties, settings), neighbourhoods=None if nb is None else _display(nb, settings),
                        points=[_display(p, settings) for p in pts], neighbourhood_names="neighbourhoods" not in tiled)


#: Each tileable layer's look (:data:`layers.tiles.TILED`): its style, what a click on it shows
#: (by language) and the zoom its names start at.
_TILE_LOOKS: dict[str, tuple[dict, Callable[[str], list[tuple[str, str]]], int]] = {
    "neighbourhoods": (neighbourhoods.STYLE, neighbourhoods.fields, ZOOMS["neighbourhood"][0]),
    "counties": (COUNTY_STYLE, county_fields, ZOOMS["county"][0]),
}


def _tile_layer(key: str, frame: gpd.GeoDataFrame, settings: Settings, lang: str, *, show: bool, name: str | None = None,
                always: bool = False):
    """``frame`` as a vector-tile layer when it is large enough (``vector_tiles_min_features``;
    ``always``: whatever its size, while tiles are on) — :mod:`layers.tiles`; None: draw it inline
    (small, tiles off, or its tiles failed to build). A tile set still being built is named all
    the same: the tile route waits for it, the page does not."""
    from layers.tiles import TILED, TileError, ensure

    limit = settings.vector_tiles_min_features
    if key not in TILED or not limit or (len(frame) < limit and not always):
        return None
    try:
        token, _ = ensure(settings.tiles_path, key, frame)
    except TileError as exc:  # the caller draws it inline (slower, still right) or, for the counties, leaves it out
        _log.warning("vector tiles for %s failed, drawn without them: %s", key, exc)
        return None
    from dashboard.vector_tiles import VectorTileLayer, tile_url

    style, fields, label_zoom = _TILE_LOOKS[key]
    return VectorTileLayer(
        tile_url(key, token), data_layer=key, name=name or _DISPLAY_SPECS[key].name(lang), show=show, max_zoom=TILED[key].max_zoom,
        style={"fill": style["fillColor"], "fill_opacity": style["fillOpacity"], "stroke": style["color"], "width": style["weight"]},
        fields=fields(lang), label_prop="name" if lang == "zh" else "name_en", label_zoom=label_zoom,
    )


def build_map(
    settings: Settings,
    lang: str,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    hidden: Iterable[str] = (),
    draw: bool = False,
    render_options: dict[str, dict] | None = None,
    national: bool = False,
    compact: bool = False,
    overlays: Iterable[folium.FeatureGroup] = (),
    overlay_legend: Iterable[tuple[str, Iterable[LegendEntry]]] = (),
) -> folium.Map:
    """A map of the configured city with the offline boundary basemap and ``layers`` in registry order.

    ``overlays``: a page's own feature groups (already in display coordinates), drawn above the
    layers and listed in the layer switcher (they must exist before the switcher is written);
    ``overlay_legend``: their legend sections (title, entries).

    ``layers`` maps a layer key to its (already as-of filtered, public) frame. On a narrow screen
    (under :data:`NARROW_PX` wide: a phone) the layer switcher and the legend start folded so the
    map stays visible; ``compact`` (phone-first pages) folds them whatever the width.
    """
    use_local_assets(streamlit_base_path())
    if national:
        counties = provinces()
        minx, miny, maxx, maxy = 73.5, 18.0, 135.0, 53.6  # mainland China
    else:
        counties = city_counties(settings.city_adcode)
        # open on the urban districts (where people, sites and zones are), the whole city one zoom-out away
        urban = counties[counties["urban"].fillna(False).astype(bool)] if "urban" in counties.columns else counties
        minx, miny, maxx, maxy = _display(urban if len(urban) else counties, settings).total_bounds
    m = folium.Map(
        location=((miny + maxy) / 2, (minx + maxx) / 2),
        zoom_start=10,
        tiles=None,
        control_scale=False,  # a metric-only one comes with MapControls
        prefer_canvas=True,
        min_zoom=4,
        maxZoom=18,  # with tiles=None the map itself needs it (MarkerCluster refuses otherwise)
        attributionControl=bool(settings.tile_url),
    )
    if settings.tile_url:
        folium.TileLayer(tiles=settings.tile_url, attr=settings.tile_attribution, name="basemap", control=False).add_to(m)
    boundary_name = t("provinces", lang) if national else t("districts", lang)
    render_districts(_display(counties, settings), lang, name=boundary_name).add_to(m)
    hidden = set(hidden)
    options = {k: dict(v) for k, v in (render_options or {}).items()}
    if national:  # every risk area visible at national zoom: a dot of a few pixels beside its shape
        options.setdefault("risk_areas", {})["national"] = True
        home = counties[counties["adcode"].astype(str) == settings.city_adcode[:2] + "0000"]
        if len(home):  # the deployment's province, outlined
            geojson_group(_display(home, settings), name=t("home_province", lang),
                          style=lambda p: {"color": "#c0392b", "weight": 3, "fillColor": "#c0392b", "fillOpacity": 0.06},
                          tooltip_fields=[("name", t("home_province", lang))]).add_to(m)
    legend_sections: list[tuple[str, Iterable[LegendEntry]]] = [
        (boundary_name, [LegendEntry("#34495e", boundary_name, boundary_name, "line")])
    ]
    if national:  # every county's outline and name, from vector tiles (2,875 of them: megabytes inline)
        county_name = t("counties_national", lang)
        county_layer = _tile_layer("counties", _display(china_counties(), settings), settings, lang, show=True, name=county_name,
                                   always=True)
        if county_layer is not None:  # tiles off or failed: the provinces alone, as before
            county_layer.add_to(m)
            legend_sections.append((county_name, [LegendEntry(COUNTY_STYLE["color"], t("counties_national", "zh"), t("counties_national", "en"),
                                                                 "line")]))
    tiled: set[str] = set()
    for key, frame in layers.items():
        spec = _DISPLAY_SPECS[key]
        if spec.render is None:
            continue
        shown = _display(frame, settings)
        layer = _tile_layer(key, shown, settings, lang, show=key not in hidden) if not options.get(key) else None
        if layer is not None:
            layer.add_to(m)
            tiled.add(key)
        else:
            spec.render(shown, lang, show=key not in hidden, **options.get(key, {})).add_to(m)
        if spec.legend:
            legend_sections.append((spec.name(lang), spec.legend))
    for fg in overlays:
        fg.add_to(m)
    legend_sections.extend(overlay_legend)
    ZoomLabels(_labels(settings, lang, counties, layers, national=national, tiled=tiled)).add_to(m)
    if draw:
        Draw(
            export=False,
            position="topleft",
            draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False},
            edit_options={"edit": True, "remove": True},
        ).add_to(m)
    MapControls(lang).add_to(m)
    Fullscreen(position="topright", title=t("map_fullscreen", lang), title_cancel=t("map_fullscreen_exit", lang)).add_to(m)
    # folded on a narrow screen (a phone) on every page, and always when ``compact``
    folium.LayerControl(collapsed=True if compact else JsCode(f"window.innerWidth < {NARROW_PX}"), position="topright").add_to(m)
    Legend(t("legend", lang), legend_sections, lang, folded=compact).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def show_map(m: folium.Map, *, key: str, height: int = 620, returned: list[str] | None = None) -> dict:
    """Show a map built on this run; a stable ``key`` keeps it from flashing on reruns.

    The same component and behaviour as ``st_folium``, through :func:`prepare_map` and
    :func:`show_prepared` like a cached map, so every map loads its scripts the same way
    (one bundle; with vector tiles, the one that holds protomaps-leaflet too).
    """
    return show_prepared(prepare_map(m), key=key, height=height, returned=returned)


@dataclass(frozen=True)
class MapPayload:
    """What streamlit-folium sends to the browser for a map, computed once.

    Built with streamlit-folium's own helpers (version pinned in requirements.txt; the browser
    tests exercise it) so a cached map costs no template rendering on reruns.
    """

    script: str
    header: str
    html: str
    map_id: str
    bounds: dict
    zoom: object
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


def prepare_map(m: folium.Map) -> MapPayload:
    """Render ``m`` once and return its payload (call inside a cached builder)."""
    m.get_root().render()
    m.render()
    html = _sf._get_html(m)
    header = _sf._get_header(m)
    script = _sf._get_map_string(m)
    (s_lat, s_lng), (n_lat, n_lng) = m.get_bounds()
    css: list[str] = []
    js: list[str] = []

    def walk(el):
        yield el
        for child in getattr(el, "_children", {}).values():
            yield from walk(child)

    for el in walk(m):
        css.extend(href for _, href in getattr(el, "default_css", []))
        js.extend(src for _, src in getattr(el, "default_js", []))
    return MapPayload(
        script=script,
        header=header,
        html=html,
        map_id=_sf.get_full_id(m),
        bounds={"_southWest": {"lat": s_lat, "lng": s_lng}, "_northEast": {"lat": n_lat, "lng": n_lng}},
        zoom=m.options.get("zoom"),
        css_links=tuple(dict.fromkeys(css)),
        js_links=tuple(map_scripts(list(dict.fromkeys(js)))),
    )


def mount_prepared(
    p: MapPayload,
    *,
    key: str,
    height: int,
    returned: list[str],
    default: dict,
    overlay: str | None = None,
    on_value: Callable[[object], None] | None = None,
) -> dict:
    """Mount a prepared map in streamlit-folium's component (the one place that calls its
    private helpers). The component's identity is the map's script and ``key``; ``overlay`` is
    script evaluated in the mounted map; ``on_value`` gets the map's new value before the page
    runs again (a Streamlit callback)."""
    hash_key = _sf.generate_js_hash(p.script, key, False)

    def _changed() -> None:
        if on_value is not None:
            on_value(st.session_state.get(hash_key, {}))

    return registered(_sf._component_func)(
        script=p.script,
        header=p.header,
        html=p.html,
        id=p.map_id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned,
        default=default,
        zoom=None,
        center=None,
        feature_group=overlay,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(p.css_links),
        js_links=list(p.js_links),
        on_change=_changed,
        wrap_longitude=False,
    ) or {}


def show_prepared(p: MapPayload, *, key: str, height: int = 620, returned: list[str] | None = None) -> dict:
    """Show a prepared map; same component and behaviour as ``st_folium`` without re-rendering."""
    returned = returned if returned is not None else []
    defaults = {"bounds": p.bounds, "zoom": p.zoom, "last_clicked": None, "last_active_drawing": None, "all_drawings": None}

    def _keep(value: object) -> None:
        st.session_state[key] = value

    return mount_prepared(
        p, key=key, height=height, returned=returned,
        default={k: v for k, v in defaults.items() if k in returned}, on_value=_keep,
    )
