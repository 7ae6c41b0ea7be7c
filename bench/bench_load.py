"""Load: simultaneous resident lookups against the real app running on loopback.

The app as served (``dashboard/server.py``) is started with the demo store. A *lookup* is what opening a
share link does: a fresh session (its own websocket on ``/_stcore/stream``) asks for the public
resident page with ``?loc=lon,lat&k=5``; its latency is the time until the answer, the list of
nearest testing sites, has arrived. The client speaks Streamlit's own protocol (``BackMsg`` /
``ForwardMsg`` protobufs), like the browser does, but renders nothing, so many clients fit on a
small machine; each session still waits for its page run to finish (the map included) before it
closes, so the server does all the work a browser visit causes.

Phases, in one run and against the same warm server: a baseline of lookups issued one at a time,
then ``CLIENTS`` clients issuing ``LOOKUPS_PER_CLIENT`` lookups each, all at once. Points are
random (seeded) inside the city. Every failure is counted by kind, never dropped: an exception
shown by the page, a page run that ends without the answer, a wrong number of sites, a lookup
over ``LOOKUP_TIMEOUT_S``, a connection error, and lookups not started because a phase reached
its hard limit ``PHASE_LIMIT_S``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench._server import ROOT, serve

CLIENTS = 8
LOOKUPS_PER_CLIENT = 5
BASELINE_LOOKUPS = 15
K = 5
LOOKUP_TIMEOUT_S = 30.0
PHASE_LIMIT_S = 180.0
SEED = 8


@dataclass
class Lookup:
    """One lookup's outcome: seconds until the answer and until the page run ended, or an error."""

    answer_s: float | None = None
    finished_s: float | None = None
    error: str | None = None


@dataclass
class Phase:
    clients: int
    wall_s: float
    lookups: list[Lookup] = field(default_factory=list)

    @property
    def ok(self) -> list[Lookup]:
        return [x for x in self.lookups if x.error is None]

    @property
    def errors(self) -> Counter:
        return Counter(x.error for x in self.lookups if x.error is not None)


def random_points(n: int, *, seed: int = SEED) -> list[tuple[float, float]]:
    """``n`` seeded random points (lon, lat) inside the city's boundary."""
    import shapely

    from dashboard.settings import load_settings
    from layers.boundaries import city_counties

    city = shapely.union_all(city_counties(load_settings().city_adcode).geometry.to_numpy())
    minx, miny, maxx, maxy = city.bounds
    rng = np.random.default_rng(seed)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        xs, ys = rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)
        inside = shapely.contains_xy(city, xs, ys)
        out.extend((round(float(x), 5), round(float(y), 5)) for x, y in zip(xs[inside], ys[inside], strict=True))
    return out[:n]


def _rerun_request(lon: float, lat: float) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = f"loc={lon:.5f},{lat:.5f}&k={K}&lang=zh"
    msg.rerun_script.page_name = "resident"
    return msg.SerializeToString()


