"""The PostGIS store: the interface and behaviour of :class:`layers.store.gpkg.GpkgStore`, in PostgreSQL.

Selected by a ``postgresql://`` (or ``postgres://``) store location (:func:`layers.store.open_store`).

Schema (created by the versioned migrations in ``layers/store/migrations/``, applied on first use):

* ``layer_<key>`` — one table per registry layer: the spec's columns in SQL types (text,
  bigint, double precision, boolean, date), ``geom geometry(Geometry, 4326)`` with a GiST index
  for layers with a geometry, an index on the id column, and ``riskmap_row`` (an identity
  column) that keeps rows in the order they were written, as a GeoPackage does.
* ``riskmap_state`` — one row: ``version`` (the store version, see below) and ``written_at``
  (NULL until the first write: an empty database is "no store yet", as a missing file is).
* ``riskmap_layers`` — the layers written so far (what :meth:`PostgisStore.layers` lists).
* ``riskmap_meta`` — scenario metadata (key, value).
* ``riskmap_migrations`` — the migrations applied, per component (the store's are ``store``;
  accounts and records keep theirs in the same table).

Writes and concurrency: every write runs in one transaction that first locks the state row
(``SELECT … FOR UPDATE``), so writers take turns exactly as under the GeoPackage's writer lock:
the checks (``expect_version``, a zone's ``based_on``) and the write are one atomic step, and a
crashed or killed writer leaves nothing behind (PostgreSQL rolls its transaction back). The
same transaction bumps ``version`` to ``max(version + 1, now in microseconds)``, so the version
changes with every committed write and never goes back (a cache keyed on it stays correct even
if the database is rebuilt). Readers never wait for writers and see whole writes only.

Migrations: ``layers/store/migrations/store/NNNN_name.sql`` files, applied in order by the one runner
(:mod:`layers.store.sql`), each recorded in ``riskmap_migrations`` as component ``store``, all under a
transaction-level advisory lock so that two servers starting at once do not race. Changing a layer's columns in its spec needs a new migration; the
store checks at open that the tables have every spec column and names what is missing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from geo.errors import StaleWrite
from geo.zones import ZoneVersion
from layers import REGISTRY, get_spec
from layers.spec import LayerSpec
from layers.store.gpkg import META_TABLE, StoreBase, StoreMissing, _check_modes, _with_zone_history
from layers.store.locations import display_location
from layers.store.sql import (
    MIGRATIONS_ROOT,
    Migration,
    SchemaTooNew,
    Tx,
    apply_pending,
    component_migrations,
    pg_connection,
    schema_version,
)

__all__ = [
    "PostgisStore",
    "StoreUnavailable",
    "write_new_store_pg",
    "apply_migrations",
    "migration_files",
    "layer_table",
    "layer_table_sql",
    "MIGRATIONS_DIR",
]

MIGRATIONS_DIR = MIGRATIONS_ROOT / "store"
SRID = 4326
_SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean", "date": "date"}


class StoreUnavailable(ConnectionError):
    """The PostgreSQL server cannot be reached, or the database cannot hold a riskmap store
    (no PostGIS, no permission). The message shows the URL with its password masked."""


# --------------------------------------------------------------------------------------------
# Schema: layer tables and migrations


def layer_table(key: str) -> str:
    """The table of a registry layer."""
    return f"layer_{key}"


def layer_table_sql(spec: LayerSpec) -> str:
    """``CREATE TABLE`` (and indexes) for a layer spec, as written into a migration."""
    table = layer_table(spec.key)
    cols = ["    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"]
    cols += [f'    "{c.name}" {_SQL_TYPES[c.dtype]}' for c in spec.columns]
    if spec.geometry:
        cols.append(f"    geom geometry(Geometry, {SRID})")
    out = [f"CREATE TABLE {table} (\n" + ",\n".join(cols) + "\n);"]
    if spec.geometry:
        out.append(f"CREATE INDEX {table}_geom ON {table} USING gist (geom);")
    if spec.id_column:
        out.append(f'CREATE INDEX {table}_id ON {table} ("{spec.id_column}");')
    return "\n".join(out)


def migration_files() -> tuple[Migration, ...]:
    """The store's migrations (``layers/store/migrations/store/NNNN_name.sql``) in order."""
    return component_migrations("store")


def apply_migrations(con: psycopg.Connection) -> list[int]:
    """Apply the store migrations the database lacks, in order, in one transaction (the runner
    takes the migrations' advisory lock, so concurrent openers take turns and the second finds
    nothing to do). Returns the versions applied now."""
    with con.transaction(), con.cursor() as cur:
        return apply_pending(Tx(cur, "postgresql"), "store", migration_files())


