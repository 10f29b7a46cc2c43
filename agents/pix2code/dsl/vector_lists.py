"""List primitives over bitsets: ``length``, ``empty?``, the quantifiers, ``map``, ``count``,
``cdr`` and ``remove`` (signature: :mod:`agents.pix2code.dsl.vector_primitives`). A list is one
digit deeper than its scene, the element's slot being the extra digit
(:mod:`agents.pix2code.dsl.vector_values`)."""

from __future__ import annotations

from typing import Any

from agents.pix2code.dsl.types import returns
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_values import Unsupported, kind


def _membership(value: Any, k: str) -> int:
    if k == "list_obj":
        return value
    if k in ("list_cat", "list_bool"):
        out = 0
        for m in value:
            out |= m
        return out
    if k == "list_int":
        out = 0
        for _, m in value:
            out |= m
        return out
    raise Unsupported(f"not a list kind: {k}")


def _popcount_digit(ctx: VectorContext, x: int, d: int) -> tuple[tuple[int, int], ...]:
    """Per depth-d assignment, how many element slots of depth-(d+1) bitset ``x`` are set."""
    counts = [ctx.valid[d]]
    for blk in ctx.blocks(x, d):
        if not blk:
            continue
        nb = ~blk
        new = [counts[0] & nb]
        for j in range(1, len(counts)):
            new.append((counts[j] & nb) | (counts[j - 1] & blk))
        new.append(counts[-1] & blk)
        while new and not new[-1]:
            new.pop()
        counts = new
    return tuple((j, m) for j, m in enumerate(counts) if m)


def v_length(ctx, d, ts, rt, xs):
    return _popcount_digit(ctx, _membership(xs, kind(ts[0])), d)


def v_empty_p(ctx, d, ts, rt, xs):
    return ctx.valid[d] & ~ctx.any_digit(_membership(xs, kind(ts[0])), d)


def v_exists(ctx, d, ts, rt, body, xs):
    if kind(ts[1]) != "list_obj":
        raise Unsupported(f"exists over {ts[1]}")
    return ctx.any_digit(body & xs, d)


def v_forall(ctx, d, ts, rt, body, xs):
    if kind(ts[1]) != "list_obj":
        raise Unsupported(f"forall over {ts[1]}")
    return ctx.valid[d] & ~ctx.any_digit(xs & ~body, d)


def v_map(ctx, d, ts, rt, body, xs):
    if kind(ts[1]) != "list_obj":
        raise Unsupported(f"map over {ts[1]}")
    k = kind(returns(ts[0]))
    if k == "bool":
        return (xs & ~body, xs & body)
    if k == "cat":
        return tuple(m & xs for m in body)
    if k == "int":
        return tuple((v, m & xs) for v, m in body if m & xs)
    raise Unsupported(f"map to {returns(ts[0])}")


def v_count(ctx, d, ts, rt, xs, v):
    k = kind(ts[1])
    lk = kind(ts[0])
    if lk == "list_obj":
        hits = xs & ctx.same_slot(v, d)
    elif k == "bool":
        lv_true = ctx.lift(v, "bool", d)
        lv_false = ctx.lift(ctx.valid[d] & ~v, "bool", d)
        hits = (xs[1] & lv_true) | (xs[0] & lv_false)
    elif k == "cat":
        hits = 0
        for m, n in zip(xs, v):
            if m and n:
                hits |= m & ctx.lift(n, "bool", d)
    elif k == "int":
        vd = dict(v)
        hits = 0
        for val, m in xs:
            n = vd.get(val)
            if n:
                hits |= m & ctx.lift(n, "bool", d)
    else:
        raise Unsupported(f"count over {ts[0]}")
    return _popcount_digit(ctx, hits, d)


def _first_element(ctx: VectorContext, member: int, d: int) -> int:
    seen, first = 0, 0
    for k, blk in enumerate(ctx.blocks(member, d)):
        f = blk & ~seen
        if f:
            first |= f << (k * ctx.block[d])
        seen |= blk
    return first


def v_cdr(ctx, d, ts, rt, xs):
    k = kind(ts[0])
    first = _first_element(ctx, _membership(xs, k), d)
    keep = ~first
    if k == "list_obj":
        return xs & keep
    if k in ("list_cat", "list_bool"):
        return tuple(m & keep for m in xs)
    return tuple((v, m & keep) for v, m in xs if m & keep)


def v_remove(ctx, d, ts, rt, o, xs):
    return xs & ~ctx.same_slot(o, d)
