"""The paper's base DSL (``dsl="paper"``): Pix2Code's 34 productions with uniform weights, objects
read as integer vectors through ``index k o``, both evaluators agreeing, libraries and agents."""

import json

import gymnasium as gym
import numpy as np
import pytest

import pix2code_env  # noqa: F401
from agents import make_agent
from agents.pix2code import dsl
from agents.pix2code.dsl import parse
from agents.pix2code.dsl.domains import PAPER_DOMAINS, base_primitives, get_domain
from agents.pix2code.dsl.interpreter import classify
from agents.pix2code.dsl.primitives import BASE_NAMES, CATEGORIES
from agents.pix2code.dsl.vector import labels as vector_labels
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_values import Unsupported
from agents.pix2code.explain import explain
from agents.pix2code.library import Library, LibraryError
from agents.pix2code.search.pool import synthetic_scenes

PAPER_NAMES = ("true", "not", "and", "or", "eq?", "gt?", "max", "min", "map", "index", "fold", "length", "if", "+", "-",
               "empty", "cons", "car", "cdr", "empty?", "forall", "exists", "count", "find") + tuple("0123456789")


def _support(env_id: str, seed: int = 0):
    obs, _ = gym.make(env_id, subset="train", modality="scene").reset(seed=seed)
    return obs["support_objects"], obs["support_object_mask"]


def test_the_paper_dsl_is_pix2codes_34_uniform_productions():
    for family in ("curi", "kandinsky"):
        assert dsl.base_primitives(family, "paper") == base_primitives(family, "paper") == PAPER_NAMES == BASE_NAMES
        library = Library.base(family, "paper")
        assert set(library.weights.values()) == {0.0} and library.log_variable == 0.0
        grammar = library.grammar()
        assert len(grammar.productions) == 34
        assert str(get_domain(family, "paper").parse_table["index"].type) == "int -> obj -> int"
    assert "color" not in base_primitives("curi", "paper")


def test_object_vectors_follow_the_papers_layout():
    objects, mask = _support("Pix2Code-CURI-v0")
    table = PAPER_DOMAINS["curi"].table(objects, mask)
    ok = table.mask
    shapes = np.array(["cube", "sphere", "cylinder"])[table.column("index6")[ok]]
    assert (shapes == np.array(CATEGORIES["shape"])[table.categorical["shape"][1][ok]]).all()
    colours = np.array(["gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan"])[table.column("index5")[ok]]
    assert (colours == np.array(CATEGORIES["color"])[table.categorical["color"][1][ok]]).all()
    x1, x2 = table.column("index0")[ok], table.column("index2")[ok]
    assert (x1 < x2).all() and (np.abs((x1 + x2) / 2 - table.continuous["x"][ok] * 240) <= 0.5).all()
    k_objects, k_mask = _support("Pix2Code-Kandinsky-v0")
    k_table = PAPER_DOMAINS["kandinsky"].table(k_objects, k_mask)
    assert set(k_table.derived) == {f"index{i}" for i in range(7)}  # [x1, y1, x2, y2, size, color, shape]


PROGRAMS = [
    "(lambda (forall (lambda (eq? (index 6 $0) 0)) $0))",
    "(lambda (exists (lambda (gt? (index 0 $0) (+ 9 9))) $0))",
    "(lambda (eq? (count (map (lambda (index 5 $0)) $0) 1) 1))",
    "(lambda (exists (lambda (forall (lambda (or (eq? $0 $1) (gt? (index 4 $1) (index 4 $0)))) $1)) $0))",
    "(lambda (gt? (length $0) (index 2 (index 0 $0))))",
]


@pytest.mark.parametrize("env_id, family", [("Pix2Code-CURI-v0", "curi"), ("Pix2Code-Kandinsky-v0", "kandinsky")])
def test_both_evaluators_agree_on_paper_programs(env_id, family):
    domain = get_domain(family, "paper")
    objects, mask = _support(env_id, seed=3)
    table = domain.table(objects, mask)
    scenes = domain.scenes(objects, mask)
    ctx = VectorContext(table, max_depth=2)
    for text in PROGRAMS[:4]:
        term = parse(text, domain.parse_table)
        fast = vector_labels(term, ctx)
        slow = np.array([bool(x) for x in classify(term, scenes)])
        assert (fast == slow).all(), text
    with pytest.raises(ValueError, match="unknown primitive 'color'"):
        parse("(lambda (exists (lambda (eq? (color $0) red)) $0))", domain.parse_table)
    beyond = parse("(lambda (exists (lambda (eq? (index 9 $0) 0)) $0))", domain.parse_table)
    with pytest.raises(Unsupported, match="no attribute 'index9'"):
        vector_labels(beyond, ctx)  # outside the vector: the interpreter's failure, never a value
    assert not any(classify(beyond, scenes))


