"""CURI's scene banks: one per subset, generated from seeds, cached on disk.

CURI executed its concepts on about a million scenes and drew episodes from scene sets of its
own per subset (curi.md §2.4, §5). We do the same: each subset (train, val, test) has a bank of
``BANK_SIZE`` scenes from :func:`tasks.curi.sampler.sample_scenes`, generated in blocks of
``BANK_BLOCK`` from its own seeds, so no scene is shared between subsets. The train bank is the
reference bank: the concept pool is filtered on it and the oracles count extensions on it.

A bank takes seconds to generate, so the first process to need one writes it to the cache
directory (``$PIX2CODE_CACHE``, else ``$XDG_CACHE_HOME/pix2code-gym``, else
``~/.cache/pix2code-gym``) as one flat file with a JSON manifest holding the payload's SHA-256;
later processes read it back (well under a second) and check both the SHA-256 and the bank's
block fingerprints against those the pool file records.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.curi import scenes
from tasks.curi.evaluate import Objects
from tasks.curi.sampler import sample_scenes

BANK_SEED = 20210716  # CURI's ICML 2021 publication date
BANK_SIZE = 1_000_000
BANK_BLOCK = 10_000
SUBSET_STREAMS = {"train": (), "val": (1,), "test": (2,)}  # appended to (seed, block)
CACHE_FORMAT = 1


def bank_block(block: int, subset: str = "train", seed: int = BANK_SEED, block_size: int = BANK_BLOCK) -> scenes.SceneBatch:
    """Block ``block`` of a subset's bank (scenes ``block * block_size`` onward)."""
    return sample_scenes(np.random.default_rng([seed, block, *SUBSET_STREAMS[subset]]), block_size)


def generate_bank(
    size: int = BANK_SIZE,
    seed: int = BANK_SEED,
    block_size: int = BANK_BLOCK,
    subset: str = "train",
    progress: Callable[[int], None] | None = None,
) -> scenes.SceneBatch:
    """The first ``size`` scenes of a subset's bank (a whole number of blocks)."""
    if size <= 0 or size % block_size:
        raise ValueError(f"bank size must be a positive multiple of {block_size}, got {size}")
    if subset not in SUBSET_STREAMS:
        raise ValueError(f"unknown CURI subset {subset!r}; expected one of {list(SUBSET_STREAMS)}")
    arrays: dict[str, np.ndarray] = {}
    for b in range(size // block_size):
        block = bank_block(b, subset, seed, block_size)
        for f in dataclasses.fields(block):
            value = np.asarray(getattr(block, f.name))
            if f.name not in arrays:
                arrays[f.name] = np.empty((size,) + value.shape[1:], dtype=value.dtype)
            arrays[f.name][b * block_size : (b + 1) * block_size] = value
        if progress is not None:
            progress(block_size)
    return scenes.SceneBatch(**arrays)


def block_fingerprints(obj: Objects, block_size: int = BANK_BLOCK) -> list[str]:
    """SHA-256 (first 16 hex digits) of each block's object codes: what the concepts see."""
    out = []
    for start in range(0, len(obj), block_size):
        part = obj.slice(start, min(start + block_size, len(obj)))
        h = hashlib.sha256(np.ascontiguousarray(part.planes).tobytes())
        h.update(np.ascontiguousarray(part.n_objects).tobytes())
        out.append(h.hexdigest()[:16])
    return out


@dataclass(frozen=True)
class Bank:
    """A bank in memory: full scenes (for rendering) and their codes (for concepts)."""

    subset: str
    batch: scenes.SceneBatch
    objects: Objects

    def __len__(self) -> int:
        return len(self.objects)


def cache_dir() -> Path:
    root = os.environ.get("PIX2CODE_CACHE")
    if root:
        return Path(root).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "pix2code-gym"


@functools.lru_cache(maxsize=3)
def load_bank(subset: str, seed: int, size: int, block: int, fingerprints: tuple[str, ...]) -> Bank:
    """A subset's bank, from the disk cache when a valid copy is there, else generated (and cached).

    ``fingerprints`` are the bank's block fingerprints as the pool file records them: a bank
    that differs (another sampler) is an error that names the rebuild command.
    """
    if block != BANK_BLOCK:
        raise ValueError(f"this code generates banks in blocks of {BANK_BLOCK}; the pool file asks for {block}")
    path = cache_dir() / f"curi-bank-v{CACHE_FORMAT}-{subset}-{seed}-{size}.bin"
    cached = _read_cache(path, fingerprints)
    if cached is not None:
        return Bank(subset, *cached)
    batch = generate_bank(size, seed, block, subset)
    objects = Objects.from_batch(batch)
    found = tuple(block_fingerprints(objects, block))
    if found != fingerprints:
        bad = next((i for i, (a, b) in enumerate(zip(found, fingerprints)) if a != b), min(len(found), len(fingerprints)))
        raise RuntimeError(
            f"the CURI {subset} scene bank differs from the one the concept pool was built with (block {bad}): "
            "the scene sampler changed; rebuild the pool with `python -m tasks.curi.pool build`"
        )
    _write_cache(path, batch, objects, found)
    return Bank(subset, batch, objects)


_BATCH_FIELDS = tuple(f.name for f in dataclasses.fields(scenes.SceneBatch))


def _write_cache(path: Path, batch: scenes.SceneBatch, objects: Objects, fingerprints: Sequence[str]) -> None:
    """Write the bank as one flat file plus a manifest, atomically; a read-only cache is skipped."""
    arrays = {f"batch.{name}": np.ascontiguousarray(getattr(batch, name)) for name in _BATCH_FIELDS}
    arrays["objects.planes"] = np.ascontiguousarray(objects.planes)
    arrays["objects.n_objects"] = np.ascontiguousarray(objects.n_objects)
    fields, offset, digest = [], 0, hashlib.sha256()
    for name, array in arrays.items():
        fields.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "offset": offset})
        offset += array.nbytes
        digest.update(array.tobytes())
    manifest = {"format": CACHE_FORMAT, "fields": fields, "bytes": offset, "sha256": digest.hexdigest(),
                "fingerprints": list(fingerprints)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as out:
            for array in arrays.values():
                out.write(array.tobytes())
        os.replace(out.name, path)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as out:
            json.dump(manifest, out)
        os.replace(out.name, path.with_suffix(".json"))
    except OSError as error:
        warnings.warn(f"could not cache the CURI scene bank in {path.parent} ({error}); it will be generated again")


def _read_cache(path: Path, fingerprints: tuple[str, ...]) -> tuple[scenes.SceneBatch, Objects] | None:
    """The cached bank, or None when it is missing, corrupt, stale or another bank's."""
    try:
        manifest = json.loads(path.with_suffix(".json").read_text())
        if manifest.get("format") != CACHE_FORMAT or tuple(manifest["fingerprints"]) != fingerprints:
            return None
        payload = path.read_bytes()
    except (OSError, ValueError, KeyError):
        return None
    if len(payload) != manifest["bytes"] or hashlib.sha256(payload).hexdigest() != manifest["sha256"]:
        return None
    arrays = {}
    for field in manifest["fields"]:
        dtype = np.dtype(field["dtype"])
        count = int(np.prod(field["shape"], dtype=np.int64))
        arrays[field["name"]] = np.frombuffer(payload, dtype, count, field["offset"]).reshape(field["shape"])
    batch = scenes.SceneBatch.unchecked(**{name: arrays[f"batch.{name}"] for name in _BATCH_FIELDS})
    return batch, Objects(arrays["objects.planes"], arrays["objects.n_objects"])
