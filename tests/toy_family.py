"""A tiny deterministic task family (Jumanji-style dummy generator) for testing the env contract."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.base import TaskFamily, shuffled_episode
from tasks.schema import Column, schema_from

COLORS = {"red": (200, 40, 40), "blue": (40, 40, 200)}


@dataclass(frozen=True)
class Dot:
    color: str
    x: float
    y: float


class ToyFamily(TaskFamily):
    name = "toy"
    version = 0
    subsets = ("train", "test")
    object_schema = schema_from(
        "toy", {"color": ("red", "blue")}, (Column("x", "x", "number"), Column("y", "y", "number")), 3
    )
    max_objects = 3
    image_shape = (32, 48)
    concepts = {"has-red": lambda dots: any(d.color == "red" for d in dots),
                "all-red": lambda dots: all(d.color == "red" for d in dots)}

    def concept_ids(self, subset):
        self.check_subset(subset)
        return tuple(self.concepts)

    def concept_text(self, concept_id):
        return f"toy concept {concept_id}"

    def query_size(self, subset):
        return (5, 20) if subset == "train" else (8, 12)

    def sample_concept(self, rng, subset):
        ids = self.concept_ids(subset)
        return ids[int(rng.integers(len(ids)))]

    def _scene(self, rng):
        n = int(rng.integers(1, 4))
        return tuple(Dot(str(rng.choice(list(COLORS))), float(rng.random()), float(rng.random())) for _ in range(n))

    def _sample(self, rng, concept_id, label, count):
        found = []
        while len(found) < count:
            scene = self._scene(rng)
            if self.satisfies(concept_id, scene) == label:
                found.append(scene)
        return found

    def sample_episode(self, rng, concept_id, subset):
        qp, qn = self.query_size(subset)
        return shuffled_episode(
            rng, concept_id,
            self._sample(rng, concept_id, True, 5), self._sample(rng, concept_id, False, 20),
            self._sample(rng, concept_id, True, qp), self._sample(rng, concept_id, False, qn),
        )

    def render(self, scene, height, width):
        image = np.full((height, width, 3), 215, dtype=np.uint8)
        for dot in scene:
            r, c = int(dot.y * (height - 4)), int(dot.x * (width - 4))
            image[r:r + 4, c:c + 4] = COLORS[dot.color]
        return image

    def object_table(self, scene):
        return np.array([[d.color == "red", d.color == "blue", d.x, d.y] for d in scene], dtype=np.float32)

    def satisfies(self, concept_id, scene):
        return bool(self.concepts[concept_id](scene))


def make_toy_env(**kwargs):
    from pix2code_env.env import ConceptEnv

    return ConceptEnv(family=ToyFamily(), **kwargs)
