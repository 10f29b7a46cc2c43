"""Scores: class-balanced accuracy per episode and bootstrap confidence intervals over episodes.

Class balance matters because queries are 1 positive : 4 negatives; answering "no" everywhere
must score 0.5, not 0.8. Confidence intervals resample *episodes* (tasks), never queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def as_labels(values: object, name: str = "labels", length: int | None = None) -> np.ndarray:
    """Check that ``values`` is a 1-D integer or bool array of 0/1 labels (of ``length``, if
    given) and return it as bool; the error names the bad shape, dtype or value."""
    array = np.asarray(values)
    if array.ndim != 1 or (length is not None and array.shape != (length,)):
        expected = f"({length},): one 0/1 label per query" if length is not None else "a 1-D array of 0/1 labels"
        raise ValueError(f"{name} has shape {array.shape}; expected {expected}")
    if array.dtype != bool and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} has dtype {array.dtype}; expected integer or bool 0/1 labels")
    bad = array[(array != 0) & (array != 1)]
    if bad.size:
        raise ValueError(f"{name} holds {bad[0].item()!r}; expected only 0 and 1 labels")
    return array.astype(bool)


def class_balanced_accuracy(labels: object, predictions: object) -> float:
    """Mean of the accuracy on positives and the accuracy on negatives.

    When one class is absent from ``labels`` the score is the accuracy on the class present.
    """
    truth = as_labels(labels, "labels")
    guess = as_labels(predictions, "predictions")
    if truth.shape != guess.shape:
        raise ValueError(f"labels have shape {truth.shape} but predictions have shape {guess.shape}")
    if truth.size == 0:
        raise ValueError("class-balanced accuracy needs at least one label")
    rates = [float(np.mean(guess[truth == cls] == cls)) for cls in (True, False) if np.any(truth == cls)]
    return float(np.mean(rates))


@dataclass(frozen=True)
class ScoreSummary:
    """Mean score over episodes with a percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}] (n={self.n}, {self.confidence:.0%} CI)"


def bootstrap_ci(
    scores: Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> ScoreSummary:
    """Percentile bootstrap over episodes; deterministic for ``seed``."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D sequence, got shape {values.shape}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(n_resamples, values.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return ScoreSummary(float(values.mean()), float(low), float(high), int(values.size), confidence)
