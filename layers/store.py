"""Persistence behind one interface. The embedded default is a GeoPackage file (opens in QGIS).

Layers are stored in WGS-84 (EPSG:4326) under their registry key; dates as ISO dates; a small
``riskmap_meta`` table holds scenario metadata (e.g. whether the store holds demo data).
A whole new store is written to a temporary file and moved into place, so a reader never sees
half a store. Row versions, history and the PostGIS backend build on this interface.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import StaleWrite
from layers import get_spec

__all__ = ["GpkgStore", "StoreMissing", "write_new_store"]

META_TABLE = "riskmap_meta"


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


def write_new_store(
    path: Path, layers: Mapping[str, pd.DataFrame], *, meta: Mapping[str, str] | None = None
) -> None:
    """Write a complete store atomically: into a temporary file beside ``path``, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp.gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        for key, frame in layers.items():
            _write_layer(tmp, key, frame)
        meta_df = pd.DataFrame(
            {"key": list((meta or {}).keys()), "value": [str(v) for v in (meta or {}).values()]}
        )
        pyogrio.write_dataframe(meta_df, tmp, layer=META_TABLE, driver="GPKG")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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


class GpkgStore:
    """A GeoPackage store. Every write is atomic: the new store is written beside the old one and
    renamed into place under an exclusive lock, so readers see the old or the new store, never half."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def write_layer(self, key: str, frame: pd.DataFrame, *, mode: Literal["append", "replace"] = "append") -> int:
        """Write rows of one layer atomically and return how many rows the layer has afterwards.

        ``append`` adds the rows (the caller has checked their ids are new); ``replace`` makes
        ``frame`` the whole layer. On any error the store is unchanged.
        """
        return self.write_layers({key: frame}, {key: mode})[key]

    def write_layers(
        self,
        frames: Mapping[str, pd.DataFrame],
        modes: Mapping[str, Literal["append", "replace"]],
        *,
        expect_version: float | None = None,
    ) -> dict[str, int]:
        """Write several layers in one atomic step; return each layer's row count afterwards.

        ``modes[key]`` is ``append`` or ``replace`` as in :meth:`write_layer` (a key missing from
        ``modes`` is appended). Readers see either none or all of the writes. With
        ``expect_version`` (a :meth:`version` read earlier), the write is refused with
        ``StaleWrite`` when the store has changed since, so a read-modify-write cannot lose
        someone else's save. On any error the store is unchanged.
        """
        if not frames:
            return {}
        unknown = set(modes) - set(frames)
        if unknown:
            msg = f"modes given for layers not written: {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        for key in frames:
            mode = modes.get(key, "append")
            if mode not in ("append", "replace"):
                msg = f"mode must be 'append' or 'replace', got {mode!r} for layer {key!r}"
                raise ValueError(msg)
        coerced = {key: get_spec(key).coerce(frame) for key, frame in frames.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            if expect_version is not None and (not self.path.exists() or self.version() != expect_version):
                msg = f"{self.path.name} changed since it was read; read it again and retry"
                raise StaleWrite(msg)
            present = self.layers() if self.path.exists() else []
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
            fd, tmp_name = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp.gpkg", dir=self.path.parent)
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
            finally:
                if tmp.exists():
                    tmp.unlink()
        return {key: len(new) for key, new in final.items()}

    def exists(self) -> bool:
        return self.path.exists()

    def _require(self) -> None:
        if not self.path.exists():
            msg = f"store not found: {self.path.name} — run `make run` or `riskmap demo` to build it"
            raise StoreMissing(msg)

    def version(self) -> float:
        """A value that changes whenever the store file changes (for cache keys)."""
        self._require()
        return self.path.stat().st_mtime_ns

    def layers(self) -> list[str]:
        self._require()
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
        if public and not spec.public:
            msg = f"layer {key!r} holds personal data and is never read for a public page"
            raise PermissionError(msg)
        if key not in self.layers():
            empty = pd.DataFrame({c: [] for c in spec.column_names})
            if spec.geometry:
                empty = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
            frame = spec.coerce(empty)
        elif spec.geometry:
            frame = spec.coerce(gpd.read_file(self.path, layer=key, bbox=bbox, engine="pyogrio"))
        else:
            frame = spec.coerce(pyogrio.read_dataframe(self.path, layer=key))
        frame = spec.as_of(frame, as_of)
        if public:
            frame = spec.public_view(frame)
        return frame.reset_index(drop=True)
