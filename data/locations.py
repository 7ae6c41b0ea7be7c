"""Demo location records for 时空伴随 detection (seeded, deterministic; documented in DEMO.md).

Real phone-location records cannot exist offline. This generator makes a record set large enough
to matter (10 million by default) with the structure companions are found in: every device has a
home (nights, 20:00–08:00 with jitter) and, on weekdays, a workplace (09:00–17:00); in between it
visits shared places (markets, malls, stations: a pool of a few thousand points, weighted so some
are busy) for 10–90 minutes. Homes cluster around the urban centre of Taiyuan; households are not
modelled. Device ids are pseudonymous hashes (16 hex digits), never phone numbers. ``n_cases``
devices are cases, infectious from 3–10 days before the as-of day.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["demo_locations"]

CENTRE = (112.55, 37.86)  # Taiyuan's urban centre (WGS-84)
DAYS = 14


def _ids(n: int, seed: int) -> np.ndarray:
    return np.array([hashlib.sha256(f"riskmap-demo-device|{seed}|{i}".encode()).hexdigest()[:16] for i in range(n)])


def demo_locations(n_records: int = 10_000_000, *, n_cases: int = 100, seed: int = 20220328,
                   as_of: str = "2022-03-28") -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(records, cases)``: records ``device`` (categorical), ``lon``, ``lat``, ``start``,
    ``end`` over the 14 days up to ``as_of``; cases ``device``, ``infectious_from``, ``infectious_to``."""
    rng = np.random.default_rng(seed)
    per_device = 50  # 14 nights + ~10 working days + ~26 visits
    n_dev = max(n_cases + 1, n_records // per_device)
    day0 = pd.Timestamp(as_of) - pd.Timedelta(days=DAYS - 1)
    # places: homes near the centre (a normal spread of ~6 km), workplaces more central, shared places
    km = 1 / 111.0
    home = np.column_stack([CENTRE[0] + rng.normal(0, 6 * km / 0.79, n_dev), CENTRE[1] + rng.normal(0, 6 * km, n_dev)])
    work = np.column_stack([CENTRE[0] + rng.normal(0, 3 * km / 0.79, n_dev), CENTRE[1] + rng.normal(0, 3 * km, n_dev)])
    n_places = max(100, n_dev // 50)
    places = np.column_stack([CENTRE[0] + rng.normal(0, 5 * km / 0.79, n_places), CENTRE[1] + rng.normal(0, 5 * km, n_places)])
    popularity = rng.pareto(1.5, n_places) + 1
    popularity /= popularity.sum()

    dev_n = np.repeat(np.arange(n_dev), DAYS)
    day_n = np.tile(np.arange(DAYS), n_dev)
    # nights at home: 20:00 ± 1 h to 08:00 ± 1 h the next morning
    n_start = day0 + pd.to_timedelta(day_n * 1440 + 1200 + rng.normal(0, 60, len(day_n)), unit="min")
    n_end = n_start + pd.to_timedelta(rng.uniform(10, 13, len(day_n)), unit="h")
    # weekday work: 09:00–17:00 ± 30 min
    weekday = ((day0.day_of_week + day_n) % 7) < 5
    w_dev, w_day = dev_n[weekday], day_n[weekday]
    w_start = day0 + pd.to_timedelta(w_day * 1440 + 540 + rng.normal(0, 30, len(w_day)), unit="min")
    w_end = w_start + pd.to_timedelta(rng.uniform(7, 9, len(w_day)), unit="h")
    # visits to shared places fill the rest, at any waking hour
    n_visits = max(0, n_records - len(dev_n) - len(w_dev))
    v_dev = rng.integers(0, n_dev, n_visits)
    v_place = rng.choice(n_places, n_visits, p=popularity)
    v_start = day0 + pd.to_timedelta(rng.integers(0, DAYS, n_visits) * 1440 + rng.uniform(7 * 60, 22 * 60, n_visits), unit="min")
    v_end = v_start + pd.to_timedelta(rng.uniform(10, 90, n_visits), unit="min")
    jitter = rng.normal(0, 0.03 * km, (n_visits, 2))  # about 30 m around the place
    dev = np.concatenate([dev_n, w_dev, v_dev])
    xy = np.concatenate([home[dev_n], work[w_dev], places[v_place] + jitter])
    start = np.concatenate([n_start.to_numpy(), w_start.to_numpy(), v_start.to_numpy()])
    end = np.concatenate([n_end.to_numpy(), w_end.to_numpy(), v_end.to_numpy()])
    order = np.argsort(start, kind="stable")
    names = _ids(n_dev, seed)
    records = pd.DataFrame({
        "device": pd.Categorical.from_codes(dev[order], categories=names),
        "lon": xy[order, 0].round(6), "lat": xy[order, 1].round(6),
        "start": pd.to_datetime(start[order]).floor("s"), "end": pd.to_datetime(end[order]).floor("s"),
    })
    case_dev = rng.choice(n_dev, n_cases, replace=False)
    cases = pd.DataFrame({
        "device": names[case_dev],
        "infectious_from": (pd.Timestamp(as_of) - pd.to_timedelta(rng.integers(3, 11, n_cases), unit="D")).strftime("%Y-%m-%d"),
        "infectious_to": as_of,
    })
    return records, cases
