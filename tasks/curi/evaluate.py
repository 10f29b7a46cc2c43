"""Vectorised truth of CURI concepts on many scenes, one concept or a whole pool at a time.

Every atomic predicate of the grammar is a comparison of two small integers computed per
(scene, candidate x): a *term* is a constant, an attribute of x, a count ``SET F v count=``, or
the size of ``S`` / ``non-x-S``; the set quantifiers are counts too (``exists=`` is count > 0,
``for-all=`` is count == |set|, and an empty set makes both false as in CURI, because its size
term is -1). So a pool of concepts compiles into three shared tables -- terms, atoms
(op, left term, right term) and concepts (connective, atom, atom, quantifier) -- and evaluating
the pool is a few fancy-indexed comparisons instead of a loop over concepts.

Two packings keep it fast. :meth:`Compiled.evaluate` (episodes, oracles: up to thousands of
scenes) packs an atom's truth for the five x slots of a scene into one byte, so connectives
are byte-wise ops and a quantifier is one comparison with the scene's valid-slot byte.
:meth:`Compiled.count` (the pool build: tens of thousands of concepts on a million scenes)
packs 64 scenes per word per slot and counts with ``np.bitwise_count``.

Codes (see :class:`Objects`): colour / shape / material are indices into the scene module's
tuples, size is its value in hundredths (70 > 35, so ``>`` works), location is CURI's 0-based
bin while the grammar's location constants are 1..8. That off-by-one is CURI's own (curi.md
§2.3) and is kept on purpose: bin 0 is never named and ``8 x locationX? >`` is always true.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from tasks.curi import scenes
from tasks.curi.concepts import (
    COLOR_TOKENS,
    MATERIAL_TOKENS,
    SHAPE_TOKENS,
    And,
    Attr,
    Bool,
    Compare,
    Concept,
    Const,
    Not,
    Or,
    SetQuant,
    Value,
    parse,
)

K = scenes.MAX_OBJECTS
FEATURES = ("color", "shape", "material", "size", "locationX", "locationY")
_FUNCTION_FEATURE = {
    "color?": 0,
    "shape?": 1,
    "material?": 2,
    "size?": 3,
    "locationX?": 4,
    "locationY?": 5,
}
SIZE_CODES = tuple(int(round(100 * v)) for v in scenes.SIZE_VALUES)  # code of scenes.SIZES[i]

# Constant tokens -> codes. The concept language and the scene module list values in the same
# order (CURI's properties file); this check keeps them from drifting apart silently.
if (COLOR_TOKENS, SHAPE_TOKENS, MATERIAL_TOKENS) != (scenes.COLORS, scenes.SHAPES, scenes.MATERIALS):
    raise ImportError("tasks.curi.concepts and tasks.curi.scenes disagree on the attribute values")
_CONST_CODE: dict[tuple[str, str], int] = {
    **{("color", t): i for i, t in enumerate(COLOR_TOKENS)},
    **{("shape", t): i for i, t in enumerate(SHAPE_TOKENS)},
    **{("material", t): i for i, t in enumerate(MATERIAL_TOKENS)},
    **{("size", f"{v:g}"): c for v, c in zip(scenes.SIZE_VALUES, SIZE_CODES)},
    **{("location", str(d)): d for d in range(1, 9)},
    **{("number", str(d)): d for d in range(1, 4)},
}


@dataclass(frozen=True)
class Objects:
    """What concepts can see of N scenes: int8 codes per feature and object slot, -1 in padding.

    ``planes`` is (6, 5, N) -- features in the order of :data:`FEATURES`, then object slot,
    then scene, so that every per-slot row is contiguous over scenes; ``n_objects`` is (N,).
    """

    planes: np.ndarray
    n_objects: np.ndarray

    def __len__(self) -> int:
        return int(self.n_objects.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """(5, N) bool: which slots hold an object."""
        return np.arange(K)[:, None] < self.n_objects[None, :]

    @property
    def valid_bits(self) -> np.ndarray:
        """(N,) uint8 with bit s set when slot s holds an object."""
        return ((1 << self.n_objects.astype(np.int64)) - 1).astype(np.uint8)

    @staticmethod
    def from_batch(batch: scenes.SceneBatch) -> Objects:
        mask = batch.mask
        size = np.where(mask, np.asarray(SIZE_CODES, dtype=np.int8)[np.clip(batch.size, 0, None)], -1)
        planes = np.stack([batch.color, batch.shape, batch.material, size, batch.xbin, batch.ybin])
        return Objects(np.ascontiguousarray(planes.astype(np.int8).transpose(0, 2, 1)), batch.n_objects.astype(np.int8))

    @staticmethod
    def from_scenes(scene_list: Sequence[scenes.CuriScene]) -> Objects:
        return Objects.from_batch(scenes.SceneBatch.from_scenes(scene_list))

    def take(self, index: np.ndarray) -> Objects:
        return Objects(self.planes[:, :, index], self.n_objects[index])

    def slice(self, start: int, stop: int) -> Objects:
        return Objects(self.planes[:, :, start:stop], self.n_objects[start:stop])

    @staticmethod
    def concatenate(parts: Sequence[Objects]) -> Objects:
        return Objects(
            np.concatenate([p.planes for p in parts], axis=2),
            np.concatenate([p.n_objects for p in parts]),
        )


# ----------------------------------------------------------------------------- compilation

# Term keys: ("const", code) | ("attr", feature) | ("size", set) | ("count", set, feature, value)
# where a count's value is itself ("const", code) or ("attr", feature). Sets: 0 = S, 1 = non-x-S.
TermKey = tuple
EQ, GT = 0, 1
ATOM, NOT, AND, OR = 0, 1, 2, 3
EXISTS, FORALL, NONE = 0, 1, 2
_QUANT = {"exists=": EXISTS, "for-all=": FORALL, None: NONE}
_SET = {"S": 0, "non-x-S": 1}


def _value_key(value: Value) -> TermKey:
    if isinstance(value, Const):
        return ("const", _CONST_CODE[(value.kind, value.token)])
    if isinstance(value, Attr):
        return ("attr", _FUNCTION_FEATURE[value.function])
    return ("count", _SET[value.set], _FUNCTION_FEATURE[value.function], _value_key(value.value))


def atom_key(atom: Compare | SetQuant) -> tuple[int, TermKey, TermKey]:
    """An atomic predicate as (op, left term, right term)."""
    if isinstance(atom, Compare):
        return (EQ if atom.op == "=" else GT, _value_key(atom.left), _value_key(atom.right))
    count = ("count", _SET[atom.set], _FUNCTION_FEATURE[atom.function], _value_key(atom.value))
    if atom.quantifier == "exists=":
        return (GT, count, ("const", 0))
    return (EQ, count, ("size", _SET[atom.set]))


def _compute_term(key: TermKey, obj: Objects) -> np.ndarray:
    """A term's values as (5, N) int8, or (1, N) when it does not depend on x."""
    kind = key[0]
    n = len(obj)
    if kind == "const":
        return np.full((1, n), key[1], dtype=np.int8)
    if kind == "attr":
        return obj.planes[key[1]]
    if kind == "size":
        size = obj.n_objects.astype(np.int8) - np.int8(key[1])
        return np.where(size > 0, size, np.int8(-1))[None, :]
    _, which, feature, value = key
    plane = obj.planes[feature]
    if value[0] == "const":
        equal = plane == np.int8(value[1])
        total = equal.sum(axis=0, dtype=np.int8)[None, :]
    else:
        other = obj.planes[value[1]]
        # (x, o, N): object o's feature equals x's; padding o holds -1, never a real x value
        total = np.zeros((K, n), dtype=np.int8)
        for o in range(K):
            total += plane[o][None, :] == other
        equal = plane == other
    if which == 0:
        return total
    return total - equal.astype(np.int8)


