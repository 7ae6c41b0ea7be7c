"""Outcomes imported from another system (``riskmap import outcomes``): Chinese or English headers
and outcome names, all or nothing, each rejected row named by its row in the file and why."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.cli import main
from data.demo import SCENARIO_TODAY, build_demo, demo_meta
from geo.followup import KIND
from layers.screening_io import screen_store
from layers.store.gpkg import write_new_store
from layers.store.records import records_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("outcomes") / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    base = screen_store(str(path), SCENARIO_TODAY, followup=False)
    ob = base.obligations[base.obligations["community"].astype(bool) & (base.obligations["status"] == "open")]
    return path, ob


def _people(ob: pd.DataFrame, n: int) -> list[str]:
    return list(dict.fromkeys(ob["traveller_id"].astype(str)))[:n]


def test_a_good_file_records_every_row(demo, tmp_path, capsys):
    path, ob = demo
    a, b = _people(ob, 2)
    f = tmp_path / "outcomes.csv"
    pd.DataFrame({"编号": [a, b], "结果": ["已电话联系", "unreachable"], "时间": ["2022-03-27 09:00", "2022-03-27 10:30"],
                  "记录人": ["张三", "李四"], "原因": ["", "关机"]}).to_csv(f, index=False)
    records = records_for(str(path))
    before = len(records.current(KIND))
    assert main(["import", "outcomes", str(f), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 0
    n_a, n_b = (int((ob["traveller_id"] == p).sum()) for p in (a, b))
    assert f"recorded {n_a + n_b:,} follow-up outcomes" in capsys.readouterr().out
    got = {r.key: r for r in records.current(KIND)}
    assert len(got) == before + n_a + n_b
    mine = [r for k, r in got.items() if k.startswith(f"{a}|")]
    assert {r.data["outcome"] for r in mine} == {"reached_phone"} and {r.data["by"] for r in mine} == {"张三"}


def test_a_bad_row_rejects_the_file_and_names_each_row(demo, tmp_path, capsys):
    path, ob = demo
    (c,) = _people(ob.iloc[::-1], 1)
    f = tmp_path / "outcomes.xlsx"
    pd.DataFrame({
        "traveller_id": [c, "T99999", c, c],
        "outcome": ["reached_visit", "reached_phone", "called twice", "transferred"],
        "at": ["2022-03-27 09:00", "2022-03-27 09:00", "2022-03-27 09:00", "not a time"],
    }).to_excel(f, index=False)
    records = records_for(str(path))
    before = records.version()
    assert main(["import", "outcomes", str(f), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 1
    err = capsys.readouterr().err
    assert "3 rows rejected; nothing was recorded" in err
    for line in ("第 3 行", "id 'T99999' is not on the follow-up list", "第 4 行", "unknown outcome 'called twice'",
                 "第 5 行", "time not understood"):
        assert line in err, line
    assert records.version() == before  # all or nothing


def test_missing_and_unknown_columns_are_named(demo, tmp_path, capsys):
    path, _ = demo
    f = tmp_path / "o.csv"
    pd.DataFrame({"编号": ["T1"], "when": ["2022-03-27"]}).to_csv(f, index=False)
    assert main(["import", "outcomes", str(f), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 1
    err = capsys.readouterr().err
    assert "missing columns: outcome, at" in err and "unknown column 'when'" in err
    assert main(["import", "outcomes", str(f), "--store", str(path)]) == 2  # the screening day is needed


def test_headers_are_matched_as_every_import_matches_them(demo, tmp_path, capsys):
    path, _ = demo
    f = tmp_path / "o.csv"
    # units in brackets and separators are ignored, as for layer imports; two columns for one field are named
    pd.DataFrame({"Traveller-ID": ["T1"], "编号": ["T1"], "结果 (outcome)": ["reached_phone"], "时间": ["2022-03-27"]}).to_csv(f, index=False)
    assert main(["import", "outcomes", str(f), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 1
    err = capsys.readouterr().err
    assert "several columns for traveller_id: Traveller-ID, 编号" in err and "missing columns" not in err


def test_times_with_a_zone_are_recorded_as_shanghai_local_time_and_numbers_are_refused(demo, tmp_path, capsys):
    """Another system may write UTC ("…Z") or offsets; the time recorded is Shanghai local (it
    decides "reached in time"). Mixed offsets in one file are each read with their own; a number
    is "time not understood", never 1970."""
    path, ob = demo
    a, b, c = _people(ob.iloc[len(ob) // 2:], 3)
    f = tmp_path / "outcomes.csv"
    pd.DataFrame({"traveller_id": [a, b], "outcome": ["reached_phone", "reached_phone"],
                  "at": ["2022-03-27T01:00:00Z", "2022-03-27T10:30:00+08:00"]}).to_csv(f, index=False)
    assert main(["import", "outcomes", str(f), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 0
    got = {r.key.split("|")[0]: r.data["at"] for r in records_for(str(path)).current(KIND)}
    assert got[a] == "2022-03-27T09:00:00" and got[b] == "2022-03-27T10:30:00"
    capsys.readouterr()
    g = tmp_path / "numbers.xlsx"
    pd.DataFrame({"traveller_id": [c], "outcome": ["reached_phone"], "at": [1648458000]}).to_excel(g, index=False)
    assert main(["import", "outcomes", str(g), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 1
    assert "time not understood" in capsys.readouterr().err
    h = tmp_path / "future.csv"
    pd.DataFrame({"traveller_id": [c], "outcome": ["reached_phone"], "at": ["2099-01-01 10:00"]}).to_csv(h, index=False)
    assert main(["import", "outcomes", str(h), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 1
    assert "时间晚于现在 / the time is later than now" in capsys.readouterr().err
    pd.DataFrame({"traveller_id": [c], "outcome": ["reached_phone"], "at": ["1900-01-01 10:00"]}).to_csv(h, index=False)
    assert main(["import", "outcomes", str(h), "--as-of", SCENARIO_TODAY, "--store", str(path)]) == 1
    assert "时间早于 2020-01-01（多半是笔误） / the time is before 2020-01-01 (most likely a typo)" in capsys.readouterr().err
