"""The RelKP clause grammar: names, parsing, evaluation and enumeration (kandinsky.md §4).

Two clause kinds, both named after the reference's task folders:

* all-object clauses, ``{n}_{formula}`` such as ``3_not_same_shape_and_same_color``: a formula of
  literals joined by ``and``/``or``, evaluated strictly left to right over all n objects;
* pair clauses, ``{n}_pair1_{formula}_pair2_{formula}…`` over n ∈ {4, 6} objects: true iff some
  split of the objects into n/2 pairs gives pair i a pair that satisfies slot i; slots beyond the
  named ones are unconstrained.

Evaluation is vectorised over a batch of figures (see :mod:`tasks.kandinsky.predicates`), which
is what makes rejection sampling and the concept-list build cheap.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import numpy as np

from tasks.kandinsky.predicates import PREDICATE_TEXT, PREDICATES, Codes

MIN_OBJECTS, MAX_OBJECTS = 2, 6
PAIR_OBJECT_COUNTS = (4, 6)
MAX_LITERALS = 2
CONNECTIVES = ("and", "or")
EXAMPLE_NAMES = ("3_not_same_shape_and_same_color", "4_pair1_same_shape_pair2_not_same_color")


@dataclass(frozen=True)
class Literal:
    predicate: str
    negated: bool = False

    @property
    def name(self) -> str:
        return f"not_{self.predicate}" if self.negated else self.predicate

    @property
    def text(self) -> str:
        phrase = PREDICATE_TEXT[self.predicate]
        if not self.negated:
            return phrase
        return f"not ({phrase})" if " and " in phrase else f"not {phrase}"

    def evaluate(self, codes: Codes) -> np.ndarray:
        value = PREDICATES[self.predicate](codes)
        return ~value if self.negated else value


@dataclass(frozen=True)
class Formula:
    """Literals joined by connectives (``len(connectives) == len(literals) - 1``), read left to right."""

    literals: tuple[Literal, ...]
    connectives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.literals or len(self.connectives) != len(self.literals) - 1:
            raise ValueError(f"a formula needs n ≥ 1 literals and n - 1 connectives, got {self}")

    @property
    def name(self) -> str:
        parts = [self.literals[0].name]
        for connective, literal in zip(self.connectives, self.literals[1:]):
            parts += [connective, literal.name]
        return "_".join(parts)

    @property
    def text(self) -> str:
        if len(self.literals) == 1:
            return self.literals[0].text
        text = f"[{self.literals[0].text}]"
        for i, (connective, literal) in enumerate(zip(self.connectives, self.literals[1:])):
            text = f"[{text}]" if i > 0 else text
            text = f"{text} {connective} [{literal.text}]"
        return text

    def evaluate(self, codes: Codes) -> np.ndarray:
        value = self.literals[0].evaluate(codes)
        for connective, literal in zip(self.connectives, self.literals[1:]):
            value = (value & literal.evaluate(codes)) if connective == "and" else (value | literal.evaluate(codes))
        return value


@dataclass(frozen=True)
class AllObjectsClause:
    n_objects: int
    formula: Formula

    @property
    def name(self) -> str:
        return f"{self.n_objects}_{self.formula.name}"

    @property
    def group(self) -> str:
        return f"{self.n_objects}_no_pairs_{len(self.formula.literals)}"

    @property
    def literals(self) -> tuple[Literal, ...]:
        return self.formula.literals

    @property
    def text(self) -> str:
        return f"{self.n_objects} objects; over all objects: {self.formula.text}"

    def evaluate(self, codes: Codes) -> np.ndarray:
        """Truth values for a batch ``codes`` of shape ``(batch, n_objects)``."""
        return self.formula.evaluate(codes)


@dataclass(frozen=True)
class PairClause:
    n_objects: int
    slots: tuple[Formula, ...]  # the constrained pairs 1..k; pairs k+1..n/2 are free

    @property
    def name(self) -> str:
        return f"{self.n_objects}_" + "_".join(f"pair{i + 1}_{slot.name}" for i, slot in enumerate(self.slots))

    @property
    def group(self) -> str:
        return f"{self.n_objects}_pair_{len(self.slots)}_{max(len(s.literals) for s in self.slots)}"

    @property
    def literals(self) -> tuple[Literal, ...]:
        return tuple(literal for slot in self.slots for literal in slot.literals)

    @property
    def text(self) -> str:
        pairs = "; ".join(f"pair {i + 1}: {slot.text}" for i, slot in enumerate(self.slots))
        free = self.n_objects // 2 - len(self.slots)
        tail = {0: "", 1: " (the other pair unconstrained)"}.get(free, f" (the other {free} pairs unconstrained)")
        return f"{self.n_objects} objects that can be split into {self.n_objects // 2} pairs with {pairs}{tail}"

    def evaluate(self, codes: Codes) -> np.ndarray:
        """Truth values for a batch ``codes`` of shape ``(batch, n_objects)``."""
        pairs, assignments = _pairings(self.n_objects, len(self.slots))
        per_pair = codes.take(pairs)  # (batch, n_pairs, 2)
        ok = np.ones((codes.shape.shape[0], len(assignments)), dtype=bool)
        for s, slot in enumerate(self.slots):
            ok &= slot.evaluate(per_pair)[:, assignments[:, s]]
        return ok.any(axis=1)


Clause = AllObjectsClause | PairClause


@functools.cache
def _pairings(n_objects: int, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(P, 2)`` of n objects, and every ordered choice ``(M, n_slots)`` of disjoint pairs."""
    pairs = list(itertools.combinations(range(n_objects), 2))
    assignments = [
        choice
        for choice in itertools.permutations(range(len(pairs)), n_slots)
        if len({obj for p in choice for obj in pairs[p]}) == 2 * n_slots
    ]
    return np.array(pairs, dtype=np.intp), np.array(assignments, dtype=np.intp)


