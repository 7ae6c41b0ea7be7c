"""The ``riskmap`` command line.

    riskmap demo [--seed N] [--store PATH] [--force]   build the demo store
    riskmap serve [--port P] [--address A]             serve the dashboard
    riskmap settings                                   print the effective settings
    riskmap import LAYER FILE [--crs C] [--skip-bad] [--rejects F] [--mode append|replace] [--store PATH]
    riskmap export LAYER FILE [--crs C] [--store PATH]
    riskmap screen --as-of DATE [--out FILE.csv|FILE.xlsx] [--store PATH]
    riskmap companions --records R.parquet|R.csv --cases C.csv --as-of DATE [--crs wgs84|gcj02]
                       [--engine local|dask] [--scheduler ADDR] --out F.csv [--flag] [--store PATH]
    riskmap demo-locations --out R.parquet --cases C.csv [--records N] [--seed S]
    riskmap allocate --as-of DATE [--at "DATE HH:MM"] [--seats N] [--out PLAN.xlsx] [--confirm] [--store PATH]
    riskmap user add NAME --role grid|site|planner|command|admin [--areas IDS] [--display-name D]
                     [--password-stdin | --no-password] [--store PATH]
    riskmap user disable|enable|passwd NAME [--password-stdin] [--store PATH]
    riskmap user list [--store PATH]

Exit codes: 0 done, 1 the file was rejected (every reject printed) or the export failed,
2 usage or settings error (bad option, unknown coordinate system, missing file or store).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from dashboard.settings import PROJECT_ROOT, load_settings
from geo.errors import CoordinateError, ImportRejected, SettingsError, StaleWrite
from layers import REGISTRY

__all__ = ["main"]


def _store_location(args: argparse.Namespace) -> str:
    """``--store`` (a GeoPackage path, relative to the working directory, or a ``postgresql://``
    URL), else the ``store`` setting: what :func:`layers.store.open_store` takes."""
    from layers.store import is_url

    if getattr(args, "store", None):
        return args.store if is_url(args.store) else str(Path(args.store).resolve())
    return load_settings().store_location


def _cmd_demo(args: argparse.Namespace) -> int:
    from data.demo import build_demo, demo_meta
    from layers.store import display_location, open_store, write_new_store_at

    settings = load_settings()
    location = _store_location(args)
    if open_store(location).exists() and not args.force:
        print(f"store exists, kept: {display_location(location)} (use --force to rebuild)")
        _first_accounts(location, demo=True)
        return 0
    seed = settings.demo_seed if args.seed is None else args.seed
    t0 = time.perf_counter()
    print(f"building demo scenario (seed {seed}) …", flush=True)
    layers = build_demo(seed)
    daily = layers.pop("daily_reports")  # versioned records, not a layer (layers.daily_report)
    write_new_store_at(location, layers, meta=demo_meta(seed), user="demo")
    counts = ", ".join(f"{k} {len(v):,}" for k, v in layers.items())
    print(f"wrote {display_location(location)} in {time.perf_counter() - t0:.1f} s: {counts}")
    _demo_daily_reports(location, daily)
    _demo_followup(location, seed)
    _first_accounts(location, demo=True)
    return 0


def _demo_daily_reports(location: str, daily) -> None:
    """The demo's series of city daily reports, as originals (revision 0), into a store whose
    records hold none yet (a rebuilt demo keeps what was recorded)."""
    from layers.daily_report import save_originals
    from layers.store.records import records_for

    saved = save_originals(records_for(location), daily, user="demo")
    print(f"recorded {saved:,} demo daily reports" if saved else "daily reports exist, kept")


def _demo_followup(location: str, seed: int) -> None:
    """The demo's follow-up outcomes (data/demo.py: demo_outcomes), written only into a store
    whose records hold none yet (a rebuilt demo keeps what was recorded)."""
    from data.demo import SCENARIO_TODAY, demo_outcomes
    from geo.followup import KIND
    from layers.followup import record_outcomes_bulk, until_verified_kinds
    from layers.screening_io import screen_store
    from layers.store import open_store
    from layers.store.records import records_for

    records = records_for(location)
    if records.current(KIND):
        print("follow-up records exist, kept")
        return
    base = screen_store(location, SCENARIO_TODAY, followup=False)
    risk = open_store(location).read("risk_areas")
    places = sorted(set(risk["province"].fillna("") + risk["city"].fillna("") + risk["county"].fillna("")) - {""})
    rows = demo_outcomes(base.obligations, seed, places=places)
    nb = dict(zip(base.travellers["id"].astype(str), base.travellers["neighbourhood_id"].fillna(""), strict=True))
    saved, rejected = record_outcomes_bulk(records, rows, base.obligations, until_verified=until_verified_kinds(base.rule_set),
                                           neighbourhood_of=nb, user="demo")
    if rejected:  # the generator's own rows: a bug, said loudly
        raise RuntimeError(f"demo outcomes rejected: {rejected[:3]}")
    print(f"recorded {saved:,} demo follow-up outcomes")
    base = screen_store(location, SCENARIO_TODAY, followup=False)  # with the stays verified pushes found
    import pandas as pd

    from data.demo import demo_checkins
    from geo.followup import home_days
    from layers.followup import record_checkins_bulk, with_followup

    morning = pd.Timestamp(SCENARIO_TODAY) + pd.Timedelta(hours=8)
    applied = with_followup(location, base, now=morning)
    scope_of = dict(zip(applied.travellers["id"].astype(str), applied.travellers["neighbourhood_id"].fillna(""), strict=True))
    saved, rejected = record_checkins_bulk(records, demo_checkins(home_days(applied, now=morning), seed), scope_of=scope_of, user="demo")
    if rejected:
        raise RuntimeError(f"demo check-ins rejected: {rejected[:3]}")
    print(f"recorded {saved:,} demo daily check-ins")
    _demo_reports(location, base, seed)


def _demo_reports(location: str, base, seed: int) -> None:
    """The communities' daily reports of the demo week (data/demo.py: demo_community_reports)."""
    import pandas as pd

    from data.demo import SCENARIO_TODAY, demo_community_reports
    from geo.community import system_figures
    from geo.followup import checkin_items
    from layers.community import save_reports_bulk
    from layers.followup import load_checkins, load_states, with_followup
    from layers.store.records import records_for

    records = records_for(location)
    end = pd.Timestamp(SCENARIO_TODAY) + pd.Timedelta(hours=23, minutes=59)
    applied = with_followup(location, base, now=end)
    states, items = load_states(records), checkin_items(applied, load_checkins(records), now=end)
    frames = []
    for day in pd.date_range(end=SCENARIO_TODAY, periods=7):
        fig = system_figures(applied, states, items, day=day).reindex(applied.neighbourhoods["id"].astype(str), fill_value=0)
        frames.append(fig.rename_axis("neighbourhood_id").reset_index().assign(day=day))
    system = pd.concat(frames, ignore_index=True)
    saved, rejected = save_reports_bulk(records, demo_community_reports(system, seed), system, user="demo",
                                        cutoff=load_settings().report_cutoff)
    if rejected:
        raise RuntimeError(f"demo community reports rejected: {rejected[:3]}")
    print(f"recorded {saved:,} demo community daily reports")


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings()  # fail fast, before the server starts, with the key named
    from layers.rules import RuleFileError, load_rule_sets

    try:  # a rule set that cannot be loaded stops the app here, naming the file and the key
        load_rule_sets()
    except RuleFileError as exc:
        print(f"riskmap serve: rule sets: {exc}", file=sys.stderr)
        return 2
    _first_accounts(settings.store_location, demo=None)
    import geo.assign

    started = time.perf_counter()  # compiled once per machine (numba's cache), then loaded
    geo.assign.compile_kernels()
    print(f"riskmap: point assignment compiled and ready ({time.perf_counter() - started:.1f} s)", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "dashboard" / "server.py"),
        "--server.port", str(args.port),
        "--server.address", args.address,
        "--server.headless", "true",
        "--server.enableStaticServing", "true",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--client.disableDataExport", "true",
    ]
    print(f"riskmap: serving on http://{args.address}:{args.port}", flush=True)
    return subprocess.call(cmd, cwd=PROJECT_ROOT, env=env)


