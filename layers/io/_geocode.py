"""Place a point by a place name: a district/county of the city (gazetteer) or a neighbourhood (store).

Only whole names are matched, optionally prefixed by the province, city, district or street
(``太原市小店区``, ``小店区小店街道通达街社区``). A street address (``…路206号``) is not a place
name and is refused: the importer never guesses a location.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers.boundaries import gazetteer
from layers.io._values import BadValue

__all__ = ["Locator", "Located"]


def _key(s: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(s)).split())


@dataclass(frozen=True)
class Located:
    point: BaseGeometry
    kind: str  # "district" or "neighbourhood"


class Locator:
    """Resolve place names inside one city (``city_adcode``)."""

    def __init__(self, city_adcode: str, neighbourhoods: pd.DataFrame | None = None):
        g = gazetteer()
        city = g[(g["level"] == "city") & (g["adcode"] == city_adcode)]
        counties = g[(g["level"] == "county") & (g["city_adcode"] == city_adcode)]
        self._prefixes: list[str] = []
        if not city.empty:
            self._prefixes = [_key(city["province"].iloc[0]), _key(city["name"].iloc[0])]
        self._index: dict[str, list[Located]] = {}
        for r in counties.itertuples():
            here = Located(shapely.Point(float(r.lon), float(r.lat)), "district")
            for k in {r.name, f"{r.city}{r.name}", f"{r.province}{r.city}{r.name}", f"{r.province}{r.name}"}:
                self._add(k, here)
        if neighbourhoods is not None and len(neighbourhoods):
            names = counties.set_index("adcode")["name"].to_dict()
            for r in neighbourhoods.itertuples():
                if r.geometry is None or r.geometry.is_empty:
                    continue
                here = Located(r.geometry.representative_point(), "neighbourhood")
                district = getattr(r, "district", None) or names.get(getattr(r, "district_adcode", None))
                street = getattr(r, "street", None)
                district = None if pd.isna(district) else district
                street = None if pd.isna(street) else street
                keys = {r.name}
                for prefix in (district, street, f"{district}{street}" if district and street else None):
                    if prefix:
                        keys.add(f"{prefix}{r.name}")
                for k in keys:
                    self._add(k, here)

    def _add(self, key: str, here: Located) -> None:
        bucket = self._index.setdefault(_key(key), [])
        if here not in bucket:
            bucket.append(here)

    def locate(self, text: object) -> Located:
        """The place a name stands for; raises :class:`BadValue` if unknown or ambiguous."""
        k = _key(text)
        for _ in range(2):  # strip "山西省", "太原市" in front
            for p in self._prefixes:
                if k.startswith(p) and len(k) > len(p) and k not in self._index:
                    k = k[len(p):]
        hits = self._index.get(k, [])
        if not hits:
            raise BadValue(
                "无法按地址定位：须为本市的区县名或社区/村名（不按门牌地址推测位置）",
                "address not found: must be a district/county or neighbourhood name in the city "
                "(street addresses are not guessed)",
            )
        if len(hits) > 1:
            raise BadValue("地址对应多个地点，请加上区县或街道名", "address matches several places; add the district or street")
        return hits[0]
