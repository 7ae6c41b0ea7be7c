"""中/高风险区 medium/high risk areas (national list), plus counties with unrated cases."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from layers._encoded import geojson_group
from layers._render import esc, table_html, text, truthy
from layers.spec import Column, LayerSpec, LegendEntry

LEVELS = {
    "high": ("高风险区", "High risk", "#b10026"),
    "medium": ("中风险区", "Medium risk", "#fd8d3c"),
    "cases_unrated": ("有病例尚未定级", "Cases reported, not yet rated", "#807dba"),
}

SPEC_COLUMNS = (
    Column("id", "str", "编号", "ID", required=True),
    Column("level", "str", "风险等级", "Level", required=True),
    Column("province", "str", "省", "Province", required=True),
    Column("city", "str", "市", "City"),
    Column("county", "str", "区县", "County"),
    Column("adcode", "str", "区县代码", "County code"),
    Column("area_name", "str", "风险区名称", "Area name"),
    Column("since", "date", "起始日期", "Since", required=True),
    Column("lifted", "date", "解除日期", "Lifted"),
    Column("source", "str", "来源", "Source"),
    Column("approximate", "bool", "边界为所在区县（近似）", "Boundary is the county (approximate)"),
    Column("demo", "bool", "演示数据", "Demo data"),
)


def level_label(level: str, lang: str) -> str:
    zh, en, _ = LEVELS.get(level, (level, level, ""))
    return zh if lang == "zh" else en


def render(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True, national: bool = False) -> folium.FeatureGroup:
    """The areas' shapes; with ``national``, also a dot of a few pixels on each, so an area
    smaller than a pixel at national zoom is still seen (and can be hovered)."""
    zh = lang == "zh"

    def title(r):
        parts = [text(r.get(k)) for k in ("province", "city", "county")]
        place = "".join(dict.fromkeys(p for p in parts if p))  # municipalities repeat their name
        area = text(r.get("area_name"))
        return f"{level_label(r['level'], lang)} · {place}{(' ' + area) if area else ''}"

    def pop(r):
        notes = []
        if truthy(r.get("approximate")):
            notes.append("边界为所在区县（近似）" if zh else "Boundary shown is the whole county (approximate)")
        if truthy(r.get("demo")):
            notes.append("演示数据" if zh else "Demo data")
        note = "；".join(notes) if zh else "; ".join(notes)
        return table_html(
            title(r),
            [
                ("等级" if zh else "Level", level_label(r["level"], lang)),
                ("起始" if zh else "Since", r.get("since")),
                ("来源" if zh else "Source", r.get("source")),
            ],
            note=note,
        )

    def style(p):
        colour = LEVELS.get(p["level"], ("", "", "#888"))[2]
        dashed = "5,4" if p.get("approximate") else None
        return {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.35, "dashArray": dashed}

    fg = geojson_group(
        gdf,
        name=SPEC.name(lang),
        style=style,
        tooltip=lambda r: esc(title(r)),
        popup=pop,
        show=show,
        precision=4,
    )
    if national and len(gdf):
        for (_, r), p in zip(gdf.iterrows(), gdf.geometry.representative_point(), strict=True):
            colour = LEVELS.get(r["level"], ("", "", "#888"))[2]
            folium.CircleMarker((p.y, p.x), radius=4, color="#ffffff", weight=1, fill=True, fill_color=colour,
                                fill_opacity=0.95, tooltip=esc(title(r))).add_to(fg)
    return fg


SPEC = LayerSpec(
    key="risk_areas",
    name_zh="中高风险区",
    name_en="Medium/high risk areas",
    geometry="Polygon",
    columns=SPEC_COLUMNS,
    temporal=("since", "lifted"),
    legend=tuple(LegendEntry(c, zh, en) for zh, en, c in LEVELS.values()),
    render=render,
)


def resolve_boundaries(frame: pd.DataFrame) -> tuple[list, list[bool], list[tuple[str, str] | None], list]:
    """County boundaries for risk-list rows given by admin names or codes (no geometry).

    Each row's ``adcode`` and/or ``province``+``city``+``county`` resolve through the gazetteer
    (exact or unambiguous suffix-stripped names, never fuzzy). The boundary is the county's; a row
    that names an area inside the county (``area_name``) is marked approximate. Returns per row:
    geometry (or None), approximate flag, a (zh, en) reason where the row cannot be resolved,
    and the resolved gazetteer unit (or None).
    """
    from geo._gazetteer_match import PlaceIndex
    from layers.boundaries import county_boundary, gazetteer

    index = PlaceIndex.from_gazetteer(gazetteer())

    def col(name: str) -> list:
        return list(frame[name]) if name in frame.columns else [None] * len(frame)

    places = []
    for parts in zip(col("province"), col("city"), col("county"), strict=True):
        names = [text(p) for p in parts]
        places.append("".join(dict.fromkeys(n for n in names if n)))  # municipalities repeat their name
    resolutions = index.resolve_pairs(places, [text(c) or None for c in col("adcode")])
    geoms, approx, reasons = [], [], []
    units = [r.unit if r.status == "ok" else None for r in resolutions]
    for res, area in zip(resolutions, col("area_name"), strict=True):
        unit = res.unit if res.status == "ok" else None
        if unit is None:
            why = {
                "ambiguous": ("地名不唯一，请填写区县代码", "the place name is ambiguous; give the county code"),
                "conflict": ("区县代码与地名不一致", "the county code and the place names disagree"),
                "empty": ("缺少地点（省/市/区县或区县代码）", "no place given (province/city/county or county code)"),
            }.get(res.status, ("地点无法识别", "place not recognised"))
            geoms.append(None), approx.append(False), reasons.append(why)
            continue
        if unit.level != "county" or not unit.county_adcode:
            geoms.append(None), approx.append(False)
            reasons.append(("需要区县级地点（风险区须落到区县）", "a county-level place is needed (risk areas are resolved to a county)"))
            continue
        geom = county_boundary(unit.county_adcode)
        if geom is None:
            geoms.append(None), approx.append(False)
            reasons.append(("该区县没有边界数据", "no boundary for this county"))
            continue
        geoms.append(geom)
        approx.append(bool(text(area)) or bool(res.rest))
        reasons.append(None)
    return geoms, approx, reasons, units
