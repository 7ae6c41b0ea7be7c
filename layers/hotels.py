"""集中隔离酒店 centralized quarantine hotels."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from layers._markers import CompactMarkers, marker_rows
from layers._render import truthy
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
    Column("reserved_rooms", "int", "预留房间", "Reserved rooms"),
    Column("suitable_for", "str", "适合人群", "Suitable for"),
    # its time in use (one period): the time machine shows the hotels in use on each day
    Column("in_use_since", "date", "启用日期", "In use since"),
    Column("in_use_until", "date", "停用日期", "Stood down on"),
    Column("demo", "bool", "演示数据", "Demo data"),
)

# occupancy share upper bounds → (awesome-markers colour, legend hex, zh, en)
OCCUPANCY_CLASSES = (
    (0.6, "green", "#72b026", "空余充足 (<60%)", "Plenty free (<60%)"),
    (0.9, "orange", "#f69730", "较紧张 (60–90%)", "Tight (60–90%)"),
    (1.01, "red", "#d63e2a", "基本满员 (≥90%)", "Nearly full (≥90%)"),
)


def in_use(hotels: pd.DataFrame, day: object = None) -> np.ndarray:
    """Which hotels are in use: the one definition (key figures, follow-up, time machine).

    Without ``day``: today's status (``in_use``). On ``day``: the hotel's period in use covers it
    — from ``in_use_since`` (unknown: from any day) up to the day before ``in_use_until``; with
    no ``in_use_until`` the period lasts while the status is ``in_use`` (a standby or closed hotel
    without one was not in use). The importer refuses an ``in_use`` hotel with a stand-down date
    and a stand-down before its start, so on today both answers agree.
    """
    status = hotels["status"].astype(str).to_numpy() if "status" in hotels.columns else np.full(len(hotels), "in_use")
    now = status == "in_use"
    if day is None:
        return now
    from geo.zones import in_force_during  # the one lifetime rule, as for zones and risk areas

    d = pd.Timestamp(day).normalize()
    none = pd.Series(pd.NaT, index=hotels.index)
    since, until = (pd.to_datetime(hotels[c]) if c in hotels.columns else none for c in ("in_use_since", "in_use_until"))
    return in_force_during(since, until, d, d) & (until.notna().to_numpy() | now)


def occupancy_colour(occupied: int, total: int, status: str) -> str:
    """Marker colour: grey for standby/closed, else by share of rooms occupied."""
    if status != "in_use" or not total:
        return "lightgray"
    share = occupied / total
    for bound, colour, *_ in OCCUPANCY_CLASSES:
        if share < bound:
            return colour
    return "red"


def render(gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True, moved_in: dict[str, int] | None = None) -> folium.FeatureGroup:
    """One marker per hotel, coloured by occupancy (grey when standby or closed). ``moved_in``:
    people recorded as transferred there and not yet in the layer's count
    (:func:`geo.followup.moved_in_per_hotel`): counted as occupied, so the marker says the free
    rooms the command figures and the transfer plans use (:func:`geo.followup.hotel_rooms_free`)."""
    zh = lang == "zh"
    moved_in = moved_in or {}
    fg = folium.FeatureGroup(name=SPEC.name(lang), show=show)
    colours = ["green", "orange", "red", "lightgray"]
    rows = []
    for _, r in gdf.iterrows():
        total = int(r["rooms_total"])
        occ = min(total, int(r["rooms_occupied"]) + int(moved_in.get(str(r["id"]), 0)))
        st_zh, st_en = STATUS.get(str(r["status"]), (r["status"], r["status"]))
        colour = occupancy_colour(occ, total, str(r["status"]))
        rows.append(
            marker_rows(
                r.geometry.y,
                r.geometry.x,
                colours.index(colour),
                r["name"],
                f"{r['name']} · {total - occ}/{total}",
                [st_zh if zh else st_en, f"{total - occ} / {total}", r.get("staff_certified"), r.get("address")],
                note=("演示数据" if zh else "Demo data") if truthy(r.get("demo")) else "",
            )
        )
    labels = (
        ["状态", "空余/总房间", "持证上岗人数", "地址"] if zh else ["Status", "Rooms free / total", "Certified staff", "Address"]
    )
    CompactMarkers(rows, labels=labels, styles=[("bed", c) for c in colours], with_note=True).add_to(fg)
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
