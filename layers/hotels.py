"""集中隔离酒店 centralized quarantine hotels."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers._render import esc, table_html, truthy
from layers.spec import Column, LayerSpec, LegendEntry

STATUS = {"in_use": ("使用中", "In use"), "standby": ("备用", "Standby"), "closed": ("停用", "Closed")}

SPEC_COLUMNS = (
    Column("id", "str", "编号", "ID", required=True),
    Column("name", "str", "名称", "Name", required=True),
    Column("district_adcode", "str", "区县代码", "District code"),
    Column("address", "str", "地址", "Address"),
    Column("rooms_total", "int", "房间总数", "Rooms total", required=True),
    Column("rooms_occupied", "int", "已用房间", "Rooms occupied", required=True),
    Column("status", "str", "状态", "Status", required=True),
    Column("staff_certified", "int", "持证上岗人数", "Certified staff"),
    Column("demo", "bool", "演示数据", "Demo data"),
)

# occupancy share upper bounds → (awesome-markers colour, legend hex, zh, en)
OCCUPANCY_CLASSES = (
    (0.6, "green", "#72b026", "空余充足 (<60%)", "Plenty free (<60%)"),
    (0.9, "orange", "#f69730", "较紧张 (60–90%)", "Tight (60–90%)"),
    (1.01, "red", "#d63e2a", "基本满员 (≥90%)", "Nearly full (≥90%)"),
)


def occupancy_colour(occupied: int, total: int, status: str) -> str:
    """Marker colour: grey for standby/closed, else by share of rooms occupied."""
    if status != "in_use" or not total:
        return "lightgray"
    share = occupied / total
    for bound, colour, *_ in OCCUPANCY_CLASSES:
        if share < bound:
            return colour
    return "red"


def render(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True) -> folium.FeatureGroup:
    zh = lang == "zh"
    fg = folium.FeatureGroup(name=SPEC.name(lang), show=show)
    for _, r in gdf.iterrows():
        total = int(r["rooms_total"])
        occ = int(r["rooms_occupied"])
        st_zh, st_en = STATUS.get(str(r["status"]), (r["status"], r["status"]))
        popup = table_html(
            str(r["name"]),
            [
                ("状态" if zh else "Status", st_zh if zh else st_en),
                ("空余/总房间" if zh else "Rooms free / total", f"{total - occ} / {total}"),
                ("持证上岗人数" if zh else "Certified staff", r.get("staff_certified")),
                ("地址" if zh else "Address", r.get("address")),
            ],
            note=("演示数据" if zh else "Demo data") if truthy(r.get("demo")) else None,
        )
        folium.Marker(
            location=(r.geometry.y, r.geometry.x),
            icon=folium.Icon(color=occupancy_colour(occ, total, str(r["status"])), icon="bed", prefix="fa"),
            popup=folium.Popup(popup, max_width=320),
            tooltip=folium.Tooltip(esc(f"{r['name']} · {total - occ}/{total}")),
        ).add_to(fg)
    return fg


SPEC = LayerSpec(
    key="hotels",
    name_zh="集中隔离酒店",
    name_en="Quarantine hotels",
    geometry="Point",
    columns=SPEC_COLUMNS,
    legend=tuple(LegendEntry(hx, zh, en, "circle") for _, _, hx, zh, en in OCCUPANCY_CLASSES)
    + (LegendEntry("#a3a3a3", "备用/停用", "Standby / closed", "circle"),),
    render=render,
)
