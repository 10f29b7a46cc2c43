"""Speed of the CURI scene world: scene sampling (scenes/s) and rendering (images/s), one core.

Usage: ``python benchmarks/bench_curi_render.py [--scenes 1000000] [--images 2000] [--batch 50]``.
Reports wall-clock and CPU (process) time; on a shared machine the CPU figure is the steadier.
The target is an episode (50 images at 240x160) 20 times a second per core including sampling:
``render_scenes`` on lists of 50 scenes must reach 1,500 images/s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tasks.curi.render import render_batch, render_scene, render_scenes
from tasks.curi.sampler import sample_scenes


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=1_000_000, help="scenes to sample")
    parser.add_argument("--images", type=int, default=2000, help="images to render")
    parser.add_argument("--batch", type=int, default=50, help="scenes per render call (an episode)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds; the best one is reported")
    parser.add_argument("--size", type=int, nargs=2, default=(160, 240), metavar=("H", "W"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    height, width = args.size

    sample_scenes(rng, 1000)  # warm-up
    _, wall, cpu = _timed(lambda: sample_scenes(rng, args.scenes))
    rows = [("sample_scenes", f"{args.scenes:,} scenes", args.scenes / wall, args.scenes / cpu, "scenes/s")]

    scenes = sample_scenes(rng, args.images)
    starts = range(0, args.images, args.batch)
    batches = [scenes.take(np.arange(s, min(s + args.batch, args.images))) for s in starts]
    episodes = [batch.scenes() for batch in batches]
    single = [scenes.scene(i) for i in range(min(args.images, 500))]
    def each(render, items):  # images are dropped as they come (a growing heap would cost page faults)
        def run() -> None:
            for item in items:
                render(item, height, width)

        return run

    work = {  # name -> (images, run)
        f"render_scenes (x{args.batch})": (args.images, each(render_scenes, episodes)),
        f"render_batch (x{args.batch})": (args.images, each(render_batch, batches)),
        "render_scene": (len(single), each(render_scene, single)),
    }
    render_batch(batches[0], height, width)  # warm-up
    best = {name: (0.0, 0.0) for name in work}
    # rounds interleave the workloads, so that a busy spell on a shared machine hits them alike
    with Progress(transient=True) as progress:
        task = progress.add_task("rendering", total=args.rounds * len(work))
        for _ in range(args.rounds):
            for name, (n, run) in work.items():
                _, wall, cpu = _timed(run)
                best[name] = (max(best[name][0], n / wall), max(best[name][1], n / cpu))
                progress.advance(task)
    for name, (n, _) in work.items():
        rows.append((name, f"{n:,} images {width}x{height}", *best[name], "images/s"))

    table = Table(title=f"CURI scene world speed (one core; rendering: best of {args.rounds} rounds)")
    for col in ("what", "work", "wall rate", "cpu rate", "unit"):
        table.add_column(col, justify="right" if "rate" in col else "left")
    for what, work_done, wall_rate, cpu_rate, unit in rows:
        table.add_row(what, work_done, f"{wall_rate:,.0f}", f"{cpu_rate:,.0f}", unit)
    Console().print(table)


if __name__ == "__main__":
    main()
