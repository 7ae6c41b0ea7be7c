"""数据管理 Data: what the store holds and where it comes from."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.mapview import build_map, show_map
from dashboard.ui import page_frame, read_public_layer
from layers import MAP_LAYERS, REGISTRY

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
show_map(build_map(ctx.settings, lang, frames, render_options={"zones": {"as_of": ctx.scenario_today}}), key="data_map", height=480)

st.subheader(t("provenance", lang))
st.markdown(t("provenance_text", lang))
st.subheader(t("store_info", lang))
st.json({k: v for k, v in ctx.meta.items()}, expanded=False)
