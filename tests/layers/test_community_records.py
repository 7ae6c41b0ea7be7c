"""Community daily reports on both backends: an edit is a revision, a stale save is refused with
who and when, and a grid worker's scope reads only their neighbourhoods' reports."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

import pytest

from geo.community import CommunityReportError
from geo.errors import StaleWrite
from layers.community import load_reports, report_history, save_report

AT = datetime(2022, 3, 28, 16, 0)
CUT = dt.time(18, 0)
SYSTEM = {"new_arrivals": 0, "new_arrivals_key": 0, "under_home": 3, "followed_up": 1, "abnormal_checkins": 0}


def test_a_report_is_revised_never_overwritten(records):
    first = save_report(records, "N1", "2022-03-28", {}, zero=True, system=SYSTEM, based_on=0, user="wang", at=AT, cutoff=CUT)
    assert (first.version, first.action, first.scope) == (1, "zero_report", "N1")
    with pytest.raises(StaleWrite, match="recorded by wang at 2022-03-28 16:00 — reload"):
        save_report(records, "N1", "2022-03-28", {"tests": 30}, zero=False, system=SYSTEM, based_on=0, user="li", at=AT, cutoff=CUT)
    with pytest.raises(CommunityReportError, match="file a daily report"):
        save_report(records, "N1", "2022-03-28", {}, zero=True, system={**SYSTEM, "new_arrivals": 1}, based_on=1, user="li", at=AT,
                    cutoff=CUT)
    second = save_report(records, "N1", "2022-03-28", {"tests": 30, "abnormal": "一户拒绝采样"}, zero=False, system=SYSTEM,
                         based_on=1, user="li", at=AT, cutoff=CUT)
    assert (second.version, second.action) == (2, "revise_report")
    hist = report_history(records, "N1", "2022-03-28")
    assert [(h.version, h.saved_by, h.data["zero"]) for h in hist] == [(1, "wang", True), (2, "li", False)]
    assert load_reports(records, scopes=["N1"])["tests"].tolist() == [30]
    assert load_reports(records, scopes=["N2"]).empty
