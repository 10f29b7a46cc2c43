"""KandinskyFamily as a TaskFamily: concept lists, episodes, object tables, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tasks import make_family
from tasks.kandinsky import KandinskyFamily
from tasks.kandinsky.clauses import parse_concept
from tasks.kandinsky.concepts import GROUP_CAPS
from tasks.kandinsky.universe import KandinskyObject, KandinskyScene

PATTERNS = ("onered", "onetriangle", "twopairs", "threepairs", "closeby", "red-triangle", "online-pair")


@pytest.fixture(scope="module")
def relkp() -> KandinskyFamily:
    return KandinskyFamily()


def test_family_constants(relkp):
    assert (relkp.name, relkp.version, relkp.max_objects, relkp.image_shape) == ("kandinsky", 0, 6, (128, 128))
    assert relkp.subsets == ("train", "test")
    assert relkp.object_features == (
        "shape=triangle", "shape=square", "shape=circle", "color=red", "color=yellow", "color=blue",
        "size=small", "size=medium", "size=big", "x", "y", "s",
    )
    assert isinstance(make_family("kandinsky"), KandinskyFamily)
    assert make_family("kandinsky", pattern="closeby").concept_ids("test") == ("closeby",)


def test_relkp_split(relkp):
    train, test = relkp.concept_ids("train"), relkp.concept_ids("test")
    assert len(train) == len(set(train)) == 100 and len(test) == len(set(test)) == 100
    assert not set(train) & set(test)
    for cid in train + test:
        assert parse_concept(cid).name == cid  # canonical spelling
    groups = {subset: {parse_concept(c).group for c in relkp.concept_ids(subset)} for subset in relkp.subsets}
    assert groups["train"] | groups["test"] == set(GROUP_CAPS)  # every group contributes
    assert len(groups["train"] & groups["test"]) >= 15  # and the split mixes them
    for n in range(2, 7):  # every object count appears on both sides
        assert any(c.startswith(f"{n}_") for c in train) and any(c.startswith(f"{n}_") for c in test)


def test_query_sizes(relkp):
    assert relkp.query_size("train") == (5, 20) and relkp.query_size("test") == (40, 160)
    pattern = KandinskyFamily(pattern="twopairs")
    assert pattern.query_size("train") == (5, 20) and pattern.query_size("test") == (40, 160)


def test_episode_shape_and_object_counts(relkp):
    concept = next(c for c in relkp.concept_ids("test") if c.startswith("6_pair1"))
    episode = relkp.sample_episode(np.random.default_rng(0), concept, "test")
    assert episode.concept_id == concept
    n = parse_concept(concept).n_objects
    for figure in episode.support_scenes + episode.query_scenes:
        assert isinstance(figure, KandinskyScene) and len(figure) == n
        for obj in figure:
            assert obj.size / 2 <= obj.x <= 1 - obj.size / 2 and obj.size / 2 <= obj.y <= 1 - obj.size / 2
    assert episode.support_labels.dtype == np.uint8 and set(episode.support_labels.tolist()) == {0, 1}


def test_same_seed_same_episode_different_seed_different_episode(relkp):
    for family, concept, subset in ((relkp, relkp.concept_ids("test")[7], "test"),
                                    (KandinskyFamily(pattern="online-pair"), "online-pair", "train")):
        first = family.sample_episode(np.random.default_rng(42), concept, subset)
        again = family.sample_episode(np.random.default_rng(42), concept, subset)
        other = family.sample_episode(np.random.default_rng(43), concept, subset)
        assert first.support_scenes == again.support_scenes and first.query_scenes == again.query_scenes
        assert np.array_equal(first.support_labels, again.support_labels)
        assert np.array_equal(first.query_labels, again.query_labels)
        assert first.support_scenes != other.support_scenes and first.query_scenes != other.query_scenes


def test_sample_concept_is_uniform_over_the_subset(relkp):
    rng = np.random.default_rng(5)
    drawn = [relkp.sample_concept(rng, "test") for _ in range(2000)]
    assert set(drawn) <= set(relkp.concept_ids("test")) and len(set(drawn)) > 95
    assert max(drawn.count(c) for c in set(drawn)) < 60  # expected 20 each
    assert KandinskyFamily(pattern="onered").sample_concept(rng, "train") == "onered"


def test_object_table_layout(relkp):
    figure = KandinskyScene((
        KandinskyObject("circle", "yellow", 0.5, 0.25, 0.75),
        KandinskyObject("triangle", "red", 0.25, 0.75, 0.25),
    ))
    table = relkp.object_table(figure)
    assert table.dtype == np.float32 and table.shape == (2, 12)
    np.testing.assert_array_equal(table[0], [0, 0, 1, 0, 1, 0, 0, 1, 0, 0.25, 0.75, 0.5])
    np.testing.assert_array_equal(table[1], [1, 0, 0, 1, 0, 0, 1, 0, 0, 0.75, 0.25, 0.25])


def test_concept_text(relkp):
    concept = relkp.concept_ids("train")[0]
    assert relkp.concept_text(concept) == parse_concept(concept).text
    assert "at least one object is red" in KandinskyFamily(pattern="onered").concept_text("onered")
    assert "straight line" in KandinskyFamily(pattern="online-pair").concept_text("online-pair")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_families(pattern):
    family = KandinskyFamily(pattern=pattern)
    assert family.concept_ids("train") == family.concept_ids("test") == (pattern,)
    episode = family.sample_episode(np.random.default_rng(1), pattern, "test")
    assert len(episode.query_scenes) == 200 and int(episode.query_labels.sum()) == 40
    assert all(family.satisfies(pattern, s) == bool(l) for s, l in zip(episode.query_scenes, episode.query_labels))


def test_twopairs_rule_fixes_the_reference_shortcut_and_bug():
    family = KandinskyFamily(pattern="twopairs")
    def figure(*specs):
        return KandinskyScene(tuple(
            KandinskyObject(spec.split()[1], spec.split()[0], 0.15, 0.2 + 0.2 * i, 0.5) for i, spec in enumerate(specs)
        ))
    # HCAI accepted one shape four times in {r, r, b, b}: no one-colour pair next to a two-colour pair
    assert not family.satisfies("twopairs", figure("red circle", "red circle", "blue circle", "blue circle"))
    assert family.satisfies("twopairs", figure("red circle", "red circle", "blue circle", "yellow circle"))
    assert family.satisfies("twopairs", figure("red square", "blue square", "yellow circle", "yellow circle"))
    # NSFR negatives never held a same-shape pair of two colours; ours may
    rng = np.random.default_rng(0)
    negatives = family.sample_episode(rng, "twopairs", "test")
    mixed_pair = 0
    for s, label in zip(negatives.query_scenes, negatives.query_labels):
        objs = s.objects
        if not label:
            mixed_pair += any(a.shape == b.shape and a.color != b.color
                              for i, a in enumerate(objs) for b in objs[i + 1:])
    assert mixed_pair > 40


# --- bad input ---------------------------------------------------------------------------------

def test_unknown_options_and_patterns():
    with pytest.raises(ValueError, match=r"unknown concept list 'curi'.*\['relkp'\]"):
        KandinskyFamily(concepts="curi")
    with pytest.raises(ValueError, match=r"unknown Kandinsky pattern 'two-pairs'.*'twopairs'.*'online-pair'"):
        KandinskyFamily(pattern="two-pairs")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['colour'\].*\['concepts', 'pattern'\]"):
        KandinskyFamily(colour="red")
    with pytest.raises(ValueError, match="unknown Kandinsky pattern 'x'"):
        make_family("kandinsky", pattern="x")


def test_unknown_concepts_and_subsets(relkp):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"unknown concept '3_same_colour'.*e\.g\."):
        relkp.sample_episode(rng, "3_same_colour", "train")
    test_concept = relkp.concept_ids("test")[0]
    with pytest.raises(ValueError, match=f"unknown concept '{test_concept}'.*subset 'train'"):
        relkp.sample_episode(rng, test_concept, "train")
    with pytest.raises(ValueError, match=r"unknown subset 'val'.*\['train', 'test'\]"):
        relkp.query_size("val")
    with pytest.raises(ValueError, match=r"unknown subset 'val'"):
        relkp.concept_ids("val")
    with pytest.raises(ValueError, match=r"unknown concept 'onered'"):
        relkp.concept_text("onered")
    with pytest.raises(ValueError, match=r"unknown concept '2_same_color'"):
        KandinskyFamily(pattern="onered").satisfies("2_same_color", KandinskyScene(()))
    figure = KandinskyScene((KandinskyObject("circle", "red", 0.3, 0.3, 0.3),))
    with pytest.raises(ValueError, match="is about 2 objects, the scene has 1"):
        relkp.satisfies(next(c for c in relkp.concept_ids("train") if c.startswith("2_")), figure)
    with pytest.raises(TypeError, match="expected a KandinskyScene, got tuple"):
        relkp.object_table(figure.objects)


def test_bad_objects():
    with pytest.raises(ValueError, match=r"unknown shape 'star'.*\['triangle', 'square', 'circle'\]"):
        KandinskyObject("star", "red", 0.3, 0.5, 0.5)
    with pytest.raises(ValueError, match=r"unknown colour 'green'.*\['red', 'yellow', 'blue'\]"):
        KandinskyObject("circle", "green", 0.3, 0.5, 0.5)
    with pytest.raises(ValueError, match=r"size must be in \(0, 1\], got 0"):
        KandinskyObject("circle", "red", 0, 0.5, 0.5)
