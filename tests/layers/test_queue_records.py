"""Queue reports as versioned records (layers/queue.py) on both backends: an unknown site or level
is refused, two reports a moment apart both land in order, the newest is the site's level."""

from __future__ import annotations

from datetime import datetime

import pytest

from geo.queue import KIND, QueueError
from layers.queue import load_queue, report_queue

SITES = {"S1", "S2"}


def test_reports_land_in_order_and_the_newest_counts(records):
    report_queue(records, "S1", "busy", 20, sites=SITES, user="site1", at=datetime(2022, 3, 28, 9, 0))
    report_queue(records, "S1", "crowded", "45", sites=SITES, user="cmd", at=datetime(2022, 3, 28, 9, 1))
    hist = records.history(KIND, "S1")
    assert [(h.version, h.data["level"], h.saved_by) for h in hist] == [(1, "busy", "site1"), (2, "crowded", "cmd")]
    q = load_queue(records, now=datetime(2022, 3, 28, 9, 30), stale_minutes=60).set_index("site_id")
    assert q.loc["S1", "level"] == "crowded" and q.loc["S1", "wait_min"] == 45


@pytest.mark.parametrize(("site", "level", "wait", "why"), [
    ("S9", "busy", None, "no testing site 'S9'"), ("S1", "jammed", None, "unknown queue level"),
    ("S1", "busy", "1e3", "whole minutes"),
])
def test_a_bad_report_saves_nothing(records, site, level, wait, why):
    with pytest.raises(QueueError, match=why):
        report_queue(records, site, level, wait, sites=SITES, user="site1", at=datetime(2022, 3, 28, 9, 0))
    assert records.current(KIND) == []


def test_site_staff_report_only_for_their_own_sites(records):
    with pytest.raises(QueueError, match="you do not answer for testing site S2"):
        report_queue(records, "S2", "busy", sites=SITES, user="site1", at=datetime(2022, 3, 28, 9, 0), allowed=("S1",))
    assert records.current(KIND) == []
    report_queue(records, "S1", "busy", sites=SITES, user="site1", at=datetime(2022, 3, 28, 9, 0), allowed=("S1",))
    assert [r.key for r in records.current(KIND)] == ["S1"]
