"""The command centre's key figures, computed from layer frames (no Streamlit, no files)."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.apportion import population_within

__all__ = ["KeyFigures", "key_figures"]

TIERS = ("sealed", "controlled", "precaution")


@dataclass(frozen=True)
class KeyFigures:
    risk_national: dict[str, int]  # level -> count in force
    risk_province: dict[str, int]
    zones: dict[str, int]  # tier -> count in force
    zone_population: dict[str, int]  # tier -> people inside (apportioned), overlaps counted once
    rooms_free: int
    rooms_total: int  # hotels in use
    rooms_standby: int  # rooms in standby hotels (reserve)
    sites_total: int
    sites_open: int | None  # None when opening hours could not be evaluated
    sites_24h: int
    travellers: dict[str, int] = field(default_factory=dict)  # e.g. pending, overdue, red, yellow


RISK_LEVELS = ("high", "medium", "cases_unrated")


def risk_counts(risk_areas: pd.DataFrame, province: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """Risk areas by level, nationally and in ``province`` (frames already filtered to a day):
    the command page's figure, the wall's and the time machine's."""
    level = risk_areas["level"].astype(str) if len(risk_areas) else pd.Series(dtype=str)
    in_prov = (risk_areas["province"] == province) if len(risk_areas) and province else pd.Series(False, index=level.index)
    return ({lv: int((level == lv).sum()) for lv in RISK_LEVELS},
            {lv: int(((level == lv) & in_prov).sum()) for lv in RISK_LEVELS})


def zone_counts_by_tier(zones: pd.DataFrame) -> dict[str, int]:
    """Zones by tier (a frame already filtered to a day)."""
    tier = zones["tier"].astype(str) if len(zones) else pd.Series(dtype=str)
    return {t: int((tier == t).sum()) for t in TIERS}


def key_figures(
    *,
    risk_areas: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    hotels: pd.DataFrame,
    sites: pd.DataFrame,
    neighbourhoods: gpd.GeoDataFrame,
    province: str,
    sites_open_mask: np.ndarray | None = None,
    travellers: dict[str, int] | None = None,
    moved_in: dict[str, int] | None = None,
) -> KeyFigures:
    """Figures for frames already filtered to the as-of date.

    ``province`` is the city's province name (e.g. 山西省). Zone population: for each tier the
    union of that tier's zones, so overlapping zones of one tier do not count people twice.
    ``moved_in``: people recorded as transferred to each hotel (``geo.followup.moved_in_per_hotel``),
    taken from the free rooms the way the follow-up page's hotel picker does.
    """
    from geo.followup import hotel_rooms_free
    from layers.hotels import in_use as hotels_in_use

    risk_nat, risk_prov = risk_counts(risk_areas, province)
    zone_counts = zone_counts_by_tier(zones)
    unions = []
    for t in TIERS:
        geoms = zones.loc[zones["tier"] == t, "geometry"]
        unions.append(shapely.union_all(np.asarray(geoms.values)) if len(geoms) else shapely.Polygon())
    pops = population_within(gpd.GeoSeries(unions, crs="EPSG:4326"), neighbourhoods)
    zone_pop = {t: int(round(p)) for t, p in zip(TIERS, pops, strict=True)}

    in_use = hotels_in_use(hotels)
    total = hotels.loc[in_use, "rooms_total"].fillna(0).astype(int)
    standby = hotels.loc[hotels["status"] == "standby", "rooms_total"].fillna(0).astype(int)

    return KeyFigures(
        risk_national=risk_nat,
        risk_province=risk_prov,
        zones=zone_counts,
        zone_population=zone_pop,
        rooms_free=int(hotel_rooms_free(hotels[in_use], moved_in or {}).sum()),
        rooms_total=int(total.sum()),
        rooms_standby=int(standby.sum()),
        sites_total=len(sites),
        sites_open=None if sites_open_mask is None else int(np.count_nonzero(sites_open_mask)),
        sites_24h=int((sites["hours"] == "24h").sum()),
        travellers=dict(travellers or {}),
    )
