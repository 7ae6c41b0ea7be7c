import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers import REGISTRY, get_spec
from layers.store import GpkgStore, StoreMissing, write_new_store


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


def test_round_trip_types_and_values(tmp_path):
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"zones": _zones(), "travellers": _travellers()}, meta={"demo": "true"})
    store = GpkgStore(path)
    z = store.read("zones")
    assert list(z["id"]) == ["Z1", "Z2"]
    assert z["start"].iloc[0] == pd.Timestamp("2022-03-20")
    assert pd.isna(z["lifted"].iloc[0]) and z["lifted"].iloc[1] == pd.Timestamp("2022-03-28")
    assert z.crs.to_epsg() == 4326
    assert shapely.equals_exact(z.geometry.iloc[0], _zones().geometry.iloc[0], tolerance=1e-12)
    assert store.meta() == {"demo": "true"}
    assert store.count("zones") == 2 and store.count("hotels") == 0
    assert store.read("hotels").empty  # absent layer reads as an empty, typed frame


def test_as_of_filters_by_start_and_lifted(tmp_path):
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"zones": _zones()})
    store = GpkgStore(path)
    assert list(store.read("zones", as_of="2022-03-19")["id"]) == []
    assert list(store.read("zones", as_of="2022-03-25")["id"]) == ["Z1", "Z2"]
    # lifted on 2022-03-28: no longer in force that day
    assert list(store.read("zones", as_of="2022-03-28")["id"]) == ["Z1"]


def test_public_read_refuses_personal_layers_and_strips_columns(tmp_path):
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"zones": _zones(), "travellers": _travellers()})
    store = GpkgStore(path)
    with pytest.raises(PermissionError, match="personal data"):
        store.read("travellers", public=True)
    for spec in REGISTRY.values():
        if spec.public:
            assert not spec.personal_columns, spec.key


def test_missing_store_message(tmp_path):
    with pytest.raises(StoreMissing, match="riskmap demo"):
        GpkgStore(tmp_path / "nope.gpkg").read("zones")


def test_write_is_atomic_on_failure(tmp_path):
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"zones": _zones()})
    before = path.read_bytes()
    bad = _zones().assign(start=["not a date", "2022-01-01"])
    with pytest.raises(ValueError, match="'start'"):
        write_new_store(path, {"zones": bad})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.gpkg"]


def test_unknown_layer_lists_known():
    with pytest.raises(KeyError, match="known layers"):
        get_spec("nope")


def test_write_layer_append_replace_and_duplicate_ids(tmp_path):
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"zones": _zones()})
    store = GpkgStore(path)
    extra = _zones().iloc[[0]].assign(id=["Z3"])
    assert store.write_layer("zones", extra) == 3
    assert sorted(store.read("zones")["id"]) == ["Z1", "Z2", "Z3"]
    before = path.read_bytes()
    with pytest.raises(ValueError, match="ids already in the store: Z1"):
        store.write_layer("zones", _zones().iloc[[0]])
    assert path.read_bytes() == before
    assert store.write_layer("zones", extra, mode="replace") == 1
    assert list(store.read("zones")["id"]) == ["Z3"]
    # other layers untouched by a layer write
    assert store.meta() == {}


def test_write_layer_creates_a_store(tmp_path):
    store = GpkgStore(tmp_path / "new.gpkg")
    assert store.write_layer("zones", _zones()) == 2
    assert store.count("zones") == 2
