"""What the command centre shows besides its map, computed once for both of its views: the
Streamlit page (``dashboard/views/command.py``) and the wall screen (``dashboard/wall.py``).

Only public layers and aggregates are read, so nothing here is personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from dashboard.i18n import compact_number, t
from dashboard.ui import PageContext, daily_reports, hotel_moved_in, read_public_layer, traveller_aggregates
from layers import MAP_LAYERS
from layers.boundaries import gazetteer
from layers.daily_report import bulletin_text
from layers.figures import key_figures
from layers.testing_sites import open_now

__all__ = ["Figure", "Bulletin", "command_figures", "latest_bulletin", "province_name"]


@dataclass(frozen=True)
class Figure:
    """One key figure as shown: its label, its value (formatted), and the explanation behind its
    help icon (or ``None``)."""

    label: str
    value: str
    help: str | None = None


@dataclass(frozen=True)
class Bulletin:
    """The latest daily bulletin up to a date: ``heading`` names its date, ``wording`` is the
    first paragraph in the bulletin's own words (or a note that figures are missing)."""

    heading: str
    wording: str


def province_name(ctx: PageContext) -> str:
    """The name of the province the configured city is in ("" if the gazetteer lacks it)."""
    gaz = gazetteer()
    province = gaz.loc[gaz["adcode"] == ctx.settings.city_adcode[:2] + "0000", "name"]
    return str(province.iloc[0]) if len(province) else ""


def command_figures(ctx: PageContext, as_of: pd.Timestamp, when: datetime) -> list[Figure]:
    """The seven key figures in force on ``as_of`` (testing sites judged open at ``when``), in
    the order they are shown: risk areas nationally and in the province, zones by tier, people
    inside zones, quarantine rooms, testing sites open now, travellers pending / overdue."""
    lang = ctx.lang
    frames = {key: read_public_layer(ctx, key, as_of=as_of) for key in MAP_LAYERS}
    province = province_name(ctx)
    _, _, arrivals = traveller_aggregates(ctx, as_of)
    fig = key_figures(
        risk_areas=frames["risk_areas"],
        zones=frames["zones"],
        hotels=frames["hotels"],
        sites=frames["testing_sites"],
        neighbourhoods=frames["neighbourhoods"],
        province=province,
        sites_open_mask=open_now(frames["testing_sites"], when),
        travellers=arrivals,
        moved_in=hotel_moved_in(ctx),
    )
    tiers = ("sealed", "controlled", "precaution")
    return [
        Figure(t("fig_risk", lang), f"{fig.risk_national['high']} / {fig.risk_national['medium']}", t("fig_risk_help", lang)),
        Figure(
            f"{t('fig_risk_province', lang)}（{province}）" if lang == "zh" else t("fig_risk_province", lang),
            f"{fig.risk_province['high']} / {fig.risk_province['medium']}",
        ),
        Figure(t("fig_zones", lang), " / ".join(str(fig.zones[k]) for k in tiers)),
        Figure(
            t("fig_zone_pop", lang),
            " / ".join(compact_number(fig.zone_population[k], lang) for k in tiers),
            f"{t('fig_zone_pop_help', lang)}: " + " / ".join(f"{fig.zone_population[k]:,}" for k in tiers),
        ),
        Figure(t("fig_rooms", lang), f"{fig.rooms_free:,} / {fig.rooms_total:,}", f"{t('fig_rooms_help', lang)}: {fig.rooms_standby:,}"),
        Figure(
            t("fig_sites_open", lang),
            f"{fig.sites_open} / {fig.sites_total}",
            f"{when:%H:%M} · {t('fig_sites_24h', lang)}: {fig.sites_24h}",
        ),
        Figure(
            t("fig_travellers", lang),
            f"{fig.travellers.get('pending', 0):,} / {fig.travellers.get('overdue', 0):,}",
            t("fig_travellers_help", lang),
        ),
    ]


def latest_bulletin(ctx: PageContext, as_of: pd.Timestamp) -> Bulletin | None:
    """The latest daily bulletin up to ``as_of``, or ``None`` when there is none."""
    lang = ctx.lang
    reports, _ = daily_reports(ctx)
    latest = reports[reports["date"] <= as_of].sort_values("date").tail(1)
    if latest.empty:
        return None
    report = latest.iloc[0]
    heading = t("dr_latest", lang).format(date=pd.Timestamp(report["date"]).strftime("%Y-%m-%d"))
    try:
        wording = bulletin_text(report, lang).split("\n")[0]
    except ValueError:  # an imported report without every daily figure: say so, do not guess
        wording = t("dr_incomplete", lang)
    return Bulletin(heading, wording)
