"""Map a file's headers (Chinese or English, with units or our bilingual export headers) to schema columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from layers import get_spec
from layers.spec import Column

__all__ = [
    "ALIASES", "ColumnMap", "map_headers", "header_keys", "norm", "column_label", "clash_text", "LON_LABEL", "LAT_LABEL",
    "GEOM_LABEL", "ROLE_LABELS",
]

LON_LABEL = "经度 lon"
LAT_LABEL = "纬度 lat"
GEOM_LABEL = "几何 geometry"
#: The coordinate roles a header may map to (:class:`ColumnMap` ``lon``, ``lat``, ``wkt``), as named in messages.
ROLE_LABELS = {":lon": LON_LABEL, ":lat": LAT_LABEL, ":wkt": GEOM_LABEL}

# Headers that are recognised in addition to each column's name, label_zh and label_en.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "risk_areas": {
        "id": ("编码",),
        "level": ("等级", "风险级别", "risk level", "risk"),
        "province": ("省份", "省级"),
        "city": ("城市", "地市"),
        "county": ("区县名称", "县区"),
        "area_name": ("名称", "name", "风险区", "地区名称"),
        "since": ("公布日期", "开始日期", "start", "date"),
        "lifted": ("解除", "lifted date"),
    },
    "zones": {
        "id": ("编码",),
        "tier": ("类型", "type", "区域类型", "管控级别", "等级", "level"),
        "name": ("区域名称", "名字"),
        "start": ("开始时间", "划定日期", "since", "start date"),
        "planned_end": ("计划解除", "预计解除日期"),
        "lifted": ("解封日期", "end"),
        "district_adcode": ("行政区划代码", "adcode"),
    },
    "hotels": {
        "id": ("编码",),
        "name": ("酒店名称", "名字"),
        "district_adcode": ("行政区划代码", "adcode"),
        "rooms_total": ("房间数", "总房间数", "rooms"),
        "rooms_occupied": ("已使用房间", "在住房间", "occupied"),
        "status": ("使用状态",),
        "staff_certified": ("持证人数",),
    },
    "testing_sites": {
        "id": ("编码",),
        "name": ("采样点名称", "名字"),
        "type": ("类别", "采样点类型"),
        "district_adcode": ("行政区划代码", "adcode"),
        "hours": ("营业时间", "服务时间", "采样时间"),
        "capacity_per_hour": ("采样能力", "capacity"),
        "free": ("是否免费",),
    },
    "neighbourhoods": {
        "id": ("编码",),
        "name": ("名称", "社区名称", "社区", "村"),
        "district_adcode": ("行政区划代码", "adcode"),
        "street": ("街道", "乡镇", "街道乡镇", "street"),
        "population": ("人口数", "常住人口"),
    },
    "travellers": {
        "name": ("名字",),
        "phone": ("手机", "手机号", "联系电话", "mobile"),
        "id_number": ("身份证号码", "证件号码", "身份证"),
        "address": ("地址", "居住地址", "现住址"),
        "neighbourhood_id": ("社区", "neighbourhood"),
    },
    "visits": {
        "traveller_id": ("人员",),
        "place": ("旅居地",),
        "from_date": ("起始日期", "from date"),
        "to_date": ("截止日期", "to date"),
    },
    "daily_reports": {"date": ("报告日期",)},
}

LON_KEYS = ("经度", "lng", "lon", "long", "longitude", "x", "东经")
LAT_KEYS = ("纬度", "lat", "latitude", "y", "北纬")
WKT_KEYS = ("wkt", "几何", "geometry", "geom", "shape")
# address-like headers used to place points when there are no coordinates, in order of preference
ADDRESS_KEYS = ("地址", "address", "住址", "地点", "place", "location", "位置", "名称", "name")

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_SEPARATORS = re.compile(r"[\s_\-./:·]+")


def norm(text: object) -> str:
    """Compare key of a header: width-folded, lower case, units in brackets and separators removed."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = _BRACKETS.sub("", s)
    return _SEPARATORS.sub("", s)


