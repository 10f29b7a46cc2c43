"""Synthetic scenes for estimating how large a program's extension is.

The size principle needs |ext(h)| relative to the space of scenes, but an agent sees only 25
labelled support scenes, chosen to be informative, and their statistics are far from those of
the scene space: when a concept mentions metal, its positives are metal and its hard negatives
(members of the alternatives "all objects are metal", ...) mostly are too. Counting extensions
on scenes resampled from those objects then cannot tell "some cylinder" from "some cylinder and
everything metal".

The pool is therefore built from what the observation's *schema* says rather than from the
support's statistics wherever it can be: every categorical attribute takes each value its
one-hot block declares with equal probability, independently per object (the maximum-entropy
choice, and exactly how both CURI and Kandinsky draw colours, shapes, materials and sizes).
Positions have no schema-given distribution (CURI's rows are far from uniform), so the
*layout* columns (positions, and sizes that go with them) of each object are copied from an
independently drawn observed object — from reference scenes when the caller has some (e.g. a
prior gathered from earlier episodes), else from the support — and object counts from an
observed scene. Drawing objects independently breaks up a concept's co-occurrences (every
positive having some object in row 6) but keeps the marginal bias of the support's objects,
which is why reference scenes help.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from agents.pix2code.dsl.primitives import CATEGORIES
from agents.pix2code.dsl.scene_table import SceneTable


def synthetic_scenes(
    table: SceneTable,
    rng: np.random.Generator,
    n_scenes: int,
    attribute_values: Mapping[str, Sequence[str]],
    layout: Sequence[str],
    reference: SceneTable | None = None,
) -> SceneTable:
    """``n_scenes`` scenes whose object counts are those of random scenes of ``table``.

    Each object's ``layout`` columns come from a random object of ``reference`` (default
    ``table``), taken from a reference scene with the same object count when there is one (in
    Kandinsky figures the size range depends on the count); every categorical column ``name``
    is uniform over ``attribute_values[name]``.
    """
    if n_scenes < 0:
        raise ValueError(f"n_scenes must be non-negative, got {n_scenes}")
    reference = table if reference is None else reference
    columns = set(table.categorical) | set(table.integer) | set(table.continuous)
    missing = columns - set(layout) - set(attribute_values)
    if missing:
        raise ValueError(f"columns {sorted(missing)} are neither layout nor categorical attributes with known values")
    if set(reference.categorical) != set(table.categorical) or reference.n_slots != table.n_slots:
        raise ValueError("reference scenes must come from the same domain as the observed ones")
    counts = table.mask.sum(axis=1)
    counts = counts[counts > 0]
    if counts.size == 0:
        raise ValueError("cannot draw synthetic scenes from a table without objects")
    rows, cols = np.nonzero(reference.mask)
    if rows.size == 0:
        raise ValueError("the reference scenes hold no objects")
    k = table.n_slots
    sizes = rng.choice(counts, size=n_scenes)
    mask = np.arange(k)[None, :] < sizes[:, None]
    shape = mask.shape
    # objects of reference scenes with the same count, or of all reference scenes
    ref_counts = reference.mask.sum(axis=1)[rows]
    pick = np.empty(shape, dtype=np.int64)
    for m in np.unique(sizes):
        which = sizes == m
        pool = np.flatnonzero(ref_counts == m)
        if pool.size == 0:
            pool = np.arange(rows.size)
        pick[which] = pool[rng.integers(0, pool.size, size=(int(which.sum()), k))]
    source_rows, source_cols = rows[pick], cols[pick]

    def copied(values: np.ndarray) -> np.ndarray:
        return values[source_rows, source_cols]

    categorical = {}
    for name, (category, codes) in table.categorical.items():
        if name in layout:
            categorical[name] = (category, copied(reference.categorical[name][1]))
            continue
        allowed = np.array([CATEGORIES[category].index(v) for v in attribute_values[name]], dtype=codes.dtype)
        categorical[name] = (category, allowed[rng.integers(0, allowed.size, size=shape)])
    return SceneTable(
        mask,
        categorical,
        {n: copied(a) for n, a in reference.integer.items()},
        {n: copied(a) for n, a in reference.continuous.items()},
        table.derived,
    )
