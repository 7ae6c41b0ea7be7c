"""Everything from data that reaches HTML is escaped."""

import folium
import geopandas as gpd
import shapely

from layers import get_spec

XSS = "<img src=x onerror=alert(1)>"


def _html(fg) -> str:
    m = folium.Map(tiles=None)
    fg.add_to(m)
    return m.get_root().render()


def test_site_name_is_escaped_in_popup_and_tooltip():
    spec = get_spec("testing_sites")
    gdf = spec.coerce(
        gpd.GeoDataFrame(
            {"id": ["S1"], "name": [XSS], "type": ["fixed"], "hours": ["24h"], "address": [XSS], "demo": [True]},
            geometry=[shapely.Point(112.5, 37.8)],
            crs="EPSG:4326",
        )
    )
    html = _html(spec.render(gdf, "zh"))
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_zone_name_is_escaped_in_geojson_properties():
    spec = get_spec("zones")
    gdf = spec.coerce(
        gpd.GeoDataFrame(
            {"id": ["Z1"], "tier": ["sealed"], "name": [XSS], "reason": ['"><script>x()</script>'], "start": ["2022-03-01"]},
            geometry=[shapely.box(112.5, 37.8, 112.6, 37.9)],
            crs="EPSG:4326",
        )
    )
    fg = spec.render(gdf, "en")
    html = _html(fg)
    assert XSS not in html and "<script>x()" not in html
    gj = next(c for c in fg._children.values() if isinstance(c, folium.GeoJson))
    props = gj.data["features"][0]["properties"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in props["_pop"]
    assert "&quot;&gt;&lt;script&gt;x()&lt;/script&gt;" in props["_pop"]


def test_every_map_layer_has_bilingual_names_and_legend():
    from layers import MAP_LAYERS

    for key in MAP_LAYERS:
        spec = get_spec(key)
        assert spec.name("zh") != spec.name("en")
        assert spec.legend, key
        for e in spec.legend:
            assert e.label("zh") and e.label("en") and e.label("zh") != e.label("en")


def test_every_map_layer_renders_the_demo_scenario_in_both_languages():
    """Real-shaped data (missing values, every category) renders without error and without personal data."""

    from data.demo import build_demo
    from layers import MAP_LAYERS

    demo = build_demo(20220328)
    names = set(demo["travellers"]["name"].head(200))
    for key in MAP_LAYERS:
        spec = get_spec(key)
        frame = spec.public_view(spec.coerce(demo[key]))
        for lang in ("zh", "en"):
            html = _html(spec.render(frame, lang))
            assert len(html) > 1000, key
            leaked = [n for n in names if n in html]
            assert leaked == [], f"{key}: traveller names in HTML: {leaked[:3]}"
