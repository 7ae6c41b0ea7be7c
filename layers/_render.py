"""Rendering helpers shared by the layer modules. Everything that reaches HTML is escaped here.

Polygon layers are drawn by :func:`layers._encoded.geojson_group`, which builds on these."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["esc", "js_payload", "table_html", "fmt", "text", "truthy"]


def esc(value: object) -> str:
    """HTML-escape any value (quotes included). ``None``/NaN become an em dash.

    Braces are escaped too: folium's renderer (branca) parses every rendered script again as a
    Jinja template, so a name like ``{{ 7*7 }}`` would otherwise be evaluated on the server.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "—"
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


_TEMPLATE_OPENER = re.compile(r"\{(?=[{%#])")


def js_payload(data: object) -> str:
    """JSON for embedding in a folium script: no ``</`` (ends a script tag) and no Jinja openers.

    JSON's own structure never produces ``{{``, ``{%`` or ``{#`` (object keys are strings), so
    those sequences can only come from string contents, where ``\\u007b`` means the same ``{``.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _TEMPLATE_OPENER.sub(r"\\u007b", text).replace("</", "<\\/")


def fmt(value: object) -> str:
    """Human formatting of a cell value before escaping: dates as YYYY-MM-DD, booleans as ✓/✗."""
    if isinstance(value, pd.Timestamp):
        return "—" if pd.isna(value) else value.strftime("%Y-%m-%d")
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return "—"
    except (TypeError, ValueError):
        pass
    return str(value)


def table_html(title: str, rows: Iterable[tuple[str, object]], *, note: str | None = None) -> str:
    """A small popup table. Title, labels and values are all escaped."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v))}</td></tr>" for k, v in rows)
    extra = f"<div class='rm-note'>{esc(note)}</div>" if note else ""
    return f"<div class='rm-popup'><b>{esc(title)}</b><table>{body}</table>{extra}</div>"


def text(v: object) -> str:
    """A cell as plain text ('' for missing values); escape it before it reaches HTML."""
    return "" if _isna(v) else str(v)


def truthy(v: object) -> bool:
    """True only for a present, true value (NA/None/NaN are not true)."""
    return not _isna(v) and bool(v)


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


