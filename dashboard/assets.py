"""Serve Leaflet, its plugins and their fonts from this machine instead of CDNs.

folium writes ``<script src=...>`` / ``<link href=...>`` tags for the URLs in each
element class's ``default_js`` / ``default_css`` lists, and streamlit-folium's
``st_folium`` collects the same lists from every element of the map (its ``walk``)
and loads them inside its component iframe. Out of the box they all point at public
CDNs, which an offline command centre cannot reach.

:func:`use_local_assets` rewrites those lists, on the classes the app uses, to
copies that ``python -m dashboard.vendor_assets`` placed under
``dashboard/static/vendor/``. Streamlit serves that folder itself at
``/app/static/vendor/...`` when ``server.enableStaticServing`` is true; the
component iframe is served from the same origin (``/component/...``), so absolute
paths work there as well as in the plain HTML of ``Map.get_root().render()``.

Leaflet's default marker icon: folium 0.20 does not set ``L.Icon.Default.imagePath``,
so streamlit-folium's rewrite of ``.../dist`` to ``.../dist/images/`` never applies.
Leaflet then detects the path from ``leaflet.css``, but in the st_folium iframe the
map script runs before the stylesheets it appends have loaded, and Leaflet falls back
to the ``<link>`` href minus ``/leaflet.css`` (``.../leaflet/dist``, no ``images/``):
the default marker's image is a 404. So right after ``leaflet.js`` the map loads
:data:`ICON_PATH_SCRIPT`, a small script written by ``dashboard.vendor_assets`` that
sets ``L.Icon.Default.imagePath`` to :data:`LEAFLET_IMAGES` relative to its own URL
(which works under any ``server.baseUrlPath``).

Limits
------
* ``branca.colormap.ColorMap``: streamlit-folium itself inserts d3 from two CDNs
  whenever a ColorMap is on the map, whatever folium's settings are. The app must
  never add a ColorMap to a map; draw legends with plain HTML instead.
* The folium classes listed in :data:`UNAVAILABLE` keep their CDN URLs because no
  local copy is vendored. The app must not use them; :func:`find_remote_assets`
  reports them, and any other element that would load a remote resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.folium import Map

__all__ = [
    "ICON_PATH_SCRIPT",
    "LEAFLET_IMAGES",
    "LOCALISED",
    "STATIC_DIR",
    "UNAVAILABLE",
    "VENDOR_DIR",
    "VENDOR_URL_PATH",
    "find_remote_assets",
    "local_asset_paths",
    "streamlit_base_path",
    "use_local_assets",
]

#: ``dashboard/static``: the folder Streamlit serves at ``/app/static``.
STATIC_DIR: Path = Path(__file__).resolve().parent / "static"
#: Where ``python -m dashboard.vendor_assets`` puts the copied files.
VENDOR_DIR: Path = STATIC_DIR / "vendor"
#: URL path of :data:`VENDOR_DIR`, without Streamlit's ``server.baseUrlPath``.
VENDOR_URL_PATH = "/app/static/vendor"

#: Leaflet's marker images, relative to VENDOR_DIR (with the trailing slash Leaflet needs).
LEAFLET_IMAGES = "leaflet/dist/images/"
#: Script (written by ``dashboard.vendor_assets``) that sets ``L.Icon.Default.imagePath``.
ICON_PATH_SCRIPT = "riskmap/leaflet-icon-path.js"

_Links = tuple[tuple[str, str], ...]

# Entry names are folium's own, so that ``add_js_link`` / ``add_css_link`` keep
# replacing the same entries. Paths are relative to VENDOR_DIR.
# One script: Leaflet, jQuery (folium's Popup needs it), the icon path, awesome-markers,
# markercluster, heat, fullscreen and draw (``dashboard.vendor_assets.BUNDLE``). streamlit-folium
# loads scripts one after another, so one file instead of eight saves seven round trips before
# the map draws. Bootstrap's script, which folium's template also lists, is vendored but not
# loaded: nothing on a folium map uses it.
_MAP_JS: _Links = (("leaflet", "riskmap/leaflet-bundle.js"),)
#: The bundle with protomaps-leaflet after it (``dashboard.vendor_assets.TILES_BUNDLE_PARTS``),
#: loaded instead of the two by the maps that draw vector tiles (:func:`map_scripts`).
TILES_BUNDLE = "riskmap/leaflet-tiles-bundle.js"
_PROTOMAPS_JS = "protomaps-leaflet/dist/protomaps-leaflet.js"
_MAP_CSS: _Links = (
    ("leaflet_css", "leaflet/dist/leaflet.css"),
    ("bootstrap_css", "bootstrap/dist/css/bootstrap.min.css"),
    ("glyphicons_css", "bootstrap3/dist/css/bootstrap-glyphicons.css"),
    ("awesome_markers_font_css", "fontawesome-free/css/all.min.css"),
    ("awesome_markers_css", "leaflet.awesome-markers/dist/leaflet.awesome-markers.css"),
    ("awesome_rotate_css", "folium/leaflet.awesome.rotate.min.css"),
)

class ProtomapsAssets(JSCSSMixin):
    """The script a vector-tile layer needs (protomaps-leaflet), loaded by the maps that draw
    one only (:class:`dashboard.vector_tiles.VectorTileLayer`): the others stay as light."""


#: The classes whose ``default_js`` / ``default_css`` :func:`use_local_assets`
#: rewrites, with ``(entry name, path under VENDOR_DIR)`` pairs for each list.
LOCALISED: dict[type[JSCSSMixin], dict[str, _Links]] = {
    Map: {"default_js": _MAP_JS, "default_css": _MAP_CSS},
    folium.plugins.Draw: {
        "default_js": (),  # in the bundle
        "default_css": (("leaflet_draw_css", "leaflet-draw/dist/leaflet.draw.css"),),
    },
    folium.plugins.MarkerCluster: {
        "default_js": (),  # in the bundle
        "default_css": (
            ("markerclustercss", "leaflet.markercluster/dist/MarkerCluster.css"),
            ("markerclusterdefaultcss", "leaflet.markercluster/dist/MarkerCluster.Default.css"),
        ),
    },
    # folium's own build of Leaflet.heat 0.2.0 (shipped in the folium wheel) carries the
    # patch for point weights that folium's HeatMap relies on; the npm 0.2.0 build lacks it.
    folium.plugins.HeatMap: {
        "default_js": (),  # in the bundle
        "default_css": (),
    },
    folium.plugins.Fullscreen: {
        "default_js": (),  # in the bundle
        "default_css": (("Control.FullScreen.css", "leaflet.fullscreen/Control.FullScreen.css"),),
    },
    ProtomapsAssets: {
        "default_js": (("protomaps_leaflet", _PROTOMAPS_JS),),
        "default_css": (),
    },
}

#: Classes that would load code from the internet and have no local copy: the app
#: must not put any of them on a map. ``branca.colormap.ColorMap`` is here because
#: streamlit-folium adds d3 from a CDN for it; the rest are folium classes whose
#: ``default_js`` / ``default_css`` stay remote.
UNAVAILABLE: tuple[type[Element], ...] = (
    branca.colormap.ColorMap,
    folium.features.RegularPolygonMarker,
    folium.features.TopoJson,
    folium.features.Vega,
    folium.plugins.AntPath,
    folium.plugins.BeautifyIcon,
    folium.plugins.BoatMarker,
    folium.plugins.DualMap,
    folium.plugins.FeatureGroupSubGroup,
    folium.plugins.Geocoder,
    folium.plugins.GeoMan,
    folium.plugins.GroupedLayerControl,
    folium.plugins.HeatMapWithTime,
    folium.plugins.LocateControl,
    folium.plugins.MeasureControl,
    folium.plugins.MiniMap,
    folium.plugins.MousePosition,
    folium.plugins.OverlappingMarkerSpiderfier,
    folium.plugins.CirclePattern,
    folium.plugins.StripePattern,
    folium.plugins.PolyLineFromEncoded,
    folium.plugins.PolygonFromEncoded,
    folium.plugins.PolyLineOffset,
    folium.plugins.PolyLineTextPath,
    folium.plugins.Realtime,
    folium.plugins.Search,
    folium.plugins.SemiCircle,
    folium.plugins.SideBySideLayers,
    folium.plugins.TagFilterButton,
    folium.plugins.Terminator,
    folium.plugins.TimeSliderChoropleth,
    folium.plugins.Timeline,
    folium.plugins.TimelineSlider,
    folium.plugins.TimestampedGeoJson,
    folium.plugins.TimestampedWmsTileLayers,
    folium.plugins.TreeLayerControl,
    folium.plugins.VectorGridProtobuf,
)


def _normalise_base_path(base_path: str) -> str:
    """Return ``base_path`` as ``""`` or ``"/seg[/seg...]"`` without a trailing slash."""
    stripped = base_path.strip().strip("/")
    return f"/{stripped}" if stripped else ""


def use_local_assets(base_path: str = "") -> None:
    """Point folium's JS/CSS links at the vendored copies served by Streamlit.

    Sets ``default_js`` and ``default_css`` on every class in :data:`LOCALISED`
    (``folium.Map``, ``Draw``, ``MarkerCluster``, ``HeatMap``, ``Fullscreen``) to
    fresh lists of ``f"{base_path}/app/static/vendor/..."`` URLs. Calling it again
    rebuilds the same lists, so it is idempotent, and it also undoes any in-place
    changes made through folium's ``add_js_link`` / ``add_css_link`` (which mutate
    the class-level lists). Call it once before building maps.

    Parameters
    ----------
    base_path : str, optional
        Streamlit's ``server.baseUrlPath``, e.g. ``"/riskmap"``; ``""`` (the
        default) when the app is served at the root. Leading and trailing
        slashes are normalised. See :func:`streamlit_base_path`.

    Notes
    -----
    This does not make a ``branca.colormap.ColorMap`` or the classes in
    :data:`UNAVAILABLE` work offline; do not use them.
    """
    prefix = _normalise_base_path(base_path) + VENDOR_URL_PATH
    for cls, lists in LOCALISED.items():
        for attr, links in lists.items():
            setattr(cls, attr, [(name, f"{prefix}/{rel}") for name, rel in links])


def map_scripts(js: Sequence[str]) -> list[str]:
    """A map's scripts as streamlit-folium loads them, one after another: where a map needs both
    Leaflet's bundle and protomaps-leaflet (a vector-tile layer), the one bundle that holds both
    (:data:`TILES_BUNDLE`), which saves a round trip and a wait before the map draws."""
    bundle = next((u for u in js if u.endswith("/" + _MAP_JS[0][1])), None)
    tiles = next((u for u in js if u.endswith("/" + _PROTOMAPS_JS)), None)
    if bundle is None or tiles is None:
        return list(js)
    merged = bundle[: -len(_MAP_JS[0][1])] + TILES_BUNDLE
    return [merged if u == bundle else u for u in js if u != tiles]


def local_asset_paths() -> list[Path]:
    """List the files that the localised ``default_js`` / ``default_css`` refer to.

    Returns
    -------
    list of pathlib.Path
        Absolute paths under :data:`VENDOR_DIR`, one per distinct referenced file,
        in a stable order. Files those stylesheets load in turn (images, fonts)
        are not included. The files exist only after ``python -m
        dashboard.vendor_assets`` has run.
    """
    seen: dict[str, None] = {}
    for lists in LOCALISED.values():
        for links in lists.values():
            for _, rel in links:
                seen.setdefault(rel, None)
    return [VENDOR_DIR / rel for rel in seen]


def streamlit_base_path() -> str:
    """Return Streamlit's ``server.baseUrlPath`` in the form :func:`use_local_assets` takes.

    Returns
    -------
    str
        ``""`` when no base URL path is configured, else ``"/path"``.
    """
    import streamlit as st

    return _normalise_base_path(str(st.get_option("server.baseUrlPath") or ""))


def _walk(element: Element) -> Iterator[Element]:
    """Yield ``element`` and all its descendants, DualMap halves included."""
    yield element
    if isinstance(element, folium.plugins.DualMap):
        yield from _walk(element.m1)
        yield from _walk(element.m2)
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def find_remote_assets(element: Element) -> list[str]:
    """Describe everything on a map that would make the browser load a remote resource.

    Walks ``element`` and its descendants as streamlit-folium's ``st_folium`` does.

    Parameters
    ----------
    element : branca.element.Element
        Usually a ``folium.Map``.

    Returns
    -------
    list of str
        One line per problem: an element whose class is in :data:`UNAVAILABLE`,
        or a ``default_js`` / ``default_css`` URL that is not a local path
        (anything with a scheme or starting with ``//``). Empty when the map is
        fully offline, as far as its JS/CSS links go.
    """
    problems: list[str] = []
    for elem in _walk(element):
        name = f"{type(elem).__module__}.{type(elem).__qualname__}"
        if isinstance(elem, UNAVAILABLE):
            problems.append(f"{name}: not available offline (see dashboard.assets.UNAVAILABLE)")
        if isinstance(elem, JSCSSMixin):
            for attr in ("default_js", "default_css"):
                for _, url in getattr(elem, attr, []):
                    if "://" in url or url.startswith("//"):
                        problems.append(f"{name}.{attr}: {url}")
    return problems
