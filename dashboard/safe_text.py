"""One helper for every data string shown through Streamlit (buttons, captions, messages, the
sidebar, markdown lists): :func:`md_text` makes it inert for Streamlit's Markdown as well as HTML.

Streamlit renders Markdown in labels and messages, so a testing site named
``![x](http://host/track.png)`` would become an image the browser fetches, and ``[x](url)`` a link.
Escaping every Markdown character (and ``<``/``>``, so no HTML either) shows the text as typed.
Map popups and tooltips are escaped separately for HTML (``layers/_render.py``).
"""

from __future__ import annotations

__all__ = ["md_text", "in_lang"]

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:=^\"'")


def md_text(text: object) -> str:
    """``"![x](http://h/t.png)"`` → ``"\\!\\[x\\]\\(http\\://h/t\\.png\\)"``: shown as typed, never
    as an image, a link, emphasis or a directive. Newlines become spaces (one line of text)."""
    s = "" if text is None else str(text)
    s = s.replace("\r", " ").replace("\n", " ")
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def in_lang(message: object, lang: str) -> str:
    """The page language's half of a bilingual message ``"中文 / English"`` (errors raised by the
    rules carry both, for the CLI and exports); a message without the separator as it is. Pages
    show one language at a time."""
    text = "" if message is None else str(message)
    first, sep, second = text.partition(" / ")
    if not sep:
        return text
    # either order occurs ("中文 / English" and "English / 中文"): the half with more Chinese
    # characters is the Chinese one (a name in either half may be Chinese)
    def han(part: str) -> int:
        return sum("\u4e00" <= ch <= "\u9fff" for ch in part)

    zh_part, en_part = (first, second) if han(first) >= han(second) else (second, first)
    return zh_part if lang == "zh" else en_part
