"""Persistence behind one interface. The embedded default is a GeoPackage file (opens in QGIS).

Layers are stored in WGS-84 (EPSG:4326) under their registry key; dates as ISO dates; a small
``riskmap_meta`` table holds scenario metadata (e.g. whether the store holds demo data).
A whole new store is written to a temporary file and moved into place, so a reader never sees
half a store. A writer killed midway can leave its temporary copy (``<store>.*.tmp.gpkg``) behind:
it is never read and blocks nothing (tests/layers/test_store_crash.py), and may be deleted when no
riskmap process is writing. The PostGIS backend (layers/store/postgis.py) has the same interface;
:func:`layers.store.open_store` picks the backend from the store location.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import StaleWrite
from geo.zones import ZoneVersion
from layers import LayerSpec, get_spec
from layers.zone_rules import DEFAULT_CITY_ADCODE, guard_zones

__all__ = ["GpkgStore", "StoreDamaged", "StoreMissing", "StoreWriteFailed", "write_new_store"]

META_TABLE = "riskmap_meta"
_HISTORY_DIRECT = "zone_history is written by the store when zones are saved, never directly"


class StoreDamaged(ConnectionError):
    """The store file exists but cannot be read (truncated, overwritten, not a GeoPackage). The
    message names the file and what to do; nothing is written to it."""


class StoreWriteFailed(OSError):
    """A write could not be completed (disk full, read-only folder, no permission). The store is
    unchanged: the write went to a temporary copy that is removed. The message names the file,
    the cause and what to do."""


_WRITE_CAUSES = {
    errno.ENOSPC: ("磁盘已满", "the disk is full", "free disk space"),
    errno.EDQUOT: ("磁盘配额已用完", "the disk quota is used up", "free disk space"),
    errno.EROFS: ("文件夹只读", "the folder is read-only", "make the folder writable"),
    errno.EACCES: ("没有写入权限", "no permission to write", "give the server's user write access"),
    errno.EPERM: ("没有写入权限", "no permission to write", "give the server's user write access"),
}


def _write_failed(path: Path, exc: OSError) -> StoreWriteFailed:
    zh, en, todo = _WRITE_CAUSES.get(exc.errno or 0, ("写入失败", "the write failed", "check the disk and the folder"))
    todo_zh = {"free disk space": "请清理磁盘空间", "make the folder writable": "请将文件夹设为可写",
               "give the server's user write access": "请为服务账户授予写权限"}.get(todo, "请检查磁盘和文件夹")
    msg = (
        f"无法写入数据库 {path.name}：{zh}（{exc.strerror or exc}）；数据库未作任何改动，{todo_zh}后重试 / "
        f"cannot write the store {path.name}: {en} ({exc.strerror or exc}); the store is unchanged — {todo} and try again"
    )
    return StoreWriteFailed(exc.errno or 0, msg)


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Reading a store: a damaged file becomes :class:`StoreDamaged` naming it."""
    try:
        yield
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, sqlite3.DatabaseError) as exc:
        msg = (
            f"数据库文件 {path.name} 已损坏或不完整，无法读取；请从备份恢复（演示库可用 riskmap demo --force 重建） / "
            f"the store file {path.name} is damaged or incomplete and cannot be read; restore it from a backup "
            f"(the demo store: riskmap demo --force) — {str(exc).split(';')[0][:200]}"
        )
        raise StoreDamaged(msg) from exc


class StoreMissing(FileNotFoundError):
    """The store file does not exist yet (run ``riskmap demo`` or ``make run``)."""


def _to_storable(key: str, frame: pd.DataFrame) -> pd.DataFrame:
    spec = get_spec(key)
    out = spec.coerce(frame)
    for c in spec.columns:
        if c.dtype == "date":
            out[c.name] = out[c.name].dt.strftime("%Y-%m-%d").astype("object").where(out[c.name].notna(), None)
        elif c.dtype == "int":
            out[c.name] = out[c.name].astype("float64") if out[c.name].isna().any() else out[c.name].astype("int64")
        elif c.dtype == "bool":
            col = out[c.name]
            out[c.name] = col.astype(bool) if not col.isna().any() else col.astype("Float64").astype("float64")
        else:
            out[c.name] = out[c.name].astype("object").where(out[c.name].notna(), None)
    return out


def _write_layer(path: Path, key: str, frame: pd.DataFrame) -> None:
    spec = get_spec(key)
    data = _to_storable(key, frame)
    if spec.geometry:
        gpd.GeoDataFrame(data, geometry="geometry", crs="EPSG:4326").to_file(
            path, layer=key, driver="GPKG", engine="pyogrio"
        )
    else:
        pyogrio.write_dataframe(pd.DataFrame(data), path, layer=key, driver="GPKG")


