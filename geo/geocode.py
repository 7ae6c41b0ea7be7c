"""Find a place in a local gazetteer from what a resident types, and read pasted coordinates.

Pure: the gazetteer is built from frames passed in (districts, neighbourhoods, testing sites);
nothing is read from files and no online geocoder is asked.

How a query is matched (:meth:`PlaceGazetteer.search`)
------------------------------------------------------
1. Normalise both the query and every name (:func:`normalize_name`): Unicode NFKC (full-width
   letters, digits and punctuation become half-width), lower case, all whitespace and common
   punctuation removed, traditional characters mapped to simplified with a small explicit table
   (:data:`TRADITIONAL_TO_SIMPLIFIED`, about 80 characters common in place and site names —
   *not* a full converter: a traditional character outside the table stays as it is), and a
   leading ``山西省``/``太原市`` dropped. The *core* of a name additionally drops one common
   suffix (社区/街道/区/县/村/镇/乡) when at least two characters remain, so ``小店`` and
   ``小店区`` are the same core.
2. Score every entry, best tier wins, scores are in ``(0, 1]``:

   ===========  =====================================================  ============
   tier         rule                                                    score
   ===========  =====================================================  ============
   exact        normalised name equal (1.0) or cores equal (0.97)       0.97 – 1.0
   prefix       the name starts with the query (or its core)            0.80 – 0.90
   substring    the query (or its core) occurs inside the name          0.60 – 0.70
   fuzzy        difflib ``SequenceMatcher`` ratio ≥ :data:`FUZZY_MIN`   < 0.50
   ===========  =====================================================  ============

   Within prefix and substring tiers, a query covering more of the name scores higher. The
   fuzzy ratio is the best of the whole-name ratio and the ratio against every window of the
   name as long as the query (so a typo inside a long neighbourhood name is still found);
   ``FUZZY_MIN = 0.6`` means at least 3 of 5 characters, or 2 of 3, agree in order.
   Fuzzy scores are computed only when nothing matched exactly and the other tiers found fewer
   than ``limit`` places.
3. A query that starts with a district's name (``小店区通达街社区``) is also tried without it,
   restricted to that district.
Ties go to the coarser kind (district, street, neighbourhood, site), then the shorter name.

Coordinates (:func:`parse_coordinates`)
---------------------------------------
``"112.55,37.86"``, ``"37.86, 112.55"``, ``"112.55 37.86"``, ``"经度112.55 纬度37.86"``,
``"lat 37.86 lng 112.55"`` and the like. Unlabelled pairs are put in lon/lat order only when the
order is unambiguous for China: longitude 73–136, latitude 18–54 (the two ranges do not overlap,
so exactly one order fits or none does). Otherwise the reason is given
(:func:`read_coordinates`). The coordinate *system* (WGS-84 or GCJ-02) cannot be told from the
numbers; the caller asks the user and converts with :func:`geo.crs.convert_xy`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd
import shapely

__all__ = [
    "FUZZY_MIN",
    "KINDS",
    "TRADITIONAL_TO_SIMPLIFIED",
    "Place",
    "Match",
    "Matches",
    "PlaceGazetteer",
    "CoordinateReading",
    "normalize_name",
    "name_core",
    "parse_coordinates",
    "read_coordinates",
]

FUZZY_MIN = 0.6
#: Kinds of gazetteer entries, coarse to fine, with their labels (zh, en).
KINDS = {
    "district": ("区县", "District"),
    "street": ("街道", "Street"),
    "neighbourhood": ("社区/村", "Neighbourhood"),
    "site": ("检测点", "Testing site"),
    "road": ("道路", "Road"),
    "address": ("门牌地址", "Address"),
    "poi": ("地点", "Place"),
}

#: Traditional → simplified for characters common in Chinese place and site names. Not a full
#: converter: characters outside this table are left unchanged.
_T2S = {
    "區": "区", "縣": "县", "後": "后", "東": "东", "門": "门", "寧": "宁", "華": "华", "陽": "阳",
    "園": "园", "橋": "桥", "龍": "龙", "興": "兴", "廣": "广", "場": "场", "車": "车", "號": "号",
    "鎮": "镇", "鄉": "乡", "莊": "庄", "劉": "刘", "張": "张", "陳": "陈", "萬": "万", "義": "义",
    "長": "长", "開": "开", "關": "关", "灣": "湾", "濱": "滨", "學": "学", "醫": "医", "復": "复",
    "雙": "双", "豐": "丰", "鳳": "凤", "馬": "马", "營": "营", "晉": "晋", "並": "并", "幷": "并",
    "礦": "矿", "嶺": "岭", "榮": "荣", "勝": "胜", "體": "体", "環": "环", "電": "电", "鐵": "铁",
    "檢": "检", "測": "测", "點": "点", "動": "动", "線": "线", "邊": "边", "濟": "济", "樂": "乐",
    "藥": "药", "國": "国", "衛": "卫", "師": "师", "際": "际", "農": "农", "廠": "厂", "運": "运",
    "綫": "线", "觀": "观", "灘": "滩", "溝": "沟", "嶽": "岳", "樓": "楼", "廟": "庙", "舊": "旧",
    "漢": "汉", "條": "条", "壩": "坝", "採": "采", "樣": "样", "會": "会", "處": "处", "蘭": "兰",
    "亞": "亚", "遷": "迁", "達": "达", "邨": "村", "裡": "里", "徑": "径", "氣": "气", "陰": "阴", "綠": "绿", "紅": "红", "黃": "黄",
}
TRADITIONAL_TO_SIMPLIFIED = str.maketrans(_T2S)

_SUFFIXES = ("社区", "街道", "区", "县", "村", "镇", "乡")
_PREFIXES = ("山西省", "山西", "太原市")
_DROP = re.compile(r"[\s,.;:!?'\"()\[\]{}<>、。·•\-—_/\\|]+")
_KIND_RANK = {k: i for i, k in enumerate(KINDS)}


def normalize_name(text: object) -> str:
    """The comparable form of a name or query: NFKC, lower case, no spaces or punctuation,
    traditional characters of the table simplified, a leading 山西省/太原市 dropped."""
    if text is None or (isinstance(text, float) and text != text) or text is pd.NA:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).lower().translate(TRADITIONAL_TO_SIMPLIFIED)
    s = _DROP.sub("", s)
    for p in _PREFIXES:
        if s.startswith(p) and len(s) > len(p):
            s = s[len(p) :]
    return s


def name_core(norm: str) -> str:
    """A normalised name without one common suffix (社区/街道/区/县/村/镇/乡), at least 2 characters."""
    for suffix in _SUFFIXES:
        if norm.endswith(suffix) and len(norm) - len(suffix) >= 2:
            return norm[: -len(suffix)]
    return norm


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry: ``kind`` is a key of :data:`KINDS`; lon/lat in WGS-84."""

    name: str
    kind: str
    district: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Match:
    """A place found for a query; ``how`` is ``exact``, ``prefix``, ``substring``, ``fuzzy``,
    ``pinyin`` or ``initials`` (a query in Latin letters: ``xiaodian``, ``xd``)."""

    place: Place
    score: float
    how: str


