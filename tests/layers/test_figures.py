"""Key figures against values computed by hand on a tiny scenario."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import utm_crs_for
from layers.figures import key_figures

CRS = utm_crs_for(112.55, 37.86)
X, Y = 640_000, 4_190_000


def _box(x0, y0, x1, y1):
    return gpd.GeoSeries([shapely.box(X + x0, Y + y0, X + x1, Y + y1)], crs=CRS).to_crs("EPSG:4326").iloc[0]


def test_key_figures_tiny_scenario():
    nbh = gpd.GeoDataFrame(
        {"population": [1000, 2000]}, geometry=[_box(0, 0, 1000, 1000), _box(1000, 0, 2000, 1000)], crs="EPSG:4326"
    )
    zones = gpd.GeoDataFrame(
        {"tier": ["sealed", "sealed", "controlled"]},
        geometry=[
            _box(0, 0, 500, 1000),  # half of nbh 0 -> 500
            _box(250, 0, 750, 1000),  # overlaps the first: union covers 750 m -> 750 people
            _box(1000, 0, 2000, 500),  # half of nbh 1 -> 1000
        ],
        crs="EPSG:4326",
    )
    risk = pd.DataFrame(
        {"level": ["high", "medium", "medium", "cases_unrated"], "province": ["山西省", "山西省", "浙江省", "浙江省"]}
    )
    hotels = pd.DataFrame(
        {"status": ["in_use", "in_use", "standby", "closed"], "rooms_total": [100, 50, 80, 40], "rooms_occupied": [90, 10, 0, 0]}
    )
    sites = pd.DataFrame({"hours": ["24h", "08:00-18:00", "24h"]})
    f = key_figures(
        risk_areas=risk, zones=zones, hotels=hotels, sites=sites, neighbourhoods=nbh, province="山西省",
        sites_open_mask=np.array([True, False, True]), travellers={"pending": 4},
    )
    assert f.risk_national == {"high": 1, "medium": 2, "cases_unrated": 1}
    assert f.risk_province == {"high": 1, "medium": 1, "cases_unrated": 0}
    assert f.zones == {"sealed": 2, "controlled": 1, "precaution": 0}
    assert f.zone_population["sealed"] == pytest.approx(750, abs=1)
    assert f.zone_population["controlled"] == pytest.approx(1000, abs=1)
    assert f.zone_population["precaution"] == 0
    assert (f.rooms_free, f.rooms_total, f.rooms_standby) == (50, 150, 80)
    assert (f.sites_total, f.sites_open, f.sites_24h) == (3, 2, 2)
    assert f.travellers == {"pending": 4}
