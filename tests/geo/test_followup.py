"""Follow-up (geo/followup.py): obligation state open → done → closed → lifted, hand-over,
push verification, the one overdue definition (against a slow reference), the task list order."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard.roles import screening_in_scope
from geo.followup import (
    CheckinError,
    FollowupError,
    apply_followup,
    checkin_figures,
    checkin_items,
    checkin_key,
    checkin_state,
    checkins_frame,
    followup_figures,
    home_days,
    next_state,
    record_key,
    states_frame,
    task_list,
    time_left,
)
from geo.screening import screen
from layers.boundaries import gazetteer
from layers.rules import load_rule_sets
from layers.store.records import Record

AS_OF = "2022-03-28"
NOW = pd.Timestamp("2022-03-28 10:00")
RISK = pd.DataFrame(
    [("R1", "high", "浙江省", "杭州市", "上城区", "330102", "上城区演示风险区1", "2022-03-01", None)],
    columns=["id", "level", "province", "city", "county", "adcode", "area_name", "since", "lifted"],
).assign(since=lambda d: pd.to_datetime(d["since"]), lifted=lambda d: pd.to_datetime(d["lifted"]))
FULL = ("山西省大同市平城区", "2022-03-12", "2022-03-25")


def _boxes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["A", "B"], "name": ["甲社区", "乙社区"], "district_adcode": ["140105", "140106"],
            "district": ["小店区", "迎泽区"], "street": ["一街道", "二街道"], "population": [1000, 2000],
        },
        geometry=[shapely.box(112.0, 37.8, 112.01, 37.81), shapely.box(112.01, 37.8, 112.02, 37.81)],
        crs="EPSG:4326",
    )


def _traveller(tid: str, nb: str = "A", **kw: object) -> dict:
    row = {
        "id": tid, "name": f"姓名{tid}", "phone": "13812341234", "id_number": "140105199001011234",
        "address": "太原市小店区演示路1号", "arrival_date": "2022-03-26", "neighbourhood_id": nb, "inbound": False,
        "entry_quarantine_days": None, "companion": False, "companion_date": None, "bigdata_push": False,
        "push_date": None, "health_code": None, "health_code_date": None,
    }
    row.update(kw)
    return row


def _screen(people: list[tuple[dict, list[tuple]]]):
    tr = pd.DataFrame([p for p, _ in people])
    for c in ("arrival_date", "companion_date", "push_date", "health_code_date"):
        tr[c] = pd.to_datetime(tr[c])
    tr["entry_quarantine_days"] = tr["entry_quarantine_days"].astype("Int64")
    vi = pd.DataFrame(
        [{"traveller_id": p["id"], "place": s[0], "adcode": None, "from_date": s[1], "to_date": s[2]} for p, st in people for s in st],
        columns=["traveller_id", "place", "adcode", "from_date", "to_date"],
    )
    for c in ("from_date", "to_date"):
        vi[c] = pd.to_datetime(vi[c])
    return screen(tr, vi, RISK, gazetteer(), load_rule_sets(), as_of=AS_OF, neighbourhoods=_boxes())


PEOPLE = [
    (_traveller("T1", companion=True, companion_date="2022-03-27"), [FULL]),  # yellow, due 03-28 00:00
    (_traveller("T2", bigdata_push=True, push_date="2022-03-27"), [FULL]),  # provisional yellow, due 03-29 00:00
    (_traveller("T3"), [("上城区", "2022-03-20", "2022-03-22")]),  # red 14+7 home, due 03-28 00:00; landing test
]


@pytest.fixture(scope="module")
def base():
    return _screen(PEOPLE)


class _States:
    """Outcomes recorded the way the page records them: next_state, then a versioned record."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}

    def add(self, tid: str, kind: str, outcome: str, at: str, *, until_verified: bool = False, scope: str = "A", **fields):
        key = record_key(tid, kind)
        prev = self.records.get(key)
        state = next_state(prev.data if prev else None, outcome, fields, at=pd.Timestamp(at).to_pydatetime(),
                           until_verified=until_verified)
        self.records[key] = Record("followup", key, (prev.version if prev else 0) + 1, scope, outcome, state, "wang", at)
        return self

    def frame(self) -> pd.DataFrame:
        return states_frame(self.records.values())


