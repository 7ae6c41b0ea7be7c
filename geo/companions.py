"""时空伴随者 — spatiotemporal companions of cases, from location records.

Pure computation (no Streamlit, no store). The rule is data (``data/rules/companions/*.toml``,
:class:`CompanionRule`): a person is a companion of a case when, within the look-back window and
the case's infectious window, their phones were **together in one grid cell** (``cell_m`` ×
``cell_m``, a metric grid in the data's UTM zone) **for more than** ``min_overlap_minutes`` in
total, **and** either phone's total stay in that cell within the window is **more than**
``cumulative_hours`` (Chengdu, 2021-11-03; ``cumulative_hours = 0`` drops the second condition).

Input records: ``device`` (a pseudonymous hash, never a phone number), ``lon``, ``lat`` (WGS-84
or GCJ-02, converted first), ``start`` and ``end`` (a stay; a ping has ``end = start`` and
never overlaps anything). :func:`clean_records` checks them and counts each kind of bad row.

Engines, same answer: :func:`companions_duckdb` (DuckDB: the records as an Arrow table, the
interval join and the sums in SQL — columnar, multi-threaded, spills to disk past memory; the
default), :func:`companions_reference` (pandas merges: slow and obvious, for the tests and the
benchmark's baseline on a sample) and :func:`companions_dask` (the same steps on
``dask.dataframe``, for a ``dask.distributed`` cluster).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.hours import local_times

__all__ = [
    "CompanionRule",
    "load_companion_rule",
    "RecordIssues",
    "clean_records",
    "check_cases",
    "outside_window",
    "cells_of",
    "companions_duckdb",
    "companions_reference",
    "companions_dask",
    "dask_records",
    "cell_centres",
    "companion_summary",
    "OUTPUT_COLUMNS",
]

RULE_DIR = Path(__file__).resolve().parent.parent / "data" / "rules" / "companions"
OUTPUT_COLUMNS = ["device", "case_device", "cell", "overlap_minutes", "first_together", "device_hours", "case_hours"]
_US = pd.Timedelta(microseconds=1)
_US_PER_HOUR = 3_600_000_000
_US_PER_MINUTE = 60_000_000
# China's extent (with a margin): coordinates outside are not a phone in China
CHINA = (73.0, 17.0, 136.0, 54.0)


@dataclass(frozen=True)
class CompanionRule:
    cell_m: float = 800.0
    min_overlap_minutes: float = 10.0
    cumulative_hours: float = 30.0
    window_days: int = 14
    source: str = ""
    quote: str = ""
    effective_from: str = ""


def load_companion_rule(path: Path | str | None = None) -> CompanionRule:
    """The companion rule in force: the newest file of ``data/rules/companions`` (or ``path``)."""
    p = Path(path) if path is not None else sorted(RULE_DIR.glob("*.toml"))[-1]
    raw = tomllib.loads(p.read_text(encoding="utf-8"))
    known = {f for f in CompanionRule.__dataclass_fields__}
    unknown = set(raw) - known
    if unknown:
        msg = f"{p.name}: unknown keys {sorted(unknown)}; known: {sorted(known)}"
        raise ValueError(msg)
    rule = CompanionRule(**{k: raw[k] for k in raw})
    if rule.cell_m <= 0 or rule.min_overlap_minutes < 0 or rule.cumulative_hours < 0 or rule.window_days < 1:
        msg = f"{p.name}: cell_m must be positive, thresholds not negative, window_days at least 1"
        raise ValueError(msg)
    return rule


@dataclass(frozen=True)
class RecordIssues:
    """Rows set aside, by kind, with their row numbers where the input had them (CSV): spreadsheet
    rows, the header being row 1, as every importer numbers them. Nothing is dropped without
    being counted here."""

    counts: Mapping[str, int]
    rows: Mapping[str, list[int]]

    @property
    def total(self) -> int:
        return int(sum(self.counts.values()))


ISSUE_KINDS = {
    "missing_time": ("时间缺失或无法识别", "time missing or not understood"),
    "end_before_start": ("结束早于开始", "end before start"),
    "missing_coordinates": ("坐标缺失或不是数字", "coordinates missing or not a number"),
    "outside_china": ("坐标不在中国境内", "coordinates outside China"),
    "missing_device": ("缺少设备编号", "device id missing"),
    "duplicate": ("重复记录", "duplicate record"),
}


def clean_records(records: pd.DataFrame, *, crs: str = "wgs84", row_numbers: bool = True) -> tuple[pd.DataFrame, RecordIssues]:
    """Check location records and return the usable ones (WGS-84, ``start``/``end`` as
    datetimes; a missing ``end`` is the ``start``: a ping) and the rows set aside by kind:
    missing or unreadable times, end before start, coordinates missing or not numbers,
    coordinates outside China, no device id, duplicates (the same device, place and times again:
    the first is kept). With ``row_numbers``, the frame's index is each record's position among
    the file's data rows (0 for the first, as ``pandas.read_csv`` numbers them; a reader that
    skips blank lines keeps the positions), and the rows reported are spreadsheet rows: position
    + 2, the header being row 1."""
    from geo.crs import convert_xy

    position = None
    if row_numbers:
        integer = pd.api.types.is_integer_dtype(records.index)
        position = records.index.to_numpy() if integer else np.arange(len(records))
    r = records.reset_index(drop=True)
    n = len(r)
    start = local_times(r["start"])
    end = local_times(r["end"]) if "end" in r.columns else start.copy()
    end = end.where(~(r["end"].isna() if "end" in r.columns else pd.Series(True, index=r.index)), start)
    lon = pd.to_numeric(r["lon"], errors="coerce")
    lat = pd.to_numeric(r["lat"], errors="coerce")
    # devices as integer codes (a categorical column, as Parquet gives it, is not expanded to strings)
    codes, names = pd.factorize(r["device"], sort=False)
    stripped = pd.Series(names, dtype="string").str.strip().fillna("")
    inverse, names = pd.factorize(stripped.to_numpy(dtype=object), sort=False)  # " a" and "a" are one device
    codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)] if len(inverse) else -1, -1)
    blank = np.asarray(names == "", dtype=bool)
    bad = {}
    bad["missing_device"] = (codes < 0) | (blank[np.maximum(codes, 0)] if len(names) else True)
    bad["missing_time"] = start.isna().to_numpy() | (end.isna().to_numpy() & ~start.isna().to_numpy())
    bad["end_before_start"] = ((end < start).fillna(False)).to_numpy() & ~bad["missing_time"]
    bad["missing_coordinates"] = ~(np.isfinite(lon.to_numpy(dtype="float64", na_value=np.nan))
                                   & np.isfinite(lat.to_numpy(dtype="float64", na_value=np.nan)))
    minx, miny, maxx, maxy = CHINA
    bad["outside_china"] = ~((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)).fillna(False).to_numpy()
    taken = np.zeros(n, dtype=bool)
    for k in ("missing_device", "missing_time", "end_before_start", "missing_coordinates", "outside_china"):
        bad[k] = bad[k] & ~taken
        taken |= bad[k]
    keyed = pd.DataFrame({"d": codes, "x": lon, "y": lat, "s": start, "e": end})
    dup = keyed.duplicated(keep="first").to_numpy() & ~taken
    del keyed
    bad["duplicate"] = dup
    taken |= dup
    ok = ~taken
    x, y = lon.to_numpy()[ok], lat.to_numpy()[ok]
    if crs != "wgs84" and ok.any():
        x, y = convert_xy(x, y, src=crs, dst="wgs84")
    out = pd.DataFrame({"device": pd.Categorical.from_codes(codes[ok], categories=pd.Index(names, dtype=object)),
                        "lon": x, "lat": y, "start": start.to_numpy()[ok], "end": end.to_numpy()[ok]})
    counts = {k: int(v.sum()) for k, v in bad.items()}
    rows = {k: (position[v] + 2).tolist()[:1000] for k, v in bad.items() if v.any()} if position is not None else {}
    return out, RecordIssues(counts, rows)


def check_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """The cases (``device``, ``infectious_from``, ``infectious_to``) checked: device ids stripped
    as :func:`clean_records` strips them, the dates as timestamps (an empty ``infectious_to``:
    still infectious). A case left out is every companion of it missed, so any bad row refuses
    them all: :class:`~geo.errors.ImportRejected` names each (spreadsheet rows, the header being
    row 1): a missing device id or one listed twice, a missing or unreadable start, an
    unreadable end, an end before the start. Every engine checks its cases with this."""
    from geo.errors import ImportRejected

    c = cases.reset_index(drop=True)
    device = c["device"].astype("string").str.strip().fillna("")
    given_to = c["infectious_to"] if "infectious_to" in c.columns else pd.Series(None, index=c.index, dtype=object)
    start = local_times(c["infectious_from"])
    end = local_times(given_to)
    first_row = {}
    problems: list[tuple[int, str, str, str]] = []
    for i in range(len(c)):
        row = i + 2
        d = device.iloc[i]
        if not d:
            problems.append((row, "device", "病例设备编号缺失", "case device id missing"))
        elif d in first_row:
            problems.append((row, "device", f"病例设备编号重复（第 {first_row[d]} 行已列出）",
                             f"case device listed twice (also row {first_row[d]})"))
        else:
            first_row[d] = row
        if pd.isna(start.iloc[i]):
            problems.append((row, "infectious_from", "传染期开始缺失或不是日期", "infectious_from missing or not a date"))
        if pd.isna(end.iloc[i]) and not pd.isna(given_to.iloc[i]) and str(given_to.iloc[i]).strip():
            problems.append((row, "infectious_to", "传染期结束不是日期", "infectious_to is not a date"))
        elif not pd.isna(end.iloc[i]) and not pd.isna(start.iloc[i]) and end.iloc[i] < start.iloc[i]:
            problems.append((row, "infectious_to", "传染期结束早于开始", "infectious_to before infectious_from"))
    if problems:
        msg = (f"病例文件有 {len({p[0] for p in problems})} 行有问题，未运行检测 / "
               f"{len({p[0] for p in problems})} case rows have problems; nothing was run")
        raise ImportRejected(msg, problems)
    return pd.DataFrame({"device": device.astype(str).to_numpy(dtype=object), "infectious_from": start.to_numpy(),
                         "infectious_to": end.to_numpy()})


def cells_of(lon: np.ndarray, lat: np.ndarray, cell_m: float, *, crs: str | None = None) -> tuple[np.ndarray, str]:
    """The grid cell of each point: ``floor(x / cell_m)`` and ``floor(y / cell_m)`` in metres of a
    UTM zone (``crs``; default: the zone of the points' mean), packed into one int64 (x in the
    high 32 bits). A point on a cell's edge belongs to the cell east / north of it."""
    from pyproj import Transformer

    from geo.crs import utm_crs_for

    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    if crs is None:
        crs = str(utm_crs_for(float(np.mean(lon)) if len(lon) else 112.5, float(np.mean(lat)) if len(lat) else 37.8))
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    cx = np.floor(np.asarray(x) / cell_m).astype(np.int64)
    cy = np.floor(np.asarray(y) / cell_m).astype(np.int64)
    return (cx << 32) + (cy & 0xFFFFFFFF), crs


