"""Named λ-terms: the form both halves of the explanation grammar work on.

English names its variables ("an object x", "every other object"), de Bruijn indices do not, so
:func:`normal_form` turns a program into a :class:`Node` tree whose binders have unique internal
names (``v1``, ``v2``...) and known types, and :func:`to_term` turns a tree built by the reader
back into a term. The normal form is β-normal and η-long (every higher-order argument is a
λ, every primitive fully applied), with the inventions the caller has names for kept as heads and
every other invention unfolded, so the renderer sees one shape per meaning.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from agents.pix2code.dsl.inference import DSLTypeError, eta_long, typecheck
from agents.pix2code.dsl.primitives import CATALOGUE
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Abstraction, Application, Index, Invented, Primitive, Term, beta_normal
from agents.pix2code.dsl.types import BOOL, LIST_OBJ, Type, arrow
from agents.pix2code.explain.infer import VOCABULARY, T, Clash, Inference, from_type, to_type
from agents.pix2code.explain.infer import arrow as fast_arrow

REQUEST = arrow(LIST_OBJ, BOOL)
SCENE = "S"  # the internal name of the scene variable (the program's own λ)


@dataclass(frozen=True, slots=True)
class Var:
    name: str


@dataclass(frozen=True, slots=True)
class Prim:
    name: str


@dataclass(frozen=True, slots=True)
class Inv:
    """A named invention kept as a head; ``text`` is its printed form ``#(lambda ...)``."""

    text: str


@dataclass(frozen=True, slots=True)
class App:
    head: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Lam:
    params: tuple[str, ...]
    body: Node


Node = Var | Prim | Inv | App | Lam


def call(name: str, *args: Node) -> App:
    return App(Prim(name), tuple(args))


def head_name(node: Node) -> str | None:
    """The primitive name of an application's head (or of a bare primitive), else None."""
    if isinstance(node, App) and isinstance(node.head, Prim):
        return node.head.name
    return node.name if isinstance(node, Prim) else None


def is_call(node: Node, name: str, arity: int | None = None) -> bool:
    return (
        isinstance(node, App)
        and isinstance(node.head, Prim)
        and node.head.name == name
        and (arity is None or len(node.args) == arity)
    )


def free_vars(node: Node) -> frozenset[str]:
    if isinstance(node, Var):
        return frozenset((node.name,))
    if isinstance(node, App):
        out = free_vars(node.head)
        for a in node.args:
            out |= free_vars(a)
        return out
    if isinstance(node, Lam):
        return free_vars(node.body) - frozenset(node.params)
    return frozenset()


def mentions(node: Node, name: str) -> bool:
    return name in free_vars(node)


def substitute(node: Node, name: str, value: Node) -> Node:
    """Replace the free variable ``name`` (binder names are unique, so nothing is captured)."""
    if isinstance(node, Var):
        return value if node.name == name else node
    if isinstance(node, App):
        return App(substitute(node.head, name, value), tuple(substitute(a, name, value) for a in node.args))
    if isinstance(node, Lam):
        return node if name in node.params else Lam(node.params, substitute(node.body, name, value))
    return node


def chain(node: Node, op: str) -> list[Node]:
    """The operands of a nest of ``and`` (or ``or``), flattened: both are associative."""
    if is_call(node, op, 2):
        return chain(node.args[0], op) + chain(node.args[1], op)
    return [node]


def build_chain(op: str, parts: list[Node]) -> Node:
    out = parts[-1]
    for p in reversed(parts[:-1]):
        out = call(op, p, out)
    return out


# ---------------------------------------------------------------------------------------------
# Programs -> normal form


def parse_program(text: str) -> Term:
    if not isinstance(text, str):
        raise ValueError(f"a program must be text, got {type(text).__name__}")
    return parse(text, VOCABULARY)


