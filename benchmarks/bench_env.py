"""Environment throughput per core: rendered images/s and episodes/s for each registered id.

Run single-process (one core): ``python benchmarks/bench_env.py [--seconds 2] [--ids ID ...]``.
Two figures per id: *episodes/s* for ``reset`` with images (sampling + rendering + fingerprint), and
*render images/s*, the renderer alone on that id's scenes at its default size, in batches of 50. Targets: ≥ 2,000
Kandinsky images/s at 128×128 and ≥ 20 CURI episodes/s with images.
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

import pix2code_env

console = Console(width=150)


def episodes_per_second(env_id: str, seconds: float, modality: str) -> tuple[float, int]:
    env = gym.make(env_id, subset="test", modality=modality)
    env.reset(seed=0)  # warm-up: loads concept pools and caches
    count, start, seed = 0, time.perf_counter(), 1
    while time.perf_counter() - start < seconds:
        env.reset(seed=seed)
        seed += 1
        count += 1
    elapsed = time.perf_counter() - start
    images = env.unwrapped.n_support + env.unwrapped.n_query
    env.close()
    return count / elapsed, images


def render_images_per_second(env_id: str, seconds: float) -> float:
    env = gym.make(env_id, subset="test", modality="scene").unwrapped
    family = env.family
    scenes = []
    for seed in range(4):
        env.reset(seed=seed)
        scenes += list(env._scenes.support_scenes) + list(env._scenes.query_scenes)
    height, width = family.image_shape
    batch = 50  # the size of a CURI episode; families that batch renders amortise set-up over it
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        first = count % (len(scenes) - batch)
        family.render_many(scenes[first : first + batch], height, width)
        count += batch
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--ids", nargs="*", default=None, help="environment ids (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ids = args.ids or pix2code_env.env_ids()

    table = Table(title="environment throughput, one core (subset=test)")
    for column in ("id", "size", "images/episode", "episodes/s (images)", "images/s (in episodes)",
                   "episodes/s (scene tables)", "render images/s"):
        table.add_column(column, justify="left" if column == "id" else "right")
    summary: dict[str, list[float]] = {"kandinsky_render": [], "curi_episodes": []}
    for env_id in ids:
        eps, images = episodes_per_second(env_id, args.seconds, "image")
        scene_eps, _ = episodes_per_second(env_id, args.seconds, "scene")
        render = render_images_per_second(env_id, args.seconds)
        shape = gym.make(env_id).unwrapped.image_shape
        table.add_row(env_id, f"{shape[1]}x{shape[0]}", str(images), f"{eps:,.1f}", f"{eps * images:,.0f}",
                      f"{scene_eps:,.1f}", f"{render:,.0f}")
        if "Kandinsky" in env_id:
            summary["kandinsky_render"].append(render)
        elif "CURI" in env_id:
            summary["curi_episodes"].append(eps * images / 50.0)  # CURI episodes have 50 images
    console.print(table)
    if summary["kandinsky_render"]:
        print(f"kandinsky_render_images_per_second={np.median(summary['kandinsky_render']):.0f}")
    if summary["curi_episodes"]:
        print(f"curi_episodes_per_second={np.median(summary['curi_episodes']):.1f}")


if __name__ == "__main__":
    main()
