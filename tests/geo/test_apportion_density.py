import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.apportion import population_within
from geo.crs import utm_crs_for
from geo.density import grid_counts

CRS = utm_crs_for(112.55, 37.86)


def _metric_boxes(boxes):
    return gpd.GeoSeries([shapely.box(*b) for b in boxes], crs=CRS).to_crs("EPSG:4326")


def test_population_apportioned_by_area():
    x0, y0 = 660_000, 4_190_000  # inside UTM 49N near Taiyuan
    nbh = gpd.GeoDataFrame(
        {"population": [1000, 3000]},
        geometry=_metric_boxes([(x0, y0, x0 + 1000, y0 + 1000), (x0 + 1000, y0, x0 + 2000, y0 + 1000)]),
    )
    shapes = _metric_boxes(
        [
            (x0 + 500, y0, x0 + 1500, y0 + 1000),  # half of each
            (x0, y0, x0 + 2000, y0 + 1000),  # all of both
            (x0 + 5000, y0, x0 + 6000, y0 + 1000),  # none
            (x0 + 1000, y0, x0 + 1000.0001, y0 + 1000),  # a sliver on the shared edge
        ]
    )
    got = population_within(shapes, nbh)
    assert got[0] == pytest.approx(500 + 1500, rel=1e-6)
    assert got[1] == pytest.approx(4000, rel=1e-6)
    assert got[2] == 0
    assert got[3] == pytest.approx(0, abs=0.01)


def test_grid_counts_hide_small_cells_and_keep_totals():
    x0, y0 = 660_000, 4_190_000
    rng = np.random.default_rng(0)
    dense = rng.uniform([x0, y0], [x0 + 400, y0 + 400], size=(50, 2))  # one 500 m cell
    lonely = np.array([[x0 + 5_200, y0 + 5_200], [x0 + 5_300, y0 + 5_300]])  # 2 points, another cell
    pts = gpd.GeoSeries(gpd.points_from_xy(*np.vstack([dense, lonely]).T, crs=CRS)).to_crs("EPSG:4326")
    out = grid_counts(pts, cell_m=500, min_count=3)
    assert out["count"].tolist() == [50]
    centre = gpd.GeoSeries(out.geometry, crs="EPSG:4326").to_crs(CRS).iloc[0]
    assert centre.x == pytest.approx(x0 + 250, abs=1e-3) and centre.y == pytest.approx(y0 + 250, abs=1e-3)
    assert grid_counts(pts, cell_m=500, min_count=1)["count"].sum() == 52
    assert grid_counts(gpd.GeoSeries([], crs="EPSG:4326")).empty
