"""The rules every zone written must pass, whatever brings it. The store runs them on its own
write path (:func:`guard_zones`, called by both backends' ``save_zone``, ``write_layers`` and a new
store's write, under the write lock), so the planning page, ``riskmap import zones``, the Data page
and any other caller get one answer. An import also runs :func:`check_zone_import` before writing,
to name each refused row and offer to skip it.

A zone's tier must be a known one; its shape must be valid and inside the city
(:func:`geo.zones.validate_zone`, which also repairs what it can and says so); and it must not
double a zone of the same tier in force during its period, nor an earlier zone of the same file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.zones import TIER_ORDER, as_date, as_text, in_force_during, validate_zone
from layers.io._issues import Issue

__all__ = [
    "ZoneRefused",
    "as_date",
    "as_text",
    "check_zone_import",
    "city_shape",
    "guard_zones",
    "normalise_tier",
    "zones_in_force_between",
]

#: The city the store's zone rules check against when the store is not told otherwise (Taiyuan;
#: the dashboard's ``city_adcode`` setting is passed to :func:`layers.store.open_store`).
DEFAULT_CITY_ADCODE = "140100"


class ZoneRefused(ValueError):
    """A zone write the zone rules refuse; nothing was written. ``reasons`` holds one
    ``(zone id, reason_zh, reason_en)`` per reason; the message names each zone and why, in
    Chinese and English."""

    def __init__(self, reasons: Sequence[tuple[str, str, str]]):
        self.reasons = list(reasons)
        zh = "；".join(f"区域 {z}：{r_zh}" for z, r_zh, _ in self.reasons)
        en = "; ".join(f"zone {z}: {r_en}" for z, _, r_en in self.reasons)
        super().__init__(f"{zh} / {en}")



@lru_cache(maxsize=4)
def city_shape(city_adcode: str = DEFAULT_CITY_ADCODE) -> BaseGeometry:
    """The city's outline (the union of its counties, WGS-84)."""
    import shapely

    from layers.boundaries import city_counties

    return shapely.union_all(city_counties(city_adcode).geometry.to_numpy())


_TIER_ALIASES = {
    **{k: k for k in TIER_ORDER},
    "封控区": "sealed", "封控": "sealed", "sealed zone": "sealed", "seal": "sealed",
    "管控区": "controlled", "管控": "controlled", "controlled zone": "controlled", "control": "controlled",
    "防范区": "precaution", "防范": "precaution", "precaution zone": "precaution", "prevention": "precaution",
}

def zones_in_force_between(
    zones: gpd.GeoDataFrame, start: dt.date | None, end: dt.date | None = None, *, exclude: Iterable[str] = ()
) -> gpd.GeoDataFrame:
    """The zones a zone from ``start`` to ``end`` (open when None) must not double: those in force
    at some day of that period, without the ``exclude`` ids. ``lifted`` is cleared in the result
    (a zone lifted later is still in force then), so :func:`geo.zones.validate_zone` checks them all."""
    if zones is None or len(zones) == 0:
        return zones
    z = zones[~zones["id"].astype(str).isin({str(i) for i in exclude}).to_numpy()]
    none = pd.Series(pd.NaT, index=z.index)
    keep = in_force_during(z["start"] if "start" in z.columns else none, z["lifted"] if "lifted" in z.columns else none,
                           start or None, end)
    out = z[keep].copy()
    if "lifted" in out.columns:
        out["lifted"] = pd.NaT
    return out


def normalise_tier(value: Any) -> str | None:
    """``sealed``/``controlled``/``precaution`` from those words or 封控区/管控区/防范区 (None otherwise)."""
    key = as_text(value).strip().lower()
    return _TIER_ALIASES.get(key)


