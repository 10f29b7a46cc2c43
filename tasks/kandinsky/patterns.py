"""The classic Kandinsky patterns of HCAI (Müller/Holzinger) and NSFR/αILP (kandinsky.md §8, §9).

Each pattern is one concept with its own generators, drawn in the RelKP universe (CLEVR palette,
grey background, our shapes and non-overlap test). Pixel geometry from the 640-px NSFR generator
is scaled to normalised units: a size of p px becomes s = 7p/3840, which gives the same square
side (0.7·p px there, 0.6·s·640 px here); distances are divided by 640.

Ground truth (``rule``) and generators:

* ``onered`` (HCAI ContainsRedObjects), 4 objects, s ∈ [0.1, 0.6]: at least one red object.
  Positives are random figures with a red object; negatives are random figures with every red
  object recoloured blue (the reference's near-counterfactual).
* ``onetriangle`` (HCAI ContainsTriangles), 4 objects: at least one triangle. Negatives are
  random figures with every triangle replaced by a circle of half its size.
* ``twopairs`` (NSFR), 4 objects of 50–120 px: the objects split into two same-shape pairs, one
  of one colour and one of two colours. Positives as NSFR builds them (the pairs have different
  shapes).
* ``threepairs`` (NSFR), 6 objects: three same-shape pairs, one of one colour and two of two
  colours. Positives as NSFR: one pair per shape.
* ``closeby`` (NSFR), 4 objects of 60 px: two centres closer than 120 px. Positives put one pair
  at a diagonal offset of (±45, ±45) px; negatives keep every pair of centres ≥ 120 px apart.
* ``red-triangle`` (NSFR), 6 objects of 60 px: a red triangle with a non-red, non-triangle object
  closer than 120 px. Positives place such a pair diagonally adjacent; negatives contain a red
  triangle but no non-red non-triangle within 200 px of any red triangle.
* ``online-pair`` (NSFR), 5 objects of 50–120 px: all centres on one line (within 0.01) and two
  objects alike in shape and colour. Positives lie on a random line through the image centre;
  negatives are, with equal odds, on such a line with five distinct (shape, colour) pairs, or a
  random layout that is not on a line.

Deviations, on purpose:

* NSFR ``twopairs``/``threepairs`` negatives reject any figure with a same-shape pair of
  different colours, so that cue alone separates the classes (a shortcut, §8). Here negatives are
  random figures for which the rule fails.
* HCAI's two-pairs rule also accepts one shape four times in colours {r, r, b, b}, which has no
  one-colour pair next to a two-colour pair (§9.3). The rule here is the pairing itself, so that
  figure is a negative.
* NSFR's closeby is a learned predicate; here it is a centre distance below 120 px (0.1875),
  the distance that the closeby negatives never come below, so they are exactly "the rule fails".
* Object order inside a figure is shuffled, so the constructed pair never sits in fixed slots of
  an object table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.kandinsky.clauses import parse_concept
from tasks.kandinsky.placement import Footprint, Proposal, place_objects, uniform_centres
from tasks.kandinsky.predicates import closeby, online
from tasks.kandinsky.sampling import MAX_TRIES, SamplingError, scene_codes
from tasks.kandinsky.universe import (
    BLUE,
    COLORS,
    RED,
    SHAPES,
    TRIANGLE,
    KandinskyObject,
    KandinskyScene,
)

REFERENCE_WIDTH = 640


def nsfr_size(pixels: float) -> float:
    """NSFR's size parameter (px at 640) as our s: equal square sides (0.7·p = 0.6·s·640)."""
    return 0.7 * pixels / (0.6 * REFERENCE_WIDTH)


NSFR_SIZES = (nsfr_size(50), nsfr_size(120))
NSFR_FIXED_SIZE = nsfr_size(60)
HCAI_SIZES = (0.1, 0.6)  # HCAI random figure with 4 objects (kandinsky.md §9.2)
CLOSEBY_DISTANCE = 120 / REFERENCE_WIDTH
DIAGONAL_OFFSET = 45 / REFERENCE_WIDTH
RED_TRIANGLE_CLEARANCE = 200 / REFERENCE_WIDTH
ONLINE_TOLERANCE = 0.01

_TWO_PAIRS = parse_concept("4_pair1_same_shape_and_same_color_pair2_same_shape_and_not_same_color")
_THREE_PAIRS = parse_concept(
    "6_pair1_same_shape_and_same_color_pair2_same_shape_and_not_same_color_pair3_same_shape_and_not_same_color"
)

