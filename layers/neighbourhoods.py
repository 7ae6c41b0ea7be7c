"""社区/村 neighbourhoods: the polygons travellers and screening are assigned to."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers._encoded import geojson_group
from layers.spec import Column, LayerSpec, LegendEntry

SPEC_COLUMNS = (
    Column("id", "str", "编号", "ID", required=True),
    Column("name", "str", "社区/村", "Neighbourhood", required=True),
    Column("district_adcode", "str", "区县代码", "District code", required=True),
    Column("district", "str", "区县", "District"),
    Column("street", "str", "街道/乡镇", "Street/town"),
    Column("population", "int", "人口", "Population", required=True),
    Column("contact_phone", "str", "社区联系电话", "Community office phone"),
    Column("demo", "bool", "演示数据", "Demo data"),
)


#: Thin outlines (the inline layer and its vector tiles alike).
STYLE = {"color": "#6b7c93", "weight": 0.7, "fillColor": "#ffffff", "fillOpacity": 0.05}


def fields(lang: str) -> list[tuple[str, str]]:
    """What a neighbourhood's tooltip (inline) or click (tiles) shows: (column, label)."""
    zh = lang == "zh"
    return [
        ("name", "社区/村" if zh else "Neighbourhood"),
        ("street", "街道" if zh else "Street"),
        ("district", "区县" if zh else "District"),
        ("population", "人口" if zh else "Population"),
    ]


def render(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    """Thin outlines with a tooltip (name, street, district, population)."""
    return geojson_group(gdf, name=SPEC.name(lang), style=lambda p: STYLE, tooltip_fields=fields(lang), show=show)


SPEC = LayerSpec(
    key="neighbourhoods",
    name_zh="社区/村",
    name_en="Neighbourhoods",
    geometry="Polygon",
    columns=SPEC_COLUMNS,
    legend=(LegendEntry("#6b7c93", "社区/村界", "Neighbourhood boundary", "line"),),
    render=render,
)