def _t(result) -> pd.DataFrame:
    return result.travellers.set_index("id")


def _ob(result, tid: str, kind: str) -> pd.Series:
    ob = result.obligations
    return ob[(ob["traveller_id"] == tid) & (ob["kind"] == kind)].iloc[0]


def test_with_nothing_recorded_it_is_the_screenings_own_definition(base):
    same = apply_followup(base, _States().frame(), now=pd.Timestamp(AS_OF))
    for col in ("overdue", "code", "open_obligations", "lifted", "first_action_due"):
        assert same.travellers[col].tolist() == base.travellers[col].tolist(), col
    assert same.obligations["overdue"].tolist() == base.obligations["overdue"].tolist()
    assert same.overdue_count() == base.overdue_count()


def test_overdue_is_judged_at_now_and_reaching_someone_ends_it(base):
    at_ten = apply_followup(base, _States().frame(), now=NOW)
    assert _t(at_ten)["overdue"].to_dict() == {"T1": True, "T2": False, "T3": True}
    s = _States().add("T1", "companion", "reached_phone", "2022-03-28 09:00")
    after = apply_followup(base, s.frame(), now=NOW)
    ob = _ob(after, "T1", "companion")
    assert (ob["overdue"], ob["status"], ob["followup"], bool(ob["in_time"])) == (False, "open", "done", False)
    assert _t(after).loc["T1", "code"] == "yellow"  # reached is not lifted: the measure runs on
    assert after.overdue_count() == at_ten.overdue_count() - 1
    # an outcome recorded after the moment the list is for is not applied to it
    later = _States().add("T1", "companion", "reached_phone", "2022-03-28 11:00")
    assert _ob(apply_followup(base, later.frame(), now=NOW), "T1", "companion")["overdue"]


def test_reached_in_time_is_kept(base):
    s = _States().add("T2", "bigdata_push", "reached_visit", "2022-03-28 08:00", until_verified=True)
    ob = _ob(apply_followup(base, s.frame(), now=NOW), "T2", "bigdata_push")
    assert (ob["followup"], bool(ob["in_time"])) == ("done", True)


def test_completing_closes_and_the_code_lifts_when_every_obligation_is_closed(base):
    s = _States().add("T1", "companion", "reached_phone", "2022-03-28 09:00").add("T1", "companion", "completed", "2022-03-28 09:30")
    t = _t(apply_followup(base, s.frame(), now=NOW))
    assert (t.loc["T1", "code"], bool(t.loc["T1", "lifted"]), t.loc["T1", "measure_id"], t.loc["T1", "open_obligations"]) == (
        "green", True, "lifted", 0)
    # T3 has two obligations: closing the red one leaves the landing test's code
    s.add("T3", "risk_county", "completed", "2022-03-28 09:40")
    t3 = _t(apply_followup(base, s.frame(), now=NOW)).loc["T3"]
    assert t3["code"] != "red"
    assert not bool(t3["overdue"])


def test_a_push_is_excluded_or_verified_only_on_a_push(base):
    s = _States().add("T2", "bigdata_push", "push_excluded", "2022-03-28 09:00", until_verified=True)
    t = _t(apply_followup(base, s.frame(), now=NOW))
    assert (t.loc["T2", "code"], bool(t.loc["T2", "lifted"])) == ("green", True)
    stay = {"place": "浙江省杭州市上城区", "from_date": "2022-03-20", "to_date": "2022-03-22"}
    with pytest.raises(FollowupError, match="only a push"):
        next_state(None, "push_verified", stay, at=datetime(2022, 3, 28, 9), until_verified=False)
    with pytest.raises(FollowupError, match="required: place, from_date, to_date"):
        next_state(None, "push_verified", at=datetime(2022, 3, 28, 9), until_verified=True)
    for bad, match in (({"to_date": "2022-03-19"}, "before it began"), ({"to_date": "2022-03-29"}, "after the moment"),
                       ({"from_date": "soon"}, "not understood")):
        with pytest.raises(FollowupError, match=match):
            next_state(None, "push_verified", {**stay, **bad}, at=datetime(2022, 3, 28, 9), until_verified=True)
    verified = next_state(None, "push_verified", stay, at=datetime(2022, 3, 28, 9), until_verified=True)
    assert (verified["closed_by"], verified["stay_place"], verified["stay_from"], verified["stay_to"]) == (
        "push_verified", "浙江省杭州市上城区", "2022-03-20", "2022-03-22")


