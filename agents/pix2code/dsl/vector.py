"""Vectorised semantics: one value per term covers every scene and every binding of its variables.

A term under ``d`` object binders (environment ``[obj]*d + [list(obj)]``, innermost first, the
scene's object list last) is evaluated once for all ``N`` scenes and all ``K**d`` assignments of
its object variables. Values are Python integers used as bitsets over these ``K**d * N``
positions, so ``and``/``or``/``not`` are single big-integer operations, hashing for
observational equivalence is free, and quantifiers are a handful of shifts:

* position of an assignment: ``v0 * K**(d-1) * N + ... + v(d-1) * N + scene``; the innermost
  variable ``$0`` is the most significant digit, so the value of a term that ignores a new
  innermost variable is its old value repeated ``K`` times (one multiplication), and ∃ over the
  new variable ORs ``K`` blocks;
* ``bool``: the set of positions where the term is true;
* ``obj``: a tuple of ``K`` bitsets, where the object is in slot ``k``;
* categorical (``color``, ``shape``, ...): a dense tuple of bitsets, one per value of the
  category (:data:`~agents.pix2code.dsl.primitives.CATEGORIES` order);
* ``int``: a tuple of ``(value, bitset)`` pairs sorted by value (integers are unbounded);
* ``list(t)``: the same as ``t`` one binder deeper, the extra (most significant) digit being
  the element's slot; ``list(obj)`` is its membership bitset. A list is ordered by slot and has
  no duplicates, which is exact for every list the supported fragment can build.

Positions whose variables point at empty slots are always 0 in every value, so equal values
mean equal behaviour. :func:`evaluate_vectorised` runs one program this way and must agree with
the tree-walking interpreter on every program of the fragment (``cons``, ``empty``, ``car``,
``index``, ``find`` and ``fold`` are outside it: partial, or not representable with these
layouts); the enumerator builds values with the same :data:`VECTOR_IMPLS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agents.pix2code.dsl.primitives import CATEGORIES, CLOSEBY_DISTANCE, ONLINE_TOLERANCE
from agents.pix2code.dsl.terms import Abstraction, Index, Primitive, Term, beta_normal
from agents.pix2code.dsl.types import OBJ, TCon, Type, arguments, list_of, match, returns, substitute


class Unsupported(Exception):
    """The term (or this instantiation of a primitive) is outside the vectorised fragment."""


# ---------------------------------------------------------------------------------------------
# Value kinds


def kind(t: Type) -> str:
    """How values of ground type ``t`` are represented (see the module docstring)."""
    if not isinstance(t, TCon):
        raise Unsupported(f"type {t} is not ground")
    if t.name == "list":
        inner = t.args[0]
        k = kind(inner)
        if k.startswith("list"):
            raise Unsupported(f"nested list type {t}")
        return "list_" + k
    if t.name == "bool":
        return "bool"
    if t.name == "int":
        return "int"
    if t.name == "obj":
        return "obj"
    if t.name in CATEGORIES:
        return "cat"
    raise Unsupported(f"type {t} has no vectorised representation")


# ---------------------------------------------------------------------------------------------
# Scenes as attribute tables


class SceneTable:
    """Scenes as per-slot attribute columns: what both evaluators need from a domain.

    ``mask[s, k]`` says whether slot ``k`` of scene ``s`` holds an object; ``categorical[name]``
    is an ``(N, K)`` array of value names' indices (into ``CATEGORIES[category]``) for accessor
    ``name``; ``integer[name]`` an ``(N, K)`` int array; ``x``, ``y``, ``s`` optional float
    arrays of positions and sizes for spatial relations.
    """

    def __init__(
        self,
        mask: np.ndarray,
        categorical: dict[str, tuple[str, np.ndarray]],
        integer: dict[str, np.ndarray],
        continuous: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.mask = np.asarray(mask, dtype=bool)
        if self.mask.ndim != 2:
            raise ValueError(f"mask must be (scenes, slots), got shape {self.mask.shape}")
        self.n_scenes, self.n_slots = self.mask.shape
        self.categorical = categorical
        self.integer = integer
        self.continuous = continuous or {}

    def take(self, rows: Sequence[int] | np.ndarray) -> SceneTable:
        rows = np.asarray(rows, dtype=np.int64)
        return SceneTable(
            self.mask[rows],
            {k: (c, a[rows]) for k, (c, a) in self.categorical.items()},
            {k: a[rows] for k, a in self.integer.items()},
            {k: a[rows] for k, a in self.continuous.items()},
        )

    @staticmethod
    def concatenate(tables: Sequence[SceneTable]) -> SceneTable:
        if not tables:
            raise ValueError("need at least one table to concatenate")
        first = tables[0]
        return SceneTable(
            np.concatenate([t.mask for t in tables]),
            {k: (c, np.concatenate([t.categorical[k][1] for t in tables])) for k, (c, _) in first.categorical.items()},
            {k: np.concatenate([t.integer[k] for t in tables]) for k in first.integer},
            {k: np.concatenate([t.continuous[k] for t in tables]) for k in first.continuous},
        )


def _bits_to_int(bits: np.ndarray) -> int:
    """A boolean vector as an integer bitset (element i → bit i)."""
    if bits.size == 0:
        return 0
    return int.from_bytes(np.packbits(bits.astype(bool), bitorder="little").tobytes(), "little")


def _int_to_bits(value: int, length: int) -> np.ndarray:
    nbytes = (length + 7) // 8
    raw = np.frombuffer(value.to_bytes(nbytes, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:length].astype(bool)


# ---------------------------------------------------------------------------------------------
# The context: layouts and precomputed masks for one set of scenes


class VectorContext:
    """Layouts and cached masks for evaluating terms over one :class:`SceneTable`.

    ``max_depth`` bounds the number of nested object binders (values one level deeper are
    needed for lists, so masks are kept up to ``max_depth + 1``).
    """

    def __init__(self, table: SceneTable, max_depth: int = 3) -> None:
        self.table = table
        self.N, self.K = table.n_scenes, table.n_slots
        self.max_depth = max_depth
        N, K = self.N, self.K
        self.block = [K**d * N for d in range(max_depth + 3)]
        self.full = [(1 << b) - 1 for b in self.block]
        # rep[d]: copies a depth-d value K times (adds a most significant digit).
        self.rep = [sum(1 << (k * b) for k in range(K)) for b in self.block]
        # spread[d]: copies an N-bit scene mask to every assignment of depth d.
        self.spread = [sum(1 << (j * N) for j in range(K**d)) for d in range(max_depth + 3)]
        self.slot_scenes = [_bits_to_int(table.mask[:, k]) for k in range(K)]
        self.valid = [self.full[0]]
        for d in range(max_depth + 2):
            prev = self.valid[d]
            self.valid.append(
                sum(((self.slot_scenes[k] * self.spread[d]) & prev) << (k * self.block[d]) for k in range(K))
            )
        self._onehot: dict[tuple[int, int], tuple[int, ...]] = {}
        self._attr: dict[tuple[str, int], Any] = {}
        self._pair: dict[tuple[str, int], list[list[int]]] = {}
        self._online: np.ndarray | None = None

    # Layout helpers ---------------------------------------------------------------------------
    def blocks(self, x: int, d: int) -> list[int]:
        """The K blocks of a depth-(d+1) bitset along its most significant digit."""
        b, f = self.block[d], self.full[d]
        return [(x >> (k * b)) & f for k in range(self.K)]

    def any_digit(self, x: int, d: int) -> int:
        """∃ over the most significant digit of a depth-(d+1) bitset → depth d."""
        b = self.block[d]
        r = 0
        for k in range(self.K):
            r |= x >> (k * b)
        return r & self.full[d]

    def lift(self, value: Any, k: str, d: int) -> Any:
        """A depth-d value of kind ``k`` seen from depth d+1 (a new, ignored innermost variable)."""
        rep, valid = self.rep[d], self.valid[d + 1]
        if k.startswith("list"):
            return self._lift_list(value, k, d)
        if k == "bool":
            return (value * rep) & valid
        if k in ("cat", "obj"):
            return tuple((m * rep) & valid for m in value)
        if k == "int":
            return tuple((v, (m * rep) & valid) for v, m in value)
        raise Unsupported(f"cannot lift a value of kind {k}")

    def _lift_list(self, value: Any, k: str, d: int) -> Any:
        def lift_mask(m: int) -> int:
            out = 0
            for j, blk in enumerate(self.blocks(m, d)):
                if blk:
                    out |= (blk * self.rep[d]) << (j * self.block[d + 1])
            return out & self.valid[d + 2]

        if k in ("list_obj", "list_bool"):
            return lift_mask(value) if k == "list_obj" else tuple(lift_mask(m) for m in value)
        if k == "list_cat":
            return tuple(lift_mask(m) for m in value)
        if k == "list_int":
            return tuple((v, lift_mask(m)) for v, m in value)
        raise Unsupported(f"cannot lift a value of kind {k}")

    def onehot(self, d: int, i: int) -> tuple[int, ...]:
        """Value of object variable ``$i`` at depth ``d`` (``i < d``)."""
        key = (d, i)
        if key not in self._onehot:
            if not 0 <= i < d:
                raise ValueError(f"${i} is not an object variable at depth {d}")
            b = self.block[d - 1 - i]  # block size of digit i
            period = b * self.K
            reps = self.block[d] // period
            tile = sum(1 << (r * period) for r in range(reps))
            self._onehot[key] = tuple(((((1 << b) - 1) << (k * b)) * tile) & self.valid[d] for k in range(self.K))
        return self._onehot[key]

    def scene_list(self, d: int) -> int:
        """Value of the scene's object list at depth d: every valid slot."""
        return self.valid[d + 1]

    def same_slot(self, obj: tuple[int, ...], d: int) -> int:
        """Depth-(d+1) bitset (element digit) where the element is the object ``obj``."""
        b = self.block[d]
        out = 0
        for k, m in enumerate(obj):
            out |= m << (k * b)
        return out

    # Attributes ------------------------------------------------------------------------------
    def attribute(self, name: str, d: int) -> tuple[str, Any]:
        """Per slot, the depth-d value of attribute ``name`` (kind 'cat' or 'int')."""
        key = (name, d)
        if key not in self._attr:
            t = self.table
            spread = self.spread[d]
            if name in t.categorical:
                category, codes = t.categorical[name]
                n_values = len(CATEGORIES[category])
                per_slot = []
                for k in range(self.K):
                    col = codes[:, k]
                    ok = t.mask[:, k]
                    per_slot.append(tuple(_bits_to_int((col == c) & ok) * spread for c in range(n_values)))
                self._attr[key] = ("cat", per_slot)
            elif name in t.integer:
                per_slot_int = []
                for k in range(self.K):
                    col, ok = t.integer[name][:, k], t.mask[:, k]
                    values = sorted(set(col[ok].tolist()))
                    per_slot_int.append({v: _bits_to_int((col == v) & ok) * spread for v in values})
                self._attr[key] = ("int", per_slot_int)
            else:
                raise Unsupported(f"the scenes have no attribute {name!r}")
        return self._attr[key]

    def access(self, name: str, obj: tuple[int, ...], d: int) -> Any:
        k, per_slot = self.attribute(name, d)
        if k == "cat":
            out = [0] * len(per_slot[0])
            for slot, m in enumerate(obj):
                if m:
                    for c, a in enumerate(per_slot[slot]):
                        if a:
                            out[c] |= m & a
            return tuple(out)
        acc: dict[int, int] = {}
        for slot, m in enumerate(obj):
            if m:
                for v, a in per_slot[slot].items():
                    x = m & a
                    if x:
                        acc[v] = acc.get(v, 0) | x
        return tuple(sorted(acc.items()))

    def pair_relation(self, name: str, d: int) -> list[list[int]]:
        """``rel[k1][k2]``: depth-d bitset of scenes where relation ``name`` holds for the two slots."""
        key = (name, d)
        if key not in self._pair:
            t = self.table
            if name != "closeby":
                raise Unsupported(f"unknown relation {name}")
            if not {"x", "y"} <= set(t.continuous):
                raise Unsupported("closeby needs x and y columns")
            x, y = t.continuous["x"].astype(np.float64), t.continuous["y"].astype(np.float64)
            rel = []
            for k1 in range(self.K):
                row = []
                for k2 in range(self.K):
                    if k1 == k2:
                        row.append(0)
                        continue
                    near = np.hypot(x[:, k1] - x[:, k2], y[:, k1] - y[:, k2]) < CLOSEBY_DISTANCE
                    row.append(_bits_to_int(near & t.mask[:, k1] & t.mask[:, k2]) * self.spread[d])
                rel.append(row)
            self._pair[key] = rel
        return self._pair[key]

    def online_table(self) -> np.ndarray:
        """``table[scene, subset]``: whether the objects of a slot subset are collinear (the
        interpreter's test, batched over scenes: smallest principal axis of each subset)."""
        if self._online is None:
            t = self.table
            if not {"x", "y"} <= set(t.continuous):
                raise Unsupported("online needs x and y columns")
            xy = np.stack([t.continuous["x"], t.continuous["y"]], axis=-1).astype(np.float64)  # (N, K, 2)
            table = np.ones((self.N, 1 << self.K), dtype=bool)
            for subset in range(1 << self.K):
                slots = [k for k in range(self.K) if subset >> k & 1]
                if len(slots) < 3:
                    continue
                pts = xy[:, slots, :]
                pts = pts - pts.mean(axis=1, keepdims=True)
                _, vecs = np.linalg.eigh(np.einsum("nki,nkj->nij", pts, pts))
                normal = vecs[:, :, 0]  # eigenvector of the smallest eigenvalue
                dist = np.abs(np.einsum("nki,ni->nk", pts, normal)).max(axis=1)
                table[:, subset] = dist <= ONLINE_TOLERANCE
            self._online = table
        return self._online


