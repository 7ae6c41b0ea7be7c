"""Zone versions: every save of a zone is a new version with who, when, what and what changed.

The ``zones`` layer holds the current version of each zone (columns ``version``, ``saved_by``,
``saved_at``); the ``zone_history`` layer holds every version ever written, including the
current one, so a zone's history can be shown and any earlier version restored.

Optimistic concurrency, per zone: a planner's edit names the version it started from
(``based_on``). The store refuses the save with :class:`geo.errors.StaleWrite` — "changed by X
at T — reload / 已被 X 于 T 修改，请重新加载" — when the zone has been saved since, so a
concurrent edit never overwrites another. The check and the write happen in one atomic step
of the store (under its writer lock or in one database transaction).

This module holds the backend-independent parts, so the GeoPackage and the PostGIS stores
number, stamp and describe versions the same way:

* :func:`stamp_zones` — rows written in bulk (demo, imports): each gets the next version of
  its id and an ``import`` (or given) history row.
* :func:`prepare_save` — one planner save: checks ``based_on``, builds the new zone row and its
  history row.
* :func:`versions_from_history` — history rows as :class:`geo.zones.ZoneVersion` objects.

Times are Asia/Shanghai local time with the offset (``2022-03-28T09:15:00+08:00``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.zones import ZoneVersion, check_save, diff_versions
from layers.spec import Column, LayerSpec
from layers.store.records import local_stamp
from layers.zones import SPEC as ZONES

__all__ = [
    "HISTORY_SPEC",
    "ZONE_ATTRIBUTES",
    "STAMP_COLUMNS",
    "now_local",
    "stamp_zones",
    "prepare_save",
    "versions_from_history",
    "version_from_row",
    "history_id",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAMP_COLUMNS = ("version", "saved_by", "saved_at")
#: The attributes a version records (every zone column except the id and the stamps).
ZONE_ATTRIBUTES = tuple(c for c in ZONES.column_names if c != "id" and c not in STAMP_COLUMNS)

HISTORY_SPEC = LayerSpec(
    key="zone_history",
    name_zh="区域版本记录",
    name_en="Zone history",
    geometry="Polygon",
    id_column="id",  # "<zone id>@v<version>"
    columns=(
        Column("id", "str", "记录编号", "Record ID", required=True),
        Column("zone_id", "str", "区域编号", "Zone ID", required=True),
        Column("version", "int", "版本", "Version", required=True),
        Column("action", "str", "操作", "Action", required=True),
        Column("changes", "str", "修改内容", "Changes"),
        Column("saved_by", "str", "保存人", "Saved by", required=True),
        Column("saved_at", "str", "保存时间", "Saved at", required=True),
        *(c for c in ZONES.columns if c.name in ZONE_ATTRIBUTES),
    ),
    public=False,  # who saved what is for staff, not for the resident page
    importable=False,  # every version is written by the store when a zone is saved
)

ACTION_TEXT = {
    "create": ("新建", "created"),
    "edit": ("修改", "edited"),
    "lift": ("解封", "lifted"),
    "downgrade": ("降级", "downgraded"),
    "import": ("导入", "imported"),
    "restore": ("恢复", "restored"),
}


def now_local() -> dt.datetime:
    """Now in Asia/Shanghai, to the second, with its offset."""
    return dt.datetime.now(SHANGHAI).replace(microsecond=0)


def history_id(zone_id: str, version: int) -> str:
    return f"{zone_id}@v{int(version)}"


def _plain(value: Any) -> Any:
    """A value as stored in a version's attributes: None for missing, dates as ``YYYY-MM-DD``."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.strftime("%Y-%m-%d")
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def version_from_row(row: Mapping[str, Any], *, zone_id_column: str = "zone_id") -> ZoneVersion:
    """A :class:`ZoneVersion` from a history row (or, with ``zone_id_column="id"``, a zones row)."""
    geom = row.get("geometry")
    version = row.get("version")
    saved_at = row.get("saved_at")
    return ZoneVersion(
        zone_id=str(row[zone_id_column]),
        version=int(version) if version is not None and not pd.isna(version) else 0,
        saved_by=str(row.get("saved_by") or ""),
        saved_at=pd.Timestamp(saved_at).to_pydatetime() if saved_at and not pd.isna(saved_at) else None,
        geometry_wkb=shapely.to_wkb(geom) if geom is not None else b"",
        attributes={k: _plain(row.get(k)) for k in ZONE_ATTRIBUTES},
        action=str(row.get("action") or ""),
        changes=str(row.get("changes") or ""),
    )


def versions_from_history(history: pd.DataFrame, zone_id: str) -> list[ZoneVersion]:
    """The versions of one zone, oldest first ([] for a zone with no history)."""
    if history.empty:
        return []
    rows = history[history["zone_id"] == str(zone_id)].sort_values("version", kind="stable")
    return [version_from_row(r) for r in rows.to_dict("records")]


