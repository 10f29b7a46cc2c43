"""Solving a task: the maximum-posterior programs for a support set, and predicting with them.

``solve`` runs the bottom-up enumerator over the support scenes (plus any unlabelled scenes the
caller has, plus a small synthetic pool) for part of the budget, then assembles two-atom
programs from its banks (:mod:`agents.pix2code.search.assembly`) for the rest. Every complete
program that reproduces the support labels is scored

    log posterior = log prior (grammar) + log likelihood (size principle, on a large pool)

and the ``top_k`` best distinct behaviours are kept (a cheaper program with the same
behaviour replaces a dearer one). ``predict`` runs them on new scenes and votes, weighting each
by its normalised posterior.

Everything random (the synthetic pools) comes from ``numpy.random.default_rng(options.seed)``
and the search order is fixed, so a run that stops on its candidate budget is a pure function
of its inputs; only a run cut by the wall-clock cap (``SearchBudget.seconds``, a safety net
that the default budget does not normally reach) depends on the machine.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from agents.pix2code.dsl.domains import Domain, get_domain, scenes_from_table
from agents.pix2code.dsl.inference import typecheck
from agents.pix2code.dsl.interpreter import classify
from agents.pix2code.dsl.scene_table import SceneTable
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Term
from agents.pix2code.dsl.vector import evaluate_vectorised
from agents.pix2code.dsl.vector import labels as vector_labels
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_values import Unsupported
from agents.pix2code.search.assembly import Assembler
from agents.pix2code.search.bottom_up import BottomUpEnumerator
from agents.pix2code.search.entries import Entry
from agents.pix2code.search.grammar import Grammar
from agents.pix2code.search.likelihood import SizePrinciple
from agents.pix2code.search.pool import synthetic_scenes
from agents.pix2code.search.uncertain import Readings, SoftFit

Scenes = SceneTable | tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SearchBudget:
    """Limits for one task.

    ``enumerated`` and ``assembled`` cap the candidate programs evaluated by bottom-up
    enumeration (on every scene of the enumeration context) and by assembly (on the support
    scenes); together they are the candidate budget, and a run that stops on them is
    reproducible. ``seconds`` caps wall-clock time (None: no cap), of which enumeration gets
    ``enumeration_share``; a run that stops on time depends on the machine. ``kept`` bounds the
    terms held in memory.
    """

    seconds: float | None = 5.0
    enumerated: int = 60_000
    assembled: int = 600_000
    kept: int = 1_500_000
    enumeration_share: float = 0.5
    max_level: int = 400

    def __post_init__(self) -> None:
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError(f"SearchBudget.seconds must be positive or None, got {self.seconds}")
        if not 0.0 < self.enumeration_share <= 1.0:
            raise ValueError(f"enumeration_share must be in (0, 1], got {self.enumeration_share}")
        if self.enumerated < 0 or self.assembled < 0:
            raise ValueError(f"candidate budgets must be non-negative, got {self.enumerated} and {self.assembled}")

    @property
    def candidates(self) -> int:
        return self.enumerated + self.assembled


@dataclass(frozen=True)
class ScoredProgram:
    """One program with its scores (natural logs). ``extension`` is the estimated fraction of
    scenes it accepts; ``errors`` how many support labels it gets wrong on every reading of the
    scenes (0 for an exact fit); ``doubted`` how many it gets right only on a reading the
    extractor doubted (:mod:`agents.pix2code.search.uncertain`)."""

    program: str
    log_prior: float
    log_likelihood: float
    log_posterior: float
    extension: float
    errors: int = 0
    found_after: int = 0  # candidates evaluated when this program (or its behaviour) was first kept
    doubted: int = 0  # support labels it gets right only on an alternative reading (uncertain inputs)


@dataclass(frozen=True)
class SearchResult:
    """The outcome of :func:`solve`: the best programs (highest posterior first) and statistics."""

    domain: str
    programs: tuple[ScoredProgram, ...]
    candidates_evaluated: int
    seconds: float
    timed_out: bool
    stop_reason: str
    stats: dict = field(default_factory=dict)

    @property
    def best(self) -> ScoredProgram | None:
        return self.programs[0] if self.programs else None

    @property
    def program(self) -> str | None:
        """The maximum-posterior program's text, or None if nothing was found."""
        return self.programs[0].program if self.programs else None

    @property
    def exact(self) -> bool:
        return bool(self.programs) and self.programs[0].errors == 0

    def weights(self) -> np.ndarray:
        """Normalised posterior weights of :attr:`programs` (for voting)."""
        if not self.programs:
            return np.zeros(0)
        lp = np.array([p.log_posterior for p in self.programs])
        w = np.exp(lp - lp.max())
        return w / w.sum()


