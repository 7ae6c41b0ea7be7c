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


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        ("已被 王 于 10:00 记录，请重新加载 / recorded by 王 at 10:00 — reload", "已被 王 于 10:00 记录，请重新加载", "recorded by 王 at 10:00 — reload"),
        ("changed by li at 10:00 — reload / 已被 li 于 10:00 修改，请重新加载", "已被 li 于 10:00 修改，请重新加载", "changed by li at 10:00 — reload"),
        ("changed by 王五 at 10:00 — reload / 已被 王五 于 10:00 修改，请重新加载", "已被 王五 于 10:00 修改，请重新加载",
         "changed by 王五 at 10:00 — reload"),
        ("no separator here", "no separator here", "no separator here"),
    ],
)
def test_a_bilingual_message_is_shown_in_the_pages_language(message, zh, en):
    from dashboard.safe_text import in_lang

    assert (in_lang(message, "zh"), in_lang(message, "en")) == (zh, en)