def _schema_version(con: psycopg.Connection) -> int:
    """The newest store migration applied (0 for none), read without locking or creating anything,
    so a role that may only read and write rows can open an up-to-date store."""
    with con.transaction(), con.cursor() as cur:
        return schema_version(Tx(cur, "postgresql"), "store")


def _missing_columns(con: psycopg.Connection) -> list[str]:
    """Spec columns without a column in the database (each ``table.column``)."""
    have: dict[str, set[str]] = {}
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name LIKE 'layer\\_%'"
    ).fetchall()
    for table, column in rows:
        have.setdefault(str(table), set()).add(str(column))
    missing = []
    for spec in REGISTRY.values():
        cols = have.get(layer_table(spec.key), set())
        want = spec.column_names + (["geom"] if spec.geometry else [])
        missing += [f"{layer_table(spec.key)}.{c}" for c in want if c not in cols]
    return missing


_ready: set[str] = set()
_ready_lock = threading.Lock()




# --------------------------------------------------------------------------------------------
# Values in and out


def _ewkb_hex(geoms: Sequence[Any]) -> list[str | None]:
    arr = np.asarray(list(geoms), dtype=object)
    arr = shapely.set_srid(arr, SRID)
    hexes = shapely.to_wkb(arr, hex=True, include_srid=True)
    return [None if g is None else h for g, h in zip(arr, hexes, strict=True)]


def _column_values(dtype: str, s: pd.Series) -> list[Any]:
    """A coerced column as Python values for COPY (None for missing)."""
    if dtype == "date":
        return [None if pd.isna(v) else v.date() for v in s]
    if dtype == "int":
        return [None if v is pd.NA or pd.isna(v) else int(v) for v in s]
    if dtype == "float":
        return [None if pd.isna(v) else float(v) for v in s]
    if dtype == "bool":
        return [None if v is pd.NA or pd.isna(v) else bool(v) for v in s]
    return [None if v is pd.NA or pd.isna(v) else str(v) for v in s]


def _rows(spec: LayerSpec, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """A frame coerced by ``spec`` as rows in the table's column order (extra columns dropped:
    the table holds the spec's columns)."""
    cols = [_column_values(c.dtype, frame[c.name]) for c in spec.columns]
    if spec.geometry:
        cols.append(_ewkb_hex(frame.geometry))
    return list(zip(*cols, strict=True)) if cols else []


def _empty(spec: LayerSpec) -> pd.DataFrame:
    empty = pd.DataFrame({c: [] for c in spec.column_names})
    if spec.geometry:
        empty = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=f"EPSG:{SRID}"))
    return spec.coerce(empty)


# --------------------------------------------------------------------------------------------
# The store


