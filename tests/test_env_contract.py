"""The ConceptEnv contract, checked on a tiny deterministic family so it holds for any family."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import pix2code_env  # noqa: F401
from pix2code_env.env import ConceptEnv
from tests.toy_family import ToyFamily

TOY_ID = "Pix2CodeTest-Toy-v0"
if TOY_ID not in gym.registry:
    gym.register(id=TOY_ID, entry_point="tests.toy_family:make_toy_env")


def toy(**kwargs) -> ConceptEnv:
    return ConceptEnv(family=ToyFamily(), **kwargs)


@pytest.mark.parametrize("modality", ["image", "scene", "both"])
@pytest.mark.parametrize("query_mode", ["batch", "sequential"])
def test_check_env_passes(modality, query_mode):
    env = gym.make(TOY_ID, modality=modality, query_mode=query_mode, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


def test_batch_observation_contract():
    env = toy(modality="both", subset="test")
    obs, info = env.reset(seed=3)
    assert obs["support_images"].shape == (25, 3, 32, 48) and obs["support_images"].dtype == np.uint8
    assert obs["query_images"].shape == (20, 3, 32, 48)
    assert obs["support_objects"].shape == (25, 3, 4) and obs["support_objects"].dtype == np.float32
    assert obs["support_object_mask"].shape == (25, 3)
    assert sorted(obs["support_labels"].tolist()) == [0] * 20 + [1] * 5
    assert len(info["fingerprint"]) == 64 and info["concept_id"] in ToyFamily.concepts
    assert "concept" not in info
    obs2, _, terminated, truncated, info2 = env.step(np.zeros(20, dtype=np.int8))
    assert terminated and not truncated
    assert info2["query_labels"].shape == (20,) and info2["score"] == 0.5
    assert info2["correct"].dtype == bool


def test_reward_is_class_balanced_accuracy():
    env = toy(modality="scene")
    env.reset(seed=0)
    labels = env._episode.query_labels
    _, reward, *_ = env.step(labels.astype(np.int8))
    assert reward == 1.0
    env.reset(seed=0)
    _, reward, *_ = env.step((1 - labels).astype(np.int8))
    assert reward == 0.0


def test_reveal_concept_and_options():
    env = toy(reveal_concept=True)
    _, info = env.reset(seed=1, options={"concept": "all-red"})
    assert info["concept_id"] == "all-red" and info["concept"] == "toy concept all-red"


def test_sequential_mode_plays_every_query():
    env = toy(query_mode="sequential", modality="scene")
    obs, _ = env.reset(seed=5)
    assert obs["query_objects"].shape == (3, 4)
    rewards, steps, terminated = [], 0, False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(0)
        rewards.append(reward)
        steps += 1
        assert info["query_label"] in (0, 1) and not truncated
    assert steps == 25
    assert info["score"] == 0.5 and info["query_labels"].shape == (25,)
    assert sum(rewards) == pytest.approx(0.5, abs=1e-12)  # all "negative": the negatives' half only


def test_same_seed_same_fingerprint_and_different_seeds_differ():
    env = toy(modality="both")
    prints = [env.reset(seed=s)[1]["fingerprint"] for s in (7, 7, 8)]
    assert prints[0] == prints[1] != prints[2]


def test_fingerprint_covers_modality_and_size():
    a = toy(modality="image").reset(seed=2)[1]["fingerprint"]
    b = toy(modality="both").reset(seed=2)[1]["fingerprint"]
    c = toy(modality="image", image_size=96).reset(seed=2)[1]["fingerprint"]
    assert len({a, b, c}) == 3


def test_image_size_int_keeps_aspect_and_list_is_exact():
    assert toy(image_size=96).image_shape == (64, 96)
    assert toy(image_size=[20, 30]).image_shape == (20, 30)


def test_render_returns_grid_before_and_after_step():
    env = toy(render_mode="rgb_array", modality="scene")
    env.reset(seed=0)
    before = env.render()
    env.step(np.zeros(25, dtype=np.int8))
    after = env.render()
    assert before.ndim == 3 and before.shape[2] == 3 and before.dtype == np.uint8
    assert not np.array_equal(before, after)


def test_observations_are_fresh_copies():
    env = toy(modality="both")
    obs, _ = env.reset(seed=0)
    obs["support_images"][:] = 0
    obs2, *_ = env.step(np.zeros(25, dtype=np.int8))
    assert obs2["support_images"].any()


# ----------------------------------------------------------------------------- bad input
def test_step_before_reset():
    with pytest.raises(RuntimeError, match="before reset"):
        toy().step(np.zeros(25, dtype=np.int8))


def test_step_after_episode_end():
    env = toy()
    env.reset(seed=0)
    env.step(np.zeros(25, dtype=np.int8))
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(np.zeros(25, dtype=np.int8))


@pytest.mark.parametrize(
    "action, error, message",
    [
        (np.zeros(24, dtype=np.int8), ValueError, r"action has shape \(24,\); expected \(25,\): one 0/1 label per query"),
        (np.zeros((25, 1), dtype=np.int8), ValueError, r"shape \(25, 1\)"),
        (np.zeros(25, dtype=np.float32), TypeError, "dtype float32"),
        (np.full(25, 2, dtype=np.int8), ValueError, "action holds 2; expected only 0 and 1"),
    ],
)
def test_bad_batch_actions(action, error, message):
    env = toy()
    env.reset(seed=0)
    with pytest.raises(error, match=message):
        env.step(action)


@pytest.mark.parametrize("action, message", [(2, "action 2 is not a label"), ([0, 1], r"shape \(2,\)"), (0.5, "dtype float64")])
def test_bad_sequential_actions(action, message):
    env = toy(query_mode="sequential")
    env.reset(seed=0)
    with pytest.raises((ValueError, TypeError), match=message):
        env.step(action)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"colour": "red"}, TypeError, r"unknown ConceptEnv argument\(s\) \['colour'\]"),
        ({"subset": "val"}, ValueError, "unknown subset 'val'.*'train', 'test'"),
        ({"modality": "audio"}, ValueError, "unknown modality 'audio'"),
        ({"query_mode": "stream"}, ValueError, "unknown query_mode 'stream'"),
        ({"render_mode": "human"}, ValueError, "unknown render_mode 'human'"),
        ({"image_size": 8}, ValueError, r"image_size 8 gives 5x8 pixels; each side must lie in 16\.\.640"),
        ({"image_size": [700, 64]}, ValueError, "700x64"),
        ({"image_size": "big"}, TypeError, r"image_size must be an int \(the longer side\) or \[height, width\]"),
        ({"reveal_concept": "yes"}, TypeError, "reveal_concept must be a bool"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        toy(**kwargs)


def test_unknown_concept_and_reset_option():
    env = toy()
    with pytest.raises(ValueError, match="unknown concept 'none-red'"):
        env.reset(seed=0, options={"concept": "none-red"})
    with pytest.raises(ValueError, match=r"unknown reset option\(s\) \['level'\]"):
        env.reset(seed=0, options={"level": 3})


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown task family 'bongard'"):
        ConceptEnv(family="bongard")
