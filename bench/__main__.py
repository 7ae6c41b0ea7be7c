"""Run every benchmark, print each figure beside its same-run baseline, write bench/results.json.

Usage: ``python -m bench [NAME ...]`` (``make bench`` runs all).
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results.json"


def _best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_coordinates() -> list[dict]:
    """GCJ-02 → WGS-84 (iterative) for 1 M points, vectorized vs a per-point Python loop baseline."""
    from geo.crs import gcj02_to_wgs84

    rng = np.random.default_rng(1)
    n = 1_000_000
    lon = rng.uniform(111.5, 113.2, n)
    lat = rng.uniform(37.4, 38.5, n)
    ours = _best_of(lambda: gcj02_to_wgs84(lon, lat))
    nb = 20_000  # the loop baseline on a sample, scaled to n
    base = _best_of(lambda: [gcj02_to_wgs84([x], [y]) for x, y in zip(lon[:nb], lat[:nb], strict=True)], 1) * (n / nb)
    return [
        {
            "name": "gcj02_to_wgs84_1M_points",
            "unit": "s",
            "value": round(ours, 4),
            "baseline": round(base, 4),
            "baseline_name": "the same function called point by point (20,000 measured, scaled to 1 M)",
            "ratio": round(base / ours, 1),
        }
    ]


BENCHMARKS: dict[str, Callable[[], list[dict]]] = {"coordinates": bench_coordinates}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    rows: list[dict] = []
    for name in names:
        print(f"[{name}] running …", flush=True)
        for r in BENCHMARKS[name]():
            rows.append(r)
            print(
                f"  {r['name']}: {r['value']} {r['unit']}  vs baseline {r['baseline']} {r['unit']} "
                f"({r['baseline_name']})  ratio {r['ratio']}x",
                flush=True,
            )
    RESULTS.write_text(
        json.dumps(
            {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}, "results": rows},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
