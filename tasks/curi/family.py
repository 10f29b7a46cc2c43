"""The CURI task family: concepts of one split, episodes from the scene bank, CLEVR-like renders.

``CuriFamily(split="iid")`` serves CURI's nine splits (curi.md §6). Concept ids are five-digit
ids into the family's pool: by default the *generated* pool (its position in alphabetical
order; our 07043 is not CURI's hypothesis 7043), or, with ``concept_list``, CURI's own ids from
its released list (there 07043 is "all cubes"). ``concept_text`` gives the CURI string,
``describe_concept`` an English sentence.

``confounded=True`` is CURI-Hans, the confounded variant of Pix2Code's revision experiment
(pix2code.md §9.1): only concepts that never mention colour; in the support set every object
of every positive is recoloured to one colour drawn per episode and the negatives' objects of
that colour get another colour, so "has that colour" explains the support perfectly while the
query set stays unconfounded.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence

import numpy as np

from tasks.base import SceneEpisode, TaskFamily, shuffled_episode
from tasks.schema import Column, schema_from
from tasks.curi import render, scenes
from tasks.curi.concept_list import ENV_VARIABLE, load_concept_list, load_train_ids
from tasks.curi.english import describe
from tasks.curi.episodes import QUERY_NEGATIVES, QUERY_POSITIVES, EpisodeSampler, log_linear_weights
from tasks.curi.evaluate import Objects, evaluate_concept
from tasks.curi.pool import Pool, load_pool
from tasks.curi.splits import SUBSETS, check_split, split_indices

OBJECT_SCHEMA = schema_from(
    "curi",
    {"shape": scenes.SHAPES, "color": scenes.COLORS, "material": scenes.MATERIALS, "size": scenes.SIZES},
    (
        Column("px/240", "px", "number", scale=scenes.IMAGE_WIDTH, unit="pixels", bins=scenes.LOCATION_BINS,
               description="x of the projected centre from the left edge; CURI's x bin is floor(v * 8)"),
        Column("py/160", "py", "number", scale=scenes.IMAGE_HEIGHT, unit="pixels", bins=scenes.LOCATION_BINS,
               description="y of the projected centre from the top edge; CURI's y bin is floor(v * 8)"),
        Column("depth/16", "depth", "number", scale=scenes.DEPTH_NORM, unit="camera depth",
               description="distance of the centre from the camera along its axis"),
        Column("rotation/360", "rotation", "number", scale=360.0, unit="degrees",
               description="rotation about the vertical axis"),
    ),
    scenes.MAX_OBJECTS,
)
OBJECT_FEATURES = OBJECT_SCHEMA.names


OPTIONS = ("split", "confounded", "concept_list", "train_ids")
_MAX_CONCEPT_DRAWS = 1000


def object_table(scene: scenes.CuriScene) -> np.ndarray:
    """CURI's 19-d schema rows (curi.md §2.6), one per object, float32."""
    rows = np.zeros((len(scene.objects), len(OBJECT_FEATURES)), dtype=np.float32)
    offsets = (0, len(scenes.SHAPES), len(scenes.COLORS), len(scenes.MATERIALS), len(scenes.SIZES))
    starts = np.cumsum(offsets)
    for k, obj in enumerate(scene.objects):
        rows[k, starts[0] + scenes.SHAPES.index(obj.shape)] = 1.0
        rows[k, starts[1] + scenes.COLORS.index(obj.color)] = 1.0
        rows[k, starts[2] + scenes.MATERIALS.index(obj.material)] = 1.0
        rows[k, starts[3] + scenes.SIZES.index(obj.size)] = 1.0
        rows[k, 15] = obj.px / scenes.IMAGE_WIDTH
        rows[k, 16] = obj.py / scenes.IMAGE_HEIGHT
        rows[k, 17] = obj.depth / scenes.DEPTH_NORM
        rows[k, 18] = obj.rotation / 360.0
    return rows


