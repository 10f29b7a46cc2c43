"""The Kandinsky task family: RelKP clause concepts, or one classic pattern, as a TaskFamily."""

from __future__ import annotations

from typing import Any

import numpy as np

from tasks.base import SUPPORT_NEGATIVES, SUPPORT_POSITIVES, SceneEpisode, TaskFamily, shuffled_episode
from tasks.kandinsky.clauses import Clause, parse_concept
from tasks.schema import Column, schema_from
from tasks.kandinsky.concept_list import load_concepts
from tasks.kandinsky.patterns import PATTERNS
from tasks.kandinsky.render import render_scene
from tasks.kandinsky.sampling import sample_scenes, scene_codes
from tasks.kandinsky.universe import COLORS, SHAPES, SIZE_CLASSES, KandinskyScene

CONCEPT_LISTS = ("relkp",)
QUERY_SIZES = {"train": (5, 20), "test": (40, 160)}  # kandinsky.md §6
OPTIONS = ("concepts", "pattern")


class KandinskyFamily(TaskFamily):
    """Kandinsky figures: 2–6 non-overlapping triangles, squares and circles in red, yellow, blue.

    ``KandinskyFamily()`` is RelKP: 200 relational clause concepts such as
    ``3_not_same_shape_and_same_color`` or ``4_pair1_same_shape_pair2_not_same_color``, 100 in
    "train" and 100 in "test" (``data/relkp_v0.json``). ``KandinskyFamily(pattern="onered")`` is
    one classic pattern (onered, onetriangle, twopairs, threepairs, closeby, red-triangle,
    online-pair) whose concept id is its name, in both subsets.

    Episodes have 5 positive and 20 negative support figures; the query has 5 + 20 figures in
    "train" and 40 + 160 in "test". Object tables have one row per object: one-hot shape,
    colour and size class, then the centre (x, y) in [0, 1] from the top-left, and the size s
    (a fraction of the image side).
    """

    name = "kandinsky"
    version = 0
    subsets = ("train", "test")
    object_schema = schema_from(
        "kandinsky",
        {"shape": SHAPES, "color": COLORS, "size": SIZE_CLASSES},
        (
            Column("x", "x", "number", unit="image width", description="centre, from the left edge"),
            Column("y", "y", "number", unit="image height", description="centre, from the top edge"),
            Column("s", "s", "number", unit="image width",
                   description="size s: a square's side is 0.6 s, a circle has the same area, a triangle's circumradius is 0.404 s"),
        ),
        6,
    )
    max_objects = 6
    image_shape = (128, 128)

    def __init__(self, concepts: str = "relkp", pattern: str | None = None, **unknown: Any) -> None:
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} for the kandinsky family; expected {list(OPTIONS)}")
        if concepts not in CONCEPT_LISTS:
            raise ValueError(
                f"unknown concept list {concepts!r} for the kandinsky family; expected one of {list(CONCEPT_LISTS)}"
            )
        if pattern is not None and pattern not in PATTERNS:
            raise ValueError(f"unknown Kandinsky pattern {pattern!r}; expected one of {list(PATTERNS)} or None (RelKP)")
        self.concepts, self.pattern = concepts, pattern
        self._clauses: dict[str, Clause] = {}
        if pattern is None:
            listing = load_concepts()
            self._ids = {"train": tuple(e.id for e in listing.train), "test": tuple(e.id for e in listing.test)}
            self._clauses = {cid: parse_concept(cid) for ids in self._ids.values() for cid in ids}
        else:
            self._ids = {subset: (pattern,) for subset in self.subsets}

    @property
    def options(self) -> dict[str, Any]:
        return {"concepts": self.concepts, "pattern": self.pattern}

    def __repr__(self) -> str:
        return f"KandinskyFamily(concepts={self.concepts!r}, pattern={self.pattern!r})"

    def concept_ids(self, subset: str) -> tuple[str, ...]:
        return self._ids[self.check_subset(subset)]

    def _known(self, concept_id: str) -> str:
        if concept_id in self._clauses or concept_id == self.pattern:
            return concept_id
        known = list(self._clauses) if self.pattern is None else [self.pattern]
        raise ValueError(
            f"unknown concept {concept_id!r} for {self!r}; expected one of its {len(known)} concept ids "
            f"(e.g. {known[:3]})"
        )

    def concept_text(self, concept_id: str) -> str:
        self._known(concept_id)
        if self.pattern is not None:
            return PATTERNS[self.pattern].text
        return self._clauses[concept_id].text

    def query_size(self, subset: str) -> tuple[int, int]:
        return QUERY_SIZES[self.check_subset(subset)]

    def sample_concept(self, rng: np.random.Generator, subset: str) -> str:
        ids = self.concept_ids(subset)
        return ids[int(rng.integers(len(ids)))]

    def sample_episode(self, rng: np.random.Generator, concept_id: str, subset: str) -> SceneEpisode:
        self.check_concept(concept_id, subset)
        query_pos, query_neg = self.query_size(subset)
        positives = self._sample(rng, concept_id, True, SUPPORT_POSITIVES + query_pos)
        negatives = self._sample(rng, concept_id, False, SUPPORT_NEGATIVES + query_neg)
        return shuffled_episode(
            rng, concept_id,
            positives[:SUPPORT_POSITIVES], negatives[:SUPPORT_NEGATIVES],
            positives[SUPPORT_POSITIVES:], negatives[SUPPORT_NEGATIVES:],
        )  # fmt: skip

    def _sample(self, rng: np.random.Generator, concept_id: str, label: bool, count: int) -> list[KandinskyScene]:
        if self.pattern is not None:
            return PATTERNS[self.pattern].sample(rng, label, count)
        return sample_scenes(rng, self._clauses[concept_id], label, count)

    def render(self, scene: Any, height: int, width: int) -> np.ndarray:
        return render_scene(_check_scene(scene), height, width)

    def object_table(self, scene: Any) -> np.ndarray:
        table = np.zeros((len(_check_scene(scene)), len(self.object_features)), dtype=np.float32)
        for row, obj in zip(table, scene.objects):
            row[SHAPES.index(obj.shape)] = 1.0
            row[3 + COLORS.index(obj.color)] = 1.0
            row[6 + SIZE_CLASSES.index(obj.size_class)] = 1.0
            row[9:] = (obj.x, obj.y, obj.size)
        return table

    def satisfies(self, concept_id: str, scene: Any) -> bool:
        self._known(concept_id)
        scene = _check_scene(scene)
        if self.pattern is not None:
            return bool(PATTERNS[self.pattern].rule(scene))
        clause = self._clauses[concept_id]
        if len(scene) != clause.n_objects:
            raise ValueError(f"concept {concept_id!r} is about {clause.n_objects} objects, the scene has {len(scene)}")
        return bool(clause.evaluate(scene_codes(scene))[0])


def _check_scene(scene: Any) -> KandinskyScene:
    if not isinstance(scene, KandinskyScene):
        raise TypeError(f"expected a KandinskyScene, got {type(scene).__name__}")
    return scene