def _cmd_settings(_args: argparse.Namespace) -> int:
    from layers.store import display_location, is_url

    s = load_settings()
    for k, v in vars(s).items():
        if k == "store" and is_url(v):
            v = display_location(v)  # never print a password
        print(f"{k} = {v!r}")
    return 0


def _store(args: argparse.Namespace):
    from layers.store import open_store

    return open_store(_store_location(args), city_adcode=load_settings().city_adcode)


def _personal_labels(key: str) -> set[str]:
    from layers.io._headers import column_label

    spec = REGISTRY[key]
    return {column_label(c) for c in spec.columns if c.personal}


def _print_issue(issue, personal: set[str], *, file=None) -> None:
    from layers.io import format_issue

    # values are never kept for personal columns; the label check is a second lock on that door
    print(f"  {format_issue(issue, show_value=issue.column not in personal)}", file=file)


class AuditFailed(RuntimeError):
    """The audit entry for an action could not be written, so the action did not happen."""


def _import_records(args: argparse.Namespace, target: str, detail: str, run, done, nothing: tuple[str, str]) -> int:
    """An import of records that are not a map layer (outcomes, daily reports): audited before the
    write, then ``run()``; ``done(result)`` prints what was written. Every refusal is printed with
    the rows named and "nothing written" (``nothing``: zh, en); exit 1, or 0."""
    from layers.store.gpkg import StoreWriteFailed

    try:
        _audit_cli(args, "import", target, detail)
        result = run()
    except ImportRejected as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        for issue in exc.rows:
            _print_issue(issue, set(), file=sys.stderr)
        return 1
    except StaleWrite as exc:  # incl. a daily report saved meanwhile (ReportChanged)
        print(f"riskmap: {exc}; {nothing[0]} / {nothing[1]}", file=sys.stderr)
        return 1
    except AuditFailed as exc:
        print(f"riskmap: 无法记录审计日志，未写入任何数据 / the audit trail cannot be written; nothing was written: {exc}", file=sys.stderr)
        return 1
    except StoreWriteFailed as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        return 1
    done(result)
    return 0


def _import_outcomes(args: argparse.Namespace, path: Path) -> int:
    """``riskmap import outcomes FILE --as-of D``: follow-up outcomes from another system, all or nothing."""
    from layers.followup import import_outcomes

    if not args.as_of:
        print("riskmap: 导入随访结果需要 --as-of（筛查日期）/ importing outcomes needs --as-of (the screening day)", file=sys.stderr)
        return 2
    return _import_records(
        args, "outcomes", f"{path.suffix.lower()}; as_of={args.as_of}",
        lambda: import_outcomes(path, _store_location(args), as_of=args.as_of, user=_cli_user(),
                                limits=load_settings().import_limits),
        lambda saved: print(f"已记录 {saved:,} 条随访结果 / recorded {saved:,} follow-up outcomes"),
        ("未写入任何结果", "nothing was recorded"),
    )