async def lookup(ws_url: str, lon: float, lat: float) -> Lookup:
    """Open a fresh session on the share link for (lon, lat); wait for the answer and the run's end."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    out = Lookup()
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            async with connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=LOOKUP_TIMEOUT_S) as ws:
                await ws.send(_rerun_request(lon, lat))
                while True:
                    fm = ForwardMsg()
                    fm.ParseFromString(await ws.recv())
                    kind = fm.WhichOneof("type")
                    if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                        element = fm.delta.new_element
                        etype = element.WhichOneof("type")
                        if etype == "exception":
                            out.error = f"exception shown: {element.exception.type}"
                        elif etype == "html" and "class='rm-sites'" in element.html.body and out.answer_s is None:
                            out.answer_s = time.perf_counter() - t0
                            found = element.html.body.count("data-distance-m=")
                            if found != K:
                                out.error = f"answer with {found} sites instead of {K}"
                    elif kind == "script_finished":
                        out.finished_s = time.perf_counter() - t0
                        break
    except TimeoutError:
        out.error = f"timeout ({LOOKUP_TIMEOUT_S:.0f} s)"
    except (OSError, WebSocketException) as exc:
        out.error = f"connection: {type(exc).__name__}"
    if out.error is None and out.answer_s is None:
        out.error = "page run ended without an answer"
    return out


async def _phase(ws_url: str, points: list[tuple[float, float]], clients: int) -> Phase:
    """``clients`` clients at once, each working through its share of ``points`` one by one."""
    shares = [points[i::clients] for i in range(clients)]
    results: list[Lookup] = []
    deadline = time.monotonic() + PHASE_LIMIT_S

    async def client(share: list[tuple[float, float]]) -> None:
        for lon, lat in share:
            if time.monotonic() > deadline:
                results.append(Lookup(error="not started: phase time limit"))
                continue
            results.append(await lookup(ws_url, lon, lat))

    t0 = time.perf_counter()
    await asyncio.gather(*(client(s) for s in shares))
    return Phase(clients=clients, wall_s=time.perf_counter() - t0, lookups=results)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _rows(seq: Phase, load: Phase) -> list[dict]:
    a_seq = [x.answer_s for x in seq.ok]
    a_load = [x.answer_s for x in load.ok]
    f_seq = [x.finished_s for x in seq.ok if x.finished_s is not None]
    f_load = [x.finished_s for x in load.ok if x.finished_s is not None]
    base_name = f"the same kind of lookups one at a time (1 client, {len(seq.lookups)} lookups)"
    common = {
        "clients": load.clients,
        "lookups": len(load.lookups),
        "value_errors": sum(load.errors.values()),
        "value_baseline_errors": sum(seq.errors.values()),
    }
    rows = []
    for label, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)):
        v, b = _pct(a_load, q), _pct(a_seq, q)
        rows.append({
            "name": f"resident_load_latency_{label}", "unit": "s", "value": round(v, 3), "baseline": round(b, 3),
            "baseline_name": base_name, "ratio": round(v / b, 2) if b else None,
            "ratio_meaning": f"{load.clients} clients at once / one at a time (higher = slower under load)",
            **common,
        })
    v, b = statistics.median(f_load) if f_load else float("nan"), statistics.median(f_seq) if f_seq else float("nan")
    rows.append({
        "name": "resident_load_page_run_p50", "unit": "s", "value": round(v, 3), "baseline": round(b, 3),
        "baseline_name": base_name + "; whole page run incl. the map", "ratio": round(v / b, 2) if b else None,
        "ratio_meaning": "under load / one at a time", **common,
    })
    tp_load = len(load.ok) / load.wall_s
    tp_seq = len(seq.ok) / seq.wall_s
    rows.append({
        "name": "resident_load_throughput", "unit": "lookups/s", "value": round(tp_load, 2), "baseline": round(tp_seq, 2),
        "baseline_name": base_name, "ratio": round(tp_load / tp_seq, 2) if tp_seq else None,
        "ratio_meaning": f"{load.clients} clients at once / one at a time (higher = better)",
        "value_errors_by_kind": dict(load.errors), "value_baseline_errors_by_kind": dict(seq.errors),
        "wall_s": round(load.wall_s, 2), "baseline_wall_s": round(seq.wall_s, 2), **common,
    })
    return rows


def run() -> list[dict]:
    from data.demo import build_demo, demo_meta
    from layers.store.gpkg import write_new_store

    tmp = Path(tempfile.mkdtemp(prefix="riskmap-load-"))
    store = tmp / "riskmap.gpkg"
    write_new_store(store, build_demo(20220328), meta=demo_meta(20220328))
    points = random_points(BASELINE_LOOKUPS + CLIENTS * LOOKUPS_PER_CLIENT + 2)
    proc, url = serve(ROOT / "dashboard" / "server.py", store, limit_s=int(3 * PHASE_LIMIT_S + 120))
    ws_url = url.replace("http://", "ws://", 1) + "/_stcore/stream"
    try:
        warm = asyncio.run(_phase(ws_url, points[:2], 1))  # caches and imports, not counted
        if warm.errors:
            msg = f"warm-up lookups failed: {dict(warm.errors)}"
            raise RuntimeError(msg)
        seq = asyncio.run(_phase(ws_url, points[2 : 2 + BASELINE_LOOKUPS], 1))
        load = asyncio.run(_phase(ws_url, points[2 + BASELINE_LOOKUPS :], CLIENTS))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return _rows(seq, load)