def test_a_verified_push_reclassifies_the_person_by_the_stay_it_found(base):
    """Seed 004: 对大数据推送尚不能排除风险的人员，暂赋“黄码”，经排查核实后，分类转码并落实相应管控措施.
    The verified stay joins the person's travel history; the rules then classify them again."""
    from geo.followup import verified_visits

    t2 = _t(base).loc["T2"]
    assert (t2["code"], bool(t2["provisional"])) == ("yellow", True)
    s = _States().add("T2", "bigdata_push", "push_verified", "2022-03-28 09:00", until_verified=True,
                      place="浙江省杭州市上城区", from_date="2022-03-20", to_date="2022-03-22")
    stays = verified_visits(s.records.values())
    assert stays[["traveller_id", "place"]].values.tolist() == [["T2", "浙江省杭州市上城区"]]
    people = [(p, st + ([("浙江省杭州市上城区", "2022-03-20", "2022-03-22")] if p["id"] == "T2" else [])) for p, st in PEOPLE]
    again = apply_followup(_screen(people), s.frame(), now=NOW)
    t = _t(again).loc["T2"]
    assert (t["code"], bool(t["provisional"]), t["rule_id"]) == ("red", False, "risk_county")  # like T3: a stay in the county
    push = _ob(again, "T2", "bigdata_push")
    assert (push["status"], push["closed_by"]) == ("closed", "push_verified")
    assert _ob(again, "T2", "risk_county")["status"] == "open"  # the new measure is someone's item now


def test_moving_out_hands_the_person_over_to_the_new_neighbourhood(base):
    s = _States()
    for kind in ("risk_county", "landing"):
        s.add("T3", kind, "moved_out", "2022-03-28 09:00", to_neighbourhood="B", scope="B")
    after = apply_followup(base, s.frame(), now=NOW)
    t = _t(after)
    assert (t.loc["T3", "neighbourhood_id"], t.loc["T3", "district"], t.loc["T3", "neighbourhood"]) == ("B", "迎泽区", "乙社区")
    assert bool(t.loc["T3", "overdue"])  # the deadline still stands for the new neighbourhood
    nb = after.neighbourhoods.set_index("id")
    assert (nb.loc["A", "travellers"], nb.loc["B", "travellers"]) == (2, 1)
    assert screening_in_scope(after, "grid", ["B"]).travellers["id"].tolist() == ["T3"]
    assert "T3" not in screening_in_scope(after, "grid", ["A"]).travellers["id"].tolist()


def test_outcome_rules():
    at = datetime(2022, 3, 28, 9)
    with pytest.raises(FollowupError, match="required: reason"):
        next_state(None, "unreachable", {}, at=at)
    s = next_state(None, "unreachable", {"reason": "关机"}, at=at)
    s = next_state(s, "unreachable", {"reason": "无人接听"}, at=at)
    assert (s["attempts"], s.get("done_at")) == (2, None)
    with pytest.raises(FollowupError, match="record the test first"):
        next_state(s, "test_result", {"result": "negative"}, at=at)
    s = next_state(s, "test_taken", {"test_date": "2022-03-28"}, at=at)
    with pytest.raises(FollowupError, match="result must be one of"):
        next_state(s, "test_result", {"result": "maybe"}, at=at)
    s = next_state(s, "test_result", {"result": "negative"}, at=at)
    assert (s["test_result"], s["done_at"]) == ("negative", "2022-03-28T09:00:00")
    with pytest.raises(FollowupError, match="required: hotel_id"):
        next_state(s, "transferred", {}, at=at)
    s = next_state(s, "completed", at=at)
    with pytest.raises(FollowupError, match="this item is closed"):
        next_state(s, "reached_phone", at=at)
    with pytest.raises(FollowupError, match="unknown outcome"):
        next_state(None, "teleported", at=at)


