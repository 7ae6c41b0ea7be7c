"""The store interface, on every backend (``store_location`` / ``new_store`` in conftest.py):
round trip and types, as-of and bounding-box reads, public reads, atomic writes, optimistic
concurrency and the version."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.errors import StaleWrite
from layers import REGISTRY, get_spec
from layers.store import is_url, open_store, write_new_store_at
from layers.store.gpkg import GpkgStore, StoreMissing


def _zones():
    return gpd.GeoDataFrame(
        {
            "id": ["Z1", "Z2"],
            "tier": ["sealed", "controlled"],
            "name": ["甲", "乙"],
            "reason": ["病例", None],
            "start": ["2022-03-20", "2022-03-25"],
            "planned_end": ["2022-04-03", None],
            "lifted": [None, "2022-03-28"],
            "district_adcode": ["140105", "140105"],
            "demo": [True, True],
        },
        geometry=[shapely.box(112.5, 37.8, 112.51, 37.81), shapely.box(112.49, 37.79, 112.52, 37.82)],
        crs="EPSG:4326",
    )


def _travellers():
    return gpd.GeoDataFrame(
        {"id": ["T1"], "name": ["张三"], "phone": ["13800001234"], "arrival_date": ["2022-03-27"], "demo": [True]},
        geometry=[shapely.Point(112.55, 37.86)],
        crs="EPSG:4326",
    )


def _sites():
    return gpd.GeoDataFrame(
        {
            "id": ["S1", "S2", "S3"],
            "name": ["一号点", "二号点", "三号点"],
            "type": ["fixed", "fixed", "mobile"],
            "capacity_per_hour": [120, None, 60],
            "free": [True, False, None],
        },
        geometry=[shapely.Point(112.50, 37.80), shapely.Point(112.60, 37.90), shapely.Point(113.5, 38.5)],
        crs="EPSG:4326",
    )


def _snapshot(store) -> tuple:
    """Everything a reader can see of a store, to show that a failed write changed nothing."""
    present = store.layers()
    frames = {k: store.read(k).to_wkt() if get_spec(k).geometry else store.read(k) for k in present if k in REGISTRY}
    raw = None if is_url(store.location) else Path(store.location).read_bytes()  # a GeoPackage: byte for byte
    return store.version(), present, store.meta(), {k: f.to_dict("list") for k, f in frames.items()}, raw


def _leftovers(location: str) -> list[str]:
    """Files beside a GeoPackage store other than the store and its lock (none for PostGIS)."""
    if is_url(location):
        return []
    p = Path(location)
    return sorted(f.name for f in p.parent.iterdir() if f.name not in (p.name, p.name + ".lock"))


def test_round_trip_types_and_values(new_store):
    store = new_store({"zones": _zones(), "travellers": _travellers(), "testing_sites": _sites()}, meta={"demo": "true"})
    z = store.read("zones")
    assert list(z["id"]) == ["Z1", "Z2"]
    assert z["start"].iloc[0] == pd.Timestamp("2022-03-20")
    assert pd.isna(z["lifted"].iloc[0]) and z["lifted"].iloc[1] == pd.Timestamp("2022-03-28")
    assert str(z["start"].dtype).startswith("datetime64") and str(z["demo"].dtype) == "boolean"
    assert str(z["id"].dtype) == "string" and str(z["version"].dtype) == "Int64"
    assert z.crs.to_epsg() == 4326
    assert shapely.equals_exact(z.geometry.iloc[0], _zones().geometry.iloc[0], tolerance=1e-12)
    s = store.read("testing_sites")
    assert list(s["capacity_per_hour"].astype("object").where(s["capacity_per_hour"].notna(), None)) == [120, None, 60]
    assert list(s["free"].astype("object").where(s["free"].notna(), None)) == [True, False, None]
    t = store.read("travellers")
    assert (t["name"].iloc[0], t["phone"].iloc[0]) == ("张三", "13800001234")
    assert store.meta() == {"demo": "true"}
    assert store.count("zones") == 2 and store.count("hotels") == 0
    assert store.read("hotels").empty  # absent layer reads as an empty, typed frame
    assert list(store.read("hotels").columns) == [*get_spec("hotels").column_names, "geometry"]
    assert set(store.layers()) >= {"zones", "zone_history", "travellers", "testing_sites", "riskmap_meta"}


def test_as_of_filters_by_start_and_lifted(new_store):
    store = new_store({"zones": _zones()})
    assert list(store.read("zones", as_of="2022-03-19")["id"]) == []
    assert list(store.read("zones", as_of="2022-03-25")["id"]) == ["Z1", "Z2"]
    # lifted on 2022-03-28: no longer in force that day
    assert list(store.read("zones", as_of="2022-03-28")["id"]) == ["Z1"]
    assert list(store.read("zones", as_of=pd.Timestamp("2022-04-10"))["id"]) == ["Z1"]


def test_bbox_reads_only_what_intersects(new_store):
    store = new_store({"zones": _zones(), "testing_sites": _sites()})
    assert list(store.read("testing_sites", bbox=(112.45, 37.75, 112.65, 37.95))["id"]) == ["S1", "S2"]
    assert list(store.read("testing_sites", bbox=(113.0, 38.0, 114.0, 39.0))["id"]) == ["S3"]
    assert store.read("testing_sites", bbox=(100.0, 30.0, 100.1, 30.1)).empty
    # Z2 covers the point, Z1 does not
    assert list(store.read("zones", bbox=(112.515, 37.815, 112.516, 37.816))["id"]) == ["Z2"]
    assert list(store.read("zones", bbox=(112.0, 37.0, 113.0, 38.0), as_of="2022-03-28")["id"]) == ["Z1"]


def test_public_read_refuses_personal_layers_and_strips_columns(new_store):
    store = new_store({"zones": _zones(), "travellers": _travellers()})
    with pytest.raises(PermissionError, match="personal data"):
        store.read("travellers", public=True)
    for spec in REGISTRY.values():
        if spec.public:
            assert not spec.personal_columns, spec.key
    z = store.read("zones", public=True)
    assert list(z.columns) == [*get_spec("zones").public_columns, "geometry"]


def test_missing_store_message(store_location, tmp_path):
    location = store_location if is_url(store_location) else str(tmp_path / "nope.gpkg")
    store = open_store(location)
    assert not store.exists()
    with pytest.raises(StoreMissing, match="riskmap demo"):
        store.read("zones")
    with pytest.raises(StoreMissing):
        store.version()


def test_write_is_atomic_on_failure(new_store, store_location):
    store = new_store({"zones": _zones()})
    before = _snapshot(store)
    bad = _zones().assign(start=["not a date", "2022-01-01"])
    with pytest.raises(ValueError, match="'start'"):
        write_new_store_at(store_location, {"zones": bad})
    assert _snapshot(store) == before
    assert _leftovers(store_location) == []


def test_a_failing_layer_rolls_back_the_whole_write(new_store, store_location):
    store = new_store({"zones": _zones(), "testing_sites": _sites()})
    before = _snapshot(store)
    more_sites = _sites().assign(id=["S7", "S8", "S9"])
    with pytest.raises(ValueError, match="ids already in the store: Z1"):
        # the sites are fine; the zone's id exists: nothing of either is written
        store.write_layers({"testing_sites": more_sites, "zones": _zones().iloc[[0]]}, {})
    assert _snapshot(store) == before
    assert _leftovers(store_location) == []


def test_unknown_layer_lists_known():
    with pytest.raises(KeyError, match="known layers"):
        get_spec("nope")


def test_write_layer_append_replace_and_duplicate_ids(new_store):
    store = new_store({"zones": _zones()})
    # a sealed zone beside Z1 (a double of it would be refused by the zone rules)
    extra = _zones().iloc[[0]].assign(id=["Z3"]).set_geometry([shapely.box(112.6, 37.9, 112.61, 37.91)], crs="EPSG:4326")
    assert store.write_layer("zones", extra) == 3
    assert sorted(store.read("zones")["id"]) == ["Z1", "Z2", "Z3"]
    before = _snapshot(store)
    with pytest.raises(ValueError, match="ids already in the store: Z1"):
        store.write_layer("zones", _zones().iloc[[0]])
    assert _snapshot(store) == before
    assert store.write_layer("zones", extra, mode="replace") == 1
    assert list(store.read("zones")["id"]) == ["Z3"]
    # other layers untouched by a layer write
    assert store.meta() == {}


def test_write_modes_are_checked(new_store):
    store = new_store({"zones": _zones()})
    with pytest.raises(ValueError, match="mode must be"):
        store.write_layers({"zones": _zones()}, {"zones": "merge"})
    with pytest.raises(ValueError, match="modes given for layers not written"):
        store.write_layers({"zones": _zones()}, {"hotels": "replace"})
    assert store.write_layers({}, {}) == {}


def test_write_layer_creates_a_store(store_location):
    store = open_store(store_location)
    assert not store.exists()
    assert store.write_layer("zones", _zones()) == 2
    assert store.exists()
    assert store.count("zones") == 2
    assert [v.version for v in store.zone_history("Z1")] == [1]


def test_version_changes_on_every_write_and_only_then(new_store):
    store = new_store({"zones": _zones()})
    seen = [store.version()]
    store.read("zones")
    store.meta()
    assert store.version() == seen[-1]
    store.write_layer("testing_sites", _sites())
    seen.append(store.version())
    z = store.read("zones").iloc[0].to_dict()
    store.save_zone({**z, "reason": "新"}, based_on=1, user="p")
    seen.append(store.version())
    store.write_layer("testing_sites", _sites(), mode="replace")
    seen.append(store.version())
    assert len(set(seen)) == len(seen)


def test_expect_version_refuses_a_stale_write(new_store):
    store = new_store({"testing_sites": _sites()})
    read_at = store.version()
    other = open_store(store.location)  # someone else writes in between
    other.write_layer("hotels", gpd.GeoDataFrame({"id": ["H1"]}, geometry=[shapely.Point(112.5, 37.8)], crs="EPSG:4326"))
    before = _snapshot(store)
    more = _sites().assign(id=["S7", "S8", "S9"])
    with pytest.raises(StaleWrite, match="changed since it was read"):
        store.write_layers({"testing_sites": more}, {"testing_sites": "append"}, expect_version=read_at)
    assert _snapshot(store) == before
    counts = store.write_layers({"testing_sites": more}, {"testing_sites": "append"}, expect_version=store.version())
    assert counts == {"testing_sites": 6}


def test_expect_version_on_a_missing_store_is_stale(store_location):
    with pytest.raises(StaleWrite):
        open_store(store_location).write_layers({"zones": _zones()}, {}, expect_version=1)
    assert not open_store(store_location).exists()


def test_open_store_picks_the_backend(tmp_path):
    from layers.store.postgis import PostgisStore

    assert isinstance(open_store(tmp_path / "a.gpkg"), GpkgStore)
    assert isinstance(open_store("postgresql://u@h/db"), PostgisStore)
    assert isinstance(open_store("postgres://u@h/db"), PostgisStore)
    assert open_store("var/x.gpkg", root=tmp_path).location == str(tmp_path / "var" / "x.gpkg")
    assert open_store(str(tmp_path / "b.gpkg")).location == str(tmp_path / "b.gpkg")


def test_the_store_setting_gives_the_location(tmp_path):
    from dashboard.settings import PROJECT_ROOT, load_settings

    none = tmp_path / "absent.toml"
    assert load_settings(toml_path=none, environ={}).store_location == str(PROJECT_ROOT / "var" / "riskmap.gpkg")
    url = "postgresql://riskmap@db.example/riskmap"
    assert load_settings(toml_path=none, environ={"RISKMAP_STORE": url}).store_location == url
    assert load_settings(toml_path=none, environ={"RISKMAP_STORE": "postgres://r@h/db"}).store_location == "postgres://r@h/db"
