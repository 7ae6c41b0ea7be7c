"""时间回放 The command page's time machine: a date slider with play over a chosen range.

Each step shows what was in force that day (zones, risk areas; lifted ones faded for
``history_faded_days`` days — :mod:`layers.time_machine`) and the quarantine hotels in use, and
the figures follow it. A step reruns only this section (a Streamlit fragment), and the map is not
rebuilt: the base map (boundaries, neighbourhoods) is mounted once and each day arrives as an
overlay evaluated in the mounted map (:func:`dashboard.planning_map.overlay_script`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.command_data import province_name
from dashboard.i18n import t
from dashboard.mapview import build_map, display_crs, prepare_map
from dashboard.planning_map import OverlayShape, overlay_script, show_planning_map, tier_style
from dashboard.settings import Settings
from dashboard.ui import PageContext, read_public_layer
from layers.risk_areas import LEVELS, level_label
from layers.time_machine import Day, day_figures, day_range, on_day
from layers.zones import tier_label

_STEP_S = 1.2  # seconds between steps while playing


@st.cache_resource(max_entries=4, show_spinner=False)
def _base(_ctx: PageContext, location: str, version: float, lang: str, settings: Settings):
    # public layers only (shared across users): what does not change with the day
    return prepare_map(build_map(settings, lang, {"neighbourhoods": read_public_layer(_ctx, "neighbourhoods")}))


_TIER_ORDER = {"precaution": 0, "controlled": 1, "sealed": 2}  # drawn last = on top
_HOTEL_STYLE = {"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": "#1f3a93", "fillOpacity": 0.95}


def _shapes(d: Day, lang: str) -> list[OverlayShape]:
    """The day's zones and risk areas (their own colours), lifted ones faded and dashed."""
    faded = {"fillOpacity": 0.04, "opacity": 0.55, "dashArray": "4 6", "weight": 2}

    def risk(r) -> tuple[dict, str]:
        colour = LEVELS.get(str(r.level), ("", "", "#807dba"))[2]
        return {"color": colour, "fillColor": colour, "fillOpacity": 0.35, "weight": 1}, f"{level_label(str(r.level), lang)} · {r.area_name}"

    def zone(z) -> tuple[dict, str]:
        return tier_style(str(z.tier), proposal=False), f"{tier_label(str(z.tier), lang)} · {z.name}"

    zones, lifted_zones = (f.sort_values("tier", key=lambda s: s.map(_TIER_ORDER)) for f in (d.zones, d.zones_lifted))
    out: list[OverlayShape] = []
    for frame, look, lifted in ((d.risk_lifted, risk, True), (d.risk_areas, risk, False),
                                (lifted_zones, zone, True), (zones, zone, False)):
        for row in frame.itertuples(index=False):
            style, tip = look(row)
            if lifted:
                style = style | faded
                tip += " · " + t("tm_lifted", lang).format(day=pd.Timestamp(row.lifted).strftime("%Y-%m-%d"))
            out.append(OverlayShape(row.geometry, style, tip))
    for h in (d.hotels if d.hotels is not None else pd.DataFrame()).itertuples(index=False):  # on top: small dots
        since = getattr(h, "in_use_since", None)
        tip = (t("tm_hotel_tip", lang).format(name=h.name, rooms=int(h.rooms_total), since=pd.Timestamp(since).strftime("%Y-%m-%d"))
               if pd.notna(since) else t("tm_hotel_tip_nodate", lang).format(name=h.name, rooms=int(h.rooms_total)))
        out.append(OverlayShape(h.geometry, _HOTEL_STYLE, tip))
    return out


def day_overlay(
    zones: pd.DataFrame, risk: pd.DataFrame, day: pd.Timestamp, *, fade_days: int, lang: str, crs: str, province: str | None = None,
    hotels: pd.DataFrame | None = None,
) -> tuple[str, dict]:
    """One step's work: the day's frames, its figures and the overlay script (the benchmark times this)."""
    d = on_day(zones, risk, day, fade_days=fade_days, hotels=hotels)
    return overlay_script(_shapes(d, lang), crs=crs, draw=False, lang=lang), day_figures(d, province=province)


