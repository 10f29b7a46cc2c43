"""Pix2Code's two revision experiments, reproduced (pix2code.md §9).

    python benchmarks/bench_revision.py [--episodes 200] [--workers 2] [--tight 20000] [--only hans|counting]
        [--no-time-cap] [--library shipped|base]

* Confounded concepts: on Pix2Code-CURIHans-v0 (support positives share a colour the concept does
  not mention; queries are unconfounded), the agent as shipped, then the same agent with the colour
  primitives removed (``agent.revise(remove=["color"])``). Shows one episode's program and English
  before and after. ``--library base`` runs both on the base DSL instead of the library shipped for
  CURI-Hans (CURI IID's).
* Adding knowledge: on the Counting split, the agent before and after adding "the number of
  objects whose colour (shape, material, size) is v" (``agent.revise(add=COUNTING)``), both
  limited to ``--tight`` candidates: accuracy, how many episodes the search solved (a program that
  reproduces every support label) and the median candidates to that solution (an unsolved episode
  counts as needing more than the budget).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents.pix2code.revision_experiments import (  # noqa: E402
    COUNTING_ENV, HANS, TIGHT, example, scores, summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tight", type=int, default=TIGHT)
    parser.add_argument("--only", choices=["hans", "counting"], default=None)
    parser.add_argument("--no-time-cap", action="store_true",
                        help="Hans runs without the agent's wall-clock cap (its candidate budget alone stops it)")
    parser.add_argument("--library", choices=["shipped", "base"], default="shipped",
                        help="the library the agent starts from (default: the one shipped for the env)")
    args = parser.parse_args()
    capped = not args.no_time_cap
    library = None if args.library == "shipped" else args.library
    chunks = [list(range(i, min(i + 25, args.episodes))) for i in range(0, args.episodes, 25)]
    plan = []
    if args.only in (None, "hans"):
        plan += [(HANS, None, None), (HANS, "remove-color", None)]
    if args.only in (None, "counting"):
        plan += [(COUNTING_ENV, None, args.tight), (COUNTING_ENV, "add-counting", args.tight)]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {(p, c[0]): pool.submit(scores, *p, c, capped, library) for p in plan for c in chunks}
        results = {p: [x for c in chunks for x in futures[(p, c[0])].result()] for p in plan}
    console = Console(width=200)
    table = Table(title=f"revision experiments, {args.episodes} test episodes each, library: {args.library}")
    for column in ("experiment", "agent", "budget", "class-balanced accuracy", "solved",
                   "median candidates to a solution"):
        table.add_column(column)
    for (env_id, revision, tight), rows in results.items():
        table.add_row(env_id, revision or "as shipped",
                      ("default" if capped else "default, no time cap") if tight is None else f"{tight:,} candidates",
                      *summary(rows, tight))
    console.print(table)
    if args.only in (None, "hans"):
        for revision in (None, "remove-color"):
            shown = example(HANS, revision, seed=0, time_cap=capped, library=library)
            console.print(f"[bold]{HANS} seed 0, {revision or 'as shipped'}[/bold]: concept {shown.concept}\n"
                          f"  program: {shown.program}\n  reads: {shown.explanation}\n  accuracy: {shown.score:.3f}")


if __name__ == "__main__":
    main()
