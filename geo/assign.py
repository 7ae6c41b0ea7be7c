"""Assign points to the neighbourhood polygon that contains them.

:func:`neighbourhood_of_points` answers, for every point, *which polygon is it in* — the census
case is a few million home locations against a few thousand neighbourhoods. The answer is an
:class:`Assignment`: the position of the polygon (``-1`` for none) and a :class:`Reason` code.

Tie rule
--------
Let *interior(p)* be the polygons whose interior holds point ``p`` (``shapely.contains``) and
*cover(p)* the polygons that contain it or have it on their boundary (``shapely.covers``).

1. If *interior(p)* is not empty, ``p`` goes to the polygon with the **lowest position** in it;
   reason ``INSIDE``. In a tiling there is only ever one such polygon; where polygons overlap,
   a point strictly inside several of them goes to the lowest position among those.
2. Otherwise, if *cover(p)* is not empty, the point lies on the boundary of one or more
   polygons (a shared edge or vertex, or an outer edge of the tiling) and goes to the polygon
   with the **lowest position among those that cover it**; reason ``ON_EDGE``.
3. Otherwise the point is in no polygon (index ``-1``, reason ``OUTSIDE``); a missing point
   (``None``, empty, or a NaN/infinite coordinate) gets index ``-1`` and reason ``EMPTY``.

So the result equals ``geopandas.sjoin(points, polygons, predicate="within")`` wherever that
join gives exactly one polygon, and a boundary point, which the join drops, still gets a
deterministic answer. (With overlapping polygons a point on the edge of one polygon but inside
another goes, by rule 1, to the one it is inside, again as the join says.)

Inputs are used as given: points and polygons must be in the same coordinate system (lon/lat
or projected x/y); nothing is reprojected. Polygons must be valid (``shapely.is_valid``);
``None`` and empty polygons are allowed and hold nothing.

How it is fast and still exact
------------------------------
Two grids answer the same question with the same exact arithmetic; they differ in what they
spend on the build. A single call pays for its grid every time, so it builds the *walk grid*
(:mod:`geo._walk_kernel`), a few compiled passes over the coordinates and cells; a reusable
:class:`AssignIndex` pays once, so it builds the *block grid* below, slower to build and faster
to query. ``tests/geo/test_assign.py`` checks that both give the same answers.

The walk grid. The distinct boundary segments are read from the coordinate array (an edge two
polygons share is kept once, with both polygons) and every cell each can touch is marked, as
in step 1 below. Then each grid row's centre line is walked from a first column left of every
polygon: by the ray-casting rule, a point on the line that is on no boundary lies in exactly
the polygons whose segments the line crossed an odd number of times to its left. So each cell
gets the polygons of a reference point on that line, chosen where its side of every segment in
the cell is an exact orientation sign; a cell no segment touches is wholly in those polygons.
A point in a cell with segments starts from the reference point's polygons and takes each
polygon in or out whose segment the straight path to the point crosses (exact signs again).
Where a sign is too close to call — the point on or at a rounding from a segment's line, the
path through a segment's end — the point is tested with GEOS against its cell's candidates
(the reference point's polygons and the segments' owners), as in step 4; a row the walk cannot
settle (a sign on the line too close to call, or more than 64 overlapping polygons) sends its
points to an STRtree.

The block grid. A grid of square cells, ``h`` wide (a power of two, chosen from the number of points), is laid
over the polygons' bounds. Cells are half-open, ``[x_i, x_{i+1}) × [y_j, y_{j+1})``, their edges
are exact multiples of ``h``, and a point's cell is found with exact arithmetic (or corrected
against the edges where that is not possible), so a point is never put in the wrong cell.

1. *Marking.* Every distinct boundary segment (an edge two polygons share is taken once) is
   cut into steps shorter than a cell; each cell a step's bounding box, widened by more than
   the rounding error, can reach is marked for the segment and the polygons it bounds. The
   marks include every cell the boundary touches, and then some.
2. *Unmarked cells* meet no boundary, so each lies wholly inside or wholly outside every
   polygon. For each polygon and grid row, the unmarked cells between two of its marks are
   tested once (``contains`` at one cell centre); the runs found inside give every unmarked cell
   its answer. Points there are answered by two integer look-ups (8 × 8 blocks of fine cells
   under a coarse table, fine cells only where there are marks).
3. *Cells one segment passes through* are cut in two by it: each side lies wholly inside the
   polygons whose interior is on that side (known from ring orientation) and inside any
   polygon covering the whole cell. A point there is answered by the exact sign of an
   orientation test (Shewchuk's floating-point filter; too close to call goes to step 4).
   Cells the segment only comes near are answered whole by one test of their centre.
4. *Other marked cells* (near vertices) get a reference point on no boundary, whose polygons
   GEOS finds once, and a point there crosses from it as in the walk grid (the same compiled
   step). A point that crossing cannot settle — on or at a rounding from an edge's line, or
   with its path through an edge's end — is tested exactly with ``shapely.contains_xy`` and
   ``shapely.intersects_xy`` against the cell's candidate polygons in ascending position,
   which is the tie rule itself.

Overlapping polygons are detected while the grid is built (two interior runs covering one
cell) and handled exactly, by slower queries of a ``shapely.STRtree`` where they overlap.
Every shortcut above is exact; ``tests/geo/test_assign.py`` compares the results with a
polygon-by-polygon reference and with ``geopandas.sjoin`` on random tilings with points on
vertices and edges.

Steps 2 to 4 for the points — the cell, the tables, the side of a cell's one edge, the
crossing — run as one compiled loop (numba, :mod:`geo._assign_kernel`); the numpy chain it
replaced (:func:`_assign_chunk_numpy`, which leaves step 4 to GEOS) is kept as the reference the
tests compare it with. The index sizes its grid at twelve cells per point expected, since its
build is paid once and a finer grid leaves fewer points to step 4 on every query; the walk grid
at about one.

Points are processed in chunks (``_CHUNK``), so the memory used beyond the inputs is the output
(9 bytes a point), the grid (4 bytes a cell while in use, 8 while the walk grid is built, at
most 2**24 cells, plus its segments) and one chunk of work arrays (see
``bench/bench_assign.py`` for the figure). Polygons a point is tested against with GEOS are
prepared (``shapely.prepare``) during the call and released after it unless the caller had
prepared them.
"""

from __future__ import annotations

import enum
import functools
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely

from geo.errors import CoordinateError

__all__ = ["Reason", "REASON_TEXT", "Assignment", "AssignIndex", "neighbourhood_of_points", "compile_kernels"]


class Reason(enum.IntEnum):
    """Why a point got its polygon (stored as ``int8`` in :attr:`Assignment.reason`)."""

    INSIDE = 0
    """In the interior of the polygon (the lowest-positioned one if several overlap)."""
    ON_EDGE = 1
    """On the boundary of one or more polygons; the lowest position among those covering it."""
    OUTSIDE = 2
    """In no polygon; index ``-1``."""
    EMPTY = 3
    """Missing point: ``None``, empty, or a NaN/infinite coordinate; index ``-1``."""

    @property
    def zh(self) -> str:
        """Chinese description."""
        return REASON_TEXT[self][0]

    @property
    def en(self) -> str:
        """English description."""
        return REASON_TEXT[self][1]


REASON_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.INSIDE: ("在社区内", "inside a neighbourhood"),
    Reason.ON_EDGE: ("在社区边界上，归入序号最小的社区", "on a neighbourhood boundary; given to the first in order"),
    Reason.OUTSIDE: ("不在任何社区内", "not inside any neighbourhood"),
    Reason.EMPTY: ("坐标缺失或无效", "missing or invalid coordinates"),
}
"""Human-readable reason per code, as ``(Chinese, English)``."""


