"""Pix2Code's two revision experiments, reproduced (pix2code.md §9).

    python benchmarks/bench_revision.py [--episodes 200] [--workers 2] [--tight 20000] [--only hans|counting]

* Confounded concepts: on Pix2Code-CURIHans-v0 (support positives share a colour the concept does
  not mention; queries are unconfounded), the agent as shipped, then the same agent with the colour
  primitives removed (``agent.revise(remove=["color"])``). Shows one episode's program and English
  before and after.
* Adding knowledge: on the Counting split, the agent before and after adding "the number of
  objects whose colour (shape, material, size) is v" (``agent.revise(add=COUNTING)``), both
  limited to ``--tight`` candidates: accuracy and candidates before the chosen program.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import pix2code_env  # noqa: E402,F401
from agents import make_agent  # noqa: E402
from agents.evaluate import evaluate_agent  # noqa: E402

COUNTING = {
    f"count_{attribute}": {
        "program": f"(lambda (lambda (count (map (lambda ({attribute} $0)) $1) $0)))",
        "weight": 1.0,
        "description": f"the number of objects of a list whose {attribute} is a given one",
    }
    for attribute in ("color", "shape", "material", "size")
}
HANS, COUNTING_ENV = "Pix2Code-CURIHans-v0", "Pix2Code-CURI-Counting-v0"


def _agent(env_id: str, revision: str | None, tight: int | None):
    options = {} if tight is None else {"enumerated": tight // 2, "assembled": tight - tight // 2, "seconds": None}
    agent = make_agent("pix2code", env_id=env_id, **options)
    if revision == "remove-color":
        return agent.revise(remove=["color"])
    if revision == "add-counting":
        return agent.revise(add=COUNTING)
    return agent


def run(env_id: str, revision: str | None, tight: int | None, seeds: list[int]) -> list[tuple[float, int | None]]:
    result = evaluate_agent(_agent(env_id, revision, tight), env_id, seeds=seeds,
                            env_kwargs={"subset": "test", "modality": "scene"})
    return [(r.score, r.diagnostics.get("candidates")) for r in result.records]


def example(env_id: str, revision: str | None, seed: int) -> tuple[str, str, str]:
    env = gym.make(env_id, subset="test", modality="scene", reveal_concept=True)
    obs, info = env.reset(seed=seed)
    classifier = _agent(env_id, revision, None).fit(obs)
    explain = getattr(classifier, "explain", None)
    return info["concept"], classifier.program or "(none)", explain() if explain else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tight", type=int, default=20_000)
    parser.add_argument("--only", choices=["hans", "counting"], default=None)
    args = parser.parse_args()
    chunks = [list(range(i, min(i + 25, args.episodes))) for i in range(0, args.episodes, 25)]
    plan = []
    if args.only in (None, "hans"):
        plan += [(HANS, None, None), (HANS, "remove-color", None)]
    if args.only in (None, "counting"):
        plan += [(COUNTING_ENV, None, args.tight), (COUNTING_ENV, "add-counting", args.tight)]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {(p, c[0]): pool.submit(run, *p, c) for p in plan for c in chunks}
        results = {p: [x for c in chunks for x in futures[(p, c[0])].result()] for p in plan}
    console = Console(width=200)
    table = Table(title=f"revision experiments, {args.episodes} test episodes each")
    for column in ("experiment", "agent", "budget", "class-balanced accuracy", "median candidates before the program"):
        table.add_column(column)
    for (env_id, revision, tight), rows in results.items():
        candidates = [c for _, c in rows if c is not None]
        table.add_row(env_id, revision or "as shipped", "default" if tight is None else f"{tight:,} candidates",
                      f"{np.mean([s for s, _ in rows]):.3f}", f"{np.median(candidates):,.0f}" if candidates else "-")
    console.print(table)
    if args.only in (None, "hans"):
        for revision in (None, "remove-color"):
            concept, program, english = example(HANS, revision, seed=0)
            console.print(f"[bold]{HANS} seed 0, {revision or 'as shipped'}[/bold]: concept {concept}\n"
                          f"  program: {program}\n  reads: {english}")


if __name__ == "__main__":
    main()
