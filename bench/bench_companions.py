"""时空伴随: 10,000,000 demo location records (data/locations.py) with 100 cases.

* ``companions_10M_duckdb``: read the Parquet file and find the companions with DuckDB
  (:func:`geo.companions.companions_duckdb`), in a child process whose peak memory (max RSS) is
  reported: the targets are under 60 s and under 4 GB. The baseline is the slow pandas reference
  (:func:`geo.companions.companions_reference`) on a 1,000,000-record sample of the same city,
  scaled ×10 — linear, so it flatters the reference (its join grows faster than the records).
* ``companions_10M_dask``: the same records on a local ``dask.distributed`` cluster of 2 worker
  processes (:func:`geo.companions.companions_dask`), compared row for row with DuckDB's answer
  (``identical``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 10_000_000
SAMPLE = 1_000_000
AS_OF = "2022-03-28"

_CHILD = r"""
import json, resource, sys, time
import pandas as pd
from geo.companions import clean_records, companions_duckdb, load_companion_rule
t0 = time.perf_counter()
raw = pd.read_parquet(sys.argv[1])
cases = pd.read_csv(sys.argv[2])
records, issues = clean_records(raw, row_numbers=False)
del raw
found = companions_duckdb(records, cases, load_companion_rule(), as_of=sys.argv[3])
found.to_parquet(sys.argv[4], index=False)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": len(found), "devices": int(found["device"].nunique()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _same(a, b) -> bool:
    """Row for row, the same companions (dtypes aside: Parquet keeps times in microseconds)."""
    import pandas as pd

    if len(a) != len(b):
        return False
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False, check_exact=False)
    except AssertionError:
        return False
    return True


def run() -> list[dict]:
    import pandas as pd

    from data.locations import demo_locations
    from geo.companions import companions_dask, companions_reference, load_companion_rule

    rule = load_companion_rule()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        records, cases = demo_locations(N, n_cases=100)
        records.to_parquet(d / "r.parquet", index=False)
        cases.to_csv(d / "c.csv", index=False)
        del records
        out = subprocess.run([sys.executable, "-c", _CHILD, str(d / "r.parquet"), str(d / "c.csv"), AS_OF, str(d / "duck.parquet")],
                             capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        duck = json.loads(out.stdout.strip().splitlines()[-1])
        sample, s_cases = demo_locations(SAMPLE, n_cases=10)
        t0 = time.perf_counter()
        companions_reference(sample, s_cases, rule, as_of=AS_OF)
        ref = (time.perf_counter() - t0) * (N / SAMPLE) * (100 / 10)
        rows.append({
            "name": "companions_10M_duckdb", "unit": "s", "value": round(duck["seconds"], 2), "baseline": round(ref, 1),
            "baseline_name": "pandas reference on 1,000,000 records and 10 cases, scaled ×10 records ×10 cases (linear: flatters it)",
            "ratio": round(ref / duck["seconds"], 1), "peak_mem_mb": round(duck["peak_mb"]), "value_target_s": 60,
            "value_target_mb": 4096, "value_pairs": duck["rows"], "value_devices": duck["devices"],
        })
        from dask.distributed import Client, LocalCluster

        from geo.companions import dask_records
        from geo.crs import utm_crs_for

        crs = str(utm_crs_for(112.55, 37.86))  # the demo city's UTM zone
        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, memory_limit="4GB") as cl, \
                Client(cl) as client:
            got = companions_dask(dask_records(d / "r.parquet"), cases, rule, as_of=AS_OF, crs=crs, client=client)
        t_dask = time.perf_counter() - t0
        want = pd.read_parquet(d / "duck.parquet")
        same = _same(got, want)
        rows.append({
            "name": "companions_10M_dask", "unit": "s", "value": round(t_dask, 2), "baseline": round(duck["seconds"], 2),
            "baseline_name": "DuckDB on this machine (the row above)", "ratio": round(duck["seconds"] / t_dask, 2),
            "identical": bool(same), "value_workers": 2,
        })
    return rows