@dataclass(frozen=True, eq=False)
class Assignment:
    """Result of :func:`neighbourhood_of_points`, one entry per input point.

    Attributes
    ----------
    index : numpy.ndarray
        ``int64`` position of the polygon holding each point, ``-1`` where there is none.
    reason : numpy.ndarray
        ``int8`` :class:`Reason` code per point.
    ids : numpy.ndarray or None
        The polygon ids given to :func:`neighbourhood_of_points`, if any (used by
        :meth:`labels`).
    """

    index: np.ndarray
    reason: np.ndarray
    ids: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.index)

    def labels(self, ids: Sequence[Any] | np.ndarray | None = None, *, missing: Any = None) -> np.ndarray:
        """The id of each point's polygon, ``missing`` where it has none.

        Parameters
        ----------
        ids : sequence, optional
            One id per polygon, in polygon order. Defaults to the ``ids`` given to
            :func:`neighbourhood_of_points`.
        missing : object, default None
            Value for points with index ``-1`` (``OUTSIDE`` or ``EMPTY``).

        Returns
        -------
        numpy.ndarray
            Object array of ids, one per point.
        """
        table = self.ids if ids is None else _object_array(ids)
        if table is None:
            msg = "no ids to map to: pass ids= here or to neighbourhood_of_points"
            raise ValueError(msg)
        hit = self.index >= 0
        if hit.any() and int(self.index[hit].max()) >= len(table):
            msg = f"ids has {len(table)} entries but the assignment refers to polygon {int(self.index.max())}"
            raise ValueError(msg)
        out = np.full(len(self.index), missing, dtype=object)
        out[hit] = table[self.index[hit]]
        return out

    def reason_text(self, *, lang: Literal["zh", "en"] = "zh") -> np.ndarray:
        """The reason of each point as text (see :data:`REASON_TEXT`), as an object array."""
        if lang not in ("zh", "en"):
            msg = f"lang must be 'zh' or 'en', got {lang!r}"
            raise ValueError(msg)
        col = 0 if lang == "zh" else 1
        texts = np.array([REASON_TEXT[r][col] for r in Reason], dtype=object)
        return texts[self.reason]

    def counts(self) -> dict[Reason, int]:
        """How many points got each reason."""
        n = np.bincount(self.reason, minlength=len(Reason))
        return {r: int(n[r]) for r in Reason}


# ----------------------------------------------------------------------------------------------
# Public entry point


def neighbourhood_of_points(
    points: Any,
    polygons: Any,
    *,
    ids: str | Sequence[Any] | np.ndarray | None = None,
    grid_size: int | None = None,
) -> Assignment:
    """Find the polygon that contains each point (see the module docstring for the tie rule).

    Parameters
    ----------
    points : GeoSeries, GeoDataFrame, array of shapely Points, or array-like of shape (N, 2)
        The points. Coordinate arrays are ``x, y`` (``lon, lat``) columns in the polygons'
        coordinate system. ``None``, empty points and NaN/infinite coordinates are allowed and
        get reason ``EMPTY``.
    polygons : GeoSeries, GeoDataFrame, or array-like of shapely (Multi)Polygons
        The neighbourhoods. Positions in this sequence are what :attr:`Assignment.index`
        holds. Must be valid; ``None`` and empty geometries hold nothing.
    ids : str or sequence, optional
        Polygon ids for :meth:`Assignment.labels`: a sequence with one id per polygon, or the
        name of a column of a ``polygons`` frame.
    grid_size : int, optional
        Number of fine grid cells along the longer side of the polygons' bounds. Chosen from
        the input sizes by default; it changes the speed, never the result.

    Returns
    -------
    Assignment
        ``index`` (``int64``, ``-1`` for none) and ``reason`` (``int8`` :class:`Reason`).

    Raises
    ------
    CoordinateError
        If a coordinate array is not of shape (N, 2), or the two inputs declare different
        coordinate systems.
    TypeError
        If ``points`` holds a non-point geometry or ``polygons`` a non-polygonal one.
    ValueError
        If a polygon is invalid, or ``ids`` does not match the polygons.
    """
    geoms = _polygon_array(polygons)
    _check_same_crs(points, polygons)
    id_table = _id_table(ids, polygons, len(geoms))
    source = _PointSource(points)
    if grid_size is not None and (not isinstance(grid_size, int) or grid_size < 1):
        msg = f"grid_size must be a positive integer, got {grid_size!r}"
        raise ValueError(msg)

    n = len(source)
    was_prepared = shapely.is_prepared(geoms)
    try:
        grid = _walk_grid(geoms, n_points=n, grid_size=grid_size) if n else None
        index = np.empty(n, dtype=np.int64)
        reason = np.empty(n, dtype=np.int8)
        for lo, hi, x, y in source.chunks(_CHUNK):
            _walk_chunk(grid, geoms, x, y, index[lo:hi], reason[lo:hi])
    finally:
        shapely.destroy_prepared(geoms[~was_prepared])
    return Assignment(index=index, reason=reason, ids=id_table)


def compile_kernels() -> None:
    """Compile every compiled step of both grids, or load it from numba's cache (about a second).

    The first call on a new machine compiles them (several seconds); ``riskmap serve`` calls
    this before the app starts, so that no user waits for it. A tiny input takes every path: a
    point inside, one on an edge (left to GEOS), one outside, in a single call and an index,
    given as coordinates and as points (the look-ups are compiled for each array layout).
    """
    square = [shapely.box(0.0, 0.0, 1.0, 1.0)]
    xy = np.array([[0.5, 0.5], [1.0, 0.5], [2.0, 2.0]])
    index = AssignIndex(square, expected_points=16)
    for points in (xy, shapely.points(xy)):  # coordinate columns (strided) and points (contiguous)
        neighbourhood_of_points(points, square)
        index.assign(points)


class AssignIndex:
    """A reusable index over one set of polygons, for assigning many batches of points.

    Neighbourhoods change rarely while points arrive often (imports, screening, the census
    case): building the grid once and reusing it saves its cost on every call. Results are the
    same as :func:`neighbourhood_of_points`. The index works on its own copies of the polygons
    (the caller's are never left prepared) and serialises calls with a lock, because GEOS
    completes prepared geometries lazily and must not do so from two threads at once.

    Parameters
    ----------
    polygons, ids
        As for :func:`neighbourhood_of_points`.
    expected_points : int
        Typical batch size; sizes the grid (speed only, never the result).
    grid_size : int, optional
        Overrides the grid size chosen from ``expected_points``.
    """

    def __init__(
        self,
        polygons: Any,
        *,
        ids: str | Sequence[Any] | np.ndarray | None = None,
        expected_points: int = 1_000_000,
        grid_size: int | None = None,
    ) -> None:
        if grid_size is not None and (not isinstance(grid_size, int) or grid_size < 1):
            msg = f"grid_size must be a positive integer, got {grid_size!r}"
            raise ValueError(msg)
        geoms = _polygon_array(polygons)
        self._geoms = shapely.transform(geoms, lambda xy: xy)  # own copies: prepared for life
        self._crs = getattr(polygons, "crs", None)
        self._ids = _id_table(ids, polygons, len(geoms))
        self._grid = _build_grid(self._geoms, n_points=max(int(expected_points), 1), grid_size=grid_size,
                                 cells_per_point=_INDEX_CELLS_PER_POINT)
        self._lock = threading.Lock()

    @property
    def crs(self) -> Any:
        return self._crs

    def assign(self, points: Any) -> Assignment:
        """Assign ``points`` (any form :func:`neighbourhood_of_points` accepts)."""
        _check_same_crs(points, self)
        source = _PointSource(points)
        n = len(source)
        index = np.empty(n, dtype=np.int64)
        reason = np.empty(n, dtype=np.int8)
        with self._lock:
            rest: list[np.ndarray] = []
            rest_x: list[np.ndarray] = []
            rest_y: list[np.ndarray] = []
            for lo, hi, x, y in source.chunks(_CHUNK):
                left = _assign_chunk(self._grid, self._geoms, x, y, index[lo:hi], reason[lo:hi])
                if left.size:
                    rest.append(left + lo)
                    rest_x.append(x[left])
                    rest_y.append(y[left])
            if rest:  # the few points left to GEOS, in one batch rather than one per chunk
                left = np.concatenate(rest)
                index[left], reason[left] = _exact(self._geoms, self._grid.cand_ptr, self._grid.cand, index[left],
                                                   np.concatenate(rest_x), np.concatenate(rest_y))
        return Assignment(index=index, reason=reason, ids=self._ids)


# ----------------------------------------------------------------------------------------------
# Input checks

_CHUNK = 1 << 17  # points per chunk: ~6 MB of work arrays
_POLYGON, _MULTIPOLYGON, _POINT, _MISSING = 3, 6, 0, -1
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
               "GeometryCollection")


def _geometry_column(obj: Any) -> Any | None:
    """The GeoSeries of a GeoDataFrame, the GeoSeries itself, or None for anything else."""
    if hasattr(obj, "crs") and hasattr(obj, "geometry") and hasattr(obj, "values"):
        return obj.geometry
    return None


