"""Versioned records (layers/store/records.py) on both backends: save, history, restore, stale saves."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from geo.errors import StaleWrite

T0 = datetime(2022, 3, 28, 9, 15)


def test_save_history_and_current(records):
    a = records.save("followup", "T1|risk_county", {"state": "reached", "备注": "电话"}, based_on=0, user="wang",
                     action="reached", scope="N0001", now=T0)
    assert (a.version, a.saved_by, a.saved_at) == (1, "wang", "2022-03-28T09:15:00+08:00")
    b = records.save("followup", "T1|risk_county", {"state": "test_taken"}, based_on=1, user="li", action="test_taken",
                     scope="N0001")
    assert b.version == 2
    assert records.get("followup", "T1|risk_county").data == {"state": "test_taken"}
    hist = records.history("followup", "T1|risk_county")
    assert [(h.version, h.action, h.saved_by) for h in hist] == [(1, "reached", "wang"), (2, "test_taken", "li")]
    assert hist[0].data == {"state": "reached", "备注": "电话"}  # the previous value is kept
    assert records.get("followup", "nobody") is None
    assert records.history("followup", "nobody") == []


def test_a_stale_save_is_refused_and_names_who_and_when(records):
    records.save("followup", "T1|x", {"n": 1}, based_on=0, user="wang", action="reached", now=T0)
    records.save("followup", "T1|x", {"n": 2}, based_on=1, user="li", action="reached", now=T0)
    with pytest.raises(StaleWrite, match="已被 li 于 2022-03-28 09:15 记录，请重新加载 / recorded by li at 2022-03-28 09:15 — reload") as info:
        records.save("followup", "T1|x", {"n": 3}, based_on=1, user="wang", action="reached")
    assert (info.value.by, info.value.at) == ("li", "2022-03-28T09:15:00+08:00")
    with pytest.raises(StaleWrite):  # creating what exists is stale too
        records.save("followup", "T1|x", {"n": 3}, based_on=0, user="zhao", action="reached")
    with pytest.raises(ValueError, match="does not exist"):
        records.save("followup", "T1|x", {"n": 3}, based_on=7, user="zhao", action="reached")
    assert records.get("followup", "T1|x").data == {"n": 2}
    assert len(records.history("followup", "T1|x")) == 2


def test_restore_saves_an_earlier_version_again(records):
    records.save("k", "a", {"v": "first"}, based_on=0, user="u", action="create", scope="S")
    records.save("k", "a", {"v": "second"}, based_on=1, user="u", action="edit", scope="S")
    r = records.restore("k", "a", 1, based_on=2, user="boss")
    assert (r.version, r.action, r.data, r.scope) == (3, "restore v1", {"v": "first"}, "S")
    with pytest.raises(ValueError, match="no version 9"):
        records.restore("k", "a", 9, based_on=3, user="boss")


def test_scopes_filter_the_current_records_and_version_grows(records):
    v0 = records.version()
    records.save("followup", "A", {}, based_on=0, user="u", action="reached", scope="N1")
    records.save("followup", "B", {}, based_on=0, user="u", action="reached", scope="N2")
    records.save("other", "C", {}, based_on=0, user="u", action="x", scope="N1")
    assert records.version() > v0
    assert [r.key for r in records.current("followup", scopes=["N1"])] == ["A"]
    assert [r.key for r in records.current("followup")] == ["A", "B"]
    assert records.current("followup", scopes=[]) == []
    # a hand-over moves the record's scope
    records.save("followup", "A", {}, based_on=1, user="u", action="moved_out", scope="N2")
    assert [r.key for r in records.current("followup", scopes=["N2"])] == ["A", "B"]


def test_save_many_is_all_or_nothing(records):
    records.save("followup", "B", {"x": 1}, based_on=0, user="u", action="reached")
    with pytest.raises(StaleWrite):
        records.save_many([("followup", "A", {"x": 1}, 0, "N1"), ("followup", "B", {"x": 2}, 0, "N1")],
                          user="import", action="import")
    assert records.get("followup", "A") is None
    assert records.get("followup", "B").data == {"x": 1}


def test_two_people_saving_the_same_version_at_once_one_wins(records):
    records.save("followup", "T9|k", {"n": 0}, based_on=0, user="seed", action="create")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        try:
            records.save("followup", "T9|k", {"by": name}, based_on=1, user=name, action="reached")
            outcomes.append("saved")
        except StaleWrite:
            outcomes.append("stale")

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "stale", "stale", "stale"]
    hist = records.history("followup", "T9|k")
    assert [h.version for h in hist] == [1, 2]
    assert records.get("followup", "T9|k").data["by"] == hist[-1].saved_by


def test_adopt_takes_in_an_earlier_layout_once_with_who_and_when(records):
    from layers.store.records import Record

    old = [Record("report", "2022-02-07", 1, "city", "original", {"n": 1}, "", ""),
           Record("report", "2022-02-07", 2, "city", "save", {"n": 2}, "王", "2022-02-08T09:30:00+08:00"),
           Record("report", "2022-02-06", 1, "city", "original", {"n": 0}, "", "")]
    assert records.adopt("report", old) == 3
    assert [(r.key, r.version, r.data["n"]) for r in records.current("report")] == [("2022-02-06", 1, 0), ("2022-02-07", 2, 2)]
    hist = records.history("report", "2022-02-07")
    assert [(h.action, h.saved_by, h.saved_at) for h in hist] == [
        ("original", "", ""), ("save", "王", "2022-02-08T09:30:00+08:00")]
    assert records.adopt("report", old) == 0  # the kind is there: nothing taken twice
    assert [h.version for h in records.histories("report")] == [1, 1, 2]
    # the next save continues from the adopted version
    assert records.save("report", "2022-02-07", {"n": 3}, based_on=2, user="李", action="save").version == 3
    with pytest.raises(ValueError, match="out of order"):
        records.adopt("other", [Record("other", "k", 2, "", "save", {}, "u", "t")])
    assert records.current("other") == []
