"""Proof: an import killed midway (SIGKILL) leaves the store holding all of it or none of it, and the
store opens cleanly afterwards — on every backend.

The test runs the real ``riskmap import`` of a large CSV in a child process and kills it once it
is observed *inside the write* — no test hooks in the code:

* GeoPackage: the import writes a copy of the store beside it (``<store>.*.tmp.gpkg``) and
  renames it into place; the child is killed once that copy exists and has grown past the store
  (rows are being written into it). The store file is untouched. The half-written copy stays
  behind: it is never read (the store reads only its own file) and it does not block later
  writes; it may be deleted whenever no riskmap process is writing (README, "Importing").
* PostGIS: the import writes in one transaction; the child is killed once
  ``pg_stat_progress_copy`` shows its ``COPY`` has written rows. PostgreSQL rolls the
  transaction back when the connection drops.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
import shapely

from layers.store import is_url, open_store, write_new_store_at

ROOT = Path(__file__).resolve().parents[2]
ROWS = 30_000
APP = "riskmap-crash-test"


def _sites_csv(path: Path, n: int) -> Path:
    rng = random.Random(20220328)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "type", "hours", "经度", "纬度"])
        for i in range(n):
            w.writerow([f"K{i:06d}", f"检测点{i}", "fixed", "08:00-18:00", f"{112.4 + rng.random() * 0.3:.6f}", f"{37.7 + rng.random() * 0.2:.6f}"])
    return path


def _seed(location: str) -> None:
    sites = gpd.GeoDataFrame(
        {"id": ["S1", "S2"], "name": ["一号点", "二号点"], "type": ["fixed", "fixed"], "hours": ["08:00-18:00"] * 2},
        geometry=[shapely.Point(112.5, 37.8), shapely.Point(112.6, 37.9)],
        crs="EPSG:4326",
    )
    write_new_store_at(location, {"testing_sites": sites}, meta={"demo": "false"})


def _start_import(location: str, csv_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PGAPPNAME": APP, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "import", "testing_sites", str(csv_path), "--store", location, "--crs", "wgs84"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_inside_gpkg_write(proc: subprocess.Popen, store: Path, timeout: float) -> str:
    size = store.stat().st_size
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        for tmp in store.parent.glob(store.name + ".*.tmp.gpkg"):
            try:
                if tmp.stat().st_size > size:
                    return f"{tmp.name} at {tmp.stat().st_size} bytes (store {size})"
            except FileNotFoundError:
                pass
        time.sleep(0.001)
    return ""


def _wait_inside_pg_write(proc: subprocess.Popen, url: str, timeout: float) -> str:
    end = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as con:
        while time.monotonic() < end and proc.poll() is None:
            row = con.execute(
                "SELECT c.tuples_processed FROM pg_stat_progress_copy c JOIN pg_stat_activity a USING (pid)"
                " WHERE a.application_name = %s AND c.tuples_processed > 0",
                (APP,),
            ).fetchone()
            if row:
                return f"COPY had written {row[0]} rows"
            time.sleep(0.002)
    return ""


def _wait_backend_gone(url: str, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as con:
        while time.monotonic() < end:
            if con.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APP,)).fetchone() == (0,):
                return
            time.sleep(0.02)
    pytest.fail("the killed importer's server session did not end")


def test_an_import_killed_midway_leaves_all_or_nothing(store_location, tmp_path):
    _seed(store_location)
    csv_path = _sites_csv(tmp_path / "sites.csv", ROWS)
    store = open_store(store_location)
    before_version, before_rows = store.version(), store.count("testing_sites")
    before_bytes = None if is_url(store_location) else Path(store_location).read_bytes()

    proc = _start_import(store_location, csv_path)
    try:
        if is_url(store_location):
            inside = _wait_inside_pg_write(proc, store_location, timeout=120)
        else:
            inside = _wait_inside_gpkg_write(proc, Path(store_location), timeout=120)
        if inside:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    print(f"killed: {inside}")
    assert inside, f"the import was never seen inside its write (exit {proc.returncode}): {err[-2000:]}"
    assert proc.returncode == -signal.SIGKILL, f"killed while {inside}, but exit {proc.returncode}"
    if is_url(store_location):
        _wait_backend_gone(store_location)

    # the store opens cleanly and holds none of the import (it was killed before it committed)
    after = open_store(store_location)
    assert after.exists()
    assert after.version() == before_version
    assert after.count("testing_sites") == before_rows
    assert list(after.read("testing_sites")["id"]) == ["S1", "S2"]
    assert after.meta() == {"demo": "false"}
    if before_bytes is not None:
        assert Path(store_location).read_bytes() == before_bytes
        leftovers = sorted(p.name for p in Path(store_location).parent.glob("*.tmp.gpkg"))
        assert len(leftovers) == 1  # the interrupted copy: ignored, see the module docstring

    # and takes the next write (no lock or half-written state left behind)
    more = gpd.GeoDataFrame(
        {"id": ["S3"], "name": ["三号点"], "type": ["fixed"], "hours": ["08:00-18:00"]},
        geometry=[shapely.Point(112.55, 37.85)],
        crs="EPSG:4326",
    )
    assert after.write_layers({"testing_sites": more}, {}, expect_version=after.version()) == {"testing_sites": 3}
    assert list(open_store(store_location).read("testing_sites")["id"]) == ["S1", "S2", "S3"]
