"""区域划定 Zone planning: draw, generate, edit, lift and audit sealed / controlled / precaution zones.

The logic lives in :mod:`dashboard.planning_ui` (forms, tables, checks) and :mod:`geo.zones`
(snapping, generation, validation, impact); the map in :mod:`dashboard.planning_map`; saving,
history and conflicts in the store (``save_zone`` / ``zone_history`` / ``restore_zone``). This
page wires widgets, the map and the messages.

State kept per browser session (``st.session_state``, never shared): the shape on the map per
mode, the version each opened zone was read at (so a save based on an older version is refused
with "changed by X at T — reload"), case points, and traveller locations for the counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from dashboard import audit
from dashboard import planning_ui as pu
from dashboard.i18n import compact_number, t
from dashboard.mapview import display_crs, to_store_coords
from dashboard.planning_map import (
    OverlayShape,
    overlay_script,
    planning_base_map,
    show_planning_map,
    tier_style,
)
from dashboard.safe_text import in_lang, md_text
from dashboard.ui import PageContext, page_frame, read_public_layer
from geo import zones as gz
from geo.errors import CoordinateError, ImportRejected, StaleWrite
from geo.zones import TIER_ORDER, Impact, snap_to_neighbourhoods, validate_zone, zone_impact, zones_from_cases
from layers import zone_rules as zr
from layers import zones as lz
from layers.boundaries import city_counties
from layers.io import export_layer, read_file, validate
from layers.io.case_points import case_points_from_file
from layers.zones import tier_label

MODES = ("draw", "edit", "generate", "history", "exchange")
ss = st.session_state


# --- shared, public-only caches -----------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def _counties(city: str) -> gpd.GeoDataFrame:
    return city_counties(city)


@st.cache_data(max_entries=64, show_spinner=False)
def _public_impact(_ctx: PageContext, location: str, version: float, wkb: bytes) -> Impact:
    """Area, population, neighbourhoods, sites and hotels of a shape: public layers only, no travellers."""
    return zone_impact(
        shapely.from_wkb(wkb),
        neighbourhoods=read_public_layer(_ctx, "neighbourhoods"),
        sites=read_public_layer(_ctx, "testing_sites"),
        hotels=read_public_layer(_ctx, "hotels"),
    )


# --- per-session state ----------------------------------------------------------------------------


def _session_impact(geom: shapely.Geometry) -> Impact:
    """The impact of a shape derived from case locations (a proposal): computed for this session
    only, never keyed into a cache shared between users (r1 buffers trace the cases' homes)."""
    wkb = shapely.to_wkb(geom)
    memo = ss.setdefault("_pl_impacts", {})
    key = (ctx.store.location, ctx.store.version(), wkb)
    if key not in memo:
        if len(memo) > 12:
            memo.clear()
        memo[key] = zone_impact(geom, neighbourhoods=nbh, sites=sites, hotels=hotels)
    return memo[key]


def _traveller_lonlat(ctx: PageContext, as_of: pd.Timestamp) -> np.ndarray:
    """Residences of travellers arrived by ``as_of``, lon/lat only, kept in this session only
    (personal data never goes into a cache shared between users)."""
    key = (ctx.store.location, ctx.store.version(), as_of.strftime("%Y-%m-%d"))
    cached = ss.get("_pl_trav")
    if cached is None or cached[0] != key:
        trav = ctx.store.read("travellers")
        arrived = trav["arrival_date"].isna() | (trav["arrival_date"] <= as_of)
        g = trav.geometry[arrived.to_numpy()]
        g = g[~(g.isna() | g.is_empty).to_numpy()]
        cached = (key, np.column_stack([g.x.to_numpy(), g.y.to_numpy()]) if len(g) else np.empty((0, 2)))
        ss["_pl_trav"] = cached
    return cached[1]


def _shape(mode: str) -> shapely.Geometry | None:
    wkb = ss.get(f"_pl_{mode}_shape")
    return shapely.from_wkb(wkb) if wkb else None


def _set_shape(mode: str, geom: shapely.Geometry | None) -> None:
    ss[f"_pl_{mode}_shape"] = shapely.to_wkb(geom) if geom is not None and not geom.is_empty else None


def _load(mode: str, geom: shapely.Geometry | None, *, fit: bool = True) -> None:
    """Put ``geom`` (or nothing) into the map's draw layer, once (a new token)."""
    n = ss.get("_pl_tokens", 0) + 1
    ss["_pl_tokens"] = n
    ss[f"_pl_{mode}_load"] = (f"{mode}-{n}", shapely.to_wkb(geom) if geom is not None and not geom.is_empty else None, fit)
    _set_shape(mode, geom)


def _on_map(value: dict, mode: str, crs: str) -> None:
    """The draw layer changed in the browser: keep its shape (converted to WGS-84) for this mode."""
    features = value.get("all_drawings")
    if features is None:
        return
    load = ss.get(f"_pl_{mode}_load")
    token = load[0] if load else None
    tokens = {(f.get("properties") or {}).get("rm_token") for f in features}
    if tokens - {None, token}:  # features from an earlier load: a stale value, the browser will send the new one
        return
    shape, messages = gz.shape_from_features(features, src=crs)
    _set_shape(mode, shape)
    ss[f"_pl_{mode}_shape_msgs"] = messages


def _on_click(value: dict, settings) -> None:
    """A click on the map in the generate mode adds a case point."""
    click = value.get("last_clicked")
    if not click:
        return
    lon, lat = to_store_coords(float(click["lng"]), float(click["lat"]), settings)
    ss.setdefault("_pl_cases_clicked", []).append((round(lon, 6), round(lat, 6)))


FLASH_SECONDS = 30.0


def _flash(kind: str, text: str) -> None:
    """A message shown after the rerun a save ends with, for a while (the map's own reruns after a
    save would otherwise wipe it before the planner reads it)."""
    ss["_pl_flash"] = (kind, text, time.monotonic())


def _show_flash() -> None:
    flash = ss.get("_pl_flash")
    if flash and time.monotonic() - flash[2] < FLASH_SECONDS:
        getattr(st, flash[0])(flash[1])
    elif flash:
        del ss["_pl_flash"]


def _show_messages(messages: list[pu.Message]) -> None:
    for level, zh, en in messages:
        text = zh if lang == "zh" else en
        {"error": st.error, "warning": st.warning}.get(level, st.info)(text)


def _may_change(action: str = "zone_change", roles: tuple[str, ...] = ("planner", "command")) -> None:
    """Check the signed-in role right before a write (sign-in: dashboard.auth, when present)."""
    try:
        from dashboard.auth import require_role
    except ImportError:  # no sign-in in this build: nothing to check
        return
    require_role(ctx, *roles, action=action)


# --- the page ------------------------------------------------------------------------------------

ctx = page_frame("page_planning")
lang = ctx.lang
user = ctx.user or "planner"
crs = display_crs(ctx.settings)
st.caption(t("pl_intro", lang))

c_date, c_mode = st.columns([1, 4])
as_of = pd.Timestamp(c_date.date_input(t("as_of", lang), value=ctx.scenario_today.date(), key="pl_as_of"))
today = as_of.date()
mode = c_mode.radio(
    t("pl_mode", lang), MODES, format_func=lambda m: t(f"pl_mode_{m}", lang), horizontal=True, key="pl_mode",
    on_change=lambda: ss.pop("_pl_flash", None),
)
_show_flash()

zones_all = read_public_layer(ctx, "zones")  # every zone incl. lifted ones (cached per store version)
nbh = read_public_layer(ctx, "neighbourhoods")
sites = read_public_layer(ctx, "testing_sites")
hotels = read_public_layer(ctx, "hotels")
counties = _counties(ctx.settings.city_adcode)
city = zr.city_shape(ctx.settings.city_adcode)  # the outline the store checks zones against
base = planning_base_map(ctx, as_of)


def impact_panel(geom: shapely.Geometry, tier: str | None, *, key: str) -> pu.ImpactTables:
    """Figures and lists of what ``geom`` would affect (computed from the shape on screen)."""
    impact = _public_impact(ctx, ctx.store.location, ctx.store.version(), shapely.to_wkb(geom))
    lonlat = _traveller_lonlat(ctx, as_of)
    inside = shapely.intersects_xy(geom, lonlat[:, 0], lonlat[:, 1]) if len(lonlat) else np.array([], dtype=bool)
    impact = dataclasses.replace(impact, travellers=int(inside.sum()))
    tables = pu.impact_tables(impact, neighbourhoods=nbh, sites=sites, hotels=hotels, lang=lang)
    st.markdown(f"##### {t('pl_impact', lang)}")
    cols = st.columns(6)
    cols[0].metric(t("pl_fig_area", lang), f"{tables.area_km2:,.2f}")
    cols[1].metric(t("pl_fig_population", lang), compact_number(tables.population, lang), help=f"{tables.population:,}")
    cols[2].metric(t("pl_fig_neighbourhoods", lang), tables.neighbourhood_count)
    cols[3].metric(t("pl_fig_travellers", lang), tables.travellers if tables.travellers is not None else "—")
    cols[4].metric(t("pl_fig_sites", lang), tables.site_count)
    cols[5].metric(t("pl_fig_hotels", lang), tables.hotel_count)
    if tier == "sealed" and tables.site_count:
        st.warning(t("pl_sites_unavailable", lang).format(n=tables.site_count))
    tab_nb, tab_sites, tab_hotels = st.tabs([
        f"{t('pl_fig_neighbourhoods', lang)} ({tables.neighbourhood_count})",
        f"{t('pl_fig_sites', lang)} ({tables.site_count})",
        f"{t('pl_fig_hotels', lang)} ({tables.hotel_count})",
    ])
    tab_nb.dataframe(tables.neighbourhoods, hide_index=True, width="stretch", height=min(38 + 35 * len(tables.neighbourhoods), 250), key=f"{key}_nb")
    tab_sites.dataframe(tables.sites, hide_index=True, width="stretch", key=f"{key}_sites")
    tab_hotels.dataframe(tables.hotels, hide_index=True, width="stretch", key=f"{key}_hotels")
    st.caption(t("pl_travellers_note", lang))
    return tables


def downgrade_note(tier: str, last_case: dt.date | None) -> gz.DowngradeInfo | None:
    if tier != "sealed" or last_case is None:
        return None
    info = gz.downgrade_info(last_case, today, quiet_days=gz.QUIET_DAYS)
    if info is None:
        return None
    since = "—" if info.days_since is None else str(info.days_since)
    text = t("pl_downgrade_info", lang).format(days=since, date=info.may_downgrade_on.isoformat(), quiet=info.quiet_days)
    (st.success if info.allowed(today) else st.info)(text)
    return info


def check_shape(
    geom: shapely.Geometry | None, tier: str, start: dt.date | None, end: dt.date | None, *, exclude: tuple[str, ...] = (),
    merge: bool = False, extra: gpd.GeoDataFrame | None = None,
):
    """validate_zone against the zones in force during the zone's period (``extra``: unsaved tiers of a proposal)."""
    existing = zr.zones_in_force_between(zones_all, start, end, exclude=exclude)
    if extra is not None and len(extra):
        existing = gpd.GeoDataFrame(pd.concat([existing, extra], ignore_index=True), geometry="geometry", crs="EPSG:4326")
    return validate_zone(geom, city_boundary=city, existing=existing, tier=tier, merge=merge)


def retire_merged(merged_ids: tuple, into: str, start: dt.date | None) -> list[str]:
    """Lift the zones merged into ``into`` (layers.zones.lift_merged), audit each; the problems."""
    problems = []
    for zid, version, problem in lz.lift_merged(ctx.store, merged_ids, into=into, start=start, today=today, user=user):
        if problem is not None:
            problems.append(f"{zid}: {problem}")
        else:
            audit.record(ctx.user, "zone_change", str(zid), f"lift v{version} (merged into {into})")
    return problems


def save_new(form: gz.ZoneForm, geom: shapely.Geometry, *, merged: tuple = ()) -> str | None:
    """Create a zone; returns its id, or None (the error is shown)."""
    _may_change()
    zid = gz.new_zone_id(form.start)
    rec = lz.zone_record(form, geom, zone_id=zid, district_adcode=gz.district_of(geom, counties))
    try:
        v = ctx.store.save_zone(rec, based_on=None, user=user, action="create", merging=merged)
    except (StaleWrite, ValueError) as exc:
        st.error(f"{t('pl_save_failed', lang)}: {md_text(in_lang(exc, lang))}")
        return None
    audit.record(ctx.user, "zone_change", zid, f"create v{v.version}")
    problems = retire_merged(merged, zid, form.start)
    for p in problems:
        st.error(t("pl_merge_failed", lang).format(detail=p))
    return zid


def shape_panel(mode_key: str, *, allow_snap: bool = True) -> tuple[shapely.Geometry | None, list[pu.Message]]:
    """The shape on the map for this mode, snapped when asked; with the messages about it."""
    geom = _shape(mode_key)
    messages = list(ss.get(f"_pl_{mode_key}_shape_msgs") or [])
    if allow_snap:
        c1, c2 = st.columns([1, 1])
        snap = c1.checkbox(t("pl_snap", lang), key=f"pl_{mode_key}_snap", help=t("pl_snap_help", lang))
        share = c2.slider(t("pl_snap_share", lang), 5, 95, 50, step=5, format="%d%%", key=f"pl_{mode_key}_share", disabled=not snap)
        if snap and geom is not None:
            try:
                geom, ids = snap_to_neighbourhoods(geom, nbh, min_share=share / 100)
            except ValueError as exc:
                messages.append(("error", str(exc), str(exc)))
                geom = None
            else:
                messages.append(("info", f"已对齐到 {len(ids)} 个社区的边界", f"snapped to the outlines of {len(ids)} neighbourhoods"))
    return geom, messages


def form_widgets(prefix: str, *, tier_default: str = "controlled", disabled_tier: bool = False) -> gz.ZoneForm:
    """Tier, name, reason, start, planned end and last case; values kept under ``prefix``."""
    ss.setdefault(f"{prefix}_tier", tier_default)
    tier = st.radio(
        t("pl_tier", lang), TIER_ORDER, format_func=lambda x: tier_label(x, lang), horizontal=True,
        key=f"{prefix}_tier", disabled=disabled_tier,
    )
    name = st.text_input(t("pl_name", lang), key=f"{prefix}_name", placeholder=t("pl_name_ph", lang), max_chars=100)
    reason = st.text_area(t("pl_reason", lang), key=f"{prefix}_reason", height=68)
    ss.setdefault(f"{prefix}_start", today)
    ss.setdefault(f"{prefix}_end", today + dt.timedelta(days=gz.DEFAULT_DAYS.get(tier, 7)))
    c1, c2, c3 = st.columns(3)
    start = c1.date_input(t("pl_start", lang), key=f"{prefix}_start")
    end = c2.date_input(t("pl_planned_end", lang), key=f"{prefix}_end")
    last = c3.date_input(t("pl_last_case", lang), value=None, key=f"{prefix}_last", help=t("pl_last_case_help", lang))
    return gz.ZoneForm(tier=tier, name=name or "", reason=reason or "", start=start, planned_end=end, last_case=last)


# --- mode: draw ----------------------------------------------------------------------------------


def draw_mode(below) -> tuple[list[OverlayShape], bool]:
    if ss.pop("_pl_draw_reset", False):  # after a save: an empty form (before its widgets exist)
        ss["pl_d_name"] = ""
        ss["pl_d_reason"] = ""
        ss["pl_d_merge"] = False
        ss["pl_draw_snap"] = False
    st.caption(t("pl_draw_hint", lang))
    form = form_widgets("pl_d")
    geom, messages = shape_panel("draw")
    merge = st.checkbox(t("pl_merge", lang), key="pl_d_merge", help=t("pl_merge_help", lang))
    overlay: list[OverlayShape] = []
    check = None
    if geom is None and _shape("draw") is None:
        st.info(t("pl_no_shape", lang))  # the form is checked once there is something to save
    elif geom is not None:
        messages += gz.form_problems(form, today=today)
        check = check_shape(geom, form.tier, form.start, form.planned_end, merge=merge)
        messages += check.messages
        if check.geometry is not None:
            overlay.append(OverlayShape(check.geometry, tier_style(form.tier)))
    _show_messages(messages)
    downgrade_note(form.tier, form.last_case)
    if check is not None and check.geometry is not None:
        with below:
            impact_panel(check.geometry, form.tier, key="pl_d_impact")
    blocked = check is None or not check.ok or any(m[0] == "error" for m in messages)
    if st.button(t("pl_save_new", lang), type="primary", disabled=blocked, key="pl_d_save"):
        zid = save_new(form, check.geometry, merged=check.merged_ids)
        if zid:
            _flash("success", t("pl_saved", lang).format(tier=tier_label(form.tier, lang), name=form.name.strip(), id=zid, version=1))
            _load("draw", None, fit=False)
            ss["_pl_draw_reset"] = True
            ss["_pl_view"] = shapely.to_wkb(check.geometry)  # show the saved zone on the rebuilt map
            st.rerun()
    if st.button(t("pl_clear_shape", lang), key="pl_d_clear"):
        _load("draw", None, fit=False)
        st.rerun()
    return overlay, True


# --- mode: edit / lift / downgrade -----------------------------------------------------------------


def _open_zone(zid: str | None) -> None:
    """Open a zone for editing: remember the version read now, fill the form, load its shape."""
    ss.pop("_pl_e_conflict", None)
    if not zid:
        return
    rows = read_public_layer(ctx, "zones")
    rows = rows[rows["id"] == zid]
    if not len(rows):
        return
    row = rows.iloc[0].to_dict()
    ss.setdefault("_pl_based_on", {})[zid] = int(row["version"])
    form = gz.ZoneForm.from_zone(row)
    ss["pl_e_tier"] = form.tier if form.tier in TIER_ORDER else "controlled"
    ss["pl_e_name"] = form.name
    ss["pl_e_reason"] = form.reason
    ss["pl_e_start"] = form.start
    ss["pl_e_end"] = form.planned_end
    ss["pl_e_last"] = form.last_case
    ss["pl_e_lifted"] = form.lifted or today
    ss["pl_e_action"] = "edit"
    ss["pl_edit_snap"] = False
    ss["pl_e_merge"] = False
    ss["pl_e_confirm"] = False
    ss.pop("pl_e_dname", None)
    _load("edit", row["geometry"], fit=True)


def _on_pick_zone() -> None:
    ss["_pl_e_current"] = ss.get("pl_e_zone")
    _open_zone(ss.get("pl_e_zone"))


def edit_mode(below) -> tuple[list[OverlayShape], bool]:
    reopen = ss.pop("_pl_reopen", None)
    if reopen:  # after a save: the form from the stored zone (before its widgets exist)
        _open_zone(reopen)
    ids = list(zones_all["id"].astype(str))
    labels = {r["id"]: pu.zone_choice_label(r, today, lang) for r in zones_all.to_dict("records")}
    # the labels change with each save (version, status): keep the zone chosen across them
    ss["pl_e_zone"] = ss.get("_pl_e_current") if ss.get("_pl_e_current") in labels else None
    zid = st.selectbox(
        t("pl_pick_zone", lang), ids, index=None, format_func=lambda i: labels.get(i, i), key="pl_e_zone",
        placeholder=t("pl_pick_zone_ph", lang), on_change=_on_pick_zone,
    )
    if not zid or zid not in labels:
        st.info(t("pl_pick_zone_hint", lang))
        return [], False
    if zid not in ss.get("_pl_based_on", {}):
        _open_zone(zid)
    row = zones_all[zones_all["id"] == zid].iloc[0].to_dict()
    based_on = ss["_pl_based_on"][zid]
    st.caption(t("pl_editing", lang).format(id=md_text(zid), version=based_on, stored=int(row["version"]),
                                              who=md_text(row.get("saved_by") or "—"), at=str(row.get("saved_at") or "")[:16].replace("T", " ")))
    conflict = ss.get("_pl_e_conflict")
    if conflict:
        st.error(md_text(in_lang(conflict, lang)))
        st.button(t("pl_reload", lang), key="pl_e_reload", type="primary", on_click=_open_zone, args=(zid,))
    action = st.radio(
        t("pl_action", lang), ("edit", "lift", "downgrade"), format_func=lambda a: t(f"pl_action_{a}", lang),
        horizontal=True, key="pl_e_action",
    )
    if action == "edit":
        st.caption(t("pl_edit_tool_hint", lang))
    stored_geom = row["geometry"]
    stored_form = gz.ZoneForm.from_zone(row)
    messages: list[pu.Message] = []
    overlay: list[OverlayShape] = []
    geom: shapely.Geometry | None = stored_geom
    check = None
    if action == "edit":
        form = form_widgets("pl_e")
        drawn, messages = shape_panel("edit")
        geom = drawn
        merge = st.checkbox(t("pl_merge", lang), key="pl_e_merge", help=t("pl_merge_help", lang))
        if drawn is None and _shape("edit") is None:
            messages.append(("error", "地图上没有区域图形：请用编辑工具调整或重新绘制", "no shape on the map: edit it or draw it again"))
        elif gz.same_shape(drawn, stored_geom) and not ss.get("pl_edit_snap"):
            geom = stored_geom  # unchanged: keep the stored outline exactly
        if geom is not None:
            check = check_shape(geom, form.tier, form.start, form.planned_end, exclude=(zid,), merge=merge)
            messages += check.messages
            if check.geometry is not None and not gz.same_shape(check.geometry, stored_geom):
                overlay.append(OverlayShape(check.geometry, tier_style(form.tier)))
        form = gz.ZoneForm(form.tier, form.name, form.reason, form.start, form.planned_end, form.last_case, stored_form.lifted)
    elif action == "lift":
        lifted = st.date_input(t("pl_lift_date", lang), key="pl_e_lifted")
        form = gz.ZoneForm(stored_form.tier, stored_form.name, stored_form.reason, stored_form.start,
                           stored_form.planned_end, stored_form.last_case, lifted)
        st.caption(t("pl_lift_hint", lang))
        if stored_form.lifted:
            messages.append(("warning", f"该区域已于 {stored_form.lifted} 解除；保存将改为新的解除日期",
                             f"this zone was lifted on {stored_form.lifted}; saving sets the new lift date"))
    else:  # downgrade
        new_tier = gz.DOWNGRADE_TO.get(stored_form.tier)
        if new_tier is None:
            messages.append(("error", "防范区不能再降级；如需结束请选择“解封”", "a precaution zone cannot be downgraded; lift it instead"))
            form = stored_form
        else:
            st.markdown(t("pl_downgrade_to", lang).format(old=tier_label(stored_form.tier, lang), new=tier_label(new_tier, lang)))
            ss.setdefault("pl_e_dname", gz.downgraded_name(stored_form.name, stored_form.tier, new_tier))
            name = st.text_input(t("pl_name", lang), key="pl_e_dname")
            form = gz.ZoneForm(new_tier, name or "", stored_form.reason, stored_form.start, stored_form.planned_end,
                               stored_form.last_case, stored_form.lifted)
            info = downgrade_note(stored_form.tier, stored_form.last_case)
            if stored_form.tier == "sealed":
                if info is None:
                    messages.append(("warning", "未记录最近病例日期，无法确认已满足降级条件",
                                     "no last case date is recorded: the downgrade condition cannot be confirmed"))
                elif not info.allowed(today):
                    messages.append(("warning", f"按规则最早可于 {info.may_downgrade_on} 降级（今天 {today}）",
                                     f"by the rule it may be downgraded on {info.may_downgrade_on} at the earliest (today {today})"))
            check = check_shape(stored_geom, new_tier, form.start, form.planned_end, exclude=(zid,),
                                merge=st.checkbox(t("pl_merge", lang), key="pl_e_merge", help=t("pl_merge_help", lang)))
            messages += check.messages
            geom = check.geometry
    problems = gz.form_problems(form, today=today)
    messages += problems if action != "lift" else [m for m in problems if m[0] == "error"]
    _show_messages(messages)
    if action == "edit":
        downgrade_note(form.tier, form.last_case)
    needs_confirm = any(m[0] == "warning" for m in messages) and action == "downgrade"
    confirmed = st.checkbox(t("pl_confirm", lang), key="pl_e_confirm") if needs_confirm else True
    if geom is not None and action != "lift":
        with below:
            impact_panel(check.geometry if check is not None and check.geometry is not None else geom, form.tier, key="pl_e_impact")
    blocked = (any(m[0] == "error" for m in messages) or (check is not None and not check.ok) or geom is None
               or not confirmed or bool(conflict))  # after a refused save: reload first
    label = {"edit": "pl_save_edit", "lift": "pl_save_lift", "downgrade": "pl_save_downgrade"}[action]
    if st.button(t(label, lang), type="primary", disabled=blocked, key="pl_e_save"):
        _may_change()
        final = check.geometry if check is not None and check.geometry is not None else geom
        rec = lz.zone_record(form, final, zone_id=zid, base=row,
                             district_adcode=gz.district_of(final, counties) if final is not stored_geom else None)
        try:
            v = ctx.store.save_zone(rec, based_on=based_on, user=user, action=action,
                                    merging=check.merged_ids if check is not None else ())
        except StaleWrite as exc:
            ss["_pl_e_conflict"] = str(exc)
            st.rerun()
        except ValueError as exc:
            st.error(f"{t('pl_save_failed', lang)}: {md_text(in_lang(exc, lang))}")
        else:
            audit.record(ctx.user, "zone_change", zid, f"{action} v{v.version}")
            if check is not None and check.merged_ids:
                for p in retire_merged(check.merged_ids, zid, form.start):
                    st.error(t("pl_merge_failed", lang).format(detail=p))
            ss["_pl_based_on"][zid] = v.version
            _flash("success", t("pl_saved", lang).format(tier=tier_label(form.tier, lang), name=form.name, id=zid, version=v.version))
            ss["_pl_reopen"] = zid
            st.rerun()
    return overlay, action == "edit"


# --- mode: generate from cases ------------------------------------------------------------------------


def _cases() -> np.ndarray:
    pts = list(ss.get("_pl_cases_clicked", [])) + list(ss.get("_pl_cases_file", []))
    return np.array(pts, dtype=float).reshape(-1, 2)


def _on_case_file() -> None:
    upload = ss.get("pl_g_file")
    ss["_pl_cases_file"] = []
    ss["_pl_cases_rejects"] = None
    if upload is None:
        return
    with tempfile.TemporaryDirectory(prefix="riskmap-cases-") as tmp:
        path = Path(tmp) / (Path(upload.name).name or "cases.csv")
        path.write_bytes(upload.getvalue())
        crs_choice = ss.get("pl_g_crs", "auto")
        try:
            pts = case_points_from_file(path, crs=None if crs_choice == "auto" else crs_choice)
        except (ImportRejected, CoordinateError, ValueError) as exc:
            ss["_pl_cases_rejects"] = (str(exc), [])
            return
    ss["_pl_cases_file"] = [tuple(map(float, p)) for p in pts.lonlat]
    if pts.rejects:
        ss["_pl_cases_rejects"] = (None, [tuple(r) for r in pts.rejects])


def generate_mode(below) -> tuple[list[OverlayShape], bool]:
    if ss.pop("_pl_gen_reset", False):  # after a save: a fresh form (before its widgets exist)
        ss.pop("pl_g_prefix", None)
        ss["pl_g_reason"] = ""
        ss["pl_g_merge"] = False
    st.caption(t("pl_gen_hint", lang))
    st.file_uploader(t("pl_case_file", lang), type=["csv", "xlsx", "geojson", "json", "kml", "gpkg", "zip"], key="pl_g_file",
                      on_change=_on_case_file)
    st.selectbox(t("crs", lang), ["auto", "wgs84", "gcj02", "bd09", "EPSG:4490"], key="pl_g_crs",
                  format_func=lambda c: t({"auto": "crs_auto", "wgs84": "crs_wgs84", "gcj02": "crs_gcj02", "bd09": "crs_bd09",
                                           "EPSG:4490": "crs_cgcs2000"}[c], lang), on_change=_on_case_file)
    rej = ss.get("_pl_cases_rejects")
    if rej:
        if rej[0]:
            st.error(md_text(rej[0]))
        if rej[1]:
            st.warning(t("pl_case_rejects", lang).format(n=len(rej[1])))
            st.dataframe(pd.DataFrame({t("col_row", lang): ["—" if r[0] is None else r[0] for r in rej[1]],
                                       t("col_column", lang): [r[1] or "" for r in rej[1]],
                                       t("col_reason", lang): [r[2] if lang == "zh" else r[3] for r in rej[1]]}),
                         hide_index=True, width="stretch", key="pl_g_rejects")
    cases = _cases()
    b1, b2, b3 = st.columns([2, 1, 1])
    b1.markdown(t("pl_case_count", lang).format(clicked=len(ss.get("_pl_cases_clicked", [])), file=len(ss.get("_pl_cases_file", []))))
    if b2.button(t("pl_case_undo", lang), key="pl_g_undo", disabled=not ss.get("_pl_cases_clicked")):
        ss["_pl_cases_clicked"] = ss["_pl_cases_clicked"][:-1]
        st.rerun()
    if b3.button(t("pl_case_clear", lang), key="pl_g_clear", disabled=len(cases) == 0):
        ss["_pl_cases_clicked"] = []
        ss["_pl_cases_file"] = []
        st.rerun()

    st.markdown(f"**{t('pl_gen_params', lang)}**")
    p1, p2 = st.columns(2)
    sealed_mode = p1.radio(t("pl_sealed_by", lang), ("nbh", "r1"), format_func=lambda v: t(f"pl_sealed_{v}", lang), key="pl_g_sealed")
    r1 = p2.number_input(t("pl_r1", lang), 20, 5000, 200, step=50, key="pl_g_r1", disabled=sealed_mode != "r1")
    p3, p4 = st.columns(2)
    r2 = p3.number_input(t("pl_r2", lang), 50, 10000, 500, step=50, key="pl_g_r2")
    share = p4.slider(t("pl_ctrl_share", lang), 5, 95, 30, step=5, format="%d%%", key="pl_g_share", help=t("pl_ctrl_share_help", lang))
    p5, p6 = st.columns(2)
    prec_mode = p5.radio(t("pl_prec_by", lang), ("district", "r3"), format_func=lambda v: t(f"pl_prec_{v}", lang), key="pl_g_prec")
    r3 = p6.number_input(t("pl_r3", lang), 100, 30000, 2000, step=100, key="pl_g_r3", disabled=prec_mode != "r3")

    overlay = [OverlayShape(shapely.MultiPoint(cases), {"radius": 6, "color": "#ffffff", "weight": 2, "fillColor": "#6a1b9a",
                                                         "fillOpacity": 1.0})] if len(cases) else []
    if not len(cases):
        st.info(t("pl_no_cases", lang))
        return overlay, False
    try:
        proposal = zones_from_cases(
            cases, nbh, r1=float(r1) if sealed_mode == "r1" else None, r2=float(r2),
            r3=float(r3) if prec_mode == "r3" else None, controlled_share=share / 100,
        )
    except ValueError as exc:
        st.error(md_text(in_lang(exc, lang)))
        return overlay, False
    outside = proposal.attrs.get("cases_outside", [])
    if outside:
        st.warning(t("pl_cases_outside", lang).format(n=len(outside)))
    # default name: the neighbourhood of the first case
    first_nb = [i for i in proposal["neighbourhood_ids"].iloc[0]]
    default_prefix = str(nbh.loc[nbh["id"] == first_nb[0], "name"].iloc[0]) if first_nb and (nbh["id"] == first_nb[0]).any() else ""
    ss.setdefault("pl_g_prefix", default_prefix)

    st.markdown(f"**{t('pl_gen_save_title', lang)}**")
    prefix = st.text_input(t("pl_prefix", lang), key="pl_g_prefix", help=t("pl_prefix_help", lang))
    reason = st.text_input(t("pl_reason", lang), key="pl_g_reason")
    d1, d2 = st.columns(2)
    start = d1.date_input(t("pl_start", lang), value=today, key="pl_g_start")
    last_case = d2.date_input(t("pl_last_case", lang), value=today, key="pl_g_last")
    e1, e2, e3 = st.columns(3)
    ends = {
        tier: col.date_input(f"{tier_label(tier, lang)} · {t('pl_planned_end', lang)}",
                             value=start + dt.timedelta(days=gz.DEFAULT_DAYS[tier]), key=f"pl_g_end_{tier}")
        for tier, col in zip(TIER_ORDER, (e1, e2, e3), strict=True)
    }
    merge = st.checkbox(t("pl_merge", lang), key="pl_g_merge", help=t("pl_merge_help", lang))
    zones = gz.proposal_zones(proposal, prefix=prefix, reason=reason, start=start, ends=ends, last_case=last_case)
    by_tier = {f.tier: g for f, g in zones}
    rows, checks, blocked = [], [], False
    for form, geom in zones:
        extra = None
        if form.tier == "sealed" and "controlled" in by_tier:  # the proposal's own controlled ring covers it
            extra = gpd.GeoDataFrame({"id": ["(proposal)"], "tier": ["controlled"]}, geometry=[by_tier["controlled"]], crs="EPSG:4326")
        check = check_shape(geom, form.tier, form.start, form.planned_end, merge=merge, extra=extra)
        problems = gz.form_problems(form, today=today)
        checks.append((form, check, problems))
        blocked |= (not check.ok) or any(p[0] == "error" for p in problems)
        shown = check.geometry if check.geometry is not None else geom
        overlay.insert(0, OverlayShape(shown, tier_style(form.tier), f"{tier_label(form.tier, lang)} · {form.name}"))
        impact = _session_impact(shown)
        lonlat = _traveller_lonlat(ctx, as_of)
        trav = int(shapely.intersects_xy(shown, lonlat[:, 0], lonlat[:, 1]).sum()) if len(lonlat) else 0
        rows.append({
            t("pl_col_tier", lang): tier_label(form.tier, lang),
            t("pl_col_name", lang): form.name,
            t("pl_fig_area", lang): round(impact.area_km2, 2),
            t("pl_fig_population", lang): int(round(impact.population)),
            t("pl_fig_neighbourhoods", lang): len(impact.neighbourhood_ids),
            t("pl_fig_travellers", lang): trav,
            t("pl_fig_sites", lang): len(impact.site_ids),
            t("pl_fig_hotels", lang): len(impact.hotel_ids),
        })
    with below:
        st.markdown(f"##### {t('pl_impact', lang)}")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="pl_g_impact")
        st.caption(t("pl_travellers_note", lang))
    for form, check, problems in checks:
        msgs = check.messages + problems
        if msgs:
            st.markdown(f"*{tier_label(form.tier, lang)}*")
            _show_messages(msgs)
    downgrade_note("sealed", last_case)
    if st.button(t("pl_save_proposal", lang), type="primary", disabled=blocked, key="pl_g_save"):
        _may_change()
        saved, shapes = [], []
        for form, check, _ in checks:
            zid = save_new(form, check.geometry, merged=check.merged_ids)
            if zid is None:
                break
            saved.append(f"{tier_label(form.tier, lang)} {form.name} ({zid})")
            shapes.append(check.geometry)
        if saved:
            ss["_pl_view"] = shapely.to_wkb(shapely.union_all(shapes[:2]))  # the sealed and controlled zones
            _flash("success", t("pl_saved_proposal", lang).format(zones="；".join(saved) if lang == "zh" else "; ".join(saved)))
            ss["_pl_cases_clicked"] = []
            ss["_pl_cases_file"] = []
            ss["_pl_gen_reset"] = True
            st.rerun()
    return overlay, False


