"""中/高风险区 medium/high risk areas (national list), plus counties with unrated cases."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers._render import esc, geojson_group, table_html, text, truthy
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


def render(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
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

    return geojson_group(
        gdf,
        name=SPEC.name(lang),
        style=style,
        style_columns=("level", "approximate"),
        tooltip=lambda r: esc(title(r)),
        popup=pop,
        show=show,
        precision=4,
    )


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
