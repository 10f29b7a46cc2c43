"""What a learned library buys: candidates to solution and accuracy under a tight budget.

    python benchmarks/bench_library.py [--envs Pix2Code-CURI-v0 ...] [--episodes 200] [--workers 2]
        [--tight 20000] [--dsl default|paper] [--results runs/bench-library.jsonl]
    python benchmarks/bench_library.py --inventions     # the top ten learned primitives of each library
    python benchmarks/bench_library.py --training       # each shipped library's wake-sleep history

For each env, on its test subset (seeds 0..N-1, modality "scene"), the Pix2Code agent with its base
DSL and starting weights (``library="base"``) and with the library and recognition model shipped
for the env: the median number of candidates enumerated before the chosen program (default
budget), and class-balanced accuracy at the default budget and with both limited to ``--tight``
candidates (half enumerated, half assembled). No wall-clock cap: the figures do not depend on
the machine.
``--dsl paper`` compares the paper's base DSL with the library learned from it. Every finished
chunk of 25 episodes is appended to ``--results``: an interrupted run resumes there.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents import make_agent  # noqa: E402
from agents.evaluate import evaluate_agent  # noqa: E402
from agents.pix2code.library.shipped import LIBRARIES, SHIPPED, shipped_library  # noqa: E402

DEFAULT_ENVS = [env for env in SHIPPED if env.startswith("Pix2Code-CURI-") and env not in ("Pix2Code-CURIHans-v0", "Pix2Code-CURI-IID-v0")] + [
    "Pix2Code-Kandinsky-v0"
]


def measure(env_id: str, library: str, dsl: str, seeds: list[int], tight: int | None,
            recognition: bool = True) -> tuple[list[float], list[int | None], int]:
    options = {"library": library, "dsl": dsl, "seconds": None, "recognition": recognition}
    if tight is not None:
        options.update(enumerated=tight // 2, assembled=tight - tight // 2)
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


def training() -> None:
    """Each shipped library's wake–sleep history from its provenance, as a Markdown table."""
    print("| library | iteration | solved | median candidates | objective before → after | inventions kept | wake / sleep s |")
    print("|---|---|---|---|---|---|---|")
    for path in sorted(LIBRARIES.glob("*.json")):
        provenance = json.loads(path.read_text())["provenance"]
        for h in provenance.get("history", []):
            median = "–" if h["median_candidates"] is None else f"{h['median_candidates']:,.0f}"
            print(f"| `{path.name}` | {h['iteration']} | {h['solved']} / {h['tasks']} | {median} | "
                  f"{h['objective_before']:.1f} → {h['objective_after']:.1f} | {len(h['inventions_kept'])} | "
                  f"{h['wake_seconds']:.0f} / {h['sleep_seconds']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventions", action="store_true", help="list the libraries' learned primitives and stop")
    parser.add_argument("--training", action="store_true", help="list the libraries' wake-sleep histories and stop")
    parser.add_argument("--envs", nargs="*", default=DEFAULT_ENVS)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tight", type=int, default=20_000)
    parser.add_argument("--dsl", default="default", choices=["default", "paper"])
    parser.add_argument("--results", type=Path, default=Path("runs/bench-library.jsonl"))
    parser.add_argument("--without-recognition", action="store_true",
                        help="ablation: the learned library's own weights, no recognition model")
    args = parser.parse_args()
    if args.inventions:
        return inventions()
    if args.training:
        return training()
    libraries = {env: str(shipped_library(env, args.dsl)) for env in args.envs if shipped_library(env, args.dsl)}
    chunks = [list(range(i, min(i + 25, args.episodes))) for i in range(0, args.episodes, 25)]
    keys = [(env, library, tight, chunk[0]) for env, learned in libraries.items() for library in ("base", learned)
            for tight in (None, args.tight) for chunk in chunks]
    results = _finished(args.results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.workers) as pool, args.results.open("a") as log:
        recognition = not args.without_recognition
        jobs = {key: pool.submit(measure, key[0], key[1], args.dsl, chunks[key[3] // 25], key[2],
                                 recognition or key[1] == "base")
                for key in keys if _key(*key, args.dsl, recognition) not in results}
        for key, future in jobs.items():
            results[_key(*key, args.dsl, recognition)] = future.result()
            log.write(json.dumps({"key": _key(*key, args.dsl, recognition), "result": results[_key(*key, args.dsl, recognition)]}) + "\n")
            log.flush()
    ablation = " (without its recognition model)" if args.without_recognition else ""
    table = Table(title=f"{args.dsl} base DSL vs learned library{ablation}, {args.episodes} test episodes per env")
    for column in ("env", "median candidates: base", "learned", "ratio", f"accuracy @ {args.tight:,}: base", "learned",
                   "accuracy (default budget): base", "learned", "fallbacks base / learned"):
        table.add_column(column, justify="right")
    for env, learned_library in libraries.items():
        row = {}
        for library in ("base", learned_library):
            for tight in (None, args.tight):
                parts = [results[_key(env, library, tight, c[0], args.dsl, recognition)] for c in chunks]
                scores = [s for p in parts for s in p[0]]
                candidates = [c for p in parts for c in p[1] if c is not None]
                row[(library == "base", tight)] = (np.mean(scores), np.median(candidates) if candidates else np.nan,
                                                   sum(p[2] for p in parts))
        base, learned = row[(True, None)], row[(False, None)]
        table.add_row(env, f"{base[1]:,.0f}", f"{learned[1]:,.0f}", f"{base[1] / learned[1]:.1f}x",
                      f"{row[(True, args.tight)][0]:.3f}", f"{row[(False, args.tight)][0]:.3f}",
                      f"{base[0]:.3f}", f"{learned[0]:.3f}", f"{base[2]} / {learned[2]}")
    Console(width=200).print(table)


def _key(env: str, library: str, tight: int | None, first_seed: int, dsl: str, recognition: bool = True) -> str:
    """A finished chunk's key; the library file's content is part of it (a retrained library is a new run)."""
    stamp = "base" if library == "base" else _digest(library)
    if library != "base" and not recognition:
        stamp += "-without-recognition"
    return f"{env}|{dsl}|{stamp}|{tight}|{first_seed}"


@functools.lru_cache(maxsize=None)
def _digest(library: str) -> str:
    return hashlib.sha256(Path(library).read_bytes()).hexdigest()[:12]


def _finished(path: Path) -> dict[str, tuple]:
    """The chunks an earlier (interrupted) run finished, by key."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            out[entry["key"]] = tuple(entry["result"])
    return out


if __name__ == "__main__":
    main()