def cell_centres(cells: np.ndarray, cell_m: float, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """The WGS-84 centre of each packed cell (the inverse of :func:`cells_of`)."""
    from pyproj import Transformer

    cells = np.asarray(cells, dtype=np.int64)
    cx = cells >> 32
    cy = (cells & 0xFFFFFFFF).astype(np.int64)
    cy = np.where(cy >= 2**31, cy - 2**32, cy)  # the low half is signed
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform((cx + 0.5) * cell_m, (cy + 0.5) * cell_m)
    return np.asarray(lon), np.asarray(lat)


def companion_summary(found: pd.DataFrame, neighbourhoods, *, cell_m: float, crs: str, as_of: object,
                      min_count: int = 3, top: int = 20) -> dict:
    """Aggregates of a detection, safe to show and keep (no device, no person): companions
    (distinct devices), pairs and cases; companions by the neighbourhood where they were together
    with a case (the cell's centre), and the cells with most companions — counts under
    ``min_count`` suppressed (left out, and the number left out said)."""
    import shapely

    out = {"as_of": pd.Timestamp(as_of).strftime("%Y-%m-%d"), "devices": int(found["device"].nunique()),
           "pairs": int(len(found)), "cases": int(found["case_device"].nunique()), "min_count": int(min_count),
           "neighbourhoods": [], "cells": [], "suppressed_neighbourhoods": 0, "suppressed_cells": 0}
    if found.empty:
        return out
    per_cell = found.groupby("cell")["device"].nunique()
    lon, lat = cell_centres(per_cell.index.to_numpy(), cell_m, crs)
    from geo.screening import neighbourhood_ids_for_points

    nb = neighbourhoods.reset_index(drop=True)
    cell_nb = pd.Series(neighbourhood_ids_for_points(shapely.points(lon, lat), nb), dtype=object)
    f = found.merge(pd.DataFrame({"cell": per_cell.index.to_numpy(), "nb": cell_nb.to_numpy()}), on="cell", how="left")
    by_nb = f.dropna(subset=["nb"]).groupby("nb")["device"].nunique().sort_values(ascending=False)
    names = dict(zip(nb["id"].astype(str), nb["name"].astype(str), strict=True))
    keep = by_nb[by_nb >= min_count]
    out["neighbourhoods"] = [{"id": k, "name": names.get(k, k), "companions": int(v)} for k, v in keep.items()]
    out["suppressed_neighbourhoods"] = int((by_nb < min_count).sum())
    cells = pd.DataFrame({"companions": per_cell.to_numpy(), "lon": lon, "lat": lat, "nb": cell_nb.to_numpy()})
    cells = cells.sort_values("companions", ascending=False, kind="stable")
    out["suppressed_cells"] = int((cells["companions"] < min_count).sum())
    cells = cells[cells["companions"] >= min_count].head(top)
    out["cells"] = [{"lon": round(float(r.lon), 5), "lat": round(float(r.lat), 5), "companions": int(r.companions),
                     "neighbourhood": names.get(r.nb, "") if isinstance(r.nb, str) else ""} for r in cells.itertuples()]
    return out


def _window(rule: CompanionRule, as_of: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The look-back window: ``window_days`` days ending at the end of the as-of day."""
    w_end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    return w_end - pd.Timedelta(days=rule.window_days), w_end


def outside_window(records: pd.DataFrame, rule: CompanionRule, as_of: object) -> tuple[int, pd.Timestamp, pd.Timestamp]:
    """How many clean records lie wholly outside the look-back window (they take no part in the
    detection), and the window."""
    lo, hi = _window(rule, as_of)
    return int(((records["end"] < lo) | (records["start"] >= hi)).sum()), lo, hi


def _clipped(device, cell: np.ndarray, start, end, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """Stays (``device``, ``cell``, ``s``, ``e``) with their times clipped to the window."""
    lo, hi = window
    return pd.DataFrame({"device": device, "cell": cell,
                         "s": local_times(pd.Series(start)).clip(lower=lo, upper=hi).to_numpy(),
                         "e": local_times(pd.Series(end)).clip(lower=lo, upper=hi).to_numpy()})


def _case_windows(cases: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """Each case's infectious window within the look-back window (``case_device``, ``cs``, ``ce``);
    ``cases`` as :func:`check_cases` returns them."""
    lo, hi = window
    return pd.DataFrame({
        "case_device": cases["device"].astype(str).to_numpy(),
        "cs": pd.to_datetime(cases["infectious_from"]).fillna(lo).clip(lower=lo).to_numpy(),
        "ce": pd.to_datetime(cases["infectious_to"]).fillna(hi).clip(upper=hi).to_numpy(),
    })


def _case_stays(stays: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """The cases' own stays cut to their infectious windows (``case_device``, ``cell``, ``s``, ``e``)."""
    k = stays.merge(windows, left_on="device", right_on="case_device")
    k = k.assign(s=k[["s", "cs"]].max(axis=1), e=k[["e", "ce"]].min(axis=1))
    return k[k["e"] > k["s"]][["case_device", "cell", "s", "e"]]


def _prepare(records: pd.DataFrame, cases: pd.DataFrame, rule: CompanionRule, as_of: object, crs: str | None):
    """Records as integer device codes with their cell, clipped to the window; the cases'
    windows (by code; a case device with no record is left out); the device names by code."""
    cases = check_cases(cases)
    window = _window(rule, as_of)
    codes, names = pd.factorize(records["device"], sort=False)
    names = pd.Index(names.astype(str))
    cell, crs = cells_of(records["lon"].to_numpy(), records["lat"].to_numpy(), rule.cell_m, crs=crs)
    r = _clipped(codes.astype(np.int64), cell, records["start"], records["end"], window)
    c = _case_windows(cases, window)
    code = names.get_indexer(c["case_device"])
    c = c[code >= 0].assign(case_device=code[code >= 0].astype(np.int64))
    return r, c, names


def _named(g: pd.DataFrame, names: pd.Index) -> pd.DataFrame:
    return g.assign(device=names.to_numpy()[g["device"].to_numpy(dtype=np.int64)],
                    case_device=names.to_numpy()[g["case_device"].to_numpy(dtype=np.int64)])


def companions_reference(records: pd.DataFrame, cases: pd.DataFrame, rule: CompanionRule, *, as_of: object,
                         crs: str | None = None) -> pd.DataFrame:
    """The slow, obvious way (pandas): every case stay against every other stay in its cell."""
    r, c, names = _prepare(records, cases, rule, as_of, crs)
    stays = r[r["e"] > r["s"]]
    # sums in whole microseconds (exact, so every engine rounds the same totals), hours at the end
    dwell = stays.assign(h=(stays["e"] - stays["s"]) // _US).groupby(["device", "cell"])["h"].sum() / _US_PER_HOUR
    pairs = _case_stays(stays, c).merge(stays, on="cell", suffixes=("_c", ""))
    pairs = pairs[pairs["device"] != pairs["case_device"]]
    lo = pairs[["s_c", "s"]].max(axis=1)
    hi = pairs[["e_c", "e"]].min(axis=1)
    pairs = pairs.assign(o=(hi - lo) // _US, t=lo)
    g = _combine(pairs[pairs["o"] > 0], dwell)
    return g if g.empty else _decide(_named(g, names), rule)


def _combine(pairs: pd.DataFrame, dwell: pd.Series) -> pd.DataFrame:
    """Pairs (``device``, ``case_device``, ``cell``, ``o`` in microseconds, ``t``) summed per
    device, case and cell, with both parties' stay in the cell (``dwell``: hours by device, cell)."""
    if pairs.empty:
        return _no_companions()
    g = pairs.groupby(["device", "case_device", "cell"], as_index=False).agg(overlap_minutes=("o", "sum"), first_together=("t", "min"))
    g["overlap_minutes"] = g["overlap_minutes"] / _US_PER_MINUTE
    d = dwell.rename("h").reset_index()
    g = g.merge(d.rename(columns={"h": "device_hours"}), on=["device", "cell"], how="left")
    g = g.merge(d.rename(columns={"device": "case_device", "h": "case_hours"}), on=["case_device", "cell"], how="left")
    return g.fillna({"device_hours": 0.0, "case_hours": 0.0})


def _no_companions() -> pd.DataFrame:
    """No rows, with the column types a detection that finds some gives (every engine alike)."""
    types = {"device": "str", "case_device": "str", "cell": "int64", "overlap_minutes": "float64",
             "first_together": "datetime64[us]", "device_hours": "float64", "case_hours": "float64"}
    return pd.DataFrame({c: pd.Series([], dtype=types[c]) for c in OUTPUT_COLUMNS})


def _decide(g: pd.DataFrame, rule: CompanionRule) -> pd.DataFrame:
    keep = g["overlap_minutes"] > rule.min_overlap_minutes + 1e-9
    if rule.cumulative_hours > 0:
        keep &= (g["device_hours"] > rule.cumulative_hours + 1e-9) | (g["case_hours"] > rule.cumulative_hours + 1e-9)
    out = g[keep].copy()
    out["first_together"] = pd.to_datetime(out["first_together"])
    out["overlap_minutes"] = out["overlap_minutes"].astype(float).round(3)
    out["device_hours"] = out["device_hours"].astype(float).round(3)
    out["case_hours"] = out["case_hours"].astype(float).round(3)
    return out[OUTPUT_COLUMNS].sort_values(["device", "case_device", "cell"], kind="stable").reset_index(drop=True)


#: Every stay of ``{stays}`` together with a case stay of ``{cases}`` in its cell: the overlap in
#: whole microseconds and when it began (DuckDB's range join; the engines share this one text).
_PAIR_JOIN = (
    "SELECT r.device, k.case_device, r.cell, date_diff('microsecond', greatest(r.s, k.s), least(r.e, k.e)) AS o,"
    " greatest(r.s, k.s) AS t FROM {stays} r JOIN {cases} k"
    " ON r.cell = k.cell AND r.s < k.e AND r.e > k.s AND r.device <> k.case_device"
)

_SQL = """
WITH stays AS (SELECT device, cell, s, e FROM recs WHERE e > s),
dwell AS (SELECT device, cell, SUM(date_diff('microsecond', s, e)) / 3600e6 AS h FROM stays GROUP BY device, cell),
case_stays AS (
  SELECT c.case_device, r.cell, greatest(r.s, c.cs) AS s, least(r.e, c.ce) AS e
  FROM stays r JOIN cases c ON r.device = c.case_device
  WHERE least(r.e, c.ce) > greatest(r.s, c.cs)
),
pairs AS ({pairs}),
g AS (
  SELECT device, case_device, cell, SUM(o) / 60e6 AS overlap_minutes, MIN(t) AS first_together
  FROM pairs GROUP BY device, case_device, cell
)
SELECT g.*, coalesce(d1.h, 0) AS device_hours, coalesce(d2.h, 0) AS case_hours
FROM g LEFT JOIN dwell d1 ON d1.device = g.device AND d1.cell = g.cell
       LEFT JOIN dwell d2 ON d2.device = g.case_device AND d2.cell = g.cell
"""


def companions_duckdb(records: pd.DataFrame, cases: pd.DataFrame, rule: CompanionRule, *, as_of: object,
                      crs: str | None = None, threads: int | None = None, memory_limit: str = "3GB") -> pd.DataFrame:
    """The companions by DuckDB (the default engine): same answer as :func:`companions_reference`."""
    import duckdb

    r, c, names = _prepare(records, cases, rule, as_of, crs)
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.register("recs", r)
        con.register("cases", c)
        g = con.execute(_SQL.format(pairs=_PAIR_JOIN.format(stays="stays", cases="case_stays"))).df()
    finally:
        con.close()
    if g.empty:
        return _no_companions()
    return _decide(_named(g, names), rule)


def dask_records(path: Path | str, *, crs: str = "wgs84"):
    """Location records read by the workers themselves (``dask.dataframe.read_parquet``: one
    partition per row group) and cleaned per partition (:func:`clean_records`; duplicates are
    found within a partition). For :func:`companions_dask` on data too big for one machine."""
    import dask.dataframe as dd

    raw = dd.read_parquet(str(path), columns=["device", "lon", "lat", "start", "end"])
    meta = pd.DataFrame({"device": pd.Series(dtype=object), "lon": pd.Series(dtype="float64"), "lat": pd.Series(dtype="float64"),
                         "start": pd.Series(dtype="datetime64[ns]"), "end": pd.Series(dtype="datetime64[ns]")})
    return raw.map_partitions(lambda p: clean_records(p, crs=crs, row_numbers=False)[0].astype({"device": object}), meta=meta)


def companions_dask(records, cases: pd.DataFrame, rule: CompanionRule, *, as_of: object, crs: str,
                    client=None) -> pd.DataFrame:
    """The companions on ``dask.dataframe`` (``records``: a dask or pandas frame of clean
    records, e.g. :func:`dask_records`), computed on ``client`` (a ``dask.distributed`` client)
    or the local scheduler:
    the cases' stays (small) are broadcast to every partition of the records; each partition
    yields its pairs and dwell sums, combined at the end. Same answer as the others; ``crs``
    must be given (the UTM zone: every partition must use the same grid)."""
    import dask.dataframe as dd

    cases = check_cases(cases)

    if not isinstance(records, dd.DataFrame):
        records = dd.from_pandas(records, npartitions=max(1, len(records) // 1_000_000))
    window = _window(rule, as_of)
    case_ids = set(cases["device"].astype(str))

    def prep(part: pd.DataFrame) -> pd.DataFrame:
        cell, _ = cells_of(part["lon"].to_numpy(), part["lat"].to_numpy(), rule.cell_m, crs=crs)
        out = _clipped(part["device"].astype(str).to_numpy(), cell, part["start"], part["end"], window)
        return out[out["e"] > out["s"]]

    meta = pd.DataFrame({"device": pd.Series(dtype=object), "cell": pd.Series(dtype="int64"),
                         "s": pd.Series(dtype="datetime64[ns]"), "e": pd.Series(dtype="datetime64[ns]")})
    stays = records.map_partitions(prep, meta=meta)
    if client is not None:
        stays = client.persist(stays)  # read and gridded once, kept on the workers for the three passes
    compute = client.compute if client is not None else None

    def run(x):
        return compute(x).result() if compute is not None else x.compute()

    # the cases' own stays: few, gathered to the driver and broadcast as a plain frame
    k = _case_stays(run(stays[stays["device"].isin(list(case_ids))]), _case_windows(cases, window))
    cells = set(k["cell"])

    def pairs_of(part: pd.DataFrame) -> pd.DataFrame:
        # each worker joins its partition with the (small) case stays by DuckDB's range join: a
        # pandas merge on the cell alone would build every pair of a busy cell before the time filter
        import duckdb

        con = duckdb.connect()
        try:
            con.execute("SET threads = 1")
            con.register("part", part[part["cell"].isin(cells)])
            con.register("k", k)
            return con.execute(_PAIR_JOIN.format(stays="part", cases="k")).df()
        finally:
            con.close()

    pmeta = pd.DataFrame({"device": pd.Series(dtype=object), "case_device": pd.Series(dtype=object),
                          "cell": pd.Series(dtype="int64"), "o": pd.Series(dtype="float64"), "t": pd.Series(dtype="datetime64[ns]")})
    pairs = stays.map_partitions(pairs_of, meta=pmeta)
    dwell = stays.assign(h=(stays["e"] - stays["s"]) // _US).groupby(["device", "cell"])["h"].sum()
    g = _combine(run(pairs), run(dwell) / _US_PER_HOUR)
    return g if g.empty else _decide(g, rule)
