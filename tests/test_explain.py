"""Explanations: every program as one English sentence, and every sentence read back to a program
that means the same (same labels on 1,000 scenes), for the whole CURI pool, RelKP, the classic
Kandinsky patterns and the programs the agent found on 200 episodes (tests/data)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agents.pix2code.dsl import CURI, KANDINSKY, parse, typecheck
from agents.pix2code.dsl.domains import scenes_from_table
from agents.pix2code.dsl.interpreter import classify
from agents.pix2code.dsl.translate import curi_program_text, kandinsky_program_text
from agents.pix2code.dsl.vector import Unsupported, labels
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.explain import describe_invention, explain, read

AGENT_PROGRAMS = Path(__file__).parent / "data" / "agent_programs.json"
N_SCENES = 1000
RELATIONS = ("same_color", "same_shape", "same_size", "one_red_triangle", "some_pair", "two_pairs", "three_pairs")


@pytest.fixture()
def with_relations(monkeypatch):
    """The Kandinsky DSL with RelKP's relations (catalogue primitives the default DSL leaves out,
    as a revision may add them back): programs using them are said and read back as relations."""
    import agents.pix2code.dsl.domains as domains

    full = replace(domains.KANDINSKY, primitives=domains.KANDINSKY.primitives + RELATIONS)
    monkeypatch.setitem(domains.DOMAINS, "kandinsky", full)


class Bank:
    """Scenes of one family, decoded once: labels of programs by the vectorised evaluator,
    the interpreter where a program is outside its fragment."""

    def __init__(self, domain, rows: list[np.ndarray], slots: int, pad: float, max_depth: int = 2) -> None:
        objects = np.full((len(rows), slots, domain.n_features), pad, dtype=np.float32)
        mask = np.zeros((len(rows), slots), dtype=bool)
        for i, t in enumerate(rows):
            objects[i, : len(t)], mask[i, : len(t)] = t, True
        self.table = domain.table(objects, mask)
        self.ctx = VectorContext(self.table, max_depth=max_depth)
        self._scenes = None

    def labels(self, program: str, scenes: int | None = None, vector_only: bool = False) -> np.ndarray:
        term = parse(program)
        try:
            return labels(term, self.ctx)[:scenes]
        except Unsupported:
            if vector_only:
                raise
        if self._scenes is None:
            self._scenes = scenes_from_table(self.table)
        return np.array([bool(x) for x in classify(term, self._scenes[:scenes])])

    def same(self, a: str, b: str, scenes: int | None = None) -> bool:
        """Equal labels on every scene (on the first ``scenes`` where the interpreter must run)."""
        try:
            return bool((self.labels(a, None, vector_only=True) == self.labels(b, None, vector_only=True)).all())
        except Unsupported:
            return bool((self.labels(a, scenes) == self.labels(b, scenes)).all())


@pytest.fixture(scope="module")
def curi_bank() -> Bank:
    from tasks.curi.family import object_table
    from tasks.curi.sampler import sample_scenes

    batch = sample_scenes(np.random.default_rng(0), N_SCENES)
    return Bank(CURI, [object_table(s) for s in batch.scenes()], 5, -1.0)


@pytest.fixture(scope="module")
def kandinsky_bank() -> Bank:
    """700 figures of 2..6 objects (half with one attribute made equal on all objects, as RelKP's
    sampler boosts them) and 300 scenes of the classic patterns' episodes."""
    from tasks.kandinsky import KandinskyFamily
    from tasks.kandinsky.figures import random_figures
    from tasks.kandinsky.patterns import PATTERNS
    from tasks.kandinsky.sampling import boost
    from tasks.kandinsky.universe import COLORS, SHAPES, KandinskyObject, KandinskyScene

    rng = np.random.default_rng(1)
    family = KandinskyFamily()
    scenes = []
    for n in range(2, 7):
        plain = random_figures(rng, n, 70)
        boosted, valid = boost(rng, random_figures(rng, n, 140), (("same_color", 0.3), ("same_shape", 0.3), ("same_size", 0.3)))
        for f, rows in ((plain, range(70)), (boosted, np.flatnonzero(valid)[:70])):
            for i in rows:
                scenes.append(KandinskyScene(tuple(
                    KandinskyObject(SHAPES[f.shape[i, j]], COLORS[f.color[i, j]], float(f.size[i, j]), float(f.x[i, j]), float(f.y[i, j]))
                    for j in range(n)
                )))  # fmt: skip
    for pattern in PATTERNS:
        episode = KandinskyFamily(pattern=pattern).sample_episode(rng, pattern, "test")
        scenes += (list(episode.support_scenes) + list(episode.query_scenes))[: 300 // len(PATTERNS) + 1]
    assert len(scenes) >= N_SCENES
    scenes = scenes[:N_SCENES]
    order = np.random.default_rng(2).permutation(N_SCENES)  # any prefix mixes object counts and sources
    rows = [family.object_table(scenes[i]) for i in order]
    return Bank(KANDINSKY, rows, 6, 0.0)


def _banks(curi_bank: Bank, kandinsky_bank: Bank) -> dict[str, Bank]:
    return {"curi": curi_bank, "kandinsky": kandinsky_bank}


# ------------------------------------------------------------------------------ exact sentences

R, C = "(exists (lambda (eq? (color $0) red)) $0)", "(exists (lambda (eq? (shape $0) cube)) $0)"
EXAMPLES = [
    ("curi", f"(lambda {R})", "there is a red object"),
    ("curi", "(lambda (exists (lambda (and (eq? (color $0) red) (and (eq? (material $0) metal) (eq? (shape $0) cube)))) $0))",
     "there is a red metal cube"),
    ("curi", "(lambda (forall (lambda (exists (lambda (and (eq? (shape $0) cylinder) (eq? (shape $1) (shape $0)))) $1)) $0))",
     "every object has the same shape as some cylinder"),
    ("curi", "(lambda (eq? 2 (count (map (lambda (shape $0)) $0) sphere)))", "there are exactly two spheres"),
    ("curi", "(lambda (exists (lambda (and (eq? (color $0) gray) (eq? 2 (count (map (lambda (and (eq? (shape $0) sphere) "
     "(gt? (xbin $0) (xbin $1)))) $1) true)))) $0))", "there is a gray object x such that there are exactly two spheres to the right of x"),
    ("curi", "(lambda (forall (lambda (or (eq? yellow (color $0)) (eq? (color $0) brown))) $0))", "every object is yellow or brown"),
    ("curi", "(lambda (not (exists (lambda (eq? (material $0) metal)) $0)))", "there is no metal object"),
    ("curi", "(lambda (forall (lambda (not (eq? (color $0) red))) $0))", "there is no red object"),
    ("curi", "(lambda (not (exists (lambda (not (eq? (size $0) small))) $0)))", "no object is not small"),
    ("curi", "(lambda (exists (lambda (and (eq? blue (color $0)) (forall (lambda (eq? (shape $0) cylinder)) (remove $0 $1)))) $0))",
     "there is a blue object x such that every object other than x is a cylinder"),
    ("curi", "(lambda (exists (lambda (exists (lambda (eq? (color $0) (color $1))) (remove $0 $1))) $0))",
     "there are two different objects that have the same colour"),
    ("curi", "(lambda (forall (lambda (exists (lambda (eq? (color $0) (color $1))) (remove $0 $1))) $0))",
     "every object has the same colour as some other object"),
    ("curi", "(lambda (exists (lambda (forall (lambda (gt? (xbin $1) (xbin $0))) (remove $0 $1))) $0))",
     "some object is to the right of every other object"),
    ("curi", "(lambda (gt? (count (map (lambda (color $0)) $0) red) (count (map (lambda (shape $0)) $0) cube)))",
     "there are more red objects than cubes"),
    ("curi", "(lambda (eq? (count (map (lambda (material $0)) $0) rubber) (count (map (lambda (shape $0)) $0) cube)))",
     "there are as many rubber objects as cubes"),
    ("curi", "(lambda (gt? (count (map (lambda (color $0)) $0) brown) 2))", "there are more than two brown objects"),
    ("curi", "(lambda (gt? 3 (length $0)))", "there are fewer than three objects"),
    ("curi", "(lambda (forall (lambda (and (eq? (size $0) large) (gt? 5 (ybin $0)))) $0))", "every object is a large object above row 5"),
    ("curi", "(lambda (exists (lambda (eq? (xbin $0) (ybin $0))) $0))",
     "there is an object x such that the column of x is equal to the row of x"),
    ("curi", f"(lambda (and {R} (or (forall (lambda (eq? (size $0) large)) $0) {C})))",
     "there is a red object and either every object is large or there is a cube"),
    ("curi", f"(lambda (not (and {R} {C})))", "it is not the case that there is a red object and there is a cube"),
    ("curi", "(lambda (and (forall (lambda (and (eq? (color $0) red) (exists (lambda (eq? (shape $0) (shape $1))) (remove $0 $1)))) $0) "
     "(exists (lambda (eq? (color $0) blue)) $0)))",
     "every object is red and has the same shape as some other object and there is a blue object"),
    ("curi", "(lambda (and (forall (lambda (and (eq? (color $0) red) (exists (lambda (eq? (shape $0) cube)) $1))) $0) "
     "(exists (lambda (eq? (color $0) blue)) $0)))",
     "there is a blue object and for every object x, x is red and there is a cube"),
    ("curi", "(lambda (eq? (color (car $0)) red))", "the colour of (the first element of the objects) is equal to red"),
    ("curi", "(lambda (gt? (+ (length $0) 1) (max 2 (find red (map (lambda (color $0)) $0)))))",
     "(the number of objects plus 1) is greater than (the larger of 2 and (the position of red in the colours of the objects))"),
    ("curi", "(lambda (fold $0 true (lambda (lambda (and (eq? (shape $1) cube) $0)))))",
     "(the result of folding the objects from the right, starting from whether true and combining each element x with the "
     "result so far y into whether x is a cube and y is true) is true"),
    ("curi", f"(lambda (if (empty? (cdr $0)) {R} (forall (lambda (eq? (size $0) large)) $0)))",
     "(if (all but the first element of the objects) is empty then there is a red object, otherwise every object is large)"),
    ("curi", "(lambda (eq? (index 1 (cons (car $0) $0)) (car $0)))",
     "(the element at position 1 of ((the first element of the objects) followed by the objects)) is equal to (the first element of the objects)"),
    ("kandinsky", "(lambda (same_shape $0))", "all objects have the same shape"),
    ("kandinsky", "(lambda (forall (lambda (forall (lambda (eq? (shape $0) (shape $1))) $1)) $0))", "all objects have the same shape"),
    ("kandinsky", "(lambda (not (same_color $0)))", "not all objects have the same colour"),
    ("kandinsky", "(lambda (one_red_triangle $0))", "the objects contain exactly one red triangle and no other red objects or triangles"),
    ("kandinsky", kandinsky_program_text("closeby"), "there are two different objects that are close to each other"),
    ("kandinsky", kandinsky_program_text("red-triangle"),
     "there are two different objects x and y such that x is a red triangle and y is not red and is not a triangle and is close to x"),
    ("kandinsky", kandinsky_program_text("twopairs"),
     "there are two disjoint pairs of different objects such that the objects of the first pair have the same shape and have the "
     "same colour and the objects of the second pair have the same shape and do not have the same colour"),
    ("kandinsky", kandinsky_program_text("online-pair"),
     "the objects lie on a line and there are two different objects that have the same shape and have the same colour"),
    ("kandinsky", "(lambda (eq? (closeby (car $0) (car (cdr $0))) (empty? (remove (car $0) $0))))",
     "((the first element of the objects) is close to (the first element of (all but the first element of the objects))) "
     "if and only if (there are no objects other than (the first element of the objects))"),
]  # fmt: skip


@pytest.mark.parametrize("family, program, sentence", EXAMPLES, ids=[s[:60] for _, _, s in EXAMPLES])
def test_exact_sentences(family, program, sentence, curi_bank, kandinsky_bank, with_relations):
    assert explain(program, family) == sentence
    back = read(sentence, family)
    assert _banks(curi_bank, kandinsky_bank)[family].same(program, back), back
    assert explain(back, family) == sentence


CORNERS = [  # higher-order and partial corners of the DSL: lists of functions, function variables...
    "(lambda ((car (map (lambda (lambda (eq? $0 $1))) $0)) (car $0)))",
    "(lambda ((if (empty? $0) (lambda (empty? $0)) (lambda (exists (lambda true) $0))) $0))",
    "(lambda (fold (map (lambda (lambda (eq? (color $0) (color $1)))) $0) true (lambda (lambda (and ($1 (car $2)) $0)))))",
    "(lambda (eq? (length (cons (lambda true) empty)) 1))",
    "(lambda (#(lambda (#(lambda (exists (lambda (eq? (color $0) red)) $0)) $0)) $0))",
    "(lambda (exists #(lambda (eq? (color $0) red)) $0))",
    "(lambda (exists (lambda (exists (lambda (exists (lambda (and (eq? (shape $0) (shape $1)) (eq? (color $1) (color $2)))) $2)) $1)) $0))",
    "(lambda (forall (lambda (or (eq? (xbin $0) 0) (gt? (ybin $0) (xbin $0)))) (cdr (cdr $0))))",
    "(lambda (eq? (index (find (car $0) $0) $0) (car $0)))",
    "(lambda (not (not (exists (lambda (not (not (eq? (size $0) large)))) $0))))",
    "(lambda (eq? (map (lambda (color $0)) $0) (map (lambda (color $0)) (cdr $0))))",
    "(lambda (exists (lambda (eq? $0 red)) (map (lambda (color $0)) $0)))",
    "(lambda (forall (lambda (gt? $0 1)) (map (lambda (xbin $0)) $0)))",
    "(lambda (gt? (- (max (length $0) 2) (min 1 (count (map (lambda (size $0)) $0) large))) (+ 1 (length (cdr $0)))))",
]


@pytest.mark.parametrize("program", CORNERS)
def test_corners_of_the_dsl_read_back(program, curi_bank):
    assert not _round_trips([("curi", program)], {"curi": curi_bank})


def test_read_accepts_capitals_full_stop_and_american_spelling(curi_bank):
    back = read("There is a red object x such that every object other than x has the same color as x.", "curi")
    program = "(lambda (exists (lambda (and (eq? (color $0) red) (forall (lambda (eq? (color $0) (color $1))) (remove $0 $1)))) $0))"
    assert curi_bank.same(program, back)


# ------------------------------------------------------------------------------ reversibility


def _round_trips(programs: list[tuple[str, str]], banks: dict[str, Bank], idempotent: bool = True, check_every: int = 1) -> list[str]:
    """The programs whose explanation does not read back to an equivalent, well-typed program
    (the reference type checker runs on every ``check_every``-th read program)."""
    failures = []
    for k, (family, program) in enumerate(programs):
        sentence = explain(program, family)
        back = read(sentence, family)
        if k % check_every == 0:
            typecheck(parse(back), "list(obj) -> bool")
        if not banks[family].same(program, back):
            failures.append(f"{program}\n  said {sentence!r}\n  read {back}")
        elif idempotent and explain(back, family) != sentence:
            failures.append(f"{program}\n  said {sentence!r}\n  read {back}\n  which is said {explain(back, family)!r}")
    return failures


def test_every_curi_pool_concept_reads_back(curi_bank):
    import tasks.curi

    pool = tasks.curi.concept_pool()
    assert len(pool) > 14_000
    failures = _round_trips([("curi", curi_program_text(c)) for c in pool], {"curi": curi_bank}, idempotent=False, check_every=10)
    assert not failures, f"{len(failures)} of {len(pool)}:\n" + "\n".join(failures[:10])


def _kandinsky_programs() -> list[tuple[str, str]]:
    from tasks.kandinsky.concept_list import load_concepts
    from tasks.kandinsky.patterns import PATTERNS

    concepts = load_concepts()
    ids = [e.id for e in concepts.train + concepts.test] + list(PATTERNS)
    assert len(ids) == 207
    return [("kandinsky", kandinsky_program_text(cid)) for cid in ids]


def test_every_relkp_concept_and_pattern_reads_back(kandinsky_bank, with_relations):
    failures = _round_trips(_kandinsky_programs(), {"kandinsky": kandinsky_bank})
    assert not failures, "\n".join(failures[:10])


def test_agent_programs_read_back(curi_bank, kandinsky_bank, with_relations):
    if not AGENT_PROGRAMS.exists():
        pytest.fail(f"missing fixture {AGENT_PROGRAMS}: run benchmarks/collect_explain_programs.py")
    data = json.loads(AGENT_PROGRAMS.read_text())
    assert len(data["episodes"]) == 200 and all(e["program"] for e in data["episodes"])
    programs = sorted({(e["family"], e["program"]) for e in data["episodes"]})
    programs += [(family, p) for family, ps in data["other_programs"].items() for p in ps]
    failures = _round_trips(programs, _banks(curi_bank, kandinsky_bank))
    assert not failures, f"{len(failures)} of {len(programs)}:\n" + "\n".join(failures[:10])


def test_kandinsky_dsl_without_relations(monkeypatch, kandinsky_bank):
    """With RelKP's relations gone from the DSL (they stay in the catalogue), sentences read back
    with forall/exists/eq?/remove, the spelled-out programs are said and read back too."""
    import agents.pix2code.dsl.domains as domains

    lean = replace(domains.KANDINSKY, primitives=tuple(p for p in domains.KANDINSKY.primitives if p not in RELATIONS))
    monkeypatch.setitem(domains.DOMAINS, "kandinsky", lean)
    pattern = re.compile(r"\b(" + "|".join(RELATIONS) + r")\b")
    for family, program in _kandinsky_programs():
        sentence = explain(program, family)
        back = read(sentence, family)
        typecheck(parse(back), "list(obj) -> bool")
        assert not pattern.search(back), back
        scenes = 12 if "three_pairs" in program else 40  # where the interpreter must run: pairs nest deep
        assert kandinsky_bank.same(program, back, scenes), f"{program}\n  {sentence}\n  {back}"
        again = explain(back, family)
        assert kandinsky_bank.same(back, read(again, family), scenes), again


# ------------------------------------------------------------------------------ inventions

SAME_COLOUR = "#(lambda (lambda (eq? (color $0) (color $1))))"
HAS_COLOUR = "#(lambda (lambda (eq? (color $0) $1)))"
SOME = "#(lambda (lambda (exists (lambda (eq? (shape $0) $2)) $0)))"
COUNT = "#(lambda (lambda (count (map (lambda (color $0)) $0) $1)))"
HIGHER = "#(lambda (lambda (exists $1 $0)))"


def test_describe_invention():
    assert describe_invention(SAME_COLOUR, "curi") == ("same_colour", "B has the same colour as A")
    assert describe_invention(HAS_COLOUR, "curi") == ("colour_equal", "B has a colour equal to A")
    assert describe_invention(SOME, "curi") == ("some_shape_equal", "there is an object among B with a shape equal to A")
    assert describe_invention(COUNT, "curi") == ("count_colour_equal", "the number of objects among B with a colour equal to A")
    name, description = describe_invention(HIGHER, "curi")
    assert description == "there is an element x among B such that (A applied to x) is true"
    with pytest.raises(ValueError, match="ill-typed"):
        describe_invention("#(lambda (eq? (color $0) cube))", "curi")


def _with_inventions(program: str) -> str:
    """A CURI program rewritten with the inventions above wherever they fit."""
    program = re.sub(r"\(eq\? \(color (\$\d)\) \(color (\$\d)\)\)", rf"({SAME_COLOUR} \2 \1)", program)
    program = re.sub(r"\(eq\? \(color (\$\d)\) (\w+)\)", rf"({HAS_COLOUR} \2 \1)", program)
    program = re.sub(r"\(count \(map \(lambda \(color \$0\)\) (\$\d)\) (\w+)\)", rf"({COUNT} \2 \1)", program)
    return program


def test_inventions_are_said_by_their_descriptions_and_read_back(curi_bank):
    import tasks.curi

    names = {text: describe_invention(text, "curi") for text in (SAME_COLOUR, HAS_COLOUR, SOME, COUNT, HIGHER)}
    pool = tasks.curi.concept_pool()
    programs = [p for p in (_with_inventions(curi_program_text(c)) for c in pool[::40]) if "#" in p]
    assert len(programs) > 100
    for program in programs:
        named = explain(program, "curi", names)
        back = read(named, "curi", names)
        assert "#" in back and curi_bank.same(program, back), f"{program}\n  {named}\n  {back}"
        assert explain(back, "curi", names) == named
        unfolded = explain(program, "curi")  # without names: the unfolded body
        assert "#" not in read(unfolded, "curi") and curi_bank.same(program, read(unfolded, "curi"))
    uses = f"(lambda (and ({SOME} cube $0) ({HIGHER} (lambda (eq? (size $0) large)) $0)))"
    said = explain(uses, "curi", names)
    assert said == "there is a large object and there is an object among the objects with a shape equal to cube"
    assert curi_bank.same(uses, read(said, "curi", names))


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "program, message",
    [
        ("(lambda (exists (lambda (eq? (color $0) red)) $0)", "missing '\\)'"),
        ("(lambda (eq? (color $0) cube))", "ill-typed"),
        ("(lambda (glow $0))", "unknown primitive 'glow'"),
        ("(lambda (color $0))", "ill-typed"),
        ("(lambda $3)", "ill-typed"),
    ],
)
def test_explain_rejects_bad_programs(program, message):
    with pytest.raises(ValueError, match=message):
        explain(program, "curi")


