"""Taiyuan's ten county-level divisions (GB/T 2260 codes and names), one table for the app and the
boundary extraction."""

from __future__ import annotations

__all__ = ["TAIYUAN_DISTRICTS"]

#: Urban districts first (140105–140110), then the counties and the county-level city.
TAIYUAN_DISTRICTS: dict[str, str] = {
    "140105": "小店区",
    "140106": "迎泽区",
    "140107": "杏花岭区",
    "140108": "尖草坪区",
    "140109": "万柏林区",
    "140110": "晋源区",
    "140121": "清徐县",
    "140122": "阳曲县",
    "140123": "娄烦县",
    "140181": "古交市",
}
