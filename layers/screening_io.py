"""Screening lists out of the store and into files: CSV / XLSX export and the ``screen`` command.

- :func:`screen_store` reads the layers of a store and runs :func:`geo.screening.screen`.
- :func:`write_screening` writes a :class:`~geo.screening.Screening`:
  ``.csv`` → two files ``<stem>_travellers.csv`` and ``<stem>_neighbourhoods.csv`` (UTF-8 with
  BOM, so Excel opens the Chinese correctly); ``.xlsx`` → one sheet per district with its
  travellers and one neighbourhood sheet. Headers are bilingual ("姓名 Name").
  ``role="grid"`` (the default: the file goes to grid workers) masks phone and ID-card numbers
  and suppresses neighbourhood counts below 3 (``"<3"``); ``role="command"`` writes them whole.
- :func:`cli_screen` is ``riskmap screen --as-of DATE [--out FILE]``: a bilingual summary on
  stdout, the file when ``--out`` is given.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
import openpyxl
import pandas as pd

from geo.screening import (
    CODE_LABELS,
    CODES,
    SCREENING_LEVELS,
    NoRuleSetInForce,
    Screening,
    mask_id,
    mask_phone,
    parse_as_of,
    screen,
    suppress_small,
)
from layers._cells import neutralise

__all__ = [
    "TASK_COLUMNS",
    "task_frame",
    "tasks_xlsx_bytes",
    "TRAVELLER_COLUMNS",
    "NEIGHBOURHOOD_COLUMNS",
    "screen_store",
    "with_followup",
    "export_frames",
    "write_screening",
    "summary_lines",
    "cli_screen",
]

Role = Literal["command", "grid"]

#: (column of Screening.travellers, header) in export order.
TRAVELLER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "编号 ID"),
    ("name", "姓名 Name"),
    ("phone", "电话 Phone"),
    ("id_number", "身份证号 ID-card number"),
    ("address", "住址 Address"),
    ("district", "区县 District"),
    ("street", "街道 Street"),
    ("neighbourhood", "社区 Neighbourhood"),
    ("neighbourhood_id", "社区编号 Neighbourhood ID"),
    ("arrival_date", "抵并日期 Arrival date"),
    ("code_label", "码色 Code"),
    ("measure", "措施 Measure"),
    ("reason_zh", "原因 Reason (zh)"),
    ("reason_en", "原因 Reason (en)"),
    ("first_action", "最早未完成事项 Next action"),
    ("first_action_due", "最早期限 Earliest open deadline"),
    ("overdue_label", "逾期 Overdue"),
    ("obligations_text", "全部义务 All obligations (code · measure · deadline · end · status)"),
    ("test_schedule_zh", "核酸安排 Tests (zh)"),
    ("test_schedule_en", "核酸安排 Tests (en)"),
    ("measure_end", "措施结束 Measure ends"),
    ("needs_verification_label", "待核实 To verify"),
    ("history_incomplete_label", "旅居史不完整 History incomplete"),
)

_NB_BASE: tuple[tuple[str, str], ...] = (
    ("district", "区县 District"),
    ("street", "街道 Street"),
    ("id", "社区编号 Neighbourhood ID"),
    ("name", "社区 Neighbourhood"),
    ("population", "人口 Population"),
    ("screening_label", "筛查 Screening"),
    ("zone_label", "封控/管控区 Sealed/controlled zone"),
    ("travellers", "返并人员 Travellers"),
    ("red", "红码 Red"),
    ("yellow", "黄码 Yellow"),
    ("green", "绿码 Green"),
    ("pending", "待核实 Pending"),
    ("overdue", "逾期 Overdue"),
)
NEIGHBOURHOOD_COLUMNS = _NB_BASE  # plus one "measure:<id>" column per measure, headed by its label

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
def screen_store(
    store_location: Path | str,
    as_of: object,
    *,
    travellers: pd.DataFrame | None = None,
    followup: bool = True,
    now: object | None = None,
    verified: pd.DataFrame | None = None,
) -> Screening:
    """Read travellers, visits, risk areas, neighbourhoods and zones from a store and screen them.

    ``store_location``: a GeoPackage path or a ``postgresql://`` URL (:func:`layers.store.open_store`).
    ``travellers``: the layer already read by the caller, so it is not read twice.
    ``followup``: apply the outcomes recorded by grid workers (layers/followup.py) at ``now``
    (default: the as-of moment) — what every list, figure and export shows. ``False`` gives the
    screening by the rules alone (pages cache it and apply the outcomes on each run).
    ``verified``: the stays verified big-data pushes found (:func:`geo.followup.verified_visits`),
    added to the visits whatever ``followup`` says — they are travel history; default: read from
    the store's records.
    """
    from layers.boundaries import gazetteer
    from layers.rules import load_rule_sets
    from layers.store import open_store

    store = open_store(store_location)
    visits = store.read("visits")
    if verified is None:
        from geo.followup import KIND, verified_visits
        from layers.store.records import records_for

        verified = verified_visits(records_for(str(store_location)).current(KIND))
    if len(verified):  # stays found by verifying big-data pushes: part of the travel history
        visits = pd.concat([visits, verified], ignore_index=True)
    result = screen(
        store.read("travellers") if travellers is None else travellers,
        visits,
        store.read("risk_areas"),
        gazetteer(),
        load_rule_sets(),
        as_of=as_of,
        neighbourhoods=store.read("neighbourhoods"),
        zones=store.read("zones"),
    )
    if not followup:
        return result
    return with_followup(store_location, result, now=now)


def with_followup(store_location: Path | str, base: Screening, *, now: object | None = None) -> Screening:
    """``base`` (a screening of the store) with every follow-up outcome recorded in the store
    applied at ``now`` (default: the screening's as-of moment) — what every list, figure and
    export shows (``layers.followup`` records the outcomes)."""
    from geo.followup import KIND, apply_followup, states_frame
    from layers.store.records import records_for

    states = states_frame(records_for(str(store_location)).current(KIND))
    return apply_followup(base, states, now=now if now is not None else base.as_of)


def _fmt_ts(s: pd.Series, fmt: str) -> pd.Series:
    s = pd.to_datetime(s)
    return s.dt.strftime(fmt).astype(object).where(s.notna(), "")


def export_frames(result: Screening, *, role: Role = "grid") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The traveller and neighbourhood tables as written to files, bilingual headers, all text.

    ``role="grid"`` masks phones and ID numbers and suppresses neighbourhood counts below 3.
    """
    if role not in ("command", "grid"):
        msg = f"role must be 'command' or 'grid', got {role!r}"
        raise ValueError(msg)
    t = result.travellers.copy()
    if role == "grid":
        t["phone"] = [mask_phone(v) for v in t["phone"]]
        t["id_number"] = [mask_id(v) for v in t["id_number"]]
    t["code_label"] = [f"{CODE_LABELS[c][0]} {CODE_LABELS[c][1]}" for c in t["code"]]
    t["measure"] = t["measure_zh"].astype(str) + " / " + t["measure_en"].astype(str)
    t.loc[t["lifted"].to_numpy(dtype=bool), "measure"] += "（已结束 ended）"
    t["first_action"] = np.where(
        t["first_action_zh"].astype(str) != "", t["first_action_zh"].astype(str) + " / " + t["first_action_en"].astype(str), ""
    )
    t["first_action_due"] = _fmt_ts(t["first_action_due"], "%Y-%m-%d %H:%M")
    t["arrival_date"] = _fmt_ts(t["arrival_date"], "%Y-%m-%d")
    t["measure_end"] = _fmt_ts(t["measure_end"], "%Y-%m-%d")
    t["overdue_label"] = np.where(t["overdue"], "是 yes", "")
    t["needs_verification_label"] = np.where(t["needs_verification"], "是 yes", "")
    t["history_incomplete_label"] = np.where(t["history_incomplete"], "是 yes", "")
    t["obligations_text"] = [
        "\n".join(f"{z} / {e}" for z, e in zip(a.split("\n"), b.split("\n"), strict=True)) if a else ""
        for a, b in zip(t["obligations_zh"], t["obligations_en"], strict=True)
    ]
    trav = pd.DataFrame({head: t[col].astype(object).where(t[col].notna(), "").map(neutralise) for col, head in TRAVELLER_COLUMNS})

    nb = pd.DataFrame(result.neighbourhoods).drop(columns="geometry", errors="ignore").copy()
    nb["screening_label"] = [f"{SCREENING_LEVELS[x][0]} {SCREENING_LEVELS[x][1]}" for x in nb["screening"]]
    tiers = {"sealed": "封控区 sealed", "controlled": "管控区 controlled"}
    rel = {"in": "（在内 in）", "touches": "（相邻 touching）"}
    nb["zone_label"] = [f"{tiers[t]}{rel.get(r, '')}" if t else "" for t, r in zip(nb["zone_tier"], nb["zone_relation"], strict=True)]
    labels = result.rule_set.measure_labels()
    measure_cols = [c for c in nb.columns if c.startswith("measure:")]
    count_cols = ["travellers", *CODES, "overdue", *measure_cols]
    if role == "grid":
        nb = suppress_small(nb, count_cols)
    cols = [(c, h) for c, h in _NB_BASE if c in nb.columns]
    for c in measure_cols:
        zh, en = labels.get(c.split(":", 1)[1], (c, c))
        cols.append((c, f"措施：{zh} Measure: {en}"))
    neigh = pd.DataFrame({head: nb[col].astype(object).where(nb[col].notna(), "").map(neutralise) for col, head in cols})
    return trav, neigh


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name).strip("'") or "Sheet"
    base = base[:31]
    out, k = base, 2
    while out in used:
        suffix = f" ({k})"
        out, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(out)
    return out


