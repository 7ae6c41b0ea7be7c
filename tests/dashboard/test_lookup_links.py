"""The resident page's "other map app" redirect to a standard geo: URI."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from dashboard.lookup_links import geo_redirect, geo_uri


def _request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/geo", "query_string": query.encode(), "headers": []})


def test_a_point_redirects_to_its_geo_uri():
    r = geo_redirect(_request("lat=37.860000&lon=112.550000&name=%E6%BC%94%E7%A4%BA%3Cb%3E"))
    assert r.status_code == 302
    assert r.headers["location"] == "geo:37.860000,112.550000?q=37.860000,112.550000(%E6%BC%94%E7%A4%BA%3Cb%3E)"
    assert geo_uri(1.5, 2.25) == "geo:1.500000,2.250000?q=1.500000,2.250000"


@pytest.mark.parametrize("query", ["", "lat=1", "lat=x&lon=2", "lat=91&lon=0", "lat=0&lon=181", "lat=nan&lon=0", "lat=inf&lon=0"])
def test_anything_but_a_point_is_refused(query):
    assert geo_redirect(_request(query)).status_code == 400
