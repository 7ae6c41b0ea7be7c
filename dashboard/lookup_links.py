"""The resident page's "other map app" link: a redirect to a standard ``geo:`` URI.

Streamlit sanitises the HTML a page shows and keeps only web (and ``tel:``/``mailto:``) links, so
the page links to ``geo`` on this server, which answers with a redirect to
``geo:<lat>,<lon>?q=<lat>,<lon>(<name>)`` (WGS-84, RFC 5870); the phone opens its map app.
Only numbers within range and a short name are accepted; anything else is a 400.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

__all__ = ["geo_uri", "geo_redirect"]


def geo_uri(lat: float, lon: float, name: str = "") -> str:
    """The ``geo:`` URI of a point (WGS-84) with an optional label."""
    label = f"({quote(name[:80], safe='')})" if name else ""
    return f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}{label}"


def geo_redirect(request: Request) -> Response:
    try:
        lat = float(request.query_params["lat"])
        lon = float(request.query_params["lon"])
    except (KeyError, ValueError):
        return PlainTextResponse("lat and lon are needed / 需要经纬度", status_code=400)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return PlainTextResponse("lat/lon out of range / 经纬度超出范围", status_code=400)
    name = request.query_params.get("name", "")
    return RedirectResponse(geo_uri(lat, lon, name), status_code=302)
