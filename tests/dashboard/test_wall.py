"""The wall screen's handler, called with plain requests (no server, no browser): who may see
it, what it shows (the command page's figures), escaping, errors and headers."""

from __future__ import annotations

import html

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from starlette.requests import Request

from dashboard import wall
from dashboard.accounts import Accounts, accounts_location
from dashboard.command_data import command_figures
from dashboard.settings import Settings
from dashboard.ui import PageContext

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from data.demo import build_demo, demo_meta
    from layers.store.gpkg import GpkgStore, write_new_store

    path = tmp_path_factory.mktemp("wall") / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    site = gpd.GeoDataFrame(
        {"id": ["S9999"], "name": [HOSTILE], "type": ["fixed"], "hours": ["24h"], "address": [HOSTILE], "demo": [True]},
        geometry=[shapely.Point(112.5712, 37.8571)], crs="EPSG:4326",
    )
    GpkgStore(path).write_layer("testing_sites", site)
    return path


@pytest.fixture(scope="module")
def tokens(store_path) -> dict[str, str]:
    db = Accounts(accounts_location(str(store_path)))
    return {role: db.open_session(db.add(f"wall_{role}", role, "Pw-tulip-harbour-97")) for role in ("command", "grid", "admin")}


@pytest.fixture
def settings(store_path, monkeypatch) -> Settings:
    s = Settings(store=str(store_path))
    monkeypatch.setattr(wall, "_settings", lambda: s)
    return s


def _get(query: str = "", token: str | None = None):
    headers = [(b"cookie", f"riskmap_session={token}".encode())] if token else []
    request = Request({"type": "http", "method": "GET", "path": "/wall", "query_string": query.encode(), "headers": headers})
    return wall.wall_endpoint(request)


def test_nobody_signed_in_is_sent_to_sign_in(settings):
    response = _get("lang=en")
    assert response.status_code == 303 and response.headers["location"] == "./?lang=en"
    assert _get(token="not-a-session").status_code == 303


def test_a_role_without_the_command_page_is_refused_and_audited(settings, tokens, store_path):
    response = _get("lang=en", tokens["admin"])
    assert response.status_code == 403
    assert "may not open the command centre's wall screen" in response.body.decode()
    trail = Accounts(accounts_location(str(store_path))).audit_log(actions=["access_denied"])
    assert list(trail[["name", "target", "detail"]].itertuples(index=False, name=None)) == [("wall_admin", "wall", "role=admin")]


def test_the_wall_shows_the_command_pages_figures(settings, tokens, store_path):
    from layers.store.gpkg import GpkgStore

    response = _get("as_of=2022-03-28", tokens["grid"])
    assert response.status_code == 200
    body = response.body.decode()
    store = GpkgStore(store_path)
    ctx = PageContext(settings=settings, lang="zh", store=store, meta=store.meta())
    day = pd.Timestamp("2022-03-28")
    for figure in command_figures(ctx, day, ctx.clock(day)):
        assert f"<div class='label'>{html.escape(figure.label, quote=True)}</div><div class='value'>{html.escape(figure.value)}</div>" in body
    assert "演示数据" in body and "数据日期（截至）：2022-03-28" in body
    assert "最新日报（2022-03-28）" in body
    assert "window.map = map_div;" in body and "L.map(" in body
    assert response.headers["cache-control"] == "no-store" and response.headers["x-frame-options"] == "DENY"


def test_imported_text_is_escaped_and_nothing_personal_is_sent(settings, tokens):
    body = _get(token=tokens["command"]).body.decode()
    assert HOSTILE not in body  # the hostile site name only ever appears escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in body or "\\u003cimg src=x" in body
    for column in ("phone", "id_number", "id_no"):
        assert f'"{column}"' not in body


def test_english_and_the_switches(settings, tokens):
    body = _get("lang=en&as_of=2022-03-20", tokens["command"]).body.decode()
    assert "<title>Wall screen · riskmap epidemic risk map</title>" in body and "As of: 2022-03-20" in body
    assert "href=\"?as_of=2022-03-20&amp;view=city&amp;lang=zh\"" in body  # 中文, same day and view
    assert "href=\"?as_of=2022-03-20&amp;view=national&amp;lang=en\"" in body


@pytest.mark.parametrize("value", ["1000-01-01", "9999-12-31", "2022-13-01"])
def test_a_date_out_of_range_is_a_400_not_a_500(settings, tokens, value):
    """Defect: /wall?as_of=1000-01-01 parsed, then failed with a 500."""
    response = _get(f"as_of={value}", tokens["command"])
    assert response.status_code == 400
    assert value in response.body.decode()


def test_a_bad_date_is_named_escaped(settings, tokens):
    response = _get("as_of=%3Cb%3E", tokens["command"])
    assert response.status_code == 400
    assert "&lt;b&gt;" in response.body.decode() and "<b>" not in response.body.decode().split("<p>")[1]


def test_single_sign_on_is_refused_with_a_reason(store_path, monkeypatch, tokens):
    s = Settings(store=str(store_path), auth="oidc")
    monkeypatch.setattr(wall, "_settings", lambda: s)
    response = _get("lang=en", tokens["command"])
    assert response.status_code == 403 and "single sign-on" in response.body.decode()
