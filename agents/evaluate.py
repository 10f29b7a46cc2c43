"""Run an agent through an environment for N seeded episodes and score it.

This is the small, serial loop that tests, the demo and benchmarks share; the leaderboard's
harness (process pools, Ray, journals, submissions) builds on the same per-episode record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import pix2code_env  # noqa: F401  (registers the ids)
from agents.base import Agent, SequentialPlayer, query_view, support_view
from agents.registry import make_agent
from pix2code_env.scoring import ScoreSummary, bootstrap_ci


@dataclass(frozen=True)
class EpisodeRecord:
    """What one episode produced: enough to re-score it and to audit a program."""

    seed: int
    concept_id: str
    concept: str | None  # the concept's text, when the env reveals it
    fingerprint: str
    score: float
    predictions: tuple[int, ...]
    program: str | None
    explanation: str | None  # the program in English, when the agent says it
    fallback: str | None  # the classifier's own report when it answered with a default
    diagnostics: dict[str, Any]
    seconds: float


@dataclass(frozen=True)
class Evaluation:
    env_id: str
    agent: str
    subset: str
    records: tuple[EpisodeRecord, ...]

    @property
    def scores(self) -> np.ndarray:
        return np.array([record.score for record in self.records])

    @property
    def mean(self) -> float:
        return float(self.scores.mean())

    def summary(self, confidence: float = 0.95) -> ScoreSummary:
        return bootstrap_ci(self.scores, confidence=confidence)


def play_episode(env: gym.Env, agent: Agent, seed: int, options: dict[str, Any] | None = None) -> EpisodeRecord:
    """Reset ``env`` with ``seed``, let ``agent`` answer every query, and record the outcome."""
    start = time.perf_counter()
    obs, info = env.reset(seed=seed, options=options)
    if isinstance(env.action_space, gym.spaces.Discrete):
        player = SequentialPlayer(agent)
        terminated, answers = False, []
        while not terminated:
            answer = player.act(obs)
            answers.append(answer)
            obs, _, terminated, _, step_info = env.step(answer)
        predictions = np.array(answers, dtype=np.int8)
        classifier = player.classifier
    else:
        classifier = agent.fit(support_view(obs))
        predictions = np.asarray(classifier.predict(query_view(obs)), dtype=np.int8)
        _, _, _, _, step_info = env.step(predictions)
    return EpisodeRecord(
        seed=seed,
        concept_id=info["concept_id"],
        concept=info.get("concept"),
        fingerprint=info["fingerprint"],
        score=float(step_info["score"]),
        predictions=tuple(int(p) for p in predictions),
        program=classifier.program,
        explanation=classifier.explanation,
        fallback=classifier.fallback,
        diagnostics=classifier.diagnostics(),
        seconds=time.perf_counter() - start,
    )


def evaluate_agent(
    agent: Agent | str,
    env_id: str,
    *,
    episodes: int = 10,
    seed: int = 0,
    seeds: Iterable[int] | None = None,
    concepts: Iterable[str] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    on_episode: Callable[[EpisodeRecord], None] | None = None,
) -> Evaluation:
    """Score ``agent`` on ``episodes`` episodes of ``env_id`` with seeds ``seed, seed+1, …``.

    ``agent`` may be an Agent or a registered name (built for ``env_id``). ``seeds`` replaces the
    seed range; ``concepts`` (one per seed) fixes each episode's concept instead of drawing it.
    The env is made in the first of the agent's ``modalities`` unless ``env_kwargs`` names one.
    """
    env_kwargs = dict(env_kwargs or {})
    if isinstance(agent, str):
        agent = make_agent(agent, env_id=env_id)
    env_kwargs.setdefault("modality", agent.modalities[0])
    seed_list = list(seeds) if seeds is not None else list(range(seed, seed + episodes))
    if not seed_list:
        raise ValueError("evaluate_agent needs at least one episode")
    concept_list: list[str | None] = list(concepts) if concepts is not None else [None] * len(seed_list)
    if len(concept_list) != len(seed_list):
        raise ValueError(f"got {len(concept_list)} concepts for {len(seed_list)} seeds; expected one per seed")
    env = gym.make(env_id, **env_kwargs)
    try:
        records = []
        for episode_seed, concept in zip(seed_list, concept_list):
            record = play_episode(env, agent, episode_seed, None if concept is None else {"concept": concept})
            records.append(record)
            if on_episode is not None:
                on_episode(record)
    finally:
        env.close()
    subset = env.unwrapped.subset
    return Evaluation(env_id, getattr(agent, "name", type(agent).__name__), subset, tuple(records))
