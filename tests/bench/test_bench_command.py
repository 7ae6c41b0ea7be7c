"""The command-centre benchmark compares like with like: each variant is the same page, signed
in, with a map of every default layer; the naive baselines really are naive (full precision,
far more data) and the plain one builds its map on every run."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from bench.bench_command import _session_token, variant_app


@pytest.fixture(scope="module")
def bench_store(tmp_path_factory):
    from data.demo import build_demo, demo_meta
    from layers.store import write_new_store

    path = tmp_path_factory.mktemp("bench") / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    return path


def _run(app, store, monkeypatch) -> AppTest:
    from dashboard.auth import TOKEN_KEY

    monkeypatch.setenv("RISKMAP_STORE", str(store))
    at = AppTest.from_file(str(app), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state[TOKEN_KEY] = _session_token(store)
    at.run()
    assert not at.exception, at.exception
    return at


def _map_args(at: AppTest) -> dict:
    maps = at.get("component_instance")
    assert len(maps) == 1, "the page shows exactly one map"
    return json.loads(maps[0].proto.json_args)


def test_every_variant_is_the_same_page_with_a_map(bench_store, tmp_path, monkeypatch):
    scripts = {}
    for name in ("ours", "plain", "naive"):
        at = _run(variant_app(tmp_path, "command.py", name), bench_store, monkeypatch)
        assert "演示数据" in [w.value for w in at.warning][0]  # signed in: the page content, not the sign-in form
        assert len(at.metric) == 7
        scripts[name] = _map_args(at)["script"]
    # the naive map carries the full-precision layers as plain GeoJSON: several times our data
    assert len(scripts["plain"]) > 3 * len(scripts["ours"])
    assert len(scripts["naive"]) > 3 * len(scripts["ours"])
    for name in ("plain", "naive"):
        assert scripts[name].count("L.marker(") >= 200, "one Marker per testing site and hotel"


def test_plain_baseline_builds_its_map_on_every_run(bench_store, tmp_path, monkeypatch):
    import folium

    built = []
    real = folium.Map.__init__

    def counting(self, *a, **kw):
        built.append(1)
        real(self, *a, **kw)

    monkeypatch.setattr(folium.Map, "__init__", counting)
    at = _run(variant_app(tmp_path, "command.py", "plain"), bench_store, monkeypatch)
    first = len(built)
    at.run()
    assert first >= 1 and len(built) == 2 * first