def test_bad_families_and_sentences():
    with pytest.raises(ValueError, match="unknown family 'clevr'"):
        explain("(lambda true)", "clevr")
    with pytest.raises(ValueError, match="'elephant' \\(word 5\\)"):
        read("there is a purple elephant", "curi")
    with pytest.raises(ValueError, match="ends too early"):
        read("there is a red", "curi")
    with pytest.raises(ValueError, match="'y' is used but never introduced"):
        read("there is an object x such that y is red", "curi")
    with pytest.raises(ValueError, match="non-empty sentence"):
        read("  ", "curi")


# ------------------------------------------------------------------------------ the classifier


def test_classifier_explains_its_program():
    import gymnasium as gym

    import pix2code_env  # noqa: F401
    from agents import make_agent
    from agents.pix2code.agent import Pix2CodeClassifier
    from agents.pix2code.search import SearchResult

    env = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene")
    obs, _ = env.reset(seed=1)
    classifier = make_agent("pix2code", modality="scene", env_id="Pix2Code-CURI-v0").fit(obs)
    assert classifier.explain() == explain(classifier.program, "curi", names=classifier.names)
    assert classifier.explanation == classifier.explain()
    empty = SearchResult("curi", (), 0, 0.0, False, "budget")
    nothing = Pix2CodeClassifier(empty, CURI, np.array([1, 0, 0], dtype=np.int8))
    assert nothing.explain().startswith("no program was found")


