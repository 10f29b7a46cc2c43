"""Bottom-up enumeration, assembly and the solver: prior order, observational equivalence,
agreement of enumerated values with the evaluator, maximum-posterior choice, determinism,
prediction and accuracy floors on fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.pix2code.dsl import CURI, KANDINSKY, parse
from agents.pix2code.dsl.vector import evaluate_open, evaluate_vectorised
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.search.bottom_up import BottomUpEnumerator
from agents.pix2code.search.grammar import Grammar
from agents.pix2code.search.solver import (
    SearchBudget,
    SolverOptions,
    default_grammar,
    predict,
    score_programs,
    solve,
)
from pix2code_env.scoring import class_balanced_accuracy
from tests.test_search_fixtures import curi_tables, curi_task

DETERMINISTIC = SearchBudget(seconds=None, enumerated=20_000, assembled=200_000)


@pytest.fixture(scope="module")
def curi_enumeration():
    ctx = VectorContext(CURI.table(*curi_tables(np.random.default_rng(0), 64)), max_depth=2)
    grammar = Grammar.from_domain(CURI)
    en = BottomUpEnumerator(grammar, ctx)
    found = []
    en.run(lambda value, entry: found.append((value, entry)), max_candidates=20_000)
    return grammar, ctx, en, found


def test_enumerated_programs_carry_their_exact_prior(curi_enumeration):
    grammar, _, en, found = curi_enumeration
    assert len(found) > 100
    for _, entry in found[:300]:
        program = parse("(lambda " + entry.term().show() + ")")
        assert math.isclose(entry.log_prior, grammar.log_prior(program), abs_tol=1e-9)


def test_enumeration_follows_the_prior(curi_enumeration):
    _, _, en, found = curi_enumeration
    priors = [entry.log_prior for _, entry in found]
    # levels are quantised (0.5 nat per choice at most off), so order holds up to rounding
    slack = 0.25 * 12
    assert all(later <= earlier + slack for earlier, later in zip(priors, priors[1:]))
    assert priors[0] == max(priors)


def test_enumerated_values_are_the_programs_values(curi_enumeration):
    _, ctx, en, found = curi_enumeration
    for value, entry in found[:200]:
        assert evaluate_vectorised(parse("(lambda " + entry.term().show() + ")"), ctx) == value
    for nt, (t, env) in enumerate(en.nts):
        entries = en.entries(nt)[:40]
        for e in entries:
            assert evaluate_open(e.term(), e.rule.depth, ctx) == e.value, (t, env, e.term().show())


def test_observational_equivalence_keeps_one_program_per_value(curi_enumeration):
    _, _, en, found = curi_enumeration
    values = [v for v, _ in found]
    assert len(values) == len(set(values))
    for nt in range(len(en.nts)):
        vals = [v for vs, _ in en.bank[nt] for v in vs]
        assert len(vals) == len(set(vals))


def test_inventions_are_enumerated():
    body = parse("(lambda (lambda (exists (lambda (eq? (color $0) $1)) $1)))")
    grammar = Grammar.from_domain(CURI).with_inventions([body], log_weight=3.0)
    ctx = VectorContext(CURI.table(*curi_tables(np.random.default_rng(1), 64)), max_depth=2)
    en = BottomUpEnumerator(grammar, ctx)
    found = []
    en.run(lambda v, e: found.append((v, e)), max_candidates=3000)
    using = [(v, e) for v, e in found if "#" in e.term().show()]
    assert using
    for value, entry in using[:20]:
        assert evaluate_vectorised(parse("(lambda " + entry.term().show() + ")"), ctx) == value


def test_higher_order_inventions_agree_with_inlining():
    """Inventions taking a predicate (applied inside a λ, passed on η-reduced, mixed with
    first-order parameters) run as closures over a compiled body; every value must equal the
    inlined program's."""
    bodies = [
        "(lambda (lambda (exists (lambda ($2 $0)) $0)))",
        "(lambda (lambda (and (forall $1 $0) (exists $1 $0))))",
        "(lambda (lambda (lambda (forall (lambda (or ($3 $0) (eq? (color $0) $1))) $1))))",
        # typed color -> list(obj) -> bool with one λ: the scene passed on η-reduced (learned on
        # Complexity); it is inlined at every application, as the reference does
        "(lambda (#(lambda (lambda (lambda (lambda (gt? (count (map $1 $0) $2) $3))))) 2 $0 (lambda (color $0))))",
    ]
    grammar = Grammar.from_domain(CURI).with_inventions([parse(b) for b in bodies], log_weight=3.0)
    ctx = VectorContext(CURI.table(*curi_tables(np.random.default_rng(2), 64)), max_depth=2)
    en = BottomUpEnumerator(grammar, ctx)
    found = []
    en.run(lambda v, e: found.append((v, e)), max_candidates=20_000)
    compiled = {r.name for rules in en.rules for r in rules if r.op == "inv" and (r.compiled or r.closures)}
    assert {"#" + b for b in bodies[:3]} <= compiled and "#" + bodies[3] not in compiled
    for body in bodies:
        using = [(v, e) for v, e in found if "#" + body in e.term().show()]
        assert using, body
        for value, entry in using[:15]:
            assert evaluate_vectorised(parse("(lambda " + entry.term().show() + ")"), ctx) == value, entry.term().show()
    for nt in range(len(en.nts)):
        for e in [e for e in en.entries(nt) if "#" in e.term().show()][:30]:
            assert evaluate_open(e.term(), e.rule.depth, ctx) == e.value, e.term().show()
    reference = BottomUpEnumerator(grammar, ctx, compiled=False)  # every application inlined
    inlined = []
    reference.run(lambda v, e: inlined.append((v, e.term().show())), max_candidates=20_000)
    assert inlined == [(v, e.term().show()) for v, e in found]


