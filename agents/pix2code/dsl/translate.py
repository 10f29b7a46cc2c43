"""Translators from the families' own concept languages into DSL programs.

They show that every concept of both families has an equivalent program (tests check the
programs against each family's ground truth), and give readable reference programs for
explanations and library learning. An agent never calls them at test time: it sees no
concept definitions.

* CURI: the postfix AST of :mod:`tasks.curi.concepts`. ``x`` is the object bound by the top
  quantifier, ``S`` the scene, ``non-x-S`` is ``(remove x S)``; sizes compared with ``>`` become
  equalities (0.7 > size(x) means x is small); location constants stay the integers CURI
  writes (1..8 against 0-based bins: CURI's own off-by-one, kept).
* Kandinsky: RelKP clause names (:func:`tasks.kandinsky.clauses.parse_concept`) and the classic
  pattern names of :data:`tasks.kandinsky.patterns.PATTERNS`.
"""

from __future__ import annotations

from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Term

# ---------------------------------------------------------------------------------------------
# CURI

_CURI_FUNCTIONS = {
    "color?": "color",
    "shape?": "shape",
    "material?": "material",
    "size?": "size",
    "locationX?": "xbin",
    "locationY?": "ybin",
}
_CURI_SIZES = {"0.7": "large", "0.35": "small"}


class _CuriScope:
    """Where ``x`` and ``S`` are, as de Bruijn indices, ``binders`` λs below the concept body."""

    def __init__(self, quantified: bool, binders: int = 0) -> None:
        self.quantified, self.binders = quantified, binders

    def inner(self) -> _CuriScope:
        return _CuriScope(self.quantified, self.binders + 1)

    @property
    def x(self) -> str:
        if not self.quantified:
            raise ValueError("the concept mentions x but has no quantifier")
        return f"${self.binders}"

    @property
    def s(self) -> str:
        return f"${self.binders + (1 if self.quantified else 0)}"

    def set(self, name: str) -> str:
        return self.s if name == "S" else f"(remove {self.x} {self.s})"


def _curi_value(value, scope: _CuriScope) -> str:
    from tasks.curi.concepts import Attr, Const, Count

    if isinstance(value, Const):
        if value.kind == "size":
            return _CURI_SIZES[value.token]
        return value.token
    if isinstance(value, Attr):
        return f"({_CURI_FUNCTIONS[value.function]} {scope.x})"
    assert isinstance(value, Count)
    f = _CURI_FUNCTIONS[value.function]
    return f"(count (map (lambda ({f} $0)) {scope.set(value.set)}) {_curi_value(value.value, scope)})"


def _curi_size_greater(left, right, scope: _CuriScope) -> str:
    """``a > b`` on sizes (0.7 > 0.35 only): a is large and b is small."""
    from tasks.curi.concepts import Const

    parts = []
    for value, needed in ((left, "large"), (right, "small")):
        if isinstance(value, Const):
            if _CURI_SIZES[value.token] != needed:
                return "(not true)"
        else:
            parts.append(f"(eq? {_curi_value(value, scope)} {needed})")
    if not parts:
        return "true"
    return parts[0] if len(parts) == 1 else f"(and {parts[0]} {parts[1]})"


def _curi_bool(node, scope: _CuriScope) -> str:
    from tasks.curi.concepts import And, Compare, Not, Or, SetQuant

    if isinstance(node, Compare):
        kind = node.left.kind
        if node.op == ">" and kind == "size":
            return _curi_size_greater(node.left, node.right, scope)
        op = "eq?" if node.op == "=" else "gt?"
        return f"({op} {_curi_value(node.left, scope)} {_curi_value(node.right, scope)})"
    if isinstance(node, SetQuant):
        quantifier = "exists" if node.quantifier == "exists=" else "forall"
        f = _CURI_FUNCTIONS[node.function]
        inner = scope.inner()
        return f"({quantifier} (lambda (eq? ({f} $0) {_curi_value(node.value, inner)})) {scope.set(node.set)})"
    if isinstance(node, Not):
        return f"(not {_curi_bool(node.arg, scope)})"
    op = "and" if isinstance(node, And) else "or"
    assert isinstance(node, (And, Or))
    return f"({op} {_curi_bool(node.left, scope)} {_curi_bool(node.right, scope)})"


