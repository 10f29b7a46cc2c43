"""Invention bodies compiled once into Python closures over the vectorised primitives.

The enumerator applies each invention to thousands of argument tuples. Interpreting its body
(:func:`agents.pix2code.dsl.vector._eval`) redoes the same work every time: walk the spine,
look up the primitive, match argument types against its scheme. Those depend only on the
body and the types of its parameters, so :func:`compile_body` does them once and returns a
function of the parameter values alone. Function parameters arrive as
:class:`~agents.pix2code.dsl.vector.Closure` s (their
bodies differ per call: each is compiled once per enumerated term, on its second use). Values are
the interpreter's, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agents.pix2code.dsl.terms import Abstraction, Index, Primitive, Term
from agents.pix2code.dsl.types import LIST_OBJ, OBJ, TCon, Type, arguments, match, returns, substitute
from agents.pix2code.dsl.vector import Closure, closure_value, eta_expanded
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_primitives import VECTOR_IMPLS
from agents.pix2code.dsl.vector_values import Unsupported, kind

#: ``fn(ctx, env)``: a value from the environment's values (innermost variable first).
Compiled = Callable[[VectorContext, list], Any]


def compile_body(body: Term, param_types: Sequence[Type], depth: int, max_depth: int) -> Compiled:
    """``fn(ctx, values)`` computing an invention's parameter-free body on its parameters'
    values (first parameter first; function parameters as closures) at ``depth``.
    Raises :class:`Unsupported` for a body the compiler does not cover."""
    _, fn = _compile(body, tuple(reversed(param_types)), depth, max_depth)
    return lambda ctx, values: fn(ctx, values[::-1])


def _is_function(t: Type) -> bool:
    return isinstance(t, TCon) and t.is_arrow


def _compile(term: Term, env: tuple[Type, ...], d: int, max_depth: int) -> tuple[Type, Compiled]:
    if isinstance(term, Index):
        if term.i >= len(env) or _is_function(env[term.i]):
            raise Unsupported(f"${term.i} is not a first-order variable here")
        i = term.i
        return env[i], lambda ctx, values: values[i]
    head, args = term.spine()
    if isinstance(head, Index):
        return _compile_closure_call(head.i, args, env, d, max_depth)
    if not isinstance(head, Primitive) or head.name not in VECTOR_IMPLS:
        raise Unsupported(f"head {head.show()} is not a vectorised primitive")
    impl = VECTOR_IMPLS[head.name]
    schemes = arguments(head.type)
    if len(schemes) != len(args):
        raise Unsupported(f"{head.name} is not fully applied")
    fns: list[Compiled | None] = [None] * len(args)
    types: list[Type | None] = [None] * len(args)
    bindings: dict[int, Type] = {}
    for i, (a, s) in enumerate(zip(args, schemes)):
        if not _is_function(s):
            types[i], fns[i] = _compile(a, env, d, max_depth)
            if match(s, types[i], bindings) is None:
                raise Unsupported(f"argument {a.show()} of {head.name} has type {types[i]}, expected {substitute(s, bindings)}")
    for i, (a, s) in enumerate(zip(args, schemes)):
        if _is_function(s):
            binders = [substitute(b, bindings) for b in arguments(s)]
            types[i], fns[i] = _compile_lambda(a, binders, returns(s), bindings, env, d, max_depth)
    ret = substitute(returns(head.type), bindings)
    if ret.is_polymorphic:
        raise Unsupported(f"cannot determine the result type of {term.show()}")
    arg_types = list(types)
    parts = tuple(fns)
    return ret, lambda ctx, values: impl(ctx, d, arg_types, ret, *[f(ctx, values) for f in parts])  # type: ignore[misc]


def _compile_lambda(a: Term, binders: list[Type], result: Type, bindings: dict[int, Type], env: tuple[Type, ...],
                    d: int, max_depth: int) -> tuple[Type, Compiled]:
    """A function argument of a primitive: its body under ``len(binders)`` new object variables."""
    if any(b != OBJ for b in binders):
        raise Unsupported(f"a function argument binds {binders}, only obj binders are vectorised")
    if d + len(binders) > max_depth:
        raise Unsupported(f"more than {max_depth} nested object binders")
    if isinstance(a, Index) and a.i < len(env) and _is_function(env[a.i]):
        a = eta_expanded(a.i, len(binders))  # a function parameter passed on
    body, envs = a, []
    for _ in binders:
        if not isinstance(body, Abstraction):
            raise Unsupported("function arguments must be written as lambdas (η-long form)")
        envs.append(env)
        env = (OBJ, *env)
        body = body.body
    # lift only what the body reads (closures lift themselves when applied): entry p of the
    # environment at level l is entry p + (binders - l) of the body's
    free = body.free_indices()
    levels = [tuple(None if _is_function(t) or p + len(binders) - level not in free else kind(t) for p, t in enumerate(e))
              for level, e in enumerate(envs)]
    body_type, body_fn = _compile(body, env, d + len(binders), max_depth)
    match(result, body_type, bindings)
    full = body_type
    for b in reversed(binders):
        full = TCon("->", (b, full))

    def run(ctx: VectorContext, values: list) -> Any:
        dd = d
        for kinds in levels:
            values = [ctx.onehot(dd + 1, 0)] + [v if k is None else ctx.lift(v, k, dd) for v, k in zip(values, kinds)]
            dd += 1
        return body_fn(ctx, values)

    return full, run


def _compile_closure_call(i: int, args: Sequence[Term], env: tuple[Type, ...], d: int, max_depth: int) -> tuple[Type, Compiled]:
    """``($i a …)``: a function parameter applied to objects; its type comes from the invention's."""
    if i >= len(env) or not _is_function(env[i]):
        raise Unsupported(f"${i} is not a function parameter")
    expected = arguments(env[i])
    if len(expected) != len(args) or any(t != OBJ for t in expected):
        raise Unsupported(f"${i} applied to {len(args)} arguments, expected {len(expected)} objects")
    fns = []
    for a in args:
        t, fn = _compile(a, env, d, max_depth)
        if t != OBJ:
            raise Unsupported(f"a function argument applied to {t}, only objects are vectorised")
        fns.append(fn)
    return returns(env[i]), lambda ctx, values: apply_closure(values[i], [f(ctx, values) for f in fns], d, ctx)


def apply_closure(closure: Closure, objects: list, d: int, ctx: VectorContext) -> Any:
    """A closure applied to object values at depth ``d``: its body compiled once per depth on
    its second application (cached in ``closure.compiled``) when its environment is the
    enumerator's, else interpreted."""
    if closure.compiled is None or closure.env is not None or len(objects) != closure.arity:
        return closure_value(closure, objects, d, ctx)
    fn = closure.compiled.get(d, _MISSING)
    if fn is _MISSING:  # many terms are applied once: interpreting is cheaper than compiling
        closure.compiled[d] = _ONCE
        return closure_value(closure, objects, d, ctx)
    if fn is _ONCE:
        env = (OBJ,) * (closure.arity + closure.depth) + (LIST_OBJ,)
        try:
            fn = _compile(closure.body, env, d, ctx.max_depth)[1]
        except Unsupported:
            fn = None
        closure.compiled[d] = fn
    if fn is None:
        return closure_value(closure, objects, d, ctx)
    return fn(ctx, objects[::-1] + ctx.scope(closure.depth, d))


_MISSING, _ONCE = object(), object()