def _with_zone_history(
    frames: Mapping[str, pd.DataFrame],
    existing_zones: pd.DataFrame | None,
    *,
    user: str,
    action: str = "import",
    existing_history: pd.DataFrame | None = None,
    mode: str = "replace",
    city_adcode: str = DEFAULT_CITY_ADCODE,
) -> dict[str, pd.DataFrame]:
    """``frames`` with the ``zones`` rows checked by the zone rules
    (:func:`layers.zone_rules.guard_zones`: against the stored zones when ``mode`` is
    ``append``, else among themselves), stamped with their next version, and their history rows
    appended to ``zone_history`` (layers/zone_versions.py). The history is written by the store
    only: a caller writing ``zone_history`` directly is refused."""
    from layers.zone_versions import stamp_zones

    if "zone_history" in frames:
        raise ValueError(_HISTORY_DIRECT)
    out = dict(frames)
    if "zones" in out:
        against = existing_zones if mode == "append" else None
        checked = guard_zones(out["zones"], existing=against, city_adcode=city_adcode)
        zones, history = stamp_zones(checked, existing_zones, user=user, action=action)
        out["zones"] = zones
        if existing_history is not None and not existing_history.empty:
            history = pd.concat([existing_history, history], ignore_index=True)
        out["zone_history"] = gpd.GeoDataFrame(history, geometry="geometry", crs="EPSG:4326")
    return out


