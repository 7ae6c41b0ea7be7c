"""全员核酸 from a store: the area to test (a zone, a district, the city or a drawn shape), its
people by neighbourhood (apportioned by area, as zone impacts are), the sampling sites, and the
plan's workbook. Public layers only (neighbourhood populations, sites, zones, boundaries): no
person, so the pages may cache the results across users. The plan itself is :mod:`geo.mass_testing`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.mass_testing import MassTestingPlan

__all__ = ["area_demand", "site_frame", "open_sites", "plan_workbook", "coverage_workbook"]


def area_demand(neighbourhoods: gpd.GeoDataFrame, area: shapely.Geometry) -> pd.DataFrame:
    """The neighbourhoods with people inside ``area`` (WGS-84): ``id``, ``name``, ``district``,
    ``lon``, ``lat`` (a point inside the part within the area), ``population`` (the
    neighbourhood's population × the share of its area inside, :func:`geo.apportion.overlap_shares`)."""
    from geo.apportion import overlap_shares

    nb = neighbourhoods.reset_index(drop=True)
    cols = ["id", "name", "district", "lon", "lat", "population"]
    if area is None or shapely.is_empty(area) or nb.empty:
        return pd.DataFrame(columns=cols)
    _, ni, share = overlap_shares(gpd.GeoSeries([area], crs="EPSG:4326"), gpd.GeoSeries(nb.geometry.to_numpy(), crs=nb.crs or "EPSG:4326"))
    if not len(ni):
        return pd.DataFrame(columns=cols)
    part = shapely.intersection(nb.geometry.to_numpy()[ni], area)
    centre = shapely.point_on_surface(part)
    pop = pd.to_numeric(nb["population"], errors="coerce").fillna(0).to_numpy(dtype=float)[ni] * share
    out = pd.DataFrame({
        "id": nb["id"].astype(str).to_numpy()[ni], "name": nb["name"].astype(str).to_numpy()[ni],
        "district": nb["district"].astype(str).to_numpy()[ni] if "district" in nb.columns else "",
        "lon": shapely.get_x(centre), "lat": shapely.get_y(centre), "population": np.rint(pop).astype("int64"),
    })
    return out[out["population"] > 0].reset_index(drop=True)


def site_frame(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """The testing-sites layer as :func:`geo.mass_testing.mass_testing_plan` takes it."""
    return pd.DataFrame({
        "id": sites["id"].astype(str), "name": sites["name"].astype(str),
        "lon": sites.geometry.x, "lat": sites.geometry.y,
        "capacity_per_hour": sites["capacity_per_hour"] if "capacity_per_hour" in sites.columns else np.nan,
        "hours": sites["hours"],
    }).reset_index(drop=True)


def open_sites(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sites open at some time of the day (hours readable and not "closed"): the ones that
    count for the 15-minute sampling circle."""
    from geo.hours import parse_hours

    def opens(text: object) -> bool:
        try:
            return bool(parse_hours(str(text)))
        except ValueError:
            return False

    return sites[[opens(h) for h in sites["hours"]]]


def _table(frame: pd.DataFrame, headers: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return frame[list(headers)].rename(columns={c: f"{zh} {en}" for c, (zh, en) in headers.items()})


def plan_workbook(plan: MassTestingPlan, *, area_name: str) -> bytes:
    """The plan as XLSX: 汇总 summary, 社区 neighbourhoods (people, served, to temporary points,
    expected finish), 临时采样点 temporary points, 检测点 sites (capacity, load, finish), 未纳入
    sites left out. No formula cells."""
    from layers._cells import xlsx_bytes

    summary = pd.DataFrame([
        ("区域 Area", area_name),
        ("开始 Start", plan.start.strftime("%Y-%m-%d %H:%M")),
        ("目标（小时） Target (h)", plan.target_hours),
        ("人口 People", plan.population),
        ("现有检测点可按时完成 Existing sites in time", "是 yes" if plan.reachable else "否 no"),
        ("现有检测点最早完成（小时） Earliest finish with existing sites (h)", plan.finish_hours),
        ("临时采样点 Temporary points", plan.temporary_points),
        ("采样台 Stations", plan.stations),
        ("采样人员（人次） Samplers (× shifts)", plan.staff),
        ("班次 Shifts", plan.shifts),
        ("混采 Pooling", f"{plan.pooling}:1"),
        ("采样管 Tubes", plan.tubes),
    ], columns=["项目 Item", "数值 Value"])
    nb = plan.neighbourhoods.assign(finish=plan.neighbourhoods["finish"].dt.strftime("%Y-%m-%d %H:%M"),
                                    sites=plan.neighbourhoods["sites"].map("、".join))
    temp = plan.temporary.assign(covers=plan.temporary["covers"].map("、".join))
    sites = plan.sites.assign(finish=plan.sites["finish"].dt.strftime("%Y-%m-%d %H:%M"))
    issues = pd.DataFrame(plan.issues, columns=["id", "zh", "en"]).assign(reason=lambda f: f["zh"] + " / " + f["en"])
    return xlsx_bytes({
        "汇总 Summary": summary,
        "社区 Neighbourhoods": _table(nb, {"id": ("社区编号", "Neighbourhood ID"), "name": ("社区", "Neighbourhood"),
                                         "population": ("人口", "People"), "served": ("现有检测点", "By existing sites"),
                                         "temporary": ("临时采样点", "By temporary points"), "finish": ("预计完成", "Expected finish"),
                                         "sites": ("步行可达检测点", "Sites within walking distance")}),
        "临时采样点 Temporary": _table(temp, {"place": ("位置（社区编号）", "Place (neighbourhood ID)"), "name": ("社区", "Neighbourhood"),
                                          "points": ("采样点数", "Points"), "load": ("人数", "People"), "stations": ("采样台", "Stations"),
                                          "staff": ("采样人员（人次）", "Samplers (× shifts)"), "covers": ("服务社区", "Serves")}),
        "检测点 Sites": _table(sites, {"id": ("编号", "ID"), "name": ("名称", "Name"), "capacity": ("目标时间内能力", "Capacity in the target"),
                                     "load": ("安排人数", "People"), "finish": ("预计完成", "Expected finish")}),
        "未纳入 Left out": _table(issues, {"id": ("编号", "ID"), "reason": ("原因", "Reason")}),
    })


def coverage_workbook(neighbourhoods: pd.DataFrame, districts: pd.DataFrame, *, walk_km: float) -> bytes:
    """The 15-minute sampling circle as XLSX: by district (and the city) and per neighbourhood."""
    from layers._cells import xlsx_bytes

    d = districts.assign(share=(100 * districts["share"]).round(1), covered=districts["covered"].round(0))
    n = neighbourhoods.assign(share=(100 * neighbourhoods["share"]).round(1), uncovered=neighbourhoods["uncovered"].round(0))
    return xlsx_bytes({
        f"按区县 By district ({walk_km:g} km)": _table(d, {"district": ("区县", "District"), "population": ("人口", "People"),
                                                         "covered": ("步行可达人口", "Within walking distance"),
                                                         "share": ("覆盖率（%）", "Covered (%)")}),
        "按社区 By neighbourhood": _table(n, {"id": ("社区编号", "Neighbourhood ID"), "name": ("社区", "Neighbourhood"),
                                            "district": ("区县", "District"), "population": ("人口", "People"),
                                            "share": ("覆盖率（%）", "Covered (%)"), "uncovered": ("未覆盖人口", "People outside")}),
    })