def test_the_task_list_puts_the_most_urgent_first(base):
    s = _States().add("T2", "bigdata_push", "reached_phone", "2022-03-28 08:00", until_verified=True)
    s.add("T1", "companion", "completed", "2022-03-28 08:30")
    tasks = task_list(apply_followup(base, s.frame(), now=NOW), now=NOW)
    assert list(zip(tasks["traveller_id"], tasks["kind"], tasks["urgency"], strict=True)) == [
        ("T3", "risk_county", "overdue"), ("T2", "bigdata_push", "in_progress"), ("T1", "companion", "closed"),
    ]  # the landing test is the landing point's, not on the community's list
    assert tasks.loc[0, "hours_left"] == pytest.approx(-10.0)
    assert tasks.loc[0, "phone"] == "13812341234" and tasks.loc[0, "name"] == "姓名T3"


@pytest.mark.parametrize(
    ("hours", "zh", "en"),
    [(5.2, "还剩 5 小时", "5 h left"), (-3.4, "已逾期 3 小时", "3 h overdue"), (0.5, "还剩 30 分钟", "30 min left"),
     (-50, "已逾期 2 天", "2 d overdue"), (None, "无期限", "no deadline")],
)
def test_time_left(hours, zh, en):
    assert (time_left(hours, "zh"), time_left(hours, "en")) == (zh, en)


def test_figures_count_open_overdue_and_in_time(base):
    s = _States().add("T2", "bigdata_push", "reached_phone", "2022-03-28 08:00", until_verified=True)
    f = followup_figures(apply_followup(base, s.frame(), now=NOW)).iloc[0]
    assert (f["open"], f["overdue"], f["done"], f["in_time"]) == (3, 2, 1, 1)
    assert f["in_time_pct"] == pytest.approx(100 / 3)
    by = followup_figures(apply_followup(base, s.frame(), now=NOW), by="district").set_index("district")
    assert by.loc["小店区", "overdue"] == 2


# ---- the one overdue definition, against a slow obvious reference


def _reference_overdue(base, states: pd.DataFrame, now: pd.Timestamp) -> dict[tuple[str, str], bool]:
    """Row by row: community, deadline passed, not closed by the rules or by an outcome recorded
    by now, first action not done by now."""
    rec = {(r.traveller_id, r.kind): r for r in states.itertuples()}
    out = {}
    for o in base.obligations.itertuples():
        r = rec.get((o.traveller_id, o.kind))
        closed = o.status == "closed" or (r is not None and r.at <= now and pd.notna(r.closed_at) and r.closed_at <= now)
        done = r is not None and r.at <= now and pd.notna(r.done_at) and r.done_at <= now
        out[(o.traveller_id, o.kind)] = bool(o.community and not closed and pd.notna(o.due) and o.due < now and not done)
    return out


