"""日报告/零报告: validation, one report per day with revisions, atomic writes, exports, bulletin."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo.errors import StaleWrite
from layers import MAP_LAYERS, get_spec
from layers.daily_report import (
    CUMULATIVE_NAMES,
    FIGURE_NAMES,
    NO_REPORT,
    ReportChanged,
    ReportRejected,
    bulletin_text,
    current_revision,
    export_headers,
    export_reports,
    fill_cumulative,
    load_reports,
    load_revisions,
    report_records,
    reports_csv_bytes,
    revisions_for,
    save_report,
    validate_report,
    zero_report,
)
from layers.store.gpkg import GpkgStore, write_new_store

# seed 000, word for word: the 2022-02-07 bulletin of the city's epidemic prevention office.
SEED_DAY = (
    "2月7日0时至24时，我市本地无新增确诊病例，无新增疑似病例，无新增无症状感染者；无新增境外输入确诊病例；"
    "新增境外输入无症状感染者2例；当日治愈出院境外输入确诊病例1例；当日无重点地区返(抵)并人员；"
    "当日核酸检测应检尽检、愿检尽检17012人次。"
)
SEED_TOTALS = (
    "截至2月7日24时，累计报告新冠肺炎确诊病例21例",
    "累计报告境外输入确诊病例99例",
    "累计报告24例境外输入无症状感染者",
    "累计核酸检测应检尽检、愿检尽检2193207人次",
)
SEED_FILE = Path("/work/shared/seeds/000_ce34bb3450e2f045.txt")

ZERO = dict.fromkeys(FIGURE_NAMES, 0)


def _row(day: str, cum: tuple[int, int, int, int], **figures: int) -> dict:
    return {"date": day} | ZERO | figures | dict(zip(CUMULATIVE_NAMES, cum, strict=True)) | {"demo": False}


# Three days ending on the seed's day; the identities hold.
FEB5 = _row("2022-02-05", (21, 99, 22, 2_160_195), tests=15_000)
FEB6 = _row("2022-02-06", (21, 99, 22, 2_176_195), tests=16_000)
FEB7 = _row("2022-02-07", (21, 99, 24, 2_193_207), new_imported_asymptomatic=2, recovered=1, tests=17_012)


def _history(*rows: dict) -> pd.DataFrame:
    return get_spec("daily_reports").coerce(pd.DataFrame(list(rows)))


@pytest.fixture
def store(tmp_path) -> GpkgStore:
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"daily_reports": _history(FEB5, FEB6)})
    return GpkgStore(path)


def _errors(issues):
    return [(i.field, i.code) for i in issues if i.is_error]


def _warnings(issues):
    return [(i.field, i.code) for i in issues if not i.is_error]


# ----------------------------------------------------------------------------------------------
# Validation


def test_a_consistent_report_passes():
    assert validate_report(FEB7, _history(FEB5, FEB6)) == []


def test_integral_floats_and_digit_strings_are_integers():
    report = FEB7 | {"tests": 17012.0, "recovered": " 1 "}
    assert validate_report(report, _history(FEB5, FEB6)) == []


@pytest.mark.parametrize(
    ("change", "field", "code", "zh", "en"),
    [
        (
            {"new_suspected": -1},
            "new_suspected",
            "negative",
            "新增疑似：不能为负数（-1）",
            "New suspected: must not be negative (-1)",
        ),
        (
            {"recovered": 1.5},
            "recovered",
            "not_integer",
            "治愈出院：必须是整数",
            "Recovered: must be a whole number, got 1.5",
        ),
        ({"recovered": "1例"}, "recovered", "not_integer", "治愈出院：必须是整数", "got '1例'"),
        ({"recovered": True}, "recovered", "not_integer", "治愈出院：必须是整数", "got True"),
        ({"tests": None}, "tests", "missing", "当日核酸检测人次：必须填写", "Tests performed: required"),
        ({"date": None}, "date", "missing", "日期：必须填写", "Date: required"),
        ({"date": "2月7日"}, "date", "bad_date", "日期：无法识别", "Date: not a date: '2月7日'"),
        (
            {"new_locals": 1},
            "new_locals",
            "unknown_field",
            "未知字段 'new_locals'",
            "unknown field 'new_locals'",
        ),
        (
            {"cum_confirmed": 22},
            "cum_confirmed",
            "inconsistent",
            "累计确诊：应为 21（2022-02-06 的累计确诊 21 + 当日本地新增确诊 0），填写的是 22",
            "Cumulative confirmed: should be 21 (Cumulative confirmed of 2022-02-06: 21 + New local confirmed: 0); entered 22",
        ),
        (
            {"new_imported_asymptomatic": 3},
            "cum_imported_asymptomatic",
            "inconsistent",
            "累计境外输入无症状：应为 25",
            "Cumulative imported asymptomatic: should be 25",
        ),
        (
            {"cum_tests": 2_193_206},
            "cum_tests",
            "inconsistent",
            "累计核酸检测人次：应为 2193207",
            "entered 2193206",
        ),
    ],
)
def test_validation_names_the_field(change, field, code, zh, en):
    issues = validate_report(FEB7 | change, _history(FEB5, FEB6))
    assert _errors(issues) == [(field, code)]
    (issue,) = issues
    assert zh in issue.message("zh")
    assert en in issue.message("en")
    assert str(issue) == f"{issue.message_zh} / {issue.message_en}"


def test_every_bad_field_is_listed():
    issues = validate_report(
        FEB7 | {"new_suspected": -1, "recovered": 0.5, "cum_confirmed": 20}, _history(FEB5, FEB6)
    )
    assert _errors(issues) == [
        ("new_suspected", "negative"),
        ("recovered", "not_integer"),
        ("cum_confirmed", "inconsistent"),
    ]


def test_first_report_cumulative_at_least_the_days_figure():
    assert validate_report(FEB5, _history()) == []
    issues = validate_report(FEB5 | {"cum_tests": 14_999}, _history())
    assert _errors(issues) == [("cum_tests", "below_figure")]
    assert "累计核酸检测人次：不能小于当日当日核酸检测人次（15000）" in issues[0].message_zh


def test_a_gap_is_a_warning_and_the_identity_uses_the_latest_earlier_report():
    # 2022-02-06 was never reported: the 2022-02-07 totals are checked against 2022-02-05.
    history = _history(FEB5)
    report = FEB7 | {"cum_tests": 2_160_195 + 17_012}
    issues = validate_report(report, history)
    assert _errors(issues) == []
    assert _warnings(issues) == [("date", "gap")]
    assert "上一份日报是 2022-02-05，中间缺少 1 天的日报" in issues[0].message_zh
    assert "the previous report is from 2022-02-05; 1 day(s) missing" in issues[0].message_en
    # the report as published (with the 2022-02-06 tests in it) does not add up over the gap
    assert _errors(validate_report(FEB7, history)) == [("cum_tests", "inconsistent")]


def test_editing_an_earlier_day_warns_about_the_next_report():
    issues = validate_report(FEB6 | {"tests": 16_001, "cum_tests": 2_176_196}, _history(FEB5, FEB6, FEB7))
    assert _errors(issues) == []
    assert _warnings(issues) == [("cum_tests", "later_inconsistent")]
    assert "2022-02-07" in issues[0].message_en


def test_validation_does_not_touch_the_callers_frame():
    history = _history(FEB6, FEB5)
    before = history.copy()
    validate_report(FEB7, history)
    pd.testing.assert_frame_equal(history, before)


# ----------------------------------------------------------------------------------------------
# One report per day; every save kept as a revision


def test_save_twice_keeps_one_row_and_two_revisions(store):
    now = dt.datetime(2022, 2, 8, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    first = save_report(store, FEB7 | {"recovered": 0}, user="王", note="初报", now=now)
    assert (first.revision, first.changed, first.warnings) == (1, True, [])
    second = save_report(store, FEB7, user="李", note="补报治愈 1 例")
    assert (second.revision, second.changed) == (2, True)

    daily = load_reports(store)
    assert list(daily["date"].dt.strftime("%Y-%m-%d")) == ["2022-02-05", "2022-02-06", "2022-02-07"]
    row = daily[daily["date"] == "2022-02-07"].iloc[0]
    assert int(row["recovered"]) == 1 and bool(row["demo"]) is False

    revs = revisions_for("2022-02-07", load_revisions(store))
    assert list(revs["revision"]) == [1, 2]
    assert list(revs["recovered"]) == [0, 1]  # the first values are preserved
    assert list(revs["saved_by"]) == ["王", "李"]
    assert list(revs["note"]) == ["初报", "补报治愈 1 例"]
    assert revs["saved_at"].iloc[0] == "2022-02-08T09:30:00+08:00"
    assert dt.datetime.fromisoformat(revs["saved_at"].iloc[1]).utcoffset() == dt.timedelta(hours=8)
    assert all(int(revs[c].iloc[1]) == FEB7[c] for c in FIGURE_NAMES + CUMULATIVE_NAMES)


def test_editing_an_original_keeps_it_as_revision_0(store):
    result = save_report(store, FEB6 | {"returnees_key_regions": 3}, user="command", note="更正")
    assert result.revision == 1
    revs = revisions_for("2022-02-06", load_revisions(store))
    assert list(revs["revision"]) == [0, 1]
    assert list(revs["returnees_key_regions"]) == [0, 3]
    assert pd.isna(revs["saved_by"].iloc[0]) and revs["note"].iloc[0] == "原始报告 / original report"
    assert len(load_reports(store)) == 2


def _written(store):
    """What a save could change: the store file and the records' version."""
    return store.path.read_bytes(), report_records(store).version()