# --- mode: history -------------------------------------------------------------------------------------


def _on_pick_history() -> None:
    zid = ss.get("pl_h_zone")
    ss["_pl_h_current"] = zid
    ss.pop("_pl_h_conflict", None)
    if zid:
        rows = zones_all[zones_all["id"] == zid]
        if len(rows):
            ss.setdefault("_pl_h_based_on", {})[zid] = int(rows.iloc[0]["version"])


def history_mode(below) -> tuple[list[OverlayShape], bool]:
    ids = list(zones_all["id"].astype(str))
    labels = {r["id"]: pu.zone_choice_label(r, today, lang) for r in zones_all.to_dict("records")}
    ss["pl_h_zone"] = ss.get("_pl_h_current") if ss.get("_pl_h_current") in labels else None
    zid = st.selectbox(t("pl_pick_zone", lang), ids, index=None, format_func=lambda i: labels.get(i, i), key="pl_h_zone",
                       placeholder=t("pl_pick_zone_ph", lang), on_change=_on_pick_history)
    if not zid or zid not in labels:
        st.info(t("pl_pick_history_hint", lang))
        return [], False
    if zid not in ss.get("_pl_h_based_on", {}):
        _on_pick_history()
    based_on = ss["_pl_h_based_on"][zid]
    versions = ctx.store.zone_history(zid)
    with below:
        st.markdown(f"##### {t('pl_history_title', lang).format(id=zid)}")
        st.dataframe(pu.history_table(versions, lang), hide_index=True, width="stretch", key="pl_h_table",
                     column_config={t("pl_col_changes", lang): st.column_config.TextColumn(width="large")})
    if not versions:
        return [], False
    current = versions[-1]
    nums = [v.version for v in reversed(versions)]
    pick = st.selectbox(t("pl_pick_version", lang), nums, key="pl_h_version",
                        format_func=lambda n: f"v{n}" + (f" · {t('pl_current', lang)}" if n == current.version else ""))
    chosen = next(v for v in versions if v.version == pick)
    overlay = [OverlayShape(current.geometry, {"color": "#1f4e79", "weight": 2, "fill": False}, f"v{current.version}")]
    if chosen.version != current.version:
        overlay.append(OverlayShape(chosen.geometry, tier_style(str(chosen.attributes.get("tier") or ""), proposal=True), f"v{chosen.version}"))
    conflict = ss.get("_pl_h_conflict")
    if conflict:
        st.error(conflict)
        st.button(t("pl_reload", lang), key="pl_h_reload", type="primary", on_click=_on_pick_history)
    if chosen.version != current.version:
        st.caption(t("pl_restore_hint", lang).format(version=chosen.version))
        if st.button(t("pl_restore", lang).format(version=chosen.version), key="pl_h_restore", type="primary"):
            _may_change()
            try:
                v = ctx.store.restore_zone(zid, chosen.version, based_on=based_on, user=user)
            except StaleWrite as exc:
                ss["_pl_h_conflict"] = str(exc)
            except ValueError as exc:
                st.error(f"{t('pl_save_failed', lang)}: {md_text(in_lang(exc, lang))}")
                return overlay, False
            else:
                audit.record(ctx.user, "zone_change", zid, f"restore v{chosen.version} as v{v.version}")
                ss["_pl_h_based_on"][zid] = v.version
                ss.pop("_pl_h_conflict", None)
                _flash("success", t("pl_restored", lang).format(id=zid, old=chosen.version, version=v.version))
            st.rerun()
    return overlay, False


