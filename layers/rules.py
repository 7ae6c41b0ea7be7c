"""Policy rule sets by effective date: read and validate ``data/rules/*.toml``.

One TOML file per rule set, named after its ``effective_from`` date (``2022-03-28.toml``). The
file holds the rules as data — what each rule matches, the code, the measure and its phases,
the first action and tests with their deadlines — and the Chinese source text each comes from
(``quote``, verbatim from the seed named by ``source``/``source_file``). The engine
(:mod:`geo.screening`) knows only the kinds of match; see ``data/rules/2022-03-28.toml`` for
a commented example of every key.

A bad file fails with :class:`RuleFileError` naming the file and the key, e.g.
``2022-03-28.toml: rules[2].code: 'purple' is not one of red, yellow``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geo.screening import (
    ANCHORS,
    HEALTH_CODE_COLOURS,
    MATCHES,
    PHASE_PLACES,
    RULE_LEVELS,
    Notice,
    Phase,
    Rule,
    RuleSet,
    Step,
    rule_set_in_force,
)

__all__ = ["RULES_DIR", "RuleFileError", "load_rule_set", "load_rule_sets", "rule_set_for"]

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "rules"

_TOP = {
    "effective_from", "name_zh", "name_en", "source", "source_file", "quote", "home_province_adcode",
    "history_days", "landing_test", "pending", "rules", "notices", "municipality_unit", "whole_county_entry",
    "effective_until", "municipality_quote", "whole_county_quote",
}
_NOTICE = {"place", "adcode", "since", "quote", "source"}
_STEP = {"zh", "en", "hours", "anchor", "count", "quote", "source"}
_PHASE = {"days", "zh", "en", "at"}
_RULE = {
    "id", "priority", "match", "code", "label_zh", "label_en", "measure_zh", "measure_en", "first_action", "quote",
    "source", "levels", "min_entry_days", "max_entry_days", "phases", "auto_lift", "provisional", "tests",
    "landing_test", "code_note", "colours", "until_verified",
}
_RULE_CODES = ("red", "yellow")


class RuleFileError(ValueError):
    """A rule file is missing, unreadable or invalid; the message names the file and the key."""


class _Reader:
    """Typed access to one TOML table with the file and key path in every error."""

    def __init__(self, file: str, where: str, table: Any, allowed: set[str]):
        self.file, self.where = file, where
        if not isinstance(table, dict):
            self.fail("", f"must be a table, got {type(table).__name__}")
        self.t: dict[str, Any] = table
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def key(self, k: str) -> str:
        return f"{self.where}.{k}" if self.where and k else (self.where or k)

    def fail(self, k: str, what: str) -> None:
        msg = f"{self.file}: {self.key(k)}: {what}"
        raise RuleFileError(msg)

    def get(self, k: str, kind: type | tuple[type, ...], *, required: bool = True, default: Any = None) -> Any:
        if k not in self.t:
            if required:
                self.fail(k, "missing")
            return default
        v = self.t[k]
        if isinstance(v, bool) and kind is int:
            self.fail(k, f"must be an integer, got {v!r}")
        if not isinstance(v, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(x.__name__ for x in kind)
            self.fail(k, f"must be {names}, got {v!r}")
        return v

    def text(self, k: str, *, required: bool = True) -> str:
        v = self.get(k, str, required=required, default="")
        if required and not v.strip():
            self.fail(k, "must not be empty")
        return v

    def quotes(self, k: str = "quote", *, required: bool = False) -> tuple[str, ...]:
        v = self.get(k, (str, list), required=required, default=())
        items = [v] if isinstance(v, str) else list(v)
        for i, q in enumerate(items):
            if not isinstance(q, str) or not q.strip():
                self.fail(f"{k}[{i}]" if isinstance(v, list) else k, "must be non-empty text")
        return tuple(items)

    def int_(self, k: str, *, required: bool = True, minimum: int = 0, default: int | None = None) -> int | None:
        v = self.get(k, int, required=required, default=default)
        if v is not None and v < minimum:
            self.fail(k, f"must be ≥ {minimum}, got {v}")
        return v

    def choice(self, k: str, options: Sequence[str], *, required: bool = True, default: str | None = None) -> str:
        v = self.get(k, str, required=required, default=default)
        if v not in options:
            self.fail(k, f"{v!r} is not one of {', '.join(options)}")
        return v


def _step(file: str, where: str, table: Any, *, anchors: Sequence[str] = ANCHORS) -> Step:
    r = _Reader(file, where, table, _STEP)
    return Step(
        zh=r.text("zh"),
        en=r.text("en"),
        hours=r.int_("hours", required=False),
        anchor=r.choice("anchor", anchors, required=False, default="arrival"),
        count=r.int_("count", required=False, minimum=1, default=1) or 1,
        quote=r.quotes(),
        source=r.text("source", required=False),
    )


def _rule(file: str, i: int, table: Any) -> Rule:
    where = f"rules[{i}]"
    r = _Reader(file, where, table, _RULE)
    match = r.choice("match", MATCHES)
    person_flag = match in ("companion", "bigdata_push", "health_code")
    levels: tuple[str, ...] = ()
    if match in ("area", "county", "city"):
        raw = r.get("levels", list)
        if not raw:
            r.fail("levels", "must list at least one level")
        for j, lv in enumerate(raw):
            if lv not in RULE_LEVELS:
                r.fail(f"levels[{j}]", f"{lv!r} is not one of {', '.join(RULE_LEVELS)}")
        levels = tuple(raw)
    elif "levels" in r.t:
        r.fail("levels", f"only for match area, county or city (this rule matches {match!r})")
    if match != "inbound":
        for k in ("min_entry_days", "max_entry_days"):
            if k in r.t:
                r.fail(k, f"only for match 'inbound' (this rule matches {match!r})")
    lo = r.int_("min_entry_days", required=match == "inbound") if match == "inbound" else None
    hi = r.int_("max_entry_days", required=False) if match == "inbound" else None
    if lo is not None and hi is not None and hi < lo:
        r.fail("max_entry_days", f"{hi} is less than min_entry_days {lo}")
    phases_raw = r.get("phases", list, required=False, default=[])
    phases = []
    for j, p in enumerate(phases_raw):
        pr = _Reader(file, f"{where}.phases[{j}]", p, _PHASE)
        phases.append(Phase(days=pr.int_("days", minimum=1) or 1, zh=pr.text("zh"), en=pr.text("en"),
                            at=pr.choice("at", PHASE_PLACES) if "at" in p else ""))
    auto_lift = r.get("auto_lift", bool, required=False, default=False)
    if auto_lift and not phases:
        r.fail("auto_lift", "needs phases (a code can only lift when the measure has a length)")
    until_verified = r.get("until_verified", bool, required=False, default=False)
    if until_verified and auto_lift:
        r.fail("until_verified", "cannot go with auto_lift (it never lifts by itself)")
    colours: tuple[str, ...] = ()
    if match == "health_code":
        raw_c = r.get("colours", list)
        if not raw_c:
            r.fail("colours", "must list at least one colour")
        for j, c in enumerate(raw_c):
            if c not in HEALTH_CODE_COLOURS:
                r.fail(f"colours[{j}]", f"{c!r} is not one of {', '.join(HEALTH_CODE_COLOURS)}")
        colours = tuple(raw_c)
    elif "colours" in r.t:
        r.fail("colours", f"only for match 'health_code' (this rule matches {match!r})")
    anchors = ANCHORS if person_flag else ("arrival",)
    tests = tuple(
        _step(file, f"{where}.tests[{j}]", t, anchors=anchors)
        for j, t in enumerate(r.get("tests", list, required=False, default=[]))
    )
    return Rule(
        id=r.text("id"),
        priority=r.int_("priority") or 0,
        match=match,
        code=r.choice("code", _RULE_CODES),
        label_zh=r.text("label_zh"),
        label_en=r.text("label_en"),
        measure_zh=r.text("measure_zh"),
        measure_en=r.text("measure_en"),
        first_action=_step(file, f"{where}.first_action", r.get("first_action", dict), anchors=anchors),
        quote=r.quotes(required=True),
        source=r.text("source"),
        levels=levels,
        min_entry_days=lo,
        max_entry_days=hi,
        phases=tuple(phases),
        auto_lift=auto_lift,
        provisional=r.get("provisional", bool, required=False, default=False),
        tests=tests,
        landing_test=r.get("landing_test", bool, required=False, default=True),
        code_note=r.text("code_note", required=False),
        colours=colours,
        until_verified=until_verified,
    )


def _notice(file: str, i: int, table: Any, effective: dt.date) -> Notice:
    r = _Reader(file, f"notices[{i}]", table, _NOTICE)
    since = r.get("since", dt.date)
    if isinstance(since, dt.datetime):
        r.fail("since", f"must be a date without time, got {since!r}")
    if since > effective:
        r.fail("since", f"{since.isoformat()} is after the rule set starts ({effective.isoformat()})")
    place = r.text("place")
    adcode = r.text("adcode", required=False)
    from geo._gazetteer_match import OK, PlaceIndex
    from layers.boundaries import gazetteer

    idx = PlaceIndex.from_gazetteer(gazetteer())
    unit = idx.resolve_code(adcode) if adcode else None
    if adcode and unit is None:
        r.fail("adcode", f"{adcode!r} is not in the gazetteer")
    if unit is None:
        res = idx.resolve(place)
        unit = res.unit if res.status == OK and not res.rest else None
    if unit is None or unit.level == "province":
        r.fail("place", f"{place!r} does not resolve to one city or county in the gazetteer")
    return Notice(place=place, since=since.isoformat(), adcode=adcode, quote=r.quotes(required=True), source=r.text("source"))


def load_rule_set(path: Path | str) -> RuleSet:
    """Read and validate one rule file.

    Raises
    ------
    RuleFileError
        Unreadable TOML, a missing or unknown key, a wrong type or value; the message names the
        file and the key.
    """
    path = Path(path)
    file = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{file}: rule file not found ({path})"
        raise RuleFileError(msg) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{file}: not valid TOML: {exc}"
        raise RuleFileError(msg) from exc
    r = _Reader(file, "", data, _TOP)
    eff = r.get("effective_from", dt.date)
    if isinstance(eff, dt.datetime):
        r.fail("effective_from", f"must be a date without time, got {eff!r}")
    if path.suffix == ".toml" and path.stem != eff.isoformat():
        r.fail("effective_from", f"{eff.isoformat()} does not match the file name {file!r}")
    home = r.text("home_province_adcode")
    if not (len(home) == 6 and home.isdigit()):
        r.fail("home_province_adcode", f"must be a six-digit adcode, got {home!r}")
    history = r.int_("history_days", minimum=1) or 14
    rules_raw = r.get("rules", list)
    if not rules_raw:
        r.fail("rules", "must hold at least one [[rules]] table")
    rules = [_rule(file, i, t) for i, t in enumerate(rules_raw)]
    seen: dict[str, int] = {}
    prio: dict[int, str] = {}
    for i, rule in enumerate(rules):
        if rule.id in seen:
            r.fail(f"rules[{i}].id", f"{rule.id!r} repeats rules[{seen[rule.id]}].id")
        seen[rule.id] = i
        if rule.priority in prio:
            r.fail(f"rules[{i}].priority", f"{rule.priority} is also the priority of rule {prio[rule.priority]!r}")
        prio[rule.priority] = rule.id
        if rule.id in ("landing", "none", "pending", "lifted"):
            r.fail(f"rules[{i}].id", f"{rule.id!r} is reserved")
    if len(rules) > 62:
        r.fail("rules", "at most 62 rules")
    landing = _step(file, "landing_test", r.t["landing_test"], anchors=("arrival",)) if "landing_test" in r.t else None
    notices = tuple(_notice(file, i, t, eff) for i, t in enumerate(r.get("notices", list, required=False, default=[])))
    muni = r.choice("municipality_unit", ("district", "street"), required=False, default="district")
    if muni == "street":
        r.quotes("municipality_quote", required=True)
    whole = r.choice("whole_county_entry", ("county", "area"), required=False, default="county")
    if whole == "area":
        r.quotes("whole_county_quote", required=True)
    until = r.get("effective_until", dt.date, required=False, default=None)
    if until is not None and until < eff:
        r.fail("effective_until", f"{until.isoformat()} is before effective_from {eff.isoformat()}")
    pending = _step(file, "pending", r.get("pending", dict), anchors=("arrival",))
    return RuleSet(
        effective_from=pd.Timestamp(eff),
        name_zh=r.text("name_zh"),
        name_en=r.text("name_en"),
        source=r.text("source"),
        source_file=r.text("source_file"),
        quote=r.quotes(required=True),
        home_province_adcode=home,
        history_days=history,
        rules=tuple(sorted(rules, key=lambda x: x.priority)),
        pending=pending,
        landing_test=landing,
        file=file,
        notices=notices,
        municipality_unit=muni,
        whole_county_entry=whole,
        effective_until=pd.Timestamp(until) if until is not None else None,
    )


_CACHE: dict[tuple[str, tuple[tuple[str, int], ...]], tuple[RuleSet, ...]] = {}


def load_rule_sets(directory: Path | str = RULES_DIR) -> tuple[RuleSet, ...]:
    """Every ``*.toml`` rule set in ``directory``, oldest first (re-read when a file changes)."""
    d = Path(directory)
    if not d.is_dir():
        msg = f"rules folder not found: {d}"
        raise RuleFileError(msg)
    files = sorted(d.glob("*.toml"))
    if not files:
        msg = f"no rule files (*.toml) in {d}"
        raise RuleFileError(msg)
    key = (str(d.resolve()), tuple((f.name, f.stat().st_mtime_ns) for f in files))
    hit = _CACHE.get(key)
    if hit is None:
        sets = sorted((load_rule_set(f) for f in files), key=lambda s: s.effective_from)
        for a, b in zip(sets, sets[1:], strict=False):
            if a.effective_until is not None and a.effective_until >= b.effective_from:
                msg = (
                    f"{a.file}: effective_until: {a.effective_until:%Y-%m-%d} overlaps {b.file} "
                    f"(in force from {b.effective_from:%Y-%m-%d})"
                )
                raise RuleFileError(msg)
        hit = tuple(sets)
        _CACHE.clear()
        _CACHE[key] = hit
    return hit


def rule_set_for(as_of: object, directory: Path | str = RULES_DIR) -> RuleSet:
    """The rule set in force on ``as_of`` (latest ``effective_from`` ≤ the as-of day)."""
    return rule_set_in_force(load_rule_sets(directory), as_of)
