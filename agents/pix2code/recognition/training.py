"""Dream sleep: training the recognition model on solved tasks and on dreams.

A *dream* is a program sampled from the current grammar and run on real scenes: five scenes it
accepts and twenty it rejects make a support set whose answer is known (DreamCoder's Helmholtz
samples, synthesis.md §7.3). Wake–sleep trains on dreams alone by default and, on request, also
on the tasks solved in the wake phase with their best program (see ``wake_sleep._dream_sleep``
for why). Everything random comes from one seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from agents.pix2code.dsl.domains import Domain
from agents.pix2code.dsl.vector_values import Unsupported
from agents.pix2code.library.summary import Summary, summarise
from agents.pix2code.recognition.model import RecognitionModel, program_log_probability
from agents.pix2code.search.grammar import Grammar
from agents.pix2code.search.solver import Labeller

POSITIVES, NEGATIVES = 5, 20


@dataclass(frozen=True)
class Example:
    """A support set and the summary of a program that explains it."""

    objects: np.ndarray  # (S, K, F)
    mask: np.ndarray  # (S, K)
    labels: np.ndarray  # (S,)
    summary: Summary


def dreams(
    grammar: Grammar, domain: Domain, objects: np.ndarray, mask: np.ndarray, n: int, rng: np.random.Generator,
    attempts: int = 20,
) -> list[Example]:
    """Up to ``n`` dreams on the scenes (objects (N, K, F), mask (N, K)) of the training tasks."""
    # the search enumerates only the vectorised fragment: dreams of other programs teach nothing
    labeller = Labeller(domain, domain.table(objects, mask), vectorised_only=True)
    out: list[Example] = []
    for _ in range(n * attempts):
        if len(out) == n:
            break
        try:
            program = grammar.sample(rng, max_size=14)
            labels = labeller(program)
            summary = summarise(grammar, program)
        except (ValueError, RecursionError, Unsupported):
            continue
        pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
        if pos.size < POSITIVES or neg.size < NEGATIVES:
            continue
        chosen = np.concatenate([rng.choice(pos, POSITIVES, replace=False), rng.choice(neg, NEGATIVES, replace=False)])
        rng.shuffle(chosen)
        out.append(Example(objects[chosen], mask[chosen], labels[chosen].astype(np.float32), summary))
    return out


def train(
    model: RecognitionModel,
    examples: Sequence[Example],
    steps: int,
    seed: int,
    batch: int = 16,
    lr: float = 1e-3,
    progress: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Minimise -log q(program | support set) over the examples; returns the loss per step."""
    if not examples:
        return []
    torch.manual_seed(seed)
    order = np.random.default_rng(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-3, amsgrad=True)
    objects = torch.as_tensor(np.stack([e.objects for e in examples]).astype(np.float32))
    masks = torch.as_tensor(np.stack([e.mask for e in examples]).astype(np.float32))
    labels = torch.as_tensor(np.stack([e.labels for e in examples]).astype(np.float32))
    losses = []
    model.train()
    for step in range(steps):
        idx = order.choice(len(examples), size=min(batch, len(examples)), replace=False)
        weights = model(objects[idx], masks[idx], labels[idx])
        loss = -torch.stack([program_log_probability(w, examples[i].summary) for w, i in zip(weights, idx)]).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step, losses[-1])
    model.eval()
    return losses


def examples_from(tables: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], summaries: Sequence[Summary]) -> list[Example]:
    """Solved tasks as examples: (objects, mask, labels) with their best program's summary."""
    return [Example(o, m, np.asarray(l, dtype=np.float32), s) for (o, m, l), s in zip(tables, summaries)]

