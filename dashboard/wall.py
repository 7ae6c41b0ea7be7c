"""大屏 Wall screen: the command centre's map, key figures and latest bulletin as one plain page.

The command page (``dashboard/views/command.py``) is a Streamlit page: before its map can draw,
the browser runs Streamlit's own front end, and on a wall screen that costs more than the map.
This view serves the same content — the same cached map (:func:`dashboard.maps.command_map`),
the same figures (:mod:`dashboard.command_data`) — as one HTML document from the app's own server
(a route of :mod:`dashboard.server`), so it draws as soon as Leaflet has run. No widgets: the
date, view and language are query parameters (``?as_of=2022-03-28&view=national&lang=en``), and
the page reloads itself every :data:`REFRESH_SECONDS`.

Access is the command page's: a signed-in session (the app's session cookie, checked against the
accounts database on every request like every page) whose role may open 指挥中心. Nobody signed
in is sent to the sign-in page; other roles get a refusal, which is audited. Single sign-on
(``auth = "oidc"``) sessions live inside Streamlit, so with it the wall screen is refused with a
message saying so. Only public layers and aggregates are shown; every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

import pandas as pd
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dashboard import auth
from dashboard.audit import record
from dashboard.command_data import Bulletin, Figure, command_figures, latest_bulletin
from dashboard.i18n import LANGUAGES, t
from dashboard.maps import command_map
from dashboard.mapview import MapPayload
from dashboard.roles import may_open
from dashboard.settings import Settings
from dashboard.ui import PageContext
from geo.errors import SettingsError
from geo.screening import parse_as_of
from layers.store import open_store

__all__ = ["REFRESH_SECONDS", "WALL_PAGE", "wall_endpoint", "wall_html", "make_wall_endpoint"]

REFRESH_SECONDS = 300
WALL_PAGE = "page_command"  # who may open the wall screen: whoever may open the command page
_HEADERS = {
    "Cache-Control": "no-store",  # per user and per minute; never kept by a proxy
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

MapFor = Callable[..., MapPayload]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _message(status: int, lang: str, key: str, **fmt: str) -> HTMLResponse:
    body = t(key, lang).format(**{k: _e(v) for k, v in fmt.items()})
    doc = (
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
        f"<title>{_e(t('wall_title', lang))}</title></head>"
        f"<body style='font:16px/1.6 sans-serif;margin:3em'><p>{body}</p>"
        f"<p><a href='./?lang={lang}'>{_e(t('wall_to_dashboard', lang))}</a></p></body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=_HEADERS)


def _figures_html(figures: list[Figure]) -> str:
    cells = []
    for f in figures:
        title = f" title='{_e(f.help)}'" if f.help else ""
        cells.append(f"<div class='fig'{title}><div class='label'>{_e(f.label)}</div><div class='value'>{_e(f.value)}</div></div>")
    return "".join(cells)


def wall_html(
    ctx: PageContext,
    as_of: pd.Timestamp,
    when: datetime,
    payload: MapPayload,
    figures: list[Figure],
    bulletin: Bulletin | None,
    *,
    national: bool,
) -> str:
    """The wall screen's document. Everything but the map's own script is escaped here; the
    map's popups and tooltips are escaped by the layer specs that built it."""
    lang = ctx.lang
    other = "en" if lang == "zh" else "zh"
    query = {"as_of": f"{as_of:%Y-%m-%d}", "view": "national" if national else "city"}
    switch = f"?{urlencode(query | {'lang': other})}"
    view_switch = f"?{urlencode(query | {'view': 'city' if national else 'national', 'lang': lang})}"
    view_label = t("view_city" if national else "view_national", lang)
    css = "".join(f"<link rel='stylesheet' href='{_e(href)}'>" for href in payload.css_links)
    js = "".join(f"<script src='{_e(src)}'></script>" for src in payload.js_links)
    demo = f"<div class='demo'>{_e(t('demo_banner', lang))}</div>" if ctx.is_demo else ""
    if bulletin is None:
        line = _e(t("dr_latest_none", lang))
    else:
        line = f"<b>{_e(bulletin.heading)}</b>{'：' if lang == 'zh' else ': '}{_e(bulletin.wording)}"
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{_e(t('wall_title', lang))} · {_e(t('app_title', lang))}</title>
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
{css}{js}{payload.header}
<style>
body{{display:flex;flex-direction:column;height:100vh;margin:0;background:#f4f6f8;color:#1f2d3d;
  font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif}}
