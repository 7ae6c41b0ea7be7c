"""The daily-report section, run headless with Streamlit's AppTest (no browser, no server)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from layers import get_spec
from layers.daily_report import bulletin_text, load_reports, load_revisions, revisions_for
from layers.store.gpkg import GpkgStore, write_new_store

FIGS = ("new_local_confirmed", "new_suspected", "new_local_asymptomatic", "new_imported_confirmed")


def _section(path: str, as_of: str, lang: str) -> None:
    import pandas as pd

    from dashboard.daily_report_ui import render_daily_report
    from dashboard.settings import Settings
    from dashboard.ui import PageContext
    from layers.store.gpkg import GpkgStore

    ctx = PageContext(settings=Settings(), lang=lang, store=GpkgStore(path), meta={})
    render_daily_report(ctx, pd.Timestamp(as_of))


def _row(day, tests, cum_tests, **kw):
    base = dict.fromkeys(
        (*FIGS, "new_imported_asymptomatic", "recovered", "returnees_key_regions"),
        0,
    )
    return (
        {"date": day, **base, "tests": tests}
        | {
            "cum_confirmed": 21,
            "cum_imported_confirmed": 99,
            "cum_imported_asymptomatic": 22,
            "cum_tests": cum_tests,
            "demo": False,
        }
        | kw
    )


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "s.gpkg"
    frame = pd.DataFrame([_row("2022-02-05", 15_000, 2_160_195), _row("2022-02-06", 16_000, 2_176_195)])
    write_new_store(path, {"daily_reports": get_spec("daily_reports").coerce(frame)})
    at = AppTest.from_function(_section, args=(str(path), "2022-02-07", "zh"), default_timeout=30)
    at.run()
    assert not at.exception
    return at, GpkgStore(path)


def test_enter_and_submit_a_report(app):
    at, store = app
    assert "2022-02-07 尚无日报。" in [c.value for c in at.caption]
    at.number_input(key="dr_new_imported_asymptomatic_20220207").set_value(2)
    at.number_input(key="dr_recovered_20220207").set_value(1)
    at.number_input(key="dr_tests_20220207").set_value(17_012)
    at.run()
    preview = at.dataframe[0].value
    assert list(preview["累计"]) == [21, 99, 24, 2_193_207]
    at.text_input(key="dr_note_20220207").input("首报")
    at.button(key="dr_submit_20220207").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["已保存 2022-02-07 日报（修订 1）。"]
    saved = load_reports(store)
    row = saved[saved["date"] == "2022-02-07"].iloc[0]
    assert (int(row["tests"]), int(row["cum_tests"]), int(row["cum_imported_asymptomatic"])) == (
        17_012,
        2_193_207,
        24,
    )
    assert at.code[0].value == bulletin_text(row, "zh")
    revs = revisions_for("2022-02-07", load_revisions(store))
    assert list(revs["saved_by"]) == ["command"] and list(revs["note"]) == ["首报"]


def test_errors_name_each_field_and_nothing_is_written(app):
    at, store = app
    before = store.path.read_bytes()
    at.number_input(key="dr_new_suspected_20220207").set_value(-1)
    at.number_input(key="dr_tests_20220207").set_value(-3)
    at.button(key="dr_submit_20220207").click().run()
    (error,) = at.error
    assert error.value.startswith("日报未保存，请更正以下字段：")
    assert "- 新增疑似：不能为负数（-1）" in error.value
    assert "- 当日核酸检测人次：不能为负数（-3）" in error.value
    assert store.path.read_bytes() == before


def test_zero_report_keeps_the_tests_entered(app):
    at, store = app
    at.number_input(key="dr_new_suspected_20220207").set_value(5)
    at.number_input(key="dr_tests_20220207").set_value(900)
    at.button(key="dr_zero_20220207").click().run()
    assert not at.exception and len(at.success) == 1
    row = load_reports(store).iloc[-1]
    assert (int(row["new_suspected"]), int(row["tests"]), int(row["cum_tests"])) == (0, 900, 2_177_095)
    assert at.number_input(key="dr_new_suspected_20220207").value == 0  # the form shows what was saved


def test_a_gap_is_shown_as_a_warning_and_english_works(tmp_path):
    path = tmp_path / "s.gpkg"
    frame = pd.DataFrame([_row("2022-02-05", 15_000, 2_160_195)])
    write_new_store(path, {"daily_reports": get_spec("daily_reports").coerce(frame)})
    at = AppTest.from_function(_section, args=(str(path), "2022-02-07", "en"), default_timeout=30)
    at.run()
    assert not at.exception
    assert any("the previous report is from 2022-02-05; 1 day(s) missing" in w.value for w in at.warning)
    assert at.button(key="dr_zero_20220207").label == "Zero report"


def test_a_save_made_meanwhile_is_not_overwritten(app, tmp_path):
    at_a, store = app  # desk A has the form of 2022-02-07 open
    at_b = AppTest.from_function(_section, args=(str(store.path), "2022-02-07", "zh"), default_timeout=30)
    at_b.run()  # desk B opens the same form, also with no report yet
    at_a.number_input(key="dr_tests_20220207").set_value(17_012)
    at_a.button(key="dr_submit_20220207").click().run()
    assert [s.value for s in at_a.success] == ["已保存 2022-02-07 日报（修订 1）。"]

    at_b.number_input(key="dr_tests_20220207").set_value(18_000)
    at_b.number_input(key="dr_recovered_20220207").set_value(1)
    at_b.button(key="dr_submit_20220207").click().run()
    assert not at_b.exception
    assert not at_b.success
    message = at_b.error[0].value
    assert "command于" in message and "保存为修订 1" in message and "您的修改没有保存" in message
    assert re.search(r"于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 把 2022-02-07", message)  # when, in minutes
    assert "核酸检测人次：已保存 17012，您填写 18000" in message
    assert "治愈出院：已保存 0，您填写 1" in message
    assert at_b.number_input(key="dr_tests_20220207").value == 18_000  # B's entries are kept
    assert int(load_reports(store).set_index("date").loc["2022-02-07", "tests"]) == 17_012

    at_b.button(key="dr_submit_20220207").click().run()  # B has seen A's values: saving is deliberate now
    assert [s.value for s in at_b.success] == ["已保存 2022-02-07 日报（修订 2）。"]
    revs = revisions_for("2022-02-07", load_revisions(store))
    assert list(revs["tests"]) == [17_012, 18_000]


def test_the_city_report_starts_from_the_communities_reports(tmp_path):
    import datetime as dt

    import geopandas as gpd
    import shapely

    from layers.community import save_report
    from layers.store.records import records_for

    path = tmp_path / "s.gpkg"
    nb = gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["甲社区", "乙社区"], "district_adcode": ["140105", "140105"], "district": ["小店区"] * 2,
         "street": ["一街道"] * 2, "population": [1000, 2000]},
        geometry=[shapely.box(112.5, 37.8, 112.51, 37.81), shapely.box(112.51, 37.8, 112.52, 37.81)], crs="EPSG:4326",
    )
    frame = pd.DataFrame([_row("2022-02-06", 16_000, 2_176_195)])
    write_new_store(path, {"daily_reports": get_spec("daily_reports").coerce(frame), "neighbourhoods": get_spec("neighbourhoods").coerce(nb)})
    system = {"new_arrivals": 3, "new_arrivals_key": 2, "under_home": 0, "followed_up": 0, "abnormal_checkins": 0}
    save_report(records_for(str(path)), "A", "2022-02-07", {"tests": 40}, zero=False, system=system, based_on=0, user="wang",
                at=dt.datetime(2022, 2, 7, 0, 1), cutoff=dt.time(18))
    at = AppTest.from_function(_section, args=(str(path), "2022-02-07", "zh"), default_timeout=30)
    at.run()
    assert not at.exception
    assert "社区日报：已上报 1 / 2 个社区，1 个未上报 — 汇总数据可能不完整。" in [c.value for c in at.caption]
    at.button(key="dr_from_communities_20220207").click().run()
    assert at.number_input(key="dr_returnees_key_regions_20220207").value == 2
    assert at.number_input(key="dr_tests_20220207").value == 40


def test_charts_write_dates_and_axes_in_the_pages_language():
    from dashboard.daily_report_ui import ZH_TIME_LOCALE, chart

    frame = pd.DataFrame({"本地新增确诊": [1, 2]}, index=pd.to_datetime(["2022-03-27", "2022-03-28"]))
    zh = chart(frame, "zh", kind="bar", y_title="病例").to_dict()
    assert zh["config"]["locale"]["time"] == ZH_TIME_LOCALE
    assert zh["encoding"]["x"]["axis"]["format"] == "%-m月%-d日" and zh["encoding"]["x"]["title"] == "日期"
    en = chart(frame.rename(columns={"本地新增确诊": "New local confirmed"}), "en", kind="line", y_title="Cases").to_dict()
    assert "locale" not in en.get("config", {}) and en["encoding"]["x"]["axis"]["format"] == "%b %d"
    assert en["encoding"]["x"]["title"] == "Date"
