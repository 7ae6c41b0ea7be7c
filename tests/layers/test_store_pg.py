"""What only the PostGIS store has: migrations, the schema against the specs, spatial indexes,
connection errors without passwords, and the demo store read back identically from both backends.

The behaviour both backends share is tested in test_store.py and test_zone_store.py."""

from __future__ import annotations

import threading

import pandas as pd
import psycopg
import pytest
import shapely

from layers import REGISTRY
from layers.store import display_location
from layers.store.gpkg import GpkgStore, write_new_store
from layers.store.postgis import (
    PostgisStore,
    StoreUnavailable,
    _missing_columns,
    apply_migrations,
    layer_table,
    migration_files,
    write_new_store_pg,
)


def _sites(n: int = 3):
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(n)], "name": [f"点{i}" for i in range(n)]},
        geometry=[shapely.Point(112.5 + i * 0.001, 37.8) for i in range(n)],
        crs="EPSG:4326",
    )


def test_display_location_masks_passwords():
    assert display_location("postgresql://riskmap:s3cret@db.example:5432/riskmap") == (
        "postgresql://riskmap:***@db.example:5432/riskmap"
    )
    assert display_location("postgresql://db/riskmap?user=r&password=s3cret&sslmode=require") == (
        "postgresql://db/riskmap?user=r&password=***&sslmode=require"
    )
    assert display_location("postgres://riskmap@db/riskmap") == "postgres://riskmap@db/riskmap"
    assert display_location("/srv/riskmap/var/riskmap.gpkg") == "riskmap.gpkg"
    assert repr(PostgisStore("postgresql://u:pw@h/db")) == "PostgisStore('postgresql://u:***@h/db')"


def test_an_unreachable_server_is_reported_without_the_password():
    store = PostgisStore("postgresql://riskmap:s3cret@127.0.0.1:1/riskmap?connect_timeout=2")
    with pytest.raises(StoreUnavailable, match=r"cannot connect to the store postgresql://riskmap:\*\*\*@") as info:
        store.exists()
    assert "s3cret" not in str(info.value)


def test_migrations_are_numbered_and_apply_once(postgis_db):
    files = migration_files()
    assert [m.version for m in files] == list(range(1, len(files) + 1))
    store = PostgisStore(postgis_db)
    assert not store.exists()  # the first use applies the migrations
    with psycopg.connect(postgis_db, autocommit=True) as con:
        rows = con.execute(
            "SELECT version, name FROM riskmap_migrations WHERE component = 'store' ORDER BY version"
        ).fetchall()
        assert rows == [(m.version, m.name) for m in files]
        assert apply_migrations(con) == []  # idempotent


def test_concurrent_openers_apply_migrations_once(postgis_db):
    barrier = threading.Barrier(4)
    results: list[object] = []

    def open_one() -> None:
        with psycopg.connect(postgis_db, autocommit=True) as con:
            barrier.wait()
            try:
                results.append(apply_migrations(con))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                results.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = len(migration_files())
    assert sorted(map(str, results)) == sorted([str(list(range(1, n + 1)))] + ["[]"] * 3)
    with psycopg.connect(postgis_db) as con:
        assert con.execute("SELECT count(*) FROM riskmap_migrations WHERE component = 'store'").fetchone() == (n,)


def test_schema_covers_every_spec_with_spatial_indexes(postgis_db):
    PostgisStore(postgis_db).exists()
    with psycopg.connect(postgis_db) as con:
        assert _missing_columns(con) == [], "a spec gained columns: add a migration in layers/store/migrations/"
        geo = dict(con.execute("SELECT f_table_name, srid FROM geometry_columns").fetchall())
        gist = {r[0] for r in con.execute("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'")}
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'layer_zones'"
            ).fetchall()
        )
    for spec in REGISTRY.values():
        if spec.geometry:
            assert geo.get(layer_table(spec.key)) == 4326, spec.key
            assert layer_table(spec.key) in gist, spec.key
    assert (types["start"], types["version"], types["demo"], types["name"]) == ("date", "bigint", "boolean", "text")


def test_bbox_reads_use_the_spatial_index(postgis_db):
    write_new_store_pg(postgis_db, {"testing_sites": _sites(50)})
    with psycopg.connect(postgis_db) as con:
        con.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in con.execute(
                "EXPLAIN SELECT id FROM layer_testing_sites"
                " WHERE ST_Intersects(geom, ST_MakeEnvelope(112.5, 37.7, 112.6, 37.9, 4326))"
            )
        )
    assert "layer_testing_sites_geom" in plan


def test_a_missing_column_is_named(postgis_db):
    store = PostgisStore(postgis_db)
    store.exists()
    with psycopg.connect(postgis_db, autocommit=True) as con:
        con.execute("ALTER TABLE layer_hotels DROP COLUMN rooms_total")
        assert _missing_columns(con) == ["layer_hotels.rooms_total"]


def test_postgis_is_added_when_allowed_and_asked_for_when_not(_postgis_cluster):
    # a superuser's database without PostGIS: the store adds the extension itself
    _postgis_cluster.execute("CREATE DATABASE riskmap_plain TEMPLATE template0")
    # a plain role's database: PostGIS is not a trusted extension, the message says what to run
    _postgis_cluster.execute("CREATE ROLE riskmap_plain_role LOGIN")
    _postgis_cluster.execute("CREATE DATABASE riskmap_plain_owned OWNER riskmap_plain_role TEMPLATE template0")
    try:
        write_new_store_pg(_postgis_cluster.url("riskmap_plain"), {"testing_sites": _sites()})
        assert PostgisStore(_postgis_cluster.url("riskmap_plain")).count("testing_sites") == 3
        url = _postgis_cluster.url("riskmap_plain_owned").replace("postgres@", "riskmap_plain_role@")
        with pytest.raises(StoreUnavailable, match="CREATE EXTENSION postgis"):
            PostgisStore(url).exists()
    finally:
        _postgis_cluster.execute("DROP DATABASE IF EXISTS riskmap_plain WITH (FORCE)")
        _postgis_cluster.execute("DROP DATABASE IF EXISTS riskmap_plain_owned WITH (FORCE)")
        _postgis_cluster.execute("DROP ROLE IF EXISTS riskmap_plain_role")


