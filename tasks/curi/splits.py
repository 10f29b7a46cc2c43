"""CURI's nine concept splits (curi.md §6.2, CURI's ``notebooks/structured_splits.ipynb``).

Every structured split is a rule on the *tokens* of a concept string, not on its structure:
``S color? cyan exists= S material? rubber exists= and`` is in the Intrinsic test set although
the cyan and the rubber may belong to different objects. The held-out pairs below are CURI's,
verbatim (CURI drew them by permuting the Cartesian product with numpy seed 42 and holding out
the last 30 %). In structured splits val and test are the same concepts. ``comp`` assigns whole
denotation classes (concepts with the same extension on the scene bank) to train / val / test
with probabilities 0.8 / 0.05 / 0.15; ``iid`` uses every concept everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from tasks.curi.concepts import token_length

if TYPE_CHECKING:
    from tasks.curi.pool import Pool

SPLITS = (
    "iid",
    "comp",
    "color",
    "shape",
    "color_material",
    "color_location",
    "color_count",
    "color_boolean",
    "length_threshold_10",
)
SUBSETS = ("train", "val", "test")
COMP_SEED = 42
COMP_RATIO = (0.8, 0.05, 0.15)

# (tokens of the training side, tokens of the test side): a concept with neither... is train,
# with only test-side tokens is test, with both is dropped.
TOKEN_SPLITS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "color": (("gray", "red", "blue", "green", "brown"), ("purple", "cyan", "yellow")),
    "shape": (("cube", "sphere"), ("cylinder",)),
}
# held-out token pairs, and the substring a test concept must also contain
PAIR_SPLITS: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "color_material": (
        (("green", "metal"), ("purple", "rubber"), ("cyan", "rubber"), ("red", "metal"), ("green", "rubber")),
        "",
    ),
    "color_location": (
        (
            ("7", "gray"), ("1", "red"), ("3", "purple"), ("1", "blue"), ("8", "cyan"),
            ("5", "yellow"), ("5", "green"), ("3", "yellow"), ("7", "purple"), ("2", "blue"),
            ("3", "cyan"), ("3", "blue"), ("8", "yellow"), ("3", "brown"), ("1", "yellow"),
            ("6", "blue"), ("2", "cyan"), ("4", "brown"), ("7", "green"), ("5", "cyan"),
        ),
        "location",
    ),
    "color_count": (
        (("3", "red"), ("3", "brown"), ("3", "yellow"), ("1", "yellow"), ("2", "blue"), ("2", "cyan"),
         ("3", "green"), ("1", "cyan")),
        "count=",
    ),
    "color_boolean": (
        (("green", "or"), ("purple", "and"), ("cyan", "and"), ("red", "or"), ("green", "and")),
        "",
    ),
}
LENGTH_THRESHOLD = 10  # length_threshold_10: train < 10 tokens, test >= 10


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown CURI split {split!r}; expected one of {list(SPLITS)}")
    return split


def check_subset(subset: str) -> str:
    if subset not in SUBSETS:
        raise ValueError(f"unknown CURI subset {subset!r}; expected one of {list(SUBSETS)}")
    return subset


def _rule(split: str, text: str) -> str:
    """'t' (train), 'e' (val and test) or '-' (dropped) for one string under a rule-based split."""
    tokens = set(text.split(" "))
    if split == "iid":
        return "a"
    if split in TOKEN_SPLITS:
        train_side, test_side = TOKEN_SPLITS[split]
        if tokens.isdisjoint(test_side):
            return "t"
        return "e" if tokens.isdisjoint(train_side) else "-"
    if split in PAIR_SPLITS:
        pairs, needed = PAIR_SPLITS[split]
        held_out = needed in text and any(a in tokens and b in tokens for a, b in pairs)
        return "e" if held_out else "t"
    if split == "length_threshold_10":
        return "t" if token_length(text) < LENGTH_THRESHOLD else "e"
    raise ValueError(f"split {split!r} is not rule-based: it needs the concepts' denotations")


def split_concepts_for(strings: Iterable[str], split: str) -> tuple[list[str], list[str]]:
    """Apply a rule-based split to any concept strings: (train, test) in input order.

    ``comp`` is not rule-based (it groups concepts by denotation) and raises ValueError.
    """
    check_split(split)
    if split == "comp":
        raise ValueError("split 'comp' is not rule-based: it assigns denotation classes of a pool at random")
    train, test = [], []
    for s in strings:
        code = _rule(split, s)
        if code in "ta":
            train.append(s)
        if code in "ea":
            test.append(s)
    return train, test


def comp_codes(denotation: np.ndarray, seed: int = COMP_SEED) -> str:
    """Assign each denotation class to train / val / test (0.8 / 0.05 / 0.15) with a seeded generator."""
    classes, first = np.unique(denotation, return_inverse=True)
    rng = np.random.default_rng(seed)
    choice = rng.choice(3, size=classes.size, p=COMP_RATIO)
    return "".join("tve"[k] for k in choice[first])


def split_codes(pool: Pool) -> dict[str, str]:
    """One code per pool concept and split: t(rain), v(al), e (test; val too in structured splits),
    a(ll three) or - (dropped)."""
    codes = {split: "".join(_rule(split, c) for c in pool.concepts) for split in SPLITS if split != "comp"}
    codes["comp"] = comp_codes(pool.denotation)
    return {split: codes[split] for split in SPLITS}


_MEMBER = {"train": "ta", "val": "vea", "test": "ea"}


def split_indices(split: str, subset: str, pool: Pool) -> np.ndarray:
    """Indices into the pool of a split's subset, ascending."""
    check_split(split)
    check_subset(subset)
    codes = pool.splits[split]
    allowed = _MEMBER[subset]
    if split == "comp" and subset == "val":
        allowed = "v"  # comp is the one split whose val and test differ
    return np.array([i for i, c in enumerate(codes) if c in allowed], dtype=np.int64)


def split_concepts(split: str, subset: str, pool: Pool) -> tuple[str, ...]:
    """The concept strings of a split's subset of ``pool``."""
    return tuple(pool.concepts[i] for i in split_indices(split, subset, pool))


def derive_pairs(first: Sequence[str], second: Sequence[str], seed: int = 42) -> list[tuple[str, str]]:
    """CURI's held-out pairs: legacy numpy seed 42, permute the product, hold out the last 30 %.

    Kept to document (and test) where the verbatim lists above come from.
    """
    product = np.array([(a, b) for a in first for b in second])
    permuted = np.random.RandomState(seed).permutation(product)
    return [tuple(p) for p in permuted[int(0.7 * len(permuted)) :].tolist()]