# --- parsing -------------------------------------------------------------------------------

_PREDICATE_WORDS = sorted(((name, name.split("_")) for name in PREDICATES), key=lambda item: -len(item[1]))
_PAIR_WORD = re.compile(r"pair([1-9])")


def _malformed(name: str, why: str) -> ValueError:
    return ValueError(
        f"malformed Kandinsky concept name {name!r}: {why}; expected '{{n}}_{{formula}}' or "
        f"'{{n}}_pair1_{{formula}}_pair2_{{formula}}…' with literals [not_]{{{'|'.join(PREDICATES)}}} "
        f"joined by _and_/_or_, e.g. {list(EXAMPLE_NAMES)}"
    )


def _parse_formula(name: str, words: list[str]) -> Formula:
    literals: list[Literal] = []
    connectives: list[str] = []
    i = 0
    while True:
        negated = i < len(words) and words[i] == "not"
        i += negated
        for predicate, parts in _PREDICATE_WORDS:
            if words[i : i + len(parts)] == parts:
                literals.append(Literal(predicate, negated))
                i += len(parts)
                break
        else:
            found = repr("_".join(words[i:])) if i < len(words) else "the end of the name"
            raise _malformed(name, f"expected a predicate, found {found}")
        if i == len(words):
            break
        if words[i] not in CONNECTIVES:
            raise _malformed(name, f"expected 'and' or 'or' after {literals[-1].name!r}, found {words[i]!r}")
        connectives.append(words[i])
        i += 1
    if len(literals) > MAX_LITERALS:
        raise _malformed(name, f"a formula has at most {MAX_LITERALS} literals, found {len(literals)}")
    return Formula(tuple(literals), tuple(connectives))