def _play(labels: list[str]) -> None:
    """Play from the day shown; from the first day when it shows the last one."""
    st.session_state["tm_playing"] = True
    if st.session_state.get("tm_day") in (None, labels[-1]):
        st.session_state["tm_day"] = labels[0]
        st.session_state["_tm_hold"] = True  # show the first day before stepping on


def _pause() -> None:
    st.session_state["tm_playing"] = False


def render_time_machine(ctx: PageContext) -> None:
    """The section below the command map, behind a switch."""
    lang = ctx.lang
    ss = st.session_state
    # a switch, not an expander: nothing of it is built (a second map) until someone asks for it
    if not st.toggle(t("tm_title", lang), key="tm_open"):
        return
    zones, risk = read_public_layer(ctx, "zones"), read_public_layer(ctx, "risk_areas")  # every row, with its lifetime
    hotels = read_public_layer(ctx, "hotels")
    first, last = day_range(zones, risk, ctx.scenario_today)
    with st.container(border=True):
        st.caption(t("tm_help", lang).format(days=ctx.settings.history_faded_days))
        picked = st.date_input(t("tm_range", lang), value=(max(first, last - pd.Timedelta(days=29)).date(), last.date()),
                               min_value=first.date(), max_value=last.date(), key="tm_range", format="YYYY/MM/DD")
        if not isinstance(picked, tuple | list) or len(picked) != 2:
            st.info(t("tm_pick_end", lang))
            return
        days = list(pd.date_range(picked[0], picked[1], freq="D"))
        playing = bool(ss.get("tm_playing"))
        c1, c2 = st.columns([1, 4], vertical_alignment="center")
        if playing:
            c1.button(t("tm_pause", lang), key="tm_pause", on_click=_pause, icon=":material/pause:")
        else:
            c1.button(t("tm_play", lang), key="tm_play", on_click=_play, args=([d.strftime("%Y-%m-%d") for d in days],),
                      icon=":material/play_arrow:")
        c2.caption(t("tm_play_help", lang))
        base = _base(ctx, ctx.store.location, ctx.store.version(), lang, ctx.settings)
        province = province_name(ctx) or None

        @st.fragment(run_every=_STEP_S if playing else None)
        def step() -> None:
            labels = [d.strftime("%Y-%m-%d") for d in days]
            current = ss.get("tm_day")
            if current not in labels:
                current = labels[-1] if not playing else labels[0]
            elif ss.pop("_tm_hold", False):
                pass
            elif ss.get("tm_playing"):
                i = labels.index(current)
                if i + 1 < len(labels):
                    current = labels[i + 1]
                else:  # the end of the range: stop
                    ss["tm_playing"] = False
                    st.rerun(scope="app")
            ss["tm_day"] = current
            day = pd.Timestamp(st.select_slider(t("tm_day", lang), options=labels, key="tm_day"))
            script, fig = day_overlay(zones, risk, day, fade_days=ctx.settings.history_faded_days, lang=lang,
                                      crs=display_crs(ctx.settings), province=province, hotels=hotels)
            cols = st.columns(6)
            cols[0].metric(tier_label("sealed", lang), fig["sealed"])
            cols[1].metric(tier_label("controlled", lang), fig["controlled"])
            cols[2].metric(tier_label("precaution", lang), fig["precaution"])
            cols[3].metric(t("tm_high_medium", lang), f"{fig['high']} / {fig['medium']}",
                           help=t("tm_high_medium_help", lang).format(province=province or "", n=fig.get("in_province", 0)))
            cols[4].metric(t("tm_lifted_recently", lang).format(days=ctx.settings.history_faded_days),
                           fig["zones_lifted"] + fig["risk_lifted"])
            cols[5].metric(t("tm_hotels", lang), fig["hotels_in_use"], help=t("tm_hotels_help", lang).format(rooms=fig["hotel_rooms"]))
            show_planning_map(base, key="tm_map", overlay=script, returned=[], height=520)

        step()
