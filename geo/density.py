"""Point density on a metric grid: what the map may show of personal locations.

Individual residences never reach the browser; only counts per grid cell (default 500 m) do,
and cells with fewer than ``min_count`` points are dropped so no single household shows.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import utm_crs_for

__all__ = ["grid_counts"]


def grid_counts(points: gpd.GeoSeries, *, cell_m: float = 500.0, min_count: int = 3) -> gpd.GeoDataFrame:
    """Counts of points per square cell of ``cell_m`` metres, as cell-centre points in WGS-84.

    Returns a GeoDataFrame with columns ``count`` and geometry (cell centres), sorted by cell.
    Empty or missing points are ignored. Cells with fewer than ``min_count`` points are dropped.
    """
    pts = gpd.GeoSeries(points, crs=points.crs or "EPSG:4326")
    pts = pts[~(pts.isna() | pts.is_empty)]
    if pts.empty:
        return gpd.GeoDataFrame({"count": pd.Series([], dtype="int64")}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    minx, miny, maxx, maxy = pts.to_crs("EPSG:4326").total_bounds
    crs = utm_crs_for((minx + maxx) / 2, (miny + maxy) / 2)
    m = pts.to_crs(crs)
    ix = np.floor(m.x.to_numpy() / cell_m).astype(np.int64)
    iy = np.floor(m.y.to_numpy() / cell_m).astype(np.int64)
    cells = pd.DataFrame({"ix": ix, "iy": iy}).value_counts().rename("count").reset_index()
    cells = cells[cells["count"] >= min_count].sort_values(["ix", "iy"]).reset_index(drop=True)
    centres = gpd.points_from_xy((cells["ix"] + 0.5) * cell_m, (cells["iy"] + 0.5) * cell_m, crs=crs)
    out = gpd.GeoDataFrame({"count": cells["count"].astype("int64")}, geometry=centres)
    return out.to_crs("EPSG:4326")
