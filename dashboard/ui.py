"""The frame every page shares: settings, language switch, store, demo banner. One place, not copied per page."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from dashboard import auth
from dashboard.i18n import LANGUAGES, t
from dashboard.safe_text import in_lang, md_text
from dashboard.settings import Settings, load_settings
from geo.errors import SettingsError
from layers.store import Store, open_store

T = TypeVar("T")

__all__ = ["PageContext", "page_frame", "current_language", "settings", "read_public_layer"]


@st.cache_resource
def settings() -> Settings:
    """Settings are read once per server process; a bad setting stops every page with its message."""
    return load_settings()


def current_language() -> str:
    """The UI language: the ``lang`` query parameter, else the session's choice, else the default."""
    qp = st.query_params.get("lang")
    if qp in LANGUAGES:
        st.session_state["lang"] = qp
    if "lang" not in st.session_state:
        try:
            st.session_state["lang"] = settings().language
        except SettingsError:
            st.session_state["lang"] = "zh"
    return st.session_state["lang"]


@dataclass(frozen=True)
class PageContext:
    settings: Settings
    lang: str
    store: Store
    meta: dict[str, str]
    user: str | None = None  # the signed-in account name; None on public pages
    role: str = "public"  # public, grid, planner, command or admin (see dashboard/auth.py)

    @property
    def is_demo(self) -> bool:
        return self.meta.get("demo") == "true"

    def clock(self, day: pd.Timestamp, *, minutes: int = 5) -> datetime:
        """Now in Asia/Shanghai (naive local time) moved onto ``day`` — the moment "open now" is
        judged for a page showing ``day`` — rounded down to ``minutes`` so caches stay warm."""
        now = pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None)
        t = now.floor(f"{minutes}min").time()
        return datetime.combine(day.date(), t)

    def now_on(self, day: pd.Timestamp) -> datetime:
        """The moment lists are judged at for ``day`` (overdue, time left) and outcomes are stamped
        with: now, to the minute, moved onto ``day`` (the demo's scenario day). One moment for
        every page, so a figure on one is the figure on another."""
        return self.clock(day, minutes=1)

    @property
    def scenario_today(self) -> pd.Timestamp:
        """The date pages default to: the demo scenario's "today", else the real today (Asia/Shanghai)."""
        if "scenario_today" in self.meta:
            return pd.Timestamp(self.meta["scenario_today"])
        return pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None).normalize()


def _switch_language() -> None:
    choice = st.session_state["_lang_choice"]
    st.session_state["lang"] = choice
    st.query_params["lang"] = choice


def page_frame(page_key: str, *, roles: tuple[str, ...] | None = None, compact_banner: bool = False) -> PageContext:
    """Render the shared sidebar and header for a page and return what the page needs.

    Stops the page (with a clear message) when settings are bad or the store is missing, and —
    before anything is read from the store — when nobody is signed in (sign-in form) or the
    signed-in role may not open the page (``roles``, default ``dashboard.roles.PAGE_ROLES``).
    """
    lang = current_language()
    try:
        s = settings()
    except SettingsError as exc:
        st.error(f"配置错误 / Settings error: {exc}")
        st.stop()
    with st.sidebar:
        st.radio(
            t("language", lang),
            options=list(LANGUAGES),
            format_func=LANGUAGES.get,
            index=list(LANGUAGES).index(lang),
            key="_lang_choice",
            horizontal=True,
            on_change=_switch_language,
        )
    account = auth.current_account(s)  # checked against the accounts database on every run
    auth.sidebar(account, s, lang)
    st.title(t(page_key, lang))
    auth.gate(page_key, account, s, lang, roles)  # sign-in form or refusal, then st.stop()
    store = open_store(s.store_location, city_adcode=s.city_adcode)
    try:
        if not store.exists():
            st.error(t("store_missing", lang))
            st.stop()
        meta = _store_meta(store.location, store.version())
    except ConnectionError as exc:  # a damaged GeoPackage, an unreachable PostGIS: say which and what to do
        st.error(md_text(in_lang(exc, lang)))
        st.stop()
    ctx = PageContext(
        settings=s, lang=lang, store=store, meta=meta,
        user=account.name if account else None, role=account.role if account else "public",
    )
    if ctx.is_demo:
        if compact_banner:  # a phone-first page: one line, the answer comes first
            st.caption(f":material/science: **{t('demo_banner_short', lang)}**", help=t("demo_banner", lang))
        else:
            st.warning(t("demo_banner", lang), icon=":material/science:")
    return ctx


@st.cache_data(show_spinner=False)
def _store_meta(location: str, version: float) -> dict[str, str]:
    # keyed on the store's location (a path or a URL: hashed, never shown) and version
    return open_store(location).meta()


@st.cache_data(show_spinner=False, max_entries=64)
def _read_public(location: str, version: float, key: str) -> pd.DataFrame:
    # Shared across users: public layers only (store.read(public=True) refuses personal layers
    # and strips personal columns).
    return open_store(location).read(key, public=True)


