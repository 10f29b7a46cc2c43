"""Scenes as attribute tables: the form in which a domain hands scenes to the evaluators and the
search."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np


class SceneTable:
    """Scenes as per-slot attribute columns: what both evaluators need from a domain.

    ``mask[s, k]`` says whether slot ``k`` of scene ``s`` holds an object; ``categorical[name]``
    is an ``(N, K)`` array of value names' indices (into ``CATEGORIES[category]``) for accessor
    ``name``; ``integer[name]`` an ``(N, K)`` int array; ``x``, ``y``, ``s`` optional float
    arrays of positions and sizes for spatial relations; ``derived[name]`` an integer column
    computed from the others on demand (the paper DSL's object vectors), so that scenes drawn by
    resampling attributes keep it consistent.
    """

    def __init__(
        self,
        mask: np.ndarray,
        categorical: dict[str, tuple[str, np.ndarray]],
        integer: dict[str, np.ndarray],
        continuous: dict[str, np.ndarray] | None = None,
        derived: Mapping[str, Callable[[SceneTable], np.ndarray]] | None = None,
    ) -> None:
        self.mask = np.asarray(mask, dtype=bool)
        if self.mask.ndim != 2:
            raise ValueError(f"mask must be (scenes, slots), got shape {self.mask.shape}")
        self.n_scenes, self.n_slots = self.mask.shape
        self.categorical = categorical
        self.integer = integer
        self.continuous = continuous or {}
        self.derived = dict(derived or {})
        self._derived: dict[str, np.ndarray] = {}

    def column(self, name: str) -> np.ndarray:
        """An integer or derived column ``(N, K)``; KeyError when the scenes have none of that name."""
        if name in self.integer:
            return self.integer[name]
        if name not in self._derived:
            self._derived[name] = np.asarray(self.derived[name](self), dtype=np.int64)
        return self._derived[name]

    def take(self, rows: Sequence[int] | np.ndarray) -> SceneTable:
        rows = np.asarray(rows, dtype=np.int64)
        return SceneTable(
            self.mask[rows],
            {k: (c, a[rows]) for k, (c, a) in self.categorical.items()},
            {k: a[rows] for k, a in self.integer.items()},
            {k: a[rows] for k, a in self.continuous.items()},
            self.derived,
        )

    @staticmethod
    def concatenate(tables: Sequence[SceneTable]) -> SceneTable:
        if not tables:
            raise ValueError("need at least one table to concatenate")
        first = tables[0]
        return SceneTable(
            np.concatenate([t.mask for t in tables]),
            {k: (c, np.concatenate([t.categorical[k][1] for t in tables])) for k, (c, _) in first.categorical.items()},
            {k: np.concatenate([t.integer[k] for t in tables]) for k in first.integer},
            {k: np.concatenate([t.continuous[k] for t in tables]) for k in first.continuous},
            first.derived,
        )
