"""Synthetic object tables for the DSL and search tests (no test functions here).

They follow the observation contract's schemas (CURI: 19 features, 5 slots; Kandinsky: 12
features, 6 slots) with independent uniform attributes, so the tests need no task family.
"""

from __future__ import annotations

import numpy as np

from agents.pix2code.dsl import CURI, parse
from agents.pix2code.dsl.vector import labels
from agents.pix2code.dsl.vector_context import VectorContext


def curi_tables(rng: np.random.Generator, n: int, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random CURI-schema scenes of 2..k objects, padded with -1 rows."""
    objects = np.full((n, k, 19), -1.0, dtype=np.float32)
    mask = np.zeros((n, k), dtype=bool)
    for s in range(n):
        for j in range(int(rng.integers(2, k + 1))):
            row = np.zeros(19, dtype=np.float32)
            row[rng.integers(0, 3)] = 1
            row[3 + rng.integers(0, 8)] = 1
            row[11 + rng.integers(0, 2)] = 1
            row[13 + rng.integers(0, 2)] = 1
            row[15] = rng.integers(0, 240) / 240
            row[16] = rng.integers(0, 160) / 160
            row[17], row[18] = rng.random(), rng.random()
            objects[s, j], mask[s, j] = row, True
    return objects, mask


def kandinsky_tables(rng: np.random.Generator, n: int, n_objects: int | None = None, k: int = 6):
    """``n`` random Kandinsky-schema figures (positions uniform, overlaps not avoided)."""
    objects = np.zeros((n, k, 12), dtype=np.float32)
    mask = np.zeros((n, k), dtype=bool)
    for s in range(n):
        m = n_objects if n_objects is not None else int(rng.integers(2, k + 1))
        for j in range(m):
            size = float(rng.uniform(0.1, 0.5))
            row = np.zeros(12, dtype=np.float32)
            row[rng.integers(0, 3)] = 1
            row[3 + rng.integers(0, 3)] = 1
            row[6 + (0 if size <= 1 / 3 else 1)] = 1
            row[9:] = (rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), size)
            objects[s, j], mask[s, j] = row, True
    return objects, mask


def curi_task(rng: np.random.Generator, program: str, n_support_neg: int = 20, n_query: int = 100):
    """A CURI-like episode for a DSL program: 5 positives + random negatives, and a query set."""
    objects, mask = curi_tables(rng, 4000)
    truth = labels(parse(program), VectorContext(CURI.table(objects, mask), 2))
    pos, neg = np.flatnonzero(truth), np.flatnonzero(~truth)
    p = rng.choice(pos, 5 + n_query // 5, replace=False)
    q = rng.choice(neg, n_support_neg + n_query - n_query // 5, replace=False)
    support = np.concatenate([p[:5], q[:n_support_neg]])
    query = np.concatenate([p[5:], q[n_support_neg:]])
    return (objects[support], mask[support]), truth[support], (objects[query], mask[query]), truth[query]