class _Scorer:
    """Keeps the top-k programs by posterior (and, as a fallback, near-fits)."""

    def __init__(
        self,
        n_support: int,
        labels: np.ndarray,
        pool_mask: int,
        pool_ctx: VectorContext,
        size: SizePrinciple,
        top_k: int,
        max_errors: int,
        soft: SoftFit | None = None,
    ) -> None:
        self.soft = soft
        self.support = (1 << n_support) - 1
        self.positives = sum(1 << i for i, y in enumerate(labels) if y)
        self.pool_mask = pool_mask
        self.pool_ctx = pool_ctx
        self.size = size
        self.top_k = top_k
        self.max_errors = max_errors
        # items: (posterior, -arrival, value, entry, log prior, log likelihood, errors, found after, doubted)
        self.heap: list[tuple] = []
        self.clock: Callable[[], int] = lambda: 0  # candidates evaluated so far (set by solve)
        self.near: list[tuple] = []
        self.counter = 0
        self.consistent = 0
        self.max_ll = size.max_log_likelihood

    def _threshold(self, heap: list) -> float:
        return heap[0][0] if len(heap) >= self.top_k else -math.inf

    def worth(self, log_prior: float) -> bool:
        """Whether an exact fit with this prior could still enter the top k."""
        return log_prior + self.max_ll > self._threshold(self.heap)

    def _hits(self, value: int, entry: Entry) -> int:
        return (value & self.pool_mask).bit_count() + entry.value_on(self.pool_ctx).bit_count()

    def consider(self, value: int, entry: Entry) -> None:
        missed = (self.positives & ~value).bit_count()
        wrong = (value & ~self.positives & self.support).bit_count()
        errors = missed + wrong
        if self.soft is not None and (errors or (value ^ self.soft.alt_pos) & self.soft.alt_mask):
            doubts = self.soft.fit(value, (value ^ self.positives) & self.support)
            if doubts is not None and (doubts or errors == 0):
                self._consider_doubted(value, entry, doubts, errors)
                return
        if errors == 0:
            self.consistent += 1
            lp = entry.log_prior
            if lp + self.max_ll <= self._threshold(self.heap):
                return
            hits = self._hits(value, entry)
            ll = self.size.log_likelihood(hits)
            self._push(self.heap, lp + ll, value, entry, lp, ll, 0)
        elif errors <= self.max_errors and not self.heap:  # near fits matter only until something fits
            lp = entry.log_prior
            if lp + self.size.max_with_errors(missed, wrong) <= self._threshold(self.near):
                return
            hits = self._hits(value, entry)
            ll = self.size.with_errors(hits, missed, wrong)
            self._push(self.near, lp + ll, value, entry, lp, ll, errors)

    def _consider_doubted(self, value: int, entry: Entry, doubts: list[tuple[int, float]], doubted: int) -> None:
        """A fit on some reading of every support scene: the exact-fit likelihood, with each
        doubtful scene's label weighted by the probability that the program gets it right."""
        lp = entry.log_prior
        if lp + self.max_ll <= self._threshold(self.heap):
            return
        self.consistent += 1
        hits = self._hits(value, entry)
        ll = self.size.log_likelihood(hits) + self.size.uncertain(hits, [(bool(self.positives >> i & 1), c) for i, c in doubts])
        self._push(self.heap, lp + ll, value, entry, lp, ll, 0, doubted)

    def _push(self, heap: list, post: float, value: int, entry: Entry, lp: float, ll: float, errors: int,
              doubted: int = 0) -> None:
        """Keep the k best distinct behaviours; a cheaper program for a kept behaviour replaces it."""
        self.counter += 1
        item = (post, -self.counter, value, entry, lp, ll, errors, self.clock(), doubted)
        for i, old in enumerate(heap):
            if old[2] == value:
                if post > old[0]:
                    heap[i] = item
                    heapq.heapify(heap)
                return
        if len(heap) < self.top_k:
            heapq.heappush(heap, item)
        elif post > heap[0][0]:
            heapq.heapreplace(heap, item)

    def results(self) -> tuple[ScoredProgram, ...]:
        heap = self.heap if self.heap else self.near
        scored = []
        for post, _, _, entry, lp, ll, errors, found, doubted in sorted(heap, key=lambda t: (-t[0], t[1])):
            program = "(lambda " + entry.term().show() + ")"
            extension = self.size.extension(self._hits(entry.value, entry))
            scored.append(ScoredProgram(program, lp, ll, post, extension, errors, found, doubted))
        return tuple(scored)


