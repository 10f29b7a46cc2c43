"""Rejection sampling of positive and negative figures for RelKP clauses (kandinsky.md §5, §10.6).

A figure is proposed as attribute codes first (shape, colour, continuous size), the clause is
checked on a whole batch of proposals at once, and only accepted proposals pay for placement.
RelKP clauses do not look at positions, so this gives the same figures as "draw a complete
figure, keep it if the clause has the wanted value", except that a size shrunk during placement
could change a size class: such a figure is checked again and rejected if its label flipped.

Proposals carry the reference's boosts, which make rare figures reachable:

* positives of all-object clauses: with p = 0.1 all objects get one colour if a non-negated
  ``same_color`` occurs, and likewise (independently) one shape for ``same_shape``;
* negatives of any clause: with p = 0.1 all objects get one colour for ``not_same_color``, one
  shape for ``not_same_shape``, and with p = 0.5 one size value (hence one class) for
  ``not_same_size``.

Every figure allows at most 10,000 proposals; running out raises :class:`SamplingError`.
"""

from __future__ import annotations

import math

import numpy as np

from tasks.kandinsky.clauses import AllObjectsClause, Clause, Literal
from tasks.kandinsky.placement import place_objects
from tasks.kandinsky.predicates import Codes
from tasks.kandinsky.universe import (
    COLORS,
    SHAPES,
    KandinskyObject,
    KandinskyScene,
    size_classes,
    size_range,
)

MAX_TRIES = 10_000
POSITIVE_BOOSTS = {"same_color": 0.1, "same_shape": 0.1}
NEGATIVE_BOOSTS = {"same_color": 0.1, "same_shape": 0.1, "same_size": 0.5}
_MIN_BATCH, _MAX_BATCH = 16, 4096


class SamplingError(RuntimeError):
    """A figure with the wanted label was not found within the proposal budget."""


def boosts(clause: Clause, label: bool) -> tuple[tuple[str, float], ...]:
    """The (predicate, probability) pairs whose 'make all equal' boost applies to this sampler."""
    if label:
        if not isinstance(clause, AllObjectsClause):
            return ()
        return tuple((p, prob) for p, prob in POSITIVE_BOOSTS.items() if Literal(p, False) in clause.literals)
    return tuple((p, prob) for p, prob in NEGATIVE_BOOSTS.items() if Literal(p, True) in clause.literals)


def propose(
    rng: np.random.Generator, n_objects: int, forced: tuple[tuple[str, float], ...], batch: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``batch`` random figures as (shape codes, colour codes, sizes), each ``(batch, n_objects)``."""
    low, high = size_range(n_objects)
    shapes = rng.integers(0, len(SHAPES), (batch, n_objects), dtype=np.int8)
    colors = rng.integers(0, len(COLORS), (batch, n_objects), dtype=np.int8)
    sizes = rng.uniform(low, high, (batch, n_objects))
    for predicate, probability in forced:
        hit = rng.random(batch) < probability
        target = {"same_color": colors, "same_shape": shapes, "same_size": sizes}[predicate]
        target[hit] = target[hit, :1]  # the first object's value is uniform, so this is a random one
    return shapes, colors, sizes


def codes_of(shapes: np.ndarray, colors: np.ndarray, sizes: np.ndarray) -> Codes:
    return Codes(shapes, colors, size_classes(sizes))


def scene_codes(scene: KandinskyScene) -> Codes:
    """A one-figure batch of codes for a scene."""
    shapes = np.array([[SHAPES.index(o.shape) for o in scene.objects]], dtype=np.int8)
    colors = np.array([[COLORS.index(o.color) for o in scene.objects]], dtype=np.int8)
    sizes = np.array([[o.size for o in scene.objects]])
    return codes_of(shapes, colors, sizes)


def acceptance_rate(rng: np.random.Generator, clause: Clause, label: bool, draws: int) -> float:
    """Fraction of boosted proposals (before placement) whose clause value equals ``label``."""
    shapes, colors, sizes = propose(rng, clause.n_objects, boosts(clause, label), draws)
    return float(np.mean(clause.evaluate(codes_of(shapes, colors, sizes)) == label))


def _placed_scene(
    rng: np.random.Generator, clause: Clause, label: bool, shapes: np.ndarray, colors: np.ndarray, sizes: np.ndarray
) -> KandinskyScene | None:
    footprints = place_objects(rng, shapes.tolist(), sizes.tolist())
    final_sizes = np.array([fp.size for fp in footprints])
    if not np.array_equal(size_classes(final_sizes), size_classes(sizes)):
        recheck = codes_of(shapes[None], colors[None], final_sizes[None])
        if bool(clause.evaluate(recheck)[0]) != label:
            return None
    return KandinskyScene(
        tuple(
            KandinskyObject(SHAPES[s], COLORS[c], fp.size, fp.x, fp.y)
            for s, c, fp in zip(shapes.tolist(), colors.tolist(), footprints)
        )
    )


def sample_scenes(
    rng: np.random.Generator, clause: Clause, label: bool, count: int, max_tries: int = MAX_TRIES
) -> list[KandinskyScene]:
    """``count`` independent figures whose clause value is ``label``, by boosted rejection sampling."""
    forced = boosts(clause, label)
    found: list[KandinskyScene] = []
    tries = proposed = 0  # tries: proposals since the last accepted figure
    while len(found) < count:
        rate = (len(found) + 1) / (proposed + 2)
        batch = int(min(_MAX_BATCH, max(_MIN_BATCH, math.ceil(1.25 * (count - len(found)) / rate))))
        shapes, colors, sizes = propose(rng, clause.n_objects, forced, batch)
        hits = np.flatnonzero(clause.evaluate(codes_of(shapes, colors, sizes)) == label)
        last = -1
        for row in hits.tolist():
            tries += row - last
            last = row
            if tries > max_tries:
                break
            scene = _placed_scene(rng, clause, label, shapes[row], colors[row], sizes[row])
            if scene is not None:
                found.append(scene)
                tries = 0
                if len(found) == count:
                    break
        else:
            tries += batch - 1 - last
        proposed += batch
        if tries >= max_tries:
            kind = "positive" if label else "negative"
            raise SamplingError(
                f"no {kind} figure for concept {clause.name!r} within {max_tries} proposals "
                f"(found {len(found)} of {count})"
            )
    return found
