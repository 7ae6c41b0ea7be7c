"""The planners' map: one prepared base map plus a light overlay that changes without a reload.

streamlit-folium rebuilds (remounts) a map only when its script changes. The base map — the
basemap, neighbourhoods, zones, hotels, testing sites and the Leaflet.draw toolbar — is built
and prepared once per store version, date and language (:func:`planning_base_map`), so typing in
the form or moving a slider reruns the page without touching the map. What changes with the
planner's input goes in the *overlay* (:func:`overlay_script`): a small script that
streamlit-folium evaluates again in the map's frame whenever its text changes (its
``feature_group`` argument), replacing the previous overlay. It draws proposals, previews and
case points, and can load a shape into the draw layer so Leaflet.draw's edit tool can change
it (each load carries a token: a feature loaded with the current token is the one being
edited, anything from an older token is stale).

The overlay's data goes through :func:`layers._render.js_payload` and every text in it is
escaped here, like every layer module does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
import streamlit as st
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from dashboard.mapview import MapPayload, build_map, mount_prepared, prepare_map
from dashboard.settings import Settings
from dashboard.ui import PageContext, read_public_layer
from geo.crs import convert_geometry
from layers._render import esc, js_payload
from layers.zones import TIERS

__all__ = ["OverlayShape", "overlay_script", "planning_base_map", "show_planning_map", "to_display", "tier_style"]


@dataclass(frozen=True)
class OverlayShape:
    """One thing drawn on the overlay: a polygon (or points) with a Leaflet style and a tooltip (plain text)."""

    geometry: BaseGeometry
    style: dict
    tooltip: str = ""


def tier_style(tier: str, *, proposal: bool = True) -> dict:
    """The zones layer's colours for a tier; proposals and previews dashed, so they read as not yet saved."""
    _, _, colour, opacity = TIERS.get(tier, ("", "", "#555", 0.2))
    style = {"color": colour, "weight": 3, "fillColor": colour, "fillOpacity": opacity}
    if proposal:
        style["dashArray"] = "8 6"
    return style


def to_display(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """A WGS-84 geometry in the basemap's coordinate system (``wgs84`` or ``gcj02``)."""
    return geom if crs == "wgs84" else convert_geometry(geom, src="wgs84", dst=crs)


def _feature_collection(geom: BaseGeometry, properties: dict | None = None) -> dict:
    """Polygon parts as separate features (Leaflet.draw edits one polygon, with its holes, at a time)."""
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty] if geom is not None else []
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": dict(properties or {}), "geometry": mapping(p)} for p in parts],
    }


