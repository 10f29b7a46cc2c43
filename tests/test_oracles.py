"""CURI's Bayes oracles: decoding object tables, the posterior, and accuracy on real episodes."""

from __future__ import annotations

import numpy as np
import pytest

from agents.base import SequentialPlayer
from agents.oracles import StrongOracle, WeakOracle, decode_objects
from agents.registry import make_agent
from pix2code_env.scoring import class_balanced_accuracy
from tasks import make_family
from tasks.curi.evaluate import Objects


def tables(fam, scenes) -> tuple[np.ndarray, np.ndarray]:
    objects = np.zeros((len(scenes), fam.max_objects, len(fam.object_features)), dtype=np.float32)
    mask = np.zeros((len(scenes), fam.max_objects), dtype=bool)
    for i, scene in enumerate(scenes):
        rows = fam.object_table(scene)
        objects[i, : len(rows)] = rows
        mask[i, : len(rows)] = True
    return objects, mask


def observation(fam, episode) -> dict[str, np.ndarray]:
    """What the environment shows an agent with modality "scene": no query labels, no concept."""
    so, sm = tables(fam, episode.support_scenes)
    qo, qm = tables(fam, episode.query_scenes)
    return {
        "support_objects": so,
        "support_object_mask": sm,
        "support_labels": episode.support_labels.astype(np.int8),
        "query_objects": qo,
        "query_object_mask": qm,
    }


def episodes(split: str, n: int):
    fam = make_family("curi", split=split)
    for seed in range(n):
        rng = np.random.default_rng(seed)
        concept = fam.sample_concept(rng, "test")
        ep = fam.sample_episode(rng, concept, "test")
        yield fam, concept, ep


def test_object_tables_decode_to_the_scene_codes() -> None:
    fam, _, ep = next(episodes("iid", 1))
    scenes = list(ep.support_scenes)
    objects, mask = tables(fam, scenes)
    decoded = decode_objects(objects, mask)
    truth = Objects.from_scenes(scenes)
    assert np.array_equal(decoded.planes, truth.planes) and np.array_equal(decoded.n_objects, truth.n_objects)
    # objects need not be packed at the front of the table
    shuffled = decode_objects(objects[:, ::-1], mask[:, ::-1])
    assert np.array_equal(np.sort(shuffled.planes, axis=1), np.sort(truth.planes, axis=1))


def test_posterior_keeps_consistent_concepts_and_the_truth() -> None:
    oracle = StrongOracle(split="iid")
    for fam, concept, ep in episodes("iid", 5):
        obs = observation(fam, ep)
        hyp, weights = oracle.posterior(obs)
        assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
        assert int(concept) in hyp.tolist()
        support = Objects.from_scenes(list(ep.support_scenes))
        truth = oracle.pool.compiled.evaluate(support, hyp)
        assert (truth == ep.support_labels.astype(bool)[:, None]).all()


@pytest.mark.parametrize(("split", "strong_floor", "weak_range"), [("iid", 0.93, (0.93, 1.0)), ("color", 0.93, (0.5, 0.85))])
def test_oracle_accuracy(split: str, strong_floor: float, weak_range: tuple[float, float]) -> None:
    strong, weak = StrongOracle(split=split), WeakOracle(split=split)
    s_acc, w_acc = [], []
    for fam, _, ep in episodes(split, 40):
        obs = observation(fam, ep)
        s_clf, w_clf = strong.fit(obs), weak.fit(obs)
        assert s_clf.predict(obs).dtype == np.int8 and s_clf.predict(obs).shape == (25,)
        scores = s_clf.scores(obs)
        assert ((scores >= 0) & (scores <= 1)).all()
        s_acc.append(class_balanced_accuracy(ep.query_labels, s_clf.predict(obs)))
        w_acc.append(class_balanced_accuracy(ep.query_labels, w_clf.predict(obs)))
    assert np.mean(s_acc) >= strong_floor  # measured 0.99 on 200 episodes
    assert weak_range[0] <= np.mean(w_acc) <= weak_range[1]  # measured 0.99 (iid), 0.66 (color)


def test_weak_oracle_with_no_fitting_training_concept_says_negative() -> None:
    fam, _, ep = next(episodes("iid", 1))
    obs = observation(fam, ep)
    obs["support_labels"] = np.ones(25, dtype=np.int8)  # nothing in the pool is true on 25 random scenes
    clf = WeakOracle(split="color").fit(obs)
    assert clf.concepts.size == 0 and (clf.predict(obs) == 0).all()


def test_split_comes_from_the_env_id_or_the_argument() -> None:
    assert StrongOracle(env_id="Pix2Code-CURI-Intrinsic-v0").split == "color_material"
    assert WeakOracle(env_id="Pix2Code-CURI-Complexity-v0").split == "length_threshold_10"
    assert WeakOracle(env_id="Pix2Code-CURIHans-v0").split == "iid"
    assert StrongOracle().split == "iid"
    assert WeakOracle(env_id="Pix2Code-CURI-BindingShape-v0", split="color").split == "color"
    with pytest.raises(ValueError, match="unknown CURI split 'colour'"):
        WeakOracle(split="colour")
    with pytest.raises(ValueError, match="the CURI oracles serve CURI environments; got 'Pix2Code-Kandinsky-v0'"):
        StrongOracle(env_id="Pix2Code-Kandinsky-v0")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['temperature'\]"):
        StrongOracle(temperature=2)
    assert StrongOracle.name == "oracle-strong" and WeakOracle.name == "oracle-weak"
    assert isinstance(make_agent("agents.oracles:WeakOracle", env_id="Pix2Code-CURI-Counting-v0"), WeakOracle)


def test_sequential_mode_uses_the_same_classifier() -> None:
    fam, _, ep = next(episodes("iid", 1))
    obs = observation(fam, ep)
    batch = StrongOracle().fit(obs).predict(obs)
    player = SequentialPlayer(StrongOracle())
    for q in range(25):
        single = {k: v for k, v in obs.items() if k.startswith("support")}
        single["query_objects"] = obs["query_objects"][q]
        single["query_object_mask"] = obs["query_object_mask"][q]
        assert player.act(single) == batch[q]


def test_oracles_need_object_tables() -> None:
    fam, _, ep = next(episodes("iid", 1))
    images_only = {"support_images": np.zeros((25, 3, 160, 240), np.uint8), "support_labels": ep.support_labels}
    with pytest.raises(ValueError, match="modality 'scene' or 'both'"):
        StrongOracle().fit(images_only)
    obs = observation(fam, ep)
    clf = StrongOracle().fit(obs)
    del obs["query_objects"]
    with pytest.raises(ValueError, match="'query_objects'"):
        clf.predict(obs)
    with pytest.raises(ValueError, match=r"expected curi object tables \(N, K, 19\)"):
        decode_objects(np.zeros((2, 5, 7)), np.zeros((2, 5), bool))
