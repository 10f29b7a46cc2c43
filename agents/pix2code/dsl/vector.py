"""Vectorised semantics: one value per term covers every scene and every binding of its variables.

A term under ``d`` object binders (environment ``[obj]*d + [list(obj)]``, innermost first, the
scene's object list last) is evaluated once for all ``N`` scenes and all ``K**d`` assignments of
its object variables. Values are Python integers used as bitsets over these ``K**d * N``
positions, so ``and``/``or``/``not`` are single big-integer operations, hashing for
observational equivalence is free, and quantifiers are a handful of shifts (the layouts:
:mod:`agents.pix2code.dsl.vector_values`).

:func:`evaluate_vectorised` runs one program this way and must agree with the tree-walking
interpreter on every program of the fragment (``cons``, ``empty``, ``car``, ``index``, ``find``
and ``fold`` are outside it: partial, or not representable with these layouts); the enumerator
builds values with the same :data:`~agents.pix2code.dsl.vector_primitives.VECTOR_IMPLS`.
An invention met inside a term is applied without inlining it: first-order arguments by value,
function arguments as :class:`Closure` s that its body applies to objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.pix2code.dsl.scene_table import SceneTable
from agents.pix2code.dsl.terms import Abstraction, Application, Index, Invented, Primitive, Term, apply, beta_normal
from agents.pix2code.dsl.types import OBJ, TCon, Type, arguments, list_of, match, returns, substitute
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_primitives import VECTOR_IMPLS, specialise, supports
from agents.pix2code.dsl.vector_values import Unsupported, int_to_bits, kind

# The evaluator's public surface, including names that moved to the modules it builds on.
__all__ = [
    "VECTOR_IMPLS",
    "Closure",
    "SceneTable",
    "Unsupported",
    "VectorContext",
    "evaluate_applied",
    "evaluate_open",
    "evaluate_vectorised",
    "kind",
    "labels",
    "specialise",
    "strip_parameters",
    "supports",
]


def evaluate_vectorised(term: Term, ctx: VectorContext) -> Any:
    """The value of a closed program of type ``list(obj) -> t`` over every scene of ``ctx``.

    For a ``bool`` result this is an ``N``-bit integer (bit ``s`` = label of scene ``s``).
    Raises :class:`Unsupported` for programs outside the fragment.
    """
    term = beta_normal(term, inline_inventions=True)
    if not isinstance(term, Abstraction):
        raise Unsupported("a program must be a function of the scene: (lambda ...)")
    env = [(list_of(OBJ), ctx.scene_list(0))]
    _, value = _eval(term.body, env, 0, ctx)
    return value


def evaluate_open(term: Term, depth: int, ctx: VectorContext) -> Any:
    """The value of a term in the enumerator's environment at ``depth``: ``$0..$(depth-1)``
    are object variables (innermost first) and ``$depth`` is the scene's object list."""
    term = beta_normal(term, inline_inventions=True)
    env = [(OBJ, ctx.onehot(depth, i)) for i in range(depth)] + [(list_of(OBJ), ctx.scene_list(depth))]
    return _eval(term, env, depth, ctx)[1]


def strip_parameters(body: Term, n: int) -> Term:
    """The body under an invention's ``n`` parameter λs, β-normal with inventions inlined."""
    for _ in range(n):
        if not isinstance(body, Abstraction):
            raise Unsupported("an invention must take its arguments with lambdas")
        body = body.body
    return beta_normal(body, inline_inventions=True)


@dataclass(frozen=True, eq=False)
class Closure:
    """A function argument of an invention, passed to its body unevaluated: ``body`` under
    ``arity`` object binders, its free variables beyond them bound by ``env``, an environment
    at ``depth`` (None: the enumerator's own, :meth:`VectorContext.scope`). The body applies
    it to objects (``($k $0)``, as η-long bodies do), and each application evaluates ``body``
    on those objects; without closures the whole applied invention would be β-normalised and
    evaluated afresh. ``compiled`` (application depth → compiled body, shared by every closure
    of one enumerated term) lets :mod:`~agents.pix2code.dsl.vector_compile` compile it once."""

    body: Term
    arity: int
    env: tuple[tuple[Type, Any], ...] | None
    depth: int
    compiled: dict | None = None

    def captured(self, d: int, ctx: VectorContext) -> list[tuple[Type, Any]]:
        """The closure's environment seen from depth ``d``."""
        if self.env is None:
            values = ctx.scope(self.depth, d)
            return [(OBJ, v) for v in values[:-1]] + [(list_of(OBJ), values[-1])]
        captured = list(self.env)
        for depth in range(self.depth, d):
            captured = _lift_env(captured, depth, ctx)
        return captured