def curi_program_text(concept: str) -> str:
    """The DSL program (text) of a CURI concept string such as
    ``x color? red = lambda S. exists=`` → ``(lambda (exists (lambda (eq? (color $0) red)) $0))``."""
    from tasks.curi.concepts import parse as parse_curi

    c = parse_curi(concept)
    if c.quantifier is None:
        return f"(lambda {_curi_bool(c.body, _CuriScope(False))})"
    quantifier = "exists" if c.quantifier == "exists=" else "forall"
    return f"(lambda ({quantifier} (lambda {_curi_bool(c.body, _CuriScope(True))}) $0))"


def curi_program(concept: str) -> Term:
    return parse(curi_program_text(concept))


# ---------------------------------------------------------------------------------------------
# Kandinsky

_KP_PREDICATES = {
    "same_shape": "same_shape",
    "same_color": "same_color",
    "same_size": "same_size",
    "one_is_red_triangle": "one_red_triangle",
}
_PAIR_PRIMITIVES = {1: "some_pair", 2: "two_pairs", 3: "three_pairs"}

_RED_TRIANGLE = "(and (eq? (color $1) red) (eq? (shape $1) triangle))"
_NEITHER = "(and (not (eq? (color $0) red)) (not (eq? (shape $0) triangle)))"
_TWIN = "(and (eq? (shape $1) (shape $0)) (eq? (color $1) (color $0)))"

KANDINSKY_PATTERN_PROGRAMS: dict[str, str] = {
    "onered": "(lambda (exists (lambda (eq? (color $0) red)) $0))",
    "onetriangle": "(lambda (exists (lambda (eq? (shape $0) triangle)) $0))",
    "closeby": "(lambda (some_pair (lambda (lambda (closeby $1 $0))) $0))",
    "red-triangle": f"(lambda (some_pair (lambda (lambda (and {_RED_TRIANGLE} (and {_NEITHER} (closeby $1 $0))))) $0))",
    "online-pair": f"(lambda (and (online $0) (some_pair (lambda (lambda {_TWIN})) $0)))",
}


def _kp_formula(formula, target: str) -> str:
    def literal(lit) -> str:
        text = f"({_KP_PREDICATES[lit.predicate]} {target})"
        return f"(not {text})" if lit.negated else text

    out = literal(formula.literals[0])
    for connective, lit in zip(formula.connectives, formula.literals[1:]):
        out = f"({connective} {out} {literal(lit)})"
    return out


def kandinsky_clause_text(clause) -> str:
    """The program of a parsed RelKP clause (:mod:`tasks.kandinsky.clauses`)."""
    from tasks.kandinsky.clauses import AllObjectsClause

    if isinstance(clause, AllObjectsClause):
        return f"(lambda {_kp_formula(clause.formula, '$0')})"
    relations = " ".join(f"(lambda (lambda {_kp_formula(slot, '(pair $1 $0)')}))" for slot in clause.slots)
    return f"(lambda ({_PAIR_PRIMITIVES[len(clause.slots)]} {relations} $0))"


def kandinsky_program_text(concept_id: str) -> str:
    """The program of a Kandinsky concept: a RelKP clause name or a classic pattern name."""
    from tasks.kandinsky.clauses import parse_concept
    from tasks.kandinsky.patterns import PATTERNS

    if concept_id in KANDINSKY_PATTERN_PROGRAMS:
        return KANDINSKY_PATTERN_PROGRAMS[concept_id]
    if concept_id == "twopairs":
        return kandinsky_clause_text(parse_concept("4_pair1_same_shape_and_same_color_pair2_same_shape_and_not_same_color"))
    if concept_id == "threepairs":
        return kandinsky_clause_text(
            parse_concept(
                "6_pair1_same_shape_and_same_color_pair2_same_shape_and_not_same_color"
                "_pair3_same_shape_and_not_same_color"
            )
        )
    if concept_id in PATTERNS:
        raise ValueError(f"no translation for Kandinsky pattern {concept_id!r}")
    return kandinsky_clause_text(parse_concept(concept_id))


def kandinsky_program(concept_id: str) -> Term:
    return parse(kandinsky_program_text(concept_id))