def _history_rows(zones: gpd.GeoDataFrame, *, actions: list[str], changes: list[str]) -> gpd.GeoDataFrame:
    out = pd.DataFrame(
        {
            "id": [history_id(z, v) for z, v in zip(zones["id"], zones["version"], strict=True)],
            "zone_id": zones["id"].astype(str).to_numpy(),
            "version": zones["version"].to_numpy(),
            "action": actions,
            "changes": changes,
            "saved_by": zones["saved_by"].to_numpy(),
            "saved_at": zones["saved_at"].to_numpy(),
        }
    )
    for c in ZONE_ATTRIBUTES:
        out[c] = zones[c].to_numpy()
    return HISTORY_SPEC.coerce(gpd.GeoDataFrame(out, geometry=list(zones.geometry), crs="EPSG:4326"))


def _current_versions(existing: pd.DataFrame | None) -> dict[str, int]:
    if existing is None or existing.empty or "version" not in existing.columns:
        return {}
    v = pd.to_numeric(existing["version"], errors="coerce").fillna(0).astype(int)
    return dict(zip(existing["id"].astype(str), v, strict=True))


def stamp_zones(
    new: pd.DataFrame,
    existing: pd.DataFrame | None,
    *,
    user: str,
    action: str = "import",
    now: dt.datetime | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Stamp zone rows written in bulk and build their history rows.

    Each row gets version = (the stored version of its id, 0 if new) + 1, ``saved_by`` =
    ``user`` and ``saved_at`` = ``now``; stamps given in ``new`` are ignored (an import never
    sets its own version). Returns ``(zones, history)``.
    """
    zones = ZONES.coerce(new)
    current = _current_versions(existing)
    zones["version"] = pd.array([current.get(str(i), 0) + 1 for i in zones["id"]], dtype="Int64")
    zones["saved_by"] = pd.array([user] * len(zones), dtype="string")
    zones["saved_at"] = pd.array([local_stamp(now)] * len(zones), dtype="string")
    label = " / ".join(reversed(ACTION_TEXT.get(action, (action, action))))
    history = _history_rows(zones, actions=[action] * len(zones), changes=[label] * len(zones))
    return zones, history


def prepare_save(
    current: Mapping[str, Any] | None,
    zone: Mapping[str, Any],
    *,
    based_on: int | None,
    user: str,
    action: str,
    now: dt.datetime | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, ZoneVersion]:
    """Check a planner's save against the stored zone and build what to write.

    ``current`` is the stored zones row of ``zone["id"]`` (None when there is none); ``zone``
    holds the zone's columns and ``geometry`` (a shapely polygon in WGS-84). ``based_on`` is the
    version the planner started from, or None for a new zone.

    Returns ``(zone row, history row, new version)``, each ready to write.

    Raises
    ------
    StaleWrite
        The zone was saved since ``based_on`` ("changed by X at T — reload").
    ValueError
        A new zone whose id exists, an edit of a zone that does not exist, a missing id or
        geometry, or an unknown action.
    """
    if not user:
        msg = "a save needs the name of who saves it"
        raise ValueError(msg)
    base_action = action.split(" ")[0]
    if base_action not in ACTION_TEXT:
        msg = f"unknown action {action!r}; one of {', '.join(ACTION_TEXT)}"
        raise ValueError(msg)
    zone_id = str(zone.get("id") or "").strip()
    if not zone_id:
        msg = "a zone needs an id"
        raise ValueError(msg)
    geom = zone.get("geometry")
    if not isinstance(geom, BaseGeometry) or geom.is_empty:
        msg = f"zone {zone_id}: no shape to save"
        raise ValueError(msg)
    if based_on is None:
        if current is not None:
            msg = f"zone {zone_id} exists already; edit it instead of creating it again"
            raise ValueError(msg)
        version = 1
    else:
        if current is None:
            msg = f"zone {zone_id} does not exist (it may have been removed); reload"
            raise ValueError(msg)
        stored = version_from_row(current, zone_id_column="id")
        check_save(stored.version, int(based_on), current_saved_by=stored.saved_by, current_saved_at=stored.saved_at)
        version = stored.version + 1
    row = {c: zone.get(c) for c in ZONES.column_names}
    row.update(id=zone_id, version=version, saved_by=user, saved_at=local_stamp(now))
    zones = ZONES.coerce(gpd.GeoDataFrame([row], geometry=[geom], crs="EPSG:4326"))
    new = version_from_row(zones.iloc[0].to_dict(), zone_id_column="id")
    if current is None:
        changes = " / ".join(reversed(ACTION_TEXT["create"]))
    else:
        changes = "\n".join(diff_versions(version_from_row(current, zone_id_column="id"), new))
    history = _history_rows(zones, actions=[action], changes=[changes])
    new = version_from_row(history.iloc[0].to_dict())
    return zones, history, new


def restored_zone(version: ZoneVersion) -> dict[str, Any]:
    """The zone columns of an earlier version, ready for :func:`prepare_save` (action ``restore vN``)."""
    out: dict[str, Any] = {"id": version.zone_id, **dict(version.attributes)}
    out["geometry"] = version.geometry
    return out