class Matches(list):
    """The matches of a search, best first; ``message`` is a (zh, en) pair when nothing matched."""

    message: tuple[str, str] | None = None


@dataclass(frozen=True)
class _Entry:
    place: Place
    norm: str
    core: str
    py: str = ""  # the name in pinyin, no tones or spaces (xiaodianqu)
    py_core: str = ""  # … without its suffix (xiaodian)
    initials: str = ""  # first letters (xdq)
    initials_core: str = ""  # (xd)


_LATIN = re.compile(r"[a-z]+")


def _pinyin_forms(norm: str) -> tuple[str, str]:
    """(full pinyin, initials) of a normalised name; digits and Latin letters kept as they are."""
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(norm))
    initials = "".join(lazy_pinyin(norm, style=Style.FIRST_LETTER))
    return full.lower(), initials.lower()


def _entry(p: Place, norm: str) -> _Entry:
    core = name_core(norm)
    py, ini = _pinyin_forms(norm)
    py_core, ini_core = _pinyin_forms(core) if core != norm else (py, ini)
    return _Entry(p, norm, core, py, py_core, ini, ini_core)


def _score_latin(q: str, e: _Entry) -> tuple[float, str] | None:
    """A query typed in Latin letters against a name's pinyin (``xiaodian``) or initials (``xd``):
    below every match of the Chinese characters themselves."""
    if q in (e.py, e.py_core):
        return 0.95, "pinyin"
    if q in (e.initials, e.initials_core) and len(q) >= 2:
        return 0.9, "initials"
    if e.py.startswith(q) and len(q) >= 2:
        return 0.75 + 0.10 * len(q) / len(e.py), "pinyin"
    if e.initials.startswith(q) and len(q) >= 2:
        return 0.70 + 0.10 * len(q) / len(e.initials), "initials"
    if len(q) >= 3 and q in e.py:
        return 0.55 + 0.10 * len(q) / len(e.py), "pinyin"
    return None


