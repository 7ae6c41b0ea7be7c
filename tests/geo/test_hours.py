"""geo.hours: parsing, open-at, next opening, the vectorized mask."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.hours import SHANGHAI, is_open, next_opening, open_mask, parse_hours

DAY = datetime(2022, 4, 1)  # any day: hours repeat daily


def at(hh: int, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss, microsecond=us)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", [(0, 1440)]),
        ("24H", [(0, 1440)]),
        ("24小时", [(0, 1440)]),
        ("全天", [(0, 1440)]),
        ("07:00-19:00", [(420, 1140)]),
        ("08:00-12:00,14:00-18:00", [(480, 720), (840, 1080)]),
        ("08:00-12:00, 14:30-17:30", [(480, 720), (870, 1050)]),
        ("7:30-11:30；14:30 ～ 17:30", [(450, 690), (870, 1050)]),
        ("08：00-12：00，14：00-18：00", [(480, 720), (840, 1080)]),
        ("08:00—12:00、14:00至18:00", [(480, 720), (840, 1080)]),
        ("20:00-02:00", [(1200, 120)]),
        ("18:00-00:30", [(1080, 30)]),
        ("22:00-24:00", [(1320, 1440)]),
        ("00:00-24:00", [(0, 1440)]),
        ("08:00-08:00", [(480, 480)]),
        (" closed ", []),
        ("暂停开放", []),
    ],
)
def test_parse_hours(text, expected):
    assert parse_hours(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " ", "8-12", "08:00", "08:00-", "25:00-26:00", "08:60-09:00", "24:00-02:00", "08:00-24:30",
     "08:00-12:00,", "08:00-12:00,,14:00-18:00", "open", "08:00-12:00 14:00-18:00", "24/7"],
)
def test_malformed_hours_raise_naming_the_text(text):
    with pytest.raises(ValueError, match=re.escape(f"malformed opening hours {text!r}")):
        parse_hours(text)


@pytest.mark.parametrize("value", [None, float("nan"), 24, b"24h"])
def test_non_text_hours_raise(value):
    with pytest.raises(ValueError, match="malformed opening hours"):
        parse_hours(value)


@pytest.mark.parametrize(
    ("text", "when", "expected"),
    [
        # across midnight
        ("20:00-02:00", at(1, 30), True),
        ("20:00-02:00", at(1, 59, 59, 999_999), True),
        ("20:00-02:00", at(2, 0), False),
        ("20:00-02:00", at(12, 0), False),
        ("20:00-02:00", at(19, 59), False),
        ("20:00-02:00", at(19, 59, 59), False),
        ("20:00-02:00", at(20, 0), True),
        ("20:00-02:00", at(23, 59, 59), True),
        ("20:00-02:00", at(0, 0), True),
        ("18:00-00:30", at(0, 29), True),
        ("18:00-00:30", at(0, 30), False),
        ("22:00-24:00", at(23, 59), True),
        ("22:00-24:00", at(0, 0), False),
        ("22:00-06:00", at(5, 59), True),
        ("22:00-06:00", at(6, 0), False),
        # all day
        ("24h", at(0, 0), True),
        ("24h", at(12, 0), True),
        ("24h", at(23, 59, 59, 999_999), True),
        ("08:00-08:00", at(7, 59), True),
        ("00:00-24:00", at(23, 59), True),
        # split day
        ("08:00-12:00,14:00-18:00", at(7, 59), False),
        ("08:00-12:00,14:00-18:00", at(8, 0), True),
        ("08:00-12:00,14:00-18:00", at(11, 59), True),
        ("08:00-12:00,14:00-18:00", at(12, 0), False),
        ("08:00-12:00,14:00-18:00", at(13, 0), False),
        ("08:00-12:00,14:00-18:00", at(14, 0), True),
        ("08:00-12:00,14:00-18:00", at(18, 0), False),
        ("closed", at(12, 0), False),
    ],
)
def test_is_open(text, when, expected):
    assert is_open(text, when) is expected


def test_aware_times_are_converted_to_shanghai():
    # 17:30 UTC is 01:30 the next morning in Shanghai
    assert is_open("20:00-02:00", datetime(2022, 4, 1, 17, 30, tzinfo=UTC)) is True
    assert is_open("20:00-02:00", datetime(2022, 4, 1, 18, 0, tzinfo=UTC)) is False
    assert is_open("08:00-12:00", datetime(2022, 4, 1, 1, 0, tzinfo=UTC)) is True  # 09:00 local
    got = next_opening("08:00-12:00", datetime(2022, 4, 1, 5, 0, tzinfo=UTC))  # 13:00 local
    assert got == datetime(2022, 4, 2, 8, 0, tzinfo=SHANGHAI)
    assert got.tzinfo is SHANGHAI
    now = datetime(2022, 4, 1, 1, 0, tzinfo=UTC)
    assert next_opening("08:00-12:00", now) == now


@pytest.mark.parametrize(
    ("text", "when", "expected"),
    [
        ("08:00-12:00,14:00-18:00", at(9, 0), at(9, 0)),  # open now
        ("08:00-12:00,14:00-18:00", at(12, 30), at(14, 0)),
        ("08:00-12:00,14:00-18:00", at(18, 0), at(8, 0) + timedelta(days=1)),
        ("08:00-12:00,14:00-18:00", at(6, 0), at(8, 0)),
        ("20:00-02:00", at(2, 0), at(20, 0)),
        ("20:00-02:00", at(19, 59, 30), at(20, 0)),
        ("20:00-02:00", at(1, 0), at(1, 0)),
        ("14:00-18:00,08:00-12:00", at(19, 0), at(8, 0) + timedelta(days=1)),  # order written
        ("24h", at(3, 3, 3), at(3, 3, 3)),
        ("08:00-12:00", datetime(2022, 12, 31, 23, 0), datetime(2023, 1, 1, 8, 0)),
        ("closed", at(12, 0), None),
    ],
)
def test_next_opening(text, when, expected):
    assert next_opening(text, when) == expected


def test_open_mask_vectorized():
    hours = pd.Series(
        ["24h", "08:00-12:00,14:00-18:00", "20:00-02:00", "24h", "20:00-02:00", "closed"],
        index=[5, 4, 3, 2, 1, 0],
    )
    got = open_mask(hours, at(1, 30))
    assert got.dtype == np.bool_
    assert got.tolist() == [True, False, True, True, True, False]
    assert open_mask(list(hours), at(9, 0)).tolist() == [True, True, False, True, False, False]
    assert open_mask(pd.Series([], dtype=object), at(9, 0)).shape == (0,)


def test_open_mask_names_the_bad_row():
    with pytest.raises(ValueError, match=r"hours row 2: malformed opening hours '8点-12点'"):
        open_mask(["24h", "24h", "8点-12点", "8点-12点"], at(9, 0))
    with pytest.raises(ValueError, match=r"hours row 1: malformed opening hours \S+: missing"):
        open_mask(pd.Series(["24h", None]), at(9, 0))


def test_malformed_text_raises_in_every_function():
    for fn in (is_open, next_opening):
        with pytest.raises(ValueError, match="malformed opening hours '9-5'"):
            fn("9-5", at(9, 0))
    with pytest.raises(TypeError, match="when must be a datetime"):
        is_open("24h", "2022-04-01 09:00")


# ---------------------------------------------------------------- property: a minute-by-minute reference

hhmm = st.integers(0, 23 * 60 + 59)


@st.composite
def hours_texts(draw):
    ranges = draw(st.lists(st.tuples(hhmm, st.integers(0, 1440)), min_size=1, max_size=3))
    text = ",".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in ranges)
    return text, ranges


def _timeline(ranges) -> np.ndarray:
    """Open minutes over three days; a range ending at or before its start spills into the next day."""
    open_ = np.zeros(3 * 1440 + 1, dtype=bool)
    for day in range(3):
        for s, e in ranges:
            a = day * 1440 + s
            b = day * 1440 + (e if e > s else e + 1440)
            open_[a : min(b, open_.size)] = True
    return open_


@settings(max_examples=300, deadline=None)
@given(hours_texts(), st.integers(0, 1439))
def test_matches_minute_by_minute_reference(text_ranges, minute):
    text, ranges = text_ranges
    assert parse_hours(text) == ranges
    line = _timeline(ranges)
    now = 1440 + minute  # the middle day, so yesterday's late ranges count
    when = DAY + timedelta(minutes=minute)
    assert is_open(text, when) is bool(line[now])
    nxt = next_opening(text, when)
    first = now + int(np.argmax(line[now:]))
    assert nxt == DAY + timedelta(minutes=first - 1440)
    assert is_open(text, nxt)
    assert open_mask([text, "closed"], when).tolist() == [bool(line[now]), False]


def test_local_times_reads_every_zone_as_shanghai_local_and_never_guesses_a_number():
    """The one reader of imported times: naive is local already; an offset or an aware column is
    converted; several offsets in one column are each read with their own; a number (an epoch in
    an unknown unit, or a spreadsheet number) is not understood, never 1970."""
    import pandas as pd

    from geo.hours import local_times

    text = pd.Series(["2022-03-28 09:00", "2022-03-28T01:00:00Z", "2022-03-28T09:00:00+08:00", "2022-03-28T02:00+0100",
                      "yesterday", None, 1648458000, 1.5, True])
    got = local_times(text)
    want = ["2022-03-28 09:00"] * 4
    assert [f"{t:%Y-%m-%d %H:%M}" for t in got[:4]] == want and got[4:].isna().all()
    assert local_times(pd.Series([1648458000, 1648458001])).isna().all()
    aware = pd.Series(pd.to_datetime(["2022-03-28 01:00"]).tz_localize("UTC"))
    assert f"{local_times(aware).iloc[0]:%Y-%m-%d %H:%M}" == "2022-03-28 09:00" and local_times(aware).dt.tz is None
    same = pd.Series(["2022-03-28 01:00Z", "2022-03-28 02:00Z"])  # one offset for all: the fast path
    assert [f"{t:%H:%M}" for t in local_times(same)] == ["09:00", "10:00"]
