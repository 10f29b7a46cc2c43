"""An episode is a pure function of (id, subset, seed): same fingerprint in a fresh process, for 200 seeds."""

import json
import subprocess
import sys

import gymnasium as gym
import pytest

import pix2code_env  # noqa: F401

SEEDS = range(200)
SCRIPT = """
import json, sys, gymnasium as gym, pix2code_env
env = gym.make(sys.argv[1], subset=sys.argv[2], modality=sys.argv[3])
print(json.dumps([env.reset(seed=s)[1]["fingerprint"] for s in range(int(sys.argv[4]))]))
"""


def fingerprints(env_id: str, subset: str, modality: str, n: int) -> list[str]:
    env = gym.make(env_id, subset=subset, modality=modality)
    return [env.reset(seed=s)[1]["fingerprint"] for s in range(n)]


@pytest.mark.parametrize(
    "env_id, subset, modality, n",
    [
        ("Pix2Code-Kandinsky-v0", "train", "image", 200),
        ("Pix2Code-Kandinsky-OnlinePair-v0", "test", "image", 20),
        ("Pix2Code-CURI-v0", "train", "scene", 200),
        ("Pix2Code-CURI-Boolean-v0", "test", "image", 20),
        ("Pix2Code-CURIHans-v0", "train", "image", 20),
    ],
)
def test_fingerprints_match_across_processes(env_id, subset, modality, n):
    here = fingerprints(env_id, subset, modality, n)
    out = subprocess.run([sys.executable, "-c", SCRIPT, env_id, subset, modality, str(n)],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == here
    assert len(set(here)) == n, "different seeds must give different episodes"