def test_overdue_matches_the_reference_on_random_outcomes():
    rng = np.random.default_rng(7)
    people = []
    for i in range(150):
        kind = rng.integers(0, 4)
        extra = [{}, {"companion": True, "companion_date": "2022-03-27"}, {"bigdata_push": True, "push_date": "2022-03-26"},
                 {}][kind]
        stays = [("上城区", "2022-03-20", "2022-03-22")] if kind == 3 else [FULL]
        people.append((_traveller(f"P{i:03d}", nb="AB"[i % 2], arrival_date=f"2022-03-{rng.integers(20, 28)}", **extra), stays))
    base = _screen(people)
    s = _States()
    ob = base.obligations[base.obligations["community"]]
    for o in ob.sample(frac=0.6, random_state=3).itertuples():
        h = int(rng.integers(0, 24))
        outcome = rng.choice(["reached_phone", "unreachable", "completed", "test_taken"])
        fields = {"reason": "关机"} if outcome == "unreachable" else {"test_date": "2022-03-28"} if outcome == "test_taken" else {}
        s.add(o.traveller_id, o.kind, str(outcome), f"2022-03-28 {h:02d}:00", until_verified=o.kind == "bigdata_push", **fields)
    states = s.frame()
    for now in (pd.Timestamp("2022-03-28 06:00"), NOW, pd.Timestamp("2022-03-28 23:00")):
        got = apply_followup(base, states, now=now).obligations
        expect = _reference_overdue(base, states, now)
        assert {(a, b): bool(c) for a, b, c in zip(got["traveller_id"], got["kind"], got["overdue"], strict=True)} == expect
        per_person = got.groupby("traveller_id")["overdue"].any()
        t = apply_followup(base, states, now=now).travellers.set_index("id")["overdue"]
        assert t.to_dict() == per_person.reindex(t.index, fill_value=False).to_dict()


def test_scope_filters_the_obligations_too(base):
    scoped = screening_in_scope(dataclasses.replace(base), "grid", ["B"])
    assert scoped.travellers.empty and scoped.obligations.empty


# ----------------------------------------------------------------------------------------------
# Daily check-in of people at home: a missed day is itself an open item


class _Checkins:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, tid: str, day: str, at: str, **fields):
        state = checkin_state(fields, day=day, at=pd.Timestamp(at).to_pydatetime())
        self.records.append(Record("checkin", checkin_key(tid, day), 1, "A", "checkin", state, "wang", at))
        return self

    def frame(self) -> pd.DataFrame:
        return checkins_frame(self.records)


def _days(frame: pd.DataFrame, tid: str) -> list[str]:
    return [f"{d:%m-%d}" for d in frame.loc[frame["traveller_id"] == tid, "day"]]


def test_home_phases_come_from_the_rule_data(base):
    from geo.followup import _home_spans

    spans = _home_spans(base.rule_set).set_index("kind")
    # 14+7 centralized: only the +7 at home, from day 15; 14+7 at home: all 21 days
    assert (spans.loc["risk_area", "off"], spans.loc["risk_area", "days"]) == (14, 7)
    assert spans.loc[["risk_county"], "days"].sum() == 21
    assert "affected_city" not in spans.index  # community management: no daily check-in


def test_check_in_days_run_from_the_day_someone_was_reached_to_today(base):
    none = apply_followup(base, _States().frame(), now=NOW)
    assert home_days(none, now=NOW).empty  # nobody reached: the obligation itself is the open item
    s = _States().add("T3", "risk_county", "reached_phone", "2022-03-27 10:00")
    after = apply_followup(base, s.frame(), now=NOW)
    assert _days(home_days(after, now=NOW), "T3") == ["03-27", "03-28"]
    # closing the measure ends the check-ins the day before it closed
    s.add("T3", "risk_county", "completed", "2022-03-28 09:30")
    assert _days(home_days(apply_followup(base, s.frame(), now=NOW), now=NOW), "T3") == ["03-27"]


def test_a_missed_day_is_an_open_item_until_it_is_recorded(base):
    after = apply_followup(base, _States().add("T3", "risk_county", "reached_phone", "2022-03-26 10:00").frame(), now=NOW)
    items = checkin_items(after, _Checkins().frame(), now=NOW).set_index(["traveller_id", "day"])["status"]
    assert items.to_dict() == {
        ("T3", pd.Timestamp("2022-03-26")): "missed", ("T3", pd.Timestamp("2022-03-27")): "missed",
        ("T3", pd.Timestamp("2022-03-28")): "today",
    }
    ck = (_Checkins()
          .add("T3", "2022-03-26", "2022-03-26 19:00", temperature=36.5)
          .add("T3", "2022-03-27", "2022-03-28 09:00", missed=True, reason="外出就医")
          .add("T3", "2022-03-28", "2022-03-28 11:00", temperature=36.6))  # after NOW: not yet
    got = checkin_items(after, ck.frame(), now=NOW).set_index("day")
    assert got["status"].tolist() == ["done", "explained", "today"]
    assert got["late"].tolist() == [False, True, False]
    assert checkin_figures(got.reset_index(), now=NOW) == {"expected": 1, "done": 0, "missed": 0, "abnormal": 0}


