"""The compiled steps of :mod:`geo.assign`'s walk grid, the one a single call builds.

A single call pays for its grid every time, so this grid is built in a few passes over the
coordinates and cells, all compiled (numba, ``cache=True``: only the first call on a new
machine pays the compilation, a few seconds):

1. :func:`find_rings` and :func:`segments`: the distinct boundary segments and the polygons
   each bounds, from the coordinate array alone (a hash joins the two sides of a shared edge);
2. :func:`mark_cells`: every cell each segment can touch;
3. :func:`walk`: along every row's centre line, from the left where no polygon is, the polygons
   holding a reference point of each cell (ray-casting parity, counted cell by cell);
4. :func:`lookup`: each point from its cell's reference point, crossing the cell's segments.

Signs of ``orient2d`` are trusted only where the floating-point determinant exceeds Shewchuk's
error bound (:func:`_orient` returns 0 otherwise), so every sign used is the exact sign. A
point whose answer would need a sign that is too close to call is left to the exact GEOS tests
(:data:`LEFT`, :data:`TREE`), so every answer is exact.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Codes as geo.assign.Reason (INSIDE, OUTSIDE, EMPTY) and the marks of points left to GEOS.
_INSIDE, _OUTSIDE, _EMPTY = 0, 2, 3
LEFT = -1  # left to the exact tests against its cell's candidates (index holds the cell)
TREE = -2  # left to the exact tests against every polygon (its row could not be walked)
UNSURE = -2  # settle: a sign too close to call (the point is left to GEOS)
FAILED = np.int32(-(2**31))  # cell table: a cell of a row the walk gave up on
MAX_SET = 64  # polygons whose interiors may overlap at one point, at most (more: row given up)
_CCW_BOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_STEP = 0.9  # boundary walk step, in cells (< 1 so one step spans at most 2 cells per axis)
#: An entry's row in ``erec``: the segment ``ax, ay, bx, by``, the side of its cell's reference
#: point (:data:`_SIDE`), and the polygons it bounds (``_OWN``, ``_OWN + 1``; -1 for none).
_SIDE, _OWN = 4, 5
#: A cell's row in ``crec``: its reference point's x, its first entry, its number of entries
#: (``-1 - count`` if the point is not clean), and its polygons: -1 for none, one polygon, or
#: ``-2 - start`` where ``items[start]`` is how many and the polygons follow.
_REF, _FIRST, _COUNT, _SET = 0, 1, 2, 3
#: Where a cell's reference point may sit along its row's centre line, as a fraction of the
#: cell, in the order tried (exact binary fractions, so the point is exact).
OFFSETS = np.array([0.5, 0.375, 0.625, 0.25, 0.75, 0.4375, 0.5625, 0.3125, 0.6875, 0.125, 0.875, 0.1875, 0.8125])


@njit(cache=True, nogil=True, inline="always")
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """+1 if c is left of the line a→b, -1 if right, 0 if on it or too close to be sure."""
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    bound = (abs(left) + abs(right)) * _CCW_BOUND
    if det > bound:
        return 1
    if -det > bound:
        return -1
    return 0


@njit(cache=True, nogil=True)
def find_rings(coords: np.ndarray, which: np.ndarray, n_geoms: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Ring of every coordinate, read from the coordinates alone; ``ok`` False where unsure.

    In a valid ring the first point comes back only as the closing point, so a ring ends at the
    first repeat of its start. That fails only where a repeated point sits at a ring's start or
    end, where it cannot be told from the next ring's start: then ``ok`` is False and the caller
    asks GEOS for the rings. Returns ``ring`` (per coordinate), ``rings`` (per geometry), ``ok``.
    """
    n = coords.shape[0]
    ring = np.empty(n, dtype=np.int64)
    rings = np.zeros(n_geoms, dtype=np.int64)
    r = 0
    k = 0
    while k < n:
        g = which[k]
        sx, sy = coords[k, 0], coords[k, 1]
        if k + 1 < n and which[k + 1] == g and coords[k + 1, 0] == sx and coords[k + 1, 1] == sy:
            return ring, rings, False
        j = k + 1
        while j < n and which[j] == g and not (coords[j, 0] == sx and coords[j, 1] == sy):
            j += 1
        if j >= n or which[j] != g or j - k < 3:
            return ring, rings, False
        if j + 1 < n and which[j + 1] == g and coords[j + 1, 0] == sx and coords[j + 1, 1] == sy:
            return ring, rings, False
        ring[k : j + 1] = r
        rings[g] += 1
        r += 1
        k = j + 1
    return ring, rings, True


