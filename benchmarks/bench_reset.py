"""First CURI reset in a fresh process: with a warm disk cache (banks, compiled pool) and cold.

    python benchmarks/bench_reset.py [--runs 3] [--cold]

Each measurement is a new Python process that imports the package, makes ``Pix2Code-CURI-v0``
and calls ``reset`` once; it reports the time of ``reset`` alone and of the whole process up to
the first observation. ``--cold`` also measures a process with an empty cache directory (it
generates the subset's scene bank and compiles the pool, then writes both to the cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

PROBE = """
import json, time
start = time.perf_counter()
import gymnasium as gym
import pix2code_env
env = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene")
before = time.perf_counter()
env.reset(seed=0)
done = time.perf_counter()
print(json.dumps({"reset": done - before, "process": done - start}))
"""


def measure(env: dict[str, str]) -> dict[str, float]:
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=root, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also measure with an empty cache")
    args = parser.parse_args()
    table = Table(title="first CURI reset in a new process (seconds)")
    for column in ("cache", "runs", "reset (median)", "process to first observation (median)"):
        table.add_column(column, justify="left" if column == "cache" else "right")
    warm_env = dict(os.environ)
    measure(warm_env)  # make sure the cache is warm
    warm = [measure(warm_env) for _ in range(args.runs)]
    table.add_row("warm", str(args.runs), f"{statistics.median(r['reset'] for r in warm):.2f}",
                  f"{statistics.median(r['process'] for r in warm):.2f}")
    if args.cold:
        with tempfile.TemporaryDirectory() as empty:
            cold = measure(dict(os.environ, PIX2CODE_CACHE=empty))
        table.add_row("cold (empty cache)", "1", f"{cold['reset']:.2f}", f"{cold['process']:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