def check_zone_import(
    good: gpd.GeoDataFrame,
    rows: Sequence[int],
    *,
    existing: gpd.GeoDataFrame | None,
    city: BaseGeometry,
    unit: str = "feature",
) -> tuple[gpd.GeoDataFrame, list[Issue], list[Issue]]:
    """The zone checks an import must pass on top of :func:`layers.io.validate`.

    Each row's tier must be a known one (Chinese names are accepted and stored as
    ``sealed``/``controlled``/``precaution``); its shape must pass
    :func:`geo.zones.validate_zone` against the zones in force during its period (``existing``)
    and the rows before it in the file — an overlap with a zone of the same tier is refused,
    never doubled. Repairs (clipping to the city, fixing outlines) are applied and noted.

    Returns ``(rows ready to write, rejects, notes)``.
    """
    out = good.copy()
    rejects: list[Issue] = []
    notes: list[Issue] = []
    accepted: list[gpd.GeoDataFrame] = []
    geoms = list(out.geometry)
    tiers = list(out["tier"]) if "tier" in out.columns else [None] * len(out)
    for pos, row in enumerate(rows):
        tier = normalise_tier(tiers[pos])
        if tier is None:
            rejects.append(Issue(row, "tier", f"未知的区域级别 '{as_text(tiers[pos])}'（应为 封控区/管控区/防范区 或 sealed/controlled/precaution）",
                                 f"unknown tier '{as_text(tiers[pos])}' (use sealed/controlled/precaution or 封控区/管控区/防范区)", unit=unit))
            continue
        out.iloc[pos, out.columns.get_loc("tier")] = tier
        r = out.iloc[pos]
        start, end = as_date(r.get("start")), as_date(r.get("lifted")) or None
        against = [zones_in_force_between(existing, start, end)] if existing is not None and len(existing) else []
        against += accepted
        frames = [f for f in against if f is not None and len(f)]
        pool = pd.concat(frames, ignore_index=True) if frames else None
        pool = gpd.GeoDataFrame(pool, geometry="geometry", crs="EPSG:4326") if pool is not None else None
        check = validate_zone(geoms[pos], city_boundary=city, existing=pool, tier=tier)
        errors = check.of_level("error")
        if errors or check.geometry is None:
            for _, zh, en in errors:
                rejects.append(Issue(row, "geometry", zh, en, unit=unit))
            continue
        for _, zh, en in check.of_level("warning"):
            notes.append(Issue(row, "geometry", zh, en, unit=unit))
        geoms[pos] = check.geometry
        accepted.append(gpd.GeoDataFrame({"id": [as_text(r.get("id"))], "tier": [tier]}, geometry=[check.geometry], crs="EPSG:4326"))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326"))
    bad = {r.row for r in rejects}
    keep = [p for p, row in enumerate(rows) if row not in bad]
    return out.iloc[keep].reset_index(drop=True), rejects, notes


def guard_zones(
    new: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame | None,
    city_adcode: str = DEFAULT_CITY_ADCODE,
    merging: Iterable[str] = (),
) -> gpd.GeoDataFrame:
    """The zone rules on the store's write path: ``new`` (zones about to be written) as they will
    be stored — repairs applied as :func:`check_zone_import` applies them — or
    :class:`ZoneRefused` naming every zone refused and why.

    ``existing`` holds the zones that stay in the store beside ``new`` (None when the write
    replaces them all); a stored zone of the same id as a new row is the row's own older version
    and is not checked against, nor are the ``merging`` zones (lifted into the new one by the
    caller).
    """
    if new is None or len(new) == 0:
        return new
    ids = [as_text(i) for i in new["id"]]
    others = None
    if existing is not None and len(existing):
        skip = set(ids) | {as_text(m) for m in merging}
        others = existing[~existing["id"].astype(str).isin(skip).to_numpy()]
    rows = list(range(len(new)))
    good, rejects, _notes = check_zone_import(new, rows, existing=others, city=city_shape(city_adcode))
    if rejects:
        raise ZoneRefused([(ids[r.row], r.reason_zh, r.reason_en) for r in rejects])
    return good
