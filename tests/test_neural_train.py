"""``pix2code train protonet|transformer|ppo``: tiny runs of a few steps, resumption, determinism, bad input."""

import json

import numpy as np
import pytest
import torch

from agents.neural.config import model_spec, settings
from agents.neural.ppo import build_policy, start_from
from agents.neural.train import main, sources
from agents.neural.weights import WeightsError, load_weights
from agents.registry import make_agent

CURI = "Pix2Code-CURI-v0"
KP = "Pix2Code-Kandinsky-v0"
TINY = ["--val-episodes", "3", "--val-every", "2", "--chunk", "4", "--batch", "2", "--workers", "0", "--dim", "16"]


def tiny(model, out, *extra, env=CURI, steps=3):
    return [model, "--env", env, "--out", str(out), "--max-steps", str(steps), *TINY, *extra]


def test_protonet_trains_resumes_and_is_deterministic(tmp_path):
    assert main(tiny("protonet", tmp_path / "a", "--modality", "scene", steps=2)) == 0
    assert main(tiny("protonet", tmp_path / "a", "--modality", "scene", steps=4)) == 0  # resumes at step 2
    card = json.loads((tmp_path / "a" / "protonet.json").read_text())
    assert card["steps"] == 4 and card["stopped"] == "max_steps" and card["command"].startswith("pix2code train protonet")
    assert card["validation"] == "val subset" and 0.0 <= card["val"]["class_balanced_accuracy"] <= 1.0
    assert (tmp_path / "a" / "curve.png").stat().st_size > 1000
    assert main(tiny("protonet", tmp_path / "b", "--modality", "scene", steps=4)) == 0  # in one go
    state_a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)["model"]
    state_b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    agent = make_agent("protonet", env_id=CURI, weights=tmp_path / "a" / "protonet.pt")
    assert agent.modalities[0] == "scene" and agent.spec.dim == 16


def test_transformer_and_image_protonet_train_a_few_steps(tmp_path):
    assert main(tiny("transformer", tmp_path / "t", "--modality", "scene", steps=2)) == 0
    assert main(tiny("protonet", tmp_path / "i", "--modality", "image", "--image-size", "16x24", steps=2)) == 0
    spec, state, card = load_weights(tmp_path / "i" / "protonet.pt")
    assert spec.image_shape == (16, 24) and card["settings"]["encoder"] == "conv4"


def test_ppo_trains_a_rollout(tmp_path):
    argv = ["ppo", "--env", CURI, "--out", str(tmp_path / "p"), "--max-steps", "40", "--val-episodes", "2",
            "--val-every", "40", "--batch", "20", "--image-size", "32x48", "--rollout", "10", "--dim", "8"]
    assert main(argv) == 0
    card = json.loads((tmp_path / "p" / "ppo.json").read_text())
    assert card["steps"] >= 40 and card["spec"]["image_shape"] == [32, 48]
    agent = make_agent("ppo", env_id=CURI, weights=tmp_path / "p" / "ppo.pt")
    assert agent.env_kwargs == {"modality": "image", "image_size": [32, 48]}


def test_ppo_starts_from_an_image_protonet(tmp_path):
    assert main(tiny("protonet", tmp_path / "proto", "--modality", "image", "--image-size", "16x24", steps=1)) == 0
    proto = tmp_path / "proto" / "protonet.pt"
    spec, state, proto_card = load_weights(proto)
    ppo_spec = model_spec(settings(["ppo", "--env", CURI, "--out", "unused", "--init", str(proto)]))
    assert (ppo_spec.encoder, ppo_spec.head, ppo_spec.dim, ppo_spec.image_shape) == ("conv4", "gap", 16, (16, 24))
    policy = build_policy(ppo_spec)
    note = start_from(policy, ppo_spec, proto)
    copied = policy.features_extractor.cnn.state_dict()
    assert all(torch.equal(copied[k], state["item." + k]) for k in copied) and note["sha256"] == proto_card["sha256"]
    argv = ["ppo", "--env", CURI, "--out", str(tmp_path / "p"), "--init", str(proto), "--max-steps", "20",
            "--val-episodes", "2", "--val-every", "20", "--batch", "10", "--rollout", "5"]
    assert main(argv) == 0
    card = json.loads((tmp_path / "p" / "ppo.json").read_text())
    assert card["init"]["sha256"] == proto_card["sha256"] and card["spec"]["encoder"] == "conv4"
    agent = make_agent("ppo", env_id=CURI, weights=tmp_path / "p" / "ppo.pt")
    assert agent.env_kwargs == {"modality": "image", "image_size": [16, 24]}


