"""A "use my location" button: the browser's position (WGS-84, as browsers report it).

A small component of this app (``dashboard/components/geolocate/index.html``); browsers only
give a position on a secure connection (https, or the machine itself), otherwise the button
explains that. Nothing is loaded from outside the machine.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

from dashboard.components import registered

__all__ = ["my_location"]

_component = components.declare_component(
    "riskmap_geolocate", path=str(Path(__file__).resolve().parent / "components" / "geolocate")
)


def my_location(*, label: str, insecure: str, waiting: str, failed: str, key: str) -> dict | None:
    """Render the button; returns ``{"lon", "lat", "accuracy", "at"}``, ``{"error", "at"}`` or None."""
    return registered(_component)(label=label, insecure=insecure, waiting=waiting, failed=failed, key=key, default=None)