# ---------------------------------------------------------------------------------------------
# Primitive implementations over bitsets.
#
# Signature: impl(ctx, d, arg_types, ret_type, *args). ``arg_types`` are the ground argument
# types (an arrow for a function argument, whose value is its body evaluated one or two
# binders deeper). Raise Unsupported for instantiations outside the fragment.


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


def _v_length(ctx, d, ts, rt, xs):
    return _popcount_digit(ctx, _membership(xs, kind(ts[0])), d)


def _v_empty_p(ctx, d, ts, rt, xs):
    return ctx.valid[d] & ~ctx.any_digit(_membership(xs, kind(ts[0])), d)


def _v_exists(ctx, d, ts, rt, body, xs):
    if kind(ts[1]) != "list_obj":
        raise Unsupported(f"exists over {ts[1]}")
    return ctx.any_digit(body & xs, d)


def _v_forall(ctx, d, ts, rt, body, xs):
    if kind(ts[1]) != "list_obj":
        raise Unsupported(f"forall over {ts[1]}")
    return ctx.valid[d] & ~ctx.any_digit(xs & ~body, d)


def _v_map(ctx, d, ts, rt, body, xs):
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


def _v_count(ctx, d, ts, rt, xs, v):
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


def _v_cdr(ctx, d, ts, rt, xs):
    k = kind(ts[0])
    first = _first_element(ctx, _membership(xs, k), d)
    keep = ~first
    if k == "list_obj":
        return xs & keep
    if k in ("list_cat", "list_bool"):
        return tuple(m & keep for m in xs)
    return tuple((v, m & keep) for v, m in xs if m & keep)


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