def _tokens(text: object) -> list[str]:
    s = _BRACKETS.sub("", unicodedata.normalize("NFKC", str(text)))
    return [t for t in (norm(p) for p in s.split()) if t]


def column_label(c: Column) -> str:
    """The bilingual label used in reject lists: ``纬度 lat`` style, ``编号 id``."""
    return f"{c.label_zh} {c.name}"


def header_keys(columns: Mapping[str, Iterable[str]], *, what: str = "table") -> dict[str, str]:
    """Normalised header → column, from each column's accepted headers (its name first).
    Raises if two columns share a key."""
    out: dict[str, str] = {}
    for name, headers in columns.items():
        for k in (name, *headers):
            nk = norm(k)
            if out.get(nk, name) != name:
                msg = f"{what}: header key {k!r} maps to both {out[nk]!r} and {name!r}"
                raise ValueError(msg)
            out[nk] = name
    return out


@cache
def schema_keys(key: str) -> dict[str, str]:
    """Normalised header → schema column for a layer. Raises if two columns share a key."""
    return header_keys(
        {c.name: (c.label_zh, c.label_en, *ALIASES.get(key, {}).get(c.name, ())) for c in get_spec(key).columns},
        what=f"layer {key!r}",
    )


_ROLES = {**{norm(k): "lon" for k in LON_KEYS}, **{norm(k): "lat" for k in LAT_KEYS}, **{norm(k): "wkt" for k in WKT_KEYS}}


@dataclass
class ColumnMap:
    """Which header feeds which schema column or coordinate role."""

    schema: dict[str, str] = field(default_factory=dict)  # schema column → header
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    unknown: list[str] = field(default_factory=list)
    clashes: list[tuple[str, list[str]]] = field(default_factory=list)  # target → headers

    def address(self, headers: list[str], key: str) -> str | None:
        """The header to place points by when there are no coordinates (``address`` column first)."""
        if "address" in self.schema:
            return self.schema["address"]
        by_norm = {norm(h): h for h in headers}
        for k in ADDRESS_KEYS:
            if norm(k) in by_norm:
                return by_norm[norm(k)]
        return None


def clash_text(label: str, headers: Iterable[str]) -> tuple[str, str]:
    """What every importer says when several columns map to one (``label``): Chinese, English."""
    hs = list(headers)
    return f"多个列都对应 {label}：{'、'.join(hs)}", f"several columns map to {label}: {', '.join(hs)}"


def _target(header: str, keys: dict[str, str]) -> str | None:
    whole = norm(header)
    if whole in keys:
        return keys[whole]
    if whole in _ROLES:
        return ":" + _ROLES[whole]
    found = set()
    for tok in _tokens(header):
        if tok in keys:
            found.add(keys[tok])
        elif tok in _ROLES:
            found.add(":" + _ROLES[tok])
    return found.pop() if len(found) == 1 else None


def map_headers(headers: list[str], key: str | None = None, *, keys: Mapping[str, str] | None = None) -> ColumnMap:
    """Map headers to a layer's columns (or to the columns of ``keys``, :func:`header_keys`): exact
    key first, then each word of the header (so ``名称 name`` and ``经度(°)`` map). Headers that map
    nowhere are listed in ``unknown``; two headers for one target are listed in ``clashes``."""
    keys = schema_keys(key) if keys is None else keys
    seen: dict[str, list[str]] = {}
    cmap = ColumnMap()
    for h in headers:
        target = _target(h, keys)
        if target is None:
            cmap.unknown.append(h)
            continue
        seen.setdefault(target, []).append(h)
    for target, hs in seen.items():
        if len(hs) > 1:
            cmap.clashes.append((target, hs))
            continue
        if target.startswith(":"):
            setattr(cmap, target[1:], hs[0])
        else:
            cmap.schema[target] = hs[0]
    return cmap
