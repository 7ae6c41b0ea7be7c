"""Run every benchmark, print each figure beside its same-run baseline, write bench/results.json.

Usage: ``python -m bench [NAME ...]`` (``make bench`` runs all). A run of some benchmarks
replaces only their rows in the results file; the figures of the others are kept, each row
marked with its benchmark and when it was measured.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench._timing import best_of

RESULTS = Path(__file__).resolve().parent / "results.json"




def _scalar_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """The published formula written the usual way: plain Python floats, one point at a time."""
    a, ee, pi = 6378245.0, 0.00669342162296594323, math.pi
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    dlat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    dlon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    return lon + dlon * 180.0 / (a / sq * math.cos(rad) * pi), lat + dlat * 180.0 / ((a * (1 - ee)) / (magic * sq) * pi)


def _scalar_gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon, lat
    for _ in range(30):
        fx, fy = _scalar_wgs_to_gcj(x, y)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if abs(ex) < 1e-9 and abs(ey) < 1e-9:
            break
    return x, y


def bench_coordinates() -> list[dict]:
    """GCJ-02 → WGS-84 (iterative) for 1 M points: vectorized numpy vs a plain-Python scalar loop."""
    from geo.crs import gcj02_to_wgs84

    rng = np.random.default_rng(1)
    n = 1_000_000
    lon = rng.uniform(111.5, 113.2, n)
    lat = rng.uniform(37.4, 38.5, n)
    ours = best_of(lambda: gcj02_to_wgs84(lon, lat))
    nb = 100_000  # the loop baseline on a sample, scaled to n
    xs, ys = lon[:nb].tolist(), lat[:nb].tolist()
    base = best_of(lambda: [_scalar_gcj_to_wgs(x, y) for x, y in zip(xs, ys, strict=True)], 1) * (n / nb)
    return [
        {
            "name": "gcj02_to_wgs84_1M_points",
            "unit": "s",
            "value": round(ours, 4),
            "baseline": round(base, 4),
            "baseline_name": "plain-Python scalar loop (100,000 measured, scaled to 1 M)",
            "ratio": round(base / ours, 1),
        }
    ]


def _lazy(module: str) -> Callable[[], list[dict]]:
    def run() -> list[dict]:
        import importlib

        return importlib.import_module(module).run()

    return run


BENCHMARKS: dict[str, Callable[[], list[dict]]] = {
    "coordinates": bench_coordinates,
    "assign": _lazy("bench.bench_assign"),
    "nearest": _lazy("bench.bench_nearest"),
    "screening": _lazy("bench.bench_screening"),
    "resident_lookup": _lazy("bench.bench_lookup"),
    "command_page": _lazy("bench.bench_command"),
    "resident_load": _lazy("bench.bench_load"),
    "followup": _lazy("bench.bench_followup"),
    "allocate": _lazy("bench.bench_allocate"),
    "mass_testing": _lazy("bench.bench_mass_testing"),
    "companions": _lazy("bench.bench_companions"),
    "time_machine": _lazy("bench.bench_time_machine"),
    "tiles": _lazy("bench.bench_tiles"),
    "scale": _lazy("bench.bench_scale"),
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    rows: list[dict] = []
    for name in names:
        print(f"[{name}] running …", flush=True)
        measured_at = datetime.now(UTC).isoformat(timespec="seconds")
        for r in BENCHMARKS[name]():
            rows.append({"benchmark": name, "measured_at": measured_at, **r})
            print(
                f"  {r['name']}: {r['value']} {r['unit']}  vs baseline {r['baseline']} {r['unit']} "
                f"({r['baseline_name']})  ratio {r['ratio']}x",
                flush=True,
            )
            extra = {k: v for k, v in r.items() if k.startswith(("value_", "ratio_", "identical", "peak_mem", "index_"))}
            if extra:
                print("    " + ", ".join(f"{k}={v}" for k, v in extra.items()), flush=True)
    write_results(RESULTS, rows, names)
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS.name}")
    return 0


def write_results(path: Path, rows: list[dict], ran: list[str]) -> None:
    """Write ``rows`` to ``path``, keeping the rows of benchmarks not in ``ran`` from the file
    (rows without a benchmark name, from before rows carried one, are dropped), in
    :data:`BENCHMARKS` order. The write is atomic: a run stopped midway leaves the old file."""
    kept: list[dict] = []
    try:
        old = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError, AttributeError):
        old = []
    if isinstance(old, list):
        kept = [r for r in old if isinstance(r, dict) and r.get("benchmark") in BENCHMARKS and r["benchmark"] not in ran]
    order = {name: i for i, name in enumerate(BENCHMARKS)}
    merged = sorted(kept + rows, key=lambda r: order[r["benchmark"]])  # stable: a benchmark's rows keep their order
    body = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}, "results": merged}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
