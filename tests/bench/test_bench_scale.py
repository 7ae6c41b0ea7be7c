"""The scale benchmark's page compares like with like: the same generated neighbourhoods and
arrivals, drawn our way (vector tiles above the setting, arrivals as cell counts) or the naive way
(every neighbourhood inline at full precision, one marker per arrival)."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.bench_scale import ROOT, _data

N_POLYGONS, N_POINTS = 40, 300


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    _data(folder, N_POLYGONS, N_POINTS)
    return folder


def _run(data, mode: str, monkeypatch) -> dict:
    st.cache_resource.clear()
    monkeypatch.setenv("BENCH_SCALE_DATA", str(data))
    monkeypatch.setenv("BENCH_SCALE_MODE", mode)
    monkeypatch.setenv("RISKMAP_TILES_DIR", str(data / "tiles"))
    monkeypatch.setenv("RISKMAP_VECTOR_TILES_MIN_FEATURES", "20")
    monkeypatch.setenv("RISKMAP_STORE", str(data / "unused.gpkg"))
    at = AppTest.from_file(str(ROOT / "bench" / "scale_page.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    maps = at.get("component_instance")
    assert len(maps) == 1
    return json.loads(maps[0].proto.json_args)


def test_ours_draws_tiles_and_cell_counts(data, monkeypatch):
    args = _run(data, "ours", monkeypatch)
    assert "protomapsL.leafletLayer" in args["script"] and "/tiles/neighbourhoods/" in args["script"]
    for form in ("演示第7社区", json.dumps("演示第7社区")[1:-1]):
        assert form not in args["script"]  # the neighbourhoods are in the tiles
    assert "演示第0街道" in args["script"] or json.dumps("演示第0街道")[1:-1] in args["script"]  # their streets' labels
    assert "L.heatLayer" in args["script"] or "heatLayer" in args["script"]


def test_naive_sends_every_neighbourhood_and_a_marker_per_arrival(data, monkeypatch):
    args = _run(data, "naive", monkeypatch)
    name = json.dumps("演示第7社区")[1:-1]  # GeoDataFrame.to_json escapes it
    assert name in args["script"] and "protomapsL" not in args["script"]
    assert args["script"].count("L.marker(") >= N_POINTS
