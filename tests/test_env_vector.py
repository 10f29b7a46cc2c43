"""Vectorisation and RL-library compatibility on the toy family (the registry-wide checks run elsewhere)."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from tests.test_env_contract import TOY_ID
from tests.toy_family import make_toy_env


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_same_step(mode):
    envs = gym.make_vec(TOY_ID, num_envs=2, vectorization_mode=mode,
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, modality="scene")
    try:
        obs, infos = envs.reset(seed=10)
        assert obs["support_objects"].shape == (2, 25, 3, 4)
        assert len(set(infos["fingerprint"])) == 2
        for _ in range(3):
            obs, rewards, terminated, truncated, infos = envs.step(np.zeros((2, 25), dtype=np.int8))
            assert terminated.all() and not truncated.any()
            np.testing.assert_allclose(rewards, 0.5)
            assert "final_info" in infos
    finally:
        envs.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_default_autoreset(mode):
    envs = gym.make_vec(TOY_ID, num_envs=2, vectorization_mode=mode, modality="image")
    try:
        obs, _ = envs.reset(seed=0)
        assert obs["query_images"].shape == (2, 25, 3, 32, 48)
        _, rewards, terminated, _, _ = envs.step(np.zeros((2, 25), dtype=np.int8))
        assert terminated.all()
    finally:
        envs.close()


ADVISORY = ("minimal resolution", "unconventional shape", "is an image", "channels-last", "upper and lower bounds")


@pytest.mark.parametrize("modality", ["image", "scene", "both"])
def test_sb3_check_env_sequential(modality):
    from stable_baselines3.common.env_checker import check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(make_toy_env(query_mode="sequential", modality=modality))
    unexpected = [str(w.message) for w in caught if not any(a in str(w.message) for a in ADVISORY)]
    assert unexpected == []
