"""Speed of the CURI scene world: scene sampling (scenes/s) and rendering (images/s), one core.

Usage: ``python benchmarks/bench_curi_render.py [--scenes 1000000] [--images 2000] [--batch 50]``.
Reports wall-clock and CPU (process) time; on a shared machine the CPU figure is the steadier.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from tasks.curi.render import render_batch, render_scene
from tasks.curi.scenes import sample_scenes


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=1_000_000, help="scenes to sample")
    parser.add_argument("--images", type=int, default=2000, help="images to render")
    parser.add_argument("--batch", type=int, default=50, help="scenes per render_batch call (an episode)")
    parser.add_argument("--size", type=int, nargs=2, default=(160, 240), metavar=("H", "W"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    height, width = args.size

    sample_scenes(rng, 1000)  # warm-up
    _, wall, cpu = _timed(lambda: sample_scenes(rng, args.scenes))
    rows = [("sample_scenes", f"{args.scenes:,} scenes", args.scenes / wall, args.scenes / cpu, "scenes/s")]

    scenes = sample_scenes(rng, args.images)
    render_batch(scenes.take(np.arange(min(args.batch, args.images))), height, width)  # warm-up

    def batched() -> None:
        for start in range(0, args.images, args.batch):
            render_batch(scenes.take(np.arange(start, min(start + args.batch, args.images))), height, width)

    _, wall, cpu = _timed(batched)
    rows.append((f"render_batch (x{args.batch})", f"{args.images:,} images {width}x{height}", args.images / wall,
                 args.images / cpu, "images/s"))
    single = [scenes.scene(i) for i in range(min(args.images, 500))]
    _, wall, cpu = _timed(lambda: [render_scene(s, height, width) for s in single])
    rows.append(("render_scene", f"{len(single):,} images {width}x{height}", len(single) / wall, len(single) / cpu,
                 "images/s"))

    table = Table(title="CURI scene world speed (one core)")
    for col in ("what", "work", "wall rate", "cpu rate", "unit"):
        table.add_column(col, justify="right" if "rate" in col else "left")
    for what, work, wall_rate, cpu_rate, unit in rows:
        table.add_row(what, work, f"{wall_rate:,.0f}", f"{cpu_rate:,.0f}", unit)
    Console().print(table)


if __name__ == "__main__":
    main()
