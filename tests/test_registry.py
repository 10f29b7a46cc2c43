"""Every registered id, in every modality and query mode, against Gymnasium's and SB3's checkers."""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import pix2code_env
from pix2code_env.registration import CURI_SPLITS, KANDINSKY_PATTERNS

IDS = pix2code_env.env_ids()
MODES = [(m, q) for m in ("image", "scene", "both") for q in ("batch", "sequential")]
SB3_ADVISORY = ("minimal resolution", "unconventional shape", "is an image", "channels-last", "upper and lower bounds")


def test_every_id_is_registered_with_json_spec():
    assert len(IDS) == 1 + len(KANDINSKY_PATTERNS) + 1 + len(CURI_SPLITS) + 1
    for env_id in IDS:
        spec = gym.spec(env_id)
        assert gym.envs.registration.EnvSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("modality, query_mode", MODES)
def test_check_env(env_id, modality, query_mode):
    env = gym.make(env_id, modality=modality, query_mode=query_mode, render_mode="rgb_array", image_size=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env_sequential(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(env_id, query_mode="sequential", modality="both", image_size=64).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env)
    assert [str(w.message) for w in caught if not any(a in str(w.message) for a in SB3_ADVISORY)] == []


@pytest.mark.parametrize("env_id", ["Pix2Code-Kandinsky-v0", "Pix2Code-CURI-v0"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(env_id, mode):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode=mode, modality="scene",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    try:
        _, infos = envs.reset(seed=3)
        n_query = envs.single_action_space.n
        _, rewards, terminated, _, infos = envs.step(np.zeros((2, n_query), dtype=np.int8))
        assert terminated.all() and np.allclose(rewards, 0.5)
    finally:
        envs.close()


@pytest.mark.parametrize("env_id", IDS)
def test_reveal_concept_only_on_request(env_id):
    env = gym.make(env_id, modality="scene")
    _, info = env.reset(seed=0)
    assert "concept" not in info and info["concept_id"]
    revealed = gym.make(env_id, modality="scene", reveal_concept=True)
    _, info2 = revealed.reset(seed=0)
    assert info2["concept_id"] == info["concept_id"] and isinstance(info2["concept"], str) and info2["concept"]
    assert info2["fingerprint"] == info["fingerprint"]


@pytest.mark.parametrize("env_id", ["Pix2Code-Kandinsky-v0", "Pix2Code-CURI-v0"])
def test_env_pickles(env_id):
    env = gym.make(env_id, modality="scene")
    clone = pickle.loads(pickle.dumps(env))
    assert clone.reset(seed=1)[1]["fingerprint"] == env.reset(seed=1)[1]["fingerprint"]


def test_subset_query_sizes():
    assert gym.make("Pix2Code-Kandinsky-v0", subset="train").action_space.n == 25
    assert gym.make("Pix2Code-Kandinsky-v0", subset="test").action_space.n == 200
    assert gym.make("Pix2Code-CURI-v0", subset="val").action_space.n == 25


def test_unknown_id_names_alternatives():
    with pytest.raises(ValueError, match="unknown environment id 'Pix2Code-Bongard-v0'"):
        pix2code_env.env_spec("Pix2Code-Bongard-v0")


def test_image_size_is_the_longer_side_and_keeps_the_aspect_ratio():
    assert gym.make("Pix2Code-Kandinsky-v0", image_size=16).unwrapped.image_shape == (16, 16)
    assert gym.make("Pix2Code-CURI-v0", image_size=32).unwrapped.image_shape == (21, 32)
    assert gym.make("Pix2Code-CURI-v0", image_size=[80, 120]).unwrapped.image_shape == (80, 120)
    with pytest.raises(ValueError, match=r"gives 13x20 pixels; each side must lie in 16\.\.640 for the curi family"):
        gym.make("Pix2Code-CURI-v0", image_size=20)
    with pytest.raises(ValueError, match=r"image_size \[100, 100\] changes the curi family's aspect ratio 3:2"):
        gym.make("Pix2Code-CURI-v0", image_size=[100, 100])


def test_bad_family_options_and_concepts_are_named():
    from tasks import make_family

    with pytest.raises(ValueError, match=r"unknown option\(s\) \['colour'\] for the curi family; expected \['split', 'confounded', 'concept_list', 'train_ids'\]"):
        make_family("curi", colour="red")
    with pytest.raises(TypeError, match="family options must be JSON values"):
        make_family("curi", split=object())
    env = gym.make("Pix2Code-CURI-BindingColor-v0", modality="scene")
    family = env.unwrapped.family
    test_only = next(c for c in family.concept_ids("test") if c not in set(family.concept_ids("train")))
    with pytest.raises(ValueError, match=rf"unknown concept '{test_only}' .* subset 'train' \(it belongs to subset\(s\) \['val', 'test'\]\)"):
        env.reset(seed=0, options={"concept": test_only})
    with pytest.raises(TypeError, match=r"a concept id is a string, got \['x'\]"):
        env.reset(seed=0, options={"concept": ["x"]})
    with pytest.raises(TypeError, match="reset options must be a dict"):
        env.reset(seed=0, options=["concept"])
