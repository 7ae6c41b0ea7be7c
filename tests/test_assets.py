"""The map loads Leaflet, its plugins and their fonts from the app's own static folder.

These tests need the built vendor folder (``make assets``: ``npm ci`` then
``python -m dashboard.vendor_assets``); they fail, not skip, without it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import pytest
from branca.element import Element
from folium.elements import JSCSSMixin

from dashboard import vendor_assets
from dashboard.assets import (
    ICON_PATH_SCRIPT,
    LEAFLET_IMAGES,
    LOCALISED,
    UNAVAILABLE,
    VENDOR_DIR,
    VENDOR_URL_PATH,
    find_remote_assets,
    local_asset_paths,
    use_local_assets,
)

PREFIX = VENDOR_URL_PATH + "/"
BUILD_HINT = (
    "dashboard/static/vendor has not been built: run make assets "
    "(npm ci --no-audit --no-fund && .venv/bin/python -m dashboard.vendor_assets)"
)

# URLs that may appear in the rendered map HTML although they are not fetched.
# Empty on purpose: with tiles=None folium 0.20 writes no http(s) URL at all (Leaflet's
# own attribution prefix is added at run time by leaflet.js, not written into the HTML).
ALLOWED_URLS_IN_HTML: frozenset[str] = frozenset()


@pytest.fixture(scope="module", autouse=True)
def vendor_built() -> None:
    """Fail every test in this module with a clear message when the assets are missing."""
    if not (VENDOR_DIR / vendor_assets.MANIFEST_NAME).is_file():
        pytest.fail(BUILD_HINT, pytrace=False)


@pytest.fixture(autouse=True)
def local_assets() -> Iterator[None]:
    """Localise before each test and again after, whatever the test changed."""
    use_local_assets()
    yield
    use_local_assets()


def build_map() -> folium.Map:
    """A map with every element kind the dashboard uses."""
    # maxZoom: without tiles the map has none, and MarkerCluster throws "Map has no maxZoom specified".
    m = folium.Map(location=[37.87, 112.55], zoom_start=11, tiles=None, maxZoom=18)
    folium.plugins.Draw(export=False).add_to(m)
    cluster = folium.plugins.MarkerCluster(name="cases").add_to(m)
    folium.Marker(
        [37.87, 112.55], icon=folium.Icon(icon="virus", prefix="fa", color="red", angle=45), tooltip="a"
    ).add_to(cluster)
    folium.Marker([37.88, 112.56], icon=folium.Icon(icon="info-sign")).add_to(cluster)
    folium.Marker([37.86, 112.57]).add_to(cluster)  # Leaflet's default icon
    folium.plugins.HeatMap([[37.87, 112.55, 0.5], [37.86, 112.54, 1.0]], name="heat").add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "A"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[112.5, 37.8], [112.6, 37.8], [112.6, 37.9], [112.5, 37.8]]],
                    },
                }
            ],
        },
        name="areas",
        tooltip=folium.GeoJsonTooltip(["name"]),
    ).add_to(m)
    from dashboard.vector_tiles import VectorTileLayer

    VectorTileLayer("/tiles/neighbourhoods/0/{z}/{x}/{y}.mvt", data_layer="neighbourhoods", name="tiled", style={},
                    fields=[("name", "name")], max_zoom=14).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def walk(fig: Element) -> Iterator[Element]:
    """Yield the elements streamlit-folium's ``st_folium`` collects links from (its ``walk``)."""
    if isinstance(fig, branca.colormap.ColorMap):
        yield fig
    if isinstance(fig, folium.plugins.DualMap):
        yield from walk(fig.m1)
        yield from walk(fig.m2)
    if isinstance(fig, JSCSSMixin):
        yield fig
    for child in getattr(fig, "_children", {}).values():
        yield from walk(child)


def links_of(m: folium.Map) -> list[str]:
    """All default_js / default_css URLs st_folium would load for ``m``."""
    urls: list[str] = []
    for elem in walk(m):
        assert not isinstance(elem, branca.colormap.ColorMap), "a ColorMap makes st_folium load d3 from a CDN"
        urls += [url for _, url in getattr(elem, "default_js", [])]
        urls += [url for _, url in getattr(elem, "default_css", [])]
    return list(dict.fromkeys(urls))


def local_file(url: str) -> Path:
    """The file under VENDOR_DIR that a ``/app/static/vendor/...`` URL names."""
    assert url.startswith(PREFIX), f"not a local vendor URL: {url}"
    return VENDOR_DIR / url[len(PREFIX) :]


def test_st_folium_links_are_local_files() -> None:
    urls = links_of(build_map())
    assert {local_file(url) for url in urls} == set(local_asset_paths())  # the map uses every localised class
    for url in urls:
        assert local_file(url).is_file(), f"{url} is not built; {BUILD_HINT}"


