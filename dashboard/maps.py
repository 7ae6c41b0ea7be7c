"""Cached maps for the pages: a map is built and rendered once per store version, date, language
and view, then reused on every rerun (so a rerun costs milliseconds and the map does not flash).

Only public layers and aggregates go into these maps, so sharing them across users is safe.
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.mapview import MapPayload, build_map, prepare_map
from dashboard.settings import Settings
from dashboard.ui import PageContext, hotel_moved_in, public_queue_of, read_public_layer, traveller_aggregates
from layers import MAP_LAYERS

__all__ = ["command_layers", "command_map", "transfer_map", "mass_testing_map", "circle_map"]


def command_layers(ctx: PageContext, day: pd.Timestamp) -> dict[str, gpd.GeoDataFrame]:
    """The city view's layers on ``day``, in map order: public layers as of that day plus the
    screening choropleth and the arrivals density (aggregates only). The benchmark's naive
    baseline draws the same frames (``bench/plain_command_app.py``)."""
    frames = {key: read_public_layer(ctx, key, as_of=day) for key in MAP_LAYERS}
    per_nbh, grid, _ = traveller_aggregates(ctx, day)
    nbh = frames["neighbourhoods"]
    screening = nbh[["id", "name", "geometry"]].merge(per_nbh[["id", "travellers", "screening"]], on="id", how="left")
    screening["travellers"] = screening["travellers"].fillna(0).astype(int)
    screening = screening.rename(columns={"screening": "screening_level"})
    state = nbh[["id", "name", "geometry"]].merge(per_nbh[["id", "followup_state"]], on="id", how="left")
    state["followup_state"] = state["followup_state"].fillna("none")
    density = gpd.GeoDataFrame(grid[["count"]], geometry=gpd.points_from_xy(grid["lon"], grid["lat"]), crs="EPSG:4326")
    return {
        "neighbourhoods": nbh,
        "neighbourhood_screening": gpd.GeoDataFrame(screening, crs="EPSG:4326"),
        "neighbourhood_followup": gpd.GeoDataFrame(state, crs="EPSG:4326"),
        "traveller_density": density,
        "risk_areas": frames["risk_areas"],
        "zones": frames["zones"],
        "hotels": frames["hotels"],
        "testing_sites": frames["testing_sites"],
        "site_queue": site_queue_frame(frames["testing_sites"], public_queue_of(ctx, day)),
    }


def site_queue_frame(sites: gpd.GeoDataFrame, queue: dict[str, tuple[str, str]]) -> gpd.GeoDataFrame:
    """The sites with a fresh queue report: ``id``, ``name``, ``level``, ``reported_at`` (the
    public payload, :func:`dashboard.ui.public_queue_of`), for the command map's queue layer."""
    ids = sites["id"].astype(str)
    hit = ids.isin(list(queue)).to_numpy()
    out = sites.loc[hit, ["id", "name", "geometry"]].copy()
    out["level"] = [queue[i][0] for i in ids[hit]]
    out["reported_at"] = [queue[i][1][11:] for i in ids[hit]]  # HH:MM (the report is fresh: today)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs)


@st.cache_resource(max_entries=16, show_spinner=False)
def _command_map(
    _ctx: PageContext, path: str, version: float, as_of: str, when: str, lang: str, settings: Settings, national: bool,
    records_version: int = 0,
) -> MapPayload:
    ctx = _ctx
    day = pd.Timestamp(as_of)
    if national:
        m = build_map(settings, lang, {"risk_areas": read_public_layer(ctx, "risk_areas", as_of=day)}, national=True)
    else:
        m = build_map(
            settings, lang, command_layers(ctx, day), hidden=("neighbourhood_screening", "neighbourhood_followup", "traveller_density"), render_options={"zones": {"as_of": day}, "testing_sites": {"when": datetime.fromisoformat(when)},
                                     "hotels": {"moved_in": hotel_moved_in(ctx)}}
        )
    return prepare_map(m)


def command_map(ctx: PageContext, as_of: pd.Timestamp, when: datetime, *, national: bool) -> MapPayload:
    """The command centre's map, prepared once per store version, recorded outcomes, date, clock
    time (testing sites' open/closed; pass it rounded to a few minutes), language and view."""
    from dashboard.ui import records_of

    return _command_map(
        ctx, ctx.store.location, ctx.store.version(), as_of.strftime("%Y-%m-%d"), when.isoformat(), ctx.lang, ctx.settings, national,
        0 if national else records_of(ctx).version(),  # the follow-up colours change with every outcome recorded
    )


