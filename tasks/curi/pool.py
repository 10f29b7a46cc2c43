"""The CURI concept pool: the scene bank it is filtered on, the build command, and the loader.

Build (about a minute on one core; prints a summary table)::

    python -m tasks.curi.pool build

CURI drew 2,000,000 trees from its expander, threw some away (:func:`grammar.rejection`),
executed the distinct strings on ~1,000,000 scenes, kept those true on fewer than 10 % and more
than 10 of them, collapsed vacuous quantifiers and de-duplicated by string (curi.md §3.3, §4).
We re-run that process *in distribution*, deterministically and without simulating 2,000,000
draws: every string the expander can print gets its exact probability ``p`` of appearing in
2,000,000 draws (:func:`grammar.appearance_probability`), and is drawn in iff a per-string
uniform number, a hash of ``(LOTTERY_SEED, string)``, is below ``p``. That is CURI's procedure
with another seed: the released list is one such draw, in which 44 % of the strings had ``p``
below 1/2 (median 0.63), so no deterministic rule can reproduce its identity (the most likely set, ``p >=
1/2``, recovers 55 % of it with 19 % extra and a pool a third too small); a draw reproduces its
size, length histogram, quantifier and operator counts and split sizes, and shares ~60 % of
its strings, as two CURI runs would.

The concepts are executed on the train subset's scene bank (:mod:`tasks.curi.bank`), the
reference bank: the firing filter, the denotation classes and the oracles' extension sizes are
counted there, and train episodes draw from it, so every pool concept has at least 11 train
positives. Val and test episodes draw from banks of their own; the pool file records the block
fingerprints of all three.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.curi import grammar
from tasks.curi.bank import (
    BANK_BLOCK,
    BANK_SEED,
    BANK_SIZE,
    SUBSET_STREAMS,
    Bank,
    block_fingerprints,
    cache_dir,
    generate_bank,
    load_bank,
)
from tasks.curi.concepts import token_length
from tasks.curi.evaluate import Compiled, Objects
from tasks.curi.splits import split_codes

POOL_VERSION = 0
DATA_DIR = Path(__file__).resolve().parent / "data"
POOL_FILE = DATA_DIR / f"pool-v{POOL_VERSION}.json"
EXTENSIONS_FILE = DATA_DIR / f"extensions-v{POOL_VERSION}.npz"

MIN_COUNT = 10  # keep concepts true on more than this many bank scenes ...
MAX_RATE = 0.1  # ... and on fewer than this fraction of them
LOTTERY_SEED = 42  # CURI's own default seed
RARE_COUNT = 1000  # extensions this small are stored, so episodes never scan the bank for them


# ----------------------------------------------------------------------------- the pool


@dataclass(frozen=True)
class BankSpec:
    """Which scene banks a pool was counted on: seed, size, block and each subset's block fingerprints."""

    seed: int
    size: int
    block: int
    fingerprints: Mapping[str, tuple[str, ...]]

    def load(self, subset: str) -> Bank:
        """The subset's bank (cached on disk), checked against the recorded fingerprints."""
        if subset not in self.fingerprints:
            raise ValueError(f"no CURI scene bank for subset {subset!r}; expected one of {sorted(self.fingerprints)}")
        return load_bank(subset, self.seed, self.size, self.block, tuple(self.fingerprints[subset]))

    def to_json(self) -> dict[str, object]:
        return {
            "seed": self.seed, "size": self.size, "block": self.block,
            "sampler": "tasks.curi.sampler.sample_scenes(default_rng([seed, block, *stream]), block); "
                       f"streams {dict(SUBSET_STREAMS)}",
            "fingerprints": {subset: list(prints) for subset, prints in self.fingerprints.items()},
        }  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, object]) -> BankSpec:
        prints = data["fingerprints"]
        if not isinstance(prints, Mapping):
            raise ValueError("the CURI pool file predates per-subset scene banks; rebuild it with "
                             "`python -m tasks.curi.pool build`")
        return BankSpec(int(data["seed"]), int(data["size"]), int(data["block"]),
                        {subset: tuple(values) for subset, values in prints.items()})


