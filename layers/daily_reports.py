"""日报告/零报告 the city's daily bulletin figures."""

from __future__ import annotations

from layers.spec import Column, LayerSpec

FIGURES = (
    ("new_local_confirmed", "本地新增确诊", "New local confirmed"),
    ("new_suspected", "新增疑似", "New suspected"),
    ("new_local_asymptomatic", "本地新增无症状", "New local asymptomatic"),
    ("new_imported_confirmed", "新增境外输入确诊", "New imported confirmed"),
    ("new_imported_asymptomatic", "新增境外输入无症状", "New imported asymptomatic"),
    ("recovered", "治愈出院", "Recovered"),
    ("returnees_key_regions", "重点地区返（抵）并人员", "Returnees from key regions"),
    ("tests", "当日核酸检测人次", "Tests performed"),
)
CUMULATIVE = (
    ("cum_confirmed", "累计确诊", "Cumulative confirmed"),
    ("cum_imported_confirmed", "累计境外输入确诊", "Cumulative imported confirmed"),
    ("cum_imported_asymptomatic", "累计境外输入无症状", "Cumulative imported asymptomatic"),
    ("cum_tests", "累计核酸检测人次", "Cumulative tests"),
)

SPEC = LayerSpec(
    key="daily_reports",
    name_zh="日报告",
    name_en="Daily reports",
    geometry=None,
    id_column="date",
    columns=(Column("date", "date", "日期", "Date", required=True),)
    + tuple(Column(k, "int", zh, en, required=True) for k, zh, en in FIGURES + CUMULATIVE)
    + (Column("demo", "bool", "演示数据", "Demo data"),),
    importable=False,  # through the form (validated, versioned), not the generic importer
    # versioned records, not a store layer: the registry gives it layers.daily_report.load_reports as reader
)

#: Every save of a daily report, kept: one row per (date, revision). Revision 0 is a report that
#: was in the store before revisions were recorded (the original), kept when it is first edited.
REVISION_COLUMNS = (
    Column("revision", "int", "修订号", "Revision", required=True),
    Column("saved_at", "str", "保存时间", "Saved at"),
    Column("saved_by", "str", "保存人", "Saved by"),
    Column("note", "str", "修订说明", "Note"),
)

REVISIONS_SPEC = LayerSpec(
    key="daily_report_revisions",
    name_zh="日报告修订记录",
    name_en="Daily report revisions",
    geometry=None,
    id_column=None,  # the key is (date, revision); layers.daily_report.save_report assigns it
    columns=SPEC.columns[:1] + REVISION_COLUMNS + SPEC.columns[1:],
    importable=False,  # written only by save_report: a forged revision must not be importable
)
