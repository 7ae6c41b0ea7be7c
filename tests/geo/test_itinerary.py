"""我去过风险区吗？ One anonymous itinerary: the entries and zones each stay met, and the outcome
by the screening rules in force (geo.itinerary)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.itinerary import MAX_STAYS, ItineraryError, Stay, check_itinerary

TODAY = dt.date(2022, 3, 28)
FENGTAI = "安徽省淮南市凤台县"


@pytest.fixture(scope="module")
def context():
    from layers.boundaries import gazetteer
    from layers.rules import load_rule_sets

    return gazetteer(), load_rule_sets()


def _risk(since="2022-03-16", lifted="2022-04-12", level="medium", area="凤台县演示风险区1"):
    return pd.DataFrame({
        "level": [level], "province": ["安徽省"], "city": ["淮南市"], "county": ["凤台县"], "adcode": ["340421"],
        "area_name": [area], "since": [pd.Timestamp(since)], "lifted": [pd.Timestamp(lifted) if lifted else pd.NaT],
    })


ZONE = gpd.GeoDataFrame({"id": ["Z1"], "tier": ["sealed"], "name": ["通达街社区封控区"],
                         "start": [pd.Timestamp("2022-03-25")], "lifted": [pd.NaT]},
                        geometry=[shapely.box(112.55, 37.80, 112.56, 37.81)], crs="EPSG:4326")


def _check(context, stays, risk=None, zones=ZONE):
    gaz, rules = context
    return check_itinerary(stays, risk_areas=_risk() if risk is None else risk, zones=zones, gazetteer=gaz,
                           rules=rules, today=TODAY)


def test_a_stay_in_a_risk_area_while_it_was_listed_is_red(context):
    ans = _check(context, [Stay(FENGTAI + "凤台县演示风险区1", dt.date(2022, 3, 14), dt.date(2022, 3, 22))])
    (stay,) = ans.stays
    assert stay.resolved == FENGTAI and stay.status == "ok"
    assert list(stay.entries["scope"]) == ["area"] and list(stay.entries["level"]) == ["medium"]
    assert ans.outcome["code"] == "red"
    assert "risk_area" in set(ans.obligations["kind"])  # what it asks, each with its deadline
    assert ans.obligations["due"].notna().all()


def test_an_entry_counts_from_the_day_it_is_listed_until_the_day_before_it_is_lifted(context):
    on_the_day = _check(context, [Stay(FENGTAI, dt.date(2022, 3, 10), dt.date(2022, 3, 16))])
    assert len(on_the_day.stays[0].entries) == 1  # left on the listing day: counts
    before = _check(context, [Stay(FENGTAI, dt.date(2022, 3, 10), dt.date(2022, 3, 15))])
    assert before.stays[0].entries.empty  # left the day before it was listed
    lifted = _check(context, [Stay(FENGTAI, dt.date(2022, 3, 20), dt.date(2022, 3, 22))], risk=_risk(lifted="2022-03-20"))
    assert lifted.stays[0].entries.empty  # lifted on the day of arrival: no longer in force
    assert lifted.outcome["code"] != "red"
    # an entry lifted since still counts for a stay while it was listed (the time machine, not today's list)
    earlier = _check(context, [Stay(FENGTAI, dt.date(2022, 3, 16), dt.date(2022, 3, 19))], risk=_risk(lifted="2022-03-20"))
    assert len(earlier.stays[0].entries) == 1 and earlier.outcome["code"] == "red"


def test_a_place_named_only_to_the_city_meets_its_entries_and_asks_to_verify(context):
    ans = _check(context, [Stay("安徽省淮南市", dt.date(2022, 3, 20), dt.date(2022, 3, 22))])
    assert list(ans.stays[0].entries["scope"]) == ["city"]
    assert ans.outcome["code"] in ("yellow", "pending")


def test_a_place_not_found_is_said_and_the_outcome_is_pending(context):
    ans = _check(context, [Stay("火星基地", dt.date(2022, 3, 20), dt.date(2022, 3, 22))])
    assert ans.stays[0].resolved == "" and ans.stays[0].status != "ok"
    assert ans.outcome["code"] == "pending"


def test_zones_in_force_at_a_point_of_the_city_during_the_stay(context):
    inside = Stay("太原市小店区", dt.date(2022, 3, 24), dt.date(2022, 3, 28), 112.555, 37.805)
    ans = _check(context, [inside])
    assert list(ans.stays[0].zones["name"]) == ["通达街社区封控区"]
    gone = _check(context, [Stay("太原市小店区", dt.date(2022, 3, 20), dt.date(2022, 3, 24), 112.555, 37.805)])
    assert gone.stays[0].zones.empty  # left before the zone began
    no_point = _check(context, [Stay("太原市小店区", dt.date(2022, 3, 24), dt.date(2022, 3, 28))])
    assert no_point.stays[0].zones.empty  # zones are checked at points only


@pytest.mark.parametrize(
    ("stays", "said"),
    [
        ([], "at least one stay"),
        ([Stay(FENGTAI, dt.date(2022, 3, 22), dt.date(2022, 3, 20))], "stay 1: left on 2022-03-20, before arriving"),
        ([Stay(FENGTAI, dt.date(2022, 3, 27), dt.date(2022, 3, 29))], "after today"),
        ([Stay(FENGTAI, dt.date(2022, 3, 1), dt.date(2022, 3, 5))], "14-day window"),
        ([Stay("", dt.date(2022, 3, 20), dt.date(2022, 3, 21))], "enter the place"),
        ([Stay(FENGTAI, dt.date(2022, 3, 20), None)], "stay 1: enter the days you arrived and left"),
        ([Stay(FENGTAI, dt.date(2022, 3, 20), dt.date(2022, 3, 21))] * (MAX_STAYS + 1), "at most 14"),
    ],
)
def test_an_itinerary_that_cannot_be_checked_is_refused_in_both_languages(context, stays, said):
    with pytest.raises(ItineraryError, match=said) as info:
        _check(context, stays)
    assert " / " in str(info.value)  # Chinese, then English
