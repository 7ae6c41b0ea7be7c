"""区域划定 Zone planning: what the planners' page shows, without Streamlit.

The zone domain lives elsewhere — the planner's form, its checks, shapes drawn on the map,
downgrades and proposals in :mod:`geo.zones` (pure); the zone record the store takes and case
points read from a file in :mod:`layers.zones`; the rules every zone write passes in
:mod:`layers.zone_rules` (run by the store). Here: the page's tables and labels in one language —
the impact tables, the zones and history tables, action and change texts, export file names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashboard.i18n import t
from geo.zones import QUIET_DAYS, TIER_ORDER, Impact, ZoneVersion, downgrade_info
from layers.testing_sites import type_label
from layers.zone_rules import as_date as _date
from layers.zone_rules import as_text as _text
from layers.zone_versions import ACTION_TEXT
from layers.zones import SPEC as ZONES_SPEC
from layers.zones import tier_label

__all__ = [
    "EXPORT_FORMATS",
    "Message",
    "message_text",
    "ImpactTables",
    "impact_tables",
    "zones_table",
    "zone_choice_label",
    "changes_text",
    "history_table",
    "action_label",
    "export_file_name",
]

#: Export formats planners exchange with QGIS: suffix → (label, MIME type).
EXPORT_FORMATS = {
    ".geojson": ("GeoJSON", "application/geo+json"),
    ".kml": ("KML", "application/vnd.google-earth.kml+xml"),
    ".gpkg": ("GeoPackage", "application/geopackage+sqlite3"),
}

_TIER_ZH = {"sealed": "封控区", "controlled": "管控区", "precaution": "防范区"}
Message = tuple[str, str, str]  # (level, zh, en): level "error" blocks saving, "warning" / "info" inform


def message_text(message: Message, lang: str) -> str:
    """The text of a message in ``lang``."""
    return message[1] if lang == "zh" else message[2]


def _iso(value: Any) -> str | None:
    d = _date(value)
    return d.isoformat() if d is not None else None


# ----------------------------------------------------------------------------------------------
# The form and the zone record










# ----------------------------------------------------------------------------------------------
# Shapes from the map










# ----------------------------------------------------------------------------------------------
# Downgrade








# ----------------------------------------------------------------------------------------------
# Impact


@dataclass(frozen=True)
class ImpactTables:
    """An :class:`geo.zones.Impact` as the page shows it: figures and three tables (labels in one language)."""

    area_km2: float
    population: int
    neighbourhood_count: int
    travellers: int | None
    site_count: int
    hotel_count: int
    neighbourhoods: pd.DataFrame
    sites: pd.DataFrame
    hotels: pd.DataFrame


def _rows_by_id(frame: pd.DataFrame, ids: Sequence[Any]) -> pd.DataFrame:
    if frame is None or len(ids) == 0:
        return frame.iloc[0:0] if frame is not None else pd.DataFrame()
    pos = {str(v): i for i, v in enumerate(frame["id"].astype(str))}
    return frame.iloc[[pos[str(i)] for i in ids if str(i) in pos]]


def impact_tables(
    impact: Impact,
    *,
    neighbourhoods: pd.DataFrame,
    sites: pd.DataFrame,
    hotels: pd.DataFrame,
    lang: str,
) -> ImpactTables:
    """Figures and tables of an impact; populations rounded to whole people.

    Neighbourhoods are listed by the population inside (largest first); the traveller figure is
    a count only (no person is listed).
    """
    nb = _rows_by_id(neighbourhoods, impact.neighbourhood_ids)
    share = dict(zip(map(str, impact.neighbourhood_ids), impact.neighbourhood_shares, strict=True))
    shares = np.array([share.get(str(i), 0.0) for i in nb["id"]], dtype=float) if len(nb) else np.array([])
    pops = pd.to_numeric(nb["population"], errors="coerce").fillna(0).to_numpy() if len(nb) else np.array([])
    nb_table = pd.DataFrame(
        {
            t("pl_col_neighbourhood", lang): nb["name"].astype(str).to_numpy() if len(nb) else [],
            t("pl_col_street", lang): nb["street"].astype(str).to_numpy() if len(nb) and "street" in nb else [""] * len(nb),
            t("pl_col_district", lang): nb["district"].astype(str).to_numpy() if len(nb) and "district" in nb else [""] * len(nb),
            t("pl_col_share", lang): np.round(shares * 100, 1),
            t("pl_col_pop_inside", lang): np.round(shares * pops).astype(int),
        }
    )
    if len(nb_table):
        nb_table = nb_table.sort_values(t("pl_col_pop_inside", lang), ascending=False, kind="stable").reset_index(drop=True)
    st_rows = _rows_by_id(sites, impact.site_ids)
    site_table = pd.DataFrame(
        {
            t("pl_col_name", lang): st_rows["name"].astype(str).to_numpy() if len(st_rows) else [],
            t("pl_col_type", lang): [type_label(x, lang) for x in st_rows["type"]] if len(st_rows) else [],
            t("pl_col_address", lang): [_text(x) for x in st_rows["address"]] if len(st_rows) and "address" in st_rows else [""] * len(st_rows),
        }
    )
    h_rows = _rows_by_id(hotels, impact.hotel_ids)
    hotel_table = pd.DataFrame(
        {
            t("pl_col_name", lang): h_rows["name"].astype(str).to_numpy() if len(h_rows) else [],
            t("pl_col_rooms", lang): [
                f"{_text(o) or '?'} / {_text(n) or '?'}" for o, n in zip(h_rows["rooms_occupied"], h_rows["rooms_total"], strict=True)
            ]
            if len(h_rows) and "rooms_total" in h_rows
            else [""] * len(h_rows),
        }
    )
    return ImpactTables(
        area_km2=float(impact.area_km2),
        population=int(round(impact.population)),
        neighbourhood_count=len(impact.neighbourhood_ids),
        travellers=impact.travellers,
        site_count=len(impact.site_ids),
        hotel_count=len(impact.hotel_ids),
        neighbourhoods=nb_table,
        sites=site_table,
        hotels=hotel_table,
    )


# ----------------------------------------------------------------------------------------------
# Tables of zones and versions


def _status(row: Mapping[str, Any], today: dt.date, lang: str) -> str:
    start, lifted = _date(row.get("start")), _date(row.get("lifted"))
    if lifted is not None and lifted <= today:
        return t("pl_status_lifted", lang)
    if start is not None and start > today:
        return t("pl_status_planned", lang)
    return t("pl_status_active", lang)


def zones_table(zones: pd.DataFrame, *, today: dt.date, lang: str, quiet_days: int = QUIET_DAYS) -> pd.DataFrame:
    """Every zone with its status on ``today``, dates, last case, downgrade date and version.

    Sorted: in force first (sealed, controlled, precaution), then planned, then lifted.
    """
    order = {k: i for i, k in enumerate(TIER_ORDER)}
    rows = []
    for r in zones.to_dict("records"):
        status = _status(r, today, lang)
        info = downgrade_info(r.get("last_case"), today, quiet_days=quiet_days) if r.get("tier") == "sealed" else None
        rank = 2 if status == t("pl_status_lifted", lang) else (1 if status == t("pl_status_planned", lang) else 0)
        rows.append(
            {
                "_rank": (rank, order.get(r.get("tier"), 9), _iso(r.get("start")) or ""),
                t("pl_col_tier", lang): tier_label(_text(r.get("tier")), lang),
                t("pl_col_name", lang): _text(r.get("name")),
                t("pl_col_status", lang): status,
                t("pl_col_start", lang): _iso(r.get("start")) or "",
                t("pl_col_planned_end", lang): _iso(r.get("planned_end")) or "",
                t("pl_col_lifted", lang): _iso(r.get("lifted")) or "",
                t("pl_col_last_case", lang): _iso(r.get("last_case")) or "",
                t("pl_col_days_since", lang): "" if info is None or info.days_since is None else str(info.days_since),
                t("pl_col_downgrade_on", lang): "" if info is None else info.may_downgrade_on.isoformat(),
                t("pl_col_version", lang): _text(r.get("version")),
                t("pl_col_saved", lang): f"{_text(r.get('saved_by'))} {_text(r.get('saved_at'))[:16].replace('T', ' ')}".strip(),
                t("pl_col_id", lang): _text(r.get("id")),
            }
        )
    if not rows:
        return pd.DataFrame(columns=[t(k, lang) for k in ("pl_col_tier", "pl_col_name", "pl_col_status", "pl_col_id")])
    out = pd.DataFrame(rows).sort_values("_rank", kind="stable").drop(columns="_rank")
    return out.reset_index(drop=True)


def zone_choice_label(zone: Mapping[str, Any], today: dt.date, lang: str) -> str:
    """One line naming a zone in a select box: tier · name (id, vN) and its status."""
    return (
        f"{tier_label(_text(zone.get('tier')), lang)} · {_text(zone.get('name'))} "
        f"({_text(zone.get('id'))}, v{_text(zone.get('version'))}) · {_status(zone, today, lang)}"
    )


def action_label(action: str, lang: str) -> str:
    """``restore v2`` → 恢复 v2 / restored v2; ``edit`` → 修改 / edited."""
    base, _, rest = (action or "").partition(" ")
    zh, en = ACTION_TEXT.get(base, (base, base))
    word = zh if lang == "zh" else en
    return f"{word} {rest}".strip()


_NONE = re.compile(r"(?<![\w'])None(?![\w'])")  # a missing value in diff_versions' repr() lines


def changes_text(changes: str, lang: str) -> str:
    """A version's "what changed" in one language: ``reason: 'a' → 'b'`` becomes ``原因：'a' → 'b'``,
    bilingual lines (``geometry: unchanged / 范围：未变``) keep the half in ``lang``."""
    labels = {c.name: c.label(lang) for c in ZONES_SPEC.columns}
    out = []
    for line in (changes or "").splitlines():
        key, sep, rest = line.partition(": ")
        if sep and key in labels and key != "geometry":
            rest = _NONE.sub("—", rest)
            out.append(f"{labels[key]}{'：' if lang == 'zh' else ': '}{rest}")
        elif " / " in line:
            en, _, zh = line.partition(" / ")
            out.append(zh if lang == "zh" else en)
        else:
            out.append(line)
    return "；".join(out) if lang == "zh" else "; ".join(out)


def history_table(versions: Sequence[ZoneVersion], lang: str) -> pd.DataFrame:
    """The versions of a zone, newest first: version, action, who, when and what changed."""
    rows = [
        {
            t("pl_col_version", lang): v.version,
            t("pl_col_action", lang): action_label(v.action, lang),
            t("pl_col_saved_by", lang): v.saved_by,
            t("pl_col_saved_at", lang): v.saved_at.strftime("%Y-%m-%d %H:%M") if v.saved_at else "",
            t("pl_col_changes", lang): changes_text(v.changes, lang),
        }
        for v in reversed(list(versions))
    ]
    return pd.DataFrame(rows, columns=[t(k, lang) for k in ("pl_col_version", "pl_col_action", "pl_col_saved_by", "pl_col_saved_at", "pl_col_changes")])


# ----------------------------------------------------------------------------------------------
# Case points












# ----------------------------------------------------------------------------------------------
# Proposal → zones




# ----------------------------------------------------------------------------------------------
# Import and export


def export_file_name(suffix: str, crs: str, day: dt.date) -> str:
    """``管控区域_zones_20220328_wgs84.geojson``: Chinese and English in one name."""
    return f"管控区域_zones_{day:%Y%m%d}_{crs.replace(':', '').lower()}{suffix}"