def test_a_new_store_leaves_other_tables_alone_and_the_version_moves_on(postgis_db):
    with psycopg.connect(postgis_db, autocommit=True) as con:
        con.execute("CREATE TABLE riskmap_users (name text PRIMARY KEY)")
        con.execute("INSERT INTO riskmap_users VALUES ('admin')")
    write_new_store_pg(postgis_db, {"testing_sites": _sites()}, meta={"demo": "true"})
    store = PostgisStore(postgis_db)
    v1 = store.version()
    write_new_store_pg(postgis_db, {"hotels": _sites(2)}, meta={"demo": "false"})
    assert store.version() > v1
    assert store.count("testing_sites") == 0 and store.count("hotels") == 2
    assert store.layers() == ["hotels", "riskmap_meta"] and store.meta() == {"demo": "false"}
    with psycopg.connect(postgis_db) as con:
        assert con.execute("SELECT name FROM riskmap_users").fetchall() == [("admin",)]


def _attributes(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame.columns else frame


def test_the_demo_store_reads_back_identically_from_both_backends(postgis_db, tmp_path):
    from data.demo import build_demo, demo_meta

    layers = build_demo(20220328)
    path = tmp_path / "demo.gpkg"
    write_new_store(path, layers, meta=demo_meta(20220328), user="demo")
    write_new_store_pg(postgis_db, layers, meta=demo_meta(20220328), user="demo")
    gpkg, pg = GpkgStore(path), PostgisStore(postgis_db)
    assert pg.meta() == gpkg.meta()
    assert sorted(pg.layers()) == sorted(gpkg.layers())
    bbox = (112.50, 37.80, 112.60, 37.90)
    for key in REGISTRY:
        a, b = gpkg.read(key), pg.read(key)
        assert pg.count(key) == gpkg.count(key), key
        assert list(a.dtypes.astype(str)) == list(b.dtypes.astype(str)), key
        # zone stamps carry the write time: equal up to the second they were written
        drop = ["saved_at"] if key in ("zones", "zone_history") else []
        pd.testing.assert_frame_equal(_attributes(a).drop(columns=drop), _attributes(b).drop(columns=drop), obj=key)
        if REGISTRY[key].geometry:
            # the same shapes (a GeoPackage layer of mixed polygons reads back as multipolygons)
            assert shapely.equals(a.geometry.to_numpy(), b.geometry.to_numpy()).all(), key
        if REGISTRY[key].geometry:
            a, b = gpkg.read(key, bbox=bbox, as_of="2022-03-28"), pg.read(key, bbox=bbox, as_of="2022-03-28")
            assert sorted(a[REGISTRY[key].id_column]) == sorted(b[REGISTRY[key].id_column]), key


def test_a_role_that_only_reads_and_writes_rows_can_use_a_migrated_store(_postgis_cluster, postgis_db):
    import geopandas as gpd

    zones = gpd.GeoDataFrame(
        {"id": ["Z1"], "tier": ["sealed"], "name": ["甲"], "start": ["2022-03-20"]},
        geometry=[shapely.box(112.5, 37.8, 112.51, 37.81)],
        crs="EPSG:4326",
    )
    write_new_store_pg(postgis_db, {"zones": zones})  # the owner creates and migrates it
    database = postgis_db.rsplit("/", 1)[1]
    _postgis_cluster.execute("CREATE ROLE riskmap_rows LOGIN")
    try:
        _postgis_cluster.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO riskmap_rows", database=database
        )
        store = PostgisStore(postgis_db.replace("postgres@", "riskmap_rows@"))
        row = store.read("zones").iloc[0].to_dict()
        assert store.save_zone({**row, "reason": "新"}, based_on=1, user="p").version == 2
        assert store.write_layer("testing_sites", _sites().assign(type="fixed", hours="全天")) == 3
        with psycopg.connect(store.url, autocommit=True) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("CREATE TABLE riskmap_probe (a int)")  # it really may not create tables
    finally:
        _postgis_cluster.execute("DROP OWNED BY riskmap_rows", database=database)
        _postgis_cluster.execute("DROP ROLE riskmap_rows")


def test_a_store_of_the_previous_layout_upgrades_in_place(postgis_db):
    """A store made before the one migrations table (riskmap_schema_migrations of its own) is
    adopted in place: its rows stay, no migration runs twice, the old table goes."""
    from layers.store.sql import Tx

    with psycopg.connect(postgis_db, autocommit=True) as con, con.cursor() as cur:
        tx = Tx(cur, "postgresql")
        tx.run("CREATE TABLE riskmap_schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
               " applied_at timestamptz NOT NULL DEFAULT now())")
        for m in migration_files():
            tx.script(m.sql)
            tx.run("INSERT INTO riskmap_schema_migrations (version, name) VALUES (?, ?)", (m.version, m.name))
    store = PostgisStore(postgis_db)
    assert not store.exists()
    with psycopg.connect(postgis_db, autocommit=True) as con:
        assert con.execute("SELECT to_regclass('riskmap_schema_migrations')").fetchone() == (None,)
        rows = con.execute("SELECT version FROM riskmap_migrations WHERE component = 'store' ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m.version for m in migration_files()]