def _score(q: str, qc: str, e: _Entry, *, fuzzy: bool) -> tuple[float, str] | None:
    name, core = e.norm, e.core
    if q == name:
        return 1.0, "exact"
    if qc in (core, name) or q == core:
        return 0.97, "exact"
    for probe in dict.fromkeys((q, qc)):
        if name.startswith(probe):
            return 0.80 + 0.10 * len(probe) / len(name), "prefix"
    for probe in dict.fromkeys((q, qc)):
        if probe in name:
            return 0.60 + 0.10 * len(probe) / len(name), "substring"
    if not fuzzy or not set(qc) & set(name):
        return None
    sm = difflib.SequenceMatcher(None, autojunk=False)
    sm.set_seq2(qc)
    best = 0.0
    targets = {name, core}
    if len(name) > len(qc):
        targets.update(name[i : i + len(qc)] for i in range(len(name) - len(qc) + 1))
    for target in targets:
        sm.set_seq1(target)
        if sm.real_quick_ratio() >= FUZZY_MIN and sm.quick_ratio() >= FUZZY_MIN:
            best = max(best, sm.ratio())
    if best >= FUZZY_MIN:
        return 0.5 * best, "fuzzy"
    return None


@dataclass
class PlaceGazetteer:
    """A searchable list of places: districts, streets, neighbourhoods and testing sites."""

    places: list[Place]
    _entries: list[_Entry] = field(init=False, repr=False)
    _districts: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._entries = []
        for p in self.places:
            norm = normalize_name(p.name)
            if norm:
                self._entries.append(_entry(p, norm))
        # district spellings (full and core) → district name, longest first
        spellings: dict[str, str] = {}
        for e in self._entries:
            if e.place.kind == "district":
                spellings[e.norm] = e.place.name
                spellings[e.core] = e.place.name
        self._districts = dict(sorted(spellings.items(), key=lambda kv: -len(kv[0])))

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def from_frames(
        cls,
        districts: pd.DataFrame,
        neighbourhoods: pd.DataFrame,
        sites: pd.DataFrame,
        addresses: pd.DataFrame | None = None,
    ) -> PlaceGazetteer:
        """Build from the city's districts (``name``, ``adcode``, polygons), neighbourhoods
        (``name``, ``district``, ``street``, polygons), testing sites (``name``,
        ``district_adcode``, points) and the address gazetteer (``name``, ``kind`` — road,
        address or poi —, ``district_adcode``, points; the ``addresses`` layer), all in WGS-84.

        Points: a district's, street's (union of its neighbourhoods) and neighbourhood's
        representative point (always inside the polygon); a site's own point.
        """
        places: list[Place] = []
        district_of_code = dict(zip(districts["adcode"].astype(str), districts["name"], strict=True))
        reps = shapely.point_on_surface(districts.geometry.values)
        for name, pt in zip(districts["name"], reps, strict=True):
            places.append(Place(str(name), "district", str(name), float(shapely.get_x(pt)), float(shapely.get_y(pt))))
        nb = neighbourhoods[neighbourhoods.geometry.notna()]
        nb_district = (
            nb["district"].astype(object)
            if "district" in nb.columns
            else nb["district_adcode"].astype(str).map(district_of_code)
        )
        if "street" in nb.columns:
            keyed = pd.DataFrame({"district": nb_district.values, "street": nb["street"].values, "geom": nb.geometry.values})
            keyed = keyed[keyed["street"].notna() & (keyed["street"].astype(str).str.strip() != "")]
            for (district, street), group in keyed.groupby(["district", "street"], sort=True, dropna=False):
                pt = shapely.point_on_surface(shapely.union_all(group["geom"].to_numpy()))
                places.append(Place(str(street), "street", _s(district), float(pt.x), float(pt.y)))
        reps = shapely.point_on_surface(nb.geometry.values)
        for name, district, pt in zip(nb["name"], nb_district, reps, strict=True):
            places.append(Place(str(name), "neighbourhood", _s(district), float(shapely.get_x(pt)), float(shapely.get_y(pt))))
        st = sites[sites.geometry.notna() & ~sites.geometry.is_empty]
        codes = st["district_adcode"] if "district_adcode" in st.columns else pd.Series([None] * len(st), index=st.index)
        for name, code, pt in zip(st["name"], codes, st.geometry.values, strict=True):
            district = district_of_code.get(str(code), "") if code is not None else ""
            places.append(Place(str(name), "site", district, float(pt.x), float(pt.y)))
        if addresses is not None and len(addresses):
            ad = addresses[addresses.geometry.notna() & ~addresses.geometry.is_empty]
            kinds = ad["kind"] if "kind" in ad.columns else pd.Series([None] * len(ad), index=ad.index)
            codes = ad["district_adcode"] if "district_adcode" in ad.columns else pd.Series([None] * len(ad), index=ad.index)
            for name, kind, code, pt in zip(ad["name"], kinds, codes, ad.geometry.values, strict=True):
                k = str(kind) if isinstance(kind, str) and kind in KINDS else "address"
                district = district_of_code.get(str(code), "") if code is not None else ""
                places.append(Place(str(name), k, district, float(pt.x), float(pt.y)))
        return cls(places)

    def search(self, text: str, *, limit: int = 8) -> Matches:
        """The best places for ``text``, best first (see the module docstring for the scoring).

        Returns an empty :class:`Matches` with a ``message`` when nothing matches.
        """
        out = Matches()
        q = normalize_name(text)
        if not q:
            out.message = ("请输入地名或地址。", "Type a place name or address.")
            return out
        best: dict[int, Match] = {}
        scoped = next(
            ((q[len(sp) :], d) for sp, d in self._districts.items() if q.startswith(sp) and len(q) - len(sp) >= 2),
            None,
        )
        # Fuzzy scoring (the costly part) only when nothing matched exactly and the cheaper tiers
        # leave room in the list.
        for fuzzy in (False, True):
            if fuzzy and (len(best) >= limit or any(m.how == "exact" for m in best.values())):
                break
            self._collect(q, None, best, fuzzy=fuzzy)
            if scoped is not None:
                self._collect(scoped[0], scoped[1], best, fuzzy=fuzzy)
        ranked = sorted(
            best.values(),
            key=lambda m: (-m.score, _KIND_RANK.get(m.place.kind, 9), len(m.place.name), m.place.name),
        )
        out.extend(ranked[:limit])
        if not out:
            out.message = (
                f"没有找到“{text.strip()}”。请换一个写法（如社区、街道或区县名），或在地图上点选位置、粘贴坐标。",
                f"Nothing found for '{text.strip()}'. Try another spelling (a neighbourhood, street or district), "
                "click the map or paste coordinates.",
            )
        return out

    def _collect(self, q: str, district: str | None, best: dict[int, Match], *, fuzzy: bool) -> None:
        qc = name_core(q)
        latin = _LATIN.fullmatch(q) is not None
        for i, e in enumerate(self._entries):
            if district is not None and e.place.district != district:
                continue
            if fuzzy and i in best:
                continue
            scored = _score(q, qc, e, fuzzy=fuzzy) or (_score_latin(q, e) if latin and not fuzzy else None)
            if scored is None:
                continue
            if i not in best or scored[0] > best[i].score:
                best[i] = Match(e.place, round(scored[0], 4), scored[1])


