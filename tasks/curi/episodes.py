"""CURI episodes: positives, hard negatives and random negatives drawn from the scene bank.

An episode (curi.md §5) has a support set of 5 positives and 20 negatives and a query set of
5 positives and 20 negatives. The 10 positives are distinct scenes drawn uniformly from the
concept's extension. Support negatives are *hard*: the alternate hypotheses are the pool
concepts (all splits) true on all 5 support positives, minus the target, and the negatives are
drawn uniformly from the union of their extensions minus the target's, topped up with random
non-members when that union has fewer than 20 scenes. Query negatives are random non-members.

Every scene comes from the subset's own scene bank (:mod:`tasks.curi.bank`), so train, val and
test episodes never share a scene, and "uniform over the extension" is exact even for concepts
true on a dozen of the million scenes. Common sets are never materialised: a uniform sample
without replacement from a set is the sequence of *distinct* members met while drawing bank
scenes uniformly with replacement, so a concept true on 5 % of the bank needs a few hundred
evaluations. Rare concepts (at most ``RARE_COUNT`` scenes of the reference bank) use their exact
extension on the subset's bank: stored with the pool for the train bank, computed once per
process (one pass, ~20 ms) for the others; a rare union of alternates falls back to one exact
pass over the bank. A concept whose extension on a subset's bank has fewer than the 10 scenes an
episode needs cannot be sampled there (:meth:`EpisodeSampler.sampleable`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from tasks.base import SUPPORT_NEGATIVES, SUPPORT_POSITIVES
from tasks.curi.bank import Bank
from tasks.curi.evaluate import Objects, evaluate_concept
from tasks.curi.pool import RARE_COUNT, Pool, load_pool

QUERY_POSITIVES, QUERY_NEGATIVES = 5, 20  # curi.md §5: the query set has the support set's sizes
DRAW_BUDGET = 1 << 16  # bank draws spent on hard negatives before one exact pass
_FIRST_DRAWS = 512  # hard-negative draws in the first round; each further round doubles


@dataclass(frozen=True)
class EpisodeIds:
    """Bank indices of an episode's four scene lists (hard negatives first in support_negatives)."""

    support_positives: np.ndarray
    support_negatives: np.ndarray
    query_positives: np.ndarray
    query_negatives: np.ndarray
    hard_negatives: int  # how many support negatives came from alternate hypotheses
    alternates: np.ndarray  # pool indices of the alternate hypotheses


POSITIVES_NEEDED = SUPPORT_POSITIVES + QUERY_POSITIVES


