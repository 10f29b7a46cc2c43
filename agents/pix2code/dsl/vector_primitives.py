"""Primitive implementations over bitsets (:mod:`agents.pix2code.dsl.vector_values`): logic,
comparison, arithmetic and ``if`` here, lists in :mod:`agents.pix2code.dsl.vector_lists`,
Kandinsky's relations in :mod:`agents.pix2code.dsl.vector_relations`; the table
:data:`VECTOR_IMPLS` of them all, :func:`specialise` (closures for the enumerator's inner loops)
and :func:`supports` (which instantiations are inside the fragment).

Signature: impl(ctx, d, arg_types, ret_type, *args). ``arg_types`` are the ground argument
types (an arrow for a function argument, whose value is its body evaluated one or two
binders deeper). Raise Unsupported for instantiations outside the fragment.
"""

from __future__ import annotations

import functools

from collections.abc import Callable, Sequence
from typing import Any

from agents.pix2code.dsl.primitives import CATEGORIES
from agents.pix2code.dsl.types import OBJ, TCon, Type, arguments, list_of, returns
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_lists import (
    v_cdr,
    v_count,
    v_empty_p,
    v_exists,
    v_forall,
    v_length,
    v_map,
    v_remove,
)
from agents.pix2code.dsl.vector_relations import v_closeby, v_one_red_triangle, v_online, v_pair, v_pairs, v_same
from agents.pix2code.dsl.vector_values import Unsupported, kind


def _int_binary(a: Any, b: Any, op: Callable[[int, int], int]) -> tuple[tuple[int, int], ...]:
    acc: dict[int, int] = {}
    for v, m in a:
        for w, n in b:
            x = m & n
            if x:
                r = op(v, w)
                acc[r] = acc.get(r, 0) | x
    return tuple(sorted(acc.items()))


def _v_true(ctx, d, ts, rt):
    return ctx.valid[d]


def _v_not(ctx, d, ts, rt, a):
    return ctx.valid[d] & ~a


def _v_and(ctx, d, ts, rt, a, b):
    return a & b


def _v_or(ctx, d, ts, rt, a, b):
    return a | b


def _eq_dense(a, b):
    """eq? on categorical / object values: one bitset per value index, aligned."""
    r = 0
    for m, n in zip(a, b):
        if m and n:
            r |= m & n
    return r


def _eq_int(a, b):
    """eq? on integer values: sparse (value, bitset) pairs."""
    bd = dict(b)
    r = 0
    for v, m in a:
        n = bd.get(v)
        if n:
            r |= m & n
    return r


def _v_eq(ctx, d, ts, rt, a, b):
    k = kind(ts[0])
    if k == "bool":
        return ctx.valid[d] & ~(a ^ b)
    if k in ("cat", "obj"):
        return _eq_dense(a, b)
    if k == "int":
        return _eq_int(a, b)
    if k == "list_obj":
        return ctx.valid[d] & ~ctx.any_digit(a ^ b, d)
    raise Unsupported(f"eq? on {ts[0]}")


def _v_gt(ctx, d, ts, rt, a, b):
    r = 0
    for v, m in a:
        for w, n in b:
            if v > w:
                r |= m & n
    return r


def _v_plus(ctx, d, ts, rt, a, b):
    return _int_binary(a, b, lambda x, y: x + y)


def _v_minus(ctx, d, ts, rt, a, b):
    return _int_binary(a, b, lambda x, y: x - y)


def _v_max(ctx, d, ts, rt, a, b):
    return _int_binary(a, b, max)


def _v_min(ctx, d, ts, rt, a, b):
    return _int_binary(a, b, min)


def _select_sparse(a, b, where_a: int, where_b: int) -> tuple:
    """Sparse (value, bitset) pairs: ``a``'s where ``where_a`` holds, ``b``'s where ``where_b`` does."""
    acc: dict[int, int] = {}
    for values, where in ((a, where_a), (b, where_b)):
        for v, m in values:
            if m & where:
                acc[v] = acc.get(v, 0) | (m & where)
    return tuple(sorted(acc.items()))


def _v_if(ctx, d, ts, rt, c, a, b):
    k = kind(rt)
    nc = ctx.valid[d] & ~c
    if k == "bool":
        return (c & a) | (nc & b)
    if k in ("cat", "obj"):
        return tuple((c & x) | (nc & y) for x, y in zip(a, b))
    if k == "int":
        return _select_sparse(a, b, c, nc)
    if k.startswith("list"):
        cl, ncl = ctx.lift(c, "bool", d), ctx.lift(nc, "bool", d)
        if k == "list_obj":
            return (cl & a) | (ncl & b)
        if k in ("list_cat", "list_bool"):
            return tuple((cl & x) | (ncl & y) for x, y in zip(a, b))
        return _select_sparse(a, b, cl, ncl)
    raise Unsupported(f"if at {rt}")


