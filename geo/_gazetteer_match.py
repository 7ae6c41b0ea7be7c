"""Resolve place names as travellers write them to gazetteer units (province / city / county).

Pure: the gazetteer frame comes in as an argument (``layers.boundaries.gazetteer()`` in the app).

How a place is resolved (:meth:`PlaceIndex.resolve`)
----------------------------------------------------
1. Normalise: Unicode NFKC (full-width digits and letters become ASCII), all whitespace removed.
2. A six-digit string is an adcode: it resolves when the gazetteer holds it.
3. Otherwise the string is looked up among every spelling of every unit: the unit's own name and
   its parents' names joined coarse to fine (``浙江省杭州市上城区``, ``杭州市上城区``,
   ``浙江省上城区``, ``上城区``, ``浙江省杭州市``, ``杭州市``, ``浙江省``).
   - **exact**: every part is the full official name. One unit → resolved; several → ambiguous.
   - **suffix-stripped**, only when there is no exact match: parts may drop their suffix
     (市/区/县/省/旗/盟/地区/自治州/自治县/新区/特别行政区…, and ethnic-group words before
     自治: ``甘南藏族自治州`` → ``甘南藏族`` → ``甘南``). One unit → resolved; several → ambiguous.
   A province and its own city row that share one name (北京市 110000 / 110100, likewise 天津, 上海)
   are the same territory: the city row is taken, it is never an ambiguity.
4. If the whole string is not a spelling, the longest *prefix* that resolves to a county is kept
   together with the remaining text (``rest``), e.g. ``杭州市上城区某某风险区`` → 上城区 + ``某某风险区``.
   The caller decides whether ``rest`` names something it knows (a risk area of that county);
   if not, the place is unknown. Nothing is fuzzy-matched: ``杭洲``, ``上海浦东新新区`` are unknown.

A visit's own ``adcode`` column and its place text are both resolved (:meth:`resolve_pairs`);
when both resolve, the finer one is taken if it lies inside the other, and the visit is
``conflict`` (unresolved) if they disagree. When the code confirms the text's county, a
remainder after it is detail (``coded=True``), not a reason to doubt the place.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PlaceIndex", "Unit", "Resolution", "normalize_place", "short_forms"]

# Status values of a resolution.
OK, EMPTY, UNKNOWN, AMBIGUOUS, CONFLICT = "ok", "empty", "unknown", "ambiguous", "conflict"

_LEVEL_RANK = {"province": 0, "city": 1, "county": 2}

_PROVINCE_SUFFIXES = ("特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "林区", "盟", "市")
_COUNTY_SUFFIXES = ("自治县", "自治旗", "新区", "林区", "特区", "区", "县", "市", "旗")
# 55 ethnic minorities (GB 3304); 各族 as in 龙胜各族自治县. Written before 自治…, with or without 族.
_ETHNIC = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣",
    "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗",
    "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京",
    "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
)
# An ethnic word may stand without 族 only when it is two or more characters (蒙古, 哈萨克).
_ETHNIC_RE = re.compile(
    "(?:" + "|".join(sorted((f"{e}族" for e in _ETHNIC), key=len, reverse=True))
    + "|" + "|".join(sorted((e for e in _ETHNIC if len(e) >= 2), key=len, reverse=True)) + ")$"
)
_SPACE_RE = re.compile(r"\s+")
_ADCODE_RE = re.compile(r"^\d{6}$")
_MIN_SHORT = 2  # a stripped form keeps at least two characters (城区 stays 城区)


def normalize_place(text: object) -> str:
    """NFKC and no whitespace; ``""`` for missing values."""
    if text is None or text is pd.NA or (isinstance(text, float) and text != text):
        return ""
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", str(text)))


def short_forms(name: str, level: str) -> list[str]:
    """The suffix-stripped spellings of an official name (never the name itself), longest first.

    >>> short_forms("甘南藏族自治州", "city")
    ['甘南藏族', '甘南']
    >>> short_forms("浦东新区", "county")
    ['浦东新', '浦东']
    """
    suffixes = {"province": _PROVINCE_SUFFIXES, "city": _CITY_SUFFIXES, "county": _COUNTY_SUFFIXES}[level]
    autonomous = "自治" in name  # 龙胜各族自治县 loses 自治县 as a whole, never just 县
    out: list[str] = []
    for suffix in suffixes:
        if not name.endswith(suffix) or (autonomous and not suffix.startswith("自治")):
            continue
        stem = name[: -len(suffix)]
        forms = [stem]
        if suffix.startswith("自治") or suffix in ("自治区",):
            while (m := _ETHNIC_RE.search(forms[-1])) is not None and len(forms[-1]) - len(m.group()) >= _MIN_SHORT:
                forms.append(forms[-1][: m.start()])
        for f in forms:
            if len(f) >= _MIN_SHORT and f != name and f not in out:
                out.append(f)
    # 内蒙古自治区 → 内蒙古 (handled), 广西壮族自治区 → 广西壮族 → 广西 (ethnic loop)
    return sorted(out, key=len, reverse=True)


@dataclass(frozen=True)
class Unit:
    """One gazetteer unit, with the codes of its parents ('' where none)."""

    adcode: str
    level: str  # finest level the code stands for: county > city > province
    province_adcode: str
    city_adcode: str
    county_adcode: str
    province: str
    city: str
    county: str

    def contains(self, other: Unit) -> bool:
        """Whether ``other`` lies inside (or is) this unit."""
        if self.level == "province":
            return other.province_adcode == self.province_adcode
        if self.level == "city":
            return other.city_adcode == self.city_adcode
        return other.county_adcode == self.county_adcode

    @property
    def label(self) -> str:
        parts = [self.province, self.city, self.county]
        return "".join(dict.fromkeys(p for p in parts if p))  # municipalities repeat their name


@dataclass(frozen=True)
class Resolution:
    """The result for one place: ``status`` is ok / empty / unknown / ambiguous / conflict."""

    status: str
    unit: Unit | None = None
    rest: str = ""  # text after a county prefix (or, with ``partial``, a province / city prefix)
    coded: bool = False  # the row's adcode confirms the unit (a ``rest`` is then detail, not doubt)


def _units(gaz: pd.DataFrame) -> dict[str, Unit]:
    need = ["adcode", "levels", "name", "province", "city", "county", "province_adcode", "city_adcode"]
    missing = [c for c in need if c not in gaz.columns]
    if missing:
        msg = f"gazetteer lacks column(s): {', '.join(missing)}"
        raise ValueError(msg)
    g = gaz[need].astype("string").fillna("")
    units: dict[str, Unit] = {}
    for code, levels, _name, prov, city, county, pcode, ccode in g.itertuples(index=False, name=None):
        lv = str(levels).split(";")
        finest = max(lv, key=lambda x: _LEVEL_RANK.get(x, -1))
        is_city = "city" in lv
        is_county = "county" in lv
        units[str(code)] = Unit(
            adcode=str(code),
            level=finest,
            province_adcode=str(pcode) or str(code),
            city_adcode=str(code) if is_city else str(ccode),
            county_adcode=str(code) if is_county else "",
            province=str(prov),
            city=str(city) if (is_city or is_county) else "",
            county=str(county) if is_county else "",
        )
    return units


def _forms(name: str, level: str) -> list[tuple[str, bool]]:
    """(spelling, is_full) pairs for one name."""
    return [(name, True)] + [(s, False) for s in short_forms(name, level)]


class PlaceIndex:
    """Every spelling of every gazetteer unit, for exact and suffix-stripped lookup.

    Build once per gazetteer (:meth:`from_gazetteer` caches by content) and resolve unique
    strings only; see the module docstring for the rules.
    """

    _cache: dict[int, PlaceIndex] = {}

    def __init__(self, gaz: pd.DataFrame):
        self.units = _units(gaz)
        self._memo: dict[bool, dict[tuple[object, object], Resolution]] = {}
        exact: dict[str, set[str]] = {}
        short: dict[str, set[str]] = {}

        def add(parts: Sequence[list[tuple[str, bool]]], code: str) -> None:
            combos: list[tuple[str, bool]] = [("", True)]
            for forms in parts:
                combos = [(a + s, fa and fs) for a, fa in combos for s, fs in forms]
            for key, full in combos:
                (exact if full else short).setdefault(key, set()).add(code)

        for code, u in self.units.items():
            p = _forms(u.province, "province") if u.province else []
            if u.level == "province":
                add([p], code)
                continue
            c = _forms(u.city, "city") if u.city else []
            if u.level == "city" or (u.county and u.county == u.city):  # 东莞市: city;county, one name
                extra = (_forms(u.county, "county") if u.county else []) + (p if u.province == u.city else [])
                c = c + [f for f in extra if f not in c]  # 定安县 → 定安; 香港特别行政区 → 香港
                add([c], code)
                if u.county and u.level == "county":
                    add([c, c], code)  # city and county written out: 海南省文昌市文昌市
                if p and u.province != u.city:
                    add([p, c], code)
                    if u.county and u.level == "county":
                        add([p, c, c], code)
                continue
            k = _forms(u.county, "county")
            add([k], code)
            if c:
                add([c, k], code)
            if p:
                add([p, k], code)
                if c and u.city != u.province:
                    add([p, c, k], code)
        self.exact = {k: self._collapse(v) for k, v in exact.items()}
        self.short = {k: self._collapse(v) for k, v in short.items()}
        self._max_len = max((len(k) for k in self.exact), default=0)

    def _collapse(self, codes: set[str]) -> tuple[str, ...]:
        """Reduce a set of candidate units for one spelling.

        - A province and its own same-named city row (北京市 110000 / 110100) are one territory:
          keep the city row.
        - When one candidate contains all the others (长沙 → 长沙市 ⊃ 长沙县; 吉林 → 吉林省 ⊃
          吉林市), keep the container: "somewhere in 长沙市" is true whichever was meant, so it is
          not a guess, only less precise.
        - Otherwise several candidates remain: ambiguous.
        """
        if len(codes) > 1:
            units = [self.units[c] for c in codes]
            same = {
                a.adcode
                for a in units
                for b in units
                if a.level == "province" and b.level == "city" and b.province_adcode == a.adcode and b.city == a.province
            }
            codes = codes - same
        if len(codes) > 1:
            units = [self.units[c] for c in sorted(codes)]
            for u in units:
                if all(u.contains(o) for o in units):
                    return (u.adcode,)
        return tuple(sorted(codes))

    @classmethod
    def from_gazetteer(cls, gaz: pd.DataFrame) -> PlaceIndex:
        """The index for ``gaz``, built once per distinct gazetteer content."""
        cols = [c for c in ("adcode", "levels", "name", "province", "city", "county") if c in gaz.columns]
        digest = hashlib.sha1(pd.util.hash_pandas_object(gaz[cols].astype(str), index=False).to_numpy().tobytes())
        key = int.from_bytes(digest.digest()[:8], "little")
        idx = cls._cache.get(key)
        if idx is None:
            idx = cls(gaz)
            if len(cls._cache) > 4:
                cls._cache.clear()
            cls._cache[key] = idx
        return idx

    # ------------------------------------------------------------------------------------------

    def _lookup(self, key: str) -> tuple[str, tuple[str, ...]]:
        hit = self.exact.get(key)
        if hit is None:
            hit = self.short.get(key)
        if not hit:
            return UNKNOWN, ()
        return (OK if len(hit) == 1 else AMBIGUOUS), hit

    def resolve(self, text: object, *, partial: bool = False) -> Resolution:
        """Resolve one place string (see the module docstring).

        ``partial=True`` also keeps a *province or city* prefix with the remaining text when no
        county prefix resolves (``江苏省南京市某某县某街道`` → 南京市 + ``某某县某街道``). With it, only
        a full official name counts as a prefix followed by more text, never a suffix-stripped
        one (``杭州湾新区`` is not 杭州 + ``湾新区``, ``上海浦东新新区`` not 浦东新区 + ``新区``): the
        caller then decides from what is known and says what is missing.
        """
        s = normalize_place(text)
        if not s:
            return Resolution(EMPTY)
        if _ADCODE_RE.match(s):
            u = self.units.get(s)
            return Resolution(OK, u) if u is not None else Resolution(UNKNOWN)
        status, hit = self._lookup(s)
        if status == OK:
            return Resolution(OK, self.units[hit[0]])
        if status == AMBIGUOUS:
            return Resolution(AMBIGUOUS)
        for end in range(min(len(s) - 1, self._max_len), 1, -1):
            status, hit = self._lookup(s[:end])
            if status == UNKNOWN:
                continue
            if status == AMBIGUOUS:
                return Resolution(AMBIGUOUS)
            u = self.units[hit[0]]
            if partial and s[:end] not in self.exact:  # 上海浦东新 + 新区: a stripped name, then more
                return Resolution(UNKNOWN)
            if u.level == "county" or partial:
                return Resolution(OK, u, rest=s[end:])
            return Resolution(UNKNOWN)
        return Resolution(UNKNOWN)

    def resolve_code(self, code: object) -> Unit | None:
        """The unit of an adcode value (``None`` when empty or not in the gazetteer)."""
        s = normalize_place(code)
        if s.endswith(".0"):  # an adcode read as a float somewhere upstream
            s = s[:-2]
        return self.units.get(s) if _ADCODE_RE.match(s) else None

    def resolve_pairs(self, places: Iterable[object], codes: Iterable[object], *, partial: bool = False) -> list[Resolution]:
        """Resolve (place text, adcode) pairs, e.g. the unique pairs of a visits table.

        Both are used: the code alone, the text alone, or — when both resolve — the finer of
        the two if one contains the other, else ``conflict``. A text ``rest`` survives only
        when the chosen unit is the text's own county.
        """
        out: list[Resolution] = []
        memo = self._memo.setdefault(partial, {})
        for place, code in zip(places, codes, strict=True):
            hit = memo.get((place, code))
            if hit is not None:
                out.append(hit)
                continue
            res = self._resolve_pair(place, code, partial)
            if len(memo) < 200_000:  # distinct place strings: bounded, one index per gazetteer
                memo[(place, code)] = res
            out.append(res)
        return out

    def _resolve_pair(self, place: object, code: object, partial: bool) -> Resolution:
        r = self.resolve(place, partial=partial)
        cu = self.resolve_code(code)
        if cu is None:
            return r
        if r.status in (EMPTY, UNKNOWN, AMBIGUOUS) or r.unit is None:
            return Resolution(OK, cu)
        if cu.contains(r.unit):
            return Resolution(OK, r.unit, r.rest, coded=True)
        if r.unit.contains(cu):
            return Resolution(OK, cu)
        return Resolution(CONFLICT)


def resolution_frame(resolutions: Sequence[Resolution]) -> pd.DataFrame:
    """Resolutions as columns: status, level, province/city/county adcodes, rest, label."""
    n = len(resolutions)
    cols: dict[str, list[str]] = {k: [""] * n for k in ("level", "province_adcode", "city_adcode", "county_adcode", "rest", "label")}
    status = [r.status for r in resolutions]
    coded = np.array([r.coded for r in resolutions], dtype=bool)
    for i, r in enumerate(resolutions):
        u = r.unit
        if u is None:
            continue
        cols["level"][i] = u.level
        cols["province_adcode"][i] = u.province_adcode
        cols["city_adcode"][i] = u.city_adcode
        cols["county_adcode"][i] = u.county_adcode
        cols["rest"][i] = r.rest
        cols["label"][i] = u.label
    data = {"status": np.array(status, dtype=object), **{k: np.array(v, dtype=object) for k, v in cols.items()}}
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()})
    frame["coded"] = coded
    return frame