def _as_geometry_array(obj: Any) -> np.ndarray | None:
    """Object array of shapely geometries, or None if ``obj`` is not made of geometries."""
    column = _geometry_column(obj)
    if column is not None:
        return np.asarray(column.values)
    if isinstance(obj, shapely.Geometry):
        return np.array([obj], dtype=object)
    arr = np.asarray(obj)
    return arr if arr.dtype == object and arr.ndim == 1 else None


def _type_error(types: np.ndarray, ok: tuple[int, ...], what: str, expected: str) -> TypeError | None:
    bad = np.flatnonzero(~np.isin(types, ok))
    if not bad.size:
        return None
    first = int(bad[0])
    kind = _TYPE_NAMES[types[first]] if 0 <= types[first] < len(_TYPE_NAMES) else "geometry"
    msg = f"{what} {first} is a {kind}; expected {expected}"
    if bad.size > 1:
        msg += f" ({bad.size} such rows)"
    return TypeError(msg)


def _polygon_array(polygons: Any) -> np.ndarray:
    geoms = _as_geometry_array(polygons)
    if geoms is None:
        if np.size(polygons) == 0:
            return np.empty(0, dtype=object)
        msg = f"polygons must be a GeoSeries, GeoDataFrame or array of shapely polygons, got {type(polygons).__name__}"
        raise TypeError(msg)
    err = _type_error(shapely.get_type_id(geoms), (_POLYGON, _MULTIPOLYGON, _MISSING), "polygon", "Polygon or MultiPolygon")
    if err is not None:
        raise err
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = np.flatnonzero(present & ~shapely.is_valid(geoms))
    if invalid.size:
        first = int(invalid[0])
        msg = (
            f"polygon {first} is invalid ({shapely.is_valid_reason(geoms[first])})"
            + (f" and {invalid.size - 1} more" if invalid.size > 1 else "")
            + "; repair with shapely.make_valid first"
        )
        raise ValueError(msg)
    return geoms


def _check_same_crs(points: Any, polygons: Any) -> None:
    a = getattr(points, "crs", None)
    b = getattr(polygons, "crs", None)
    if a is not None and b is not None and a != b:
        name_a = a.to_string() if hasattr(a, "to_string") else a
        name_b = b.to_string() if hasattr(b, "to_string") else b
        msg = f"points are in {name_a} but polygons in {name_b}; reproject one of them first (nothing is reprojected here)"
        raise CoordinateError(msg)


def _id_table(ids: Any, polygons: Any, n_polygons: int) -> np.ndarray | None:
    if ids is None:
        return None
    if isinstance(ids, str):
        columns = getattr(polygons, "columns", None)
        if columns is None or ids not in columns:
            msg = f"ids={ids!r} names no column of polygons"
            raise ValueError(msg)
        ids = polygons[ids].to_numpy()
    table = _object_array(ids)
    if len(table) != n_polygons:
        msg = f"ids has {len(table)} entries for {n_polygons} polygons"
        raise ValueError(msg)
    return table


