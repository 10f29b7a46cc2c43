"""Plain-English descriptions of CURI concepts (tasks.curi.english)."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

import tasks.curi
from tasks.curi.concepts import parse
from tasks.curi.english import describe
from tasks.curi.pool import load_pool
from tests.reference_data import CURI_REFERENCE

# concept -> its exact description; together these use every construct of the language
EXPECTED = {
    # the bound object alone, under exists= / for-all=, in both argument orders
    "x shape? cube = lambda S. exists=": "there is a cube",
    "x material? metal = lambda S. for-all=": "every object is metal",
    "x color? red = x material? metal = and lambda S. exists=": "there is a red metal object",
    "yellow x color? = x material? rubber = and lambda S. for-all=": "every object is yellow and rubber",
    "green x color? = x color? green = and lambda S. for-all=": "every object is green",
    "x material? rubber = x locationX? x locationY? = or lambda S. exists=":
        "there is an object that is rubber or has a column equal to its row",
    "x locationY? x locationX? > cylinder x shape? = and lambda S. for-all=":
        "every object is a cylinder with a row greater than its column",
    # `>` with constants, both argument orders; sizes are 0.7 (large) and 0.35 (small)
    "x locationX? 3 > lambda S. for-all=": "every object is right of column 3",
    "8 x locationX? > lambda S. for-all=": "every object is left of column 8",
    "0.7 x size? > x color? red = and lambda S. exists=": "there is a small red object",
    "x size? 0.7 > red x color? = or lambda S. for-all=": "every object is larger than a large object or red",
    "4 x locationY? > not lambda S. for-all=": "no object is above row 4",
    "x locationY? 1 > not lambda S. exists=": "there is an object that is not below row 1",
    # collapsed concepts (no x) and x-free parts said outside the quantifier
    "S size? 0.7 exists= not lambda S.": "no object is large",
    "S locationY? 5 for-all= S locationX? 3 exists= and lambda S.":
        "every object is in row 5, and there is an object in column 3",
    "S size? 0.35 for-all= S color? green for-all= and lambda S.": "every object is small and green",
    "S shape? sphere for-all= S color? brown for-all= or lambda S.": "every object is a sphere, or every object is brown",
    "0.35 x size? = S locationY? 3 for-all= and lambda S. exists=": "every object is in row 3, and there is a small object",
    "S color? purple exists= non-x-S color? red for-all= and lambda S. exists=":
        "there is a purple object, and there is an object x such that every object other than x is red",
    # set quantifiers over S and non-x-S with x-attribute values
    "S color? x color? for-all= lambda S. exists=": "all objects have the same colour",
    "S locationX? x locationX? for-all= lambda S. for-all=": "all objects are in the same column",
    "non-x-S shape? x shape? exists= lambda S. for-all=": "every object shares its shape with another object",
    "non-x-S size? x size? for-all= lambda S. exists=": "some object shares its size with every other object",
    "x color? brown = non-x-S locationX? x locationY? for-all= and lambda S. exists=":
        "there is a brown object x such that every object other than x has a column equal to x's row",
    "x locationX? 6 > non-x-S size? 0.7 exists= and lambda S. exists=":
        "there is an object x right of column 6 such that some object other than x is large",
    "x shape? cube = S locationY? x locationX? exists= and lambda S. for-all=":
        "for every object x, x is a cube and some object has a row equal to x's column",
    "non-x-S locationY? 8 exists= non-x-S locationX? 7 exists= or lambda S. exists=":
        "there is an object x such that some object other than x is in row 8 or in column 7",
    # counts compared with 1, 2, 3 (both orders) and with counts
    "S color? gray count= 1 > lambda S.": "at least two objects are gray",
    "2 S locationY? 6 count= = lambda S.": "exactly two objects are in row 6",
    "1 S size? 0.7 count= > lambda S.": "no object is large",
    "3 non-x-S shape? cube count= > lambda S. exists=":
        "there is an object x such that at most two objects other than x are cubes",
    "1 S locationY? x locationX? count= = lambda S. for-all=":
        "for every object x, exactly one object has a row equal to x's column",
    "S locationX? x locationX? count= 2 > lambda S. for-all=": "for every object x, at least three objects are in x's column",
    "non-x-S color? x color? count= 1 > lambda S. exists=":
        "there is an object x such that at least two objects other than x have x's colour",
    "S locationX? 7 count= S shape? cylinder count= > lambda S.": "there are more objects in column 7 than cylinders",
    "S shape? x shape? count= S color? cyan count= = lambda S. for-all=":
        "for every object x, there are as many objects with x's shape as cyan objects",
    "non-x-S color? gray count= S size? 0.35 count= > lambda S. exists=":
        "there is an object x such that the number of gray objects other than x is greater than the number of small objects",
}


@pytest.mark.parametrize("concept", list(EXPECTED))
def test_hand_picked_descriptions(concept: str) -> None:
    assert describe(concept) == EXPECTED[concept]
    assert describe(parse(concept)) == EXPECTED[concept]


def test_equal_meanings_may_share_a_sentence_and_others_do_not() -> None:
    # x is small <=> 0.7 > x's size; "a and a" is a
    assert describe("0.7 x size? > lambda S. exists=") == describe("x size? 0.35 = lambda S. exists=")
    assert describe("x color? red = red x color? = and lambda S. exists=") == "there is a red object"
    # argument order of `>` matters
    assert describe("x locationY? 3 > lambda S. exists=") != describe("3 x locationY? > lambda S. exists=")
    # a connective inside the quantifier is not one outside it
    inside = describe("x color? red = x size? 0.7 = and lambda S. exists=")
    outside = describe("S color? red exists= S size? 0.7 exists= and lambda S.")
    assert (inside, outside) == ("there is a large red object", "there is a red object, and there is a large object")


def test_malformed_concepts_are_rejected() -> None:
    with pytest.raises(ValueError):
        describe("x color? red lambda S. exists=")


def test_pool_descriptions_never_cross_denotation_classes() -> None:
    pool = load_pool()
    assert pool.concepts == tasks.curi.concept_pool()
    sentences = [describe(text) for text in pool.concepts]
    assert sentences == [describe(text) for text in pool.concepts]  # deterministic
    classes: dict[str, set[int]] = defaultdict(set)
    for text, sentence, denotation in zip(pool.concepts, sentences, pool.denotation):
        assert sentence and sentence == sentence.strip() and "  " not in sentence, text
        assert sentence[0].islower() and not sentence.endswith("."), text
        classes[sentence].add(int(denotation))
    crossing = {s: sorted(d) for s, d in classes.items() if len(d) > 1}
    assert not crossing, list(crossing.items())[:5]


def test_curi_released_concepts_are_described() -> None:
    reference = CURI_REFERENCE / "hyp_to_id.json"
    assert reference.exists(), f"CURI reference data missing: {reference}"
    concepts = list(json.loads(reference.read_text()))
    assert len(concepts) == 14929
    assert all(describe(text) for text in concepts)