Attributes = list[tuple[int, int]]  # (shape code, colour code) per object


@dataclass(frozen=True)
class Pattern:
    """A classic pattern: its ground-truth rule and its positive and negative generators."""

    name: str
    n_objects: int
    text: str
    rule: Callable[[KandinskyScene], bool]
    positive: Callable[[np.random.Generator], KandinskyScene]
    negative: Callable[[np.random.Generator], KandinskyScene]

    def sample(self, rng: np.random.Generator, label: bool, count: int) -> list[KandinskyScene]:
        make = self.positive if label else self.negative
        return [make(rng) for _ in range(count)]


# --- building blocks ---------------------------------------------------------------------------

def _random_attributes(rng: np.random.Generator, n: int) -> Attributes:
    codes = rng.integers(0, 3, (n, 2))
    return [(int(s), int(c)) for s, c in codes]


def _objects(attributes: Attributes, footprints: list[Footprint]) -> list[KandinskyObject]:
    return [
        KandinskyObject(SHAPES[fp.shape], COLORS[color], fp.size, fp.x, fp.y)
        for (_, color), fp in zip(attributes, footprints)
    ]


def _shuffled(rng: np.random.Generator, objects: list[KandinskyObject]) -> KandinskyScene:
    return KandinskyScene(tuple(objects[i] for i in rng.permutation(len(objects))))


def _figure(
    rng: np.random.Generator,
    attributes: Attributes,
    sizes: tuple[float, float] | float,
    *,
    fixed: Sequence[KandinskyObject] = (),
    propose: Proposal = uniform_centres,
) -> KandinskyScene:
    """Place objects with these attributes (sizes uniform in a range, or one fixed size) around
    the ``fixed`` objects, and shuffle the object order."""
    n = len(attributes)
    drawn = [sizes] * n if isinstance(sizes, float) else rng.uniform(sizes[0], sizes[1], n).tolist()
    footprints = [Footprint(SHAPES.index(o.shape), o.x, o.y, o.size) for o in fixed]
    placed = place_objects(rng, [s for s, _ in attributes], drawn, fixed=footprints, propose=propose)
    return _shuffled(rng, list(fixed) + _objects(attributes, placed))


def _until(
    rng: np.random.Generator,
    pattern: str,
    what: str,
    make: Callable[[np.random.Generator], Any],
    ok: Callable[[Any], bool],
) -> Any:
    """The first of up to MAX_TRIES ``make(rng)`` results that passes ``ok``."""
    for _ in range(MAX_TRIES):
        candidate = make(rng)
        if ok(candidate):
            return candidate
    raise SamplingError(f"no {what} for pattern {pattern!r} within {MAX_TRIES} tries")


def _diagonal_pair(
    rng: np.random.Generator, first: tuple[int, int], second: tuple[int, int], size: float
) -> list[KandinskyObject]:
    """Two objects of one size, the second at a (±45 px, ±45 px) offset from the first."""
    signs = rng.choice((-1.0, 1.0), 2)
    low, high = size / 2, 1 - size / 2 - DIAGONAL_OFFSET  # room for the partner on the + side
    corner = rng.uniform(low, high, 2)
    first_xy = [c + DIAGONAL_OFFSET if s < 0 else c for c, s in zip(corner, signs)]
    second_xy = [c + s * DIAGONAL_OFFSET for c, s in zip(first_xy, signs)]
    return [
        KandinskyObject(SHAPES[first[0]], COLORS[first[1]], size, float(first_xy[0]), float(first_xy[1])),
        KandinskyObject(SHAPES[second[0]], COLORS[second[1]], size, float(second_xy[0]), float(second_xy[1])),
    ]


def _pairwise_distances(scene: KandinskyScene) -> list[tuple[KandinskyObject, KandinskyObject, float]]:
    objs = scene.objects
    return [
        (a, b, math.hypot(a.x - b.x, a.y - b.y)) for i, a in enumerate(objs) for b in objs[i + 1 :]
    ]


def _is_red_triangle(o: KandinskyObject) -> bool:
    return o.color == "red" and o.shape == "triangle"


def _is_neither(o: KandinskyObject) -> bool:
    return o.color != "red" and o.shape != "triangle"


def _has_twin(scene: KandinskyScene) -> bool:
    seen = [(o.shape, o.color) for o in scene.objects]
    return len(set(seen)) < len(seen)


# --- HCAI --------------------------------------------------------------------------------------

def _onered_rule(scene: KandinskyScene) -> bool:
    return any(o.color == "red" for o in scene.objects)


