"""Open a store by its location: a GeoPackage path (the embedded default) or a PostgreSQL URL.

    open_store("var/riskmap.gpkg")                      # GpkgStore
    open_store("postgresql://riskmap@db.intranet/riskmap")  # PostgisStore (layers/store/postgis.py)

Both backends have the same interface and behaviour (:class:`Store`): layers read by key, date
(``as_of``) and bounding box, atomic multi-layer writes with optimistic concurrency
(``expect_version``), zone versions with history and restore. ``location`` is what pages key
their caches on; :func:`display_location` is what may be shown or logged — a URL's password is
never shown (prefer ``PGPASSWORD`` or ``~/.pgpass`` to a password in the URL anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import pandas as pd

from layers.store.locations import URL_SCHEMES, display_location, is_url

if TYPE_CHECKING:
    from geo.zones import ZoneVersion
    from layers.store.gpkg import GpkgStore
    from layers.store.postgis import PostgisStore

__all__ = ["Store", "open_store", "write_new_store_at", "is_url", "display_location", "URL_SCHEMES"]



class Store(Protocol):
    """What every store backend offers (see :class:`layers.store.gpkg.GpkgStore` for the semantics)."""

    @property
    def location(self) -> str: ...

    def exists(self) -> bool: ...

    def version(self) -> float: ...

    def layers(self) -> list[str]: ...

    def count(self, key: str) -> int: ...

    def meta(self) -> dict[str, str]: ...

    def read(
        self,
        key: str,
        *,
        as_of: pd.Timestamp | str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        public: bool = False,
    ) -> pd.DataFrame: ...

    def write_layer(self, key: str, frame: pd.DataFrame, *, mode: Literal["append", "replace"] = "append") -> int: ...

    def write_layers(
        self,
        frames: Mapping[str, pd.DataFrame],
        modes: Mapping[str, Literal["append", "replace"]],
        *,
        expect_version: float | None = None,
        user: str = "system",
        action: str = "import",
    ) -> dict[str, int]: ...

    def save_zone(
        self,
        zone: Mapping[str, object],
        *,
        based_on: int | None,
        user: str,
        action: str = "edit",
        now: datetime | None = None,
        merging: Sequence[str] = (),
    ) -> ZoneVersion: ...

    def zone_history(self, zone_id: str) -> list[ZoneVersion]: ...

    def restore_zone(self, zone_id: str, version: int, *, based_on: int, user: str) -> ZoneVersion: ...


def _resolve(location: str | Path, root: Path | None) -> str | Path:
    if is_url(location):
        return str(location)
    path = Path(location)
    return root / path if root is not None and not path.is_absolute() else path


def open_store(
    location: str | Path, *, root: Path | None = None, city_adcode: str | None = None
) -> GpkgStore | PostgisStore:
    """The store at ``location``: a :class:`~layers.store.postgis.PostgisStore` for a PostgreSQL URL,
    else a :class:`~layers.store.gpkg.GpkgStore` for the path (relative paths are taken relative to
    ``root`` when given, else to the working directory). ``city_adcode`` is the city its zone
    rules keep zones inside (default Taiyuan, :data:`layers.zone_rules.DEFAULT_CITY_ADCODE`).

    Opening is cheap; a PostgreSQL store connects, and applies its schema migrations, on first use.
    """
    loc = _resolve(location, root)
    store: GpkgStore | PostgisStore
    if isinstance(loc, str):
        from layers.store.postgis import PostgisStore

        store = PostgisStore(loc)
    else:
        from layers.store.gpkg import GpkgStore

        store = GpkgStore(loc)
    if city_adcode:
        store.city_adcode = city_adcode
    return store


def write_new_store_at(
    location: str | Path,
    layers: Mapping[str, pd.DataFrame],
    *,
    meta: Mapping[str, str] | None = None,
    user: str = "system",
    root: Path | None = None,
    city_adcode: str | None = None,
) -> None:
    """Write a complete store at ``location``, replacing whatever it held, in one atomic step
    (a GeoPackage is written beside and renamed; a PostgreSQL store in one transaction).

    Zones are stamped as version 1 saved by ``user``, with an ``import`` history row each.
    """
    loc = _resolve(location, root)
    if isinstance(loc, str):
        from layers.store.postgis import write_new_store_pg

        write_new_store_pg(loc, layers, meta=meta, user=user, city_adcode=city_adcode)
    else:
        from layers.store.gpkg import write_new_store

        write_new_store(loc, layers, meta=meta, user=user, **({"city_adcode": city_adcode} if city_adcode else {}))