def _import_daily_reports(args: argparse.Namespace, path: Path) -> int:
    """``riskmap import daily_reports FILE``: through the form's validation and revisions, all or nothing."""
    from layers.daily_report import import_reports

    if args.mode == "replace":
        print("riskmap: 日报逐日修订，不能整体替换 / daily reports are revised day by day, never replaced (drop --mode replace)",
              file=sys.stderr)
        return 2

    def done(results) -> None:
        changed = sum(r.changed for r in results)
        print(f"已导入 {changed:,} 天日报（{len(results) - changed:,} 天与现有相同）/ "
              f"imported {changed:,} days of reports ({len(results) - changed:,} unchanged)")
        for r in results:
            for w in r.warnings:
                print(f"  提示 warning · {r.date:%Y-%m-%d}: {w.message_zh} / {w.message_en}")

    return _import_records(
        args, "daily_reports", f"{path.suffix.lower()}; validated; revisions",
        lambda: import_reports(path, _store(args), user=_cli_user(), limits=load_settings().import_limits),
        done, ("未写入任何日报", "no report was written"),
    )


def _cmd_import(args: argparse.Namespace) -> int:
    from layers.io import format_issue, import_file
    from layers.store.gpkg import StoreWriteFailed

    path = Path(args.file)
    if not path.is_file():
        print(f"riskmap: 找不到文件 / file not found: {args.file}", file=sys.stderr)
        return 2
    if args.layer == "outcomes":
        return _import_outcomes(args, path)
    if args.layer == "daily_reports":
        return _import_daily_reports(args, path)
    if args.mode == "daily" and (args.layer != "risk_areas" or not args.as_of):
        print("riskmap: --mode daily 仅用于中高风险区名单，且需要 --as-of（名单日期）/ --mode daily is for risk_areas and needs"
              " --as-of (the day the list was published)", file=sys.stderr)
        return 2
    store = _store(args)
    personal = _personal_labels(args.layer)
    try:
        report = import_file(
            path,
            args.layer,
            store=store,
            crs=args.crs,
            skip_bad=args.skip_bad,
            rejects_path=args.rejects,
            mode=args.mode,
            layer=args.source_layer,
            as_of=getattr(args, "as_of", None),
            user=_cli_user(),
            city_adcode=load_settings().city_adcode,
            limits=load_settings().import_limits,
            # recorded before the write: an import that cannot be audited does not happen
            audit=lambda n, bad: _audit_cli(
                args, "import", args.layer, f"{path.suffix.lower()}; mode={args.mode}; written={n}; rejected={bad}"
            ),
        )
    except ImportRejected as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", []):
            print(f"  说明 note · {note}", file=sys.stderr)
        for issue in exc.rows:
            _print_issue(issue, personal, file=sys.stderr)
        if args.rejects and exc.rows:
            print(f"  错误清单 rejects file: {args.rejects}", file=sys.stderr)
        return 1
    except StaleWrite:
        print("riskmap: 导入期间数据库被他人修改，未写入任何数据，请重新运行 / the store changed during the import; nothing was written; run it again", file=sys.stderr)
        return 1
    except AuditFailed as exc:
        print(f"riskmap: 无法记录审计日志，未写入任何数据 / the audit trail cannot be written; nothing was written: {exc}", file=sys.stderr)
        return 1
    except StoreWriteFailed as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    if report.changes is not None:
        names = {"added": ("新增", "added"), "changed": ("等级变化", "level changed"), "lifted": ("解除", "lifted")}
        for kind, (zh, en) in names.items():
            rows = report.changes[report.changes["change"] == kind]
            print(f"  {zh} {len(rows)} / {en}: {len(rows)}")
            for r in rows.head(20).itertuples():
                print(f"    {r.id}: {r.area.replace('|', ' ').strip()} {r.level_before}→{r.level_after}".rstrip("→"))
    for note in report.notes:
        print(f"  说明 note · {format_issue(note)}")
    for issue in report.rejects:
        _print_issue(issue, personal)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from layers.io import FORMATS, export_layer

    suffix = Path(args.file).suffix.lower()
    if suffix not in FORMATS:
        known = " ".join(dict.fromkeys(FORMATS))
        print(f"riskmap: 不支持的导出格式 {suffix or '（无）'}（可用 {known}） / unsupported export format (use {known})", file=sys.stderr)
        return 2
    store = _store(args)
    try:
        n = export_layer(store, args.layer, args.file, crs=args.crs or "wgs84")
    except CoordinateError:
        raise  # a usage error, exit 2 in main()
    except ValueError as exc:
        print(f"riskmap: 导出失败 / export failed: {exc}", file=sys.stderr)
        return 1
    spec = REGISTRY[args.layer]
    crs = args.crs or "wgs84"
    _audit_cli(args, "export", args.layer, f"{suffix}; crs={crs}; rows={n}")
    print(f"已导出“{spec.name_zh}”{n} 行到 {args.file}（{crs}） / exported {n} rows of {spec.name_en} to {args.file} ({crs})")
    return 0


def _cmd_screen(args: argparse.Namespace) -> int:
    from layers.screening_io import cli_screen

    return cli_screen(args.as_of, args.out, _store_location(args))


