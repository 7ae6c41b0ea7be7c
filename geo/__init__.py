"""The spatial engine: pure functions on arrays and GeoDataFrames (no Streamlit, no files)."""

from geo.crs import (
    convert_geometry,
    convert_xy,
    from_wgs84,
    normalize_crs_name,
    to_metric,
    to_wgs84,
    utm_crs_for,
)
from geo.errors import CoordinateError, ImportRejected, SettingsError, StaleWrite

__all__ = [
    "convert_geometry",
    "convert_xy",
    "from_wgs84",
    "normalize_crs_name",
    "to_metric",
    "to_wgs84",
    "utm_crs_for",
    "CoordinateError",
    "ImportRejected",
    "SettingsError",
    "StaleWrite",
]
