"""geo.nearest: literal tiny cases, then property tests against brute-force ``Geod.inv``."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo import nearest as nearest_mod
from geo.errors import CoordinateError
from geo.nearest import Nearest, NearestIndex, sites_near

GEOD = Geod(ellps="WGS84")
CENTRE = (112.549, 37.857)  # Taiyuan


def brute_force(points: np.ndarray, sites: np.ndarray, k: int, mask: np.ndarray | None = None):
    """The obvious reference: Geod.inv to every site, sort by (distance, position), cut to k."""
    n, m = len(points), len(sites)
    index = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), np.inf)
    cand = np.flatnonzero(mask if mask is not None else np.ones(m, dtype=bool))
    cand = cand[~np.isnan(sites[cand]).any(axis=1)]
    for i, (lon, lat) in enumerate(points):
        if np.isnan(lon) or np.isnan(lat) or cand.size == 0:
            continue
        d = GEOD.inv(np.full(cand.size, lon), np.full(cand.size, lat), sites[cand, 0], sites[cand, 1])[2]
        order = np.lexsort((cand, d))[:k]
        index[i, : order.size] = cand[order]
        dist[i, : order.size] = d[order]
    return index, dist


def assert_matches_brute_force(res: Nearest, points, sites, k, mask=None, *, dist_tol=1.0):
    ref_index, ref_dist = brute_force(points, sites, k, mask)
    assert res.index.shape == res.distance_m.shape == (len(points), k)
    assert res.index.dtype == np.int64 and res.distance_m.dtype == np.float64
    # the chosen sites are the true k nearest: their reference distances equal the
    # reference's k smallest (up to exact ties, 1e-6 m), in the same order
    got_ref = np.full(ref_dist.shape, np.inf)
    for i in range(len(points)):
        for j in range(k):
            if res.index[i, j] >= 0:
                lon, lat = points[i]
                s = sites[res.index[i, j]]
                got_ref[i, j] = GEOD.inv(lon, lat, s[0], s[1])[2]
    assert np.array_equal(res.index == -1, ref_index == -1)
    finite = np.isfinite(ref_dist)
    np.testing.assert_allclose(got_ref[finite], ref_dist[finite], rtol=0, atol=1e-6)
    assert np.all(np.isinf(res.distance_m[~finite]))
    np.testing.assert_allclose(res.distance_m[finite], ref_dist[finite], rtol=0, atol=dist_tol)
    # where the reference has no tie within 1e-6 m, the index is the same site
    padded = np.hstack([np.full((len(points), 1), -np.inf), ref_dist, np.full((len(points), 1), np.inf)])
    with np.errstate(invalid="ignore"):  # inf - inf in the padding
        alone = (np.diff(padded[:, :-1], axis=1) > 1e-6) & (np.diff(padded[:, 1:], axis=1) > 1e-6)
    assert np.array_equal(res.index[alone & finite], ref_index[alone & finite])
    # rows are sorted; exact ties go to the lower position
    d = res.distance_m
    assert np.all(d[:, 1:] >= d[:, :-1])
    tie = (d[:, 1:] == d[:, :-1]) & np.isfinite(d[:, 1:])
    assert np.all(res.index[:, 1:][tie] > res.index[:, :-1][tie])


# ---------------------------------------------------------------- literal tiny cases


def test_k1_nearest_is_exact():
    sites = np.array([[112.50, 37.80], [112.55, 37.86], [112.70, 37.95]])
    res = sites_near(np.array([[112.551, 37.861]]), sites, k=1)
    assert res.index.tolist() == [[1]]
    expected = GEOD.inv(112.551, 37.861, 112.55, 37.86)[2]
    assert abs(res.distance_m[0, 0] - expected) < 1e-3
    exact = sites_near(np.array([[112.551, 37.861]]), sites, k=1, exact=True)
    assert exact.distance_m[0, 0] == expected


def test_point_on_a_site_is_at_distance_zero():
    sites = np.array([[112.50, 37.80], [112.55, 37.86]])
    res = sites_near(sites, sites, k=1)
    assert res.index.tolist() == [[0], [1]]
    assert res.distance_m.ravel().tolist() == [0.0, 0.0]


def test_ties_go_to_the_lower_position():
    # positions 1 and 3 are the same place; 0 and 2 are mirror images east/west of the query
    sites = np.array([[112.75, 37.8], [112.5, 37.85], [112.25, 37.8], [112.5, 37.85]])
    res = sites_near(np.array([[112.5, 37.8]]), sites, k=4)
    assert res.index.tolist() == [[1, 3, 0, 2]]
    assert res.distance_m[0, 0] == res.distance_m[0, 1]
    assert res.distance_m[0, 2] == res.distance_m[0, 3]


def test_many_duplicates_need_more_than_one_extra_candidate():
    # ten copies of the nearest site: the one-extra-candidate certificate fails and the
    # query is repeated with more candidates until it holds
    near = [112.56, 37.86]
    sites = np.array([[112.70, 37.95]] + [near] * 10 + [[112.40, 37.70]])
    res = sites_near(np.array([CENTRE]), sites, k=3)
    assert res.index.tolist() == [[1, 2, 3]]
    res = sites_near(np.array([CENTRE]), sites, k=3, mask=np.arange(12) % 2 == 0)
    assert res.index.tolist() == [[2, 4, 6]]


def test_mask_excludes_sites():
    sites = np.array([[112.55, 37.86], [112.60, 37.90], [112.40, 37.70]])
    q = np.array([[112.551, 37.861]])
    assert sites_near(q, sites, k=1).index.tolist() == [[0]]
    res = sites_near(q, sites, k=2, mask=np.array([False, True, True]))
    assert res.index.tolist() == [[1, 2]]
    none = sites_near(q, sites, k=2, mask=np.zeros(3, dtype=bool))
    assert none.index.tolist() == [[-1, -1]] and np.isinf(none.distance_m).all()


def test_k_larger_than_candidates_pads():
    sites = np.array([[112.55, 37.86], [112.60, 37.90], [112.40, 37.70]])
    res = sites_near(np.array([[112.551, 37.861]]), sites, k=5, mask=np.array([True, False, True]))
    assert res.index.tolist() == [[0, 2, -1, -1, -1]]
    assert np.isfinite(res.distance_m[0, :2]).all() and np.isinf(res.distance_m[0, 2:]).all()
    assert res.k == 5 and len(res) == 1


def test_nan_and_empty_points_give_empty_rows():
    sites = np.array([[112.55, 37.86], [112.60, 37.90]])
    pts = np.array([[112.551, 37.861], [np.nan, 37.9], [112.6, np.nan], [112.6, 37.9]])
    res = sites_near(pts, sites, k=2)
    assert res.index.tolist() == [[0, 1], [-1, -1], [-1, -1], [1, 0]]
    assert np.isinf(res.distance_m[1:3]).all()
    geoms = gpd.GeoSeries([shapely.Point(112.551, 37.861), shapely.Point(), None], crs="EPSG:4326")
    res = sites_near(geoms, sites, k=1)
    assert res.index.tolist() == [[0], [-1], [-1]]
    assert sites_near(np.array([[np.nan, np.nan]]), sites, k=1).index.tolist() == [[-1]]


def test_missing_sites_are_never_returned():
    sites = gpd.GeoSeries([None, shapely.Point(112.55, 37.86), shapely.Point()], crs="EPSG:4326")
    res = sites_near(np.array([[112.5, 37.8]]), sites, k=3)
    assert res.index.tolist() == [[1, -1, -1]]
    res = sites_near(np.array([[112.5, 37.8]]), np.array([[np.nan, np.nan], [112.55, 37.86]]), k=2)
    assert res.index.tolist() == [[1, -1]]


def test_empty_inputs():
    sites = np.array([[112.55, 37.86]])
    res = sites_near(np.empty((0, 2)), sites, k=3)
    assert res.index.shape == (0, 3) and res.distance_m.shape == (0, 3)
    res = sites_near(np.array([[112.5, 37.8]]), np.empty((0, 2)), k=2)
    assert res.index.tolist() == [[-1, -1]]


def test_geodataframes_single_pair_and_other_crs():
    gdf = gpd.GeoDataFrame(
        {"id": ["S1", "S2", "S3"], "hours": ["24h", "07:00-19:00", "20:00-02:00"]},
        geometry=gpd.points_from_xy([112.55, 112.60, 112.40], [37.86, 37.90, 37.70]),
        crs="EPSG:4326",
        index=[10, 20, 30],  # positions, not labels, are returned
    )
    res = sites_near((112.551, 37.861), gdf, k=2)
    assert res.index.tolist() == [[0, 1]]
    utm = gdf.to_crs("EPSG:32649")
    res_utm = sites_near(utm.iloc[[2]], utm, k=1)
    assert res_utm.index.tolist() == [[2]] and res_utm.distance_m[0, 0] < 1e-3
    no_crs = gpd.GeoSeries(gdf.geometry.values, crs=None)
    assert sites_near(np.array([[112.551, 37.861]]), no_crs, k=1).index.tolist() == [[0]]
    res_pt = sites_near(shapely.Point(112.401, 37.701), gdf, k=1)
    assert res_pt.index.tolist() == [[2]]
    res_list = sites_near([shapely.Point(112.401, 37.701), None], list(gdf.geometry), k=1)
    assert res_list.index.tolist() == [[2], [-1]]


def test_far_away_sites_use_exact_distances():
    sites = np.array([[116.40, 39.90], [121.47, 31.23], [151.21, -33.87], [-67.45, -37.86], [87.62, 43.83]])
    pts = np.array([CENTRE, [0.0, 89.9], [-67.45, -37.0], [179.9, 0.0]])
    res = sites_near(pts, sites, k=5)
    ref_index, ref_dist = brute_force(pts, sites, 5)
    assert np.array_equal(res.index, ref_index)
    assert np.array_equal(res.distance_m, ref_dist)  # same Geod.inv calls, bit for bit


def test_index_is_reusable_and_validates_k():
    idx = NearestIndex(np.array([[112.55, 37.86], [112.60, 37.90]]), mask=np.array([True, False]))
    assert idx.n_sites == 2 and idx.n_candidates == 1
    assert "n_candidates=1" in repr(idx)
    assert idx.query((112.6, 37.9), k=1).index.tolist() == [[0]]
    assert idx.query((112.6, 37.9), k=2).index.tolist() == [[0, -1]]
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            idx.query((112.6, 37.9), k=bad)


def test_bad_inputs_are_named():
    sites = np.array([[112.55, 37.86], [112.60, 37.90]])
    with pytest.raises(CoordinateError, match=r"points: row 1 lon=112.5, lat=137.2 out of range"):
        sites_near(np.array([[112.5, 37.2], [112.5, 137.2]]), sites)
    with pytest.raises(CoordinateError, match=r"sites: row 0 lon=inf"):
        sites_near(np.array([[112.5, 37.2]]), np.array([[np.inf, 37.0]]))
    with pytest.raises(CoordinateError, match=r"expected an \(N, 2\) array"):
        sites_near(np.zeros((3, 3)), sites)
    poly = gpd.GeoSeries([shapely.Point(112.5, 37.8), shapely.box(112, 37, 113, 38)], crs="EPSG:4326")
    with pytest.raises(CoordinateError, match="sites: row 1 is a Polygon, expected a Point"):
        NearestIndex(poly)
    with pytest.raises(ValueError, match=r"mask has shape \(3,\), expected \(2,\)"):
        NearestIndex(sites, mask=np.array([True, False, True]))
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        NearestIndex(sites, mask=np.array([1, 0]))


def test_inputs_are_not_mutated():
    sites = np.array([[112.55, 37.86], [112.60, 37.90]])
    pts = np.array([[112.5, 37.8], [np.nan, 1.0]])
    s0, p0 = sites.copy(), pts.copy()
    sites_near(pts, sites, k=2, exact=True)
    assert np.array_equal(sites, s0) and np.array_equal(pts, p0, equal_nan=True)


# ---------------------------------------------------------------- the two facts the method rests on


def _sweep(n: int, max_m: float, seed: int):
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-90.0, 90.0, n)
    lat[:8] = [-90.0, -89.999, -45.0, 0.0, 0.0, 37.857, 89.999, 90.0]
    lon = rng.uniform(-180.0, 180.0, n)
    az = rng.uniform(-180.0, 180.0, n)
    d = max_m * rng.uniform(0.0, 1.0, n) ** 0.5
    d[:8] = max_m
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, d)
    return lon, lat, np.asarray(lon2), np.asarray(lat2)


def test_chord_never_exceeds_geodesic():
    """The certificate's premise: straight-line ECEF distance ≤ geodesic distance."""
    lon, lat, lon2, lat2 = _sweep(100_000, 20_000_000.0, seed=1)
    chord = np.linalg.norm(nearest_mod._ecef(lon2, lat2) - nearest_mod._ecef(lon, lat), axis=1)
    geodesic = GEOD.inv(lon, lat, lon2, lat2)[2]
    assert np.all(chord <= geodesic + 1e-8)


