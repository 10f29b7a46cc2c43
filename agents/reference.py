"""Reference agents: the floor rows of every table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.base import Agent, Classifier, n_queries, observation_seed, query_view, support_view


class ConstantClassifier(Classifier):
    """Answers every query with one label."""

    def __init__(self, label: int) -> None:
        self.label = int(label)

    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.full(n_queries(obs), self.label, dtype=np.int8)

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.full(n_queries(obs), float(self.label))


class RandomClassifier(Classifier):
    """Fair coin flips, seeded from the support set and the queries so reruns agree."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        queries = query_view(obs)
        rng = np.random.default_rng([self.seed, observation_seed(queries, keys=tuple(queries))])
        return rng.random(n_queries(obs))

    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return (self.scores(obs) >= 0.5).astype(np.int8)


class RandomAgent(Agent):
    """Uniformly random labels: class-balanced accuracy 0.5 in expectation."""

    name = "random"
    modalities = ("scene", "image", "both")  # reads only the query count: scene is the cheapest

    def __init__(self, env_id: str | None = None, seed: int = 0, **options: Any) -> None:
        super().__init__(env_id, **options)
        self.seed = int(seed)

    def fit(self, obs: Mapping[str, np.ndarray]) -> Classifier:
        return RandomClassifier(observation_seed(support_view(obs), self.seed))


class PriorAgent(Agent):
    """Always the support set's majority class (ties go to positive): exactly 0.5 class-balanced."""

    name = "prior"
    modalities = ("scene", "image", "both")  # reads only the support labels

    def fit(self, obs: Mapping[str, np.ndarray]) -> Classifier:
        labels = np.asarray(support_view(obs)["support_labels"])
        return ConstantClassifier(int(2 * labels.sum() >= labels.size))
