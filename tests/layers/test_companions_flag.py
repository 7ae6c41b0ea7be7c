"""时空伴随者 into the traveller list (layers/companions.py, riskmap companions --flag): the
travellers whose device the detection names are flagged on the detection day, the screening gives
them the companion rule's code, a second run keeps the first day, and a device no traveller
carries enters the list as a person to identify, in the neighbourhood where it met the case."""

from __future__ import annotations

import pandas as pd
import pytest

from data.demo import SCENARIO_TODAY, build_demo, demo_meta
from layers.companions import flag_companions
from layers.screening_io import screen_store
from layers.store import open_store
from layers.store.gpkg import write_new_store


@pytest.fixture
def store(tmp_path):
    layers = build_demo(20220328)
    t = layers["travellers"]
    plain = t[~t["companion"].fillna(False).astype(bool) & ~t["inbound"].fillna(False).astype(bool)].index[:3]
    t["device_id"] = None
    t.loc[plain, "device_id"] = ["aaaa000000000001", "aaaa000000000002", "aaaa000000000003"]
    path = tmp_path / "riskmap.gpkg"
    write_new_store(path, layers, meta=demo_meta(20220328))
    return str(path), list(t.loc[plain, "id"])


def test_found_devices_flag_their_travellers_once(store):
    path, ids = store
    found = pd.DataFrame({"device": ["aaaa000000000001", "aaaa000000000002", "ffff000000000000"]})
    res = flag_companions(path, found, detected=SCENARIO_TODAY, user="cli:test")
    assert (res.flagged, res.already, res.unmatched) == (2, 0, 1)
    t = open_store(path).read("travellers").set_index("id")
    assert t.loc[ids[:2], "companion"].all() and not t.loc[ids[2], "companion"]
    assert (pd.to_datetime(t.loc[ids[:2], "companion_date"]) == pd.Timestamp(SCENARIO_TODAY)).all()
    screened = screen_store(path, SCENARIO_TODAY, followup=False)
    kinds = set(screened.obligations.loc[screened.obligations["traveller_id"].isin(ids[:2]), "kind"])
    assert any("companion" in k for k in kinds)
    # the device no traveller carried: a person to identify, flagged the same way, nothing guessed
    from layers.companions import UNKNOWN_NAME

    added = t[t["device_id"] == "ffff000000000000"]
    assert res.added == 1 and len(added) == 1 and added.index[0].startswith("TC-")
    row = added.iloc[0]
    assert row["name"] == UNKNOWN_NAME and bool(row["companion"]) and pd.isna(row["phone"]) and row["geometry"] is None
    assert any("companion" in k for k in screened.obligations.loc[screened.obligations["traveller_id"] == added.index[0], "kind"])
    # a later detection keeps the first day, and finds the added person instead of adding them again
    again = flag_companions(path, found, detected="2022-03-29", user="cli:test")
    assert (again.flagged, again.already, again.added) == (0, 3, 0)
    assert (open_store(path).read("travellers")["device_id"] == "ffff000000000000").sum() == 1
    t2 = open_store(path).read("travellers").set_index("id")
    assert (pd.to_datetime(t2.loc[ids[:2], "companion_date"]) == pd.Timestamp(SCENARIO_TODAY)).all()


def test_the_command_line_flags_and_keeps_the_aggregates(store, tmp_path, capsys):
    from dashboard.cli import main
    from layers.companions import latest_summary
    from layers.store.records import records_for

    path, ids = store
    t = open_store(path).read("travellers").set_index("id")
    home = t.loc[ids[0], "geometry"]
    rows = [("aaaa000000000009", home.x, home.y, f"2022-03-{20 + d} 20:00", f"2022-03-{21 + d} 08:00") for d in range(3)]
    rows += [(dev, home.x, home.y, "2022-03-22 06:00", "2022-03-22 07:00")
             for dev in ("aaaa000000000001", "aaaa000000000002", "aaaa000000000003", "bbbb000000000004")]
    pd.DataFrame(rows, columns=["device", "lon", "lat", "start", "end"]).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"device": ["aaaa000000000009"], "infectious_from": ["2022-03-19"], "infectious_to": [None]}).to_csv(
        tmp_path / "c.csv", index=False)
    out = tmp_path / "found.csv"
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "c.csv"), "--as-of", SCENARIO_TODAY,
                 "--out", str(out), "--flag", "--store", path]) == 0
    text = capsys.readouterr().out
    assert "companions: 4 devices" in text and "flagged 3 travellers" in text
    assert "1 devices were on no traveller and were added as people to identify" in text
    added = open_store(path).read("travellers").set_index("device_id").loc["bbbb000000000004"]
    assert added["neighbourhood_id"] is not None  # the neighbourhood of the cell where it met the case
    assert len(pd.read_csv(out)) == 4
    s = latest_summary(records_for(path), SCENARIO_TODAY)
    assert (s["devices"], s["cases"]) == (4, 1) and s["cells"][0]["companions"] == 4
    assert latest_summary(records_for(path), "2022-03-27") is None  # not before the detection day
    # a file that is neither Parquet nor CSV is refused
    (tmp_path / "r.txt").write_text("x")
    assert main(["companions", "--records", str(tmp_path / "r.txt"), "--cases", str(tmp_path / "c.csv"), "--as-of", SCENARIO_TODAY,
                 "--out", str(out)]) == 2
    assert "must be a Parquet or CSV file" in capsys.readouterr().err