def transfer_map(ctx: PageContext, plan, lang: str):
    """A transfer plan on the map (this session only, never cached across users): the hotels
    layer, a line per neighbourhood → hotel (width by people; from the neighbourhood's centre,
    never a residence) and each used hotel labelled with its free rooms before → after."""
    import html

    import folium
    import shapely

    from dashboard.i18n import t
    from dashboard.mapview import to_display
    from geo.allocation import plan_flows

    hotels = read_public_layer(ctx, "hotels")
    nbh = read_public_layer(ctx, "neighbourhoods")
    flows = plan_flows(plan)
    centre = dict(zip(nbh["id"].astype(str), nbh.geometry.representative_point(), strict=True))
    names = dict(zip(nbh["id"].astype(str), nbh["name"].astype(str), strict=True))
    hpos = dict(zip(hotels["id"].astype(str), hotels.geometry, strict=True))
    hname = dict(zip(plan.hotels["hotel_id"], plan.hotels["name"].astype(str), strict=True))
    lines, rows = [], []
    for r in flows.itertuples(index=False):
        a, b = centre.get(str(r.neighbourhood_id)), hpos.get(str(r.hotel_id))
        if a is None or b is None:
            continue
        lines.append(shapely.LineString([a, b]))
        rows.append(r)
    fg = folium.FeatureGroup(name=t("tr_map_flows", lang))
    if lines:
        shown = to_display(gpd.GeoDataFrame({"i": range(len(lines))}, geometry=lines, crs="EPSG:4326"), ctx.settings)
        biggest = max(r.people for r in rows)
        for r, line in zip(rows, shown.geometry, strict=True):
            tip = t("tr_flow_tip", lang).format(nb=names.get(str(r.neighbourhood_id), r.neighbourhood_id),
                                                 hotel=hname.get(r.hotel_id, r.hotel_id), n=int(r.people), km=float(r.km))
            folium.PolyLine([(y, x) for x, y in line.coords], color="#6a3d9a", opacity=0.75,
                            weight=2 + 6 * int(r.people) / biggest, tooltip=html.escape(tip)).add_to(fg)
    used = plan.hotels[(plan.hotels["placed"] > 0) | plan.hotels["opened"]]
    hg = folium.FeatureGroup(name=t("tr_map_hotels", lang))
    pts = [hpos.get(h) for h in used["hotel_id"]]
    keep = [p is not None for p in pts]
    if any(keep):
        shown = to_display(gpd.GeoDataFrame(used[keep], geometry=[p for p in pts if p is not None], crs="EPSG:4326"), ctx.settings)
        for r, p in zip(used[keep].itertuples(index=False), shown.geometry, strict=True):
            tip = t("tr_hotel_tip", lang).format(hotel=r.name, before=int(r.free_before), after=int(r.free_after), n=int(r.placed))
            folium.CircleMarker((p.y, p.x), radius=9, color="#6a3d9a", weight=3, fill=True, fill_color="#ffffff",
                                fill_opacity=0.9, tooltip=html.escape(tip)).add_to(hg)
    from layers.spec import LegendEntry

    legend = [(t("tr_map_flows", lang), [LegendEntry("#6a3d9a", t("tr_map_flows", lang), t("tr_map_flows", lang), "line")]),
              (t("tr_map_hotels", lang), [LegendEntry("#ffffff", t("tr_map_hotels", lang), t("tr_map_hotels", lang), "circle")])]
    return build_map(ctx.settings, lang, {"neighbourhoods": nbh, "hotels": hotels}, overlays=(fg, hg), overlay_legend=legend,
                     render_options={"hotels": {"moved_in": hotel_moved_in(ctx)}})


#: Neighbourhood sampling states on the mass-testing map: state → colour.
MT_STATES = {"mt_state_sites": "#1a9850", "mt_state_mixed": "#fdae61", "mt_state_temp": "#d73027"}


