"""Golden fingerprints: what a seed produces may only change together with the id's -vN.

If one of these fails, an episode changed. Either the change was a mistake, or it is deliberate
and the affected ids need a new version (keeping the old one) before the values here change.
"""

import gymnasium as gym
import pytest

import pix2code_env  # noqa: F401

GOLDEN = [
    ("Pix2Code-Kandinsky-v0", "train", "image",
     "6_pair1_not_same_color_or_one_is_red_triangle_pair2_not_same_size_and_not_one_is_red_triangle",
     "4736f9b3315746b4ae57be91cd8eb191e2c7cfbbe2efe81f4ff2d99bff57cb68"),
    ("Pix2Code-Kandinsky-v0", "test", "image",
     "6_pair1_not_same_color_and_same_size_pair2_not_same_color_and_one_is_red_triangle",
     "61c9dfa491572473e373e5db4d91d011999a049456700630ef114f544a8c58fd"),
    ("Pix2Code-Kandinsky-TwoPairs-v0", "train", "image", "twopairs",
     "d64779cc7900be2f21633a1248f830f5908b673741bc442cc179fcaa6c478259"),
    ("Pix2Code-CURI-v0", "test", "scene", "02537",
     "43f570083d66619a89682134080964c5a26bd3cf59bbff300b0e20afd8c2e0af"),
    ("Pix2Code-CURI-Counting-v0", "train", "scene", "02575",
     "84c343e138f785e5a1a7dcc273feb5f7d033e33eb091a59af2aa01bd49675896"),
    ("Pix2Code-CURIHans-v0", "train", "scene", "03113",
     "90209e99010c3a1f5ca61500c96d8f5a5c263a953767c83af0e3583a8a36d6ca"),
]


@pytest.mark.parametrize("env_id, subset, modality, concept_id, fingerprint", GOLDEN)
def test_golden_fingerprint(env_id, subset, modality, concept_id, fingerprint):
    _, info = gym.make(env_id, subset=subset, modality=modality).reset(seed=2026)
    assert (info["concept_id"], info["fingerprint"]) == (concept_id, fingerprint)