def _v_remove(ctx, d, ts, rt, o, xs):
    return xs & ~ctx.same_slot(o, d)


def _v_closeby(ctx, d, ts, rt, a, b):
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


def _v_online(ctx, d, ts, rt, xs):
    table = ctx.online_table()
    size = ctx.block[d]
    subset = np.zeros(size, dtype=np.int64)
    for k, blk in enumerate(ctx.blocks(xs, d)):
        if blk:
            subset |= _int_to_bits(blk, size).astype(np.int64) << k
    scene = np.arange(size) % ctx.N
    out = table[scene, subset]
    return _bits_to_int(out) & ctx.valid[d]


def _v_same(attribute: str):
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


def _v_one_red_triangle(ctx, d, ts, rt, xs):
    color = ctx.attribute("color", d + 1)
    shape = ctx.attribute("shape", d + 1)
    red_index = CATEGORIES["color"].index("red")
    tri_index = CATEGORIES["shape"].index("triangle")
    # attribute(..., d + 1) is per slot at depth d+1; the element digit is the most significant
    red = sum(color[1][k][red_index] & (((1 << ctx.block[d]) - 1) << (k * ctx.block[d])) for k in range(ctx.K))
    tri = sum(shape[1][k][tri_index] & (((1 << ctx.block[d]) - 1) << (k * ctx.block[d])) for k in range(ctx.K))
    r, t = xs & red, xs & tri
    return _exactly_one(ctx, r, d) & _exactly_one(ctx, t, d) & _exactly_one(ctx, r & t, d)


