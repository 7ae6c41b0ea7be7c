"""The screening engine: one case per rule and per boundary, neighbourhoods, privacy, export, demo."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from geo.screening import (
    CODES,
    classify_travellers,
    classify_with_obligations,
    mask_id,
    mask_phone,
    screen,
    screen_neighbourhoods,
    suppress_small,
)
from layers.boundaries import gazetteer
from layers.rules import load_rule_sets

NaT = pd.NaT
T = pd.Timestamp
AS_OF = "2022-03-28"
A = "2022-03-26"  # arrival day of most cases: the window is 2022-03-12 … 2022-03-26

RISK = pd.DataFrame(
    [
        # id, level, province, city, county, adcode, area_name, since, lifted
        ("R1", "high", "浙江省", "杭州市", "上城区", "330102", "上城区演示风险区1", "2022-03-01", None),
        ("R2", "cases_unrated", "安徽省", "淮北市", "濉溪县", "340621", None, "2022-03-01", None),
        ("R3", "medium", "上海市", "上海市", "浦东新区", "310115", "浦东新区演示风险区1", "2022-03-01", None),
        ("R4", "medium", "广东省", "佛山市", "南海区", "440605", "南海区演示风险区1", "2022-03-01", "2022-03-15"),
        ("R5", "medium", "浙江省", "杭州市", "余杭区", "330110", "余杭区演示风险区1", "2021-11-30", "2022-01-10"),
        ("R6", "medium", "江苏省", "南京市", "玄武区", "320102", "玄武区演示风险区1", "2022-04-01", None),  # not yet listed
        ("R7", "medium", "湖北省", "武汉市", "江夏区", "420115", None, "2022-03-01", None),  # a whole county
        ("R8", "high", "上海市", "上海市", "闵行区", "310112", "闵行区七宝镇演示小区", "2022-03-01", None),  # street in the name
        ("R9", "high", "湖北省", "鄂州市", "鄂城区", "420704", "鄂城区演示风险区1", "2022-03-20", None),  # notice city, listed late
    ],
    columns=["id", "level", "province", "city", "county", "adcode", "area_name", "since", "lifted"],
).assign(since=lambda d: pd.to_datetime(d["since"]), lifted=lambda d: pd.to_datetime(d["lifted"]))

NANJING = "江苏省南京市玄武区"
FULL = ("山西省大同市平城区", "2022-03-12", "2022-03-25")  # a stay in the home province covering the rest of the 14 days


def _traveller(tid: str, arrival: str | None = A, **kw: object) -> dict:
    row = {
        "id": tid, "name": f"姓名{tid}", "phone": "13812341234", "id_number": "140105199001011234",
        "address": "太原市小店区演示路1号", "arrival_date": arrival, "neighbourhood_id": "N1", "inbound": False,
        "entry_quarantine_days": None, "companion": False, "companion_date": None, "bigdata_push": False, "push_date": None,
        "health_code": None, "health_code_date": None,
    }
    row.update(kw)
    return row


RED_C = "14+7 居家隔离医学观察"
RED_A = "14+7 集中隔离医学观察"
YEL = "签署承诺书，纳入社区管理，72小时内再做2次核酸"
LAND = "第一落点核酸检测（1次）"
PEND = "待核实"

# case id → (traveller overrides, visits [(place, from, to) or (place, from, to, adcode)], expected, obligations)
# expected: code, rule_id (deciding), measure_zh (shown), earliest open deadline, measure_end, overdue — as of 2022-03-28 00:00
# obligations: "kind due end status", strictest first (due/end as MM-DD HH / MM-DD, "-" none)
CASES: dict[str, tuple[dict, list[tuple], tuple, list[str]]] = {
    # -- the 14-day window: day 14 before arrival counts, day 15 does not; the arrival day counts
    "day14_counts": ({}, [("浙江省杭州市上城区", "2022-03-10", "2022-03-12"), ("山西省大同市平城区", "2022-03-13", "2022-03-25")],
                     ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                     ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "day15_does_not": ({}, [("浙江省杭州市上城区", "2022-03-09", "2022-03-11"), (NANJING, "2022-03-12", "2022-03-25")],
                       ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False),  # green is never overdue
                       ["landing 03-27 00 - closed"]),
    "arrival_day_counts": ({}, [("上城区", A, A), FULL],
                           ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                           ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    # -- risk entry in force during the stay: R4 lifted 2022-03-15 (in force through 03-14)
    "lifted_mid_visit_counts": ({}, [("广东省佛山市南海区", "2022-03-13", "2022-03-16"), ("山西省大同市平城区", "2022-03-12", "2022-03-12"), ("山西省大同市平城区", "2022-03-17", "2022-03-25")],
                                ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    # lifted before the visit, but 佛山 is a notice city from 03-13: another county of an affected city
    "lifted_before_visit_notice_city": ({}, [("广东省佛山市南海区", "2022-03-15", "2022-03-18")],
                                        ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                                        ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    "listed_after_as_of_unknown": ({}, [(NANJING, "2022-03-20", "2022-03-22")],
                                   ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    # -- area itself / its county / another county of its city
    "risk_area_itself": ({}, [("浙江省杭州市上城区演示风险区1", "2022-03-20", "2022-03-22")],
                         ("red", "risk_area", RED_A, T("2022-03-28 00:00"), T("2022-04-15"), False),
                         ["risk_area 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "county_of_risk_area": ({}, [("杭州市上城区", "2022-03-20", "2022-03-22")],
                            ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                            ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "other_county_of_city": ({}, [("浙江省杭州市西湖区", "2022-03-20", "2022-03-22")],
                             ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                             ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    "unrated_county": ({}, [("安徽省淮北市濉溪县", "2022-03-20", "2022-03-22")],
                       ("red", "unrated_county", "7+5 居家隔离医学观察", T("2022-03-28 00:00"), T("2022-04-06"), False),
                       ["unrated_county 03-28 00 04-06 open", "landing 03-27 00 - closed"]),
    # -- a whole county on the list is the risk area itself
    "whole_county_entry": ({}, [("湖北省武汉市江夏区", "2022-03-20", "2022-03-22")],
                           ("red", "risk_area", RED_A, T("2022-03-28 00:00"), T("2022-04-15"), False),
                           ["risk_area 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "whole_county_entry_with_street": ({}, [("湖北省武汉市江夏区纸坊街道", "2022-03-20", "2022-03-22")],
                                       ("red", "risk_area", RED_A, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                       ["risk_area 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "other_county_of_whole_county_city": ({}, [("湖北省武汉市武昌区", "2022-03-20", "2022-03-22")],
                                          ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                                          ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    # -- detail below the gazetteer: decided from what is known
    "street_in_risk_county": ({}, [("浙江省杭州市上城区小营街道", "2022-03-20", "2022-03-22")],
                              ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                              ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "street_in_clean_county": ({}, [("浙江省杭州市西湖区北山街道", "2022-03-20", "2022-03-22")],
                               ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                               ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    "street_in_city_without_entries": ({}, [("江苏省南京市江宁区秣陵街道", "2022-03-20", "2022-03-22")],
                                       ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    "unknown_county_in_affected_city": ({}, [("浙江省杭州市某某县某街道", "2022-03-20", "2022-03-22")],
                                        ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                                        ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "unknown_county_in_clean_city": ({}, [("江苏省南京市某某县", "2022-03-20", "2022-03-22")],
                                     ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    # -- a stay named only down to the city, in a city with a risk county: could be red → pending
    "city_only_in_affected_city": ({}, [("杭州", "2022-03-20", "2022-03-22")],
                                   ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                                   ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "city_only_in_notice_city": ({}, [("广东省肇庆市", "2022-03-20", "2022-03-22")],  # a notice, no county entry
                                 ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                                 ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    # -- municipalities: the street (town) is the unit
    "municipality_same_street": ({}, [("上海市闵行区七宝镇", "2022-03-20", "2022-03-22")],
                                 ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                 ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "municipality_same_street_no_suffix": ({}, [("上海市闵行区七宝", "2022-03-20", "2022-03-22")],
                                           ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                           ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "municipality_area_itself": ({}, [("上海市闵行区七宝镇演示小区", "2022-03-20", "2022-03-22")],
                                 ("red", "risk_area", RED_A, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                 ["risk_area 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "municipality_other_street": ({}, [("上海市闵行区莘庄镇", "2022-03-20", "2022-03-22")],
                                  ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                                  ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    "municipality_district_only": ({}, [("上海市闵行区", "2022-03-20", "2022-03-22")],
                                   ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                                   ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "municipality_other_district": ({}, [("上海市徐汇区", "2022-03-20", "2022-03-22")],
                                    ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                                    ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    "municipality_area_without_street": ({}, [("上海市浦东新区浦东新区演示风险区1", "2022-03-20", "2022-03-22")],
                                         ("red", "risk_area", RED_A, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                         ["risk_area 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    # -- notices: the look-back starts on the notice's day, before the area's own listing
    "notice_before_listing": ({}, [("湖北省鄂州市鄂城区", "2022-03-14", "2022-03-15")],
                              ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                              ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "before_the_notice": ({}, [("湖北省鄂州市鄂城区", "2022-03-12", "2022-03-12")],
                          ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    "notice_city_other_county": ({}, [("湖北省鄂州市华容区", "2022-03-14", "2022-03-14")],
                                 ("yellow", "affected_city", YEL, T("2022-03-28 00:00"), T("2022-03-28"), False),
                                 ["affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    # -- inbound from abroad
    "inbound_14": ({"inbound": True, "entry_quarantine_days": 14}, [],
                   ("red", "inbound_14", "7天集中隔离+7天居家隔离", T("2022-03-27 00:00"), T("2022-04-08"), True),
                   ["inbound_14 03-27 00 04-08 open", "landing 03-27 00 - closed"]),
    "inbound_21": ({"inbound": True, "entry_quarantine_days": 21}, [],
                   ("red", "inbound_21", "7天居家隔离", T("2022-03-27 00:00"), T("2022-04-01"), True),
                   ["inbound_21 03-27 00 04-01 open", "landing 03-27 00 - closed"]),
    "inbound_and_county_later_end_wins": ({"inbound": True, "entry_quarantine_days": 14}, [("上城区", "2022-03-20", "2022-03-22")],
                                          ("red", "inbound_14", "7天集中隔离+7天居家隔离", T("2022-03-27 00:00"), T("2022-04-15"), True),
                                          ["inbound_14 03-27 00 04-08 open", "risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "inbound_days_unknown": ({"inbound": True, "entry_quarantine_days": 10}, [],
                             ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                             ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    # -- companions, big-data pushes, health codes (deadlines from the flag day)
    "companion": ({"companion": True, "companion_date": "2022-03-27"}, [FULL],
                  ("yellow", "companion", "7+3 居家健康监测", T("2022-03-28 00:00"), T("2022-04-05"), False),
                  ["companion 03-28 00 04-05 open"]),
    "companion_and_county_both_kept": ({"companion": True, "companion_date": "2022-03-26"}, [("上城区", "2022-03-20", "2022-03-22")],
                                       ("red", "risk_county", RED_C, T("2022-03-27 00:00"), T("2022-04-15"), True),
                                       ["risk_county 03-28 00 04-15 open", "companion 03-27 00 04-04 open", "landing 03-27 00 - closed"]),
    "bigdata_push": ({"bigdata_push": True, "push_date": "2022-03-27"}, [FULL],
                     ("yellow", "bigdata_push", "暂赋黄码，排查核实后分类转码", T("2022-03-29 00:00"), NaT, False),
                     ["bigdata_push 03-29 00 - open"]),
    "companion_without_date": ({"companion": True}, [FULL],
                               ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False), ["pending 03-28 00 - open"]),
    "health_code_red": ({"health_code": "红码", "health_code_date": "2022-03-27"}, [FULL],
                        ("red", "health_code_red", "立即向属地社区（村）报告，配合落实防控措施", T("2022-03-28 00:00"), NaT, False),
                        ["health_code_red 03-28 00 - open"]),
    "health_code_yellow": ({"health_code": "yellow", "health_code_date": "2022-03-26"}, [FULL],
                           ("yellow", "health_code_yellow", "立即向属地社区（村）报告，配合落实防控措施", T("2022-03-27 00:00"), NaT, True),
                           ["health_code_yellow 03-27 00 - open"]),
    # -- never guessed: pending
    "unresolvable_place": ({}, [("杭洲", "2022-03-20", "2022-03-22")],
                           ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False), ["pending 03-28 00 - open"]),
    "missing_date": ({}, [(NANJING, None, "2022-03-20")],
                     ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                     ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "inverted_dates": ({}, [(NANJING, "2022-03-20", "2022-03-18")],
                       ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                       ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "ambiguous_place": ({}, [("朝阳区", "2022-03-20", "2022-03-22")],
                        ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False), ["pending 03-28 00 - open"]),
    "province_only": ({}, [("浙江省", "2022-03-20", "2022-03-22")],
                      ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                      ["pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "province_only_clean": ({}, [("云南省", "2022-03-20", "2022-03-22")],
                            ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    "place_and_code_disagree": ({}, [("杭州市上城区", "2022-03-20", "2022-03-22", "440605")],
                                ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False), ["pending 03-28 00 - open"]),
    "arrival_missing": ({"arrival_date": None}, [("杭州市上城区", "2022-03-20", "2022-03-22")],
                        ("pending", "pending", PEND, NaT, NaT, False), ["pending - - open"]),
    "red_beats_pending": ({}, [("杭洲", "2022-03-20", "2022-03-22"), ("上城区", "2022-03-23", "2022-03-25")],
                          ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                          ["risk_county 03-28 00 04-15 open", "pending 03-28 00 - open", "landing 03-27 00 - closed"]),
    "pending_beats_yellow": ({}, [("杭洲", "2022-03-20", "2022-03-22"), ("杭州市西湖区", "2022-03-23", "2022-03-25")],
                             ("pending", "pending", PEND, T("2022-03-28 00:00"), NaT, False),
                             ["pending 03-28 00 - open", "affected_city 03-28 00 03-28 open", "landing 03-27 00 - closed"]),
    "broken_stay_outside_window_ignored": ({}, [("杭洲", "2022-02-01", "2022-02-03"), (NANJING, "2022-03-12", "2022-03-25")],
                                           ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    # -- adcodes, home province, landing-only arrivals, lifting
    "adcode_with_unreadable_text": ({}, [("某街道", "2022-03-20", "2022-03-22", "330102")],
                                    ("red", "risk_county", RED_C, T("2022-03-28 00:00"), T("2022-04-15"), False),
                                    ["risk_county 03-28 00 04-15 open", "landing 03-27 00 - closed"]),
    "within_province_only": ({}, [FULL], ("green", "none", "无", NaT, NaT, False), []),
    "landing_only_stay_before_window": ({}, [(NANJING, "2022-02-20", "2022-03-10"), ("山西省大同市平城区", "2022-03-11", "2022-03-25")],
                                        ("green", "landing", LAND, T("2022-03-27 00:00"), NaT, False), ["landing 03-27 00 - closed"]),
    "history_incomplete": ({}, [("山西省大同市平城区", "2022-03-20", "2022-03-25")], ("green", "none", "无", NaT, NaT, False), []),
    "code_lifted_after_measure": ({"arrival_date": "2022-03-10"}, [("浙江省杭州市西湖区", "2022-03-05", "2022-03-08")],
                                  ("green", "affected_city", YEL, T("2022-03-12 00:00"), T("2022-03-12"), False),
                                  ["affected_city 03-12 00 03-12 closed", "landing 03-11 00 - closed"]),
    "push_never_lifts_by_itself": ({"arrival_date": "2022-03-05", "bigdata_push": True, "push_date": "2022-03-05"},
                                   [("上城区", "2022-03-02", "2022-03-04"), ("山西省大同市平城区", "2022-02-19", "2022-03-01")],
                                   ("yellow", "risk_county", "暂赋黄码，排查核实后分类转码", T("2022-03-07 00:00"), T("2022-03-25"), True),
                                   ["risk_county 03-07 00 03-25 closed", "bigdata_push 03-07 00 - open", "landing 03-06 00 - closed"]),
}


def _ob_lines(ob: pd.DataFrame) -> list[str]:
    def h(x: object) -> str:
        return "-" if x is NaT or pd.isna(x) else f"{pd.Timestamp(x):%m-%d %H}"

    def d(x: object) -> str:
        return "-" if x is NaT or pd.isna(x) else f"{pd.Timestamp(x):%m-%d}"

    return [f"{k} {h(due)} {d(end)} {s}" for k, due, end, s in zip(ob["kind"], ob["due"], ob["end"], ob["status"], strict=True)]


def _frames(cases: dict[str, tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    travellers, visits = [], []
    for cid, (over, stays, *_) in cases.items():
        travellers.append(_traveller(cid, **over))
        for s in stays:
            place, f, t, *code = s
            visits.append({"traveller_id": cid, "place": place, "adcode": code[0] if code else None, "from_date": f, "to_date": t})
    tr = pd.DataFrame(travellers)
    for c in ("arrival_date", "companion_date", "push_date", "health_code_date"):
        tr[c] = pd.to_datetime(tr[c])
    tr["entry_quarantine_days"] = tr["entry_quarantine_days"].astype("Int64")
    vi = pd.DataFrame(visits, columns=["traveller_id", "place", "adcode", "from_date", "to_date"])
    for c in ("from_date", "to_date"):
        vi[c] = pd.to_datetime(vi[c])
    return tr, vi


@pytest.fixture(scope="module")
def rules():
    return load_rule_sets()


@pytest.fixture(scope="module")
def gaz() -> pd.DataFrame:
    return gazetteer()


@pytest.fixture(scope="module")
def classified(rules, gaz) -> tuple[pd.DataFrame, pd.DataFrame]:
    tr, vi = _frames(CASES)
    tr = pd.concat([tr, pd.DataFrame([_traveller("not_arrived", arrival="2022-03-29")]).astype({"arrival_date": "datetime64[ns]"})])
    out, ob = classify_with_obligations(tr, vi, RISK, gaz, rules, as_of=AS_OF)
    return out.set_index("id", drop=False), ob


@pytest.fixture(scope="module")
def result(classified) -> pd.DataFrame:
    return classified[0]


def test_the_rule_table_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", list(CASES))
def test_case(classified, case: str) -> None:
    result, ob = classified
    code, rule_id, measure, due, end, overdue = CASES[case][2]
    row = result.loc[case]
    assert (row["code"], row["rule_id"], row["measure_zh"]) == (code, rule_id, measure)
    assert (row["first_action_due"] is NaT and due is NaT) or row["first_action_due"] == due
    assert (row["measure_end"] is NaT and end is NaT) or row["measure_end"] == end
    assert bool(row["overdue"]) is overdue
    assert row["rule_set"] == "2022-03-28"
    # every obligation, its deadline, end and status, strictest first
    assert _ob_lines(ob[ob["traveller_id"] == case]) == CASES[case][3]
    # the one definition of overdue: some obligation overdue; green is never overdue
    assert bool(ob.loc[ob["traveller_id"] == case, "overdue"].any()) is overdue
    assert not (row["code"] == "green" and row["overdue"])


def test_not_yet_arrived_is_left_out(result: pd.DataFrame) -> None:
    assert "not_arrived" not in result.index
    assert len(result) == len(CASES)


INC = "；旅居史不完整（抵并前14天未全部登记）"
INC_EN = "; history incomplete (the 14 days before arrival are not all recorded)"


@pytest.mark.parametrize(
    ("case", "zh", "en"),
    [
        ("day14_counts", "14天内有中高风险区所在县（直辖市：区）旅居史：「浙江省杭州市上城区」2022-03-10至2022-03-12；"
         "高风险区浙江省杭州市上城区 上城区演示风险区1（2022-03-01起）",
         "stay in a county (municipalities: district) with a medium/high risk area in the 14 days: '浙江省杭州市上城区' "
         "2022-03-10 to 2022-03-12; high-risk area 浙江省杭州市上城区 上城区演示风险区1 (since 2022-03-01)"),
        ("lifted_mid_visit_counts", "14天内有中高风险区所在县（直辖市：区）旅居史：「广东省佛山市南海区」2022-03-13至2022-03-16；"
         "中风险区广东省佛山市南海区 南海区演示风险区1（2022-03-01起，2022-03-15解除）", None),
        ("whole_county_entry", "14天内有中高风险区旅居史：「湖北省武汉市江夏区」2022-03-20至2022-03-22；中风险区湖北省武汉市江夏区（全县）（2022-03-01起）" + INC,
         "stay in a medium/high risk area in the 14 days: '湖北省武汉市江夏区' 2022-03-20 to 2022-03-22; "
         "medium-risk area 湖北省武汉市江夏区 (whole county) (since 2022-03-01)" + INC_EN),
        ("notice_before_listing", "14天内有中高风险区所在县（直辖市：区）旅居史：「湖北省鄂州市鄂城区」2022-03-14至2022-03-15；"
         "高风险区湖北省鄂州市鄂城区 鄂城区演示风险区1（2022-03-20起，通告追溯至2022-03-13）" + INC, None),
        ("city_only_in_notice_city", "14天内有涉疫地市其他县旅居史：「广东省肇庆市」2022-03-20至2022-03-22；通告所列广东省肇庆市（2022-03-13以来）" + INC, None),
        ("unresolvable_place", "待核实：地点无法识别「杭洲」（2022-03-20至2022-03-22）" + INC,
         "pending: place not recognised '杭洲' (2022-03-20 to 2022-03-22)" + INC_EN),
        ("missing_date", "待核实：日期缺失「江苏省南京市玄武区」（?至2022-03-20）" + INC,
         "pending: date missing '江苏省南京市玄武区' (? to 2022-03-20)" + INC_EN),
        ("inverted_dates", "待核实：日期有误「江苏省南京市玄武区」（2022-03-20至2022-03-18）" + INC, None),
        ("ambiguous_place", "待核实：地点有歧义「朝阳区」（2022-03-20至2022-03-22）" + INC, None),
        ("province_only", "待核实：地点仅到省级「浙江省」（2022-03-20至2022-03-22），该省当时有风险区" + INC, None),
        ("city_only_in_affected_city", "待核实：需写明区县「杭州」（2022-03-20至2022-03-22），该市当时有风险区所在县，可能为红码" + INC,
         "pending: county needed '杭州' (2022-03-20 to 2022-03-22); the city had a risk county then, so it could be red" + INC_EN),
        ("municipality_district_only", "待核实：需写明街道（乡镇）「上海市闵行区」（2022-03-20至2022-03-22），该区当时有风险区所在街道，可能为红码" + INC, None),
        ("place_and_code_disagree", "待核实：地点与区划代码不一致「杭州市上城区」（2022-03-20至2022-03-22，代码440605）" + INC, None),
        ("arrival_missing", "待核实：抵并日期缺失", "pending: arrival date missing"),
        ("inbound_days_unknown", "待核实：境外入境，入境点隔离天数不明" + INC, None),
        ("inbound_14", "境外入境，入境点隔离满14天：入境点已隔离14天" + INC,
         "inbound from abroad, 14 days quarantined at entry: 14 days quarantined at entry" + INC_EN),
        ("companion", "时空伴随者：2022-03-27推送", "spatiotemporal companion: flagged 2022-03-27"),
        ("health_code_red", "山西健康码红码人员：2022-03-27赋码", "holder of a red Shanxi health code: flagged 2022-03-27"),
        ("red_beats_pending", "14天内有中高风险区所在县（直辖市：区）旅居史：「上城区」2022-03-23至2022-03-25；"
         "高风险区浙江省杭州市上城区 上城区演示风险区1（2022-03-01起）；另有旅居史待核实：地点无法识别「杭洲」（2022-03-20至2022-03-22）" + INC, None),
        ("pending_beats_yellow", "待核实：地点无法识别「杭洲」（2022-03-20至2022-03-22）；另：14天内有涉疫地市其他县旅居史："
         "「杭州市西湖区」2022-03-23至2022-03-25；高风险区浙江省杭州市上城区 上城区演示风险区1（2022-03-01起）" + INC, None),
        ("companion_and_county_both_kept", "14天内有中高风险区所在县（直辖市：区）旅居史：「上城区」2022-03-20至2022-03-22；"
         "高风险区浙江省杭州市上城区 上城区演示风险区1（2022-03-01起）；同时符合：时空伴随者" + INC,
         "stay in a county (municipalities: district) with a medium/high risk area in the 14 days: '上城区' 2022-03-20 to 2022-03-22; "
         "high-risk area 浙江省杭州市上城区 上城区演示风险区1 (since 2022-03-01); also matches: spatiotemporal companion" + INC_EN),
        ("within_province_only", "14天内无省外或涉疫旅居史", "no out-of-province or outbreak history in the 14 days"),
        ("history_incomplete", "旅居史不完整：抵并前14天未全部登记，已登记部分无省外或涉疫旅居史", None),
        ("code_lifted_after_measure", "14天内有涉疫地市其他县旅居史：「浙江省杭州市西湖区」2022-03-05至2022-03-08；高风险区浙江省杭州市上城区 "
         "上城区演示风险区1（2022-03-01起）" + INC + "；2022-03-12期满，自动解码", None),
    ],
)
def test_reason(result: pd.DataFrame, case: str, zh: str, en: str | None) -> None:
    row = result.loc[case]
    assert row["reason_zh"] == zh
    if en is not None:
        assert row["reason_en"] == en


def test_pending_and_red_flags(result: pd.DataFrame) -> None:
    assert result.loc["red_beats_pending", "needs_verification"]
    assert result.loc["red_beats_pending", "pending_issues"] == 1
    assert result.loc["missing_date", "pending_issues"] == 2
    assert result.loc["province_only", "pending_issues"] == 4
    assert not result.loc["day14_counts", "needs_verification"]
    assert result.loc["companion_and_county_both_kept", "matched_rules"] == "risk_county;companion"
    assert result.loc["city_only_in_affected_city", "pending_issues"] == 64
    assert result.loc["municipality_district_only", "pending_issues"] == 128
    assert result.loc["history_incomplete", "history_incomplete"]
    assert not result.loc["day14_counts", "history_incomplete"]


def test_test_schedules(result: pd.DataFrame) -> None:
    # yellow: the landing test, then 2 more within 72 h of it
    assert result.loc["other_county_of_city", "test_due"] == [T("2022-03-27"), T("2022-03-29"), T("2022-03-29")]
    assert result.loc["other_county_of_city", "test_schedule_zh"] == (
        "第一落点核酸检测（1次） 2022-03-27 00:00；第一落点核酸后72小时内再做核酸（第1/2次） 2022-03-29 00:00；"
        "第一落点核酸后72小时内再做核酸（第2/2次） 2022-03-29 00:00"
    )
    assert result.loc["day14_counts", "test_due"] == [T("2022-03-27")]
    assert result.loc["inbound_14", "test_due"] == [T("2022-03-27")]  # inbound: from outside the province
    assert result.loc["companion", "test_due"] == []  # no stay outside Shanxi
    assert result.loc["within_province_only", "test_due"] == []


def test_first_actions_and_lifting(result: pd.DataFrame) -> None:
    assert result.loc["risk_area_itself", "first_action_zh"] == "排查（重点区域驻留人员），转运集中隔离"
    assert result.loc["companion", "first_action_en"] == "investigate (spatiotemporal companion)"
    assert result.loc["day15_does_not", "first_action_zh"] == "第一落点核酸检测（1次）"
    row = result.loc["code_lifted_after_measure"]
    assert (row["assigned_code"], row["measure_id"], bool(row["lifted"])) == ("yellow", "lifted", True)
    assert result.loc["bigdata_push", "provisional"]
    assert result.loc["risk_area_itself", "measure_en"] == "14+7 centralized quarantine"
    assert result.loc["day14_counts", "measure_start"] == T(A)
    assert result.loc["companion", "measure_start"] == T("2022-03-27")


def test_input_frames_are_not_mutated(rules, gaz) -> None:
    tr, vi = _frames({k: CASES[k] for k in ("day14_counts", "missing_date")})
    before_t, before_v = tr.copy(), vi.copy()
    classify_travellers(tr, vi, RISK, gaz, rules, as_of=AS_OF)
    pd.testing.assert_frame_equal(tr, before_t)
    pd.testing.assert_frame_equal(vi, before_v)


def test_duplicate_traveller_ids_are_named(rules, gaz) -> None:
    tr = pd.DataFrame([_traveller("X"), _traveller("X")]).astype({"arrival_date": "datetime64[ns]"})
    vi = pd.DataFrame(columns=["traveller_id", "place", "adcode", "from_date", "to_date"])
    with pytest.raises(ValueError, match="travellers: duplicate or missing id"):
        classify_travellers(tr, vi, RISK, gaz, rules, as_of=AS_OF)


def test_visits_of_unknown_travellers_are_noted(rules, gaz) -> None:
    tr, vi = _frames({"day14_counts": CASES["day14_counts"]})
    vi = pd.concat([vi, vi.iloc[:1].assign(traveller_id="ghost")], ignore_index=True)
    notes: list[str] = []
    out = classify_travellers(tr, vi, RISK, gaz, rules, as_of=AS_OF, notes=notes)
    assert out["code"].tolist() == ["red"]
    assert notes == ["1 visit(s) name no known traveller and are ignored"]


def test_unusable_risk_entries_are_noted_not_guessed(rules, gaz) -> None:
    tr, vi = _frames({"day14_counts": CASES["day14_counts"]})
    bad = pd.DataFrame(
        [("X1", "high", "火星", None, None, "999999", None, T("2022-03-01"), NaT),
         ("X2", "high", "浙江省", "杭州市", "上城区", "330102", None, NaT, NaT),
         ("X3", "high", "浙江省", "杭州市", "上城区", None, None, T("2022-03-01"), NaT)],  # resolved by name
        columns=RISK.columns,
    )
    notes: list[str] = []
    out = classify_travellers(tr, vi, bad, gaz, rules, as_of=AS_OF, notes=notes)
    assert notes == [
        "risk entry X2: no since date, ignored",
        "risk entry X1: place not resolved to a county or city (火星 999999), ignored",
    ]
    assert out["rule_id"].tolist() == ["risk_area"]  # X3 names no area: the whole county is the risk area


def test_output_columns(result: pd.DataFrame) -> None:
    from geo.screening import OUTPUT_COLUMNS

    assert list(result.columns) == list(OUTPUT_COLUMNS)


# ---- the 2021-12-08 rule set (seed 001)

CASES_2021: dict[str, tuple[dict, list[tuple], tuple]] = {
    "city_history": ({"arrival_date": "2021-12-08"}, [("浙江省杭州市西湖区", "2021-12-01", "2021-12-05")],
                     ("yellow", "key_region", "向社区(村)、单位、酒店报备，配合核酸检测、隔离管控、健康监测（按规定）", T("2021-12-10 00:00"), NaT, False)),
    "county_history": ({"arrival_date": "2021-12-08"}, [("浙江省杭州市余杭区", "2021-12-01", "2021-12-05")],
                       ("yellow", "key_region", "向社区(村)、单位、酒店报备，配合核酸检测、隔离管控、健康监测（按规定）", T("2021-12-10 00:00"), NaT, False)),
    "companion": ({"arrival_date": "2021-12-08", "companion": True, "companion_date": "2021-12-08"}, [],
                  ("yellow", "companion", "向社区(村)和单位报告，接受社区管理，配合防疫措施（按规定）", T("2021-12-09 00:00"), NaT, True)),
    "push": ({"arrival_date": "2021-12-08", "bigdata_push": True, "push_date": "2021-12-08"}, [],
             ("yellow", "bigdata_push", "排查核实，纳入社区网格化管理（按规定）", T("2021-12-10 00:00"), NaT, False)),
    # the notice's look-back: 杭州 from 23 November, before any area of it was listed (R5: 30 November)
    "notice_look_back": ({"arrival_date": "2021-12-08"}, [("浙江省杭州市西湖区", "2021-11-24", "2021-11-25")],
                         ("yellow", "key_region", "向社区(村)、单位、酒店报备，配合核酸检测、隔离管控、健康监测（按规定）", T("2021-12-10 00:00"), NaT, False)),
    "health_code_2021": ({"arrival_date": "2021-12-08", "health_code": "red", "health_code_date": "2021-12-08"}, [],
                         ("red", "health_code_red", "向所属社区(村)和单位报告，接受社区(村)管理（按规定）", T("2021-12-09 00:00"), NaT, True)),
    "other_province": ({"arrival_date": "2021-12-08"}, [(NANJING, "2021-12-01", "2021-12-05")],
                       ("green", "landing", "返并后主动做核酸检测，做好个人健康监测", NaT, NaT, False)),
    "inbound_has_no_2021_rule": ({"arrival_date": "2021-12-08", "inbound": True, "entry_quarantine_days": 14}, [],
                                 ("green", "landing", "返并后主动做核酸检测，做好个人健康监测", NaT, NaT, False)),
}


@pytest.mark.parametrize("as_of", ["2021-12-10", "2022-03-27"])
@pytest.mark.parametrize("case", list(CASES_2021))
def test_case_2021_rules(rules, gaz, case: str, as_of: str) -> None:
    tr, vi = _frames(CASES_2021)
    out = classify_travellers(tr, vi, RISK, gaz, rules, as_of=as_of).set_index("id")
    code, rule_id, measure, due, end, overdue = CASES_2021[case][2]
    row = out.loc[case]
    assert (row["rule_set"], row["code"], row["rule_id"], row["measure_zh"]) == ("2021-12-08", code, rule_id, measure)
    assert (row["first_action_due"] is NaT and due is NaT) or row["first_action_due"] == due
    assert row["measure_end"] is NaT and end is NaT  # seed 001 states no durations: nothing lifts by itself
    if as_of == "2021-12-10":
        assert bool(row["overdue"]) is overdue
    else:
        assert bool(row["overdue"]) is (due is not NaT)


def test_2021_city_history_tests_and_reason(rules, gaz) -> None:
    tr, vi = _frames(CASES_2021)
    row = classify_travellers(tr, vi, RISK, gaz, rules, as_of="2021-12-10").set_index("id").loc["city_history"]
    assert row["test_due"] == [T("2021-12-09")]  # landing-point check; no general landing test besides
    assert row["first_action_zh"] == "排查（重点区域驻留人员），报备社区"
    assert row["reason_zh"] == (
        "14天内有中高风险地区（疫情发生地）所在地市旅居史：「浙江省杭州市西湖区」2021-12-01至2021-12-05；"
        "中风险区浙江省杭州市余杭区 余杭区演示风险区1（2021-11-30起，通告追溯至2021-11-23，2022-01-10解除）" + INC
    )
    other = classify_travellers(tr, vi, RISK, gaz, rules, as_of="2021-12-10").set_index("id").loc["other_province"]
    assert other["test_schedule_en"] == "take a test after returning; monitor own health as required"


def test_the_rule_set_switches_on_its_effective_date(rules, gaz) -> None:
    """The same arrival: the 2021 rules (city history: report, yellow) the day before, the 2022 rules on the day."""
    tr, vi = _frames({"x": ({"arrival_date": "2022-03-20"}, [("浙江省杭州市上城区", "2022-03-15", "2022-03-16")])})
    before = classify_travellers(tr, vi, RISK, gaz, rules, as_of="2022-03-27").iloc[0]
    after = classify_travellers(tr, vi, RISK, gaz, rules, as_of="2022-03-28").iloc[0]
    assert (before["rule_set"], before["code"], before["rule_id"], before["first_action_due"]) == (
        "2021-12-08", "yellow", "key_region", T("2022-03-22 00:00"))
    assert (after["rule_set"], after["code"], after["rule_id"], after["first_action_due"], after["measure_end"]) == (
        "2022-03-28", "red", "risk_county", T("2022-03-22 00:00"), T("2022-04-09"))


def test_pending_lapses_once_any_measure_would_have_ended(rules, gaz) -> None:
    tr, vi = _frames({"unresolvable_place": CASES["unresolvable_place"]})
    row = classify_travellers(tr, vi, RISK, gaz, rules, as_of="2022-04-20").iloc[0]  # arrival + 21 days < as-of
    assert (row["code"], row["rule_id"], row["measure_id"], bool(row["overdue"])) == ("green", "pending", "lifted", False)
    assert row["reason_zh"].endswith("；任何可能的措施均已于2022-04-15前期满，无需再核实")


# ---- neighbourhoods


def _boxes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "name": ["甲社区", "乙社区", "丙社区", "丁社区"],
            "district_adcode": ["140105", "140105", "140106", "140106"],
            "district": ["小店区", "小店区", "迎泽区", "迎泽区"],
            "street": ["一街道", "一街道", "二街道", "二街道"],
            "population": [1000, 2000, 3000, 4000],
        },
        geometry=[shapely.box(112.0 + i * 0.01, 37.8, 112.01 + i * 0.01, 37.81) for i in range(4)],
        crs="EPSG:4326",
    )


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["Z1", "Z2", "Z3"],
            "tier": ["sealed", "precaution", "controlled"],
            "start": pd.to_datetime(["2022-03-27", "2022-03-27", "2022-03-01"]),
            "lifted": pd.to_datetime([None, None, "2022-03-20"]),
        },
        geometry=[
            shapely.box(112.0, 37.8, 112.01, 37.81),  # = A; B touches it
            shapely.box(112.02, 37.8, 112.03, 37.81),  # = C, but precaution: not counted
            shapely.box(112.03, 37.8, 112.04, 37.81),  # = D, but lifted before the as-of day
        ],
        crs="EPSG:4326",
    )


def test_screen_neighbourhoods_counts_and_levels() -> None:
    classified = pd.DataFrame(
        {
            "neighbourhood_id": ["A", "B", "B", "C", "C", "C", "D", None],
            "code": ["green", "red", "pending", "yellow", "yellow", "green", "green", "red"],
            "measure_id": ["landing", "risk_county", "pending", "affected_city", "companion", "lifted", "none", "risk_area"],
            "overdue": [False, True, True, False, True, False, False, True],
        }
    )
    nb = screen_neighbourhoods(classified, _boxes(), _zones(), as_of=AS_OF, measure_ids=["risk_area", "landing"])
    got = nb.set_index("id")[["red", "yellow", "green", "pending", "travellers", "overdue", "zone_tier", "zone_relation", "screening", "screening_zh"]]
    assert got.to_dict("index") == {
        "A": {"red": 0, "yellow": 0, "green": 1, "pending": 0, "travellers": 1, "overdue": 0, "zone_tier": "sealed",
              "zone_relation": "in", "screening": "full", "screening_zh": "全员核酸"},
        "B": {"red": 1, "yellow": 0, "green": 0, "pending": 1, "travellers": 2, "overdue": 2, "zone_tier": "sealed",
              "zone_relation": "touches", "screening": "full", "screening_zh": "全员核酸"},
        "C": {"red": 0, "yellow": 2, "green": 1, "pending": 0, "travellers": 3, "overdue": 1, "zone_tier": "",
              "zone_relation": "", "screening": "targeted", "screening_zh": "重点人员"},
        "D": {"red": 0, "yellow": 0, "green": 1, "pending": 0, "travellers": 1, "overdue": 0, "zone_tier": "",
              "zone_relation": "", "screening": "none", "screening_zh": "无"},
    }
    measures = nb.set_index("id")[[c for c in nb.columns if c.startswith("measure:")]]
    assert list(measures.columns) == [
        "measure:risk_area", "measure:landing", "measure:affected_city", "measure:companion", "measure:lifted",
        "measure:none", "measure:pending", "measure:risk_county",
    ]
    assert measures.loc["C"].to_dict() == {
        "measure:risk_area": 0, "measure:landing": 0, "measure:affected_city": 1, "measure:companion": 1,
        "measure:lifted": 1, "measure:none": 0, "measure:pending": 0, "measure:risk_county": 0,
    }
    assert nb.loc[nb["id"] == "B", "zone_ids"].item() == "Z1"
    assert isinstance(nb, gpd.GeoDataFrame)


def test_pending_alone_does_not_make_targeted() -> None:
    classified = pd.DataFrame({"neighbourhood_id": ["D"], "code": ["pending"], "measure_id": ["pending"], "overdue": [True]})
    nb = screen_neighbourhoods(classified, _boxes(), None, as_of=AS_OF).set_index("id")
    assert (nb.loc["D", "pending"], nb.loc["D", "screening"]) == (1, "none")


def _tiny_screen(rules, gaz):
    cases = {k: CASES[k] for k in ("day14_counts", "other_county_of_city", "unresolvable_place", "within_province_only")}
    tr, vi = _frames(cases)
    tr["neighbourhood_id"] = ["B", "C", None, None]  # the last two: from their residence point
    tr = gpd.GeoDataFrame(
        tr,
        geometry=[shapely.Point(112.015, 37.805), shapely.Point(112.025, 37.805), shapely.Point(112.035, 37.805), shapely.Point(0, 0)],
        crs="EPSG:4326",
    )
    return screen(tr, vi, RISK, gaz, rules, as_of=AS_OF, neighbourhoods=_boxes(), zones=_zones())


def test_screen_assigns_missing_neighbourhoods_from_points(rules, gaz) -> None:
    s = _tiny_screen(rules, gaz)
    t = s.travellers.set_index("id")
    assert t["neighbourhood_id"].tolist() == ["B", "C", "D", None]
    assert t["district"].tolist() == ["小店区", "迎泽区", "迎泽区", None]
    assert t.loc["day14_counts", "neighbourhood"] == "乙社区"
    assert s.code_counts() == {"red": 1, "yellow": 1, "green": 1, "pending": 1}
    assert s.screening_counts() == {"full": 2, "targeted": 1, "none": 1}
    assert s.notes == ["1 traveller(s) have no neighbourhood (no id and no point inside one)"]
    assert f"{s.rule_set.effective_from:%Y-%m-%d}" == "2022-03-28"


# ---- privacy


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13812341234", "138****1234"), ("+8613812341234", "+86*******1234"), ("1234567", "*******"), ("", ""), (None, ""), (pd.NA, "")],
)
def test_mask_phone(value: object, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("140105199001011234", "1401**********1234"), ("14010519900101123X", "1401**********123X"),
     ("140105900101123", "1401*******1123"), ("12345678", "********"), (None, "")],
)
def test_mask_id(value: object, masked: str) -> None:
    assert mask_id(value) == masked


def test_suppress_small() -> None:
    frame = pd.DataFrame({"name": ["a", "b", "c", "d"], "red": [0, 1, 2, 3], "yellow": [5, 2, 0, 1]})
    out = suppress_small(frame, ["red", "yellow"])
    assert out["red"].tolist() == [0, "<3", "<3", 3]
    assert out["yellow"].tolist() == [5, "<3", 0, "<3"]
    assert frame["red"].tolist() == [0, 1, 2, 3]  # a copy
    assert suppress_small(frame, ["red"], threshold=2)["red"].tolist() == [0, "<2", 2, 3]
    with pytest.raises(KeyError, match="no column"):
        suppress_small(frame, ["blue"])
    with pytest.raises(ValueError, match="threshold must be ≥ 1"):
        suppress_small(frame, ["red"], threshold=0)


# ---- export


def test_write_xlsx_one_sheet_per_district_masked(rules, gaz, tmp_path: Path) -> None:
    from layers.screening_io import write_screening

    s = _tiny_screen(rules, gaz)
    (path,) = write_screening(s, tmp_path / "screen.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["小店区", "迎泽区", "未分配 Unassigned", "社区 Neighbourhoods"]
    ws = wb["小店区"]
    head = [c.value for c in ws[1]]
    assert head[:5] == ["编号 ID", "姓名 Name", "电话 Phone", "身份证号 ID-card number", "住址 Address"]
    row = dict(zip(head, [c.value for c in ws[2]], strict=True))
    assert (row["编号 ID"], row["电话 Phone"], row["身份证号 ID-card number"]) == ("day14_counts", "138****1234", "1401**********1234")
    assert (row["码色 Code"], row["措施 Measure"]) == ("红码 red", "14+7 居家隔离医学观察 / 14+7 home quarantine")
    assert (row["最早期限 Earliest open deadline"], row["措施结束 Measure ends"], row["逾期 Overdue"]) == ("2022-03-28 00:00", "2022-04-15", None)
    assert ws.max_row == 2
    assert wb["迎泽区"].max_row == 3
    nb = wb["社区 Neighbourhoods"]
    nhead = [c.value for c in nb[1]]
    assert nhead[:8] == ["区县 District", "街道 Street", "社区编号 Neighbourhood ID", "社区 Neighbourhood", "人口 Population",
                         "筛查 Screening", "封控/管控区 Sealed/controlled zone", "返并人员 Travellers"]
    assert "措施：14+7 集中隔离医学观察 Measure: 14+7 centralized quarantine" in nhead
    rows = {r[2]: dict(zip(nhead, r, strict=True)) for r in nb.iter_rows(min_row=2, values_only=True)}
    assert rows["A"]["筛查 Screening"] == "全员核酸 full screening"
    assert rows["A"]["封控/管控区 Sealed/controlled zone"] == "封控区 sealed（在内 in）"
    assert rows["B"]["红码 Red"] == "<3"  # grid role: small counts suppressed
    assert rows["A"]["红码 Red"] == 0


def test_write_xlsx_command_role_is_unmasked(rules, gaz, tmp_path: Path) -> None:
    from layers.screening_io import write_screening

    (path,) = write_screening(_tiny_screen(rules, gaz), tmp_path / "cmd.xlsx", role="command")
    ws = openpyxl.load_workbook(path)["小店区"]
    assert [c.value for c in ws[2]][2:4] == ["13812341234", "140105199001011234"]
    nb = openpyxl.load_workbook(path)["社区 Neighbourhoods"]
    assert nb.cell(row=3, column=9).value == 1  # B: red count unsuppressed


def test_write_csv_two_files_with_bom(rules, gaz, tmp_path: Path) -> None:
    from layers.screening_io import write_screening

    written = write_screening(_tiny_screen(rules, gaz), tmp_path / "out.csv")
    assert [p.name for p in written] == ["out_travellers.csv", "out_neighbourhoods.csv"]
    raw = written[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    t = pd.read_csv(written[0], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert t.columns[1] == "姓名 Name"
    assert t["电话 Phone"].tolist() == ["138****1234"] * 4
    n = pd.read_csv(written[1], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert n["社区编号 Neighbourhood ID"].tolist() == ["A", "B", "C", "D"]


def test_export_defuses_spreadsheet_formulas(rules, gaz) -> None:
    from layers.screening_io import export_frames

    s = _tiny_screen(rules, gaz)
    s.travellers.loc[0, "name"] = "=HYPERLINK(\"http://x\")"
    s.travellers.loc[1, "address"] = "+86 演示路"
    trav, _ = export_frames(s, role="command")
    assert trav["姓名 Name"].iloc[0] == "'=HYPERLINK(\"http://x\")"
    assert trav["住址 Address"].iloc[1] == "'+86 演示路"
    assert trav["姓名 Name"].iloc[1] == "姓名other_county_of_city"


def test_write_rejects_other_types(rules, gaz, tmp_path: Path) -> None:
    from layers.screening_io import write_screening

    with pytest.raises(ValueError, match=r"unsupported file type '\.json'; use \.csv or \.xlsx"):
        write_screening(_tiny_screen(rules, gaz), tmp_path / "x.json")


# ---- the demo scenario, end to end


@pytest.fixture(scope="module")
def demo():
    from data.demo import build_demo

    return build_demo(20220328)


@pytest.fixture(scope="module")
def demo_result(demo, rules, gaz):
    return screen(
        demo["travellers"], demo["visits"], demo["risk_areas"], gaz, rules, as_of=AS_OF,
        neighbourhoods=demo["neighbourhoods"], zones=demo["zones"],
    )


def test_demo_totals(demo, demo_result) -> None:
    from data.demo import _TYPO_PLACES

    t = demo_result.travellers
    assert len(t) == len(demo["travellers"]) == 20_000  # everyone has arrived by 2022-03-28
    assert set(t["code"]) <= set(CODES)
    assert t["id"].tolist() == demo["travellers"]["id"].tolist()
    assert (t["measure_zh"] != "").all()
    counts = demo_result.code_counts()
    assert sum(counts.values()) == 20_000
    assert counts["red"] > 100 and counts["yellow"] > 100 and counts["pending"] > 100
    assert demo_result.notes == []
    # the deliberately broken stays (typos, missing dates) of recent arrivals: never guessed
    v = demo["visits"]
    broken = v[v["place"].isin(_TYPO_PLACES) | v["from_date"].isna() | v["to_date"].isna()]["traveller_id"].unique()
    recent = t[t["arrival_date"] >= pd.Timestamp(AS_OF) - pd.Timedelta(days=20)].set_index("id")
    hit = recent.loc[recent.index.intersection(broken)]
    assert len(hit) > 100
    assert set(hit["code"]) <= {"pending", "red"}
    assert counts["pending"] >= int((hit["code"] == "pending").sum())
    assert hit.loc[hit["code"] == "red", "needs_verification"].all()
    # neighbourhoods add up; the sealed 通达街社区 is screened in full
    nb = demo_result.neighbourhoods
    assert int(nb["travellers"].sum()) == 20_000
    assert nb.loc[nb["name"] == "通达街社区", "screening"].item() == "full"
    assert demo_result.screening_counts()["full"] >= 2


def test_demo_fast_path_equals_loop_reference(demo, rules, gaz) -> None:
    from bench.bench_screening import classify_reference, compare

    t = demo["travellers"].iloc[:1500]
    v = demo["visits"][demo["visits"]["traveller_id"].isin(t["id"])]
    for as_of in (AS_OF, "2021-12-10"):
        fast = classify_travellers(t, v, demo["risk_areas"], gaz, rules, as_of=as_of)
        ref = classify_reference(t, v, demo["risk_areas"], gaz, rules, as_of=as_of)
        assert compare(fast, ref) == []


@pytest.mark.parametrize("as_of", ["2021-12-10", AS_OF, "2022-04-20"])
def test_rule_table_equals_loop_reference(rules, gaz, as_of: str) -> None:
    from bench.bench_screening import classify_reference, compare

    tr, vi = _frames({**CASES, **CASES_2021})
    fast = classify_travellers(tr, vi, RISK, gaz, rules, as_of=as_of)
    ref = classify_reference(tr, vi, RISK, gaz, rules, as_of=as_of)
    assert compare(fast, ref) == []


def test_cli_screen(demo, tmp_path: Path) -> None:
    from data.demo import demo_meta
    from layers.screening_io import cli_screen
    from layers.store.gpkg import write_new_store

    store = tmp_path / "demo.gpkg"
    write_new_store(store, {k: demo[k] for k in ("travellers", "visits", "risk_areas", "neighbourhoods", "zones")}, meta=demo_meta())
    buf = io.StringIO()
    assert cli_screen("2022-03-28", str(tmp_path / "s.csv"), store, stdout=buf) == 0
    lines = buf.getvalue().splitlines()
    assert lines[0] == "筛查 Screening · 截至 as of 2022-03-28 00:00 · 规则 rule set 2022-03-28 (seed 004)"
    assert lines[1] == "返并人员 Travellers: 20,000"
    assert lines[2].startswith("码色 Codes: 红码 red ")
    assert lines[4].startswith("社区筛查 Neighbourhoods: 全员核酸 full screening ")
    assert lines[-2:] == [f"已写入 wrote {tmp_path / 's_travellers.csv'}", f"已写入 wrote {tmp_path / 's_neighbourhoods.csv'}"]
    written = pd.read_csv(tmp_path / "s_travellers.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(written) == 20_000
    assert written["电话 Phone"].str.fullmatch(r"1\d\d\*{4}\d{4}").all()  # masked for grid workers
    assert cli_screen("2021-12-10", None, store, stdout=io.StringIO()) == 0


def _empty_store(tmp_path: Path) -> Path:
    from layers.store.gpkg import write_new_store

    p = tmp_path / "empty.gpkg"
    empty = gpd.GeoDataFrame({"id": [], "level": [], "province": [], "since": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    write_new_store(p, {"risk_areas": empty})
    return p


@pytest.mark.parametrize(
    ("as_of", "out", "message"),
    [
        ("yesterday", None, "riskmap screen: --as-of: as_of is not a date: 'yesterday' (use YYYY-MM-DD)"),
        ("1000-01-01", None, "riskmap screen: --as-of: as_of '1000-01-01' is outside 2020-01-01 … 2099-12-31"),
        ("2021-01-01", None, "riskmap screen: no rule set in force on 2021-01-01; the earliest starts 2021-12-08"),
        ("2022-03-28", "x.pdf", "riskmap screen: --out: use a .csv or .xlsx file, got 'x.pdf'"),
    ],
)
def test_cli_screen_errors(tmp_path: Path, capsys, as_of: str, out: str | None, message: str) -> None:
    from layers.screening_io import cli_screen

    assert cli_screen(as_of, out, _empty_store(tmp_path), stdout=io.StringIO()) == 2
    assert capsys.readouterr().err.strip() == message


def test_cli_screen_missing_store(tmp_path: Path, capsys) -> None:
    from layers.screening_io import cli_screen

    assert cli_screen("2022-03-28", None, tmp_path / "missing.gpkg", stdout=io.StringIO()) == 1
    assert "store not found" in capsys.readouterr().err


def test_scaled_inputs_are_deterministic(demo) -> None:
    from bench.bench_screening import scaled_inputs

    a = scaled_inputs(2_000, 6_000, demo=demo)
    b = scaled_inputs(2_000, 6_000, demo=demo)
    assert len(a["travellers"]) == 2_000 and len(a["visits"]) == 6_000
    pd.testing.assert_frame_equal(a["visits"], b["visits"])
    assert np.array_equal(a["travellers"]["arrival_date"].to_numpy(), b["travellers"]["arrival_date"].to_numpy())


def test_travellers_without_a_single_obligation_among_them_are_green():
    # every traveller stayed in the home province only: no rule, no landing test, no obligation at
    # all — the summary of an empty set of obligations (it indexed into it and failed)
    from layers.boundaries import gazetteer
    from layers.rules import load_rule_sets

    travellers = pd.DataFrame({"id": ["T1"], "arrival_date": [pd.Timestamp("2022-03-28")], "inbound": [False]})
    visits = pd.DataFrame({"traveller_id": ["T1"], "place": ["山西省太原市小店区"], "adcode": [None],
                           "from_date": [pd.Timestamp("2022-03-14")], "to_date": [pd.Timestamp("2022-03-28")]})
    risk = pd.DataFrame(columns=["level", "province", "city", "county", "adcode", "area_name", "since", "lifted"])
    out = classify_travellers(travellers, visits, risk, gazetteer(), load_rule_sets(), as_of="2022-03-28")
    assert list(out["code"]) == ["green"] and not out["overdue"].any()
