"""日报告/零报告 section of the command page: enter, check and save a day's report, see recent
reports, a chart, the bulletin wording and the revision history, and download them all.

Logic lives in :mod:`layers.daily_report`; this module only lays out widgets. Daily reports hold
no personal data, so they are read through the shared public cache.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.ui import PageContext, daily_reports, read_public_layer, records_of, upload_import
from geo.errors import StaleWrite
from layers.daily_report import (
    CUMULATIVE_NAMES,
    FIGURE_NAMES,
    IDENTITIES,
    ReportChanged,
    ReportRejected,
    SaveResult,
    bulletin_text,
    current_revision,
    fill_cumulative,
    load_reports,
    previous_report,
    reports_csv_bytes,
    reports_xlsx_bytes,
    revisions_for,
    save_report,
    validate_report,
    zero_report,
)
from layers.daily_reports import REVISIONS_SPEC, SPEC
from layers.store import Store, open_store

__all__ = ["render_daily_report"]

RECENT_DAYS = 30
CASE_SERIES = (
    "new_local_confirmed",
    "new_local_asymptomatic",
    "new_imported_confirmed",
    "new_imported_asymptomatic",
    "new_suspected",
)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_OUTCOME = "dr_outcome"


def _key(name: str, day: pd.Timestamp) -> str:
    return f"dr_{name}_{day:%Y%m%d}"


def _label(name: str, lang: str) -> str:
    return SPEC.column(name).label(lang)


def _other(name: str, lang: str) -> str:
    return SPEC.column(name).label("en" if lang == "zh" else "zh")


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d}"


def _whole_numbers(figures: dict[str, Any]) -> dict[str, int]:
    """The figures that are whole numbers (the others are left for validation to name)."""
    out = {}
    for name, v in figures.items():
        if isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer():
            out[name] = int(v)
    return out


def _user() -> str:
    return str(st.session_state.get("user", "command"))


# ----------------------------------------------------------------------------------------------
# Saving (button callbacks: they run before the rerun, so the page shows the new store)


def _save(store: Store, day: pd.Timestamp, zero: bool) -> None:
    figures = {name: st.session_state.get(_key(name, day)) for name in FIGURE_NAMES}
    note = str(st.session_state.get(_key("note", day)) or "")
    history = load_reports(store)
    if zero:
        report = zero_report(day, history, tests=figures["tests"] if figures["tests"] is not None else 0)
    else:
        # the totals shown for confirmation, computed again from the store as it is now
        base = fill_cumulative(day, _whole_numbers(figures), history)
        report = figures | {"date": day} | {c: base[c] for c in CUMULATIVE_NAMES}
    base = _key("base", day)
    try:
        result = save_report(store, report, user=_user(), note=note, expect_revision=st.session_state.get(base))
    except ReportRejected as exc:
        st.session_state[_OUTCOME] = ("rejected", day, exc.errors)
        return
    except ReportChanged as exc:
        # keep what this user entered; the next submit knowingly replaces the newer revision
        st.session_state[base] = exc.revision
        st.session_state[_OUTCOME] = ("changed", day, (exc, report))
        return
    except StaleWrite:
        st.session_state[_OUTCOME] = ("stale", day, None)
        return
    st.session_state[base] = result.revision
    if zero:
        for name in FIGURE_NAMES:
            st.session_state[_key(name, day)] = int(report[name])
    st.session_state[_OUTCOME] = ("saved", day, result)


def _show_outcome(lang: str) -> None:
    outcome = st.session_state.pop(_OUTCOME, None)
    if outcome is None:
        return
    kind, day, payload = outcome
    if kind == "rejected":
        lines = "\n".join(f"- {e.message(lang)}" for e in payload)
        st.error(f"{t('dr_rejected', lang)}\n\n{lines}")
    elif kind == "changed":
        exc, mine = payload
        by = exc.saved_by or t("dr_changed_someone", lang)
        at = pd.Timestamp(exc.saved_at).strftime("%Y-%m-%d %H:%M") if exc.saved_at else "—"  # Beijing time as saved
        head = t("dr_changed", lang).format(by=by, at=at, date=_day(day), revision=exc.revision)
        rows = [
            t("dr_changed_row", lang).format(
                label=_label(n, lang), theirs="—" if exc.current.get(n) is None else exc.current[n], yours=mine.get(n)
            )
            for n in FIGURE_NAMES
            if exc.current.get(n) != mine.get(n)
        ]
        body = "\n".join(f"- {r}" for r in rows) if rows else t("dr_changed_same", lang)
        st.error(f"{head}\n\n{body}")
    elif kind == "stale":
        st.error(t("dr_stale", lang))
    else:
        result: SaveResult = payload
        # warnings (a gap, a later report to revise) are shown with the totals, on every run
        if result.changed:
            st.success(t("dr_saved", lang).format(date=_day(day), revision=result.revision))
        else:
            st.info(t("dr_unchanged", lang).format(date=_day(day)))


# ----------------------------------------------------------------------------------------------
# Pieces of the section


def _fill(day: pd.Timestamp, figures: dict[str, int]) -> None:
    for name, v in figures.items():
        st.session_state[_key(name, day)] = int(v)


def _from_communities(ctx: PageContext, day: pd.Timestamp) -> None:
    """The communities' reports of the day (日报告/零报告 roll-up): how many are in, and a button
    that starts the city's figures from their sums instead of retyping them."""
    from dashboard.community_ui import community_status
    from geo.community import city_report_figures, rollup

    lang = ctx.lang
    status = community_status(ctx, read_public_layer(ctx, "neighbourhoods"), day=day, now=ctx.now_on(day))
    if status.empty:
        return
    city = rollup(status, None).iloc[0]
    received = int(city["reported"] + city["zero"] + city["late"])
    total = int(city["neighbourhoods"])
    c1, c2 = st.columns([3, 1])
    if received < total:
        c1.caption(t("dr_communities_status", lang).format(received=received, total=total, missing=total - received))
    else:
        c1.caption(t("dr_communities_complete", lang).format(total=total))
    c2.button(t("dr_from_communities", lang), key=_key("from_communities", day), help=t("dr_from_communities_help", lang),
              on_click=_fill, args=(day, city_report_figures(status)), disabled=received == 0, icon=":material/input:")


