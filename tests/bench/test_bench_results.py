"""``make bench`` keeps every benchmark's figures: a run of some benchmarks replaces only their rows."""

from __future__ import annotations

import json

from bench.__main__ import write_results


def _row(benchmark: str, name: str, value: float) -> dict:
    return {"benchmark": benchmark, "measured_at": "2026-12-08T00:00:00+00:00", "name": name, "unit": "s",
            "value": value, "baseline": 2 * value, "baseline_name": "b", "ratio": 2.0}


def _names(path) -> list[str]:
    return [r["name"] for r in json.loads(path.read_text(encoding="utf-8"))["results"]]


def test_a_partial_run_keeps_the_other_benchmarks_figures(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, [_row("assign", "a1", 1.0), _row("assign", "a2", 2.0), _row("nearest", "n1", 3.0)],
                  ["assign", "nearest"])
    write_results(path, [_row("assign", "a1", 0.5)], ["assign"])
    assert _names(path) == ["a1", "n1"]  # assign's rows replaced (a2 is gone), nearest's kept
    values = {r["name"]: r["value"] for r in json.loads(path.read_text(encoding="utf-8"))["results"]}
    assert values == {"a1": 0.5, "n1": 3.0}


def test_rows_follow_the_benchmark_order_whatever_order_they_ran_in(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, [_row("scale", "s1", 1.0)], ["scale"])
    write_results(path, [_row("coordinates", "c1", 1.0)], ["coordinates"])
    assert _names(path) == ["c1", "s1"]


def test_an_old_or_unreadable_file_is_replaced_not_merged(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"results": [{"name": "old, no benchmark", "value": 1}]}), encoding="utf-8")
    write_results(path, [_row("assign", "a1", 1.0)], ["assign"])
    assert _names(path) == ["a1"]
    path.write_text("{not json", encoding="utf-8")
    write_results(path, [_row("nearest", "n1", 1.0)], ["nearest"])
    assert _names(path) == ["n1"]
    assert not list(tmp_path.glob("*.tmp"))
