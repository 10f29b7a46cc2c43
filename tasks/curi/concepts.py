"""CURI concepts as text and as a small typed syntax tree.

CURI writes concepts in postfix, arguments before their operator, with the top-level binder
last: ``<BODY> lambda S. exists=`` / ``<BODY> lambda S. for-all=``, or ``<BODY> lambda S.`` when
the quantifier was collapsed because the body never mentions ``x`` (curi.md §3.1, §4).
:func:`parse` turns such a string into a :class:`Concept`; :func:`to_text` prints it back
token for token, so every released string round-trips exactly.

The tree is deliberately the language, not the grammar: it accepts any well-typed postfix
expression (any depth, constant-only comparisons included). Whether a concept could have been
*sampled* by CURI (depth rule, constant-only rule, banned identical arguments) is
:func:`tasks.curi.grammar.violations`' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

COLOR_TOKENS = ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow")
SHAPE_TOKENS = ("cube", "sphere", "cylinder")
MATERIAL_TOKENS = ("rubber", "metal")
SIZE_TOKENS = ("0.7", "0.35")  # CURI prints the sizes large / small as floats
LOCATION_TOKENS = ("1", "2", "3", "4", "5", "6", "7", "8")
NUMBER_TOKENS = ("1", "2", "3")

#: value kind of each attribute function (both location functions share the kind "location")
FUNCTIONS: dict[str, str] = {
    "color?": "color",
    "shape?": "shape",
    "material?": "material",
    "size?": "size",
    "locationX?": "location",
    "locationY?": "location",
}
#: constant tokens of each value kind; digits are "location" or "number" by context
CONSTANTS: dict[str, tuple[str, ...]] = {
    "color": COLOR_TOKENS,
    "shape": SHAPE_TOKENS,
    "material": MATERIAL_TOKENS,
    "size": SIZE_TOKENS,
    "location": LOCATION_TOKENS,
    "number": NUMBER_TOKENS,
}
ORDERED_KINDS = frozenset({"size", "location", "number"})  # kinds that `>` accepts
SETS = ("S", "non-x-S")
QUANTIFIERS = ("exists=", "for-all=")


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Const:
    """A constant token of a value kind, e.g. ``Const("color", "red")``, ``Const("location", "3")``."""

    kind: str
    token: str


@dataclass(frozen=True)
class Attr:
    """An attribute of the bound object: ``x color?`` is ``Attr("color?")``."""

    function: str

    @property
    def kind(self) -> str:
        return FUNCTIONS[self.function]


@dataclass(frozen=True)
class Count:
    """``SET F v count=``: how many objects of the set have attribute F equal to v."""

    set: str
    function: str
    value: Value

    kind = "number"


Value = Union[Const, Attr, Count]


# ----------------------------------------------------------------------------- booleans


@dataclass(frozen=True)
class Compare:
    """``a b =`` (a equals b) or ``a b >`` (a greater than b), in postfix argument order."""

    op: str
    left: Value
    right: Value


@dataclass(frozen=True)
class SetQuant:
    """``SET F v exists=`` / ``for-all=``: some / every object of the set has F equal to v."""

    quantifier: str
    set: str
    function: str
    value: Value


@dataclass(frozen=True)
class Not:
    arg: Bool


@dataclass(frozen=True)
class And:
    left: Bool
    right: Bool


@dataclass(frozen=True)
class Or:
    left: Bool
    right: Bool


Bool = Union[Compare, SetQuant, Not, And, Or]
Atom = Union[Compare, SetQuant]


@dataclass(frozen=True)
class Concept:
    """A whole concept: a boolean body under ``exists=`` / ``for-all=`` over x, or collapsed (None)."""

    body: Bool
    quantifier: str | None

    def __str__(self) -> str:
        return to_text(self)


# ----------------------------------------------------------------------------- queries


def atoms(node: Bool) -> tuple[Atom, ...]:
    """The atomic predicates of a body, left to right."""
    if isinstance(node, (Compare, SetQuant)):
        return (node,)
    if isinstance(node, Not):
        return atoms(node.arg)
    return atoms(node.left) + atoms(node.right)


def mentions_x(node: Bool | Value) -> bool:
    """Whether a body or value refers to the bound object (``x`` or ``non-x-S``)."""
    if isinstance(node, Attr):
        return True
    if isinstance(node, Const):
        return False
    if isinstance(node, Count):
        return node.set == "non-x-S" or mentions_x(node.value)
    if isinstance(node, Compare):
        return mentions_x(node.left) or mentions_x(node.right)
    if isinstance(node, SetQuant):
        return node.set == "non-x-S" or mentions_x(node.value)
    if isinstance(node, Not):
        return mentions_x(node.arg)
    return mentions_x(node.left) or mentions_x(node.right)


def collapse(concept: Concept) -> Concept:
    """CURI's quantifier collapse: drop the vacuous top quantifier of an x-free body (curi.md §4)."""
    if concept.quantifier is not None and not mentions_x(concept.body):
        return Concept(concept.body, None)
    return concept


