"""λ-terms with de Bruijn indices, printed in DreamCoder's s-expression syntax.

Five node kinds: :class:`Application` (binary, curried), :class:`Abstraction` (nameless λ),
:class:`Index` (``$i``), :class:`Primitive` (a name and a type; its implementation lives in the
interpreters, keyed by name, so terms pickle and hash without closures) and :class:`Invented`
(a closed term used as a library function, printed ``#<body>``). Nodes are immutable and hash
once, at construction, so banks and caches can key on them.
"""

from __future__ import annotations

from collections.abc import Iterator

from agents.pix2code.dsl.types import Type


class Term:
    """Base class; subclasses set ``_hash`` in ``__init__``."""

    __slots__ = ("_hash",)

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return self.show()

    def __repr__(self) -> str:
        return f"parse({self.show()!r})"

    def show(self) -> str:
        raise NotImplementedError

    @property
    def size(self) -> int:
        """Number of leaves (primitives, inventions, indices); λ and application are free."""
        raise NotImplementedError

    # De Bruijn operations -------------------------------------------------------------------
    def shift(self, offset: int, depth: int = 0) -> Term:
        """Add ``offset`` to every free index (index ≥ ``depth``); ValueError if one goes negative."""
        raise NotImplementedError

    def substitute(self, index: int, value: Term) -> Term:
        """Replace free ``$index`` by ``value`` (shifted under binders)."""
        raise NotImplementedError

    def free_indices(self, depth: int = 0) -> frozenset[int]:
        raise NotImplementedError

    def subterms(self) -> Iterator[Term]:
        """Pre-order walk (inventions are leaves: their bodies are not visited)."""
        yield self

    def spine(self) -> tuple[Term, list[Term]]:
        """``(f a b c)`` as ``(f, [a, b, c])``."""
        args: list[Term] = []
        t: Term = self
        while isinstance(t, Application):
            args.append(t.x)
            t = t.f
        args.reverse()
        return t, args


class Index(Term):
    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        if i < 0:
            raise ValueError(f"de Bruijn index must be non-negative, got {i}")
        self.i = i
        self._hash = hash(("$", i))

    __hash__ = Term.__hash__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Index) and other.i == self.i

    def show(self) -> str:
        return f"${self.i}"

    @property
    def size(self) -> int:
        return 1

    def shift(self, offset: int, depth: int = 0) -> Term:
        if self.i < depth:
            return self
        if self.i + offset < 0:
            raise ValueError(f"shifting ${self.i} by {offset} makes a negative index")
        return Index(self.i + offset)

    def substitute(self, index: int, value: Term) -> Term:
        return value if self.i == index else self

    def free_indices(self, depth: int = 0) -> frozenset[int]:
        return frozenset((self.i - depth,)) if self.i >= depth else frozenset()


class _Closed(Term):
    """A leaf with no variables (a primitive or an invention): shifting and substitution leave it alone."""

    __slots__ = ()

    @property
    def size(self) -> int:
        return 1

    def shift(self, offset: int, depth: int = 0) -> Term:
        return self

    def substitute(self, index: int, value: Term) -> Term:
        return self

    def free_indices(self, depth: int = 0) -> frozenset[int]:
        return frozenset()


class Primitive(_Closed):
    """A named constant of the DSL. Equality is by name: one name, one meaning."""

    __slots__ = ("name", "type")

    def __init__(self, name: str, type: Type) -> None:
        self.name, self.type = name, type
        self._hash = hash(("prim", name))

    __hash__ = Term.__hash__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Primitive) and other.name == self.name

    def show(self) -> str:
        return self.name


class Invented(_Closed):
    """A closed term used as one library function. Its type is inferred once and cached in
    ``inferred_type`` by :func:`~agents.pix2code.dsl.inference.type_scheme` (inference depends on
    terms, not the other way round)."""

    __slots__ = ("body", "inferred_type")

    def __init__(self, body: Term) -> None:
        if body.free_indices():
            raise ValueError(f"an invention must be closed, but {body.show()} has free indices")
        self.body = body
        self.inferred_type: Type | None = None
        self._hash = hash(("#", body))

    __hash__ = Term.__hash__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Invented) and other.body == self.body

    @property
    def name(self) -> str:
        return self.show()

    def show(self) -> str:
        return "#" + self.body.show()


