"""Fixtures for the store suite: every test that takes ``store_location`` or ``new_store`` runs once
per backend — ``gpkg`` (a GeoPackage file in the test's temporary directory) and ``postgis`` (a
fresh PostgreSQL database per test on the throw-away cluster of tests/conftest.py; skipped with
the reason when PostGIS is not available)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import pytest

from layers.store import open_store, write_new_store_at

BACKENDS = ["gpkg", "postgis"]


@pytest.fixture(params=BACKENDS)
def store_location(request, tmp_path) -> str:
    """Where an empty store of the backend under test goes: a ``.gpkg`` path that does not exist
    yet, or the URL of an empty database with PostGIS."""
    if request.param == "postgis":
        return request.getfixturevalue("postgis_db")
    return str(tmp_path / "store.gpkg")


@pytest.fixture
def new_store(store_location) -> Callable[..., object]:
    """``new_store(layers, meta=…, user=…)`` writes a complete store of the backend under test
    (:func:`layers.store.write_new_store_at`) and returns it opened."""

    def make(layers: Mapping[str, pd.DataFrame], *, meta: Mapping[str, str] | None = None, user: str = "system"):
        write_new_store_at(store_location, layers, meta=meta, user=user)
        return open_store(store_location)

    return make


@pytest.fixture
def one_site_store(tmp_path):
    """A GeoPackage store holding one testing site (``S0``)."""
    import geopandas as gpd
    import shapely

    from layers.store.gpkg import GpkgStore, write_new_store

    path = tmp_path / "s.gpkg"
    write_new_store(path, {"testing_sites": gpd.GeoDataFrame(
        {"id": ["S0"], "name": ["原有"], "type": ["fixed"], "hours": ["24h"]},
        geometry=[shapely.Point(112.55, 37.85)], crs="EPSG:4326")})
    return GpkgStore(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request, tmp_path):
    """Versioned records (layers/store/records.py) beside a GeoPackage, or in a PostgreSQL schema of
    their own."""
    from layers.store.records import Records, sql_location

    if request.param == "sqlite":
        return Records(sql_location(str(tmp_path / "riskmap.gpkg")))
    try:
        return Records(request.getfixturevalue("postgis_schema"))
    except pytest.FixtureLookupError:
        pytest.skip("PostgreSQL: the postgis_schema fixture (tests/conftest.py) is not available")
