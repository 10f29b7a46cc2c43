"""Training episodes as stacked arrays: made by the env, in worker processes, cached in chunks.

Rendering a CURI image costs about a millisecond and sampling a CURI episode tens of
milliseconds, so episodes are the scarce resource of training on two cores. They are made in
*chunks* of consecutive seeds (chunk ``i`` = seeds ``i*size .. (i+1)*size-1`` of the source),
by worker processes ahead of the trainer, and saved as ``.npz`` files so that a resumed run
never makes an episode twice. Which chunks a training step may draw from is a function of the
step alone (:meth:`EpisodeStream.window`), so a run is deterministic however fast the workers
are: the trainer waits for a chunk rather than use whatever happens to be ready.

This module imports no torch: worker processes need only the env.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from pathlib import Path

import gymnasium as gym
import numpy as np

import pix2code_env  # noqa: F401  (registers the ids)

KEYS = ("support", "support_mask", "support_labels", "query", "query_mask", "query_labels")


@dataclass(frozen=True)
class Source:
    """Where episodes come from: an env id and subset in one modality (and image shape), with
    optionally a restricted list of concepts (each seed's concept is drawn from it with a
    generator seeded by the seed, e.g. Kandinsky's held-out validation concepts)."""

    env_id: str
    subset: str
    modality: str
    image_shape: tuple[int, int] | None = None
    concepts: tuple[str, ...] | None = None

    def key(self) -> str:
        """A short digest naming this source in cache file names."""
        text = json.dumps([self.env_id, self.subset, self.modality, self.image_shape, self.concepts], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def make_env(self) -> gym.Env:
        kwargs = {"subset": self.subset, "modality": self.modality}
        if self.modality == "image":
            kwargs["image_size"] = list(self.image_shape) if self.image_shape else None
        return gym.make(self.env_id, **{k: v for k, v in kwargs.items() if v is not None})


def episode_arrays(env: gym.Env, source: Source, seed: int) -> dict[str, np.ndarray]:
    """One episode of ``source`` as the arrays a model reads (labels included: training only)."""
    options = None
    if source.concepts:
        pick = np.random.default_rng([seed, 0x5E7]).integers(len(source.concepts))
        options = {"concept": source.concepts[int(pick)]}
    obs, _ = env.reset(seed=seed, options=options)
    episode = env.unwrapped.episode
    if source.modality == "image":
        out = {"support": obs["support_images"], "query": obs["query_images"]}
    else:
        out = {
            "support": obs["support_objects"], "support_mask": obs["support_object_mask"].astype(bool),
            "query": obs["query_objects"], "query_mask": obs["query_object_mask"].astype(bool),
        }
    out["support_labels"] = np.asarray(obs["support_labels"], dtype=np.int8)
    out["query_labels"] = np.asarray(episode.query_labels, dtype=np.int8)
    return out


def stack(episodes: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.stack([e[key] for e in episodes]) for key in KEYS if key in episodes[0]}


def make_episodes(source: Source, seeds: Sequence[int]) -> dict[str, np.ndarray]:
    """Episodes of ``source`` for ``seeds``, stacked (B, ...)."""
    env = source.make_env()
    try:
        return stack([episode_arrays(env, source, int(s)) for s in seeds])
    finally:
        env.close()


_WORKER_ENV: dict[Source, gym.Env] = {}


def _make_chunk(source: Source, seeds: list[int], path: str) -> str:
    """Worker task: make a chunk and write it atomically to ``path``."""
    if source not in _WORKER_ENV:
        _WORKER_ENV[source] = source.make_env()
    env = _WORKER_ENV[source]
    arrays = stack([episode_arrays(env, source, s) for s in seeds])
    save_arrays(arrays, Path(path))
    return path


def save_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """A cached chunk, or None when it is missing or unreadable (a cache is rebuilt, never trusted)."""
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, KeyError):
        return None


class EpisodeStream:
    """Chunks of a source's episodes, made ahead by ``workers`` processes and cached in ``cache``.

    ``chunk(i)`` returns chunk ``i`` (waiting for it if needed) and queues the next
    ``workers`` chunks. ``workers=0`` makes chunks in this process, when asked.
    """

    def __init__(self, source: Source, cache: Path, chunk_size: int, workers: int = 1, first_seed: int = 0) -> None:
        self.source, self.cache, self.chunk_size = source, Path(cache), int(chunk_size)
        self.workers, self.first_seed = int(workers), int(first_seed)
        self._pending: dict[int, AsyncResult] = {}
        self._pool = multiprocessing.get_context("fork").Pool(self.workers) if self.workers > 0 else None
        self.made = 0  # episodes made by this process's workers (cache hits excluded)

    def path(self, index: int) -> Path:
        return self.cache / f"{self.source.subset}-{self.source.key()}-{self.chunk_size}-{index:05d}.npz"

    def seeds(self, index: int) -> list[int]:
        start = self.first_seed + index * self.chunk_size
        return list(range(start, start + self.chunk_size))

    def _queue(self, index: int) -> None:
        if self._pool is None or index in self._pending or self.path(index).is_file():
            return
        self._pending[index] = self._pool.apply_async(_make_chunk, (self.source, self.seeds(index), str(self.path(index))))

    def chunk(self, index: int) -> dict[str, np.ndarray]:
        for ahead in range(index, index + self.workers + 1):
            self._queue(ahead)
        if index in self._pending:
            self._pending.pop(index).get()
            self.made += self.chunk_size
        arrays = load_arrays(self.path(index))
        if arrays is None:
            _make_chunk(self.source, self.seeds(index), str(self.path(index)))
            self.made += self.chunk_size
            arrays = load_arrays(self.path(index))
            assert arrays is not None
        return arrays

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> EpisodeStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cached_episodes(source: Source, seeds: Sequence[int], cache: Path) -> dict[str, np.ndarray]:
    """A fixed episode set (validation, tests) made once and cached under ``cache``."""
    seeds = [int(s) for s in seeds]
    tag = hashlib.sha256(json.dumps(seeds).encode()).hexdigest()[:8]
    path = Path(cache) / f"fixed-{source.subset}-{source.key()}-{len(seeds)}-{tag}.npz"
    arrays = load_arrays(path)
    if arrays is None:
        arrays = make_episodes(source, seeds)
        save_arrays(arrays, path)
    return arrays
