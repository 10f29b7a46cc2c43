"""Pix2Code's two revision experiments (pix2code.md §9), shared by ``benchmarks/bench_revision.py``
(the full 200-episode runs) and ``pix2code demo`` (a few episodes).

* Confounded concepts: on Pix2Code-CURIHans-v0 the support positives share a colour the concept
  does not mention; the agent as shipped falls for it, the agent with the colour primitives
  removed (``agent.revise(remove=["color"])``) cannot.
* Adding knowledge: on the Counting split, "the number of objects whose colour (shape, material,
  size) is v" added as primitives (``agent.revise(add=COUNTING)``), under a tight candidate budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import pix2code_env  # noqa: F401  (registers the environments)
from agents.evaluate import evaluate_agent
from agents.pix2code.search import SearchBudget
from agents.registry import make_agent

HANS, COUNTING_ENV = "Pix2Code-CURIHans-v0", "Pix2Code-CURI-Counting-v0"
REVISIONS = ("remove-color", "add-counting")
TIGHT = 20_000  # the "tight budget" of the adding-knowledge experiment, in candidates
COUNTING = {
    f"count_{attribute}": {
        "program": f"(lambda (lambda (count (map (lambda ({attribute} $0)) $1) $0)))",
        "weight": 1.0,
        "description": f"the number of objects of a list whose {attribute} is a given one",
    }
    for attribute in ("color", "shape", "material", "size")
}


@dataclass(frozen=True)
class Example:
    """One episode's concept and what the agent learned from its support set."""

    concept: str
    program: str
    explanation: str
    score: float


def revised_agent(env_id: str, revision: str | None, tight: int | None = None, time_cap: bool = True,
                  library: str | None = None):
    """The Pix2Code agent for ``env_id`` as shipped (``revision=None``) or revised; ``tight`` caps
    the candidates it may try (half enumerated, half assembled) instead of its wall-clock cap;
    ``time_cap=False`` lifts the wall-clock cap of the default budget (results then do not
    depend on how busy the machine is); ``library`` is the agent's (None: the one shipped for the
    env, "base": the base DSL)."""
    if revision not in (None, *REVISIONS):
        raise ValueError(f"unknown revision {revision!r}; expected one of {list(REVISIONS)} or None")
    options = {} if time_cap else {"seconds": None}
    if tight is not None:
        options = {"enumerated": tight // 2, "assembled": tight - tight // 2, "seconds": None}
    agent = make_agent("pix2code", env_id=env_id, library=library, **options)
    if revision == "remove-color":
        return agent.revise(remove=["color"])
    if revision == "add-counting":
        return agent.revise(add=COUNTING)
    return agent


def scores(
    env_id: str, revision: str | None, tight: int | None, seeds: list[int], time_cap: bool = True,
    library: str | None = None,
) -> list[tuple[float, int | None]]:
    """(class-balanced accuracy, candidates to a solution) on each test-subset seed: the candidates
    enumerated before the chosen program when it reproduces every support label, None when the
    search found no such program within its budget (a near fit or the majority class answered)."""
    result = evaluate_agent(revised_agent(env_id, revision, tight, time_cap, library), env_id, seeds=seeds,
                            env_kwargs={"subset": "test", "modality": "scene"})
    return [(r.score, r.diagnostics.get("candidates") if r.diagnostics.get("exact") else None) for r in result.records]


def candidates_to_solution(candidates: list[int | None], budget: int) -> str:
    """The median of :func:`scores`' candidates to a solution, an episode without one counted as
    needing more than the whole budget (so the median is "> budget" when fewer than half solved)."""
    censored = sorted(math.inf if c is None else c for c in candidates)
    median = float(np.median(censored)) if censored else math.inf
    return f"> {budget:,}" if math.isinf(median) else f"{median:,.0f}"


def summary(rows: list[tuple[float, int | None]], tight: int | None) -> tuple[str, str, str]:
    """(mean accuracy, "solved / episodes", median candidates to a solution) of :func:`scores`' rows,
    for the candidate budget they ran under (``tight``, or the default budget's)."""
    candidates = [c for _, c in rows]
    budget = tight if tight is not None else SearchBudget().candidates
    return (f"{np.mean([s for s, _ in rows]):.3f}", f"{sum(c is not None for c in candidates)} / {len(rows)}",
            candidates_to_solution(candidates, budget))


def example(env_id: str, revision: str | None, seed: int, time_cap: bool = True, library: str | None = None) -> Example:
    """The program and English the agent finds on one test episode."""
    env = gym.make(env_id, subset="test", modality="scene", reveal_concept=True)
    obs, info = env.reset(seed=seed)
    classifier = revised_agent(env_id, revision, time_cap=time_cap, library=library).fit(obs)
    _, _, _, _, step = env.step(classifier.predict(obs))
    env.close()
    return Example(info["concept"], classifier.program or "(none)", classifier.explanation or "-", float(step["score"]))
