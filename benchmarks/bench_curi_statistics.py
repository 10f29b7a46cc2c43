"""CURI scene statistics against CURI's released concepts, for visibility thresholds.

    python benchmarks/bench_curi_statistics.py --thresholds 150,168,208 [--seed 12345] [--scenes 1000000]
        [--reference ../shared/reference/data/curi/hyp_to_id.json]

For each threshold (the sampler's visible-area rule, in pixels at 240x160) it samples a scene bank
and reports the share of large objects and how many of CURI's released concepts fall outside
CURI's firing filter on it (true on at most 10 scenes, or on 10 % or more, per million scenes).
The shipped threshold is ``tasks.curi.sampler.VISIBILITY_THRESHOLD``; ``--seed 20210716`` is the
shipped reference bank.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from tasks.curi import sampler
from tasks.curi.bank import generate_bank
from tasks.curi.evaluate import Compiled, Objects

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "data" / "curi" / "hyp_to_id.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default=str(sampler.VISIBILITY_THRESHOLD))
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--scenes", type=int, default=1_000_000)
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = parser.parse_args()
    strings = list(json.loads(args.reference.read_text()))
    compiled = Compiled(strings)
    table = Table(title=f"CURI scene statistics ({args.scenes:,} scenes, seed {args.seed}, {len(strings):,} CURI concepts)")
    for column in ("threshold", "large objects", "concepts outside the filter", "<= 10 scenes", ">= 10 %", "seconds"):
        table.add_column(column, justify="right")
    original = sampler.VISIBILITY_THRESHOLD
    try:
        for threshold in (float(v) for v in args.thresholds.split(",")):
            start = time.perf_counter()
            sampler.VISIBILITY_THRESHOLD = threshold
            batch = generate_bank(args.scenes, seed=args.seed)
            counts, _ = compiled.count(Objects.from_batch(batch))
            per_million = counts * (1_000_000 / args.scenes)
            low, high = per_million <= 10, per_million >= 100_000
            large = float(np.mean(batch.size[batch.mask] == 0))
            table.add_row(f"{threshold:g}", f"{large:.3f}", f"{int((low | high).sum())} ({(low | high).mean():.2%})",
                          str(int(low.sum())), str(int(high.sum())), f"{time.perf_counter() - start:.0f}")
    finally:
        sampler.VISIBILITY_THRESHOLD = original
    Console().print(table)


if __name__ == "__main__":
    main()
