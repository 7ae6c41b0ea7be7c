"""Layer specifications: what a map layer holds, who may see which column, how it looks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

__all__ = ["Column", "LegendEntry", "LayerSpec", "DTYPES"]

DTYPES = ("str", "int", "float", "bool", "date")
Geometry = Literal["Point", "Polygon"] | None


_TRUE = {"true", "1", "yes", "y", "t", "是", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "否", "0.0"}


def _to_boolean(s: pd.Series) -> pd.Series:
    """Booleans from bool, 0/1 or common words; anything else raises ``ValueError`` naming the value."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")

    def one(v: object) -> object:
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return pd.NA
        if isinstance(v, bool):
            return v
        key = str(v).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        if key == "":
            return pd.NA
        msg = f"not a yes/no value: {v!r}"
        raise ValueError(msg)

    return pd.Series([one(v) for v in s], index=s.index, dtype="boolean")


@dataclass(frozen=True)
class Column:
    """One attribute column.

    ``personal`` columns are personal data: they never leave the server for the public role and
    are never put in popups, tooltips, logs or shared caches. ``references``: the layer whose ids
    the column's values must be (an import refuses a value the store's layer does not have).
    """

    name: str
    dtype: Literal["str", "int", "float", "bool", "date"]
    label_zh: str
    label_en: str
    required: bool = False
    personal: bool = False
    references: str | None = None

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class LegendEntry:
    """A legend row: a swatch (fill colour, optional outline) and its label in both languages."""

    color: str
    label_zh: str
    label_en: str
    shape: Literal["square", "circle", "line", "icon"] = "square"
    icon: str | None = None  # a Font Awesome icon name, shown instead of a swatch when shape="icon"

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class LayerSpec:
    """A map layer: names, geometry type, schema, legend and how to render it.

    ``render(gdf, lang, **options)`` returns a ``folium.FeatureGroup``; it must escape every text
    it puts into HTML and must not use ``personal`` columns.
    """

    key: str
    name_zh: str
    name_en: str
    geometry: Geometry
    columns: tuple[Column, ...]
    id_column: str | None = "id"
    temporal: tuple[str, str] | None = None  # (start column, end column) for as-of filtering
    legend: tuple[LegendEntry, ...] = ()
    public: bool = True  # may the public (resident) page receive this layer at all?
    #: may a file be imported into it? History and versioned layers are written only by their own
    #: write path (zone saves, the daily report form), never directly: False for those.
    importable: bool = True
    render: Callable[..., Any] | None = field(default=None, compare=False)
    #: for a layer kept as versioned records (:mod:`layers.store.records`) rather than as a store
    #: layer: ``reader(store)`` gives its rows (exports and counts use it; the store layer of
    #: that name only holds what a store of an earlier layout kept, taken in on first use).
    reader: Callable[[Any], Any] | None = field(default=None, compare=False)

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    @property
    def public_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.personal]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        msg = f"layer {self.key!r} has no column {name!r}"
        raise KeyError(msg)

    def coerce(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return a copy with every schema column in its declared type (dates as datetime64).

        Values are converted, never guessed: a value that does not convert raises ``ValueError``
        naming the column (the importer reports such rows one by one before calling this).
        """
        out = frame.copy()
        for c in self.columns:
            if c.name not in out.columns:
                out[c.name] = pd.Series([None] * len(out), index=out.index, dtype="object")
            s = out[c.name]
            try:
                if c.dtype == "date":
                    out[c.name] = pd.to_datetime(s, errors="raise").dt.normalize()
                elif c.dtype == "int":
                    out[c.name] = pd.to_numeric(s, errors="raise").astype("Int64")
                elif c.dtype == "float":
                    out[c.name] = pd.to_numeric(s, errors="raise").astype("float64")
                elif c.dtype == "bool":
                    out[c.name] = _to_boolean(s)
                else:
                    out[c.name] = s.astype("string")
            except (ValueError, TypeError) as exc:
                msg = f"layer {self.key!r}, column {c.name!r}: {exc}"
                raise ValueError(msg) from exc
        cols = self.column_names + (["geometry"] if self.geometry else [])
        extra = [c for c in out.columns if c not in cols]
        out = out[cols + extra]
        if self.geometry:
            return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
        return pd.DataFrame(out)

    def public_view(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy without personal columns (and without columns not in the schema)."""
        keep = [c for c in self.public_columns if c in frame.columns]
        if self.geometry and "geometry" in frame.columns:
            return gpd.GeoDataFrame(frame[keep + ["geometry"]].copy(), geometry="geometry", crs=frame.crs)
        return pd.DataFrame(frame[keep].copy())

    def as_of(self, frame: pd.DataFrame, day: pd.Timestamp | str | None) -> pd.DataFrame:
        """Rows in force on ``day``: start ≤ day and (no end or end ≥ day... strictly, end > day).

        A record with end date E is in force up to and including the day before E (lifted on E).
        """
        if day is None or self.temporal is None or frame.empty:
            return frame
        from geo.zones import in_force_during  # the one lifetime rule (a missing start or end is open)

        d = pd.Timestamp(day).normalize()
        none = pd.Series(pd.NaT, index=frame.index)
        start, end = (frame[c] if c in frame.columns else none for c in self.temporal)
        return frame[in_force_during(start, end, d, d)]