class Abstraction(Term):
    __slots__ = ("body",)

    def __init__(self, body: Term) -> None:
        self.body = body
        self._hash = hash(("lambda", body))

    __hash__ = Term.__hash__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Abstraction) and other._hash == self._hash and other.body == self.body

    def show(self) -> str:
        return f"(lambda {self.body.show()})"

    @property
    def size(self) -> int:
        return self.body.size

    def shift(self, offset: int, depth: int = 0) -> Term:
        body = self.body.shift(offset, depth + 1)
        return self if body is self.body else Abstraction(body)

    def substitute(self, index: int, value: Term) -> Term:
        body = self.body.substitute(index + 1, value.shift(1))
        return self if body is self.body else Abstraction(body)

    def free_indices(self, depth: int = 0) -> frozenset[int]:
        return self.body.free_indices(depth + 1)

    def subterms(self) -> Iterator[Term]:
        yield self
        yield from self.body.subterms()


class Application(Term):
    __slots__ = ("f", "x")

    def __init__(self, f: Term, x: Term) -> None:
        self.f, self.x = f, x
        self._hash = hash((f, x))

    __hash__ = Term.__hash__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Application)
            and other._hash == self._hash
            and other.f == self.f
            and other.x == self.x
        )

    def show(self) -> str:
        head, args = self.spine()
        return "(" + " ".join([head.show()] + [a.show() for a in args]) + ")"

    @property
    def size(self) -> int:
        return self.f.size + self.x.size

    def shift(self, offset: int, depth: int = 0) -> Term:
        f, x = self.f.shift(offset, depth), self.x.shift(offset, depth)
        return self if (f is self.f and x is self.x) else Application(f, x)

    def substitute(self, index: int, value: Term) -> Term:
        f, x = self.f.substitute(index, value), self.x.substitute(index, value)
        return self if (f is self.f and x is self.x) else Application(f, x)

    def free_indices(self, depth: int = 0) -> frozenset[int]:
        return self.f.free_indices(depth) | self.x.free_indices(depth)

    def subterms(self) -> Iterator[Term]:
        yield self
        yield from self.f.subterms()
        yield from self.x.subterms()


def apply(f: Term, *args: Term) -> Term:
    """``apply(f, a, b)`` is ``(f a b)``."""
    for a in args:
        f = Application(f, a)
    return f


# ---------------------------------------------------------------------------------------------
# β-reduction


def beta_reduce_once(redex_body: Term, argument: Term) -> Term:
    """(λ.b) v  →  b[0 := v↑1]↓1."""
    return redex_body.substitute(0, argument.shift(1)).shift(-1)


def beta_normal(term: Term, inline_inventions: bool = False, max_steps: int = 10_000) -> Term:
    """Normal-order β-normal form; with ``inline_inventions`` inventions are unfolded first.

    ``max_steps`` bounds the work (untyped terms need not normalise); exceeding it raises
    ValueError. Well-typed terms of the simply-typed fragment always normalise.
    """
    steps = [0]

    def go(t: Term) -> Term:
        if isinstance(t, Invented) and inline_inventions:
            return go(t.body)
        if isinstance(t, Abstraction):
            body = go(t.body)
            return t if body is t.body else Abstraction(body)
        if isinstance(t, Application):
            f = go(t.f)
            if isinstance(f, Abstraction):
                steps[0] += 1
                if steps[0] > max_steps:
                    raise ValueError(f"β-reduction did not finish within {max_steps} steps")
                return go(beta_reduce_once(f.body, t.x))
            x = go(t.x)
            return t if (f is t.f and x is t.x) else Application(f, x)
        return t

    return go(term)
