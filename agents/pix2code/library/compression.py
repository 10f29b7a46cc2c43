"""Abstraction sleep: new library functions from the solutions, proposed by stitch, kept by our objective.

stitch (``stitch-core``, Bowers et al. POPL 2023) proposes abstractions that shrink the corpus of
solutions; it is untyped and measures syntactic size, so each proposal is then checked here the
way DreamCoder checks its own (synthesis.md §6.3):

1. its closed DreamCoder-form body must type-check (its type scheme is inferred once);
2. the solutions are rewritten with it (stitch's rewriter), put back in η-long form, and every
   rewritten program must mean the same as its original on a set of scenes — otherwise the
   original is kept;
3. it is kept only if the DreamCoder objective improves: the solutions' description length under
   the grammar refitted by inside–outside, plus ``aic`` per invention and ``structure_penalty``
   per node of its body (Pix2Code's settings: 1.0 and 1.5), and only if at least two tasks'
   solutions use it.

stitch-core 0.1.29 is used without its η-long mode (which crashes in that version); η-long form
is restored in Python. Abstraction arguments may not be applied (``no_curried_metavars``): our
grammar binds only objects, so an invention taking ``forall`` as an argument could never be used.
A stitch failure is reported, and the library stays as it was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agents.pix2code.dsl.inference import DSLTypeError, eta_long, type_scheme, typecheck
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Invented, Primitive, Term
from agents.pix2code.library.inside_outside import description_length, refit
from agents.pix2code.library.summary import Summary, summarise
from agents.pix2code.search.grammar import Grammar, Production

log = logging.getLogger(__name__)

AIC = 1.0
STRUCTURE_PENALTY = 1.5
ARITY = 3
TOP_K = 2  # programs per task given to the compressor (DreamCoder's topK)


@dataclass(frozen=True)
class Solution:
    """A program that solves a training task, with its log-likelihood (0 for an exact fit)."""

    program: Term
    log_likelihood: float = 0.0


Frontiers = Mapping[str, Sequence[Solution]]  # task name -> its solutions, best first


@dataclass(frozen=True)
class CompressionReport:
    grammar: Grammar
    frontiers: dict[str, list[Solution]]
    proposed: int
    kept: list[str]
    rejected: dict[str, str]  # invention body -> why
    objective_before: float
    objective_after: float
    error: str | None = None


def objective(grammar: Grammar, frontiers: Frontiers, base_size: int,
              fixed: Mapping[str, float] | None = None) -> tuple[float, Grammar]:
    """(score to minimise, the refitted grammar): description length of the solutions plus the
    inventions' AIC and structure penalties, with weights refitted by inside–outside (except
    those ``fixed``; see :func:`refit`)."""
    summaries = _summaries(grammar, frontiers)
    fitted = refit(grammar, summaries, fixed=fixed)
    inventions = [p.term for p in grammar.productions[base_size:]]
    penalty = sum(AIC + STRUCTURE_PENALTY * _size(inv.body) for inv in inventions)
    return description_length(fitted, summaries) + penalty, fitted


def compress(
    grammar: Grammar,
    frontiers: Frontiers,
    same_meaning: Callable[[Term, Term], bool],
    iterations: int = 5,
    base_size: int | None = None,
    fixed: Mapping[str, float] | None = None,
) -> CompressionReport:
    """Propose inventions with stitch and keep those that improve the objective (see the module
    docstring). ``same_meaning(original, rewritten)`` checks a rewrite on scenes; ``fixed``: weights
    that inside–outside leaves as they are."""
    import stitch_core

    base_size = len(grammar.productions) if base_size is None else base_size
    frontiers = {task: list(sols) for task, sols in frontiers.items() if sols}
    before, current_grammar = objective(grammar, frontiers, base_size, fixed)
    report = dict(proposed=0, kept=[], rejected={}, objective_before=before, objective_after=before)
    tasks, texts, tokens = _stitch_corpus(frontiers)
    if len(set(tasks)) < 2:
        return CompressionReport(current_grammar, frontiers, error="fewer than two solved tasks", **report)
    try:
        result = stitch_core.compress(
            texts, iterations=iterations, max_arity=ARITY, tasks=tasks, structure_penalty=str(STRUCTURE_PENALTY),
            threads=1, silent=True, no_curried_metavars=True, no_curried_bodies=True,
        )  # fmt: skip
    except Exception as error:  # stitch's Rust backend raises its own exception types, or panics
        log.warning("stitch failed (%s); the library stays as it was", error)
        return CompressionReport(current_grammar, frontiers, error=f"stitch failed: {error}", **report)
    abstractions = result.json["abstractions"]
    report["proposed"] = len(abstractions)
    table: dict[str, Term] = dict(tokens)
    accepted: list = []
    best, best_grammar, best_frontiers = before, current_grammar, frontiers
    dropped: set[str] = set()
    for entry, abstraction in zip(abstractions, result.abstractions):
        body_text = _untoken(entry["dreamcoder"], tokens)
        needs = [name for name in dropped if name in entry["body"].replace("(", " ").replace(")", " ").split()]
        if needs:
            report["rejected"][body_text] = f"uses {needs[0]}, which was not kept"
            dropped.add(entry["name"])
            continue
        dropped.add(entry["name"])  # until it is kept
        try:
            invention = parse(body_text, table | _base_table(grammar))
            assert isinstance(invention, Invented)
            typecheck(invention.body)
            type_scheme(invention)
        except (ValueError, DSLTypeError, AssertionError) as error:
            report["rejected"][body_text] = f"ill-typed: {error}"
            continue
        table[entry["name"]] = invention
        trial = accepted + [abstraction]
        candidate_grammar = Grammar(
            list(best_grammar.productions) + [Production(invention, 0.0)], best_grammar.log_variable,
            best_grammar.types, best_grammar.request, best_grammar.max_depth,
        )  # fmt: skip
        rewritten = _rewrite(stitch_core, frontiers, tasks, texts, trial, table, candidate_grammar, same_meaning)
        users = sum(1 for task in rewritten if any(invention in _inventions(s.program) for s in rewritten[task]))
        if users < 2:
            report["rejected"][invention.show()] = f"used by {users} task(s) after rewriting"
            continue
        score, fitted = objective(candidate_grammar, rewritten, base_size, fixed)
        if score < best:
            accepted, best, best_grammar, best_frontiers = trial, score, fitted, rewritten
            report["kept"].append(invention.show())
            dropped.discard(entry["name"])
        else:
            report["rejected"][invention.show()] = f"objective {score:.1f} >= {best:.1f}"
    report["objective_after"] = best
    return CompressionReport(best_grammar, best_frontiers, **report)


def _summaries(grammar: Grammar, frontiers: Frontiers) -> list[list[tuple[Summary, float]]]:
    out = []
    for solutions in frontiers.values():
        task = []
        for s in solutions:
            try:
                task.append((summarise(grammar, s.program), s.log_likelihood))
            except ValueError:
                continue  # outside this grammar's support (e.g. deeper than the enumerator goes)
        out.append(task)
    return out


def _stitch_corpus(frontiers: Frontiers) -> tuple[list[str], list[str], dict[str, Invented]]:
    """Programs in stitch's syntax (inventions replaced by tokens), their task names, the tokens."""
    tokens: dict[str, Invented] = {}
    names: dict[Invented, str] = {}
    tasks, texts = [], []
    for task, solutions in frontiers.items():
        for s in solutions[:TOP_K]:
            for inv in _inventions(s.program):
                if inv not in names:
                    names[inv] = f"inv_{len(names)}"
                    tokens[names[inv]] = inv
            tasks.append(task)
            texts.append(_tokenise(s.program, names))
    return tasks, texts, tokens


