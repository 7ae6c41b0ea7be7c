"""Population inside arbitrary shapes, apportioned from neighbourhood populations by area.

A neighbourhood that lies partly inside a shape contributes its population times the share of
its area inside (uniform density within a neighbourhood: the only assumption the data allows).
Areas are computed in the UTM zone of the data, never with degree factors.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import utm_crs_for

__all__ = ["population_within", "overlap_shares"]


def overlap_shares(shapes: gpd.GeoSeries, neighbourhoods: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(shape_pos, neighbourhood_pos, share)``: the share of each neighbourhood's area
    inside each shape, for every pair that overlaps with positive area."""
    if len(shapes) == 0 or len(neighbourhoods) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    minx, miny, maxx, maxy = neighbourhoods.total_bounds
    crs = utm_crs_for((minx + maxx) / 2, (miny + maxy) / 2)
    a = np.asarray(gpd.GeoSeries(shapes, crs=shapes.crs or "EPSG:4326").to_crs(crs).values)
    b = np.asarray(gpd.GeoSeries(neighbourhoods, crs=neighbourhoods.crs or "EPSG:4326").to_crs(crs).values)
    tree = shapely.STRtree(b)
    si, ni = tree.query(a, predicate="intersects")
    if len(si) == 0:
        return si, ni, np.array([], dtype=float)
    inter = shapely.area(shapely.intersection(a[si], b[ni]))
    whole = shapely.area(b[ni])
    share = np.divide(inter, whole, out=np.zeros_like(inter), where=whole > 0)
    keep = share > 0
    return si[keep], ni[keep], np.clip(share[keep], 0.0, 1.0)


def population_within(
    shapes: gpd.GeoSeries, neighbourhoods: gpd.GeoDataFrame, *, population: str = "population"
) -> np.ndarray:
    """Population inside each shape (float, apportioned by area), one value per shape."""
    si, ni, share = overlap_shares(shapes, neighbourhoods.geometry)
    pop = neighbourhoods[population].fillna(0).to_numpy(dtype=float)
    out = np.zeros(len(shapes), dtype=float)
    np.add.at(out, si, pop[ni] * share)
    return out
