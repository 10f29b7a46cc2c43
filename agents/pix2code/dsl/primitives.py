"""The primitive catalogue: every name a program may use, its type scheme and its meaning.

Pix2Code's 24 base primitives and the integers 0–9 (pix2code.md §5) come first, with the same
names and types except ``eq?``, which is polymorphic here (``t0 -> t0 -> bool``) so that it can
compare colours, shapes, objects and integers alike; attributes have distinct types (``color``,
``shape``, ...), so comparing a colour with a shape is a type error caught before anything
runs, which is what CURI's executor does at run time. Pix2Code already has polymorphic
equality inside ``count``; one polymorphic production is also cheaper for the grammar than one
typed ``eq`` per attribute.

Then the readable domain vocabulary: typed attribute accessors (``color``, ``shape``,
``material``, ``size``, ``xbin``, ``ybin``), their constants, ``remove`` (CURI's ``non-x-S``) and
Kandinsky's relations. Which of these a task may use is the :class:`~agents.pix2code.dsl.domains.Domain`'s
choice; the catalogue only fixes one meaning per name.

Implementations here are for the tree-walking interpreter: uncurried Python functions of the
evaluated arguments, where a function-typed argument arrives as a one-argument Python callable
(curried for two arguments). Lists are tuples; an object is a :class:`SceneObject`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.pix2code.dsl.terms import Primitive
from agents.pix2code.dsl.types import (
    BOOL,
    COLOR,
    INT,
    LIST_OBJ,
    MATERIAL,
    OBJ,
    SHAPE,
    SIZE,
    T0,
    T1,
    Type,
    arrow,
    list_of,
)

# The value sets of the categorical types, in the order of CURI's and Kandinsky's one-hot
# columns. A domain uses a subset of each (Kandinsky has three colours, CURI eight).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "color": ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow"),
    "shape": ("cube", "sphere", "cylinder", "triangle", "square", "circle"),
    "material": ("rubber", "metal"),
    "size": ("large", "small", "medium", "big"),
}
CATEGORY_TYPES: dict[str, Type] = {"color": COLOR, "shape": SHAPE, "material": MATERIAL, "size": SIZE}


class SceneObject:
    """One object of a scene for the tree-walking interpreter.

    ``slot`` is its row in the object table (objects of one scene are distinct even when their
    attributes agree); ``attrs`` maps attribute names (``color``, ``xbin``, ``x``...) to values.
    """

    __slots__ = ("slot", "attrs", "_key")

    def __init__(self, slot: int, attrs: dict[str, Any]) -> None:
        self.slot, self.attrs = slot, attrs
        self._key = (slot, tuple(sorted(attrs.items())))

    def __getitem__(self, name: str) -> Any:
        return self.attrs[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SceneObject) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"SceneObject({self.slot}, {self.attrs})"


class PrimitiveFailure(Exception):
    """A primitive was applied outside its domain (``car`` of an empty list, ``find`` of an
    absent value, ...). The program fails on that input."""


@dataclass(frozen=True)
class PrimitiveSpec:
    """A primitive: its term (name and type scheme), arity and interpreter implementation.

    ``lazy`` primitives (only ``if``) receive zero-argument thunks for their arguments after
    the first. ``doc`` is the one-line meaning shown in explanations.
    """

    term: Primitive
    arity: int
    impl: Callable[..., Any]
    doc: str
    lazy: bool = False

    @property
    def name(self) -> str:
        return self.term.name

    @property
    def type(self) -> Type:
        return self.term.type


def _car(xs: tuple) -> Any:
    if not xs:
        raise PrimitiveFailure("car of an empty list")
    return xs[0]


def _index(n: int, xs: tuple | SceneObject) -> Any:
    if isinstance(xs, SceneObject):  # the paper DSL's objects are integer vectors (PAPER_INDEX)
        try:
            return xs.attrs[f"index{n}"]
        except KeyError:
            raise PrimitiveFailure(f"index {n} is outside the object's vector") from None
    if not 0 <= n < len(xs):
        raise PrimitiveFailure(f"index {n} out of range for a list of {len(xs)}")
    return xs[n]


def _find(v: Any, xs: tuple) -> int:
    for i, x in enumerate(xs):
        if x == v:
            return i
    raise PrimitiveFailure("find: value not in list")


def _fold(xs: tuple, init: Any, f: Callable[[Any], Callable[[Any], Any]]) -> Any:
    acc = init
    for x in reversed(xs):
        acc = f(x)(acc)
    return acc


def _if(c: bool, then: Callable[[], Any], otherwise: Callable[[], Any]) -> Any:
    return then() if c else otherwise()


CLOSEBY_DISTANCE = 0.1875  # image widths: 120 px at 640, NSFR's closeby threshold made explicit
ONLINE_TOLERANCE = 0.01  # image widths: largest distance of a centre from the best-fit line


def _closeby(a: SceneObject, b: SceneObject) -> bool:
    """Two different objects whose centres are less than 0.1875 image widths apart."""
    if a == b:
        return False
    return math.hypot(a["x"] - b["x"], a["y"] - b["y"]) < CLOSEBY_DISTANCE


def online_points(points: Sequence[tuple[float, float]], tolerance: float = ONLINE_TOLERANCE) -> bool:
    """Whether every point lies within ``tolerance`` of the total-least-squares line through them.

    The line passes through the centroid along the principal axis, so the test does not depend
    on the order of the points or on the line's direction; two or fewer points are on a line.
    """
    if len(points) < 3:
        return True
    pts = np.asarray(points, dtype=np.float64)
    pts = pts - pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts, full_matrices=False)
    return bool(np.abs(pts @ vt[-1]).max() <= tolerance)


def _online(xs: tuple) -> bool:
    return online_points([(o["x"], o["y"]) for o in xs])


def _same(attribute: str) -> Callable[[tuple], bool]:
    return lambda xs: len({o[attribute] for o in xs}) <= 1


def _one_red_triangle(xs: tuple) -> bool:
    """Exactly one red triangle, and no other red object and no other triangle (RelKP)."""
    red = sum(1 for o in xs if o["color"] == "red")
    triangles = sum(1 for o in xs if o["shape"] == "triangle")
    both = sum(1 for o in xs if o["color"] == "red" and o["shape"] == "triangle")
    return red == 1 and triangles == 1 and both == 1


def _pair(a: SceneObject, b: SceneObject) -> tuple:
    # Lists keep scene order (as every list built from a scene does), whatever the argument order.
    if a == b:
        return (a,)
    return (a, b) if a.slot < b.slot else (b, a)


def _pairs(*args: Any) -> bool:
    """Disjoint ordered pairs of distinct elements, one per relation, each satisfying its own."""
    *relations, xs = args
    xs = list(xs)

    def place(i: int, free: list) -> bool:
        if i == len(relations):
            return True
        rel = relations[i]
        for a in free:
            for b in free:
                if a is not b and rel(a)(b):
                    rest = [o for o in free if o is not a and o is not b]
                    if place(i + 1, rest):
                        return True
        return False

    return place(0, xs)


def _spec(name: str, type_: Type, arity: int, impl: Callable[..., Any], doc: str, lazy: bool = False) -> PrimitiveSpec:
    return PrimitiveSpec(Primitive(name, type_), arity, impl, doc, lazy)


BASE_PRIMITIVES: tuple[PrimitiveSpec, ...] = (
    _spec("true", BOOL, 0, lambda: True, "true"),
    _spec("not", arrow(BOOL, BOOL), 1, lambda b: not b, "negation"),
    _spec("and", arrow(BOOL, BOOL, BOOL), 2, lambda a, b: a and b, "conjunction"),
    _spec("or", arrow(BOOL, BOOL, BOOL), 2, lambda a, b: a or b, "disjunction"),
    _spec("eq?", arrow(T0, T0, BOOL), 2, lambda a, b: a == b, "equality (any type)"),
    _spec("gt?", arrow(INT, INT, BOOL), 2, lambda a, b: a > b, "x > y on integers"),
    _spec("max", arrow(INT, INT, INT), 2, max, "larger integer"),
    _spec("min", arrow(INT, INT, INT), 2, min, "smaller integer"),
    _spec("map", arrow(arrow(T0, T1), list_of(T0), list_of(T1)), 2, lambda f, xs: tuple(f(x) for x in xs), "apply to each element"),
    _spec("index", arrow(INT, list_of(T0), T0), 2, _index, "n-th element (0-based)"),
    _spec("fold", arrow(list_of(T0), T1, arrow(T0, T1, T1), T1), 3, _fold, "right fold: f(x1, f(x2, ... f(xn, init)))"),
    _spec("length", arrow(list_of(T0), INT), 1, len, "number of elements"),
    _spec("if", arrow(BOOL, T0, T0, T0), 3, _if, "conditional (lazy)", lazy=True),
    _spec("+", arrow(INT, INT, INT), 2, lambda a, b: a + b, "sum"),
    _spec("-", arrow(INT, INT, INT), 2, lambda a, b: a - b, "difference"),
    _spec("empty", list_of(T0), 0, lambda: (), "the empty list"),
    _spec("cons", arrow(T0, list_of(T0), list_of(T0)), 2, lambda x, xs: (x,) + xs, "prepend"),
    _spec("car", arrow(list_of(T0), T0), 1, _car, "first element"),
    _spec("cdr", arrow(list_of(T0), list_of(T0)), 1, lambda xs: xs[1:], "all but the first element (empty stays empty)"),
    _spec("empty?", arrow(list_of(T0), BOOL), 1, lambda xs: not xs, "whether a list is empty"),
    _spec("forall", arrow(arrow(T0, BOOL), list_of(T0), BOOL), 2, lambda f, xs: all(f(x) for x in xs), "every element satisfies"),
    _spec("exists", arrow(arrow(T0, BOOL), list_of(T0), BOOL), 2, lambda f, xs: any(f(x) for x in xs), "some element satisfies"),
    _spec("count", arrow(list_of(T0), T0, INT), 2, lambda xs, v: sum(1 for x in xs if x == v), "how many elements equal a value"),
    _spec("find", arrow(T0, list_of(T0), INT), 2, _find, "position of the first occurrence"),
) + tuple(_spec(str(i), INT, 0, (lambda i=i: i), f"the integer {i}") for i in range(10))


_REL = arrow(OBJ, OBJ, BOOL)


def _accessor(name: str, result: Type, doc: str) -> PrimitiveSpec:
    return _spec(name, arrow(OBJ, result), 1, lambda o: o[name], doc)


DOMAIN_PRIMITIVES: tuple[PrimitiveSpec, ...] = (
    _accessor("color", COLOR, "an object's colour"),
    _accessor("shape", SHAPE, "an object's shape"),
    _accessor("material", MATERIAL, "an object's material"),
    _accessor("size", SIZE, "an object's size class"),
    _accessor("xbin", INT, "column bin of the object's centre (CURI: floor(px / 30), 0..7)"),
    _accessor("ybin", INT, "row bin of the object's centre (CURI: floor(py / 20), 0..7)"),
    _spec("remove", arrow(OBJ, LIST_OBJ, LIST_OBJ), 2, lambda o, xs: tuple(x for x in xs if x != o), "the list without an object (CURI's non-x-S)"),
    _spec("pair", arrow(OBJ, OBJ, LIST_OBJ), 2, _pair, "the list of two objects (one if they are the same)"),
    _spec("closeby", arrow(OBJ, OBJ, BOOL), 2, _closeby, "two different objects whose centres are close"),
    _spec("online", arrow(LIST_OBJ, BOOL), 1, _online, "the objects' centres lie on one straight line"),
    _spec("same_color", arrow(LIST_OBJ, BOOL), 1, _same("color"), "all objects have one colour"),
    _spec("same_shape", arrow(LIST_OBJ, BOOL), 1, _same("shape"), "all objects have one shape"),
    _spec("same_size", arrow(LIST_OBJ, BOOL), 1, _same("size"), "all objects have one size class"),
    _spec("one_red_triangle", arrow(LIST_OBJ, BOOL), 1, _one_red_triangle, "exactly one red triangle and no other red object or triangle"),
    _spec("some_pair", arrow(_REL, LIST_OBJ, BOOL), 2, _pairs, "two distinct objects (in order) are related"),
    _spec("two_pairs", arrow(_REL, _REL, LIST_OBJ, BOOL), 3, _pairs, "two disjoint ordered pairs, each related by its own relation"),
    _spec("three_pairs", arrow(_REL, _REL, _REL, LIST_OBJ, BOOL), 4, _pairs, "three disjoint ordered pairs, each related by its own relation"),
) + tuple(
    _spec(value, CATEGORY_TYPES[category], 0, (lambda v=value: v), f"the {category} {value}")
    for category, values in CATEGORIES.items()
    for value in values
)

SPECS: dict[str, PrimitiveSpec] = {}
for _s in BASE_PRIMITIVES + DOMAIN_PRIMITIVES:
    if _s.name in SPECS:
        raise RuntimeError(f"primitive {_s.name!r} defined twice")
    SPECS[_s.name] = _s

#: name → :class:`Primitive` term for every primitive of every domain (the default parse table).
CATALOGUE: dict[str, Primitive] = {name: spec.term for name, spec in SPECS.items()}

#: Pix2Code's base DSL: 24 named primitives plus the integers 0..9 (34 productions).
BASE_NAMES: tuple[str, ...] = tuple(s.name for s in BASE_PRIMITIVES)

#: ``index`` as the paper DSL (``dsl="paper"``) types it for objects: Pix2Code's objects are flat
#: integer vectors (pix2code.md §4) and ``index k o`` is its only way to read an attribute. The
#: catalogue's ``index`` reads list elements; a domain whose objects are vectors overrides it with
#: this one (same name, same implementation, the object instantiation of the paper's
#: ``int -> list(t0) -> t0``).
PAPER_INDEX = _spec("index", arrow(INT, OBJ, INT), 2, _index, "element n of an object's integer vector")


def spec(name: str) -> PrimitiveSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"unknown primitive {name!r}; expected one of {sorted(SPECS)}") from None
