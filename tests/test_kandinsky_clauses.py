"""The RelKP clause language: predicates, names, parsing, evaluation order, pairings, enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.kandinsky.clauses import (
    AllObjectsClause,
    Formula,
    Literal,
    PairClause,
    enumerate_group,
    formulas,
    parse_concept,
)
from tasks.kandinsky.sampling import SamplingError, sample_scenes, scene_codes
from tasks.kandinsky.universe import KandinskyObject, KandinskyScene


def scene(*specs: str, size: float = 0.2) -> KandinskyScene:
    """Objects from 'red triangle'-style strings, on a diagonal (positions do not matter here)."""
    objs = []
    for i, spec in enumerate(specs):
        color, shape = spec.split()
        objs.append(KandinskyObject(shape, color, size, 0.15 + 0.15 * i, 0.15 + 0.15 * i))
    return KandinskyScene(tuple(objs))


def holds(name: str, figure: KandinskyScene) -> bool:
    return bool(parse_concept(name).evaluate(scene_codes(figure))[0])


# --- one_is_red_triangle: the exclusive reading (README row "three objects where one is a red triangle")

@pytest.mark.parametrize(
    "objects, expected",
    [
        (("blue circle", "blue triangle", "red square"), False),  # README negative: red object, but no red triangle
        (("red triangle", "red triangle", "yellow square"), False),  # README negative: two red triangles
        (("red triangle", "blue circle", "yellow square"), True),
        (("red triangle", "blue triangle", "yellow square"), False),  # another triangle
        (("red triangle", "red circle", "yellow square"), False),  # another red object
        (("yellow circle", "blue square", "red triangle"), True),
    ],
)
def test_one_is_red_triangle_is_exclusive(objects, expected):
    assert holds("3_one_is_red_triangle", scene(*objects)) is expected
    assert holds("3_not_one_is_red_triangle", scene(*objects)) is (not expected)


def test_same_size_compares_size_classes_not_sizes():
    small_a = KandinskyObject("circle", "red", 0.21, 0.2, 0.2)
    small_b = KandinskyObject("circle", "red", 1 / 3, 0.7, 0.7)
    medium = KandinskyObject("circle", "red", 0.34, 0.7, 0.7)
    assert holds("2_same_size", KandinskyScene((small_a, small_b)))
    assert not holds("2_same_size", KandinskyScene((small_a, medium)))
    assert medium.size_class == "medium" and small_b.size_class == "small"


def test_formulas_read_left_to_right_without_precedence():
    figure = scene("red circle", "red square")  # same colour: yes; same shape: no; same size: yes
    a_or_b_and_c = Formula(
        (Literal("same_color"), Literal("same_shape"), Literal("same_size", negated=True)), ("or", "and")
    )
    # (T or F) and F = F, whereas "and binds tighter" would give T or (F and F) = T
    assert not a_or_b_and_c.evaluate(scene_codes(figure))[0]
    assert holds("2_same_color_or_same_shape", figure) and not holds("2_same_color_and_same_shape", figure)
    assert holds("2_not_same_shape_and_same_color", figure)


def test_pair_clauses_search_every_pairing():
    # pair1: same shape; pair2: not same colour. (red tri, red sq, blue tri, yellow sq) pairs as
    # (red tri, blue tri) + (red sq, yellow sq): both slots can hold
    figure = scene("red triangle", "red square", "blue triangle", "yellow square")
    assert holds("4_pair1_same_shape_pair2_not_same_color", figure)
    assert holds("4_pair1_same_shape_and_not_same_color_pair2_same_shape_and_not_same_color", figure)
    assert not holds("4_pair1_same_shape_and_same_color", figure)
    # one_is_red_triangle on a pair: the red triangle's partner must be neither red nor a triangle
    assert holds("4_pair1_one_is_red_triangle", scene("red triangle", "red square", "blue circle", "blue square"))
    assert not holds("4_pair1_one_is_red_triangle", scene("red triangle", "red square", "blue triangle", "red circle"))
    # slots take disjoint pairs: three reds, two yellows and a blue make two same-colour pairs, not three
    six = scene("red circle", "red square", "red triangle", "blue circle", "yellow circle", "yellow square")
    assert holds("6_pair1_same_color_pair2_same_color", six)
    assert not holds("6_pair1_same_color_pair2_same_color_pair3_same_color", six)


def test_pair_clauses_evaluate_in_batches():
    clause = parse_concept("6_pair1_same_shape_pair2_same_color_pair3_not_same_size")
    figures = [
        scene("red circle", "blue circle", "red square", "red triangle", "blue square", "yellow triangle"),
        scene("red circle", "blue square", "yellow triangle", "red square", "blue triangle", "yellow circle"),
    ]
    batch = [scene_codes(f) for f in figures]
    stacked = type(batch[0])(*(np.concatenate(arrays) for arrays in zip(*batch)))
    assert clause.evaluate(stacked).tolist() == [bool(clause.evaluate(c)[0]) for c in batch]


@pytest.mark.parametrize(
    "name, kind, n, group",
    [
        ("2_same_color", AllObjectsClause, 2, "2_no_pairs_1"),
        ("3_not_same_shape_and_same_color", AllObjectsClause, 3, "3_no_pairs_2"),
        ("5_same_shape_or_not_same_size", AllObjectsClause, 5, "5_no_pairs_2"),
        ("4_pair1_same_shape_pair2_not_same_color", PairClause, 4, "4_pair_2_1"),
        ("6_pair1_same_shape_and_not_same_color", PairClause, 6, "6_pair_1_2"),
        ("6_pair1_one_is_red_triangle_pair2_same_size_pair3_not_same_shape", PairClause, 6, "6_pair_3_1"),
    ],
)
def test_parse_round_trips(name, kind, n, group):
    clause = parse_concept(name)
    assert isinstance(clause, kind) and clause.n_objects == n and clause.group == group and clause.name == name


def test_parsed_structure():
    clause = parse_concept("3_not_same_shape_and_same_color")
    assert clause == AllObjectsClause(
        3, Formula((Literal("same_shape", negated=True), Literal("same_color")), ("and",))
    )
    pair = parse_concept("4_pair1_same_shape_pair2_not_same_color")
    assert pair.slots == (Formula((Literal("same_shape"),)), Formula((Literal("same_color", negated=True),)))


def test_concept_text_is_readable():
    assert parse_concept("3_not_same_shape_and_same_color").text == (
        "3 objects; over all objects: [not same shape] and [same colour]"
    )
    assert parse_concept("4_pair1_same_shape_pair2_not_same_color").text == (
        "4 objects that can be split into 2 pairs with pair 1: same shape; pair 2: not same colour"
    )
    assert "other 2 pairs unconstrained" in parse_concept("6_pair1_one_is_red_triangle").text


@pytest.mark.parametrize(
    "name, message",
    [
        ("same_color", "must start with the object count"),
        ("3", "must start with the object count"),
        ("7_same_color", "object count 7 is outside 2..6"),
        ("3_same_colour", "expected a predicate, found 'same_colour'"),
        ("3_same_color_and", "expected a predicate, found the end of the name"),
        ("3_same_color_same_shape", "expected 'and' or 'or' after 'same_color', found 'same'"),
        ("3_same_color_and_same_shape_or_same_size", "at most 2 literals"),
        ("3_pair1_same_color", "pair clauses need 4 or 6 objects, not 3"),
        ("4_pair2_same_color", "numbered pair1, pair2"),
        ("4_pair1_same_color_pair2_same_shape_pair3_same_size", "4 objects make 2 pairs, but 3 are constrained"),
        ("4_pair1_", "expected a predicate"),
    ],
)
def test_malformed_names_are_rejected_clearly(name, message):
    with pytest.raises(ValueError, match="malformed Kandinsky concept name") as err:
        parse_concept(name)
    assert message in str(err.value) and repr(name) in str(err.value)
    assert "3_not_same_shape_and_same_color" in str(err.value)  # shows an example of a good name


def test_non_string_names_are_a_type_error():
    with pytest.raises(TypeError, match="must be a str"):
        parse_concept(3)


def test_group_enumeration():
    assert len(formulas(1)) == 8 and len(formulas(2)) == 48
    sizes = {g: len(enumerate_group(g)) for g in ("3_no_pairs_1", "3_no_pairs_2", "4_pair_1_1", "4_pair_2_1",
                                                  "4_pair_2_2", "6_pair_3_1", "6_pair_3_2")}
    # pair slots are interchangeable, so pair groups list multisets of slot formulas
    assert sizes == {"3_no_pairs_1": 8, "3_no_pairs_2": 48, "4_pair_1_1": 8, "4_pair_2_1": 36,
                     "4_pair_2_2": 1176, "6_pair_3_1": 120, "6_pair_3_2": 19600}
    for clause in enumerate_group("4_pair_2_1") + enumerate_group("5_no_pairs_2"):
        assert parse_concept(clause.name) == clause
    with pytest.raises(ValueError, match="unknown clause group '3_pair_1_1'"):
        enumerate_group("3_pair_1_1")
    with pytest.raises(ValueError, match="unknown clause group 'pairs'"):
        enumerate_group("pairs")


def test_unsatisfiable_clause_exhausts_the_budget():
    # one red triangle and nothing else red, yet both objects the same colour: impossible
    with pytest.raises(SamplingError, match="no positive figure for concept '2_same_color_and_one_is_red_triangle'"):
        sample_scenes(np.random.default_rng(0), parse_concept("2_same_color_and_one_is_red_triangle"), True, 1)