class PostgisStore(StoreBase):
    """A store in a PostgreSQL database with PostGIS (see the module docstring).

    Parameters
    ----------
    url : str
        A libpq URL, ``postgresql://user@host:port/database``. Give the password through
        ``PGPASSWORD`` or ``~/.pgpass`` rather than in the URL; it is never shown either way
        (:func:`layers.store.display_location`).
    """

    def __init__(self, url: str):
        self.url = str(url)

    # -- naming ------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """The URL as given (for cache keys; never shown — see :attr:`display`)."""
        return self.url

    @property
    def display(self) -> str:
        """The URL with its password masked."""
        return display_location(self.url)

    @property
    def path(self) -> str:
        """The masked URL. Only for callers written for the GeoPackage store that key caches on
        ``str(store.path)``; use :attr:`location`."""
        return self.display

    def __repr__(self) -> str:
        return f"PostgisStore({self.display!r})"

    # -- connections and schema --------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        def unavailable(why: str) -> StoreUnavailable:
            return StoreUnavailable(f"cannot connect to the store {self.display}: {why}")

        with pg_connection(self.url, unavailable=unavailable) as con:
            self._ensure_schema(con)
            yield con

    def _ensure_schema(self, con: psycopg.Connection) -> None:
        """Apply migrations and check the tables against the specs, once per process."""
        if self.url in _ready:
            return
        with _ready_lock:
            if self.url in _ready:
                return
            self._require_postgis(con)
            try:
                # cheap when up to date (a lock and a select); adopts a store made before the one
                # migrations table; refuses a store newer than this code
                apply_migrations(con)
            except SchemaTooNew as exc:
                raise StoreUnavailable(f"the store {self.display}: {exc}") from None
            except psycopg.errors.InsufficientPrivilege as exc:
                msg = (
                    f"the store {self.display} needs its tables created or updated, and this role may not: "
                    f"{str(exc).strip()} — run riskmap once as the database owner"
                )
                raise StoreUnavailable(msg) from None
            missing = _missing_columns(con)
            if missing:
                msg = (
                    f"the store {self.display} lacks columns the layer specs declare: {', '.join(missing[:10])} — "
                    "add a migration in layers/store/migrations/store/"
                )
                raise StoreUnavailable(msg)
            _ready.add(self.url)

    def _require_postgis(self, con: psycopg.Connection) -> None:
        with con.transaction():
            row = con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        if row is not None:
            return
        try:
            with con.transaction():
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            msg = (
                f"the database {self.display} has no PostGIS and it could not be added ({str(exc).strip()}); "
                "as a superuser run: CREATE EXTENSION postgis;"
            )
            raise StoreUnavailable(msg) from None

    # -- reading -----------------------------------------------------------------------------

    @staticmethod
    def _state(con: psycopg.Connection, *, lock: bool = False) -> tuple[int, bool]:
        q = "SELECT version, written_at IS NOT NULL FROM riskmap_state" + (" FOR UPDATE" if lock else "")
        row = con.execute(q).fetchone()
        assert row is not None  # the migration inserts the one row
        return int(row[0]), bool(row[1])

    def _missing(self) -> StoreMissing:
        msg = (
            f"找不到数据库：{self.display} 尚无 riskmap 数据，请运行 `riskmap demo --store URL` 建立或导入图层 / "
            f"store not found: {self.display} holds no riskmap data yet — run "
            "`riskmap demo --store URL` (or `make run` with this store) to build it, or import layers"
        )
        return StoreMissing(msg)

    def exists(self) -> bool:
        """True once anything has been written (an empty database is no store yet)."""
        with self._connect() as con:
            return self._state(con)[1]

    def version(self) -> int:
        """A value that changes with every committed write (for cache keys and ``expect_version``)."""
        with self._connect() as con:
            version, written = self._state(con)
        if not written:
            raise self._missing()
        return version

    def _present(self, con: psycopg.Connection) -> list[str]:
        return [str(r[0]) for r in con.execute("SELECT key FROM riskmap_layers ORDER BY position")]

    def layers(self) -> list[str]:
        """The layers written so far (and ``riskmap_meta`` once a whole store was written)."""
        with self._connect() as con:
            if not self._state(con)[1]:
                raise self._missing()
            return self._present(con)

    def count(self, key: str) -> int:
        """Number of rows in a layer (0 when absent)."""
        with self._connect() as con:
            if not self._state(con)[1]:
                raise self._missing()
            if key == META_TABLE:
                row = con.execute("SELECT count(*) FROM riskmap_meta").fetchone()
                return int(row[0]) if row else 0
            if key not in REGISTRY:
                return 0
            row = con.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(layer_table(key)))).fetchone()
            return int(row[0]) if row else 0

    def meta(self) -> dict[str, str]:
        with self._connect() as con:
            if not self._state(con)[1]:
                raise self._missing()
            rows = con.execute("SELECT key, value FROM riskmap_meta ORDER BY position").fetchall()
        return {str(k): str(v) for k, v in rows}

    @staticmethod
    def _select(
        con: psycopg.Connection,
        spec: LayerSpec,
        where: sql.Composable | None = None,
        params: Sequence[Any] = (),
    ) -> pd.DataFrame:
        """Rows of a layer in written order, typed by the spec."""
        fields = [sql.Identifier(c) for c in spec.column_names]
        if spec.geometry:
            fields.append(sql.SQL("ST_AsBinary(geom)"))
        q = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(fields), sql.Identifier(layer_table(spec.key)))
        if where is not None:
            q += sql.SQL(" WHERE ") + where
        q += sql.SQL(" ORDER BY riskmap_row")
        with con.cursor(binary=True) as cur:
            rows = cur.execute(q, list(params)).fetchall()
        if not rows:
            return _empty(spec)
        cols = list(zip(*rows, strict=True))
        data = {}
        for c, col in zip(spec.columns, cols, strict=False):
            # dates as ISO text, as a GeoPackage holds them, so both backends type them alike
            values = [None if v is None else v.isoformat() for v in col] if c.dtype == "date" else col
            data[c.name] = pd.Series(values, dtype=object)
        frame = pd.DataFrame(data)
        if spec.geometry:
            wkb = np.asarray([None if b is None else bytes(b) for b in cols[-1]], dtype=object)
            frame = gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=f"EPSG:{SRID}")
        return spec.coerce(frame)

    def read(
        self,
        key: str,
        *,
        as_of: pd.Timestamp | str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        public: bool = False,
    ) -> pd.DataFrame:
        """Read a layer, typed by its spec; optionally only rows in force on ``as_of``, inside
        ``bbox`` (WGS-84 minx, miny, maxx, maxy; through the spatial index), and without
        personal columns (``public``) — as :meth:`layers.store.gpkg.GpkgStore.read`."""
        spec = get_spec(key)
        with self._connect() as con:
            if not self._state(con)[1]:
                raise self._missing()
            self._refuse_private(spec, public)
            conds: list[sql.Composable] = []
            params: list[Any] = []
            if bbox is not None and spec.geometry:
                conds.append(sql.SQL("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, {}))").format(sql.Literal(SRID)))
                params += [float(v) for v in bbox]
            if as_of is not None and spec.temporal is not None:
                day = pd.Timestamp(as_of).normalize().date()
                start, end = (sql.Identifier(c) for c in spec.temporal)
                conds.append(sql.SQL("({s} IS NULL OR {s} <= %s) AND ({e} IS NULL OR {e} > %s)").format(s=start, e=end))
                params += [day, day]
            where = sql.SQL(" AND ").join(conds) if conds else None
            frame = self._select(con, spec, where, params)
        frame = spec.as_of(frame, as_of)
        if public:
            frame = spec.public_view(frame)
        return frame.reset_index(drop=True)

    # -- writing -----------------------------------------------------------------------------

    @staticmethod
    def _insert(con: psycopg.Connection, key: str, frame: pd.DataFrame) -> None:
        spec = get_spec(key)
        rows = _rows(spec, frame)
        if not rows:
            return
        names = [sql.Identifier(c) for c in spec.column_names] + ([sql.Identifier("geom")] if spec.geometry else [])
        q = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(layer_table(key)), sql.SQL(", ").join(names))
        with con.cursor() as cur, cur.copy(q) as copy:
            for row in rows:
                copy.write_row(row)

    @staticmethod
    def _mark_present(con: psycopg.Connection, keys: Sequence[str]) -> None:
        for key in keys:
            con.execute("INSERT INTO riskmap_layers (key) VALUES (%s) ON CONFLICT (key) DO NOTHING", (key,))

    @staticmethod
    def _bump(con: psycopg.Connection) -> int:
        row = con.execute(
            "UPDATE riskmap_state SET version = GREATEST(version + 1,"
            " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint), written_at = now() RETURNING version"
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _existing_ids(self, con: psycopg.Connection, spec: LayerSpec) -> pd.Series:
        assert spec.id_column is not None
        q = sql.SQL("SELECT {c} FROM {t} ORDER BY riskmap_row").format(
            c=sql.Identifier(spec.id_column), t=sql.Identifier(layer_table(spec.key))
        )
        values = [r[0] for r in con.execute(q)]
        if spec.column(spec.id_column).dtype == "date":
            return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)))
        return pd.Series(values, dtype=object)

    def write_layers(
        self,
        frames: Mapping[str, pd.DataFrame],
        modes: Mapping[str, Literal["append", "replace"]],
        *,
        expect_version: float | None = None,
        user: str = "system",
        action: str = "import",
    ) -> dict[str, int]:
        """Write several layers in one transaction; return each layer's row count afterwards.

        As :meth:`layers.store.gpkg.GpkgStore.write_layers`: ``append`` (ids already stored refused)
        or ``replace`` per layer; ``expect_version`` refuses the write with ``StaleWrite`` when
        the store changed since it was read; zones are stamped with their next version and
        their history appended; ``zone_history`` is never written directly. On any error
        nothing is written.
        """
        if not frames:
            return {}
        _check_modes(frames, modes)
        coerced: dict[str, pd.DataFrame] = {key: get_spec(key).coerce(frame) for key, frame in frames.items()}
        all_modes: dict[str, str] = {key: modes.get(key, "append") for key in coerced}
        with self._connect() as con, con.transaction():
            version, written = self._state(con, lock=True)
            if expect_version is not None and (not written or version != expect_version):
                msg = f"{self.display} changed since it was read; read it again and retry"
                raise StaleWrite(msg)
            present = self._present(con) if written else []
            if "zones" in coerced:
                existing = self._select(con, get_spec("zones")) if "zones" in present else None
                coerced = _with_zone_history(coerced, existing, user=user, action=action,
                                             mode=all_modes["zones"], city_adcode=self.city_adcode)
                all_modes["zone_history"] = "append"
            for key, new in coerced.items():
                spec = get_spec(key)
                table = sql.Identifier(layer_table(key))
                if all_modes[key] == "replace":
                    con.execute(sql.SQL("DELETE FROM {}").format(table))
                elif key in present and spec.id_column:
                    ids = pd.concat([self._existing_ids(con, spec), pd.Series(new[spec.id_column])], ignore_index=True)
                    ids = ids.dropna()
                    dup = ids[ids.duplicated()].unique().tolist()
                    if dup:
                        msg = f"layer {key!r}: ids already in the store: {', '.join(map(str, dup[:10]))}"
                        raise ValueError(msg)
                self._insert(con, key, new)
            self._mark_present(con, list(coerced))
            counts = {}
            for key in frames:
                row = con.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(layer_table(key)))).fetchone()
                counts[key] = int(row[0]) if row else 0
            self._bump(con)
        return counts

    def replace_all(
        self, layers: Mapping[str, pd.DataFrame], *, meta: Mapping[str, str] | None = None, user: str = "system"
    ) -> None:
        """Make ``layers`` and ``meta`` the whole store, in one transaction (as
        :func:`layers.store.gpkg.write_new_store` does for a file). Tables of other parts of riskmap
        in the same database (accounts, audit) are not touched."""
        stamped = _with_zone_history({key: get_spec(key).coerce(frame) for key, frame in layers.items()}, None, user=user,
                                     city_adcode=self.city_adcode)
        with self._connect() as con, con.transaction():
            self._state(con, lock=True)
            for key in REGISTRY:
                con.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(layer_table(key))))
            con.execute("DELETE FROM riskmap_layers")
            con.execute("DELETE FROM riskmap_meta")
            for key, frame in stamped.items():
                self._insert(con, key, frame)
            for i, (k, v) in enumerate((meta or {}).items()):
                con.execute("INSERT INTO riskmap_meta (position, key, value) VALUES (%s, %s, %s)", (i, str(k), str(v)))
            self._mark_present(con, [*stamped, META_TABLE])
            self._bump(con)

    # -- zone versions (layers/zone_versions.py) ---------------------------------------------

    def save_zone(
        self,
        zone: Mapping[str, object],
        *,
        based_on: int | None,
        user: str,
        action: str = "edit",
        now: datetime | None = None,
        merging: Sequence[str] = (),
    ) -> ZoneVersion:
        """Save one zone as a new version, atomically, and return that version.

        As :meth:`layers.store.gpkg.GpkgStore.save_zone`: the check against ``based_on``, the zone
        rules and the write are one transaction holding the store's write lock, so of two
        planners who started from the same version the second is refused with ``StaleWrite``
        ("changed by X at T — reload").
        """
        from layers.zone_versions import prepare_save

        zones_spec = get_spec("zones")
        zone_id = str(zone.get("id") or "").strip()
        with self._connect() as con, con.transaction():
            _, written = self._state(con, lock=True)
            if not written:
                raise self._missing()
            match = self._select(con, zones_spec, sql.SQL("id = %s"), [zone_id])
            current = match.iloc[0].to_dict() if len(match) else None
            row, hist, version = prepare_save(current, zone, based_on=based_on, user=user, action=action, now=now)
            same_tier = sql.SQL("tier = %s AND id <> %s")  # the other zones of its tier, for the rules
            row, hist = self._guard_saved_zone(
                row, hist, lambda: self._select(con, zones_spec, same_tier, [str(row["tier"].iloc[0]), zone_id]),
                action=action, merging=merging,
            )
            con.execute("DELETE FROM layer_zones WHERE id = %s", (str(row["id"].iloc[0]),))
            self._insert(con, "zones", row)
            self._insert(con, "zone_history", hist)
            self._mark_present(con, ["zones", "zone_history"])
            self._bump(con)
        return version

    def zone_history(self, zone_id: str) -> list[ZoneVersion]:
        """Every saved version of a zone, oldest first ([] for an unknown zone)."""
        from layers.zone_versions import versions_from_history

        with self._connect() as con:
            if not self._state(con)[1]:
                raise self._missing()
            rows = self._select(con, get_spec("zone_history"), sql.SQL("zone_id = %s"), [str(zone_id)])
        return versions_from_history(rows, zone_id)


def write_new_store_pg(
    url: str,
    layers: Mapping[str, pd.DataFrame],
    *,
    meta: Mapping[str, str] | None = None,
    user: str = "system",
    city_adcode: str | None = None,
) -> None:
    """Write a complete store into the database at ``url`` in one transaction, replacing the
    layers and metadata it held (migrations are applied first if needed)."""
    store = PostgisStore(url)
    if city_adcode:
        store.city_adcode = city_adcode
    store.replace_all(layers, meta=meta, user=user)
