"""Fixtures for the store suite. ``new_store`` makes a store of the backend under test, filled
with the given layers; the PostGIS backend joins the parameters when it is available."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import pytest

from layers.store import GpkgStore, write_new_store


@pytest.fixture(params=["gpkg"])
def new_store(request, tmp_path) -> Callable[..., object]:
    def make(layers: Mapping[str, pd.DataFrame], *, meta: Mapping[str, str] | None = None, user: str = "system"):
        path = tmp_path / "store.gpkg"
        write_new_store(path, layers, meta=meta, user=user)
        return GpkgStore(path)

    return make
