"""Program search for the Pix2Code agent: a weighted grammar, bottom-up enumeration with
observational equivalence, goal-directed assembly, and the maximum-posterior solver.

>>> from agents.pix2code.dsl import domain_for_env_id
>>> from agents.pix2code.search import solve, predict
>>> domain = domain_for_env_id("Pix2Code-CURI-v0")
>>> result = solve(domain, (obs["support_objects"], obs["support_object_mask"]), obs["support_labels"])
>>> result.program                      # the MAP program's text
>>> labels, scores = predict(result, (obs["query_objects"], obs["query_object_mask"]))
"""

from agents.pix2code.search.bottom_up import BottomUpEnumerator
from agents.pix2code.search.grammar import Grammar, Production
from agents.pix2code.search.likelihood import SizePrinciple
from agents.pix2code.search.solver import (
    ScoredProgram,
    SearchBudget,
    SearchResult,
    SolverOptions,
    default_grammar,
    predict,
    program_labels,
    score_programs,
    solve,
)

__all__ = [
    "BottomUpEnumerator",
    "Grammar",
    "Production",
    "ScoredProgram",
    "SearchBudget",
    "SearchResult",
    "SizePrinciple",
    "SolverOptions",
    "default_grammar",
    "predict",
    "program_labels",
    "score_programs",
    "solve",
]
