"""Pix2Code's two revision experiments (pix2code.md §9), shared by ``benchmarks/bench_revision.py``
(the full 200-episode runs) and ``pix2code demo`` (a few episodes).

* Confounded concepts: on Pix2Code-CURIHans-v0 the support positives share a colour the concept
  does not mention; the agent as shipped falls for it, the agent with the colour primitives
  removed (``agent.revise(remove=["color"])``) cannot.
* Adding knowledge: on the Counting split, "the number of objects whose colour (shape, material,
  size) is v" added as primitives (``agent.revise(add=COUNTING)``), under a tight candidate budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym

import pix2code_env  # noqa: F401  (registers the environments)
from agents.evaluate import evaluate_agent
from agents.registry import make_agent

HANS, COUNTING_ENV = "Pix2Code-CURIHans-v0", "Pix2Code-CURI-Counting-v0"
REVISIONS = ("remove-color", "add-counting")
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


def revised_agent(env_id: str, revision: str | None, tight: int | None = None, time_cap: bool = True):
    """The Pix2Code agent for ``env_id`` as shipped (``revision=None``) or revised; ``tight`` caps
    the candidates it may try (half enumerated, half assembled) instead of its wall-clock cap;
    ``time_cap=False`` lifts the wall-clock cap of the default budget (results then do not
    depend on how busy the machine is)."""
    if revision not in (None, *REVISIONS):
        raise ValueError(f"unknown revision {revision!r}; expected one of {list(REVISIONS)} or None")
    options = {} if time_cap else {"seconds": None}
    if tight is not None:
        options = {"enumerated": tight // 2, "assembled": tight - tight // 2, "seconds": None}
    agent = make_agent("pix2code", env_id=env_id, **options)
    if revision == "remove-color":
        return agent.revise(remove=["color"])
    if revision == "add-counting":
        return agent.revise(add=COUNTING)
    return agent


def scores(
    env_id: str, revision: str | None, tight: int | None, seeds: list[int], time_cap: bool = True,
) -> list[tuple[float, int | None]]:
    """(class-balanced accuracy, candidates before the chosen program) on each test-subset seed."""
    result = evaluate_agent(revised_agent(env_id, revision, tight, time_cap), env_id, seeds=seeds,
                            env_kwargs={"subset": "test", "modality": "scene"})
    return [(r.score, r.diagnostics.get("candidates")) for r in result.records]


def example(env_id: str, revision: str | None, seed: int, time_cap: bool = True) -> Example:
    """The program and English the agent finds on one test episode."""
    env = gym.make(env_id, subset="test", modality="scene", reveal_concept=True)
    obs, info = env.reset(seed=seed)
    classifier = revised_agent(env_id, revision, time_cap=time_cap).fit(obs)
    _, _, _, _, step = env.step(classifier.predict(obs))
    env.close()
    return Example(info["concept"], classifier.program or "(none)", classifier.explanation or "-", float(step["score"]))
