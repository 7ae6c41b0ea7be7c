"""日报告 / 零报告 from every community (geo/community.py): the system's figures, a zero report
refused when the system holds something to report, missing after the cut-off, the roll-up
neighbourhood → street → district → city, and the city report's figures from it."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

import pandas as pd
import pytest

from geo.community import (
    CommunityReportError,
    city_report_figures,
    parse_cutoff,
    report_state,
    report_status,
    reports_frame,
    rollup,
    system_figures,
)
from layers.store.records import Record

DAY = "2022-03-28"
CUT = dt.time(18, 0)
AT = datetime(2022, 3, 28, 16, 30)
NB = pd.DataFrame({
    "id": ["A", "B", "C", "D"], "name": ["甲社区", "乙社区", "丙社区", "丁社区"],
    "street": ["一街道", "一街道", "二街道", "三街道"], "district": ["小店区", "小店区", "小店区", "迎泽区"],
})
NOTHING = {"new_arrivals": 0, "new_arrivals_key": 0, "under_home": 3, "followed_up": 2, "abnormal_checkins": 0}


def _reports(*items: tuple[str, dict, str]) -> pd.DataFrame:
    return reports_frame(Record("community_report", f"{nb}|{DAY}", 1, nb, "r", data, "wang", "") for nb, data, _ in items)


def test_a_zero_report_records_the_systems_figures():
    s = report_state({}, zero=True, system=NOTHING, day=DAY, at=AT, cutoff=CUT)
    assert (s["zero"], s["under_home"], s["followed_up"], s["tests"], s["late"]) == (True, 3, 2, 0, False)


@pytest.mark.parametrize(
    ("system", "fields", "match"),
    [
        ({**NOTHING, "new_arrivals": 2}, {}, "New arrivals registered: 2 today: file a daily report"),
        ({**NOTHING, "abnormal_checkins": 1}, {}, "fever or symptom: 1 today"),
        (NOTHING, {"abnormal": "一户拒绝入户"}, "something abnormal was written"),
    ],
)
def test_a_zero_report_is_refused_when_there_is_something_to_report(system, fields, match):
    with pytest.raises(CommunityReportError, match=match):
        report_state(fields, zero=True, system=system, day=DAY, at=AT, cutoff=CUT)


def test_a_daily_report_starts_from_the_system_and_takes_the_reporters_figures():
    s = report_state({"tests": "120", "under_home": 4, "abnormal": "  丙楼一户发热已上报 "}, zero=False,
                     system={**NOTHING, "new_arrivals": 2, "new_arrivals_key": 1}, day=DAY, at=AT, cutoff=CUT)
    assert (s["new_arrivals"], s["new_arrivals_key"], s["under_home"], s["tests"], s["abnormal"]) == (2, 1, 4, 120, "丙楼一户发热已上报")
    with pytest.raises(CommunityReportError) as err:
        report_state({"tests": -1, "under_home": 2.5, "new_arrivals": 0, "new_arrivals_key": 1}, zero=False, system=NOTHING,
                     day=DAY, at=AT, cutoff=CUT)
    for part in ("Samples taken today must be a whole number", "People kept at home must be", "cannot exceed the new arrivals"):
        assert part in str(err.value)
    with pytest.raises(CommunityReportError, match="future day"):
        report_state({}, zero=True, system=NOTHING, day="2022-03-29", at=AT, cutoff=CUT)
    assert report_state({}, zero=True, system=NOTHING, day=DAY, at=datetime(2022, 3, 28, 18, 1), cutoff=CUT)["late"]


def test_missing_only_after_the_cut_off():
    reps = _reports(("A", report_state({}, zero=True, system=NOTHING, day=DAY, at=AT, cutoff=CUT), ""))
    before = report_status(NB, reps, day=DAY, now=datetime(2022, 3, 28, 17, 0), cutoff=CUT).set_index("id")["status"]
    assert before.to_dict() == {"A": "zero", "B": "not_yet", "C": "not_yet", "D": "not_yet"}
    after = report_status(NB, reps, day=DAY, now=datetime(2022, 3, 28, 18, 30), cutoff=CUT).set_index("id")["status"]
    assert after.to_dict() == {"A": "zero", "B": "missing", "C": "missing", "D": "missing"}
    # a report saved after the moment looked at does not count for it
    assert report_status(NB, reps, day=DAY, now=datetime(2022, 3, 28, 16, 0), cutoff=CUT).set_index("id").loc["A", "status"] == "not_yet"


def test_the_roll_up_counts_every_neighbourhood_and_sums_the_reports():
    a = report_state({}, zero=True, system=NOTHING, day=DAY, at=AT, cutoff=CUT)
    b = report_state({"tests": 50, "abnormal": "一人发热"}, zero=False, system={**NOTHING, "new_arrivals": 2, "new_arrivals_key": 2},
                     day=DAY, at=AT, cutoff=CUT)
    d = report_state({"tests": 7}, zero=False, system=NOTHING, day=DAY, at=datetime(2022, 3, 28, 19, 0), cutoff=CUT)
    status = report_status(NB, _reports(("A", a, ""), ("B", b, ""), ("D", d, "")), day=DAY, now=datetime(2022, 3, 28, 20, 0), cutoff=CUT)
    city = rollup(status, None).iloc[0]
    assert (city["neighbourhoods"], city["zero"], city["reported"], city["late"], city["missing"]) == (4, 1, 1, 1, 1)
    assert (city["new_arrivals"], city["tests"], city["under_home"]) == (2, 57, 9)
    assert city["reported_pct"] == 75.0
    assert city["abnormal"] == "乙社区：一人发热"
    by_street = rollup(status, "street").set_index("street")
    assert by_street["neighbourhoods"].to_dict() == {"一街道": 2, "二街道": 1, "三街道": 1}
    assert by_street.loc["二街道", "missing"] == 1
    by_district = rollup(status, "district").set_index("district")
    assert by_district.loc["小店区", "tests"] == 50 and by_district.loc["迎泽区", "late"] == 1
    assert city_report_figures(status) == {"returnees_key_regions": 2, "tests": 57}


def test_the_systems_figures_per_neighbourhood():
    from types import SimpleNamespace

    t = pd.DataFrame({"id": ["T1", "T2", "T3"], "neighbourhood_id": ["A", "A", "B"],
                      "arrival_date": pd.to_datetime([DAY, DAY, "2022-03-20"]), "assigned_code": ["red", "green", "yellow"]})
    checkins = pd.DataFrame({"traveller_id": ["T3", "T1"], "day": pd.to_datetime([DAY, DAY]), "abnormal": [True, False]})
    states = pd.DataFrame({"traveller_id": ["T1", "T3"], "at": pd.to_datetime(["2022-03-28 09:00", "2022-03-27 09:00"])})
    got = system_figures(SimpleNamespace(travellers=t), states, checkins, day=DAY)
    assert got.loc["A"].to_dict() == {"new_arrivals": 2, "new_arrivals_key": 1, "under_home": 1, "followed_up": 1, "abnormal_checkins": 0}
    assert got.loc["B"].to_dict() == {"new_arrivals": 0, "new_arrivals_key": 0, "under_home": 1, "followed_up": 0, "abnormal_checkins": 1}


def test_cut_off():
    assert parse_cutoff(" 18:30") == dt.time(18, 30)
    with pytest.raises(CommunityReportError, match="HH:MM"):
        parse_cutoff("6pm")
