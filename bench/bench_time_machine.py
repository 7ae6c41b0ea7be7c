"""时间回放: one step of the command page's time machine on the demo store, beside rebuilding the
map for that day (what a slider without the in-place overlay would do), in the same run.

* ``time_machine_step``: mean server time of one step over the 30 days up to the scenario day —
  the day's zones and risk areas from their lifetimes (lifted ones faded), its figures and the
  overlay script the mounted map evaluates (:func:`dashboard.time_machine_ui.day_overlay`). The
  target is under 300 ms. Baseline: for the same days, a whole map built and rendered with the
  day's layers (boundaries, neighbourhoods, hotels, zones, risk areas: ``build_map`` +
  ``prepare_map``), which is what the browser would also have to redraw from scratch.
"""

from __future__ import annotations

import time

import pandas as pd


def run() -> list[dict]:
    from dashboard.mapview import build_map, prepare_map
    from dashboard.settings import Settings
    from dashboard.time_machine_ui import day_overlay
    from data.demo import SCENARIO_TODAY, build_demo
    from layers import get_spec
    from layers.time_machine import on_day

    layers = build_demo(20220328)
    zones = get_spec("zones").coerce(layers["zones"])
    risk = get_spec("risk_areas").coerce(layers["risk_areas"])
    hotels = get_spec("hotels").coerce(layers["hotels"])
    settings = Settings()
    days = list(pd.date_range(end=pd.Timestamp(SCENARIO_TODAY), periods=30, freq="D"))
    day_overlay(zones, risk, days[0], fade_days=7, lang="zh", crs="wgs84", province="山西省", hotels=hotels)  # warm caches

    t0 = time.perf_counter()
    sizes = []
    for d in days:
        script, _ = day_overlay(zones, risk, d, fade_days=7, lang="zh", crs="wgs84", province="山西省", hotels=hotels)
        sizes.append(len(script))
    step = (time.perf_counter() - t0) / len(days)

    sample = days[::6]  # the baseline is slow: 5 days of the 30
    t0 = time.perf_counter()
    for d in sample:
        day = on_day(zones, risk, d, fade_days=7, hotels=hotels)
        frames = {"neighbourhoods": layers["neighbourhoods"], "hotels": day.hotels, "zones": day.zones,
                  "risk_areas": day.risk_areas}
        prepare_map(build_map(settings, "zh", frames, render_options={"zones": {"as_of": d}}))
    rebuild = (time.perf_counter() - t0) / len(sample)
    return [
        {
            "name": "time_machine_step",
            "unit": "s",
            "value": round(step, 4),
            "baseline": round(rebuild, 4),
            "baseline_name": "the whole map rebuilt for the day (build_map + prepare_map; 5 of the 30 days)",
            "ratio": round(rebuild / step, 1),
            "overlay_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        }
    ]
