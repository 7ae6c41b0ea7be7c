import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import CoordinateError
from geo.assign import REASON_TEXT, Assignment, Reason, neighbourhood_of_points

INSIDE, ON_EDGE, OUTSIDE, EMPTY = Reason.INSIDE, Reason.ON_EDGE, Reason.OUTSIDE, Reason.EMPTY
NAN, INF = math.nan, math.inf

LEFT = shapely.box(0, 0, 1, 1)
RIGHT = shapely.box(1, 0, 2, 1)


def reference(xy: np.ndarray, polygons) -> tuple[np.ndarray, np.ndarray]:
    """The tie rule written the obvious way: every point against every polygon."""
    polygons = list(polygons)
    index = np.full(len(xy), -1)
    reason = np.full(len(xy), int(OUTSIDE))
    for k, (x, y) in enumerate(xy):
        if not (math.isfinite(x) and math.isfinite(y)):
            reason[k] = EMPTY
            continue
        p = shapely.Point(x, y)
        live = [(j, g) for j, g in enumerate(polygons) if g is not None and not g.is_empty]
        inside = [j for j, g in live if g.contains(p)]
        covering = [j for j, g in live if g.covers(p)]
        if inside:
            index[k], reason[k] = min(inside), INSIDE
        elif covering:
            index[k], reason[k] = min(covering), ON_EDGE
    return index, reason


