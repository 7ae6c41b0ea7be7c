"""The load benchmark's own logic: points inside the city, failures counted, percentiles right."""

import shapely

from bench.bench_load import Lookup, Phase, _rows, random_points
from layers.boundaries import city_counties


def test_random_points_are_seeded_and_inside_the_city():
    pts = random_points(50)
    assert pts == random_points(50) and len(set(pts)) == 50
    city = shapely.union_all(city_counties("140100").geometry.to_numpy())
    assert all(city.contains(shapely.Point(p)) for p in pts)


def test_rows_count_every_failure_and_report_percentiles_of_answers():
    seq = Phase(clients=1, wall_s=2.0, lookups=[Lookup(answer_s=0.1 * i, finished_s=0.2 * i) for i in range(1, 11)])
    load = Phase(
        clients=4,
        wall_s=1.0,
        lookups=[Lookup(answer_s=0.2 * i, finished_s=0.4 * i) for i in range(1, 11)]
        + [Lookup(error="timeout (30 s)"), Lookup(error="timeout (30 s)"), Lookup(answer_s=0.1, error="exception shown: KeyError")],
    )
    rows = {r["name"]: r for r in _rows(seq, load)}
    p50 = rows["resident_load_latency_p50"]
    assert (p50["value"], p50["baseline"], p50["ratio"]) == (1.1, 0.55, 2.0)
    assert rows["resident_load_latency_max"]["value"] == 2.0
    assert p50["value_errors"] == 3 and p50["value_baseline_errors"] == 0 and p50["lookups"] == 13
    tp = rows["resident_load_throughput"]
    assert (tp["value"], tp["baseline"]) == (10.0, 5.0)
    assert tp["value_errors_by_kind"] == {"timeout (30 s)": 2, "exception shown: KeyError": 1}