def _v_pair(ctx, d, ts, rt, a, b):
    return ctx.same_slot(a, d) | ctx.same_slot(b, d)


def _v_pairs(ctx, d, ts, rt, *args):
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


def _v_accessor(name: str):
    def impl(ctx, d, ts, rt, o):
        return ctx.access(name, o, d)

    return impl


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
    "length": _v_length,
    "empty?": _v_empty_p,
    "exists": _v_exists,
    "forall": _v_forall,
    "map": _v_map,
    "count": _v_count,
    "cdr": _v_cdr,
    "if": _v_if,
    "remove": _v_remove,
    "closeby": _v_closeby,
    "online": _v_online,
    "same_color": _v_same("color"),
    "same_shape": _v_same("shape"),
    "same_size": _v_same("size"),
    "one_red_triangle": _v_one_red_triangle,
    "pair": _v_pair,
    "some_pair": _v_pairs,
    "two_pairs": _v_pairs,
    "three_pairs": _v_pairs,
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
    impl = VECTOR_IMPLS[name]
    return lambda *args: impl(ctx, d, ts, ret, *args)


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
    if name == "count":
        return kind(ts[0]) in ("list_obj", "list_bool", "list_cat", "list_int")
    return True


# ---------------------------------------------------------------------------------------------
# Evaluating one program


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


