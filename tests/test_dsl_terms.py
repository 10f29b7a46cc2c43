"""Types, terms, parsing/printing, type checking, β-reduction and η-long form."""

from __future__ import annotations

import pytest

from agents.pix2code.dsl import (
    DSLTypeError,
    Index,
    Invented,
    beta_normal,
    eta_long,
    infer,
    parse,
    parse_type,
    typecheck,
)
from agents.pix2code.dsl.inference import type_scheme
from agents.pix2code.dsl.types import BOOL, INT, T0, Unifier, UnificationError, arrow, list_of

PROGRAMS = [
    "(lambda (exists (lambda (eq? (color $0) red)) $0))",
    "(lambda (forall (lambda (exists (lambda (eq? (shape $0) (shape $1))) (remove $0 $1))) $0))",
    "(lambda (gt? (count (map (lambda (xbin $0)) $0) 3) 1))",
    "(lambda (fold $0 0 (lambda (lambda (+ $0 (xbin $1))))))",
    "(lambda (#(lambda (lambda (exists (lambda (eq? (color $0) $1)) $1))) $0 red))",
    "(lambda (if (empty? (cdr $0)) true (not (same_color $0))))",
]


@pytest.mark.parametrize("text", PROGRAMS)
def test_parse_print_round_trip(text):
    term = parse(text)
    assert term.show() == text
    assert parse(term.show()) == term
    assert hash(parse(text)) == hash(term)


def test_parse_structure():
    term = parse("(lambda (exists (lambda (eq? (color $0) red)) $0))")
    head, args = term.body.spine()
    assert head.show() == "exists" and len(args) == 2
    assert args[1] == Index(0)
    assert term.size == 6
    assert parse("(lam $0)").show() == "(lambda $0)"  # stitch's spelling is accepted


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("(lambda (exists (lambda (eq? (color $0) red) $0))", 45, "exactly one body"),
        ("(lambda (exists", 15, "missing ')' to close the '(' opened at position 8"),
        ("(lambda (frobnicate $0))", 9, "unknown primitive 'frobnicate'"),
        ("(lambda (not $x))", 13, "bad variable"),
        ("(lambda $0))", 11, "after a complete program"),
        ("(lambda (#(lambda $1) $0))", 9, "must be closed"),
    ],
)
def test_parse_errors_name_the_position(text, position, fragment):
    with pytest.raises(ValueError) as err:
        parse(text)
    assert f"position {position}" in str(err.value)
    assert fragment in str(err.value)


def test_types_print_and_parse():
    t = parse_type("(t0 -> bool) -> list(t0) -> bool")
    assert str(t) == "(t0 -> bool) -> list(t0) -> bool"
    assert t == arrow(arrow(T0, BOOL), list_of(T0), BOOL)
    with pytest.raises(ValueError, match="position"):
        parse_type("list(obj")


def test_unifier_binds_and_undoes():
    u = Unifier(next_variable=10)
    mark = u.mark()
    u.unify(list_of(T0), list_of(INT))
    assert u.resolve(T0) == INT
    u.undo(mark)
    assert u.resolve(T0) == T0
    with pytest.raises(UnificationError, match="occurs check"):
        u.unify(T0, list_of(T0))
    with pytest.raises(UnificationError, match="cannot unify int with bool"):
        u.unify(INT, BOOL)


def test_typecheck_accepts_and_specialises():
    t = typecheck(parse(PROGRAMS[0]), "list(obj) -> bool")
    assert str(t) == "list(obj) -> bool"
    assert str(infer(parse("(lambda (lambda (cons $0 $1)))"))) == "list(t0) -> t0 -> list(t0)"
    # each use of a polymorphic primitive is instantiated afresh
    assert str(typecheck(parse("(lambda (and (eq? 1 2) (eq? red (color (car $0)))))"))) == "list(obj) -> bool"


def test_ill_typed_program_shows_both_types():
    with pytest.raises(DSLTypeError) as err:
        typecheck(parse("(lambda (exists (lambda (eq? (color $0) cube)) $0))"), "list(obj) -> bool")
    message = str(err.value)
    assert "cube has type shape" in message and "expects color" in message
    assert str(err.value.expected) == "color" and str(err.value.found) == "shape"
    assert isinstance(err.value, TypeError)


def test_request_mismatch_is_rejected():
    with pytest.raises(DSLTypeError, match="request is list\\(obj\\) -> bool"):
        typecheck(parse("(lambda (length $0))"), "list(obj) -> bool")
    with pytest.raises(DSLTypeError, match="free variables"):
        typecheck(parse("(exists (lambda true) $0)"), "bool")


def test_beta_normal_and_shifting():
    term = parse("(lambda ((lambda (lambda (and $0 $1))) true (not true)))")
    assert beta_normal(term).show() == "(lambda (and (not true) true))"
    # substitution under a binder shifts the free variable of the argument
    term = parse("(lambda ((lambda (exists (lambda (eq? $0 $1)) $1)) (car $0)))")
    assert beta_normal(term).show() == "(lambda (exists (lambda (eq? $0 (car $1))) $0))"
    inv = parse("(lambda (#(lambda (not $0)) true))")
    assert beta_normal(inv, inline_inventions=True).show() == "(lambda (not true))"
    with pytest.raises(ValueError, match="negative index"):
        Index(0).shift(-1)


def test_eta_long_form():
    request = parse_type("list(obj) -> int")
    assert eta_long(parse("(lambda (count (map color $0) red))"), request).show() == (
        "(lambda (count (map (lambda (color $0)) $0) red))"
    )
    assert eta_long(parse("(lambda (exists (closeby (car $0)) $0))"), parse_type("list(obj) -> bool")).show() == (
        "(lambda (exists (lambda (closeby (car $1) $0)) $0))"
    )


def test_invention_type_is_inferred_once():
    inv = Invented(parse("(lambda (lambda (exists (lambda (eq? (color $0) $1)) $1)))"))
    assert str(type_scheme(inv)) == "list(obj) -> color -> bool"
    with pytest.raises(ValueError, match="closed"):
        Invented(Index(0))
