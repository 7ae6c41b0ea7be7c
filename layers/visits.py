"""14-day travel history 旅居史 of travellers — personal data, no geometry."""

from __future__ import annotations

from layers.spec import Column, LayerSpec

SPEC = LayerSpec(
    key="visits",
    name_zh="旅居史",
    name_en="Travel history",
    geometry=None,
    id_column=None,
    columns=(
        Column("traveller_id", "str", "人员编号", "Traveller ID", required=True, personal=True, references="travellers"),
        Column("place", "str", "地点", "Place", required=True, personal=True),
        Column("adcode", "str", "行政区划代码", "Admin code", personal=True),
        Column("from_date", "date", "开始日期", "From", personal=True),
        Column("to_date", "date", "结束日期", "To", personal=True),
    ),
    public=False,
)