def _inventions(term: Term) -> set[Invented]:
    return {t for t in term.subterms() if isinstance(t, Invented)}


def _tokenise(term: Term, names: Mapping[Invented, str]) -> str:
    text = term.show()
    for inv, name in sorted(names.items(), key=lambda kv: -len(kv[0].show())):
        text = text.replace(inv.show(), name)
    return text


def _untoken(text: str, tokens: Mapping[str, Invented]) -> str:
    for name in sorted(tokens, key=len, reverse=True):
        text = text.replace(name, tokens[name].show())
    return text


def _base_table(grammar: Grammar) -> dict[str, Term]:
    return {p.term.name: p.term for p in grammar.productions if isinstance(p.term, Primitive)}


def _rewrite(stitch_core, frontiers, tasks, texts, abstractions, table, grammar, same_meaning) -> dict[str, list[Solution]]:
    """The frontiers rewritten with ``abstractions``, η-long, each checked against its original."""
    rewritten = stitch_core.rewrite(texts, abstractions).rewritten
    by_task: dict[str, list[Solution]] = {task: [] for task in frontiers}
    originals = [s for task in frontiers for s in frontiers[task][:TOP_K]]
    for task, text, original in zip(tasks, rewritten, originals):
        program = original.program
        try:
            candidate = eta_long(parse(text, table | _base_table(grammar)), grammar.request)
            # the grammar must be able to say it (its search binds only objects, so not every
            # higher-order rewrite is in its support), and it must mean the same
            if candidate != program and grammar.log_prior(candidate) > -math.inf and same_meaning(program, candidate):
                program = candidate
        except (ValueError, DSLTypeError):
            pass
        by_task[task].append(Solution(program, original.log_likelihood))
    for task, solutions in frontiers.items():
        by_task[task].extend(solutions[TOP_K:])
    return by_task


def _size(term: Term) -> int:
    """Nodes of a term that are not variables or λs: what a structure penalty charges."""
    return sum(1 for t in term.subterms() if isinstance(t, (Primitive, Invented)))


def agreement(labels: Callable[[Term], np.ndarray]) -> Callable[[Term, Term], bool]:
    """A ``same_meaning`` check from a labelling function (a program's truth values on scenes)."""
    return lambda a, b: bool(np.array_equal(labels(a), labels(b)))
