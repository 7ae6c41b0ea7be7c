"""Spreadsheet formula injection: every CSV and XLSX riskmap writes neutralises text that would run.

One payload per formula start (OWASP "CSV injection"): each export function is run on data that
carries it, and the written cell must start with the apostrophe; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from layers._cells import neutralise, neutralise_frame

PAYLOADS = ["=1+1", "@SUM(1)", "+1", "-1", "\tx", "\rx", '=HYPERLINK("http://example.invalid","click")']


def _csv_cells(data: bytes | str) -> list[str]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


def _xlsx_cells(data: bytes | Path) -> list[object]:
    wb = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _unsafe(cells: list[object], payload: str) -> list[object]:
    """Cells that hold the payload without the neutralising apostrophe (whitespace as written)."""
    return [c for c in cells if isinstance(c, str) and c.startswith(payload[:1]) and payload.strip() in c and not c.startswith("'")]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_neutralise(payload: str) -> None:
    assert neutralise(payload) == "'" + payload
    assert neutralise(1.5) == 1.5 and neutralise(-3) == -3 and neutralise(None) is None and neutralise("通达街") == "通达街"
    frame = neutralise_frame(pd.DataFrame({"a": [payload, "ok"], "n": [-1, 2]}))
    assert frame["a"].tolist() == ["'" + payload, "ok"] and frame["n"].tolist() == [-1, 2]


def _sites(payload: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["S1"], "name": [payload], "type": ["fixed"], "hours": ["08:00-20:00"], "district_adcode": ["140105"],
         "capacity_per_hour": [100], "free": [True]},
        geometry=[shapely.Point(112.55, 37.85)], crs="EPSG:4326",
    )


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_layer_exports(tmp_path: Path, payload: str, suffix: str) -> None:
    from layers.io import export_frame

    path = tmp_path / f"sites{suffix}"
    export_frame(_sites(payload), "testing_sites", path)
    cells = _csv_cells(path.read_bytes()) if suffix == ".csv" else _xlsx_cells(path)
    assert "'" + payload in cells or "'" + payload.replace("\r", "\n") in cells
    assert _unsafe(cells, payload) == []
    if suffix == ".xlsx":
        assert 100 in cells  # numbers stay numbers


@pytest.mark.parametrize("payload", PAYLOADS)
def test_import_rejects_file(tmp_path: Path, payload: str) -> None:
    from geo.errors import ImportRejected
    from layers.io import import_file
    from layers.store.gpkg import GpkgStore, write_new_store

    store_path = tmp_path / "s.gpkg"
    write_new_store(store_path, {"testing_sites": _sites("已有")})
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["编号", "名称", "类型", "开放时间", "经度", "纬度"], ["A1", payload, "怪类型", "24h", 112.55, 37.86]])
    with pytest.raises(ImportRejected):
        import_file(src, "testing_sites", store=GpkgStore(store_path), skip_bad=False)
    report_path = tmp_path / "in.rejects.csv"
    from layers.io import read_file, validate, write_rejects

    checked = validate(read_file(src), "testing_sites", store=GpkgStore(store_path))
    write_rejects(checked, report_path)
    assert _unsafe(_csv_cells(report_path.read_bytes()), payload) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_audit_exports(payload: str) -> None:
    from dashboard.audit import audit_csv_bytes, audit_xlsx_bytes

    frame = pd.DataFrame({"时间": ["2022-03-28 08:00:00"], "用户": [payload], "操作": ["login_failed"], "n": [5]})
    for cells in (_csv_cells(audit_csv_bytes(frame)), _xlsx_cells(audit_xlsx_bytes(frame))):
        assert _unsafe(cells, payload) == []
        assert any(isinstance(c, str) and c.startswith("'") for c in cells)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_screening_exports(tmp_path: Path, payload: str, suffix: str) -> None:
    from geo.screening import screen
    from layers.boundaries import gazetteer
    from layers.rules import load_rule_sets
    from layers.screening_io import write_screening

    travellers = pd.DataFrame({"id": ["T1"], "name": [payload], "address": [payload], "arrival_date": pd.to_datetime(["2022-03-26"]),
                               "neighbourhood_id": ["N1"]})
    visits = pd.DataFrame({"traveller_id": ["T1"], "place": [payload], "adcode": [None],
                           "from_date": pd.to_datetime(["2022-03-20"]), "to_date": pd.to_datetime(["2022-03-22"])})
    risk = pd.DataFrame({"id": [], "level": [], "since": pd.to_datetime([])})
    nb = gpd.GeoDataFrame({"id": ["N1"], "name": [payload], "district": [payload], "street": ["s"], "population": [10]},
                          geometry=[shapely.box(112.5, 37.8, 112.6, 37.9)], crs="EPSG:4326")
    result = screen(travellers, visits, risk, gazetteer(), load_rule_sets(), as_of="2022-03-28", neighbourhoods=nb)
    written = write_screening(result, tmp_path / f"s{suffix}", role="command")
    for p in written:
        cells = _csv_cells(p.read_bytes()) if suffix == ".csv" else _xlsx_cells(p)
        assert _unsafe(cells, payload) == [], p.name