def _cmd_allocate(args: argparse.Namespace) -> int:
    """``riskmap allocate``: the quarantine transfer plan (集中隔离转运) — totals printed, the
    workbook written with ``--out``; ``--confirm`` records it (audited, all or none)."""
    import pandas as pd

    from geo.allocation import plan_totals
    from layers.allocation import confirm_transfers, make_plan, plan_workbook
    from layers.store.records import records_for

    settings = load_settings()
    seats = settings.transfer_seats if args.seats is None else args.seats
    if not 1 <= seats <= 60:
        print(f"riskmap: 每车座位数须为 1–60 / --seats must be 1 to 60 (got {seats})", file=sys.stderr)
        return 2
    at = pd.Timestamp(args.at) if args.at else None
    location = _store_location(args)
    plan, inputs, result = make_plan(location, as_of=args.as_of, now=at, seats=seats, reserve_share=settings.hotel_reserve_share)
    tot = plan_totals(plan)
    gap = "—" if tot["gap_pct"] is None else f"{tot['gap_pct']:.2f} %"
    print(f"待转运 {len(inputs.people):,} 人 / people to place {len(inputs.people):,}")
    print(f"已安置 {tot['placed']:,} 人，无法安置 {tot['unplaced']:,} 人 / placed {tot['placed']:,}, not placed {tot['unplaced']:,}")
    print(f"总距离 {tot['km_total']:,.1f} 公里，人均 {tot['km_per_person']:.2f} 公里 / total {tot['km_total']:,.1f} km,"
          f" {tot['km_per_person']:.2f} km per person (above the lower bound: {gap}; {plan.method})")
    print(f"使用酒店 {tot['hotels_used']}，启用备用酒店 {tot['hotels_opened']}（{'、'.join(plan.opened) or '无'}），车次 {tot['batches']}"
          f" / hotels used {tot['hotels_used']}, standby opened {tot['hotels_opened']} ({', '.join(plan.opened) or 'none'}),"
          f" batches {tot['batches']} of {seats} seats")
    for hid, zh, en in plan.issues:
        print(f"  酒店 {hid}：{zh} / hotel {hid}: {en}", file=sys.stderr)
    for r in plan.unplaced.itertuples(index=False):
        print(f"  {r.traveller_id}: {r.reason_zh} / {r.reason_en}", file=sys.stderr)
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".xlsx":
            print("riskmap: --out 须为 .xlsx 文件 / --out must be an .xlsx file", file=sys.stderr)
            return 2
        tmp = out.with_name(out.name + ".part")
        tmp.write_bytes(plan_workbook(plan, result))
        tmp.replace(out)
        print(f"已写入 {out} / wrote {out}")
    if args.confirm and plan.placed:
        try:
            _audit_cli(args, "transfer_plan", "hotels", f"{plan.placed} people, {len(plan.batches)} batches")
            saved = confirm_transfers(records_for(location), plan, result, inputs.rooms, user=_cli_user(),
                                      at=(at or pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None)).to_pydatetime())
        except (StaleWrite, ImportRejected, AuditFailed, ValueError) as exc:
            print(f"riskmap: {exc}", file=sys.stderr)
            for issue in getattr(exc, "rows", []):
                _print_issue(issue, set(), file=sys.stderr)
            return 1
        print(f"已记录 {saved:,} 条转运 / recorded {saved:,} transfers")
    return 0


def _readable(path: Path, kind: str, read):
    """``read()``, with a file that is missing or cannot be read as ``kind`` named in both
    languages (``ValueError``); an :class:`ImportRejected` (an encoding that cannot be told) as it is."""
    try:
        return read()
    except ImportRejected:
        raise
    except FileNotFoundError:
        msg = f"{path.name}：找不到文件 / file not found: {path.name}"
        raise ValueError(msg) from None
    except (ValueError, OSError) as exc:  # incl. pandas' EmptyDataError and pyarrow's ArrowInvalid
        msg = f"{path.name}：无法读取为 {kind} 文件 / cannot be read as a {kind} file: {exc}"
        raise ValueError(msg) from None


def _read_records(path: Path):
    """Location records from Parquet or CSV (``device``, ``lon``, ``lat``, ``start``, ``end``)."""
    import pandas as pd

    cols = ["device", "lon", "lat", "start", "end"]
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = _readable(path, "Parquet", lambda: pd.read_parquet(path))
    elif suffix == ".csv":
        # blank lines read as empty rows and then left out, so the index stays each record's
        # position in the file and the row numbers reported stay spreadsheet rows
        frame = _readable(path, "CSV", lambda: _read_csv_text(path, dtype={"device": "string"}, skip_blank_lines=False))
        blank = frame.isna().all(axis=1)
        if blank.any():
            frame = frame[~blank]
            frame.attrs["blank_rows"] = int(blank.sum())
    else:
        msg = f"{path.name}：位置记录须为 Parquet 或 CSV 文件 / location records must be a Parquet or CSV file"
        raise ValueError(msg)
    missing = [c for c in cols if c not in frame.columns and c != "end"]
    if missing:
        msg = f"{path.name}：缺少列 {missing} / missing columns {missing} (need {cols}; end optional)"
        raise ValueError(msg)
    return frame, suffix == ".csv"


