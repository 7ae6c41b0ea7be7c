"""Every date a CLI command takes is checked the one way (geo.screening.parse_as_of) before the
command runs: a bad one is a usage error in both languages, never a traceback."""

from __future__ import annotations

import pytest

from dashboard.cli import main

BAD_DAYS = ["2022-13-45", "nope", "1000-01-01"]


@pytest.mark.parametrize("bad", BAD_DAYS)
@pytest.mark.parametrize("command", [
    ["screen"],
    ["allocate"],
    ["companions", "--records", "r.csv", "--cases", "c.csv", "--out", "o.csv"],
    ["import", "risk_areas", "list.csv", "--mode", "daily"],
])
def test_a_bad_as_of_is_a_usage_error_in_both_languages(command, bad, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--as-of", bad]) == 2
    err = capsys.readouterr().err
    assert "--as-of" in err and "日期无效" in err and "YYYY-MM-DD" in err and "Traceback" not in err


def test_a_bad_at_is_a_usage_error_too(capsys):
    assert main(["allocate", "--as-of", "2022-03-28", "--at", "soon"]) == 2
    assert "--at" in capsys.readouterr().err


def test_companions_makes_a_missing_output_folder_as_every_command_does_and_names_one_it_cannot(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("device,infectious_from,infectious_to\nd1,2022-03-18,\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text("device,lon,lat,start,end\nd1,112.55,37.87,2022-03-20 10:00,2022-03-20 11:00\n",
                                    encoding="utf-8")
    out = tmp_path / "new" / "o.csv"
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "c.csv"),
                 "--as-of", "2022-03-25", "--out", str(out)]) == 0
    assert out.exists()
    capsys.readouterr()
    blocked = tmp_path / "c.csv" / "o.csv"  # under a file: no folder can be made there
    assert main(["companions", "--records", str(tmp_path / "r.csv"), "--cases", str(tmp_path / "c.csv"),
                 "--as-of", "2022-03-25", "--out", str(blocked)]) == 2
    err = capsys.readouterr().err
    assert "无法创建输出文件夹" in err and "cannot make the output folder" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["allocate", "--as-of", "2022-03-28"], ["screen", "--as-of", "2022-03-28"],
                                     ["export", "zones", "z.csv"]])
def test_a_store_not_built_yet_is_named_with_how_to_build_it_in_both_languages(command, tmp_path, capsys):
    missing = str(tmp_path / "none.gpkg")
    assert main([*command, "--store", missing]) in (1, 2)
    err = capsys.readouterr().err
    assert "找不到数据库 none.gpkg" in err and "store not found: none.gpkg" in err and "riskmap demo" in err
    assert "Traceback" not in err and err.count("store not found") == 1


@pytest.mark.parametrize(("option", "value"), [("--records", "0"), ("--records", "-5"), ("--n-cases", "-1"),
                                               ("--records", "many")])
def test_demo_locations_refuses_counts_that_make_no_sense(option, value, tmp_path, capsys):
    assert main(["demo-locations", "--out", str(tmp_path / "r.parquet"), "--cases", str(tmp_path / "c.csv"),
                 option, value]) == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err
    assert not (tmp_path / "r.parquet").exists()


def test_demo_locations_says_when_it_wrote_more_records_than_asked(tmp_path, capsys):
    assert main(["demo-locations", "--out", str(tmp_path / "r.parquet"), "--cases", str(tmp_path / "c.csv"),
                 "--records", "100", "--n-cases", "20"]) == 0
    out = capsys.readouterr().out
    assert "more than the 100 asked" in out and "多于所要求的 100 条" in out


def test_a_password_prompt_without_a_terminal_says_to_use_password_stdin(tmp_path, monkeypatch, capsys):
    import getpass

    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", no_terminal)
    assert main(["user", "add", "bob", "--role", "planner", "--store", str(tmp_path / "s.gpkg")]) == 1
    err = capsys.readouterr().err
    assert "--password-stdin" in err and "没有读到密码" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["screen", "--as-of", "2022-03-28", "--out", "{blocked}/s.csv"],
                                     ["allocate", "--as-of", "2022-03-28", "--out", "{blocked}/a.xlsx"],
                                     ["export", "neighbourhoods", "{blocked}/n.geojson"]])
def test_an_output_path_that_cannot_be_written_is_named_not_a_traceback(command, tmp_path, capsys):
    from data.demo import build_demo, demo_meta
    from layers.store.gpkg import write_new_store

    store = tmp_path / "riskmap.gpkg"
    write_new_store(store, build_demo(20220328), meta=demo_meta(20220328))
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")  # a file where the output's folder should be
    code = main([c.replace("{blocked}", str(blocked)) for c in command] + ["--store", str(store)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "无法读写文件" in err and "cannot read or write" in err and str(blocked) in err and "Traceback" not in err
