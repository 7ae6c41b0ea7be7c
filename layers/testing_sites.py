"""核酸检测点 testing sites."""

from __future__ import annotations

from datetime import datetime

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import MarkerCluster

from geo.hours import is_open, parse_hours
from layers._markers import CompactMarkers, marker_rows
from layers._render import _isna, js_payload, truthy
from layers.spec import Column, LayerSpec, LegendEntry

SITE_TYPES = {
    # type: (zh, en, Font Awesome icon, legend hex)
    "hospital": ("医院", "Hospital", "hospital", "#444"),
    "fixed": ("固定采样点", "Fixed site", "vial", "#444"),
    "convenience": ("便民采样点", "Convenience site", "house-medical", "#444"),
    "mobile": ("流动采样车", "Mobile unit", "truck-medical", "#444"),
}
STATUS = {
    # status: (zh, en, awesome-markers colour, legend hex)
    "open": ("开放中", "Open now", "green", "#72b026"),
    "24h": ("24小时开放", "Open 24 h", "darkgreen", "#3f6a1b"),
    "closed": ("当前关闭", "Closed now", "lightgray", "#a3a3a3"),
    "unknown": ("开放时间未知", "Hours unknown", "cadetblue", "#436978"),
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


def site_status(hours: pd.Series, when: datetime | None) -> list[str]:
    """``open``/``24h``/``closed`` at ``when`` (Asia/Shanghai), ``unknown`` where the text does not parse."""
    out = []
    for text in hours:
        if when is None or _isna(text):
            out.append("unknown")
            continue
        try:
            spans = parse_hours(str(text))
        except ValueError:
            out.append("unknown")
            continue
        if spans == [(0, 1440)]:
            out.append("24h")
        else:
            out.append("open" if is_open(str(text), when) else "closed")
    return out


def open_now(gdf: pd.DataFrame, when: datetime) -> np.ndarray:
    """Which sites are open at ``when`` (unparseable hours count as not open)."""
    return np.array([s in ("open", "24h") for s in site_status(gdf["hours"], when)], dtype=bool)


def _cluster_icon(lang: str) -> str:
    """A cluster shows what it holds: the number of sites, and a bar with one segment per status
    (open now, 24 h, closed, unknown) in the markers' colours; its tooltip says the counts."""
    zh = lang == "zh"
    colours = {v[2]: [v[3], v[0] if zh else v[1]] for v in STATUS.values()}
    return """
    function (cluster) {
      var info = __INFO__, counts = {}, n = 0;
      cluster.getAllChildMarkers().forEach(function (m) {
        var k = m.options.rmc || 'unknown'; counts[k] = (counts[k] || 0) + 1; n++;
      });
      var bar = '', tip = [];
      Object.keys(info).forEach(function (k) {
        if (!counts[k]) return;
        bar += '<span style="flex:' + counts[k] + ';background:' + info[k][0] + '"></span>';
        tip.push(info[k][1] + ' ' + counts[k]);
      });
      var size = n < 10 ? 34 : (n < 100 ? 40 : 46);
      return L.divIcon({
        html: '<div class="rm-cluster" title="' + tip.join(' · ') + '"><b>' + n + '</b><div class="rm-cluster-bar">' + bar + '</div></div>',
        className: 'rm-cluster-icon', iconSize: L.point(size, size)
      });
    }""".replace("__INFO__", js_payload(colours))


def render(
    gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True, when: datetime | None = None
) -> folium.FeatureGroup:
    """Clustered markers: icon by type, colour by open now / closed / 24 h at ``when``."""
    zh = lang == "zh"
    fg = folium.FeatureGroup(name=SPEC.name(lang), show=show)
    cluster = MarkerCluster(
        options={"disableClusteringAtZoom": 15, "showCoverageOnHover": False, "chunkedLoading": True},
        icon_create_function=_cluster_icon(lang),
    )
    cluster.add_to(fg)
    types = list(SITE_TYPES) + ["other"]
    statuses = list(STATUS)
    styles = [
        (SITE_TYPES[t][2] if t in SITE_TYPES else "vial", STATUS[s][2]) for t in types for s in statuses
    ]
    rows = []
    for (_, r), status in zip(gdf.iterrows(), site_status(gdf["hours"], when), strict=True):
        h24 = status == "24h"
        hours = ("24小时" if zh else "24 h") if h24 else r.get("hours")
        t = r["type"] if r["type"] in SITE_TYPES else "other"
        idx = types.index(t) * len(statuses) + statuses.index(status)
        rows.append(
            marker_rows(
                r.geometry.y,
                r.geometry.x,
                idx,
                r["name"],
                r["name"],
                [
                    type_label(r["type"], lang),
                    STATUS[status][0] if zh else STATUS[status][1],
                    hours,
                    r.get("capacity_per_hour"),
                    _fee(r.get("free"), zh),
                    r.get("address"),
                ],
                note=("演示数据" if zh else "Demo data") if truthy(r.get("demo")) else "",
            )
        )
    labels = (
        ["类型", "状态", "开放时间", "每小时采样", "收费", "地址"]
        if zh
        else ["Type", "Status", "Hours", "Capacity / h", "Fee", "Address"]
    )
    CompactMarkers(rows, labels=labels, styles=styles, with_note=True).add_to(cluster)
    return fg


SPEC = LayerSpec(
    key="testing_sites",
    name_zh="核酸检测点",
    name_en="Testing sites",
    geometry="Point",
    columns=SPEC_COLUMNS,
    legend=tuple(LegendEntry(hx, zh, en, "circle") for zh, en, _, hx in list(STATUS.values())[:3])
    + tuple(LegendEntry(hx, zh, en, "icon", icon) for zh, en, icon, hx in SITE_TYPES.values()),
    render=render,
)
