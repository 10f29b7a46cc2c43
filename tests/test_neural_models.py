"""Neural baselines: architecture properties that hold for any weights (no training, no shipped files)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import pix2code_env
from agents.neural.encoders import ImageCells, ResNet18Layer3, feature_map_shape
from agents.neural.models import ProtoNet, SetTransformer, balanced_accuracy, balanced_loss
from agents.neural.ppo import FewShotExtractor, check_space, observation_space
from agents.neural.inputs import ObservationError
from agents.neural.spec import ModelSpec

CURI = "Pix2Code-CURI-v0"
SCHEMA = pix2code_env.object_schema(CURI).names


def scene_spec(model="protonet", head="gap", dim=32):
    return ModelSpec(model, CURI, "scene", "schema", head, dim, schema=SCHEMA,
                     options={"head_width": 32, "layers": 1, "heads": 2, "dropout": 0.0})


def scene_batch(seed=0, b=2, s=25, q=6):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(b, s + q, 5, generator=g) > 0.3
    mask[..., 0] = True
    objects = torch.rand(b, s + q, 5, 19, generator=g) * mask.unsqueeze(-1)
    labels = (torch.arange(s) < 5).long().expand(b, s).clone()
    return {"support": objects[:, :s], "support_mask": mask[:, :s], "support_labels": labels,
            "query": objects[:, s:], "query_mask": mask[:, s:]}


@pytest.mark.parametrize("model_cls, model, head", [
    (ProtoNet, "protonet", "gap"), (ProtoNet, "protonet", "rel_net"), (ProtoNet, "protonet", "transformer"),
    (SetTransformer, "transformer", "gap"),
])
def test_episode_models_ignore_support_order_and_padding(model_cls, model, head):
    torch.manual_seed(0)
    net = model_cls(scene_spec(model, head)).eval()
    batch = scene_batch()
    with torch.no_grad():
        logits = net(batch)
        order = torch.randperm(25)
        shuffled = dict(batch, support=batch["support"][:, order], support_mask=batch["support_mask"][:, order],
                        support_labels=batch["support_labels"][:, order])
        assert torch.allclose(net(shuffled), logits, atol=1e-4)
        padded = dict(batch, query=batch["query"] + 5.0 * (~batch["query_mask"]).unsqueeze(-1))
        assert torch.allclose(net(padded), logits, atol=1e-4)  # values behind the mask never count
    assert logits.shape == (2, 6)


def test_set_transformer_queries_do_not_see_each_other():
    torch.manual_seed(0)
    net = SetTransformer(scene_spec("transformer")).eval()
    batch = scene_batch()
    changed = dict(batch, query=batch["query"].clone())
    changed["query"][:, 0] = 0.7
    with torch.no_grad():
        a, b = net(batch), net(changed)
    assert torch.allclose(a[:, 1:], b[:, 1:], atol=1e-5) and not torch.allclose(a[:, 0], b[:, 0])


def test_protonet_logit_is_squared_distance_difference():
    net = ProtoNet(scene_spec())
    support = torch.tensor([[[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]]])
    labels = torch.tensor([[1, 0, 0]])
    query = torch.tensor([[[1.0, 0.0]]])  # pos proto (0,0), neg proto (3,0): d_pos 1, d_neg 4
    assert net.logit(support, labels, query).item() == pytest.approx(3.0)


def test_balanced_loss_and_accuracy_weigh_classes_equally():
    labels = torch.tensor([[1, 0, 0, 0]])
    all_negative = torch.tensor([[-5.0, -5.0, -5.0, -5.0]])
    assert balanced_accuracy(all_negative, labels).item() == 0.5
    assert balanced_accuracy(torch.tensor([[5.0, -5.0, -5.0, 5.0]]), labels).item() == pytest.approx(5 / 6)
    assert balanced_loss(torch.zeros(1, 4), labels).item() == pytest.approx(np.log(2), abs=1e-6)


def test_resnet_trunk_matches_torchvision_layout():
    trunk = ResNet18Layer3()
    out = trunk(torch.zeros(1, 3, 160, 240))
    assert out.shape == (1, 256, 10, 15)  # CURI: a 10x15 map for a 160x240 input
    assert feature_map_shape("resnet18", (160, 240)) == (10, 15)
    cells = ImageCells("resnet18", (160, 240))
    assert cells.grid == (10, 8)  # CURI's 80-cell grid after the stride-(1, 2) projection
    assert cells(torch.zeros(2, 3, 160, 240, dtype=torch.uint8)).features.shape == (2, 80, 64 + 18)
    n_params = sum(p.numel() for p in trunk.parameters())
    assert n_params == 2_782_784  # torchvision resnet18 up to layer3


def test_ppo_extractor_encodes_each_distinct_support_set_once():
    env = gym.make(CURI, modality="image", query_mode="sequential", image_size=[32, 48])
    extractor = FewShotExtractor(env.observation_space, dim=16)
    obs, _ = env.reset(seed=0)
    other, _ = env.reset(seed=1)
    support = torch.from_numpy(np.stack([obs["support_images"], other["support_images"], obs["support_images"]]))
    calls = []
    extractor.cnn.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    shared = extractor.encode_support(support)  # training: one batch of the distinct support sets
    assert calls == [50]  # two distinct support sets of 25 images, not three
    with torch.no_grad():
        direct = extractor.encode(support.flatten(0, 1)).view(3, 25, -1)
        calls.clear()
        cached = extractor.encode_support(support)  # rollouts: remembered across rows and calls
        extractor.encode_support(support[1:2])
    assert calls == [25, 25]
    assert torch.allclose(shared, direct, atol=1e-5) and torch.allclose(cached, direct, atol=1e-5)
    shared.sum().backward()
    assert extractor.cnn[0].weight.grad is not None
    with torch.no_grad():
        extractor.cnn[0].weight.add_(0.01)  # new weights: remembered embeddings are dropped
        calls.clear()
        extractor.encode_support(support[:1])
    assert calls == [25]
    features = extractor({"support_images": support, "query_image": support[:, 0],
                          "support_labels": torch.from_numpy(np.stack([obs["support_labels"]] * 3)).float()})
    assert features.shape == (3, extractor.features_dim)


def test_ppo_extractor_refuses_what_it_cannot_read():
    scene = gym.make(CURI, modality="scene", query_mode="sequential")
    with pytest.raises(ObservationError, match=r"reads \['support_images', 'support_labels', 'query_image'\]"):
        check_space(scene.observation_space)
    spec = ModelSpec("ppo", CURI, "image", "tiny", "proto", 16, image_shape=(48, 72))
    assert check_space(observation_space(spec)) == (25, (48, 72))
