"""Golden fingerprints: what a seed produces may only change together with the id's -vN.

If one of these fails, an episode changed. Either the change was a mistake, or it is deliberate
and the affected ids need a new version (keeping the old one) before the values here change.
"""

import gymnasium as gym
import pytest

import pix2code_env  # noqa: F401

GOLDEN = [
    ("Pix2Code-Kandinsky-v0", "train", "image",
     "6_same_color_or_one_is_red_triangle",
     "939ca1f9f905472acf80c5c43855b86d8975863a0eff741b82ff372774a80044"),
    ("Pix2Code-Kandinsky-v0", "test", "image",
     "4_pair1_same_color_and_not_same_size",
     "8f7b792f890c78cc319078c5f08de10af0849bba4e40815dad96f702469c70ed"),
    ("Pix2Code-Kandinsky-TwoPairs-v0", "train", "image",
     "twopairs",
     "87a80454495a14f86f2983823e456cfdb6a94c825722ad8cb6eb6d677cb8098a"),
    ("Pix2Code-CURI-v0", "test", "scene",
     "10142",
     "ddeb39b737e0fa3e5240555caeaa92939ad4ccf25984742ccc2c86e221ba00a5"),
    ("Pix2Code-CURI-Counting-v0", "train", "scene",
     "03294",
     "37691356e2f2eca814aacf0e8a98edb4c7986d1e4b803de27b665a96b6e4e83e"),
    ("Pix2Code-CURIHans-v0", "train", "scene",
     "00033",
     "25cec51861680c497c7670fd61ee4da71299ce5468fc398100ffddfefebfe179"),
]


@pytest.mark.parametrize("env_id, subset, modality, concept_id, fingerprint", GOLDEN)
def test_golden_fingerprint(env_id, subset, modality, concept_id, fingerprint):
    _, info = gym.make(env_id, subset=subset, modality=modality).reset(seed=2026)
    assert (info["concept_id"], info["fingerprint"]) == (concept_id, fingerprint)
