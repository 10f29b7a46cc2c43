"""The Pix2Code agent on pixels: extractor, then the same search, weighing the extractor's doubts."""

import gymnasium as gym
import numpy as np
import pytest

import pix2code_env  # noqa: F401
from agents import make_agent
from agents.evaluate import evaluate_agent
from leaderboard.cli import main as cli


def test_image_agent_plays_curi_episodes():
    # measured on 200 test episodes per split in benchmarks/bench_perception.py; a floor well below
    agent = make_agent("pix2code", modality="image", env_id="Pix2Code-CURI-v0")
    assert agent.modalities[0] == "image"
    result = evaluate_agent(agent, "Pix2Code-CURI-v0", episodes=4, seed=100, env_kwargs={"subset": "test"})
    assert result.mean >= 0.75
    diagnostics = result.records[0].diagnostics
    assert diagnostics["images_read"] == 50 and diagnostics["uncertainty"]
    assert {"extraction_seconds", "doubtful_readings", "support_doubted"} <= set(diagnostics)


def test_image_agent_on_kandinsky_and_without_uncertainty():
    env_id = "Pix2Code-Kandinsky-v0"
    agent = make_agent("pix2code", modality="image", env_id=env_id, uncertainty=False)
    result = evaluate_agent(agent, env_id, seeds=[0], concepts=["2_same_color"], env_kwargs={"subset": "test"})
    assert result.mean >= 0.7
    assert result.records[0].diagnostics["doubtful_readings"] == 0


def test_sequential_queries_are_read_one_by_one():
    result = evaluate_agent(make_agent("pix2code", modality="image", env_id="Pix2Code-CURI-v0"), "Pix2Code-CURI-v0",
                            episodes=1, seed=3, env_kwargs={"subset": "test", "query_mode": "sequential"})
    assert len(result.records[0].predictions) == 25


def test_image_agent_needs_images():
    env = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene")
    obs, _ = env.reset(seed=0)
    agent = make_agent("pix2code", modality="image", env_id="Pix2Code-CURI-v0")
    with pytest.raises(ValueError, match="modality 'image' or 'both'"):
        agent.fit(obs)
    with pytest.raises(ValueError, match="modality"):
        make_agent("pix2code", modality="pixels", env_id="Pix2Code-CURI-v0")


def test_show_draws_detected_boxes(tmp_path):
    out = tmp_path / "episode.png"
    assert cli(["show", "Pix2Code-CURI-v0", "--seed", "2", "--subset", "test", "--agent", "pix2code",
                "--modality", "image", "--out", str(out), "--max-queries", "10"]) == 0
    plain = tmp_path / "plain.png"
    assert cli(["show", "Pix2Code-CURI-v0", "--seed", "2", "--subset", "test", "--out", str(plain),
                "--max-queries", "10"]) == 0
    from PIL import Image

    from agents.pix2code.perception.draw import PALETTE

    boxed, bare = np.asarray(Image.open(out))[..., :3], np.asarray(Image.open(plain))[..., :3]
    assert boxed.shape[1] == bare.shape[1] and boxed.shape[0] > bare.shape[0]  # the explanation is written below
    boxed = boxed[: bare.shape[0]]
    first_box = (boxed == PALETTE[0]).all(axis=-1).sum()
    assert first_box > 100 and (bare == PALETTE[0]).all(axis=-1).sum() < first_box / 10
