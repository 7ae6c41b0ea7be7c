"""Layers computed from others for display (not stored, not imported): traveller density and
the neighbourhood screening choropleth. Both carry aggregates only, never a person."""

from __future__ import annotations

import folium
import geopandas as gpd
from folium.plugins import HeatMap

from layers._encoded import geojson_group
from layers.spec import Column, LayerSpec, LegendEntry

__all__ = ["TRAVELLER_DENSITY", "NEIGHBOURHOOD_SCREENING", "NEIGHBOURHOOD_FOLLOWUP", "SITE_QUEUE", "COUNT_CLASSES",
           "SCREENING_LEVELS"]

COUNT_CLASSES = (
    # lower bound, colour, zh, en
    (0, "#f7f7f7", "无返并人员", "No arrivals"),
    (1, "#fde0c5", "1–9 人", "1–9 arrivals"),
    (10, "#facba6", "10–49 人", "10–49 arrivals"),
    (50, "#f59e72", "50–99 人", "50–99 arrivals"),
    (100, "#e05c5c", "≥100 人", "100+ arrivals"),
)
SCREENING_LEVELS = {
    "full": ("#b2182b", "全员核酸", "Full screening"),
    "targeted": ("#ef8a62", "重点人员筛查", "Targeted screening"),
    "none": ("#f7f7f7", "无需筛查", "No screening"),
}


def class_colour(value: float, classes) -> str:
    """The colour of the last class (``(lower bound, colour, …)``, ascending) whose bound
    ``value`` reaches; the first class's below them all."""
    colour = classes[0][1]
    for lower, c, *_ in classes:
        if value >= lower:
            colour = c
    return colour


def _count_colour(n: int) -> str:
    return class_colour(n, COUNT_CLASSES)