def _inline(term: Term, keep: frozenset[str]) -> Term:
    """Unfold every invention not in ``keep`` (the inventions the caller has names for)."""
    if isinstance(term, Invented):
        return term if term.show() in keep else _inline(term.body, keep)
    if isinstance(term, Abstraction):
        return Abstraction(_inline(term.body, keep))
    if isinstance(term, Application):
        return Application(_inline(term.f, keep), _inline(term.x, keep))
    return term


def named_program(text: str, keep: frozenset[str] = frozenset()) -> tuple[Node, dict[str, Type]]:
    """A ``list(obj) -> bool`` program in normal form as a named tree, with its binders' types:
    β-normal, η-long, the inventions in ``keep`` left as heads and every other one unfolded.
    ValueError if it does not parse or type-check."""
    term = beta_normal(_inline(parse_program(text), keep))
    try:
        node, types, eta = _named(term, REQUEST)
    except (Clash, IndexError):
        try:
            typecheck(term, REQUEST)  # for its message
        except DSLTypeError as error:
            raise ValueError(f"ill-typed program: {error}") from None
        raise ValueError(f"ill-typed program: {text}") from None
    if eta:
        return node, types
    node, types, _ = _named(eta_long(term, REQUEST), REQUEST)
    return node, types


def to_named(term: Term, env: Mapping[str, Type] | None = None, names: list[str] | None = None) -> tuple[Node, dict[str, Type]]:
    """A normal-form term as a named tree, with the type of every binder; ``names``/``env``
    give the free variables (innermost first) names and types: an invention's parameters."""
    node, types, _ = _named(term, None, env, names)
    return node, types


def _named(term: Term, request: Type | None, env: Mapping[str, Type] | None = None, names: list[str] | None = None) -> tuple[Node, dict[str, Type], bool]:
    """One Hindley–Milner pass (:mod:`~agents.pix2code.explain.infer`) that names the binders,
    infers their types, checks the request and tells whether the term is already η-long (no
    value of arrow type but λs). Raises :class:`~agents.pix2code.explain.infer.Clash`."""
    inf = Inference()
    counter = itertools.count(1)
    binder_types: dict[str, T] = {}
    values: list[T] = []  # types of non-λ terms in value positions: none may be an arrow
    outer = [(n, from_type((env or {})[n])) for n in (names or [])]

    def go(t: Term, scope: list[tuple[str, T]], value: bool) -> tuple[Node, T]:
        if isinstance(t, Index):
            name, ty = scope[t.i]
            node: Node = Var(name)
        elif isinstance(t, Primitive):
            node, ty = Prim(t.name), inf.instantiate(t.name)
        elif isinstance(t, Invented):
            node, ty = Inv(t.show()), inf.instantiate(t.show())
        elif isinstance(t, Abstraction):
            params: list[tuple[str, T]] = []
            body: Term = t
            while isinstance(body, Abstraction):
                name = SCENE if not scope and not params and names is None else f"v{next(counter)}"
                params.append((name, inf.fresh()))
                body = body.body
            binder_types.update(params)
            inner, ty = go(body, list(reversed(params)) + scope, True)
            return Lam(tuple(n for n, _ in params), inner), fast_arrow(*[p for _, p in params], ty)
        else:
            assert isinstance(t, Application)
            head, args = t.spine()
            node, ty = go(head, scope, False)
            out = []
            for a in args:
                an, at = go(a, scope, True)
                ty = inf.apply(ty, at)
                out.append(an)
            node = App(node, tuple(out))
        if value:
            values.append(ty)
        return node, ty

    node, ty = go(term, outer, False)
    if request is not None:
        inf.unify(ty, from_type(request))
    eta = isinstance(node, Lam) and not any(isinstance(t, tuple) and t[0] == "->" for t in map(inf.find, values))
    types = {n: to_type(inf.resolve(t)) for n, t in binder_types.items()}
    types.update({n: to_type(inf.resolve(t)) for n, t in outer})
    return node, types, eta


