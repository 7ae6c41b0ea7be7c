"""The screening classifier phase by phase (geo._classify): each phase has a name and its own cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import _classify as c
from geo._gazetteer_match import PlaceIndex
from layers.boundaries import gazetteer
from layers.rules import rule_set_for

RS = rule_set_for("2022-03-28")
DAY = int(np.datetime64("2022-03-28", "D").astype(np.int64))
ARR = int(np.datetime64("2022-03-26", "D").astype(np.int64))


@pytest.fixture(scope="module")
def idx() -> PlaceIndex:
    return PlaceIndex.from_gazetteer(gazetteer())


@pytest.mark.parametrize(
    ("detail", "stem"),
    [("周浦镇瑞安小区", "周浦"), ("潍坊新村街道", "潍坊新村"), ("七宝镇", "七宝"), ("某某乡某村", "某某"), ("瑞安小区", ""), ("", "")],
)
def test_street_stem(detail: str, stem: str) -> None:
    assert c.street_stem(detail) == stem


def _stays(idx: PlaceIndex, places: list[str], codes: c.Codes) -> c.Stays:
    v = pd.DataFrame({"place": places, "adcode": [None] * len(places), "from_date": ["2022-03-20"] * len(places), "to_date": ["2022-03-22"] * len(places)})
    return c.resolve_stays(v, np.zeros(len(places), dtype=np.int64), np.array([ARR]), 14, idx, "140000", codes)


def test_resolve_stays_keeps_what_the_gazetteer_does_not_know(idx) -> None:
    st = _stays(idx, ["江苏省南京市江宁区秣陵街道", "浙江省杭州市某某县", "上海市浦东新区浦东新区某小区", "杭州湾新区", "山西省大同市平城区"], c.Codes())
    assert st.level.tolist() == ["county", "city", "county", "", "county"]
    assert st.detail.tolist() == ["秣陵街道", "某某县", "某小区", "", ""]
    assert st.ok.tolist() == [True, True, True, False, True]
    assert st.home.tolist() == [False, False, False, False, True]
    assert st.muni.tolist() == [False, False, True, False, False]


def test_prepare_entries_whole_county_streets_and_notices(idx) -> None:
    risk = pd.DataFrame(
        {
            "id": ["A", "B", "C"],
            "level": ["medium", "high", "high"],
            "adcode": ["420115", "310112", "420704"],
            "area_name": [None, "闵行区七宝镇演示小区", "鄂城区演示风险区1"],
            "since": pd.to_datetime(["2022-03-01", "2022-03-01", "2022-03-20"]),
            "lifted": pd.to_datetime([None, None, None]),
        }
    )
    ent = c.prepare_entries(risk, idx, DAY, c.Codes(), RS)
    assert ent.whole[:3].tolist() == [True, False, False]
    assert ent.area_key[:3].tolist() == ["", "七宝镇演示小区", "演示风险区1"]
    assert ent.street[:3].tolist() == ["", "七宝", ""]
    # 鄂州 is named by a notice from 13 March: its entry looks back to that day
    assert [str(np.datetime64(int(d), "D")) for d in ent.since[:3]] == ["2022-03-01", "2022-03-01", "2022-03-13"]
    assert int(ent.notice.sum()) == len(RS.notices) and set(ent.level[3:]) == {"notice"}


@pytest.mark.parametrize(
    ("place", "rule", "issue"),
    [
        ("湖北省武汉市江夏区", "risk_area", 0),  # whole county
        ("湖北省武汉市武昌区", "affected_city", 0),
        ("湖北省武汉市", None, c.I_COUNTY),  # could be 江夏区
        ("上海市闵行区七宝镇", "risk_county", 0),
        ("上海市闵行区莘庄镇", "affected_city", 0),
        ("上海市闵行区", None, c.I_STREET),
    ],
)
def test_match_stays_relations(idx, place: str, rule: str | None, issue: int) -> None:
    codes = c.Codes()
    risk = pd.DataFrame(
        {"id": ["A", "B"], "level": ["medium", "high"], "adcode": ["420115", "310112"], "area_name": [None, "闵行区七宝镇演示小区"],
         "since": pd.to_datetime(["2022-03-01", "2022-03-01"]), "lifted": pd.to_datetime([None, None])}
    )
    st = _stays(idx, [place], codes)
    ent = c.prepare_entries(risk, idx, DAY, codes, RS)
    f = c.match_stays(st, ent, RS)
    assert (RS.rules[f.rank[0]].id if f.rank[0] >= 0 else None, int(f.issues[0])) == (rule, issue)


def test_summarise_strictest_open_and_latest_end() -> None:
    # traveller 0: red (ended) + yellow push (open) → yellow now, red assigned, end = the red's end
    ob = c.Obligations(
        t=np.array([0, 0, 1]), kind=np.array([2, 9, 10]), stay=np.array([-1, -1, -1]), entry=np.array([-1, -1, -1]),
        code=np.array(["red", "yellow", "green"], dtype=object), severity=np.array([3, 1, 0]), priority=np.array([30, 80, 10**9]),
        start=np.array([100, 100, 100]), end=np.array([120, c._NA, c._NA]), due=np.array([2448, 2448, 2424]),
        closed=np.array([True, False, True]), lapsed=np.array([False, False, False]), community=np.array([True, True, False]),
        overdue=np.array([False, True, False]),
    )
    sm = c.summarise(ob, 3)
    assert sm.code.tolist() == ["yellow", "green", "green"]
    assert sm.assigned_code.tolist() == ["red", "green", "green"]
    assert sm.measure_end[0] == 120 and sm.lifted.tolist() == [False, True, False]
    assert sm.overdue.tolist() == [True, False, False]