def evaluate_applied(inner: Term, arg_types: Sequence[Type], values: Sequence[Any], depth: int, ctx: VectorContext) -> Any:
    """The value of an invention's parameter-free body (:func:`strip_parameters`) applied to
    first-order argument *values* at ``depth``: the arguments are not re-evaluated."""
    env = [(t, v) for t, v in zip(arg_types, values)][::-1]
    return _eval(inner, env, depth, ctx)[1]


def labels(term: Term, ctx: VectorContext) -> np.ndarray:
    """Boolean labels of a ``list(obj) -> bool`` program on every scene of ``ctx``."""
    value = evaluate_vectorised(term, ctx)
    if not isinstance(value, int):
        raise Unsupported("the program does not return bool")
    return _int_to_bits(value, ctx.N)


def _lift_env(env: list[tuple[Type, Any]], d: int, ctx: VectorContext) -> list[tuple[Type, Any]]:
    return [(t, ctx.lift(v, kind(t), d)) for t, v in env]


def _eval(term: Term, env: list[tuple[Type, Any]], d: int, ctx: VectorContext) -> tuple[Type, Any]:
    if isinstance(term, Index):
        if term.i >= len(env):
            raise Unsupported(f"unbound ${term.i}")
        return env[term.i]
    head, args = term.spine()
    if isinstance(head, Index):
        raise Unsupported("applying a variable")
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
        body = a
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