class EpisodeSampler:
    """Draws CURI episodes of one subset for pool concepts, from that subset's scene bank."""

    def __init__(self, pool: Pool | None = None, subset: str = "train") -> None:
        self.pool = pool if pool is not None else load_pool()
        self.subset = subset
        self._extensions: dict[int, np.ndarray] = {}

    @functools.cached_property
    def bank(self) -> Bank:
        return self.pool.bank.load(self.subset)

    # -- sets of bank scenes

    def _truth(self, concept: int, ids: np.ndarray) -> np.ndarray:
        return evaluate_concept(self.pool.concepts[concept], self.bank.objects.take(ids))

    def extension(self, concept: int) -> np.ndarray:
        """Sorted indices of the subset bank's scenes satisfying a pool concept: stored for the
        reference (train) bank's rare denotation classes, else one pass, remembered. Denotation
        classes are counted on the reference bank, so other banks remember per concept."""
        cls = int(self.pool.denotation[concept])
        if self.subset == "train" and cls in self.pool.extensions:
            return self.pool.extensions[cls]
        key = cls if self.subset == "train" else concept
        if key not in self._extensions:
            found = np.flatnonzero(evaluate_concept(self.pool.concepts[concept], self.bank.objects))
            found.setflags(write=False)
            self._extensions[key] = found
        return self._extensions[key]

    def sampleable(self, concept: int) -> bool:
        """Whether the subset's bank holds the 10 distinct positives an episode needs."""
        return self.pool.count[concept] > RARE_COUNT or self.extension(concept).size >= POSITIVES_NEEDED

    def members(self, rng: np.random.Generator, concept: int, k: int) -> np.ndarray:
        """``k`` distinct bank scenes drawn uniformly from a concept's extension."""
        n = len(self.bank)
        if self.pool.count[concept] <= RARE_COUNT:
            extension = self.extension(concept)
            if extension.size < k:
                raise ValueError(
                    f"CURI concept {self.pool.ids[concept]:05d} ({self.pool.concepts[concept]!r}) is true on "
                    f"{extension.size} of the {n:,} scenes of the {self.subset} bank; an episode needs {k} "
                    "distinct positives"
                )
            return rng.choice(extension, size=k, replace=False)
        rate = self.pool.count[concept] / n
        found: list[int] = []
        seen: set[int] = set()
        while len(found) < k:
            m = int(np.ceil(1.5 * (k - len(found)) / rate)) + 16
            ids = rng.integers(0, n, size=m)
            for i in ids[self._truth(concept, ids)].tolist():
                if i not in seen:
                    seen.add(i)
                    found.append(i)
                    if len(found) == k:
                        break
        return np.array(found, dtype=np.int64)

    def non_members(self, rng: np.random.Generator, concept: int, k: int, used: set[int]) -> np.ndarray:
        """``k`` distinct random bank scenes outside the concept's extension and outside ``used``."""
        n = len(self.bank)
        found: list[int] = []
        while len(found) < k:
            ids = rng.integers(0, n, size=2 * (k - len(found)) + 8)
            for i in ids[~self._truth(concept, ids)].tolist():
                if i not in used:
                    used.add(i)
                    found.append(i)
                    if len(found) == k:
                        break
        return np.array(found, dtype=np.int64)

    def alternates(self, concept: int, positives: np.ndarray) -> np.ndarray:
        """Pool concepts (every split) true on all the given scenes, the target excluded."""
        truth = self.pool.compiled.evaluate(self.bank.objects.take(positives))
        alt = np.flatnonzero(truth.all(axis=0))
        return alt[alt != concept]

    def hard_negatives(
        self, rng: np.random.Generator, concept: int, alternates: np.ndarray, k: int, used: set[int]
    ) -> np.ndarray:
        """Up to ``k`` distinct scenes from the union of the alternates' extensions minus the target's.

        One alternate per denotation class is enough, and the target's own class adds nothing.
        Draws bank scenes uniformly until ``k`` distinct members are met; past
        :data:`DRAW_BUDGET` draws the union is computed exactly instead and sampled without
        replacement (all of it if it is small).
        """
        pool = self.pool
        classes = np.unique(pool.denotation[alternates])
        alts = classes[classes != pool.denotation[concept]]
        if alts.size == 0:
            return np.zeros(0, dtype=np.int64)
        objects = self.bank.objects
        n = len(objects)
        found: list[int] = []
        drawn, size = 0, _FIRST_DRAWS
        while len(found) < k and drawn < DRAW_BUDGET:
            ids = rng.integers(0, n, size=size)
            drawn += size
            size = min(2 * size, DRAW_BUDGET - drawn) if drawn < DRAW_BUDGET else size
            hits = ids[self._in_union(alts, concept, objects.take(ids))]
            for i in hits.tolist():
                if i not in used:
                    used.add(i)
                    found.append(i)
                    if len(found) == k:
                        break
        if len(found) == k:
            return np.array(found, dtype=np.int64)
        for i in found:
            used.discard(i)
        step = 1 << 15
        union = np.concatenate(
            [lo + np.flatnonzero(self._in_union(alts, concept, objects.slice(lo, min(lo + step, n))))
             for lo in range(0, n, step)]
        )
        union = np.setdiff1d(union, np.fromiter(used, dtype=np.int64, count=len(used)))
        chosen = rng.choice(union, size=min(k, union.size), replace=False) if union.size else union
        used.update(chosen.tolist())
        return chosen.astype(np.int64)

    def _in_union(self, alts: np.ndarray, concept: int, obj: Objects) -> np.ndarray:
        inside = self.pool.compiled.evaluate(obj, alts).any(axis=1)
        return inside & ~evaluate_concept(self.pool.concepts[concept], obj)

    # -- episodes

    def sample(self, rng: np.random.Generator, concept: int) -> EpisodeIds:
        """Bank indices of one episode for pool concept ``concept``."""
        positives = self.members(rng, concept, POSITIVES_NEEDED)
        support_pos, query_pos = positives[:SUPPORT_POSITIVES], positives[SUPPORT_POSITIVES:]
        used = set(positives.tolist())
        alts = self.alternates(concept, support_pos)
        hard = self.hard_negatives(rng, concept, alts, SUPPORT_NEGATIVES, used)
        fill = self.non_members(rng, concept, SUPPORT_NEGATIVES - hard.size, used)
        query_neg = self.non_members(rng, concept, QUERY_NEGATIVES, used)
        return EpisodeIds(support_pos, np.concatenate([hard, fill]), query_pos, query_neg, hard.size, alts)


def log_linear_weights(lengths: np.ndarray, temperature: float = 0.2) -> np.ndarray:
    """CURI's episode prior over concepts: P(h) proportional to exp(-0.2 * token length)."""
    w = np.exp(-temperature * (lengths - lengths.min()))
    return w / w.sum()
