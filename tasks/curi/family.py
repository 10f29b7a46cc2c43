"""The CURI task family: concepts of one split, episodes from the scene bank, CLEVR-like renders.

``CuriFamily(split="iid")`` serves CURI's nine splits (curi.md §6). Concept ids are the
zero-padded index of the concept in the pool file (alphabetical order of the strings, as
CURI's own ids), e.g. ``"07043"``; ``concept_text`` gives the CURI string.

``confounded=True`` is CURI-Hans, the confounded variant of Pix2Code's revision experiment
(pix2code.md §9.1): only concepts that never mention colour; in the support set every object
of every positive is recoloured to one colour drawn per episode and the negatives' objects of
that colour get another colour, so "has that colour" explains the support perfectly while the
query set stays unconfounded.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from tasks.base import SceneEpisode, TaskFamily, shuffled_episode
from tasks.curi import render, scenes
from tasks.curi.episodes import QUERY_NEGATIVES, QUERY_POSITIVES, EpisodeSampler, log_linear_weights
from tasks.curi.evaluate import Objects, evaluate_concept
from tasks.curi.pool import Pool, load_pool
from tasks.curi.splits import SUBSETS, check_split, split_indices

OBJECT_FEATURES = (
    *(f"shape={s}" for s in scenes.SHAPES),
    *(f"color={c}" for c in scenes.COLORS),
    *(f"material={m}" for m in scenes.MATERIALS),
    *(f"size={s}" for s in scenes.SIZES),
    "px/240",
    "py/160",
    "depth/16",
    "rotation/360",
)


OPTIONS = ("split", "confounded")


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


_BLOCKS = (("shape", scenes.SHAPES), ("color", scenes.COLORS), ("material", scenes.MATERIALS), ("size", scenes.SIZES))


def decode_object_table(objects: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """The inverse of :func:`object_table` on padded ``(N, K, 19)`` tables with ``(N, K)`` masks.

    Returns int64 ``(N, K)`` arrays: ``shape``, ``color``, ``material``, ``size`` (indices into
    the ``scenes`` tuples) and the pixel centre ``px``, ``py``; -1 where the mask is off. Pixels
    are recovered as round(v * 240) / round(v * 160): float32 keeps them exact to well under half
    a pixel, so location bins computed from them match the scene's.
    """
    objects = np.asarray(objects, dtype=np.float64)
    mask = np.asarray(mask).astype(bool)
    if objects.ndim != 3 or objects.shape[-1] != len(OBJECT_FEATURES) or mask.shape != objects.shape[:2]:
        raise ValueError(
            f"expected CURI object tables (N, K, {len(OBJECT_FEATURES)}) and a mask (N, K); "
            f"got {objects.shape} and {mask.shape}"
        )
    codes, start = {}, 0
    for name, values in _BLOCKS:
        codes[name] = objects[..., start : start + len(values)].argmax(axis=-1)
        start += len(values)
    codes["px"] = np.rint(objects[..., start] * scenes.IMAGE_WIDTH).astype(np.int64)
    codes["py"] = np.rint(objects[..., start + 1] * scenes.IMAGE_HEIGHT).astype(np.int64)
    return {name: np.where(mask, code, -1) for name, code in codes.items()}


def mentions_color(text: str) -> bool:
    tokens = set(text.split(" "))
    return "color?" in tokens or not tokens.isdisjoint(scenes.COLORS)


class CuriFamily(TaskFamily):
    """CURI (Vedantam et al., ICML 2021) re-created procedurally; see ``tasks/curi``."""

    name = "curi"
    version = 0
    subsets = SUBSETS
    object_features = OBJECT_FEATURES
    max_objects = scenes.MAX_OBJECTS
    image_shape = (scenes.IMAGE_HEIGHT, scenes.IMAGE_WIDTH)
    image_side_range = (render.MIN_SIZE, render.MAX_SIZE)

    def __init__(self, split: str = "iid", confounded: bool = False, **unknown: object) -> None:
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} for the curi family; expected {list(OPTIONS)}")
        if not isinstance(confounded, bool):
            raise TypeError(f"confounded must be a bool, got {confounded!r}")
        self.split = check_split(split)
        self.confounded = confounded
        self._subset_cache: dict[str, tuple[np.ndarray, np.ndarray, tuple[str, ...], frozenset[str]]] = {}

    def __getstate__(self) -> dict[str, object]:
        """Pickle the options only: a worker process rebuilds the pool and bank it needs."""
        return {"split": self.split, "confounded": self.confounded}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @functools.cached_property
    def pool(self) -> Pool:
        return load_pool()

    @functools.cached_property
    def sampler(self) -> EpisodeSampler:
        return _sampler(self.pool)

    def _subset(self, subset: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], frozenset[str]]:
        """Pool indices, episode-prior weights, ids and id set of a subset (computed once)."""
        if subset not in self._subset_cache:
            idx = split_indices(self.split, self.check_subset(subset), self.pool)
            if self.confounded:
                idx = np.array([i for i in idx if not mentions_color(self.pool.concepts[i])], dtype=np.int64)
            ids = tuple(f"{i:05d}" for i in idx)
            self._subset_cache[subset] = (idx, log_linear_weights(self.pool.lengths[idx]), ids, frozenset(ids))
        return self._subset_cache[subset]

    def concept_ids(self, subset: str) -> tuple[str, ...]:
        return self._subset(subset)[2]

    def check_concept(self, concept_id: str, subset: str) -> str:
        if isinstance(concept_id, str) and concept_id in self._subset(self.check_subset(subset))[3]:
            return concept_id
        return super().check_concept(concept_id, subset)  # raises the family-wide error

    def _pool_index(self, concept_id: str) -> int:
        if not isinstance(concept_id, str) or not concept_id.isdigit() or int(concept_id) >= len(self.pool):
            raise ValueError(
                f"unknown CURI concept id {concept_id!r}; expected a 5-digit pool index below {len(self.pool)}"
            )
        return int(concept_id)

    def concept_text(self, concept_id: str) -> str:
        return self.pool.concepts[self._pool_index(concept_id)]

    def query_size(self, subset: str) -> tuple[int, int]:
        self.check_subset(subset)
        return (QUERY_POSITIVES, QUERY_NEGATIVES)

    def sample_concept(self, rng: np.random.Generator, subset: str) -> str:
        """A concept of the subset under CURI's log-linear prior, P(h) ~ exp(-0.2 * token length)."""
        idx, weights, _, _ = self._subset(subset)
        if idx.size == 0:
            raise ValueError(
                f"split {self.split!r} has no {subset} concepts"
                + (" that leave colour out (CURI-Hans needs them)" if self.confounded else "")
            )
        return f"{int(idx[rng.choice(idx.size, p=weights)]):05d}"

    def sample_episode(self, rng: np.random.Generator, concept_id: str, subset: str) -> SceneEpisode:
        self.check_concept(concept_id, subset)
        concept = self._pool_index(concept_id)
        ids = self.sampler.sample(rng, concept)
        batch = self.sampler.bank.batch
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
def _sampler(pool: Pool) -> EpisodeSampler:
    """One sampler (hence one scene bank) per process, shared by every split's family."""
    return EpisodeSampler(pool)
