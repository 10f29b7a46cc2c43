"""The Pix2Code agent plug-in: object tables in, the maximum-posterior program out.

``fit`` decodes the support set's object tables into the family's DSL domain, runs the
synthesiser (:func:`agents.pix2code.search.solve`) and returns a classifier that runs the
top programs on the queries, voting by posterior weight. ``classifier.program`` is the MAP
program's text. When no program reproduces the support labels within the budget, the
classifier says so (``classifier.fallback``) and answers with the best near fit if there is
one, else with the support's majority class ("negative").

The agent reads object tables (``modality="scene"`` or ``"both"``); reading pixels needs the
perception module, which lands with the perception issue.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Agent, Classifier, query_view, support_view
from agents.pix2code.dsl.domains import DOMAINS, Domain, domain_for_env_id
from agents.pix2code.search import SearchBudget, SearchResult, SolverOptions, predict, solve

MODALITIES = ("scene",)
#: Unlabelled query scenes of this many training episodes form the layout prior (see ``solve``):
#: CURI's scene layouts do not depend on the concept, Kandinsky's object counts do, so only CURI uses one.
REFERENCE_EPISODES = {"curi": 20, "kandinsky": 0}


@functools.lru_cache(maxsize=8)
def reference_scenes(env_id: str, episodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Object tables of the queries of ``episodes`` seeded training episodes of ``env_id``.

    Only unlabelled scenes of the training subset are read: the prior an agent may build
    from its training data. Seeds 0.. are fixed, so the prior is the same in every process.
    """
    import pix2code_env  # noqa: F401  (registers the ids)

    env = gym.make(env_id, subset="train", modality="scene")
    objects, masks = [], []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        objects.append(obs["query_objects"])
        masks.append(obs["query_object_mask"])
    env.close()
    return np.concatenate(objects), np.concatenate(masks)


class Pix2CodeClassifier(Classifier):
    """Runs the synthesiser's top programs on query object tables."""

    def __init__(self, result: SearchResult, domain: Domain) -> None:
        self.result = result
        self.domain = domain
        self.program = result.program
        if not result.programs:
            self.fallback: str | None = (
                "no program fits the support set within the search budget; answering the majority class (negative)"
            )
        elif not result.exact:
            self.fallback = (
                f"no program fits every support label within the search budget; using the best near fit "
                f"({result.programs[0].errors} support label(s) wrong)"
            )
        else:
            self.fallback = None

    def _tables(self, obs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        view = query_view(obs)
        if "query_objects" not in view:
            raise ValueError(
                "the Pix2Code agent reads object tables, but the observation has no 'query_objects': "
                "make the environment with modality 'scene' or 'both'"
            )
        return view["query_objects"], view["query_object_mask"]

    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        labels, _ = predict(self.result, self._tables(obs), self.domain)
        return labels.astype(np.int8)

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return predict(self.result, self._tables(obs), self.domain)[1]


class Pix2CodeAgent(Agent):
    """Few-shot concepts as λ-calculus programs, found by guided enumeration (registered as ``pix2code``).

    Options: ``modality`` ("scene": object tables), ``seconds`` (wall-clock safety cap per task),
    ``enumerated`` / ``assembled`` (the candidate budget: a run that stops on it is
    reproducible), ``top_k`` (programs that vote), ``seed`` (the synthetic scene pools) and
    ``reference_episodes`` (training episodes whose unlabelled queries form the layout prior;
    default per family).
    """

    name = "pix2code"

    def __init__(
        self,
        env_id: str | None = None,
        modality: str = "scene",
        seconds: float | None = 5.0,
        enumerated: int = SearchBudget.enumerated,
        assembled: int = SearchBudget.assembled,
        top_k: int = SolverOptions.top_k,
        seed: int = 0,
        reference_episodes: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(env_id, **options)
        if modality not in MODALITIES:
            raise ValueError(
                f"the Pix2Code agent supports modality {list(MODALITIES)} (object tables), got {modality!r}; "
                "reading images needs the perception module"
            )
        self.modality = modality
        self.domain = domain_for_env_id(env_id) if env_id is not None else None
        self.budget = SearchBudget(seconds=seconds, enumerated=enumerated, assembled=assembled)
        self.options = SolverOptions(seed=seed, top_k=top_k)
        self.reference_episodes = reference_episodes

    def _domain(self, obs: Mapping[str, np.ndarray]) -> Domain:
        """The env id's domain, or the one whose object schema has the observation's width."""
        if self.domain is not None:
            return self.domain
        width = np.shape(obs["support_objects"])[-1]
        matches = [d for d in DOMAINS.values() if d.n_features == width]
        if len(matches) != 1:
            raise ValueError(f"cannot tell the DSL domain from {width} object features; pass env_id")
        return matches[0]

    def _reference(self, domain: Domain) -> tuple[np.ndarray, np.ndarray] | None:
        episodes = self.reference_episodes
        if episodes is None:
            episodes = REFERENCE_EPISODES.get(domain.name, 0)
        if episodes == 0 or self.env_id is None:
            return None
        return reference_scenes(self.env_id, episodes)

    def fit(self, obs: Mapping[str, np.ndarray]) -> Pix2CodeClassifier:
        support = support_view(obs)
        if "support_objects" not in support:
            raise ValueError(
                "the Pix2Code agent reads object tables, but the observation has no 'support_objects': "
                "make the environment with modality 'scene' or 'both'"
            )
        domain = self._domain(support)
        result = solve(
            domain,
            (support["support_objects"], support["support_object_mask"]),
            support["support_labels"],
            budget=self.budget,
            options=self.options,
            reference_scenes=self._reference(domain),
        )
        return Pix2CodeClassifier(result, domain)