def _object_array(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """A 1-D object array of the values, whatever they are (tuples stay whole)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


class _PointSource:
    """Points as x/y chunks, without copying a coordinate array or expanding all geometries at once."""

    def __init__(self, points: Any) -> None:
        self.geoms = _as_geometry_array(points)
        self.xy: np.ndarray | None = None
        if self.geoms is None:
            try:
                xy = np.asarray(points, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                msg = f"points must be geometries or an (N, 2) array of x/y (lon/lat) numbers: {exc}"
                raise CoordinateError(msg) from exc
            if xy.ndim != 2 or xy.shape[1] != 2:
                if xy.size == 0:
                    xy = xy.reshape(0, 2)
                else:
                    msg = f"points must be an (N, 2) array of x/y (lon/lat) coordinates, got shape {xy.shape}"
                    raise CoordinateError(msg)
            self.xy = xy
        else:
            err = _type_error(shapely.get_type_id(self.geoms), (_POINT, _MISSING), "point", "Point")
            if err is not None:
                raise err

    def __len__(self) -> int:
        return len(self.geoms) if self.geoms is not None else len(self.xy)

    def chunks(self, size: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        n = len(self)
        for lo in range(0, n, size):
            hi = min(lo + size, n)
            if self.xy is not None:
                yield lo, hi, self.xy[lo:hi, 0], self.xy[lo:hi, 1]
            else:
                part = self.geoms[lo:hi]
                try:  # fast: None gives NaN, an empty point raises
                    x, y = shapely.get_x(part), shapely.get_y(part)
                except shapely.errors.GEOSException:
                    coords, which = shapely.get_coordinates(part, return_index=True)
                    x = np.full(hi - lo, np.nan)
                    y = np.full(hi - lo, np.nan)
                    x[which] = coords[:, 0]
                    y[which] = coords[:, 1]
                yield lo, hi, x, y


# ----------------------------------------------------------------------------------------------
# The grid

_SHIFT = 3  # a coarse cell is _S × _S fine cells (the compiled look-up's own constant: a test compares them)
_S = 1 << _SHIFT
_MASK = _S - 1
_STEP = 0.9  # boundary walk step, in fine cells (< 1 so one step spans at most 2 cells per axis)
_MAX_SIDE = 1 << 14  # fine cells per side, at most
_PIECES_PER_BATCH = 1 << 17
_CELL_BATCH = 1 << 15  # cells per slice in _split_cells
_CELLS_PER_POINT = 1.0  # default fine-grid size for one call: about this many cells per point (see _cell_size)
#: A reusable index is built once and queried often: a finer grid (its build costs more, once)
#: leaves fewer points to the exact tests on every query (bench/bench_assign.py measures both).
_INDEX_CELLS_PER_POINT = 12.0


class _Axis:
    """Fine cell edges along one axis: cell ``i`` is ``[edges[i], edges[i+1])``.

    The width ``h`` is a power of two and the first edge a multiple of it, so every edge is
    exact. When the axis does not cross zero and ends within twice its start (Sterbenz), ``v -
    edges[0]`` is exact for every ``v`` on the axis, hence ``floor((v - edges[0]) / h)`` is
    exactly the cell; otherwise the estimate is corrected against the edges.
    """

    def __init__(self, lo: float, hi: float, h: float, cells_per_block: int, pad: int = 0) -> None:
        start = math.floor(lo / h) * h - pad * h  # ``pad`` whole cells before ``lo``
        n = (math.floor((hi - start) / (h * cells_per_block)) + 1) * cells_per_block
        edges = start + np.arange(n + 1, dtype=np.float64) * h
        while edges[-1] <= hi:  # only if rounding made the grid fall short
            n += cells_per_block
            edges = start + np.arange(n + 1, dtype=np.float64) * h
        self.edges = edges
        self.n = n
        self.start = float(edges[0])
        self.stop = float(edges[-1])
        self.inv = 1.0 / h
        self.exact = start == 0.0 or (start > 0.0 and self.stop <= 2.0 * start) or (self.stop <= 0.0 and 2.0 * self.stop <= start)

    def locate(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Cell of each value (``int32``), and a mask of values off the axis (None if none is).

        NaN is off the axis. Off-axis values get cell 0.
        """
        t = v - self.start
        t *= self.inv
        off = ~((t >= 0.0) & (t < self.n)) if self.exact else ~((v >= self.start) & (v < self.stop))
        if not off.any():
            off = None
        else:
            t[off] = 0.0
        i = t.astype(np.int32)
        if not self.exact:
            np.clip(i, 0, self.n - 1, out=i)
            i -= v < self.edges[i]
            i += v >= self.edges[i + 1]
            if off is not None:
                i[off] = 0
        return i, off

    def centre(self, i: np.ndarray) -> np.ndarray:
        return (self.edges[i] + self.edges[i + 1]) * 0.5


def _extent(geoms: np.ndarray) -> tuple[float, float, float, float, float]:
    """The bounds of ``geoms`` (none missing or empty) and ``eps``, more than the rounding error
    of their coordinates (both grids mark cells with this margin)."""
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    magnitude = max(abs(minx), abs(maxx), abs(miny), abs(maxy), np.finfo(float).tiny)
    return minx, miny, maxx, maxy, 16.0 * float(np.spacing(magnitude))


def _margin(eps: float, ax: _Axis, ay: _Axis) -> float:
    """How far, in cell units, a segment's steps are widened when its cells are marked: more than
    the rounding error of coordinates in cell units."""
    return eps * max(ax.inv, ay.inv) + 1e-9


def _cell_size(width: float, height: float, n_points: int, grid_size: int | None, eps: float,
               cells_per_point: float = _CELLS_PER_POINT, max_cells: float = float(1 << 26)) -> float:
    """Fine cell width, a power of two: ~``cells_per_point`` cells per point (build cost ∝ 1/h, test cost ∝ h)."""
    if grid_size is not None:
        h = max(width, height) / grid_size
    else:
        cells = min(max(cells_per_point * n_points, 1024.0), max_cells)
        h = math.sqrt(width * height / cells)
    h = 2.0 ** round(math.log2(h))
    floor = max(width / _MAX_SIDE, height / _MAX_SIDE, 1024.0 * eps)
    while h < floor:
        h *= 2.0
    return h


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    a.sort()
    if a.size < 2:
        return a
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


_NONE = np.iinfo(np.int32).max  # "no polygon" while taking minima
_CCW_BOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53  # Shewchuk's error bound for the orient2d filter


def _orientation(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, cx: np.ndarray, cy: np.ndarray
) -> np.ndarray:
    """+1 where point c is left of the directed line a→b, -1 where right, 0 where not certain.

    The floating-point determinant is trusted only where it exceeds Shewchuk's error bound for
    ``orient2d``, so every non-zero answer is the exact sign; points on or too near the line
    get 0 and are left to GEOS.
    """
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    bound = np.abs(left)
    bound += np.abs(right)
    bound *= _CCW_BOUND
    out = (det > bound).astype(np.int8)
    out -= -det > bound
    return out


@dataclass
class _Edges:
    """The distinct boundary segments (an edge shared by two polygons appears once).

    Each runs from ``lo`` to ``hi`` (lexicographic order). ``left``/``right``: lowest position of
    a polygon whose interior lies on that side of it (``_NONE`` if none); ``owner`` lists, for
    edge ``e``, the polygons it bounds in ``owner[owner_ptr[e]:owner_ptr[e + 1]]``.
    """

    lo: np.ndarray
    hi: np.ndarray
    left: np.ndarray
    right: np.ndarray
    owner_ptr: np.ndarray
    owner: np.ndarray


def _edges(geoms: np.ndarray) -> _Edges:
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    coords = np.ascontiguousarray(coords[:, :2])
    ring_end = offsets[0].astype(np.int64)
    n_rings = len(ring_end) - 1
    if kind == shapely.GeometryType.MULTIPOLYGON:
        part_ring = offsets[1].astype(np.int64)
        geom_part = offsets[2].astype(np.int64)
        rings_per_geom = part_ring[geom_part[1:]] - part_ring[geom_part[:-1]]
        shells = part_ring[:-1][np.diff(part_ring) > 0]
    else:
        geom_ring = offsets[1].astype(np.int64)
        rings_per_geom = np.diff(geom_ring)
        shells = geom_ring[:-1][rings_per_geom > 0]
    ring_poly = np.repeat(np.arange(len(geoms), dtype=np.int64), rings_per_geom)
    is_shell = np.zeros(n_rings, dtype=bool)
    is_shell[shells] = True
    coord_ring = np.repeat(np.arange(n_rings, dtype=np.int64), np.diff(ring_end))
    # The polygon's interior is left of a counter-clockwise shell and of a clockwise hole.
    interior_left = shapely.is_ccw(shapely.linearrings(coords, indices=coord_ring)) == is_shell
    # Number the distinct points, then name each segment by its two point numbers, low first.
    points, point_id = np.unique(coords.view(np.complex128).ravel(), return_inverse=True)
    start = np.flatnonzero(coord_ring[1:] == coord_ring[:-1])
    pa, pb = point_id[start], point_id[start + 1]
    ring = coord_ring[start]
    keep = pa != pb  # a zero-length segment adds no boundary point
    pa, pb, ring = pa[keep], pb[keep], ring[keep]
    forward = pa < pb
    key = np.minimum(pa, pb) * len(points) + np.maximum(pa, pb)
    order = np.argsort(key, kind="stable")
    key, ring, forward = key[order], ring[order], forward[order]
    first = _group_starts(key)
    poly = ring_poly[ring]
    on_left = interior_left[ring] == forward  # interior left of lo→hi
    lo_id, hi_id = np.divmod(key[first], len(points))
    xy = points.view(np.float64).reshape(-1, 2)
    empty = np.empty(0, dtype=np.int64)
    return _Edges(
        lo=xy[lo_id],
        hi=xy[hi_id],
        left=np.minimum.reduceat(np.where(on_left, poly, _NONE), first) if len(first) else empty,
        right=np.minimum.reduceat(np.where(on_left, _NONE, poly), first) if len(first) else empty,
        owner_ptr=np.append(first, len(key)).astype(np.int64),
        owner=poly,
    )


def _mark_keys(a: np.ndarray, b: np.ndarray, ax: _Axis, ay: _Axis, eps: float) -> np.ndarray:
    """Sorted unique keys ``segment * n_cells + row * nx + col`` of every fine cell a segment can touch.

    Work is in cell units, where the edges are the integers. Each segment is cut into steps of
    at most ``_STEP`` cells along both axes; a step's bounding box, widened by ``margin`` (more
    than the rounding error of the cell-unit coordinates), spans at most two cells per axis and
    contains the exact step, so the (up to four) cells it spans include every cell the step
    touches, even at a corner or along an edge.
    """
    nx, ny = ax.n, ay.n
    n_cells = nx * ny
    ux = (a[:, 0] - ax.start) * ax.inv
    uy = (a[:, 1] - ay.start) * ay.inv
    dx = (b[:, 0] - ax.start) * ax.inv - ux
    dy = (b[:, 1] - ay.start) * ay.inv - uy
    margin = _margin(eps, ax, ay)
    pieces = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy)) * (1.0 / _STEP)), 1).astype(np.int64)
    base = np.arange(len(a), dtype=np.int64) * n_cells
    ends = np.cumsum(pieces)
    out: list[np.ndarray] = []
    lo_seg = 0
    while lo_seg < len(pieces):
        offset = ends[lo_seg - 1] if lo_seg else 0
        hi_seg = max(int(np.searchsorted(ends, offset + _PIECES_PER_BATCH, side="right")), lo_seg + 1)
        count = pieces[lo_seg:hi_seg]
        first = np.repeat((ends[lo_seg:hi_seg] - count - offset).astype(np.float64), count)
        inv_k = np.repeat(1.0 / count, count)
        t0 = np.arange(len(first), dtype=np.float64)
        t0 -= first
        t0 *= inv_k
        t1 = t0 + inv_k
        del first, inv_k
        key = np.repeat(base[lo_seg:hi_seg], count)
        step: list[np.ndarray] = []
        for u, du, n, stride in ((ux, dx, nx, 1), (uy, dy, ny, nx)):
            u_s = np.repeat(u[lo_seg:hi_seg], count)
            d_s = np.repeat(du[lo_seg:hi_seg], count)
            p0 = d_s * t0
            p0 += u_s
            p1 = np.multiply(d_s, t1, out=d_s)
            p1 += u_s
            lo = np.minimum(p0, p1, out=u_s)
            lo -= margin
            hi = np.maximum(p0, p1, out=p0)
            hi += margin
            np.clip(lo, 0, n - 1, out=lo)
            np.clip(hi, 0, n - 1, out=hi)
            i_lo = lo.astype(np.int64)
            step.append(hi.astype(np.int64) != i_lo)
            if stride != 1:
                i_lo *= stride
            key += i_lo
            del u_s, d_s, p0, p1, lo, hi, i_lo
        step_x, step_y = step
        keys = np.concatenate([key, key[step_x] + 1, key[step_y] + nx, key[step_x & step_y] + (nx + 1)])
        out.append(_sorted_unique(keys))
        del key, keys, step, step_x, step_y, t0, t1
        lo_seg = hi_seg
    if not out:
        return np.empty(0, dtype=np.int64)
    return _sorted_unique(np.concatenate(out)) if len(out) > 1 else out[0]