def decode_object_table(objects: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """The inverse of :func:`object_table` on padded ``(N, K, 19)`` tables with ``(N, K)`` masks.

    Returns int64 ``(N, K)`` arrays: ``shape``, ``color``, ``material``, ``size`` (indices into
    the ``scenes`` tuples) and the pixel centre ``px``, ``py``; -1 where the mask is off. Pixels
    are recovered as round(v * 240) / round(v * 160): float32 keeps them exact to well under half
    a pixel, so location bins computed from them match the scene's.
    """
    codes = OBJECT_SCHEMA.decode(objects, mask)
    out = {name: codes[name] for name in OBJECT_SCHEMA.categorical}
    for name in ("px", "py"):
        out[name] = np.where(np.isnan(codes[name]), -1, np.rint(np.nan_to_num(codes[name], nan=-1.0))).astype(np.int64)
    return out


def mentions_color(text: str) -> bool:
    tokens = set(text.split(" "))
    return "color?" in tokens or not tokens.isdisjoint(scenes.COLORS)


class CuriFamily(TaskFamily):
    """CURI (Vedantam et al., ICML 2021) re-created procedurally; see ``tasks/curi``.

    Options: ``split`` (one of CURI's nine), ``confounded`` (CURI-Hans), ``concept_list`` (a
    ``hyp_to_id.json``-style file whose concepts and ids replace the generated pool; default
    ``$PIX2CODE_CURI_CONCEPT_LIST``) and ``train_ids`` (the training concepts: a list of ids or
    Pix2Code's ``task_id_dict_filtered.json``; needs ``concept_list``).
    """

    name = "curi"
    version = 0
    subsets = SUBSETS
    object_schema = OBJECT_SCHEMA
    fixed_aspect = True
    environment_variables = (ENV_VARIABLE,)
    max_objects = scenes.MAX_OBJECTS
    image_shape = (scenes.IMAGE_HEIGHT, scenes.IMAGE_WIDTH)
    image_side_range = (render.MIN_SIZE, render.MAX_SIZE)

    def __init__(
        self,
        split: str = "iid",
        confounded: bool = False,
        concept_list: str | None = None,
        train_ids: str | list[int] | None = None,
        **unknown: object,
    ) -> None:
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} for the curi family; expected {list(OPTIONS)}")
        if not isinstance(confounded, bool):
            raise TypeError(f"confounded must be a bool, got {confounded!r}")
        self.split = check_split(split)
        self.confounded = confounded
        self.concept_list = concept_list if concept_list is not None else os.environ.get(ENV_VARIABLE) or None
        if train_ids is not None and self.concept_list is None:
            raise ValueError(
                "train_ids name concepts of CURI's released list (Pix2Code's ids index it); "
                f"give concept_list too (or set ${ENV_VARIABLE})"
            )
        self.train_ids = None if train_ids is None else load_train_ids(train_ids, self.split)
        if self.concept_list is not None:
            self.pool  # validate the list now: a bad file must stop the env from being made
        self._init_args = {"split": split, "confounded": confounded, "concept_list": self.concept_list,
                           "train_ids": None if train_ids is None else list(self.train_ids)}
        self._subset_cache: dict[str, tuple[np.ndarray, np.ndarray, tuple[str, ...], frozenset[str]]] = {}

    @property
    def options(self) -> dict[str, object]:
        return {
            "split": self.split,
            "confounded": self.confounded,
            "concepts": self.pool.source,
            "train_ids": None if self.train_ids is None else list(self.train_ids),
        }

    @property
    def content_key(self) -> dict[str, object]:
        """Concept ids index the generated pool or a concept list: the list's digest says which."""
        return {"family": self.name, "concepts": self.pool.source}

    def __getstate__(self) -> dict[str, object]:
        """Pickle the options only: a worker process rebuilds the pool and bank it needs."""
        return dict(self._init_args)

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @functools.cached_property
    def pool(self) -> Pool:
        return load_pool() if self.concept_list is None else load_concept_list(self.concept_list)

    def sampler(self, subset: str) -> EpisodeSampler:
        """The episode sampler of a subset (it holds the subset's scene bank)."""
        return _sampler(self.pool, self.check_subset(subset))

    def _subset(self, subset: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], frozenset[str]]:
        """Pool indices, episode-prior weights, ids and id set of a subset (computed once)."""
        if subset not in self._subset_cache:
            idx = self._indices(self.check_subset(subset))
            if self.confounded:
                idx = np.array([i for i in idx if not mentions_color(self.pool.concepts[i])], dtype=np.int64)
            ids = tuple(self._id(i) for i in idx)
            self._subset_cache[subset] = (idx, log_linear_weights(self.pool.lengths[idx]), ids, frozenset(ids))
        return self._subset_cache[subset]

    def _indices(self, subset: str) -> np.ndarray:
        """The split's concepts of a subset; with ``train_ids``, the training concepts are those,
        and val / test leave out every concept that means the same as one of them."""
        idx = split_indices(self.split, subset, self.pool)
        if self.train_ids is None:
            return idx
        position = self.pool.position
        unknown = [i for i in self.train_ids if i not in position]
        if unknown:
            raise ValueError(f"train_ids: concept id {unknown[0]} is not in the concept list {self.concept_list}")
        train = np.array(sorted(position[i] for i in self.train_ids), dtype=np.int64)
        if subset == "train":
            return train
        held_out = set(idx.tolist())
        if self.split not in ("iid", "comp"):
            inside = [int(self.pool.ids[i]) for i in train if i in held_out]
            if inside:
                raise ValueError(f"train_ids: concept id {inside[0]} is a {subset} concept of split {self.split!r}")
        classes = set(self.pool.denotation[train].tolist())
        return np.array([i for i in idx if self.pool.denotation[i] not in classes], dtype=np.int64)

    def _id(self, index: int) -> str:
        return f"{self.pool.ids[index]:05d}"

    def concept_ids(self, subset: str) -> tuple[str, ...]:
        return self._subset(subset)[2]

    def check_concept(self, concept_id: str, subset: str) -> str:
        if isinstance(concept_id, str) and concept_id in self._subset(self.check_subset(subset))[3]:
            return concept_id
        return super().check_concept(concept_id, subset)  # raises the family-wide error

    def _pool_index(self, concept_id: str) -> int:
        index = self.pool.position.get(int(concept_id)) if isinstance(concept_id, str) and concept_id.isdigit() else None
        if index is None:
            raise ValueError(
                f"unknown CURI concept id {concept_id!r}; expected a 5-digit id of the "
                f"{'generated pool' if self.concept_list is None else 'concept list ' + self.concept_list}"
            )
        return index

    def concept_text(self, concept_id: str) -> str:
        return self.pool.concepts[self._pool_index(concept_id)]

    def describe_concept(self, concept_id: str) -> str:
        return describe(self.concept_text(concept_id))

    def query_size(self, subset: str) -> tuple[int, int]:
        self.check_subset(subset)
        return (QUERY_POSITIVES, QUERY_NEGATIVES)

    def sample_concept(self, rng: np.random.Generator, subset: str) -> str:
        """A concept of the subset under CURI's log-linear prior, P(h) ~ exp(-0.2 * token length),
        among those the subset's scene bank can give an episode of (drawn again otherwise)."""
        idx, weights, _, _ = self._subset(subset)
        if idx.size == 0:
            raise ValueError(
                f"split {self.split!r} has no {subset} concepts"
                + (" that leave colour out (CURI-Hans needs them)" if self.confounded else "")
            )
        sampler = self.sampler(subset)
        for _ in range(_MAX_CONCEPT_DRAWS):
            concept = int(idx[rng.choice(idx.size, p=weights)])
            if sampler.sampleable(concept):
                return self._id(concept)
        raise ValueError(f"no sampleable {subset} concept of split {self.split!r} in {_MAX_CONCEPT_DRAWS} draws")

    def sample_episode(self, rng: np.random.Generator, concept_id: str, subset: str) -> SceneEpisode:
        self.check_concept(concept_id, subset)
        concept = self._pool_index(concept_id)
        sampler = self.sampler(subset)
        ids = sampler.sample(rng, concept)
        batch = sampler.bank.batch
        support_pos = [batch.scene(int(i)) for i in ids.support_positives]
        support_neg = [batch.scene(int(i)) for i in ids.support_negatives]
        if self.confounded:
            support_pos, support_neg = self._confound(rng, concept, support_pos, support_neg)
        return shuffled_episode(
            rng,
            concept_id,
            support_pos,
            support_neg,
            [batch.scene(int(i)) for i in ids.query_positives],
            [batch.scene(int(i)) for i in ids.query_negatives],
        )

    def _confound(
        self,
        rng: np.random.Generator,
        concept: int,
        positives: list[scenes.CuriScene],
        negatives: list[scenes.CuriScene],
    ) -> tuple[list[scenes.CuriScene], list[scenes.CuriScene]]:
        """Recolour the support: positives all in one colour, negatives never in it."""
        text = self.pool.concepts[concept]
        color = scenes.COLORS[int(rng.integers(len(scenes.COLORS)))]
        others = [c for c in scenes.COLORS if c != color]
        new_pos = [_recolor(s, [color] * len(s.objects)) for s in positives]
        new_neg = []
        for s in negatives:
            colors = [o.color if o.color != color else others[int(rng.integers(len(others)))] for o in s.objects]
            new_neg.append(_recolor(s, colors))
        truth = evaluate_concept(text, Objects.from_scenes(new_pos + new_neg))
        if not truth[: len(new_pos)].all() or truth[len(new_pos) :].any():
            raise RuntimeError(f"recolouring changed the labels of concept {text!r}, which must not mention colour")
        return new_pos, new_neg

    def render(self, scene: scenes.CuriScene, height: int, width: int) -> np.ndarray:
        return render.render_scene(scene, height, width)

    def render_many(self, scenes_: Sequence[scenes.CuriScene], height: int, width: int) -> np.ndarray:
        """One batched call: the renderer amortises its set-up over an episode's 50 images."""
        return render.render_scenes(list(scenes_), height, width)

    def object_table(self, scene: scenes.CuriScene) -> np.ndarray:
        return object_table(scene)

    def satisfies(self, concept_id: str, scene: scenes.CuriScene) -> bool:
        return bool(evaluate_concept(self.concept_text(concept_id), Objects.from_scenes([scene]))[0])


def _recolor(scene: scenes.CuriScene, colors: list[str]) -> scenes.CuriScene:
    objects = tuple(dataclasses.replace(o, color=c) for o, c in zip(scene.objects, colors))
    return dataclasses.replace(scene, objects=objects)


@functools.lru_cache(maxsize=None)
def _sampler(pool: Pool, subset: str) -> EpisodeSampler:
    """One sampler per (pool, subset) and process, shared by every split's family."""
    return EpisodeSampler(pool, subset)