def test_rendered_html_loads_only_local_files() -> None:
    html = build_map().get_root().render()
    loaded = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", html)
    loaded += re.findall(r"<link[^>]*\bhref=[\"']([^\"']+)", html)
    loaded += [m.strip("'\" ") for m in re.findall(r"url\(([^)]*)\)", html)]
    assert {local_file(url) for url in loaded} == set(local_asset_paths())
    for url in loaded:
        assert local_file(url).is_file()
    remote = set(re.findall(r"https?://[^\s\"'<>)]*", html)) - ALLOWED_URLS_IN_HTML
    assert not remote, f"remote URLs in the rendered map: {sorted(remote)}"
    assert "L.Icon.Default.imagePath" not in html  # Leaflet finds its icons through leaflet.css


def test_streamlit_folium_header_has_no_remote_urls() -> None:
    from streamlit_folium import _get_header

    assert not re.search(r"https?://", _get_header(build_map()))


def test_maps_with_vector_tiles_load_one_bundle_with_protomaps_after_leaflet() -> None:
    from dashboard.assets import TILES_BUNDLE, map_scripts

    assert vendor_assets.TILES_BUNDLE_PARTS[: len(vendor_assets.BUNDLE_PARTS)] == vendor_assets.BUNDLE_PARTS
    assert vendor_assets.TILES_BUNDLE_PARTS[-1] == "protomaps-leaflet/dist/protomaps-leaflet.js"
    text = (VENDOR_DIR / TILES_BUNDLE).read_text("utf-8")
    order = [text.find(f"/* ---- {rel} ---- */") for rel in vendor_assets.TILES_BUNDLE_PARTS]
    assert all(i >= 0 for i in order) and order == sorted(order), order
    assert text.startswith((VENDOR_DIR / vendor_assets.BUNDLE).read_text("utf-8"))  # the bundle, then protomaps-leaflet
    base = "/riskmap/app/static/vendor/"
    both = [base + vendor_assets.BUNDLE, base + "protomaps-leaflet/dist/protomaps-leaflet.js", "/other.js"]
    assert map_scripts(both) == [base + TILES_BUNDLE, "/other.js"]
    assert map_scripts(both[:1] + both[2:]) == both[:1] + both[2:]  # no tiles: the lighter bundle, as before


def test_default_marker_icon_path_is_set_right_after_leaflet() -> None:
    # one bundle: Leaflet first, then the icon-path script, then the plugins
    assert [name for name, _ in folium.Map.default_js] == ["leaflet"]
    bundle = local_file(dict(folium.Map.default_js)["leaflet"]).read_text("utf-8")
    order = [bundle.find(f"/* ---- {rel} ---- */") for rel in vendor_assets.BUNDLE_PARTS]
    assert all(i >= 0 for i in order) and order == sorted(order), order
    assert vendor_assets.BUNDLE_PARTS[0] == "leaflet/dist/leaflet.js"
    assert ICON_PATH_SCRIPT in vendor_assets.BUNDLE_PARTS and "jquery/dist/jquery.min.js" in vendor_assets.BUNDLE_PARTS
    script = VENDOR_DIR / ICON_PATH_SCRIPT
    rel = re.search(
        r'L\.Icon\.Default\.imagePath = new URL\("([^"]+)", script\.src\)', script.read_text("utf-8")
    )
    assert rel is not None, script
    images = (script.parent / rel.group(1)).resolve()
    assert rel.group(1).endswith("/") and images == (VENDOR_DIR / LEAFLET_IMAGES).resolve()
    assert (images / "marker-icon.png").is_file()


def test_default_marker_icon_resolves_locally() -> None:
    css = (VENDOR_DIR / "leaflet/dist/leaflet.css").read_text(encoding="utf-8")
    rule = re.search(r"\.leaflet-default-icon-path\s*\{[^}]*url\(([^)]+)\)", css)
    assert rule is not None
    assert (VENDOR_DIR / "leaflet/dist" / rule.group(1).strip("'\"")).is_file()
    for name in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        assert (VENDOR_DIR / "leaflet/dist/images" / name).is_file()


def test_local_asset_paths_exist() -> None:
    paths = local_asset_paths()
    assert len(paths) == len(set(paths)) == 12  # the bundle, protomaps-leaflet (tiled maps only) + 10 stylesheets
    missing = [str(p) for p in paths if not p.is_file()]
    assert not missing, f"{missing}: {BUILD_HINT}"


def test_copied_css_loads_nothing_remote() -> None:
    css_files = sorted(VENDOR_DIR.rglob("*.css"))
    assert len(css_files) == 10
    for css_file in css_files:
        text = css_file.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", text, re.IGNORECASE), css_file
        assert "@import" not in text, css_file
        for ref in vendor_assets.css_references(css_file):
            assert ":" not in ref and not ref.startswith("//"), f"{css_file}: {ref}"
            target = (css_file.parent / re.split(r"[?#]", ref)[0]).resolve()
            assert target.is_file() and target.is_relative_to(VENDOR_DIR.resolve()), f"{css_file}: {ref}"