def _onered_positive(rng: np.random.Generator) -> KandinskyScene:
    attrs = _until(
        rng, "onered", "red figure", lambda r: _random_attributes(r, 4), lambda a: any(c == RED for _, c in a)
    )
    return _figure(rng, attrs, HCAI_SIZES)


def _onered_negative(rng: np.random.Generator) -> KandinskyScene:
    attrs = [(s, BLUE if c == RED else c) for s, c in _random_attributes(rng, 4)]
    return _figure(rng, attrs, HCAI_SIZES)


def _onetriangle_rule(scene: KandinskyScene) -> bool:
    return any(o.shape == "triangle" for o in scene.objects)


def _onetriangle_positive(rng: np.random.Generator) -> KandinskyScene:
    attrs = _until(
        rng, "onetriangle", "figure with a triangle", lambda r: _random_attributes(r, 4),
        lambda a: any(s == TRIANGLE for s, _ in a),
    )
    return _figure(rng, attrs, HCAI_SIZES)


def _onetriangle_negative(rng: np.random.Generator) -> KandinskyScene:
    scene = _figure(rng, _random_attributes(rng, 4), HCAI_SIZES)
    return KandinskyScene(
        tuple(
            KandinskyObject("circle", o.color, o.size / 2, o.x, o.y) if o.shape == "triangle" else o
            for o in scene.objects
        )
    )


# --- NSFR pairs --------------------------------------------------------------------------------

def _twopairs_rule(scene: KandinskyScene) -> bool:
    return len(scene) == 4 and bool(_TWO_PAIRS.evaluate(scene_codes(scene))[0])


def _threepairs_rule(scene: KandinskyScene) -> bool:
    return len(scene) == 6 and bool(_THREE_PAIRS.evaluate(scene_codes(scene))[0])


def _same_color_pair(rng: np.random.Generator, shape: int) -> Attributes:
    color = int(rng.integers(3))
    return [(shape, color), (shape, color)]


def _two_color_pair(rng: np.random.Generator, shape: int) -> Attributes:
    first, second = rng.choice(3, 2, replace=False)
    return [(shape, int(first)), (shape, int(second))]


def _twopairs_positive(rng: np.random.Generator) -> KandinskyScene:
    two_color_shape, one_color_shape = rng.choice(3, 2, replace=False)
    attrs = _two_color_pair(rng, int(two_color_shape)) + _same_color_pair(rng, int(one_color_shape))
    return _figure(rng, attrs, NSFR_SIZES)


def _threepairs_positive(rng: np.random.Generator) -> KandinskyScene:
    shapes = rng.permutation(3).tolist()  # the first shape gets the one-colour pair
    attrs = _same_color_pair(rng, shapes[0]) + _two_color_pair(rng, shapes[1]) + _two_color_pair(rng, shapes[2])
    return _figure(rng, attrs, NSFR_SIZES)


def _pairs_negative(
    name: str, n: int, rule: Callable[[KandinskyScene], bool]
) -> Callable[[np.random.Generator], KandinskyScene]:
    def negative(rng: np.random.Generator) -> KandinskyScene:
        attrs = _until(
            rng, name, "figure that breaks the rule", lambda r: _random_attributes(r, n),
            lambda a: not rule(_attribute_scene(a)),
        )
        return _figure(rng, attrs, NSFR_SIZES)

    return negative


def _attribute_scene(attrs: Attributes) -> KandinskyScene:
    """A figure with these attributes at dummy positions, for rules that ignore positions."""
    return KandinskyScene(tuple(KandinskyObject(SHAPES[s], COLORS[c], 0.1, 0.5, 0.5) for s, c in attrs))


# --- NSFR spatial ------------------------------------------------------------------------------

def _closeby_rule(scene: KandinskyScene) -> bool:
    objs = scene.objects
    return any(closeby(a, b, CLOSEBY_DISTANCE) for i, a in enumerate(objs) for b in objs[i + 1 :])


def _closeby_positive(rng: np.random.Generator) -> KandinskyScene:
    pair_attrs = _random_attributes(rng, 2)
    pair = _diagonal_pair(rng, pair_attrs[0], pair_attrs[1], NSFR_FIXED_SIZE)
    return _figure(rng, _random_attributes(rng, 2), NSFR_FIXED_SIZE, fixed=pair)


def _closeby_negative(rng: np.random.Generator) -> KandinskyScene:
    return _until(
        rng, "closeby", "figure without close objects",
        lambda r: _figure(r, _random_attributes(r, 4), NSFR_FIXED_SIZE),
        lambda scene: all(d >= CLOSEBY_DISTANCE for _, _, d in _pairwise_distances(scene)),
    )


