"""What a learned library buys: candidates to solution and accuracy under a tight budget.

    python benchmarks/bench_library.py [--envs Pix2Code-CURI-v0 ...] [--episodes 200] [--workers 2]
        [--tight 20000]
    python benchmarks/bench_library.py --inventions     # the top ten learned primitives of each library

For each env, on its test subset (seeds 0..N-1, modality "scene"), the Pix2Code agent with its base
DSL and starting weights (``library="base"``) and with the library and recognition model shipped
for the env: the median number of candidates enumerated before the chosen program (default
budget), and class-balanced accuracy with both limited to ``--tight`` candidates (half
enumerated, half assembled; no wall-clock cap, so the figures do not depend on the machine).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents import make_agent  # noqa: E402
from agents.evaluate import evaluate_agent  # noqa: E402
from agents.pix2code.library.shipped import LIBRARIES, SHIPPED  # noqa: E402

DEFAULT_ENVS = [env for env in SHIPPED if env.startswith("Pix2Code-CURI-") and env != "Pix2Code-CURIHans-v0"] + [
    "Pix2Code-Kandinsky-v0"
]


def measure(env_id: str, library: str, seeds: list[int], tight: int | None) -> tuple[list[float], list[int | None], int]:
    options = {"library": library}
    if tight is not None:
        options.update(enumerated=tight // 2, assembled=tight - tight // 2, seconds=None)
    agent = make_agent("pix2code", env_id=env_id, **options)
    result = evaluate_agent(agent, env_id, seeds=seeds, env_kwargs={"subset": "test", "modality": "scene"})
    return ([r.score for r in result.records], [r.diagnostics.get("candidates") for r in result.records],
            sum(1 for r in result.records if r.fallback))


def inventions(top: int = 10) -> None:
    """Each shipped library's most used learned primitives (by the solutions that use them), with
    body, type and generated description, as a Markdown table for docs/BENCHMARKS.md."""
    import json

    for path in sorted(LIBRARIES.glob("*.json")):
        found = sorted(json.loads(path.read_text())["inventions"], key=lambda i: (-i["uses"], i["name"]))
        print(f"\n`{path.name}` ({len(found)} learned primitives)\n")
        print("| name | type | body | used by | reads |\n|---|---|---|---|---|")
        for i in found[:top]:
            print(f"| `{i['name']}` | `{i['type']}` | `{i['body']}` | {i['uses']} | {i['description']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventions", action="store_true", help="list the libraries' learned primitives and stop")
    parser.add_argument("--envs", nargs="*", default=DEFAULT_ENVS)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tight", type=int, default=20_000)
    args = parser.parse_args()
    if args.inventions:
        return inventions()
    envs = [e for e in args.envs if (LIBRARIES / SHIPPED[e]).exists()]
    chunks = [list(range(i, min(i + 25, args.episodes))) for i in range(0, args.episodes, 25)]
    jobs = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for env in envs:
            for library in ("base", str(LIBRARIES / SHIPPED[env])):
                for tight in (None, args.tight):
                    for chunk in chunks:
                        jobs[(env, library, tight, chunk[0])] = pool.submit(measure, env, library, chunk, tight)
        results = {key: future.result() for key, future in jobs.items()}
    table = Table(title=f"base DSL vs learned library, {args.episodes} test episodes per env")
    for column in ("env", "median candidates: base", "learned", "ratio", f"accuracy @ {args.tight:,}: base", "learned",
                   "accuracy (default budget): base", "learned", "fallbacks base / learned"):
        table.add_column(column, justify="right")
    for env in envs:
        row = {}
        for library in ("base", str(LIBRARIES / SHIPPED[env])):
            for tight in (None, args.tight):
                parts = [results[(env, library, tight, c[0])] for c in chunks]
                scores = [s for p in parts for s in p[0]]
                candidates = [c for p in parts for c in p[1] if c is not None]
                row[(library == "base", tight)] = (np.mean(scores), np.median(candidates) if candidates else np.nan,
                                                   sum(p[2] for p in parts))
        base, learned = row[(True, None)], row[(False, None)]
        table.add_row(env, f"{base[1]:,.0f}", f"{learned[1]:,.0f}", f"{base[1] / learned[1]:.1f}x",
                      f"{row[(True, args.tight)][0]:.3f}", f"{row[(False, args.tight)][0]:.3f}",
                      f"{base[0]:.3f}", f"{learned[0]:.3f}", f"{base[2]} / {learned[2]}")
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
