"""The RelKP predicates, vectorised over batches of figures, and the spatial relations of NSFR.

A RelKP predicate looks at a set of objects (all objects of a figure, or one pair) through three
integer codes per object: shape, colour and size class. Arrays have shape ``(..., m)``: any
leading batch axes, then the m objects of the set; a predicate reduces the last axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from tasks.kandinsky.universe import RED, TRIANGLE, KandinskyObject


class Codes(NamedTuple):
    """Integer attribute codes of a batch of object sets, each array shaped ``(..., m)``."""

    shape: np.ndarray
    color: np.ndarray
    size: np.ndarray

    def take(self, index: np.ndarray) -> "Codes":
        """Select objects along the last axis (``index`` may add axes, e.g. ``(pairs, 2)``)."""
        return Codes(self.shape[..., index], self.color[..., index], self.size[..., index])


def _all_equal(values: np.ndarray) -> np.ndarray:
    return (values == values[..., :1]).all(axis=-1)


def same_color(codes: Codes) -> np.ndarray:
    """Every object has the same colour."""
    return _all_equal(codes.color)


def same_shape(codes: Codes) -> np.ndarray:
    """Every object has the same shape."""
    return _all_equal(codes.shape)


def same_size(codes: Codes) -> np.ndarray:
    """Every object has the same size class (small/medium/big), not the same continuous size."""
    return _all_equal(codes.size)


def one_is_red_triangle(codes: Codes) -> np.ndarray:
    """Exactly one red triangle, and no other object is red or a triangle (kandinsky.md §3)."""
    red = codes.color == RED
    triangle = codes.shape == TRIANGLE
    return ((red & triangle).sum(axis=-1) == 1) & (red.sum(axis=-1) == 1) & (triangle.sum(axis=-1) == 1)


# Order matters: it is the order of literals in enumerated names (``3_not_same_shape_and_same_color``).
PREDICATES: dict[str, Callable[[Codes], np.ndarray]] = {
    "same_shape": same_shape,
    "same_color": same_color,
    "same_size": same_size,
    "one_is_red_triangle": one_is_red_triangle,
}

PREDICATE_TEXT: dict[str, str] = {
    "same_shape": "same shape",
    "same_color": "same colour",
    "same_size": "same size class",
    "one_is_red_triangle": "exactly one red triangle and no other red object or triangle",
}


def closeby(a: KandinskyObject, b: KandinskyObject, threshold: float) -> bool:
    """Centres closer than ``threshold`` (image widths): NSFR's neural closeby, made explicit."""
    return math.hypot(a.x - b.x, a.y - b.y) < threshold


def online(objects: Sequence[KandinskyObject], tolerance: float) -> bool:
    """All centres lie within ``tolerance`` (image widths) of their best-fit straight line.

    The line is the total-least-squares fit through the centroid (the first singular vector of
    the centred coordinates), so the test treats every direction alike, vertical lines included.
    """
    if len(objects) < 3:
        return True
    points = np.array([(o.x, o.y) for o in objects], dtype=np.float64)
    points -= points.mean(axis=0)
    _, _, vt = np.linalg.svd(points, full_matrices=False)
    normal = vt[-1]
    return bool(np.abs(points @ normal).max() <= tolerance)
