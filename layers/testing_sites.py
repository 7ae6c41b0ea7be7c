"""核酸检测点 testing sites."""

from __future__ import annotations

import folium
import geopandas as gpd
from folium.plugins import MarkerCluster

from layers._markers import CompactMarkers, marker_rows
from layers._render import _isna, truthy
from layers.spec import Column, LayerSpec, LegendEntry

SITE_TYPES = {
    # type: (zh, en, awesome-markers colour, legend hex)
    "hospital": ("医院", "Hospital", "red", "#d63e2a"),
    "fixed": ("固定采样点", "Fixed site", "blue", "#38aadd"),
    "convenience": ("便民采样点", "Convenience site", "green", "#72b026"),
    "mobile": ("流动采样车", "Mobile unit", "purple", "#d252b9"),
}

SPEC_COLUMNS = (
    Column("id", "str", "编号", "ID", required=True),
    Column("name", "str", "名称", "Name", required=True),
    Column("type", "str", "类型", "Type", required=True),
    Column("district_adcode", "str", "区县代码", "District code"),
    Column("address", "str", "地址", "Address"),
    Column("hours", "str", "开放时间", "Opening hours", required=True),
    Column("capacity_per_hour", "int", "每小时采样能力", "Capacity per hour"),
    Column("free", "bool", "免费", "Free"),
    Column("demo", "bool", "演示数据", "Demo data"),
)


def type_label(t: str, lang: str) -> str:
    zh, en, _, _ = SITE_TYPES.get(t, (t, t, "gray", "#999"))
    return zh if lang == "zh" else en


def _fee(free: object, zh: bool) -> str | None:
    if _isna(free):
        return None
    if free:
        return "免费" if zh else "free"
    return "收费" if zh else "paid"


def render(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    """Clustered markers, colour by type; popup with hours, capacity, fee, address."""
    zh = lang == "zh"
    fg = folium.FeatureGroup(name=SPEC.name(lang), show=show)
    cluster = MarkerCluster(options={"disableClusteringAtZoom": 15, "showCoverageOnHover": False, "chunkedLoading": True})
    cluster.add_to(fg)
    types = list(SITE_TYPES)
    rows = []
    for _, r in gdf.iterrows():
        h24 = str(r.get("hours")) == "24h"
        hours = ("24小时" if zh else "24 h") if h24 else r.get("hours")
        idx = types.index(r["type"]) if r["type"] in types else len(types)
        rows.append(
            marker_rows(
                r.geometry.y,
                r.geometry.x,
                idx,
                r["name"],
                r["name"],
                [type_label(r["type"], lang), hours, r.get("capacity_per_hour"), _fee(r.get("free"), zh), r.get("address")],
                note=("演示数据" if zh else "Demo data") if truthy(r.get("demo")) else "",
            )
        )
    labels = (
        ["类型", "开放时间", "每小时采样", "收费", "地址"] if zh else ["Type", "Hours", "Capacity / h", "Fee", "Address"]
    )
    styles = [("vial", colour) for _, _, colour, _ in SITE_TYPES.values()] + [("vial", "gray")]
    CompactMarkers(rows, labels=labels, styles=styles, with_note=True).add_to(cluster)
    return fg


SPEC = LayerSpec(
    key="testing_sites",
    name_zh="核酸检测点",
    name_en="Testing sites",
    geometry="Point",
    columns=SPEC_COLUMNS,
    legend=tuple(LegendEntry(hx, zh, en, "circle") for zh, en, _, hx in SITE_TYPES.values()),
    render=render,
)
