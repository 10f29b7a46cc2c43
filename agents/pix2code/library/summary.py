"""Likelihood summaries: a program's choices under a grammar, reusable for any weight vector.

DreamCoder turns a program once into the productions it used and the sets of alternatives it
chose among; its log-probability under *any* weights is then

    log P = const + sum_p uses_p * w_p - sum_A count_A * logsumexp(w[A]),

with no type inference (synthesis.md §4.2). Inside–outside and the recognition model's loss
both need exactly this. Our grammar normalises over ground instantiations: a production used at
one of its ``n`` instantiations pays ``-log n`` (the constant), and a variable chosen among ``m``
variables of the requested type pays ``-log m``. Index ``V`` (= number of productions) stands
for "a variable".
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from agents.pix2code.dsl.terms import Term
from agents.pix2code.search.grammar import Grammar


@dataclass(frozen=True)
class Summary:
    """A program's choices: ``uses[p]`` counts, ``normalizers`` (alternative set -> count), ``const``."""

    uses: dict[int, float]
    normalizers: dict[frozenset[int], float]
    const: float

    def log_probability(self, weights: np.ndarray) -> float:
        """log P(program) under log-weights ``weights`` (productions, then the variable)."""
        total = self.const + sum(n * weights[p] for p, n in self.uses.items())
        for alternatives, n in self.normalizers.items():
            w = weights[list(alternatives)]
            m = w.max()
            total -= n * (m + math.log(np.exp(w - m).sum()))
        return float(total)


def summarise(grammar: Grammar, program: Term) -> Summary:
    """The summary of an η-long program under ``grammar``; ValueError outside its support."""
    variable = len(grammar.productions)
    uses: Counter[int] = Counter()
    normalizers: Counter[frozenset[int]] = Counter()
    const = 0.0
    for rule, rules in grammar.derivation(program):
        chosen = variable if rule.production < 0 else rule.production
        present = frozenset(variable if r.production < 0 else r.production for r in rules)
        same = sum(1 for r in rules if (variable if r.production < 0 else r.production) == chosen)
        uses[chosen] += 1
        normalizers[present] += 1
        const -= math.log(same)
    return Summary(dict(uses), dict(normalizers), const)


def grammar_weights(grammar: Grammar) -> np.ndarray:
    """The grammar's log-weights as a vector (productions, then the variable)."""
    return np.array([p.log_weight for p in grammar.productions] + [grammar.log_variable])