def mass_testing_map(ctx: PageContext, lang: str, area, plan, *, draw: bool = False):
    """A mass-testing plan on the map: the area's outline, its neighbourhoods by who samples them
    (existing sites / partly temporary points / temporary points), the testing sites and the
    proposed temporary points (a marker per place with the number of points). Public data only.
    ``draw``: with the drawing tools (the area is drawn on this map)."""
    import html

    import folium
    import shapely

    from dashboard.i18n import t
    from dashboard.mapview import to_display
    from layers._encoded import geojson_group
    from layers.spec import LegendEntry

    nbh = read_public_layer(ctx, "neighbourhoods")
    sites = read_public_layer(ctx, "testing_sites")
    overlays, legend = [], []
    if area is not None and not shapely.is_empty(area):
        outline = to_display(gpd.GeoDataFrame({"name": [t("mt_map_area", lang)]}, geometry=[area], crs="EPSG:4326"), ctx.settings)
        overlays.append(geojson_group(outline, name=t("mt_map_area", lang),
                                      style=lambda p: {"color": "#1f4e79", "weight": 3, "fillOpacity": 0.0, "dashArray": "6 4"}))
        legend.append((t("mt_map_area", lang), [LegendEntry("#1f4e79", t("mt_map_area", lang), t("mt_map_area", lang), "line")]))
    if plan is not None and len(plan.neighbourhoods):
        nb = plan.neighbourhoods
        state = ["mt_state_temp" if s == 0 else "mt_state_mixed" if tmp > 0 else "mt_state_sites"
                 for s, tmp in zip(nb["served"], nb["temporary"], strict=True)]
        finish = nb["finish"].dt.strftime("%m-%d %H:%M").fillna("—")
        tips = [html.escape(t("mt_nb_tip", lang).format(name=n, people=int(p), finish=f))
                for n, p, f in zip(nb["name"], nb["population"], finish, strict=True)]
        g = nbh[["id", "geometry"]].merge(pd.DataFrame({"id": nb["id"], "state": state, "tip": tips}), on="id")
        g = to_display(gpd.GeoDataFrame(g, geometry="geometry", crs="EPSG:4326"), ctx.settings)
        overlays.append(geojson_group(g, name=t("mt_map_state", lang), tooltip=lambda r: r["tip"],
                                      style=lambda p: {"color": "#555", "weight": 0.6, "fillColor": MT_STATES[p["state"]], "fillOpacity": 0.55}))
        legend.append((t("mt_map_state", lang), [LegendEntry(c, t(k, "zh"), t(k, "en")) for k, c in MT_STATES.items()]))
        temp = folium.FeatureGroup(name=t("mt_map_temp", lang))
        if len(plan.temporary):
            pts = to_display(gpd.GeoDataFrame(plan.temporary[["name", "points", "load"]],
                                              geometry=gpd.points_from_xy(plan.temporary["lon"], plan.temporary["lat"]), crs="EPSG:4326"),
                             ctx.settings)
            for r, p in zip(pts.itertuples(index=False), pts.geometry, strict=True):
                tip = t("mt_temp_tip", lang).format(name=r.name, points=int(r.points), people=int(r.load))
                folium.Marker((p.y, p.x), tooltip=html.escape(tip), icon=folium.DivIcon(
                    html=f"<div class='rm-temp-point'>{int(r.points)}</div>", icon_size=(26, 26), icon_anchor=(13, 13),
                    class_name="rm-temp-icon")).add_to(temp)
        overlays.append(temp)
        legend.append((t("mt_map_temp", lang), [LegendEntry("#6a3d9a", t("mt_map_temp", "zh"), t("mt_map_temp", "en"), "circle")]))
    m = build_map(ctx.settings, lang, {"neighbourhoods": nbh, "testing_sites": sites}, draw=draw, overlays=overlays,
                  overlay_legend=legend)
    m.get_root().header.add_child(folium.Element(
        "<style>.rm-temp-point{width:26px;height:26px;border-radius:50%;background:#6a3d9a;color:#fff;font:600 13px/26px sans-serif;"
        "text-align:center;border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.5)}</style>"))
    return m


#: 15-minute circle coverage classes: lower bound of the covered share → colour, zh, en.
CIRCLE_CLASSES = ((0.0, "#d73027", "< 50%", "< 50%"), (0.5, "#fdae61", "50–90%", "50–90%"), (0.9, "#1a9850", "≥ 90%", "≥ 90%"))


def circle_map(ctx: PageContext, lang: str, coverage: pd.DataFrame, sites: gpd.GeoDataFrame):
    """Neighbourhoods coloured by the share within walking distance of an open site (the
    15-minute sampling circle), with the sites counted. Public data only."""
    import html

    from dashboard.i18n import t
    from dashboard.mapview import to_display
    from layers._encoded import geojson_group
    from layers.derived import class_colour
    from layers.spec import LegendEntry

    nbh = read_public_layer(ctx, "neighbourhoods")
    cov = coverage.assign(colour=[class_colour(s, CIRCLE_CLASSES) for s in coverage["share"]],
                          tip=[html.escape(f"{n}：{s:.0%}（{u:,.0f} 人在圈外）" if lang == "zh" else f"{n}: {s:.0%} ({u:,.0f} people outside)")
                               for n, s, u in zip(coverage["name"], coverage["share"], coverage["uncovered"], strict=True)])
    g = nbh[["id", "geometry"]].merge(cov[["id", "colour", "tip"]], on="id")
    g = to_display(gpd.GeoDataFrame(g, geometry="geometry", crs="EPSG:4326"), ctx.settings)
    layer = geojson_group(g, name=t("mc_map", lang), tooltip=lambda r: r["tip"],
                          style=lambda p: {"color": "#666", "weight": 0.5, "fillColor": p["colour"], "fillOpacity": 0.6})
    legend = [(t("mc_map", lang), [LegendEntry(c, zh, en) for _, c, zh, en in CIRCLE_CLASSES])]
    return build_map(ctx.settings, lang, {"testing_sites": sites}, overlays=(layer,), overlay_legend=legend)