def test_ppo_init_must_be_an_image_protonet(tmp_path):
    assert main(tiny("protonet", tmp_path, "--modality", "scene", steps=1)) == 0
    with pytest.raises(SystemExit, match="expected image protonet weights, got protonet on scene"):
        settings(["ppo", "--env", CURI, "--out", "unused", "--init", str(tmp_path / "protonet.pt")])
    with pytest.raises(SystemExit, match="not a readable weight card"):
        settings(["ppo", "--env", CURI, "--out", "unused", "--init", str(tmp_path / "missing.pt")])


def test_kandinsky_validates_on_held_out_train_concepts():
    s = settings(["protonet", "--env", KP, "--out", "unused", "--modality", "scene"])
    train, val, note = sources(s)
    assert len(val.concepts) == 20 and len(train.concepts) == 80 and not set(val.concepts) & set(train.concepts)
    assert val.subset == "train" and "held out" in note["validation"]


def test_corrupt_checkpoint_names_file_and_command(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    assert main(tiny("protonet", out, "--modality", "scene")) == 1
    err = capsys.readouterr().err.replace("\n", "")
    assert str(out / "checkpoint.pt") in err and "pix2code train protonet --env Pix2Code-CURI-v0" in err


def test_checkpoint_of_another_run_is_refused(tmp_path, capsys):
    assert main(tiny("protonet", tmp_path, "--modality", "scene", steps=1)) == 0
    assert main(tiny("protonet", tmp_path, "--modality", "scene", "--head", "rel_net", steps=1)) == 1
    assert "belongs to another run" in capsys.readouterr().err.replace("\n", "")


@pytest.mark.parametrize("argv, message", [
    (["ppo", "--env", CURI, "--out", "x", "--modality", "scene"], "reads image observations, not 'scene'"),
    (["protonet", "--env", "Pix2Code-Nope-v0", "--out", "x"], "unknown environment id 'Pix2Code-Nope-v0'"),
    (["protonet", "--env", CURI, "--out", "x", "--modality", "scene", "--encoder", "conv4"], "reads images"),
    (["protonet", "--env", CURI, "--out", "x", "--modality", "image", "--image-size", "10x15"], "cannot read Pix2Code-CURI-v0"),
])
def test_training_refuses_what_the_model_cannot_read(argv, message):
    with pytest.raises(SystemExit, match=message):
        main(argv)


def test_weights_for_another_env_or_corrupt_file(tmp_path):
    assert main(tiny("protonet", tmp_path, "--modality", "scene", steps=1)) == 0
    weights = tmp_path / "protonet.pt"
    with pytest.raises(WeightsError, match=r"trained for env Pix2Code-CURI-v0, modality 'scene'.*agent is for env Pix2Code-CURI-Comp-v0"):
        make_agent("protonet", env_id="Pix2Code-CURI-Comp-v0", weights=weights)
    with pytest.raises(WeightsError, match="modality 'image' was asked for"):
        make_agent("protonet", env_id=CURI, modality="image", weights=weights)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"is corrupt.*rebuild it with: pix2code train protonet"):
        make_agent("protonet", env_id=CURI, weights=weights)
    assert np.isfinite(1.0)