_DEFAULT_GRAMMARS: dict[str, Grammar] = {}


def default_grammar(domain: Domain) -> Grammar:
    """The domain's grammar with its default weights, compiled once per process."""
    g = _DEFAULT_GRAMMARS.get(domain.name)
    if g is None:
        g = _DEFAULT_GRAMMARS[domain.name] = Grammar.from_domain(domain)
    return g


def _as_table(domain: Domain, scenes: Scenes) -> SceneTable:
    if isinstance(scenes, SceneTable):
        return scenes
    if isinstance(scenes, tuple) and len(scenes) == 2:
        return domain.table(*scenes)
    raise TypeError(
        f"scenes must be a SceneTable or an (objects (S, K, F), mask (S, K)) tuple, got {type(scenes).__name__}"
    )


@dataclass(frozen=True)
class SolverOptions:
    """How :func:`solve` scores and searches (everything but the budget).

    ``seed`` drives the synthetic pools; ``top_k`` programs are kept; at least ``pool_small``
    synthetic scenes join the enumeration context (rounded up so that it holds a multiple of
    64 scenes; observational equivalence is judged on them too) and ``pool_large`` more serve
    only to estimate extensions; ``quantum`` is the enumerator's level width in nats;
    ``negatives`` is the likelihood's model of negative examples (see
    :class:`~agents.pix2code.search.likelihood.SizePrinciple`; None: the domain's); if nothing fits every support
    label, near fits with at most ``max_errors`` wrong labels (None: any) are returned instead.
    ``compiled_inventions=False`` evaluates every applied invention by inlining it, the
    reference semantics: the same results, slower (a benchmark baseline and a cross-check).
    """

    seed: int = 0
    top_k: int = 10
    pool_small: int = 32
    pool_large: int = 512
    quantum: float = 0.5
    negatives: str | None = None
    pseudo_count: float = 0.5
    max_errors: int | None = None
    compiled_inventions: bool = True


@dataclass
class _Setup:
    domain: Domain
    grammar: Grammar
    support: SceneTable
    labels: np.ndarray
    ctx: VectorContext
    pool_ctx: VectorContext
    scorer: _Scorer


def _prepare(
    domain: Domain | str,
    support_scenes: Scenes,
    support_labels: Sequence[int] | np.ndarray,
    extra_scenes: Scenes | None,
    grammar: Grammar | None,
    options: SolverOptions,
    reference_scenes: Scenes | None = None,
    support_readings: Readings | None = None,
) -> _Setup:
    domain = get_domain(domain) if isinstance(domain, str) else domain
    grammar = default_grammar(domain) if grammar is None else grammar
    labels = np.asarray(support_labels).astype(bool).reshape(-1)
    support = _as_table(domain, support_scenes)
    if support.n_scenes != labels.size:
        raise ValueError(f"{support.n_scenes} support scenes but {labels.size} labels")
    if support.n_scenes > 64:
        raise ValueError(f"at most 64 support scenes are supported, got {support.n_scenes}")
    observed = [support] + ([_as_table(domain, extra_scenes)] if extra_scenes is not None else [])
    rng = np.random.default_rng(options.seed)
    source = SceneTable.concatenate(observed)
    reference = None if reference_scenes is None else _as_table(domain, reference_scenes)
    # alternative readings of doubtful support scenes sit right after the support (bits S …)
    readings = [] if support_readings is None or not len(support_readings) else [
        domain.table(support_readings.objects, support_readings.mask)
    ]
    # Round the enumeration context (readings included) up to a multiple of 64 scenes:
    # word-aligned bitsets, and the assembly's support words are a reshape of their bytes.
    n_observed = source.n_scenes + sum(r.n_scenes for r in readings)
    pool_small = options.pool_small + (-(n_observed + options.pool_small)) % 64
    small = synthetic_scenes(source, rng, pool_small, domain.attribute_values, domain.layout, reference)
    large = synthetic_scenes(source, rng, options.pool_large, domain.attribute_values, domain.layout, reference)
    enum_table = SceneTable.concatenate(observed[:1] + readings + observed[1:] + [small])
    ctx = VectorContext(enum_table, max_depth=grammar.max_depth)
    pool_ctx = VectorContext(large, max_depth=grammar.max_depth)
    # Extension estimates count the support scenes and both synthetic pools: the support is a
    # sample of real scenes too, and its positives lie in every fitting program's extension.
    n_before_pool = enum_table.n_scenes - pool_small
    pool_mask = (((1 << pool_small) - 1) << n_before_pool) | ((1 << support.n_scenes) - 1)
    size = SizePrinciple(
        int(labels.sum()),
        int((~labels).sum()),
        support.n_scenes + pool_small + options.pool_large,
        pseudo_count=options.pseudo_count,
        negatives=domain.negatives if options.negatives is None else options.negatives,
    )
    max_errors = labels.size if options.max_errors is None else options.max_errors
    soft = SoftFit(support_readings, labels) if readings else None
    scorer = _Scorer(support.n_scenes, labels, pool_mask, pool_ctx, size, options.top_k, max_errors, soft)
    return _Setup(domain, grammar, support, labels, ctx, pool_ctx, scorer)


