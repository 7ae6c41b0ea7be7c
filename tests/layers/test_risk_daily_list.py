"""A daily list of medium/high-risk areas (layers/risk_areas.apply_daily_list, riskmap import
risk_areas --mode daily): what it adds, changes and lifts, by date, without losing the old list;
and each area's lifetime (area_history)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers.risk_areas import apply_daily_list, area_history


def _areas(rows):
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["id", "level", "province", "city", "county", "area_name", "since", "lifted"]),
        geometry=[shapely.box(112, 37, 112.1, 37.1)] * len(rows), crs=4326)


def apply_high_then_medium(store, folder, area_id: str, *, prefix: str) -> None:
    """Two daily lists through the command line: ``area_id`` listed high on 2022-03-29
    (``<prefix>29.csv``), medium on 2022-03-30 (``<prefix>30.csv``)."""
    from dashboard.cli import main

    row = {"id": [area_id], "province": ["吉林省"], "city": ["吉林市"], "county": ["船营区"], "area_name": [f"{area_id}小区"],
           "since": ["2022-03-29"], "adcode": ["220204"]}
    for day, level in (("29", "high"), ("30", "medium")):
        pd.DataFrame(row | {"level": [level]}).to_csv(folder / f"{prefix}{day}.csv", index=False)
        assert main(["import", "risk_areas", str(folder / f"{prefix}{day}.csv"), "--mode", "daily", "--as-of",
                     f"2022-03-{day}", "--store", str(store)]) == 0


def test_added_changed_and_lifted_by_date_and_the_old_list_kept():
    current = _areas([
        ("R1", "medium", "浙江省", "杭州市", "上城区", "甲小区", "2022-03-20", None),
        ("R2", "high", "上海市", "上海市", "浦东新区", "乙街道", "2022-03-21", None),
        ("R3", "medium", "吉林省", "长春市", "朝阳区", "丙村", "2022-03-22", None),
        ("R0", "medium", "河北省", "石家庄市", "藁城区", "旧区", "2022-01-01", "2022-02-01"),  # lifted before: kept
    ])
    listed = _areas([
        ("X1", "medium", "浙江省", "杭州市", "上城区", "甲小区", "2022-03-28", None),    # unchanged
        ("R2", "medium", "上海市", "上海市", "浦东新区", "乙 街道", "2022-03-28", None),   # high → medium (a space ignored)
        ("N1", "high", "吉林省", "吉林市", "船营区", "丁小区", "2022-03-27", None),       # new
    ])
    layer, changes = apply_daily_list(current, listed, day="2022-03-28")
    got = {(c.change, c.id, c.previous_id, c.level_before, c.level_after) for c in changes.itertuples()}
    assert got == {("changed", "R2-20220328", "R2", "high", "medium"), ("added", "N1", "", "", "high"),
                   ("lifted", "R3", "", "medium", "")}
    by = layer.set_index("id")
    assert pd.isna(by.loc["R1", "lifted"])  # the unchanged area keeps its entry and start
    assert str(by.loc["R2", "lifted"])[:10] == "2022-03-28" and by.loc["R2-20220328", "level"] == "medium"
    assert str(by.loc["R2-20220328", "since"])[:10] == "2022-03-28"
    assert str(by.loc["R3", "lifted"])[:10] == "2022-03-28"
    assert str(by.loc["N1", "since"])[:10] == "2022-03-27"
    assert str(by.loc["R0", "lifted"])[:10] == "2022-02-01" and len(layer) == 6  # nothing lost
    hist = area_history(layer, "R2-20220328")
    assert list(hist["id"]) == ["R2", "R2-20220328"] and list(hist["level"]) == ["high", "medium"]


def test_the_same_list_again_changes_nothing():
    current = _areas([("R1", "medium", "浙江省", "杭州市", "上城区", "甲小区", "2022-03-20", None)])
    layer, changes = apply_daily_list(current, current.assign(id="Z9"), day="2022-03-28")
    assert changes.empty and len(layer) == 1


def test_the_command_line_imports_a_daily_list_and_says_what_changed(tmp_path, capsys):
    from dashboard.cli import main
    from data.demo import build_demo, demo_meta
    from layers.store import open_store
    from layers.store.gpkg import write_new_store

    path = tmp_path / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    before = open_store(path).read("risk_areas")
    day = pd.Timestamp("2022-03-29")  # the areas in force on the list's day
    live = before[pd.to_datetime(before["since"]).le(day) & (before["lifted"].isna() | pd.to_datetime(before["lifted"]).gt(day))]
    keep = live.iloc[:-1]  # the last area in force is not on the new list: lifted
    listed = pd.DataFrame({c: keep[c] for c in ("id", "level", "province", "city", "county", "area_name", "since", "adcode")})
    listed["since"] = pd.to_datetime(listed["since"]).dt.strftime("%Y-%m-%d")
    f = tmp_path / "list.csv"
    listed.to_csv(f, index=False)
    assert main(["import", "risk_areas", str(f), "--mode", "daily", "--store", str(path)]) == 2  # needs --as-of
    assert main(["import", "risk_areas", str(f), "--mode", "daily", "--as-of", "2022-03-29", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "lifted: 1" in out and "added: 0" in out and "level changed: 0" in out
    after = open_store(path).read("risk_areas").set_index("id")
    assert len(after) == len(before)  # nothing lost
    assert str(after.loc[live.iloc[-1]["id"], "lifted"])[:10] == "2022-03-29"


def test_a_list_older_than_one_applied_is_refused_so_history_is_never_rewritten(tmp_path, capsys):
    """Applied after a later list, an older list would add areas no later list can lift: they
    would stay in force for ever and flag every traveller from them. So it is refused on the write
    path (nothing written), naming the later day; the same day again (a corrected list) and a later
    day are taken."""
    from dashboard.cli import main
    from data.demo import build_demo, demo_meta
    from layers.store import open_store
    from layers.store.gpkg import write_new_store

    path = tmp_path / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    f = tmp_path / "list.csv"
    pd.DataFrame({"id": ["N1"], "level": ["high"], "province": ["吉林省"], "city": ["吉林市"], "county": ["船营区"],
                  "area_name": ["丁小区"], "since": ["2022-03-29"], "adcode": ["220204"]}).to_csv(f, index=False)

    def run(day: str) -> int:
        return main(["import", "risk_areas", str(f), "--mode", "daily", "--as-of", day, "--store", str(path)])

    assert run("2022-03-30") == 0
    capsys.readouterr()
    before = open_store(path).read("risk_areas")
    from dashboard.audit import accounts_for

    audited = len(accounts_for(str(path)).audit_log())
    assert run("2022-03-29") == 1
    assert len(accounts_for(str(path)).audit_log()) == audited  # refused before the audit entry: nothing happened
    err = capsys.readouterr().err
    assert "2022-03-30 的每日名单已导入" in err and "the daily list of 2022-03-30 is applied already" in err
    assert "nothing was written" in err
    pd.testing.assert_frame_equal(open_store(path).read("risk_areas"), before)
    assert run("2022-03-30") == 0  # the same day again: a corrected list
    assert run("2022-03-31") == 0


def test_check_list_day_names_the_latest_later_list():
    from geo.errors import ImportRejected
    from layers.risk_areas import check_list_day

    check_list_day([], "2022-03-20")
    check_list_day(["2022-03-18", "2022-03-20"], "2022-03-20")  # the same day: a corrected list
    with pytest.raises(ImportRejected, match="2022-03-25") as err:
        check_list_day(["2022-03-18", "2022-03-22", "2022-03-25"], "2022-03-21")
    assert err.value.rows[0][2] and err.value.rows[0][3]  # Chinese and English


def test_the_history_says_which_list_listed_changed_and_lifted_an_area_and_who_applied_it(tmp_path, capsys):
    """"By which notice or user": each entry's start and end name the daily list (its file) and
    the user who applied it, where a recorded list did it."""
    from data.demo import build_demo, demo_meta
    from layers.risk_areas import LIST_KIND, area_history, list_provenance
    from layers.store import open_store
    from layers.store.gpkg import write_new_store
    from layers.store.records import records_for

    path = tmp_path / "riskmap.gpkg"
    write_new_store(path, build_demo(20220328), meta=demo_meta(20220328))
    apply_high_then_medium(path, tmp_path, "N1", prefix="d")
    capsys.readouterr()
    lists = list_provenance(records_for(str(path)).current(LIST_KIND))
    hist = area_history(open_store(path).read("risk_areas"), "N1", lists=lists)
    assert list(hist["level"]) == ["high", "medium"]
    assert hist.loc[0, "listed_by"].startswith("d29.csv · cli:") and hist.loc[0, "lifted_by"].startswith("d30.csv · cli:")
    assert hist.loc[1, "listed_by"].startswith("d30.csv · cli:") and pd.isna(hist.loc[1, "lifted_by"])