_OVERLAY_JS = """
var rm_overlay = L.featureGroup();
(function (fg) {
  var d = %(payload)s;
  d.shapes.forEach(function (s) {
    var layer = L.geoJSON(s.data, {
      style: function () { return s.style; },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, s.style); },
      interactive: !!s.tip
    });
    if (s.tip) { layer.bindTooltip(s.tip, {sticky: true}); }
    fg.addLayer(layer);
  });
  if (d.clicks && !window.rm_clicks) {
    // a click on a shape with a popup (neighbourhoods) stops the map's own click event;
    // 'preclick' always reaches the map, so report every click from it
    window.rm_clicks = true;
    map_div.on('preclick', function (e) { map_div.fire('click', {latlng: e.latlng}); });
  }
  if (d.local && window.L && L.drawLocal && !window.rm_local) {
    // Leaflet.draw's texts in the page's language (read when a tool starts; button titles set here)
    window.rm_local = true;
    (function merge(dst, src) {
      Object.keys(src).forEach(function (k) {
        if (src[k] && typeof src[k] === 'object') { dst[k] = dst[k] || {}; merge(dst[k], src[k]); } else { dst[k] = src[k]; }
      });
    })(L.drawLocal, d.local.strings);
    Object.keys(d.local.titles).forEach(function (sel) {
      var a = document.querySelector(sel);
      if (a) { a.title = d.local.titles[sel]; }
    });
  }
  var bar = document.querySelector('.leaflet-draw');
  if (bar) { bar.style.display = d.draw ? '' : 'none'; }
  if (d.load && typeof drawnItems !== 'undefined' && drawnItems.clearLayers && window.rm_token !== d.load.token) {
    window.rm_token = d.load.token;
    drawnItems.clearLayers();
    L.geoJSON(d.load.data, {style: function () { return d.load.style; }}).eachLayer(function (l) { drawnItems.addLayer(l); });
    if (d.load.fit && drawnItems.getLayers().length) {
      map_div.fitBounds(drawnItems.getBounds(), {maxZoom: 16, padding: [30, 30]});
    }
    // tell the page what the draw layer holds now (streamlit-folium listens to draw events)
    map_div.fire('draw:edited', {layers: drawnItems});
  }
  if (d.view) {
    map_div.fitBounds([[d.view[1], d.view[0]], [d.view[3], d.view[2]]], {maxZoom: 16, padding: [30, 30]});
  } else if (d.fit && !d.load) {
    var b = fg.getBounds();
    if (b.isValid()) { map_div.fitBounds(b, {maxZoom: 15, padding: [30, 30]}); }
  }
})(rm_overlay);
map_div.addLayer(rm_overlay);
window.feature_group = window.feature_group || [];
window.feature_group.push(rm_overlay);
"""


#: Leaflet.draw's texts in Chinese (the parts the planning map uses), and the toolbar's button titles.
DRAW_LOCAL_ZH = {
    "strings": {
        "draw": {
            "toolbar": {
                "actions": {"title": "取消绘制", "text": "取消"},
                "finish": {"title": "完成绘制", "text": "完成"},
                "undo": {"title": "删除最后一个点", "text": "删除最后一点"},
                "buttons": {"polygon": "绘制多边形", "rectangle": "绘制矩形"},
            },
            "handlers": {
                "polygon": {"tooltip": {"start": "单击开始绘制。", "cont": "单击继续绘制。", "end": "单击第一个点闭合图形。"}},
                "polyline": {"error": "<strong>错误：</strong>边界不能交叉！",
                             "tooltip": {"start": "单击开始绘制。", "cont": "单击继续绘制。", "end": "单击最后一个点结束。"}},
                "rectangle": {"tooltip": {"start": "按住鼠标拖动绘制矩形。"}},
                "simpleshape": {"tooltip": {"end": "松开鼠标完成绘制。"}},
            },
        },
        "edit": {
            "toolbar": {
                "actions": {
                    "save": {"title": "保存修改", "text": "完成"},
                    "cancel": {"title": "取消编辑，放弃所有修改", "text": "取消"},
                    "clearAll": {"title": "清除全部图形", "text": "全部清除"},
                },
                "buttons": {"edit": "编辑图形", "editDisabled": "没有可编辑的图形", "remove": "删除图形",
                            "removeDisabled": "没有可删除的图形"},
            },
            "handlers": {
                "edit": {"tooltip": {"text": "拖动顶点修改图形。", "subtext": "点“取消”撤销修改。"}},
                "remove": {"tooltip": {"text": "单击要删除的图形。"}},
            },
        },
    },
    "titles": {
        ".leaflet-draw-draw-polygon": "绘制多边形",
        ".leaflet-draw-draw-rectangle": "绘制矩形",
        ".leaflet-draw-edit-edit": "编辑图形",
        ".leaflet-draw-edit-remove": "删除图形",
    },
}


