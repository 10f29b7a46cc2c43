"""RelKP's random figures, drawn the way Pix2Code's generator draws them, vectorised over a batch.

Pix2Code's ``ClauseBasedKandinskyFigure._randomkf`` places n objects one after another. Each
object is drawn *whole* — colour, shape, a size uniform in the size range of n objects, and a
centre such that its s×s box fits the image — and drawn again, whole, while it overlaps an
earlier one. After 30 overlapping draws the size range is multiplied by 0.95 *for the rest of
the figure* and the object is tried again. Big objects collide more, so they are redrawn more:
this, not the size range alone, sets the figures' size statistics (about half of the objects of
a 4-object figure are medium, not the two thirds a uniform size would give), and the clause is
then evaluated on the finished figure.

Overlap is decided analytically on the shapes the reference rasterises for its test (a square of
side 0.6 s, a circle of the same area, and a triangle enlarged to circumradius 0.526 s), with
touching allowed: see :mod:`tasks.kandinsky.placement` for the single-pair test this vectorises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tasks.kandinsky.placement import SHRINK, TRIES_PER_SIZE
from tasks.kandinsky.universe import (
    CIRCLE,
    CIRCLE_RADIUS,
    COLORS,
    SHAPES,
    SQUARE,
    SQUARE_HALF_SIDE,
    TRIANGLE,
    TRIANGLE_TEST_RADIUS,
    size_range,
)

MAX_SHRINKS = 200  # 0.95**200 ≈ 3.5e-5: a figure never gets this far

_SIN60 = math.sqrt(3.0) / 2.0
# Per shape code (triangle, square, circle): bounding and inscribed radius per unit size.
_OUTER = np.array([TRIANGLE_TEST_RADIUS, SQUARE_HALF_SIDE * math.sqrt(2.0), CIRCLE_RADIUS])
_INNER = np.array([0.5 * TRIANGLE_TEST_RADIUS, SQUARE_HALF_SIDE, CIRCLE_RADIUS])
# Separating axes of the apex-up triangle and the square (both keep these orientations), and
# the interval each shape covers along each axis, relative to its centre, per unit size.
_AXES = np.array([(1.0, 0.0), (0.0, 1.0), (_SIN60, -0.5), (-_SIN60, -0.5)])


def _triangle_vertices(r: float) -> np.ndarray:
    """Apex-up triangle of circumradius r (y grows downwards): (3, 2)."""
    return np.array([(0.0, -r), (r * _SIN60, 0.5 * r), (-r * _SIN60, 0.5 * r)])


def _square_vertices(h: float) -> np.ndarray:
    return np.array([(-h, -h), (h, -h), (h, h), (-h, h)])


def _intervals(vertices: np.ndarray) -> np.ndarray:
    projections = vertices @ _AXES.T  # (corners, axes)
    return np.stack([projections.min(axis=0), projections.max(axis=0)], axis=-1)  # (axes, 2)


_INTERVALS = np.zeros((3, len(_AXES), 2))
_INTERVALS[TRIANGLE] = _intervals(_triangle_vertices(TRIANGLE_TEST_RADIUS))
_INTERVALS[SQUARE] = _intervals(_square_vertices(SQUARE_HALF_SIDE))
_TRIANGLE_UNIT = _triangle_vertices(TRIANGLE_TEST_RADIUS)


@dataclass(frozen=True)
class Figures:
    """A batch of figures as ``(count, n)`` arrays: shape and colour codes, size s, centre (x, y)."""

    shape: np.ndarray
    color: np.ndarray
    size: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.shape.shape[0])

    def take(self, index: np.ndarray) -> Figures:
        return Figures(self.shape[index], self.color[index], self.size[index], self.x[index], self.y[index])


def overlap(
    shape_a: np.ndarray, x_a: np.ndarray, y_a: np.ndarray, size_a: np.ndarray,
    shape_b: np.ndarray, x_b: np.ndarray, y_b: np.ndarray, size_b: np.ndarray,
    margin: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """Whether two objects come closer than ``margin`` (interiors intersect for 0), elementwise
    over broadcast arrays."""
    arrays = np.broadcast_arrays(shape_a, x_a, y_a, size_a, shape_b, x_b, y_b, size_b)
    sa, xa, ya, za, sb, xb, yb, zb = (a.ravel() for a in arrays)
    sa, sb = sa.astype(np.intp), sb.astype(np.intp)
    d2 = (xb - xa) ** 2 + (yb - ya) ** 2
    result = d2 < (_OUTER[sa] * za + _OUTER[sb] * zb + margin) ** 2
    undecided = result & ~(d2 < (_INNER[sa] * za + _INNER[sb] * zb + margin) ** 2)
    undecided &= ~((sa == CIRCLE) & (sb == CIRCLE))  # circles: the two tests above are exact
    idx = np.flatnonzero(undecided)
    if idx.size:
        sa, xa, ya, za, sb, xb, yb, zb = (a[idx] for a in (sa, xa, ya, za, sb, xb, yb, zb))
        exact = np.empty(idx.size, dtype=bool)
        circle_first = sa == CIRCLE
        circle_second = sb == CIRCLE
        polys = ~circle_first & ~circle_second
        exact[polys] = _polygons(
            sa[polys], xa[polys], ya[polys], za[polys], sb[polys], xb[polys], yb[polys], zb[polys], margin
        )
        for circle, (cx, cy, cz, ps, px, py, pz) in (
            (circle_first, (xa, ya, za, sb, xb, yb, zb)),
            (circle_second, (xb, yb, zb, sa, xa, ya, za)),
        ):
            exact[circle] = _circle_polygon(
                cx[circle], cy[circle], CIRCLE_RADIUS * cz[circle] + margin, ps[circle], px[circle], py[circle],
                pz[circle],
            )
        result[idx] = exact
    return result.reshape(arrays[0].shape)


def _polygons(sa, xa, ya, za, sb, xb, yb, zb, margin: float) -> np.ndarray:
    """Separating-axis test for square/triangle pairs (the first polygon grown by ``margin``
    along every axis)."""
    t = (xb - xa)[:, None] * _AXES[:, 0] + (yb - ya)[:, None] * _AXES[:, 1]  # (m, axes)
    lo_a = _INTERVALS[sa, :, 0] * za[:, None] - margin
    hi_a = _INTERVALS[sa, :, 1] * za[:, None] + margin
    lo_b, hi_b = _INTERVALS[sb, :, 0] * zb[:, None], _INTERVALS[sb, :, 1] * zb[:, None]
    separated = (t + lo_b >= hi_a) | (t + hi_b <= lo_a)
    return ~separated.any(axis=1)


def _circle_polygon(cx, cy, radius, shape, px, py, size) -> np.ndarray:
    out = np.empty(cx.shape, dtype=bool)
    square = shape == SQUARE
    h = SQUARE_HALF_SIDE * size[square]
    gap_x = np.maximum(np.abs(cx[square] - px[square]) - h, 0.0)
    gap_y = np.maximum(np.abs(cy[square] - py[square]) - h, 0.0)
    out[square] = gap_x**2 + gap_y**2 < radius[square] ** 2
    tri = ~square
    if tri.any():
        qx, qy, z, r = cx[tri] - px[tri], cy[tri] - py[tri], size[tri], radius[tri]
        verts = _TRIANGLE_UNIT[None] * z[:, None, None]  # (m, 3, 2)
        starts, ends = verts, np.roll(verts, -1, axis=1)
        edge = ends - starts
        rel_x, rel_y = qx[:, None] - starts[..., 0], qy[:, None] - starts[..., 1]
        inside = (edge[..., 0] * rel_y - edge[..., 1] * rel_x >= 0.0).all(axis=1)
        length2 = (edge**2).sum(axis=-1)
        along = np.clip((rel_x * edge[..., 0] + rel_y * edge[..., 1]) / length2, 0.0, 1.0)
        dist2 = (rel_x - along * edge[..., 0]) ** 2 + (rel_y - along * edge[..., 1]) ** 2
        out[tri] = inside | (dist2.min(axis=1) < r**2)
    return out


def random_figures(rng: np.random.Generator, n_objects: int, count: int, margin: float = 0.0) -> Figures:
    """``count`` random figures of ``n_objects`` objects, as Pix2Code's ``_randomkf`` draws them."""
    low, high = size_range(n_objects)
    lo = np.full(count, low)
    hi = np.full(count, high)
    arrays = {name: np.zeros((count, n_objects)) for name in ("size", "x", "y")}
    shape = np.zeros((count, n_objects), dtype=np.int8)
    color = np.zeros((count, n_objects), dtype=np.int8)
    for k in range(n_objects):
        pending = np.arange(count)
        for _ in range(MAX_SHRINKS):
            if pending.size == 0:
                break
            m = pending.size
            c_color = rng.integers(0, len(COLORS), (m, TRIES_PER_SIZE), dtype=np.int8)
            c_shape = rng.integers(0, len(SHAPES), (m, TRIES_PER_SIZE), dtype=np.int8)
            c_size = lo[pending, None] + (hi - lo)[pending, None] * rng.random((m, TRIES_PER_SIZE))
            c_x = c_size / 2 + rng.random((m, TRIES_PER_SIZE)) * (1 - c_size)
            c_y = c_size / 2 + rng.random((m, TRIES_PER_SIZE)) * (1 - c_size)
            free = np.ones((m, TRIES_PER_SIZE), dtype=bool)
            for j in range(k):
                free &= ~overlap(
                    c_shape, c_x, c_y, c_size,
                    shape[pending, j, None], arrays["x"][pending, j, None], arrays["y"][pending, j, None],
                    arrays["size"][pending, j, None], margin,
                )  # fmt: skip
            found = free.any(axis=1)
            pick = free.argmax(axis=1)
            rows, done = pending[found], np.flatnonzero(found)
            shape[rows, k], color[rows, k] = c_shape[done, pick[done]], c_color[done, pick[done]]
            for name, values in (("size", c_size), ("x", c_x), ("y", c_y)):
                arrays[name][rows, k] = values[done, pick[done]]
            pending = pending[~found]
            lo[pending] *= SHRINK
            hi[pending] *= SHRINK
        else:
            raise RuntimeError(f"could not place object {k} of {n_objects} after {MAX_SHRINKS} shrinks")
    return Figures(shape, color, arrays["size"], arrays["x"], arrays["y"])


def overlapping(figures: Figures) -> np.ndarray:
    """(count,) bool: whether any two objects of a figure overlap (after attributes were edited)."""
    n = figures.shape.shape[1]
    bad = np.zeros(len(figures), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            bad |= overlap(
                figures.shape[:, i], figures.x[:, i], figures.y[:, i], figures.size[:, i],
                figures.shape[:, j], figures.x[:, j], figures.y[:, j], figures.size[:, j],
            )  # fmt: skip
    return bad