def test_saving_unchanged_values_records_nothing(store):
    before = _written(store)
    result = save_report(store, FEB6, user="command")
    assert (result.revision, result.changed) == (0, False)
    assert _written(store) == before


def test_a_rejected_report_writes_nothing(store):
    before = _written(store)
    with pytest.raises(ReportRejected, match="累计确诊：应为 21") as info:
        save_report(store, FEB7 | {"cum_confirmed": 22, "tests": -5}, user="command")
    assert [(e.field, e.code) for e in info.value.errors] == [
        ("tests", "negative"),
        ("cum_confirmed", "inconsistent"),
    ]
    assert _written(store) == before
    # no copy of the store was made: beside it only its writer lock and its records
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["s.accounts.sqlite", "s.gpkg", "s.gpkg.lock"]


def test_save_returns_warnings(store):
    report = zero_report("2022-02-09", load_reports(store), tests=100)
    result = save_report(store, report, user="command")
    assert [(w.field, w.code) for w in result.warnings] == [("date", "gap")]
    assert len(load_reports(store)) == 3


def test_save_needs_a_user(store):
    with pytest.raises(ValueError, match="user"):
        save_report(store, FEB7, user=" ")


def _other_desk_saves_first(monkeypatch, other: dict) -> list:
    """Someone else saves ``other`` between our read of the reports and our write."""
    from layers.store.records import Records

    real = Records.save_many
    calls = []

    def save_many(self, items, **kw):
        if not calls:
            calls.append("other")
            save_report(store_of[0], other, user="other desk")
        calls.append("ours")
        return real(self, items, **kw)

    store_of: list = []
    monkeypatch.setattr(Records, "save_many", save_many)
    return store_of


