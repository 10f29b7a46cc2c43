"""Class-balanced accuracy of the Pix2Code agent beside the CURI oracles, through the environments.

    python benchmarks/bench_accuracy.py                        # 200 test episodes per CURI split,
                                                               # one episode per Kandinsky test concept
    python benchmarks/bench_accuracy.py --episodes 50 --workers 2 --agents pix2code

Agents play modality "scene" (ground-truth object tables). CURI: seeds 0..N-1 of each split's
test subset; Kandinsky (RelKP): one episode (40 + 160 queries) for each of the 100 test concepts,
seed = concept index, plus N/10 episodes of each classic pattern's test subset. Prints a table per
family (with the Pix2Code episodes that fell back — no exact fit — or hit the wall-clock cap) and,
last, one ``<agent>.<env>=<mean>`` line per row.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

import pix2code_env  # noqa: E402
from agents.evaluate import evaluate_agent  # noqa: E402
from pix2code_env.registration import CURI_SPLITS, KANDINSKY_PATTERNS  # noqa: E402
from tasks import make_family  # noqa: E402

console = Console(width=160)
CHUNK = 25


def run_chunk(agent: str, env_id: str, seeds: list[int], concepts: list[str] | None) -> tuple[str, str, list[tuple]]:
    result = evaluate_agent(agent, env_id, seeds=seeds, concepts=concepts,
                            env_kwargs={"subset": "test", "modality": "scene"})
    rows = [(r.seed, r.score, r.seconds, r.fallback is not None, bool(r.diagnostics.get("timed_out")))
            for r in result.records]
    return agent, env_id, rows


def jobs(args: argparse.Namespace) -> list[tuple[str, str, list[int], list[str] | None]]:
    out = []
    curi_agents = [a for a in args.agents if a in ("pix2code", "oracle-strong", "oracle-weak")]
    for name in CURI_SPLITS:
        env_id = f"Pix2Code-CURI-{name}-v0"
        for agent in curi_agents:
            for start in range(0, args.episodes, CHUNK):
                out.append((agent, env_id, list(range(start, min(start + CHUNK, args.episodes))), None))
    if "pix2code" in args.agents:
        concepts = list(make_family("kandinsky").concept_ids("test"))
        for start in range(0, len(concepts), CHUNK):
            chunk = concepts[start:start + CHUNK]
            out.append(("pix2code", "Pix2Code-Kandinsky-v0", list(range(start, start + len(chunk))), chunk))
        for name in KANDINSKY_PATTERNS:
            out.append(("pix2code", f"Pix2Code-Kandinsky-{name}-v0", list(range(max(1, args.episodes // 10))), None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200, help="test episodes per CURI split")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--agents", nargs="+", default=["pix2code", "oracle-strong", "oracle-weak"])
    args = parser.parse_args()
    work = jobs(args)
    results: dict[tuple[str, str], list[tuple]] = {}
    started = time.perf_counter()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress, ProcessPoolExecutor(args.workers) as pool:
        task = progress.add_task("episode chunks", total=len(work))
        futures = [pool.submit(run_chunk, *job) for job in work]
        for future in as_completed(futures):
            agent, env_id, rows = future.result()
            results.setdefault((agent, env_id), []).extend(rows)
            progress.advance(task)

    env_ids = list(dict.fromkeys(env_id for _, env_id in results))
    agents = [a for a in args.agents if any(a == key[0] for key in results)]
    table = Table(title=f"class-balanced accuracy, test subsets, modality scene ({time.perf_counter() - started:.0f} s)")
    table.add_column("environment")
    for agent in agents:
        table.add_column(f"{agent} (mean [95% CI])", justify="right")
    table.add_column("pix2code episodes / fallbacks / time-capped / median s", justify="right")
    lines = []
    for env_id in env_ids:
        cells = []
        for agent in agents:
            rows = results.get((agent, env_id))
            if not rows:
                cells.append("-")
                continue
            summary = pix2code_env.bootstrap_ci([r[1] for r in rows])
            cells.append(f"{summary.mean:.3f} [{summary.low:.3f}, {summary.high:.3f}]")
            lines.append(f"{agent}.{env_id}={summary.mean:.4f}")
        rows = results.get(("pix2code", env_id), [])
        extra = (f"{len(rows)} / {sum(r[3] for r in rows)} / {sum(r[4] for r in rows)} / "
                 f"{np.median([r[2] for r in rows]):.2f}") if rows else "-"
        table.add_row(env_id, *cells, extra)
    console.print(table)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
