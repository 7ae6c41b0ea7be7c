"""The command-centre benchmark compares like with like: each variant is the same page, signed
in, with a map; the naive baselines really are naive (full precision, far more data) and the
plain one builds its map on every run; the floor's map is trivial but passes the same readiness
check (enough polygons and a marker)."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dashboard.maps as maps
import dashboard.mapview as mapview
from bench.bench_command import _session_token, variant_app

# the variants replace these module attributes (each in its own server when benchmarked); here
# they all run in one process, so each run starts from the app's own functions and empty caches
_REPLACED = {(mod, name): getattr(mod, name) for mod, name in
             ((maps, "command_map"), (maps, "build_map"), (mapview, "build_map"), (mapview, "show_prepared"))}


@pytest.fixture(scope="module")
def bench_store(tmp_path_factory):
    from data.demo import build_demo, demo_meta
    from layers.store.gpkg import write_new_store

    path = tmp_path_factory.mktemp("bench") / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    return path


def _run(app, store, monkeypatch, *, query: dict[str, str] | None = None) -> AppTest:
    """The variant's first run: signed in as a command account, or public with ``query``."""
    from dashboard.auth import TOKEN_KEY

    for (mod, name), original in _REPLACED.items():
        monkeypatch.setattr(mod, name, original)
    st.cache_resource.clear()
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    at = AppTest.from_file(str(app), default_timeout=120)
    at.session_state["lang"] = "zh"
    if query is None:
        at.session_state[TOKEN_KEY] = _session_token(store)
    else:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def _map_args(at: AppTest) -> dict:
    maps = at.get("component_instance")
    assert len(maps) == 1, "the page shows exactly one map"
    return json.loads(maps[0].proto.json_args)


def test_every_variant_is_the_same_page_with_a_map(bench_store, tmp_path, monkeypatch):
    scripts = {}
    for name in ("ours", "plain", "naive", "floor"):
        at = _run(variant_app(tmp_path, "command.py", name), bench_store, monkeypatch)
        assert "演示数据" in [w.value for w in at.warning][0]  # signed in: the page content, not the sign-in form
        assert len(at.metric) == 7
        scripts[name] = _map_args(at)["script"]
    # the naive map carries the full-precision layers as plain GeoJSON: several times our data
    assert len(scripts["plain"]) > 3 * len(scripts["ours"])
    assert len(scripts["naive"]) > 3 * len(scripts["ours"])
    for name in ("plain", "naive"):
        assert scripts[name].count("L.marker(") >= 200, "one Marker per testing site and hotel"
    # the floor: 300 polygons (the benchmark waits for 300) and one marker, a small fraction of ours
    assert scripts["floor"].count('"Polygon"') == 300
    assert scripts["floor"].count("L.marker(") == 1
    assert len(scripts["floor"]) < len(scripts["ours"]) / 3


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


def test_resident_variants_differ_in_their_map_only(bench_store, tmp_path, monkeypatch):
    scripts = {}
    for name in ("ours", "naive"):
        at = _run(variant_app(tmp_path, "resident.py", name), bench_store, monkeypatch,
                  query={"loc": "112.5712,37.8571", "lang": "zh"})
        args = [json.loads(c.proto.json_args) for c in at.get("component_instance")]
        maps_shown = [a for a in args if "script" in a]  # the page also has a geolocation button
        assert len(maps_shown) == 1
        scripts[name] = maps_shown[0]["script"]
    assert len(scripts["naive"]) > 3 * len(scripts["ours"])
    assert scripts["naive"].count("L.marker(") >= 200, "every site its own Marker"


def test_wall_variants_are_the_same_page_and_the_naive_one_is_naive(bench_store, monkeypatch):
    """``/wall`` and the benchmark's ``/wall-naive``: the same figures and frame around the map;
    the naive map built on every request, full precision, one Marker per point."""
    import re

    from starlette.requests import Request

    import bench.naive_map as naive_map
    from bench.wall_server import naive_wall
    from dashboard import wall
    from dashboard.settings import Settings

    s = Settings(store=str(bench_store))
    monkeypatch.setattr(wall, "_settings", lambda: s)
    token = _session_token(bench_store)
    built = []
    real = naive_map.naive_command_map
    monkeypatch.setattr(naive_map, "naive_command_map", lambda *a, **kw: built.append(1) or real(*a, **kw))

    def get(endpoint) -> str:
        scope = {"type": "http", "method": "GET", "path": "/wall", "query_string": b"",
                 "headers": [(b"cookie", f"riskmap_session={token}".encode())]}
        response = endpoint(Request(scope))
        assert response.status_code == 200
        return response.body.decode()

    ours, naive = get(wall.wall_endpoint), get(naive_wall)
    get(naive_wall)
    assert len(built) == 2, "the naive map is built on every request"

    def frame(doc: str) -> str:  # the page without its map script and the map's own header
        return re.sub(r"<script>.*?</script>|<link[^>]*>|<script src[^>]*></script>", "", doc.split("<main>")[0], flags=re.S)

    assert frame(ours).split("<body>")[1] == frame(naive).split("<body>")[1]
    assert len(naive) > 3 * len(ours)
    assert naive.count("L.marker(") >= 200 and ours.count("L.marker(") < 50
