"""CURI's mAP (curi.md §7.2): a fixed pool of test-bank scenes that every episode's classifier
scores, and average precision against the episode's true concept.

CURI's pool draws 3 scenes (seed 42) from the extension of each of its 14,929 concepts, so every
episode's concept has positives in it. Ours keeps that guarantee at a size whose scores fit in a
submission: per split (env), ``per_concept`` scenes drawn with a fixed seed from the test-bank
extension of every concept that the suite's episodes of that env test (a few hundred scenes for
200 episodes). A submission stores each episode's pool scores as dense ranks, which is all AP
depends on, so ``verify`` recomputes every AP instead of trusting it.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from leaderboard.suites import (
    SUITES, EnvPlan, Suite, check_pool_source, concept_list_environment, resolve_concept_list,
)
from pix2code_env.episode import object_tables, render_images
from tasks.curi.bank import cache_dir
from tasks.curi.evaluate import evaluate_concept

SHIPPED_POOLS = Path(__file__).resolve().parent / "data" / "pools-v0.json"
RANK_ENCODING = "zlib+base64 of uint16 little-endian dense ranks (0 = lowest score; equal scores share a rank)"


@dataclass(frozen=True)
class PoolSpec:
    """Where an env's pool comes from: enough for any process to rebuild its scenes."""

    env_id: str
    subset: str
    indices: tuple[int, ...]  # sorted scene indices into the subset's scene bank
    family_options: tuple[tuple[str, object], ...] = ()

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.env_id, self.subset, list(self.indices)]).encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.indices)


def pool_seed(seed: int, pool_index: int) -> np.random.Generator:
    """Each concept's draw has its own stream, so the pool does not depend on concept order."""
    return np.random.default_rng([seed, pool_index])


def pool_indices(env_id: str, subset: str, concept_ids: list[str], per_concept: int, seed: int,
                 family_options: dict[str, object] | None = None) -> tuple[int, ...]:
    """``per_concept`` distinct test-bank scenes from each concept's extension, pooled and sorted."""
    family = gym.make(env_id, subset=subset, modality="scene", family_options=family_options or None).unwrapped.family
    sampler = family.sampler(subset)
    chosen: set[int] = set()
    for concept_id in sorted(set(concept_ids)):
        index = family.pool.position[int(concept_id)]
        chosen.update(int(i) for i in sampler.members(pool_seed(seed, index), index, per_concept))
    return tuple(sorted(chosen))


def _cache_file(key: str) -> Path:
    return cache_dir() / f"leaderboard-pool-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def shipped_pools() -> dict[str, list[int]]:
    try:
        return json.loads(SHIPPED_POOLS.read_text())
    except (OSError, ValueError):
        return {}


def stored_indices(key: str, build: Callable[[], tuple[int, ...]]) -> tuple[int, ...]:
    """A pool's scene indices: shipped with the package, else from the disk cache beside the scene
    banks, else built (by resetting every planned episode of the env) and cached."""
    shipped = shipped_pools().get(key)
    if shipped is not None:
        return tuple(shipped)
    path = _cache_file(key)
    try:
        data = json.loads(path.read_text())
        if data["key"] == key:
            return tuple(data["indices"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    indices = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"key": key, "indices": list(indices)}))
        os.replace(partial, path)
    except OSError:
        pass
    return indices


class ScenePool:
    """A pool's scenes in one process: observation views per modality and per-concept truth."""

    def __init__(self, spec: PoolSpec) -> None:
        self.spec = spec
        env = gym.make(spec.env_id, subset=spec.subset, modality="scene", family_options=dict(spec.family_options) or None)
        self.family = env.unwrapped.family
        self.image_shape = env.unwrapped.image_shape
        bank = self.family.sampler(spec.subset).bank
        ids = np.asarray(spec.indices, dtype=np.int64)
        self.objects = bank.objects.take(ids)
        self.scenes = tuple(bank.batch.scene(int(i)) for i in ids)

    @functools.lru_cache(maxsize=4)
    def view(self, modality: str, image_shape: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
        """The pool as a query view (the keys a classifier's ``scores`` reads)."""
        view: dict[str, np.ndarray] = {}
        if modality in ("scene", "both"):
            view["query_objects"], view["query_object_mask"] = object_tables(self.family, self.scenes)
        if modality in ("image", "both"):
            height, width = image_shape or self.image_shape
            view["query_images"] = render_images(self.family, self.scenes, height, width)
        return view

    @functools.lru_cache(maxsize=256)
    def truth(self, concept_id: str) -> np.ndarray:
        """Whether each pool scene belongs to the concept (the AP ground truth)."""
        return np.asarray(evaluate_concept(self.family.concept_text(concept_id), self.objects), dtype=bool)


@functools.lru_cache(maxsize=16)
def scene_pool(spec: PoolSpec) -> ScenePool:
    return ScenePool(spec)


# ----------------------------------------------------------------------------- ranks and AP


def dense_ranks(scores: np.ndarray) -> np.ndarray:
    """0 for the lowest score, equal scores share a rank: the order AP sees, nothing more."""
    values = np.asarray(scores, dtype=np.float64)
    _, inverse = np.unique(values, return_inverse=True)
    if inverse.size and inverse.max() >= 2**16:
        raise ValueError(f"a pool of {values.size} scenes with more than 65,536 distinct scores cannot be stored")
    return inverse.astype(np.uint16)


def encode_ranks(ranks: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.asarray(ranks, dtype="<u2").tobytes(), 9)).decode("ascii")