def test_check_in_rules():
    at = datetime(2022, 3, 28, 9)
    ok = checkin_state({"temperature": "36.8"}, day="2022-03-28", at=at)
    assert (ok["temperature"], ok["abnormal"], ok["late"], ok["missed"]) == (36.8, False, False, False)
    assert checkin_state({"temperature": 37.3}, day="2022-03-28", at=at)["abnormal"]  # fever from 37.3 ℃
    assert checkin_state({"temperature": 36.5, "symptoms": ["cough"]}, day="2022-03-28", at=at)["abnormal"]
    assert checkin_state({"temperature": 36.5}, day="2022-03-27", at=at)["late"]
    for fields, day, match in (
        ({"temperature": 36.5}, "2022-03-29", "future day"),
        ({"temperature": 63.5}, "2022-03-28", "outside 34–43"),
        ({"temperature": "abc"}, "2022-03-28", "not understood"),
        ({}, "2022-03-28", "not understood"),
        ({"temperature": 36.5, "symptoms": ["sneeze"]}, "2022-03-28", "unknown symptoms"),
        ({"missed": True}, "2022-03-28", "why the check-in was missed"),
    ):
        with pytest.raises(CheckinError, match=match):
            checkin_state(fields, day=day, at=at)


def test_check_ins_join_the_task_list_after_overdue_and_do_not_change_the_overdue_figure(base):
    after = apply_followup(base, _States().add("T3", "risk_county", "reached_phone", "2022-03-26 10:00").frame(), now=NOW)
    items = checkin_items(after, _Checkins().frame(), now=NOW)
    tasks = task_list(after, now=NOW, checkins=items)
    order = tasks["urgency"].tolist()
    assert order.index("missed_checkin") > max(i for i, u in enumerate(order) if u == "overdue")
    assert order.count("missed_checkin") == 2
    today = tasks[(tasks["kind"] == "checkin") & (tasks["urgency"] == "due")]
    assert today["due"].tolist() == [pd.Timestamp("2022-03-29")]
    due = tasks[tasks["urgency"] == "due"]["due"].tolist()
    assert due == sorted(due)  # today's check-in sits among the deadlines, soonest first
    assert int(tasks["overdue"].astype(bool).sum()) == int(after.obligations["overdue"].sum())
    assert len(task_list(after, now=NOW)) == len(tasks) - 3


def test_neighbourhoods_are_coloured_by_their_worst_follow_up_state(base):
    from geo.followup import neighbourhood_followup_states

    at_ten = apply_followup(base, _States().frame(), now=NOW)
    assert neighbourhood_followup_states(at_ten).to_dict() == {"A": "overdue", "B": "none"}
    s = (_States()
         .add("T1", "companion", "reached_phone", "2022-03-28 09:00")  # its deadline was 03-28 00:00: late
         .add("T2", "bigdata_push", "reached_phone", "2022-03-27 20:00", until_verified=True)  # 20 h after the flag day began
         .add("T3", "risk_county", "reached_phone", "2022-03-27 10:00")
         .add("T3", "landing", "reached_phone", "2022-03-27 10:00"))
    assert neighbourhood_followup_states(apply_followup(base, s.frame(), now=NOW))["A"] == "late"
    t1_in_time = _States().add("T1", "companion", "reached_phone", "2022-03-27 20:00")
    for k, v in s.records.items():
        if not k.startswith("T1|"):
            t1_in_time.records[k] = v
    got = neighbourhood_followup_states(apply_followup(base, t1_in_time.frame(), now=NOW))["A"]
    assert got == "after_24h"  # T3 was reached 34 h after their arrival day began
    # moving T1..T3 out leaves A with nothing to follow up and B with their items
    moved = _States()
    for p, kinds in (("T1", ("companion",)), ("T2", ("bigdata_push",)), ("T3", ("risk_county", "landing"))):
        for k in kinds:
            moved.add(p, k, "moved_out", "2022-03-28 09:00", to_neighbourhood="B", scope="B", until_verified=k == "bigdata_push")
    assert neighbourhood_followup_states(apply_followup(base, moved.frame(), now=NOW)).to_dict() == {"A": "none", "B": "overdue"}