def evaluate_applied(inner: Term, arg_types: Sequence[Type], values: Sequence[Any], depth: int, ctx: VectorContext) -> Any:
    """The value of an invention's parameter-free body (:func:`strip_parameters`) applied to
    argument *values* at ``depth``: the arguments are not re-evaluated (function arguments are
    :class:`Closure` s)."""
    env = [(t, v) for t, v in zip(arg_types, values)][::-1]
    return _eval(inner, env, depth, ctx)[1]


def labels(term: Term, ctx: VectorContext) -> np.ndarray:
    """Boolean labels of a ``list(obj) -> bool`` program on every scene of ``ctx``."""
    value = evaluate_vectorised(term, ctx)
    if not isinstance(value, int):
        raise Unsupported("the program does not return bool")
    return int_to_bits(value, ctx.N)


def _lift_env(env: Sequence[tuple[Type, Any]], d: int, ctx: VectorContext) -> list[tuple[Type, Any]]:
    """``env`` seen one object binder deeper; closures keep their own depth and are lifted when applied."""
    return [(t, v if isinstance(v, Closure) else ctx.lift(v, kind(t), d)) for t, v in env]


def _apply_closure(closure: Any, args: Sequence[Term], env: list[tuple[Type, Any]], d: int, ctx: VectorContext) -> tuple[Type, Any]:
    if not isinstance(closure, Closure) or len(args) != closure.arity:
        raise Unsupported("applying a variable that is not a function argument of an invention")
    objects = []
    for a in args:
        t, v = _eval(a, env, d, ctx)
        if t != OBJ:
            raise Unsupported(f"a function argument applied to {t}, only objects are vectorised")
        objects.append(v)
    return _closure_body(closure, objects, d, ctx)


def closure_value(closure: Closure, objects: Sequence[Any], d: int, ctx: VectorContext) -> Any:
    """The value at depth ``d`` of ``closure`` applied to object values (first argument first), interpreted."""
    if len(objects) != closure.arity:
        raise Unsupported(f"a function argument of arity {closure.arity} applied to {len(objects)} objects")
    return _closure_body(closure, objects, d, ctx)[1]


def _closure_body(closure: Closure, objects: Sequence[Any], d: int, ctx: VectorContext) -> tuple[Type, Any]:
    return _eval(closure.body, [(OBJ, v) for v in reversed(objects)] + closure.captured(d, ctx), d, ctx)


def _apply_invention(head: Invented, args: Sequence[Term], env: list[tuple[Type, Any]], d: int, ctx: VectorContext) -> tuple[Type, Any]:
    """An invention applied to ``args`` without inlining it: first-order arguments are evaluated
    once, function arguments (λs) become closures, and the body runs on them."""
    body: Term = head.body
    bound: list[tuple[Type, Any]] = []
    passed_on = 0  # parameters an η-reduced body passes on unnamed
    for a in args:
        if isinstance(body, Abstraction):
            body = body.body
        else:
            passed_on += 1
        if isinstance(a, Index) and a.i < len(env) and isinstance(env[a.i][1], Closure):
            bound.append(env[a.i])  # a function parameter passed on
        elif isinstance(a, Abstraction):
            inner, arity = a, 0
            while isinstance(inner, Abstraction):
                inner, arity = inner.body, arity + 1
            bound.append((OBJ, Closure(inner, arity, tuple(env), d)))  # the type slot is unused for closures
        else:
            bound.append(_eval(a, env, d, ctx))
    if passed_on:
        body = apply(body.shift(passed_on), *(Index(k) for k in reversed(range(passed_on))))
    if isinstance(body, Abstraction):
        raise Unsupported(f"{head.show()} is not fully applied")
    return _eval(body, bound[::-1], d, ctx)


