"""时空伴随 (geo/companions.py): the rule's edges against the slow pandas reference — exactly 10
minutes, cell edges, intervals that only touch, the 30-hour stay summed across days, GCJ-02 input
— the engines giving the same rows, and bad records counted by kind with their row numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo.companions import (
    CompanionRule,
    cells_of,
    check_cases,
    clean_records,
    companions_duckdb,
    companions_reference,
    load_companion_rule,
)
from geo.errors import ImportRejected

UTM = "EPSG:32649"
_INV = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
X0, Y0 = 800.0 * 800, 800.0 * 5200  # the south-west corner of a cell near Taiyuan (x ≈ 640 km, y ≈ 4160 km)
AS_OF = "2022-03-28"
RULE = CompanionRule(cell_m=800, min_overlap_minutes=10, cumulative_hours=30, window_days=14)


def _pt(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = _INV.transform(X0 + dx, Y0 + dy)
    return float(lon), float(lat)


def _rec(device, dx, dy, start, end):
    lon, lat = _pt(dx, dy)
    return {"device": device, "lon": lon, "lat": lat, "start": pd.Timestamp(start), "end": pd.Timestamp(end)}


def _home(device, dx, dy, days, hours=12):
    """``days`` nights at home: 20:00 to 08:00 (12 h) from 2022-03-20."""
    return [_rec(device, dx, dy, f"2022-03-{20 + d} 20:00", f"2022-03-{21 + d} 08:00") for d in range(days)]


CASES = pd.DataFrame({"device": ["case"], "infectious_from": ["2022-03-18"], "infectious_to": ["2022-03-28"]})


def _both(records, rule=RULE, cases=CASES):
    r = pd.DataFrame(records)
    ref = companions_reference(r, cases, rule, as_of=AS_OF, crs=UTM)
    duck = companions_duckdb(r, cases, rule, as_of=AS_OF, crs=UTM)
    pd.testing.assert_frame_equal(ref.reset_index(drop=True), duck.reset_index(drop=True), check_dtype=False)
    return ref


def test_the_rule_file_is_chengdus_with_its_source():
    rule = load_companion_rule()
    assert (rule.cell_m, rule.min_overlap_minutes, rule.cumulative_hours, rule.window_days) == (800, 10, 30, 14)
    assert "800米*800米" in rule.quote and "累计停留超过30小时" in rule.quote


@pytest.mark.parametrize(("minutes", "companion"), [(10, False), (10.02, True), (9, False), (30, True)])
def test_together_more_than_ten_minutes(minutes, companion):
    recs = _home("case", 100, 100, 3)  # 36 h at home: the cumulative condition holds for this cell
    start = pd.Timestamp("2022-03-22 07:00")
    recs.append(_rec("visitor", 500, 500, start, start + pd.Timedelta(minutes=minutes)))
    got = _both(recs)
    assert (list(got["device"]) == ["visitor"]) is companion
    if companion:
        assert got.loc[0, "first_together"] == start
        assert got.loc[0, "overlap_minutes"] == pytest.approx(minutes, abs=1e-3)


def test_cell_edges_a_metre_apart_are_different_cells():
    lon, lat = zip(*[_pt(799.0, 100), _pt(801.0, 100), _pt(100, 799.0), _pt(100, 801.0), _pt(1.0, 1.0)], strict=True)
    cells, _ = cells_of(np.array(lon), np.array(lat), 800, crs=UTM)
    assert cells[0] != cells[1] and cells[2] != cells[3]
    assert cells[0] == cells[2] == cells[4]
    # the same visit, a metre over the edge, is not together with the case
    recs = [*_home("case", 790, 100, 3), _rec("next_door", 810, 100, "2022-03-22 06:00", "2022-03-22 07:00")]
    assert _both(recs).empty


def test_intervals_that_only_touch_do_not_overlap():
    recs = [*_home("case", 100, 100, 3), _rec("after", 200, 200, "2022-03-21 08:00", "2022-03-21 09:00")]
    assert _both(recs).empty


def test_the_thirty_hours_are_summed_across_days_and_either_party_counts():
    visit = _rec("visitor", 300, 300, "2022-03-21 07:00", "2022-03-21 07:30")
    assert list(_both([*_home("case", 100, 100, 3), visit])["device"]) == ["visitor"]  # 36 h over three nights
    assert _both([*_home("case", 100, 100, 2), visit]).empty  # 24 h: a place neither lives in
    # the visitor lives there instead (31 h over several days), the case only passes by for 20 minutes
    recs = [*_home("visitor", 100, 100, 2), _rec("visitor", 100, 100, "2022-03-23 01:00", "2022-03-23 08:00"),
            _rec("case", 300, 300, "2022-03-21 07:30", "2022-03-21 07:50")]
    got = _both(recs)
    assert list(got["device"]) == ["visitor"] and got.loc[0, "device_hours"] == pytest.approx(31.0)
    # with the cumulative condition off, 20 minutes together is enough
    assert list(_both([*_home("case", 100, 100, 1), visit], rule=CompanionRule(cumulative_hours=0))["device"]) == ["visitor"]


def test_only_within_the_cases_infectious_window():
    cases = pd.DataFrame({"device": ["case"], "infectious_from": ["2022-03-22"], "infectious_to": ["2022-03-28"]})
    recs = [*_home("case", 100, 100, 5), _rec("early", 300, 300, "2022-03-21 07:00", "2022-03-21 07:30"),
            _rec("late", 300, 300, "2022-03-23 07:00", "2022-03-23 07:30")]
    assert list(_both(recs, cases=cases)["device"]) == ["late"]


def test_gcj02_input_gives_the_same_companions():
    from geo.crs import convert_xy

    recs = pd.DataFrame([*_home("case", 100, 100, 3), _rec("visitor", 300, 300, "2022-03-21 07:00", "2022-03-21 07:30")])
    gx, gy = convert_xy(recs["lon"].to_numpy(), recs["lat"].to_numpy(), src="wgs84", dst="gcj02")
    as_gcj = recs.assign(lon=gx, lat=gy)
    clean, issues = clean_records(as_gcj, crs="gcj02")
    assert issues.total == 0
    assert np.allclose(clean["lon"], recs["lon"], atol=1e-6) and np.allclose(clean["lat"], recs["lat"], atol=1e-6)
    assert list(companions_duckdb(clean, CASES, RULE, as_of=AS_OF, crs=UTM)["device"]) == ["visitor"]
    # read as WGS-84 by mistake, the points move by hundreds of metres: the answer may differ, so the CRS is a parameter


def test_no_companions_has_the_same_columns_and_types_as_some():
    """A detection that finds nobody returns no rows typed as one that finds some (the CLI formats
    ``first_together`` as a date and writes a CSV with only its header)."""
    found = _both(_home("case", 10, 10, 3) + _home("p", 10, 10, 3))
    assert len(found) == 1
    for nobody in (_both(_home("case", 10, 10, 3)), _both(_home("case", 10, 10, 3) + [_rec("p", 900, 10, "2022-03-21 07:00", "2022-03-21 08:00")])):
        assert nobody.empty
        assert list(nobody.columns) == list(found.columns)
        assert dict(nobody.dtypes) == dict(found.dtypes)


def test_bad_records_are_counted_by_kind_with_spreadsheet_row_numbers():
    """Row numbers are spreadsheet rows, as every importer gives them: the header is row 1."""
    good = _rec("a", 1, 1, "2022-03-21 07:00", "2022-03-21 08:00")
    rows = pd.DataFrame([
        good,                                                     # row 2
        {**good, "start": None},                                  # 3: missing time
        {**good, "end": pd.Timestamp("2022-03-21 06:00")},        # 4: end before start
        {**good, "lon": 2.35, "lat": 48.85},                      # 5: outside China
        {**good, "device": ""},                                   # 6: no device
        good,                                                     # 7: duplicate of row 2
        {**good, "start": "yesterday"},                           # 8: time not understood
        {**good, "lon": None},                                    # 9: no coordinate (not "outside China")
        {**good, "lat": "north"},                                 # 10: a coordinate that is not a number
    ])
    clean, issues = clean_records(rows)
    assert len(clean) == 1
    assert issues.counts == {"missing_device": 1, "missing_time": 2, "end_before_start": 1, "missing_coordinates": 2,
                             "outside_china": 1, "duplicate": 1}
    assert issues.rows == {"missing_device": [6], "missing_time": [3, 8], "end_before_start": [4],
                           "missing_coordinates": [9, 10], "outside_china": [5], "duplicate": [7]}


def test_times_with_a_zone_are_read_as_shanghai_local_time_and_numbers_are_not_guessed():
    """The product's times are Asia/Shanghai local. An aware time (a Parquet UTC column, text with
    an offset, several offsets in one file) is converted; a naive one is local already; a number
    (an epoch in an unknown unit) is a time not understood, never read as 1970."""
    local = pd.DataFrame(_home("case", 10, 10, 3) + _home("p", 10, 10, 3))
    expected = _both(local)
    assert len(expected) == 1
    utc = local.assign(start=local["start"].dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC"),
                       end=local["end"].dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC"))
    clean, issues = clean_records(utc)
    assert issues.total == 0 and clean["start"].dt.tz is None
    pd.testing.assert_series_equal(clean["start"], clean_records(local)[0]["start"], check_dtype=False)
    pd.testing.assert_frame_equal(_both(utc), expected)
    text = utc.assign(start=[t.isoformat() if i % 2 else t.tz_convert("Asia/Shanghai").isoformat()
                             for i, t in enumerate(utc["start"])],  # "+00:00" and "+08:00" in one column
                      end=[t.tz_convert("Asia/Shanghai").strftime("%Y-%m-%dT%H:%M:%S+0800") for t in utc["end"]])
    pd.testing.assert_series_equal(clean_records(text)[0]["start"], clean_records(local)[0]["start"], check_dtype=False)
    pd.testing.assert_frame_equal(_both(text), expected)
    epoch = local.assign(start=local["start"].astype("int64") // 10**9, end=local["end"].astype("int64") // 10**9)
    clean, issues = clean_records(epoch)
    assert clean.empty and issues.counts["missing_time"] == len(epoch)


def test_row_numbers_follow_the_frames_index_so_skipped_blank_lines_keep_them_true():
    good = _rec("a", 1, 1, "2022-03-21 07:00", "2022-03-21 08:00")
    rows = pd.DataFrame([good, {**good, "start": None}], index=[0, 3])  # data rows 1 and 4 (2 and 3 were blank)
    assert clean_records(rows)[1].rows == {"missing_time": [5]}


def test_a_bad_cases_file_is_refused_with_every_row_named():
    """A case left out is every companion of it missed, so a bad case row refuses the whole file
    (spreadsheet rows: the header is row 1), in every engine; nothing is guessed."""
    cases = pd.DataFrame({
        "device": ["c1", "c2", "c3", " ", "c1", "c6"],
        "infectious_from": ["2022-03-18", "yesterday", None, "2022-03-18", "2022-03-19", "2022-03-20"],
        "infectious_to": [None, None, "2022-03-20", None, None, "2022-03-19"],
    })
    with pytest.raises(ImportRejected) as err:
        check_cases(cases)
    named = sorted((r[0], r[1]) for r in err.value.rows)
    assert named == [(3, "infectious_from"), (4, "infectious_from"), (5, "device"), (6, "device"), (7, "infectious_to")]
    assert all(r[2] and r[3] for r in err.value.rows)  # Chinese and English
    assert "also row 2" in next(r[3] for r in err.value.rows if r[0] == 6)
    records = pd.DataFrame(_home("c1", 10, 10, 3) + _home("p", 10, 10, 3))
    for engine in (companions_reference, companions_duckdb):
        with pytest.raises(ImportRejected):
            engine(records, cases, RULE, as_of=AS_OF, crs=UTM)


def test_case_devices_are_read_as_records_are_spaces_stripped_and_an_open_end_is_still_infectious():
    cases = pd.DataFrame({"device": [" case "], "infectious_from": ["2022-03-18"], "infectious_to": [None]})
    checked = check_cases(cases)
    assert checked["device"].tolist() == ["case"] and pd.isna(checked["infectious_to"].iloc[0])
    found = _both(_home("case", 10, 10, 3) + _home("p", 10, 10, 3), cases=cases)
    assert found["case_device"].tolist() == ["case"]


def test_the_engines_agree_on_a_random_city():
    rng = np.random.default_rng(9)
    n_dev, n = 300, 6000
    dev = rng.integers(0, n_dev, n)
    home = rng.uniform(0, 8000, (n_dev, 2))
    away = rng.uniform(0, 8000, (n, 2))
    at_home = rng.uniform(size=n) < 0.6
    xy = np.where(at_home[:, None], home[dev] + rng.normal(0, 50, (n, 2)), away)
    start = pd.Timestamp("2022-03-15") + pd.to_timedelta(rng.uniform(0, 13 * 24 * 60, n), unit="min")
    dur = np.where(at_home, rng.uniform(6 * 60, 14 * 60, n), rng.uniform(5, 120, n))
    lon, lat = _INV.transform(X0 + xy[:, 0], Y0 + xy[:, 1])
    recs = pd.DataFrame({"device": [f"d{d:03d}" for d in dev], "lon": lon, "lat": lat, "start": start,
                         "end": start + pd.to_timedelta(dur, unit="min")})
    cases = pd.DataFrame({"device": ["d001", "d002", "d003"], "infectious_from": ["2022-03-16"] * 3, "infectious_to": [None] * 3})
    got = _both(recs.to_dict("records"), cases=cases)
    assert len(got) > 0  # the case is not vacuous


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real dask.distributed cluster on loopback, started as the README says for a real one:
    ``dask scheduler`` and ``dask worker`` (two worker processes) as separate programs, stopped
    afterwards. Returns the scheduler file."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    d = tmp_path_factory.mktemp("dask")
    sched_file = d / "scheduler.json"
    dask_cli = str(Path(sys.executable).with_name("dask"))
    common = ["timeout", "--signal=KILL", "600"]
    procs = [subprocess.Popen([*common, dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    deadline = time.monotonic() + 60
    while not sched_file.exists():
        if time.monotonic() > deadline:
            pytest.fail("dask scheduler did not start")
        time.sleep(0.2)
    procs.append(subprocess.Popen([*common, dask_cli, "worker", "--scheduler-file", str(sched_file), "--nworkers", "2",
                                   "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                                  cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield str(sched_file)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_the_dask_engine_on_a_two_worker_cluster_gives_the_same_rows(dask_cluster, tmp_path):
    import dask.dataframe as dd
    from dask.distributed import Client

    from geo.companions import companions_dask, dask_records

    rng = np.random.default_rng(11)
    n_dev, n = 200, 4000
    dev = rng.integers(0, n_dev, n)
    home = rng.uniform(0, 6000, (n_dev, 2))
    at_home = rng.uniform(size=n) < 0.6
    xy = np.where(at_home[:, None], home[dev], rng.uniform(0, 6000, (n, 2)))
    start = pd.Timestamp("2022-03-15") + pd.to_timedelta(rng.uniform(0, 13 * 24 * 60, n), unit="min")
    dur = np.where(at_home, rng.uniform(6 * 60, 14 * 60, n), rng.uniform(5, 120, n))
    lon, lat = _INV.transform(X0 + xy[:, 0], Y0 + xy[:, 1])
    recs = pd.DataFrame({"device": [f"d{d:03d}" for d in dev], "lon": lon, "lat": lat, "start": start,
                         "end": start + pd.to_timedelta(dur, unit="min")})
    cases = pd.DataFrame({"device": ["d001", "d002"], "infectious_from": ["2022-03-16"] * 2, "infectious_to": [None] * 2})
    local = companions_duckdb(recs, cases, RULE, as_of=AS_OF, crs=UTM)
    recs.to_parquet(tmp_path / "r.parquet", index=False, row_group_size=1000)  # four row groups: four partitions
    with Client(scheduler_file=dask_cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        assert len(client.scheduler_info()["workers"]) == 2
        from_pandas = companions_dask(dd.from_pandas(recs, npartitions=4), cases, RULE, as_of=AS_OF, crs=UTM, client=client)
        from_files = companions_dask(dask_records(tmp_path / "r.parquet"), cases, RULE, as_of=AS_OF, crs=UTM, client=client)
    assert len(local) > 0
    for got in (from_pandas, from_files):
        pd.testing.assert_frame_equal(local.reset_index(drop=True), got.reset_index(drop=True), check_dtype=False)


def test_cell_centres_invert_the_grid_and_the_summary_suppresses_small_counts():
    import geopandas as gpd
    import shapely

    from geo.companions import cell_centres, companion_summary

    lon, lat = _pt(100, 100)
    cells, _ = cells_of(np.array([lon]), np.array([lat]), 800, crs=UTM)
    clon, clat = cell_centres(cells, 800, UTM)
    assert (float(clon[0]), float(clat[0])) == pytest.approx(_pt(400, 400), abs=1e-7)
    other, _ = cells_of(np.array([_pt(2500, 100)[0]]), np.array([_pt(2500, 100)[1]]), 800, crs=UTM)
    found = pd.DataFrame({"device": ["a", "b", "c", "d", "e"], "case_device": ["k"] * 5,
                          "cell": [cells[0]] * 3 + [other[0]] * 2})
    nb = gpd.GeoDataFrame({"id": ["N1"], "name": ["甲社区"]}, geometry=[shapely.box(*_pt(0, 0), *_pt(800, 800))], crs=4326)
    s = companion_summary(found, nb, cell_m=800, crs=UTM, as_of=AS_OF)
    assert (s["devices"], s["pairs"], s["cases"]) == (5, 5, 1)
    assert s["neighbourhoods"] == [{"id": "N1", "name": "甲社区", "companions": 3}]
    assert len(s["cells"]) == 1 and s["cells"][0]["companions"] == 3 and s["cells"][0]["neighbourhood"] == "甲社区"
    assert s["suppressed_cells"] == 1  # the cell of two is not shown
    assert set(s["cells"][0]) == {"lon", "lat", "companions", "neighbourhood"}  # aggregates only: no device