# --- mode: import / export ---------------------------------------------------------------------------


def _import_zones(upload, crs_choice: str) -> dict:
    """Read, validate (layers.io) and check (zone rules) an uploaded file; write it all or nothing."""
    _may_change("import", ("planner", "command"))
    name = Path(upload.name).name or "zones.geojson"
    with tempfile.TemporaryDirectory(prefix="riskmap-zones-") as tmp:
        src = Path(tmp) / name
        src.write_bytes(upload.getvalue())
        version = ctx.store.version()
        crs_arg = None if crs_choice == "auto" else crs_choice
        try:
            raw = read_file(src, crs=crs_arg, key="zones", limits=ctx.settings.import_limits)
            checked = validate(raw, "zones", crs=crs_arg, store=ctx.store, mode="append", city_adcode=ctx.settings.city_adcode)
        except (ImportRejected, CoordinateError, ValueError) as exc:
            return {"kind": "error", "text": str(exc), "rows": [tuple(r) for r in getattr(exc, "rows", [])]}
        rejects = list(checked.rejects)
        good, zone_rejects, notes = zr.check_zone_import(
            checked.good, checked.good_rows, existing=zones_all, city=city, unit=checked.unit
        )
        rejects = sorted(rejects + zone_rejects, key=lambda r: (r.row is not None, r.row or 0))
        notes = list(checked.notes) + notes
        if rejects or good.empty:
            bad = len({r.row for r in rejects if r.row is not None})
            return {"kind": "error", "text": t("pl_import_rejected", lang).format(bad=bad, total=checked.total),
                    "rows": [tuple(r) for r in rejects], "notes": [tuple(n) for n in notes]}
        # recorded before the write: an import that cannot be audited does not happen
        audit.record(ctx.user, "import", "zones", f"{src.suffix.lower()}, append, {len(good)} written")
        try:
            ctx.store.write_layers({"zones": good}, {"zones": "append"}, expect_version=version, user=user, action="import")
        except StaleWrite:
            return {"kind": "error", "text": t("pl_import_stale", lang), "rows": []}
        except ValueError as exc:
            return {"kind": "error", "text": str(exc), "rows": []}
    return {"kind": "ok", "written": len(good), "rows": [], "notes": [tuple(n) for n in notes]}


