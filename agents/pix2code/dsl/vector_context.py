"""The vectorised evaluator's context for one set of scenes: layouts of the bitsets
(:mod:`agents.pix2code.dsl.vector_values`) and the masks of attributes and relations, computed once."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.pix2code.dsl.primitives import CATEGORIES, CLOSEBY_DISTANCE, ONLINE_TOLERANCE
from agents.pix2code.dsl.scene_table import SceneTable
from agents.pix2code.dsl.vector_values import Unsupported, bits_to_int


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
        self.slot_scenes = [bits_to_int(table.mask[:, k]) for k in range(K)]
        self.valid = [self.full[0]]
        for d in range(max_depth + 2):
            prev = self.valid[d]
            self.valid.append(
                sum(((self.slot_scenes[k] * self.spread[d]) & prev) << (k * self.block[d]) for k in range(K))
            )
        self._onehot: dict[tuple[int, int], tuple[int, ...]] = {}
        self._scope: dict[tuple[int, int], list[Any]] = {}
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

    def scope(self, depth: int, d: int) -> list[Any]:
        """Values of the enumerator's environment at ``depth`` (``$0 … $(depth-1)``, then the
        scene's object list) seen from depth ``d >= depth``: lifted ``d - depth`` times, once."""
        key = (depth, d)
        if key not in self._scope:
            if d == depth:
                self._scope[key] = [self.onehot(depth, i) for i in range(depth)] + [self.scene_list(depth)]
            else:
                below = self.scope(depth, d - 1)
                kinds = ["obj"] * depth + ["list_obj"]
                self._scope[key] = [self.lift(v, k, d - 1) for v, k in zip(below, kinds)]
        return self._scope[key]

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
                    per_slot.append(tuple(bits_to_int((col == c) & ok) * spread for c in range(n_values)))
                self._attr[key] = ("cat", per_slot)
            elif name in t.integer or name in t.derived:
                per_slot_int = []
                for k in range(self.K):
                    col, ok = t.column(name)[:, k], t.mask[:, k]
                    values = sorted(set(col[ok].tolist()))
                    per_slot_int.append({v: bits_to_int((col == v) & ok) * spread for v in values})
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
                    row.append(bits_to_int(near & t.mask[:, k1] & t.mask[:, k2]) * self.spread[d])
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