class _Runs:
    """Runs of fine cells (in one row) that lie wholly in a polygon's interior; who covers a cell?"""

    def __init__(self, start: np.ndarray, end: np.ndarray, poly: np.ndarray) -> None:
        order = np.argsort(start, kind="stable")
        self.start = start[order]
        self.end = end[order]
        self.poly = poly[order]
        running_end = np.maximum.accumulate(self.end) if len(self.end) else self.end
        self.overlap = bool(len(self.start) > 1 and (self.start[1:] < running_end[:-1]).any())
        if self.overlap:
            by_end = np.argsort(self.end, kind="stable")
            self.end_sorted = self.end[by_end]
            self.sum_by_start = np.concatenate([[0], np.cumsum(self.poly)])
            self.sum_by_end = np.concatenate([[0], np.cumsum(self.poly[by_end])])

    def query(self, q: np.ndarray) -> np.ndarray:
        """Per fine-cell key: the one polygon whose runs cover it, -1 for none, -2 for several."""
        if not len(self.start):
            return np.full(len(q), -1, dtype=np.int64)
        if not self.overlap:
            j = np.searchsorted(self.start, q, side="right") - 1
            np.maximum(j, 0, out=j)
            hit = (q >= self.start[j]) & (q < self.end[j])
            return np.where(hit, self.poly[j], -1)
        i_start = np.searchsorted(self.start, q, side="right")
        i_end = np.searchsorted(self.end_sorted, q, side="right")
        count = i_start - i_end
        total = self.sum_by_start[i_start] - self.sum_by_end[i_end]
        return np.where(count == 0, -1, np.where(count == 1, total, -2))