def parse_concept(name: str) -> Clause:
    """Parse a RelKP concept name into its clause; ``ValueError`` says what is wrong with a bad one."""
    if not isinstance(name, str):
        raise TypeError(f"a concept name must be a str, got {type(name).__name__}")
    head, _, rest = name.partition("_")
    if not head.isdigit() or not rest:
        raise _malformed(name, "it must start with the object count and an underscore")
    n = int(head)
    if not MIN_OBJECTS <= n <= MAX_OBJECTS:
        raise _malformed(name, f"object count {n} is outside {MIN_OBJECTS}..{MAX_OBJECTS}")
    words = rest.split("_")
    if not _PAIR_WORD.fullmatch(words[0]):
        return AllObjectsClause(n, _parse_formula(name, words))
    if n not in PAIR_OBJECT_COUNTS:
        raise _malformed(name, f"pair clauses need {' or '.join(map(str, PAIR_OBJECT_COUNTS))} objects, not {n}")
    starts = [i for i, word in enumerate(words) if _PAIR_WORD.fullmatch(word)]
    numbers = [int(words[i][4:]) for i in starts]
    if numbers != list(range(1, len(numbers) + 1)):
        raise _malformed(name, f"pair slots must be numbered pair1, pair2, … in order, found {numbers}")
    if len(numbers) > n // 2:
        raise _malformed(name, f"{n} objects make {n // 2} pairs, but {len(numbers)} are constrained")
    bounds = starts + [len(words)]
    slots = tuple(_parse_formula(name, words[a + 1 : b]) for a, b in zip(bounds, bounds[1:]))
    return PairClause(n, slots)


# --- enumeration ---------------------------------------------------------------------------

def formulas(n_literals: int) -> tuple[Formula, ...]:
    """Every formula of 1 literal (8) or 2 literals over distinct predicates (48), in a fixed order."""
    names = tuple(PREDICATES)
    if n_literals == 1:
        return tuple(Formula((Literal(p, neg),)) for p in names for neg in (False, True))
    if n_literals == 2:
        return tuple(
            Formula((Literal(p, neg_p), Literal(q, neg_q)), (op,))
            for p, q in itertools.combinations(names, 2)
            for op in CONNECTIVES
            for neg_p in (False, True)
            for neg_q in (False, True)
        )
    raise ValueError(f"formulas have 1 or {MAX_LITERALS} literals, not {n_literals}")


_GROUP = re.compile(r"(?P<n>\d)_(?:no_pairs_(?P<lits>\d)|pair_(?P<slots>\d)_(?P<pair_lits>\d))")


def enumerate_group(group: str) -> tuple[Clause, ...]:
    """All clauses of a group such as ``3_no_pairs_2`` or ``6_pair_3_1``, in a fixed order.

    Pair slots are interchangeable (the pairing is existentially quantified over every order), so
    a pair group lists each multiset of slot formulas once. Groups list what Pix2Code's clause
    generator writes: ``6_pair_2_1`` has no clause whose two pairs are both negated.
    """
    match = _GROUP.fullmatch(group)
    if match is None:
        raise ValueError(f"unknown clause group {group!r}; expected e.g. '3_no_pairs_2' or '6_pair_3_1'")
    n = int(match["n"])
    if match["lits"] is not None:
        return tuple(AllObjectsClause(n, f) for f in formulas(int(match["lits"])))
    n_slots = int(match["slots"])
    if n not in PAIR_OBJECT_COUNTS or not 1 <= n_slots <= n // 2:
        raise ValueError(f"unknown clause group {group!r}: {n} objects cannot have {n_slots} constrained pairs")
    pool = formulas(int(match["pair_lits"]))
    clauses = (PairClause(n, slots) for slots in itertools.combinations_with_replacement(pool, n_slots))
    if group == "6_pair_2_1":
        # Pix2Code's generator writes this group with the negation patterns [[F], [F]] and
        # [[F], [T]] only: at least one of the two constrained pairs is not negated.
        clauses = (c for c in clauses if not all(slot.literals[0].negated for slot in c.slots))
    return tuple(clauses)