def decode_ranks(text: str, size: int) -> np.ndarray:
    """The inverse of :func:`encode_ranks`; ValueError when the text is not ``size`` ranks."""
    try:
        raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, zlib.error, UnicodeEncodeError) as error:
        raise ValueError(f"pool ranks are not {RANK_ENCODING} ({error})") from None
    ranks = np.frombuffer(raw, dtype="<u2")
    if ranks.size != size:
        raise ValueError(f"pool ranks hold {ranks.size} values; the pool has {size} scenes")
    return ranks.astype(np.int64)


def average_precision(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision as scikit-learn computes it (a step function over distinct thresholds,
    ties counted together): sum over thresholds of (recall gain) x precision. None without positives."""
    truth = np.asarray(truth, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if truth.shape != scores.shape:
        raise ValueError(f"{truth.shape[0]} labels but {scores.shape[0]} scores")
    positives = int(truth.sum())
    if positives == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(ranked) != 0), ranked.size - 1]  # last index of each tie group
    tp = np.cumsum(hits)[last]
    precision = tp / (last + 1)
    recall = tp / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def build_indices(suite: Suite, plan: EnvPlan, family_options: dict[str, object]) -> tuple[int, ...]:
    """An env's pool from scratch: the concepts of all its planned episodes (reset, object tables only)."""
    assert suite.map_pool is not None
    env = gym.make(plan.env_id, subset=plan.subset, modality="scene", family_options=family_options or None)
    concepts = [env.reset(seed=spec.seed, options=spec.options)[1]["concept_id"] for spec in plan.specs()]
    return pool_indices(plan.env_id, plan.subset, concepts, suite.map_pool.per_concept, suite.map_pool.seed,
                        family_options)


def pool_key(suite: Suite, env_id: str, source: str) -> str:
    """What a cached pool depends on: the suite (name, version, pool parameters), the env and the concept pool."""
    assert suite.map_pool is not None
    return json.dumps([suite.name, suite.version, env_id, source, suite.map_pool.per_concept, suite.map_pool.seed])


def suite_pool_specs(suite: Suite, concept_list: str | None = None) -> dict[str, PoolSpec]:
    """Each CURI env's pool for a suite with ``map_pool`` (empty otherwise), from the disk cache or built:
    the concepts come from resetting every planned episode of the env (object tables only)."""
    if suite.map_pool is None:
        return {}
    family_options = suite.family_options(concept_list)
    specs = {}
    with concept_list_environment(concept_list):
        for plan in suite.envs:
            env = gym.make(plan.env_id, subset=plan.subset, modality="scene", family_options=family_options or None)
            source = check_pool_source(suite, env.unwrapped.family)
            if env.unwrapped.family.name != "curi":
                continue  # mAP is CURI's metric: other families have no scene bank to pool

            indices = stored_indices(pool_key(suite, plan.env_id, source),
                                     functools.partial(build_indices, suite, plan, family_options))
            specs[plan.env_id] = PoolSpec(plan.env_id, plan.subset, indices, tuple(sorted(family_options.items())))
            env.close()
    return specs


def main(argv: list[str] | None = None) -> int:
    """``python -m leaderboard.pool [--concept-list PATH]``: write the pools of every suite with a
    ``map_pool`` to the package's data file (suites on CURI's list only when the list is given)."""
    parser = argparse.ArgumentParser(prog="python -m leaderboard.pool", description=main.__doc__.splitlines()[0])
    parser.add_argument("--concept-list", default=None)
    args = parser.parse_args(argv)
    table: dict[str, list[int]] = {}
    for suite in SUITES.values():
        if suite.map_pool is None or (suite.needs_concept_list and not args.concept_list):
            continue
        concept_list = resolve_concept_list(suite, args.concept_list)
        for env_id, spec in suite_pool_specs(suite, concept_list).items():
            with concept_list_environment(concept_list):
                family = gym.make(env_id, subset=spec.subset, family_options=dict(spec.family_options) or None)
                table[pool_key(suite, env_id, family.unwrapped.family.pool.source)] = list(spec.indices)
            print(f"{suite.name} {env_id}: {len(spec)} scenes")
    SHIPPED_POOLS.parent.mkdir(parents=True, exist_ok=True)
    merged = sorted({**shipped_pools(), **table}.items())
    SHIPPED_POOLS.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in merged) + "\n}\n")
    print(f"{len(table)} pools -> {SHIPPED_POOLS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