def node_type(node: Node, env: Mapping[str, T], inf: Inference) -> T:
    """The type of a named tree (``env``: its free variables' types); raises Clash, or
    KeyError for a name bound nowhere or an unknown primitive."""
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Prim):
        return inf.instantiate(node.name)
    if isinstance(node, Inv):
        return inf.instantiate(node.text)
    if isinstance(node, Lam):
        params = [inf.fresh() for _ in node.params]
        inner = {**env, **dict(zip(node.params, params))}
        return fast_arrow(*params, node_type(node.body, inner, inf))
    ty = node_type(node.head, env, inf)
    for a in node.args:
        ty = inf.apply(ty, node_type(a, env, inf))
    return ty


def well_typed(program: Node) -> bool:
    """Whether a named ``list(obj) -> bool`` program type-checks."""
    inf = Inference()
    try:
        inf.unify(node_type(program, {}, inf), from_type(REQUEST))
    except (Clash, KeyError):
        return False
    return True


_SAME = {"same_color": "color", "same_shape": "shape", "same_size": "size"}


#: how many parameters each function argument of a higher-order primitive binds
_BINDERS = {"map": {0: 1}, "exists": {0: 1}, "forall": {0: 1}, "fold": {2: 2},
            "some_pair": {0: 2}, "two_pairs": {0: 2, 1: 2}, "three_pairs": {0: 2, 1: 2, 2: 2}}  # fmt: skip


def _split(arg: Node, arity: int) -> Node:
    """``λx y. b`` passed where a one-parameter function is expected is ``λx. (λy. b)``."""
    if isinstance(arg, Lam) and len(arg.params) > arity:
        return Lam(arg.params[:arity], Lam(arg.params[arity:], arg.body))
    return arg


def tidy(node: Node) -> Node:
    """Exact rewrites that give equivalent spellings one form before they are said:
    ``forall (λ not B)`` is ``not (exists (λ B))`` (both stop at the same element), and
    ``same_color (pair a b)`` is ``eq? (color a) (color b)``; and binders split to the arity
    each higher-order primitive expects (η-long form runs ``map``'s λx.λy together)."""
    if isinstance(node, Lam):
        return Lam(node.params, tidy(node.body))
    if not isinstance(node, App):
        return node
    h = head_name(node)
    arities = _BINDERS.get(h, {}) if h is not None else {}
    args = tuple(tidy(_split(a, arities[k]) if k in arities else a) for k, a in enumerate(node.args))
    node = App(tidy(node.head), args)
    if h == "forall" and len(node.args) == 2 and isinstance(node.args[0], Lam) and is_call(node.args[0].body, "not", 1):
        lam, lst = node.args
        return call("not", call("exists", Lam(lam.params, lam.body.args[0]), lst))  # type: ignore[union-attr]
    if h in _SAME and len(node.args) == 1 and is_call(node.args[0], "pair", 2):
        a, b = node.args[0].args  # type: ignore[union-attr]
        return call("eq?", call(_SAME[h], a), call(_SAME[h], b))
    return node


# ---------------------------------------------------------------------------------------------
# Named trees -> terms


def to_term(node: Node, scope: tuple[str, ...] = ()) -> Term:
    """The de Bruijn term of a named tree; ValueError for a name bound nowhere."""
    if isinstance(node, Var):
        if node.name not in scope:
            raise ValueError(f"the name {node.name!r} is used but never introduced")
        return Index(scope.index(node.name))
    if isinstance(node, Prim):
        try:
            return CATALOGUE[node.name]
        except KeyError:
            raise ValueError(f"unknown primitive {node.name!r}") from None
    if isinstance(node, Inv):
        return parse(node.text)
    if isinstance(node, Lam):
        inner = tuple(reversed(node.params)) + scope
        out = to_term(node.body, inner)
        for _ in node.params:
            out = Abstraction(out)
        return out
    out = to_term(node.head, scope)
    for a in node.args:
        out = Application(out, to_term(a, scope))
    return out


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, App):
        yield from walk(node.head)
        for a in node.args:
            yield from walk(a)
    elif isinstance(node, Lam):
        yield from walk(node.body)
