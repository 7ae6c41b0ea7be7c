"""The spatial engine: pure functions on arrays and GeoDataFrames (no Streamlit, no files)."""

from geo.assign import REASON_TEXT, AssignIndex, Assignment, Reason, neighbourhood_of_points
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
from geo.hours import is_open, next_opening, open_mask, parse_hours
from geo.nearest import Nearest, NearestIndex, sites_near
from geo.screening import (
    NoRuleSetInForce,
    Phase,
    Rule,
    RuleSet,
    Screening,
    Step,
    classify_travellers,
    mask_id,
    mask_phone,
    rule_set_in_force,
    screen,
    screen_neighbourhoods,
    suppress_small,
)

__all__ = [
    "neighbourhood_of_points",
    "AssignIndex",
    "Assignment",
    "Reason",
    "REASON_TEXT",
    "convert_geometry",
    "convert_xy",
    "from_wgs84",
    "normalize_crs_name",
    "to_metric",
    "to_wgs84",
    "utm_crs_for",
    "Nearest",
    "NearestIndex",
    "sites_near",
    "is_open",
    "next_opening",
    "open_mask",
    "parse_hours",
    "NoRuleSetInForce",
    "Phase",
    "Rule",
    "RuleSet",
    "Screening",
    "Step",
    "classify_travellers",
    "mask_id",
    "mask_phone",
    "rule_set_in_force",
    "screen",
    "screen_neighbourhoods",
    "suppress_small",
    "CoordinateError",
    "ImportRejected",
    "SettingsError",
    "StaleWrite",
]