def test_the_cli_names_bad_records_by_spreadsheet_row_past_blank_lines(tmp_path, capsys):
    from dashboard.cli import main

    (tmp_path / "r.csv").write_text(
        "device,lon,lat,start,end\n"                                         # row 1: the header
        "d1,112.55,37.87,2022-03-20 10:00,2022-03-20 11:00\n"                # 2
        "\n"                                                                  # 3: blank
        "d2,,37.87,2022-03-20 10:00,2022-03-20 11:00\n"                      # 4: no longitude
        "d3,112.55,37.87,2022-03-20 12:00,2022-03-20 11:00\n",               # 5: end before start
        encoding="utf-8")
    (tmp_path / "c.csv").write_text("device,infectious_from,infectious_to\nd1,2022-03-18,2022-03-25\n", encoding="utf-8")
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "c.csv"),
                 "--as-of", "2022-03-25", "--out", str(tmp_path / "o.csv")]) == 0
    out, err = capsys.readouterr()
    assert "read 3 records, 1 usable" in out
    assert "坐标缺失或不是数字 1 条 / coordinates missing or not a number: 1（第 4 行 / row 4）" in err
    assert "结束早于开始 1 条 / end before start: 1（第 5 行 / row 5）" in err
    assert "1 blank rows skipped" in err and "row 1 is the header" in err
    assert "outside China" not in err


def test_the_cli_refuses_a_bad_cases_file_before_reading_the_records(tmp_path, capsys):
    from dashboard.cli import main

    (tmp_path / "c.csv").write_text("device,infectious_from,infectious_to\n"
                                    "d1,yesterday,\n"             # row 2
                                    "d1,2022-03-18,\n", encoding="utf-8")  # row 3: listed twice
    out = tmp_path / "o.csv"
    assert main(["companions", "--records", str(tmp_path / "never-read.csv"), "--cases", str(tmp_path / "c.csv"),
                 "--as-of", "2022-03-25", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nothing was run" in err
    assert "第 2 行 row 2 · infectious_from: 传染期开始缺失或不是日期 / infectious_from missing or not a date" in err
    assert "第 3 行 row 3 · device: 病例设备编号重复（第 2 行已列出） / case device listed twice (also row 2)" in err
    assert not out.exists()


def test_the_cli_reads_gbk_files_as_the_importers_do_and_refuses_an_unreadable_one(tmp_path, capsys):
    """Spreadsheets saved on a Chinese desktop come as GBK; the CLI reads them with the importers'
    one decoder (UTF-8, else GBK/GB18030 or Big5 when the text says which, else refused)."""
    from dashboard.cli import main

    note = "太原市小店区报告的确诊病例，传染期按流行病学调查报告填写"  # enough text to tell GBK from Big5
    (tmp_path / "c.csv").write_bytes(f"device,infectious_from,infectious_to,备注\n病例甲,2022-03-18,,{note}\n".encode("gb18030"))
    lines = ["device,lon,lat,start,end,备注"]
    lines += [f"病例甲,112.55,37.87,2022-03-{20 + d} 20:00,2022-03-{21 + d} 08:00,{note}" for d in range(3)]
    lines += [f"居民乙,112.55,37.87,2022-03-22 06:00,2022-03-22 07:00,{note}"]
    (tmp_path / "r.csv").write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    out = tmp_path / "o.csv"
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "c.csv"),
                 "--as-of", "2022-03-25", "--out", str(out)]) == 0
    found = pd.read_csv(out, encoding="utf-8-sig")
    assert found[["device", "case_device"]].values.tolist() == [["居民乙", "病例甲"]]
    capsys.readouterr()
    (tmp_path / "bad.csv").write_bytes(bytes(range(128, 256)) * 4)
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "bad.csv"),
                 "--as-of", "2022-03-25", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the text encoding reliably" in err and "无法可靠识别文字编码" in err


def test_the_cli_says_how_many_records_lie_outside_the_detection_window(tmp_path, capsys):
    """A wrong --as-of (or times in the wrong year) must not pass as "nobody found" unexplained."""
    from dashboard.cli import main

    (tmp_path / "r.csv").write_text("device,lon,lat,start,end\n"
                                    "d1,112.55,37.87,2022-03-20 10:00,2022-03-20 11:00\n"
                                    "d2,112.55,37.87,2022-02-01 10:00,2022-02-01 11:00\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("device,infectious_from,infectious_to\nd1,2022-03-18,\n", encoding="utf-8")
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "c.csv"),
                 "--as-of", "2022-03-25", "--out", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert "1 records lie wholly outside the detection window 2022-03-12 00:00 – 2022-03-26 00:00 (not used)" in err


def test_the_cli_names_a_file_it_cannot_read_in_both_languages(tmp_path, capsys):
    from dashboard.cli import main

    good_cases = tmp_path / "c.csv"
    good_cases.write_text("device,infectious_from,infectious_to\nd1,2022-03-18,\n", encoding="utf-8")
    good_records = tmp_path / "r.csv"
    good_records.write_text("device,lon,lat,start,end\nd1,112.55,37.87,2022-03-20 10:00,2022-03-20 11:00\n", encoding="utf-8")
    (tmp_path / "fake.parquet").write_text("device,lon\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    for records, cases, name, zh in [
        ("fake.parquet", "c.csv", "fake.parquet", "无法读取"),
        ("empty.csv", "c.csv", "empty.csv", "无法读取"),
        ("r.csv", "empty.csv", "empty.csv", "无法读取"),
        ("absent.csv", "c.csv", "absent.csv", "找不到文件"),
        ("r.csv", "absent.csv", "absent.csv", "找不到文件"),
    ]:
        assert main(["companions", "--records", str(tmp_path / records), "--cases", str(tmp_path / cases),
                     "--as-of", "2022-03-25", "--out", str(tmp_path / "o.csv")]) == 2, (records, cases)
        err = capsys.readouterr().err
        assert f"riskmap: {name}：{zh}" in err and " / " in err and "Traceback" not in err, err
