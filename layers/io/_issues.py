"""Rejects and notes of an import: ``(row, column, reason_zh, reason_en)`` tuples, formatted one way everywhere."""

from __future__ import annotations

from typing import Literal

__all__ = ["Issue", "Unit", "format_issue", "bilingual", "row_numbers_note"]

Unit = Literal["row", "feature"]


class Issue(tuple):
    """One rejected or noted item: a 4-tuple ``(row, column, reason_zh, reason_en)``.

    It compares equal to a plain tuple, so tests and callers can treat it as one. Two attributes
    ride along: ``value`` (the offending value as text, or ``None`` when it must not be shown:
    personal columns and locations of personal layers) and ``unit`` (``"row"``: spreadsheet row
    number, header is row 1; ``"feature"``: feature number from 1). ``row`` is ``None`` for a
    problem with the whole file.
    """

    value: str | None
    unit: Unit

    def __new__(
        cls,
        row: int | None,
        column: str | None,
        reason_zh: str,
        reason_en: str,
        *,
        value: object = None,
        unit: Unit = "row",
    ) -> Issue:
        obj = super().__new__(cls, (row, column, reason_zh, reason_en))
        obj.value = None if value is None else str(value)
        obj.unit = unit
        return obj

    def __getnewargs_ex__(self):  # keep pickling/copying working for a tuple subclass with keywords
        return tuple(self), {"value": self.value, "unit": self.unit}

    @property
    def row(self) -> int | None:
        return self[0]

    @property
    def column(self) -> str | None:
        return self[1]

    @property
    def reason_zh(self) -> str:
        return self[2]

    @property
    def reason_en(self) -> str:
        return self[3]

    def reason(self, lang: str) -> str:
        return self.reason_zh if lang == "zh" else self.reason_en


def where(row: int | None, unit: Unit) -> str:
    """``第 17 行 row 17`` / ``第 3 个要素 feature 3`` / ``文件 file``."""
    if row is None:
        return "文件 file"
    if unit == "feature":
        return f"第 {row} 个要素 feature {row}"
    return f"第 {row} 行 row {row}"


def format_issue(issue: Issue, *, show_value: bool = True) -> str:
    """``第 17 行 row 17 · 纬度 lat: 超出范围 [-90, 90] / out of range [-90, 90] ('137.2')``.

    The value is appended only when it is known and may be shown (never for personal data).
    """
    head = where(issue.row, getattr(issue, "unit", "row"))
    if issue.column:
        head += f" · {issue.column}"
    text = f"{head}: {issue.reason_zh} / {issue.reason_en}"
    value = getattr(issue, "value", None)
    if show_value and value not in (None, ""):
        text += f" ({value!r})"
    return text


def bilingual(zh: str, en: str) -> str:
    return f"{zh} / {en}"


def row_numbers_note(unit: Unit) -> tuple[str, str]:
    """How to read the numbers in a reject list."""
    if unit == "feature":
        return "编号为要素序号（从 1 开始）", "numbers are feature numbers, counted from 1"
    return "行号为表格行号（第 1 行是表头，数据从第 2 行开始）", "row numbers are spreadsheet rows (row 1 is the header, data starts on row 2)"