@dataclass(frozen=True, eq=False)
class Pool:
    """A concept pool, in ascending order of its ids.

    The generated pool is in alphabetical order of the strings and its ids are the positions; a
    pool loaded from CURI's released list (:mod:`tasks.curi.concept_list`) keeps CURI's ids
    (also alphabetical there: hypothesis 7043 is "all cubes").
    """

    concepts: tuple[str, ...]
    log_prior: np.ndarray  # PCFG log-probability (the oracles' prior)
    count: np.ndarray  # number of reference-bank scenes satisfying the concept (|ext|)
    denotation: np.ndarray  # denotation class: index of the first concept with the same extension
    sample_prob: np.ndarray  # probability that one expander call prints the string (nan for a loaded list)
    bank: BankSpec
    splits: Mapping[str, str]  # split name -> one code per concept (see tasks.curi.splits)
    extensions: Mapping[int, np.ndarray]  # denotation class -> sorted bank indices, for rare classes
    ids: tuple[int, ...] = ()  # each concept's id (default: its position)
    source: str = "generated"  # "generated", or "list:<SHA-256 of the concept-list file>"

    def __post_init__(self) -> None:
        """Freeze the arrays and tables: one pool is shared by every family and oracle of a process."""
        for name in ("log_prior", "count", "denotation", "sample_prob"):
            getattr(self, name).setflags(write=False)
        for array in self.extensions.values():
            array.setflags(write=False)
        object.__setattr__(self, "splits", MappingProxyType(dict(self.splits)))
        object.__setattr__(self, "extensions", MappingProxyType(dict(self.extensions)))
        if not self.ids:
            object.__setattr__(self, "ids", tuple(range(len(self.concepts))))
        if len(self.ids) != len(self.concepts) or list(self.ids) != sorted(set(self.ids)):
            raise ValueError("pool ids must be distinct, ascending and one per concept")

    def __len__(self) -> int:
        return len(self.concepts)

    @property
    def bank_size(self) -> int:
        return self.bank.size

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.concepts)}

    @functools.cached_property
    def position(self) -> dict[int, int]:
        """Concept id -> position in the pool."""
        return {cid: i for i, cid in enumerate(self.ids)}

    @functools.cached_property
    def lengths(self) -> np.ndarray:
        return np.array([token_length(c) for c in self.concepts], dtype=np.int64)

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the concept strings in order: names the pool in caches."""
        return hashlib.sha256("\n".join(self.concepts).encode()).hexdigest()

    @functools.cached_property
    def compiled(self) -> Compiled:
        """Every concept compiled for fast evaluation (episodes need it for the alternate
        hypotheses); cached on disk beside the scene banks, since parsing 15,000 concepts takes
        longer than a whole episode."""
        path = cache_dir() / f"curi-compiled-{self.digest[:24]}.json"
        try:
            compiled = Compiled.from_tables(json.loads(path.read_text()))
            if len(compiled) == len(self):
                return compiled
        except (OSError, ValueError, KeyError, TypeError):
            pass
        compiled = Compiled(self.concepts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(compiled.to_tables(), separators=(",", ":")))
            os.replace(partial, path)
        except OSError:
            pass
        return compiled


@functools.lru_cache(maxsize=None)
def load_pool(path: str | None = None) -> Pool:
    """Read the pool files shipped in ``tasks/curi/data`` (or ``path`` and its extensions file)."""
    file = Path(path) if path else POOL_FILE
    ext_file = extensions_path(file)
    if not file.exists() or not ext_file.exists():
        raise FileNotFoundError(f"CURI pool files {file} / {ext_file} are missing; run `python -m tasks.curi.pool build`")
    data = json.loads(file.read_text())
    return Pool(
        concepts=tuple(data["concepts"]),
        log_prior=np.array(data["log_prior"], dtype=np.float64),
        count=np.array(data["count"], dtype=np.int64),
        denotation=np.array(data["denotation"], dtype=np.int64),
        sample_prob=np.array(data["sample_prob"], dtype=np.float64),
        bank=BankSpec.from_json(data["bank"]),
        splits=dict(data["splits"]),
        extensions=read_extensions(ext_file),
    )


def extensions_path(pool_path: Path) -> Path:
    """The extensions file that goes with a pool file (``pool-v0.json`` -> ``extensions-v0.npz``)."""
    return pool_path.with_name(pool_path.name.replace("pool-", "extensions-")).with_suffix(".npz")


def read_extensions(path: Path) -> dict[int, np.ndarray]:
    with np.load(path) as z:
        classes, offsets, gaps = z["classes"], z["offsets"], z["gaps"].astype(np.int64)
    return {int(c): np.cumsum(gaps[lo:hi]) for c, lo, hi in zip(classes, offsets[:-1], offsets[1:])}


def write_extensions(extensions: dict[int, np.ndarray], path: Path) -> None:
    classes = np.array(sorted(extensions), dtype=np.int64)
    parts = [np.diff(extensions[c], prepend=0) for c in classes]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    gaps = np.concatenate(parts).astype(np.uint32) if parts else np.zeros(0, dtype=np.uint32)
    np.savez_compressed(path, classes=classes, offsets=offsets, gaps=gaps)


@dataclass(frozen=True)
class BuildResult:
    """Everything the build computes, before it is written (tests build small pools with it)."""

    candidates: list[grammar.Candidate]  # the selected strings, before the firing filter
    counts: np.ndarray  # per selected candidate
    fingerprints: np.ndarray
    pool: Pool


def lottery(text: str, seed: int = LOTTERY_SEED) -> float:
    """A uniform number in [0, 1) fixed by (seed, string): the same on every machine and version."""
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2.0**64


def select_candidates(seed: int = LOTTERY_SEED) -> list[grammar.Candidate]:
    """The strings one (seeded) CURI run samples and keeps, before execution on scenes."""
    return [
        c
        for c in grammar.candidates()
        if lottery(c.text, seed) < grammar.appearance_probability(c.sample_prob) and grammar.rejection(c.text) is None
    ]


def build(
    bank_size: int = BANK_SIZE,
    chosen: Sequence[grammar.Candidate] | None = None,
    chunk: int = 8192,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildResult:
    """Run the whole construction; ``progress(stage, advance, total)`` reports work done.

    ``chosen`` replaces :func:`select_candidates` (tests build small pools from a few strings).
    """

    def report(stage: str, total: int) -> Callable[[int], None]:
        return (lambda k: progress(stage, k, total)) if progress else (lambda k: None)

    chosen = list(select_candidates() if chosen is None else chosen)
    compiled = Compiled([c.text for c in chosen])
    fingerprints, banks = {}, {}
    for subset in SUBSET_STREAMS:
        batch = generate_bank(bank_size, subset=subset, progress=report(f"{subset} scene bank", bank_size))
        banks[subset] = Objects.from_batch(batch)
        fingerprints[subset] = tuple(block_fingerprints(banks[subset]))
        del batch
    obj = banks["train"]
    del banks
    counts, prints = compiled.count(obj, chunk=chunk, progress=report("concepts x scenes", bank_size))
    keep = np.flatnonzero((counts > MIN_COUNT) & (counts < MAX_RATE * bank_size))
    order = sorted(keep.tolist(), key=lambda i: chosen[i].text)
    texts = tuple(chosen[i].text for i in order)
    first: dict[tuple[int, int], int] = {}
    denotation = np.array(
        [first.setdefault((int(counts[i]), int(prints[i])), j) for j, i in enumerate(order)], dtype=np.int64
    )
    pool = Pool(
        concepts=texts,
        log_prior=np.array([chosen[i].log_prior for i in order]),
        count=counts[order],
        denotation=denotation,
        sample_prob=np.array([chosen[i].sample_prob for i in order]),
        bank=BankSpec(BANK_SEED, bank_size, BANK_BLOCK, fingerprints),
        splits={},
        extensions={},
    )
    rare = np.unique(pool.denotation[pool.count <= RARE_COUNT])
    found = Compiled([texts[i] for i in rare]).extensions(obj, chunk=chunk) if rare.size else []
    extensions = {int(c): ids for c, ids in zip(rare, found)}
    pool = dataclasses.replace(pool, splits=split_codes(pool), extensions=extensions)
    return BuildResult(chosen, counts, prints, pool)


def write_pool(pool: Pool, path: Path = POOL_FILE) -> None:
    """Write the pool (JSON) and the rare extensions (compressed npz beside it)."""
    data = {
        "format": "pix2code-gym CURI concept pool",
        "version": POOL_VERSION,
        "command": "python -m tasks.curi.pool build",
        "construction": {
            "grammar": "CURI v2_typed_simple_fol, PCFG weights and expander dynamics of tasks/curi/grammar.py",
            "selection": f"strings kept by CURI's driver, drawn in when the first 8 bytes of sha256('{LOTTERY_SEED}:' + string),"
            f" little-endian / 2^64,"
            f" < P(appears in {grammar.CURI_TRIALS} expander calls)",
            "filter": f"true on more than {MIN_COUNT} and on fewer than {MAX_RATE:.0%} of the bank scenes",
            "extensions": f"bank indices of every denotation class true on at most {RARE_COUNT} scenes,"
            f" in {EXTENSIONS_FILE.name}",
        },
        "bank": pool.bank.to_json(),
        "concepts": list(pool.concepts),
        "log_prior": [round(float(v), 12) for v in pool.log_prior],
        "count": [int(v) for v in pool.count],
        "denotation": [int(v) for v in pool.denotation],
        "sample_prob": [float(f"{v:.6e}") for v in pool.sample_prob],
        "splits": dict(pool.splits),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=0, separators=(",", ":"))
    path.write_text(text + "\n")
    write_extensions(pool.extensions, extensions_path(path))


# ----------------------------------------------------------------------------- command line


def _summary(result: BuildResult, seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    from tasks.curi.splits import SPLITS, split_concepts

    pool = result.pool
    table = Table(title=f"CURI concept pool v{POOL_VERSION} ({seconds:.0f} s)")
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_row("scenes per bank (train / val / test)", f"{pool.bank_size:,}")
    table.add_row("candidate strings (selected)", f"{len(result.candidates):,}")
    table.add_row("concepts after the firing filter", f"{len(pool):,}")
    table.add_row("denotation classes", f"{len(np.unique(pool.denotation)):,}")
    quant = {"exists=": 0, "for-all=": 0}
    for c in pool.concepts:
        last = c.rsplit(" ", 1)[-1]
        quant[last] = quant.get(last, 0) + 1
    table.add_row("exists= / for-all= / collapsed", f"{quant['exists=']:,} / {quant['for-all=']:,} / "
                  f"{len(pool) - quant['exists='] - quant['for-all=']:,}")
    hist = np.bincount(pool.lengths)
    table.add_row("token lengths", ", ".join(f"{k}: {v:,}" for k, v in enumerate(hist) if v))
    for split in SPLITS:
        sizes = [len(split_concepts(split, s, pool)) for s in ("train", "val", "test")]
        table.add_row(f"split {split} train / val / test", " / ".join(f"{v:,}" for v in sizes))
    Console().print(table)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tasks.curi.pool", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate the pool and splits and write them to tasks/curi/data")
    b.add_argument("--bank-size", type=int, default=BANK_SIZE)
    b.add_argument("--output", type=Path, default=POOL_FILE)
    args = parser.parse_args(argv)

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    start = time.time()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(), TimeRemainingColumn(),
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, advance: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.advance(tasks[stage], advance)

        result = build(bank_size=args.bank_size, progress=progress)
    write_pool(result.pool, args.output)
    _summary(result, time.time() - start)
    ext = extensions_path(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB) and {ext} ({ext.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