def _eta_expand(a: Term, arity: int, env: list[tuple[Type, Any]]) -> Term:
    """A function argument that names a closure (``$k``, as inventions pass a parameter on) as
    the λs the evaluator expects."""
    if not (isinstance(a, Index) and a.i < len(env) and isinstance(env[a.i][1], Closure)):
        return a
    return eta_expanded(a.i, arity)


def eta_expanded(i: int, arity: int) -> Term:
    """``$i`` as a function of ``arity`` objects in η-long form: ``(lambda … ($i+arity … $1 $0))``."""
    body: Term = Index(i + arity)
    for j in reversed(range(arity)):
        body = Application(body, Index(j))
    for _ in range(arity):
        body = Abstraction(body)
    return body


def _eval(term: Term, env: list[tuple[Type, Any]], d: int, ctx: VectorContext) -> tuple[Type, Any]:
    if isinstance(term, Index):
        if term.i >= len(env):
            raise Unsupported(f"unbound ${term.i}")
        if isinstance(env[term.i][1], Closure):
            raise Unsupported("a function argument used as a value")
        return env[term.i]
    head, args = term.spine()
    if isinstance(head, Index):
        if head.i >= len(env):
            raise Unsupported(f"unbound ${head.i}")
        return _apply_closure(env[head.i][1], args, env, d, ctx)
    if isinstance(head, Invented):
        return _apply_invention(head, args, env, d, ctx)
    if not isinstance(head, Primitive):
        raise Unsupported(f"head {head.show()} is not a primitive")
    impl = VECTOR_IMPLS.get(head.name)
    if impl is None:
        raise Unsupported(f"{head.name} has no vectorised implementation")
    scheme = head.type
    arg_schemes = arguments(scheme)
    if len(arg_schemes) != len(args):
        raise Unsupported(f"{head.name} is not fully applied")
    # First-order arguments first: they fix the binder types of function arguments.
    values: list[Any] = [None] * len(args)
    types: list[Type | None] = [None] * len(args)
    bindings: dict[int, Type] = {}
    for i, (a, s) in enumerate(zip(args, arg_schemes)):
        if isinstance(s, TCon) and s.is_arrow:
            continue
        t, v = _eval(a, env, d, ctx)
        if match(s, t, bindings) is None:
            raise Unsupported(f"argument {a.show()} of {head.name} has type {t}, expected {substitute(s, bindings)}")
        values[i], types[i] = v, t
    for i, (a, s) in enumerate(zip(args, arg_schemes)):
        if not (isinstance(s, TCon) and s.is_arrow):
            continue
        binder_types = [substitute(b, bindings) for b in arguments(s)]
        if any(b != OBJ for b in binder_types):
            raise Unsupported(f"{head.name}: function argument binds {binder_types}, only obj binders are vectorised")
        body = _eta_expand(a, len(binder_types), env)
        inner_env, inner_d = env, d
        for b in binder_types:
            if not isinstance(body, Abstraction):
                raise Unsupported("function arguments must be written as lambdas (η-long form)")
            if inner_d + 1 > ctx.max_depth:
                raise Unsupported(f"more than {ctx.max_depth} nested object binders")
            inner_env = [(OBJ, ctx.onehot(inner_d + 1, 0))] + _lift_env(inner_env, inner_d, ctx)
            # the new variable is digit 0 of depth inner_d + 1; older object variables moved
            # one digit down, which lifting accounts for.
            inner_d += 1
            body = body.body
        bt, bv = _eval(body, inner_env, inner_d, ctx)
        match(returns(s), bt, bindings)
        full = bt
        for b in reversed(binder_types):
            full = TCon("->", (b, full))
        values[i], types[i] = bv, full
    ret = substitute(returns(scheme), bindings)
    if ret.is_polymorphic:
        raise Unsupported(f"cannot determine the result type of {term.show()}")
    arg_types = [t for t in types if t is not None]
    return ret, impl(ctx, d, arg_types, ret, *values)