def test_explanations_reach_evaluations_and_the_episode_grid(tmp_path, capsys):
    """...and a CURI episode's title says its concept in the same words (its program, explained)."""
    import gymnasium as gym
    from PIL import Image
    from rich.markup import escape

    from agents.evaluate import evaluate_agent
    from leaderboard.cli import main as cli

    from agents import make_agent

    agent = make_agent("pix2code", env_id="Pix2Code-CURI-v0", seconds=None)  # the candidate budget alone stops it
    result = evaluate_agent(agent, "Pix2Code-CURI-v0", episodes=1, env_kwargs={"subset": "test", "modality": "scene"})
    for record in result.records:
        assert record.program, record.fallback
        assert record.explanation == explain(record.program, "curi", names=_names("Pix2Code-CURI-v0"))
    assert evaluate_agent("prior", "Pix2Code-CURI-v0", episodes=1).records[0].explanation is None
    plain, annotated = tmp_path / "plain.png", tmp_path / "annotated.png"
    args = ["show", "Pix2Code-CURI-v0", "--seed", "1", "--subset", "test", "--max-queries", "10"]
    assert cli([*args, "--out", str(plain)]) == 0
    concept = gym.make("Pix2Code-CURI-v0", subset="test", reveal_concept=True).reset(seed=1)[1]["concept"]
    printed = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert " ".join(escape(explain(curi_program_text(concept), "curi")).split()) in printed
    assert cli([*args, "--agent", "pix2code", "--out", str(annotated)]) == 0
    assert "explanation" in capsys.readouterr().out
    # the explanation and the program are written under the grid: two more lines of text
    assert Image.open(annotated).height >= Image.open(plain).height + 2 * 18


def _names(env_id: str) -> dict:
    from agents import make_agent
    from agents.pix2code.dsl import domain_for_env_id

    return make_agent("pix2code", env_id=env_id).guide(domain_for_env_id(env_id)).library.names
