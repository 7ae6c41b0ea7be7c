"""封控区 / 管控区 / 防范区 sealed / controlled / precaution zones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.zones import ZoneForm, as_iso, as_text
from layers._encoded import geojson_group
from layers._render import esc, table_html, truthy
from layers.spec import Column, LayerSpec, LegendEntry

TIERS = {
    # tier: (zh, en, colour, fill opacity, z-order: drawn last = on top)
    "precaution": ("防范区", "Precaution zone", "#f4c542", 0.18),
    "controlled": ("管控区", "Controlled zone", "#f28c28", 0.30),
    "sealed": ("封控区", "Sealed zone", "#c0392b", 0.45),
}

SPEC_COLUMNS = (
    Column("id", "str", "编号", "ID", required=True),
    Column("tier", "str", "级别", "Tier", required=True),
    Column("name", "str", "名称", "Name", required=True),
    Column("reason", "str", "原因", "Reason"),
    Column("start", "date", "开始日期", "Start", required=True),
    Column("planned_end", "date", "计划解除日期", "Planned end"),
    Column("lifted", "date", "解除日期", "Lifted"),
    # the day of the zone's last case (sealed zones): days since, and when it may be downgraded
    Column("last_case", "date", "最近病例日期", "Last case"),
    Column("district_adcode", "str", "区县代码", "District code"),
    Column("demo", "bool", "演示数据", "Demo data"),
    # Written by the store on every save (layers/zone_versions.py), never taken from an import:
    Column("version", "int", "版本", "Version"),
    Column("saved_by", "str", "保存人", "Saved by"),  # a staff account, never shown to residents
    Column("saved_at", "str", "保存时间", "Saved at"),
)


def tier_label(tier: str, lang: str) -> str:
    zh, en, *_ = TIERS.get(tier, (tier, tier, "", 0))
    return zh if lang == "zh" else en


def render(
    gdf: gpd.GeoDataFrame, lang: str = "zh", *, show: bool = True, as_of: pd.Timestamp | None = None
) -> folium.FeatureGroup:
    """Tier colours, precaution drawn first and sealed on top; popup with dates and days remaining."""
    zh = lang == "zh"
    day = pd.Timestamp(as_of).normalize() if as_of is not None else pd.Timestamp.now().normalize()
    order = {t: i for i, t in enumerate(TIERS)}
    frame = gdf.assign(_o=gdf["tier"].map(order).fillna(-1)).sort_values("_o", kind="stable")

    def pop(r):
        end = r.get("planned_end")
        left = None
        if end is not None and not pd.isna(end):
            left = max(int((pd.Timestamp(end) - day).days), 0)
        return table_html(
            f"{tier_label(r['tier'], lang)} · {r['name']}",
            [
                ("原因" if zh else "Reason", r.get("reason")),
                ("开始" if zh else "Start", r.get("start")),
                ("计划解除" if zh else "Planned end", r.get("planned_end")),
                ("剩余天数" if zh else "Days remaining", left),
            ],
            note=("演示数据" if zh else "Demo data") if truthy(r.get("demo")) else None,
        )

    def style(p):
        _, _, colour, opacity = TIERS.get(p["tier"], ("", "", "#888", 0.2))
        return {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": opacity}

    return geojson_group(
        frame.drop(columns="_o"),
        name=SPEC.name(lang),
        style=style,
        tooltip=lambda r: esc(f"{tier_label(r['tier'], lang)} · {r['name']}"),
        popup=pop,
        show=show,
    )


SPEC = LayerSpec(
    key="zones",
    name_zh="封控/管控/防范区",
    name_en="Control zones",
    geometry="Polygon",
    columns=SPEC_COLUMNS,
    temporal=("start", "lifted"),
    legend=tuple(LegendEntry(c, zh, en) for zh, en, c, _ in reversed(TIERS.values())),
    render=render,
)


# ----------------------------------------------------------------------------------------------
# A planner's zone as the store takes it, and case points from a file


def zone_record(
    form: ZoneForm,
    geometry: BaseGeometry,
    *,
    zone_id: str,
    district_adcode: str | None = None,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The zone as :meth:`layers.store.gpkg.GpkgStore.save_zone` takes it.

    ``base`` is the stored row of an edited zone: columns the form does not hold (``demo``,
    the district when none is given) are kept from it. Dates are ISO strings, missing ones None.
    """
    base = base or {}
    demo = base.get("demo")
    out: dict[str, Any] = {
        "id": zone_id,
        "tier": form.tier,
        "name": form.name.strip(),
        "reason": form.reason.strip() or None,
        "start": as_iso(form.start),
        "planned_end": as_iso(form.planned_end),
        "lifted": as_iso(form.lifted),
        "last_case": as_iso(form.last_case),
        "district_adcode": district_adcode or (as_text(base.get("district_adcode")) or None),
        "demo": bool(demo) if demo is not None and demo is not pd.NA else False,
        "geometry": geometry,
    }
    return out


def lift_merged(
    store: Any, merged_ids: Sequence[str], *, into: str, start: dt.date | None, today: dt.date, user: str
) -> list[tuple[str, int | None, str | None]]:
    """Lift the zones merged into zone ``into`` (their records stay, ended the day the merged zone
    starts, the reason saying into which): ``(zone id, new version, None)`` for each lifted, or
    ``(zone id, None, why)`` when its save was refused (someone changed it meanwhile)."""
    from geo.errors import StaleWrite

    zones = store.read("zones")
    out: list[tuple[str, int | None, str | None]] = []
    for zid in merged_ids:
        rows = zones[zones["id"].astype(str) == str(zid)]
        if not len(rows):
            continue
        row = rows.iloc[0].to_dict()
        form = ZoneForm.from_zone(row)
        lifted = max(start or today, form.start or today)
        reason = f"{form.reason}（已并入 {into} / merged into {into}）".strip()
        rec = zone_record(
            ZoneForm(form.tier, form.name, reason, form.start, form.planned_end, form.last_case, lifted),
            row["geometry"], zone_id=str(zid), base=row,
        )
        try:
            v = store.save_zone(rec, based_on=int(row["version"]), user=user, action="lift")
        except (StaleWrite, ValueError) as exc:
            out.append((str(zid), None, str(exc)))
        else:
            out.append((str(zid), v.version, None))
    return out
