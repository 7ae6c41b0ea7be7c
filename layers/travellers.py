"""返(抵)并人员 traveller residences — personal data; never rendered as individual points."""

from __future__ import annotations

from layers.spec import Column, LayerSpec

SPEC = LayerSpec(
    key="travellers",
    name_zh="返（抵）并人员",
    name_en="Travellers",
    geometry="Point",
    columns=(
        Column("id", "str", "编号", "ID", required=True),
        Column("name", "str", "姓名", "Name", required=True, personal=True),
        Column("phone", "str", "电话", "Phone", personal=True),
        Column("id_number", "str", "身份证号", "ID-card number", personal=True),
        Column("address", "str", "住址", "Address", personal=True),
        Column("arrival_date", "date", "抵并日期", "Arrival date"),
        Column("neighbourhood_id", "str", "社区编号", "Neighbourhood ID", references="neighbourhoods"),
        Column("household_id", "str", "户编号", "Household ID", personal=True),
        Column("needs", "str", "特殊需要", "Special needs", personal=True),
        Column("inbound", "bool", "境外入境", "Inbound from abroad"),
        Column("entry_quarantine_days", "int", "入境点已隔离天数", "Days quarantined at entry"),
        Column("companion", "bool", "时空伴随者", "Spatiotemporal companion"),
        Column("companion_date", "date", "伴随推送日期", "Companion flag date"),
        Column("device_id", "str", "设备编号（匿名）", "Device ID (pseudonymous)", personal=True),
        Column("bigdata_push", "bool", "大数据推送", "Big-data push"),
        Column("push_date", "date", "推送日期", "Push date"),
        Column("health_code", "str", "山西健康码（红码/黄码）", "Health code (red/yellow)"),
        Column("health_code_date", "date", "赋码日期", "Health-code date"),
        Column("demo", "bool", "演示数据", "Demo data"),
    ),
    public=False,
)