def assert_matches_sjoin(xy: np.ndarray, polygons, result: Assignment) -> int:
    """Where geopandas.sjoin(predicate="within") finds exactly one polygon, we find the same one."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]))
    polys = gpd.GeoDataFrame(geometry=list(polygons))
    joined = gpd.sjoin(pts, polys, predicate="within", how="inner")
    count = np.bincount(joined.index.to_numpy(), minlength=len(xy))
    one = np.flatnonzero(count == 1)
    found = dict(zip(joined.index.to_numpy(), joined["index_right"].to_numpy(), strict=False))
    expected = np.array([found[k] for k in one], dtype=np.int64)
    np.testing.assert_array_equal(result.index[one], expected)
    assert (result.reason[one] == INSIDE).all()
    assert not (result.reason[count == 0] == INSIDE).any()
    return len(one)


def check(xy, polygons, **kw) -> Assignment:
    """One call and a reusable index (each its own grid) against the reference."""
    from geo.assign import AssignIndex

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    result = neighbourhood_of_points(xy, polygons, **kw)
    want_index, want_reason = reference(xy, polygons)
    np.testing.assert_array_equal(result.index, want_index)
    np.testing.assert_array_equal(result.reason, want_reason)
    assert result.index.dtype == np.int64 and result.reason.dtype == np.int8
    reused = AssignIndex(polygons, expected_points=len(xy), grid_size=kw.get("grid_size")).assign(xy)
    np.testing.assert_array_equal(reused.index, want_index)
    np.testing.assert_array_equal(reused.reason, want_reason)
    return result


# ----------------------------------------------------------------------------------------------
# Literal geometries


@pytest.mark.parametrize(
    ("x", "y", "index", "reason"),
    [
        (0.5, 0.5, 0, INSIDE),
        (1.5, 0.5, 1, INSIDE),
        (1.0, 0.5, 0, ON_EDGE),  # shared edge
        (1.0, 1.0, 0, ON_EDGE),  # shared vertex, top
        (1.0, 0.0, 0, ON_EDGE),  # shared vertex, bottom
        (0.0, 0.5, 0, ON_EDGE),  # outer edge of the left square
        (0.0, 0.0, 0, ON_EDGE),  # outer corner
        (2.0, 0.5, 1, ON_EDGE),  # outer edge of the right square
        (1.5, 1.0, 1, ON_EDGE),
        (2.0, 1.0, 1, ON_EDGE),
        (3.0, 3.0, -1, OUTSIDE),
        (-0.1, 0.5, -1, OUTSIDE),
        (1.0, 1.0000001, -1, OUTSIDE),
        (2.0000000000000004, 0.5, -1, OUTSIDE),  # the next float after the right edge
        (1.9999999999999998, 0.5, 1, INSIDE),
        (NAN, NAN, -1, EMPTY),
        (NAN, 0.5, -1, EMPTY),
        (INF, 0.5, -1, EMPTY),
        (0.5, -INF, -1, EMPTY),
    ],
)
def test_two_squares_sharing_an_edge(x, y, index, reason):
    result = check([(x, y)], [LEFT, RIGHT])
    assert (result.index[0], result.reason[0]) == (index, reason)


@pytest.mark.parametrize(
    ("x", "y", "index", "reason"),
    [
        (1.0, 0.5, 0, ON_EDGE),  # the shared edge now goes to the right square, first in order
        (0.0, 0.5, 1, ON_EDGE),
        (0.5, 0.5, 1, INSIDE),
        (1.5, 0.5, 0, INSIDE),
    ],
)
def test_tie_goes_to_the_lowest_position_not_to_a_side(x, y, index, reason):
    result = check([(x, y)], [RIGHT, LEFT])
    assert (result.index[0], result.reason[0]) == (index, reason)


RING = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 3, 3))
FILLER = shapely.box(1, 1, 3, 3)


@pytest.mark.parametrize(
    ("polygons", "x", "y", "index", "reason"),
    [
        ([RING], 2.0, 2.0, -1, OUTSIDE),  # in the hole
        ([RING], 0.5, 2.0, 0, INSIDE),
        ([RING], 1.0, 2.0, 0, ON_EDGE),  # on the hole's edge
        ([RING], 3.0, 3.0, 0, ON_EDGE),  # on a corner of the hole
        ([RING, FILLER], 2.0, 2.0, 1, INSIDE),  # the hole filled by another polygon
        ([RING, FILLER], 1.0, 2.0, 0, ON_EDGE),
        ([FILLER, RING], 1.0, 2.0, 0, ON_EDGE),
        ([FILLER, RING], 3.5, 2.0, 1, INSIDE),
    ],
)
def test_polygon_with_a_hole(polygons, x, y, index, reason):
    result = check([(x, y)], polygons)
    assert (result.index[0], result.reason[0]) == (index, reason)


MULTI = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)])


@pytest.mark.parametrize(
    ("x", "y", "index", "reason"),
    [
        (5.5, 5.5, 0, INSIDE),
        (0.5, 0.5, 0, INSIDE),
        (1.0, 0.5, 0, ON_EDGE),
        (6.0, 6.0, 0, ON_EDGE),
        (3.0, 3.0, -1, OUTSIDE),  # between the parts
        (1.5, 0.5, 1, INSIDE),
    ],
)
def test_multipolygon(x, y, index, reason):
    result = check([(x, y)], [MULTI, RIGHT])
    assert (result.index[0], result.reason[0]) == (index, reason)


FIRST = shapely.box(0, 0, 2, 2)
SECOND = shapely.box(1, 1, 3, 3)


@pytest.mark.parametrize(
    ("polygons", "x", "y", "index", "reason"),
    [
        ([FIRST, SECOND], 1.5, 1.5, 0, INSIDE),  # strictly inside both: the lowest position
        ([SECOND, FIRST], 1.5, 1.5, 0, INSIDE),
        ([FIRST, SECOND], 2.5, 2.5, 1, INSIDE),
        ([FIRST, SECOND], 2.0, 1.5, 1, INSIDE),  # on the first's edge, inside the second
        ([FIRST, SECOND], 1.0, 1.5, 0, INSIDE),  # on the second's edge, inside the first
        ([FIRST, SECOND], 2.0, 2.0, 1, INSIDE),
        ([FIRST, SECOND], 2.0, 3.0, 1, ON_EDGE),
        ([SECOND, FIRST], 1.0, 1.0, 1, INSIDE),
        ([FIRST, SECOND], 2.0, 1.0, 0, ON_EDGE),  # corner of the second on the first's edge
        ([shapely.box(0, 0, 10, 10), FIRST], 1.0, 1.0, 0, INSIDE),  # nested
        ([FIRST, shapely.box(0, 0, 10, 10)], 1.0, 1.0, 0, INSIDE),
        ([FIRST, shapely.box(0, 0, 10, 10)], 2.0, 1.0, 1, INSIDE),
        ([FIRST, FIRST], 1.0, 1.0, 0, INSIDE),  # the same polygon twice
    ],
)
def test_overlapping_polygons(polygons, x, y, index, reason):
    result = check([(x, y)], polygons)
    assert (result.index[0], result.reason[0]) == (index, reason)


def test_many_points_and_every_grid_size_give_the_same_answer():
    xs = np.arange(-0.5, 2.51, 0.125)
    xy = np.array([(x, y) for x in xs for y in xs])
    polygons = [LEFT, RIGHT, RING, MULTI]
    first = check(xy, polygons)
    for grid_size in (1, 2, 3, 5, 8, 16, 100, 1000):
        again = check(xy, polygons, grid_size=grid_size)
        np.testing.assert_array_equal(again.index, first.index)


@pytest.mark.parametrize(
    "polygons",
    [
        [],
        [None],
        [shapely.Polygon()],
        [None, shapely.Polygon(), LEFT],
        gpd.GeoSeries([], dtype="geometry"),
    ],
)
def test_missing_and_empty_polygons_hold_nothing(polygons):
    xy = [(0.5, 0.5), (1.0, 1.0), (5.0, 5.0), (NAN, 1.0)]
    result = check(xy, polygons)
    if len(polygons) == 3:
        assert result.index.tolist() == [2, 2, -1, -1]
    else:
        assert result.reason.tolist() == [OUTSIDE, OUTSIDE, OUTSIDE, EMPTY]


def test_no_points():
    for points in (np.empty((0, 2)), [], gpd.GeoSeries([], dtype="geometry")):
        result = neighbourhood_of_points(points, [LEFT])
        assert len(result) == 0
        assert result.index.dtype == np.int64 and result.reason.dtype == np.int8


def test_point_inputs_agree():
    xy = np.array([(0.5, 0.5), (1.0, 0.5), (9.0, 9.0), (1.5, 0.25)])
    want = neighbourhood_of_points(xy, [LEFT, RIGHT])
    geoms = shapely.points(xy)
    for points in (
        geoms,
        list(geoms),
        gpd.GeoSeries(geoms),
        gpd.GeoDataFrame({"n": range(4)}, geometry=geoms),
        [tuple(p) for p in xy],
        xy.tolist(),
    ):
        got = neighbourhood_of_points(points, [LEFT, RIGHT])
        np.testing.assert_array_equal(got.index, want.index)
        np.testing.assert_array_equal(got.reason, want.reason)
    polys = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[LEFT, RIGHT])
    got = neighbourhood_of_points(xy, polys)
    np.testing.assert_array_equal(got.index, want.index)
    one = neighbourhood_of_points(shapely.Point(1.5, 0.5), [LEFT, RIGHT])
    assert (one.index.tolist(), one.reason.tolist()) == ([1], [INSIDE])


def test_none_coordinates_are_empty():
    result = neighbourhood_of_points([(0.5, None), (None, None), (0.5, 0.5)], [LEFT])
    assert result.reason.tolist() == [EMPTY, EMPTY, INSIDE]


def test_missing_points_in_a_geoseries_are_empty():
    points = gpd.GeoSeries([None, shapely.Point(), shapely.Point(0.5, 0.5), shapely.Point(NAN, NAN)])
    result = neighbourhood_of_points(points, [LEFT])
    assert result.reason.tolist() == [EMPTY, EMPTY, INSIDE, EMPTY]
    assert result.index.tolist() == [-1, -1, 0, -1]


def test_labels_and_reason_texts():
    polys = gpd.GeoDataFrame({"id": ["N1", "N2"]}, geometry=[LEFT, RIGHT])
    result = neighbourhood_of_points([(0.5, 0.5), (1.0, 0.5), (7.0, 7.0), (NAN, 0.0)], polys, ids="id")
    assert result.labels().tolist() == ["N1", "N1", None, None]
    assert result.labels(missing="").tolist() == ["N1", "N1", "", ""]
    assert result.labels(["x", "y"]).tolist() == ["x", "x", None, None]
    assert result.reason_text(lang="zh").tolist() == [
        "在社区内",
        "在社区边界上，归入序号最小的社区",
        "不在任何社区内",
        "坐标缺失或无效",
    ]
    assert result.reason_text(lang="en")[2] == "not inside any neighbourhood"
    assert result.labels([("a", 1), ("b", 2)])[0] == ("a", 1)
    assert REASON_TEXT[OUTSIDE] == ("不在任何社区内", "not inside any neighbourhood")
    assert (OUTSIDE.zh, EMPTY.en) == ("不在任何社区内", "missing or invalid coordinates")
    assert result.counts() == {INSIDE: 1, ON_EDGE: 1, OUTSIDE: 1, EMPTY: 1}
    same = neighbourhood_of_points([(0.5, 0.5)], polys, ids=polys["id"])
    assert same.labels().tolist() == ["N1"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: neighbourhood_of_points(np.zeros((3, 3)), [LEFT]), CoordinateError, r"\(N, 2\) array.*\(3, 3\)"),
        (lambda: neighbourhood_of_points(np.zeros(4), [LEFT]), CoordinateError, r"shape \(4,\)"),
        (
            lambda: neighbourhood_of_points(
                gpd.GeoSeries([shapely.Point(0, 0)], crs="EPSG:4326"),
                gpd.GeoSeries([LEFT], crs="EPSG:32649"),
            ),
            CoordinateError,
            r"points are in EPSG:4326 but polygons in EPSG:32649",
        ),
        (
            lambda: neighbourhood_of_points([shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)])], [LEFT]),
            TypeError,
            r"point 1 is a LineString; expected Point",
        ),
        (
            lambda: neighbourhood_of_points([shapely.Point(0, 0), None, *[shapely.MultiPoint([(0, 0)])] * 2], [LEFT]),
            TypeError,
            r"point 2 is a MultiPoint; expected Point \(2 such rows\)",
        ),
        (lambda: neighbourhood_of_points([(0, 0)], [LEFT, shapely.Point(0, 0)]), TypeError, r"polygon 1 is a Point"),
        (lambda: neighbourhood_of_points([(0, "north")], [LEFT]), CoordinateError, r"an \(N, 2\) array of x/y"),
        (
            lambda: neighbourhood_of_points([(0, 0)], [shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])]),
            ValueError,
            r"polygon 0 is invalid \(Self-intersection.*make_valid",
        ),
        (lambda: neighbourhood_of_points([(0, 0)], [LEFT], ids=["a", "b"]), ValueError, r"ids has 2 entries for 1"),
        (lambda: neighbourhood_of_points([(0, 0)], [LEFT], ids="id"), ValueError, r"ids='id' names no column"),
        (lambda: neighbourhood_of_points([(0, 0)], [LEFT]).labels(), ValueError, r"no ids to map to"),
        (
            lambda: neighbourhood_of_points([(1.5, 0.5)], [LEFT, RIGHT]).labels(["only one"]),
            ValueError,
            r"ids has 1 entries but the assignment refers to polygon 1",
        ),
        (lambda: neighbourhood_of_points([(0, 0)], [LEFT]).reason_text(lang="fr"), ValueError, r"lang must be"),
        (lambda: neighbourhood_of_points([(0, 0)], [LEFT], grid_size=0), ValueError, r"grid_size must be"),
        (lambda: neighbourhood_of_points([(0, 0)], "LEFT"), TypeError, r"polygons must be"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_callers_geometries_are_not_left_prepared():
    polys = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    neighbourhood_of_points([(0.5, 0.5)], polys)
    assert not shapely.is_prepared(polys).any()
    shapely.prepare(polys[0])
    neighbourhood_of_points([(0.5, 0.5)], polys)
    assert shapely.is_prepared(polys).tolist() == [True, False]


# ----------------------------------------------------------------------------------------------
# Property tests: random tilings against the obvious reference and geopandas.sjoin

# Places and scales: around zero (an axis crossing zero), lon/lat, UTM metres.
FRAMES = [(-1.0, -1.0, 2.0), (112.3, 37.6, 0.5), (520_000.0, 4_170_000.0, 40_000.0), (0.0, 0.0, 1.0)]


def voronoi_tiling(rng: np.random.Generator, n: int, frame: tuple[float, float, float], holes: int) -> list:
    """Voronoi cells tiling a square; some get a hole that another cell fills (so it is multi-part)."""
    x0, y0, size = frame
    seeds = np.column_stack([x0 + size * rng.uniform(size=n), y0 + size * rng.uniform(size=n)])
    square = shapely.box(x0, y0, x0 + size, y0 + size)
    if n == 1:
        return [square]
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=square.buffer(size), ordered=True)
    geoms = list(shapely.intersection(np.asarray(cells.geoms), square))
    for i in rng.choice(len(geoms), min(holes, len(geoms)), replace=False):
        cell = geoms[i]
        if cell.geom_type != "Polygon" or cell.is_empty:
            continue
        c = cell.representative_point()
        r = 0.2 * math.sqrt(cell.area)
        hole = shapely.Polygon([(c.x + r * math.cos(a), c.y + r * math.sin(a)) for a in np.arange(6) * math.pi / 3])
        if not cell.contains_properly(hole):
            continue
        geoms[i] = cell.difference(hole)
        j = int(rng.integers(len(geoms)))
        if j != i and rng.uniform() < 0.8:  # else the hole stays empty
            geoms[j] = shapely.union(geoms[j], hole)
    return [g if g.geom_type in ("Polygon", "MultiPolygon") else shapely.make_valid(g) for g in geoms]


def points_for(rng: np.random.Generator, polygons: list, frame: tuple[float, float, float], n: int) -> np.ndarray:
    """Random points, plus points exactly on vertices and on the square's outer edges, and NaNs."""
    x0, y0, size = frame
    xy = np.column_stack([x0 + size * rng.uniform(-0.1, 1.1, n), y0 + size * rng.uniform(-0.1, 1.1, n)])
    vertices = shapely.get_coordinates(polygons)
    on_vertex = vertices[rng.integers(0, len(vertices), n // 3)]
    a, b = vertices[:-1], vertices[1:]
    k = rng.integers(0, len(a), n // 4)
    on_edge_ish = a[k] + (b[k] - a[k]) * 0.5  # exactly on the edge or a rounding away from it
    outer = np.column_stack([np.full(8, x0), y0 + size * rng.uniform(size=8)])
    outer = np.concatenate([outer, outer[:, ::-1] - [y0, x0] + [x0, y0], [[x0 + size, y0 + size / 3]]])
    return np.concatenate([xy, on_vertex, on_edge_ish, outer, [[NAN, y0], [x0, INF]]])


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_cells=st.one_of(st.integers(1, 12), st.integers(13, 200)),
    frame=st.sampled_from(FRAMES),
    holes=st.integers(0, 6),
    grid_size=st.sampled_from([None, None, 1, 3, 16, 64, 700]),
)
def test_voronoi_tilings_match_reference_and_sjoin(seed, n_cells, frame, holes, grid_size):
    rng = np.random.default_rng(seed)
    polygons = voronoi_tiling(rng, n_cells, frame, holes)
    assert shapely.is_valid(polygons).all()
    xy = points_for(rng, polygons, frame, 240)
    result = check(xy, polygons, grid_size=grid_size)
    assert_matches_sjoin(xy[np.isfinite(xy).all(axis=1)], polygons, neighbourhood_of_points(
        xy[np.isfinite(xy).all(axis=1)], polygons, grid_size=grid_size
    ))
    assert (result.reason[-2:] == EMPTY).all()


def rectilinear_tiling(rng: np.random.Generator, side: int, regions: int, scale: float, x0: float, y0: float) -> list:
    """Unit squares of a side×side board given to the nearest of some random seeds, merged per region.

    Every edge is axis-parallel and every vertex on the integer lattice, so points on half-integer
    lattice points lie exactly on edges and vertices; regions may come out multi-part or holed.
    """
    seeds = rng.uniform(0, side, (regions, 2))
    centres = np.stack(np.meshgrid(np.arange(side) + 0.5, np.arange(side) + 0.5), axis=-1).reshape(-1, 2)
    owner = np.argmin(((centres[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=-1), axis=1)
    boxes = shapely.box(
        x0 + scale * (centres[:, 0] - 0.5),
        y0 + scale * (centres[:, 1] - 0.5),
        x0 + scale * (centres[:, 0] + 0.5),
        y0 + scale * (centres[:, 1] + 0.5),
    )
    out = [shapely.union_all(boxes[owner == r]) for r in range(regions)]
    return [shapely.make_valid(g) if not g.is_valid else g for g in out]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    side=st.integers(1, 9),
    regions=st.integers(1, 12),
    place=st.sampled_from([(0.0, 0.0, 1.0), (-4.0, -2.0, 1.0), (112.0, 37.5, 1 / 64), (524288.0, 4194304.0, 256.0)]),
    grid_size=st.sampled_from([None, 1, 2, 4, 9, 18, 64]),
)
def test_rectilinear_tilings_with_points_on_every_edge_and_vertex(seed, side, regions, place, grid_size):
    rng = np.random.default_rng(seed)
    x0, y0, scale = place
    polygons = rectilinear_tiling(rng, side, regions, scale, x0, y0)
    if not all(g.geom_type in ("Polygon", "MultiPolygon") for g in polygons):
        return  # make_valid gave a collection; not a case for this function
    lattice = np.arange(-1, 2 * side + 2) * 0.5  # half-integer steps: vertices, edge midpoints, centres
    gx, gy = np.meshgrid(x0 + scale * lattice, y0 + scale * lattice)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    xy = np.concatenate([xy, np.column_stack([x0 + scale * rng.uniform(-1, side + 1, 60), y0 + scale * rng.uniform(-1, side + 1, 60)])])
    result = check(xy, polygons, grid_size=grid_size)
    assert_matches_sjoin(xy, polygons, result)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25), grid_size=st.sampled_from([None, 2, 10, 50]))
def test_overlapping_random_polygons_match_reference(seed, n, grid_size):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10, (n, 2))
    radius = rng.uniform(0.3, 4.0, n)
    sides = rng.integers(3, 9, n)
    polygons = []
    for (cx, cy), r, k in zip(centres, radius, sides, strict=True):
        angle = np.sort(rng.uniform(0, 2 * np.pi, k))
        ring = np.column_stack([cx + r * np.cos(angle), cy + r * np.sin(angle)])
        polygons.append(shapely.Polygon(ring) if k > 2 else shapely.box(cx, cy, cx + r, cy + r))
    polygons = [p if p.is_valid and p.area > 0 else shapely.box(*p.bounds) for p in polygons]
    xy = np.concatenate([rng.uniform(-1, 11, (200, 2)), shapely.get_coordinates(polygons)])
    result = check(xy, polygons, grid_size=grid_size)
    assert_matches_sjoin(xy, polygons, result)


