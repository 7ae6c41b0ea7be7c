"""The command page as served, without navigation (same conditions as the naive baseline)."""

from pathlib import Path

_page = Path(__file__).resolve().parent / "page.py"
exec(compile(_page.read_text(encoding="utf-8"), str(_page), "exec"), {"__name__": "__main__"})  # noqa: S102
