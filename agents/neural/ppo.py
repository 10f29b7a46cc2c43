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

from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3.common.buffers import DictRolloutBuffer
from stable_baselines3.common.policies import MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import DictRolloutBufferSamples
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from agents.base import Agent, Classifier, query_view, support_view
from agents.neural.inputs import ObservationError, fit_image_size
from agents.neural.models import ItemEncoder
from agents.neural.spec import ModelSpec
from agents.neural.weights import check_compatible, find_weights, load_weights

NET_ARCH = {"pi": [64], "vf": [64]}
CACHE_SIZE = 64  # support sets remembered during rollouts (a few per env)
HASH_PIXELS = 4096  # evenly spaced pixels per support set in the first key


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
    """Shared CNN over support and query images + label-conditioned prototypes -> policy features.

    ``trunk="tiny"``: a three-layer CNN with a stride-4 stem, fast enough for CURI's large objects.
    ``trunk="conv4"`` (or ``resnet18``) with a CURI pooling ``head``: the image protonet's own item
    encoder, which Kandinsky's small figures need and which ``--init`` can start from a trained protonet.
    """

    def __init__(self, observation_space: gym.spaces.Dict, dim: int = 64, trunk: str = "tiny", head: str = "proto",
                 head_width: int = 256) -> None:
        n_support, (h, w) = check_space(observation_space)
        super().__init__(observation_space, features_dim=3 * dim + 4)
        self.dim, self.trunk = dim, trunk
        if trunk == "tiny":
            self.cnn: nn.Module = nn.Sequential(
                nn.Conv2d(3, 16, 4, 4), nn.ReLU(),
                nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                nn.Conv2d(32, dim, 3, 2, 1), nn.ReLU(),
                nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(dim, dim),
            )
        else:
            embedder = ModelSpec("protonet", "-", "image", trunk, head, dim, image_shape=(h, w), options={"head_width": head_width})
            self.cnn = ItemEncoder(embedder, dim)
        self._watched = (next(iter(self.cnn.parameters())), list(self.cnn.parameters())[-1])
        self._cache: dict[tuple[int, int], torch.Tensor] = {}  # support key -> embeddings, during rollouts
        self._cache_version = -1
        generator = torch.Generator().manual_seed(0x5EED)
        n_pixels = n_support * 3 * h * w
        self.hash_stride = max(1, n_pixels // HASH_PIXELS)
        n_hashed = len(range(0, n_pixels, self.hash_stride))
        # integer weights < 2**20 times pixels < 2**8, summed over < 2**25 terms, stay below 2**53:
        # float64 keys are exact integers whatever the summation order
        weights = torch.randint(0, 2**20, (n_hashed,), generator=generator).double()
        self.register_buffer("hash_weights", weights, persistent=False)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` pixels in 0..255 (any dtype) -> ``(N, dim)`` unit vectors."""
        if self.trunk != "tiny":
            return F.normalize(self.cnn(images), dim=-1)  # the item encoder scales its pixels
        return F.normalize(self.cnn(images.float() / 127.5 - 1.0), dim=-1)

    def keys(self, support: torch.Tensor) -> torch.Tensor:
        """``(B, 2)`` keys of each support set: a random-weighted sum of 4,096 evenly spaced pixels
        (exact integers in float64) and a wrapping 64-bit sum of all its bytes taken as int64 words.
        Equal support sets always share keys; different renders practically never do."""
        flat = support.reshape(len(support), -1)
        if flat.dtype != torch.uint8:
            flat = flat.round().clamp(0, 255).to(torch.uint8)
        sampled = flat[:, :: self.hash_stride].double() @ self.hash_weights
        if flat.shape[1] % 8:
            flat = F.pad(flat, (0, 8 - flat.shape[1] % 8))
        total = flat.contiguous().view(torch.int64).sum(1)
        return torch.stack([sampled.to(torch.int64), total], dim=1)

    def encode_support(self, support: torch.Tensor) -> torch.Tensor:
        """``(B, S, 3, H, W)`` -> ``(B, S, dim)``, encoding each distinct support set once.

        Training batches: rows with equal :meth:`keys` share one encoding (and its gradient).
        Without gradients (rollouts, where consecutive steps show the same support set), the
        embeddings of recent support sets are also kept across calls until the weights change.
        """
        b, s = support.shape[:2]
        keys = self.keys(support)
        if not torch.is_grad_enabled():
            return self._encode_support_cached(support, keys)
        _, first, inverse = _unique_rows(keys)
        unique = self.encode(support[first].flatten(0, 1)).view(len(first), s, -1)
        return unique[inverse]

    def _encode_support_cached(self, support: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        version = self._watched[0]._version + self._watched[1]._version
        if version != self._cache_version or len(self._cache) > CACHE_SIZE:
            self._cache, self._cache_version = {}, version
        rows = []
        for i, key in enumerate(map(tuple, keys.tolist())):
            if key not in self._cache:
                self._cache[key] = self.encode(support[i])
            rows.append(self._cache[key])
        return torch.stack(rows)

    def combine(self, support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Policy features from support embeddings ``(B, S, D)``, labels ``(B, S)`` and query ``(B, D)``."""
        pos = labels.float().unsqueeze(-1)
        proto_pos = (support * pos).sum(1) / pos.sum(1).clamp_min(1.0)
        proto_neg = (support * (1 - pos)).sum(1) / (1 - pos).sum(1).clamp_min(1.0)
        d_pos = (query - proto_pos).pow(2).sum(-1, keepdim=True)
        d_neg = (query - proto_neg).pow(2).sum(-1, keepdim=True)
        # the prototype comparison, also scale-free: from the first update, the policy sees which
        # prototype the query is nearer even while untrained embeddings are all alike
        relative = (d_neg - d_pos) / (d_neg + d_pos + 1e-6)
        return torch.cat([query, proto_pos, proto_neg, d_pos, d_neg, 4.0 * (d_neg - d_pos), relative], dim=-1)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        support = self.encode_support(observations["support_images"])
        query = self.encode(observations["query_image"])
        return self.combine(support, observations["support_labels"], query)


def _unique_rows(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unique rows of a ``(B, 2)`` key matrix: (unique keys, first index of each, inverse)."""
    unique, inverse = torch.unique(keys, dim=0, return_inverse=True)
    first = torch.full((len(unique),), keys.shape[0], dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(keys.shape[0]), reduce="amin")
    return unique, first, inverse


class FewShotPolicy(MultiInputActorCriticPolicy):
    """``MultiInputActorCriticPolicy`` that hands the raw observation (uint8 pixels) to
    :class:`FewShotExtractor`, which scales only the images it encodes, instead of first turning every
    support pixel of a batch into float32 (SB3's ``preprocess_obs``: 259,200 values per step)."""

    def extract_features(self, obs: Any, features_extractor: BaseFeaturesExtractor | None = None) -> Any:  # type: ignore[override]
        if not self.share_features_extractor:
            return self.pi_features_extractor(obs), self.vf_features_extractor(obs)
        return (features_extractor or self.features_extractor)(obs)


class EpisodeBlockRolloutBuffer(DictRolloutBuffer):
    """PPO's rollout buffer with minibatches of whole episodes: the flattened rollout (one env's
    steps after another) is cut into blocks of ``block`` consecutive steps (one episode of 25
    queries), and blocks rather than steps are shuffled. Each minibatch then holds a few support
    sets, each encoded once by :class:`FewShotExtractor`, instead of one per episode of the rollout."""

    block = 25

    def get(self, batch_size: int | None = None) -> Generator[DictRolloutBufferSamples, None, None]:
        assert self.full, ""
        total = self.buffer_size * self.n_envs
        if not self.generator_ready:
            for key, obs in self.observations.items():
                self.observations[key] = self.swap_and_flatten(obs)
            for name in ("actions", "values", "log_probs", "advantages", "returns"):
                self.__dict__[name] = self.swap_and_flatten(self.__dict__[name])
            self.generator_ready = True
        starts = np.random.permutation(np.arange(0, total, self.block))
        indices = np.concatenate([np.arange(start, min(start + self.block, total)) for start in starts])
        batch_size = total if batch_size is None else batch_size
        for start in range(0, total, batch_size):
            yield self._get_samples(indices[start : start + batch_size])


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
    extractor = {"dim": spec.dim, "trunk": spec.encoder, "head": spec.head,
                 "head_width": int(spec.options.get("head_width", 256))}
    return {"features_extractor_class": FewShotExtractor, "features_extractor_kwargs": extractor,
            "net_arch": dict(NET_ARCH), "normalize_images": False}


def start_from(policy: FewShotPolicy, spec: ModelSpec, path: Path) -> dict[str, Any]:
    """Copy a trained image protonet's item encoder (same trunk, head, size, family) into the
    policy's extractor; returns what the card records about the starting point."""
    init_spec, state, card = load_weights(path)
    same = ("encoder", "head", "dim", "image_shape")
    widths = (init_spec.options.get("head_width", 256), spec.options.get("head_width", 256))
    if (init_spec.model, init_spec.modality) != ("protonet", "image") or widths[0] != widths[1] \
            or any(getattr(init_spec, k) != getattr(spec, k) for k in same):
        raise ValueError(
            f"--init {path}: expected an image protonet with trunk {spec.encoder}, head {spec.head}, dim {spec.dim}, "
            f"image {spec.image_shape} and head width {spec.options.get('head_width', 256)}; it is a {init_spec.model} "
            f"({init_spec.modality}, trunk {init_spec.encoder}, head {init_spec.head}, dim {init_spec.dim}, "
            f"image {init_spec.image_shape}, head width {init_spec.options.get('head_width', 256)})")
    item = {k.removeprefix("item."): v for k, v in state.items() if k.startswith("item.")}
    policy.features_extractor.cnn.load_state_dict(item)
    return {"weights": path.name, "sha256": card.get("sha256"), "env_id": init_spec.env_id, "command": card.get("command"),
            "wall_seconds": card.get("wall_seconds")}


def build_policy(spec: ModelSpec) -> FewShotPolicy:
    """A PPO policy of ``spec``'s architecture, for loading weights without an env."""
    return FewShotPolicy(observation_space(spec), gym.spaces.Discrete(2), lambda _: 0.0, **policy_kwargs(spec))


def action_log_probs(policy: FewShotPolicy, features: torch.Tensor) -> torch.Tensor:
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
