"""Layout priors: scenes the agent has seen in training, for estimating program extensions.

The size principle needs |ext(h)|, which the solver estimates on synthetic scenes: uniform
attributes on object layouts (positions, sizes) copied from real scenes. CURI's layouts do not
depend on the concept, so the unlabelled query scenes of a few *training* episodes are a good,
concept-free source; Kandinsky's object counts and sizes do depend on the concept, so it uses
the support set's own layouts instead and has no prior file.

The prior is a versioned artifact, rebuilt by ``python -m agents.pix2code.layouts build`` and
checked against a regeneration in the tests. It holds object tables only: no labels, no concepts.
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class LayoutSource:
    """Where a domain's layout prior comes from: queries of ``episodes`` training episodes."""

    env_id: str
    episodes: int
    version: int = 0

    def path(self, domain: str) -> Path:
        return DATA / f"layouts-{domain}-v{self.version}.npz"


SOURCES: dict[str, LayoutSource] = {"curi": LayoutSource("Pix2Code-CURI-v0", episodes=20)}


def collect(source: LayoutSource) -> tuple[np.ndarray, np.ndarray]:
    """Object tables and masks of the queries of seeds 0.. of the source's training subset."""
    import gymnasium as gym

    import pix2code_env  # noqa: F401  (registers the ids)

    env = gym.make(source.env_id, subset="train", modality="scene")
    objects, masks = [], []
    for seed in range(source.episodes):
        obs, _ = env.reset(seed=seed)
        objects.append(obs["query_objects"])
        masks.append(obs["query_object_mask"])
    env.close()
    return np.concatenate(objects), np.concatenate(masks).astype(bool)


@functools.lru_cache(maxsize=None)
def load_layouts(domain: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The domain's layout prior as read-only (objects, mask), or None when it has none."""
    source = SOURCES.get(domain)
    if source is None:
        return None
    path = source.path(domain)
    if not path.exists():
        raise FileNotFoundError(f"layout prior {path} is missing; run `python -m agents.pix2code.layouts build`")
    with np.load(path) as data:
        objects, mask = data["objects"], data["mask"]
    objects.setflags(write=False)
    mask.setflags(write=False)
    return objects, mask


def main(argv: list[str] | None = None) -> None:
    from rich.console import Console

    parser = argparse.ArgumentParser(prog="python -m agents.pix2code.layouts", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build"])
    parser.parse_args(argv)
    console = Console()
    DATA.mkdir(exist_ok=True)
    for domain, source in SOURCES.items():
        objects, mask = collect(source)
        path = source.path(domain)
        np.savez_compressed(path, objects=objects, mask=mask, env_id=source.env_id, episodes=source.episodes)
        console.print(f"{domain}: {len(objects)} scenes, {int(mask.sum())} objects from {source.episodes} "
                      f"training episodes of {source.env_id} -> {path} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
