"""Queue levels (geo/queue.py): the report's rules, staleness at the edge, the public payload and
the "not crowded" filter."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from geo.queue import QueueError, age_text, not_crowded, public_queue, queue_report, queue_states
from layers.store.records import Record

AT = datetime(2022, 3, 28, 9, 0)


def _rec(site: str, level: str, at: datetime, wait=None) -> Record:
    return Record("site_queue", site, 1, site, "report_queue", queue_report(level, wait, at=at), "s1", "")


@pytest.mark.parametrize(("level", "wait", "why"), [
    ("jammed", None, "unknown queue level 'jammed'"), ("busy", "ten", "the wait must be whole minutes"),
    ("busy", -1, "the wait must be 0 to 600 minutes"), ("busy", 601, "the wait must be 0 to 600 minutes"),
])
def test_a_bad_report_is_refused_in_both_languages(level, wait, why):
    with pytest.raises(QueueError, match=why) as exc:
        queue_report(level, wait, at=AT)
    assert " / " in str(exc.value) and any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value))


def test_a_report_goes_stale_after_the_setting_and_never_shows_an_old_level():
    recs = [_rec("S1", "crowded", AT, 40), _rec("S2", "smooth", datetime(2022, 3, 28, 9, 30))]
    at_60 = queue_states(recs, now="2022-03-28 10:00", stale_minutes=60).set_index("site_id")
    assert at_60.loc["S1", "level"] == "crowded" and at_60.loc["S1", "wait_min"] == 40 and at_60.loc["S1", "age_min"] == 60
    at_61 = queue_states(recs, now="2022-03-28 10:00:01", stale_minutes=60).set_index("site_id")
    assert at_61.loc["S1", "level"] is None and pd.isna(at_61.loc["S1", "wait_min"]) and not at_61.loc["S1", "fresh"]
    assert at_61.loc["S1", "reported_level"] == "crowded"  # kept for the staff's history, not shown as now
    assert at_61.loc["S2", "level"] == "smooth"
    # a report made after the moment asked about is not in force yet
    before = queue_states(recs, now="2022-03-28 08:59", stale_minutes=60).set_index("site_id")
    assert before["level"].isna().all()


def test_the_public_payload_is_the_level_and_the_time_only():
    recs = [_rec("S1", "busy", AT, 25), _rec("S2", "paused", datetime(2022, 3, 28, 7, 0))]
    pub = public_queue(queue_states(recs, now="2022-03-28 09:10", stale_minutes=60))
    assert pub == {"S1": ("busy", "2022-03-28 09:00")}


def test_not_crowded_leaves_out_crowded_and_paused_only():
    queue = {"S1": ("smooth", "t"), "S2": ("busy", "t"), "S3": ("crowded", "t"), "S4": ("paused", "t")}
    assert not_crowded(["S1", "S2", "S3", "S4", "S5"], queue).tolist() == [True, True, False, False, True]


def test_paused_has_no_wait_and_age_text():
    assert queue_report("paused", 30, at=AT)["wait_min"] is None
    assert age_text("2022-03-28 09:00", "2022-03-28 09:00:30", "zh") == "刚刚"
    assert age_text("2022-03-28 09:00", "2022-03-28 09:12", "en") == "12 min ago"
    assert age_text("2022-03-28 07:00", "2022-03-28 09:12", "zh") == "2 小时前"