def read_public_layer(ctx: PageContext, key: str, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """A public layer, cached per store version, filtered to ``as_of`` when the layer is temporal."""
    from layers import get_spec

    frame = _read_public(ctx.store.location, ctx.store.version(), key)
    return get_spec(key).as_of(frame, as_of).reset_index(drop=True)


#: The key of the pseudonyms in the shared screening cache: made at start, kept in memory only.
_PSEUDONYM_KEY = secrets.token_bytes(32)


@st.cache_data(show_spinner=False, max_entries=8)
def _verified_digest(location: str, records_version: int) -> str:
    # which stays verified pushes found (a digest only): the screening by the rules depends on them
    import hashlib

    from geo.followup import KIND, verified_visits
    from layers.store.records import records_for

    stays = verified_visits(records_for(location).current(KIND))
    return hashlib.sha256(stays.astype(str).to_csv(index=False).encode()).hexdigest()


@st.cache_data(show_spinner=False, max_entries=4)
def _anonymous_base(location: str, version: float, as_of: str, verified: str):
    # The screening by the rules without persons (geo.followup.anonymous_screening): cached across
    # users per store version, day and verified stays — not per minute or per outcome recorded.
    from geo.followup import anonymous_screening
    from layers.screening_io import screen_store

    return anonymous_screening(screen_store(location, as_of, followup=False), _PSEUDONYM_KEY)


@st.cache_data(show_spinner=False, max_entries=8)
def _arrival_grid(location: str, version: float, as_of: str) -> pd.DataFrame:
    # arrivals per 500 m cell, cells under 3 people dropped
    from geo.density import grid_counts

    trav = open_store(location).read("travellers")
    trav = trav[trav["arrival_date"].isna() | (trav["arrival_date"] <= pd.Timestamp(as_of))]
    grid = grid_counts(trav.geometry, cell_m=500, min_count=3)
    return pd.DataFrame({"lon": grid.geometry.x, "lat": grid.geometry.y, "count": grid["count"]})


@st.cache_data(show_spinner=False, max_entries=8)
def _traveller_aggregates(
    location: str, version: float, records_version: int, as_of: str, now: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    # Only aggregates, shared across users: screening per neighbourhood with the outcomes recorded
    # up to ``now`` applied, arrivals per grid cell and city-wide counts. The screening by the
    # rules comes from the anonymous cache above; applying the outcomes is the cheap part, so a
    # new minute or a new outcome costs that, not a screening.
    from geo.followup import apply_followup, neighbourhood_followup_states, pseudonymise_states
    from layers.followup import load_states
    from layers.store.records import records_for

    base = _anonymous_base(location, version, as_of, _verified_digest(location, records_version))
    states = pseudonymise_states(load_states(records_for(location)), _PSEUDONYM_KEY)
    result = apply_followup(base, states, now=pd.Timestamp(now))
    per_nbh = pd.DataFrame(result.neighbourhoods.drop(columns="geometry"))
    per_nbh = per_nbh[["id", "travellers", "red", "yellow", "green", "pending", "overdue", "screening"]]
    per_nbh["followup_state"] = per_nbh["id"].astype(str).map(neighbourhood_followup_states(result)).fillna("none").to_numpy()
    t = result.travellers
    counts = {c: int(v) for c, v in result.code_counts().items()}
    counts["overdue"] = result.overdue_count()
    counts["to_verify"] = int(t["needs_verification"].sum())
    return per_nbh, _arrival_grid(location, version, as_of), counts


@st.cache_data(show_spinner=False, max_entries=8)
def _moved_in(location: str, records_version: int) -> dict[str, int]:
    # an aggregate (people per hotel), so shared across users is safe
    from geo.followup import moved_in_per_hotel
    from layers.followup import load_states
    from layers.store.records import records_for

    return {str(k): int(v) for k, v in moved_in_per_hotel(load_states(records_for(location))).items()}


@st.cache_data(show_spinner=False, max_entries=16)
def _public_queue(location: str, records_version: int, now: str, stale_minutes: int) -> dict[str, tuple[str, str]]:
    # the level and the time of each fresh report only (geo.queue.public_queue): safe to share
    from geo.queue import public_queue
    from layers.queue import load_queue
    from layers.store.records import records_for

    return public_queue(load_queue(records_for(location), now=now, stale_minutes=stale_minutes))


def public_queue_of(ctx: PageContext, day: pd.Timestamp) -> dict[str, tuple[str, str]]:
    """Testing-site queue levels in force at :meth:`PageContext.now_on` ``day``: site id → (level,
    report time) — what the resident page and the command map show (nothing else of a report)."""
    return _public_queue(ctx.store.location, records_of(ctx).version(), ctx.now_on(day).isoformat(),
                         ctx.settings.queue_stale_minutes)


def hotel_moved_in(ctx: PageContext) -> dict[str, int]:
    """People recorded as transferred to each hotel and not yet in its occupied count."""
    return _moved_in(ctx.store.location, records_of(ctx).version())


def saved_record(write: Callable[[], T], lang: str, *, refused_by: tuple[type[Exception], ...],
                 on_stale: Callable[[], object] | None = None) -> T | None:
    """``write()`` (a versioned record's save) and its result, or None with the reason shown in
    the page's language: a save someone made meanwhile ("recorded by X at T — reload"; then
    ``on_stale()``), a rule of ``refused_by``, or a failed write (what was typed stays)."""
    from geo.errors import StaleWrite

    try:
        return write()
    except StaleWrite as exc:
        st.error(md_text(in_lang(exc, lang)))
        if on_stale is not None:
            on_stale()
    except refused_by as exc:
        st.error(md_text(in_lang(exc, lang)))
    except (OSError, ConnectionError) as exc:
        st.error(t("fu_save_failed", lang).format(error=md_text(str(exc))))
    return None


def upload_import(ctx: PageContext, *, form_key: str, action: str, target: str, detail: str,
                  run: Callable[[Path, str], T], stale: str | None = None) -> T | None:
    """A CSV/XLSX upload form whose file is imported by ``run(path, user)`` (the same function as
    the command line's): the role checked again (``action``), the import audited before it runs
    (``target``, ``detail``), the file kept in a private temporary folder for the run only. A
    refused file is shown in the page's language with each rejected row; a save made meanwhile
    with ``stale`` (default: its own message). Returns the result, or None."""
    import tempfile

    from dashboard.audit import record
    from geo.errors import ImportRejected, StaleWrite
    from layers.io import format_issue

    lang = ctx.lang
    with st.form(form_key):
        upload = st.file_uploader(t("import_file", lang), type=["csv", "xlsx"])
        go = st.form_submit_button(t("import_submit", lang))
    if not go or upload is None:
        return None
    acc = auth.require_role(ctx, action=action)
    record(acc.name, "import", target, f"{Path(upload.name).suffix.lower()}; {detail}", role=acc.role)
    with tempfile.TemporaryDirectory(prefix="riskmap-upload-") as tmp, st.spinner(t("fu_importing", lang)):
        src = Path(tmp) / Path(upload.name).name
        src.write_bytes(upload.getvalue())
        try:
            return run(src, acc.name)
        except ImportRejected as exc:
            st.error(md_text(in_lang(exc, lang)))
            st.markdown("\n".join(f"- {md_text(format_issue(i))}" for i in exc.rows[:200]))
        except StaleWrite as exc:
            st.error(stale or md_text(in_lang(exc, lang)))
    return None


def records_of(ctx: PageContext):
    """The versioned records (follow-up outcomes) of the page's store."""
    from layers.store.records import records_for

    return records_for(ctx.store.location)


@st.cache_data(show_spinner=False, max_entries=8)
def _daily_reports(location: str, records_version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Shared across users: the city's daily reports hold no personal data.
    from layers.daily_report import load_reports, load_revisions

    store = open_store(location)
    return load_reports(store), load_revisions(store)


def daily_reports(ctx: PageContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The city's daily reports in force and every revision (:mod:`layers.daily_report`),
    cached per records version (copies)."""
    from layers.daily_report import report_records

    reports, revisions = _daily_reports(ctx.store.location, report_records(ctx.store).version())
    return reports.copy(), revisions.copy()


def traveller_aggregates(ctx: PageContext, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Screening per neighbourhood, arrivals per grid cell and city-wide counts on ``as_of``, with
    the outcomes recorded up to :meth:`PageContext.now_on` applied: aggregates only, cached across users."""
    return _traveller_aggregates(
        ctx.store.location, ctx.store.version(), records_of(ctx).version(), as_of.strftime("%Y-%m-%d"),
        ctx.now_on(as_of).isoformat(),
    )


def session_screening(ctx: PageContext, as_of: pd.Timestamp):
    """The full screening (personal data) with every recorded outcome applied at
    :meth:`PageContext.now_on` — for this session only, never a shared cache. The screening by
    the rules is kept per store version and day; the outcomes are applied again when they change."""
    from geo.followup import KIND, apply_followup, states_frame, verified_visits
    from layers.screening_io import screen_store

    records = records_of(ctx)
    rkey = (ctx.store.location, records.version())
    rec = st.session_state.get("_followup_records")
    if rec is None or rec[0] != rkey:  # read once per change of the records
        current = records.current(KIND)
        stays = verified_visits(current)
        rec = (rkey, states_frame(current), stays, tuple(map(tuple, stays.astype(str).to_numpy())))
        st.session_state["_followup_records"] = rec
    # the screening by the rules: again only when the store, the day or a verified stay changes
    key = (ctx.store.location, ctx.store.version(), as_of.strftime("%Y-%m-%d"), rec[3])
    cached = st.session_state.get("_screening")
    if cached is None or cached[0] != key:
        cached = (key, screen_store(ctx.store.location, as_of, followup=False, verified=rec[2]))
        st.session_state["_screening"] = cached
    now = ctx.now_on(as_of)
    fkey = (key, rkey, now)
    applied = st.session_state.get("_screening_followup")
    if applied is None or applied[0] != fkey:
        applied = (fkey, apply_followup(cached[1], rec[1], now=now))
        st.session_state["_screening_followup"] = applied
    return applied[1]
