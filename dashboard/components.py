"""Custom components (streamlit-folium's map, the "my location" button) registered with the
running server whenever a page uses them.

Streamlit registers a component when its module is imported *during a page run*; imported
anywhere else — the wall screen's request handler, which runs outside any page — the component
is created but never registered, and every map on every page then stays grey ("trouble loading
the streamlit_folium component", its files answer 404) until the server restarts. Which module
is imported first must not decide that: :func:`registered` registers the component with the
runtime right before a page mounts it, if it is not yet.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["registered"]

C = TypeVar("C")


def registered(component: C) -> C:
    """``component``, registered with the running Streamlit server (idempotent)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest and scripts outside a server: nothing to register with
        return component
    registry = Runtime.instance().component_registry
    if registry.get_component_path(component.name) is None:  # type: ignore[attr-defined]
        registry.register_component(component)  # type: ignore[arg-type]
    return component
