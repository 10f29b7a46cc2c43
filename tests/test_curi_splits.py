"""CURI's nine splits: the rules reproduce CURI's counts on its own list; the pool's splits follow them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tasks.curi import SPLITS, split_concepts, split_concepts_for
from tasks.curi.pool import load_pool
from tasks.curi.splits import PAIR_SPLITS, comp_codes, derive_pairs, split_codes, split_indices
from tests.reference_data import CURI_REFERENCE, require

REFERENCE = CURI_REFERENCE / "hyp_to_id.json"

# curi.md §6.2, recomputed from hyp_to_id.json and matching CURI's notebook
REFERENCE_COUNTS = {
    "iid": (14_929, 14_929),
    "color": (12_152, 2_620),
    "shape": (13_421, 1_484),
    "color_material": (14_646, 283),
    "color_location": (14_179, 750),
    "color_count": (14_882, 47),
    "color_boolean": (12_335, 2_594),
    "length_threshold_10": (408, 14_521),
}
COLORS = ["gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow"]


@pytest.mark.parametrize("split", sorted(REFERENCE_COUNTS))
def test_rules_reproduce_curis_counts_on_its_own_list(split: str) -> None:
    train, test = split_concepts_for(json.loads(require(REFERENCE).read_text()), split)
    assert (len(train), len(test)) == REFERENCE_COUNTS[split]
    if split != "iid":
        assert not set(train) & set(test)


def test_rules_on_hand_written_strings() -> None:
    strings = [
        "S color? cyan exists= S material? rubber exists= and lambda S.",  # token co-occurrence only
        "x color? red = x material? rubber = and lambda S. exists=",
        "x color? purple = x color? red = or lambda S. exists=",  # mixed colours: dropped by `color`
        "S color? red count= 3 = lambda S.",
        "x locationX? 3 = x color? red = and lambda S. exists=",
        "S color? red count= 1 = x locationX? 3 = and lambda S. exists=",  # the 3 is a location, still counts
    ]
    assert split_concepts_for(strings, "color_material") == (strings[1:], strings[:1])
    assert split_concepts_for(strings, "color") == ([strings[i] for i in (1, 3, 4, 5)], [strings[0]])
    assert split_concepts_for(strings, "color_count")[1] == [strings[3], strings[5]]
    assert split_concepts_for(strings, "color_location")[1] == [strings[5]]  # (1, red) with "location"
    assert split_concepts_for(strings, "color_boolean")[1] == [strings[0], strings[2]]  # (cyan, and), (red, or)
    assert split_concepts_for(strings, "length_threshold_10") == ([strings[3]], strings[:3] + strings[4:])
    assert split_concepts_for(strings, "iid") == (strings, strings)


def test_held_out_pairs_are_curis_seeded_permutation() -> None:
    assert derive_pairs(COLORS, ["rubber", "metal"]) == list(PAIR_SPLITS["color_material"][0])
    assert derive_pairs([str(d) for d in range(1, 9)], COLORS) == list(PAIR_SPLITS["color_location"][0])
    assert derive_pairs(["1", "2", "3"], COLORS) == list(PAIR_SPLITS["color_count"][0])
    assert derive_pairs(COLORS, ["and", "or"]) == list(PAIR_SPLITS["color_boolean"][0])


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown CURI split 'colour'; expected one of \['iid', 'comp'"):
        split_concepts("colour", "train")
    with pytest.raises(ValueError, match=r"unknown CURI subset 'dev'; expected one of \['train', 'val', 'test'\]"):
        split_concepts("iid", "dev")
    with pytest.raises(ValueError, match="unknown CURI split"):
        split_concepts_for(["x color? red = lambda S. exists="], "colour")
    with pytest.raises(ValueError, match="'comp' is not rule-based"):
        split_concepts_for(["x color? red = lambda S. exists="], "comp")


def test_comp_keeps_denotation_classes_together() -> None:
    denotation = np.array([0, 0, 2, 3, 3, 3, 6, 7, 8, 9] * 50) + np.repeat(np.arange(50) * 10, 10)
    codes = comp_codes(denotation)
    for cls in np.unique(denotation):
        assert len({codes[i] for i in np.flatnonzero(denotation == cls)}) == 1
    assert comp_codes(denotation) == codes  # seeded


def test_pool_splits_are_stored_and_match_a_regeneration() -> None:
    pool = load_pool()
    assert split_codes(pool) == pool.splits
    assert tuple(pool.splits) == SPLITS


@pytest.mark.parametrize("split", SPLITS)
def test_pool_split_subsets(split: str) -> None:
    pool = load_pool()
    train, val, test = (set(split_concepts(split, s)) for s in ("train", "val", "test"))
    if split == "iid":
        assert train == val == test == set(pool.concepts)
        return
    assert train and val and test
    assert not train & test and not train & val
    if split == "comp":
        assert not val & test
        n = len(pool)
        assert abs(len(train) / n - 0.8) < 0.03 and abs(len(val) / n - 0.05) < 0.02
        same = {}
        for i, d in enumerate(pool.denotation):
            same.setdefault(int(d), set()).add(pool.splits["comp"][i])
        assert all(len(v) == 1 for v in same.values())
    else:
        assert val == test
        rule_train, rule_test = split_concepts_for(pool.concepts, split)
        assert train == set(rule_train) and test == set(rule_test)
    assert (np.diff(split_indices(split, "train", pool)) > 0).all()
