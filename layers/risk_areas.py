"""中/高风险区 medium/high risk areas (national list), plus counties with unrated cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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


# ----------------------------------------------------------------------------------------------
# A daily list: what it adds, changes and lifts, without losing the old list


def _area_key(frame: pd.DataFrame) -> pd.Series:
    """One medium/high-risk area across lists: province, city, county and area name (spaces and
    full-width forms ignored)."""
    import unicodedata

    parts = [frame[c] if c in frame.columns else pd.Series("", index=frame.index) for c in ("province", "city", "county", "area_name")]
    text = parts[0].fillna("").astype(str)
    for p in parts[1:]:
        text = text + "|" + p.fillna("").astype(str)
    return text.map(lambda s: unicodedata.normalize("NFKC", s).replace(" ", ""))


#: Records (layers/store/records.py) of the daily lists applied: one per list, keyed by its day.
LIST_KIND = "risk_list"


def list_record(changes: pd.DataFrame, file: str, before: Any = None) -> dict[str, Any]:
    """What a :data:`LIST_KIND` record keeps of a daily list applied: its file and the entries it
    started (``added``; ``changed``: ``[new, ended]`` pairs) and ended (``lifted``). ``before``:
    the record of an earlier import of the same day (a corrected list), whose entries are kept."""
    old = dict(before.data) if before is not None else {}
    pick = {k: changes[changes["change"] == k] for k in ("added", "changed", "lifted")}
    added = list(old.get("added", [])) + pick["added"]["id"].astype(str).tolist()
    changed = list(old.get("changed", [])) + [[str(a), str(b)] for a, b in zip(pick["changed"]["id"], pick["changed"]["previous_id"], strict=True)]
    lifted = list(old.get("lifted", [])) + pick["lifted"]["id"].astype(str).tolist()
    return {"file": file, "added": list(dict.fromkeys(added)), "changed": changed, "lifted": list(dict.fromkeys(lifted))}


def list_provenance(records: Iterable[Any]) -> dict[str, dict[str, str]]:
    """From the :data:`LIST_KIND` records: which list started (``listed``) and ended (``lifted``)
    each entry, as ``"<file> · <user>"`` by entry id — the history table's "by which notice or user"."""
    listed: dict[str, str] = {}
    lifted: dict[str, str] = {}
    for r in sorted(records, key=lambda r: r.key):
        data = r.data
        by = f"{data.get('file', '')} · {r.saved_by}"
        for i in data.get("added", []):
            listed[str(i)] = by
        for new, ended in data.get("changed", []):
            listed[str(new)] = by
            lifted[str(ended)] = by
        for i in data.get("lifted", []):
            lifted[str(i)] = by
    return {"listed": listed, "lifted": lifted}


def check_list_day(applied: Iterable[str], day: object) -> None:
    """Refuse the daily list of ``day`` (:class:`~geo.errors.ImportRejected`, nothing written) when
    a later list is applied already (``applied``: the days of the lists applied, ``YYYY-MM-DD``,
    as :data:`LIST_KIND` records keep them).

    Applied after a later list, an older one would add areas that no later list can lift: they
    would stay in force for ever. The same day again (a corrected list) and later days are taken.
    Entries written otherwise (the demo, an append or replace import) are not lists, and do not
    count: the demo holds areas listed months after its scenario day."""
    from geo.errors import ImportRejected
    from layers.io._issues import Issue

    day = pd.Timestamp(day).normalize()
    later = sorted(d for d in applied if pd.Timestamp(d).normalize() > day)
    if not later:
        return
    zh = f"{later[-1]} 的每日名单已导入，更早日期（{day:%Y-%m-%d}）的名单会改写其后的历史，未写入任何数据"
    en = (f"the daily list of {later[-1]} is applied already; a list of an earlier day ({day:%Y-%m-%d}) would rewrite"
          " the history after it; nothing was written")
    raise ImportRejected(f"{zh} / {en}", rows=[Issue(None, None, zh, en)])