class Compiled:
    """A sequence of concepts (each at most two atoms joined by not / and / or) as shared tables.

    ``evaluate(objects)`` gives the (N, C) truth of every concept on every scene; ``subset``
    restricts it to some concepts, computing only the atoms and terms they use.
    """

    def __init__(self, concepts: Sequence[Concept | str]) -> None:
        parsed = tuple(parse(c) if isinstance(c, str) else c for c in concepts)
        terms: dict[TermKey, int] = {}
        atoms: dict[tuple[int, int, int], int] = {}

        def term(key: TermKey) -> int:
            if key not in terms:
                terms[key] = len(terms)
            return terms[key]

        def atom(node: Bool) -> int:
            if not isinstance(node, (Compare, SetQuant)):
                raise ValueError(f"expected an atomic predicate, got {type(node).__name__} (concepts have <= 2 atoms)")
            op, left, right = atom_key(node)
            k = (op, term(left), term(right))
            if k not in atoms:
                atoms[k] = len(atoms)
            return atoms[k]

        c = len(parsed)
        self.kind = np.zeros(c, dtype=np.int8)
        self.a1 = np.zeros(c, dtype=np.int32)
        self.a2 = np.zeros(c, dtype=np.int32)
        self.quant = np.zeros(c, dtype=np.int8)
        for i, concept in enumerate(parsed):
            body = concept.body
            if isinstance(body, Not):
                self.kind[i], self.a1[i] = NOT, atom(body.arg)
                self.a2[i] = self.a1[i]
            elif isinstance(body, (And, Or)):
                self.kind[i] = AND if isinstance(body, And) else OR
                self.a1[i], self.a2[i] = atom(body.left), atom(body.right)
            else:
                self.kind[i] = ATOM
                self.a1[i] = self.a2[i] = atom(body)
            self.quant[i] = _QUANT[concept.quantifier]
        self.term_keys = list(terms)
        self.atom_table = np.array(list(atoms), dtype=np.int32).reshape(-1, 3)

    def __len__(self) -> int:
        return int(self.kind.size)

    def to_tables(self) -> dict[str, object]:
        """The compiled form as JSON values, so a process can skip parsing thousands of concepts."""
        return {
            "kind": self.kind.tolist(), "a1": self.a1.tolist(), "a2": self.a2.tolist(), "quant": self.quant.tolist(),
            "terms": self.term_keys, "atoms": self.atom_table.tolist(),
        }  # fmt: skip

    @classmethod
    def from_tables(cls, tables: dict[str, object]) -> Compiled:
        def key(value: object) -> object:
            return tuple(key(v) for v in value) if isinstance(value, list) else value

        self = cls.__new__(cls)
        self.kind = np.array(tables["kind"], dtype=np.int8)
        self.a1 = np.array(tables["a1"], dtype=np.int32)
        self.a2 = np.array(tables["a2"], dtype=np.int32)
        self.quant = np.array(tables["quant"], dtype=np.int8)
        self.term_keys = [key(k) for k in tables["terms"]]
        self.atom_table = np.array(tables["atoms"], dtype=np.int32).reshape(-1, 3)
        return self

    # -- tables on a batch of scenes

    def term_values(self, obj: Objects, term_index: np.ndarray) -> np.ndarray:
        """(len(term_index), 5, N) int8 values of the given terms."""
        out = np.empty((len(term_index), K, len(obj)), dtype=np.int8)
        for j, t in enumerate(term_index):
            out[j] = _compute_term(self.term_keys[t], obj)
        return out

    def atom_bits(self, obj: Objects, atom_index: np.ndarray) -> np.ndarray:
        """(len(atom_index), N) uint8: bit s is the atom's truth with x = object s."""
        table = self.atom_table[atom_index]
        used, inverse = np.unique(table[:, 1:], return_inverse=True)
        inverse = inverse.reshape(-1, 2)
        values = self.term_values(obj, used)
        bits = np.zeros((len(table), len(obj)), dtype=np.uint8)
        eq = table[:, 0] == EQ
        for op, rows in ((np.equal, np.flatnonzero(eq)), (np.greater, np.flatnonzero(~eq))):
            if rows.size:
                left, right = inverse[rows, 0], inverse[rows, 1]
                part = np.zeros((rows.size, len(obj)), dtype=np.uint8)
                for slot in range(K):
                    part |= op(values[left, slot], values[right, slot]).view(np.uint8) << np.uint8(slot)
                bits[rows] = part
        return bits

    def evaluate(self, obj: Objects, subset: np.ndarray | None = None) -> np.ndarray:
        """(N, C) bool: whether each scene satisfies each concept (of ``subset``, if given).

        Atoms are evaluated once per batch and packed into one byte per scene (a bit per x
        slot), so connectives are byte-wise ops and the quantifiers one comparison each.
        """
        plan = self._full_plan if subset is None else self._plan(np.asarray(subset, dtype=np.int64))
        used, i1, i2, groups = plan
        out = np.zeros((len(obj), i1.size), dtype=bool)
        if len(obj) == 0 or i1.size == 0:
            return out
        bits = self.atom_bits(obj, used)
        valid = obj.valid_bits
        for cols, kind, quant in groups:
            body = bits[i1[cols]]
            if kind == AND:
                body &= bits[i2[cols]]
            elif kind == OR:
                body |= bits[i2[cols]]
            elif kind == NOT:
                np.invert(body, out=body)
            if quant == FORALL:
                out[:, cols] = ((body | ~valid) == 0xFF).T
            else:  # exists, and collapsed bodies, which do not depend on x
                out[:, cols] = ((body & valid) != 0).T
        return out


    def _plan(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[np.ndarray, int, int]]]:
        """Atoms used by the concepts ``idx``, each concept's atom positions, and its (kind, quant) groups."""
        used, inverse = np.unique(np.concatenate([self.a1[idx], self.a2[idx]]), return_inverse=True)
        group = self.kind[idx].astype(np.int64) * 3 + self.quant[idx]
        groups = [(np.flatnonzero(group == g), *divmod(g, 3)) for g in np.unique(group).tolist()]
        return used, inverse[: idx.size], inverse[idx.size :], groups

    @functools.cached_property
    def _full_plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[np.ndarray, int, int]]]:
        return self._plan(np.arange(len(self)))

    # -- counting over millions of scenes, bit-packed

    def count(
        self,
        obj: Objects,
        chunk: int = 8192,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per concept: how many scenes satisfy it, and a 64-bit fingerprint of which ones.

        Scenes are processed ``chunk`` at a time; each atom's truth is packed into 64-scene
        words per x slot, concepts combine words with bitwise ops and are counted with
        ``np.bitwise_count``. The fingerprint is a random linear hash of the packed extension
        (equal extensions give equal fingerprints; distinct ones collide with probability
        ~2^-60), which is all the denotation classes of the ``comp`` split need.
        """
        multipliers = np.random.default_rng(_FINGERPRINT_SEED).integers(
            0, 2**63, size=-(-len(obj) // 64), dtype=np.uint64
        ) * np.uint64(2) + np.uint64(1)
        counts = np.zeros(len(self), dtype=np.int64)
        prints = np.zeros(len(self), dtype=np.uint64)
        for idx, sat, start in self._scan(obj, chunk, progress):
            mult = multipliers[start // 64 : start // 64 + sat.shape[1]]
            counts[idx] += np.bitwise_count(sat).sum(axis=1, dtype=np.int64)
            prints[idx] += (sat * mult).sum(axis=1, dtype=np.uint64)
        return counts, prints

    def extensions(self, obj: Objects, chunk: int = 8192) -> list[np.ndarray]:
        """Per concept, the sorted indices of the scenes satisfying it (meant for small extensions)."""
        found: list[list[np.ndarray]] = [[] for _ in range(len(self))]
        for idx, sat, start in self._scan(obj, chunk, None):
            rows, words = np.nonzero(sat)
            if rows.size == 0:
                continue
            bits = np.unpackbits(sat[rows, words].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
            hit_row, hit_bit = np.nonzero(bits)
            scene = start + words[hit_row] * 64 + hit_bit
            owner = idx[rows[hit_row]]
            order = np.lexsort((scene, owner))
            for c, ids in zip(*_split_by(owner[order], scene[order])):
                found[c].append(ids)
        return [np.concatenate(f) if f else np.zeros(0, dtype=np.int64) for f in found]

    def _scan(
        self, obj: Objects, chunk: int, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """Yield (concept indices, (B, W) uint64 packed truth, first scene) over chunks and concept blocks."""
        chunk = max(64, chunk - chunk % 64)
        order = np.lexsort((self.a1, self.quant, self.kind))  # homogeneous (kind, quant) runs
        groups = _runs(self.kind[order].astype(np.int64) * 3 + self.quant[order])
        for start in range(0, len(obj), chunk):
            part = obj.slice(start, min(start + chunk, len(obj)))
            planes, valid, slots = self._packed_atoms(part)
            for lo, hi in groups:
                idx_all = order[lo:hi]
                kind, quant = int(self.kind[idx_all[0]]), int(self.quant[idx_all[0]])
                for b in range(0, idx_all.size, _CONCEPT_BLOCK):
                    idx = idx_all[b : b + _CONCEPT_BLOCK]
                    body = planes[self.a1[idx]]
                    if kind == AND:
                        body &= planes[self.a2[idx]]
                    elif kind == OR:
                        body |= planes[self.a2[idx]]
                    elif kind == NOT:
                        np.invert(body, out=body)
                    if quant == FORALL:
                        sat = body[:, 0] | ~slots[0]
                        for s in range(1, K):
                            sat &= body[:, s] | ~slots[s]
                    else:  # exists; a collapsed body is the same on every slot
                        sat = body[:, 0] & slots[0]
                        for s in range(1, K):
                            sat |= body[:, s] & slots[s]
                    sat &= valid
                    yield idx, sat, start
            if progress is not None:
                progress(len(part))

    def _packed_atoms(self, obj: Objects) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Atom truth packed along scenes: (A, 5, W) uint64, scene-valid words (W,), slot masks (5, W)."""
        n = len(obj)
        width = -(-n // 64)
        values = self.term_values(obj, np.arange(len(self.term_keys)))
        planes = np.empty((len(self.atom_table), K, width), dtype=np.uint64)
        by_op = np.argsort(self.atom_table[:, 0], kind="stable")
        for lo, hi in _runs(self.atom_table[by_op, 0]):
            for b in range(lo, hi, _ATOM_BLOCK):
                idx = by_op[b : min(b + _ATOM_BLOCK, hi)]
                left, right = values[self.atom_table[idx, 1]], values[self.atom_table[idx, 2]]
                truth = left == right if self.atom_table[idx[0], 0] == EQ else left > right
                planes[idx] = _pack(truth, width)
        valid = _pack(np.ones((1, n), dtype=bool), width)[0]
        slots = _pack(obj.mask, width)
        return planes, valid, slots


_FINGERPRINT_SEED = 0x5EED_C0DE
_CONCEPT_BLOCK = 2048
_ATOM_BLOCK = 256


def _pack(bits: np.ndarray, width: int) -> np.ndarray:
    """Pack bools (..., n) along the last axis into (..., width) little-endian uint64 words."""
    packed = np.packbits(bits, axis=-1, bitorder="little")
    pad = width * 8 - packed.shape[-1]
    if pad:
        packed = np.concatenate([packed, np.zeros(packed.shape[:-1] + (pad,), dtype=np.uint8)], axis=-1)
    return np.ascontiguousarray(packed).view(np.uint64)


def _split_by(keys: np.ndarray, values: np.ndarray) -> tuple[list[int], list[np.ndarray]]:
    """Group ``values`` by runs of equal ``keys`` (both already sorted by key)."""
    bounds = _runs(keys)
    return [int(keys[lo]) for lo, _ in bounds], [values[lo:hi] for lo, hi in bounds]


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of equal values in a sorted key array."""
    if keys.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(keys)) + 1
    bounds = np.concatenate([[0], cuts, [keys.size]])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def evaluate_concept(concept: Concept | str, obj: Objects) -> np.ndarray:
    """(N,) bool truth of one concept of any shape (no limit on depth or atoms)."""
    c = parse(concept) if isinstance(concept, str) else concept
    cache: dict[TermKey, np.ndarray] = {}

    def term(key: TermKey) -> np.ndarray:
        if key not in cache:
            cache[key] = _compute_term(key, obj)
        return cache[key]

    def truth(node: Bool) -> np.ndarray:  # (5, N) or (1, N)
        if isinstance(node, Not):
            return ~truth(node.arg)
        if isinstance(node, And):
            return truth(node.left) & truth(node.right)
        if isinstance(node, Or):
            return truth(node.left) | truth(node.right)
        op, left, right = atom_key(node)
        a, b = term(left), term(right)
        return a == b if op == EQ else a > b

    body = truth(c.body)
    mask = obj.mask
    if c.quantifier == "for-all=":
        return (body | ~mask).all(axis=0)
    return (body & mask).any(axis=0)  # exists, or a collapsed (x-free) body
