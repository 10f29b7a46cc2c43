"""The wake phase: training tasks, and solving them in parallel with the current library.

A training task is one train-subset episode of a training concept: 100 concepts of the split's
training concepts, chosen by a seed (as Pix2Code did), or Pix2Code's own 100 when the env uses
CURI's released list with ``train_ids``. Tasks are solved by the same search the agent uses, on a
process pool or a Ray cluster; a worker rebuilds the grammar from the library's JSON once per
library, and the recognition model's weights for a task (when there is one) replace the
library's weights for that task.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.pix2code.layouts import load_layouts
from agents.pix2code.search.solver import SearchBudget, SolverOptions, solve

TASKS_PER_SPLIT = 100
FRONTIER = 5  # programs kept per task (DreamCoder's maximumFrontier)


@dataclass(frozen=True)
class Task:
    """One training episode's support set (object tables) and query set (for checking rewrites)."""

    name: str
    objects: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    query_objects: np.ndarray
    query_mask: np.ndarray


@dataclass(frozen=True)
class Solved:
    """A task's solutions (program text, log prior, log likelihood, candidates before it), best first."""

    name: str
    programs: tuple[tuple[str, float, float, int], ...]
    seconds: float
    error: str | None = None


def training_tasks(env_id: str, n: int, seed: int, env_kwargs: Mapping[str, Any] | None = None) -> list[Task]:
    """One train-subset episode for each of ``n`` training concepts drawn with ``seed`` (the env's
    own training ids when it was given ``train_ids``). A subset with fewer concepts (a classic
    Kandinsky pattern has one) gives each of them several episodes, ``n`` tasks in all."""
    import gymnasium as gym

    import pix2code_env  # noqa: F401  (registers the ids)

    env = gym.make(env_id, subset="train", modality="scene", **dict(env_kwargs or {}))
    concepts = list(env.unwrapped.family.concept_ids("train"))
    if len(concepts) > n:
        picked = np.random.default_rng(seed).choice(len(concepts), size=n, replace=False)
        concepts = [concepts[i] for i in sorted(picked)]
    tasks = []
    for i in range(n if concepts else 0):
        concept, repeat = concepts[i % len(concepts)], i // len(concepts)
        obs, _ = env.reset(seed=seed * 1_000_003 + i, options={"concept": concept})
        tasks.append(Task(concept if len(concepts) >= n else f"{concept}#{repeat}", obs["support_objects"],
                          obs["support_object_mask"], obs["support_labels"], obs["query_objects"], obs["query_object_mask"]))
    env.close()
    return tasks


@functools.lru_cache(maxsize=4)
def _grammar(library_json: str):
    from agents.pix2code.library.library import Library

    data = json.loads(library_json)
    library = Library(data["family"], data["dsl"], data["weights"], data["log_variable"],
                      tuple(_invention(e) for e in data["inventions"]))
    return library.domain, library.grammar()


def _invention(entry: Mapping[str, Any]):
    from agents.pix2code.library.library import Invention

    return Invention(entry["body"], entry["name"], entry["description"], entry["type"], entry["weight"], entry["uses"])


def solve_task(library_json: str, task: Task, weights: Sequence[float] | None, budget: SearchBudget, seed: int) -> Solved:
    """Solve one task with the library (and per-task recognition weights); exact fits only."""
    domain, grammar = _grammar(library_json)
    if weights is not None:
        named = {p.name: float(w) for p, w in zip(grammar.productions, weights[:-1])}
        grammar = grammar.with_weights(named, log_variable=float(weights[-1]))
    try:
        result = solve(domain, (task.objects, task.mask), task.labels, grammar=grammar, budget=budget,
                       options=SolverOptions(seed=seed), reference_scenes=load_layouts(domain.name))
    except Exception as error:  # one task's failure must not end the run: it counts as unsolved
        return Solved(task.name, (), 0.0, f"{type(error).__name__}: {error}")
    programs = tuple((p.program, p.log_prior, p.log_likelihood, p.found_after) for p in result.programs if p.errors == 0)
    return Solved(task.name, programs[:FRONTIER], result.seconds)


def wake(
    library_json: str,
    tasks: Sequence[Task],
    weights: Mapping[str, Sequence[float]] | None,
    budget: SearchBudget,
    seed: int,
    workers: int = 1,
    backend: str = "process",
    on_done: Callable[[Solved], None] | None = None,
) -> list[Solved]:
    """Solve every task (in task order in the result, whatever order they finish in)."""
    weights = weights or {}
    jobs = [(library_json, t, weights.get(t.name), budget, seed) for t in tasks]
    if backend == "ray":
        return _wake_ray(jobs, on_done)
    if backend != "process":
        raise ValueError(f"unknown backend {backend!r}; expected 'process' or 'ray'")
    if workers <= 1:
        out = []
        for job in jobs:
            out.append(solve_task(*job))
            if on_done:
                on_done(out[-1])
        return out
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(solve_task, *job) for job in jobs]
        out = []
        for future in futures:
            out.append(future.result())
            if on_done:
                on_done(out[-1])
        return out


def _wake_ray(jobs: list[tuple], on_done: Callable[[Solved], None] | None) -> list[Solved]:
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs Ray: pip install 'pix2code-gym[ray]'") from None
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(solve_task)
    refs = [remote.remote(*job) for job in jobs]
    out = []
    for ref in refs:
        out.append(ray.get(ref))
        if on_done:
            on_done(out[-1])
    return out
