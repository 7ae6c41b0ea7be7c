"""Place-name labels for maps without a tile server: which names show at which zoom, in which language.

Offline maps have no place names of their own, so riskmap labels them from the data it holds:
district names at city zoom, street (街道) names closer in, neighbourhood names closest, testing
sites and hotels when zoomed right in; province names (with the number of risk areas in force)
and, a zoom closer, their capitals in the national view. Chinese labels in the Chinese UI; in the English UI the data's English
name where there is one (districts), else the name in pinyin with its generic part translated
(``小店街道第7社区`` → ``Xiaodian Subdistrict No. 7 Community``), by pypinyin.

Pure: frames in, rows out (:func:`label_groups`); the map draws them (``dashboard.mapview``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import geopandas as gpd
import pandas as pd

__all__ = ["english_name", "LabelGroup", "label_groups", "ZOOMS"]

#: (min zoom, max zoom) per kind of label.
ZOOMS: dict[str, tuple[int, int]] = {
    "province": (3, 7),
    "capital": (5, 7),
    "county": (8, 18),  # national view: every county's name, from the county tiles
    "district": (8, 12),
    "street": (13, 14),
    "neighbourhood": (15, 18),
    "poi": (16, 18),
}

#: Generic parts of Chinese place names, longest first, and their English.
_GENERIC = (
    ("特别行政区", "SAR"), ("维吾尔自治区", "Uygur Autonomous Region"), ("壮族自治区", "Zhuang Autonomous Region"),
    ("回族自治区", "Hui Autonomous Region"), ("自治区", "Autonomous Region"), ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"), ("办事处", "Office"), ("居委会", "Residents' Committee"), ("街道", "Subdistrict"),
    ("社区", "Community"), ("小区", "Estate"), ("省", "Province"), ("市", "City"), ("区", "District"), ("县", "County"),
    ("镇", "Town"), ("乡", "Township"), ("村", "Village"),
)
_MUNICIPALITIES = {"北京市": "Beijing", "天津市": "Tianjin", "上海市": "Shanghai", "重庆市": "Chongqing"}
_SPECIAL = {"内蒙古自治区": "Inner Mongolia Autonomous Region", "西藏自治区": "Tibet Autonomous Region",
            "陕西省": "Shaanxi Province", "香港特别行政区": "Hong Kong SAR", "澳门特别行政区": "Macao SAR",
            # capitals whose English name is not their pinyin
            "呼和浩特": "Hohhot", "乌鲁木齐": "Urumqi", "拉萨": "Lhasa"}
_NUMBERED = re.compile(r"第(\d+)$")
_DISSOLVE_MAX = 5000  # neighbourhoods whose streets are labelled at the union of their shapes
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).capitalize() if text else ""


def english_name(name: object) -> str:
    """A Chinese place name in English: generic parts translated, the rest in pinyin (no tones)."""
    text = str(name or "").strip()
    if not text or not _HAN.search(text):
        return text
    if text in _SPECIAL:
        return _SPECIAL[text]
    if text in _MUNICIPALITIES:
        return _MUNICIPALITIES[text]
    for zh, en in _GENERIC:
        if text.endswith(zh) and len(text) > len(zh):
            stem = text[: -len(zh)]
            numbered = _NUMBERED.search(stem)
            if numbered:  # 小店街道第7社区: the street, then "No. 7"
                head = stem[: numbered.start()]
                return f"{english_name(head)} No. {numbered.group(1)} {en}".strip()
            return f"{english_name(stem)} {en}"
    # no generic part: pinyin, one word (a digit run stays as it is)
    return " ".join(_pinyin(part) if _HAN.search(part) else part for part in re.findall(r"[\u4e00-\u9fff]+|[^\u4e00-\u9fff\s]+", text))


#: One kind of label: ``kind``, its zooms and rows ``(lat, lon, text)``.
LabelGroup = tuple[str, int, int, list[tuple[float, float, str]]]


def _points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return frame.geometry.representative_point()


def label_groups(
    lang: str,
    *,
    districts: gpd.GeoDataFrame | None = None,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    points: Sequence[gpd.GeoDataFrame] = (),
    provinces: gpd.GeoDataFrame | None = None,
    province_counts: Mapping[str, int] | None = None,
    capitals: gpd.GeoDataFrame | None = None,
    neighbourhood_names: bool = True,
) -> list[LabelGroup]:
    """The labels of a map, by kind (:data:`ZOOMS`): ``districts`` (``name``, ``name_en``),
    streets and neighbourhoods from ``neighbourhoods`` (``name``, ``street``, ``district``),
    named ``points`` (sites, hotels), ``provinces`` (``adcode``, ``name``) with the number of risk
    areas in force per province adcode (``province_counts``) after the name, and province
    ``capitals`` (``name``, points) marked with a dot, a zoom in from the provinces. Texts are
    plain (the map escapes them). ``neighbourhood_names=False``: streets only (the neighbourhoods'
    own names come with their vector tiles)."""
    en = lang != "zh"
    out: list[LabelGroup] = []

    def name_of(frame: pd.DataFrame, col: str = "name") -> list[str]:
        if not en:
            return [str(v) for v in frame[col].fillna("")]
        if col == "name" and "name_en" in frame.columns:
            return [str(e) if isinstance(e, str) and e else english_name(z) for z, e in zip(frame[col], frame["name_en"], strict=True)]
        return [english_name(v) for v in frame[col]]

    def rows(frame: gpd.GeoDataFrame, texts: list[str]) -> list[tuple[float, float, str]]:
        pts = _points(frame)
        return [(round(p.y, 5), round(p.x, 5), s) for p, s in zip(pts, texts, strict=True) if s and not p.is_empty]

    if provinces is not None and len(provinces):
        counts = province_counts or {}
        texts = [
            f"{n} {counts.get(str(a), 0)}" if counts.get(str(a), 0) else n
            for a, n in zip(provinces["adcode"].astype(str), name_of(provinces), strict=True)
        ]
        out.append(("province", *ZOOMS["province"], rows(provinces, texts)))
    if capitals is not None and len(capitals):
        out.append(("capital", *ZOOMS["capital"], rows(capitals, [f"● {n}" for n in name_of(capitals)])))
    if districts is not None and len(districts):
        out.append(("district", *ZOOMS["district"], rows(districts, name_of(districts))))
    if neighbourhoods is not None and len(neighbourhoods):
        nb = neighbourhoods[neighbourhoods.geometry.notna() & ~neighbourhoods.geometry.is_empty]
        if "street" in nb.columns:
            keys = [c for c in ("district", "street") if c in nb.columns]
            named = nb[nb["street"].notna()]
            if len(named) <= _DISSOLVE_MAX:
                streets = named.dissolve(by=keys, as_index=False)
            else:  # many: a street's label at the middle of its neighbourhoods' points (no union)
                pts = _points(named)
                mid = pd.DataFrame({k: named[k].to_numpy() for k in keys} | {"x": pts.x.to_numpy(), "y": pts.y.to_numpy()})
                mid = mid.groupby(keys, as_index=False)[["x", "y"]].median()
                streets = gpd.GeoDataFrame(mid[keys], geometry=gpd.points_from_xy(mid["x"], mid["y"]), crs=named.crs)
            out.append(("street", *ZOOMS["street"], rows(streets, name_of(streets, "street"))))
        if neighbourhood_names:
            out.append(("neighbourhood", *ZOOMS["neighbourhood"], rows(nb, name_of(nb))))
    poi = [p for p in points if p is not None and len(p) and "name" in p.columns]
    if poi:
        frame = gpd.GeoDataFrame(pd.concat([p[["name", "geometry"]] for p in poi], ignore_index=True), crs=poi[0].crs)
        out.append(("poi", *ZOOMS["poi"], rows(frame, name_of(frame))))
    return out
