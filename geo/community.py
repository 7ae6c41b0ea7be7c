"""日报告 / 零报告 from every community: what each neighbourhood reports each day, and the roll-up.

Seed 000 puts the daily report and the zero report at the village/community level, under grid
management: "落实落细村(社区)网格化管理 … 严格执行“日报告”和“零报告”制度". So each neighbourhood
(its grid worker or community office) reports every day:

* a **daily report** (日报告): new arrivals registered that day (and of them those with a code
  from a risk rule), the people kept at home that day, the follow-up items with an outcome
  recorded that day, abnormal check-ins (a fever or a symptom), samples taken, and anything
  abnormal in the community's own words; the figures the system holds are filled in for them;
* or a **zero report** (零报告) in one tap: nothing to report — no new arrival registered, no
  abnormal check-in and nothing abnormal. A zero report on a day the system holds a new arrival
  or an abnormal check-in is refused (file the daily report instead), so a zero is never a
  forgotten figure.

A neighbourhood that has not reported by the cut-off time (a setting) is **missing** for the day;
before it, "not yet". Reports roll up neighbourhood → street → district → city; the city's own
daily report (layers/daily_report.py) can start from the city's roll-up.

Pure: no Streamlit, no storage. Reports are versioned records (``layers/store/records.py``, kind
:data:`KIND`, key ``"<neighbourhood id>|<YYYY-MM-DD>"``): an edit is a revision, never an overwrite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "KIND",
    "FIGURES",
    "STATUSES",
    "CommunityReportError",
    "report_key",
    "parse_cutoff",
    "system_figures",
    "report_state",
    "reports_frame",
    "report_status",
    "rollup",
    "city_report_figures",
]

KIND = "community_report"
#: The figures of a community's report: id → (zh, en, filled from the system).
FIGURES: dict[str, tuple[str, str, bool]] = {
    "new_arrivals": ("新登记返（抵）并人员", "New arrivals registered", True),
    "new_arrivals_key": ("其中重点地区（赋红/黄码）", "of them from key regions (red / yellow code)", True),
    "under_home": ("居家管控人员", "People kept at home", True),
    "followed_up": ("当日有随访记录的事项", "Items with an outcome recorded today", True),
    "abnormal_checkins": ("体温或症状异常", "Check-ins with a fever or symptom", True),
    "tests": ("当日核酸采样人次", "Samples taken today", False),
}
#: A neighbourhood's report status for a day.
STATUSES: dict[str, tuple[str, str]] = {
    "reported": ("已报日报告", "daily report"),
    "zero": ("已报零报告", "zero report"),
    "late": ("逾时补报", "reported late"),
    "not_yet": ("尚未上报", "not yet reported"),
    "missing": ("未上报（已过截止时间）", "missing (past the cut-off)"),
}


class CommunityReportError(ValueError):
    """A community report that cannot be saved; the message is bilingual (中文 / English)."""


def report_key(neighbourhood_id: object, day: object) -> str:
    """The record key of a neighbourhood's report for a day: ``"<id>|<YYYY-MM-DD>"``."""
    return f"{neighbourhood_id}|{pd.Timestamp(day):%Y-%m-%d}"


def parse_cutoff(text: str) -> dt.time:
    """``"18:00"`` → 18:00 (the time of day after which a report not received is missing)."""
    try:
        h, m = (int(x) for x in str(text).strip().split(":"))
        return dt.time(h, m)
    except (ValueError, TypeError):
        msg = f"截止时间应为 HH:MM，收到 {text!r} / the cut-off must be HH:MM, got {text!r}"
        raise CommunityReportError(msg) from None


