"""What every task family provides, so that one environment class can serve them all.

A family turns a seeded ``numpy.random.Generator`` into a :class:`SceneEpisode`: scenes and
labels, no pixels. Rendering and object tables are separate calls, so an agent that reads
object tables never pays for images and the fingerprinting code sees one uniform shape.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.schema import ObjectSchema

SUPPORT_POSITIVES = 5
SUPPORT_NEGATIVES = 20


@dataclass(frozen=True)
class SceneEpisode:
    """One few-shot episode as ground truth: scenes (family-specific objects) and labels.

    Support and query scenes are already shuffled; labels are ``uint8`` 0/1 arrays aligned
    with the scenes.
    """

    concept_id: str
    support_scenes: tuple[Any, ...]
    support_labels: np.ndarray
    query_scenes: tuple[Any, ...]
    query_labels: np.ndarray

    def __post_init__(self) -> None:
        for name in ("support", "query"):
            scenes, labels = getattr(self, f"{name}_scenes"), getattr(self, f"{name}_labels")
            if len(scenes) != len(labels):
                raise ValueError(f"{name}: {len(scenes)} scenes but {len(labels)} labels")


class TaskFamily(abc.ABC):
    """A task family: its concepts, how it samples episodes, renders scenes and tabulates objects.

    Subclasses are pure functions of the generator they are given: no global random state,
    no clocks, no file writes. ``version`` changes whenever a seed would produce a different
    episode, and the environment ids built on the family change their ``-vN`` with it.
    """

    name: str
    version: int
    subsets: tuple[str, ...]
    object_schema: ObjectSchema
    max_objects: int
    image_shape: tuple[int, int]  # default (height, width) in pixels
    image_side_range: tuple[int, int] = (16, 640)  # smallest and largest side the renderer draws
    fixed_aspect: bool = False  # images must keep image_shape's aspect ratio (objects are laid out for it)
    #: environment variables the family reads for option defaults: families built under different
    #: values differ, so :func:`tasks.make_family` caches them apart
    environment_variables: tuple[str, ...] = ()

    @property
    def object_features(self) -> tuple[str, ...]:
        """The names of the object-table columns (see :attr:`object_schema`)."""
        return self.object_schema.names

    @property
    def options(self) -> dict[str, Any]:
        """The options that make this family what it is, as JSON values (part of every stream key)."""
        return {}

    @property
    def content_key(self) -> dict[str, Any]:
        """What an episode's concept ids mean, for its content fingerprint: the family name, and
        the digest of any external concept list the ids index into."""
        return {"family": self.name}

    def stream_key(self, subset: str) -> tuple[int, ...]:
        """Entropy words naming (family, version, options, subset): each subset of each variant
        draws its episodes from its own random stream, never from the seed alone."""
        text = json.dumps(
            {"family": self.name, "version": self.version, "options": self.options, "subset": self.check_subset(subset)},
            sort_keys=True,
        )
        digest = hashlib.sha256(text.encode()).digest()
        return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))

    @abc.abstractmethod
    def concept_ids(self, subset: str) -> tuple[str, ...]:
        """The concept ids of one subset, in a fixed order."""

    @abc.abstractmethod
    def concept_text(self, concept_id: str) -> str:
        """The concept's definition in the family's own language (revealed only on request)."""

    def describe_concept(self, concept_id: str) -> str:
        """The concept in plain English (for titles and tables); families whose definitions are
        not already English override this."""
        return self.concept_text(concept_id)

    @abc.abstractmethod
    def query_size(self, subset: str) -> tuple[int, int]:
        """(positives, negatives) in the query set of an episode of ``subset``."""

    @abc.abstractmethod
    def sample_concept(self, rng: np.random.Generator, subset: str) -> str:
        """Draw a concept id of ``subset`` (uniformly, or with the family's episode prior)."""

    @abc.abstractmethod
    def sample_episode(self, rng: np.random.Generator, concept_id: str, subset: str) -> SceneEpisode:
        """Sample a support set (5 positives, 20 negatives) and a query set for a concept."""

    @abc.abstractmethod
    def render(self, scene: Any, height: int, width: int) -> np.ndarray:
        """Draw a scene as an ``(height, width, 3)`` uint8 RGB array."""

    def render_many(self, scenes: Sequence[Any], height: int, width: int) -> np.ndarray:
        """Draw several scenes as an ``(n, height, width, 3)`` uint8 batch.

        Families whose renderer amortises set-up over a batch override this; the default loops.
        """
        images = np.empty((len(scenes), height, width, 3), dtype=np.uint8)
        for i, scene in enumerate(scenes):
            images[i] = self.render(scene, height, width)
        return images

    @abc.abstractmethod
    def object_table(self, scene: Any) -> np.ndarray:
        """The scene's objects as ``(n_objects, len(object_features))`` float32 rows."""

    @abc.abstractmethod
    def satisfies(self, concept_id: str, scene: Any) -> bool:
        """Ground truth: whether a scene is a member of the concept."""

    # Shared validation, so every family reports bad names the same way.
    def check_subset(self, subset: str) -> str:
        if subset not in self.subsets:
            raise ValueError(
                f"unknown subset {subset!r} for the {self.name} family; expected one of {list(self.subsets)}"
            )
        return subset

    def check_concept(self, concept_id: str, subset: str) -> str:
        ids = self.concept_ids(self.check_subset(subset))
        if not isinstance(concept_id, str):
            raise TypeError(f"a concept id is a string, got {concept_id!r}")
        if concept_id not in set(ids):
            elsewhere = [other for other in self.subsets if other != subset and concept_id in set(self.concept_ids(other))]
            where = f"subset {subset!r}" + (f" (it belongs to subset(s) {elsewhere})" if elsewhere else "")
            raise ValueError(
                f"unknown concept {concept_id!r} for the {self.name} family, {where}; "
                f"expected one of the subset's {len(ids)} concept ids (e.g. {list(ids[:3])})"
            )
        return concept_id


def shuffled_episode(
    rng: np.random.Generator,
    concept_id: str,
    support_pos: Sequence[Any],
    support_neg: Sequence[Any],
    query_pos: Sequence[Any],
    query_neg: Sequence[Any],
) -> SceneEpisode:
    """Assemble an episode from its four scene lists, shuffling support and query order."""

    def mix(pos: Sequence[Any], neg: Sequence[Any]) -> tuple[tuple[Any, ...], np.ndarray]:
        scenes = list(pos) + list(neg)
        labels = np.array([1] * len(pos) + [0] * len(neg), dtype=np.uint8)
        order = rng.permutation(len(scenes))
        return tuple(scenes[i] for i in order), labels[order]

    s_scenes, s_labels = mix(support_pos, support_neg)
    q_scenes, q_labels = mix(query_pos, query_neg)
    return SceneEpisode(concept_id, s_scenes, s_labels, q_scenes, q_labels)