def test_solver_finds_the_maximum_posterior_program():
    rng = np.random.default_rng(2)
    target = "(lambda (exists (lambda (and (eq? (color $0) red) (eq? (shape $0) cube))) $0))"
    support, labels, query, truth = curi_task(rng, target)
    result = solve(CURI, support, labels, budget=DETERMINISTIC)
    assert result.exact and result.programs
    best = result.best
    assert best.log_posterior == max(p.log_posterior for p in result.programs)
    assert [p.log_posterior for p in result.programs] == sorted((p.log_posterior for p in result.programs), reverse=True)
    assert best.log_posterior == pytest.approx(best.log_prior + best.log_likelihood)
    predicted, scores = predict(result, query)
    assert predicted.shape == truth.shape and predicted.dtype == np.uint8
    assert ((0 <= scores) & (scores <= 1)).all()
    assert class_balanced_accuracy(truth, predicted) >= 0.9
    # the target itself fits, and scores no better than what was found
    (scored,) = score_programs(CURI, [target], support, labels)
    assert scored.errors == 0 and scored.log_posterior <= best.log_posterior + 1e-9
    # the size principle: a fitting but much more general program scores lower
    (general,) = score_programs(CURI, ["(lambda (exists (lambda (eq? (color $0) red)) $0))"], support, labels)
    assert general.errors > 0 or general.log_posterior < best.log_posterior


def test_solver_is_deterministic_under_a_candidate_budget():
    rng = np.random.default_rng(3)
    support, labels, _, _ = curi_task(rng, "(lambda (forall (lambda (gt? 4 (ybin $0))) $0))")
    first = solve(CURI, support, labels, budget=DETERMINISTIC, options=SolverOptions(seed=7))
    second = solve(CURI, support, labels, budget=DETERMINISTIC, options=SolverOptions(seed=7))
    assert [p.program for p in first.programs] == [p.program for p in second.programs]
    assert [p.log_posterior for p in first.programs] == [p.log_posterior for p in second.programs]
    assert first.candidates_evaluated == second.candidates_evaluated
    assert first.stats["assembled_checked"] <= DETERMINISTIC.assembled  # enumeration may finish its current rule
    assert not first.timed_out


def test_near_fits_when_nothing_fits():
    rng = np.random.default_rng(4)
    support, labels, _, _ = curi_task(rng, "(lambda (exists (lambda (eq? (color $0) blue)) $0))")
    noisy = labels.copy()
    flip = int(np.flatnonzero(~labels)[0])
    noisy[flip] = True  # a negative labelled positive: no sensible program fits exactly
    result = solve(CURI, support, noisy, budget=SearchBudget(seconds=None, enumerated=5000, assembled=0))
    assert not result.exact
    # the concept itself, one label off, beats constant programs that miss every positive
    assert result.program == "(lambda (exists (lambda (eq? blue (color $0))) $0))"
    assert result.best.errors == 1


