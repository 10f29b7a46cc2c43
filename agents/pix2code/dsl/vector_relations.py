"""Kandinsky's relations over bitsets: ``closeby``, ``online``, ``same_<attribute>``,
``one_red_triangle``, ``pair`` and the ``*_pair(s)`` primitives (signature:
:mod:`agents.pix2code.dsl.vector_primitives`)."""

from __future__ import annotations

import numpy as np

from agents.pix2code.dsl.primitives import CATEGORIES
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_values import Unsupported, bits_to_int, int_to_bits


def v_closeby(ctx, d, ts, rt, a, b):
    rel = ctx.pair_relation("closeby", d)
    r = 0
    for k1, m in enumerate(a):
        if not m:
            continue
        row = rel[k1]
        for k2, n in enumerate(b):
            if n and row[k2]:
                r |= m & n & row[k2]
    return r


def v_online(ctx, d, ts, rt, xs):
    table = ctx.online_table()
    size = ctx.block[d]
    subset = np.zeros(size, dtype=np.int64)
    for k, blk in enumerate(ctx.blocks(xs, d)):
        if blk:
            subset |= int_to_bits(blk, size).astype(np.int64) << k
    scene = np.arange(size) % ctx.N
    out = table[scene, subset]
    return bits_to_int(out) & ctx.valid[d]


def v_same(attribute: str):
    def impl(ctx, d, ts, rt, xs):
        kind_, per_slot = ctx.attribute(attribute, d)
        if kind_ != "cat":
            raise Unsupported(f"same on {attribute}")
        blocks = ctx.blocks(xs, d)
        present = []
        for c in range(len(per_slot[0])):
            h = 0
            for slot, blk in enumerate(blocks):
                if blk:
                    h |= blk & per_slot[slot][c]
            if h:
                present.append(h)
        clash = 0
        for i in range(len(present)):
            for j in range(i + 1, len(present)):
                clash |= present[i] & present[j]
        return ctx.valid[d] & ~clash

    return impl


def _exactly_one(ctx: VectorContext, x: int, d: int) -> int:
    """Per depth-d assignment: exactly one element slot of depth-(d+1) bitset ``x`` is set."""
    once = twice = 0
    for blk in ctx.blocks(x, d):
        twice |= once & blk
        once |= blk
    return once & ~twice


def v_one_red_triangle(ctx, d, ts, rt, xs):
    color = ctx.attribute("color", d + 1)
    shape = ctx.attribute("shape", d + 1)
    red_index = CATEGORIES["color"].index("red")
    tri_index = CATEGORIES["shape"].index("triangle")
    # attribute(..., d + 1) is per slot at depth d+1; the element digit is the most significant
    red = sum(color[1][k][red_index] & (((1 << ctx.block[d]) - 1) << (k * ctx.block[d])) for k in range(ctx.K))
    tri = sum(shape[1][k][tri_index] & (((1 << ctx.block[d]) - 1) << (k * ctx.block[d])) for k in range(ctx.K))
    r, t = xs & red, xs & tri
    return _exactly_one(ctx, r, d) & _exactly_one(ctx, t, d) & _exactly_one(ctx, r & t, d)


def v_pair(ctx, d, ts, rt, a, b):
    return ctx.same_slot(a, d) | ctx.same_slot(b, d)


def v_pairs(ctx, d, ts, rt, *args):
    *relations, xs = args
    K, B, full = ctx.K, ctx.block[d], ctx.full[d]
    members = ctx.blocks(xs, d)
    tables = []
    for rel in relations:
        # rel is over (b = $0, a = $1, env): block (b * K + a)
        tables.append(
            [[((rel >> ((b * K + a) * B)) & full) & members[a] & members[b] if a != b else 0 for b in range(K)] for a in range(K)]
        )

    memo: dict[int, int] = {}

    def place(i: int, used: int) -> int:
        # the slots still to fill depend only on which objects are used (i = |used| / 2)
        if i == len(tables):
            return full
        if used in memo:
            return memo[used]
        out = 0
        table = tables[i]
        for a in range(K):
            if used >> a & 1:
                continue
            row = table[a]
            for b in range(K):
                m = row[b]
                if not m or used >> b & 1:
                    continue
                m &= ~out
                if m:
                    out |= m & place(i + 1, used | (1 << a) | (1 << b))
        memo[used] = out
        return out

    return place(0, 0) & ctx.valid[d]
