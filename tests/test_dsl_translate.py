"""Every CURI and Kandinsky concept has an equivalent DSL program: the translators' programs
agree with each family's ground truth (its own vectorised evaluator, which ``satisfies``
wraps, spot-checked against ``satisfies`` itself)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.pix2code.dsl import CURI, KANDINSKY, typecheck
from agents.pix2code.dsl.translate import curi_program, curi_program_text, kandinsky_program
from agents.pix2code.dsl.vector import labels
from agents.pix2code.dsl.vector_context import VectorContext

N_SCENES = 1000


def _tables(rows: list[np.ndarray], k: int, f: int, pad: float) -> tuple[np.ndarray, np.ndarray]:
    objects = np.full((len(rows), k, f), pad, dtype=np.float32)
    mask = np.zeros((len(rows), k), dtype=bool)
    for i, t in enumerate(rows):
        objects[i, : len(t)], mask[i, : len(t)] = t, True
    return objects, mask


def test_curi_translation_examples():
    assert curi_program_text("x color? red = lambda S. exists=") == "(lambda (exists (lambda (eq? (color $0) red)) $0))"
    assert curi_program_text("S color? purple exists= non-x-S color? red for-all= and lambda S. exists=") == (
        "(lambda (exists (lambda (and (exists (lambda (eq? (color $0) purple)) $1) "
        "(forall (lambda (eq? (color $0) red)) (remove $0 $1)))) $0))"
    )
    assert curi_program_text("0.7 x size? > lambda S. for-all=") == "(lambda (forall (lambda (eq? (size $0) small)) $0))"
    assert curi_program_text("1 S locationY? x locationX? count= = lambda S. for-all=") == (
        "(lambda (forall (lambda (eq? 1 (count (map (lambda (ybin $0)) $1) (xbin $0)))) $0))"
    )


def test_every_curi_pool_concept_translates_to_a_typed_program():
    import tasks.curi

    for text in tasks.curi.concept_pool():
        typecheck(curi_program(text), CURI.request)


def test_curi_concepts_agree_with_ground_truth():
    import tasks.curi
    from tasks.curi.sampler import sample_scenes
    from tasks.curi.evaluate import Compiled, Objects
    from tasks.curi.family import object_table

    pool = tasks.curi.concept_pool()
    family = tasks.curi.CuriFamily()
    rng = np.random.default_rng(0)
    concepts = [pool[i] for i in rng.choice(len(pool), 500, replace=False)]
    batch = sample_scenes(rng, N_SCENES)
    scene_list = batch.scenes()
    table = CURI.table(*_tables([object_table(s) for s in scene_list], 5, 19, -1.0))
    ctx = VectorContext(table, max_depth=2)
    truth = Compiled(concepts).evaluate(Objects.from_batch(batch))
    for j, text in enumerate(concepts):
        program = curi_program(text)
        typecheck(program, CURI.request)
        assert labels(program, ctx).tolist() == truth[:, j].tolist(), text
    ids = {text: cid for cid in family.concept_ids("train") for text in [family.concept_text(cid)]}
    checked = 0
    for j, text in enumerate(concepts):
        if text in ids and checked < 20:
            checked += 1
            for s in range(0, N_SCENES, 97):
                assert family.satisfies(ids[text], scene_list[s]) == bool(truth[s, j]), text


def test_kandinsky_concepts_agree_with_ground_truth():
    from tasks.kandinsky import KandinskyFamily
    from tasks.kandinsky.sampling import codes_of, propose
    from tasks.kandinsky.universe import COLORS, SHAPES, KandinskyObject, KandinskyScene

    family = KandinskyFamily()
    rng = np.random.default_rng(1)
    forced = (("same_color", 0.3), ("same_shape", 0.3), ("same_size", 0.3))
    by_count: dict[int, list[str]] = {}
    for subset in family.subsets:
        for cid in family.concept_ids(subset):
            by_count.setdefault(family._clauses[cid].n_objects, []).append(cid)
    assert sum(len(v) for v in by_count.values()) == 200
    for n, ids in sorted(by_count.items()):
        shapes, colors, sizes = propose(rng, n, forced, N_SCENES)
        codes = codes_of(shapes, colors, sizes)
        positions = rng.uniform(0.1, 0.9, (N_SCENES, n, 2))
        figures = [
            KandinskyScene(
                tuple(
                    KandinskyObject(SHAPES[shapes[i, j]], COLORS[colors[i, j]], float(sizes[i, j]), *positions[i, j])
                    for j in range(n)
                )
            )
            for i in range(N_SCENES)
        ]
        ctx = VectorContext(KANDINSKY.table(*_tables([family.object_table(f) for f in figures], 6, 12, 0.0)), 2)
        for cid in ids:
            truth = family._clauses[cid].evaluate(codes)
            assert 0 < truth.sum() < N_SCENES, cid
            program = kandinsky_program(cid)
            typecheck(program, KANDINSKY.request)
            assert labels(program, ctx).tolist() == truth.tolist(), cid
            for i in range(0, N_SCENES, 199):
                assert family.satisfies(cid, figures[i]) == bool(truth[i]), cid


@pytest.mark.parametrize("pattern", ["onered", "onetriangle", "twopairs", "threepairs", "closeby", "red-triangle", "online-pair"])
def test_kandinsky_patterns_agree_with_ground_truth(pattern):
    from tasks.kandinsky import KandinskyFamily

    family = KandinskyFamily(pattern=pattern)
    rng = np.random.default_rng(2)
    episode = family.sample_episode(rng, pattern, "test")
    figures = list(episode.support_scenes) + list(episode.query_scenes)
    ctx = VectorContext(KANDINSKY.table(*_tables([family.object_table(f) for f in figures], 6, 12, 0.0)), 2)
    truth = [family.satisfies(pattern, f) for f in figures]
    assert labels(kandinsky_program(pattern), ctx).tolist() == truth
