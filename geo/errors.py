"""Domain exceptions. Each subclasses a built-in so callers can catch broadly or precisely."""

from __future__ import annotations

__all__ = ["CoordinateError", "ImportRejected", "StaleWrite", "SettingsError"]


class CoordinateError(ValueError):
    """A coordinate is out of range or a coordinate system is unknown."""


class ImportRejected(ValueError):
    """An import was refused; ``rows`` lists ``(row, column, reason_zh, reason_en)``."""

    def __init__(self, message: str, rows: list[tuple[int | None, str | None, str, str]] | None = None):
        super().__init__(message)
        self.rows = rows or []


class StaleWrite(RuntimeError):
    """An edit was based on an old version of a record that someone else has changed since."""


class SettingsError(ValueError):
    """A setting has a bad value or an unknown key; the message names the key."""
