"""Opening hours of testing sites: parse ``"07:00-19:00"``-style text, ask "open now?".

Format (the ``hours`` column of the testing-site layer)
-------------------------------------------------------
* ``"24h"`` (also ``"24小时"``, ``"全天"``): open all day, every day.
* One or more ranges ``HH:MM-HH:MM`` separated by commas: ``"08:00-12:00,14:00-18:00"``.
  Hours may have one digit (``"7:30"``); an end of ``24:00`` means midnight at the end of the day.
* A range whose end is at or before its start runs past midnight into the next day:
  ``"20:00-02:00"`` is open from 20:00 until 02:00 the next morning (so it is open at 01:30
  of any day), and ``"08:00-08:00"`` is a full 24 hours.
* ``"closed"`` (also ``"暂停"``, ``"暂停开放"``): never open.
* Full-width characters (``：``, ``，``, ``～``), ``;``/``、`` as separators, ``~``/``–``/``—``/``至`` as
  dashes and spaces around them are accepted. The same hours apply every day of the week.

Times
-----
All times are local to Asia/Shanghai (UTC+8, no daylight saving since 1991). A naive
``datetime`` is read as Shanghai local time and naive results are returned for it; an aware
``datetime`` is converted to Shanghai time and aware results (``Asia/Shanghai``) are returned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

__all__ = ["SHANGHAI", "parse_hours", "is_open", "next_opening", "open_mask", "open_intervals"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_DAY_MIN = 24 * 60
_ALL_DAY = {"24h", "24小时", "全天"}
_CLOSED = {"closed", "暂停", "暂停开放"}
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*(?:-|–|—|~|至)\s*(\d{1,2}):(\d{2})")
_SEPARATORS = re.compile(r"\s*[,;、]\s*")


def _minutes(hh: str, mm: str, *, end: bool) -> int | None:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        return None
    return h * 60 + m


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[tuple[int, int], ...]:
    norm = unicodedata.normalize("NFKC", text).strip()
    key = re.sub(r"\s+", "", norm).lower()
    if key in _ALL_DAY:
        return ((0, _DAY_MIN),)
    if key in _CLOSED:
        return ()
    ranges = []
    for part in _SEPARATORS.split(norm):
        m = _RANGE.fullmatch(part)
        start = _minutes(m[1], m[2], end=False) if m else None
        stop = _minutes(m[3], m[4], end=True) if m else None
        if start is None or stop is None:
            msg = (
                f"malformed opening hours {text!r}: expected '24h', 'closed' or ranges like "
                f"'08:00-12:00,14:00-18:00' (a range ending at or before its start runs past midnight)"
            )
            raise ValueError(msg)
        ranges.append((start, stop))
    return tuple(ranges)


def parse_hours(text: str) -> list[tuple[int, int]]:
    """Opening ranges as ``(start, end)`` minutes after midnight, in the order written.

    Parameters
    ----------
    text : str
        Opening hours (see the module docstring for the format).

    Returns
    -------
    list of tuple of int
        ``[(0, 1440)]`` for all day, ``[]`` for closed. ``end`` is in ``0..1440``; a range
        with ``end <= start`` runs past midnight: ``"20:00-02:00"`` → ``[(1200, 120)]``.

    Raises
    ------
    ValueError
        The text is not in the format; the message quotes it.

    Examples
    --------
    >>> parse_hours("08:00-12:00,14:00-18:00")
    [(480, 720), (840, 1080)]
    >>> parse_hours("24h")
    [(0, 1440)]
    """
    if not isinstance(text, str):
        msg = f"malformed opening hours {text!r}: expected text such as '07:00-19:00'"
        raise ValueError(msg)
    return list(_parse(text))


def local_naive(t: Any) -> Any:
    """``t`` as naive Asia/Shanghai local time, the product's one convention for stored and
    compared times: an aware time (a timestamp, or a Series of them) is converted to Shanghai
    time and its zone dropped; a naive one is local already and returned as it is."""
    if isinstance(t, pd.Series):
        return t.dt.tz_convert(SHANGHAI).dt.tz_localize(None) if t.dt.tz is not None else t
    ts = pd.Timestamp(t)
    return ts.tz_convert(SHANGHAI).tz_localize(None) if ts.tzinfo is not None else ts


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"  # a time written with its zone: "…Z", "…+08:00", "…+0800"


def local_times(values: Any) -> pd.Series:
    """Imported times (text, datetimes, a column of either) as naive Asia/Shanghai local time,
    the one reader every import of times uses.

    Text is read as ISO 8601 element by element (``2022-03-28 09:00``, ``2022-3-28 9:00``,
    ``2022/03/28``, ``2022-03-28T01:00:00Z``, ``…+08:00``; ``年月日`` as separators too) — never
    by a format guessed from the first row, nor by a free-form parser that makes a date of
    ``12``. A naive time is local already; an aware one, or text with an offset, is converted
    (:func:`local_naive`), each with its own offset. A number (an epoch in an unknown unit, a
    spreadsheet number), an ambiguous ``03/04/2022`` and text that is not a time are ``NaT``:
    not understood, for the caller to count — never guessed (pandas would read a number as
    nanoseconds after 1970)."""
    col = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return pd.Series(pd.NaT, index=col.index, dtype="datetime64[us]")
    if pd.api.types.is_datetime64_any_dtype(col):
        return local_naive(col)
    if col.dtype == object:  # numbers among text (a spreadsheet cell): set aside; datetimes read as text
        number = col.map(lambda v: isinstance(v, int | float | np.number)).astype(bool)
        col = col.where(~number, None).map(lambda v: v.isoformat() if isinstance(v, datetime | pd.Timestamp) else v)
    text = col.astype("string").str.strip()
    if text.str.contains("[年月日]", regex=True, na=False).any():
        text = text.str.replace(r"\s*[年月]\s*", "-", regex=True).str.replace(r"\s*日\s*", " ", regex=True).str.strip()
    aware = text.str.contains(_OFFSET, regex=True, na=False).to_numpy()
    out = pd.Series(pd.NaT, index=col.index, dtype="datetime64[us]")
    if (~aware).any():
        out[~aware] = pd.to_datetime(text[~aware], errors="coerce", format="ISO8601")
    if aware.any():
        out[aware] = local_naive(pd.to_datetime(text[aware], errors="coerce", format="ISO8601", utc=True))
    return out


def _local(when: datetime) -> datetime:
    if not isinstance(when, datetime):
        msg = f"when must be a datetime, got {type(when).__name__}"
        raise TypeError(msg)
    return when if when.tzinfo is None else when.astimezone(SHANGHAI)


def _open_at(ranges: tuple[tuple[int, int], ...], local: datetime) -> bool:
    t = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    for start, end in ranges:
        s, e = start * 60, end * 60
        if (s <= t < e) if end > start else (t >= s or t < e):
            return True
    return False


def is_open(hours_text: str, when: datetime) -> bool:
    """Whether a site with these opening hours is open at ``when``.

    Parameters
    ----------
    hours_text : str
        Opening hours (see the module docstring).
    when : datetime.datetime
        Naive (Asia/Shanghai local) or aware.

    Returns
    -------
    bool
        ``True`` from a range's start (inclusive) to its end (exclusive): ``"20:00-02:00"`` is
        open at 20:00 and 01:59:59, closed at 02:00 and at 19:59.

    Raises
    ------
    ValueError
        ``hours_text`` is malformed.
    """
    return _open_at(tuple(parse_hours(hours_text)), _local(when))


def next_opening(hours_text: str, when: datetime) -> datetime | None:
    """The earliest moment at or after ``when`` at which the site is open.

    Parameters
    ----------
    hours_text : str
        Opening hours (see the module docstring).
    when : datetime.datetime
        Naive (Asia/Shanghai local) or aware.

    Returns
    -------
    datetime.datetime or None
        ``when`` itself (in Shanghai time) if open then, else the next start of a range; naive
        for a naive ``when``, aware (Asia/Shanghai) for an aware one. ``None`` if the hours say
        closed.

    Raises
    ------
    ValueError
        ``hours_text`` is malformed.

    Examples
    --------
    >>> next_opening("08:00-12:00,14:00-18:00", datetime(2022, 4, 1, 12, 30))
    datetime.datetime(2022, 4, 1, 14, 0)
    """
    ranges = tuple(parse_hours(hours_text))
    local = _local(when)
    if not ranges:
        return None
    if _open_at(ranges, local):
        return local
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = (midnight + timedelta(days=day, minutes=s) for day in (0, 1) for s, _ in ranges)
    return min(t for t in starts if t > local)


def open_intervals(hours_text: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The times a site is open between ``start`` and ``end`` (naive Asia/Shanghai local), as
    sorted, merged ``(from, to)`` pairs clipped to the window. Raises ``ValueError`` for malformed
    hours; ``[]`` for closed.

    Examples
    --------
    >>> open_intervals("08:00-12:00", datetime(2022, 4, 1, 10, 0), datetime(2022, 4, 2, 9, 0))
    [(datetime.datetime(2022, 4, 1, 10, 0), datetime.datetime(2022, 4, 1, 12, 0)), (datetime.datetime(2022, 4, 2, 8, 0), datetime.datetime(2022, 4, 2, 9, 0))]
    """
    ranges = parse_hours(hours_text)
    if not ranges or end <= start:
        return []
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    spans = []
    day = day0
    while day <= end:
        for a, b in ranges:
            s = day + timedelta(minutes=a)
            e = day + timedelta(minutes=b if b > a else b + 1440)
            lo, hi = max(s, start), min(e, end)
            if lo < hi:
                spans.append((lo, hi))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def open_mask(hours_series: Iterable[Any], when: datetime) -> np.ndarray:
    """Open-at-``when`` flags for many sites; each distinct text is parsed once.

    Parameters
    ----------
    hours_series : pandas.Series or iterable of str
        One opening-hours text per site.
    when : datetime.datetime
        Naive (Asia/Shanghai local) or aware.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool, in the order given; usable as ``mask`` for :func:`geo.sites_near`.

    Raises
    ------
    ValueError
        A text is malformed or missing; the message gives its row position and quotes it.
    """
    values = hours_series if isinstance(hours_series, pd.Series) else pd.Series(list(hours_series), dtype=object)
    local = _local(when)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        i = int(np.flatnonzero(codes < 0)[0])
        msg = f"hours row {i}: malformed opening hours {values.iloc[i]!r}: missing"
        raise ValueError(msg)
    flags = np.empty(len(uniques), dtype=bool)
    for j, text in enumerate(uniques):
        try:
            flags[j] = _open_at(tuple(parse_hours(text)), local)
        except ValueError as exc:
            i = int(np.flatnonzero(codes == j)[0])
            msg = f"hours row {i}: {exc}"
            raise ValueError(msg) from exc
    return flags[codes]
