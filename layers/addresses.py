"""地名地址 Address gazetteer: road and address names with their points, for the resident lookup.

A list of names with points — a 民政 place-name list, or an exported POI list (in GCJ-02:
import with ``--crs gcj02``) — imported like any layer (``riskmap import addresses FILE``, or the
Data page). The resident page's search finds these beside districts, streets, neighbourhoods and
testing sites (:class:`geo.geocode.PlaceGazetteer`). Public: names of places, nothing personal.
The demo generates one (``data/demo.py``), labelled as demo data.
"""

from __future__ import annotations

from geo.geocode import KINDS as PLACE_KINDS
from layers.spec import Column, LayerSpec

#: kind → (zh, en), as the search shows them; an empty kind reads as an address.
KINDS = {k: PLACE_KINDS[k] for k in ("road", "address", "poi")}

SPEC = LayerSpec(
    key="addresses",
    name_zh="地名地址",
    name_en="Address gazetteer",
    geometry="Point",
    columns=(
        Column("id", "str", "编号", "ID", required=True),
        Column("name", "str", "名称", "Name", required=True),
        Column("kind", "str", "类别", "Kind"),
        Column("district_adcode", "str", "区县代码", "District code"),
        Column("demo", "bool", "演示数据", "Demo data"),
    ),
)
