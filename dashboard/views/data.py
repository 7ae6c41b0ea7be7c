"""数据管理 Data: what the store holds, where it comes from, and importing/exporting layers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import require_role
from dashboard.i18n import t
from dashboard.jobs import STAGES, start_import
from dashboard.mapview import build_map, show_map
from dashboard.safe_text import in_lang, md_text
from dashboard.ui import page_frame, read_public_layer
from geo.errors import CoordinateError
from layers import MAP_LAYERS, REGISTRY
from layers.io import export_layer

ctx = page_frame("page_data")
lang = ctx.lang
st.caption(t("data_intro", lang))

rows = [
    {
        t("layer", lang): spec.name(lang),
        "key": spec.key,
        t("rows", lang): len(spec.reader(ctx.store)) if spec.reader is not None else ctx.store.count(spec.key),
        t("personal", lang): t("yes", lang) if spec.personal_columns else t("no", lang),
    }
    for spec in REGISTRY.values()
]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader(t("data_preview", lang))
frames = {key: read_public_layer(ctx, key, as_of=ctx.scenario_today) for key in MAP_LAYERS}
show_map(build_map(ctx.settings, lang, frames, render_options={"zones": {"as_of": ctx.scenario_today}, "testing_sites": {"when": ctx.clock(ctx.scenario_today)}}), key="data_map", height=480)

st.subheader(t("provenance", lang))
st.markdown(t("provenance_text", lang))
st.subheader(t("store_info", lang))
st.json({k: v for k, v in ctx.meta.items()}, expanded=False)

# ---------------------------------------------------------------- import and export

_UPLOAD_TYPES = ["geojson", "json", "gpkg", "zip", "kml", "csv", "xlsx"]
_IMPORT_CRS = {"auto": "crs_auto", "wgs84": "crs_wgs84", "gcj02": "crs_gcj02", "bd09": "crs_bd09", "EPSG:4490": "crs_cgcs2000"}
_EXPORT_FORMATS = {  # suffix → (label, MIME type)
    ".geojson": ("GeoJSON", "application/geo+json"),
    ".gpkg": ("GeoPackage", "application/geopackage+sqlite3"),
    ".zip": ("Shapefile (.zip)", "application/zip"),
    ".kml": ("KML", "application/vnd.google-earth.kml+xml"),
    ".csv": ("CSV", "text/csv"),
    ".xlsx": ("Excel (.xlsx)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _show_import_result(result: dict) -> None:
    spec = REGISTRY[result["key"]]
    if result["kind"] == "ok":
        st.success(t("import_ok", lang).format(written=result["written"], layer=spec.name(lang), total=result["total"]))
        if result["rows"]:
            st.warning(t("import_skipped", lang).format(rows=result["skipped"], issues=len(result["rows"])))
    else:
        st.error(md_text(result["text"]))
    if result["rows"]:
        table = pd.DataFrame(
            {
                t("col_row", lang): ["—" if r[0] is None else str(r[0]) for r in result["rows"]],
                t("col_column", lang): [r[1] or "" for r in result["rows"]],
                t("col_reason", lang): [r[2] if lang == "zh" else r[3] for r in result["rows"]],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")
    if result["rejects_csv"]:
        st.download_button(t("rejects_download", lang), result["rejects_csv"], file_name=result["rejects_name"], mime="text/csv")
    if result["notes"]:
        with st.expander(t("import_notes", lang)):
            st.markdown("\n".join(f"- {md_text(n)}" for n in result["notes"]))


st.subheader(t("import_title", lang))
st.caption(t("import_intro", lang))
with st.form("import_form"):
    import_key = st.selectbox(
        t("import_layer", lang), [k for k, spec in REGISTRY.items() if spec.importable], format_func=lambda k: REGISTRY[k].name(lang)
    )
    upload = st.file_uploader(t("import_file", lang), type=_UPLOAD_TYPES)
    import_crs = st.selectbox(t("crs", lang), list(_IMPORT_CRS), format_func=lambda c: t(_IMPORT_CRS[c], lang))
    skip_bad = st.checkbox(t("import_skip_bad", lang))
    import_mode = st.radio(
        t("import_mode", lang), ["append", "replace"], format_func=lambda m: t(f"mode_{m}", lang), horizontal=True
    )
    submitted = st.form_submit_button(t("import_submit", lang))
if submitted:
    if upload is None:
        st.warning(t("import_no_file", lang))
    elif st.session_state.get("import_job") is not None:
        st.warning(t("import_busy", lang))
    else:
        require_role(ctx, action="import")
        # read, checked and written in a worker process: the server stays free for every other page
        st.session_state["import_job"] = start_import(
            upload.getvalue(), upload.name, import_key, store=ctx.store.location, user=ctx.user, role=ctx.role,
            crs=import_crs, skip_bad=skip_bad, mode=import_mode, city_adcode=ctx.settings.city_adcode,
            limits=ctx.settings.import_limits,
        )
        st.session_state.pop("import_result", None)


@st.fragment(run_every=1.0)
def _import_progress() -> None:
    job = st.session_state.get("import_job")
    if job is None:
        return
    if job.done():
        st.session_state["import_result"] = job.result()
        del st.session_state["import_job"]
        st.rerun()  # the whole page, so the row counts above include the import
    stage = job.stage
    order = list(STAGES)
    share = (order.index(stage) + 1) / len(order) if stage in order else 0.05
    label = STAGES.get(stage, STAGES["queued"])[0 if lang == "zh" else 1]
    st.progress(share, text=md_text(f"{job.name}: {label} …"))
    st.caption(t("import_background", lang))


if st.session_state.get("import_job") is not None:
    _import_progress()
if "import_result" in st.session_state:
    _show_import_result(st.session_state["import_result"])

st.subheader(t("export_title", lang))
st.caption(t("export_personal_note", lang))
with st.form("export_form"):
    export_key = st.selectbox(
        t("export_layer", lang), [k for k, s in REGISTRY.items() if s.public], format_func=lambda k: REGISTRY[k].name(lang)
    )
    export_suffix = st.selectbox(t("export_format", lang), list(_EXPORT_FORMATS), format_func=lambda s: _EXPORT_FORMATS[s][0])
    export_crs = st.selectbox(t("crs", lang), [c for c in _IMPORT_CRS if c != "auto"], format_func=lambda c: t(_IMPORT_CRS[c], lang))
    prepare = st.form_submit_button(t("export_submit", lang))
if prepare:
    require_role(ctx, action="export")
    file_name = f"{export_key}_{export_crs.replace(':', '').lower()}{export_suffix}"
    with tempfile.TemporaryDirectory(prefix="riskmap-export-") as tmp:
        try:
            export_layer(ctx.store, export_key, Path(tmp) / file_name, crs=export_crs)
        except (CoordinateError, ValueError) as exc:
            st.session_state.pop("export_file", None)
            st.error(f"{t('export_failed', lang)}: {md_text(in_lang(exc, lang))}")
        else:
            st.session_state["export_file"] = (file_name, (Path(tmp) / file_name).read_bytes(), _EXPORT_FORMATS[export_suffix][1])
            record(ctx.user, "export", export_key, f"{export_suffix}; crs={export_crs}", role=ctx.role)
if "export_file" in st.session_state:
    name, data, mime = st.session_state["export_file"]
    st.download_button(t("export_download", lang).format(name=name), data, file_name=name, mime=mime)
