"""Rendering (shape, colours, anti-aliasing, no drawn overlaps) and the analytic overlap test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tasks.kandinsky import KandinskyFamily
from tasks.kandinsky.placement import Footprint, overlaps
from tasks.kandinsky.universe import BACKGROUND, CIRCLE, PALETTE, SQUARE, KandinskyObject, KandinskyScene

FAMILY = KandinskyFamily()


def figures(count: int) -> list[KandinskyScene]:
    """Figures from several RelKP concepts and every pattern (object counts 2–6, all sizes)."""
    out: list[KandinskyScene] = []
    rng = np.random.default_rng(11)
    for cid in FAMILY.concept_ids("train")[::10]:
        episode = FAMILY.sample_episode(rng, cid, "train")
        out += list(episode.support_scenes[:3])
    for pattern in ("onetriangle", "closeby", "red-triangle", "online-pair"):
        episode = KandinskyFamily(pattern=pattern).sample_episode(rng, pattern, "train")
        out += list(episode.support_scenes[:3])
    return out[:count]


@pytest.mark.parametrize("height, width", [(128, 128), (16, 16), (640, 640), (96, 200), (200, 64)])
def test_shape_dtype_and_background(height, width):
    for figure in figures(6):
        image = FAMILY.render(figure, height, width)
        assert image.shape == (height, width, 3) and image.dtype == np.uint8
        for corner in (image[0, 0], image[0, -1], image[-1, 0], image[-1, -1]):
            assert tuple(corner) == BACKGROUND


@pytest.mark.parametrize("size", [128, 256, 640])
def test_each_object_shows_its_colour_at_its_centre(size):
    for figure in figures(40):
        image = FAMILY.render(figure, size, size)
        for obj in figure:
            row, col = min(int(obj.y * size), size - 1), min(int(obj.x * size), size - 1)
            assert np.abs(image[row, col].astype(int) - PALETTE[obj.color]).max() <= 2, (obj, size)


def test_edges_are_anti_aliased():
    circle = KandinskyScene((KandinskyObject("circle", "blue", 0.6, 0.4713, 0.5291),))
    image = FAMILY.render(circle, 128, 128).astype(int)
    colours = {tuple(p) for p in image.reshape(-1, 3)}
    assert len(colours) > 20  # blends between background and blue along the rim
    # the covered area matches the geometry: a circle of the square's area, (0.6 s W)^2
    blue, grey = np.array(PALETTE["blue"]), np.array(BACKGROUND)
    coverage = ((image - grey) @ (blue - grey)) / ((blue - grey) @ (blue - grey))
    assert coverage.sum() == pytest.approx((0.6 * 0.6 * 128) ** 2, rel=0.01)


def test_drawn_geometry():
    """Square side 0.6·s·W, triangle apex up with circumradius 0.404·s·W (kandinsky.md §2)."""
    square = FAMILY.render(KandinskyScene((KandinskyObject("square", "red", 0.5, 0.5, 0.5),)), 200, 200)
    red_cols = np.flatnonzero((square[100] == PALETTE["red"]).all(axis=1))
    assert red_cols.max() - red_cols.min() + 1 == 60
    triangle = FAMILY.render(KandinskyScene((KandinskyObject("triangle", "red", 0.5, 0.5, 0.5),)), 400, 400)
    rows = np.flatnonzero((triangle != BACKGROUND).any(axis=2).any(axis=1))
    radius = 0.7 * math.sqrt(3) / 3 * 0.5 * 400
    assert rows.min() == pytest.approx(200 - radius, abs=1) and rows.max() == pytest.approx(200 + radius / 2, abs=1)
    widths = [(triangle[r] != BACKGROUND).any(axis=1).sum() for r in (rows.min() + 5, rows.max() - 5)]
    assert widths[0] < widths[1]  # apex up


def test_drawn_objects_never_overlap():
    for figure in figures(60):
        covered = np.zeros((256, 256), dtype=int)
        for obj in figure:
            alone = FAMILY.render(KandinskyScene((obj,)), 256, 256).astype(int)
            grey, colour = np.array(BACKGROUND), np.array(PALETTE[obj.color])
            coverage = ((alone - grey) @ (colour - grey)) / ((colour - grey) @ (colour - grey))
            covered += coverage > 0.75
        assert covered.max() <= 1


# --- the overlap test against a point-sampling reference ---------------------------------------

def inside(fp: Footprint, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    dx, dy = x - fp.x, y - fp.y
    if fp.shape == SQUARE:
        h = 0.3 * fp.size
        return (np.abs(dx) < h) & (np.abs(dy) < h)
    if fp.shape == CIRCLE:
        return np.hypot(dx, dy) < 0.6 / math.sqrt(math.pi) * fp.size
    inradius = 0.526 * fp.size / 2  # the enlarged test triangle, apex up
    return (dy < inradius) & (math.sqrt(3) / 2 * dx - dy / 2 < inradius) & (-math.sqrt(3) / 2 * dx - dy / 2 < inradius)


def test_overlap_test_agrees_with_point_sampling():
    rng = np.random.default_rng(3)
    disagreements = 0
    for _ in range(600):
        a = Footprint(int(rng.integers(3)), 0.5, 0.5, rng.uniform(0.1, 0.5))
        shape, size, angle = int(rng.integers(3)), rng.uniform(0.1, 0.5), rng.uniform(0, 2 * math.pi)
        reach = (a.outer_radius + Footprint(shape, 0, 0, size).outer_radius) * rng.uniform(0.55, 1.0)  # near contact
        b = Footprint(shape, 0.5 + reach * math.cos(angle), 0.5 + reach * math.sin(angle), size)
        # a fine grid over the intersection of the two bounding boxes (half-width 0.53 s covers all shapes)
        low = np.maximum([a.x - 0.53 * a.size, a.y - 0.53 * a.size], [b.x - 0.53 * b.size, b.y - 0.53 * b.size])
        high = np.minimum([a.x + 0.53 * a.size, a.y + 0.53 * a.size], [b.x + 0.53 * b.size, b.y + 0.53 * b.size])
        sampled = False
        if (low < high).all():
            xs, ys = np.meshgrid(np.linspace(low[0], high[0], 300), np.linspace(low[1], high[1], 300))
            sampled = bool((inside(a, xs, ys) & inside(b, xs, ys)).any())
        exact = overlaps(a, b)
        assert exact == overlaps(b, a)
        if sampled:
            assert exact, (a, b)  # the analytic test never misses an overlap
        disagreements += exact != sampled
    assert disagreements <= 4  # only slivers thinner than the sampling grid
