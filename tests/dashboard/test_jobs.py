"""Imports from the Data page run in a worker process (the server's interpreter stays free) and
report their stage; the result is the same as an import from the command line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import geopandas as gpd
import shapely

from dashboard.jobs import start_import
from layers.io import ImportLimits
from layers.store.gpkg import GpkgStore, write_new_store


def _wait(job, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    stages = []
    while not job.done() and time.monotonic() < deadline:
        stages.append(job.stage)
        time.sleep(0.05)
    assert job.done(), "the import job did not finish"
    return job.result(), stages


def test_an_import_runs_in_another_process_and_is_audited(tmp_path: Path) -> None:
    from dashboard.accounts import Accounts, accounts_location

    store = tmp_path / "s.gpkg"
    write_new_store(store, {"testing_sites": gpd.GeoDataFrame(
        {"id": ["S0"], "name": ["原有"], "type": ["fixed"], "hours": ["24h"]},
        geometry=[shapely.Point(112.55, 37.85)], crs="EPSG:4326")})
    rows = "".join(f"B{i},新点{i},固定采样点,24h,{112.5 + i / 1e4},37.87\n" for i in range(2000))
    data = ("编号,名称,类型,开放时间,经度,纬度\n" + rows).encode("utf-8")
    job = start_import(data, "new.csv", "testing_sites", store=str(store), user="cmd", role="command", crs="auto",
                       skip_bad=False, mode="append", city_adcode="140100", limits=ImportLimits())
    result, stages = _wait(job)
    assert result["kind"] == "ok" and result["written"] == 2000 and result["total"] == 2001
    assert result["pid"] != os.getpid()  # not in the server's process
    assert set(stages) <= {"queued", "read", "validate", "write", "done"}
    assert len(GpkgStore(store).read("testing_sites")) == 2001
    trail = Accounts(accounts_location(str(store))).audit_log(actions=["import"])
    assert trail.iloc[0]["detail"].endswith("written=2000; issues=0")
    assert not job.folder.exists()  # the upload's working copy is gone


def test_a_rejected_import_comes_back_with_its_rows(tmp_path: Path) -> None:
    store = tmp_path / "s.gpkg"
    write_new_store(store, {})
    data = "编号,名称,类型,开放时间,经度,纬度\nB1,新点,怪类型,24h,112.5,37.87\n".encode()
    job = start_import(data, "bad.csv", "testing_sites", store=str(store), user="cmd", role="command", crs="auto",
                       skip_bad=False, mode="append", city_adcode="140100", limits=ImportLimits())
    result, _ = _wait(job)
    assert result["kind"] == "error" and [tuple(r[:2]) for r in result["rows"]] == [(2, "类型 type")]
