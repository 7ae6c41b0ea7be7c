"""The one helper for data shown through Streamlit: Markdown and HTML in data stay text."""

from __future__ import annotations

import re

import pytest

from dashboard.safe_text import md_text


@pytest.mark.parametrize(
    "payload",
    ["![x](http://127.0.0.1:9/t.png)", "[click](http://example.invalid)", "**bold** _it_", ":red[alarm] :smile:",
     "<img src=x onerror=alert(1)>", "# heading", "`code`", "line1\nline2 - item", "$x^2$"],
)
def test_every_markdown_character_is_escaped(payload: str) -> None:
    out = md_text(payload)
    # every Markdown / HTML special character is preceded by a backslash; nothing else changes
    unescaped = re.sub(r"\\.", "", out)
    assert not set(unescaped) & set("\\`*_{}[]()#+-.!|<>~$:=^\"'")
    assert re.sub(r"\\(.)", r"\1", out) == payload.replace("\n", " ")


def test_plain_chinese_text_is_unchanged() -> None:
    assert md_text("通达街社区 采样点 1号") == "通达街社区 采样点 1号"