def _v_accessor(name: str):
    def impl(ctx, d, ts, rt, o):
        return ctx.access(name, o, d)

    return impl


def _v_index(ctx, d, ts, rt, k, o):
    """The paper DSL's ``index k o`` on objects: element k of their integer vectors."""
    if ts[1] != OBJ:
        raise Unsupported("index on lists")
    acc: dict[int, int] = {}
    for position, m in k:
        for v, x in ctx.access(f"index{position}", o, d):  # Unsupported outside the vector
            y = x & m
            if y:
                acc[v] = acc.get(v, 0) | y
    return tuple(sorted(acc.items()))


def _v_constant_cat(value: str, category: str):
    index = CATEGORIES[category].index(value)
    n = len(CATEGORIES[category])

    def impl(ctx, d, ts, rt):
        out = [0] * n
        out[index] = ctx.valid[d]
        return tuple(out)

    return impl


def _v_constant_int(value: int):
    def impl(ctx, d, ts, rt):
        return ((value, ctx.valid[d]),)

    return impl


VECTOR_IMPLS: dict[str, Callable[..., Any]] = {
    "true": _v_true,
    "not": _v_not,
    "and": _v_and,
    "or": _v_or,
    "eq?": _v_eq,
    "gt?": _v_gt,
    "+": _v_plus,
    "-": _v_minus,
    "max": _v_max,
    "min": _v_min,
    "length": v_length,
    "empty?": v_empty_p,
    "exists": v_exists,
    "forall": v_forall,
    "map": v_map,
    "count": v_count,
    "cdr": v_cdr,
    "if": _v_if,
    "index": _v_index,
    "remove": v_remove,
    "closeby": v_closeby,
    "online": v_online,
    "same_color": v_same("color"),
    "same_shape": v_same("shape"),
    "same_size": v_same("size"),
    "one_red_triangle": v_one_red_triangle,
    "pair": v_pair,
    "some_pair": v_pairs,
    "two_pairs": v_pairs,
    "three_pairs": v_pairs,
}
for _name in ("color", "shape", "material", "size", "xbin", "ybin"):
    VECTOR_IMPLS[_name] = _v_accessor(_name)
for _category, _values in CATEGORIES.items():
    for _value in _values:
        VECTOR_IMPLS[_value] = _v_constant_cat(_value, _category)
for _i in range(10):
    VECTOR_IMPLS[str(_i)] = _v_constant_int(_i)


def specialise(name: str, ctx: VectorContext, d: int, arg_types: Sequence[Type], ret: Type) -> Callable[..., Any]:
    """A closure ``f(*args)`` computing primitive ``name`` at one instantiation and depth.

    Resolving value kinds once per rule instead of once per call matters in the enumerator's
    inner loops; the closures compute exactly what :data:`VECTOR_IMPLS` computes.
    """
    ts = tuple(arg_types)
    if name == "eq?":
        k = kind(ts[0])
        if k in ("cat", "obj"):
            return _eq_dense
        if k == "int":
            return _eq_int
    if name in ("exists", "forall") and kind(ts[1]) == "list_obj":
        block, full, K, valid = ctx.block[d], ctx.full[d], ctx.K, ctx.valid[d]
        shifts = [k * block for k in range(1, K)]
        if name == "exists":
            def exists(body, xs):
                x = body & xs
                r = x
                for sh in shifts:
                    r |= x >> sh
                return r & full

            return exists

        def forall(body, xs):
            x = xs & ~body
            r = x
            for sh in shifts:
                r |= x >> sh
            return valid & ~r

        return forall
    if name == "remove":
        block = ctx.block[d]

        def remove(o, xs):
            out = 0
            for k, m in enumerate(o):
                if m:
                    out |= m << (k * block)
            return xs & ~out

        return remove
    return functools.partial(VECTOR_IMPLS[name], ctx, d, ts, ret)  # no Python frame of its own


def supports(name: str, arg_types: Sequence[Type], ret: Type, max_depth: int, depth: int) -> bool:
    """Whether primitive ``name`` at this ground instantiation is inside the vectorised fragment."""
    if name not in VECTOR_IMPLS:
        return False
    try:
        for t in arg_types:
            if isinstance(t, TCon) and t.is_arrow:
                binders = arguments(t)
                if any(b != OBJ for b in binders) or depth + len(binders) > max_depth:
                    return False
                kind(returns(t))
            else:
                kind(t)
        kind(ret)
    except Unsupported:
        return False
    ts = list(arg_types)
    if name == "eq?":
        return kind(ts[0]) in ("bool", "cat", "obj", "int", "list_obj")
    if name in ("exists", "forall"):
        return ts[1] == list_of(OBJ)
    if name == "map":
        return ts[1] == list_of(OBJ) and kind(returns(ts[0])) in ("bool", "cat", "int")
    if name == "index":
        return ts[1] == OBJ
    if name == "count":
        return kind(ts[0]) in ("list_obj", "list_bool", "list_cat", "list_int")
    return True
