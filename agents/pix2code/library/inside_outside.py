"""Re-estimating grammar weights from solved tasks (DreamCoder's inside–outside, synthesis.md §4.3).

Each task contributes its frontier — the programs that solve it — weighted by their posterior
under the current grammar. A production's weight becomes

    w_p = log(actual_p + c) - log(possible_p + c),

where ``actual_p`` counts its (posterior-weighted) uses and ``possible_p`` the choice points
where it was among the alternatives; ``c`` is a pseudo-count (DreamCoder's papers: 30) that keeps
unused productions in the grammar.

Weights named in ``fixed`` are not refitted. Wake–sleep fixes the default DSL's hand-set
starting prior and fits only the inventions: refitted on the 100 training concepts of a
structured CURI split, the base weights learn what that split leaves out (Counting's training
concepts count nothing, so ``count`` and ``map`` sink) and the held-out concepts get dearer
(Counting at the default budget, without recognition model: 0.740 with refitted weights, 0.988
with the prior kept; docs/BENCHMARKS.md). From the paper DSL's uniform start every weight is
refitted, as DreamCoder does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from agents.pix2code.library.summary import Summary, grammar_weights
from agents.pix2code.search.grammar import Grammar

PSEUDO_COUNTS = 30.0
VARIABLE = "$variable"  # the name that stands for variables in ``fixed``


def frontier_posteriors(frontier: Sequence[tuple[Summary, float]], weights: np.ndarray) -> np.ndarray:
    """Normalised posteriors of a task's programs: prior under ``weights`` times their likelihood
    (``frontier`` pairs each program's summary with its log-likelihood)."""
    scores = np.array([s.log_probability(weights) + ll for s, ll in frontier])
    scores = np.exp(scores - scores.max())
    return scores / scores.sum()


def refit(
    grammar: Grammar,
    frontiers: Sequence[Sequence[tuple[Summary, float]]],
    pseudo_counts: float = PSEUDO_COUNTS,
    iterations: int = 3,
    fixed: Mapping[str, float] | None = None,
) -> Grammar:
    """The grammar with weights fitted to the frontiers (a few rounds, since the frontier
    posteriors depend on the weights); productions named in ``fixed`` (``"$variable"``: the
    variables) get the weight given there instead."""
    n = len(grammar.productions) + 1
    weights = grammar_weights(grammar)
    names = [p.name for p in grammar.productions] + [VARIABLE]
    fixed = fixed or {}
    held = np.array([name in fixed for name in names])
    held_weights = np.array([fixed.get(name, 0.0) for name in names])
    frontiers = [f for f in frontiers if f]
    for _ in range(iterations):
        actual = np.zeros(n)
        possible = np.zeros(n)
        for frontier in frontiers:
            for (summary, _), q in zip(frontier, frontier_posteriors(frontier, weights)):
                for p, count in summary.uses.items():
                    actual[p] += q * count
                for alternatives, count in summary.normalizers.items():
                    possible[list(alternatives)] += q * count
        weights = np.where(held, held_weights, np.log(actual + pseudo_counts) - np.log(possible + pseudo_counts))
    named = {p.name: float(w) for p, w in zip(grammar.productions, weights[:-1])}
    return grammar.with_weights(named, log_variable=float(weights[-1]))


def description_length(grammar: Grammar, frontiers: Sequence[Sequence[tuple[Summary, float]]]) -> float:
    """-sum over tasks of log sum over its programs of P(program) * likelihood: the solutions'
    description length in nats under the grammar's weights."""
    weights = grammar_weights(grammar)
    total = 0.0
    for frontier in frontiers:
        if not frontier:
            continue
        scores = np.array([s.log_probability(weights) + ll for s, ll in frontier])
        m = scores.max()
        total -= float(m + np.log(np.exp(scores - m).sum()))
    return total
