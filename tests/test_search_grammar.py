"""The weighted, type-conditioned grammar: normalisation, prior of programs, learned weights,
inventions and sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.pix2code.dsl import CURI, KANDINSKY, Invented, parse, typecheck
from agents.pix2code.dsl.inference import type_scheme
from agents.pix2code.dsl.types import BOOL, COLOR, INT, LIST_OBJ, OBJ
from agents.pix2code.search.grammar import Grammar

RED_SOMEWHERE = "(lambda (exists (lambda (eq? (color $0) red)) $0))"


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return Grammar.from_domain(CURI)


@pytest.mark.parametrize("request_type, env", [(BOOL, (LIST_OBJ,)), (BOOL, (OBJ, LIST_OBJ)), (COLOR, (OBJ, OBJ, LIST_OBJ)), (INT, (LIST_OBJ,))])
def test_rules_are_normalised(grammar, request_type, env):
    rules = grammar.rules(request_type, env)
    assert math.isclose(sum(math.exp(r.log_probability) for r in rules), 1.0, rel_tol=1e-9)


def test_polymorphic_weight_is_split_between_instantiations(grammar):
    eqs = [r for r in grammar.rules(BOOL, (OBJ, LIST_OBJ)) if r.head.show() == "eq?"]
    assert len(eqs) == len(grammar.types)  # one instantiation per ground type of the universe
    assert len({round(r.log_probability, 12) for r in eqs}) == 1


def test_log_prior_is_the_sum_of_choices(grammar):
    def lp(head: str, t, env) -> float:
        (rule,) = [r for r in grammar.rules(t, env) if r.head.show() == head and (head != "eq?" or r.head_type.args[0] == COLOR)]
        return rule.log_probability

    top, inner = (LIST_OBJ,), (OBJ, LIST_OBJ)
    expected = (
        lp("exists", BOOL, top)
        + lp("eq?", BOOL, inner)
        + lp("color", COLOR, inner)
        + lp("$0", OBJ, inner)
        + lp("red", COLOR, inner)
        + lp("$0", LIST_OBJ, top)
    )
    assert math.isclose(grammar.log_prior(parse(RED_SOMEWHERE)), expected, rel_tol=1e-12)


def test_programs_outside_the_grammar_have_zero_prior(grammar):
    assert grammar.log_prior(parse("(lambda (some_pair (lambda (lambda (closeby $0 $1))) $0))")) == -math.inf
    assert grammar.log_prior(parse("(lambda (exists (eq? red) (map color $0)))")) == -math.inf  # not η-long


def test_learned_weights_change_the_prior(grammar):
    heavier = grammar.with_weights({"exists": 3.0})
    assert heavier.log_prior(parse(RED_SOMEWHERE)) > grammar.log_prior(parse(RED_SOMEWHERE))
    assert heavier.weights["exists"] == 3.0 and grammar.weights["exists"] == CURI.weights["exists"]
    with pytest.raises(ValueError, match="no productions named"):
        grammar.with_weights({"teleport": 1.0})
    with pytest.raises(ValueError, match="not in domain curi"):
        Grammar.from_domain(CURI, weights={"closeby": 1.0})


def test_inventions_are_typed_productions(grammar):
    body = parse("(lambda (lambda (exists (lambda (eq? (color $0) $1)) $1)))")
    g = grammar.with_inventions([body], log_weight=1.0)
    invention = Invented(body)
    assert str(type_scheme(invention)) == "list(obj) -> color -> bool"
    program = parse(f"(lambda ({invention.show()} $0 red))")
    typecheck(program, CURI.request)
    assert math.isfinite(g.log_prior(program))
    assert g.log_prior(program) > g.log_prior(parse(RED_SOMEWHERE))
    assert grammar.log_prior(program) == -math.inf
    with pytest.raises(TypeError):
        grammar.with_inventions([parse("(lambda (eq? (color $0) cube))")])


def test_samples_are_well_typed_and_scored():
    g = Grammar.from_domain(KANDINSKY)
    rng = np.random.default_rng(0)
    for _ in range(50):
        program = g.sample(rng, max_size=15)
        typecheck(program, KANDINSKY.request)
        assert math.isfinite(g.log_prior(program))


def test_derivation_lists_choices_and_alternatives(grammar):
    program = parse(RED_SOMEWHERE)
    steps = grammar.derivation(program)
    assert [rule.head.show() for rule, _ in steps] == ["exists", "eq?", "color", "$0", "red", "$0"]
    assert all(rule in alternatives for rule, alternatives in steps)
    assert math.isclose(sum(rule.log_probability for rule, _ in steps), grammar.log_prior(program))
    with pytest.raises(ValueError, match="no rule for some_pair"):
        grammar.derivation(parse("(lambda (some_pair (lambda (lambda (closeby $0 $1))) $0))"))
