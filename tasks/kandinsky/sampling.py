"""Rejection sampling of positive and negative figures for RelKP clauses (kandinsky.md §5, §10.6).

As Pix2Code's generator does, a figure is drawn whole — every object placed with its attributes
(:func:`tasks.kandinsky.figures.random_figures`) — and kept when the clause has the wanted value
on it. Batches of figures are drawn and judged at once.

Figures carry the reference's boosts, which make rare figures reachable; like the reference, they
edit a finished figure before it is judged:

* positives of all-object clauses: with p = 0.1 all objects get one colour if a non-negated
  ``same_color`` occurs, and likewise (independently) one shape for ``same_shape``;
* negatives of any clause: with p = 0.1 all objects get one colour for ``not_same_color``, one
  shape for ``not_same_shape``, and with p = 0.5 one size value (hence one class) for
  ``not_same_size``.

One deviation: an edit that changes shapes or sizes can make objects overlap; the reference keeps
such figures, we discard them (no figure ever shows overlapping objects). The size boost draws
the common size from the figure's own size range (the reference always uses the 4-object range).

Every figure allows at most 10,000 draws; running out raises :class:`SamplingError`.
"""

from __future__ import annotations

import math

import numpy as np

from tasks.kandinsky.clauses import AllObjectsClause, Clause, Literal
from tasks.kandinsky.figures import Figures, overlapping, random_figures
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
    """``batch`` unplaced figures as (shape codes, colour codes, sizes), each ``(batch, n_objects)``:
    attributes only, uniform, with the boosts; for probing clauses' truth tables, not for episodes."""
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


def figure_codes(figures: Figures) -> Codes:
    return codes_of(figures.shape, figures.color, figures.size)


def scene_codes(scene: KandinskyScene) -> Codes:
    """A one-figure batch of codes for a scene."""
    shapes = np.array([[SHAPES.index(o.shape) for o in scene.objects]], dtype=np.int8)
    colors = np.array([[COLORS.index(o.color) for o in scene.objects]], dtype=np.int8)
    sizes = np.array([[o.size for o in scene.objects]])
    return codes_of(shapes, colors, sizes)


def boost(rng: np.random.Generator, figures: Figures, forced: tuple[tuple[str, float], ...]) -> tuple[Figures, np.ndarray]:
    """Apply the boosts to finished figures: (edited figures, which of them are still valid)."""
    n = figures.shape.shape[1]
    shape, color, size = figures.shape.copy(), figures.color.copy(), figures.size.copy()
    moved = np.zeros(len(figures), dtype=bool)
    for predicate, probability in forced:
        hit = rng.random(len(figures)) < probability
        if predicate == "same_color":
            color[hit] = rng.integers(0, len(COLORS), hit.sum(), dtype=np.int8)[:, None]
        elif predicate == "same_shape":
            shape[hit] = rng.integers(0, len(SHAPES), hit.sum(), dtype=np.int8)[:, None]
            moved |= hit
        else:
            low, high = size_range(n)
            size[hit] = rng.uniform(low, high, hit.sum())[:, None]
            moved |= hit
    edited = Figures(shape, color, size, figures.x, figures.y)
    valid = np.ones(len(figures), dtype=bool)
    rows = np.flatnonzero(moved)
    if rows.size:
        valid[rows] = ~overlapping(edited.take(rows))
    return edited, valid


def acceptance_rate(rng: np.random.Generator, clause: Clause, label: bool, figures: Figures) -> float:
    """Fraction of boosted random figures (``figures``, placed, of the clause's object count)
    that are valid and whose clause value equals ``label``."""
    edited, valid = boost(rng, figures, boosts(clause, label))
    return float(np.mean(valid & (clause.evaluate(figure_codes(edited)) == label)))


def _scene(figures: Figures, row: int) -> KandinskyScene:
    return KandinskyScene(
        tuple(
            KandinskyObject(SHAPES[s], COLORS[c], float(z), float(x), float(y))
            for s, c, z, x, y in zip(
                figures.shape[row].tolist(), figures.color[row].tolist(), figures.size[row], figures.x[row], figures.y[row]
            )
        )
    )


def sample_scenes(
    rng: np.random.Generator, clause: Clause, label: bool, count: int, max_tries: int = MAX_TRIES
) -> list[KandinskyScene]:
    """``count`` independent figures whose clause value is ``label``, by boosted rejection sampling."""
    forced = boosts(clause, label)
    found: list[KandinskyScene] = []
    tries = proposed = 0  # tries: figures drawn since the last accepted one
    while len(found) < count:
        rate = (len(found) + 1) / (proposed + 2)
        batch = int(min(_MAX_BATCH, max(_MIN_BATCH, math.ceil(1.25 * (count - len(found)) / rate))))
        figures, valid = boost(rng, random_figures(rng, clause.n_objects, batch), forced)
        hits = np.flatnonzero(valid & (clause.evaluate(figure_codes(figures)) == label))
        last = -1
        for row in hits.tolist():
            tries += row - last
            last = row
            if tries > max_tries:
                break
            found.append(_scene(figures, row))
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