def solve(
    domain: Domain | str,
    support_scenes: Scenes,
    support_labels: Sequence[int] | np.ndarray,
    extra_scenes: Scenes | None = None,
    grammar: Grammar | None = None,
    budget: SearchBudget = SearchBudget(),
    options: SolverOptions = SolverOptions(),
    reference_scenes: Scenes | None = None,
    support_readings: Readings | None = None,
) -> SearchResult:
    """The maximum-posterior programs for a support set (see the module docstring).

    ``support_scenes`` and ``extra_scenes`` are object tables ``(objects, mask)`` as in an
    observation, or :class:`SceneTable` s; ``extra_scenes`` (e.g. unlabelled queries, when the
    caller may use them) join the enumeration context. Synthetic scenes for extension
    estimates take their object counts from the support and extra scenes and their objects'
    layouts (positions, sizes) from ``reference_scenes`` if given — scenes the agent has seen
    before, such as the queries of training episodes, as a prior; much better than the
    support's own, concept-biased layouts — else from the support and extra scenes.
    ``grammar`` defaults to the domain's (:func:`default_grammar`). ``support_readings``: the
    alternative readings of support scenes an extractor doubted (:mod:`~agents.pix2code.search.uncertain`);
    programs are then scored in expectation over the readings.
    """
    started = time.perf_counter()
    setup = _prepare(domain, support_scenes, support_labels, extra_scenes, grammar, options, reference_scenes,
                     support_readings)
    scorer = setup.scorer
    enumerator = BottomUpEnumerator(setup.grammar, setup.ctx, quantum=options.quantum, compiled=options.compiled_inventions)
    assembler: Assembler | None = None
    scorer.clock = lambda: enumerator.evaluated + (assembler.checked if assembler is not None else 0)
    deadline = math.inf if budget.seconds is None else started + budget.seconds
    enum_deadline = math.inf if budget.seconds is None else started + budget.seconds * budget.enumeration_share
    enumeration_started = time.perf_counter()
    reason = enumerator.run(
        scorer.consider,
        deadline=enum_deadline,
        max_candidates=budget.enumerated,
        max_kept=budget.kept,
        max_level=budget.max_level,
    )
    assembly_started = time.perf_counter()
    soft = scorer.soft
    assembler = Assembler(enumerator, setup.support.n_scenes, scorer.positives, scorer.consider, scorer.worth,
                          words=None if soft is None else soft.words, n_view=setup.support.n_scenes + (soft.count if soft else 0))
    assembly_reason = assembler.run(deadline, budget.assembled)
    assembly_ended = time.perf_counter()
    programs = scorer.results()
    seconds = time.perf_counter() - started
    return SearchResult(
        domain=setup.domain.name,
        programs=programs,
        candidates_evaluated=enumerator.evaluated + assembler.checked,
        seconds=seconds,
        timed_out="time" in (reason, assembly_reason),
        stop_reason=f"enumeration: {reason}; assembly: {assembly_reason}",
        stats={
            "enumerated": enumerator.evaluated,
            "kept": enumerator.kept,
            "level": enumerator.level,
            "assembled_checked": assembler.checked,
            "assembled_fitted": assembler.fitted,
            "consistent": scorer.consistent,
            "scenes": setup.ctx.N,
            "enumeration_seconds": assembly_started - enumeration_started,
            "assembly_seconds": assembly_ended - assembly_started,
        },
    )


