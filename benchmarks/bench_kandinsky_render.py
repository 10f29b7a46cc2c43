"""Rendering speed of Kandinsky figures, single process: images per second at several sizes.

    python benchmarks/bench_kandinsky_render.py [--scenes 300] [--seconds 3]

Figures come from the support sets of all 200 RelKP concepts (2–6 objects, the family's own mix
of shapes and sizes). The target is ≥ 2,000 images/s per core at 128×128.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from tasks.kandinsky import KandinskyFamily

SIZES = (64, 128, 256, 640)


def benchmark_scenes(count: int) -> list:
    family = KandinskyFamily()
    rng = np.random.default_rng(0)
    concepts = family.concept_ids("train") + family.concept_ids("test")
    per_concept = -(-count // len(concepts))
    scenes = []
    for concept in concepts:
        subset = "train" if concept in family.concept_ids("train") else "test"
        scenes += family.sample_episode(rng, concept, subset).support_scenes[:per_concept]
    return scenes[:count]


def images_per_second(family: KandinskyFamily, scenes: list, size: int, seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for scene in scenes:
            family.render(scene, size, size)
        done += len(scenes)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per image size")
    args = parser.parse_args()
    family = KandinskyFamily()
    scenes = benchmark_scenes(args.scenes)
    mean_objects = np.mean([len(s) for s in scenes])
    table = Table(title=f"Kandinsky rendering, 1 process, {len(scenes)} figures, {mean_objects:.1f} objects each")
    for column in ("size", "images/s", "ms/image"):
        table.add_column(column, justify="right")
    for size in SIZES:
        rate = images_per_second(family, scenes, size, args.seconds)
        table.add_row(f"{size}×{size}", f"{rate:,.0f}", f"{1000 / rate:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