def render_density(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    """A heat map of grid-cell counts (``geo.density.grid_counts``); no popups, no individuals."""
    fg = folium.FeatureGroup(name=TRAVELLER_DENSITY.name(lang), show=show)
    if not gdf.empty:
        data = [[round(p.y, 4), round(p.x, 4), int(c)] for p, c in zip(gdf.geometry, gdf["count"], strict=True)]
        HeatMap(data, radius=18, blur=22, min_opacity=0.25, max_zoom=13).add_to(fg)
    return fg


def render_screening(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    """Neighbourhoods coloured by screening level when known, else by the count of arrivals."""
    zh = lang == "zh"
    by_level = "screening_level" in gdf.columns and gdf["screening_level"].notna().any()

    def style(p):
        if by_level:
            colour = SCREENING_LEVELS.get(p.get("screening_level") or "none", SCREENING_LEVELS["none"])[0]
        else:
            colour = _count_colour(int(p.get("travellers") or 0))
        return {"color": "#888", "weight": 0.4, "fillColor": colour, "fillOpacity": 0.7}

    fields = [("name", "社区/村" if zh else "Neighbourhood"), ("travellers", "返并人员" if zh else "Arrivals")]
    if by_level:
        fields.append(("screening_label", "筛查" if zh else "Screening"))
    frame = gdf
    if by_level:
        frame = gdf.assign(
            screening_label=[SCREENING_LEVELS.get(v, SCREENING_LEVELS["none"])[1 if zh else 2] for v in gdf["screening_level"]]
        )
    return geojson_group(
        frame,
        name=NEIGHBOURHOOD_SCREENING.name(lang),
        style=style,
        tooltip_fields=fields,
        show=show,
    )


def render_followup(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    """Neighbourhoods coloured by their follow-up state (``geo.followup.FOLLOWUP_STATES``)."""
    from geo.followup import FOLLOWUP_STATES

    zh = lang == "zh"
    none = FOLLOWUP_STATES["none"]

    def style(p):
        colour = FOLLOWUP_STATES.get(p.get("followup_state") or "none", none)[0]
        return {"color": "#888", "weight": 0.4, "fillColor": colour, "fillOpacity": 0.7}

    frame = gdf.assign(followup_label=[FOLLOWUP_STATES.get(v or "none", none)[1 if zh else 2] for v in gdf["followup_state"]])
    return geojson_group(
        frame, name=NEIGHBOURHOOD_FOLLOWUP.name(lang), style=style, show=show,
        tooltip_fields=[("name", "社区/村" if zh else "Neighbourhood"), ("followup_label", "随访" if zh else "Follow-up")],
    )


def _followup_legend() -> tuple[LegendEntry, ...]:
    from geo.followup import FOLLOWUP_STATES

    return tuple(LegendEntry(c, zh, en) for c, zh, en in FOLLOWUP_STATES.values())


NEIGHBOURHOOD_FOLLOWUP = LayerSpec(
    key="neighbourhood_followup",
    name_zh="社区随访状态",
    name_en="Neighbourhood follow-up",
    geometry="Polygon",
    columns=(
        Column("id", "str", "编号", "ID"),
        Column("name", "str", "社区/村", "Neighbourhood"),
        Column("followup_state", "str", "随访状态", "Follow-up state"),
    ),
    legend=_followup_legend(),
    public=False,
    render=render_followup,
)

TRAVELLER_DENSITY = LayerSpec(
    key="traveller_density",
    name_zh="返并人员密度",
    name_en="Arrivals density",
    geometry="Point",
    id_column=None,
    columns=(Column("count", "int", "人数", "Count"),),
    legend=(LegendEntry("#f03b20", "热度：500 米网格人数（<3 人不显示）", "Heat: arrivals per 500 m cell (cells < 3 hidden)", "circle"),),
    public=False,
    render=render_density,
)

NEIGHBOURHOOD_SCREENING = LayerSpec(
    key="neighbourhood_screening",
    name_zh="社区筛查",
    name_en="Neighbourhood screening",
    geometry="Polygon",
    columns=(
        Column("id", "str", "编号", "ID"),
        Column("name", "str", "社区/村", "Neighbourhood"),
        Column("travellers", "int", "返并人员", "Arrivals"),
        Column("screening_level", "str", "筛查级别", "Screening level"),
    ),
    legend=tuple(LegendEntry(c, zh, en) for c, zh, en in SCREENING_LEVELS.values()),
    public=False,
    render=render_screening,
)


def render_queue(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    """Testing sites with a fresh queue report, a dot coloured by the level (``geo.queue.LEVELS``);
    the tooltip says the level and when it was reported. Level and time only: never who reported."""
    import html

    from geo.queue import LEVELS

    zh = lang == "zh"
    fg = folium.FeatureGroup(name=SITE_QUEUE.name(lang), show=show)
    for name, level, at, p in zip(gdf["name"], gdf["level"], gdf["reported_at"], gdf.geometry, strict=True):
        lz, le, colour = LEVELS.get(str(level), ("—", "—", "#999"))
        tip = f"{name}：{lz}（{at} 上报）" if zh else f"{name}: {le} (reported {at})"
        folium.CircleMarker((p.y, p.x), radius=7, color="#ffffff", weight=2, fill=True, fill_color=colour, fill_opacity=0.95,
                            tooltip=html.escape(tip)).add_to(fg)
    return fg


def _queue_legend() -> tuple[LegendEntry, ...]:
    from geo.queue import LEVELS

    return tuple(LegendEntry(c, zh, en, "circle") for zh, en, c in LEVELS.values())


SITE_QUEUE = LayerSpec(
    key="site_queue",
    name_zh="检测点排队情况",
    name_en="Testing-site queues",
    geometry="Point",
    columns=(
        Column("id", "str", "编号", "ID"),
        Column("name", "str", "名称", "Name"),
        Column("level", "str", "排队", "Queue"),
        Column("reported_at", "str", "上报时间", "Reported at"),
    ),
    legend=_queue_legend(),
    render=render_queue,
)