def _s(v: object) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


# --- coordinates -----------------------------------------------------------------------------

_NUM = r"[-+]?\d{1,3}(?:\.\d+)?"
_LON_LABEL = re.compile(r"(?:经度|lon(?:gitude)?|lng|东经|(?<![a-z])e)\s*[:=]?\s*(" + _NUM + r")", re.IGNORECASE)
_LAT_LABEL = re.compile(r"(?:纬度|lat(?:itude)?|北纬|(?<![a-z])n)\s*[:=]?\s*(" + _NUM + r")", re.IGNORECASE)
_NUMBERS = re.compile(_NUM)
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (18.0, 54.0)


@dataclass(frozen=True, slots=True)
class CoordinateReading:
    """``lonlat`` when the text was read, else ``None`` and ``reason`` as (zh, en)."""

    lonlat: tuple[float, float] | None
    reason: tuple[str, str] | None = None


def _in(v: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= v <= bounds[1]


def read_coordinates(text: str) -> CoordinateReading:
    """Read a coordinate pair from pasted text; see the module docstring for the forms accepted."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not s:
        return CoordinateReading(None, ("请输入坐标。", "Enter coordinates."))
    lon_m, lat_m = _LON_LABEL.search(s), _LAT_LABEL.search(s)
    if lon_m and lat_m:
        lon, lat = float(lon_m.group(1)), float(lat_m.group(1))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return CoordinateReading(
                None, (f"坐标超出范围：经度 {lon}，纬度 {lat}。", f"Out of range: longitude {lon}, latitude {lat}.")
            )
        return CoordinateReading((lon, lat))
    nums = [float(n) for n in _NUMBERS.findall(s)]
    if len(nums) != 2:
        return CoordinateReading(
            None,
            (
                f"需要两个数字（经度和纬度），读到 {len(nums)} 个。例如：112.55,37.86",
                f"Two numbers (longitude and latitude) are needed; found {len(nums)}. Example: 112.55,37.86",
            ),
        )
    a, b = nums
    if _in(a, CHINA_LON) and _in(b, CHINA_LAT):
        return CoordinateReading((a, b))
    if _in(a, CHINA_LAT) and _in(b, CHINA_LON):
        return CoordinateReading((b, a))
    return CoordinateReading(
        None,
        (
            f"无法判断经纬度顺序：{a}, {b} 不在中国范围内（经度 73–136，纬度 18–54）。请写明“经度…纬度…”。",
            f"Cannot tell longitude from latitude: {a}, {b} is not within China (longitude 73–136, "
            "latitude 18–54). Label them, e.g. 'lon 112.55 lat 37.86'.",
        ),
    )


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """``(lon, lat)`` read from ``text``, or ``None`` (:func:`read_coordinates` gives the reason)."""
    return read_coordinates(text).lonlat

