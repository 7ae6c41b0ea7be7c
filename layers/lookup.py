"""The resident lookup without the UI: where a location is (city, zone, risk area) and its
nearest testing sites. Public layers only; no Streamlit.

Sites inside a sealed zone
--------------------------
A testing site covered by a sealed zone in force is *unavailable* to residents outside that zone
(nobody goes in). Such sites do not count towards the ``k`` nearest: the list holds the ``k``
nearest available sites, and after them, marked unavailable, any sealed-in site that is nearer
than the last available one, so the resident sees why the closest marker is not suggested.
A resident inside the same sealed zone is served by the sites inside it as usual.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import shapely

from geo.hours import next_opening
from geo.nearest import NearestIndex
from layers._render import _isna
from layers.testing_sites import site_status

__all__ = [
    "TIER_MEANING",
    "RISK_MEANING",
    "SiteAnswer",
    "LocationStatus",
    "district_at",
    "location_status",
    "site_mask",
    "sealed_zone_of_sites",
    "sites_in_zones",
    "zones_touching",
    "area_of_place",
    "navigation_links",
    "nearest_sites",
]

#: What each zone tier means for a resident, (zh, en).
TIER_MEANING = {
    "sealed": (
        "封控区：居家不出、足不出户，核酸检测和生活物资上门服务。",
        "Sealed zone: stay at home, nobody leaves; testing and supplies come to your door.",
    ),
    "controlled": (
        "管控区：人不出小区，严禁聚集，按通知在小区内做核酸。",
        "Controlled zone: stay inside your compound, no gatherings; testing is arranged in the compound.",
    ),
    "precaution": (
        "防范区：可正常出行，但要减少聚集、戴好口罩，按通知参加核酸检测。",
        "Precaution zone: you may move about, but avoid gatherings, wear a mask and join testing when asked.",
    ),
}
#: What a medium/high risk area (or a county with unrated cases) means, (zh, en).
RISK_MEANING = {
    "high": (
        "高风险区：居家或集中隔离，不外出；离开该地区的人员须按规定报告并隔离。",
        "High risk area: stay at home or in quarantine; people leaving it must report and quarantine.",
    ),
    "medium": (
        "中风险区：减少外出、不聚集，离开前须持核酸阴性证明并报告。",
        "Medium risk area: go out less, no gatherings; a negative test and a report are needed before leaving.",
    ),
    "cases_unrated": (
        "该区县有病例尚未定级：关注官方通知，减少外出。",
        "Cases reported here, not yet rated: follow official notices and go out less.",
    ),
}
NONE_MEANING = (
    "不在封控区、管控区、防范区或中高风险区内：正常生活，做好个人防护。",
    "Not inside a sealed, controlled or precaution zone or a medium/high risk area: carry on, take the usual care.",
)
_TIER_ORDER = ("sealed", "controlled", "precaution")
_RISK_ORDER = ("high", "medium", "cases_unrated")


@dataclass(frozen=True, slots=True)
class SiteAnswer:
    """One testing site in a resident's answer.

    ``status`` is ``open``/``24h``/``closed``/``unknown`` at the moment asked; ``opens_at`` the
    next opening when closed (None when open, unknown or never open); ``unavailable`` True for a
    site inside a sealed zone the resident is not in.
    """

    position: int
    id: str
    name: str
    type: str
    distance_m: float
    hours: str
    status: str
    opens_at: datetime | None
    free: bool | None
    unavailable: bool
    lon: float
    lat: float
    address: str = ""


@dataclass(frozen=True, slots=True)
class LocationStatus:
    """Zone and risk status of a location: the strictest tier and risk level covering it."""

    tier: str | None
    zone_name: str | None
    risk_level: str | None
    risk_name: str | None
    sealed_zone_ids: tuple[str, ...] = ()
    controlled_zone_ids: tuple[str, ...] = ()

    @property
    def advice(self) -> str:
        """What the sites list is for this resident: ``stay_home`` inside a sealed zone (sampling
        comes to the door; sites only for reference), ``zone_sites`` inside a controlled zone (the
        sites inside the zone only), else ``nearest``."""
        if self.sealed_zone_ids:
            return "stay_home"
        if self.controlled_zone_ids:
            return "zone_sites"
        return "nearest"

    def meanings(self, lang: str) -> list[str]:
        """Plain-language lines, one per status that applies (or the 'none' line)."""
        i = 0 if lang == "zh" else 1
        out = []
        if self.tier:
            out.append(TIER_MEANING[self.tier][i])
        if self.risk_level and self.risk_level in RISK_MEANING:
            out.append(RISK_MEANING[self.risk_level][i])
        return out or [NONE_MEANING[i]]


def district_at(lon: float, lat: float, districts: pd.DataFrame) -> str | None:
    """The name of the district covering the point (boundary included), or None outside them."""
    pt = shapely.Point(lon, lat)
    hit = shapely.covers(np.asarray(districts.geometry.values), pt)
    if not hit.any():
        return None
    return str(districts["name"].iloc[int(np.flatnonzero(hit)[0])])


def location_status(lon: float, lat: float, zones: pd.DataFrame, risk_areas: pd.DataFrame) -> LocationStatus:
    """The strictest zone tier and risk level covering the point.

    ``zones`` and ``risk_areas`` are the rows in force (already filtered to the day); a point on a
    zone's edge is inside it (``covers``).
    """
    pt = shapely.Point(lon, lat)
    tier = zone_name = level = risk_name = None
    sealed_ids: tuple[str, ...] = ()
    controlled_ids: tuple[str, ...] = ()
    if len(zones):
        hit = shapely.covers(np.asarray(zones.geometry.values), pt) & zones["tier"].isin(_TIER_ORDER).to_numpy()
        inside = zones[hit]
        if len(inside):
            order = inside["tier"].map({t: i for i, t in enumerate(_TIER_ORDER)})
            best = inside.loc[order.sort_values(kind="stable").index[0]]
            tier, zone_name = str(best["tier"]), str(best["name"])
            sealed_ids = tuple(str(z) for z in inside.loc[inside["tier"] == "sealed", "id"])
            controlled_ids = tuple(str(z) for z in inside.loc[inside["tier"] == "controlled", "id"])
    if len(risk_areas):
        hit = shapely.covers(np.asarray(risk_areas.geometry.values), pt)
        inside = risk_areas[hit & risk_areas["level"].isin(_RISK_ORDER).to_numpy()]
        if len(inside):
            order = inside["level"].map({t: i for i, t in enumerate(_RISK_ORDER)})
            best = inside.loc[order.sort_values(kind="stable").index[0]]
            level = str(best["level"])
            parts = [best.get(c) for c in ("county", "area_name")]
            risk_name = " ".join(str(p) for p in parts if not _isna(p)) or None
    return LocationStatus(tier, zone_name, level, risk_name, sealed_ids, controlled_ids)


def site_mask(
    sites: pd.DataFrame, *, when: datetime | None = None, open_now: bool = False, types: Collection[str] | None = None
) -> np.ndarray:
    """Candidate flags for the filters: open (or 24 h) at ``when`` when ``open_now``; type in ``types``."""
    mask = np.ones(len(sites), dtype=bool)
    if open_now:
        if when is None:
            msg = "open_now needs the moment 'when'"
            raise ValueError(msg)
        mask &= np.array([s in ("open", "24h") for s in site_status(sites["hours"], when)], dtype=bool)
    if types:
        mask &= sites["type"].isin(list(types)).to_numpy()
    return mask


def sites_in_zones(sites: pd.DataFrame, zones: pd.DataFrame, zone_ids: Collection[str]) -> np.ndarray:
    """Flags: the site lies in (or on the edge of) one of the zones ``zone_ids`` — in a controlled
    zone residents test inside it ("人不出小区 … 按通知在小区内做核酸")."""
    chosen = zones[zones["id"].astype(str).isin([str(z) for z in zone_ids])]
    if not len(chosen) or not len(sites):
        return np.zeros(len(sites), dtype=bool)
    area = shapely.union_all(np.asarray(chosen.geometry.values))
    return shapely.covers(area, np.asarray(sites.geometry.values))


def area_of_place(kind: str, name: str, district: str, districts: pd.DataFrame, neighbourhoods: pd.DataFrame) -> shapely.Geometry | None:
    """The area a district or a street name stands for (a street: its neighbourhoods together);
    None for other kinds of place (a point answers for them)."""
    if kind == "district":
        rows = districts[districts["name"].astype(str) == name]
    elif kind == "street":
        rows = neighbourhoods[(neighbourhoods["street"].astype(str) == name)
                              & ((neighbourhoods["district"].astype(str) == district) if district else True)]
    else:
        return None
    return shapely.union_all(np.asarray(rows.geometry.values)) if len(rows) else None


def zones_touching(area: shapely.Geometry, zones: pd.DataFrame, *, min_share: float = 1e-4) -> dict[str, int]:
    """Zones in force (``zones``, filtered to the day) that cover part of ``area`` — a district or
    a street, searched by name, not a point — counted by tier (strictest first). A zone that only
    touches the area's edge (less than ``min_share`` of the area) does not count."""
    if not len(zones) or area is None or area.is_empty:
        return {}
    geoms = np.asarray(zones.geometry.values)
    hit = shapely.intersects(geoms, area)
    if not hit.any():
        return {}
    shared = shapely.area(shapely.intersection(geoms[hit], area)) >= min_share * area.area
    tiers = zones.loc[hit, "tier"].to_numpy()[shared]
    return {tier: int((tiers == tier).sum()) for tier in _TIER_ORDER if (tiers == tier).any()}


