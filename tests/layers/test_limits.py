"""Imports are bounded before they are read in full: an oversized zip, CSV or XLSX is refused with
the limit and the setting named, within bounded memory (measured here with tracemalloc).

Attacks that used to pass: a 1 MB zip whose .dbf inflates to 1,000 MiB (3.3 GB peak), a 119 MB
CSV of two million rows (2.9 GB peak)."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely

from geo.errors import ImportRejected
from layers.io import ImportLimits, import_file, read_file
from layers.store.gpkg import GpkgStore

MIB = 1024 * 1024


@pytest.fixture
def store(one_site_store: GpkgStore) -> GpkgStore:
    return one_site_store


def _peak(fn) -> tuple[BaseException | None, float]:
    tracemalloc.start()
    err = None
    try:
        fn()
    except ImportRejected as exc:
        err = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return err, peak / MIB


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path, store: GpkgStore) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.shp", b"\0" * 100)
        z.writestr("x.shx", b"\0" * 100)
        with z.open("x.dbf", "w") as fh:  # 300 MiB of zeros, well under 1 MB compressed
            block = b"\0" * MIB
            for _ in range(300):
                fh.write(block)
    assert bomb.stat().st_size < MIB
    before = store.path.read_bytes()
    err, peak = _peak(lambda: import_file(bomb, "testing_sites", store=store, limits=ImportLimits(unpacked_mb=100)))
    assert err is not None and "解压后过大（300 MB，上限 100 MB；可在设置 import_max_unpacked_mb 中调整）" in str(err)
    assert peak < 20, f"peak {peak:.1f} MiB"
    assert store.path.read_bytes() == before


def test_a_csv_with_too_many_rows_is_refused_without_parsing_it(tmp_path: Path, store: GpkgStore) -> None:
    p = tmp_path / "big.csv"
    with p.open("w", encoding="utf-8") as fh:
        fh.write("编号,名称,类型,开放时间,经度,纬度\n")
        for i in range(300_000):
            fh.write(f"A{i},采样点{i},fixed,24h,112.55,37.86\n")
    assert p.stat().st_size > 10 * MIB
    err, peak = _peak(lambda: import_file(p, "testing_sites", store=store, limits=ImportLimits(rows=100_000)))
    assert err is not None and "行数过多（100,000+，上限 100,000；可在设置 import_max_rows 中调整）" in str(err)
    assert peak < 20, f"peak {peak:.1f} MiB"


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    p = tmp_path / "huge.geojson"
    p.write_bytes(b" " * (3 * MIB))
    err, peak = _peak(lambda: read_file(p, limits=ImportLimits(file_mb=2)))
    assert err is not None and "文件过大（3.0 MB，上限 2 MB；可在设置 import_max_file_mb 中调整）" in str(err)
    assert peak < 5


def test_an_xlsx_with_too_many_rows_is_refused_while_streaming(tmp_path: Path) -> None:
    p = tmp_path / "big.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("sites")
    ws.append(["编号", "名称", "类型", "开放时间", "经度", "纬度"])
    for i in range(60_000):
        ws.append([f"A{i}", f"采样点{i}", "fixed", "24h", 112.55, 37.86])
    wb.save(p)
    err, peak = _peak(lambda: read_file(p, limits=ImportLimits(rows=10_000)))
    assert err is not None and "行数过多" in str(err) and "import_max_rows" in str(err)
    assert peak < 40, f"peak {peak:.1f} MiB"


def test_too_many_vertices_are_refused(tmp_path: Path) -> None:
    ring = shapely.Point(112.55, 37.86).buffer(0.01, 2000)  # about 8,000 vertices
    p = tmp_path / "z.geojson"
    gpd.GeoDataFrame({"id": ["Z1"], "tier": ["sealed"], "name": ["z"], "start": ["2022-03-20"]}, geometry=[ring], crs=4326).to_file(p)
    with pytest.raises(ImportRejected, match="坐标点过多.*import_max_vertices"):
        read_file(p, limits=ImportLimits(vertices=5_000))


def test_limits_are_settings(tmp_path: Path) -> None:
    from dashboard.settings import load_settings
    from geo.errors import SettingsError

    s = load_settings(environ={"RISKMAP_IMPORT_MAX_ROWS": "1000"})
    assert s.import_limits == ImportLimits(rows=1000)
    with pytest.raises(SettingsError, match="import_max_file_mb"):
        load_settings(environ={"RISKMAP_IMPORT_MAX_FILE_MB": "0"})