def write_screening(result: Screening, path: Path | str, *, role: Role = "grid") -> list[Path]:
    """Write the screening lists; returns the files written.

    ``.csv``: ``<stem>_travellers.csv`` and ``<stem>_neighbourhoods.csv`` beside ``path``
    (UTF-8 with BOM). ``.xlsx``: one sheet per district (``未分配 Unassigned`` for travellers
    without a neighbourhood), then ``社区 Neighbourhoods``. Any other suffix raises ``ValueError``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        msg = f"write_screening: unsupported file type {path.suffix or '(none)'!r}; use .csv or .xlsx"
        raise ValueError(msg)
    trav, neigh = export_frames(result, role=role)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        a = path.with_name(f"{path.stem}_travellers.csv")
        b = path.with_name(f"{path.stem}_neighbourhoods.csv")
        trav.to_csv(a, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        neigh.to_csv(b, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        return [a, b]
    district_col = dict(TRAVELLER_COLUMNS)["district"]
    used: set[str] = set()
    sheets: list[tuple[str, pd.DataFrame]] = []
    keys = trav[district_col].astype(str)
    codes = result.travellers["district_adcode"].astype(object).where(result.travellers["district_adcode"].notna(), "").to_numpy()
    first_code = dict(zip(keys.to_numpy()[::-1], codes[::-1], strict=True))  # districts in adcode order
    for d in sorted((k for k in keys.unique() if k), key=lambda k: (str(first_code.get(k, "")), k)):
        sheets.append((_sheet_name(d, used), trav[keys == d]))
    if (keys == "").any():
        sheets.append((_sheet_name("未分配 Unassigned", used), trav[keys == ""]))
    if not len(trav):
        sheets.append((_sheet_name("返并人员 Travellers", used), trav))
    sheets.append((_sheet_name("社区 Neighbourhoods", used), neigh))
    wb = openpyxl.Workbook(write_only=True)  # streaming: several times faster for long lists
    for name, frame in sheets:
        ws = wb.create_sheet(name)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False, name=None):
            ws.append(list(row))
    wb.save(path)
    return [path]


def summary_lines(result: Screening) -> list[str]:
    """The bilingual summary ``riskmap screen`` prints."""
    rs = result.rule_set
    codes = result.code_counts()
    levels = result.screening_counts()
    t = result.travellers
    lines = [
        f"筛查 Screening · 截至 as of {result.as_of:%Y-%m-%d %H:%M} · "
        f"规则 rule set {rs.effective_from:%Y-%m-%d} ({rs.source})",
        f"返并人员 Travellers: {len(t):,}",
        "码色 Codes: " + " · ".join(f"{CODE_LABELS[c][0]} {CODE_LABELS[c][1]} {codes[c]:,}" for c in CODES),
        f"逾期 Overdue: {result.overdue_count():,} · 待核实旅居史 To verify: {int(t['needs_verification'].sum()):,}"
        f" · 旅居史不完整 History incomplete: {int(t['history_incomplete'].sum()):,}",
        "社区筛查 Neighbourhoods: "
        + " · ".join(f"{SCREENING_LEVELS[k][0]} {SCREENING_LEVELS[k][1]} {levels[k]:,}" for k in SCREENING_LEVELS),
    ]
    lines += [f"注意 Note: {n}" for n in result.notes]
    return lines


def cli_screen(
    as_of: str, out: str | None, store_location: Path | str, *, role: Role = "grid", stdout: TextIO | None = None
) -> int:
    """``riskmap screen --as-of DATE [--out FILE]``; returns the exit status.

    0 done; 1 the store is missing; 2 a bad date, no rule set in force, a bad rule file or an
    unsupported output type. Messages go to stderr.
    """
    from layers.rules import RuleFileError
    from layers.store.gpkg import StoreMissing

    outp = stdout or sys.stdout
    try:
        day = parse_as_of(as_of)
    except ValueError as exc:
        print(f"riskmap screen: --as-of: {exc}", file=sys.stderr)
        return 2
    if out is not None and Path(out).suffix.lower() not in (".csv", ".xlsx"):
        print(f"riskmap screen: --out: use a .csv or .xlsx file, got {out!r}", file=sys.stderr)
        return 2
    try:
        result = screen_store(store_location, day)
    except StoreMissing as exc:
        print(f"riskmap screen: {exc}", file=sys.stderr)
        return 1
    except (NoRuleSetInForce, RuleFileError) as exc:
        print(f"riskmap screen: {exc}", file=sys.stderr)
        return 2
    for line in summary_lines(result):
        print(line, file=outp)
    if out is not None:
        written = write_screening(result, out, role=role)
        for p in written:
            print(f"已写入 wrote {p}", file=outp)
    return 0


#: The follow-up task list as exported: (column, header), in the list's order (layers/followup.py).
TASK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("urgency_label", "状态 Status"),
    ("due", "期限 Deadline"),
    ("time_left", "剩余时间 Time left"),
    ("traveller_id", "编号 ID"),
    ("name", "姓名 Name"),
    ("phone", "电话 Phone"),
    ("person_code", "码色 Code"),
    ("measure", "措施 Measure"),
    ("first_action", "应做 What to do"),
    ("neighbourhood", "社区 Neighbourhood"),
    ("address", "住址 Address"),
    ("outcome_label", "最近结果 Last outcome"),
    ("attempts", "未联系上次数 Failed attempts"),
)


def task_frame(tasks: pd.DataFrame, *, masked: bool = True) -> pd.DataFrame:
    """The task list (:func:`geo.followup.task_list`) as exported: same items, same order, one
    overdue definition; bilingual cells; phones masked unless ``masked=False``."""
    from geo.followup import OUTCOMES, time_left

    labels = {
        "overdue": "逾期 overdue", "missed_checkin": "漏打卡 missed check-in", "due": "待办 to do", "no_deadline": "待办（无期限） to do (no deadline)",
        "in_progress": "已联系，措施进行中 reached, measure running", "closed": "已结束 closed",
    }
    out = pd.DataFrame({
        "urgency_label": tasks["urgency"].map(labels),
        "due": pd.to_datetime(tasks["due"]).dt.strftime("%Y-%m-%d %H:%M").fillna(""),
        "time_left": [f"{time_left(h, 'zh')} / {time_left(h, 'en')}" if u not in ("closed", "in_progress") else ""
                      for h, u in zip(tasks["hours_left"], tasks["urgency"], strict=True)],
        "traveller_id": tasks["traveller_id"],
        "name": tasks["name"],
        "phone": [mask_phone(p) for p in tasks["phone"]] if masked else tasks["phone"],
        "person_code": [f"{CODE_LABELS[c][0]} {CODE_LABELS[c][1]}" if c in CODE_LABELS else c for c in tasks["person_code"]],
        "measure": tasks["measure_zh"] + " / " + tasks["measure_en"],
        "first_action": tasks["first_action_zh"] + " / " + tasks["first_action_en"],
        "neighbourhood": tasks["neighbourhood"],
        "address": tasks["address"],
        "outcome_label": [f"{OUTCOMES[o].zh} {OUTCOMES[o].en}" if isinstance(o, str) and o in OUTCOMES else ""
                          for o in tasks.get("outcome", pd.Series([None] * len(tasks)))],
        "attempts": tasks["attempts"] if "attempts" in tasks.columns else 0,
    })
    return out.rename(columns=dict(TASK_COLUMNS))


def tasks_xlsx_bytes(tasks: pd.DataFrame, *, masked: bool = True) -> bytes:
    """The task list as an XLSX workbook: one sheet, headers bilingual, every text cell written
    as text (a value starting ``=``, ``+``, ``-`` or ``@`` is never a formula)."""
    import io

    frame = task_frame(tasks, masked=masked)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "随访任务 Follow-up"
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([neutralise(None if (isinstance(v, float) and np.isnan(v)) else v) for v in row])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