def exchange_mode(below) -> tuple[list[OverlayShape], bool]:
    st.markdown(f"**{t('pl_export_title', lang)}**")
    e1, e2 = st.columns(2)
    suffix = e1.selectbox(t("export_format", lang), list(pu.EXPORT_FORMATS), format_func=lambda s: pu.EXPORT_FORMATS[s][0], key="pl_x_fmt")
    ecrs = e2.selectbox(t("crs", lang), ["wgs84", "gcj02", "bd09", "EPSG:4490"], key="pl_x_crs",
                        format_func=lambda c: t({"wgs84": "crs_wgs84", "gcj02": "crs_gcj02", "bd09": "crs_bd09", "EPSG:4490": "crs_cgcs2000"}[c], lang))
    if st.button(t("export_submit", lang), key="pl_x_prepare"):
        _may_change("export", ("planner", "command"))
        name = pu.export_file_name(suffix, ecrs, today)
        with tempfile.TemporaryDirectory(prefix="riskmap-export-") as tmp:
            try:
                n = export_layer(ctx.store, "zones", Path(tmp) / name, crs=ecrs)
            except (CoordinateError, ValueError) as exc:
                ss.pop("_pl_export", None)
                st.error(f"{t('export_failed', lang)}: {md_text(in_lang(exc, lang))}")
            else:
                ss["_pl_export"] = (name, (Path(tmp) / name).read_bytes(), pu.EXPORT_FORMATS[suffix][1])
                audit.record(ctx.user, "export", "zones", f"{suffix}, {ecrs}, {n} rows")
    if "_pl_export" in ss:
        name, data, mime = ss["_pl_export"]
        st.download_button(t("export_download", lang).format(name=name), data, file_name=name, mime=mime, key="pl_x_download")
    st.divider()
    st.markdown(f"**{t('pl_import_title', lang)}**")
    st.caption(t("pl_import_intro", lang))
    with st.form("pl_import_form"):
        upload = st.file_uploader(t("import_file", lang), type=["geojson", "json", "kml", "gpkg", "zip"])
        icrs = st.selectbox(t("crs", lang), ["auto", "wgs84", "gcj02", "bd09", "EPSG:4490"],
                            format_func=lambda c: t({"auto": "crs_auto", "wgs84": "crs_wgs84", "gcj02": "crs_gcj02", "bd09": "crs_bd09",
                                                     "EPSG:4490": "crs_cgcs2000"}[c], lang))
        go = st.form_submit_button(t("import_submit", lang))
    if go:
        if upload is None:
            st.warning(t("import_no_file", lang))
        else:
            ss["_pl_import"] = _import_zones(upload, icrs)
            st.rerun()
    result = ss.get("_pl_import")
    if result:
        show_import_result(result, below)
    return [], False


