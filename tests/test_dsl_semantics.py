"""The interpreter (step budget, failures), domains, and the agreement of the vectorised
evaluator with the interpreter on many random programs."""

from __future__ import annotations

import numpy as np
import pytest

from agents.pix2code.dsl import CURI, KANDINSKY, Program, classify, domain_for_env_id, evaluate, parse
from agents.pix2code.dsl.types import arguments, returns
from agents.pix2code.dsl.vector import labels
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_primitives import supports
from agents.pix2code.dsl.vector_values import Unsupported
from agents.pix2code.search.grammar import Grammar
from tests.test_search_fixtures import curi_tables, kandinsky_tables


def test_interpreter_on_a_scene():
    objects, mask = curi_tables(np.random.default_rng(0), 40)
    scenes = CURI.scenes(objects, mask)
    program = parse("(lambda (count (map (lambda (color $0)) $0) red))")
    counts = [evaluate(program, s) for s in scenes]
    assert counts == [sum(1 for o in s if o["color"] == "red") for s in scenes]
    assert evaluate(parse("(lambda (fold $0 0 (lambda (lambda (+ $0 1)))))"), scenes[0]) == len(scenes[0])


def test_step_budget_stops_a_runaway_program():
    scene = CURI.scenes(*curi_tables(np.random.default_rng(1), 1))[0]
    heavy = parse(
        "(lambda (fold $0 0 (lambda (lambda (+ $0 (fold $2 0 (lambda (lambda (+ $0 (count (map (lambda (xbin $0)) $4) (xbin $1)))))))))))"
    )
    result = Program(heavy, steps=50)(scene)
    assert result.timed_out and not result.ok
    assert Program(heavy, steps=1_000_000)(scene).ok


def test_failures_are_reported_not_raised():
    scene = CURI.scenes(*curi_tables(np.random.default_rng(2), 1))[0]
    program = parse("(lambda (eq? (color (car (cdr (cdr (cdr (cdr (cdr $0))))))) red))")
    result = Program(program)(scene)
    assert not result.ok and "car of an empty list" in result.error
    assert classify(program, [scene]) == [None]


def test_curi_decoding_recovers_pixels_and_bins():
    objects = np.zeros((1, 5, 19), dtype=np.float32)
    mask = np.array([[True, True, True, False, False]])
    for k, (px, py) in enumerate([(30, 20), (239, 159), (29, 19)]):
        objects[0, k, [0, 3 + k, 11, 13]] = 1
        objects[0, k, 15], objects[0, k, 16] = px / 240, py / 160
    table = CURI.table(objects, mask)
    assert table.integer["xbin"][0, :3].tolist() == [1, 7, 0]
    assert table.integer["ybin"][0, :3].tolist() == [1, 7, 0]
    scene = CURI.scenes(objects, mask)[0]
    assert [o["color"] for o in scene] == ["gray", "red", "blue"]
    assert {o["shape"] for o in scene} == {"cube"}


def test_domains_by_env_id_and_bad_tables():
    assert domain_for_env_id("Pix2Code-CURI-Counting-v0") is CURI
    assert domain_for_env_id("Pix2Code-CURIHans-v0") is CURI
    assert domain_for_env_id("Pix2Code-Kandinsky-v0") is KANDINSKY
    with pytest.raises(ValueError, match="no DSL domain for env id 'CartPole-v1'"):
        domain_for_env_id("CartPole-v1")
    with pytest.raises(ValueError, match=r"shape \(scenes, slots, 19\)"):
        CURI.table(np.zeros((2, 5, 12)), np.ones((2, 5)))


def _vectorisable(rule) -> bool:
    head = rule.head.show()
    if head.startswith("$"):
        return str(rule.head_type) in ("obj", "list(obj)")
    return supports(head, arguments(rule.head_type), returns(rule.head_type), max_depth=99, depth=0)


@pytest.mark.parametrize(
    "domain, tables, n_programs",
    [(CURI, curi_tables, 250), (KANDINSKY, kandinsky_tables, 150)],
)
def test_vectorised_semantics_agree_with_the_interpreter(domain, tables, n_programs):
    rng = np.random.default_rng(3)
    objects, mask = tables(rng, 48)
    ctx = VectorContext(domain.table(objects, mask), max_depth=2)
    scenes = domain.scenes(objects, mask)
    grammar = Grammar.from_domain(domain)
    seen = set()
    for _ in range(n_programs):
        program = grammar.sample(rng, max_size=14, keep=_vectorisable)
        seen.add(program.show())
        vector = labels(program, ctx)
        tree = classify(program, scenes)
        assert None not in tree, program.show()
        assert vector.tolist() == tree, program.show()
    assert len(seen) > n_programs // 2


def test_programs_outside_the_fragment_are_reported():
    ctx = VectorContext(CURI.table(*curi_tables(np.random.default_rng(4), 4)), 2)
    with pytest.raises(Unsupported):
        labels(parse("(lambda (eq? (color (car $0)) red))"), ctx)


def test_ill_typed_programs_never_run():
    from agents.pix2code.dsl import DSLTypeError

    scene = CURI.scenes(*curi_tables(np.random.default_rng(5), 1))[0]
    with pytest.raises(DSLTypeError, match="expects color"):
        Program(parse("(lambda (exists (lambda (eq? (color $0) metal)) $0))"))
    with pytest.raises(DSLTypeError):
        classify(parse("(lambda (+ 1 (color (car $0))))"), [scene])
