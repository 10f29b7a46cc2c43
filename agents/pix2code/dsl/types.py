"""Polymorphic types for the DSL: constructors with arguments and integer type variables.

Types are immutable and hashed once; ``->`` is an ordinary two-argument constructor built
curried, as in DreamCoder, so ``a -> b -> c`` is ``->(a, ->(b, c))``. Unification runs on a
:class:`Unifier`, a union-find store with a trail so that a failed attempt can be undone
cheaply instead of copying a substitution (the enumerator and the type checker both backtrack).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

ARROW = "->"


class Type:
    """Base class of :class:`TCon` and :class:`TVar`."""

    __slots__ = ()

    @property
    def is_polymorphic(self) -> bool:
        raise NotImplementedError

    def variables(self) -> Iterator[int]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TVar(Type):
    """A type variable, printed ``t<n>``."""

    id: int

    @property
    def is_polymorphic(self) -> bool:
        return True

    def variables(self) -> Iterator[int]:
        yield self.id

    def __str__(self) -> str:
        return f"t{self.id}"

    def __repr__(self) -> str:
        return f"TVar({self.id})"


@dataclass(frozen=True, slots=True)
class TCon(Type):
    """A type constructor applied to arguments: ``bool``, ``list(obj)``, ``a -> b``."""

    name: str
    args: tuple[Type, ...] = ()
    _poly: bool = field(default=False, init=False, repr=False, compare=False)
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_poly", any(a.is_polymorphic for a in self.args))
        object.__setattr__(self, "_hash", hash((self.name, self.args)))

    def __hash__(self) -> int:  # cached: types key the grammar's and enumerator's tables
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, TCon) and other._hash == self._hash and other.name == self.name and other.args == self.args
        )

    @property
    def is_polymorphic(self) -> bool:
        return self._poly

    @property
    def is_arrow(self) -> bool:
        return self.name == ARROW

    def variables(self) -> Iterator[int]:
        for a in self.args:
            yield from a.variables()

    def __str__(self) -> str:
        if self.name == ARROW:
            left, right = self.args
            left_text = f"({left})" if isinstance(left, TCon) and left.is_arrow else str(left)
            return f"{left_text} -> {right}"
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(str(a) for a in self.args)})"

    def __repr__(self) -> str:
        return f"TCon({self.name!r}, {self.args!r})"


def arrow(*types: Type) -> Type:
    """``arrow(a, b, c)`` is ``a -> b -> c``."""
    if len(types) < 2:
        raise ValueError(f"an arrow needs at least two types, got {len(types)}")
    result = types[-1]
    for t in reversed(types[:-1]):
        result = TCon(ARROW, (t, result))
    return result


def list_of(t: Type) -> TCon:
    return TCon("list", (t,))


def arguments(t: Type) -> list[Type]:
    """The argument types of a (curried) arrow, outermost first; [] for a non-arrow."""
    out = []
    while isinstance(t, TCon) and t.is_arrow:
        out.append(t.args[0])
        t = t.args[1]
    return out


def returns(t: Type) -> Type:
    """The final return type after all arrows."""
    while isinstance(t, TCon) and t.is_arrow:
        t = t.args[1]
    return t


BOOL = TCon("bool")
INT = TCon("int")
OBJ = TCon("obj")
COLOR = TCon("color")
SHAPE = TCon("shape")
MATERIAL = TCon("material")
SIZE = TCon("size")
LIST_OBJ = list_of(OBJ)

T0, T1 = TVar(0), TVar(1)


def canonical(t: Type) -> Type:
    """Rename type variables to 0, 1, ... in order of first appearance (α-canonical form)."""
    mapping: dict[int, int] = {}
    for v in t.variables():
        mapping.setdefault(v, len(mapping))
    return rename(t, mapping)


def rename(t: Type, mapping: dict[int, int]) -> Type:
    if isinstance(t, TVar):
        return TVar(mapping[t.id])
    assert isinstance(t, TCon)
    if not t.is_polymorphic:
        return t
    return TCon(t.name, tuple(rename(a, mapping) for a in t.args))


def shift_variables(t: Type, offset: int) -> Type:
    """Add ``offset`` to every type variable (used to instantiate a scheme with fresh variables)."""
    if isinstance(t, TVar):
        return TVar(t.id + offset)
    assert isinstance(t, TCon)
    if not t.is_polymorphic:
        return t
    return TCon(t.name, tuple(shift_variables(a, offset) for a in t.args))


def max_variable(t: Type) -> int:
    return max(t.variables(), default=-1)


# ---------------------------------------------------------------------------------------------
# Parsing types: "list(obj) -> bool", "(t0 -> bool) -> list(t0) -> bool"


def parse_type(text: str) -> Type:
    """Parse a type written as :func:`str` prints it; ``t<n>`` is a type variable."""
    parser = _TypeParser(text)
    t = parser.arrow()
    parser.skip()
    if parser.pos != len(text):
        raise ValueError(f"unexpected {text[parser.pos:]!r} at position {parser.pos} in type {text!r}")
    return t


class _TypeParser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.skip()
        return self.text.startswith(token, self.pos)

    def expect(self, token: str) -> None:
        if not self.peek(token):
            raise ValueError(f"expected {token!r} at position {self.pos} in type {self.text!r}")
        self.pos += len(token)

    def arrow(self) -> Type:
        left = self.atom()
        if self.peek("->"):
            self.pos += 2
            return TCon(ARROW, (left, self.arrow()))
        return left

    def atom(self) -> Type:
        self.skip()
        if self.peek("("):
            self.pos += 1
            t = self.arrow()
            self.expect(")")
            return t
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "_?"):
            self.pos += 1
        name = self.text[start : self.pos]
        if not name:
            raise ValueError(f"expected a type name at position {start} in type {self.text!r}")
        if name[0] == "t" and name[1:].isdigit():
            return TVar(int(name[1:]))
        args: list[Type] = []
        if self.peek("("):
            self.pos += 1
            args.append(self.arrow())
            while self.peek(","):
                self.pos += 1
                args.append(self.arrow())
            self.expect(")")
        return TCon(name, tuple(args))


# ---------------------------------------------------------------------------------------------
# Unification: union-find over type variables with a trail.


class UnificationError(TypeError):
    """Two types cannot be made equal; carries both (resolved) types for the message."""

    def __init__(self, left: Type, right: Type, reason: str = "") -> None:
        self.left, self.right = left, right
        detail = f" ({reason})" if reason else ""
        super().__init__(f"cannot unify {left} with {right}{detail}")


class Unifier:
    """A substitution as a union-find store: ``bindings[v]`` is the type variable ``v`` is bound to.

    ``mark()``/``undo(mark)`` restore an earlier state in time proportional to the bindings made
    since, which is what backtracking search needs.
    """

    def __init__(self, next_variable: int = 0) -> None:
        self.bindings: dict[int, Type] = {}
        self.trail: list[int] = []
        self.next_variable = next_variable

    def fresh(self) -> TVar:
        v = TVar(self.next_variable)
        self.next_variable += 1
        return v

    def instantiate(self, scheme: Type) -> Type:
        """A copy of ``scheme`` with fresh variables (let-polymorphism: one copy per use)."""
        if not scheme.is_polymorphic:
            return scheme
        offset = self.next_variable
        self.next_variable += max_variable(scheme) + 1
        return shift_variables(scheme, offset)

    def mark(self) -> tuple[int, int]:
        return len(self.trail), self.next_variable

    def undo(self, mark: tuple[int, int]) -> None:
        length, next_variable = mark
        while len(self.trail) > length:
            del self.bindings[self.trail.pop()]
        self.next_variable = next_variable

    def find(self, t: Type) -> Type:
        """Follow variable bindings at the top of ``t``.

        No path compression: compressed links would have to be trailed too, and chains stay
        short because ``unify`` always binds the representative of a class."""
        while isinstance(t, TVar):
            bound = self.bindings.get(t.id)
            if bound is None:
                return t
            t = bound
        return t

    def resolve(self, t: Type) -> Type:
        """Apply the substitution everywhere inside ``t``."""
        t = self.find(t)
        if isinstance(t, TCon) and t.is_polymorphic:
            return TCon(t.name, tuple(self.resolve(a) for a in t.args))
        return t

    def occurs(self, v: int, t: Type) -> bool:
        t = self.find(t)
        if isinstance(t, TVar):
            return t.id == v
        assert isinstance(t, TCon)
        return t.is_polymorphic and any(self.occurs(v, a) for a in t.args)

    def bind(self, v: int, t: Type) -> None:
        self.bindings[v] = t
        self.trail.append(v)

    def unify(self, a: Type, b: Type) -> None:
        """Make ``a`` and ``b`` equal or raise :class:`UnificationError` (leaving partial bindings;
        callers that continue after a failure must ``undo`` to a mark)."""
        a, b = self.find(a), self.find(b)
        if a is b or a == b:
            return
        if isinstance(a, TVar):
            if self.occurs(a.id, b):
                raise UnificationError(self.resolve(a), self.resolve(b), "occurs check")
            self.bind(a.id, b)
            return
        if isinstance(b, TVar):
            self.unify(b, a)
            return
        assert isinstance(a, TCon) and isinstance(b, TCon)
        if a.name != b.name or len(a.args) != len(b.args):
            raise UnificationError(self.resolve(a), self.resolve(b))
        for x, y in zip(a.args, b.args):
            self.unify(x, y)


def match(pattern: Type, target: Type, bindings: dict[int, Type] | None = None) -> dict[int, Type] | None:
    """One-way matching: bindings of ``pattern``'s variables that make it equal to ground ``target``."""
    bindings = {} if bindings is None else bindings
    if isinstance(pattern, TVar):
        bound = bindings.get(pattern.id)
        if bound is None:
            bindings[pattern.id] = target
            return bindings
        return bindings if bound == target else None
    assert isinstance(pattern, TCon)
    if not isinstance(target, TCon) or pattern.name != target.name or len(pattern.args) != len(target.args):
        return None
    for p, t in zip(pattern.args, target.args):
        if match(p, t, bindings) is None:
            return None
    return bindings


def substitute(t: Type, bindings: dict[int, Type]) -> Type:
    if isinstance(t, TVar):
        return bindings.get(t.id, t)
    assert isinstance(t, TCon)
    if not t.is_polymorphic:
        return t
    return TCon(t.name, tuple(substitute(a, bindings) for a in t.args))