def sealed_zone_of_sites(sites: pd.DataFrame, zones: pd.DataFrame) -> list[tuple[str, ...]]:
    """Per site, the ids of the sealed zones in ``zones`` covering it (usually none)."""
    out: list[tuple[str, ...]] = [() for _ in range(len(sites))]
    if not len(zones) or not len(sites):
        return out
    sealed = zones[zones["tier"] == "sealed"]
    pts = np.asarray(sites.geometry.values)
    for zid, geom in zip(sealed["id"], sealed.geometry.values, strict=True):
        if geom is None:
            continue
        for i in np.flatnonzero(shapely.covers(geom, pts)):
            out[i] = (*out[i], str(zid))
    return out


def _free(v: object) -> bool | None:
    return None if _isna(v) else bool(v)


def navigation_links(name: str, lon: float, lat: float) -> dict[str, str]:
    """Links that open a phone's map app at a site (WGS-84 ``lon``/``lat`` in): Amap with GCJ-02
    coordinates, Baidu with BD-09, and a standard ``geo:`` URI with WGS-84 (``geo/crs.py`` converts)
    reached through the app's own ``geo`` redirect (``dashboard/lookup_links.py``; a path relative
    to the page). Nothing is requested until the resident taps one."""
    from urllib.parse import quote

    from geo.crs import convert_xy

    (gx,), (gy,) = convert_xy([lon], [lat], src="wgs84", dst="gcj02")
    (bx,), (by,) = convert_xy([lon], [lat], src="wgs84", dst="bd09")
    q = quote(name, safe="")
    return {
        "amap": f"https://uri.amap.com/marker?position={gx:.6f},{gy:.6f}&name={q}&coordinate=gaode&callnative=1",
        "baidu": f"https://api.map.baidu.com/marker?location={by:.6f},{bx:.6f}&title={q}&content={q}&coord_type=bd09ll&output=html&src=riskmap",
        # a standard geo: URI (WGS-84) through this server's redirect (pages may only show web links)
        "geo": f"geo?lat={lat:.6f}&lon={lon:.6f}&name={q}",
    }


