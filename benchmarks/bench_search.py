"""Search throughput and solve time of the Pix2Code synthesiser on CURI, on one core.

    python benchmarks/bench_search.py                    # throughput + 60 test episodes
    python benchmarks/bench_search.py --episodes 200
    python benchmarks/bench_search.py --learned --compare-inlined   # shipped library, vs inlining

Throughput counts distinct candidate programs evaluated per second:

* bottom-up enumeration: each new term is evaluated once on every scene of the enumeration
  context (25 support + 39 synthetic scenes) and every binding of its variables;
* assembly: each (chain, connective, atom pair) candidate is checked on the 25 support scenes.

``candidates_per_second`` is their total over the solves of the timed episodes divided by the
solves' total time (so it includes every overhead of a solve); the table also shows each
phase's own rate. Solve time is :func:`solve` from object tables to its result, with the
default budget and the agent's layout prior, as the Pix2Code agent calls it. Episodes come
from the CURI family's test subset ("iid" unless ``--split``). Accuracy per split through the
agent and the environments is ``benchmarks/bench_accuracy.py``. ``--learned`` searches with the
library and recognition model shipped for the split (as the agent does) instead of the base DSL;
``--compare-inlined`` also solves every episode with inventions inlined and evaluated afresh
(``SolverOptions(compiled_inventions=False)``, the reference semantics) under the candidate
budget alone (no time cap), checks that both find the same programs, and prints the speed-up. The last two lines are always
``candidates_per_second=<number>`` and ``median_solve_seconds=<number>``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tasks  # noqa: E402
from agents.pix2code.dsl import CURI  # noqa: E402
from agents.pix2code.layouts import load_layouts  # noqa: E402
from agents.pix2code.search.solver import SearchBudget, SolverOptions, default_grammar, predict, solve  # noqa: E402
from pix2code_env.scoring import class_balanced_accuracy  # noqa: E402


def tables(family, scenes) -> tuple[np.ndarray, np.ndarray]:
    k, f = CURI.max_objects, CURI.n_features
    objects = np.full((len(scenes), k, f), -1.0, dtype=np.float32)
    mask = np.zeros((len(scenes), k), dtype=bool)
    for i, scene in enumerate(scenes):
        t = family.object_table(scene)
        objects[i, : len(t)], mask[i, : len(t)] = t, True
    return objects, mask


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=60, help="test episodes to time (default 60)")
    parser.add_argument("--split", default="iid", help="CURI split for the timed episodes (default iid)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learned", action="store_true", help="search with the split's shipped library and recognition model")
    parser.add_argument("--compare-inlined", action="store_true", help="also solve with inventions inlined (the baseline)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    console = Console()
    budget = SearchBudget(seconds=None) if args.compare_inlined else SearchBudget()  # equal results need no time cap
    guide = None
    if args.learned:
        from agents import make_agent

        env_id = "Pix2Code-CURI-v0" if args.split == "iid" else f"Pix2Code-CURI-{args.split.capitalize()}-v0"
        guide = make_agent("pix2code", env_id=env_id).guide(CURI)
    base_grammar = default_grammar(CURI)
    prior = load_layouts("curi")  # the agent's layout prior (agents/pix2code/layouts.py)
    family = tasks.make_family("curi", split=args.split)
    rng = np.random.default_rng(args.seed)
    family.sample_episode(rng, family.sample_concept(rng, "test"), "test")  # warm the family's caches

    rows, baseline, mismatches = [], [], 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"solving {args.split} test episodes", total=args.episodes)
        for _ in range(args.episodes):
            episode = family.sample_episode(rng, family.sample_concept(rng, "test"), "test")
            support = tables(family, episode.support_scenes)
            grammar = base_grammar if guide is None else guide.grammar_for(*support, episode.support_labels)
            started = time.perf_counter()
            result = solve(CURI, support, episode.support_labels, grammar=grammar, budget=budget, reference_scenes=prior)
            seconds = time.perf_counter() - started
            predicted, _ = predict(result, tables(family, episode.query_scenes))
            rows.append((seconds, result, class_balanced_accuracy(episode.query_labels, predicted)))
            if args.compare_inlined:
                started = time.perf_counter()
                inlined = solve(CURI, support, episode.support_labels, grammar=grammar, budget=budget,
                                reference_scenes=prior, options=SolverOptions(compiled_inventions=False))
                baseline.append(time.perf_counter() - started)
                if [p.program for p in inlined.programs] != [p.program for p in result.programs]:
                    mismatches += 1
            bar.advance(task)

    times = np.array([r[0] for r in rows])
    enumerated = sum(r[1].stats["enumerated"] for r in rows)
    assembled = sum(r[1].stats["assembled_checked"] for r in rows)
    candidates = enumerated + assembled
    rate = candidates / times.sum()
    library = "shipped library + recognition" if args.learned else "base DSL"
    table = Table(title=f"Pix2Code search on CURI ({args.split} test episodes, {library}, one core)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("episodes", str(len(rows)))
    table.add_row("budget", f"enumerated {budget.enumerated:,}, assembled {budget.assembled:,}, cap {budget.seconds} s")
    table.add_row("candidates evaluated / episode (mean)", f"{candidates / len(rows):,.0f}")
    table.add_row("  of which bottom-up (all 64 scenes × bindings)", f"{enumerated / len(rows):,.0f}")
    table.add_row("  of which assembled (25 support scenes)", f"{assembled / len(rows):,.0f}")
    table.add_row("candidates per second (whole solves)", f"{rate:,.0f}")
    enum_s = sum(r[1].stats["enumeration_seconds"] for r in rows)
    asm_s = sum(r[1].stats["assembly_seconds"] for r in rows)
    table.add_row("  bottom-up phase alone", f"{enumerated / enum_s:,.0f} / s")
    table.add_row("  assembly phase alone", f"{assembled / asm_s:,.0f} / s")
    table.add_row("solve time median / p90 / max (s)", f"{np.median(times):.3f} / {np.percentile(times, 90):.3f} / {times.max():.3f}")
    table.add_row("episodes stopped by the time cap", str(sum(r[1].timed_out for r in rows)))
    table.add_row("class-balanced accuracy on the queries", f"{np.mean([r[2] for r in rows]):.3f}")
    if baseline:
        table.add_row("inventions inlined (baseline): solve time median", f"{np.median(baseline):.3f}")
        table.add_row("speed-up of compiled inventions (total time)", f"{sum(baseline) / times.sum():.2f}x")
        table.add_row("episodes whose programs differ", str(mismatches))
    console.print(table)

    print(f"candidates_per_second={rate:.0f}")
    print(f"median_solve_seconds={np.median(times):.3f}")


if __name__ == "__main__":
    main()
