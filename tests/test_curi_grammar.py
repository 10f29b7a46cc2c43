"""CURI's concept language: parsing, printing, prior, sampling dynamics and the evaluator's semantics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tasks.curi import grammar
from tasks.curi.concepts import (
    And,
    Attr,
    Compare,
    Concept,
    Const,
    Count,
    Not,
    Or,
    SetQuant,
    collapse,
    parse,
    to_text,
)
from tasks.curi.evaluate import Compiled, Objects, evaluate_concept
from tasks.curi.sampler import sample_scenes
from tasks.curi.scenes import CuriObject, CuriScene
from tests.reference_data import CURI_REFERENCE, require

REFERENCE = CURI_REFERENCE / "hyp_to_id.json"


def reference_strings() -> list[str]:
    return list(json.loads(require(REFERENCE).read_text()))


# ----------------------------------------------------------------------------- parser and printer


def test_parse_builds_the_typed_tree() -> None:
    assert parse("x locationX? 3 > lambda S. for-all=") == Concept(
        Compare(">", Attr("locationX?"), Const("location", "3")), "for-all="
    )
    assert parse("S color? purple exists= non-x-S color? red for-all= and lambda S. exists=") == Concept(
        And(
            SetQuant("exists=", "S", "color?", Const("color", "purple")),
            SetQuant("for-all=", "non-x-S", "color?", Const("color", "red")),
        ),
        "exists=",
    )
    assert parse("1 S locationY? x locationX? count= = lambda S. for-all=") == Concept(
        Compare("=", Const("number", "1"), Count("S", "locationY?", Attr("locationX?"))), "for-all="
    )
    assert parse("S size? 0.35 for-all= lambda S.") == Concept(
        SetQuant("for-all=", "S", "size?", Const("size", "0.35")), None
    )
    assert parse("x shape? cube = not lambda S. exists=").body == Not(Compare("=", Attr("shape?"), Const("shape", "cube")))


def test_printer_round_trips_hand_written_strings() -> None:
    for text in (
        "non-x-S color? gray count= S size? 0.35 count= > lambda S. exists=",
        "x color? red = x color? red = or lambda S. for-all=",
        "S locationY? 5 for-all= S locationX? 3 exists= and lambda S.",
        "0.7 x size? > lambda S. exists=",
    ):
        assert to_text(parse(text)) == text
    assert isinstance(parse("x color? red = x color? red = or lambda S. for-all=").body, Or)


def test_printer_round_trips_every_reference_string() -> None:
    for text in reference_strings():
        assert to_text(parse(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("color? x red = lambda S. exists=", "token 0 ('color?'): expected 'x', 'S' or 'non-x-S'"),
        ("x color? red > lambda S. exists=", "token 3 ('>'): expected '>' on sizes, locations or counts"),
        ("x color? 0.7 = lambda S. exists=", "token 3 ('='): expected arguments of one kind"),
        ("x color? red = lambda S.", "token 6 ('<end>'): expected 'exists=' or 'for-all='"),
        ("x color? red = lambda S. exists= x", "token 7 ('x'): expected the end of the concept"),
        ("x color? red = lambda T. exists=", "token 5 ('T.'): expected 'S.' after 'lambda'"),
        ("x color? red = x shape? cube = lambda S. exists=", "token 8 ('lambda'): expected exactly one boolean body"),
        ("x color? red = and lambda S. exists=", "token 4 ('and'): expected two booleans before 'and'"),
        ("S color? purple wiggle= lambda S.", "token 3 ('wiggle='): expected a CURI token"),
        ("1 2 = lambda S.", "token 2 ('='): expected at least one non-constant argument"),
        ("x color? red =", "token 4 ('<end>'): expected the binder 'lambda S.'"),
        ("9 x locationX? = lambda S. exists=", "token 0 ('9'): expected a CURI token"),
        ("S color? 4 count= 2 = lambda S.", "token 3 ('count='): expected a color argument, not the digit '4'"),
    ],
)
def test_malformed_strings_name_the_bad_token(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"malformed CURI concept") as info:
        parse(text)
    assert message in str(info.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="a CURI concept is a string"):
        parse(42)  # type: ignore[arg-type]


def test_collapse_drops_the_vacuous_quantifier_only() -> None:
    assert to_text(collapse(parse("S color? red exists= lambda S. for-all="))) == "S color? red exists= lambda S."
    kept = "non-x-S color? red exists= lambda S. for-all="
    assert to_text(collapse(parse(kept))) == kept


# ----------------------------------------------------------------------------- prior


def test_production_weights_follow_the_dirichlet_mode_and_groups() -> None:
    prob = {(p.children, p.op): p.prob for p in grammar.RULES["BOOL"]}
    assert prob[(("BOOL", "BOOL"), ("and",))] == pytest.approx(3 / 28)
    assert prob[(("BOOL", "BOOL"), ("or",))] == pytest.approx(0.5 / 28)
    assert prob[(("BOOL",), ("not",))] == pytest.approx(1 / 28)
    assert prob[(("C", "C"), ("=",))] == pytest.approx(3 / 28)
    assert prob[(("NUM", "NUM"), ("=",))] == pytest.approx(0.5 / 28)
    assert prob[(("SETFL", "L"), ("exists=",))] == pytest.approx(1 / 28)
    assert sum(prob.values()) == pytest.approx(1.0)
    c = {p.op: p.prob for p in grammar.RULES["C"]}
    assert c[("red",)] == pytest.approx(1 / 16) and c[()] == pytest.approx(1 / 2)
    assert {p.op: p.prob for p in grammar.RULES["NUM"]}[("2",)] == pytest.approx(1 / 6)
    assert {p.op: p.prob for p in grammar.RULES["L"]}[("8",)] == pytest.approx(1 / 16)
    assert [p.prob for p in grammar.RULES["SET"]] == pytest.approx([0.5, 0.5])


def test_log_prior_sums_the_derivation() -> None:
    # START 1/2, BOOL "L L >" 1/28, L -> x FL 1/2 * locationX? 1/2, L -> 3 1/16
    expected = math.log(0.5 / 28 * 0.25 / 16)
    assert grammar.log_prior("x locationX? 3 > lambda S. for-all=") == pytest.approx(expected)
    # and 3/28; set quantifier 1/28 * S 1/2 * purple 1/16; 1/28 * non-x-S 1/2 * red 1/16
    expected = math.log(0.5 * 3 / 28 * (1 / 28 / 32) ** 2)
    text = "S color? purple exists= non-x-S color? red for-all= and lambda S. exists="
    assert grammar.log_prior(text) == pytest.approx(expected)


def test_enumeration_priors_match_the_parsed_prior() -> None:
    cands = grammar.candidates()
    for c in cands[:: len(cands) // 300]:
        assert grammar.log_prior(c.text) == pytest.approx(c.log_prior, abs=1e-9)


# ----------------------------------------------------------------------------- sampling rules and dynamics


def test_depth_rule_bounds_concepts_to_two_atoms() -> None:
    cands = grammar.candidates()
    assert len(cands) == 302_326
    texts = {c.text for c in cands}
    assert "S color? red count= 2 = lambda S." in texts
    assert "x color? red = x shape? cube = and lambda S. exists=" in texts
    assert "x color? red = not lambda S. exists=" in texts
    assert "x color? red = not not lambda S. exists=" not in texts  # not only wraps an atom
    assert "S color? red count= 2 = x shape? cube = and lambda S. exists=" not in texts  # no count in and
    assert "red blue = lambda S." not in texts  # constant-only
    assert "x color? red = x color? red = and lambda S. exists=" in texts  # a and a is allowed


def test_driver_rejections() -> None:
    # the expander prints these; CURI's driver threw them away (none of 14,929 released strings)
    assert grammar.rejection("x color? red = lambda S. exists=") is None
    assert "agree once variables are dropped" in grammar.rejection("x color? x color? = lambda S. exists=")
    assert "agree once variables are dropped" in grammar.rejection("S shape? x shape? for-all= lambda S. exists=")
    assert "agree once" in grammar.rejection("non-x-S color? x color? exists= x size? 0.7 = and lambda S. exists=")
    assert grammar.rejection("non-x-S color? red exists= lambda S. for-all=") == "non-x-S under a top-level for-all="
    assert grammar.rejection("non-x-S color? red exists= lambda S. exists=") is None
    assert grammar.rejection("S locationX? x locationY? for-all= lambda S. exists=") is None
    assert grammar.rejection("S color? x color? count= 2 = lambda S. exists=") is None  # counts are not banned
    assert grammar.rejection("x color? red = x color? red = and lambda S. exists=") is None


def test_violations_explain_why_a_concept_is_not_in_curi() -> None:
    assert grammar.violations("x color? red = lambda S. exists=") == []
    assert "constant-only" in grammar.violations("red blue = lambda S.")[0]
    assert "rejected: the arguments of 'x size? x size? >'" in grammar.violations("x size? x size? > lambda S. exists=")[0]
    deep = "x color? red = x shape? cube = and x size? 0.7 = and lambda S. exists="
    assert "derivation depth 5" in grammar.violations(deep)[0]
    assert "collapsed" in grammar.violations("S color? red exists= lambda S. exists=")[0]


def test_every_reference_string_obeys_the_sampling_rules() -> None:
    texts = {c.text for c in grammar.candidates()}
    for text in reference_strings():
        assert grammar.violations(text) == []
        assert text in texts


def test_expander_probabilities_match_a_simulation() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    draws = [grammar.expand(rng, "BOOL", 2) for _ in range(n)]
    fail = grammar.failure_probability("BOOL", 2)
    assert fail == pytest.approx(9 / 28)  # and/or/not, counts and constant-only pairs all fail at depth 2
    assert sum(d is None for d in draws) / n == pytest.approx(fail, abs=4 * math.sqrt(fail * (1 - fail) / n))
    probs = {o.tokens: o.prob for o in grammar.outcomes("BOOL", 2)}
    assert sum(probs.values()) == pytest.approx(1 - fail)
    top = max(probs, key=probs.get)
    seen = sum(d is not None and d.tokens == top for d in draws)
    assert seen == pytest.approx(n * probs[top], abs=5 * math.sqrt(n * probs[top]))
    assert grammar.failure_probability("START", 0) < 1e-7
    assert sum(c.sample_prob for c in grammar.candidates()) == pytest.approx(1.0, abs=1e-7)


def test_appearance_probability() -> None:
    assert grammar.appearance_probability(0.0) == 0.0
    assert grammar.appearance_probability(1 / 2_000_000) == pytest.approx(1 - math.exp(-1), rel=1e-6)


# ----------------------------------------------------------------------------- semantics


def obj(shape: str = "cube", color: str = "red", material: str = "rubber", size: str = "large",
        px: int = 100, py: int = 100) -> CuriObject:
    return CuriObject(shape, color, material, size, 0.0, 0.0, 0.0, px, py, 10.0)


def truth(text: str, scene_list: list[CuriScene]) -> list[bool]:
    objects = Objects.from_scenes(scene_list)
    single = evaluate_concept(text, objects)
    many = Compiled([text, "x color? red = lambda S. exists="]).evaluate(objects)[:, 0]
    assert (single == many).all()
    return single.tolist()


def test_location_bins_keep_curis_off_by_one() -> None:
    left = CuriScene((obj(px=0, py=0), obj(px=239, py=159)))  # bins (0, 0) and (7, 7)
    bin1 = CuriScene((obj(px=30, py=20), obj(px=59, py=39)))  # both in bin 1
    assert truth("8 x locationX? > lambda S. for-all=", [left, bin1]) == [True, True]
    assert truth("1 x locationX? = lambda S. exists=", [left, bin1]) == [False, True]
    assert truth("x locationX? 7 = lambda S. exists=", [left, bin1]) == [True, False]
    assert truth("x locationY? 8 = lambda S. exists=", [left, bin1]) == [False, False]
    assert truth("S locationX? 1 for-all= lambda S.", [left, bin1]) == [False, True]


def test_non_x_sets_counts_and_quantifiers() -> None:
    one_red = CuriScene((obj(color="red"), obj(color="blue"), obj(color="blue")))
    all_blue = CuriScene((obj(color="blue"), obj(color="blue")))
    scenes_ = [one_red, all_blue]
    # some x whose others are all blue: the red one in scene 1; any object in scene 2
    assert truth("non-x-S color? blue for-all= lambda S. exists=", scenes_) == [True, True]
    # some x different from every other object's colour
    assert truth("non-x-S color? x color? exists= not lambda S. exists=", scenes_) == [True, False]
    assert truth("S color? blue count= 2 = lambda S.", scenes_) == [True, True]
    assert truth("non-x-S color? blue count= 2 = lambda S. for-all=", scenes_) == [False, False]
    assert truth("non-x-S color? blue count= 1 = lambda S. exists=", scenes_) == [True, True]
    assert truth("S color? x color? count= 1 > lambda S. for-all=", scenes_) == [False, True]
    assert truth("x size? 0.35 > lambda S. for-all=", scenes_) == [True, True]  # all large
    assert truth("0.7 x size? > lambda S. exists=", scenes_) == [False, False]  # nobody small
    assert truth("S shape? cube for-all= S color? red exists= and lambda S.", scenes_) == [True, False]
    assert truth("x color? red = x color? blue = or lambda S. for-all=", scenes_) == [True, True]


def test_set_quantifiers_are_false_on_an_empty_set() -> None:
    lonely = CuriScene((obj(color="red"),))  # never sampled (scenes have >= 2 objects), but CURI's rule holds
    assert truth("non-x-S color? red for-all= lambda S. exists=", [lonely]) == [False]
    assert truth("non-x-S color? red exists= lambda S. exists=", [lonely]) == [False]
    assert truth("non-x-S color? red count= 1 = lambda S. exists=", [lonely]) == [False]  # count of [] is 0


def test_compiled_pool_agrees_with_single_concept_evaluation() -> None:
    batch = sample_scenes(np.random.default_rng(3), 400)
    objects = Objects.from_batch(batch)
    cands = grammar.candidates()
    texts = [c.text for c in cands[:: len(cands) // 500]]
    compiled = Compiled(texts)
    table = compiled.evaluate(objects)
    for j, text in enumerate(texts[::10]):
        assert (table[:, 10 * j] == evaluate_concept(text, objects)).all(), text
    counts, prints = compiled.count(objects, chunk=128)
    assert (counts == table.sum(axis=0)).all()
    same = [(a, b) for a in range(len(texts)) for b in range(a) if (table[:, a] == table[:, b]).all()]
    assert same  # some rephrasings exist in any sample this size
    for a, b in same:
        assert prints[a] == prints[b]
    assert len(set(prints.tolist())) == len({table[:, j].tobytes() for j in range(len(texts))})
