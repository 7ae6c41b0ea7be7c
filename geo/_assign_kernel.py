"""The compiled look-up of :mod:`geo.assign`'s block grid: one pass over the points, fused.

:func:`geo.assign._assign_chunk` answers a point by a chain of steps — its fine cell on each
axis, the coarse table, the block of fine cells, for a cell one edge cuts the side of that edge,
and for another boundary cell a crossing from its reference point. In numpy each step would be
a pass over the chunk with its own temporary arrays, a dozen passes over memory. Here the steps
run point by point in one compiled loop (numba), with exact arithmetic:

* the cell of a coordinate is ``floor((v - start) / h)`` where that is exact (the grid's
  ``exact`` axes), else that estimate corrected against the cell edges, as
  :meth:`geo.assign._Axis.locate` does;
* the side of an edge is the sign of ``orient2d`` where the floating-point determinant exceeds
  Shewchuk's error bound, as :func:`geo.assign._orientation` does;
* a point in a cell with more than one edge crosses from the cell's reference point, as in the
  walk grid (:func:`geo._walk_kernel.settle`, the same compiled step).

A point too close to call is left to the exact GEOS tests.

The numpy chain this replaced stays in :mod:`geo.assign` (:func:`geo.assign._assign_chunk_numpy`,
which leaves the crossing cells to GEOS) as the reference the tests compare this with.
numba compiles the loop on first use and keeps the machine code in its cache (``cache=True``),
so only the first call on a new machine pays the compilation (about a second).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from geo._walk_kernel import MAX_SET, UNSURE, corrected, settle

# Codes as geo.assign.Reason (INSIDE, OUTSIDE, EMPTY) and the mark of a point left to the exact tests.
_INSIDE, _OUTSIDE, _EMPTY, _LEFT = 0, 2, 3, -1
_CCW_BOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_SHIFT = 3  # as geo.assign._SHIFT: a coarse cell is 8 × 8 fine cells
_MASK = (1 << _SHIFT) - 1


@njit(cache=True, nogil=True)
def lookup(
    x: np.ndarray, y: np.ndarray,
    x_start: float, x_stop: float, x_inv: float, x_n: int, x_edges: np.ndarray, x_exact: bool,
    y_start: float, y_stop: float, y_inv: float, y_n: int, y_edges: np.ndarray, y_exact: bool,
    g0x: int, coarse: np.ndarray, blocks: np.ndarray,
    split_edge: np.ndarray, split_left: np.ndarray, split_right: np.ndarray, lo: np.ndarray, hi: np.ndarray,
    c_row: np.ndarray, crec: np.ndarray, erec: np.ndarray, items: np.ndarray, ref_y: np.ndarray,
    index: np.ndarray, reason: np.ndarray, pending: np.ndarray,
) -> int:
    """Fill ``index`` / ``reason`` for every point the grid answers; a point it cannot answer gets
    reason ``-1`` and, in ``index``, its boundary cell. Returns how many were left.

    Two passes: the first answers the points in cells off every boundary with no branch it
    could mispredict and notes the others in ``pending`` (one slot more than the points); the
    second settles those: off the grid (or not a number), in a cell one edge cuts (the side of
    that edge), or in another boundary cell with a reference point (``c_row``; crossing from it,
    :func:`geo._walk_kernel.settle`).
    """
    m = 0
    n = x.shape[0]
    for k in range(n):
        xk = x[k]
        yk = y[k]
        t = (xk - x_start) * x_inv
        u = (yk - y_start) * y_inv
        v = -1
        on = t >= 0.0 and t < x_n and u >= 0.0 and u < y_n
        if on:
            ix = int(t)
            iy = int(u)
            if not x_exact:  # the estimate, corrected against the cell edges
                ix, on = corrected(ix, xk, x_n, x_edges, x_start, x_stop)
            if not y_exact:
                iy, on_y = corrected(iy, yk, y_n, y_edges, y_start, y_stop)
                on = on and on_y
            if on:
                v = coarse[(iy >> _SHIFT) * g0x + (ix >> _SHIFT)]
                if v <= -2:
                    v = blocks[((-2 - v) << (2 * _SHIFT)) + ((iy & _MASK) << _SHIFT) + (ix & _MASK)]
        index[k] = v
        reason[k] = (v >> 31) & _OUTSIDE  # INSIDE (0) for a polygon, OUTSIDE (2) for none
        pending[m] = k
        m += (v <= -2) | (not on)
    left = 0
    cur = np.empty(MAX_SET, dtype=np.int32)
    for j in range(m):
        k = pending[j]
        v = index[k]
        xk = x[k]
        yk = y[k]
        if v > -2:  # off the grid: outside every polygon, unless not a point at all
            if not (math.isfinite(xk) and math.isfinite(yk)):
                reason[k] = _EMPTY
            continue
        b = -2 - v
        e = split_edge[b]
        if e >= 0:
            ax, ay, bx, by = lo[e, 0], lo[e, 1], hi[e, 0], hi[e, 1]
            l_term = (ax - xk) * (by - yk)
            r_term = (ay - yk) * (bx - xk)
            det = l_term - r_term
            bound = (abs(l_term) + abs(r_term)) * _CCW_BOUND
            if det > bound or -det > bound:
                lab = split_left[b] if det > bound else split_right[b]
                index[k] = lab
                reason[k] = _INSIDE if lab >= 0 else _OUTSIDE
                continue
        else:
            r = c_row[b]
            if r >= 0:
                low = settle(xk, yk, crec, erec, items, r, ref_y[r], cur)
                if low != UNSURE:
                    index[k] = low
                    reason[k] = _INSIDE if low >= 0 else _OUTSIDE
                    continue
        index[k] = b
        reason[k] = _LEFT
        left += 1
    return left