def test_arc_formula_stays_inside_its_error_bound():
    """Short-range distances: all latitudes and azimuths, up to the 100 km cut-off."""
    lon, lat, lon2, lat2 = _sweep(200_000, nearest_mod._ARC_MAX_M, seed=2)
    chord = np.linalg.norm(nearest_mod._ecef(lon2, lat2) - nearest_mod._ecef(lon, lat), axis=1)
    arc = nearest_mod._arc_from_chord(chord, nearest_mod._gauss_radius(lat))
    err = np.abs(arc - GEOD.inv(lon, lat, lon2, lat2)[2])
    bound = nearest_mod._arc_error_bound(chord)
    assert np.all(err <= bound)
    assert np.all(err <= bound / 4 + 1e-6)  # the bound keeps a safety factor of 4 or more
    assert bound.max() < 0.05  # 5 cm at 100 km: far inside the 1 m promise


def test_threaded_paths_agree_with_single_thread(monkeypatch):
    rng = np.random.default_rng(3)
    sites = np.column_stack([rng.uniform(111.5, 113.2, 500), rng.uniform(37.4, 38.5, 500)])
    pts = np.column_stack([rng.uniform(111.5, 113.2, 300), rng.uniform(37.4, 38.5, 300)])
    idx = NearestIndex(sites)
    single = idx.query(pts, k=4, exact=True)
    monkeypatch.setattr(nearest_mod, "_PARALLEL_ROWS", 1)
    monkeypatch.setattr(nearest_mod, "_PARALLEL_PAIRS", 1)
    threaded = idx.query(pts, k=4, exact=True)
    assert np.array_equal(single.index, threaded.index)
    assert np.array_equal(single.distance_m, threaded.distance_m)