def _day_arg(value: str) -> str:
    """An ``--as-of`` / ``--at`` value, checked by :func:`geo.screening.parse_as_of` (the one check
    every command's dates get) before the command runs; the text itself is passed on."""
    from geo.screening import parse_as_of

    try:
        parse_as_of(value)
    except ValueError as exc:
        msg = f"日期无效（YYYY-MM-DD，或 'YYYY-MM-DD HH:MM'）/ {exc}"
        raise argparse.ArgumentTypeError(msg) from None
    return value


def _count_arg(minimum: int):
    """An argparse type: a whole number of at least ``minimum`` (a usage error in both languages)."""

    def count(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            n = None
        if n is None or n < minimum:
            msg = f"须为不小于 {minimum} 的整数 / must be a whole number of at least {minimum} (got {value!r})"
            raise argparse.ArgumentTypeError(msg)
        return n

    return count


def _read_csv_text(path: Path, **kwargs):
    """A CSV read as the importers read text: UTF-8 (with or without BOM) straight by pandas;
    anything else through the importers' one decoder (GBK/GB18030 or Big5 when the text says
    which), which refuses, bilingually, a file it cannot read reliably (:class:`ImportRejected`)."""
    import io

    import pandas as pd

    from layers.io import decode_text

    try:
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        text, _ = decode_text(path.read_bytes(), path.name)
        return pd.read_csv(io.StringIO(text), **kwargs)


def _cmd_companions(args: argparse.Namespace) -> int:
    """``riskmap companions``: 时空伴随 detection (geo.companions) on location records."""

    from geo.companions import (
        ISSUE_KINDS,
        check_cases,
        clean_records,
        companions_dask,
        companions_duckdb,
        dask_records,
        load_companion_rule,
        outside_window,
    )
    from layers.io._issues import Issue, bilingual, row_numbers_note

    t0 = time.perf_counter()
    out = Path(args.out)
    try:  # as every command that writes a file: a missing folder is made, before any work
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"riskmap: 无法创建输出文件夹 {out.parent} / cannot make the output folder {out.parent}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        cases = _readable(Path(args.cases), "CSV", lambda: _read_csv_text(Path(args.cases), dtype={"device": "string"}))
    except (ValueError, OSError) as exc:  # incl. ImportRejected: an encoding that cannot be told
        print(f"riskmap: {exc}", file=sys.stderr)
        return 2
    for c in ("device", "infectious_from"):
        if c not in cases.columns:
            print(f"riskmap: {Path(args.cases).name}：缺少列 {c} / missing column {c} (need device, infectious_from, infectious_to)",
                  file=sys.stderr)
            return 2
    try:  # before the records are read: a bad case row stops the run at once
        cases = check_cases(cases)
    except ImportRejected as exc:
        print(f"riskmap: {Path(args.cases).name}：{exc}", file=sys.stderr)
        for row in exc.rows:
            _print_issue(Issue(*row), set(), file=sys.stderr)
        return 2
    try:
        raw, numbered = _read_records(Path(args.records))
    except (ValueError, OSError) as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        return 2
    records, issues = clean_records(raw, crs=args.crs, row_numbers=numbered)
    blank_rows = raw.attrs.get("blank_rows", 0)
    del raw
    print(f"读取 {len(records) + issues.total:,} 条记录，可用 {len(records):,} 条 / read {len(records) + issues.total:,} records,"
          f" {len(records):,} usable")
    if blank_rows:
        print(f"  跳过 {blank_rows:,} 个空行 / {blank_rows:,} blank rows skipped", file=sys.stderr)
    for kind, n in issues.counts.items():
        if n:
            zh, en = ISSUE_KINDS[kind]
            rows = issues.rows.get(kind, [])
            more = " …" if len(rows) > 10 else ""
            where = (f"（第 {'、'.join(map(str, rows[:10]))}{more} 行 / row{'s' if len(rows) > 1 else ''} "
                     f"{', '.join(map(str, rows[:10]))}{more}）") if rows else ""
            print(f"  {zh} {n:,} 条 / {en}: {n:,}{where}", file=sys.stderr)
    if issues.rows:
        print("  " + bilingual(*row_numbers_note("row")), file=sys.stderr)
    known = set(records["device"].astype(str).unique()) if len(records) else set()
    unknown = [d for d in cases["device"].astype(str) if d not in known]
    if unknown:
        print(f"  病例设备编号在记录中不存在 {len(unknown)} 个 / case devices with no record: {len(unknown)}: "
              f"{', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''}", file=sys.stderr)
    from geo.crs import utm_crs_for

    rule = load_companion_rule()
    outside, lo, hi = outside_window(records, rule, args.as_of)
    if outside:
        span = f"{lo:%Y-%m-%d %H:%M} – {hi:%Y-%m-%d %H:%M}"
        print(f"  检测窗口 {span} 之外的记录 {outside:,} 条（不参与检测） / {outside:,} records lie wholly outside the "
              f"detection window {span} (not used)", file=sys.stderr)
    crs = str(utm_crs_for(float(records["lon"].mean()), float(records["lat"].mean()))) if len(records) else "EPSG:32649"
    if args.engine == "dask":
        from dask.distributed import Client, LocalCluster

        # Parquet: the workers read the file themselves (one partition per row group; the path must be
        # reachable from every worker); CSV: the cleaned records are sent from here
        data = dask_records(args.records, crs=args.crs) if Path(args.records).suffix.lower() == ".parquet" else records
        if args.scheduler:
            with Client(args.scheduler) as client:
                found = companions_dask(data, cases, rule, as_of=args.as_of, crs=crs, client=client)
        else:
            with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                found = companions_dask(data, cases, rule, as_of=args.as_of, crs=crs, client=client)
    else:
        found = companions_duckdb(records, cases, rule, as_of=args.as_of, crs=crs)
    tmp = out.with_name(out.name + ".part")
    found.assign(cell=found["cell"].astype(str), first_together=found["first_together"].dt.strftime("%Y-%m-%d %H:%M:%S")) \
        .to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(out)
    if args.flag:
        from layers.companions import flag_companions

        try:
            _audit_cli(args, "companions", "travellers", f"{found['device'].nunique()} devices; as_of={args.as_of}")
            res = flag_companions(_store_location(args), found, detected=args.as_of, user=_cli_user(), cell_m=rule.cell_m, crs=crs)
            from geo.companions import companion_summary
            from layers.companions import save_summary
            from layers.store import open_store

            save_summary(_store_location(args), companion_summary(
                found, open_store(_store_location(args)).read("neighbourhoods", public=True), cell_m=rule.cell_m, crs=crs,
                as_of=args.as_of), user=_cli_user())
        except (StaleWrite, AuditFailed) as exc:
            print(f"riskmap: {exc}; 未标记任何人员 / nobody was flagged", file=sys.stderr)
            return 1
        print(f"已标记时空伴随者 {res.flagged:,} 人（此前已标记 {res.already:,} 人）；{res.added:,} 个设备不在人员名单中，"
              f"已作为待核实身份人员加入名单（按首次伴随所在社区分派） / flagged {res.flagged:,} travellers as companions"
              f" ({res.already:,} flagged before); {res.added:,} devices were on no traveller and were added as people to"
              f" identify (in the neighbourhood where they were first together with a case)")
    print(f"时空伴随者 {found['device'].nunique():,} 人（{len(found):,} 条伴随记录，{found['case_device'].nunique():,} 名病例）"
          f" / companions: {found['device'].nunique():,} devices ({len(found):,} pairs, {found['case_device'].nunique():,} cases);"
          f" wrote {out} in {time.perf_counter() - t0:.1f} s ({args.engine})")
    return 0


def _cmd_demo_locations(args: argparse.Namespace) -> int:
    """``riskmap demo-locations``: the seeded demo location records and cases (data/locations.py)."""
    from data.locations import demo_locations

    t0 = time.perf_counter()
    records, cases = demo_locations(args.records, n_cases=args.n_cases, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    records.to_parquet(out, index=False)
    cases.to_csv(args.cases, index=False)
    print(f"wrote {len(records):,} demo location records to {out} and {len(cases)} cases to {args.cases}"
          f" in {time.perf_counter() - t0:.1f} s")
    if len(records) > args.records:
        print(f"  记录数多于所要求的 {args.records:,} 条：每台设备至少有 14 晚在家和工作日的记录，且设备数不少于病例数 + 1 / "
              f"more than the {args.records:,} asked: every device has at least its 14 nights at home and its workdays,"
              " and there is at least one device more than there are cases")
    return 0


# ---------------------------------------------------------------- accounts (dashboard/accounts.py)


def _cli_user() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _audit_cli(args: argparse.Namespace, action: str, target: str, detail: str) -> None:
    from dashboard.audit import record

    try:
        record(_cli_user(), action, target, detail, role="", store=_store_location(args))
    except Exception as exc:  # noqa: BLE001 - whatever broke the audit store, the action must not go on
        raise AuditFailed(str(exc)) from exc


def initial_accounts_path(store: str) -> Path:
    """Where a store's first accounts are written: ``<store stem>.initial-accounts.txt`` beside a
    GeoPackage, ``var/initial-accounts-<host>_<port>_<database>.txt`` for a PostgreSQL store (no
    password in the name)."""
    from urllib.parse import urlsplit

    from layers.store import is_url

    if not is_url(store):
        p = Path(store)
        return p.with_name(f"{p.stem}.initial-accounts.txt")
    u = urlsplit(store)
    label = "_".join(filter(None, [u.hostname or "local", str(u.port or ""), u.path.strip("/") or "postgres"]))
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
    return PROJECT_ROOT / "var" / f"initial-accounts-{safe}.txt"


def _first_accounts(store: str, *, demo: bool | None) -> None:
    """First run: with no account yet, create ``admin`` (and for a demo store one account per
    role), print the passwords once and keep them in a file named after the store (mode 0600,
    :func:`initial_accounts_path`), so a second store never overwrites the first one's list.
    ``demo=None``: ask the store whether it holds demo data."""
    from dashboard.accounts import write_initial_accounts
    from dashboard.audit import accounts_for, record
    from layers.store import open_store

    db = accounts_for(store)
    if not db.is_empty():
        return
    areas: tuple[str, ...] = ()
    site_areas: tuple[str, ...] = ()
    data = open_store(store)
    if data.exists():
        if demo is None:
            demo = data.meta().get("demo") == "true"
        if demo:  # the demo grid worker covers the district with the most neighbourhoods
            codes = data.read("neighbourhoods", public=True)["district_adcode"].dropna()
            areas = (str(codes.mode().iloc[0]),) if len(codes) else ()
            # the demo site staff report for the first three testing sites of that district
            sites = data.read("testing_sites", public=True)
            sites = sites[sites["district_adcode"].astype(str).isin(areas)] if areas else sites
            site_areas = tuple(sites["id"].astype(str).sort_values().head(3))
    created = db.bootstrap(demo=bool(demo), grid_areas=areas, site_areas=site_areas)
    if not created:
        return
    out = write_initial_accounts(initial_accounts_path(store), created)
    record("riskmap", "accounts_bootstrap", "", f"created={','.join(n for n, _, _ in created)}", role="", store=store)
    print(f"首次运行：已创建以下账户，密码只显示这一次，另存于 {out}（仅本机该用户可读）")
    print(f"first run: created these accounts; the passwords are shown once and kept in {out} (mode 0600)")
    for name, role, password in created:
        print(f"  {name:<10} {role:<8} {password}")


def _read_password(args: argparse.Namespace, name: str) -> str:
    import getpass

    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass(f"{name} 的新密码 / new password for {name}: ")
        again = getpass.getpass("再次输入 / again: ")
    except EOFError:  # no terminal and stdin ran out
        msg = "没有读到密码（无终端时请用 --password-stdin）/ no password was read (without a terminal, use --password-stdin)"
        raise ValueError(msg) from None
    if first != again:
        msg = "两次输入的密码不一致 / the passwords differ"
        raise ValueError(msg)
    return first


def _cmd_user(args: argparse.Namespace) -> int:
    from dashboard.accounts import AccountError
    from dashboard.audit import accounts_for

    db = accounts_for(_store_location(args))
    by = _cli_user()
    try:
        if args.action == "list":
            for a in db.list():
                state = "disabled" if a.disabled else "active"
                pw = "" if a.has_password else " (sign-on only)"
                areas = f" areas={','.join(a.areas)}" if a.areas else ""
                print(f"{a.name:<24} {a.role:<8} {state}{pw}{areas}  {a.display_name}")
            return 0
        if args.action == "add":
            password = None if args.no_password else _read_password(args, args.name)
            acc = db.add(args.name, args.role, password, display_name=args.display_name or "", areas=args.areas, by=by)
            print(f"已创建账户 / created account: {acc.name} ({acc.role})")
            if acc.role == "grid" and not acc.areas:
                print("  注意：网格员尚无负责区域 / note: this grid worker has no areas yet (--areas)", file=sys.stderr)
        elif args.action in ("disable", "enable"):
            acc = db.set_disabled(args.name, args.action == "disable", by=by)
            print(f"{'已停用 / disabled' if acc.disabled else '已启用 / enabled'}: {acc.name}")
        elif args.action == "passwd":
            if db.get(args.name) is None:
                msg = f"没有账户 {args.name!r} / no account named {args.name!r}"
                raise AccountError(msg)
            db.set_password(args.name, _read_password(args, args.name), by=by)
            print(f"已设置新密码 / password set: {args.name.strip().lower()}")
    except (AccountError, ValueError) as exc:
        print(f"riskmap: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="riskmap", description="riskmap: epidemic risk-area mapping dashboard")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="build the demo store (seeded, deterministic)")
    d.add_argument("--seed", type=int, default=None, help="scenario seed (default: setting demo_seed)")
    d.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: setting store)")
    d.add_argument("--force", action="store_true", help="rebuild even if the store exists")
    d.set_defaults(func=_cmd_demo)
    s = sub.add_parser("serve", help="serve the dashboard")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--address", default="localhost")
    s.set_defaults(func=_cmd_serve)
    st = sub.add_parser("settings", help="print the effective settings")
    st.set_defaults(func=_cmd_settings)
    layers = list(REGISTRY)
    # besides the layers: follow-up outcomes (records) and daily reports (the form's validation and revisions)
    importable = [k for k, spec in REGISTRY.items() if spec.importable] + ["daily_reports", "outcomes"]
    crs_help = "coordinate system: wgs84, gcj02 (Amap/Tencent), bd09 (Baidu) or EPSG:<code> (e.g. EPSG:4490)"
    im = sub.add_parser("import", help="import a file into a layer (all or nothing unless --skip-bad)")
    im.add_argument("layer", choices=importable, metavar="LAYER", help=f"one of: {', '.join(importable)}")
    im.add_argument("file", metavar="FILE", help=".geojson .json .gpkg .zip (Shapefile) .kml .csv .xlsx")
    im.add_argument("--crs", default=None, help=crs_help + " (default: the file's own, else wgs84)")
    im.add_argument("--skip-bad", action="store_true", help="write the good rows and list the bad ones in the rejects file")
    im.add_argument("--rejects", default=None, help="rejects file (default with --skip-bad: <file stem>.rejects.csv)")
    im.add_argument("--mode", choices=("append", "replace", "daily"), default="append",
                    help="append rows (default), replace the layer, or daily: risk_areas only, the list in force on --as-of"
                         " (adds, level changes and lifts recorded by date; lifted entries kept)")
    im.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: setting store)")
    im.add_argument("--source-layer", default=None, help="GeoPackage layer, shapefile in the zip, or XLSX sheet to read")
    im.add_argument("--as-of", default=None, type=_day_arg, help="outcomes: the screening day the outcomes belong to; risk_areas --mode daily:"
                                                   " the day the list was published (YYYY-MM-DD)")
    im.set_defaults(func=_cmd_import)
    ex = sub.add_parser("export", help="export a layer to a file (format by suffix)")
    ex.add_argument("layer", choices=layers, metavar="LAYER", help=f"one of: {', '.join(layers)}")
    ex.add_argument("file", metavar="FILE", help=".geojson .json .gpkg .zip (Shapefile) .kml .csv .xlsx")
    ex.add_argument("--crs", default=None, help=crs_help + " (default: wgs84)")
    ex.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: setting store)")
    ex.set_defaults(func=_cmd_export)
    sc = sub.add_parser("screen", help="classify travellers and list the neighbourhoods to screen on a date")
    sc.add_argument("--as-of", required=True, type=_day_arg, help="date, YYYY-MM-DD")
    sc.add_argument("--out", default=None, help="write the lists to .csv (two files) or .xlsx (a sheet per district)")
    sc.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: setting store)")
    sc.set_defaults(func=_cmd_screen)
    co = sub.add_parser("companions", help="find 时空伴随 companions of cases in location records")
    co.add_argument("--records", required=True, help="location records: .parquet or .csv (device, lon, lat, start, end)")
    co.add_argument("--cases", required=True, help="cases: .csv (device, infectious_from, infectious_to)")
    co.add_argument("--as-of", required=True, type=_day_arg, help="the day detection is run for, YYYY-MM-DD (the window ends that day)")
    co.add_argument("--crs", default="wgs84", choices=("wgs84", "gcj02"), help="the records' coordinates (default wgs84)")
    co.add_argument("--engine", default="local", choices=("local", "dask"), help="local: DuckDB; dask: a dask.distributed cluster")
    co.add_argument("--scheduler", default=None, help="with --engine dask: the scheduler address (default: a local 2-worker cluster)")
    co.add_argument("--out", required=True, help="write the companions to this .csv")
    co.add_argument("--flag", action="store_true",
                    help="flag the travellers whose device_id is found as companions (detected on --as-of; audited) and keep"
                         " the detection's aggregates for the command page")
    co.add_argument("--store", default=None, help="with --flag: GeoPackage path or postgresql:// URL (default: setting store)")
    co.set_defaults(func=_cmd_companions)
    dl = sub.add_parser("demo-locations", help="write the seeded demo location records and cases (for companions)")
    dl.add_argument("--out", required=True, help="the records' .parquet")
    dl.add_argument("--cases", required=True, help="the cases' .csv")
    dl.add_argument("--records", type=_count_arg(1), default=10_000_000,
                    help="how many records (default 10,000,000; at least 14 nights and the workdays of each device)")
    dl.add_argument("--n-cases", type=_count_arg(0), default=100, help="how many cases (default 100)")
    dl.add_argument("--seed", type=int, default=20220328)
    dl.set_defaults(func=_cmd_demo_locations)
    al = sub.add_parser("allocate", help="plan the transfer of people to quarantine hotels (集中隔离转运)")
    al.add_argument("--as-of", required=True, type=_day_arg, help="the screening day, YYYY-MM-DD")
    al.add_argument("--at", default=None, type=_day_arg, help="the moment the plan is made for, 'YYYY-MM-DD HH:MM' (default: now, at most the day's end)")
    al.add_argument("--seats", type=int, default=None, help="seats per vehicle (default: setting transfer_seats)")
    al.add_argument("--out", default=None, help="write the plan to an .xlsx workbook (a sheet per hotel and the batches)")
    al.add_argument("--confirm", action="store_true", help="record the plan: one 'transferred' outcome per person placed")
    al.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: setting store)")
    al.set_defaults(func=_cmd_allocate)
    us = sub.add_parser("user", help="manage accounts (roles: grid, planner, command, admin)")
    usub = us.add_subparsers(dest="action", required=True)
    ua = usub.add_parser("add", help="add an account (the password is asked for, or read from stdin)")
    ua.add_argument("name", metavar="NAME")
    ua.add_argument("--role", required=True, choices=("grid", "site", "planner", "command", "admin"))
    ua.add_argument("--areas", "--neighbourhoods", dest="areas", default=None,
                    help="grid workers: neighbourhood ids and/or 6-digit district codes; site staff: testing-site ids; comma separated")
    ua.add_argument("--display-name", default=None)
    pw = ua.add_mutually_exclusive_group()
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    pw.add_argument("--no-password", action="store_true", help="no password sign-in (single sign-on only)")
    for action, text in (("disable", "disable an account (ends its sessions)"), ("enable", "enable an account again")):
        usub.add_parser(action, help=text).add_argument("name", metavar="NAME")
    upw = usub.add_parser("passwd", help="set a new password (ends the account's sessions)")
    upw.add_argument("name", metavar="NAME")
    upw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    usub.add_parser("list", help="list the accounts")
    for sp in usub.choices.values():
        sp.add_argument("--store", default=None, help="store path or postgresql:// URL (default: setting store)")
    us.set_defaults(func=_cmd_user)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"riskmap: settings error: {exc}", file=sys.stderr)
        return 2
    except CoordinateError as exc:
        print(f"riskmap: 坐标系错误 / coordinate system error: {exc}", file=sys.stderr)
        return 2
    except ConnectionError as exc:  # layers.store.postgis.StoreUnavailable: the URL's password is masked
        print(f"riskmap: 无法打开数据库 / store unavailable: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # after ConnectionError, which is one
        from layers.store.gpkg import StoreMissing  # loaded already if the store raised it

        if isinstance(exc, StoreMissing):
            print(f"riskmap: {exc}", file=sys.stderr)  # any command that opens the store; it says how to build one
            return 2
        where = f" {exc.filename}" if exc.filename else ""  # e.g. an output path under a file, a full disk
        why = exc.strerror or str(exc)
        print(f"riskmap: 无法读写文件{where}：{why} / cannot read or write{where}: {why}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