def nearest_sites(
    index: NearestIndex,
    sites: pd.DataFrame,
    lonlat: tuple[float, float],
    *,
    k: int = 5,
    when: datetime,
    sealed_of_site: list[tuple[str, ...]],
    resident_sealed: Collection[str] = (),
) -> list[SiteAnswer]:
    """The ``k`` nearest available sites to ``lonlat`` (WGS-84), then the nearer unavailable ones.

    ``index`` is a :class:`~geo.nearest.NearestIndex` built over ``sites`` (with the filters as its
    mask); ``sealed_of_site`` comes from :func:`sealed_zone_of_sites`; ``resident_sealed`` the ids of
    sealed zones covering the resident. See the module docstring for unavailable sites.
    """
    if k < 1:
        msg = f"k must be a positive integer, got {k!r}"
        raise ValueError(msg)
    resident = set(resident_sealed)
    blocked = np.array([bool(set(z) - resident) for z in sealed_of_site], dtype=bool)
    n_ask = min(k + int(blocked.sum()), max(index.n_candidates, 1))
    res = index.query(np.array([lonlat], dtype=float), k=n_ask)
    available: list[tuple[int, float]] = []
    unavailable: list[tuple[int, float]] = []
    for pos, dist in zip(res.index[0], res.distance_m[0], strict=True):
        if pos < 0:
            continue
        if blocked[pos]:
            unavailable.append((int(pos), float(dist)))
        elif len(available) < k:
            available.append((int(pos), float(dist)))
    if len(available) == k:
        unavailable = [(p, d) for p, d in unavailable if d < available[-1][1]]
    rows = [(p, d, False) for p, d in available] + [(p, d, True) for p, d in unavailable]
    if not rows:
        return []
    chosen = sites.iloc[[p for p, _, _ in rows]]
    statuses = site_status(chosen["hours"], when)
    out = []
    for (pos, dist, unav), (_, r), status in zip(rows, chosen.iterrows(), statuses, strict=True):
        hours = "" if _isna(r.get("hours")) else str(r["hours"])
        opens = None
        if status == "closed":
            try:
                opens = next_opening(hours, when)
            except ValueError:
                opens = None
        out.append(
            SiteAnswer(
                position=pos,
                id=str(r["id"]),
                name=str(r["name"]),
                type=str(r["type"]),
                distance_m=dist,
                hours=hours,
                status=status,
                opens_at=opens,
                free=_free(r.get("free")),
                unavailable=unav,
                lon=float(r.geometry.x),
                lat=float(r.geometry.y),
                address="" if _isna(r.get("address")) else str(r["address"]),
            )
        )
    return out
