"""CURI's released concept list (or any list in its format) as the CURI family's concept pool.

Published CURI and Pix2Code numbers are on CURI's own 14,929 concepts, which a re-run of CURI's
sampler cannot reproduce (its list is one random draw). A user who has ``hyp_to_id.json`` (CC
BY-NC; it ships with Pix2Code's repository, ``curi/concept_data/``) points the family at it:

    gym.make("Pix2Code-CURI-v0", family_options={"concept_list": "path/to/hyp_to_id.json"})

or sets ``PIX2CODE_CURI_CONCEPT_LIST``. The pool then holds exactly the file's strings with the
file's ids (CURI's hypothesis 7043 is "all cubes"); the splits follow the same rules, hard
negatives come from the same strings, and every fingerprint names the file's SHA-256.
Extension sizes and denotation classes are counted on the reference (train) scene bank, once,
and cached beside the banks. Pix2Code trained on 100 concepts per split
(``task_id_dict_filtered.json``); :func:`load_train_ids` reads that file for the ``train_ids``
option.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tasks.curi import grammar
from tasks.curi.bank import cache_dir
from tasks.curi.concepts import parse
from tasks.curi.evaluate import Compiled
from tasks.curi.pool import RARE_COUNT, Pool, load_pool, read_extensions, write_extensions
from tasks.curi.splits import split_codes

ENV_VARIABLE = "PIX2CODE_CURI_CONCEPT_LIST"
#: split -> key of Pix2Code's ``task_id_dict_filtered.json``
TRAIN_ID_KEYS = {
    "iid": "iid_sampling_train",
    "comp": "comp_sampling_train",
    "color": "color_sampling_train",
    "shape": "shape_sampling_train",
    "color_material": "color_material_train",
    "color_location": "color_location_train",
    "color_count": "color_count_train",
    "color_boolean": "color_boolean_train",
    "length_threshold_10": "length_threshold_train",
}


class ConceptListError(ValueError):
    """A concept-list file that cannot be used; the message names the file and the first bad entry."""


def _read_json(path: Path, what: str) -> object:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConceptListError(f"{what} {path}: cannot be read ({error.strerror or error})") from None

    def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            if key in seen:
                raise ConceptListError(f"{what} {path}: the key {key!r} appears twice")
            seen[key] = value
        return seen

    try:
        return json.loads(raw, object_pairs_hook=no_duplicate_keys)
    except json.JSONDecodeError as error:
        raise ConceptListError(f"{what} {path}: not valid JSON ({error})") from None


def file_digest(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_concept_list(path: str | os.PathLike) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The (strings, ids) of a ``hyp_to_id.json``-style file, in ascending id order, validated."""
    path = Path(path)
    data = _read_json(path, "CURI concept list")
    if not isinstance(data, dict) or not data:
        raise ConceptListError(
            f"CURI concept list {path}: expected a non-empty JSON object mapping concept strings to integer ids"
        )
    owner: dict[int, str] = {}
    for n, (text, cid) in enumerate(data.items()):
        if isinstance(cid, bool) or not isinstance(cid, int) or cid < 0:
            raise ConceptListError(f"CURI concept list {path}: entry {n} {text!r} has id {cid!r}; expected an integer >= 0")
        if cid in owner:
            raise ConceptListError(f"CURI concept list {path}: id {cid} is given to both {owner[cid]!r} and {text!r}")
        try:
            parse(text)
        except ValueError as error:
            raise ConceptListError(f"CURI concept list {path}: entry {n} {text!r} does not parse: {error}") from None
        owner[cid] = text
    ids = tuple(sorted(owner))
    return tuple(owner[i] for i in ids), ids


@functools.lru_cache(maxsize=4)
def _pool_for(path: str, digest: str) -> Pool:
    concepts, ids = read_concept_list(path)
    reference = load_pool()
    bank = reference.bank
    bank_digest = hashlib.sha256("".join(bank.fingerprints["train"]).encode()).hexdigest()
    cached = cache_dir() / f"curi-list-{digest[:16]}-{bank_digest[:16]}.npz"
    counts, prints, extensions = _read_stats(cached, len(concepts))
    if counts is None:
        objects = bank.load("train").objects
        counts, prints = Compiled(concepts).count(objects)
        denotation = _classes(counts, prints)
        rare = np.unique(denotation[counts <= RARE_COUNT])
        found = Compiled([concepts[i] for i in rare]).extensions(objects) if rare.size else []
        extensions = {int(c): e for c, e in zip(rare, found)}
        _write_stats(cached, counts, prints, extensions)
    pool = Pool(
        concepts=concepts,
        log_prior=np.array([grammar.log_prior(text) for text in concepts]),
        count=counts,
        denotation=_classes(counts, prints),
        sample_prob=np.full(len(concepts), np.nan),
        bank=bank,
        splits={},
        extensions=extensions,
        ids=ids,
        source=f"list:{digest}",
    )
    return dataclasses.replace(pool, splits=split_codes(pool))


def load_concept_list(path: str | os.PathLike) -> Pool:
    """A pool of exactly the file's concepts and ids (validated; statistics cached on disk)."""
    resolved = str(Path(path).expanduser().resolve())
    if not Path(resolved).is_file():
        raise ConceptListError(f"CURI concept list {path}: no such file (CURI's hyp_to_id.json ships with "
                               "Pix2Code's repository, ml-research/pix2code, in curi/concept_data/)")
    return _pool_for(resolved, file_digest(resolved))


def _classes(counts: np.ndarray, prints: np.ndarray) -> np.ndarray:
    first: dict[tuple[int, int], int] = {}
    return np.array([first.setdefault((int(c), int(p)), i) for i, (c, p) in enumerate(zip(counts, prints))], dtype=np.int64)


def _read_stats(path: Path, n: int) -> tuple[np.ndarray | None, np.ndarray | None, dict[int, np.ndarray]]:
    try:
        with np.load(path) as z:
            counts, prints = z["counts"], z["prints"]
        extensions = read_extensions(path.with_suffix(".ext.npz"))
    except (OSError, KeyError, ValueError):
        return None, None, {}
    if counts.shape != (n,) or prints.shape != (n,):
        return None, None, {}
    return counts.astype(np.int64), prints.astype(np.uint64), extensions


def _write_stats(path: Path, counts: np.ndarray, prints: np.ndarray, extensions: dict[int, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, counts=counts, prints=prints)
        ext_partial = path.with_suffix(f".{os.getpid()}.tmp.ext.npz")
        write_extensions(extensions, ext_partial)
        os.replace(ext_partial, path.with_suffix(".ext.npz"))
        os.replace(partial, path)
    except OSError:
        pass  # an unwritable cache only costs the next process the same count


def load_train_ids(source: str | os.PathLike | Sequence[int], split: str) -> tuple[int, ...]:
    """Training concept ids for a split: a list of ids, or a ``task_id_dict_filtered.json`` file."""
    if not isinstance(source, (str, os.PathLike)):
        ids = list(source)
        if not ids or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise ConceptListError(f"train_ids must be a non-empty list of integer concept ids, got {source!r}")
        return tuple(sorted(set(ids)))
    path = Path(source).expanduser()
    data = _read_json(path, "Pix2Code training subsets")
    key = TRAIN_ID_KEYS[split]
    if not isinstance(data, Mapping) or key not in data:
        raise ConceptListError(f"Pix2Code training subsets {path}: expected a JSON object with the key {key!r}")
    return load_train_ids(data[key], split)
