"""How the vectorised evaluator (:mod:`agents.pix2code.dsl.vector`) lays out values: Python
integers used as bitsets over the ``K**d * N`` positions of a term under ``d`` object binders.

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
mean equal behaviour.
"""

from __future__ import annotations

import functools

import numpy as np

from agents.pix2code.dsl.primitives import CATEGORIES
from agents.pix2code.dsl.types import TCon, Type


class Unsupported(Exception):
    """The term (or this instantiation of a primitive) is outside the vectorised fragment."""


@functools.lru_cache(maxsize=None)
def kind(t: Type) -> str:
    """How values of ground type ``t`` are represented (see this module's docstring); memoised:
    lifting and conditionals ask for every value."""
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


def bits_to_int(bits: np.ndarray) -> int:
    """A boolean vector as an integer bitset (element i → bit i)."""
    if bits.size == 0:
        return 0
    return int.from_bytes(np.packbits(bits.astype(bool), bitorder="little").tobytes(), "little")


def int_to_bits(value: int, length: int) -> np.ndarray:
    """The first ``length`` bits of an integer bitset as a boolean vector (bit i → element i)."""
    nbytes = (length + 7) // 8
    raw = np.frombuffer(value.to_bytes(nbytes, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:length].astype(bool)