def token_length(text: str) -> int:
    """CURI's concept length: the number of space-separated tokens, binder included."""
    return len(text.split(" "))


# ----------------------------------------------------------------------------- printing


def value_tokens(value: Value) -> list[str]:
    if isinstance(value, Const):
        return [value.token]
    if isinstance(value, Attr):
        return ["x", value.function]
    return [value.set, value.function, *value_tokens(value.value), "count="]


def bool_tokens(node: Bool) -> list[str]:
    if isinstance(node, Compare):
        return [*value_tokens(node.left), *value_tokens(node.right), node.op]
    if isinstance(node, SetQuant):
        return [node.set, node.function, *value_tokens(node.value), node.quantifier]
    if isinstance(node, Not):
        return [*bool_tokens(node.arg), "not"]
    op = "and" if isinstance(node, And) else "or"
    return [*bool_tokens(node.left), *bool_tokens(node.right), op]


def to_text(concept: Concept) -> str:
    """Print a concept in CURI's released postfix form."""
    tail = ["lambda", "S."] + ([concept.quantifier] if concept.quantifier else [])
    return " ".join(bool_tokens(concept.body) + tail)


# ----------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Object:  # "x", waiting for its attribute function
    position: int


@dataclass(frozen=True)
class _Set:  # "S" / "non-x-S", waiting for its attribute function
    name: str
    position: int


@dataclass(frozen=True)
class _List:  # "S color?": a list of attribute values, waiting for a value and a quantifier
    set: str
    function: str


@dataclass(frozen=True)
class _Digit:  # a digit whose kind (location or number) the consumer decides
    token: str


_ALL_CONSTANTS = {t for kind in ("color", "shape", "material", "size") for t in CONSTANTS[kind]}
_DIGITS = set(LOCATION_TOKENS)
_VALUE_TYPES = (Const, Attr, Count, _Digit)
_BOOL_TYPES = (Compare, SetQuant, Not, And, Or)


