"""CURI's released concept list as the CURI family's pool: the same strings and ids, the published
split counts, correct labels, Pix2Code's training subsets, and clear errors for bad files."""

import json

import gymnasium as gym
import numpy as np
import pytest

import pix2code_env  # noqa: F401
from tasks import make_family
from tasks.curi.concept_list import ENV_VARIABLE, ConceptListError, TRAIN_ID_KEYS
from tasks.curi.evaluate import Objects, evaluate_concept
from tasks.curi.splits import SPLITS
from tests.reference_data import CURI_REFERENCE, require
from tests.test_curi_splits import REFERENCE_COUNTS as PUBLISHED  # (train, test) per rule-based split

LIST = CURI_REFERENCE / "hyp_to_id.json"
TRAIN_IDS = CURI_REFERENCE / "task_id_dict_filtered.json"



@pytest.fixture(scope="module")
def reference() -> dict[str, int]:
    return json.loads(require(LIST).read_text())


def family(split: str = "iid", **options):
    return make_family("curi", split=split, concept_list=str(require(LIST)), **options)


def test_the_pool_is_the_list_with_curis_ids(reference):
    fam = family()
    pool = fam.pool
    assert len(pool) == 14_929
    assert dict(zip(pool.concepts, pool.ids)) == reference
    assert fam.concept_text("07043") == "cube x shape? = lambda S. for-all="  # CURI's "all cubes"
    assert fam.describe_concept("07043") == "every object is a cube"
    assert fam.concept_text("04919") == "S material? metal for-all= gray x color? = and lambda S. exists="
    assert pool.source.startswith("list:") and len(pool.source) == 5 + 64
    assert fam.content_key["concepts"] == pool.source and fam.options["concepts"] == pool.source


@pytest.mark.parametrize("split", SPLITS)
def test_splits_reproduce_the_published_counts(split):
    fam = family(split)
    train, val, test = (len(fam.concept_ids(s)) for s in ("train", "val", "test"))
    if split == "comp":  # random 0.8 / 0.05 / 0.15 over denotation classes (seed 42)
        assert abs(train / 14_929 - 0.8) < 0.02 and abs(val / 14_929 - 0.05) < 0.01
        assert train + val + test == 14_929
        assert not set(fam.concept_ids("train")) & set(fam.concept_ids("test"))
    else:
        assert (train, test) == PUBLISHED[split] and val == test


@pytest.mark.parametrize("split", SPLITS)
def test_every_label_agrees_with_the_concept(split):
    """100 episodes per split, across subsets; hard negatives come from the same list."""
    fam = family(split)
    for seed in range(100):
        subset = ("train", "val", "test")[seed % 3]
        rng = np.random.default_rng([seed, 7])
        concept = fam.sample_concept(rng, subset)
        episode = fam.sample_episode(rng, concept, subset)
        scenes = list(episode.support_scenes) + list(episode.query_scenes)
        labels = np.concatenate([episode.support_labels, episode.query_labels]).astype(bool)
        truth = evaluate_concept(fam.concept_text(concept), Objects.from_scenes(scenes))
        assert (truth == labels).all(), (split, seed, concept)


def test_env_uses_the_list_and_fingerprints_name_it():
    env = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene", reveal_concept=True,
                   family_options={"concept_list": str(require(LIST))})
    _, info = env.reset(seed=0, options={"concept": "07043"})
    assert info["concept"] == "cube x shape? = lambda S. for-all="
    generated = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene")
    assert env.unwrapped.family.stream_key("test") != generated.unwrapped.family.stream_key("test")


def test_environment_variable_selects_the_list(monkeypatch):
    monkeypatch.setenv(ENV_VARIABLE, str(require(LIST)))
    fam = make_family("curi", split="shape")
    assert len(fam.pool) == 14_929 and fam.concept_text("07043").startswith("cube")


@pytest.mark.parametrize("split", SPLITS)
def test_pix2codes_training_subsets(split):
    expected = json.loads(require(TRAIN_IDS).read_text())[TRAIN_ID_KEYS[split]]
    fam = family(split, train_ids=str(TRAIN_IDS))
    assert [int(i) for i in fam.concept_ids("train")] == sorted(expected)
    train_classes = set(fam.pool.denotation[[fam.pool.position[i] for i in expected]].tolist())
    for subset in ("val", "test"):
        held = [fam.pool.position[int(i)] for i in fam.concept_ids(subset)]
        assert held and not train_classes & set(fam.pool.denotation[held].tolist())


def test_train_ids_need_the_list():
    with pytest.raises(ValueError, match="train_ids name concepts of CURI's released list"):
        make_family("curi", split="iid", train_ids=[1, 2, 3])


def test_a_concept_too_rare_for_an_episode_is_refused_by_name():
    fam = family()
    pool = fam.pool
    rare = int(np.flatnonzero(pool.count < 10)[0])
    concept_id = f"{pool.ids[rare]:05d}"
    with pytest.raises(ValueError, match=rf"CURI concept {concept_id} \(.*\) is true on \d of the 1,000,000 scenes "
                                         r"of the train bank; an episode needs 10 distinct positives"):
        fam.sample_episode(np.random.default_rng(0), concept_id, "train")
    sampler = fam.sampler("train")
    assert not sampler.sampleable(rare)
    rng = np.random.default_rng(0)
    assert all(sampler.sampleable(fam.pool.position[int(fam.sample_concept(rng, "train"))]) for _ in range(200))


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", r"CURI concept list .*bad\.json: not valid JSON"),
        ('["x color? red = lambda S. exists="]', r"expected a non-empty JSON object mapping concept strings to integer ids"),
        ('{"x color? red = lambda S. exists=": 0, "x color? blue = lambda S.": 1}',
         r"entry 1 'x color\? blue = lambda S\.' does not parse"),
        ('{"x color? red = lambda S. exists=": 3, "x color? blue = lambda S. exists=": 3}',
         r"id 3 is given to both 'x color\? red = lambda S\. exists=' and 'x color\? blue = lambda S\. exists='"),
        ('{"x color? red = lambda S. exists=": 0, "x color? red = lambda S. exists=": 1}',
         r"the key 'x color\? red = lambda S\. exists=' appears twice"),
        ('{"x color? red = lambda S. exists=": "7"}', r"entry 0 .* has id '7'; expected an integer >= 0"),
    ],
)
def test_bad_concept_lists_are_refused_with_the_file_and_entry(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ConceptListError, match=message):
        gym.make("Pix2Code-CURI-v0", family_options={"concept_list": str(bad)})


def test_a_missing_list_says_where_to_get_it(tmp_path):
    with pytest.raises(ConceptListError, match="no such file .*ml-research/pix2code"):
        family_missing = make_family("curi", concept_list=str(tmp_path / "absent.json"))
        del family_missing