def overlay_script(
    shapes: Sequence[OverlayShape] = (),
    *,
    crs: str = "wgs84",
    draw: bool = True,
    load: BaseGeometry | None = None,
    load_token: str | None = None,
    fit: bool = False,
    clicks: bool = False,
    lang: str = "en",
    view: BaseGeometry | None = None,
) -> str:
    """The overlay for the current state of the page (geometries WGS-84; shown in ``crs``).

    ``draw`` shows or hides the Leaflet.draw toolbar. ``load`` (with ``load_token``) replaces what
    the draw layer holds by this shape — once per token, so reruns with the same token leave the
    planner's edits alone; an empty geometry with a new token clears the draw layer. ``fit`` zooms
    to the overlay (or to the loaded shape). ``clicks``: report every click on the map, also on
    shapes that open a popup (for placing points). ``lang``: the drawing tools' texts (``zh``
    translates Leaflet.draw's English). ``view``: zoom to this shape (e.g. the zone just saved).
    """
    payload: dict[str, Any] = {"shapes": [], "draw": bool(draw), "fit": bool(fit), "clicks": bool(clicks)}
    if lang == "zh":
        payload["local"] = DRAW_LOCAL_ZH
    if view is not None and not view.is_empty:
        payload["view"] = [round(float(v), 6) for v in to_display(view, crs).bounds]
    for s in shapes:
        if s.geometry is None or s.geometry.is_empty:
            continue
        payload["shapes"].append(
            {"data": _feature_collection(to_display(s.geometry, crs)), "style": s.style, "tip": esc(s.tooltip) if s.tooltip else ""}
        )
    if load_token is not None:
        geom = load if load is not None else shapely.Polygon()
        payload["load"] = {
            "token": load_token,
            "data": _feature_collection(to_display(geom, crs) if not geom.is_empty else geom, {"rm_token": load_token}),
            "style": {"color": "#1f4e79", "weight": 3, "fillOpacity": 0.15},
            "fit": bool(fit) and not geom.is_empty,
        }
    return _OVERLAY_JS % {"payload": js_payload(payload)}


@st.cache_resource(max_entries=8, show_spinner=False)
def _base_map(_ctx: PageContext, location: str, version: float, as_of: str, when: str, lang: str, settings: Settings) -> MapPayload:
    day = pd.Timestamp(as_of)
    frames = {key: read_public_layer(_ctx, key, as_of=day) for key in ("neighbourhoods", "zones", "hotels", "testing_sites")}
    m = build_map(
        settings,
        lang,
        frames,
        draw=True,
        hidden=("hotels", "testing_sites"),
        render_options={"zones": {"as_of": day}, "testing_sites": {"when": pd.Timestamp(when).to_pydatetime()}},
    )
    return prepare_map(m)


def planning_base_map(ctx: PageContext, as_of: pd.Timestamp) -> MapPayload:
    """The base map (public layers only, so shared across users), prepared once per store
    version, date, language and hour (testing sites' open/closed). A new base map mounts a new
    map in the browser, so the hour (not the command page's 5 minutes) keeps that rare while a
    planner draws; the page puts the shape being drawn back into the new map."""
    return _base_map(
        ctx, ctx.store.location, ctx.store.version(), as_of.strftime("%Y-%m-%d"), ctx.clock(as_of, minutes=60).isoformat(),
        ctx.lang, ctx.settings,
    )


def show_planning_map(
    p: MapPayload,
    *,
    key: str,
    overlay: str,
    returned: Sequence[str] = ("all_drawings",),
    on_change: Callable[[dict], None] | None = None,
    height: int = 620,
) -> dict:
    """Show the base map with the overlay; ``returned`` names what the map sends back
    (``all_drawings``, ``last_clicked``), read once when the map mounts.

    The component's identity is the base map's script and ``key``: a new overlay is evaluated in
    the mounted map (no reload); a new base map or key mounts a new map. ``on_change`` gets the
    map's new value before the page runs again (a Streamlit callback).
    """
    returned = list(returned)

    def _changed(value: object) -> None:
        if on_change is not None:
            on_change(value or {})

    return mount_prepared(
        p, key=key, height=height, returned=returned, default={k: None for k in returned},
        overlay=overlay, on_value=_changed,
    )