class _Parser:
    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"a CURI concept is a string, got {type(text).__name__}")
        self.text = text
        self.tokens = text.split(" ")
        self.stack: list[object] = []

    def fail(self, index: int, expected: str) -> ValueError:
        token = self.tokens[index] if index < len(self.tokens) else "<end>"
        return ValueError(
            f"malformed CURI concept {self.text!r}: token {index} ({token!r}): expected {expected}"
        )

    def pop(self, index: int, types: tuple[type, ...], expected: str) -> object:
        if not self.stack or not isinstance(self.stack[-1], types):
            raise self.fail(index, expected)
        return self.stack.pop()

    def value_of_kind(self, item: object, kind: str, index: int) -> Value:
        """Resolve a popped value against the kind its consumer needs."""
        if isinstance(item, _Digit):
            if item.token not in CONSTANTS.get(kind, ()):
                raise self.fail(index, f"a {kind} argument, not the digit {item.token!r}")
            return Const(kind, item.token)
        assert isinstance(item, (Const, Attr, Count))
        if item.kind != kind:
            raise self.fail(index, f"arguments of one kind, got {item.kind} where {kind} was needed")
        return item

    def parse(self) -> Concept:
        tokens = self.tokens
        for i, tok in enumerate(tokens):
            if tok == "lambda":
                return self.finish(i)
            self.step(i, tok)
        raise self.fail(len(tokens), "the binder 'lambda S.'")

    def step(self, i: int, tok: str) -> None:
        stack = self.stack
        if tok == "x":
            stack.append(_Object(i))
        elif tok in SETS:
            stack.append(_Set(tok, i))
        elif tok in FUNCTIONS:
            owner = self.pop(i, (_Object, _Set), f"'x', 'S' or 'non-x-S' before {tok!r}")
            stack.append(Attr(tok) if isinstance(owner, _Object) else _List(owner.name, tok))
        elif tok in _ALL_CONSTANTS:
            kind = next(k for k in ("color", "shape", "material", "size") if tok in CONSTANTS[k])
            stack.append(Const(kind, tok))
        elif tok in _DIGITS:
            stack.append(_Digit(tok))
        elif tok in ("=", ">"):
            right = self.pop(i, _VALUE_TYPES, f"two values before {tok!r}")
            left = self.pop(i, _VALUE_TYPES, f"two values before {tok!r}")
            stack.append(self.compare(i, tok, left, right))
        elif tok in ("exists=", "for-all=", "count="):
            item = self.pop(i, _VALUE_TYPES, f"a list and a value before {tok!r}")
            lst = self.pop(i, (_List,), f"a list such as 'S color?' before the value of {tok!r}")
            assert isinstance(lst, _List)
            value = self.value_of_kind(item, FUNCTIONS[lst.function], i)
            if tok == "count=":
                stack.append(Count(lst.set, lst.function, value))
            else:
                stack.append(SetQuant(tok, lst.set, lst.function, value))
        elif tok in ("and", "or"):
            right = self.pop(i, _BOOL_TYPES, f"two booleans before {tok!r}")
            left = self.pop(i, _BOOL_TYPES, f"two booleans before {tok!r}")
            stack.append((And if tok == "and" else Or)(left, right))  # type: ignore[arg-type]
        elif tok == "not":
            stack.append(Not(self.pop(i, _BOOL_TYPES, "a boolean before 'not'")))  # type: ignore[arg-type]
        else:
            raise self.fail(i, "a CURI token (constant, x, S, non-x-S, attribute function or operator)")

    def compare(self, i: int, op: str, left: object, right: object) -> Compare:
        if isinstance(left, _Digit) and isinstance(right, _Digit):
            raise self.fail(i, f"at least one non-constant argument of {op!r} (two digits have no kind)")
        kind = right.kind if isinstance(left, _Digit) else left.kind  # type: ignore[union-attr]
        lhs = self.value_of_kind(left, kind, i)
        rhs = self.value_of_kind(right, kind, i)
        if op == ">" and kind not in ORDERED_KINDS:
            raise self.fail(i, f"'>' on sizes, locations or counts, not on {kind}")
        return Compare(op, lhs, rhs)

    def finish(self, i: int) -> Concept:
        tokens = self.tokens
        if i + 1 >= len(tokens) or tokens[i + 1] != "S.":
            raise self.fail(i + 1, "'S.' after 'lambda'")
        if len(self.stack) != 1 or not isinstance(self.stack[0], _BOOL_TYPES):
            raise self.fail(i, "exactly one boolean body before 'lambda S.'")
        body = self.stack[0]
        rest = tokens[i + 2 :]
        if len(rest) > 1:
            raise self.fail(i + 3, "the end of the concept")
        quantifier = rest[0] if rest else None
        if quantifier is not None and quantifier not in QUANTIFIERS:
            raise self.fail(i + 2, "'exists=', 'for-all=' or the end of the concept")
        if quantifier is None and mentions_x(body):  # type: ignore[arg-type]
            raise self.fail(i + 2, "'exists=' or 'for-all=': the body mentions x or non-x-S")
        return Concept(body, quantifier)  # type: ignore[arg-type]


def parse(text: str) -> Concept:
    """Parse a CURI concept string; a malformed one raises ValueError naming the bad token."""
    return _Parser(text).parse()