header{{display:flex;align-items:baseline;gap:1.2em;padding:.5em 1em;background:#1f2d3d;color:#fff}}
header h1{{font-size:1.3em;margin:0}} header .asof{{font-size:1.05em}} header .when{{opacity:.75;font-size:.9em}}
header nav{{margin-left:auto;display:flex;gap:1em}} header a{{color:#cfe3ff}}
.demo{{background:#fff3cd;color:#6b4e00;padding:.25em 1em;font-size:.85em}}
.figs{{display:grid;grid-template-columns:1fr 1fr 1fr 1.6fr 1.1fr 1fr 1.1fr;gap:.5em;padding:.5em 1em}}
.fig{{background:#fff;border-radius:6px;padding:.35em .7em;box-shadow:0 1px 2px rgba(0,0,0,.12)}}
.fig .label{{font-size:.85em;color:#555}} .fig .value{{font-size:1.45em;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
.bulletin{{margin:0;padding:0 1em .5em;font-size:.9em;color:#333}}
main{{flex:1;min-height:0;position:relative}}
</style></head>
<body>
<header><h1>{_e(t('page_command', lang))} · {_e(t('wall_title', lang))}</h1>
<span class="asof">{_e(t('as_of', lang))}{'：' if lang == 'zh' else ': '}{as_of:%Y-%m-%d}</span>
<span class="when">{_e(t('wall_updated', lang).format(time=f"{when:%H:%M}", minutes=REFRESH_SECONDS // 60))}</span>
<nav><a href="{_e(view_switch)}">{_e(view_label)}</a><a href="{_e(switch)}">{_e(LANGUAGES[other])}</a>
<a href="./?lang={lang}">{_e(t('wall_to_dashboard', lang))}</a></nav></header>
{demo}
<section class="figs">{_figures_html(figures)}</section>
<p class="bulletin">{line}</p>
<main><div id="map_div"></div></main>
<script>{payload.script}
window.map = map_div;</script>
</body></html>"""


def _settings() -> Settings:
    from dashboard.ui import settings

    return settings()


def make_wall_endpoint(map_for: MapFor = command_map) -> Callable[[Request], Response]:
    """The wall screen's request handler (synchronous: Starlette runs it in a worker thread).
    ``map_for(ctx, as_of, when, national=...)`` gives the map; the app's is the cached
    :func:`dashboard.maps.command_map` (a benchmark passes a naive one)."""

    def endpoint(request: Request) -> Response:
        try:
            s = _settings()
        except SettingsError as exc:
            return _message(500, "zh", "wall_settings", error=str(exc))
        asked = request.query_params.get("lang")
        lang = asked if asked in LANGUAGES else s.language
        if s.auth != "builtin":
            return _message(403, lang, "wall_builtin_only")
        account = auth.session_check(s, request.cookies.get(auth.COOKIE)).account
        if account is None:
            return RedirectResponse(f"./?lang={lang}", status_code=303, headers=_HEADERS)
        if not may_open(account.role, WALL_PAGE):
            record(account.name, "access_denied", "wall", f"role={account.role}", role=account.role, store=s.store)
            return _message(403, lang, "wall_denied")
        store = open_store(s.store_location, city_adcode=s.city_adcode)
        if not store.exists():
            return _message(503, lang, "store_missing")
        ctx = PageContext(settings=s, lang=lang, store=store, meta=store.meta(), user=account.name, role=account.role)
        text = request.query_params.get("as_of")
        try:
            as_of = parse_as_of(text).normalize() if text else ctx.scenario_today
        except ValueError:
            return _message(400, lang, "wall_bad_date", value=text or "")
        national = request.query_params.get("view") == "national"
        when = ctx.clock(as_of)
        payload = map_for(ctx, as_of, when, national=national)
        doc = wall_html(
            ctx, as_of, when, payload, command_figures(ctx, as_of, when), latest_bulletin(ctx, as_of), national=national
        )
        return HTMLResponse(doc, headers=_HEADERS)

    return endpoint


wall_endpoint = make_wall_endpoint()
