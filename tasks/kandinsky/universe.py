"""The Kandinsky universe: shapes, colours, sizes, drawn geometry and the scene type.

Follows Pix2Code's RelKP universe (kandinsky.md §2): three shapes in the CLEVR palette on a
light-grey background, a continuous size ``s`` (a fraction of the image width) with a derived
size class, and a centre in [0, 1]² (origin top-left) such that the s×s box lies in the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPES: tuple[str, ...] = ("triangle", "square", "circle")
COLORS: tuple[str, ...] = ("red", "yellow", "blue")
SIZE_CLASSES: tuple[str, ...] = ("small", "medium", "big")

TRIANGLE, SQUARE, CIRCLE = range(3)
RED, YELLOW, BLUE = range(3)

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (173, 35, 35),
    "yellow": (255, 238, 51),
    "blue": (42, 75, 215),
}
BACKGROUND: tuple[int, int, int] = (215, 215, 215)

SHAPE_INDEX = {name: i for i, name in enumerate(SHAPES)}
COLOR_INDEX = {name: i for i, name in enumerate(COLORS)}

# Drawn geometry, in units of s·W (kandinsky.md §2).
SQUARE_HALF_SIDE = 0.3  # side 0.6·s·W
CIRCLE_RADIUS = 0.6 / math.sqrt(math.pi)  # same area as the square, ≈ 0.3385
TRIANGLE_RADIUS = 0.7 * math.sqrt(3.0) / 3.0  # circumradius ≈ 0.404, apex up
# RelKP tests overlap with a larger triangle (circumradius ≈ 0.526·s): a safety margin.
TRIANGLE_TEST_RADIUS = 0.526


def size_class(s: float) -> int:
    """Index into SIZE_CLASSES: small if s ≤ 1/3, medium if s ≤ 2/3, else big."""
    if s <= 1.0 / 3.0:
        return 0
    return 1 if s <= 2.0 / 3.0 else 2


def size_classes(sizes: np.ndarray) -> np.ndarray:
    """Vectorised :func:`size_class` (int8 codes)."""
    return (sizes > 1.0 / 3.0).astype(np.int8) + (sizes > 2.0 / 3.0)


def size_range(n_objects: int) -> tuple[float, float]:
    """(min s, max s) for a figure of ``n_objects`` objects (the RelKP table, kandinsky.md §2)."""
    if n_objects < 1:
        raise ValueError(f"a Kandinsky figure needs at least 1 object, got {n_objects}")
    table = {1: (0.4, 0.6), 2: (0.3, 0.6), 3: (0.2, 0.6), 4: (0.2, 0.6), 5: (0.2, 0.5), 6: (0.2, 0.4), 7: (0.03, 0.3)}
    if n_objects in table:
        return table[n_objects]
    return 0.03, 0.2 - (n_objects - 7) * 0.2 / 70.0


@dataclass(frozen=True, slots=True)
class KandinskyObject:
    """One object: shape and colour names, continuous size s and centre (x, y) in [0, 1]²."""

    shape: str
    color: str
    size: float
    x: float
    y: float

    def __post_init__(self) -> None:
        if self.shape not in SHAPE_INDEX:
            raise ValueError(f"unknown shape {self.shape!r}; expected one of {list(SHAPES)}")
        if self.color not in COLOR_INDEX:
            raise ValueError(f"unknown colour {self.color!r}; expected one of {list(COLORS)}")
        if not 0.0 < self.size <= 1.0:
            raise ValueError(f"object size must be in (0, 1], got {self.size!r}")

    @property
    def size_class(self) -> str:
        return SIZE_CLASSES[size_class(self.size)]


@dataclass(frozen=True, slots=True)
class KandinskyScene:
    """A Kandinsky figure: its objects in placement order (non-overlapping, inside the image)."""

    objects: tuple[KandinskyObject, ...]

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self):
        return iter(self.objects)
