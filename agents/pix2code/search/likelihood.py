"""The likelihood of a support set under a program: exact fit plus the size principle.

With ground-truth objects the support labels are noise-free, so a program must reproduce every
one of them. Among programs that do, the size principle (Tenenbaum; CURI's oracle, curi.md
§7.3) prefers small extensions: positives are taken to be drawn uniformly from ext(h) (strong
sampling) and negatives, by default, only to be rejected (weak sampling), so

    log P(labels | h) = - n_pos · log f(h)  [- n_neg · log (1 - f(h)) with uniform negatives],

with f(h) = |ext(h)| / |scenes| estimated on a pool of synthetic scenes
(:mod:`agents.pix2code.search.pool`) and smoothed by a pseudo-count so that an estimate of 0
stays finite. With 5 positives this is what stops "some object is not gray" from beating "some
object is a red cube" whenever both fit: the general program would have to make five
coincidences likely.

When nothing fits exactly (perception noise, a concept outside the search horizon) programs
are scored under label noise instead (:meth:`SizePrinciple.with_errors`): each example is,
with probability ``error_rate``, a uniform draw with a random label. A mislabelled example then
costs log(error_rate) whatever the extension, so a constant program cannot buy a large
size-principle reward by getting every positive (or every negative) wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SizePrinciple:
    """``negatives`` is "weak" (negatives only have to be rejected: their choice is taken to
    say nothing about the extension's size — the right model for hand-picked near misses such
    as CURI's hard negatives) or "uniform" (negatives drawn uniformly from the complement, the
    -n_neg·log(1 - f) term of CURI's oracle)."""

    n_positive: int
    n_negative: int
    pool_size: int
    pseudo_count: float = 0.5
    error_rate: float = 0.05
    negatives: str = "weak"

    def __post_init__(self) -> None:
        if self.negatives not in ("weak", "uniform"):
            raise ValueError(f"negatives must be 'weak' or 'uniform', got {self.negatives!r}")
        if self.pool_size <= 0:
            raise ValueError(f"the extension pool must hold at least one scene, got {self.pool_size}")
        if not 0.0 < self.error_rate < 0.5:
            raise ValueError(f"error_rate must be in (0, 0.5), got {self.error_rate}")

    def extension(self, hits: int) -> float:
        """Smoothed fraction of pool scenes in the extension."""
        return (hits + self.pseudo_count) / (self.pool_size + 2 * self.pseudo_count)

    def log_likelihood(self, hits: int) -> float:
        f = self.extension(hits)
        ll = -self.n_positive * math.log(f)
        if self.negatives == "uniform":
            ll -= self.n_negative * math.log1p(-f)
        return ll

    @property
    def max_log_likelihood(self) -> float:
        """The largest :meth:`log_likelihood` of an exact fit.

        The pool holds the support scenes, so an exact fit's extension has at least the
        positives and at most all but the negatives; the log-likelihood is convex in f, so
        one of those two ends is the maximum.
        """
        return max(self.log_likelihood(self.n_positive), self.log_likelihood(self.pool_size - self.n_negative))

    def _positive_term(self, f: float, correct: int, missed: int) -> float:
        eps = self.error_rate
        return correct * math.log((1.0 - eps) / f + eps) + missed * math.log(eps)

    def _negative_term(self, f: float, correct: int, wrong: int) -> float:
        eps = self.error_rate
        if self.negatives == "uniform":
            kept = correct * math.log((1.0 - eps) / (1.0 - f) + eps)
        else:
            kept = correct * math.log1p(-eps)
        return kept + wrong * math.log(eps)

    def with_errors(self, hits: int, missed: int, wrong: int) -> float:
        """Log-likelihood under label noise when the program rejects ``missed`` support
        positives and accepts ``wrong`` support negatives (constants dropped as in
        :meth:`log_likelihood`)."""
        f = self.extension(hits)
        return (
            self._positive_term(f, self.n_positive - missed, missed)
            + self._negative_term(f, self.n_negative - wrong, wrong)
        )

    def max_with_errors(self, missed: int, wrong: int) -> float:
        """An upper bound of :meth:`with_errors` over extensions, for pruning: the extension
        holds the correctly accepted positives and none of the correctly rejected negatives."""
        low = self.extension(self.n_positive - missed)
        high = self.extension(self.pool_size - (self.n_negative - wrong))
        return (
            self._positive_term(low, self.n_positive - missed, missed)
            + self._negative_term(high, self.n_negative - wrong, wrong)
        )

    def uncertain(self, hits: int, scenes: list[tuple[bool, float]]) -> float:
        """Log-likelihood change for support labels read with doubt: each (positive, c) is a
        scene on which the program is right with probability c over the extractor's readings;
        its label's likelihood becomes c · P(y | right) + (1 - c) · P(y | wrong) instead of
        P(y | right), under the label-noise model of :meth:`with_errors` (never positive, so
        :attr:`max_log_likelihood` stays a bound)."""
        if not scenes:
            return 0.0
        f = self.extension(hits)
        eps = self.error_rate
        right_pos = (1.0 - eps) / f + eps
        right_neg = (1.0 - eps) / (1.0 - f) + eps if self.negatives == "uniform" else 1.0 - eps
        total = 0.0
        for positive, c in scenes:
            rho = eps / (right_pos if positive else right_neg)
            total += math.log(min(1.0, c) + (1.0 - min(1.0, c)) * rho)
        return total