def test_empty_result_predicts_negative_with_half_scores():
    from agents.pix2code.search.solver import SearchResult

    empty = SearchResult("curi", (), 0, 0.0, False, "test")
    predicted, scores = predict(empty, curi_tables(np.random.default_rng(5), 3))
    assert predicted.tolist() == [0, 0, 0] and scores.tolist() == [0.5, 0.5, 0.5]


def test_bad_inputs_are_rejected():
    support = curi_tables(np.random.default_rng(6), 4)
    with pytest.raises(ValueError, match="4 support scenes but 3 labels"):
        solve(CURI, support, [1, 0, 0])
    with pytest.raises(ValueError, match="seconds must be positive"):
        SearchBudget(seconds=0)
    with pytest.raises(TypeError, match="SceneTable or an"):
        solve(CURI, [1, 2], [1, 0])


KANDINSKY_SAMPLE = [
    "2_same_color",
    "3_same_shape_and_not_same_size",
    "4_same_size_and_not_one_is_red_triangle",
    "5_not_same_color_or_not_same_size",
    "6_one_is_red_triangle",
    "4_pair1_same_color_pair2_same_size",
    "6_pair1_same_shape_and_same_color",
]


def _table(family, figures, k, f, pad):
    objects = np.full((len(figures), k, f), pad, dtype=np.float32)
    mask = np.zeros((len(figures), k), dtype=bool)
    for i, figure in enumerate(figures):
        t = family.object_table(figure)
        objects[i, : len(t)], mask[i, : len(t)] = t, True
    return objects, mask


def test_kandinsky_accuracy_floor():
    from tasks.kandinsky import KandinskyFamily

    family = KandinskyFamily()
    rng = np.random.default_rng(11)
    scores = []
    for cid in KANDINSKY_SAMPLE:
        episode = family.sample_episode(rng, cid, "test")
        result = solve(KANDINSKY, _table(family, episode.support_scenes, 6, 12, 0.0), episode.support_labels, budget=DETERMINISTIC)
        predicted, _ = predict(result, _table(family, episode.query_scenes, 6, 12, 0.0))
        scores.append(class_balanced_accuracy(episode.query_labels, predicted))
    assert np.mean(scores) >= 0.85, scores


def test_curi_accuracy_floor():
    import tasks

    family = tasks.make_family("curi", split="iid")
    rng = np.random.default_rng(12)
    episodes = [family.sample_episode(rng, family.sample_concept(rng, "test"), "test") for _ in range(8)]
    grammar = default_grammar(CURI)
    scores = []
    for episode in episodes:
        result = solve(CURI, _table(family, episode.support_scenes, 5, 19, -1.0), episode.support_labels, grammar=grammar, budget=DETERMINISTIC)
        predicted, _ = predict(result, _table(family, episode.query_scenes, 5, 19, -1.0))
        scores.append(class_balanced_accuracy(episode.query_labels, predicted))
    assert np.mean(scores) >= 0.8, scores


def test_synthetic_pool_is_uniform_in_attributes_and_copies_layouts():
    from agents.pix2code.search.pool import synthetic_scenes

    rng = np.random.default_rng(13)
    support = CURI.table(*curi_tables(rng, 25))
    reference = CURI.table(*curi_tables(rng, 40))
    pool = synthetic_scenes(support, rng, 4000, CURI.attribute_values, CURI.layout, reference)
    counts = pool.mask.sum(axis=1)
    assert set(counts.tolist()) <= set(support.mask.sum(axis=1).tolist())
    colors = pool.categorical["color"][1][pool.mask]
    assert np.allclose(np.bincount(colors, minlength=8) / colors.size, 1 / 8, atol=0.01)
    seen = set(zip(reference.continuous["x"][reference.mask].tolist(), reference.continuous["y"][reference.mask].tolist()))
    drawn = set(zip(pool.continuous["x"][pool.mask].tolist(), pool.continuous["y"][pool.mask].tolist()))
    assert drawn <= seen
    with pytest.raises(ValueError, match="neither layout nor categorical"):
        synthetic_scenes(support, rng, 10, {"color": ("red",)}, CURI.layout)
