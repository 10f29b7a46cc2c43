"""A lean Hindley–Milner pass for the explanation grammar, on plain tuples.

Explaining a program and reading a sentence back each need the types of a few thousand
subterms per second (every binder's type, "is this value a bool?", "is the read program
well-typed?"). :mod:`agents.pix2code.dsl.inference` is the reference and gives the error
messages; this module gives the same answers several times faster by representing types as
strings (``"obj"``), tuples (``("list", t)``, ``("->", a, b)``) and integer variables, and by
converting each primitive's scheme once. :func:`to_type` turns a result back into a
:class:`~agents.pix2code.dsl.types.Type`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Union

from agents.pix2code.dsl.inference import type_scheme
from agents.pix2code.dsl.primitives import CATALOGUE
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Primitive
from agents.pix2code.dsl.types import INT, T0, T1, TCon, Type, TVar
from agents.pix2code.dsl.types import arrow as type_arrow

#: The names explanations read: the catalogue, with ``index`` typed ``int -> t0 -> t1`` so that
#: programs of both base DSLs read (the catalogue's list indexing and the paper DSL's read of an
#: object's integer vector share the name; a program is type-checked in its own DSL before it
#: is explained).
VOCABULARY: dict[str, Primitive] = {**CATALOGUE, "index": Primitive("index", type_arrow(INT, T0, T1))}

T = Union[str, int, tuple]


class Clash(Exception):
    """Two types do not unify."""


@lru_cache(maxsize=None)
def scheme(head: str) -> tuple[T, int]:
    """A primitive's (or an invention's, by its text) scheme as a tuple type with generic
    variables numbered from 0, and how many there are."""
    ty = type_scheme(parse(head, VOCABULARY)) if head.startswith("#") else VOCABULARY[head].type  # type: ignore[arg-type]
    return from_type(ty), 1 + max(ty.variables(), default=-1)


def from_type(t: Type) -> T:
    if isinstance(t, TVar):
        return t.id
    assert isinstance(t, TCon)
    return (t.name, *map(from_type, t.args)) if t.args else t.name


class Inference:
    """A substitution (union-find over integer variables) and the operations on it."""

    def __init__(self, start: int = 1_000_000) -> None:
        self.bound: dict[int, T] = {}
        self.next = start

    def fresh(self) -> int:
        self.next += 1
        return self.next

    def instantiate(self, head: str) -> T:
        ty, n = scheme(head)
        if not n:
            return ty
        base = self.next
        self.next += n
        return _shift(ty, base + 1)

    def find(self, t: T) -> T:
        while isinstance(t, int) and t in self.bound:
            t = self.bound[t]
        return t

    def resolve(self, t: T) -> T:
        t = self.find(t)
        return (t[0], *(self.resolve(a) for a in t[1:])) if isinstance(t, tuple) else t

    def occurs(self, v: int, t: T) -> bool:
        t = self.find(t)
        if isinstance(t, tuple):
            return any(self.occurs(v, a) for a in t[1:])
        return t == v

    def unify(self, a: T, b: T) -> None:
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        if isinstance(a, int):
            if self.occurs(a, b):
                raise Clash
            self.bound[a] = b
        elif isinstance(b, int):
            self.unify(b, a)
        elif isinstance(a, str) or isinstance(b, str) or a[0] != b[0] or len(a) != len(b):
            raise Clash
        else:
            for x, y in zip(a[1:], b[1:]):
                self.unify(x, y)

    def apply(self, f: T, x: T) -> T:
        """The result type of applying a function of type ``f`` to an argument of type ``x``."""
        f = self.find(f)
        if isinstance(f, tuple) and f[0] == "->":
            self.unify(f[1], x)
            return f[2]
        r = self.fresh()
        self.unify(f, ("->", x, r))
        return r


def _shift(t: T, offset: int) -> T:
    if isinstance(t, int):
        return t + offset
    if isinstance(t, str):
        return t
    return (t[0], *(_shift(a, offset) for a in t[1:]))


def to_type(t: T) -> Type:
    if isinstance(t, int):
        return TVar(t)
    if isinstance(t, str):
        return TCon(t)
    return TCon(t[0], tuple(to_type(a) for a in t[1:]))


def arrow(*types: T) -> T:
    out = types[-1]
    for t in reversed(types[:-1]):
        out = ("->", t, out)
    return out
