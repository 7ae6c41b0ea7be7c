"""数据管理 Data: what the store holds, where it comes from, and importing/exporting layers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.audit import record
from dashboard.auth import require_role
from dashboard.i18n import t
from dashboard.mapview import build_map, show_map
from dashboard.safe_text import md_text
from dashboard.ui import page_frame, read_public_layer
from geo.errors import CoordinateError, ImportRejected, StaleWrite
from layers import MAP_LAYERS, REGISTRY
from layers.io import export_layer, format_issue, import_file

ctx = page_frame("page_data")
lang = ctx.lang
st.caption(t("data_intro", lang))

rows = [
    {
        t("layer", lang): spec.name(lang),
        "key": spec.key,
        t("rows", lang): ctx.store.count(spec.key),
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


def _run_import(key: str, upload, crs: str, skip_bad: bool, mode: str) -> dict:
    """Save the upload to a temporary file, import it, and keep what the page shows afterwards."""
    name = Path(upload.name).name or "upload"
    with tempfile.TemporaryDirectory(prefix="riskmap-upload-") as tmp:
        src = Path(tmp) / name
        src.write_bytes(upload.getvalue())
        rejects_path = Path(tmp) / f"{src.stem}.rejects.csv"
        result: dict = {"rejects_name": rejects_path.name, "rows": [], "notes": []}
        try:
            report = import_file(
                src, key, store=ctx.store, crs=None if crs == "auto" else crs, skip_bad=skip_bad,
                rejects_path=rejects_path, mode=mode, city_adcode=ctx.settings.city_adcode, limits=ctx.settings.import_limits,
                # recorded before the write: an import that cannot be audited does not happen
                audit=lambda n, bad: record(
                    ctx.user, "import", key,
                    f"{src.suffix.lower()}; mode={mode}; crs={crs}; skip_bad={skip_bad}; written={n}; issues={bad}",
                    role=ctx.role,
                ),
            )
        except ImportRejected as exc:
            result.update(kind="error", text=str(exc), rows=[tuple(r) for r in exc.rows], notes=list(getattr(exc, "__notes__", [])))
        except StaleWrite as exc:
            result.update(kind="error", text=f"数据库在导入期间被修改，请重新导入 / the store changed during the import; import again ({exc})")
        except (CoordinateError, ValueError) as exc:
            result.update(kind="error", text=str(exc))
        except OSError as exc:  # layers.store.StoreWriteFailed: disk full, read-only folder — the store is unchanged
            result.update(kind="error", text=str(exc))
        else:
            result.update(
                kind="ok",
                written=report.written,
                total=report.layer_rows,
                skipped=report.skipped,
                rows=[tuple(r) for r in report.rejects],
                notes=[format_issue(n) for n in report.notes],
            )
        result["rejects_csv"] = rejects_path.read_bytes() if rejects_path.exists() else None
    result["key"] = key
    return result


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
    import_key = st.selectbox(t("import_layer", lang), list(REGISTRY), format_func=lambda k: REGISTRY[k].name(lang))
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
    else:
        require_role(ctx, action="import")
        res = st.session_state["import_result"] = _run_import(import_key, upload, import_crs, skip_bad, import_mode)
        if res["kind"] != "ok":  # a written import was audited before its write (import_file's audit)
            record(ctx.user, "import", import_key,
                   f"{Path(upload.name).suffix.lower()}; mode={import_mode}; crs={import_crs}; skip_bad={skip_bad}; "
                   f"rejected; issues={len(res['rows'])}", role=ctx.role)
        st.rerun()  # so the row counts above include the import
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
            st.error(f"{t('export_failed', lang)}: {exc}")
        else:
            st.session_state["export_file"] = (file_name, (Path(tmp) / file_name).read_bytes(), _EXPORT_FORMATS[export_suffix][1])
            record(ctx.user, "export", export_key, f"{export_suffix}; crs={export_crs}", role=ctx.role)
if "export_file" in st.session_state:
    name, data, mime = st.session_state["export_file"]
    st.download_button(t("export_download", lang).format(name=name), data, file_name=name, mime=mime)
