"""The fixed RelKP concept list: how it is selected, the versioned file, and the build command.

    python -m tasks.kandinsky.concepts build     # regenerates data/relkp_v0.json

Selection follows Pix2Code's ``generate_tasks.py`` (kandinsky.md §4.3): every clause group is
shuffled (one generator seeded 1244, groups in a fixed order) and walked in that order, keeping
clauses until the group's cap is reached. The reference caps allow at most 176 concepts and its
train/test name lists are not public, so two steps differ:

* caps are the reference caps × 1.3 (10 → 13, 6 → 8), and the kept lists are then cut to exactly
  200 concepts by water-filling: every group keeps min(its list, a common share), the share
  chosen as large as 200 allows, and the few concepts left over go one each to the first groups
  (in group order) that still have some. So every group contributes, as evenly as it can;
* the split is stratified: each group's concepts are dealt alternately to train and test (its
  first to the smaller side), so both subsets mix all groups and hold 100 concepts each.

A clause is kept only if

* it is sampleable: over 20,000 boosted random figures (one set per object count, drawn as the
  episodes draw them), positives and negatives both occur at a rate of at least 1/250, so a
  10,000-figure budget runs out with probability below e^-40
  (tautologies such as ``4_pair1_same_color`` — four objects in three colours always contain a
  same-colour pair — fail here); and
* it is not equivalent to a clause kept before it (earlier group, or earlier in its group): two
  clauses whose truth values agree on a fixed probe set of figures (random figures and figures
  forced to one colour, shape or size) are one concept, e.g. ``4_pair1_not_same_color`` and
  ``4_not_same_color``. Otherwise a concept could sit in train and its twin in test.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tasks.kandinsky.clauses import Clause, enumerate_group
from tasks.kandinsky.concept_list import DATA_FILE, VERSION, ConceptEntry, ConceptList, GroupReport, write_concepts
from tasks.kandinsky.predicates import Codes
from tasks.kandinsky.figures import Figures, random_figures
from tasks.kandinsky.sampling import acceptance_rate, codes_of, propose

SEED = 1244
COMMAND = "python -m tasks.kandinsky.concepts build"

RATE_DRAWS = 20_000
MIN_RATE = 1 / 250
PROBE_DRAWS = 2048  # per stratum; 8 strata (each subset of {colour, shape, size} forced equal)
SUBSET_SIZE = 100

# The reference caps (kandinsky.md §4.3) × 1.3, rounded: 10 → 13, 6 → 8.
GROUP_CAPS: dict[str, int] = {
    "2_no_pairs_1": 13, "2_no_pairs_2": 13,
    "3_no_pairs_1": 13, "3_no_pairs_2": 13,
    "4_no_pairs_1": 8, "4_no_pairs_2": 13,
    "5_no_pairs_1": 8, "5_no_pairs_2": 13,
    "6_no_pairs_1": 8, "6_no_pairs_2": 13,
    "4_pair_1_1": 8, "4_pair_1_2": 13, "4_pair_2_1": 13, "4_pair_2_2": 13,
    "6_pair_1_1": 8, "6_pair_1_2": 13, "6_pair_2_1": 13, "6_pair_2_2": 13, "6_pair_3_1": 13, "6_pair_3_2": 13,
}  # fmt: skip


def _concept_rng(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def _probe(n_objects: int) -> Codes:
    """A fixed set of figures (codes) on which equivalent clauses must agree."""
    rng = np.random.default_rng([SEED, n_objects])
    parts = []
    for mask in range(8):
        forced = tuple((p, 1.0) for bit, p in enumerate(("same_color", "same_shape", "same_size")) if mask >> bit & 1)
        parts.append(propose(rng, n_objects, forced, PROBE_DRAWS))
    return codes_of(*(np.concatenate(arrays) for arrays in zip(*parts)))


def _round(rate: float) -> float:
    return round(rate, 4)


class _Validation:
    """Sampleability and equivalence checks, remembering the truth tables of kept clauses."""

    def __init__(self) -> None:
        self.probes: dict[int, Codes] = {}
        self.figures: dict[int, Figures] = {}
        self.seen: set[tuple[int, bytes]] = set()

    def judge(self, clause: Clause) -> ConceptEntry | str:
        """A kept entry, or the reason to drop the clause ("equivalent" or "unsampleable")."""
        n = clause.n_objects
        if n not in self.probes:
            self.probes[n] = _probe(n)
        key = (n, np.packbits(clause.evaluate(self.probes[n])).tobytes())
        if key in self.seen:
            return "equivalent"
        if n not in self.figures:
            self.figures[n] = random_figures(np.random.default_rng([SEED, n, 1]), n, RATE_DRAWS)
        rng = _concept_rng(clause.name)
        pos = acceptance_rate(rng, clause, True, self.figures[n])
        neg = acceptance_rate(rng, clause, False, self.figures[n])
        if min(pos, neg) < MIN_RATE:
            return "unsampleable"
        self.seen.add(key)
        return ConceptEntry(clause.name, clause.group, _round(pos), _round(neg))


def _walk_group(
    group: str, cap: int, shuffler: np.random.Generator, validation: _Validation
) -> tuple[list[ConceptEntry], dict[str, int]]:
    candidates = sorted(enumerate_group(group), key=lambda c: c.name)
    kept: list[ConceptEntry] = []
    counts = {"candidates": len(candidates), "examined": 0, "unsampleable": 0, "equivalent": 0}
    for index in shuffler.permutation(len(candidates)).tolist():
        if len(kept) == cap:
            break
        counts["examined"] += 1
        verdict = validation.judge(candidates[index])
        if isinstance(verdict, ConceptEntry):
            kept.append(verdict)
        else:
            counts[verdict] += 1
    return kept, counts


def _water_fill(lengths: list[int], total: int) -> list[int]:
    """Counts ≤ lengths summing to ``total``: a common share, the remainder to the first groups."""
    if sum(lengths) < total:
        raise RuntimeError(f"the groups offer {sum(lengths)} concepts, fewer than {total}; raise GROUP_CAPS")
    share = max(s for s in range(max(lengths) + 1) if sum(min(n, s) for n in lengths) <= total)
    counts = [min(n, share) for n in lengths]
    for i, n in enumerate(lengths):
        if sum(counts) == total:
            break
        if n > share:
            counts[i] += 1
    return counts


def build_concepts(progress: Callable[[str, int, int], None] | None = None) -> ConceptList:
    """Select, validate and split the RelKP concepts: a pure function of the constants above.

    ``progress(group, index, n_groups)`` is called after each group.
    """
    shuffler = np.random.default_rng(SEED)
    validation = _Validation()
    walked = []
    for i, (group, cap) in enumerate(GROUP_CAPS.items()):
        walked.append(_walk_group(group, cap, shuffler, validation))
        if progress is not None:
            progress(group, i + 1, len(GROUP_CAPS))
    counts = _water_fill([len(kept) for kept, _ in walked], 2 * SUBSET_SIZE)
    selected = [kept[:count] for (kept, _), count in zip(walked, counts)]
    reports = tuple(
        GroupReport(group, cap, stats["candidates"], stats["examined"], stats["unsampleable"], stats["equivalent"],
                    len(kept), count)
        for (group, cap), (kept, stats), count in zip(GROUP_CAPS.items(), walked, counts)
    )  # fmt: skip
    train, test = _split(selected)
    metadata = {
        "command": COMMAND,
        "seed": SEED,
        "criteria": {"rate_draws": RATE_DRAWS, "min_rate": MIN_RATE, "probe_draws_per_stratum": PROBE_DRAWS},
    }
    return ConceptList(tuple(train), tuple(test), reports, metadata)


def _split(kept_by_group: list[list[ConceptEntry]]) -> tuple[list[ConceptEntry], list[ConceptEntry]]:
    train: list[ConceptEntry] = []
    test: list[ConceptEntry] = []
    for kept in kept_by_group:
        first, second = (train, test) if len(train) <= len(test) else (test, train)
        for i, entry in enumerate(kept):
            (first if i % 2 == 0 else second).append(entry)
    if len(train) != SUBSET_SIZE or len(test) != SUBSET_SIZE:
        raise RuntimeError(
            f"the selection gave {len(train)} train and {len(test)} test concepts, not {SUBSET_SIZE} each; "
            "adjust GROUP_CAPS"
        )
    return train, test


def _build_command(output: Path) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console()
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("clause groups", total=len(GROUP_CAPS))
        concepts = build_concepts(lambda group, done, total: bar.update(task, completed=done, description=group))
    write_concepts(concepts, output)
    elapsed = time.perf_counter() - started

    table = Table(title=f"RelKP concepts v{VERSION}", caption=f"written to {output}")
    headers = ("group", "cap", "clauses", "examined", "rare", "equal", "kept", "train", "test")
    for column in headers:
        table.add_column(column, justify="left" if column == "group" else "right", no_wrap=True)
    train_groups = [e.group for e in concepts.train]
    test_groups = [e.group for e in concepts.test]
    for g in concepts.groups:
        table.add_row(
            g.group, str(g.cap), str(g.candidates), str(g.examined), str(g.unsampleable), str(g.equivalent),
            str(g.kept), str(train_groups.count(g.group)), str(test_groups.count(g.group)),
        )
    fields = ("candidates", "examined", "unsampleable", "equivalent", "kept")
    sums = [sum(getattr(g, f) for g in concepts.groups) for f in fields]
    table.add_section()
    table.add_row("total", "", *map(str, sums), str(len(concepts.train)), str(len(concepts.test)))
    console.print(table)
    console.print("rare: dropped as unsampleable (a rate below 1/250); equal: dropped as equivalent to a kept clause")
    console.print(f"built in {elapsed:.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tasks.kandinsky.concepts", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="select and validate the RelKP concepts and write the data file")
    build.add_argument("--output", type=Path, default=DATA_FILE, help=f"where to write (default {DATA_FILE})")
    args = parser.parse_args(argv)
    _build_command(args.output)


if __name__ == "__main__":
    main()