def _lowest_covering(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lowest position of a polygon covering each point, -1 for none (slow path for overlaps)."""
    out = np.full(len(x), _NONE, dtype=np.int64)
    pt, poly = tree.query(shapely.points(x, y), predicate="intersects")
    np.minimum.at(out, pt, poly)
    out[out == _NONE] = -1
    return out


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Positions where a new value starts in a sorted array."""
    new = np.empty(len(sorted_keys), dtype=bool)
    new[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return np.flatnonzero(new)


@dataclass
class _Crossing:
    """Boundary cells answered by crossing from a reference point (:func:`_crossing_cells`).

    ``row[b]`` is boundary cell ``b``'s row in ``crec`` (-1: left to the exact tests); ``crec``,
    ``erec`` and ``items`` are laid out as the walk grid's (:mod:`geo._walk_kernel`), and
    ``ref_y`` holds each row's reference point's y.
    """

    row: np.ndarray
    crec: np.ndarray
    erec: np.ndarray
    items: np.ndarray
    ref_y: np.ndarray


@dataclass
class _Grid:
    ax: _Axis
    ay: _Axis
    g0x: int  # coarse cells per row
    coarse: np.ndarray  # int32 per coarse cell: >= 0 polygon, -1 none, <= -2 block (-2 - k)
    blocks: np.ndarray  # int32, _S*_S per refined coarse cell: >= 0 polygon, -1 none, <= -2 boundary cell
    cand_ptr: np.ndarray  # candidates of boundary cell b: cand[cand_ptr[b]:cand_ptr[b + 1]], ascending
    cand: np.ndarray
    split_edge: np.ndarray  # boundary cell crossed by exactly one edge: that edge, else -1
    split_left: np.ndarray  # ... and the answer left / right of it (polygon or -1)
    split_right: np.ndarray
    edges: _Edges
    crossing: _Crossing  # the other boundary cells, answered from a reference point


def _build_grid(geoms: np.ndarray, *, n_points: int, grid_size: int | None,
                cells_per_point: float = _CELLS_PER_POINT) -> _Grid | None:
    """Classify every fine cell (see the module docstring); prepares ``geoms`` (caller destroys)."""
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return None
    minx, miny, maxx, maxy, eps = _extent(geoms[present])
    h = _cell_size(maxx - minx, maxy - miny, n_points, grid_size, eps, cells_per_point)
    ax = _Axis(minx, maxx, h, _S)
    ay = _Axis(miny, maxy, h, _S)
    nx, ny = ax.n, ay.n
    g0x = nx >> _SHIFT
    n_cells = nx * ny
    n_poly = len(geoms)
    tree = functools.cache(lambda: shapely.STRtree(geoms))  # only where polygons overlap

    edges = _edges(geoms)
    shapely.prepare(geoms)  # after _edges: taking prepared geometries apart is slower
    n_edges = len(edges.left)

    # 1. Mark every fine cell each edge can touch; a mark of an edge marks each of its polygons.
    keys = _mark_keys(edges.lo, edges.hi, ax, ay, eps)
    m_edge = keys // n_cells
    m_cell = keys - m_edge * n_cells
    del keys
    owners = np.diff(edges.owner_ptr)[m_edge]
    rep = np.repeat(np.arange(len(m_edge)), owners)
    ends = np.cumsum(owners)
    which = np.arange(len(rep)) - np.repeat(ends - owners, owners) + edges.owner_ptr[m_edge][rep]
    p_keys = _sorted_unique(edges.owner[which] * n_cells + m_cell[rep])  # by polygon, row, column
    del owners, rep, ends, which

    # 2. Gaps between a polygon's marks on a row are wholly inside or outside it: test one cell.
    m_poly = p_keys // n_cells
    p_cell = p_keys - m_poly * n_cells
    del p_keys
    m_row = p_cell // nx
    m_col = p_cell - m_row * nx
    gap = np.flatnonzero((m_poly[1:] == m_poly[:-1]) & (m_row[1:] == m_row[:-1]) & (m_col[1:] > m_col[:-1] + 1))
    g_poly, g_row, g_col0, g_col1 = m_poly[gap], m_row[gap], m_col[gap] + 1, m_col[gap + 1]
    del m_row, m_col, gap
    inside = shapely.contains_xy(geoms[g_poly], ax.centre(g_col0), ay.centre(g_row))
    runs = _Runs(g_row[inside] * nx + g_col0[inside], g_row[inside] * nx + g_col1[inside], g_poly[inside])
    del g_poly, g_row, g_col0, g_col1, inside

    # 3. Boundary cells and their candidates, ascending: the polygons marking the cell plus the
    #    polygon whose interior holds it; where interiors overlap, every polygon touching it.
    key2 = _sorted_unique(p_cell * n_poly + m_poly)
    del p_cell, m_poly
    cell_of = key2 // n_poly
    b_cell = cell_of[_group_starts(cell_of)]  # boundary cells, ascending; boundary id = position
    del cell_of
    cover = runs.query(b_cell)
    extra = [b_cell[cover >= 0] * n_poly + cover[cover >= 0]]
    many = np.flatnonzero(cover == -2)
    if many.size:
        rows, cols = np.divmod(b_cell[many], nx)
        boxes = shapely.box(ax.edges[cols], ay.edges[rows], ax.edges[cols + 1], ay.edges[rows + 1])
        hit, poly = tree().query(boxes, predicate="intersects")
        extra.append(b_cell[many][hit] * n_poly + poly)
    key2 = _sorted_unique(np.concatenate([key2, *extra]))
    del extra, many
    cand = (key2 % n_poly).astype(np.int32)
    starts = _group_starts(key2 // n_poly)
    cand_ptr = np.append(starts, len(cand)).astype(np.int64)
    del key2, starts

    # 4. Cells crossed by one edge only: the edge splits the cell into two parts, each wholly
    #    inside the polygons whose interior is on its side (and the one covering the cell).
    e_keys = np.sort(m_cell * n_edges + m_edge)
    del m_cell, m_edge
    e_cell = e_keys // n_edges
    e_edge = e_keys - e_cell * n_edges
    starts = _group_starts(e_cell)
    if not np.array_equal(e_cell[starts], b_cell):  # every edge mark is a mark of its polygons
        msg = "edge marks and polygon marks disagree"
        raise AssertionError(msg)
    del e_keys, e_cell
    single = np.minimum.reduceat(e_edge, starts) == np.maximum.reduceat(e_edge, starts)
    one_edge = np.where(single, e_edge[starts], -1)
    del single
    split_edge, split_left, split_right, decided = _split_cells(
        geoms, edges, one_edge, cover, b_cell, ax, ay, cand_ptr, cand
    )
    del cover, one_edge

    # 5. The other boundary cells: a reference point whose polygons GEOS finds, and the cell's
    #    edges with their sides of it; a point there crosses from it (geo._walk_kernel.settle).
    crossing = _crossing_cells(edges, e_edge, np.append(starts, len(e_edge)), b_cell,
                               np.flatnonzero((split_edge < 0) & (decided == -2)), ax, ay, tree)
    del e_edge, starts

    # 6. Look-up tables: a coarse table, and blocks of fine cells under coarse cells with marks.
    coarse, blocks = _lookup_tables(runs, b_cell, decided, ax, ay, tree)
    return _Grid(
        ax=ax,
        ay=ay,
        g0x=g0x,
        coarse=coarse,
        blocks=blocks,
        cand_ptr=cand_ptr,
        cand=cand,
        split_edge=split_edge,
        split_left=split_left,
        split_right=split_right,
        edges=edges,
        crossing=crossing,
    )


#: Where a boundary cell's reference point may sit, as fractions of the cell along x and y, in
#: the order tried: exact binary fractions, no three on one line.
_REF_OFFSETS = ((0.5, 0.5), (0.375, 0.625), (0.625, 0.4375), (0.3125, 0.3125), (0.6875, 0.8125), (0.1875, 0.5625))


def _crossing_cells(edges: _Edges, e_edge: np.ndarray, e_ptr: np.ndarray, b_cell: np.ndarray, todo: np.ndarray,
                    ax: _Axis, ay: _Axis, tree: Callable[[], shapely.STRtree]) -> _Crossing:
    """Settle the boundary cells ``todo`` (several edges, or one too near a corner) as the walk
    grid settles its cells with segments.

    Each gets a reference point: its centre, or where that lies on (or too near) the line of an
    edge marked for the cell (``e_edge[e_ptr[b]:e_ptr[b + 1]]``) — axis-parallel edges on round
    numbers do — the first of :data:`_REF_OFFSETS` whose side of every such line is an exact
    sign. That point is on no boundary (every boundary in the cell is among those edges), so the
    polygons an STRtree finds meeting it are the polygons whose interior holds it. A point of the
    cell then starts from those and crosses the edges on its way
    (:func:`geo._walk_kernel.settle`). A cell with no such point, or whose point is in more than
    ``MAX_SET`` polygons at once, is left to the exact tests.
    """
    from geo import _walk_kernel as kernel

    row = np.full(len(b_cell), -1, dtype=np.int32)
    # Entries: each cell's edges, an edge once per pair of the polygons it bounds.
    count = e_ptr[todo + 1] - e_ptr[todo]
    cell = np.repeat(np.arange(len(todo)), count)
    edge = e_edge[np.repeat(e_ptr[todo] - (np.cumsum(count) - count), count) + np.arange(len(cell))]
    n_owner = np.diff(edges.owner_ptr)
    pairs = (n_owner[edge] + 1) // 2
    entry = np.repeat(np.arange(len(edge)), pairs)
    pair = np.arange(len(entry)) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    cell, edge = cell[entry], edge[entry]
    first = edges.owner_ptr[edge] + 2 * pair
    second = np.where(first + 1 < edges.owner_ptr[edge + 1], first + 1, -1)
    del count, entry, pair, pairs
    lo, hi = edges.lo[edge], edges.hi[edge]
    # A reference point off every edge's line: the centre, else the next of _REF_OFFSETS.
    rows, cols = np.divmod(b_cell[todo], ax.n)
    rx = np.empty(len(todo))
    ry = np.empty(len(todo))
    side = np.zeros(len(cell), dtype=np.int8)
    pending = np.ones(len(todo), dtype=bool)
    for fx, fy in _REF_OFFSETS:
        px = ax.edges[cols] + fx * (ax.edges[cols + 1] - ax.edges[cols])
        py = ay.edges[rows] + fy * (ay.edges[rows + 1] - ay.edges[rows])
        want = np.flatnonzero(pending[cell])
        s = _orientation(lo[want, 0], lo[want, 1], hi[want, 0], hi[want, 1], px[cell[want]], py[cell[want]])
        side[want] = s
        unsure = np.bincount(cell[want[s == 0]], minlength=len(todo)) > 0
        found = pending & ~unsure
        rx[found], ry[found] = px[found], py[found]
        pending &= unsure
        if not pending.any():
            break
    clean = ~pending
    del rows, cols, pending
    # The polygons holding each reference point.
    ok = np.flatnonzero(clean)
    if ok.size:
        pt, poly = tree().query(shapely.points(rx[ok], ry[ok]), predicate="intersects")
    else:  # no cell to settle: no tree to build
        pt, poly = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    n_set = np.bincount(pt, minlength=len(ok))
    clean[ok[n_set > kernel.MAX_SET]] = False
    keep = clean[ok]
    ok, n_set = ok[keep], n_set[keep]
    order = np.argsort(pt, kind="stable")
    pt, poly = pt[order], poly[order]
    in_kept = keep[pt]
    poly = poly[in_kept]
    del order, pt, keep, in_kept
    # Rows: a crec row per clean cell, its entries' rows in erec, sets of several in items.
    live = clean[cell]
    cell, edge, side, first, second = cell[live], edge[live], side[live], first[live], second[live]
    lo, hi = lo[live], hi[live]
    new_row = np.full(len(todo), -1, dtype=np.int64)
    new_row[ok] = np.arange(len(ok))
    r_of = new_row[cell]
    n_entries = np.bincount(r_of, minlength=len(ok))
    crec = np.empty((len(ok), 4), dtype=np.float64)
    crec[:, kernel._REF] = rx[ok]
    crec[:, kernel._FIRST] = np.cumsum(n_entries) - n_entries
    crec[:, kernel._COUNT] = n_entries
    set_start = np.cumsum(n_set) - n_set  # into poly
    many = n_set > 1
    item_size = np.where(many, n_set + 1, 0)
    item_start = np.cumsum(item_size) - item_size
    code = np.where(many, -2 - item_start, -1)  # several: where in items; none: -1
    code[n_set == 1] = poly[set_start[n_set == 1]]  # one: the polygon
    crec[:, kernel._SET] = code
    items = np.empty(int(item_size.sum()), dtype=np.int32)
    items[item_start[many]] = n_set[many]
    holder = np.repeat(np.arange(len(ok)), n_set)
    at = np.arange(len(poly)) - set_start[holder]
    in_items = many[holder]
    items[item_start[holder[in_items]] + 1 + at[in_items]] = poly[in_items]
    erec = np.zeros((len(cell), 8), dtype=np.float64)
    erec[:, 0:2] = lo
    erec[:, 2:4] = hi
    erec[:, kernel._SIDE] = side
    erec[:, kernel._OWN] = edges.owner[first]
    erec[:, kernel._OWN + 1] = np.where(second >= 0, edges.owner[np.maximum(second, 0)], -1)
    row[todo[ok]] = np.arange(len(ok), dtype=np.int32)
    return _Crossing(row=row, crec=crec, erec=erec, items=items, ref_y=ry[ok])


def _lookup_tables(
    runs: _Runs, b_cell: np.ndarray, decided: np.ndarray, ax: _Axis, ay: _Axis, tree: Callable[[], shapely.STRtree]
) -> tuple[np.ndarray, np.ndarray]:
    """The coarse table and the blocks (see :class:`_Grid`).

    A coarse cell holding a boundary cell gets a block of ``_S × _S`` fine cells; the others
    take the answer of the run of such coarse cells they belong to in their row (one query per
    run, as a run meets no boundary). In a block, a boundary cell gets its boundary id (or its
    answer, where ``decided`` has one), and each run of other fine cells one query.
    """
    nx = ax.n
    g0x, g0y = ax.n >> _SHIFT, ay.n >> _SHIFT
    b_row, b_col = np.divmod(b_cell, nx)
    b_coarse = (b_row >> _SHIFT) * g0x + (b_col >> _SHIFT)
    refined = _sorted_unique(b_coarse.copy())

    def label(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        out = runs.query(rows * nx + cols)
        amb = out == -2
        if amb.any():
            out[amb] = _lowest_covering(tree(), ax.centre(cols[amb]), ay.centre(rows[amb]))
        return out.astype(np.int32) if len(out) else np.full(1, -1, dtype=np.int32)

    has_block = np.zeros((g0y, g0x), dtype=bool)
    has_block.ravel()[refined] = True
    run_start = ~has_block
    run_start[:, 1:] &= has_block[:, :-1]
    starts = np.flatnonzero(run_start)
    s_row, s_col = np.divmod(starts, g0x)
    labels = label(s_row << _SHIFT, s_col << _SHIFT)
    run_id = np.cumsum(run_start.ravel(), dtype=np.int32) - 1
    coarse = labels[np.maximum(run_id, 0)]
    coarse[refined] = -2 - np.arange(len(refined), dtype=np.int32)
    del has_block, run_start, run_id, labels, starts, s_row, s_col

    block_of = np.empty(g0x * g0y, dtype=np.int64)
    block_of[refined] = np.arange(len(refined))
    pos = (block_of[b_coarse] << (2 * _SHIFT)) + ((b_row & _MASK) << _SHIFT) + (b_col & _MASK)
    del block_of, b_coarse, b_row, b_col
    size = len(refined) << (2 * _SHIFT)
    marked = np.zeros(size, dtype=bool)
    marked[pos] = True
    values = np.empty(size, dtype=np.int32)
    values[pos] = np.where(decided >= -1, decided, -2 - np.arange(len(pos))).astype(np.int32)
    del pos
    rows = marked.reshape(-1, _S)
    run_start = ~rows
    run_start[:, 1:] &= rows[:, :-1]
    starts = np.flatnonzero(run_start)
    c_row, c_col = np.divmod(refined[starts >> (2 * _SHIFT)], g0x)
    labels = label((c_row << _SHIFT) + ((starts >> _SHIFT) & _MASK), (c_col << _SHIFT) + (starts & _MASK))
    del c_row, c_col, starts
    run_id = np.cumsum(run_start.ravel(), dtype=np.int32) - 1
    np.maximum(run_id, 0, out=run_id)
    return coarse, np.where(marked, values, labels[run_id])


def _split_cells(
    geoms: np.ndarray,
    edges: _Edges,
    one_edge: np.ndarray,
    cover: np.ndarray,
    b_cell: np.ndarray,
    ax: _Axis,
    ay: _Axis,
    cand_ptr: np.ndarray,
    cand: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Settle boundary cells that only one edge comes near.

    ``one_edge`` holds, per boundary cell, its only marked edge (or -1). For such a cell with at
    most one polygon covering it whole (``cover``), two exact orientation signs, at the corners
    furthest on either side of the edge's line, decide:

    * the line separates them and the edge's bounding box meets the closed cell (which, for a
      line crossing a box, means the edge itself does): the edge is the only boundary in the
      cell and cuts it in two; each part lies wholly inside the polygons whose interior is on
      its side of the edge and inside the polygon covering the cell. Such cells keep the edge
      in ``split_edge`` with the lowest of those polygons (or -1) in ``left`` / ``right``;
    * the edge certainly misses the closed cell: the cell meets no boundary, and one test of
      its centre answers for all of it (``decided``; -2 for every other cell);
    * a corner too near the line to be sure: the cell is left to the exact tests.

    Returns ``split_edge, left, right, decided``.
    """
    n = len(b_cell)
    split_edge = np.full(n, -1, dtype=np.int32)
    left = np.full(n, -1, dtype=np.int32)
    right = np.full(n, -1, dtype=np.int32)
    decided = np.full(n, -2, dtype=np.int64)
    todo = np.flatnonzero((one_edge >= 0) & (cover != -2))
    missed: list[np.ndarray] = []
    for lo in range(0, len(todo), _CELL_BATCH):  # in slices, to bound the memory of work arrays
        s = todo[lo : lo + _CELL_BATCH]
        e = one_edge[s]
        rows, cols = np.divmod(b_cell[s], ax.n)
        x0, x1 = ax.edges[cols], ax.edges[cols + 1]
        y0, y1 = ay.edges[rows], ay.edges[rows + 1]
        lx, ly, hx, hy = edges.lo[e, 0], edges.lo[e, 1], edges.hi[e, 0], edges.hi[e, 1]
        meets = (lx <= x1) & (hx >= x0) & (np.minimum(ly, hy) <= y1) & (np.maximum(ly, hy) >= y0)
        # orient2d(lo, hi, c) grows with -(hy - ly) * cx + (hx - lx) * cy: test its extreme corners.
        up_x = hy < ly
        up_y = hx > lx
        top = _orientation(lx, ly, hx, hy, np.where(up_x, x1, x0), np.where(up_y, y1, y0))
        bottom = _orientation(lx, ly, hx, hy, np.where(up_x, x0, x1), np.where(up_y, y0, y1))
        del x0, x1, y0, y1, lx, ly, hx, hy, up_x, up_y, rows, cols
        crosses = (top > 0) & (bottom < 0)
        cut = crosses & meets
        t, te = s[cut], e[cut]
        whole = np.where(cover[t] >= 0, cover[t], _NONE)
        lab_l = np.minimum(edges.left[te], whole)
        lab_r = np.minimum(edges.right[te], whole)
        split_edge[t] = te
        left[t] = np.where(lab_l == _NONE, -1, lab_l)
        right[t] = np.where(lab_r == _NONE, -1, lab_r)
        missed.append(s[(top < 0) | (bottom > 0) | (crosses & ~meets)])
    f = np.concatenate(missed) if missed else np.empty(0, dtype=np.int64)
    if f.size:
        rows, cols = np.divmod(b_cell[f], ax.n)
        decided[f] = _exact(geoms, cand_ptr, cand, f, ax.centre(cols), ay.centre(rows))[0]
    return split_edge, left, right, decided


# ----------------------------------------------------------------------------------------------
# Points


def _assign_chunk(
    grid: _Grid | None, geoms: np.ndarray, x: np.ndarray, y: np.ndarray, index: np.ndarray, reason: np.ndarray
) -> np.ndarray:
    """Fill ``index`` and ``reason`` (views into the output) for one chunk of coordinates by the
    compiled look-up (:mod:`geo._assign_kernel`). Returns the positions it left to the exact
    tests (:func:`_exact`), whose ``index`` holds their boundary cell."""
    if grid is None:
        _assign_chunk_numpy(grid, geoms, x, y, index, reason)
        return np.empty(0, dtype=np.int64)
    from geo import _assign_kernel as _kernel  # numba loads on the first assignment, not with the package

    ax, ay = grid.ax, grid.ay
    left = _kernel.lookup(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
        ax.start, ax.stop, ax.inv, ax.n, ax.edges, ax.exact, ay.start, ay.stop, ay.inv, ay.n, ay.edges, ay.exact,
        grid.g0x, grid.coarse, grid.blocks, grid.split_edge, grid.split_left, grid.split_right,
        grid.edges.lo, grid.edges.hi, grid.crossing.row, grid.crossing.crec, grid.crossing.erec,
        grid.crossing.items, grid.crossing.ref_y, index, reason, np.empty(len(x) + 1, dtype=np.int64),
    )
    return np.flatnonzero(reason < 0) if left else np.empty(0, dtype=np.int64)


def _assign_chunk_numpy(
    grid: _Grid | None, geoms: np.ndarray, x: np.ndarray, y: np.ndarray, index: np.ndarray, reason: np.ndarray
) -> None:
    """The same as :func:`_assign_chunk` with numpy passes only: the reference the compiled
    look-up is tested against (``tests/geo/test_assign.py``)."""
    if grid is None:
        index[:] = -1
        reason[:] = np.where(np.isfinite(x) & np.isfinite(y), Reason.OUTSIDE, Reason.EMPTY)
        return
    ix, off_x = grid.ax.locate(x)
    iy, off_y = grid.ay.locate(y)
    off = off_x if off_y is None else (off_y if off_x is None else off_x | off_y)
    del off_x, off_y
    cell = iy >> _SHIFT
    cell *= grid.g0x
    cell += ix >> _SHIFT
    v = grid.coarse[cell]
    del cell
    if off is not None:
        v[off] = -1
    sub = np.flatnonzero(v <= -2)
    if sub.size:
        pos = -2 - v[sub]
        pos <<= 2 * _SHIFT
        pos += (iy[sub] & _MASK) << _SHIFT
        pos += ix[sub] & _MASK
        v[sub] = grid.blocks[pos]
        del pos
    del ix, iy, sub
    np.maximum(v, -1, out=index)
    np.less(v, 0, out=reason, casting="unsafe")
    reason *= Reason.OUTSIDE
    if off is not None:
        o = np.flatnonzero(off)
        bad = ~(np.isfinite(x[o]) & np.isfinite(y[o]))
        reason[o[bad]] = Reason.EMPTY
    edge = np.flatnonzero(v <= -2)
    if edge.size:
        e_index, e_reason = _boundary(grid, geoms, (-2 - v[edge]).astype(np.int64), x[edge], y[edge])
        index[edge] = e_index
        reason[edge] = e_reason


def _boundary(
    grid: _Grid, geoms: np.ndarray, cell: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Answer points in boundary cells: by the side of a cell's one edge, else by exact tests."""
    n = len(cell)
    index = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, Reason.OUTSIDE, dtype=np.int8)
    edge = grid.split_edge[cell]
    s = np.flatnonzero(edge >= 0)
    rest = np.flatnonzero(edge < 0)
    if s.size:
        e = edge[s]
        lo, hi = grid.edges.lo, grid.edges.hi
        side = _orientation(lo[e, 0], lo[e, 1], hi[e, 0], hi[e, 1], x[s], y[s])
        label = np.where(side > 0, grid.split_left[cell[s]], grid.split_right[cell[s]])
        known = side != 0
        index[s[known]] = label[known]
        reason[s[known]] = np.where(label[known] >= 0, Reason.INSIDE, Reason.OUTSIDE)
        if not known.all():
            rest = np.concatenate([rest, s[~known]])
    if rest.size:
        index[rest], reason[rest] = _exact(geoms, grid.cand_ptr, grid.cand, cell[rest], x[rest], y[rest])
    return index, reason


def _exact(
    geoms: np.ndarray, cand_ptr: np.ndarray, cand: np.ndarray, cell: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the tie rule by testing each point against its cell's candidates, in ascending order."""
    n = len(cell)
    # Group the points by cell, so consecutive tests use the same polygon (cache-friendly).
    order = np.sort((cell << 32) | np.arange(n, dtype=np.int64)) & 0xFFFFFFFF
    cell, x, y = cell[order], x[order], y[order]
    index = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, Reason.OUTSIDE, dtype=np.int8)
    first = cand_ptr[cell]
    count = cand_ptr[cell + 1] - first
    todo = np.arange(n)
    for test, why in ((shapely.contains_xy, Reason.INSIDE), (shapely.intersects_xy, Reason.ON_EDGE)):
        r = 0
        while todo.size:
            todo = todo[count[todo] > r]
            if not todo.size:
                break
            poly = cand[first[todo] + r]
            hit = test(geoms[poly], x[todo], y[todo])
            index[todo[hit]] = poly[hit]
            reason[todo[hit]] = why
            todo = todo[~hit]
            r += 1
        todo = np.flatnonzero(index < 0)
    out_index = np.empty(n, dtype=np.int64)
    out_reason = np.empty(n, dtype=np.int8)
    out_index[order] = index
    out_reason[order] = reason
    return out_index, out_reason


# ----------------------------------------------------------------------------------------------
# The walk grid (one call)

_WALK_CELLS_PER_POINT = 1.0  # cells per point for one call (bench/bench_assign.py measured 0.25 to 4)
_WALK_MAX_CELLS = float(1 << 24)  # 8 bytes a cell while it is built: at most 134 MB


@dataclass
class _WalkGrid:
    """The grid a single call builds (see :mod:`geo._walk_kernel`)."""

    ax: _Axis
    ay: _Axis
    table: np.ndarray  # int32 per cell: >= 0 polygon, -1 none, FAILED, else -2 - (cell with segments)
    crec: np.ndarray  # per cell with segments: reference x, first entry, entries, polygons
    erec: np.ndarray  # per entry: segment, side of the reference point, polygons
    items: np.ndarray  # sets of more than one polygon
    given_up: int  # rows the walk could not settle (their points go to an STRtree)


def _expected_rings(geoms: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """Rings per geometry (``solid``: neither missing nor empty), from GEOS's counts: what
    :func:`geo._walk_kernel.find_rings` must find."""
    types = shapely.get_type_id(geoms)
    out = np.zeros(len(geoms), dtype=np.int64)
    single = np.flatnonzero(solid & (types == _POLYGON))
    out[single] = shapely.get_num_interior_rings(geoms[single]) + 1
    multi = np.flatnonzero(solid & (types == _MULTIPOLYGON))
    if multi.size:
        parts, which = shapely.get_parts(geoms[multi], return_index=True)
        per_part = (shapely.get_num_interior_rings(parts) + 1) * ~shapely.is_empty(parts)
        np.add.at(out, multi[which], per_part)
    return out


def _ring_ids(geoms: np.ndarray, solid: np.ndarray, coords: np.ndarray, which: np.ndarray) -> np.ndarray:
    """The ring of every coordinate of ``shapely.get_coordinates(geoms)``.

    Read from the coordinates (a ring closes at the first repeat of its start) where the ring
    counts agree with GEOS's; else, when a repeated point at a ring's end makes that reading
    unsure, asked from GEOS ring by ring (slower, the same order).
    """
    from geo import _walk_kernel as kernel

    ring, found, ok = kernel.find_rings(coords, which, len(geoms))
    if ok and np.array_equal(found, _expected_rings(geoms, solid)):
        return ring
    rings = shapely.get_rings(shapely.get_parts(geoms))
    return np.repeat(np.arange(len(rings), dtype=np.int64), shapely.get_num_coordinates(rings))


def _walk_grid(geoms: np.ndarray, *, n_points: int, grid_size: int | None, give_up_row: int = -1) -> _WalkGrid | None:
    """Build the walk grid over ``geoms`` (``give_up_row`` makes the walk give a row up: tests)."""
    from geo import _walk_kernel as kernel

    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return None
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    coords = np.ascontiguousarray(coords)
    seg, owner = kernel.segments(coords, coords.view(np.int64), _ring_ids(geoms, present, coords, which),
                                 which.astype(np.int32))
    minx, miny, maxx, maxy, eps = _extent(geoms[present])
    h = _cell_size(maxx - minx, maxy - miny, n_points, grid_size, eps, _WALK_CELLS_PER_POINT, _WALK_MAX_CELLS)
    ax = _Axis(minx, maxx, h, 1, pad=1)  # a first column left of every polygon: the walk starts there
    ay = _Axis(miny, maxy, h, 1)
    margin = _margin(eps, ax, ay)
    table, ptr, entries, erec = kernel.mark_cells(seg, owner, ax.start, ax.inv, ax.n, ay.start, ay.inv, ay.n, margin)
    crec, items, given_up = kernel.walk(table, ptr, entries, erec, len(seg), ax.edges, ay.edges, ax.n, ay.n,
                                        kernel.OFFSETS, give_up_row)
    return _WalkGrid(ax=ax, ay=ay, table=table, crec=crec, erec=erec, items=items, given_up=given_up)


def _walk_chunk(
    grid: _WalkGrid | None, geoms: np.ndarray, x: np.ndarray, y: np.ndarray, index: np.ndarray, reason: np.ndarray
) -> None:
    """Fill ``index`` and ``reason`` for one chunk: the compiled look-up, then GEOS for the rest."""
    if grid is None:
        index[:] = -1
        reason[:] = np.where(np.isfinite(x) & np.isfinite(y), Reason.OUTSIDE, Reason.EMPTY)
        return
    from geo import _walk_kernel as kernel

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ax, ay = grid.ax, grid.ay
    left = kernel.lookup(
        x, y, ax.start, ax.stop, ax.inv, ax.n, ax.edges, ax.exact, ay.start, ay.stop, ay.inv, ay.n, ay.edges, ay.exact,
        grid.table, grid.crec, grid.erec, grid.items, index, reason,
    )
    if not left:
        return
    rest = np.flatnonzero(reason == kernel.LEFT)
    if rest.size:
        cells, pos = np.unique(index[rest], return_inverse=True)
        cand_ptr, cand = kernel.candidates(cells, grid.crec, grid.erec, grid.items)
        shapely.prepare(geoms[np.unique(cand)])
        index[rest], reason[rest] = _exact(geoms, cand_ptr, cand, pos.astype(np.int64), x[rest], y[rest])
    tree = np.flatnonzero(reason == kernel.TREE)
    if tree.size:
        index[tree], reason[tree] = _by_tree(geoms, x[tree], y[tree])


def _by_tree(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tie rule for points with no candidates known: every polygon an STRtree finds."""
    index = np.full(len(x), _NONE, dtype=np.int64)
    on_edge = np.full(len(x), _NONE, dtype=np.int64)
    pt, poly = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    inside = shapely.contains_xy(geoms[poly], x[pt], y[pt])
    np.minimum.at(index, pt[inside], poly[inside])
    np.minimum.at(on_edge, pt, poly)
    reason = np.where(index < _NONE, Reason.INSIDE, np.where(on_edge < _NONE, Reason.ON_EDGE, Reason.OUTSIDE))
    index = np.where(index < _NONE, index, np.where(on_edge < _NONE, on_edge, -1))
    return index.astype(np.int64), reason.astype(np.int8)
