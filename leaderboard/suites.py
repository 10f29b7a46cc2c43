"""Suites: named, versioned sets of episodes (env id, subset, seed, reset options) that every
submission to the leaderboard is scored on.

A suite is data (:data:`SUITE_TABLE`), so two people who name the same suite and version run the
same episodes. Changing what a suite holds (ids, seeds, pool sizes) means bumping its version:
submissions name the version they were made for and ``pix2code leaderboard verify`` refuses the
others.

``map_pool`` turns on CURI's second metric (mAP, curi.md §7.2) for the suite: each episode's
classifier also scores a fixed pool of test-bank scenes, ``per_concept`` scenes drawn with a
fixed ``seed`` from the extension of each concept the suite tests on that split
(:mod:`leaderboard.pool`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pix2code_env.registration import CURI_SPLITS, KANDINSKY_PATTERNS
from tasks.curi.concept_list import ENV_VARIABLE as CONCEPT_LIST_VARIABLE

CURI_ENV_IDS = tuple(f"Pix2Code-CURI-{name}-v0" for name in CURI_SPLITS)
CURI_MAP_POOL = {"per_concept": 3, "seed": 42}

#: Every suite as plain data. ``envs``: (env id, subset, episodes) where episodes is
#: ``{"seeds": N}`` (seeds 0..N-1, concept drawn from the seed) or ``{"concepts": "all"}`` (one
#: episode per concept of the subset, seed = the concept's index, options {"concept": id}).
SUITE_TABLE: dict[str, dict[str, Any]] = {
    "curi-v0": {
        "version": 0,
        "description": "CURI's nine splits, test subset, 200 episodes each (generated concept pool)",
        "envs": [(env_id, "test", {"seeds": 200}) for env_id in CURI_ENV_IDS],
        "map_pool": CURI_MAP_POOL,
    },
    "curi-official-v0": {
        "version": 0,
        "description": "curi-v0 on CURI's released concept list (hyp_to_id.json; --concept-list or "
                       f"${CONCEPT_LIST_VARIABLE})",
        "envs": [(env_id, "test", {"seeds": 200}) for env_id in CURI_ENV_IDS],
        "map_pool": CURI_MAP_POOL,
        "concept_list": True,
    },
    "kandinsky-v0": {
        "version": 0,
        "description": "the 100 RelKP test concepts, one episode each (40 + 160 queries)",
        "envs": [("Pix2Code-Kandinsky-v0", "test", {"concepts": "all"})],
    },
    "kandinsky-classic-v0": {
        "version": 0,
        "description": "the 7 classic Kandinsky patterns, test subset, 20 episodes each",
        "envs": [(f"Pix2Code-Kandinsky-{name}-v0", "test", {"seeds": 20}) for name in KANDINSKY_PATTERNS],
    },
    "curi-hans-v0": {
        "version": 0,
        "description": "CURI-Hans (colour-confounded support sets), test subset, 200 episodes",
        "envs": [("Pix2Code-CURIHans-v0", "test", {"seeds": 200})],
        "map_pool": CURI_MAP_POOL,
    },
    "smoke": {
        "version": 0,
        "description": "a few episodes of three ids, for tests and the demo",
        "envs": [
            ("Pix2Code-CURI-v0", "test", {"seeds": 4}),
            ("Pix2Code-CURI-Counting-v0", "test", {"seeds": 3}),
            ("Pix2Code-Kandinsky-OneRed-v0", "test", {"seeds": 2}),
        ],
        "map_pool": {"per_concept": 2, "seed": 42},
    },
}


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode of a suite: what the env is reset with."""

    env_id: str
    subset: str
    seed: int
    options: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """A stable text key (journals and verification match records by it)."""
        return json.dumps([self.env_id, self.subset, self.seed, self.options], sort_keys=True)

    def to_json(self) -> dict[str, Any]:
        return {"env_id": self.env_id, "subset": self.subset, "seed": self.seed, "options": self.options}


@dataclass(frozen=True)
class EnvPlan:
    env_id: str
    subset: str
    episodes: dict[str, Any]

    def specs(self, limit: int | None = None) -> list[EpisodeSpec]:
        if "seeds" in self.episodes:
            specs = [EpisodeSpec(self.env_id, self.subset, seed) for seed in range(int(self.episodes["seeds"]))]
        else:
            specs = [EpisodeSpec(self.env_id, self.subset, i, {"concept": concept})
                     for i, concept in enumerate(_concept_ids(self.env_id, self.subset))]
        return specs if limit is None else specs[:limit]


