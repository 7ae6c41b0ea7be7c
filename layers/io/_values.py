"""Cell values → typed values, converted or refused (never guessed), and each layer's value domains."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cache

import pandas as pd

from geo.hours import local_naive
from geo.screening import AS_OF_RANGE
from layers import addresses, hotels, risk_areas, testing_sites, zones
from layers._cells import restore
from layers.spec import _FALSE, _TRUE

__all__ = ["BadValue", "is_empty", "parse", "DOMAINS", "domain_value", "parse_number"]


class BadValue(ValueError):
    """A cell that does not convert; ``zh``/``en`` say why (never quoting the value)."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


class BadText(BadValue):
    """Text that cannot be what was meant: a control character (a NUL would cut a name short in the
    store), the replacement character or a private-use character (the file was decoded with the
    wrong encoding)."""


# C0 controls but tab, newline, carriage return; DEL; C1 controls; U+FFFD; private use areas
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff]")


def check_text(s: str) -> str:
    """``s``, or :class:`BadText` naming the first bad character by its code point."""
    m = _BAD_TEXT.search(s)
    if m is None:
        return s
    ch = m.group()
    code = f"U+{ord(ch):04X}"
    if ch == "\ufffd":
        raise BadText(f"含有无法解码的字符（{code}），文件编码可能不对", f"holds an undecodable character ({code}); the file's encoding may be wrong")
    if 0xE000 <= ord(ch) <= 0xF8FF or ord(ch) >= 0xF0000:
        raise BadText(f"含有私用区字符（{code}），文件编码可能不对", f"holds a private-use character ({code}); the file's encoding may be wrong")
    raise BadText(f"含有控制字符（{code}），文件可能已损坏", f"holds a control character ({code}); the file may be damaged")


