"""便民查询 Resident lookup (public): where am I, which zone, the nearest testing sites.

Reads public layers only (boundaries, neighbourhood names and outlines, risk areas, zones,
testing sites). The logic lives in :mod:`geo.geocode` and :mod:`layers.lookup`; this page wires
widgets, the URL and the map. The answer is in the URL (``loc=lon,lat`` in WGS-84, ``k``,
``open``, ``type``, ``lang``), so a copied link opens the same answer.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode, urlsplit

import folium
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_searchbox import _get_react_component as _searchbox_component
from streamlit_searchbox import st_searchbox

from dashboard.components import registered
from dashboard.geolocate import my_location
from dashboard.i18n import t
from dashboard.itinerary_ui import render_itinerary
from dashboard.mapview import build_map, display_crs, show_map, to_store_coords
from dashboard.safe_text import md_text
from dashboard.ui import PageContext, page_frame, public_queue_of, read_public_layer
from geo.crs import convert_xy
from geo.geocode import KINDS, Place, PlaceGazetteer, read_coordinates
from geo.nearest import NearestIndex
from geo.queue import CROWDED, not_crowded
from geo.queue import LEVELS as QUEUE_LEVELS
from geo.queue import age_text as queue_age
from layers._render import esc
from layers.boundaries import city_counties
from layers.lookup import (
    SiteAnswer,
    area_of_place,
    district_at,
    location_status,
    navigation_links,
    nearest_sites,
    sealed_zone_of_sites,
    site_mask,
    sites_in_zones,
    zones_touching,
)
from layers.risk_areas import LEVELS, level_label
from layers.testing_sites import SITE_TYPES, type_label
from layers.zones import TIERS, tier_label

K_DEFAULT, K_MAX = 5, 20
TYPE_ALL = "all"
_SYSTEMS = ("wgs84", "gcj02")

_CSS = """<style>
.rm-status{margin:2px 0 6px}
.rm-badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;font-size:15px;margin:0 6px 4px 0}
.rm-meaning{margin:2px 0;font-size:15px;line-height:1.45}
.rm-sites{display:flex;flex-direction:column;gap:8px;margin:4px 0 8px}
.rm-site{border:1px solid #d5dbe1;border-radius:8px;padding:8px 10px;background:#fff}
.rm-site.rm-unav-card{background:#f6f6f6;color:#666}
@media (max-width: 640px){[data-testid="stMainBlockContainer"]{padding-top:3.2rem}
[data-testid="stMainBlockContainer"] h1{font-size:1.7rem;padding-top:.2rem;padding-bottom:.4rem}}
.rm-site.rm-selected{border:2px solid #d81b60;box-shadow:0 0 0 3px rgba(216,27,96,.18)}
.rm-call{margin-top:4px}.rm-call a{font-weight:600}
.rm-queue{font-size:.86em;margin-top:2px}.rm-queue-none{color:#777}
.rm-qdot{display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.35em;vertical-align:-.05em}
.rm-site-h{display:flex;justify-content:space-between;align-items:baseline;gap:8px}
.rm-site-name{font-weight:600;font-size:16px;word-break:break-all}
.rm-dist{font-weight:700;font-size:16px;white-space:nowrap;color:#1f4e79}
.rm-site-m{font-size:14px;color:#444;margin-top:2px;line-height:1.5}
.rm-open{color:#2e7d32;font-weight:600}.rm-closed{color:#8d6e00;font-weight:600}
.rm-unav{color:#c0392b;font-weight:600;font-size:14px;margin-top:2px}
.rm-addr{font-size:13px;color:#555;margin-top:2px;word-break:break-all}
.rm-nav{display:flex;gap:6px;flex-wrap:wrap;margin-top:6px}
.rm-nav a{display:inline-block;padding:4px 10px;border:1px solid #1f4e79;border-radius:14px;color:#1f4e79;
text-decoration:none;font-size:14px}
.rm-advice{border-left:6px solid #b10026;background:#fdecea;padding:10px 12px;border-radius:6px;margin:4px 0 8px;
font-size:16px;line-height:1.5}
.rm-advice b{font-size:17px}
</style>"""
WALK_M_PER_MIN = 75  # 4.5 km/h, on the straight line: stated as an estimate


# --- cached, public data only ------------------------------------------------------------------


@st.cache_resource(max_entries=4, show_spinner=False)
def _gazetteer(_ctx: PageContext, path: str, version: float, city: str) -> PlaceGazetteer:
    return PlaceGazetteer.from_frames(
        city_counties(city), read_public_layer(_ctx, "neighbourhoods"), read_public_layer(_ctx, "testing_sites"),
        read_public_layer(_ctx, "addresses"),  # the imported (or demo) address gazetteer: roads, house numbers
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def _site_index(_sites: pd.DataFrame, path: str, version: float, as_of: str, open_at: str, types: tuple[str, ...],
                crowded: tuple[str, ...] = ()) -> NearestIndex:
    """One index per (store version, day, filters); ``open_at`` is '' without the open-now filter;
    ``crowded``: the sites the "not crowded" filter leaves out (reported crowded or paused)."""
    when = datetime.fromisoformat(open_at) if open_at else None
    mask = site_mask(_sites, when=when, open_now=bool(open_at), types=types)
    if crowded:
        mask &= ~_sites["id"].astype(str).isin(crowded).to_numpy()
    return NearestIndex(_sites, mask=mask)


@st.cache_resource(max_entries=8, show_spinner=False)
def _sealed_sites(_sites: pd.DataFrame, _zones: pd.DataFrame, path: str, version: float, as_of: str) -> list[tuple[str, ...]]:
    return sealed_zone_of_sites(_sites, _zones)


# --- state: session, widgets and the URL --------------------------------------------------------


def _init_from_url() -> None:
    """First run of a session: widgets and the location from the query parameters."""
    if st.session_state.get("_rl_init"):
        return
    qp = st.query_params
    ss = st.session_state
    ss["_rl_init"] = True
    ss["rl_loc"] = None
    ss["rl_label"] = ""
    loc = qp.get("loc")
    if loc:
        reading = read_coordinates(loc)
        if reading.lonlat is not None:
            ss["rl_loc"] = (round(reading.lonlat[0], 5), round(reading.lonlat[1], 5))
            ss["rl_label"] = str(qp.get("place", ""))[:60].strip()  # the name searched (shown as text)
            ss["rl_label_named"] = bool(ss["rl_label"])
        else:
            ss["rl_msg"] = reading.reason
    try:
        ss["rl_k"] = min(max(int(qp.get("k", K_DEFAULT)), 1), K_MAX)
    except ValueError:
        ss["rl_k"] = K_DEFAULT
    ss["rl_open"] = qp.get("open") in ("1", "true", "yes")
    ss["rl_quiet"] = qp.get("quiet") in ("1", "true", "yes")
    typ = qp.get("type", TYPE_ALL)
    ss["rl_type"] = typ if typ in SITE_TYPES else TYPE_ALL


def _set_location(lon: float, lat: float, label: str, *, named: bool = False) -> None:
    """The answer's location; ``named``: ``label`` is a place name searched (it goes into the share link)."""
    st.session_state["rl_loc"] = (round(lon, 5), round(lat, 5))
    st.session_state["rl_label"] = label
    st.session_state["rl_label_named"] = named
    st.session_state["rl_msg"] = None
    st.session_state["rl_search_msg"] = None
    st.session_state["rl_area"] = None


def _choose(place: Place) -> None:
    _set_location(place.lon, place.lat, place.name, named=True)
    # a district or a street is an area: the answer says what of it lies in zones
    st.session_state["rl_area"] = (place.kind, place.name, place.district) if place.kind in ("district", "street") else None


def _place_label(p: Place, lang: str) -> str:
    """A suggestion as the list shows it (plain text: the list renders it as text, never as markup)."""
    kind = KINDS[p.kind][0 if lang == "zh" else 1]
    return f"{p.name} · {kind}" + (f" · {p.district}" if p.district and p.kind != "district" else "")


def _worth_searching(text: str) -> bool:
    """One Latin letter is too little to search (every name has initials): wait for the next."""
    q = text.strip()
    return bool(q) and not (len(q) == 1 and q.isascii())


@st.fragment
def _search_box(gaz: PlaceGazetteer, lang: str) -> None:
    """The place search with suggestions while typing (streamlit-searchbox).

    Each pause in typing searches the gazetteer on the server, so pinyin and initials
    (``xiaodian``, ``xd``) and the address layer's roads suggest as well as Chinese names; the
    box's own filter could not. Typing reruns this fragment only; choosing a place, or a search
    that finds nothing while an answer is shown (it clears that answer), reruns the page.
    """
    ss = st.session_state

    def suggest(text: str) -> list[tuple[str, Place]]:
        if not _worth_searching(text):
            ss["rl_search_msg"] = None
            return []
        matches = gaz.search(text)
        ss["rl_search_msg"] = getattr(matches, "message", None) if not matches else None
        ss["_rl_failed_new"] = not matches
        return [(_place_label(m.place, lang), m.place) for m in matches]

    def chosen(place: Place) -> None:
        _choose(place)
        ss["_rl_chosen"] = True

    registered(_searchbox_component)
    # a shared link's place name stands in the box when it first appears (never again after a clear)
    first = "" if "rl_sb" in ss else (ss.get("rl_label", "") if ss.get("rl_label_named") else "")
    st_searchbox(
        suggest, key="rl_sb", label=t("rl_place", lang), placeholder=t("rl_place_ph", lang), default_searchterm=first,
        submit_function=chosen, edit_after_submit="option", rerun_scope="fragment", debounce=200,
        # react-select's own "No options" is English: hidden; the message below says it in the UI's language
        style_overrides={"searchbox": {"optionEmpty": "hidden"}},
    )
    if ss.pop("_rl_chosen", False):
        st.rerun(scope="app")
    if ss.pop("_rl_failed_new", False) and ss.get("rl_loc") is not None:  # a failed search clears the previous answer
        ss["rl_loc"] = None
        ss["rl_label"] = ""
        st.rerun(scope="app")
    if ss.get("rl_search_msg"):
        st.warning(ss["rl_search_msg"][0 if lang == "zh" else 1])


def _on_coords() -> None:
    text = st.session_state.get("rl_coords", "")
    if not text.strip():
        return
    reading = read_coordinates(text)
    if reading.lonlat is None:
        st.session_state["rl_msg"] = reading.reason
        return
    x, y = convert_xy([reading.lonlat[0]], [reading.lonlat[1]], src=st.session_state.get("rl_sys", "wgs84"), dst="wgs84")
    _set_location(float(x[0]), float(y[0]), f"{reading.lonlat[0]:.5f}, {reading.lonlat[1]:.5f}")


def _share_params(lang: str) -> dict[str, str]:
    ss = st.session_state
    params = {"lang": lang}
    if ss.get("rl_loc"):
        lon, lat = ss["rl_loc"]
        params["loc"] = f"{lon:.5f},{lat:.5f}"
        if ss.get("rl_label") and ss.get("rl_label_named"):
            params["place"] = ss["rl_label"]  # the link shows the name that was searched
    if ss["rl_k"] != K_DEFAULT:
        params["k"] = str(ss["rl_k"])
    if ss["rl_open"]:
        params["open"] = "1"
    if ss.get("rl_quiet"):
        params["quiet"] = "1"
    if ss["rl_type"] != TYPE_ALL:
        params["type"] = ss["rl_type"]
    return params


# --- rendering helpers --------------------------------------------------------------------------


def _distance(m: float, lang: str) -> str:
    if m < 1000:
        return f"{m:.0f} m" if lang == "en" else f"{m:.0f} 米"
    return f"{m / 1000:.1f} km" if lang == "en" else f"{m / 1000:.1f} 公里"


def _open_text(a: SiteAnswer, when: datetime, lang: str) -> tuple[str, str]:
    if a.status == "24h":
        return t("rl_24h", lang), "rm-open"
    if a.status == "open":
        return t("rl_open_now", lang), "rm-open"
    if a.status == "closed":
        if a.opens_at is None:
            return t("rl_closed", lang), "rm-closed"
        hhmm = a.opens_at.strftime("%H:%M")
        day = "" if a.opens_at.date() == when.date() else t("rl_tomorrow", lang) + " "
        return t("rl_opens_at", lang).format(when=day + hhmm), "rm-closed"
    return t("rl_hours_unknown", lang), "rm-closed"


def _queue_html(site_id: str, queue: dict[str, tuple[str, str]], now: datetime, lang: str) -> str:
    """The card's queue line: the level reported and how long ago, or "no recent report"."""
    got = queue.get(str(site_id))
    if got is None:
        return f"<div class='rm-queue rm-queue-none' data-queue=''>{esc(t('rl_queue_none', lang))}</div>"
    level, at = got
    zh_, en_, colour = QUEUE_LEVELS[level]
    text = t("rl_queue", lang).format(level=zh_ if lang == "zh" else en_, age=queue_age(at, now, lang))
    return (f"<div class='rm-queue' data-queue='{esc(level)}'><span class='rm-qdot' style='background:{colour}'></span>"
            f"{esc(text)}</div>")


def _cards_html(answers: list[SiteAnswer], when: datetime, lang: str, *, navigate: bool = True,
                queue: dict[str, tuple[str, str]] | None = None, now: datetime | None = None,
                selected: int | None = None) -> str:
    """The site cards; ``navigate``: with links to a map app (not for a resident told to stay home);
    ``queue``: the public queue levels (:func:`dashboard.ui.public_queue_of`) judged at ``now``;
    ``selected``: the card shown on the map (highlighted here and there)."""
    parts = ["<div class='rm-sites'>"]
    for i, a in enumerate(answers, start=1):
        status, cls = _open_text(a, when, lang)
        meta = [esc(type_label(a.type, lang))]
        if a.status != "24h" and a.hours:
            meta.append(esc(a.hours))
        meta.append(f"<span class='{cls}'>{esc(status)}</span>")
        if a.free is not None:
            meta.append(esc(t("rl_free" if a.free else "rl_paid", lang)))
        unav = f"<div class='rm-unav'>{esc(t('rl_unavailable', lang))}</div>" if a.unavailable else ""
        card_cls = ("rm-site rm-unav-card" if a.unavailable else "rm-site") + (" rm-selected" if i == selected else "")
        walk = max(1, round(a.distance_m / WALK_M_PER_MIN))
        addr = f"<div class='rm-addr'>{esc(a.address)}</div>" if a.address else ""
        links = navigation_links(a.name, a.lon, a.lat)
        nav = "" if a.unavailable or not navigate else (
            "<div class='rm-nav'>" + "".join(
                f"<a href='{esc(links[k])}' target='_blank' rel='noopener noreferrer' class='rm-nav-{k}'>{esc(t('rl_nav_' + k, lang))}</a>"
                for k in ("amap", "baidu", "geo")
            ) + "</div>"
        )
        parts.append(
            f"<div class='{card_cls}' data-distance-m='{a.distance_m:.0f}' data-site-id='{esc(a.id)}'>"
            f"<div class='rm-site-h'><span class='rm-site-name'>{i}. {esc(a.name)}</span>"
            f"<span class='rm-dist'>{esc(_distance(a.distance_m, lang))}</span></div>"
            f"<div class='rm-site-m'>{' · '.join(meta)} · {esc(t('rl_walk', lang).format(min=walk))}</div>"
            f"{_queue_html(a.id, queue, now or when, lang) if queue is not None else ''}{addr}{unav}{nav}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _office_phone(neighbourhoods: pd.DataFrame, lon: float, lat: float) -> tuple[str, str] | None:
    """(name, phone) of the neighbourhood at the point (the one point-in-neighbourhood rule,
    :func:`geo.screening.neighbourhood_ids_for_points`) when the store has its office phone."""
    import shapely

    from geo.screening import neighbourhood_ids_for_points

    if "contact_phone" not in neighbourhoods.columns or neighbourhoods.empty:
        return None
    nid = neighbourhood_ids_for_points(np.array([shapely.Point(lon, lat)], dtype=object), neighbourhoods)[0]
    row = neighbourhoods[neighbourhoods["id"].astype(str) == str(nid)]
    if nid is None or row.empty or pd.isna(row["contact_phone"].iloc[0]):
        return None
    return str(row["name"].iloc[0]), str(row["contact_phone"].iloc[0]).strip()


def _status_html(status, lang: str) -> str:
    badges = []
    if status.tier:
        colour = TIERS[status.tier][2]
        badges.append((colour, f"{tier_label(status.tier, lang)} · {status.zone_name}"))
    if status.risk_level:
        colour = LEVELS.get(status.risk_level, ("", "", "#888"))[2]
        badges.append((colour, f"{level_label(status.risk_level, lang)}" + (f" · {status.risk_name}" if status.risk_name else "")))
    if not badges:
        badges.append(("#2e7d32", t("rl_zone_none", lang)))
    html = "".join(f"<span class='rm-badge' style='background:{c}'>{esc(label)}</span>" for c, label in badges)
    lines = "".join(f"<div class='rm-meaning'>{esc(m)}</div>" for m in status.meanings(lang))
    return f"<div class='rm-status'>{html}{lines}</div>"


HERE_PANE = "rm-here"  # the location, the lines to the nearest sites and their numbers


def _above(path):
    """``path`` (a vector or a marker) drawn in the pane above the markers (folium passes no
    ``pane`` option itself)."""
    path.options["pane"] = HERE_PANE
    return path


def _overlay(m: folium.Map, loc: tuple[float, float], answers: list[SiteAnswer], lang: str, crs: str,
             selected: int | None = None) -> None:
    """The location, the nearest sites and a straight line to each, in the map's system;
    ``selected`` (a card's number) is drawn larger and ringed, its line solid."""
    pts = [loc] + [(a.lon, a.lat) for a in answers]
    xs, ys = convert_xy([p[0] for p in pts], [p[1] for p in pts], src="wgs84", dst=crs)
    here = (float(ys[0]), float(xs[0]))
    # control=False: build_map has already added the layer control, which must not list a layer
    # defined after it (Leaflet would get an undefined layer).
    fg = folium.FeatureGroup(name=t("rl_layer_nearest", lang), show=True, control=False)
    # drawn above the site markers and their clusters (markerPane, z-index 600), never under them
    folium.map.CustomPane(HERE_PANE, z_index=650, pointer_events=True).add_to(m)
    for i, a in enumerate(answers, start=1):
        there = (float(ys[i]), float(xs[i]))
        colour = "#999999" if a.unavailable else "#1f4e79"
        sel = i == selected
        _above(folium.PolyLine([here, there], color="#d81b60" if sel else colour, weight=4 if sel else 3, opacity=0.9 if sel else 0.8,
                               dash_array=None if sel else "6,6")).add_to(fg)
        # the card's number on the map (1–5 …), above the site markers; the selected card's larger
        size = 34 if sel else 24
        _above(folium.Marker(
            there, tooltip=esc(f"{i}. {a.name} · {_distance(a.distance_m, lang)}"), z_index_offset=1000 if sel else 0,
            icon=folium.DivIcon(html=f"<div class='rm-num{' rm-num-sel' if sel else ''}' data-num='{i}' style='background:{colour}'>{i}</div>",
                                icon_size=(size, size), icon_anchor=(size // 2, size // 2), class_name="rm-num-icon"),
        )).add_to(fg)
    _above(folium.CircleMarker(
        here, radius=10, color="#ffffff", weight=3, fill=True, fill_color="#d81b60", fill_opacity=1.0,
        tooltip=esc(t("rl_you", lang)),
    )).add_to(fg)
    fg.add_to(m)
    lats = [float(y) for y in ys]
    lons = [float(x) for x in xs]
    pad = 0.003
    m.fit_bounds([[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]])


# --- the page ---------------------------------------------------------------------------------

ctx = page_frame("page_resident", compact_banner=True)
lang = ctx.lang
zh = lang == "zh"
today = ctx.scenario_today
when = ctx.clock(today)
now = ctx.now_on(today)
queue = public_queue_of(ctx, today)  # site id → (level, time): nothing else of a report reaches this page
store_key = (ctx.store.location, ctx.store.version())
# Public layers only: boundaries, neighbourhood outlines, risk areas, zones, testing sites.
frames = {key: read_public_layer(ctx, key, as_of=today) for key in ("neighbourhoods", "risk_areas", "zones", "testing_sites")}
sites = frames["testing_sites"]
counties = city_counties(ctx.settings.city_adcode)
gaz = _gazetteer(ctx, *store_key, ctx.settings.city_adcode)
_init_from_url()
ss = st.session_state
st.html(_CSS)

st.markdown(f"##### {t('rl_where', lang)}")
_search_box(gaz, lang)
here = my_location(
    label=t("rl_my_location", lang), insecure=t("rl_my_location_insecure", lang),
    waiting=t("rl_my_location_waiting", lang), failed=t("rl_my_location_failed", lang), key="rl_geo",
)
if here and here.get("at") != ss.get("_rl_geo_at"):
    ss["_rl_geo_at"] = here.get("at")
    if "lon" in here:
        _set_location(float(here["lon"]), float(here["lat"]), t("rl_my_location_label", lang))
    else:
        ss["rl_msg"] = (t("rl_my_location_failed", "zh"), t("rl_my_location_failed", "en"))
    st.rerun()
if ss.get("rl_msg"):
    st.warning(md_text(ss["rl_msg"][0 if zh else 1]))

loc = ss.get("rl_loc")
answers: list[SiteAnswer] = []
selected: int | None = None  # the card shown on the map
inside_city = False
if loc is None:
    st.info(t("rl_no_location", lang))
else:
    lon, lat = loc
    district = district_at(lon, lat, counties)
    inside_city = district is not None
    if not inside_city:
        st.error(t("rl_outside", lang).format(lon=lon, lat=lat))
    else:
        label = ss.get("rl_label") or f"{lon:.5f}, {lat:.5f}"
        st.html(f"<div class='rm-where'><b>{esc(t('rl_location', lang).format(place=label, district=district))}</b></div>")
        status = location_status(lon, lat, frames["zones"], frames["risk_areas"])
        area = ss.get("rl_area")
        touching = None
        if area:
            geom = area_of_place(area[0], area[1], area[2], counties, frames["neighbourhoods"])
            touching = zones_touching(geom, frames["zones"]) if geom is not None else None
        if touching:  # an area, partly in zones: the point's answer would not hold for all of it
            parts = ("、" if zh else ", ").join(
                t("rl_zone_count", lang).format(n=n, tier=tier_label(tier, lang)) for tier, n in touching.items())
            st.html(f"<div class='rm-advice' data-advice='area'><b>{esc(t('rl_area_partly', lang).format(area=area[1], zones=parts))}</b>"
                    f"<br>{esc(t('rl_area_hint', lang))}</div>")
        else:
            st.html(_status_html(status, lang))
        types = () if ss["rl_type"] == TYPE_ALL else (ss["rl_type"],)
        advice = status.advice
        if advice == "stay_home":  # said first, before any site: sampling comes to the door
            office = _office_phone(frames["neighbourhoods"], lon, lat)
            call = (f"<div class='rm-call'>{esc(t('rl_sealed_call', lang).format(name=office[0]))}"
                    f"<a href='tel:{esc(office[1].replace('-', ''))}'>{esc(office[1])}</a></div>") if office else ""
            st.html(f"<div class='rm-advice' data-advice='stay_home'><b>{esc(t('rl_sealed_title', lang))}</b><br>"
                    f"{esc(t('rl_sealed_body', lang))}{call}</div>")
        sealed = _sealed_sites(sites, frames["zones"], *store_key, today.strftime("%Y-%m-%d"))
        crowded = tuple(sorted(s for s, (lv, _) in queue.items() if lv in CROWDED)) if ss.get("rl_quiet") else ()
        if advice == "zone_sites":  # a controlled zone: only the sites inside it ("在小区内做核酸")
            mask = site_mask(sites, when=when, open_now=bool(ss["rl_open"]), types=types)
            if crowded:
                mask &= not_crowded(sites["id"], queue)
            index = NearestIndex(sites, mask=mask & sites_in_zones(sites, frames["zones"], status.controlled_zone_ids))
        else:
            index = _site_index(sites, *store_key, today.strftime("%Y-%m-%d"), when.isoformat() if ss["rl_open"] else "", types,
                                crowded)
        answers = nearest_sites(
            index, sites, (lon, lat), k=int(ss["rl_k"]), when=when, sealed_of_site=sealed, resident_sealed=status.sealed_zone_ids
        ) if index.n_candidates else []
        heading = {"stay_home": "rl_nearest_reference", "zone_sites": "rl_nearest_in_zone"}.get(advice, "rl_nearest")
        st.markdown(f"##### {t(heading, lang)}")
        st.caption(f"{t('rl_straight', lang)} · {when:%Y-%m-%d %H:%M}")
        if answers:
            # which card to show on the map (chosen below the cards, so the first card stays on a
            # phone's first screen): its number there grows and is ringed, the card too
            chosen = ss.get("rl_sel")
            selected = chosen if isinstance(chosen, int) and chosen <= len(answers) else None
            st.html(_cards_html(answers, when, lang, navigate=advice != "stay_home", queue=queue, now=now, selected=selected))
            st.pills(t("rl_show_on_map", lang), options=list(range(1, len(answers) + 1)), key="rl_sel", format_func=str)
        elif advice == "zone_sites":
            st.warning(t("rl_none_in_zone", lang))
        else:
            st.info(t("rl_none_found", lang))

# Below the answer (on a phone the search box and the answer come first): coordinates and filters,
# folded until used; they apply on the next run, above.
with st.expander(t("rl_coords", lang), expanded=bool(ss.get("rl_coords"))):
    st.text_input(t("rl_coords", lang), key="rl_coords", placeholder=t("rl_coords_ph", lang), on_change=_on_coords,
                  label_visibility="collapsed")
    st.selectbox(
        t("rl_system", lang), _SYSTEMS, key="rl_sys", format_func=lambda s: t(f"rl_sys_{s}", lang), on_change=_on_coords
    )
filtered = ss["rl_k"] != K_DEFAULT or ss["rl_open"] or ss["rl_type"] != TYPE_ALL or ss.get("rl_quiet", False)
with st.expander(t("rl_filters", lang), expanded=filtered):
    f1, f2 = st.columns(2)
    f1.number_input(t("rl_k", lang), min_value=1, max_value=K_MAX, step=1, key="rl_k")
    f2.selectbox(
        t("rl_type", lang), [TYPE_ALL, *SITE_TYPES], key="rl_type",
        format_func=lambda v: t("all", lang) if v == TYPE_ALL else type_label(v, lang),
    )
    st.toggle(t("rl_open", lang), key="rl_open")
    st.toggle(t("rl_not_crowded", lang), key="rl_quiet")
st.caption(t("rl_map_hint", lang))

# 我去过风险区吗？ — nothing entered there is stored, logged, shared or put in the link below
render_itinerary(ctx, gaz, today.date())

params = _share_params(lang)
st.query_params.from_dict(params)
base = urlsplit(st.context.url or "")
page_url = f"{base.scheme}://{base.netloc}{base.path}" if base.netloc else "/resident"
st.caption(t("rl_link", lang))
st.code(f"{page_url}?{urlencode(params, safe=',')}", language=None, wrap_lines=True)

m = build_map(
    ctx.settings, lang, frames, compact=True, render_options={"zones": {"as_of": today}, "testing_sites": {"when": when}}
)
if loc is not None:
    _overlay(m, loc, answers if inside_city else [], lang, display_crs(ctx.settings), selected=selected)
out = show_map(m, key="resident_map", height=520, returned=["last_clicked"])
click = out.get("last_clicked")
if click and click != ss.get("_rl_click"):
    ss["_rl_click"] = click
    clon, clat = to_store_coords(float(click["lng"]), float(click["lat"]), ctx.settings)
    _set_location(clon, clat, "")
    st.rerun()
