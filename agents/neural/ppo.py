"""stable-baselines3 PPO on the sequential query mode: a few-shot features extractor and the ``ppo`` agent.

The sequential env shows, at every step, the support images with their labels and one query
image; the action labels the query and the reward is the class-balanced share of a correct
answer, so the return of an episode is its class-balanced accuracy. SB3's default
``MultiInputPolicy`` flattens the 4-D support stack into one enormous vector (25x3x48x72 =
259,200 inputs into each of its two MLPs); :class:`FewShotExtractor` instead encodes every image
with one shared CNN (channel-first, pixels scaled inside), builds label-conditioned prototypes
from the support labels, and hands the policy the query embedding, the prototypes and the
query's distances to them. Support sets are identical for all steps of an episode, and PPO's
minibatches hold many steps of the same episode: each *distinct* support set of a batch is
encoded once (found by an exact integer hash of its pixels), and its embeddings are shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3.common.policies import MultiInputActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from agents.base import Agent, Classifier, query_view, support_view
from agents.neural.inputs import ObservationError, fit_image_size
from agents.neural.spec import ModelSpec
from agents.neural.weights import check_compatible, find_weights, load_weights

NET_ARCH = {"pi": [64], "vf": [64]}


def check_space(observation_space: gym.spaces.Dict) -> tuple[int, tuple[int, int]]:
    """(support size, (H, W)) of a sequential image observation space, or a clear refusal."""
    needed = ("support_images", "support_labels", "query_image")
    missing = [k for k in needed if k not in observation_space.spaces]
    if missing:
        raise ObservationError(
            f"the PPO few-shot extractor reads {list(needed)} (an env made with modality='image' or 'both' and "
            f"query_mode='sequential'); this observation space has no {missing}"
        )
    support = observation_space["support_images"].shape
    query = observation_space["query_image"].shape
    if len(support) != 4 or support[1] != 3 or tuple(query) != tuple(support[1:]):
        raise ObservationError(
            f"support_images {support} and query_image {query} must be channel-first (S, 3, H, W) and (3, H, W)"
        )
    return int(support[0]), (int(support[2]), int(support[3]))


class FewShotExtractor(BaseFeaturesExtractor):
    """Shared CNN over support and query images + label-conditioned prototypes -> policy features."""

    def __init__(self, observation_space: gym.spaces.Dict, dim: int = 64) -> None:
        n_support, (h, w) = check_space(observation_space)
        super().__init__(observation_space, features_dim=3 * dim + 3)
        self.dim = dim
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 32, 4, 4), nn.ReLU(),
            nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, dim, 3, 1, 1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(dim, dim),
        )
        generator = torch.Generator().manual_seed(0x5EED)
        hash_weights = torch.randint(0, 2**31 - 1, (2, n_support * 3 * h * w), generator=generator, dtype=torch.int64)
        self.register_buffer("hash_weights", hash_weights, persistent=False)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` pixels in 0..255 (any dtype) -> ``(N, dim)`` unit vectors."""
        return F.normalize(self.cnn(images.float() / 127.5 - 1.0), dim=-1)

    def encode_support(self, support: torch.Tensor) -> torch.Tensor:
        """``(B, S, 3, H, W)`` -> ``(B, S, dim)``, encoding each distinct support set of the batch once."""
        b, s = support.shape[:2]
        pixels = support.reshape(b, -1)
        keys = pixels.to(torch.int64) @ self.hash_weights.T  # exact: integers, no overflow at these sizes
        _, first, inverse = _unique_rows(keys)
        unique = self.encode(support[first].flatten(0, 1)).view(len(first), s, -1)
        return unique[inverse]

    def combine(self, support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Policy features from support embeddings ``(B, S, D)``, labels ``(B, S)`` and query ``(B, D)``."""
        pos = labels.float().unsqueeze(-1)
        proto_pos = (support * pos).sum(1) / pos.sum(1).clamp_min(1.0)
        proto_neg = (support * (1 - pos)).sum(1) / (1 - pos).sum(1).clamp_min(1.0)
        d_pos = (query - proto_pos).pow(2).sum(-1, keepdim=True)
        d_neg = (query - proto_neg).pow(2).sum(-1, keepdim=True)
        return torch.cat([query, proto_pos, proto_neg, d_pos, d_neg, 4.0 * (d_neg - d_pos)], dim=-1)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        support = self.encode_support(observations["support_images"])
        query = self.encode(observations["query_image"])
        return self.combine(support, observations["support_labels"], query)


def _unique_rows(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unique rows of an int64 ``(B, 2)`` key matrix: (unique keys, first index of each, inverse)."""
    unique, inverse = torch.unique(keys, dim=0, return_inverse=True)
    first = torch.full((len(unique),), keys.shape[0], dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(keys.shape[0]), reduce="amin")
    return unique, first, inverse


def observation_space(spec: ModelSpec) -> gym.spaces.Dict:
    """The sequential observation space a PPO spec was trained on."""
    assert spec.image_shape is not None
    h, w = spec.image_shape
    s = spec.n_support
    return gym.spaces.Dict({
        "support_labels": gym.spaces.MultiBinary(s),
        "support_images": gym.spaces.Box(0, 255, (s, 3, h, w), dtype=np.uint8),
        "query_image": gym.spaces.Box(0, 255, (3, h, w), dtype=np.uint8),
    })


def policy_kwargs(spec: ModelSpec) -> dict[str, Any]:
    return {"features_extractor_class": FewShotExtractor, "features_extractor_kwargs": {"dim": spec.dim},
            "net_arch": dict(NET_ARCH), "normalize_images": False}


def build_policy(spec: ModelSpec) -> MultiInputActorCriticPolicy:
    """A PPO policy of ``spec``'s architecture, for loading weights without an env."""
    return MultiInputActorCriticPolicy(observation_space(spec), gym.spaces.Discrete(2), lambda _: 0.0, **policy_kwargs(spec))


def action_log_probs(policy: MultiInputActorCriticPolicy, features: torch.Tensor) -> torch.Tensor:
    """``(N, 2)`` log-probabilities of labels 0 and 1 from extractor features."""
    latent = policy.mlp_extractor.forward_actor(features)
    return F.log_softmax(policy.action_net(latent), dim=-1)


class PPOClassifier(Classifier):
    score_kind = "log_prob"

    def __init__(self, agent: PPOAgent, support: torch.Tensor, labels: torch.Tensor) -> None:
        self.agent, self.support, self.labels = agent, support, labels

    def log_probs(self, obs: Mapping[str, np.ndarray]) -> torch.Tensor:
        view = query_view(obs)
        if "query_images" not in view:
            raise ObservationError("the ppo agent reads query images; make the env with modality='image' or 'both'")
        images, _ = fit_image_size(torch.from_numpy(np.ascontiguousarray(view["query_images"])), self.agent.spec, self.agent.resize)
        extractor = self.agent.policy.features_extractor
        with torch.inference_mode():
            query = extractor.encode(images)
            n = query.shape[0]
            features = extractor.combine(self.support.expand(n, -1, -1), self.labels.expand(n, -1), query)
            return action_log_probs(self.agent.policy, features)

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.log_probs(obs)[:, 1].numpy().astype(np.float64)

    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        logp = self.log_probs(obs)
        return (logp[:, 1] > logp[:, 0]).numpy().astype(np.int8)


class PPOAgent(Agent):
    """The PPO policy as a few-shot agent: its deterministic action on each query (``pix2code train ppo``).

    Options as the other neural agents: ``weights``, ``resize``, ``allow_other_env``, ``threads``.
    """

    name = "ppo"
    modalities: tuple[str, ...] = ("image", "both")

    def __init__(self, env_id: str | None = None, modality: str | None = None, weights: str | Path | None = None,
                 resize: bool = True, allow_other_env: bool = False, threads: int | None = None, **options: Any) -> None:
        super().__init__(env_id, **options)
        if modality not in (None, "image"):
            raise ValueError(f"the ppo agent reads images only, not modality {modality!r}")
        if threads is not None:
            torch.set_num_threads(int(threads))
        path = Path(weights) if weights is not None else find_weights("ppo", env_id, "image")
        spec, state, card = load_weights(path)
        check_compatible(spec, path, None if allow_other_env else env_id, modality, "ppo")
        self.spec, self.card, self.weights_path, self.resize = spec, card, path, bool(resize)
        self.policy = build_policy(spec)
        self.policy.load_state_dict(state)
        self.policy.set_training_mode(False)

    @property
    def env_kwargs(self) -> dict[str, Any]:
        return {"modality": "image", "image_size": list(self.spec.image_shape or ())}

    def fit(self, obs: Mapping[str, np.ndarray]) -> PPOClassifier:
        view = support_view(obs)
        if "support_images" not in view:
            raise ObservationError("the ppo agent reads support images; make the env with modality='image' or 'both'")
        images, _ = fit_image_size(torch.from_numpy(np.ascontiguousarray(view["support_images"])), self.spec, self.resize)
        labels = torch.from_numpy(np.asarray(view["support_labels"]).astype(np.int64))[None]
        with torch.inference_mode():
            support = self.policy.features_extractor.encode(images)[None]
        return PPOClassifier(self, support, labels)