def is_empty(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def parse_str(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # 140105 typed into a spreadsheet arrives as a number
    if isinstance(v, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(v)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return check_text(restore(_strip(str(v))))


def _strip(s: str) -> str:
    return s.strip().strip("\u3000\ufeff").strip()


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_number(v: object) -> float:
    if isinstance(v, bool):
        raise BadValue("不是数字", "not a number")
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            raise BadValue("不是有限的数字", "not a finite number")
        return float(v)
    s = _strip(str(v))
    s = s.replace("，", ",").replace("．", ".").replace("－", "-")
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    try:
        x = float(s)
    except ValueError:
        raise BadValue("不是数字", "not a number") from None
    if not math.isfinite(x):
        raise BadValue("不是有限的数字", "not a finite number")
    return x


def parse_int(v: object) -> int:
    try:
        x = parse_number(v)
    except BadValue:
        raise BadValue("不是整数", "not a whole number") from None
    if not x.is_integer():
        raise BadValue("不是整数", "not a whole number")
    return int(x)


def parse_bool(v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    key = _strip(str(v)).lower()
    if key in _TRUE or key in {"√", "✓", "对"}:
        return True
    if key in _FALSE or key in {"×", "✗", "错"}:
        return False
    raise BadValue("不是“是/否”值（可用 是/否、true/false、1/0）", "not a yes/no value (use 是/否, true/false or 1/0)")


_YMD = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\s*(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$"
)
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_DMY_OR_MDY = re.compile(r"^\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}(?:[ T].*)?$")
_DATE_HINT = "请用 2022-03-28、2022/3/28 或 2022年3月28日", "use 2022-03-28, 2022/3/28 or 2022年3月28日"


def _in_range(day: pd.Timestamp) -> pd.Timestamp:
    """``day``, or :class:`BadValue` outside the days the product's data can name (the range every
    as-of date is held to, :data:`geo.screening.AS_OF_RANGE`): ``1900-01-01`` or ``0022-03-27``
    is a typo, and would put a person's every deadline decades in the past."""
    lo, hi = AS_OF_RANGE
    if not lo <= day <= hi:
        span = f"{lo:%Y-%m-%d} … {hi:%Y-%m-%d}"
        raise BadValue(f"日期超出范围 {span}（多半是笔误）", f"date outside {span} (most likely a typo)")
    return day


def parse_date(v: object) -> tuple[pd.Timestamp, bool]:
    """A calendar day and whether a time of day (other than midnight) was dropped.

    Year-first forms only; ``03/04/2022`` (day and month order unknown) is refused, not guessed;
    so is a day outside the product's range (:func:`_in_range`).
    """
    if isinstance(v, pd.Timestamp | dt.datetime):
        ts = local_naive(v)
        return _in_range(ts.normalize()), ts != ts.normalize()
    if isinstance(v, dt.date):
        return _in_range(pd.Timestamp(v)), False
    if isinstance(v, int | float) and not isinstance(v, bool):
        raise BadValue(f"是数字而不是日期；{_DATE_HINT[0]}", f"a number, not a date; {_DATE_HINT[1]}")
    s = _strip(str(v))
    m = _YMD.match(s) or _COMPACT.match(s)
    if m is None:
        if _DMY_OR_MDY.match(s):
            raise BadValue(
                f"日期有歧义（日、月顺序不明）；{_DATE_HINT[0]}",
                f"ambiguous date (day/month order unknown); {_DATE_HINT[1]}",
            )
        raise BadValue(f"不是日期；{_DATE_HINT[0]}", f"not a date; {_DATE_HINT[1]}")
    try:
        day = pd.Timestamp(dt.date(int(m["y"]), int(m["m"]), int(m["d"])))
    except ValueError:
        raise BadValue("没有这一天（月或日超出范围）", "no such day (month or day out of range)") from None
    time = m.groupdict().get("time")
    dropped = bool(time) and any(int(p) for p in re.split(r"[:.]", time))
    return _in_range(day), dropped


def parse(v: object, dtype: str) -> tuple[object, bool]:
    """``(value, time_dropped)`` for a non-empty cell in a schema dtype; raises :class:`BadValue`."""
    if dtype == "int":
        return parse_int(v), False
    if dtype == "float":
        return parse_number(v), False
    if dtype == "bool":
        return parse_bool(v), False
    if dtype == "date":
        return parse_date(v)
    return parse_str(v), False


def _domain(codes: dict, extra: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, (zh, en, *_rest) in codes.items():
        for k in (code, zh, en):
            out[k.lower()] = code
    out.update({k.lower(): v for k, v in extra.items()})
    return out


#: (layer, column) → accepted text (lower case) → stored code; Chinese labels accepted.
DOMAINS: dict[tuple[str, str], dict[str, str]] = {
    ("testing_sites", "type"): _domain(
        testing_sites.SITE_TYPES,
        {"固定点": "fixed", "固定": "fixed", "便民点": "convenience", "便民": "convenience",
         "流动采样点": "mobile", "流动": "mobile", "流动车": "mobile"},
    ),
    ("hotels", "status"): _domain(hotels.STATUS, {"在用": "in_use", "启用": "in_use", "关闭": "closed", "in use": "in_use"}),
    ("zones", "tier"): _domain(zones.TIERS, {"封控": "sealed", "管控": "controlled", "防范": "precaution"}),
    ("risk_areas", "level"): _domain(
        risk_areas.LEVELS,
        {"高风险": "high", "高": "high", "中风险": "medium", "中": "medium",
         "有病例尚未定级": "cases_unrated", "未定级": "cases_unrated"},
    ),
    ("addresses", "kind"): _domain(
        addresses.KINDS,
        {"路": "road", "街": "road", "街道名": "road", "地址": "address", "门牌": "address", "门牌号": "address",
         "兴趣点": "poi", "poi": "poi", "地名": "poi"},
    ),
}

_DOMAIN_SOURCES = {
    ("testing_sites", "type"): testing_sites.SITE_TYPES,
    ("hotels", "status"): hotels.STATUS,
    ("zones", "tier"): zones.TIERS,
    ("risk_areas", "level"): risk_areas.LEVELS,
    ("addresses", "kind"): addresses.KINDS,
}


@cache
def _domain_reason(key: str, column: str) -> tuple[str, str]:
    src = _DOMAIN_SOURCES[(key, column)]
    zh = "、".join(f"{v[0]}（{k}）" for k, v in src.items())
    en = ", ".join(f"{k} ({v[0]})" for k, v in src.items())
    return f"不是可选值之一：{zh}", f"not one of the allowed values: {en}"


def domain_value(key: str, column: str, value: str) -> str:
    """The stored code for a domain column (``医院`` → ``hospital``); raises :class:`BadValue`."""
    table = DOMAINS[(key, column)]
    code = table.get(value.strip().lower())
    if code is None:
        raise BadValue(*_domain_reason(key, column))
    return code
