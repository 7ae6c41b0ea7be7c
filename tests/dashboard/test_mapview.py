"""The map builder: local assets only, GCJ-02 display shift, clicks converted back."""

import geopandas as gpd
import shapely

from dashboard.mapview import build_map, display_crs, to_store_coords
from dashboard.settings import Settings
from geo.crs import wgs84_to_gcj02
from layers import get_spec

ZONE = get_spec("zones").coerce(
    gpd.GeoDataFrame(
        {"id": ["Z1"], "tier": ["sealed"], "name": ["甲"], "start": ["2022-03-01"]},
        geometry=[shapely.box(112.55, 37.85, 112.56, 37.86)],
        crs="EPSG:4326",
    )
)


def _zone_coords(m):
    import json

    from layers._encoded import EncodedPolygons, decode_ring

    for el in _walk(m):
        if isinstance(el, EncodedPolygons):
            feats = json.loads(el.payload.replace("<\\/", "</"))["x"]
            if feats and "封控区" in (feats[0][3] or ""):
                ring = decode_ring(feats[0][0][0][0])
                return ring[:, 0].min(), ring[:, 1].min()  # south-west corner
    raise AssertionError("zone layer not found")


def _walk(el):
    yield el
    for c in getattr(el, "_children", {}).values():
        yield from _walk(c)


def test_offline_map_keeps_wgs84_and_loads_nothing_remote():
    s = Settings()
    m = build_map(s, "zh", {"zones": ZONE})
    html = m.get_root().render()
    assert "https://" not in html and "http://" not in html
    x, y = _zone_coords(m)
    assert abs(x - 112.55) < 1e-9 and abs(y - 37.85) < 1e-9
    assert display_crs(s) == "wgs84"


def test_gcj02_tiles_shift_overlays_and_clicks_come_back():
    s = Settings(tile_url="https://tiles.example/{z}/{x}/{y}.png", tile_attribution="x", tile_crs="gcj02")
    m = build_map(s, "zh", {"zones": ZONE})
    x, y = _zone_coords(m)
    gx, gy = wgs84_to_gcj02([112.55], [37.85])
    # shifted by ~560 m; compared within ~3 m (5-decimal output, and the corners shift slightly differently)
    assert abs(x - gx[0]) < 3e-5 and abs(y - gy[0]) < 3e-5
    assert abs(x - 112.55) > 5e-3
    lon, lat = to_store_coords(float(gx[0]), float(gy[0]), s)
    assert abs(lon - 112.55) < 1e-8 and abs(lat - 37.85) < 1e-8