def _red_triangle_near_partner(scene: KandinskyScene, distance: float) -> bool:
    """Whether a red triangle lies within ``distance`` of an object that is neither red nor a triangle."""
    return any(
        (_is_red_triangle(a) and _is_neither(b) or _is_red_triangle(b) and _is_neither(a)) and d < distance
        for a, b, d in _pairwise_distances(scene)
    )


def _red_triangle_rule(scene: KandinskyScene) -> bool:
    return _red_triangle_near_partner(scene, CLOSEBY_DISTANCE)


def _red_triangle_positive(rng: np.random.Generator) -> KandinskyScene:
    partner = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))  # square/circle, yellow/blue
    pair = _diagonal_pair(rng, (TRIANGLE, RED), partner, NSFR_FIXED_SIZE)
    return _figure(rng, _random_attributes(rng, 4), NSFR_FIXED_SIZE, fixed=pair)


def _red_triangle_negative(rng: np.random.Generator) -> KandinskyScene:
    def make(r: np.random.Generator) -> KandinskyScene:
        return _figure(r, [(TRIANGLE, RED)] + _random_attributes(r, 5), NSFR_FIXED_SIZE)

    return _until(
        rng, "red-triangle", "figure with a lonely red triangle", make,
        lambda scene: not _red_triangle_near_partner(scene, RED_TRIANGLE_CLEARANCE),
    )


def _online_pair_rule(scene: KandinskyScene) -> bool:
    return online(scene.objects, ONLINE_TOLERANCE) and _has_twin(scene)


def _line_through_centre(rng: np.random.Generator) -> Proposal:
    angle = rng.uniform(0.0, math.pi)
    dx, dy = math.cos(angle), math.sin(angle)
    reach = max(abs(dx), abs(dy))

    def propose(r: np.random.Generator, size: float, count: int) -> tuple[list[float], list[float]]:
        limit = (0.5 - size / 2) / reach
        t = r.uniform(-limit, limit, count)
        return (0.5 + t * dx).tolist(), (0.5 + t * dy).tolist()

    return propose


def _online_pair_positive(rng: np.random.Generator) -> KandinskyScene:
    attrs = _until(
        rng, "online-pair", "figure with a twin", lambda r: _random_attributes(r, 5),
        lambda a: len(set(a)) < len(a),
    )
    return _figure(rng, attrs, NSFR_SIZES, propose=_line_through_centre(rng))


def _online_pair_negative(rng: np.random.Generator) -> KandinskyScene:
    if rng.random() < 0.5:
        combos = rng.choice(9, 5, replace=False)
        attrs = [(int(k) // 3, int(k) % 3) for k in combos]
        return _figure(rng, attrs, NSFR_SIZES, propose=_line_through_centre(rng))
    return _until(
        rng, "online-pair", "figure off a line",
        lambda r: _figure(r, _random_attributes(r, 5), NSFR_SIZES),
        lambda scene: not online(scene.objects, ONLINE_TOLERANCE),
    )


PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern("onered", 4, "4 objects; at least one object is red", _onered_rule, _onered_positive, _onered_negative),
        Pattern(
            "onetriangle", 4, "4 objects; at least one object is a triangle",
            _onetriangle_rule, _onetriangle_positive, _onetriangle_negative,
        ),
        Pattern(
            "twopairs", 4,
            "4 objects that form two pairs of equal shape: one pair of one colour, the other of two colours",
            _twopairs_rule, _twopairs_positive, _pairs_negative("twopairs", 4, _twopairs_rule),
        ),
        Pattern(
            "threepairs", 6,
            "6 objects that form three pairs of equal shape: one pair of one colour, two pairs of two colours",
            _threepairs_rule, _threepairs_positive, _pairs_negative("threepairs", 6, _threepairs_rule),
        ),
        Pattern(
            "closeby", 4, "4 objects; two of them are close by (centres less than 0.1875 image widths apart)",
            _closeby_rule, _closeby_positive, _closeby_negative,
        ),
        Pattern(
            "red-triangle", 6,
            "6 objects; a red triangle is close by (centre distance < 0.1875) an object that is neither red "
            "nor a triangle",
            _red_triangle_rule, _red_triangle_positive, _red_triangle_negative,
        ),
        Pattern(
            "online-pair", 5,
            "5 objects; all centres lie on one straight line and two objects share both shape and colour",
            _online_pair_rule, _online_pair_positive, _online_pair_negative,
        ),
    )
}
