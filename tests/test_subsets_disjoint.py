"""Subsets never share episodes: 500 episodes per subset of every id, no fingerprint and no scene in
common between train and test (nor between val and test, which CURI draws from scenes of their own).

A scene is identified by its object table (continuous positions and sizes make two different scenes'
tables differ), so "no scene shared" is checked on what an agent sees. Fingerprints hash content,
so identical episodes could not hide behind different fingerprints.
"""

import gymnasium as gym
import numpy as np
import pytest

import pix2code_env

EPISODES = 500


def _collect(env_id: str, subset: str) -> tuple[set[str], set[bytes]]:
    env = gym.make(env_id, subset=subset, modality="scene")
    fingerprints, scenes = set(), set()
    for seed in range(EPISODES):
        obs, info = env.reset(seed=seed)
        fingerprints.add(info["fingerprint"])
        for prefix in ("support", "query"):
            tables, mask = obs[f"{prefix}_objects"], obs[f"{prefix}_object_mask"].astype(bool)
            for table, valid in zip(tables, mask):
                scenes.add(table[valid].tobytes())
    env.close()
    return fingerprints, scenes


@pytest.mark.slow
@pytest.mark.parametrize("env_id", pix2code_env.env_ids())
def test_subsets_share_no_episode_and_no_scene(env_id):
    subsets = gym.make(env_id).unwrapped.family.subsets
    seen = {subset: _collect(env_id, subset) for subset in subsets}
    for a, b in (("train", "test"), ("val", "test"), ("train", "val")):
        if a in seen and b in seen:
            assert not seen[a][0] & seen[b][0], f"{env_id}: {a} and {b} share an episode fingerprint"
            assert not seen[a][1] & seen[b][1], f"{env_id}: {a} and {b} share a scene"
    for subset, (fingerprints, _) in seen.items():
        assert len(fingerprints) == EPISODES, f"{env_id} {subset}: two seeds gave the same episode"


@pytest.mark.parametrize("env_id", ["Pix2Code-CURI-v0", "Pix2Code-CURI-IID-v0", "Pix2Code-CURIHans-v0"])
def test_the_subsets_that_used_to_repeat_each_other_differ(env_id):
    """Before subsets had streams and banks of their own, these gave byte-identical episodes."""
    tables = []
    for subset in ("train", "val", "test"):
        obs, info = gym.make(env_id, subset=subset, modality="scene").reset(seed=11)
        tables.append((info["fingerprint"], obs["query_objects"].tobytes()))
    assert len({fp for fp, _ in tables}) == 3 and len({q for _, q in tables}) == 3


def test_identical_episodes_share_a_fingerprint():
    """Fingerprints hash content: the same variant under two ids gives the same episode."""
    a = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene").reset(seed=4)[1]
    b = gym.make("Pix2Code-CURI-IID-v0", subset="test", modality="scene").reset(seed=4)[1]
    assert a["fingerprint"] == b["fingerprint"]
    assert a["identity"]["env_id"] != b["identity"]["env_id"]
    assert a["identity"] | {"env_id": None} == b["identity"] | {"env_id": None}


def test_classic_pattern_subsets_differ_for_the_same_seed():
    one = gym.make("Pix2Code-Kandinsky-OneRed-v0", subset="train", modality="scene").reset(seed=0)[0]
    two = gym.make("Pix2Code-Kandinsky-OneRed-v0", subset="test", modality="scene").reset(seed=0)[0]
    assert not np.array_equal(one["support_objects"], two["support_objects"])