# ---------------------------------------------------------------- properties against brute force

taiyuan_lon = st.floats(111.5, 113.2, allow_nan=False)
taiyuan_lat = st.floats(37.4, 38.5, allow_nan=False)
grid_lon = st.integers(11150, 11320).map(lambda v: v / 100)  # a coarse grid makes ties common
grid_lat = st.integers(3740, 3850).map(lambda v: v / 100)
anywhere = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False))
near_point = st.one_of(st.tuples(taiyuan_lon, taiyuan_lat), st.tuples(grid_lon, grid_lat))


@st.composite
def scenes(draw):
    sites = draw(st.lists(near_point, min_size=1, max_size=300))
    sites += draw(st.lists(anywhere, max_size=3))  # a few far away
    if draw(st.booleans()):  # duplicated sites
        picks = draw(st.lists(st.integers(0, len(sites) - 1), max_size=12))
        sites += [sites[i] for i in picks]
    sites = draw(st.permutations(sites))
    pts = draw(st.lists(st.one_of(near_point, anywhere, st.sampled_from(sites)), min_size=1, max_size=15))
    use_mask = draw(st.booleans())
    mask = np.array(draw(st.lists(st.booleans(), min_size=len(sites), max_size=len(sites)))) if use_mask else None
    k = draw(st.integers(1, 8))
    return np.array(pts, dtype=float), np.array(sites, dtype=float), k, mask


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenes())
def test_matches_brute_force(scene):
    pts, sites, k, mask = scene
    res = sites_near(pts, sites, k=k, mask=mask)
    assert_matches_brute_force(res, pts, sites, k, mask, dist_tol=0.05)
    exact = NearestIndex(sites, mask=mask).query(pts, k=k, exact=True)
    assert_matches_brute_force(exact, pts, sites, k, mask, dist_tol=1e-6)
    assert np.array_equal(res.index, exact.index)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_dense_random_cities_match_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 301))
    sites = np.column_stack([rng.uniform(111.5, 113.2, m), rng.uniform(37.4, 38.5, m)])
    pts = np.column_stack([rng.uniform(111.4, 113.3, 40), rng.uniform(37.3, 38.6, 40)])
    res = sites_near(pts, sites, k=k)
    assert_matches_brute_force(res, pts, sites, k, dist_tol=0.05)
