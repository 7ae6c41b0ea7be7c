"""A transfer plan from a store (layers/allocation.py): everyone to place is placed or named,
confirming records one "transferred" outcome per person and changes the hotels' free rooms in
the same transaction, a second confirmation of the same plan is refused, the workbook."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from data.demo import SCENARIO_TODAY, build_demo, demo_meta
from geo.allocation import people_to_place
from geo.errors import StaleWrite
from geo.followup import KIND, hotel_rooms_free, moved_in_per_hotel
from layers.allocation import confirm_transfers, make_plan, plan_workbook
from layers.followup import load_states
from layers.screening_io import screen_store
from layers.store import open_store
from layers.store.gpkg import write_new_store
from layers.store.records import records_for

NOW = datetime(2022, 3, 28, 10, 0)


@pytest.fixture
def demo(tmp_path):
    path = tmp_path / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    return str(path)


def test_a_plan_places_or_names_everyone_and_confirming_it_fills_the_rooms(demo):
    plan, inputs, result = make_plan(demo, as_of=SCENARIO_TODAY, now=NOW, seats=4)
    assert len(inputs.people) > 0
    assert plan.placed + len(plan.unplaced) == len(inputs.people)
    assert set(plan.assignments["traveller_id"]) | set(plan.unplaced["traveller_id"]) == set(inputs.people["traveller_id"])
    assert (plan.hotels["free_after"] >= 0).all() and (plan.hotels["placed"] <= plan.hotels["capacity"]).all()
    assert (plan.batches["people"] <= 4).all()
    hotels = open_store(demo).read("hotels")
    records = records_for(demo)
    free_before = hotel_rooms_free(hotels, moved_in_per_hotel(load_states(records)))

    saved = confirm_transfers(records, plan, result, inputs.rooms, user="planner", at=NOW)
    assert saved >= plan.placed
    states = load_states(records)
    moved = states[states["outcome"] == "transferred"].drop_duplicates("traveller_id")
    assert set(moved["traveller_id"]) >= set(plan.assignments["traveller_id"])
    free_after = hotel_rooms_free(hotels, moved_in_per_hotel(states))
    fill = plan.hotels.set_index("hotel_id")["placed"]
    for hid, before, after in zip(hotels["id"], free_before, free_after, strict=True):
        assert before - after == int(fill.get(hid, 0))
    # nobody is left to place but those the plan could not
    again = screen_store(demo, SCENARIO_TODAY, now=NOW)
    assert set(people_to_place(again, now=NOW)["traveller_id"]) == set(plan.unplaced["traveller_id"])
    # the same plan confirmed twice: refused, nothing more recorded
    n = len(records.current(KIND))
    with pytest.raises(StaleWrite):
        confirm_transfers(records, plan, result, inputs.rooms, user="planner2", at=NOW)
    assert len(records.current(KIND)) == n


def test_the_workbook_has_a_sheet_per_hotel_and_the_batches(demo):
    plan, _, result = make_plan(demo, as_of=SCENARIO_TODAY, now=NOW, seats=10)
    wb = openpyxl.load_workbook(io.BytesIO(plan_workbook(plan, result)))
    names = wb.sheetnames
    assert names[:3] == ["汇总 Summary", "酒店 Hotels", "车次 Batches"] and names[-1] == "未安置 Unplaced"
    used = sorted(set(plan.assignments["hotel_id"]))
    assert [n.split(" ")[0] for n in names[3:-1]] == used
    people = sum(wb[n].max_row - 1 for n in names[3:-1])
    assert people == plan.placed
    assert wb["车次 Batches"].max_row - 1 == len(plan.batches)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            assert all(c.data_type != "f" for c in row)


def test_the_command_line_plans_writes_the_workbook_and_confirms(demo, tmp_path, capsys):
    from dashboard.cli import main

    out = tmp_path / "plan.xlsx"
    args = ["allocate", "--as-of", SCENARIO_TODAY, "--at", "2022-03-28 10:00", "--store", demo]
    assert main([*args, "--seats", "0"]) == 2
    assert "--seats must be 1 to 60" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "plan.csv")]) == 2
    assert main([*args, "--seats", "4", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "people to place" in text and "batches" in text and "of 4 seats" in text
    assert openpyxl.load_workbook(out).sheetnames[0] == "汇总 Summary"
    records = records_for(demo)
    assert not any(r.data.get("outcome") == "transferred" for r in records.current(KIND))
    assert main([*args, "--confirm"]) == 0
    assert "recorded" in capsys.readouterr().out
    placed = {r.key.split("|")[0] for r in records.current(KIND) if r.data.get("outcome") == "transferred"}
    assert placed
    # a second run has nobody left to place (those placed are recorded as transferred)
    assert main([*args, "--confirm"]) == 0
    assert "people to place 0" in capsys.readouterr().out