def test_a_concurrent_save_of_another_day_is_not_lost(store, monkeypatch):
    load_reports(store)  # the store's originals taken in before the race
    _other_desk_saves_first(monkeypatch, FEB6 | {"returnees_key_regions": 4}).append(store)
    result = save_report(store, FEB7, user="command")
    daily = load_reports(store).set_index("date")
    assert int(daily.loc["2022-02-06", "returnees_key_regions"]) == 4  # theirs
    assert int(daily.loc["2022-02-07", "tests"]) == 17_012  # ours
    assert result.revision == 1


def test_a_concurrent_save_that_breaks_the_totals_is_refused(store, monkeypatch):
    # the other desk corrects 2022-02-06's tests while we save 2022-02-07 on the old total
    load_reports(store)
    _other_desk_saves_first(monkeypatch, FEB6 | {"tests": 16_100, "cum_tests": 2_176_295}).append(store)
    with pytest.raises(StaleWrite, match="totals no longer add up"):
        save_report(store, FEB7, user="command")
    daily = load_reports(store)
    assert "2022-02-07" not in set(daily["date"].dt.strftime("%Y-%m-%d"))  # ours not written
    assert int(daily.set_index("date").loc["2022-02-06", "tests"]) == 16_100  # theirs kept


def _revision_of(store, day):
    return current_revision(day, load_reports(store), load_revisions(store))