def show_import_result(result: dict, below) -> None:
    """The outcome of an import: the message by the form, the rejected rows under the map (wide)."""
    if result:
        if result["kind"] == "ok":
            st.success(t("pl_import_ok", lang).format(n=result["written"]))
        else:
            st.error(md_text(result["text"]))
        if result["rows"]:
            below.markdown(f"##### {t('pl_import_rejects', lang)}")
            below.dataframe(pd.DataFrame({t("col_row", lang): ["—" if r[0] is None else str(r[0]) for r in result["rows"]],
                                          t("col_column", lang): [r[1] or "" for r in result["rows"]],
                                          t("col_reason", lang): [r[2] if lang == "zh" else r[3] for r in result["rows"]]}),
                            hide_index=True, width="stretch", key="pl_x_rejects")
        if result.get("notes"):
            with below.expander(t("import_notes", lang)):
                st.markdown("\n".join(f"- {md_text(n[2] if lang == 'zh' else n[3])}" + (f"（{n[0]}）" if n[0] else "") for n in result["notes"]))


# --- layout ---------------------------------------------------------------------------------------------

left, right = st.columns([3, 2], gap="medium")
map_slot = left.container()
below = left.container()  # impact and history under the map, where there is room for tables
with right:
    overlay_shapes, draw_bar = {"draw": draw_mode, "edit": edit_mode, "generate": generate_mode,
                                "history": history_mode, "exchange": exchange_mode}[mode](below)

