"""Sealed / controlled / precaution zones: the pure engine behind the planners' page.

Nothing here reads files or knows about Streamlit. Geometries come in and go out in WGS-84
(EPSG:4326, what the store holds); every length, area and share is measured in the UTM zone of
the data (:func:`geo.crs.utm_crs_for`), never with degree factors.

Where shapes are snapped onto neighbourhoods, the result is the union of the neighbourhoods'
own WGS-84 polygons (and differences between such unions), so tiers built from the same
neighbourhoods share their edges exactly and never overlap. Only buffers (``r1`` / ``r3`` and
the selection buffer ``r2``) are computed in metres and projected back.

Decisions (the constants below name them):

* **Snapping** keeps a neighbourhood when *more than* ``min_share`` (default 50 %) of its area
  lies inside the drawn shape.
* **Controlled zone** of :func:`zones_from_cases`: the neighbourhoods with *more than*
  ``controlled_share`` (default 30 %) of their area inside the ``r2`` buffer around the sealed
  zone, minus the sealed zone. A lower share rings the sealed zone more completely but spreads
  the controls wider (the seeds warn against 层层加码, over-reach).
* **Validation** refuses a zone under 100 m² (:data:`MIN_AREA_M2`) or thinner than a
  Polsby–Popper ratio ``4πA/P²`` of 0.01 (:data:`MIN_THINNESS`; a rectangle of about 300:1);
  overlaps and outside parts under 1 m² (:data:`AREA_TOLERANCE_M2`) are rounding noise.
* **Downgrade**: the quiet period of N days is the N full days after the day of the last case
  (days D+1 … D+N, as :mod:`geo.screening` counts measures); the zone may be downgraded on the
  next day, D+N+1.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.errors
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from geo.apportion import overlap_shares, population_within
from geo.assign import Reason, neighbourhood_of_points
from geo.crs import convert_geometry, utm_crs_for
from geo.errors import StaleWrite

__all__ = [
    "TIER_ORDER",
    "MIN_AREA_M2",
    "MIN_THINNESS",
    "AREA_TOLERANCE_M2",
    "CONTROLLED_SHARE",
    "snap_to_neighbourhoods",
    "zones_from_cases",
    "ZoneCheck",
    "validate_zone",
    "Impact",
    "zone_impact",
    "downgrade_date",
    "days_since",
    "ZoneVersion",
    "check_save",
    "diff_versions",
]

WGS84 = "EPSG:4326"
TIER_ORDER = ("sealed", "controlled", "precaution")
MIN_AREA_M2 = 100.0
MIN_THINNESS = 0.01
AREA_TOLERANCE_M2 = 1.0
CONTROLLED_SHARE = 0.3

_TIER_TEXT = {"sealed": ("封控区", "sealed zone"), "controlled": ("管控区", "controlled zone"),
              "precaution": ("防范区", "precaution zone")}

Message = tuple[str, str, str]  # (level, zh, en); level is "error", "warning" or "info"


# ----------------------------------------------------------------------------------------------
# Helpers


def _empty() -> BaseGeometry:
    return shapely.Polygon()


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygonal part of ``geom`` (a Polygon or MultiPolygon; empty Polygon when none)."""
    if geom is None or geom.is_empty:
        return _empty()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    parts = [q for p in polys for q in shapely.get_parts(p)]
    if not parts:
        return _empty()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _union(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    arr = [g for g in geoms if g is not None and not g.is_empty]
    return _polygonal(shapely.union_all(arr)) if arr else _empty()


def _wgs_frame(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> Any:
    """``frame`` in WGS-84 (a frame without a CRS is taken as WGS-84); never mutates it."""
    if not isinstance(frame, gpd.GeoDataFrame | gpd.GeoSeries):
        msg = f"{what} must be a GeoDataFrame or GeoSeries, got {type(frame).__name__}"
        raise TypeError(msg)
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)


def _as_shape(shape: Any, what: str = "shape") -> BaseGeometry:
    """A single shapely geometry in WGS-84 from a geometry, GeoSeries or GeoDataFrame."""
    if isinstance(shape, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = _wgs_frame(shape, what)
        geoms = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
        return shapely.union_all(geoms.dropna().to_numpy()) if len(geoms) else _empty()
    if shape is None or isinstance(shape, BaseGeometry):
        return shape
    msg = f"{what} must be a shapely geometry, GeoSeries or GeoDataFrame, got {type(shape).__name__}"
    raise TypeError(msg)


def _metric_crs(*geoms: BaseGeometry) -> pyproj.CRS:
    """The UTM zone at the centre of the geometries' joint bounds."""
    b = shapely.total_bounds([g for g in geoms if g is not None and not g.is_empty])
    if not np.isfinite(b).all():
        b = np.array([112.55, 37.86, 112.55, 37.86])  # nothing to measure: any zone will do
    return utm_crs_for((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)


def _project(geoms: Sequence[BaseGeometry], src: Any, dst: Any) -> list[BaseGeometry]:
    return list(gpd.GeoSeries(list(geoms), crs=src).to_crs(dst))


def _to_metric(geom: BaseGeometry, crs: pyproj.CRS) -> BaseGeometry:
    return _project([geom], WGS84, crs)[0]


def _to_wgs(geom: BaseGeometry, crs: pyproj.CRS) -> BaseGeometry:
    return _polygonal(_project([geom], crs, WGS84)[0])


def _area_m2(geom: BaseGeometry, crs: pyproj.CRS | None = None) -> float:
    if geom is None or geom.is_empty:
        return 0.0
    return float(_to_metric(geom, crs or _metric_crs(geom)).area)


def _ids(neighbourhoods: gpd.GeoDataFrame, id_column: str) -> np.ndarray:
    if id_column in neighbourhoods.columns:
        return neighbourhoods[id_column].to_numpy(dtype=object)
    return neighbourhoods.index.to_numpy(dtype=object)


def _point_xy(points: Any, what: str) -> np.ndarray:
    """(N, 2) lon/lat of points: a GeoSeries/GeoDataFrame (any CRS), an array of shapely points
    or an (N, 2) lon/lat array (both WGS-84).

    Only the geometry is read: other columns (personal data) are never touched.
    """
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = _wgs_frame(points, what)
        geoms = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
        arr = geoms.to_numpy()
        bad = ~shapely.is_missing(arr)
        bad[bad] = shapely.get_type_id(arr[bad]) != 0
        if bad.any():
            msg = f"{what} must hold points; position {int(np.flatnonzero(bad)[0])} is not a point"
            raise TypeError(msg)
        return np.column_stack([shapely.get_x(arr), shapely.get_y(arr)]).reshape(-1, 2)
    raw = np.asarray(points)
    if raw.dtype == object and raw.ndim == 1:  # shapely points, taken as WGS-84
        return _point_xy(gpd.GeoSeries(list(raw), crs=WGS84), what)
    xy = raw.astype(float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        msg = f"{what} as an array must have shape (N, 2) of lon, lat; got {xy.shape}"
        raise ValueError(msg)
    return xy


def _overlaps(shape: BaseGeometry, neighbourhoods: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Positions (ascending) and area shares of the neighbourhoods ``shape`` overlaps by more
    than :data:`AREA_TOLERANCE_M2` (less is reprojection noise along shared edges)."""
    if shape is None or shape.is_empty or len(neighbourhoods) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=float)
    _, ni, share = overlap_shares(gpd.GeoSeries([shape], crs=WGS84), neighbourhoods)
    crs = _metric_crs(*neighbourhoods.to_numpy()[ni]) if len(ni) else None
    whole = shapely.area(np.asarray(neighbourhoods.iloc[ni].to_crs(crs).to_numpy())) if len(ni) else share
    keep = share * whole > AREA_TOLERANCE_M2
    order = np.argsort(ni[keep], kind="stable")
    return ni[keep][order], share[keep][order]


def _fmt_share(share: float) -> str:
    return f"{share * 100:g}%"


# ----------------------------------------------------------------------------------------------
# 1. Snapping


def snap_to_neighbourhoods(
    shape: BaseGeometry,
    neighbourhoods: gpd.GeoDataFrame,
    *,
    min_share: float = 0.5,
    id_column: str = "id",
) -> tuple[BaseGeometry, list[Any]]:
    """Replace a drawn shape by the union of the neighbourhoods it mostly covers.

    Parameters
    ----------
    shape : shapely geometry, GeoSeries or GeoDataFrame
        The drawn shape, WGS-84 (a GeoSeries / GeoDataFrame in another CRS is converted).
    neighbourhoods : GeoDataFrame
        The ``neighbourhoods`` layer (``id`` and geometry).
    min_share : float
        A neighbourhood is kept when *more than* this share of its area (measured in metres)
        lies inside ``shape``; in ``[0, 1)``.
    id_column : str
        Column holding the neighbourhood ids (the frame index when absent).

    Returns
    -------
    (geometry, ids)
        The union of the kept neighbourhoods (WGS-84, their own edges) and their ids, in the
        neighbourhoods' order.

    Raises
    ------
    ValueError
        If ``min_share`` is out of range or no neighbourhood qualifies (message in Chinese and
        English).
    """
    if not 0.0 <= min_share < 1.0:
        msg = f"min_share must be in [0, 1), got {min_share!r}"
        raise ValueError(msg)
    geom = _polygonal(shapely.make_valid(_as_shape(shape))) if shape is not None else _empty()
    nb = _wgs_frame(neighbourhoods, "neighbourhoods")
    keep = np.zeros(len(nb), dtype=bool)
    if not geom.is_empty and len(nb):
        _, ni, share = overlap_shares(gpd.GeoSeries([geom], crs=WGS84), nb.geometry)
        keep[ni[share > min_share]] = True
    if not keep.any():
        msg = (
            f"绘制范围未覆盖任何社区面积的 {_fmt_share(min_share)} 以上，无法对齐社区边界 / "
            f"the drawn shape covers no neighbourhood by more than {_fmt_share(min_share)} of its "
            "area; nothing to snap to"
        )
        raise ValueError(msg)
    pos = np.flatnonzero(keep)
    return _union(nb.geometry.to_numpy()[pos]), list(_ids(nb, id_column)[pos])


# ----------------------------------------------------------------------------------------------
# 2. Generation from cases


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        msg = f"{name} must be a positive number of metres, got {value!r}"
        raise ValueError(msg)


def zones_from_cases(
    cases: Any,
    neighbourhoods: gpd.GeoDataFrame,
    *,
    r1: float | None = None,
    r2: float = 500,
    r3: float | None = None,
    district: str | Sequence[str] | None = None,
    controlled_share: float = CONTROLLED_SHARE,
    id_column: str = "id",
) -> gpd.GeoDataFrame:
    """Generate sealed, controlled and precaution zones around case locations.

    * **sealed**: the neighbourhoods holding the cases; with ``r1``, the union of ``r1``-metre
      buffers around the cases instead.
    * **controlled**: the neighbourhoods with more than ``controlled_share`` of their area inside
      the ``r2``-metre buffer around the sealed zone, minus the sealed zone. It is not clipped
      to the district: controls follow the outbreak across a district border.
    * **precaution**: the neighbourhoods of the district(s) holding the cases (or ``district``);
      with ``r3``, the ``r3``-metre buffer around the sealed zone instead (clipped to
      ``district`` when given); minus sealed and controlled.

    Cases outside every neighbourhood (or with missing coordinates) take no part in the
    generation and are **reported**, never dropped silently: their positions in ``cases`` are in
    ``result.attrs["cases_outside"]`` and their ``(lon, lat)`` in
    ``result.attrs["cases_outside_lonlat"]``.

    Parameters
    ----------
    cases : GeoSeries, GeoDataFrame of points, or array of shape (N, 2) (lon, lat, WGS-84)
        Case locations. Only the geometry is read.
    neighbourhoods : GeoDataFrame
        The ``neighbourhoods`` layer (``id``, ``district_adcode``, geometry).
    r1, r2, r3 : float, optional
        Radii in metres (see above); ``r2`` is required, 500 m by default.
    district : str or sequence of str, optional
        District adcode(s) the precaution zone covers instead of those holding the cases.
    controlled_share : float
        Share of a neighbourhood's area inside the ``r2`` buffer above which it is controlled.
    id_column : str
        Column of neighbourhood ids.

    Returns
    -------
    GeoDataFrame
        Three rows in the order sealed, controlled, precaution: ``tier``, ``neighbourhood_ids``
        (list; for buffers, the neighbourhoods they overlap), ``area_km2`` and ``geometry``
        (WGS-84; an empty polygon when a tier has nothing left).

    Raises
    ------
    ValueError
        If a radius or share is invalid, no case lies in a neighbourhood, or ``district`` names
        no neighbourhood's district.
    """
    _positive("r1", r1)
    _positive("r2", r2)
    _positive("r3", r3)
    if not 0.0 <= controlled_share < 1.0:
        msg = f"controlled_share must be in [0, 1), got {controlled_share!r}"
        raise ValueError(msg)
    nb = _wgs_frame(neighbourhoods, "neighbourhoods")
    if len(nb) == 0:
        msg = "no neighbourhoods given / 没有社区数据"
        raise ValueError(msg)
    xy = _point_xy(cases, "cases")
    geoms = nb.geometry.to_numpy()
    ids = _ids(nb, id_column)
    where = neighbourhood_of_points(xy, geoms)
    inside = where.reason <= Reason.ON_EDGE
    outside = np.flatnonzero(~inside)
    if not inside.any():
        msg = (
            f"{len(xy)} 个病例均不在任何社区内，无法生成管控区域 / "
            f"none of the {len(xy)} cases lies inside a neighbourhood; no zones generated"
        )
        raise ValueError(msg)
    crs = _metric_crs(*geoms)
    nb_series = gpd.GeoSeries(geoms, crs=WGS84)

    def overlapping(shape: BaseGeometry, share_above: float) -> np.ndarray:
        ni, share = _overlaps(shape, nb_series)
        return ni[share > share_above]

    def buffer_of(shape_wgs: BaseGeometry, radius: float) -> BaseGeometry:
        return _to_wgs(_to_metric(shape_wgs, crs).buffer(radius), crs)

    case_nb = np.unique(where.index[inside])
    if r1 is None:
        sealed_pos = case_nb
        sealed = _union(geoms[sealed_pos])
    else:
        pts = gpd.GeoSeries(shapely.points(xy[inside]), crs=WGS84).to_crs(crs)
        sealed = _to_wgs(shapely.union_all(pts.buffer(r1).to_numpy()), crs)
        sealed_pos = overlapping(sealed, 0.0)

    ctrl_pos = overlapping(buffer_of(sealed, r2), controlled_share)
    ctrl_pos = np.setdiff1d(ctrl_pos, sealed_pos if r1 is None else np.array([], dtype=np.int64))
    controlled = _polygonal(shapely.difference(_union(geoms[ctrl_pos]), sealed))

    if district is None:
        districts = set(nb["district_adcode"].to_numpy()[case_nb].astype(str)) if "district_adcode" in nb else set()
    else:
        districts = {district} if isinstance(district, str) else {str(d) for d in district}
    in_district = (
        nb["district_adcode"].astype(str).isin(districts).to_numpy()
        if "district_adcode" in nb
        else np.zeros(len(nb), dtype=bool)
    )
    if district is not None and not in_district.any():
        msg = f"district {sorted(districts)} holds no neighbourhood / 所选区县没有社区"
        raise ValueError(msg)
    taken = _union([sealed, controlled])
    if r3 is None:
        prec_pos = np.flatnonzero(in_district)
        precaution = _polygonal(shapely.difference(_union(geoms[prec_pos]), taken))
    else:
        area = buffer_of(sealed, r3)
        if district is not None:
            area = _polygonal(shapely.intersection(area, _union(geoms[in_district])))
        precaution = _polygonal(shapely.difference(area, taken))
        prec_pos = overlapping(precaution, 0.0)
    if r1 is None:
        prec_pos = np.setdiff1d(prec_pos, np.union1d(sealed_pos, ctrl_pos))

    tiers = (sealed, controlled, precaution)
    out = gpd.GeoDataFrame(
        {
            "tier": list(TIER_ORDER),
            "neighbourhood_ids": [list(ids[p]) for p in (sealed_pos, ctrl_pos, prec_pos)],
            "area_km2": [_area_m2(g, crs) / 1e6 for g in tiers],
        },
        geometry=list(tiers),
        crs=WGS84,
    )
    out.attrs["cases_outside"] = [int(i) for i in outside]
    out.attrs["cases_outside_lonlat"] = [(float(xy[i, 0]), float(xy[i, 1])) for i in outside]
    return out


# ----------------------------------------------------------------------------------------------
# 3. Validation


@dataclass(frozen=True)
class ZoneCheck:
    """Result of :func:`validate_zone`.

    Attributes
    ----------
    geometry : shapely geometry or None
        The repaired (clipped, merged) zone, WGS-84; ``None`` when the zone is refused.
    messages : list of (level, zh, en)
        ``level`` is ``"error"`` (refused), ``"warning"`` (changed or needs attention) or
        ``"info"``.
    merged_ids : tuple
        Ids of existing zones merged into ``geometry`` (to retire when saving).
    """

    geometry: BaseGeometry | None
    messages: list[Message] = field(default_factory=list)
    merged_ids: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing refused the zone."""
        return not any(level == "error" for level, _, _ in self.messages)

    def of_level(self, level: str) -> list[Message]:
        """The messages of one level."""
        return [m for m in self.messages if m[0] == level]


def _live_zones(existing: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Existing zones still in force (a non-empty ``lifted`` means lifted), WGS-84."""
    if existing is None or len(existing) == 0:
        return None
    ex = _wgs_frame(existing, "existing")
    if "lifted" in ex.columns:
        ex = ex[ex["lifted"].isna().to_numpy()]
    ex = ex[~(ex.geometry.isna() | ex.geometry.is_empty).to_numpy()]
    return ex if len(ex) else None


def validate_zone(
    shape: BaseGeometry,
    *,
    city_boundary: Any,
    existing: gpd.GeoDataFrame | None = None,
    tier: str | None = None,
    merge: bool = False,
    id_column: str = "id",
) -> ZoneCheck:
    """Check and repair a drawn or edited zone before it is saved.

    In order: a missing or non-polygonal shape is refused; self-intersections are repaired with
    ``shapely.make_valid`` (polygonal part kept) and reported; a shape outside the city is
    refused, one partly outside is clipped and reported; a sliver (under
    :data:`MIN_AREA_M2` or thinner than :data:`MIN_THINNESS`) is refused; an overlap with an
    existing zone of the same tier is refused, or with ``merge=True`` merged and reported; a
    sealed zone whose edge is not covered by controlled (or other sealed) zones is warned about.

    Parameters
    ----------
    shape : shapely geometry
        The zone, WGS-84.
    city_boundary : shapely geometry, GeoSeries or GeoDataFrame
        The city (the union is taken), WGS-84 unless a frame declares otherwise.
    existing : GeoDataFrame, optional
        Zones already saved (``tier``, ``id``, optional ``lifted``; lifted zones are ignored).
        Leave out the zone being edited.
    tier : {"sealed", "controlled", "precaution"}, optional
        Tier of the zone; the overlap and coverage checks need it.
    merge : bool
        Merge same-tier overlaps instead of refusing them.
    id_column : str
        Column of zone ids in ``existing``.

    Returns
    -------
    ZoneCheck
    """
    if tier is not None and tier not in TIER_ORDER:
        msg = f"tier must be one of {TIER_ORDER}, got {tier!r}"
        raise ValueError(msg)
    messages: list[Message] = []

    def refuse(zh: str, en: str) -> ZoneCheck:
        messages.append(("error", zh, en))
        return ZoneCheck(None, messages)

    geom = _as_shape(shape)
    if geom is None or geom.is_empty:
        return refuse("区域为空", "the zone is empty")
    if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return refuse(f"区域必须是面，不能是 {geom.geom_type}", f"a zone must be a polygon, not a {geom.geom_type}")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = _polygonal(shapely.make_valid(geom))
        if geom.is_empty:
            return refuse(f"区域无效且无法修复（{reason}）", f"the zone is invalid and cannot be repaired ({reason})")
        messages.append(("warning", f"区域边界自相交，已自动修复（{reason}）",
                         f"the zone's outline crossed itself and was repaired ({reason})"))
    else:
        geom = _polygonal(geom)
        if geom.is_empty:
            return refuse("区域不含面", "the zone holds no polygon")

    city = _polygonal(shapely.make_valid(_as_shape(city_boundary, "city_boundary")))
    crs = _metric_crs(geom)
    metric = _to_metric(geom, crs)
    inside = _polygonal(shapely.intersection(geom, city))
    inside_m2 = _area_m2(inside, crs)
    if inside_m2 <= AREA_TOLERANCE_M2:
        return refuse("区域在城市范围之外", "the zone lies outside the city")
    outside_m2 = metric.area - inside_m2
    if outside_m2 > AREA_TOLERANCE_M2:
        geom = inside
        messages.append(("warning", f"区域超出城市边界的部分（{outside_m2:,.0f} 平方米）已裁去",
                         f"the part outside the city ({outside_m2:,.0f} m²) was clipped"))
    metric = _to_metric(geom, crs)

    area, perimeter = metric.area, metric.length
    thinness = 4.0 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0
    if area < MIN_AREA_M2:
        return refuse(f"区域过小（{area:,.1f} 平方米，至少 {MIN_AREA_M2:g} 平方米），疑似误画的碎片",
                      f"the zone is too small ({area:,.1f} m², at least {MIN_AREA_M2:g} m²): a sliver")
    if thinness < MIN_THINNESS:
        return refuse(f"区域过于狭长（形状系数 {thinness:.4f} < {MIN_THINNESS:g}），疑似误画的碎片",
                      f"the zone is too thin (thinness {thinness:.4f} < {MIN_THINNESS:g}): a sliver")

    live = _live_zones(existing)
    merged: list[Any] = []
    refused = False
    if tier is not None and live is not None and "tier" in live.columns:
        same = live[(live["tier"] == tier).to_numpy()]
        ids = _ids(same, id_column)
        for zid, other in zip(ids, same.geometry.to_numpy(), strict=True):
            overlap = _area_m2(_polygonal(shapely.intersection(geom, other)), crs)
            if overlap <= AREA_TOLERANCE_M2:
                continue
            zh_t, en_t = _TIER_TEXT[tier]
            if merge:
                geom = _union([geom, other])
                merged.append(zid)
                messages.append(("warning", f"与已有{zh_t} {zid} 重叠 {overlap:,.0f} 平方米，已合并",
                                 f"overlaps existing {en_t} {zid} by {overlap:,.0f} m²; merged"))
            else:
                refused = True
                messages.append(("error", f"与已有{zh_t} {zid} 重叠 {overlap:,.0f} 平方米；请调整或选择合并",
                                 f"overlaps existing {en_t} {zid} by {overlap:,.0f} m²; adjust it or merge"))

    if tier == "sealed":
        cover = [geom]
        if live is not None and "tier" in live.columns:
            cover += list(live.geometry.to_numpy()[live["tier"].isin(["sealed", "controlled"]).to_numpy()])
        m_geom = _to_metric(geom, crs)
        ring = m_geom.buffer(1.0).difference(m_geom)
        ring = ring.intersection(_to_metric(city, crs))
        covered = _to_metric(_union(cover), crs).buffer(0.001)  # 1 mm: rounding of reprojection
        open_m = ring.difference(covered).area
        if ring.area > 0 and open_m > 0.01 * ring.area:
            share = open_m / ring.area
            messages.append(("warning", f"封控区边界有 {share:.0%} 未被管控区覆盖",
                             f"{share:.0%} of the sealed zone's edge is not covered by a controlled zone"))

    return ZoneCheck(None if refused else geom, messages, tuple(merged))


# ----------------------------------------------------------------------------------------------
# 4. Impact


@dataclass(frozen=True)
class Impact:
    """What a zone would affect (see :func:`zone_impact`).

    Attributes
    ----------
    area_km2 : float
    population : float
        Apportioned by area from neighbourhood populations (:mod:`geo.apportion`).
    neighbourhood_ids, neighbourhood_shares : tuple
        The neighbourhoods overlapped and the share of each one's area inside the zone.
    travellers : int or None
        Number of travellers residing inside (``None`` when not asked); a count only.
    site_ids, hotel_ids : tuple
        Testing sites and hotels inside.
    """

    area_km2: float
    population: float
    neighbourhood_ids: tuple[Any, ...]
    neighbourhood_shares: tuple[float, ...]
    travellers: int | None
    site_ids: tuple[Any, ...]
    hotel_ids: tuple[Any, ...]


def _ids_inside(geom: BaseGeometry, frame: gpd.GeoDataFrame | None, id_column: str, what: str) -> tuple[Any, ...]:
    if frame is None or len(frame) == 0:
        return ()
    xy = _point_xy(frame, what)
    hit = shapely.intersects_xy(geom, xy[:, 0], xy[:, 1])
    return tuple(_ids(frame, id_column)[hit])


def zone_impact(
    shape: BaseGeometry,
    *,
    neighbourhoods: gpd.GeoDataFrame,
    travellers_points: Any = None,
    sites: gpd.GeoDataFrame | None = None,
    hotels: gpd.GeoDataFrame | None = None,
    id_column: str = "id",
) -> Impact:
    """Area, population, neighbourhoods, travellers, testing sites and hotels inside a zone.

    Parameters
    ----------
    shape : shapely geometry
        The zone, WGS-84.
    neighbourhoods : GeoDataFrame
        ``id``, ``population`` and geometry.
    travellers_points : GeoSeries, GeoDataFrame or (N, 2) array, optional
        Traveller residences. Only the geometry is read and only a count comes out: no
        personal detail leaves this function.
    sites, hotels : GeoDataFrame, optional
        Testing sites and quarantine hotels (``id`` and point geometry).
    id_column : str
        Id column of the three frames.

    Returns
    -------
    Impact
        Points on the zone's edge count as inside.
    """
    geom = _polygonal(_as_shape(shape))
    nb = _wgs_frame(neighbourhoods, "neighbourhoods")
    if geom.is_empty:
        return Impact(0.0, 0.0, (), (), 0 if travellers_points is not None else None, (), ())
    one = gpd.GeoSeries([geom], crs=WGS84)
    ni, share = _overlaps(geom, nb.geometry)
    travellers = None
    if travellers_points is not None:
        xy = _point_xy(travellers_points, "travellers_points")
        ok = np.isfinite(xy).all(axis=1)
        travellers = int(shapely.intersects_xy(geom, xy[ok, 0], xy[ok, 1]).sum())
    return Impact(
        area_km2=_area_m2(geom) / 1e6,
        population=float(population_within(one, nb)[0]) if len(nb) else 0.0,
        neighbourhood_ids=tuple(_ids(nb, id_column)[ni]),
        neighbourhood_shares=tuple(float(s) for s in share),
        travellers=travellers,
        site_ids=_ids_inside(geom, sites, id_column, "sites"),
        hotel_ids=_ids_inside(geom, hotels, id_column, "hotels"),
    )


# ----------------------------------------------------------------------------------------------
# 5. Dates


def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    ts = pd.Timestamp(value) if value is not None else pd.NaT
    if pd.isna(ts):
        msg = f"{what} is missing or not a date: {value!r}"
        raise ValueError(msg)
    return ts.date()


def downgrade_date(last_case_date: Any, *, quiet_days: int = 7) -> dt.date:
    """The first day a sealed zone may be downgraded: after ``quiet_days`` full days without cases.

    With the last case on day D, the quiet days are D+1 … D+``quiet_days`` and the zone may be
    downgraded on D+``quiet_days``+1 (the rule table may set another ``quiet_days``).
    """
    if isinstance(quiet_days, bool) or not isinstance(quiet_days, int | np.integer) or quiet_days < 0:
        msg = f"quiet_days must be a non-negative integer, got {quiet_days!r}"
        raise ValueError(msg)
    return _as_date(last_case_date, "last_case_date") + dt.timedelta(days=int(quiet_days) + 1)


def days_since(last_case_date: Any, today: Any) -> int:
    """Whole days from the last case to ``today`` (0 on the day of the case).

    Raises
    ------
    ValueError
        If ``today`` is before the last case.
    """
    last = _as_date(last_case_date, "last_case_date")
    now = _as_date(today, "today")
    if now < last:
        msg = f"today ({now}) is before the last case ({last})"
        raise ValueError(msg)
    return (now - last).days


# ----------------------------------------------------------------------------------------------
# 6. Versions


@dataclass(frozen=True)
class ZoneVersion:
    """One saved version of a zone.

    Attributes
    ----------
    zone_id : str
    version : int
        1 for the first save, then +1 per save.
    saved_by : str
    saved_at : datetime
    geometry_wkb : bytes
        The zone, WGS-84, as WKB.
    attributes : mapping
        The other columns (tier, name, reason, start, planned_end, lifted, ...).
    action : str
        Why this version was written: create, edit, lift, downgrade, restore vN or import.
    changes : str
        What changed against the version before, one line each.
    """

    zone_id: str
    version: int
    saved_by: str
    saved_at: dt.datetime
    geometry_wkb: bytes
    attributes: Mapping[str, Any] = field(default_factory=dict)
    action: str = ""  # create, edit, lift, downgrade, restore vN, import
    changes: str = ""  # what changed against the version before, one line each (diff_versions)

    @property
    def geometry(self) -> BaseGeometry:
        return shapely.from_wkb(self.geometry_wkb)


def _fmt_time(value: Any) -> str:
    ts = pd.Timestamp(value)
    return ts.strftime("%Y-%m-%d %H:%M") if not pd.isna(ts) else "?"


def check_save(
    current_version: int, based_on_version: int, *, current_saved_by: str, current_saved_at: Any
) -> None:
    """Refuse a save based on an older version than the one stored.

    Raises
    ------
    StaleWrite
        When ``based_on_version < current_version``: "changed by X at T — reload / 已被 X 于 T
        修改，请重新加载".
    ValueError
        When ``based_on_version`` is newer than the stored version (no such version exists).
    """
    if based_on_version > current_version:
        msg = f"based_on_version {based_on_version} is newer than the stored version {current_version}"
        raise ValueError(msg)
    if based_on_version < current_version:
        t = _fmt_time(current_saved_at)
        msg = f"changed by {current_saved_by} at {t} — reload / 已被 {current_saved_by} 于 {t} 修改，请重新加载"
        raise StaleWrite(msg)


def _same(a: Any, b: Any) -> bool:
    a_na = a is None or (np.ndim(a) == 0 and bool(pd.isna(a)))
    b_na = b is None or (np.ndim(b) == 0 and bool(pd.isna(b)))
    if a_na or b_na:
        return a_na and b_na
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def diff_versions(old: ZoneVersion, new: ZoneVersion) -> list[str]:
    """What changed between two versions of a zone, one line each (English / Chinese).

    Attribute lines read ``"reason: 'a' → 'b'"``, in sorted key order; the last line tells
    whether the geometry changed and by how much area (m², measured in metres).
    """
    lines = []
    for key in sorted(set(old.attributes) | set(new.attributes), key=str):
        a, b = old.attributes.get(key), new.attributes.get(key)
        if not _same(a, b):
            lines.append(f"{key}: {a!r} → {b!r}")
    g_old, g_new = old.geometry, new.geometry
    if old.geometry_wkb == new.geometry_wkb or g_old.equals(g_new):
        lines.append("geometry: unchanged / 范围：未变")
    else:
        crs = _metric_crs(g_old, g_new)
        delta = _area_m2(g_new, crs) - _area_m2(g_old, crs)
        lines.append(f"geometry: changed, area {delta:+,.0f} m² / 范围：已修改，面积 {delta:+,.0f} 平方米")
    return lines


# ----------------------------------------------------------------------------------------------
# 5. The planner's zone: form, dates, shapes drawn on the map, downgrades, proposals


def as_date(value: Any) -> dt.date | None:
    """A date from a date, datetime, Timestamp or ISO string; None for missing values."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(ts) else ts.date()


def as_text(value: Any) -> str:
    """Text of a cell; "" for missing values."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def as_iso(value: Any) -> str | None:
    """An ISO date string of :func:`as_date`'s date (None when missing)."""
    d = as_date(value)
    return d.isoformat() if d is not None else None


def in_force_during(starts: pd.Series, ends: pd.Series, first: object | None, last: object | None = None) -> np.ndarray:
    """Which lifetimes (``starts`` … ``ends``, an end being the day it was lifted) were in force on
    some day from ``first`` to ``last`` (open when None): started on or before ``last`` and not
    lifted by ``first`` — a start or end missing is open. The rule of the screening's risk entries
    (geo/screening.py) for stays, and of the zones a new zone must not double."""
    begin = pd.Timestamp(first) if first is not None else pd.Timestamp.min
    s, e = pd.to_datetime(starts), pd.to_datetime(ends)
    keep = e.isna() | (e > begin)
    if last is not None:
        keep &= s.isna() | (s <= pd.Timestamp(last))
    return keep.to_numpy(dtype=bool)


#: The tier words of zone names (通达街封控区).
TIER_ZH = {k: zh for k, (zh, _) in _TIER_TEXT.items()}


#: Quiet days before a sealed zone may be downgraded. The rule tables (``data/rules/*.toml``)
#: hold no zone rule yet, so this is the issue's "7 days without new cases".
QUIET_DAYS = 7


#: The tier a zone is downgraded to.
DOWNGRADE_TO = {"sealed": "controlled", "controlled": "precaution"}


#: Planned duration in days of a new zone of each tier (the demo scenario's 14 / 7 / 7).
DEFAULT_DAYS = {"sealed": 14, "controlled": 7, "precaution": 7}


@dataclass(frozen=True)
class ZoneForm:
    """What the planner typed: tier, name, reason and dates (``lifted`` only when lifting)."""

    tier: str
    name: str
    reason: str = ""
    start: dt.date | None = None
    planned_end: dt.date | None = None
    last_case: dt.date | None = None
    lifted: dt.date | None = None

    @classmethod
    def from_zone(cls, zone: Mapping[str, Any]) -> ZoneForm:
        """The form filled from a stored zone row."""
        return cls(
            tier=as_text(zone.get("tier")),
            name=as_text(zone.get("name")),
            reason=as_text(zone.get("reason")),
            start=as_date(zone.get("start")),
            planned_end=as_date(zone.get("planned_end")),
            last_case=as_date(zone.get("last_case")),
            lifted=as_date(zone.get("lifted")),
        )


def form_problems(form: ZoneForm, *, today: dt.date) -> list[Message]:
    """What is wrong with the form (errors block saving), in form order."""
    out: list[Message] = []
    if form.tier not in TIER_ORDER:
        out.append(("error", "请选择区域级别", "choose the tier"))
    if not form.name.strip():
        out.append(("error", "请填写区域名称", "enter the zone's name"))
    elif len(form.name.strip()) > 100:
        out.append(("error", "名称过长（最多 100 字）", "the name is too long (100 characters at most)"))
    if form.start is None:
        out.append(("error", "请填写开始日期", "enter the start date"))
    if form.start and form.planned_end and form.planned_end < form.start:
        out.append(("error", f"计划解除日期 {form.planned_end} 早于开始日期 {form.start}",
                    f"the planned end {form.planned_end} is before the start {form.start}"))
    if form.last_case and form.last_case > today:
        out.append(("error", f"最近病例日期 {form.last_case} 晚于今天（{today}）",
                    f"the last case date {form.last_case} is after today ({today})"))
    if form.start and form.lifted and form.lifted < form.start:
        out.append(("error", f"解除日期 {form.lifted} 早于开始日期 {form.start}",
                    f"the lift date {form.lifted} is before the start {form.start}"))
    if form.tier == "sealed" and form.last_case is None:
        out.append(("info", "未填写最近病例日期：无法计算可降级日期",
                    "no last case date: the downgrade date cannot be computed"))
    return out


def new_zone_id(start: dt.date | None, *, token: str | None = None) -> str:
    """A new zone id, ``Z<yyyymmdd>-<6 hex>`` (random, so two planners never pick the same one)."""
    day = (start or dt.date.today()).strftime("%Y%m%d")
    return f"Z{day}-{token or secrets.token_hex(3)}"


def _polygonal_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]


def shape_from_features(features: Sequence[Mapping[str, Any]] | None, *, src: str = "wgs84") -> tuple[BaseGeometry | None, list[Message]]:
    """The shape on the map: the union of the drawn polygons, converted from ``src`` to WGS-84.

    ``features`` are GeoJSON features as Leaflet.draw returns them (``all_drawings``). A single
    polygon comes back as drawn (self-intersections are for :func:`geo.zones.validate_zone` to
    repair and report); several are repaired one by one and united. Anything but polygons is
    ignored with a warning. Returns ``(None, messages)`` when nothing polygonal was drawn.
    """
    messages: list[Message] = []
    polys: list[BaseGeometry] = []
    other = 0
    for f in features or []:
        g = (f or {}).get("geometry")
        if not g:
            continue
        try:
            geom = shapely.geometry.shape(g)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            other += 1
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_empty:
            polys.append(geom)
        else:
            other += 1
    if other:
        messages.append(("warning", f"忽略了 {other} 个非面图形（只有多边形和矩形可作为区域）",
                         f"ignored {other} shape(s) that are not polygons (only polygons and rectangles make zones)"))
    if not polys:
        return None, messages
    if len(polys) == 1:
        shape = polys[0]
    else:
        fixed = []
        for p in polys:
            if not p.is_valid:
                fixed.append(shapely.make_valid(p, method="structure"))
                messages.append(("warning", "图形边界自相交，已自动修复", "a shape's outline crossed itself and was repaired"))
            else:
                fixed.append(p)
        shape = shapely.union_all(fixed)
        parts = _polygonal_parts(shape)
        shape = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
        messages.append(("info", f"地图上有 {len(polys)} 个图形，已合并为一个区域",
                         f"{len(polys)} shapes on the map were combined into one zone"))
    if src != "wgs84":
        shape = convert_geometry(shape, src=src, dst="wgs84")
    return shape, messages


def same_shape(a: BaseGeometry | None, b: BaseGeometry | None, *, tolerance: float = 1e-5) -> bool:
    """True when two shapes differ by less than ``tolerance`` degrees (about 1 m) anywhere:
    a zone that went to the map and back unedited is the same zone."""
    if a is None or b is None or a.is_empty or b.is_empty:
        return (a is None or a.is_empty) and (b is None or b.is_empty)
    return bool(shapely.hausdorff_distance(a, b) < tolerance)


def district_of(geom: BaseGeometry | None, counties: gpd.GeoDataFrame) -> str | None:
    """The adcode of the county holding most of ``geom`` (None when it touches none)."""
    if geom is None or geom.is_empty or len(counties) == 0:
        return None
    inter = shapely.area(shapely.intersection(counties.geometry.to_numpy(), geom))
    if not np.any(inter > 0):
        return None
    return str(counties["adcode"].iloc[int(np.argmax(inter))])


@dataclass(frozen=True)
class DowngradeInfo:
    """Days since a sealed zone's last case and the first day it may be downgraded."""

    last_case: dt.date
    days_since: int | None  # None when ``today`` is before the last case
    may_downgrade_on: dt.date
    quiet_days: int

    def allowed(self, today: dt.date) -> bool:
        return today >= self.may_downgrade_on


def downgrade_info(last_case: Any, today: Any, *, quiet_days: int = QUIET_DAYS) -> DowngradeInfo | None:
    """None when there is no last case date."""
    last = as_date(last_case)
    if last is None:
        return None
    now = as_date(today)
    since = days_since(last, now) if now is not None and now >= last else None
    return DowngradeInfo(last, since, downgrade_date(last, quiet_days=quiet_days), quiet_days)


def downgraded_name(name: str, old_tier: str, new_tier: str) -> str:
    """The name with the tier word replaced (通达街封控区 → 通达街管控区); unchanged otherwise."""
    old, new = TIER_ZH.get(old_tier), TIER_ZH.get(new_tier)
    if old and new and old in name:
        return name.replace(old, new)
    return name


def proposal_zones(
    proposal: gpd.GeoDataFrame,
    *,
    prefix: str,
    reason: str,
    start: dt.date,
    ends: Mapping[str, dt.date | None],
    last_case: dt.date | None,
) -> list[tuple[ZoneForm, BaseGeometry]]:
    """The tiers of :func:`geo.zones.zones_from_cases` as forms with their shapes (empty tiers left out).

    Names are ``<prefix><tier word>`` (通达街封控区); the last case date goes to the sealed zone.
    """
    out = []
    for r in proposal.to_dict("records"):
        geom = r["geometry"]
        if geom is None or geom.is_empty:
            continue
        tier = r["tier"]
        form = ZoneForm(
            tier=tier,
            name=f"{prefix.strip()}{TIER_ZH[tier]}",
            reason=reason,
            start=start,
            planned_end=ends.get(tier),
            last_case=last_case if tier == "sealed" else None,
        )
        out.append((form, geom))
    return out