def score_programs(
    domain: Domain | str,
    programs: Sequence[str],
    support_scenes: Scenes,
    support_labels: Sequence[int] | np.ndarray,
    extra_scenes: Scenes | None = None,
    grammar: Grammar | None = None,
    options: SolverOptions = SolverOptions(),
    reference_scenes: Scenes | None = None,
) -> list[ScoredProgram]:
    """Score given programs exactly as :func:`solve` scores what it finds (same pools, prior
    and likelihood), e.g. to see why the search preferred one program to another. Programs
    must be in the vectorised fragment."""
    setup = _prepare(domain, support_scenes, support_labels, extra_scenes, grammar, options, reference_scenes)
    scorer = setup.scorer
    out = []
    for text in programs:
        term = parse(text, setup.grammar.parse_table | setup.domain.parse_table)
        typecheck(term, setup.domain.request)
        value = evaluate_vectorised(term, setup.ctx)
        missed = (scorer.positives & ~value).bit_count()
        wrong = (value & ~scorer.positives & scorer.support).bit_count()
        errors = missed + wrong
        hits = (value & scorer.pool_mask).bit_count() + evaluate_vectorised(term, setup.pool_ctx).bit_count()
        lp = setup.grammar.log_prior(term)
        ll = scorer.size.log_likelihood(hits) if errors == 0 else scorer.size.with_errors(hits, missed, wrong)
        out.append(ScoredProgram(term.show(), lp, ll, lp + ll, scorer.size.extension(hits), errors))
    return out


class Labeller:
    """Labels many programs on one set of scenes: vectorised when possible (one context, built
    once), else the interpreter (a failure or timeout on a scene counts as a negative)."""

    def __init__(self, domain: Domain, table: SceneTable, vectorised_only: bool = False) -> None:
        self.domain, self.table, self.vectorised_only = domain, table, vectorised_only
        self.ctx = VectorContext(table, max_depth=max(2, domain.max_depth))
        self._scenes: list | None = None

    def __call__(self, program: str | Term) -> np.ndarray:
        """Labels; with ``vectorised_only``, Unsupported for programs outside the vectorised fragment."""
        term = parse(program, self.domain.parse_table) if isinstance(program, str) else program
        typecheck(term, self.domain.request)
        try:
            return vector_labels(term, self.ctx)
        except Unsupported:
            if self.vectorised_only:
                raise
            if self._scenes is None:
                self._scenes = scenes_from_table(self.table)
            return np.array([bool(x) for x in classify(term, self._scenes)], dtype=bool)


def program_labels(program: str, domain: Domain, table: SceneTable) -> np.ndarray:
    """Labels of one program on scenes (see :class:`Labeller`)."""
    return Labeller(domain, table)(program)


def predict(
    result: SearchResult, scenes: Scenes, domain: Domain | None = None, readings: Readings | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior-weighted vote of the result's programs on new scenes: (0/1 labels, scores in [0, 1]).

    With ``readings`` (alternative readings of doubtful scenes) each program's vote on a scene is
    its expectation over the scene's readings. With no program found, every scene gets label 0
    and score 0.5.
    """
    domain = get_domain(result.domain) if domain is None else domain
    table = _as_table(domain, scenes)
    if not result.programs:
        return np.zeros(table.n_scenes, dtype=np.uint8), np.full(table.n_scenes, 0.5)
    alternatives = domain.table(readings.objects, readings.mask) if readings is not None and len(readings) else None
    weights = result.weights()
    scores = np.zeros(table.n_scenes)
    for w, p in zip(weights, result.programs):
        votes = program_labels(p.program, domain, table).astype(np.float64)
        if alternatives is not None:
            votes = readings.expectation(votes, program_labels(p.program, domain, alternatives).astype(np.float64))
        scores += w * votes
    scores = np.clip(scores, 0.0, 1.0)  # the weights sum to 1 only up to rounding
    return (scores > 0.5).astype(np.uint8), scores