def test_glyphicons_css_is_a_subset() -> None:
    css = (VENDOR_DIR / "bootstrap3/dist/css/bootstrap-glyphicons.css").read_text(encoding="utf-8")
    assert css.count("@font-face") == 1 and '"Glyphicons Halflings"' in css
    assert ".glyphicon-info-sign:before" in css  # folium.Icon's default icon
    assert ".btn" not in css and "body" not in css


def test_manifest_matches_files() -> None:
    manifest = json.loads((VENDOR_DIR / vendor_assets.MANIFEST_NAME).read_text(encoding="utf-8"))
    on_disk = {
        p.relative_to(VENDOR_DIR).as_posix()
        for p in VENDOR_DIR.rglob("*")
        if p.is_file() and p.name != vendor_assets.MANIFEST_NAME
    }
    assert set(manifest["files"]) == on_disk
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((VENDOR_DIR / rel).read_bytes()).hexdigest() == digest, rel
    assert manifest["sources"]["leaflet"] == "npm leaflet@1.9.4"
    for pkg in vendor_assets.NPM_PACKAGES:
        licenses = [r for r in on_disk if r.startswith(pkg.vendor_name + "/") and "LICEN" in r.upper()]
        assert licenses, f"no license copied for {pkg.npm_name}"


def test_use_local_assets_is_idempotent_and_takes_base_path() -> None:
    first = {cls: (list(cls.default_js), list(cls.default_css)) for cls in LOCALISED}
    folium.Map(tiles=None).add_js_link(
        "leaflet", "https://example.invalid/leaflet.js"
    )  # mutates the class list
    assert folium.Map.default_js != first[folium.Map][0]
    use_local_assets()
    use_local_assets()
    assert {cls: (cls.default_js, cls.default_css) for cls in LOCALISED} == first

    use_local_assets("riskmap/")
    urls = links_of(build_map())
    assert urls and all(u.startswith("/riskmap/app/static/vendor/") for u in urls)
    use_local_assets("")
    assert all(u.startswith(PREFIX) for u in links_of(build_map()))


def _public_folium_classes() -> set[type]:
    """Every public class defined in folium and folium.plugins."""
    names = [f"folium.{m.name}" for m in pkgutil.iter_modules(folium.__path__)]
    names += [f"folium.plugins.{m.name}" for m in pkgutil.iter_modules(folium.plugins.__path__)]
    found: set[type] = set()
    for module in [folium, *map(importlib.import_module, names)]:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__.startswith("folium") and not name.startswith("_"):
                found.add(cls)
    return found


def test_every_remote_folium_class_is_localised_or_unavailable() -> None:
    checked = 0
    for cls in _public_folium_classes():
        urls = [url for _, url in [*getattr(cls, "default_js", []), *getattr(cls, "default_css", [])]]
        remote = [u for u in urls if "://" in u or u.startswith("//")]
        if cls in LOCALISED:
            checked += 1
            # plugins' scripts live in the map's bundle; each still needs its CSS or the bundle
            assert (urls or cls is folium.plugins.HeatMap) and not remote, f"{cls.__qualname__}: {remote}"
        elif remote:
            assert cls in UNAVAILABLE, (
                f"{cls.__module__}.{cls.__qualname__} loads {remote}: localise it or list it"
            )
    assert checked == len([c for c in LOCALISED if c.__module__.startswith("folium")])  # the rest are our own


def test_find_remote_assets() -> None:
    m = build_map()
    assert find_remote_assets(m) == []
    folium.plugins.MiniMap().add_to(m)
    branca.colormap.LinearColormap(["green", "red"]).add_to(m)
    problems = find_remote_assets(m)
    assert any("MiniMap: not available offline" in p for p in problems)
    assert any("ColorMap" in p or "LinearColormap" in p for p in problems)


def test_vendor_script_explains_missing_node_modules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        vendor_assets.main(["--node-modules", str(tmp_path / "node_modules"), "--dest", str(tmp_path / "v")])
        == 1
    )
    err = capsys.readouterr().err
    assert "node_modules does not exist" in err and "npm ci" in err
    assert not (tmp_path / "v").exists()


def test_vendor_script_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    node_modules = tmp_path / "node_modules"
    pins = vendor_assets._pinned_versions(vendor_assets.PACKAGE_JSON)
    for pkg in vendor_assets.NPM_PACKAGES:
        real, version = pins[pkg.npm_name]
        (node_modules / pkg.npm_name).mkdir(parents=True)
        (node_modules / pkg.npm_name / "package.json").write_text(
            json.dumps({"name": real, "version": version}), encoding="utf-8"
        )
    assert vendor_assets.main(["--node-modules", str(node_modules), "--dest", str(tmp_path / "v")]) == 1
    err = capsys.readouterr().err
    assert f"missing {node_modules / 'leaflet/dist/leaflet.js'}" in err and "npm ci" in err
    assert not (tmp_path / "v").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["node_modules"]  # no staging folder left behind