with map_slot:
    # a new base map (a save changed the store) or another mode mounts a new map: put the
    # shape the planner is working on back into its draw layer
    mount = (mode, hashlib.sha1(base.script.encode("utf-8")).hexdigest())
    if mode in ("draw", "edit") and ss.get(f"_pl_{mode}_mount") not in (None, mount) and _shape(mode) is not None:
        _load(mode, _shape(mode), fit=True)  # and zoom to it: the new map opens on the whole city
    ss[f"_pl_{mode}_mount"] = mount
    load = ss.get(f"_pl_{mode}_load") if mode in ("draw", "edit") else None
    # zoom to a proposal read from a file, or to the version chosen in the history (not on clicks)
    # (and again when a new base map was mounted: it opens on the whole city)
    fit_key = (mount, len(ss.get("_pl_cases_file", [])) if mode == "generate"
               else (ss.get("pl_h_zone"), ss.get("pl_h_version")) if mode == "history" else None)
    fit = mode in ("generate", "history") and ss.get("_pl_fit") != fit_key
    ss["_pl_fit"] = fit_key
    script = overlay_script(
        overlay_shapes, crs=crs, draw=draw_bar,
        load=shapely.from_wkb(load[1]) if load and load[1] else None,
        load_token=load[0] if load else None, fit=bool(load[2]) if load else fit, clicks=mode == "generate", lang=lang,
        view=shapely.from_wkb(ss.pop("_pl_view")) if ss.get("_pl_view") else None,
    )
    if mode == "generate":
        show_planning_map(base, key=f"pl_map_{mode}", overlay=script, returned=["last_clicked"],
                          on_change=lambda v, s=ctx.settings: _on_click(v, s))
    else:
        show_planning_map(base, key=f"pl_map_{mode}", overlay=script, returned=["all_drawings"],
                          on_change=lambda v, m=mode, c=crs: _on_map(v, m, c))
    st.caption(t("pl_map_caption", lang))

st.subheader(t("zones_table", lang))
show_lifted = st.checkbox(t("pl_show_lifted", lang), key="pl_show_lifted")
table_src = zones_all if show_lifted else zones_all[pd.to_datetime(zones_all["lifted"]).isna() | (pd.to_datetime(zones_all["lifted"]) > as_of)]
table = pu.zones_table(table_src, today=today, lang=lang)
if table.empty:
    st.caption(t("empty_layer", lang))
else:
    st.dataframe(table, hide_index=True, width="stretch", key="pl_zones_table",
                 column_config={t("pl_col_id", lang): st.column_config.TextColumn(width="medium")})
st.caption(t("pl_quiet_note", lang).format(quiet=gz.QUIET_DAYS))
