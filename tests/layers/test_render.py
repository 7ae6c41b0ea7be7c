"""Everything from data that reaches HTML is escaped."""

import json

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
    from layers._encoded import EncodedPolygons

    enc = next(c for c in fg._children.values() if isinstance(c, EncodedPolygons))
    popup_html = json.loads(enc.payload.replace("<\\/", "</"))["x"][0][3]
    assert "&lt;img src=x onerror=alert(1)&gt;" in popup_html
    assert "&quot;&gt;&lt;script&gt;x()&lt;/script&gt;" in popup_html


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


def test_template_syntax_in_data_is_never_evaluated():
    """folium's renderer parses rendered scripts again as Jinja templates; data must not run there."""
    payload = "{{ 12345 * 1000 }}{% if true %}x{% endif %}{# c #}"
    sites = get_spec("testing_sites")
    zones = get_spec("zones")
    nbh = get_spec("neighbourhoods")
    point = gpd.GeoDataFrame(
        {"id": ["S1"], "name": [payload], "type": ["fixed"], "hours": ["24h"], "address": [payload]},
        geometry=[shapely.Point(112.5, 37.8)], crs="EPSG:4326",
    )
    poly = gpd.GeoDataFrame(
        {"id": ["Z1"], "tier": ["sealed"], "name": [payload], "reason": [payload], "start": ["2022-03-01"],
         "district_adcode": ["140105"], "population": [1], "street": [payload]},
        geometry=[shapely.box(112.5, 37.8, 112.6, 37.9)], crs="EPSG:4326",
    )
    m = folium.Map(tiles=None)
    sites.render(sites.coerce(point), "zh").add_to(m)
    zones.render(zones.coerce(poly), "zh").add_to(m)
    nbh.render(nbh.coerce(poly), "en").add_to(m)
    html = m.get_root().render()
    assert "12345000" not in html
    assert "{{" not in html.split("<script>", 1)[-1].replace("{{ this", "")  # no Jinja opener survives in scripts
    assert html.count("&#123;&#123; 12345 * 1000 &#125;&#125;") >= 3


def test_encoded_rings_round_trip():
    import numpy as np

    from layers._encoded import decode_ring, encode_ring

    ring = np.array([[112.55001, 37.86002], [112.56, 37.861], [112.549, 37.8705], [-0.00001, 0.0]])
    assert np.allclose(decode_ring(encode_ring(ring)), np.round(ring, 5), atol=1e-9)


def test_hotel_markers_count_the_people_moved_in_like_the_figures():
    from geo.followup import hotel_rooms_free

    spec = get_spec("hotels")
    gdf = spec.coerce(gpd.GeoDataFrame(
        {"id": ["H1"], "name": ["甲"], "rooms_total": [100], "rooms_occupied": [50], "status": ["in_use"]},
        geometry=[shapely.Point(112.5, 37.8)], crs="EPSG:4326"))
    assert "50 / 100" in _html(spec.render(gdf, "zh"))
    moved = {"H1": 45}
    html = _html(spec.render(gdf, "zh", moved_in=moved))
    free = int(hotel_rooms_free(gdf, moved).iloc[0])
    assert free == 5 and f"{free} / 100" in html and "50 / 100" not in html
