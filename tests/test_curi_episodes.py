"""CURI episodes and the family: labels, hard negatives, uniform positives, determinism, CURI-Hans."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from tasks import make_family
from tasks.curi import SPLITS, CuriFamily
from tasks.curi.episodes import EpisodeSampler, log_linear_weights
from tasks.curi.evaluate import Objects, evaluate_concept
from tasks.curi.family import OBJECT_FEATURES, mentions_color, object_table
from tasks.curi.pool import BANK_BLOCK, RARE_COUNT, build, select_candidates
from tasks.curi.scenes import COLORS, CuriObject, CuriScene
from tasks.curi.splits import split_indices

MINI_BANK = 2 * BANK_BLOCK
EPISODES_PER_SPLIT = 1000  # the figure: 1,000 episodes per split (about 12 s each)


@pytest.fixture(scope="module")
def mini() -> EpisodeSampler:
    """A whole pool built on a 20,000-scene bank: same code paths, seconds instead of a minute."""
    return EpisodeSampler(build(bank_size=MINI_BANK, chosen=select_candidates()[::3]).pool)


def sample_ids(sampler: EpisodeSampler, seed: int, concept: int | None = None):
    rng = np.random.default_rng(seed)
    if concept is None:
        concept = int(rng.choice(len(sampler.pool), p=log_linear_weights(sampler.pool.lengths)))
    return concept, sampler.sample(rng, concept)


def test_a_thousand_episodes_have_correct_labels_and_hard_negatives(mini: EpisodeSampler) -> None:
    pool, objects = mini.pool, mini.bank.objects
    checked_union = 0
    for seed in range(1000):
        concept, ids = sample_ids(mini, seed)
        pos = np.concatenate([ids.support_positives, ids.query_positives])
        neg = np.concatenate([ids.support_negatives, ids.query_negatives])
        everything = np.concatenate([pos, neg])
        assert (len(ids.support_positives), len(ids.support_negatives)) == (5, 20)
        assert (len(ids.query_positives), len(ids.query_negatives)) == (5, 20)
        assert np.unique(everything).size == 50
        truth = evaluate_concept(pool.concepts[concept], objects.take(everything))
        assert truth[:10].all() and not truth[10:].any(), pool.concepts[concept]
        # alternates: every pool concept (any split) true on the 5 support positives, minus the target
        on_pos = pool.compiled.evaluate(objects.take(ids.support_positives)).all(axis=0)
        assert set(ids.alternates.tolist()) == set(np.flatnonzero(on_pos).tolist()) - {concept}
        hard = ids.support_negatives[: ids.hard_negatives]
        if hard.size:
            alt_truth = pool.compiled.evaluate(objects.take(hard), ids.alternates).any(axis=1)
            assert alt_truth.all()
        if ids.hard_negatives < 20 and seed % 5 == 0:  # then the union must have been exhausted
            checked_union += 1
            union = pool.compiled.evaluate(objects, ids.alternates).any(axis=1) & ~evaluate_concept(
                pool.concepts[concept], objects
            )
            assert ids.hard_negatives == min(20, int(union.sum()))
    assert checked_union > 5


def test_support_negatives_are_hard_when_alternates_allow(mini: EpisodeSampler) -> None:
    hard = [sample_ids(mini, seed)[1].hard_negatives for seed in range(300)]
    assert np.mean([h == 20 for h in hard]) > 0.8


def test_episodes_are_deterministic_per_seed(mini: EpisodeSampler) -> None:
    a, b, c = (sample_ids(mini, s)[1] for s in (7, 7, 8))
    for name in ("support_positives", "support_negatives", "query_positives", "query_negatives"):
        assert (getattr(a, name) == getattr(b, name)).all()
    assert not (a.support_positives == c.support_positives).all()


def _chi2_ok(observed: np.ndarray) -> bool:
    dof = observed.size - 1
    expected = observed.sum() / observed.size
    chi2 = ((observed - expected) ** 2 / expected).sum()
    return chi2 < dof + 6 * math.sqrt(2 * dof)


def test_positives_are_uniform_over_the_extension(mini: EpisodeSampler) -> None:
    pool = mini.pool
    rare = int(np.flatnonzero((pool.count >= 12) & (pool.count <= 30))[0])  # stored extension
    common = int(np.flatnonzero(pool.count > RARE_COUNT)[0])  # drawn from the bank
    for concept, bins in ((rare, None), (common, 20)):
        ext = mini.extension(concept)
        hits = np.concatenate([sample_ids(mini, s, concept)[1].support_positives for s in range(400)])
        position = np.searchsorted(ext, hits)
        assert (ext[position] == hits).all()
        counts = np.bincount(position if bins is None else position * bins // ext.size, minlength=bins or ext.size)
        assert _chi2_ok(counts), (pool.concepts[concept], counts)


# ----------------------------------------------------------------------------- the family


@pytest.fixture(scope="module")
def family() -> CuriFamily:
    return make_family("curi", split="color")


def test_family_surface(family: CuriFamily) -> None:
    assert (family.name, family.version, family.subsets) == ("curi", 0, ("train", "val", "test"))
    assert (family.max_objects, family.image_shape) == (5, (160, 240))
    assert len(OBJECT_FEATURES) == 19 and family.object_features == OBJECT_FEATURES
    assert OBJECT_FEATURES[:3] == ("shape=cube", "shape=sphere", "shape=cylinder")
    assert OBJECT_FEATURES[3] == "color=gray" and OBJECT_FEATURES[10] == "color=yellow"
    assert OBJECT_FEATURES[11:15] == ("material=rubber", "material=metal", "size=large", "size=small")
    assert OBJECT_FEATURES[15:] == ("px/240", "py/160", "depth/16", "rotation/360")
    for subset in family.subsets:
        assert family.query_size(subset) == (5, 20)
        ids = family.concept_ids(subset)
        assert [int(i) for i in ids] == split_indices("color", subset, family.pool).tolist()
    assert set(family.concept_ids("val")) == set(family.concept_ids("test"))
    assert not set(family.concept_ids("train")) & set(family.concept_ids("test"))


def test_family_pickles_its_options_only(family: CuriFamily) -> None:
    family.concept_ids("train")
    clone = pickle.loads(pickle.dumps(family))
    assert len(pickle.dumps(family)) < 500
    assert (clone.split, clone.confounded) == ("color", False) and clone.concept_ids("test") == family.concept_ids("test")


def test_family_rejects_bad_input(family: CuriFamily) -> None:
    with pytest.raises(ValueError, match="unknown CURI split 'colour'"):
        CuriFamily(split="colour")
    with pytest.raises(TypeError, match="confounded must be a bool"):
        CuriFamily(confounded="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown subset 'dev' for the curi family"):
        family.query_size("dev")
    train_only = family.concept_ids("train")[0]
    with pytest.raises(ValueError, match=f"unknown concept '{train_only}' for the curi family, subset 'test'"):
        family.sample_episode(np.random.default_rng(0), train_only, "test")
    with pytest.raises(ValueError, match="unknown CURI concept id 'red'"):
        family.concept_text("red")


def test_object_table_and_satisfies(family: CuriFamily) -> None:
    scene = CuriScene(
        (
            CuriObject("sphere", "cyan", "metal", "small", 0.1, 0.2, 90.0, 120, 40, 8.0),
            CuriObject("cube", "gray", "rubber", "large", 1.0, -1.0, 180.0, 30, 150, 12.0),
        )
    )
    rows = object_table(scene)
    assert rows.dtype == np.float32 and rows.shape == (2, 19)
    expected = np.zeros(19, dtype=np.float32)
    expected[[1, 3 + COLORS.index("cyan"), 12, 14]] = 1
    expected[15:] = [120 / 240, 40 / 160, 8 / 16, 90 / 360]
    assert np.array_equal(rows[0], expected)
    assert np.array_equal(family.object_table(scene), rows)
    pool = family.pool
    text = "x color? cyan = x shape? sphere = and lambda S. exists="
    if text in pool.index:
        assert family.satisfies(f"{pool.index[text]:05d}", scene)
    some = family.concept_ids("train")[0]
    assert family.satisfies(some, scene) == bool(evaluate_concept(family.concept_text(some), Objects.from_scenes([scene]))[0])


def test_log_linear_concept_prior() -> None:
    fam = make_family("curi", split="iid")
    rng = np.random.default_rng(0)
    draws = [fam.concept_text(fam.sample_concept(rng, "train")) for _ in range(3000)]
    twelve = np.mean([len(d.split(" ")) == 12 for d in draws])
    w = log_linear_weights(fam.pool.lengths)
    assert twelve == pytest.approx(w[fam.pool.lengths == 12].sum(), abs=0.03)  # ~70 % (curi.md §4.2)
    again = np.random.default_rng(0)
    assert fam.concept_text(fam.sample_concept(again, "train")) == draws[0]


@pytest.mark.parametrize("split", SPLITS)
def test_family_episodes_per_split(split: str) -> None:
    """Many episodes per split, labels checked with the vectorised evaluator on the bank."""
    fam = make_family("curi", split=split)
    texts = fam.pool.concepts
    for seed in range(EPISODES_PER_SPLIT):
        rng = np.random.default_rng(seed)
        subset = ("train", "val", "test")[seed % 3]
        objects = fam.sampler(subset).bank.objects
        concept = fam.sample_concept(rng, subset)
        assert concept in fam.concept_ids(subset)
        ids = fam.sampler(subset).sample(rng, int(concept))
        scenes = np.concatenate([ids.support_positives, ids.query_positives, ids.support_negatives, ids.query_negatives])
        truth = evaluate_concept(texts[int(concept)], objects.take(scenes))
        assert truth[:10].all() and not truth[10:].any()
    for seed in range(20):  # the family's own path: scene objects, shuffling
        rng = np.random.default_rng(seed)
        concept = fam.sample_concept(rng, "test")
        ep = fam.sample_episode(rng, concept, "test")
        scenes_ = list(ep.support_scenes) + list(ep.query_scenes)
        labels = np.concatenate([ep.support_labels, ep.query_labels])
        truth = evaluate_concept(fam.concept_text(concept), Objects.from_scenes(scenes_))
        assert (truth == labels.astype(bool)).all()
        assert (ep.support_labels.sum(), ep.query_labels.sum()) == (5, 5)
    a = fam.sample_episode(np.random.default_rng(3), concept, "test")
    b = fam.sample_episode(np.random.default_rng(3), concept, "test")
    assert a.support_scenes == b.support_scenes and (a.query_labels == b.query_labels).all()


def test_render_delegates_to_the_scene_renderer(family: CuriFamily) -> None:
    ep = family.sample_episode(np.random.default_rng(0), family.concept_ids("train")[0], "train")
    image = family.render(ep.support_scenes[0], 160, 240)
    assert image.shape == (160, 240, 3) and image.dtype == np.uint8


def test_curi_hans_confounds_the_support_set_only() -> None:
    fam = make_family("curi", split="iid", confounded=True)
    ids = fam.concept_ids("test")
    assert ids and not any(mentions_color(fam.concept_text(i)) for i in ids)
    assert len(ids) < len(make_family("curi", split="iid").concept_ids("test"))
    colors_used, mixed_queries = set(), 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        concept = fam.sample_concept(rng, "test")
        ep = fam.sample_episode(rng, concept, "test")
        pos = [s for s, y in zip(ep.support_scenes, ep.support_labels) if y]
        neg = [s for s, y in zip(ep.support_scenes, ep.support_labels) if not y]
        (color,) = {o.color for s in pos for o in s.objects}
        colors_used.add(color)
        assert all(o.color != color for s in neg for o in s.objects)
        scenes = list(ep.support_scenes) + list(ep.query_scenes)
        truth = evaluate_concept(fam.concept_text(concept), Objects.from_scenes(scenes))
        assert (truth == np.concatenate([ep.support_labels, ep.query_labels]).astype(bool)).all()
        query_pos = [s for s, y in zip(ep.query_scenes, ep.query_labels) if y]
        mixed_queries += len({o.color for s in query_pos for o in s.objects}) > 1
    assert len(colors_used) > 3
    assert mixed_queries >= 28  # query positives keep their own colours