def write_new_store(
    path: Path,
    layers: Mapping[str, pd.DataFrame],
    *,
    meta: Mapping[str, str] | None = None,
    user: str = "system",
    city_adcode: str = DEFAULT_CITY_ADCODE,
) -> None:
    """Write a complete store atomically: into a temporary file beside ``path``, then rename.

    The file is private (mode 0600) from its first byte: it holds personal data. The write takes
    the writer lock, so it never races another writer, and removes copies a killed writer left.
    Zones are stamped as version 1 saved by ``user``, with an ``import`` history row each."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_failed(path, exc) from exc
    with _locked(path), _private():
        remove_stale_copies(path)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp.gpkg", dir=path.parent)
        except OSError as exc:
            raise _write_failed(path, exc) from exc
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            for key, frame in _with_zone_history(layers, None, user=user, city_adcode=city_adcode).items():
                _write_layer(tmp, key, frame)
            meta_df = pd.DataFrame(
                {"key": list((meta or {}).keys()), "value": [str(v) for v in (meta or {}).values()]}
            )
            pyogrio.write_dataframe(meta_df, tmp, layer=META_TABLE, driver="GPKG")
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except OSError as exc:
            raise _write_failed(path, exc) from exc
        finally:
            if tmp.exists():
                tmp.unlink()


def _check_modes(frames: Mapping[str, pd.DataFrame], modes: Mapping[str, str]) -> None:
    """Refuse modes for layers not written, modes other than ``append`` / ``replace``, and a
    direct write of ``zone_history`` (the store writes it when zones are saved)."""
    if "zone_history" in frames:
        raise ValueError(_HISTORY_DIRECT)
    unknown = set(modes) - set(frames)
    if unknown:
        msg = f"modes given for layers not written: {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    for key in frames:
        mode = modes.get(key, "append")
        if mode not in ("append", "replace"):
            msg = f"mode must be 'append' or 'replace', got {mode!r} for layer {key!r}"
            raise ValueError(msg)


@contextlib.contextmanager
def _private() -> Iterator[None]:
    """Files created meanwhile are readable by their owner only (the store holds personal data)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def remove_stale_copies(path: Path) -> list[Path]:
    """Delete temporary copies (``<store>.*.tmp.gpkg``) that a killed writer left behind, and
    return them. Call only under the writer lock: every running writer holds it while its copy
    exists, so a copy found then belongs to no running writer."""
    removed = []
    for tmp in path.parent.glob(path.name + ".*.tmp.gpkg"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            continue
    if removed:
        logging.getLogger("riskmap.store").warning(
            "removed %d temporary cop%s a stopped writer left beside %s: %s",
            len(removed), "y" if len(removed) == 1 else "ies", path.name, ", ".join(p.name for p in removed),
        )
    return removed


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock beside the store, so writers take turns (readers need none)."""
    lock = path.with_name(path.name + ".lock")
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class StoreBase:
    """What every store backend does the same way on top of its own ``write_layers``,
    ``save_zone`` and ``zone_history``.

    ``city_adcode`` is the city the zone rules keep every zone inside
    (:func:`layers.store.open_store` sets it from the dashboard's setting)."""

    city_adcode: str = DEFAULT_CITY_ADCODE

    def _guard_saved_zone(
        self,
        row: gpd.GeoDataFrame,
        hist: gpd.GeoDataFrame,
        stored: Callable[[], pd.DataFrame | None],
        *,
        action: str,
        merging: Sequence[str],
    ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """The zone rules on one planner's save (:func:`layers.zone_rules.guard_zones`) against
        the stored zones ``stored()`` gives (read only when the rules run), except a lift: it only
        ends a zone, and ending one must stay possible even for a zone stored before the rules.
        Returns the zone row and its history row with the geometry as it will be stored."""
        if action == "lift":
            return row, hist
        row = guard_zones(row, existing=stored(), city_adcode=self.city_adcode, merging=merging)
        return row, hist.set_geometry(gpd.GeoSeries(list(row.geometry), index=hist.index, crs="EPSG:4326"))

    def write_layer(self, key: str, frame: pd.DataFrame, *, mode: Literal["append", "replace"] = "append") -> int:
        """Write rows of one layer atomically and return how many rows the layer has afterwards.

        ``append`` adds the rows (the caller has checked their ids are new); ``replace`` makes
        ``frame`` the whole layer. On any error the store is unchanged.
        """
        return self.write_layers({key: frame}, {key: mode})[key]

    def restore_zone(self, zone_id: str, version: int, *, based_on: int, user: str) -> ZoneVersion:
        """Save an earlier version of a zone again as its newest version (action ``restore vN``)."""
        from layers.zone_versions import restored_zone

        old = [v for v in self.zone_history(zone_id) if v.version == int(version)]
        if not old:
            msg = f"zone {zone_id} has no version {version}"
            raise ValueError(msg)
        return self.save_zone(restored_zone(old[0]), based_on=based_on, user=user, action=f"restore v{int(version)}")

    @staticmethod
    def _refuse_private(spec: LayerSpec, public: bool) -> None:
        """A layer holding personal data is never read for a public page."""
        if public and not spec.public:
            msg = f"layer {spec.key!r} holds personal data and is never read for a public page"
            raise PermissionError(msg)


class GpkgStore(StoreBase):
    """A GeoPackage store. Every write is atomic: the new store is written beside the old one and
    renamed into place under an exclusive lock, so readers see the old or the new store, never half."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def location(self) -> str:
        """Where the store is, as given to :func:`layers.store.open_store` (for cache keys)."""
        return str(self.path)

    def write_layers(
        self,
        frames: Mapping[str, pd.DataFrame],
        modes: Mapping[str, Literal["append", "replace"]],
        *,
        expect_version: float | None = None,
        user: str = "system",
        action: str = "import",
    ) -> dict[str, int]:
        """Write several layers in one atomic step; return each layer's row count afterwards.

        ``modes[key]`` is ``append`` or ``replace`` as in :meth:`write_layer` (a key missing from
        ``modes`` is appended). Readers see either none or all of the writes. With
        ``expect_version`` (a :meth:`version` read earlier), the write is refused with
        ``StaleWrite`` when the store has changed since, so a read-modify-write cannot lose
        someone else's save. On any error the store is unchanged.

        Zones written this way (imports) get their next version, saved by ``user``, and a history
        row with ``action`` (see layers/zone_versions.py); planners' saves use :meth:`save_zone`.
        """
        if not frames:
            return {}
        _check_modes(frames, modes)
        coerced = {key: get_spec(key).coerce(frame) for key, frame in frames.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            if expect_version is not None and (not self.path.exists() or self.version() != expect_version):
                msg = f"{self.path.name} changed since it was read; read it again and retry"
                raise StaleWrite(msg)
            present = self.layers() if self.path.exists() else []
            if "zones" in coerced:
                coerced = _with_zone_history(
                    coerced,
                    self.read("zones") if "zones" in present else None,
                    user=user,
                    action=action,
                    existing_history=self.read("zone_history") if "zone_history" in present else None,
                    mode=modes.get("zones", "append"),
                    city_adcode=self.city_adcode,
                )
                modes = {**modes, "zone_history": "replace"}
            final: dict[str, pd.DataFrame] = {}
            for key, new in coerced.items():
                spec = get_spec(key)
                if modes.get(key, "append") == "append" and key in present:
                    combined = pd.concat([self.read(key), new], ignore_index=True)
                    new = (
                        gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326") if spec.geometry else combined
                    )
                    if spec.id_column:
                        dup = new[spec.id_column].dropna()
                        dup = dup[dup.duplicated()].unique().tolist()
                        if dup:
                            msg = f"layer {key!r}: ids already in the store: {', '.join(map(str, dup[:10]))}"
                            raise ValueError(msg)
                final[key] = new
            self._commit(final)
        return {key: len(new) for key, new in final.items() if key in frames}

    def _commit(self, final: Mapping[str, pd.DataFrame]) -> None:
        """Write whole layers into a copy of the store and move it into place (call under the lock)."""
        remove_stale_copies(self.path)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp.gpkg", dir=self.path.parent)
        except OSError as exc:
            raise _write_failed(self.path, exc) from exc
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if self.path.exists():
                shutil.copyfile(self.path, tmp)
            else:
                tmp.unlink()
            for key, new in final.items():
                _write_layer(tmp, key, new)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise _write_failed(self.path, exc) from exc
        except pyogrio.errors.DataSourceError as exc:  # GDAL reports a full disk this way
            raise _write_failed(self.path, OSError(errno.ENOSPC if "space" in str(exc).lower() else errno.EIO, str(exc))) from exc
        finally:
            if tmp.exists():
                tmp.unlink()

    # -- zone versions (layers/zone_versions.py) ----------------------------------------------

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

        ``based_on`` is the version the planner started from (None for a new zone). The check
        and the write happen under the writer lock, so of two planners who started from the
        same version, the second is refused with ``StaleWrite`` ("changed by X at T — reload").
        The zone rules run in the same step (:meth:`_guard_saved_zone`): a zone outside the city,
        invalid, or doubling a zone of its tier in force is refused with
        :class:`layers.zone_rules.ZoneRefused`; ``merging`` names the zones the new one takes in
        (the caller lifts them), which it may overlap.
        """
        from layers.zone_versions import prepare_save

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            self._require()
            present = self.layers()
            zones = self.read("zones") if "zones" in present else get_spec("zones").coerce(
                gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
            )
            match = zones[zones["id"] == str(zone.get("id") or "").strip()]
            current = match.iloc[0].to_dict() if len(match) else None
            row, hist, version = prepare_save(current, zone, based_on=based_on, user=user, action=action, now=now)
            row, hist = self._guard_saved_zone(row, hist, lambda: zones, action=action, merging=merging)
            rest = zones[zones["id"] != row["id"].iloc[0]]
            new_zones = pd.concat([rest, row], ignore_index=True) if len(rest) else row
            history = self.read("zone_history") if "zone_history" in present else None
            new_history = pd.concat([history, hist], ignore_index=True) if history is not None and len(history) else hist
            self._commit(
                {
                    "zones": gpd.GeoDataFrame(new_zones, geometry="geometry", crs="EPSG:4326"),
                    "zone_history": gpd.GeoDataFrame(new_history, geometry="geometry", crs="EPSG:4326"),
                }
            )
        return version

    def zone_history(self, zone_id: str) -> list[ZoneVersion]:
        """Every saved version of a zone, oldest first ([] for an unknown zone)."""
        from layers.zone_versions import versions_from_history

        self._require()
        if "zone_history" not in self.layers():
            return []
        return versions_from_history(self.read("zone_history"), zone_id)

    def exists(self) -> bool:
        return self.path.exists()

    def _require(self) -> None:
        if not self.path.exists():
            msg = (f"找不到数据库 {self.path.name}，请先运行 `make run` 或 `riskmap demo` 建立 / "
                   f"store not found: {self.path.name} — run `make run` or `riskmap demo` to build it")
            raise StoreMissing(msg)

    def version(self) -> float:
        """A value that changes whenever the store file changes (for cache keys)."""
        self._require()
        return self.path.stat().st_mtime_ns

    def layers(self) -> list[str]:
        self._require()
        with _readable(self.path):
            return [str(name) for name, _ in pyogrio.list_layers(self.path)]

    def count(self, key: str) -> int:
        """Number of rows in a layer (0 when absent) without reading its contents."""
        self._require()
        if key not in self.layers():
            return 0
        return int(pyogrio.read_info(self.path, layer=key)["features"])

    def meta(self) -> dict[str, str]:
        self._require()
        if META_TABLE not in self.layers():
            return {}
        with _readable(self.path):
            df = pyogrio.read_dataframe(self.path, layer=META_TABLE)
        return dict(zip(df["key"].astype(str), df["value"].astype(str), strict=True))

    def read(
        self,
        key: str,
        *,
        as_of: pd.Timestamp | str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        public: bool = False,
    ) -> pd.DataFrame:
        """Read a layer, typed by its spec; optionally only rows in force on ``as_of``, inside
        ``bbox`` (WGS-84 minx, miny, maxx, maxy), and without personal columns (``public``)."""
        self._require()
        spec = get_spec(key)
        self._refuse_private(spec, public)
        if key not in self.layers():
            empty = pd.DataFrame({c: [] for c in spec.column_names})
            if spec.geometry:
                empty = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
            frame = spec.coerce(empty)
        else:
            with _readable(self.path):
                raw = (
                    gpd.read_file(self.path, layer=key, bbox=bbox, engine="pyogrio") if spec.geometry
                    else pyogrio.read_dataframe(self.path, layer=key)
                )
            frame = spec.coerce(raw)
        frame = spec.as_of(frame, as_of)
        if public:
            frame = spec.public_view(frame)
        return frame.reset_index(drop=True)
