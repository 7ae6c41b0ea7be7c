"""The domain layers: each module declares a :class:`LayerSpec`; ``REGISTRY`` drives the UI, import and export."""

from __future__ import annotations

from dataclasses import replace

from layers import (
    addresses,
    daily_report,
    daily_reports,
    hotels,
    neighbourhoods,
    risk_areas,
    testing_sites,
    travellers,
    visits,
    zone_versions,
    zones,
)
from layers.spec import Column, LayerSpec, LegendEntry

__all__ = ["REGISTRY", "MAP_LAYERS", "LayerSpec", "Column", "LegendEntry", "get_spec"]

REGISTRY: dict[str, LayerSpec] = {
    s.key: s
    for s in (
        risk_areas.SPEC,
        zones.SPEC,
        hotels.SPEC,
        testing_sites.SPEC,
        neighbourhoods.SPEC,
        travellers.SPEC,
        visits.SPEC,
        addresses.SPEC,
        # kept as versioned records: exports and counts read them through their own readers
        replace(daily_reports.SPEC, reader=daily_report.load_reports),
        replace(daily_reports.REVISIONS_SPEC, reader=daily_report.load_revisions),
        zone_versions.HISTORY_SPEC,
    )
}

#: Layers drawn on maps, bottom to top.
MAP_LAYERS = ("neighbourhoods", "risk_areas", "zones", "hotels", "testing_sites")


def get_spec(key: str) -> LayerSpec:
    """The spec of a layer by key; the error lists the known keys."""
    try:
        return REGISTRY[key]
    except KeyError:
        msg = f"unknown layer {key!r}; known layers: {', '.join(REGISTRY)}"
        raise KeyError(msg) from None