def apply_daily_list(current: pd.DataFrame, listed: pd.DataFrame, *, day: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The risk-areas layer after the list published on ``day`` (the areas in force that day):

    * an area in force and on the list at the same level: unchanged;
    * at another level: its entry is lifted on ``day`` and a new entry starts that day at the new
      level (so the layer keeps each level's lifetime);
    * on the list and not in force: added (from the list's ``since``, else ``day``);
    * in force and not on the list: lifted on ``day``.

    Entries lifted before stay as they are: the old lists are never lost. Returns ``(layer,
    changes)``; ``changes``: ``change`` (added / changed / lifted), ``id``, ``previous_id``, ``area`` (the key),
    ``level_before``, ``level_after``. A new entry keeps the list's id unless the layer has it
    already, then ``<id>-<YYYYMMDD>``; ``previous_id``: the entry a level change ended."""
    day = pd.Timestamp(day).normalize()
    cur = current.reset_index(drop=True).copy()
    new = listed.reset_index(drop=True).copy()
    cur["since"] = pd.to_datetime(cur["since"]) if "since" in cur.columns else pd.NaT
    cur["lifted"] = pd.to_datetime(cur["lifted"]) if "lifted" in cur.columns else pd.NaT
    since, lifted = cur["since"], cur["lifted"]
    in_force = (since <= day) & (lifted.isna() | (lifted > day))
    ckey, nkey = _area_key(cur), _area_key(new)
    live = pd.Series(cur.index[in_force.to_numpy()], index=ckey[in_force].to_numpy())
    live = live[~live.index.duplicated(keep="last")]
    taken = set(cur["id"].astype(str)) if len(cur) else set()
    rows, changes = [], []
    for i, k in enumerate(nkey):
        row = new.iloc[i]
        j = live.get(k)
        if j is not None and str(cur.at[j, "level"]) == str(row["level"]):
            continue
        rid = str(row["id"])
        if rid in taken:
            rid = f"{rid}-{day:%Y%m%d}"
        taken.add(rid)
        if j is not None:  # the level changed: the old entry ends, a new one starts today
            cur.at[j, "lifted"] = day
            start = day
            changes.append(("changed", rid, str(cur.at[j, "id"]), k, str(cur.at[j, "level"]), str(row["level"])))
        else:
            start = pd.Timestamp(row["since"]) if "since" in new.columns and pd.notna(row.get("since")) else day
            changes.append(("added", rid, "", k, "", str(row["level"])))
        rows.append(row.to_dict() | {"id": rid, "since": start, "lifted": pd.NaT})
    gone = in_force & ~ckey.isin(set(nkey))
    for j in cur.index[gone.to_numpy()]:
        cur.at[j, "lifted"] = day
        changes.append(("lifted", str(cur.at[j, "id"]), "", ckey[j], str(cur.at[j, "level"]), ""))
    added = pd.DataFrame(rows)
    if len(added):
        if isinstance(new, gpd.GeoDataFrame):
            added = gpd.GeoDataFrame(added, geometry="geometry", crs=new.crs)
        out = pd.concat([cur, added], ignore_index=True)
        if isinstance(cur, gpd.GeoDataFrame) or isinstance(added, gpd.GeoDataFrame):
            out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    else:
        out = cur
    return out, pd.DataFrame(changes, columns=["change", "id", "previous_id", "area", "level_before", "level_after"])


def area_history(layer: pd.DataFrame, area_id: str, *, lists: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """Every entry of the area that ``area_id`` is one entry of, oldest first: its lifetime —
    listed, level changes, lifted (``id``, ``level``, ``since``, ``lifted``, ``source``). With
    ``lists`` (:func:`list_provenance`), also ``listed_by`` and ``lifted_by``: the daily list and
    user that started and ended each entry (empty where no recorded list did)."""
    key = _area_key(layer)
    mine = key[layer["id"].astype(str) == str(area_id)]
    if mine.empty:
        return layer.iloc[0:0][["id", "level", "since", "lifted"]]
    cols = [c for c in ("id", "level", "since", "lifted", "source") if c in layer.columns]
    out = layer[key == mine.iloc[0]].sort_values("since", kind="stable")[cols].reset_index(drop=True)
    if lists is not None:
        ids = out["id"].astype(str)
        out["listed_by"] = ids.map(lists.get("listed", {}))
        out["lifted_by"] = ids.map(lists.get("lifted", {}))
    return out
