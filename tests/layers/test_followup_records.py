"""Recording outcomes (layers/followup.py) on both backends: versioned, refused when stale,
hand-over all or none, and applied to the store's screening."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from geo.errors import StaleWrite
from geo.followup import CHECKIN_KIND, KIND, CheckinError, FollowupError, record_key
from layers.followup import load_checkins, load_states, record_checkin, record_outcome

AT = datetime(2022, 3, 28, 9, 30)
OB = {"traveller_id": "T1", "kind": "risk_county", "version": 0}
SIBLING = {"traveller_id": "T1", "kind": "landing", "version": 0}


def test_an_outcome_is_a_versioned_record_with_who_and_when(records):
    r = record_outcome(records, OB, "reached_phone", {"method": "电话"}, based_on=0, user="wang", at=AT, scope="N1")[0]
    assert (r.key, r.version, r.saved_by, r.scope) == ("T1|risk_county", 1, "wang", "N1")
    record_outcome(records, OB, "test_taken", {"test_date": "2022-03-28"}, based_on=1, user="li", at=AT, scope="N1")
    hist = records.history(KIND, record_key("T1", "risk_county"))
    assert [(h.version, h.action, h.saved_by) for h in hist] == [(1, "reached_phone", "wang"), (2, "test_taken", "li")]
    states = load_states(records, scopes=["N1"]).set_index("key")
    assert states.loc["T1|risk_county", "done_at"].isoformat() == "2022-03-28T09:30:00"
    assert load_states(records, scopes=["N2"]).empty


def test_the_second_of_two_workers_recording_the_same_item_is_refused(records):
    record_outcome(records, OB, "unreachable", {"reason": "关机"}, based_on=0, user="wang", at=AT, scope="N1")
    with pytest.raises(StaleWrite, match="recorded by wang at 2022-03-28 09:30 — reload"):
        record_outcome(records, OB, "reached_phone", based_on=0, user="li", at=AT, scope="N1")
    assert records.get(KIND, "T1|risk_county").data["outcome"] == "unreachable"


def test_concurrent_outcomes_on_one_item_one_wins(records):
    barrier = threading.Barrier(3)
    got: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        try:
            record_outcome(records, OB, "reached_visit", based_on=0, user=name, at=AT, scope="N1")
            got.append("saved")
        except StaleWrite:
            got.append("stale")

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == ["saved", "stale", "stale"]
    assert len(records.history(KIND, "T1|risk_county")) == 1


def test_a_hand_over_moves_every_obligation_of_the_person_or_none(records):
    # someone recorded the landing test meanwhile: the hand-over based on version 0 is refused whole
    record_outcome(records, SIBLING, "test_taken", {"test_date": "2022-03-28"}, based_on=0, user="li", at=AT, scope="N1")
    with pytest.raises(StaleWrite):
        record_outcome(records, OB, "moved_out", {"to_neighbourhood": "N2"}, based_on=0, user="wang", at=AT,
                       scope="N1", siblings=[OB, SIBLING])
    assert records.get(KIND, "T1|risk_county") is None
    record_outcome(records, OB, "moved_out", {"to_neighbourhood": "N2"}, based_on=0, user="wang", at=AT, scope="N1",
                   siblings=[OB, {**SIBLING, "version": 1}])
    assert sorted(s.key for s in records.current(KIND, scopes=["N2"])) == ["T1|landing", "T1|risk_county"]


def test_rules_of_the_outcome_apply_on_the_write_path(records):
    with pytest.raises(FollowupError, match="required: hotel_id"):
        record_outcome(records, OB, "transferred", {}, based_on=0, user="wang", at=AT, scope="N1")
    with pytest.raises(FollowupError, match="only a push"):
        record_outcome(records, OB, "push_excluded", based_on=0, user="wang", at=AT, scope="N1")
    assert records.current(KIND) == []


def _obligations():
    import pandas as pd

    return pd.DataFrame({
        "traveller_id": ["T1", "T1", "T2"], "kind": ["risk_county", "landing", "bigdata_push"],
        "community": [True, False, True], "version": [0, 0, 0],
    })


def test_bulk_outcomes_name_every_rejected_row_and_save_nothing(records):
    import pandas as pd

    from layers.followup import record_outcomes_bulk

    rows = pd.DataFrame({
        "traveller_id": ["T1", "T9", "T2", "T1"],
        "outcome": ["reached_phone", "reached_phone", "unreachable", "teleported"],
        "at": ["2022-03-28 09:00", "2022-03-28 09:00", "2022-03-28 10:00", "2022-03-28 11:00"],
        "by": ["zhang", "zhang", "zhang", "zhang"],
    })
    saved, rejected = record_outcomes_bulk(records, rows, _obligations(), user="import")
    assert saved == 0
    assert [(n, en) for n, _, en in rejected] == [
        (2, "id 'T9' is not on the follow-up list"), (3, "required: reason"), (4, "unknown outcome 'teleported'"),
    ]
    assert all(zh for _, zh, _ in rejected)  # and in Chinese
    assert records.current(KIND) == []


def test_bulk_outcomes_apply_in_time_order_to_the_persons_items(records):
    import pandas as pd

    from layers.followup import record_outcomes_bulk

    rows = pd.DataFrame({
        "traveller_id": ["T2", "T1", "T2"],
        "outcome": ["push_excluded", "reached_visit", "reached_phone"],
        "at": ["2022-03-28 12:00", "2022-03-28 09:00", "2022-03-28 08:00"],  # the push is reached, then excluded
        "by": ["li", "zhang", "li"],
    })
    saved, rejected = record_outcomes_bulk(records, rows, _obligations(), until_verified={"bigdata_push"},
                                           neighbourhood_of={"T1": "N1", "T2": "N2"}, user="import")
    assert (saved, rejected) == (2, [])  # the landing test is not the community's: left alone
    push = records.get(KIND, "T2|bigdata_push")
    assert (push.data["closed_by"], push.data["done_at"], push.data["by"], push.scope) == (
        "push_excluded", "2022-03-28T08:00:00", "li", "N2")
    assert records.get(KIND, "T1|risk_county").data["outcome"] == "reached_visit"


def test_a_check_in_is_a_versioned_record_and_a_second_one_for_the_same_day_is_refused(records):
    r = record_checkin(records, "T1", "2022-03-28", {"temperature": 37.6, "symptoms": ["cough"]}, based_on=0,
                       user="wang", at=AT, scope="N1")
    assert (r.key, r.version, r.action, r.data["abnormal"]) == ("T1|2022-03-28", 1, "checkin", True)
    with pytest.raises(StaleWrite, match="recorded by wang"):
        record_checkin(records, "T1", "2022-03-28", {"temperature": 36.5}, based_on=0, user="li", at=AT, scope="N1")
    with pytest.raises(CheckinError):
        record_checkin(records, "T1", "2022-03-29", {"temperature": 36.5}, based_on=0, user="li", at=AT, scope="N1")
    fixed = record_checkin(records, "T1", "2022-03-28", {"temperature": 36.5}, based_on=1, user="li", at=AT, scope="N1")
    assert [h.saved_by for h in records.history(CHECKIN_KIND, fixed.key)] == ["wang", "li"]
    ck = load_checkins(records, scopes=["N1"])
    assert (ck.loc[0, "temperature"], bool(ck.loc[0, "abnormal"])) == (36.5, False)
    assert load_checkins(records, scopes=["N2"]).empty


def test_a_transfer_to_a_full_hotel_is_refused_on_the_write_path(records):
    from layers.followup import RoomsFull

    rooms = {"H1": 1}
    record_outcome(records, OB, "transferred", {"hotel_id": "H1"}, based_on=0, user="wang", at=AT, scope="N1", rooms=rooms)
    other = {"traveller_id": "T2", "kind": "risk_county", "version": 0}
    with pytest.raises(RoomsFull, match="hotel H1 has 1 free rooms, 2 people would be moved in; no transfer was recorded"):
        record_outcome(records, other, "transferred", {"hotel_id": "H1"}, based_on=0, user="li", at=AT, scope="N1", rooms=rooms)
    assert records.get(KIND, "T2|risk_county") is None
    # a hotel the rooms do not name (closed, unknown) takes no one
    with pytest.raises(RoomsFull, match="hotel H9 has 0 free rooms"):
        record_outcome(records, other, "transferred", {"hotel_id": "H9"}, based_on=0, user="li", at=AT, scope="N1", rooms=rooms)
    # another outcome is not a transfer: no room check
    record_outcome(records, other, "reached_phone", based_on=0, user="li", at=AT, scope="N1", rooms=rooms)


def test_two_concurrent_transfers_into_the_last_room_one_wins(records):
    from layers.followup import RoomsFull

    barrier = threading.Barrier(2)
    got: list[str] = []

    def worker(tid: str) -> None:
        ob = {"traveller_id": tid, "kind": "risk_county", "version": 0}
        barrier.wait()
        try:
            record_outcome(records, ob, "transferred", {"hotel_id": "H1"}, based_on=0, user=tid, at=AT, scope="N1",
                           rooms={"H1": 1})
            got.append("saved")
        except RoomsFull:
            got.append("full")

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("T1", "T2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == ["full", "saved"]
    states = load_states(records)
    assert list(states["hotel_id"].dropna()) == ["H1"]