@dataclass(frozen=True)
class MapPoolSpec:
    per_concept: int
    seed: int


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    envs: tuple[EnvPlan, ...]
    map_pool: MapPoolSpec | None = None
    needs_concept_list: bool = False

    @property
    def env_ids(self) -> list[str]:
        return [plan.env_id for plan in self.envs]

    def episodes(self, limit: int | None = None) -> list[EpisodeSpec]:
        """The suite's episodes in their fixed order; ``limit``: the first N of each env."""
        if limit is not None and limit < 1:
            raise ValueError(f"--episodes must be a positive number of episodes per env, got {limit}")
        return [spec for plan in self.envs for spec in plan.specs(limit)]

    def family_options(self, concept_list: str | None) -> dict[str, Any]:
        """The env's family options for this suite: CURI's released list only where the suite is on it."""
        return {"concept_list": concept_list} if self.needs_concept_list else {}

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def _concept_ids(env_id: str, subset: str) -> tuple[str, ...]:
    from pix2code_env.registration import env_spec
    from tasks import make_family

    spec = env_spec(env_id)
    return make_family(spec.family, **spec.family_options).concept_ids(subset)


def _suite(name: str, data: dict[str, Any]) -> Suite:
    pool = data.get("map_pool")
    return Suite(
        name=name,
        version=int(data["version"]),
        description=data["description"],
        envs=tuple(EnvPlan(env_id, subset, episodes) for env_id, subset, episodes in data["envs"]),
        map_pool=None if pool is None else MapPoolSpec(int(pool["per_concept"]), int(pool["seed"])),
        needs_concept_list=bool(data.get("concept_list", False)),
    )


SUITES: dict[str, Suite] = {name: _suite(name, data) for name, data in SUITE_TABLE.items()}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; expected one of {list(SUITES)}")
    return SUITES[name]


def resolve_concept_list(suite: Suite, given: str | None) -> str | None:
    """The concept-list path a suite runs on: the flag, else ``$PIX2CODE_CURI_CONCEPT_LIST``,
    for suites on CURI's released list; None for the others (they always use the generated pool)."""
    if not suite.needs_concept_list:
        return None
    path = given or os.environ.get(CONCEPT_LIST_VARIABLE) or None
    if path is None:
        raise ValueError(
            f"suite {suite.name!r} runs on CURI's released concept list, which is not part of this package: "
            f"pass --concept-list PATH/hyp_to_id.json or set ${CONCEPT_LIST_VARIABLE}"
        )
    if not os.path.isfile(path):
        raise ValueError(f"concept list {path!r} (suite {suite.name!r}) is not a file; expected CURI's hyp_to_id.json")
    return os.path.abspath(path)


@contextlib.contextmanager
def concept_list_environment(concept_list: str | None) -> Iterator[None]:
    """Run with ``$PIX2CODE_CURI_CONCEPT_LIST`` set to the suite's list, or unset for suites on the
    generated pool: the CURI family (and agents such as the oracles) read it when no list is given,
    and a suite must not change meaning with the user's environment."""
    saved = os.environ.get(CONCEPT_LIST_VARIABLE)
    if concept_list is None:
        os.environ.pop(CONCEPT_LIST_VARIABLE, None)
    else:
        os.environ[CONCEPT_LIST_VARIABLE] = concept_list
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(CONCEPT_LIST_VARIABLE, None)
        else:
            os.environ[CONCEPT_LIST_VARIABLE] = saved


def check_pool_source(suite: Suite, family: Any) -> str:
    """The concept pool an env of the suite is on ("generated" or "list:<SHA-256>"), checked
    against the suite: a CURI env made earlier in this process under another list is refused."""
    source = getattr(getattr(family, "pool", None), "source", None) if getattr(family, "name", "") == "curi" else None
    if source is None:
        return "none"
    if suite.needs_concept_list != source.startswith("list:"):
        want = "CURI's released list" if suite.needs_concept_list else "the generated pool"
        raise ValueError(f"suite {suite.name!r} runs on {want}, but this process's CURI family uses {source!r}; "
                         f"run it in a fresh process")
    return source