def test_synthetic_scenes_recompute_object_vectors():
    domain = PAPER_DOMAINS["curi"]
    objects, mask = _support("Pix2Code-CURI-v0")
    drawn = synthetic_scenes(domain.table(objects, mask), np.random.default_rng(0), 40, domain.attribute_values, domain.layout)
    order = ("gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan")
    ok = drawn.mask
    named = np.array(CATEGORIES["color"])[drawn.categorical["color"][1][ok]]
    assert (np.array(order)[drawn.column("index5")[ok]] == named).all()


def test_paper_libraries_load_explain_and_refuse_the_other_base(tmp_path):
    body = "(lambda (lambda (forall (lambda (eq? $2 (index 5 $0))) $0)))"
    data = Library.base("curi", "paper").to_json()
    data["inventions"] = [{"name": "all_at", "body": body, "type": "?", "weight": -1.0}]
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(data))
    library = Library.load(path, family="curi")
    assert library.inventions[0].type == "int -> list(obj) -> bool" and len(library.grammar().productions) == 35
    data["dsl"] = "default"
    data["weights"] = {}
    (tmp_path / "default.json").write_text(json.dumps(data))
    with pytest.raises(LibraryError, match=r"default\.json: invention 0 \(all_at: .*\) is ill-typed in this base DSL: .* involves list\(list\(t0\)\)"):
        Library.load(tmp_path / "default.json")
    text = explain("(lambda (forall (lambda (eq? (index 6 $0) 0)) $0))", "curi")
    assert "position 6" in text


def test_an_inventions_own_variable_is_renamed_where_the_sentence_uses_it():
    body = "(lambda (lambda (lambda (forall (lambda (gt? (index $1 $0) $2)) $2))))"
    names = {body: ("all_greater_at", "for every element x among A, (the element at position C of x) is greater than B")}
    text = explain(f"(lambda (forall (lambda (#{body} $1 (index 0 $0) 3)) $0))", "curi", names=names)
    assert text == ("for every object x, for every element y among the objects, (the element at position 3 of y) "
                    "is greater than (the element at position 0 of x)")


def test_agent_searches_the_paper_dsl():
    obs, _ = gym.make("Pix2Code-CURI-v0", subset="train", modality="scene").reset(seed=0)
    agent = make_agent("pix2code", modality="scene", env_id="Pix2Code-CURI-v0", dsl="paper", library="base",
                       seconds=None)
    classifier = agent.fit(obs)
    names = {t.name for t in parse(classifier.program, PAPER_DOMAINS["curi"].parse_table).subterms() if hasattr(t, "name")}
    assert names <= set(PAPER_NAMES) and classifier.diagnostics()["support_errors"] == 0


def test_the_paper_library_ships_for_curi_iid_and_bases_do_not_mix():
    from agents.pix2code.dsl import CURI

    guide = make_agent("pix2code", modality="scene", env_id="Pix2Code-CURI-v0", dsl="paper").guide(PAPER_DOMAINS["curi"])
    assert guide.source.endswith("curi-iid.paper.json") and guide.recognition is not None
    assert guide.library.dsl == "paper" and all(inv.uses >= 2 for inv in guide.library.inventions)
    assert any("index" in inv.body for inv in guide.library.inventions)
    default = make_agent("pix2code", env_id="Pix2Code-CURI-v0", dsl="paper", library=guide.source.replace(".paper", ""))
    with pytest.raises(ValueError, match=r"curi-iid\.json extends the 'default' base DSL, but the agent was asked for dsl='paper'"):
        default.guide(PAPER_DOMAINS["curi"])
    assert make_agent("pix2code", env_id="Pix2Code-CURI-v0").guide(CURI).library.dsl == "default"
