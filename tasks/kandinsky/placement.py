"""Non-overlapping placement of objects, with an analytic overlap test.

RelKP rasterises objects at 1024² and rejects any doubly-covered pixel, testing triangles with a
circumradius of 0.526·s instead of the drawn 0.404·s (kandinsky.md §2). Here the same shapes are
tested exactly as convex regions (separating axes for polygons, point–polygon distance for
circles), keeping that enlarged triangle as the margin. Touching is allowed, as in the reference.

Placement is incremental: each object gets up to 30 centre draws; when all fail, its size shrinks
by 5 % and it tries again (the reference shrinks the size bounds by the same factor).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tasks.kandinsky.universe import CIRCLE, CIRCLE_RADIUS, SQUARE, SQUARE_HALF_SIDE, TRIANGLE, TRIANGLE_TEST_RADIUS

TRIES_PER_SIZE = 30
SHRINK = 0.95
MAX_SHRINKS = 200  # 0.95**200 ≈ 3.5e-5: only a proposal with no room at all (a full line) gets this far

_SIN60 = math.sqrt(3.0) / 2.0


@dataclass(frozen=True, slots=True)
class Footprint:
    """The region an object claims for the overlap test (shape code, centre, size s)."""

    shape: int
    x: float
    y: float
    size: float

    @property
    def outer_radius(self) -> float:
        if self.shape == SQUARE:
            return SQUARE_HALF_SIDE * math.sqrt(2.0) * self.size
        if self.shape == CIRCLE:
            return CIRCLE_RADIUS * self.size
        return TRIANGLE_TEST_RADIUS * self.size

    @property
    def inner_radius(self) -> float:
        if self.shape == SQUARE:
            return SQUARE_HALF_SIDE * self.size
        if self.shape == CIRCLE:
            return CIRCLE_RADIUS * self.size
        return 0.5 * TRIANGLE_TEST_RADIUS * self.size

    def vertices(self) -> tuple[tuple[float, float], ...]:
        """Polygon corners (y grows downwards; the triangle's apex points up)."""
        if self.shape == SQUARE:
            h = SQUARE_HALF_SIDE * self.size
            x, y = self.x, self.y
            return ((x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h))
        r = TRIANGLE_TEST_RADIUS * self.size
        return ((self.x, self.y - r), (self.x + r * _SIN60, self.y + 0.5 * r), (self.x - r * _SIN60, self.y + 0.5 * r))


# Separating axes: the square's edge normals and the apex-up triangle's; both shapes keep these
# orientations, so no other axis can separate two polygons. For each (shape, axis), the interval
# that the shape covers along the axis, relative to its centre and in units of its size s.
_AXES = ((1.0, 0.0), (0.0, 1.0), (_SIN60, -0.5), (-_SIN60, -0.5))


def _unit_intervals(shape: int) -> tuple[tuple[float, float], ...]:
    corners = Footprint(shape, 0.0, 0.0, 1.0).vertices()
    return tuple(
        (min(ax * x + ay * y for x, y in corners), max(ax * x + ay * y for x, y in corners)) for ax, ay in _AXES
    )


_INTERVALS = {SQUARE: _unit_intervals(SQUARE), TRIANGLE: _unit_intervals(TRIANGLE)}


def _polygons_overlap(a: Footprint, b: Footprint) -> bool:
    dx, dy = b.x - a.x, b.y - a.y
    for (ax, ay), (a_lo, a_hi), (b_lo, b_hi) in zip(_AXES, _INTERVALS[a.shape], _INTERVALS[b.shape]):
        t = ax * dx + ay * dy
        if t + b_lo * b.size >= a_hi * a.size or t + b_hi * b.size <= a_lo * a.size:
            return False
    return True


def _segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    ex, ey = b[0] - a[0], b[1] - a[1]
    t = ((px - a[0]) * ex + (py - a[1]) * ey) / (ex * ex + ey * ey)
    t = min(1.0, max(0.0, t))
    return math.hypot(px - (a[0] + t * ex), py - (a[1] + t * ey))


def _circle_polygon_overlap(circle: Footprint, poly: Footprint) -> bool:
    radius = CIRCLE_RADIUS * circle.size
    if poly.shape == SQUARE:
        h = SQUARE_HALF_SIDE * poly.size
        gap_x = max(abs(circle.x - poly.x) - h, 0.0)
        gap_y = max(abs(circle.y - poly.y) - h, 0.0)
        return gap_x * gap_x + gap_y * gap_y < radius * radius
    verts = poly.vertices()
    edges = tuple(zip(verts, verts[1:] + verts[:1]))
    inside = all((b[0] - a[0]) * (circle.y - a[1]) - (b[1] - a[1]) * (circle.x - a[0]) >= 0.0 for a, b in edges)
    return inside or min(_segment_distance(circle.x, circle.y, a, b) for a, b in edges) < radius


def overlaps(a: Footprint, b: Footprint) -> bool:
    """Whether the interiors of two footprints intersect (touching is not overlapping)."""
    dist2 = (a.x - b.x) ** 2 + (a.y - b.y) ** 2
    if dist2 >= (a.outer_radius + b.outer_radius) ** 2:
        return False
    if dist2 < (a.inner_radius + b.inner_radius) ** 2:
        return True
    if a.shape == CIRCLE and b.shape == CIRCLE:
        return False  # inner and outer radii coincide, so the tests above were exact
    if a.shape == CIRCLE:
        return _circle_polygon_overlap(a, b)
    if b.shape == CIRCLE:
        return _circle_polygon_overlap(b, a)
    return _polygons_overlap(a, b)


Proposal = Callable[[np.random.Generator, float, int], tuple[list[float], list[float]]]


def uniform_centres(rng: np.random.Generator, size: float, count: int) -> tuple[list[float], list[float]]:
    """``count`` centres with the size×size box inside the unit square (kandinsky.md §2)."""
    u = rng.random((2, count)) * (1.0 - size) + size / 2.0
    return u[0].tolist(), u[1].tolist()


def place_objects(
    rng: np.random.Generator,
    shapes: Sequence[int],
    sizes: Sequence[float],
    *,
    fixed: Sequence[Footprint] = (),
    propose: Proposal = uniform_centres,
) -> list[Footprint]:
    """Place objects one by one without overlapping each other or the ``fixed`` footprints.

    ``propose`` draws candidate centres for a given size (uniform in the image by default, a line
    for NSFR's online patterns); candidates are judged in the order drawn and the first free one
    wins. Returns the new footprints in order; their sizes are the
    given ones unless placement had to shrink them.
    """
    placed: list[Footprint] = list(fixed)
    new: list[Footprint] = []
    for i, (shape, size) in enumerate(zip(shapes, sizes)):
        for _ in range(MAX_SHRINKS):
            found = _first_fit(rng, shape, size, placed, propose)
            if found is not None:
                break
            size *= SHRINK
        else:
            raise RuntimeError(
                f"could not place object {i} ({len(shapes)} objects) after {MAX_SHRINKS} shrinks; "
                "the proposal cannot fit it"
            )
        placed.append(found)
        new.append(found)
    return new


def _first_fit(
    rng: np.random.Generator, shape: int, size: float, placed: list[Footprint], propose: Proposal
) -> Footprint | None:
    """The first of TRIES_PER_SIZE proposed centres that overlaps nothing (None if all do).

    Bounding and inscribed circles settle most candidate/object pairs with one comparison each;
    only the pairs in between get the exact test.
    """
    xs, ys = propose(rng, size, TRIES_PER_SIZE)
    probe = Footprint(shape, 0.0, 0.0, size)
    others = [
        (fp.x, fp.y, fp.outer_radius + probe.outer_radius, fp.inner_radius + probe.inner_radius, fp) for fp in placed
    ]
    for x, y in zip(xs, ys):
        free = True
        for ox, oy, clear, touch, fp in others:
            d2 = (x - ox) ** 2 + (y - oy) ** 2
            if d2 >= clear * clear:
                continue
            if d2 < touch * touch or overlaps(Footprint(shape, x, y, size), fp):
                free = False
                break
        if free:
            return Footprint(shape, x, y, size)
    return None