def test_a_transfer_takes_a_room_in_the_picker_and_in_the_command_figure():
    import geopandas as gpd

    from geo.followup import hotel_rooms_free, moved_in_per_hotel
    from layers.figures import key_figures

    hotels = pd.DataFrame({"id": ["H1", "H2", "H3"], "rooms_total": [10, 5, 50], "rooms_occupied": [9, 5, 0],
                           "status": ["in_use", "in_use", "standby"]})
    s = (_States().add("T1", "companion", "transferred", "2022-03-28 09:00", hotel_id="H1")
         .add("T3", "risk_county", "transferred", "2022-03-28 09:00", hotel_id="H1")
         .add("T3", "landing", "transferred", "2022-03-28 09:00", hotel_id="H1"))  # one person, one room
    moved = moved_in_per_hotel(s.frame())
    assert moved.to_dict() == {"H1": 2}
    assert hotel_rooms_free(hotels, moved).tolist() == [0, 0, 50]  # never below 0
    empty = gpd.GeoDataFrame({"tier": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    nb = gpd.GeoDataFrame({"population": pd.Series(dtype=float)}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    risk = pd.DataFrame({"level": pd.Series(dtype=str), "province": pd.Series(dtype=str)})
    sites = pd.DataFrame({"hours": pd.Series(dtype=str)})
    fig = key_figures(risk_areas=risk, zones=empty, hotels=hotels, sites=sites, neighbourhoods=nb, province="山西省",
                      moved_in=moved.to_dict())
    assert (fig.rooms_free, fig.rooms_total, fig.rooms_standby) == (0, 15, 50)
    assert key_figures(risk_areas=risk, zones=empty, hotels=hotels, sites=sites, neighbourhoods=nb, province="山西省").rooms_free == 1
    s.add("T1", "companion", "completed", "2022-03-28 10:00")  # the item closed: the room is the layer's to count again
    assert moved_in_per_hotel(s.frame()).to_dict() == {"H1": 1}


def test_the_anonymous_screening_gives_the_same_figures_and_holds_no_person(base):
    from geo.followup import anonymous_screening, neighbourhood_followup_states, pseudonymise_states

    s = (_States().add("T1", "companion", "reached_phone", "2022-03-28 09:00", reason="x", note="13812341234")
         .add("T2", "bigdata_push", "push_excluded", "2022-03-28 09:00", until_verified=True)
         .add("T3", "risk_county", "moved_out", "2022-03-28 09:00", to_neighbourhood="B", scope="B")
         .add("T3", "landing", "moved_out", "2022-03-28 09:00", to_neighbourhood="B", scope="B"))
    key = b"k" * 32
    full = apply_followup(base, s.frame(), now=NOW)
    anon_base = anonymous_screening(base, key)
    anon = apply_followup(anon_base, pseudonymise_states(s.frame(), key), now=NOW)
    assert anon.code_counts() == full.code_counts() and anon.overdue_count() == full.overdue_count()
    cols = ["id", "travellers", "red", "yellow", "green", "pending", "overdue", "screening"]
    assert anon.neighbourhoods[cols].equals(full.neighbourhoods[cols])
    assert neighbourhood_followup_states(anon).equals(neighbourhood_followup_states(full))
    for frame in (anon_base.travellers, anon_base.obligations, anon.travellers):
        text = frame.astype(str).to_csv()
        for personal in ("姓名T1", "13812341234", "140105199001011234", "演示路", "T1", "T2", "T3", "上城区"):
            assert personal not in text, personal
    assert set(anon.travellers["id"]) != set(full.travellers["id"])
