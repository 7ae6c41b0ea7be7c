"""全员核酸 Mass testing: a sampling plan for a zone, a district, the city or a drawn area, and the
city's 15-minute sampling circle. Planners and command staff.

Public data only (neighbourhood populations, sites, zones, boundaries): the plans are cached
across users. The logic is :mod:`geo.mass_testing` (plan, coverage) and
:mod:`layers.mass_testing` (area, demand, workbooks).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import shapely
import streamlit as st

from dashboard.i18n import t
from dashboard.maps import circle_map, mass_testing_map
from dashboard.mapview import display_crs, show_map
from dashboard.safe_text import md_text
from dashboard.ui import PageContext, page_frame, read_public_layer
from geo.crs import convert_xy
from geo.mass_testing import POOLING, mass_testing_plan, sampling_circle
from layers.boundaries import city_counties
from layers.mass_testing import area_demand, coverage_workbook, open_sites, plan_workbook, site_frame

ctx = page_frame("page_mass_testing")
lang = ctx.lang
zh = lang == "zh"
today = ctx.scenario_today
start = ctx.clock(today, minutes=15)
ss = st.session_state
st.caption(t("mt_intro", lang))
cfg = ctx.settings


@st.cache_data(max_entries=32, show_spinner=False)
def _plan(_ctx: PageContext, location: str, version: float, wkb: bytes, start_iso: str, params: tuple):
    target, pooling, walk, temp_rate, station_rate, shift = params
    demand = area_demand(read_public_layer(_ctx, "neighbourhoods"), shapely.from_wkb(wkb))
    sites = site_frame(read_public_layer(_ctx, "testing_sites"))
    return mass_testing_plan(demand, sites, start=datetime.fromisoformat(start_iso), target_hours=target, pooling=pooling,
                             walk_km=walk, temp_per_hour=temp_rate, station_per_hour=station_rate, shift_hours=shift)


@st.cache_data(max_entries=8, show_spinner=False)
def _circle(_ctx: PageContext, location: str, version: float, walk: float):
    return sampling_circle(read_public_layer(_ctx, "neighbourhoods"), open_sites(read_public_layer(_ctx, "testing_sites")),
                           walk_km=walk)


def _drawn(feature: dict | None) -> shapely.Geometry | None:
    """The area drawn on the map (a GeoJSON feature in the map's coordinates) in WGS-84."""
    if not feature or not feature.get("geometry"):
        return None
    geom = shapely.geometry.shape(feature["geometry"])
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    if display_crs(cfg) != "wgs84":
        geom = shapely.transform(geom, lambda xy: pd.DataFrame(convert_xy(xy[:, 0], xy[:, 1], src=display_crs(cfg), dst="wgs84")).T.to_numpy())
    return shapely.make_valid(geom)


# one view at a time (a map drawn in a hidden tab has no size and shows nothing)
view = st.segmented_control(" ", ["plan", "circle"], format_func=lambda v: t("mt_tab_" + v, lang), default="plan",
                            key="mt_view", label_visibility="collapsed") or "plan"
store_key = (ctx.store.location, ctx.store.version())

if view == "plan":
    zones = read_public_layer(ctx, "zones", as_of=today)
    counties = city_counties(cfg.city_adcode)
    kinds = ["zone", "district", "city", "drawn"]
    kind = st.segmented_control(t("mt_area_kind", lang), kinds, format_func=lambda k: t(f"mt_kind_{k}", lang),
                                default="zone" if len(zones) else "district", key="mt_kind") or "district"
    area, area_name = None, ""
    if kind == "zone":
        if zones.empty:
            st.info(t("mt_no_zones", lang))
        else:
            labels = dict(zip(zones["id"].astype(str), zones["id"].astype(str) + " · " + zones["name"].astype(str), strict=True))
            zid = st.selectbox(t("mt_zone", lang), list(labels), format_func=lambda z: labels[z], key="mt_zone")
            area = zones.loc[zones["id"].astype(str) == zid, "geometry"].iloc[0]
            area_name = labels[zid]
    elif kind == "district":
        names = dict(zip(counties["adcode"].astype(str), counties["name"].astype(str), strict=True))
        code = st.selectbox(t("mt_district", lang), list(names), format_func=lambda c: names[c], key="mt_district")
        area, area_name = counties.loc[counties["adcode"].astype(str) == code, "geometry"].iloc[0], names[code]
    elif kind == "city":
        area, area_name = shapely.union_all(counties.geometry.to_numpy()), t("mt_kind_city", lang)
    else:
        st.caption(t("mt_draw_hint", lang))
        area, area_name = ss.get("mt_drawn"), t("mt_kind_drawn", lang)
    with st.expander(t("mt_params", lang)):
        c1, c2, c3 = st.columns(3)
        target = c1.number_input(t("mt_target", lang), 1.0, 168.0, float(cfg.sampling_target_hours), 1.0, key="mt_target")
        pooling = c2.selectbox(t("mt_pooling", lang), POOLING, index=POOLING.index(cfg.sampling_pooling),
                               format_func=lambda p: t(f"mt_pool_{p}", lang), key="mt_pool")
        walk = c3.number_input(t("mt_walk", lang), 0.1, 10.0, float(cfg.sampling_walk_km), 0.1, key="mt_walk")
        c4, c5, c6 = st.columns(3)
        temp_rate = c4.number_input(t("mt_temp_rate", lang), 10, 5000, 300, 10, key="mt_temp_rate")
        station_rate = c5.number_input(t("mt_station_rate", lang), 10, 1000, 100, 10, key="mt_station_rate")
        shift = c6.number_input(t("mt_shift", lang), 1.0, 24.0, 6.0, 1.0, key="mt_shift")
    plan = None
    if area is not None:
        with st.spinner(t("screening_running", lang)):
            plan = _plan(ctx, *store_key, shapely.to_wkb(area), start.isoformat(),
                         (float(target), int(pooling), float(walk), int(temp_rate), int(station_rate), float(shift)))
    if plan is not None and plan.population == 0:
        st.info(t("mt_empty", lang))
    elif plan is not None:
        c = st.columns(4)
        c[0].metric(t("mt_people", lang), f"{plan.population:,}")
        c[1].metric(t("mt_finish", lang), t("mt_finish_value", lang).format(h=plan.finish_hours) if plan.reachable
                    else t("mt_finish_never", lang))
        c[2].metric(t("mt_temp_points", lang), f"{plan.temporary_points:,}")
        c[3].metric(t("mt_places", lang), f"{len(plan.temporary):,}")
        c = st.columns(4)
        c[0].metric(t("mt_staff", lang), f"{plan.staff:,}", help=f"{plan.stations:,} × {plan.shifts}")
        c[1].metric(t("mt_tubes", lang), f"{plan.tubes:,}", help=t(f"mt_pool_{plan.pooling}", lang))
        if plan.reachable:
            st.success(t("mt_ok", lang).format(h=plan.finish_hours, n=plan.population, t=plan.target_hours))
        else:
            left = int(plan.neighbourhoods["temporary"].sum())
            st.warning(t("mt_short", lang).format(t=plan.target_hours, left=left, p=plan.temporary_points, k=len(plan.temporary)))
        if plan.issues:
            st.warning(t("mt_site_issues", lang) + "\n\n" + "\n".join(
                f"- {md_text(i)}：{md_text(z if zh else e)}" for i, z, e in plan.issues))
    st.caption(t("mt_walk_note", lang).format(km=float(walk)))
    out = show_map(mass_testing_map(ctx, lang, area, plan, draw=kind == "drawn"), key=f"mt_map_{kind}", height=540,
                   returned=["last_active_drawing"] if kind == "drawn" else [])
    if kind == "drawn":
        drawn = _drawn(out.get("last_active_drawing"))
        if drawn is not None and (ss.get("mt_drawn") is None or not drawn.equals(ss["mt_drawn"])):
            ss["mt_drawn"] = drawn
            st.rerun()
        if ss.get("mt_drawn") is None:
            st.caption(t("mt_draw_none", lang))
    if plan is not None and plan.population:
        if len(plan.temporary):
            st.subheader(t("mt_temp_table", lang))
            tp = plan.temporary
            st.dataframe(pd.DataFrame({
                t("mt_col_place", lang): tp["name"], t("mt_col_points", lang): tp["points"], t("mt_col_people", lang): tp["load"],
                t("mt_col_stations", lang): tp["stations"], t("mt_col_staff", lang): tp["staff"],
                t("mt_col_serves", lang): tp["covers"].map(len),
            }), hide_index=True, width="stretch")
        st.subheader(t("mt_nb_table", lang))
        nb = plan.neighbourhoods.sort_values("finish", ascending=False, na_position="first")
        st.dataframe(pd.DataFrame({
            t("mt_col_nb", lang): nb["name"], t("mt_col_people", lang): nb["population"], t("mt_col_served", lang): nb["served"],
            t("mt_col_temp", lang): nb["temporary"], t("mt_col_finish", lang): nb["finish"].dt.strftime("%m-%d %H:%M").fillna("—"),
        }), hide_index=True, width="stretch")
        st.download_button(t("mt_download", lang), data=plan_workbook(plan, area_name=area_name),
                           file_name=f"mass-testing-{start:%Y%m%d-%H%M}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")

else:
    walk_c = float(cfg.sampling_walk_km)
    coverage, by = _circle(ctx, *store_key, walk_c)
    city = by.iloc[-1]
    sites = open_sites(read_public_layer(ctx, "testing_sites"))
    c = st.columns(3)
    c[0].metric(t("mc_city", lang), f"{city['share']:.1%}")
    c[1].metric(t("mc_people_out", lang), f"{city['population'] - city['covered']:,.0f}")
    c[2].metric(t("mc_sites", lang), f"{len(sites):,}")
    st.caption(t("mt_walk_note", lang).format(km=walk_c) + " " + t("mc_note", lang))
    show_map(circle_map(ctx, lang, coverage, sites), key="mt_circle_map", height=520)
    st.subheader(t("mc_by_district", lang))
    st.dataframe(pd.DataFrame({
        t("mc_col_district", lang): by["district"] if zh else by["district"].str.replace("全市 City", "City"),
        t("mc_col_people", lang): by["population"].round(0).astype("int64"),
        t("mc_col_covered", lang): by["covered"].round(0).astype("int64"),
        t("mc_col_share", lang): (100 * by["share"]).round(1).astype(str) + "%",
    }), hide_index=True, width="stretch")
    st.subheader(t("mc_outside", lang))
    worst = coverage.sort_values("uncovered", ascending=False).head(30)
    st.dataframe(pd.DataFrame({
        t("mt_col_nb", lang): worst["name"], t("mc_col_district", lang): worst["district"],
        t("mc_col_outside", lang): worst["uncovered"].round(0).astype("int64"),
        t("mc_col_share", lang): (100 * worst["share"]).round(1).astype(str) + "%",
    }), hide_index=True, width="stretch")
    st.download_button(t("mc_download", lang), data=coverage_workbook(coverage, by, walk_km=walk_c),
                       file_name="sampling-circle.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click="ignore")