def _figure_inputs(lang: str, day: pd.Timestamp, current: pd.DataFrame) -> dict[str, Any]:
    st.markdown(f"**{t('dr_figures', lang)}**")
    cols = st.columns(4)
    figures: dict[str, Any] = {}
    for i, name in enumerate(FIGURE_NAMES):
        key = _key(name, day)
        if key not in st.session_state:
            v = current.iloc[0][name] if not current.empty else 0
            st.session_state[key] = 0 if pd.isna(v) else int(v)
        figures[name] = cols[i % 4].number_input(
            _label(name, lang), step=1, format="%d", key=key, help=_other(name, lang)
        )
    return figures


def _cumulative_preview(lang: str, day: pd.Timestamp, figures: dict[str, Any], reports: pd.DataFrame) -> None:
    prev = previous_report(day, reports)
    usable = _whole_numbers(figures)
    report = fill_cumulative(day, usable, reports)
    st.markdown(f"**{t('dr_cumulative', lang)}**")
    if prev is None:
        st.caption(t("dr_no_previous", lang))
    prev_col = t("dr_col_previous", lang).format(
        date=_day(pd.Timestamp(prev["date"])) if prev is not None else "—"
    )
    rows = [
        {
            t("dr_col_item", lang): _label(cum, lang),
            prev_col: None if prev is None or pd.isna(prev[cum]) else int(prev[cum]),
            t("dr_col_day", lang): usable.get(fig, 0),
            t("dr_col_total", lang): report[cum],
        }
        for cum, fig in IDENTITIES
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for issue in validate_report(figures | report, reports):
        if not issue.is_error:
            st.warning(issue.message(lang))


def _labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    names = ["date", *FIGURE_NAMES, *CUMULATIVE_NAMES]
    return frame[names].rename(columns={n: _label(n, lang) for n in names})


def _recent_table(lang: str, reports: pd.DataFrame, as_of: pd.Timestamp) -> None:
    st.markdown(f"**{t('dr_recent', lang)}**")
    window = reports[(reports["date"] <= as_of) & (reports["date"] > as_of - pd.Timedelta(days=RECENT_DAYS))]
    recent = window.sort_values("date", ascending=False)
    date_label = _label("date", lang)
    st.dataframe(
        _labelled(recent, lang),
        hide_index=True,
        width="stretch",
        column_config={date_label: st.column_config.DateColumn(format="YYYY-MM-DD")},
    )


#: d3's time-format locale for Chinese (Vega-Lite's charts write dates in English otherwise).
ZH_TIME_LOCALE = {
    "dateTime": "%x %A %X", "date": "%Y/%-m/%-d", "time": "%H:%M:%S", "periods": ["上午", "下午"],
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
    "shortMonths": [f"{m}月" for m in range(1, 13)],
}


def chart(frame: pd.DataFrame, lang: str, *, kind: str, y_title: str):
    """A daily chart (``frame``: a date index, one column per series) with its axes, legend and
    dates in the page's language (Chinese: 3月28日; English: Mar 28)."""
    import altair as alt

    long = frame.rename_axis("date").reset_index().melt("date", var_name="series", value_name="value")
    x = alt.X("date:T", title=_label("date", lang), axis=alt.Axis(format="%-m月%-d日" if lang == "zh" else "%b %d"))
    y = alt.Y("value:Q", title=y_title, stack=kind == "bar")
    colour = alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom"))
    tip = [alt.Tooltip("date:T", title=_label("date", lang), format="%Y-%m-%d"), alt.Tooltip("series:N", title=""),
           alt.Tooltip("value:Q", title=y_title, format=",")]
    mark = alt.Chart(long).mark_bar() if kind == "bar" else alt.Chart(long).mark_line(point=True)
    out = mark.encode(x=x, y=y, color=colour, tooltip=tip).properties(height=260)
    if lang == "zh":
        out = out.configure(locale={"time": ZH_TIME_LOCALE})
    return out


def _charts(lang: str, reports: pd.DataFrame, as_of: pd.Timestamp) -> None:
    upto = reports[reports["date"] <= as_of].set_index("date").sort_index()
    cases_tab, tests_tab = st.tabs([t("dr_chart_cases", lang), t("dr_chart_tests", lang)])
    with cases_tab:
        cases = upto[list(CASE_SERIES)].astype("int64").rename(columns={n: _label(n, lang) for n in CASE_SERIES})
        st.altair_chart(chart(cases, lang, kind="bar", y_title=t("dr_chart_cases", lang)), use_container_width=True)
    with tests_tab:
        tests = upto[["tests"]].astype("int64").rename(columns={"tests": _label("tests", lang)})
        st.altair_chart(chart(tests, lang, kind="line", y_title=_label("tests", lang)), use_container_width=True)


def _revision_history(lang: str, revs: pd.DataFrame) -> None:
    with st.expander(f"{t('dr_revisions', lang)} ({len(revs)})"):
        if revs.empty:
            st.caption(t("dr_no_revisions", lang))
            return
        shown = revs.copy()
        shown["revision"] = [
            f"0 · {t('dr_original', lang)}" if r == 0 else str(int(r)) for r in shown["revision"]
        ]
        names = ["revision", "saved_at", "saved_by", "note", *FIGURE_NAMES, *CUMULATIVE_NAMES]
        labels = {n: REVISIONS_SPEC.column(n).label(lang) for n in names}
        st.dataframe(shown[names].rename(columns=labels), hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=16)
def _export_bytes(location: str, version: float, as_of: str, fmt: str) -> bytes:
    # Shared across users: daily reports hold no personal data.
    frame = load_reports(open_store(location))
    frame = frame[frame["date"] <= pd.Timestamp(as_of)]
    return reports_xlsx_bytes(frame) if fmt == "xlsx" else reports_csv_bytes(frame)


def _downloads(ctx: PageContext, as_of: pd.Timestamp) -> None:
    lang = ctx.lang
    location, version = ctx.store.location, records_of(ctx).version()  # the reports are records
    stem = f"daily_reports_{as_of:%Y%m%d}"
    c1, c2 = st.columns(2)
    c1.download_button(
        t("dr_download_xlsx", lang),
        data=lambda: _export_bytes(location, version, _day(as_of), "xlsx"),  # built on click, not on every load
        file_name=f"{stem}.xlsx",
        mime=XLSX_MIME,
        help=t("dr_download_help", lang),
        on_click="ignore",
        icon=":material/download:",
        key="dr_download_xlsx",
    )
    c2.download_button(
        t("dr_download_csv", lang),
        data=lambda: _export_bytes(location, version, _day(as_of), "csv"),
        file_name=f"{stem}.csv",
        mime="text/csv",
        help=t("dr_download_help", lang),
        on_click="ignore",
        icon=":material/download:",
        key="dr_download_csv",
    )


# ----------------------------------------------------------------------------------------------
# The section


def render_daily_report(ctx: PageContext, as_of: pd.Timestamp, *, heading: bool = True) -> None:
    """Render the daily-report section for the day ``as_of`` (the page's as-of date).

    The form edits the report of the chosen date (default ``as_of``): each daily figure, the
    cumulative totals computed from the previous report for confirmation, a note, and two
    buttons: submit, and 一键零报告 (every case figure 0, tests as entered). Below: the last
    30 days' reports, charts, the bulletin wording and revision history of the chosen day, and
    XLSX / CSV downloads of every report up to ``as_of``. The saving user is
    ``st.session_state["user"]`` (default ``"command"``). ``heading``: a section heading (not
    needed on the daily-report page, whose title says it).
    """
    lang = ctx.lang
    as_of = pd.Timestamp(as_of).normalize()
    if heading:
        st.subheader(t("dr_section", lang))

    picked = st.date_input(
        t("dr_date", lang), value=as_of.date(), key=f"dr_date_{as_of:%Y%m%d}", format="YYYY-MM-DD"
    )
    day = pd.Timestamp(picked).normalize()
    reports, all_revisions = daily_reports(ctx)
    revs = revisions_for(day, all_revisions)
    current = reports[reports["date"] == day]
    revision = current_revision(day, reports, revs)
    if current.empty:
        st.caption(t("dr_new", lang).format(date=_day(day)))
    else:
        st.caption(t("dr_existing", lang).format(date=_day(day), revision=revision))
    # the revision this form was filled from: saving checks that nobody saved the day since
    st.session_state.setdefault(_key("base", day), revision)

    _from_communities(ctx, day)
    figures = _figure_inputs(lang, day, current)
    _cumulative_preview(lang, day, figures, reports)
    st.text_input(t("dr_note", lang), key=_key("note", day))
    c1, c2 = st.columns(2)
    c1.button(
        t("dr_submit", lang),
        type="primary",
        key=_key("submit", day),
        on_click=_save,
        args=(ctx.store, day, False),
        icon=":material/send:",
    )
    c2.button(
        t("dr_zero", lang),
        help=t("dr_zero_help", lang),
        key=_key("zero", day),
        on_click=_save,
        args=(ctx.store, day, True),
        icon=":material/exposure_zero:",
    )
    _show_outcome(lang)

    if not current.empty:
        st.markdown(f"**{t('dr_bulletin', lang)}**")
        st.code(bulletin_text(current.iloc[0], lang), language=None, wrap_lines=True)
    else:
        st.caption(t("dr_no_report", lang))
    _revision_history(lang, revs)

    _recent_table(lang, reports, as_of)
    _charts(lang, reports, as_of)
    _downloads(ctx, as_of)
    _import(ctx)


def _import(ctx: PageContext) -> None:
    """Reports from a file (CSV/XLSX), through the form's validation and revisions: the same
    function as ``riskmap import daily_reports``."""
    from layers.daily_report import import_reports

    lang = ctx.lang
    with st.expander(t("dr_import", lang)):
        st.caption(t("dr_import_help", lang))
        results = upload_import(
            ctx, form_key="dr_import_form", action="daily_report", target="daily_reports", detail="validated; revisions",
            run=lambda path, user: import_reports(path, ctx.store, user=user, limits=ctx.settings.import_limits),
            stale=t("dr_stale", lang),
        )
        if results is not None:
            changed = sum(r.changed for r in results)
            st.success(t("dr_imported", lang).format(n=changed, same=len(results) - changed))