@njit(cache=True, nogil=True)
def segments(coords: np.ndarray, bits: np.ndarray, ring: np.ndarray, poly: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct boundary segment: ``(ax, ay, bx, by)`` rows, and the polygons it bounds.

    A segment joins two consecutive coordinates of one ring; zero-length ones are left out. An
    edge two polygons share is kept once with both polygons (``owner[:, 1]``, -1 if none): the
    walk and the look-up count crossings per polygon, so either way gives the same parity, and
    once is half the work. ``bits`` is ``coords`` viewed as ``int64``, for hashing.
    """
    n = coords.shape[0]
    seg = np.empty((max(n - 1, 0), 4), dtype=np.float64)
    owner = np.full((max(n - 1, 0), 2), -1, dtype=np.int32)
    size = 1
    while size < 2 * n:
        size *= 2
    slots = np.full(size, -1, dtype=np.int64)
    m = 0
    for q in range(n - 1):
        if ring[q] != ring[q + 1]:
            continue
        lo, hi = q, q + 1  # the lower point first, so a shared edge reads the same from both sides
        if coords[hi, 0] < coords[lo, 0] or (coords[hi, 0] == coords[lo, 0] and coords[hi, 1] < coords[lo, 1]):
            lo, hi = hi, lo
        ax, ay, bx, by = coords[lo, 0], coords[lo, 1], coords[hi, 0], coords[hi, 1]
        if ax == bx and ay == by:
            continue
        key = (bits[lo, 0] * 0x9E3779B97F4A7C15) ^ (bits[lo, 1] * 0xC2B2AE3D27D4EB4F)
        key ^= (bits[hi, 0] * 0x165667B19E3779F9) ^ (bits[hi, 1] * 0x27D4EB2F165667C5)
        slot = (key ^ (key >> 29)) & (size - 1)
        p = poly[q]
        merged = False
        while slots[slot] >= 0:
            e = slots[slot]
            if seg[e, 0] == ax and seg[e, 1] == ay and seg[e, 2] == bx and seg[e, 3] == by \
                    and owner[e, 1] < 0 and owner[e, 0] != p:
                owner[e, 1] = p
                merged = True
                break
            slot = (slot + 1) & (size - 1)
        if merged:
            continue
        slots[slot] = m
        seg[m, 0], seg[m, 1], seg[m, 2], seg[m, 3] = ax, ay, bx, by
        owner[m, 0] = p
        m += 1
    return seg[:m], owner[:m]


@njit(cache=True, nogil=True)
def _mark(seg: np.ndarray, owner: np.ndarray, x0: float, x_inv: float, nx: int, y0: float, y_inv: float,
          ny: int, margin: float, stamp: np.ndarray, tag: int, table: np.ndarray, ptr: np.ndarray,
          fill: np.ndarray, entries: np.ndarray, erec: np.ndarray, write: bool) -> None:
    """Visit, once per segment, every cell the segment can touch (see :func:`mark_cells`)."""
    for e in range(seg.shape[0]):
        ux = (seg[e, 0] - x0) * x_inv
        uy = (seg[e, 1] - y0) * y_inv
        dx = (seg[e, 2] - x0) * x_inv - ux
        dy = (seg[e, 3] - y0) * y_inv - uy
        pieces = max(int(math.ceil(max(abs(dx), abs(dy)) / _STEP)), 1)
        mark = e + tag
        for s in range(pieces):
            t0 = s / pieces
            t1 = (s + 1) / pieces
            px0, px1 = ux + dx * t0, ux + dx * t1
            py0, py1 = uy + dy * t0, uy + dy * t1
            i0 = int(min(max(min(px0, px1) - margin, 0.0), nx - 1.0))
            i1 = int(min(max(max(px0, px1) + margin, 0.0), nx - 1.0))
            j0 = int(min(max(min(py0, py1) - margin, 0.0), ny - 1.0))
            j1 = int(min(max(max(py0, py1) + margin, 0.0), ny - 1.0))
            for j in range(j0, j1 + 1):
                for i in range(i0, i1 + 1):
                    c = j * nx + i
                    if stamp[c] == mark:
                        continue
                    stamp[c] = mark
                    if write:
                        k = table[c]
                        q = ptr[k] + fill[k]
                        entries[q] = e
                        erec[q, 0], erec[q, 1], erec[q, 2], erec[q, 3] = seg[e, 0], seg[e, 1], seg[e, 2], seg[e, 3]
                        erec[q, _OWN], erec[q, _OWN + 1] = owner[e, 0], owner[e, 1]
                        fill[k] += 1
                    else:
                        table[c] += 1


@njit(cache=True, nogil=True)
def mark_cells(seg: np.ndarray, owner: np.ndarray, x0: float, x_inv: float, nx: int, y0: float, y_inv: float,
               ny: int, margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The segments that can touch each cell.

    Work is in cell units, where the cell edges are the integers. Each segment is cut into
    steps of at most ``_STEP`` cells along both axes; a step's bounding box, widened by
    ``margin`` (more than the rounding error of the cell-unit coordinates), spans at most two
    cells per axis and contains the exact step, so the cells it spans include every cell the
    step touches, even at a corner or along an edge. Counted in one pass, written in a second.

    Returns ``table`` (per cell: its number among the cells with segments, in row-major order,
    or -1), ``ptr`` and ``entries`` (cell ``k``'s segments are ``entries[ptr[k]:ptr[k + 1]]``),
    and ``erec``, one 64-byte row per entry (see :data:`_OWN`), so that a cell's segments lie
    together in memory for the look-up.
    """
    n_cells = nx * ny
    table = np.zeros(n_cells, dtype=np.int32)
    stamp = np.full(n_cells, -1, dtype=np.int32)
    n_seg = seg.shape[0]
    dummy = np.empty(0, dtype=np.int64)
    _mark(seg, owner, x0, x_inv, nx, y0, y_inv, ny, margin, stamp, 0, table, dummy, dummy, np.empty(0, np.int32),
          np.empty((0, 8), dtype=np.float64), False)
    n_marked = 0
    for c in range(n_cells):
        n_marked += table[c] > 0
    ptr = np.empty(n_marked + 1, dtype=np.int64)
    ptr[0] = 0
    k = 0
    for c in range(n_cells):
        count = table[c]
        if count > 0:
            ptr[k + 1] = ptr[k] + count
            table[c] = k
            k += 1
        else:
            table[c] = -1
    entries = np.empty(ptr[n_marked], dtype=np.int32)
    erec = np.zeros((ptr[n_marked], 8), dtype=np.float64)
    fill = np.zeros(n_marked, dtype=np.int64)
    _mark(seg, owner, x0, x_inv, nx, y0, y_inv, ny, margin, stamp, n_seg, table, ptr, fill, entries, erec, True)
    return table, ptr, entries, erec


@njit(cache=True, nogil=True, inline="always")
def _toggle(cur: np.ndarray, n: int, p: int) -> int:
    """Add ``p`` to the set ``cur[:n]`` or take it out; the new size (-1 if full)."""
    for q in range(n):
        if cur[q] == p:
            cur[q] = cur[n - 1]
            return n - 1
    if n == cur.shape[0]:
        return -1
    cur[n] = p
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def _cross(cur: np.ndarray, n: int, erec: np.ndarray, q: int) -> int:
    """Cross entry ``q``'s segment: toggle each polygon it bounds (-1 if the set is full)."""
    n = _toggle(cur, n, int(erec[q, _OWN]))
    if n >= 0 and erec[q, _OWN + 1] >= 0:
        n = _toggle(cur, n, int(erec[q, _OWN + 1]))
    return n


@njit(cache=True, nogil=True, inline="always")
def _load_set(cur: np.ndarray, crec: np.ndarray, items: np.ndarray, k: int) -> int:
    """Cell ``k``'s reference polygons into ``cur``; how many."""
    code = int(crec[k, _SET])
    if code >= -1:
        cur[0] = code
        return 1 if code >= 0 else 0
    start = -2 - code
    n = items[start]
    for q in range(n):
        cur[q] = items[start + 1 + q]
    return n


@njit(cache=True, nogil=True, inline="always")
def _lowest(cur: np.ndarray, n: int) -> int:
    low = -1
    for q in range(n):
        if low < 0 or cur[q] < low:
            low = cur[q]
    return low


@njit(cache=True, nogil=True, inline="always")
def row_centre(y_edges: np.ndarray, j: int) -> float:
    """The y of row ``j``'s centre line, where its reference points lie (walk and look-up alike)."""
    return 0.5 * (y_edges[j] + y_edges[j + 1])


@njit(cache=True, nogil=True, inline="always")
def _straddles(erec: np.ndarray, q: int, yc: float) -> bool:
    """Does entry ``q``'s segment cross the line ``y = yc`` by the half-open rule?"""
    return (erec[q, 1] > yc) != (erec[q, 3] > yc)


@njit(cache=True, nogil=True, inline="always")
def _side(erec: np.ndarray, q: int, x: float, y: float) -> int:
    return _orient(erec[q, 0], erec[q, 1], erec[q, 2], erec[q, 3], x, y)


@njit(cache=True, nogil=True)
def _place(erec: np.ndarray, lo: int, hi: int, rx: float, yc: float) -> tuple[bool, bool]:
    """Sides of ``(rx, yc)`` of entries ``lo:hi`` into their rows: all certain for the segments
    crossing the centre line (``walkable``)? For all of them (``clean``)?"""
    walkable = True
    clean = True
    for q in range(lo, hi):
        o = _side(erec, q, rx, yc)
        erec[q, _SIDE] = o
        if o == 0:
            clean = False
            if _straddles(erec, q, yc):
                walkable = False
    return walkable, clean


@njit(cache=True, nogil=True)
def _certain(erec: np.ndarray, lo: int, hi: int, rx: float, yc: float) -> bool:
    """Is the side of ``(rx, yc)`` certain for every segment of entries ``lo:hi`` crossing the line?"""
    for q in range(lo, hi):  # noqa: SIM110 (a compiled loop: no generator)
        if _straddles(erec, q, yc) and _side(erec, q, rx, yc) == 0:
            return False
    return True


@njit(cache=True, nogil=True)
def walk(table: np.ndarray, ptr: np.ndarray, entries: np.ndarray, erec: np.ndarray, n_seg: int,
         x_edges: np.ndarray, y_edges: np.ndarray, nx: int, ny: int, offsets: np.ndarray, give_up_row: int
         ) -> tuple[np.ndarray, np.ndarray, int]:
    """Walk every row's centre line from the left, where no polygon is, counting crossings.

    On the line ``y = yc`` of row ``j``, a segment crosses when its ends lie on either side by
    the half-open rule (``(ay > yc) != (by > yc)``, the ray-casting rule), so a point on the
    line that is on no boundary lies in exactly the polygons crossed an odd number of times to
    its left. Each cell with segments gets a reference point ``(rx, yc)`` on the line, chosen
    among :data:`OFFSETS` so that its side of every segment in the cell is certain (``clean``;
    at least of those crossing the line, or the row is given up); stepping from one cell's point
    to the next, only segments of those two cells can cross between them (the path lies in the
    two closed cells), and one does exactly when the two points lie on opposite sides of it.

    The table is rewritten in place: a cell with no segments gets the answer for all of it (the
    lowest polygon whose interior holds it, or -1); a cell with segments ``-2 - k``; a cell the
    walk could not settle (a sign too close to call on the line, or more than ``MAX_SET``
    polygons at once; ``give_up_row`` forces it on one row, for tests) :data:`FAILED`.

    Returns ``crec`` (a row per cell with segments, see :data:`_REF`), ``items`` (the sets of
    more than one polygon) and how many rows were given up; each entry's row in ``erec`` (the
    ``erec`` of :func:`mark_cells`) gets the side of its cell's reference point.
    """
    n_marked = ptr.shape[0] - 1
    crec = np.empty((n_marked, 4), dtype=np.float64)
    items = np.empty(16, dtype=np.int32)
    n_items = 0
    cur = np.empty(MAX_SET, dtype=np.int32)
    seen = np.full(n_seg, -1, dtype=np.int64)  # the last step a segment was counted in
    given_up = 0
    for j in range(ny):
        yc = row_centre(y_edges, j)
        n_cur = 0
        prev_k = -1
        prev_x = 0.0
        failed = j == give_up_row
        given_up += failed
        for i in range(nx):
            c = j * nx + i
            k = int(table[c])
            if failed:
                table[c] = FAILED
                continue
            if k < 0 and prev_k < 0:  # nothing can cross between this cell and the last
                table[c] = _lowest(cur, n_cur)
                continue
            # This cell's reference point: clean if it can be, else at least walkable.
            have = False
            chosen = 0.0
            chosen_clean = False
            last = 0.0
            for f in offsets:
                rx = x_edges[i] + f * (x_edges[i + 1] - x_edges[i])
                walkable, is_clean = True, True
                if k >= 0:
                    walkable, is_clean = _place(erec, ptr[k], ptr[k + 1], rx, yc)
                    last = rx
                if walkable and prev_k >= 0:
                    walkable = _certain(erec, ptr[prev_k], ptr[prev_k + 1], rx, yc)
                if walkable and (is_clean or not have):
                    have = True
                    chosen = rx
                    chosen_clean = is_clean
                    if is_clean:
                        break
            if have and k >= 0 and last != chosen:
                _place(erec, ptr[k], ptr[k + 1], chosen, yc)
            if have and i > 0 and prev_k < 0:
                # The last cell has no segments, so all of it has one answer: its point may move.
                have = False
                for f in offsets:
                    px = x_edges[i - 1] + f * (x_edges[i] - x_edges[i - 1])
                    if _certain(erec, ptr[k], ptr[k + 1], px, yc):
                        prev_x = px
                        have = True
                        break
            failed = not have
            if not failed and i > 0:
                step = c
                if prev_k >= 0:
                    for q in range(ptr[prev_k], ptr[prev_k + 1]):
                        seen[entries[q]] = step
                        if not _straddles(erec, q, yc):
                            continue
                        after = _side(erec, q, chosen, yc)
                        if after == 0:
                            failed = True
                            break
                        if after != erec[q, _SIDE]:
                            n_cur = _cross(cur, n_cur, erec, q)
                            if n_cur < 0:
                                failed = True
                                break
                if k >= 0 and not failed:
                    for q in range(ptr[k], ptr[k + 1]):
                        if seen[entries[q]] == step or not _straddles(erec, q, yc):
                            continue
                        before = _side(erec, q, prev_x, yc)
                        if before == 0:
                            failed = True
                            break
                        if before != erec[q, _SIDE]:
                            n_cur = _cross(cur, n_cur, erec, q)
                            if n_cur < 0:
                                failed = True
                                break
            if failed:
                given_up += 1
                table[c] = FAILED
                continue
            prev_x = chosen
            prev_k = k
            if k < 0:
                table[c] = _lowest(cur, n_cur)
                continue
            count = ptr[k + 1] - ptr[k]
            crec[k, _REF] = chosen
            crec[k, _FIRST] = ptr[k]
            crec[k, _COUNT] = count if chosen_clean else -1 - count
            if n_cur <= 1:
                crec[k, _SET] = cur[0] if n_cur else -1
            else:
                if n_items + n_cur + 1 > items.shape[0]:
                    grown = np.empty(2 * items.shape[0] + n_cur + 1, dtype=np.int32)
                    grown[:n_items] = items[:n_items]
                    items = grown
                crec[k, _SET] = -2 - n_items
                items[n_items] = n_cur
                for q in range(n_cur):
                    items[n_items + 1 + q] = cur[q]
                n_items += n_cur + 1
            table[c] = -2 - k
    return crec, items[:n_items], given_up


@njit(cache=True, nogil=True, inline="always")
def locate(xk: float, yk: float, x_start: float, x_stop: float, x_inv: float, x_n: int, x_edges: np.ndarray,
           x_exact: bool, y_start: float, y_stop: float, y_inv: float, y_n: int, y_edges: np.ndarray,
           y_exact: bool) -> tuple[int, int, int]:
    """The cell of a point, ``(column, row, off)``: ``off`` is 0 on the grid, else the point's
    reason (OUTSIDE off the grid, EMPTY not a number). Exact: ``floor((v - start) / h)`` is
    exact on an exact axis (see :class:`geo.assign._Axis`) and corrected against the cell
    edges on the others (:func:`corrected`). The block grid's look-up (:mod:`geo._assign_kernel`)
    shares the correction but not this function: with its early return there, that look-up was
    a quarter slower (measured)."""
    u = (xk - x_start) * x_inv
    w = (yk - y_start) * y_inv
    if not (u >= 0.0 and u < x_n and w >= 0.0 and w < y_n):
        return 0, 0, _OUTSIDE if (math.isfinite(xk) and math.isfinite(yk)) else _EMPTY
    ix = int(u)
    iy = int(w)
    on = True
    if not x_exact:
        ix, on = corrected(ix, xk, x_n, x_edges, x_start, x_stop)
    if not y_exact:
        iy, on_y = corrected(iy, yk, y_n, y_edges, y_start, y_stop)
        on = on and on_y
    return ix, iy, 0 if on else _OUTSIDE


@njit(cache=True, nogil=True, inline="always")
def corrected(i: int, v: float, n: int, edges: np.ndarray, start: float, stop: float) -> tuple[int, bool]:
    """On an axis that is not exact, the estimated cell ``i`` of ``v`` corrected against the cell
    edges, and whether ``v`` is on the axis at all (both grids' look-ups use this)."""
    i = min(max(i, 0), n - 1)
    i -= v < edges[i]
    i += v >= edges[i + 1]
    return i, v >= start and v < stop


@njit(cache=True, nogil=True, inline="always")
def settle(xk: float, yk: float, crec: np.ndarray, erec: np.ndarray, items: np.ndarray, k: int, ry: float,
           cur: np.ndarray) -> int:
    """The lowest polygon whose interior holds ``(xk, yk)`` (-1 for none), from cell ``k``'s
    reference point ``(crec[k, _REF], ry)``; :data:`UNSURE` where a sign is too close to call.

    It starts from the polygons of the reference point ``r`` and, for each of the cell's
    segments the straight path ``r → p`` crosses, takes that segment's polygons in or out. It
    is certain only if ``p`` is off the line of every segment in the cell (so on no boundary:
    every boundary that meets the cell is among its segments) and the path misses every
    segment's ends. Both grids' look-ups answer their cells with segments by this.
    """
    count = int(crec[k, _COUNT])
    if count < 0:
        return UNSURE
    rx = crec[k, _REF]
    n_cur = _load_set(cur, crec, items, k)
    first = int(crec[k, _FIRST])
    for q in range(first, first + count):
        side_p = _side(erec, q, xk, yk)
        if side_p == 0:
            return UNSURE
        if side_p == erec[q, _SIDE]:
            continue
        end_a = _orient(rx, ry, xk, yk, erec[q, 0], erec[q, 1])
        end_b = _orient(rx, ry, xk, yk, erec[q, 2], erec[q, 3])
        if end_a == 0 or end_b == 0:
            return UNSURE
        if end_a != end_b:
            n_cur = _cross(cur, n_cur, erec, q)
            if n_cur < 0:
                return UNSURE
    return _lowest(cur, n_cur)


@njit(cache=True, nogil=True)
def lookup(
    x: np.ndarray, y: np.ndarray,
    x_start: float, x_stop: float, x_inv: float, x_n: int, x_edges: np.ndarray, x_exact: bool,
    y_start: float, y_stop: float, y_inv: float, y_n: int, y_edges: np.ndarray, y_exact: bool,
    table: np.ndarray, crec: np.ndarray, erec: np.ndarray, items: np.ndarray,
    index: np.ndarray, reason: np.ndarray,
) -> int:
    """Fill ``index`` / ``reason`` for every point the grid answers; returns how many it left.

    A point in a cell without segments takes the cell's answer; in a cell with segments, the
    answer :func:`settle` finds from the cell's reference point, or, where it is not sure,
    reason :data:`LEFT` and, in ``index``, its cell. A point in a cell of a row the walk gave up
    on gets :data:`TREE`.
    """
    n = x.shape[0]
    cur = np.empty(MAX_SET, dtype=np.int32)
    left = 0
    for t in range(n):
        xk = x[t]
        yk = y[t]
        ix, iy, off = locate(xk, yk, x_start, x_stop, x_inv, x_n, x_edges, x_exact,
                             y_start, y_stop, y_inv, y_n, y_edges, y_exact)
        if off:
            index[t] = -1
            reason[t] = off
            continue
        v = table[iy * x_n + ix]
        if v >= -1:
            index[t] = v
            reason[t] = _INSIDE if v >= 0 else _OUTSIDE
            continue
        if v == FAILED:
            index[t] = -1
            reason[t] = TREE
            left += 1
            continue
        k = -2 - v
        low = settle(xk, yk, crec, erec, items, k, row_centre(y_edges, iy), cur)
        if low == UNSURE:
            index[t] = k
            reason[t] = LEFT
            left += 1
            continue
        index[t] = low
        reason[t] = _INSIDE if low >= 0 else _OUTSIDE
    return left


@njit(cache=True, nogil=True)
def candidates(cells: np.ndarray, crec: np.ndarray, erec: np.ndarray, items: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per cell with segments (``cells``): the polygons that can hold a point of it, ascending.

    A polygon holds a point ``p`` of the cell but not its reference point only if its boundary
    separates them, inside the cell: then it owns one of the cell's segments. So the reference
    point's polygons and the segments' owners are every candidate. Returns ``cand_ptr, cand``.
    """
    n = cells.shape[0]
    cur = np.empty(MAX_SET, dtype=np.int32)
    size = 0
    for q in range(n):
        count = int(crec[cells[q], _COUNT])
        size += 2 * (count if count >= 0 else -1 - count) + MAX_SET
    cand_ptr = np.zeros(n + 1, dtype=np.int64)
    cand = np.empty(size, dtype=np.int32)
    m = 0
    for q in range(n):
        k = cells[q]
        lo = m
        count = int(crec[k, _COUNT])
        first = int(crec[k, _FIRST])
        for r in range(first, first + (count if count >= 0 else -1 - count)):
            for o in range(_OWN, _OWN + 2):
                if erec[r, o] >= 0:
                    cand[m] = int(erec[r, o])
                    m += 1
        n_set = _load_set(cur, crec, items, k)
        for r in range(n_set):
            cand[m] = cur[r]
            m += 1
        part = np.unique(cand[lo:m])
        cand[lo : lo + part.shape[0]] = part
        m = lo + part.shape[0]
        cand_ptr[q + 1] = m
    return cand_ptr, cand[:m]
