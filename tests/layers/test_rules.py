"""Rule files: loading, validation with the file and key named, quotes faithful to the seeds."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from geo.screening import NoRuleSetInForce, rule_set_in_force
from layers.rules import RULES_DIR, RuleFileError, load_rule_set, load_rule_sets, rule_set_for

SEEDS = Path("/work/shared/seeds")
GOOD = (RULES_DIR / "2022-03-28.toml").read_text(encoding="utf-8")


def test_both_rule_sets_load_oldest_first() -> None:
    sets = load_rule_sets()
    assert [f"{s.effective_from:%Y-%m-%d}" for s in sets] == ["2021-12-08", "2022-03-28"]
    assert [s.source for s in sets] == ["seed 001", "seed 004"]
    assert load_rule_sets() is sets  # cached while the files are unchanged


def test_2022_rules_in_priority_order() -> None:
    rs = rule_set_for("2022-03-28")
    assert [r.id for r in rs.rules] == [
        "risk_area", "inbound_14", "risk_county", "unrated_county", "health_code_red", "inbound_21", "companion",
        "affected_city", "health_code_yellow", "bigdata_push",
    ]
    assert [(r.code, r.total_days, r.auto_lift, r.until_verified) for r in rs.rules] == [
        ("red", 21, True, False), ("red", 14, True, False), ("red", 21, True, False), ("red", 12, True, False),
        ("red", None, False, True), ("red", 7, True, False), ("yellow", 10, True, False), ("yellow", 3, True, False),
        ("yellow", None, False, True), ("yellow", None, False, True),
    ]
    assert (rs.municipality_unit, rs.whole_county_entry) == ("street", "area")
    assert [(n.place, n.since) for n in rs.notices][:2] == [("广东省肇庆市", "2022-03-13"), ("安徽省淮南市", "2022-03-13")]
    assert len(rs.notices) == 11
    assert "notice" in rs.rule("affected_city").levels and "notice" not in rs.rule("risk_county").levels
    assert rs.rule("health_code_red").colours == ("red",)
    area = rs.rule("risk_area")
    assert (area.match, area.levels, area.measure_zh, area.measure_en) == (
        "area", ("high", "medium"), "14+7 集中隔离医学观察", "14+7 centralized quarantine",
    )
    assert [(p.days, p.en) for p in area.phases] == [(14, "centralized quarantine"), (7, "at home (+7)")]
    assert (area.first_action.hours, area.first_action.anchor, area.first_action.source) == (48, "arrival", "seed 001")
    city = rs.rule("affected_city")
    assert [(t.hours, t.count) for t in city.tests] == [(72, 2)]
    assert rs.rule("companion").first_action.anchor == "flag"
    assert rs.rule("bigdata_push").provisional is True
    assert (rs.rule("inbound_14").min_entry_days, rs.rule("inbound_14").max_entry_days) == (14, 20)
    assert (rs.rule("inbound_21").min_entry_days, rs.rule("inbound_21").max_entry_days) == (21, None)
    assert (rs.landing_test.hours, rs.home_province_adcode, rs.history_days) == (24, "140000", 14)


def test_2021_rules_state_no_durations() -> None:
    rs = rule_set_for("2021-12-08")
    assert [r.id for r in rs.rules] == ["key_region", "health_code_red", "companion", "health_code_yellow", "bigdata_push"]
    assert all(r.phases == () and not r.auto_lift for r in rs.rules)
    assert [(n.place, n.since) for n in rs.notices] == [
        ("浙江省杭州市", "2021-11-23"), ("浙江省宁波市", "2021-11-23"), ("浙江省绍兴市", "2021-11-23")]
    key = rs.rule("key_region")
    assert (key.match, key.levels, key.landing_test) == ("city", ("high", "medium", "cases_unrated", "notice"), False)
    assert key.measure_zh.endswith("（按规定）")
    assert [r.first_action.hours for r in rs.rules] == [48, 24, 24, 24, 48]
    assert rs.landing_test.hours is None  # "要主动做核酸检测": no deadline stated


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2021-12-08", "2021-12-08"),
        ("2022-03-27", "2021-12-08"),
        ("2022-03-27 23:59", "2021-12-08"),
        ("2022-03-28", "2022-03-28"),
        ("2022-10-28", "2022-03-28"),
    ],
)
def test_rule_set_in_force_by_date(as_of: str, expected: str) -> None:
    assert f"{rule_set_for(as_of).effective_from:%Y-%m-%d}" == expected
    assert rule_set_in_force(load_rule_sets(), as_of) is rule_set_for(as_of)


def test_no_rule_set_before_the_first() -> None:
    with pytest.raises(NoRuleSetInForce, match="no rule set in force on 2021-12-07; the earliest starts 2021-12-08"):
        rule_set_for("2021-12-07")


def _quotes(rs) -> list[tuple[str, str, str]]:
    """(where, source, quote) for every quote in a rule set."""
    out = [("rule set", rs.source, q) for q in rs.quote]
    out += [(f"notice {n.place}", n.source, q) for n in rs.notices for q in n.quote]
    for step, where in ((rs.landing_test, "landing_test"), (rs.pending, "pending")):
        if step is not None:
            out += [(where, step.source or rs.source, q) for q in step.quote]
    for r in rs.rules:
        out += [(r.id, r.source or rs.source, q) for q in r.quote]
        out += [(f"{r.id}.first_action", r.first_action.source or r.source or rs.source, q) for q in r.first_action.quote]
        for t in r.tests:
            out += [(f"{r.id}.tests", t.source or r.source or rs.source, q) for q in t.quote]
    return out


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed texts not available")
@pytest.mark.parametrize("name", ["2021-12-08", "2022-03-28"])
def test_every_quote_is_verbatim_from_its_seed(name: str) -> None:
    from data.seed_facts import SEED_FILES

    rs = load_rule_set(RULES_DIR / f"{name}.toml")
    assert rs.source_file == SEED_FILES[rs.source]
    texts = {k: re.sub(r"\s+", "", (SEEDS / f).read_text(encoding="utf-8")) for k, f in SEED_FILES.items()}
    quotes = _quotes(rs)
    assert len(quotes) >= 10
    for where, source, q in quotes:
        assert re.sub(r"\s+", "", q) in texts[source], f"{name}.toml {where}: not in {source}: {q}"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed texts not available")
def test_municipality_and_whole_county_citations_are_verbatim() -> None:
    import tomllib

    data = tomllib.loads((RULES_DIR / "2022-03-28.toml").read_text(encoding="utf-8"))
    text = re.sub(r"\s+", "", (SEEDS / "004_09eccd75828fcdac.txt").read_text(encoding="utf-8"))
    for key in ("municipality_quote", "whole_county_quote"):
        assert re.sub(r"\s+", "", data[key]) in text, key


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('source = "seed 004"\nauto_lift = true\n# "+7"', 'auto_lift = true\n# "+7"', r"rules\[0\].source: missing"),
        ('municipality_unit = "street"', 'municipality_unit = "street"\nstreet_unit = 1', r"2022-03-28.toml: street_unit: unknown key"),
        ('place = "广东省肇庆市"\nadcode = "441200"', 'place = "火星市"\nadcode = ""', r"notices\[0\].place: '火星市' does not resolve"),
        ("since = 2022-03-13", "since = 2022-04-13", r"notices\[0\].since: 2022-04-13 is after the rule set starts"),
        ('municipality_quote = "', 'municipality_q = "', r"municipality_q: unknown key"),
    ],
)
def test_new_keys_are_validated(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(RuleFileError, match=message):
        load_rule_set(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_overlapping_rule_sets_are_refused(tmp_path: Path) -> None:
    old = (RULES_DIR / "2021-12-08.toml").read_text(encoding="utf-8")
    _write(tmp_path, old.replace('home_province_adcode = "140000"', 'home_province_adcode = "140000"\neffective_until = 2022-03-30'), "2021-12-08.toml")
    _write(tmp_path, GOOD)
    with pytest.raises(RuleFileError, match=r"2021-12-08.toml: effective_until: 2022-03-30 overlaps 2022-03-28.toml"):
        load_rule_sets(tmp_path)


def test_2022_rule_text_is_the_seed_paragraph() -> None:
    rs = rule_set_for("2022-03-28")
    (quote,) = rs.quote
    assert quote.startswith("所有省外返（抵）并人员")
    assert quote.endswith("分类转码并落实相应管控措施。")


# ---- validation: every error names the file and the key


def _write(tmp_path: Path, text: str, name: str = "2022-03-28.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _first_rule_sub(old: str, new: str) -> str:
    """GOOD with ``old`` replaced once inside the first [[rules]] table."""
    head, sep, rest = GOOD.partition("\n[[rules]]\n")
    assert old in rest
    return head + sep + rest.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_first_rule_sub('code = "red"', 'code = "purple"'), r"2022-03-28.toml: rules\[0\].code: 'purple' is not one of red, yellow"),
        (_first_rule_sub('match = "area"', 'match = "street"'), r"rules\[0\].match: 'street' is not one of area, county, city, inbound"),
        (_first_rule_sub('levels = ["high", "medium"]', 'levels = ["high", "low"]'), r"rules\[0\].levels\[1\]: 'low' is not one of high, medium, cases_unrated"),
        (_first_rule_sub("priority = 10", 'priority = "10"'), r"rules\[0\].priority: must be int, got '10'"),
        (_first_rule_sub("priority = 10", "priority = 30"), r"rules\[2\].priority: 30 is also the priority of rule 'risk_area'"),
        (_first_rule_sub('id = "risk_area"', 'id = "risk_county"'), r"rules\[2\].id: 'risk_county' repeats rules\[0\].id"),
        (_first_rule_sub('id = "risk_area"', 'id = "pending"'), r"rules\[0\].id: 'pending' is reserved"),
        (_first_rule_sub('id = "risk_area"', 'id = "risk_area"\ncolour = "red"'), r"rules\[0\].colour: unknown key"),
        (_first_rule_sub('label_zh = "14天内有中高风险区旅居史"\n', ""), r"rules\[0\].label_zh: missing"),
        (_first_rule_sub('anchor = "arrival", hours = 48', 'anchor = "flag", hours = 48'), r"rules\[0\].first_action.anchor: 'flag' is not one of arrival"),
        (_first_rule_sub("hours = 48", "hours = -1"), r"rules\[0\].first_action.hours: must be ≥ 0, got -1"),
        (_first_rule_sub("{ days = 14,", "{ days = 0,"), r"rules\[0\].phases\[0\].days: must be ≥ 1, got 0"),
        (_first_rule_sub('at = "hotel"', 'at = "hospital"'), r"rules\[0\].phases\[0\].at: 'hospital' is not one of home, hotel, community"),
        (_first_rule_sub('levels = ["high", "medium"]', 'levels = ["high", "medium"]\nmin_entry_days = 3'), r"rules\[0\].min_entry_days: only for match 'inbound'"),
        (GOOD.replace("min_entry_days = 14\nmax_entry_days = 20", "min_entry_days = 14\nmax_entry_days = 7"), r"rules\[1\].max_entry_days: 7 is less than min_entry_days 14"),
        (GOOD.replace("effective_from = 2022-03-28", "effective_from = 2022-03-29"), r"effective_from: 2022-03-29 does not match the file name '2022-03-28.toml'"),
        (GOOD.replace("effective_from = 2022-03-28", 'effective_from = "2022-03-28"'), r"effective_from: must be date, got '2022-03-28'"),
        (GOOD.replace('home_province_adcode = "140000"', 'home_province_adcode = "山西"'), r"home_province_adcode: must be a six-digit adcode, got '山西'"),
        (GOOD.replace("history_days = 14", "history_days = 14\nwindow = 14"), r"2022-03-28.toml: window: unknown key"),
        (GOOD.replace("[pending]", "[pendin]"), r"pendin: unknown key"),
        (GOOD.replace("auto_lift = true\n# Starts on the flag day", "auto_lift = true\nphases = []\n# Starts on the flag day").replace(
            'phases = [\n  { days = 7, zh = "居家健康监测"', 'stages = [\n  { days = 7, zh = "居家健康监测"'), r"rules\[5\].stages: unknown key"),
        (GOOD.replace('name_en = "Classification', 'name_en = Classification'), r"2022-03-28.toml: not valid TOML"),
    ],
)
def test_bad_rule_file_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RuleFileError, match=message):
        load_rule_set(_write(tmp_path, text))


def test_auto_lift_needs_phases(tmp_path: Path) -> None:
    text = _first_rule_sub("auto_lift = true", "auto_lift = true\nprovisional = false")
    head, sep, rest = text.partition("\n[[rules]]\n")
    start = rest.index("phases = [")
    end = rest.index("]\n", rest.index("{ days = 7", start)) + 2
    with pytest.raises(RuleFileError, match=r"rules\[0\].auto_lift: needs phases"):
        load_rule_set(_write(tmp_path, head + sep + rest[:start] + rest[end:]))


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="rules folder not found"):
        load_rule_sets(tmp_path / "nope")
    with pytest.raises(RuleFileError, match="no rule files"):
        load_rule_sets(tmp_path)
    with pytest.raises(RuleFileError, match="2020-01-01.toml: rule file not found"):
        load_rule_set(tmp_path / "2020-01-01.toml")


def test_a_folder_of_rule_sets_is_reloaded_when_a_file_changes(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD)
    first = load_rule_sets(tmp_path)
    assert first[0].rule("risk_area").measure_en == "14+7 centralized quarantine"
    p.write_text(GOOD.replace('measure_en = "14+7 centralized quarantine"', 'measure_en = "14+7 central quarantine"'), encoding="utf-8")
    import os

    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000))
    assert load_rule_sets(tmp_path)[0].rule("risk_area").measure_en == "14+7 central quarantine"
    assert pd.Timestamp("2022-03-28") == load_rule_sets(tmp_path)[0].effective_from


def test_serve_stops_at_start_on_a_bad_rule_file(monkeypatch, capsys) -> None:
    import argparse

    import layers.rules as lr
    from dashboard import cli

    def broken(*_a: object, **_k: object) -> None:
        raise RuleFileError("2022-03-28.toml: rules[0].source: missing")

    monkeypatch.setattr(lr, "load_rule_sets", broken)
    started = []
    monkeypatch.setattr(cli.subprocess, "call", lambda *a, **k: started.append(a) or 0)
    assert cli._cmd_serve(argparse.Namespace(port=8599, address="127.0.0.1")) == 2
    assert started == []
    assert "riskmap serve: rule sets: 2022-03-28.toml: rules[0].source: missing" in capsys.readouterr().err
