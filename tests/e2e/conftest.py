"""Browser tests: the real app on a free loopback port, driven by Debian's Chromium via Playwright.

The server stops itself at the end of the session (and is killed if it outlives its time limit).
Every request the browser makes is recorded so tests can prove nothing leaves the machine.
The test store gets one account per role (``accounts``); non-public pages are opened after
``tests.e2e.helpers.login(page, app_url, role)``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("RISKMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_LIMIT_S = 900
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_POINT = (112.5712, 37.8571)  # lon, lat in 迎泽区
# a site whose name is Markdown: shown through Streamlit it must stay text (no image is fetched)
MD_NAME = "追踪标记![x](http://127.0.0.1:9/track.png)"
MD_POINT = (112.52, 37.93)  # 尖草坪区, far from XSS_POINT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """The demo scenario written once per test session into a temporary store."""
    import geopandas as gpd
    import shapely

    from data.demo import build_demo, demo_meta
    from layers.store.gpkg import GpkgStore, write_new_store

    path = tmp_path_factory.mktemp("store") / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    # one site with a hostile name, as an import could bring it: it must show as text
    hostile = gpd.GeoDataFrame(
        {"id": ["S9999", "S9998"], "name": [XSS_NAME, MD_NAME], "type": ["fixed", "fixed"], "hours": ["24h", "24h"],
         "address": [XSS_NAME, MD_NAME], "demo": [True, True]},
        geometry=[shapely.Point(*XSS_POINT), shapely.Point(*MD_POINT)],
        crs="EPSG:4326",
    )
    GpkgStore(path).write_layer("testing_sites", hostile)
    return path


GRID_AREAS = ("140105",)  # the test grid worker covers 小店区
SITE_AREAS = ("S0001", "S0002")  # the test sampling-site staff report for these two sites


@pytest.fixture(scope="session")
def accounts(demo_store) -> dict[str, tuple[str, str]]:
    """One account per role in the test store's accounts database: role → (name, password).
    Also registered with :func:`tests.e2e.helpers.login`."""
    import secrets

    from dashboard.accounts import Accounts, accounts_location
    from tests.e2e import helpers

    db = Accounts(accounts_location(str(demo_store)))
    made = {}
    for role in ("grid", "site", "planner", "command", "admin"):
        password = secrets.token_urlsafe(12)
        areas = GRID_AREAS if role == "grid" else SITE_AREAS if role == "site" else None
        db.add(f"e2e_{role}", role, password, areas=areas, display_name=f"测试 {role}")
        made[role] = (f"e2e_{role}", password)
    helpers.CREDENTIALS.update(made)
    return made


@pytest.fixture(scope="session")
def app_url(demo_store, accounts) -> Iterator[str]:
    with running_server(demo_store, log_name="server.log") as url:
        yield url


def store_copy(demo_store: Path, into: Path) -> Path:
    """A copy of the demo store (the GeoPackage and its accounts and records beside it) in
    ``into``, for a test whose writes the other browser tests must not see. The tiles folder
    beside it (``<store>.tiles``, built by a server that drew tiles) is a cache: not copied."""
    import shutil

    for f in demo_store.parent.iterdir():
        if f.is_file() and f.name.startswith(demo_store.stem) and not f.name.endswith(".lock"):
            shutil.copy2(f, into / f.name)
    return into / demo_store.name


@contextlib.contextmanager
def running_server(demo_store: Path, *, log_name: str, settings: dict[str, str] | None = None) -> Iterator[str]:
    """The app as served (``dashboard/server.py``) on a free loopback port; stopped on exit.
    ``settings``: extra ``RISKMAP_*`` environment settings for this server."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "RISKMAP_STORE": str(demo_store),
            "PYTHONPATH": str(ROOT),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            **(settings or {}),
        }
    )
    env.pop("RISKMAP_TILE_URL", None)
    cmd = [
        "timeout", "--signal=KILL", str(SERVER_LIMIT_S),
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false",
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / log_name).open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; see {ARTIFACTS / log_name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Traffic:
    """Every request a browser context made, and every failure."""

    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)  # websocket frames and response bodies

    def contains(self, needle: str) -> bool:
        b = needle.encode("utf-8")
        return any(b in chunk for chunk in self.received)

    def foreign(self, own: str) -> list[str]:
        own_netloc = urlsplit(own).netloc
        out = []
        for u in self.requests:
            parts = urlsplit(u)
            if parts.scheme in ("data", "blob", "about", "chrome-extension"):
                continue
            if parts.netloc != own_netloc:
                out.append(u)
        return out


@pytest.fixture
def page_and_traffic(browser, request):
    viewport = getattr(request, "param", None) or {"width": 1600, "height": 1000}
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    traffic = Traffic()
    context.on("request", lambda r: traffic.requests.append(r.url))
    # a load the browser cancels itself (net::ERR_ABORTED: the page moved on, e.g. right after
    # signing in, while script chunks were still loading) is no failure of the app; every other
    # failed request, and every HTTP error below, is
    context.on(
        "requestfailed",
        lambda r: None if r.failure == "net::ERR_ABORTED" else traffic.failures.append(f"{r.url} ({r.failure})"),
    )

    def on_response(r):
        # Streamlit's front end probes for its base path by asking <page path>/_stcore/health and
        # /host-config first; on a page URL those 404 by design before it falls back to the root.
        path = urlsplit(r.url).path
        probe = path.endswith(("/_stcore/health", "/_stcore/host-config")) and path.count("/") > 2
        if r.status >= 400 and not probe:
            traffic.failures.append(f"{r.url} (HTTP {r.status})")

    from playwright.sync_api import Error as PlaywrightError

    def on_body(r):
        try:
            traffic.received.append(r.body())
        except PlaywrightError:  # bodies of redirects and aborted loads are unavailable
            return

    context.on("response", on_response)
    context.on("requestfinished", lambda req: on_body(req.response()) if req.response() else None)
    page = context.new_page()
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: traffic.received.append(payload if isinstance(payload, bytes) else payload.encode("utf-8")),
        ),
    )
    yield page, traffic
    context.close()