def system_figures(result, states: pd.DataFrame, checkins: pd.DataFrame, *, day: object) -> pd.DataFrame:
    """What the system holds for each neighbourhood on ``day`` (index: neighbourhood id; columns
    the figures of :data:`FIGURES` filled from the system):

    * ``new_arrivals``: travellers registered with that arrival day, living there; ``new_arrivals_key``
      those of them a rule gave a red or yellow code;
    * ``under_home``: people with a check-in expected that day (``checkins``:
      :func:`geo.followup.checkin_items`), ``abnormal_checkins`` those whose check-in had a fever
      or symptom;
    * ``followed_up``: follow-up items (``states``: :func:`geo.followup.states_frame`) whose last
      outcome was recorded that day.

    ``result``: the screening with follow-up applied (the person's neighbourhood after a hand-over)."""
    d = pd.Timestamp(day).normalize()
    t = result.travellers
    nb_of = t.set_index(t["id"].astype(str))["neighbourhood_id"]
    arr = t[pd.to_datetime(t["arrival_date"]).dt.normalize() == d]
    key = arr[arr["assigned_code"].isin(("red", "yellow"))] if "assigned_code" in arr.columns else arr.iloc[:0]
    ck = checkins[checkins["day"] == d] if len(checkins) else checkins
    st = states[pd.to_datetime(states["at"]).dt.normalize() == d] if len(states) else states
    series = {
        "new_arrivals": arr["neighbourhood_id"].value_counts(),
        "new_arrivals_key": key["neighbourhood_id"].value_counts(),
        "under_home": ck["traveller_id"].astype(str).map(nb_of).value_counts() if len(ck) else pd.Series(dtype="int64"),
        "abnormal_checkins": (ck[ck["abnormal"].astype(bool)]["traveller_id"].astype(str).map(nb_of).value_counts()
                              if len(ck) else pd.Series(dtype="int64")),
        "followed_up": st["traveller_id"].astype(str).map(nb_of).value_counts() if len(st) else pd.Series(dtype="int64"),
    }
    out = pd.DataFrame(series).fillna(0).astype("int64")
    out.index = out.index.astype(str)
    return out[[f for f, (_, _, sys) in FIGURES.items() if sys]]


def report_state(
    fields: Mapping[str, Any], *, zero: bool, system: Mapping[str, int], day: object, at: dt.datetime,
    cutoff: dt.time,
) -> dict[str, Any]:
    """The record of a neighbourhood's report for ``day`` made at ``at``.

    ``system``: :func:`system_figures` of the neighbourhood (the figures a report starts from).
    ``zero``: a zero report — the system's figures are recorded with it, and it is refused when
    the system holds a new arrival or an abnormal check-in for the day. ``fields``: the figures
    (whole numbers ≥ 0; missing ones are the system's, ``tests`` 0) and ``abnormal`` (free text).
    ``late``: received after ``cutoff`` on the day, or on a later day. Raises
    :class:`CommunityReportError` (every problem named, in one message)."""
    d = pd.Timestamp(day).normalize()
    when = pd.Timestamp(at)
    if d > when.normalize():
        msg = f"不能为未来日期 {d:%Y-%m-%d} 上报 / cannot report for a future day ({d:%Y-%m-%d})"
        raise CommunityReportError(msg)
    figures: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for f, (zh, en, from_system) in FIGURES.items():
        given = fields.get(f) not in (None, "")
        default = system.get(f, 0) if from_system else 0
        raw = default if (zero and from_system) or not given else fields[f]
        try:
            v = float(raw)
            ok = v.is_integer() and v >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append((f"{zh}应为非负整数（收到 {raw!r}）", f"{en} must be a whole number ≥ 0 (got {raw!r})"))
            continue
        figures[f] = int(v)
    abnormal = str(fields.get("abnormal") or "").strip()
    if zero:
        held = [(FIGURES[f][0], FIGURES[f][1], int(system.get(f, 0))) for f in ("new_arrivals", "abnormal_checkins")
                if int(system.get(f, 0))]
        if held or abnormal:
            what_zh = "、".join(f"{zh} {n} 人" for zh, _, n in held) or "填写了异常情况"
            what_en = ", ".join(f"{en}: {n}" for _, en, n in held) or "something abnormal was written"
            problems.append((f"今日{what_zh}，不能零报告，请填写日报告", f"{what_en} today: file a daily report, not a zero report"))
    if figures.get("new_arrivals_key", 0) > figures.get("new_arrivals", 0):
        problems.append(("重点地区人员不能多于新登记人员", "arrivals from key regions cannot exceed the new arrivals"))
    if problems:
        raise CommunityReportError("；".join(p[0] for p in problems) + " / " + "; ".join(p[1] for p in problems))
    deadline = d + pd.Timedelta(hours=cutoff.hour, minutes=cutoff.minute)
    return {
        "day": f"{d:%Y-%m-%d}", "zero": bool(zero), **figures, "abnormal": abnormal,
        "at": when.strftime("%Y-%m-%dT%H:%M:%S"), "late": bool(when > deadline),
    }


REPORT_COLUMNS = ("neighbourhood_id", "day", "version", "zero", *FIGURES, "abnormal", "at", "late", "saved_by")