def test_current_revision_none_original_and_edited(store):
    assert _revision_of(store, "2022-02-07") == NO_REPORT
    assert _revision_of(store, "2022-02-06") == 0  # an original, never edited here
    save_report(store, FEB6 | {"recovered": 2}, user="王")
    assert _revision_of(store, "2022-02-06") == 1


def test_an_edit_begun_before_anothers_save_is_refused(store):
    # two desks open 2022-02-07 while it has no report; the first saves, the second is refused
    first = save_report(store, FEB7, user="王", expect_revision=NO_REPORT,
                        now=dt.datetime(2022, 2, 8, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert first.revision == 1
    before = _written(store)
    with pytest.raises(ReportChanged) as info:
        save_report(store, FEB7 | {"recovered": 3}, user="李", expect_revision=NO_REPORT)
    exc = info.value
    assert (exc.revision, exc.saved_by, exc.saved_at) == (1, "王", "2022-02-08T09:00:00+08:00")
    assert exc.current["recovered"] == 1 and exc.current["tests"] == 17_012
    assert "2022-02-07" in str(exc) and "修订 1" in str(exc)
    assert _written(store) == before  # nothing written
    # knowing revision 1, the second desk saves on purpose: revision 2, both kept
    second = save_report(store, FEB7 | {"recovered": 3}, user="李", expect_revision=1)
    assert second.revision == 2
    assert list(revisions_for("2022-02-07", load_revisions(store))["recovered"]) == [1, 3]


def test_an_edit_of_an_original_checks_revision_0(store):
    save_report(store, FEB6 | {"recovered": 2}, user="王", expect_revision=0)
    with pytest.raises(ReportChanged) as info:
        save_report(store, FEB6 | {"recovered": 5}, user="李", expect_revision=0)
    assert info.value.revision == 1 and info.value.saved_by == "王"


def test_an_original_is_reported_without_a_name(tmp_path):
    # the report was there before revisions were recorded (a store of the previous layout, the
    # demo's series): no one to name, revision 0
    path = tmp_path / "old.gpkg"
    write_new_store(path, {"daily_reports": _history(FEB5, FEB6, FEB7)})
    store = GpkgStore(path)
    with pytest.raises(ReportChanged) as info:
        save_report(store, FEB7 | {"recovered": 4}, user="李", expect_revision=NO_REPORT)
    assert (info.value.revision, info.value.saved_by, info.value.saved_at) == (0, None, None)


def test_same_values_as_the_newer_revision_are_no_conflict(store):
    save_report(store, FEB7, user="王", expect_revision=NO_REPORT)
    result = save_report(store, FEB7, user="李", expect_revision=NO_REPORT)
    assert (result.revision, result.changed) == (1, False)


# ----------------------------------------------------------------------------------------------
# GpkgStore.write_layers


def test_write_layers_writes_both_layers_or_neither(store):
    rev = get_spec("daily_report_revisions")
    revision = pd.DataFrame([FEB7 | {"revision": 1, "saved_at": "x", "saved_by": "u", "note": ""}])
    counts = store.write_layers(
        {"daily_reports": _history(FEB7), "daily_report_revisions": revision},
        {"daily_reports": "append", "daily_report_revisions": "append"},
    )
    assert counts == {"daily_reports": 3, "daily_report_revisions": 1}
    assert list(load_revisions(store).columns) == rev.column_names

    before = store.path.read_bytes()
    with pytest.raises(ValueError, match="'revision'"):  # the second layer fails: the first is not written
        store.write_layers(
            {"daily_reports": _history(FEB5), "daily_report_revisions": revision.assign(revision=["one"])},
            {"daily_reports": "replace", "daily_report_revisions": "append"},
        )
    with pytest.raises(ValueError, match="ids already in the store: 2022-02-07"):
        store.write_layers({"daily_reports": _history(FEB7)}, {})
    with pytest.raises(ValueError, match="mode must be"):
        store.write_layers({"daily_reports": _history(FEB7)}, {"daily_reports": "merge"})
    assert store.path.read_bytes() == before


def test_write_layers_refuses_a_stale_version(store):
    version = store.version()
    store.write_layer("daily_reports", _history(FEB7))
    before = store.path.read_bytes()
    with pytest.raises(StaleWrite, match="changed since it was read"):
        store.write_layers(
            {"daily_reports": _history(FEB5)}, {"daily_reports": "replace"}, expect_version=version
        )
    assert store.path.read_bytes() == before
    assert store.write_layers(
        {"daily_reports": _history(FEB5)}, {"daily_reports": "replace"}, expect_version=store.version()
    ) == {"daily_reports": 1}


def test_revisions_layer_is_registered_public_and_not_on_maps():
    spec = get_spec("daily_report_revisions")
    assert spec.public and not spec.personal_columns and spec.geometry is None
    assert spec.column("saved_at").dtype == "str" and spec.column("revision").dtype == "int"
    assert set(get_spec("daily_reports").column_names) <= set(spec.column_names)
    assert "daily_report_revisions" not in MAP_LAYERS


# ----------------------------------------------------------------------------------------------
# Zero report


def test_zero_report_carries_the_cumulative_totals():
    history = _history(FEB5, FEB6, FEB7)
    report = zero_report("2022-02-08", history)
    assert report == {"date": pd.Timestamp("2022-02-08"), **ZERO} | {
        "cum_confirmed": 21,
        "cum_imported_confirmed": 99,
        "cum_imported_asymptomatic": 24,
        "cum_tests": 2_193_207,
    }
    with_tests = zero_report("2022-02-08", history, tests=15_500)
    assert with_tests["tests"] == 15_500 and with_tests["cum_tests"] == 2_208_707
    assert validate_report(with_tests, history) == []


def test_zero_report_after_a_gap_and_with_no_history():
    # from the latest earlier report, not from a later one
    report = zero_report("2022-02-06", _history(FEB5, FEB7))
    assert report["cum_imported_asymptomatic"] == 22 and report["cum_tests"] == 2_160_195
    assert zero_report("2022-02-05", _history())["cum_tests"] == 0


def test_fill_cumulative_adds_the_days_figures():
    report = fill_cumulative(
        "2022-02-07", {"new_imported_asymptomatic": 2, "recovered": 1, "tests": 17_012}, _history(FEB5, FEB6)
    )
    expected = {k: v for k, v in FEB7.items() if k != "demo"} | {"date": pd.Timestamp("2022-02-07")}
    assert report == expected


# ----------------------------------------------------------------------------------------------
# Exports


def test_export_xlsx_headers_and_values(tmp_path):
    path = export_reports(_history(FEB7, FEB5, FEB6), tmp_path / "reports.xlsx")
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("日期 Date", "本地新增确诊 New local confirmed", "新增疑似 New suspected")
    assert rows[0][-1] == "演示数据 Demo data"
    assert "累计核酸检测人次 Cumulative tests" in rows[0]
    assert [r[0] for r in rows[1:]] == [dt.datetime(2022, 2, d) for d in (5, 6, 7)]  # oldest first
    assert ws["A4"].number_format == "yyyy-mm-dd"
    feb7 = dict(zip(rows[0], rows[3], strict=True))
    assert feb7["新增境外输入无症状 New imported asymptomatic"] == 2
    assert feb7["当日核酸检测人次 Tests performed"] == 17_012
    assert feb7["累计核酸检测人次 Cumulative tests"] == 2_193_207
    assert feb7["演示数据 Demo data"] is False


def test_export_csv_is_utf8_bom_with_iso_dates(tmp_path):
    path = export_reports(_history(FEB6, FEB7), tmp_path / "reports.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data == reports_csv_bytes(_history(FEB6, FEB7))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(export_headers().values())
    assert rows[0][1] == "本地新增确诊 New local confirmed"
    assert rows[2][:6] == ["2022-02-07", "0", "0", "0", "0", "2"]
    assert rows[2][rows[0].index("累计确诊 Cumulative confirmed")] == "21"


def test_export_refuses_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"\.xlsx or \.csv, got 'r\.json'"):
        export_reports(_history(FEB7), tmp_path / "r.json")


# ----------------------------------------------------------------------------------------------
# Bulletin


def test_bulletin_reproduces_the_seed_wording():
    zh = bulletin_text(FEB7, "zh")
    day, totals = zh.split("\n\n")
    # The layer's `recovered` does not say local or imported, so "境外输入" cannot be restored.
    assert day == SEED_DAY.replace("当日治愈出院境外输入确诊病例1例", "当日治愈出院确诊病例1例")
    assert totals == "；".join(SEED_TOTALS) + "。"


def test_seed_literals_are_verbatim():
    if not SEED_FILE.exists():
        pytest.skip("seed file not available")
    text = SEED_FILE.read_text(encoding="utf-8")
    assert SEED_DAY in text
    for clause in SEED_TOTALS:
        assert clause in text


def test_bulletin_in_english():
    assert bulletin_text(FEB7, "en") == (
        "From 0:00 to 24:00 on 7 February 2022, Taiyuan reported no new local confirmed cases, no new "
        "suspected cases and no new local asymptomatic infections; no new imported confirmed cases; 2 new "
        "imported asymptomatic infections; 1 confirmed case recovered and was discharged; no returnees from "
        "key regions; 17,012 nucleic acid tests were performed.\n\n"
        "As of 24:00 on 7 February 2022: 21 local confirmed cases reported in total; 99 imported confirmed "
        "cases; 24 imported asymptomatic infections; 2,193,207 nucleic acid tests."
    )


def test_bulletin_words_non_zero_figures():
    report = FEB7 | {
        "new_local_confirmed": 3,
        "new_suspected": 1,
        "returnees_key_regions": 12,
        "recovered": 0,
    }
    zh = bulletin_text(report, "zh")
    assert zh.startswith("2月7日0时至24时，我市本地新增确诊病例3例，新增疑似病例1例，无新增无症状感染者；")
    assert "当日无治愈出院病例；当日重点地区返(抵)并人员12人；" in zh
    en = bulletin_text(report, "en")
    assert "Taiyuan reported 3 new local confirmed cases, 1 new suspected case and no new local" in en
    assert "12 returnees from key regions" in en


# ----------------------------------------------------------------------------------------------
# The demo series


@pytest.fixture(scope="module")
def demo_reports() -> pd.DataFrame:
    from data.demo import build_demo

    return build_demo()["daily_reports"]


def test_demo_series_satisfies_the_identities(demo_reports):
    for i in range(len(demo_reports)):
        row = demo_reports.iloc[i]  # a row (Series) is accepted as well as a dict
        assert validate_report(row, demo_reports.iloc[:i]) == [], row["date"]


def test_demo_seed_day_bulletin_and_a_zero_report(demo_reports, tmp_path):
    feb7 = demo_reports[demo_reports["date"] == "2022-02-07"].iloc[0]
    assert bulletin_text(feb7, "zh") == bulletin_text(FEB7, "zh")
    path = tmp_path / "demo.gpkg"
    write_new_store(path, {"daily_reports": demo_reports})
    store = GpkgStore(path)
    result = save_report(store, zero_report("2022-04-16", demo_reports, tests=12_000), user="command")
    assert (result.revision, result.changed, result.warnings) == (1, True, [])
    assert len(load_reports(store)) == len(demo_reports) + 1


# ----------------------------------------------------------------------------------------------
# Import through the form's validation and revisions (riskmap import daily_reports)


def test_an_import_is_validated_and_versioned_like_the_form(store, tmp_path, capsys):
    from dashboard.cli import main
    from layers.daily_report import export_headers

    feb7 = _row("2022-02-07", (22, 99, 22, 2_193_207), new_local_confirmed=1, tests=17_012)
    feb8 = _row("2022-02-08", (22, 99, 22, 2_210_207), tests=17_000)
    src = tmp_path / "reports.csv"
    # the export's bilingual headers, rows out of date order
    pd.DataFrame([feb8, feb7]).drop(columns="demo").rename(columns=export_headers()).to_csv(src, index=False)
    assert main(["import", "daily_reports", str(src), "--store", str(store.path)]) == 0
    assert "imported 2 days of reports" in capsys.readouterr().out
    revs = load_revisions(store)
    assert sorted(zip(revs["date"].dt.strftime("%m-%d"), revs["revision"], strict=True)) == [
        ("02-05", 0), ("02-06", 0), ("02-07", 1), ("02-08", 1)]  # the store's originals are revision 0
    assert set(revs[revs["revision"] > 0]["note"]) == {"导入 import: reports.csv"}
    assert len(load_reports(store)) == 4  # added, nothing replaced

    # a correction of one day is its next revision; the day before it keeps its original as revision 0
    fixed = tmp_path / "fixed.xlsx"
    pd.DataFrame([{**FEB6, "tests": 16_001, "cum_tests": 2_176_196}, {**feb7, "cum_tests": 2_193_208}]).drop(columns="demo").to_excel(fixed, index=False)
    assert main(["import", "daily_reports", str(fixed), "--store", str(store.path)]) == 0
    revs = load_revisions(store)
    assert sorted(zip(revs["date"].dt.strftime("%m-%d"), revs["revision"], strict=True)) == [
        ("02-05", 0), ("02-06", 0), ("02-06", 1), ("02-07", 1), ("02-07", 2), ("02-08", 1)]


def test_a_bad_import_names_each_row_and_writes_nothing(store, tmp_path, capsys):
    from dashboard.cli import main

    good = _row("2022-02-07", (21, 99, 22, 2_193_207), tests=17_012)
    wrong_total = _row("2022-02-08", (21, 99, 22, 1), tests=17_000)  # the cumulative tests do not add up
    negative = _row("2022-02-09", (21, 99, 22, 2_227_207), tests=-5)
    src = tmp_path / "bad.csv"
    pd.DataFrame([good, wrong_total, negative]).drop(columns="demo").to_csv(src, index=False)
    before = _written(store)
    assert main(["import", "daily_reports", str(src), "--store", str(store.path)]) == 1
    err = capsys.readouterr().err
    assert "2 rows rejected; no report was written" in err
    assert "第 3 行" in err and "第 4 行" in err and "第 2 行" not in err
    assert _written(store) == before and set(load_revisions(store)["revision"]) == {0}


# ----------------------------------------------------------------------------------------------
# One versioned-record API: a store of the previous layout (reports and revisions as layers)


def test_a_store_of_the_previous_layout_keeps_every_report_and_revision(tmp_path):
    path = tmp_path / "old.gpkg"
    revisions = pd.DataFrame([
        FEB7 | {"recovered": 0, "revision": 0, "saved_at": None, "saved_by": None, "note": "原始报告 / original report"},
        FEB7 | {"revision": 1, "saved_at": "2022-02-08T09:30:00+08:00", "saved_by": "王", "note": "补报治愈"},
    ])
    write_new_store(path, {"daily_reports": _history(FEB5, FEB6, FEB7), "daily_report_revisions": revisions})
    store = GpkgStore(path)
    reports = load_reports(store)
    assert list(reports["date"].dt.strftime("%m-%d")) == ["02-05", "02-06", "02-07"]
    assert int(reports.set_index("date").loc["2022-02-07", "recovered"]) == 1
    revs = load_revisions(store)
    feb7 = revisions_for("2022-02-07", revs)
    assert list(feb7["revision"]) == [0, 1] and list(feb7["recovered"]) == [0, 1]
    assert feb7["saved_by"].iloc[1] == "王" and feb7["saved_at"].iloc[1] == "2022-02-08T09:30:00+08:00"
    assert feb7["note"].iloc[1] == "补报治愈"
    assert list(revisions_for("2022-02-05", revs)["revision"]) == [0]  # never edited: its original
    # the next save continues the numbering, and the layers are left as they were (nothing lost)
    assert save_report(store, FEB7 | {"tests": 17_013, "cum_tests": 2_193_208}, user="李", expect_revision=1).revision == 2
    assert len(store.read("daily_report_revisions")) == 2 and len(store.read("daily_reports")) == 3
    # taken in once: a second reader does not take them again
    from layers.daily_report import adopt_layer_reports

    assert adopt_layer_reports(store, report_records(store)) == 0
    assert list(revisions_for("2022-02-07", load_revisions(store))["revision"]) == [0, 1, 2]


def test_the_demo_records_its_series_as_originals(tmp_path, capsys):
    from dashboard.cli import _demo_daily_reports
    from data.demo import build_demo

    path = tmp_path / "demo.gpkg"
    write_new_store(path, {"zones": build_demo()["zones"]})
    daily = build_demo()["daily_reports"]
    _demo_daily_reports(str(path), daily)
    store = GpkgStore(path)
    assert "daily_reports" not in store.layers()  # records, not a layer
    reports = load_reports(store)
    assert len(reports) == len(daily) and set(load_revisions(store)["revision"]) == {0}
    _demo_daily_reports(str(path), daily.iloc[:3])  # a rebuilt demo keeps what was recorded
    assert "daily reports exist, kept" in capsys.readouterr().out
    assert len(load_reports(store)) == len(daily)


def test_an_export_of_the_reports_reads_the_records(store, tmp_path):
    from layers.io import export_layer

    save_report(store, FEB7, user="王")
    assert export_layer(store, "daily_reports", tmp_path / "r.csv") == 3
    assert export_layer(store, "daily_report_revisions", tmp_path / "v.csv") == 3  # two originals and one save
    assert len(store.read("daily_reports")) == 2  # the layer of the previous layout is not what is read


def test_reports_save_take_in_and_refuse_on_both_backends(new_store):
    """The daily reports through the one record API on each store backend: a store of the previous
    layout taken in, a save, and a stale edit refused with who."""
    store = new_store({"daily_reports": _history(FEB5, FEB6)})
    assert list(load_revisions(store)["revision"]) == [0, 0]
    assert save_report(store, FEB7, user="王", expect_revision=NO_REPORT).revision == 1
    with pytest.raises(ReportChanged) as info:
        save_report(store, FEB7 | {"recovered": 3}, user="李", expect_revision=NO_REPORT)
    assert info.value.saved_by == "王"
    assert list(load_reports(store)["date"].dt.strftime("%m-%d")) == ["02-05", "02-06", "02-07"]
