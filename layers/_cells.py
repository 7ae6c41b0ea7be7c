"""One rule for every spreadsheet cell riskmap writes (CSV and XLSX): text that a spreadsheet would
run as a formula is neutralised.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with
a leading apostrophe, which Excel and WPS show as a text prefix and never evaluate (OWASP "CSV
injection"). Numbers, dates and booleans are written as they are: only text from data is touched.
Every writer — layer exports, screening lists, daily reports, import rejects, the audit log — calls
:func:`neutralise`; ``tests/layers/test_cells.py`` runs each one against the same payloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = ["FORMULA_START", "neutralise", "neutralise_row", "neutralise_frame", "restore", "xlsx_bytes"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``"=1+1"`` → ``"'=1+1"``; anything that is not text starting a formula is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    return [neutralise(v) for v in values]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell neutralised; numeric and date columns are left as they are."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def restore(text: str) -> str:
    """The importer's inverse of :func:`neutralise`: ``"'=1+1"`` → ``"=1+1"``, so a file riskmap
    exported imports back to the same text (which every export neutralises again)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """A workbook of one sheet per frame (sheet name → frame, names cut to Excel's 31 characters):
    bold header row frozen, every text cell neutralised (never a formula), empty cells for missing
    values, dates as dates."""
    import io

    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        ws.append(neutralise_row(str(c) for c in frame.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            ws.append([None if v is None or (not isinstance(v, str) and pd.isna(v)) else neutralise(v) for v in row])
        ws.freeze_panes = "A2"
        for i, c in enumerate(frame.columns, start=1):
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(10, min(40, len(str(c)) + 4))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