def reports_frame(records: Iterable[Any]) -> pd.DataFrame:
    """Saved reports (``layers.store.records.Record`` of kind :data:`KIND`) as a frame (:data:`REPORT_COLUMNS`)."""
    rows = []
    for r in records:
        d = dict(r.data)
        nb, _, day = str(r.key).partition("|")
        rows.append({"neighbourhood_id": nb, "day": day, "version": int(r.version), "saved_by": r.saved_by,
                     **{c: d.get(c) for c in REPORT_COLUMNS if c not in ("neighbourhood_id", "day", "version", "saved_by")}})
    out = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    out["day"] = pd.to_datetime(out["day"], errors="coerce")
    out["at"] = pd.to_datetime(out["at"], errors="coerce")
    for f in FIGURES:
        out[f] = pd.to_numeric(out[f], errors="coerce").fillna(0).astype("int64")
    for c in ("zero", "late"):
        out[c] = out[c].fillna(False).astype(bool)
    out["abnormal"] = out["abnormal"].fillna("").astype(str)
    out["version"] = out["version"].astype("int64")
    return out


def report_status(
    neighbourhoods: pd.DataFrame, reports: pd.DataFrame, *, day: object, now: object, cutoff: dt.time
) -> pd.DataFrame:
    """Every neighbourhood's report for ``day`` as known at ``now``: the neighbourhood's ``id``,
    ``name``, ``street``, ``district``, ``status`` (:data:`STATUSES`), the report's figures,
    ``abnormal``, ``at``, ``version`` (0: none). A report saved after ``now`` does not count."""
    d = pd.Timestamp(day).normalize()
    now = pd.Timestamp(now)
    deadline = d + pd.Timedelta(hours=cutoff.hour, minutes=cutoff.minute)
    nb = pd.DataFrame(neighbourhoods.drop(columns="geometry", errors="ignore"))
    nb = nb[[c for c in ("id", "name", "street", "district", "district_adcode") if c in nb.columns]].copy()
    nb["id"] = nb["id"].astype(str)
    rep = reports[(reports["day"] == d) & (reports["at"].isna() | (reports["at"] <= now))] if len(reports) else reports
    rep = rep.drop(columns=["day"]).rename(columns={"neighbourhood_id": "id"})
    out = nb.merge(rep.assign(id=rep["id"].astype(str)), on="id", how="left")
    got = out["version"].notna()
    out["version"] = out["version"].fillna(0).astype("int64")
    for f in FIGURES:
        out[f] = out[f].fillna(0).astype("int64")
    out["abnormal"] = out["abnormal"].fillna("")
    zero = out["zero"].fillna(False).astype(bool)
    late = out["late"].fillna(False).astype(bool)
    out["zero"], out["late"] = zero, late
    out["status"] = np.select(
        [got & late, got & zero, got, now > deadline], ["late", "zero", "reported", "missing"], default="not_yet"
    )
    return out


LEVELS = ("street", "district")


def rollup(status: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """:func:`report_status` rolled up ``by`` street or district (``None``: the city, one row):
    ``neighbourhoods``, one count per status, ``reported_pct`` (reports received, of all), the
    figures summed over the reports received, and ``abnormal`` (the neighbourhoods' own words,
    "name：text", one per line)."""
    s = status.copy()
    keys = ["district", "street"] if by == "street" else (["district"] if by == "district" else [])
    s["_all"] = "city"
    group = keys or ["_all"]
    counts = pd.crosstab([s[k] for k in group], s["status"]).reindex(columns=list(STATUSES), fill_value=0)
    sums = s.groupby(group)[list(FIGURES)].sum()
    words = s[s["abnormal"] != ""].assign(_w=lambda x: x["name"].astype(str) + "：" + x["abnormal"])
    text = words.groupby(group)["_w"].agg("\n".join) if len(words) else pd.Series(dtype=object)
    out = pd.concat([s.groupby(group).size().rename("neighbourhoods"), counts, sums], axis=1)
    out["abnormal"] = text.reindex(out.index).fillna("") if len(text) else ""
    received = out[["reported", "zero", "late"]].sum(axis=1)
    out["reported_pct"] = 100.0 * received / out["neighbourhoods"].where(out["neighbourhoods"] > 0, 1)
    out = out.reset_index()
    return out.drop(columns=["_all"], errors="ignore")


def city_report_figures(status: pd.DataFrame) -> dict[str, int]:
    """The city daily report's figures (layers/daily_reports.py) the communities' reports give:
    ``returnees_key_regions`` (new arrivals from key regions) and ``tests`` (samples taken),
    summed over the reports received. The other figures (cases) are not the communities' to report."""
    got = status[status["version"] > 0]
    return {"returnees_key_regions": int(got["new_arrivals_key"].sum()), "tests": int(got["tests"].sum())}