# ----------------------------------------------------------------------------------------------
# The demo scenario


@pytest.fixture(scope="module")
def demo():
    from data.demo import build_demo

    return build_demo(20220328)


def test_demo_travellers_get_their_neighbourhood(demo):
    neighbourhoods, travellers = demo["neighbourhoods"], demo["travellers"]
    result = neighbourhood_of_points(travellers, neighbourhoods, ids="id")
    assert (result.reason == INSIDE).all()
    np.testing.assert_array_equal(result.labels(), travellers["neighbourhood_id"].to_numpy())
    # The same from plain lon/lat columns, and from the polygons' GeoSeries.
    xy = np.column_stack([travellers.geometry.x, travellers.geometry.y])
    again = neighbourhood_of_points(xy, neighbourhoods.geometry)
    np.testing.assert_array_equal(again.index, result.index)


def test_assign_index_reused_equals_one_shot():
    """A prebuilt index gives exactly what the one-shot function gives, batch after batch."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo.assign import AssignIndex, neighbourhood_of_points

    rng = np.random.default_rng(7)
    seeds = shapely.MultiPoint(rng.uniform(0, 10, size=(60, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(-1, -1, 11, 11)))
    polys = gpd.GeoSeries(shapely.intersection(cells, shapely.box(0, 0, 10, 10)))
    index = AssignIndex(polys, expected_points=1000)
    assert not shapely.is_prepared(np.asarray(polys.values)).any()  # the caller's polygons untouched
    vertices = shapely.get_coordinates(np.asarray(polys.values))[:50]  # ties on vertices
    for batch in (rng.uniform(-1, 11, size=(2000, 2)), vertices, np.empty((0, 2))):
        got = index.assign(batch)
        want = neighbourhood_of_points(batch, polys)
        assert np.array_equal(got.index, want.index) and np.array_equal(got.reason, want.reason)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_cells=st.integers(1, 120),
    frame=st.sampled_from(FRAMES),
    grid_size=st.sampled_from([None, 1, 3, 16, 64, 700]),
)
def test_the_compiled_look_up_equals_the_numpy_chain(seed, n_cells, frame, grid_size):
    """geo._assign_kernel against the numpy reference it replaced, point for point, on grids
    whose axes are exact and (around zero) corrected against the cell edges."""
    from geo.assign import _assign_chunk, _assign_chunk_numpy, _build_grid, _exact, _polygon_array

    rng = np.random.default_rng(seed)
    polygons = voronoi_tiling(rng, n_cells, frame, holes=3)
    xy = points_for(rng, polygons, frame, 400)
    geoms = _polygon_array(polygons)
    try:
        grid = _build_grid(geoms, n_points=len(xy), grid_size=grid_size)
        x, y = xy[:, 0].copy(), xy[:, 1].copy()
        fast = np.empty(len(xy), np.int64), np.empty(len(xy), np.int8)
        slow = np.empty(len(xy), np.int64), np.empty(len(xy), np.int8)
        rest = _assign_chunk(grid, geoms, x, y, *fast)
        if grid is not None and rest.size:
            index, reason = fast
            index[rest], reason[rest] = _exact(geoms, grid.cand_ptr, grid.cand, index[rest], x[rest], y[rest])
        _assign_chunk_numpy(grid, geoms, x, y, *slow)
    finally:
        shapely.destroy_prepared(geoms)
    assert (fast[0] == slow[0]).all() and (fast[1] == slow[1]).all()


def test_the_compiled_look_ups_are_used():
    """A missing or broken compiler must fail here, not make assignment silently slow: one call
    builds the walk grid, a reusable index the block grid, each with its compiled look-up."""
    from geo import _assign_kernel, _walk_kernel
    from geo.assign import AssignIndex

    for kernel in (_assign_kernel.lookup, _walk_kernel.walk, _walk_kernel.lookup):
        assert hasattr(kernel, "signatures")  # a numba dispatcher, not a Python loop
    neighbourhood_of_points(np.array([[0.5, 0.5]]), [shapely.box(0, 0, 1, 1)])
    assert _walk_kernel.walk.signatures and _walk_kernel.lookup.signatures
    AssignIndex([shapely.box(0, 0, 1, 1)], expected_points=10).assign(np.array([[0.5, 0.5]]))
    assert _assign_kernel.lookup.signatures


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_cells=st.integers(1, 120),
    frame=st.sampled_from(FRAMES),
    expected=st.sampled_from([10, 1000, 100_000]),
)
def test_the_two_grids_agree(seed, n_cells, frame, expected):
    """The walk grid (one call) and the block grid (a reusable index) give the same answers."""
    from geo.assign import AssignIndex

    rng = np.random.default_rng(seed)
    polygons = voronoi_tiling(rng, n_cells, frame, holes=3)
    xy = points_for(rng, polygons, frame, 400)
    one = neighbourhood_of_points(xy, polygons)
    reused = AssignIndex(polygons, expected_points=expected).assign(xy)
    assert (one.index == reused.index).all() and (one.reason == reused.reason).all()


@pytest.mark.parametrize("frame", FRAMES)
def test_the_index_leaves_only_boundary_points_to_geos(frame, monkeypatch):
    """A reusable index answers points in cells that several edges cross (near vertices) in its
    compiled look-up, crossing from the cell's reference point: only points on or at a rounding
    from a boundary reach the exact GEOS tests, not every point near a vertex."""
    from geo import assign

    rng = np.random.default_rng(11)
    polygons = voronoi_tiling(rng, 60, frame, holes=4)
    vertices = shapely.get_coordinates(polygons)
    x0, y0, size = frame
    near = vertices[rng.integers(0, len(vertices), 3000)] + rng.normal(0, size / 400, (3000, 2))
    xy = np.concatenate([near, vertices[:50]])
    sent: list[int] = []
    exact = assign._exact

    def counted(geoms, cand_ptr, cand, cell, x, y):
        sent.append(len(cell))
        return exact(geoms, cand_ptr, cand, cell, x, y)

    monkeypatch.setattr(assign, "_exact", counted)
    index = assign.AssignIndex(polygons, expected_points=len(xy))
    sent.clear()  # the build tests cell centres with GEOS; only the look-up counts here
    got = index.assign(xy)
    want = reference(xy, polygons)
    np.testing.assert_array_equal(got.index, want[0])
    np.testing.assert_array_equal(got.reason, want[1])
    assert sum(sent) == 50  # the vertices themselves, no other point


@pytest.mark.parametrize("frame", FRAMES)
def test_rows_the_walk_gives_up_are_answered_exactly(frame):
    """A row the walk cannot settle sends its points to an STRtree; the answers are the same."""
    from geo.assign import _polygon_array, _walk_chunk, _walk_grid

    rng = np.random.default_rng(5)
    polygons = voronoi_tiling(rng, 40, frame, holes=3)
    xy = points_for(rng, polygons, frame, 600)
    geoms = _polygon_array(polygons)
    want = reference(xy, polygons)
    for row in (0, 3, 8):
        grid = _walk_grid(geoms, n_points=len(xy), grid_size=16, give_up_row=row)
        assert grid.given_up == 1
        index, reason = np.empty(len(xy), np.int64), np.empty(len(xy), np.int8)
        try:
            _walk_chunk(grid, geoms, xy[:, 0].copy(), xy[:, 1].copy(), index, reason)
        finally:
            shapely.destroy_prepared(geoms)
        np.testing.assert_array_equal(index, want[0])
        np.testing.assert_array_equal(reason, want[1])


def test_more_overlapping_polygons_than_the_walk_holds():
    """80 nested squares overlap at the centre, more than the walk's set holds: those rows are
    given up and answered by the STRtree, still by the tie rule."""
    from geo._walk_kernel import MAX_SET
    from geo.assign import _polygon_array, _walk_grid

    squares = [shapely.box(-r, -r, r, r) for r in np.linspace(1.0, 2.0, MAX_SET + 16)]
    xy = np.array([[0.0, 0.0], [0.5, -0.3], [1.0, 0.2], [1.99, 0.0], [2.0, 2.0], [3.0, 0.0], [-1.5, 1.2]])
    assert _walk_grid(_polygon_array(squares), n_points=len(xy), grid_size=None).given_up > 0
    check(xy, squares)
    check(xy, squares[::-1])


@pytest.mark.parametrize(
    "polygon",
    [
        shapely.Polygon([(0, 0), (0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]),  # start repeated
        shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0), (0, 0)]),  # end repeated
        shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)], [[(0, 0), (1, 2), (2, 1), (0, 0)]]),  # hole at the start
        shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0), (0, 0)], [[(0, 0), (1, 2), (2, 1), (0, 0)]]),
    ],
)
def test_rings_with_repeated_points_at_their_ends(polygon):
    """Where a repeated point makes the rings unreadable from the coordinates, GEOS gives them."""
    from geo import _walk_kernel

    assert polygon.is_valid
    polygons = [polygon, shapely.box(4, 0, 6, 4)]
    coords, which = shapely.get_coordinates(polygons, return_index=True)
    ok = _walk_kernel.find_rings(coords, which, 2)[2]
    assert not ok or polygon.interiors  # the ambiguous ones are refused, not guessed
    xy = np.concatenate([shapely.get_coordinates(polygons), [[1, 1], [0.5, 1.4], [3, 3], [5, 2], [4, 2], [-1, 0]]])
    check(xy, polygons)


def test_the_compiled_look_up_reads_the_grid_as_it_is_built():
    """Its coarse-cell constant is the grid's (both are fixed; the compiled loop folds its own)."""
    from geo import _assign_kernel, assign

    assert _assign_kernel._SHIFT == assign._SHIFT and _assign_kernel._MASK == assign._MASK


def test_compile_kernels_readies_every_compiled_step():
    """``riskmap serve`` calls this before the app starts, so the first assignment on a new
    machine does not wait for numba (several seconds) in front of a user."""
    from geo import _assign_kernel, _walk_kernel
    from geo.assign import compile_kernels

    compile_kernels()
    kernels = [_assign_kernel.lookup] + [getattr(_walk_kernel, name) for name in
                                         ("find_rings", "segments", "mark_cells", "walk", "lookup", "candidates")]
    assert all(k.signatures for k in kernels)
    # Both look-ups read coordinate columns as given: strided (an (N, 2) array) and contiguous (points).
    for lookup in (_assign_kernel.lookup, _walk_kernel.lookup):
        layouts = {sig[0].layout for sig in lookup.signatures}
        assert {"A", "C"} <= layouts, layouts

