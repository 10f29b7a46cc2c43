"""The ``protonet`` and ``transformer`` agents: shipped (or given) weights, one episode at a time.

``make_agent("protonet", env_id=ID)`` loads the weights shipped for ``ID`` (images when they are
shipped, else object tables; ``modality=`` chooses), ``weights=PATH`` loads a file trained with
``pix2code train``. ``fit`` encodes the support set once; the classifier embeds each query batch
and returns labels (``predict``) and ``scores`` = log p(positive) per query
(:attr:`NeuralClassifier.score_kind` says so).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from agents.base import Agent, Classifier, query_view, support_view
from agents.neural.inputs import item_tensors, support_labels
from agents.neural.models import EpisodeModel, build_model
from agents.neural.spec import ModelSpec
from agents.neural.weights import check_compatible, find_weights, load_weights


class NeuralClassifier(Classifier):
    """Labels queries with an episodic model fitted to one support set."""

    score_kind = "log_prob"  # scores() are log p(positive), not probabilities

    def __init__(self, agent: NeuralAgent, support: torch.Tensor, labels: torch.Tensor, resized_from: Any) -> None:
        self.agent, self.support, self.labels = agent, support, labels
        self._resized: dict[str, Any] = {} if resized_from is None else {"support_resized_from": list(resized_from)}

    def logits(self, obs: Mapping[str, np.ndarray]) -> torch.Tensor:
        items, mask, resized_from = item_tensors(query_view(obs), "query", self.agent.spec, self.agent.resize)
        if resized_from is not None:
            self._resized["query_resized_from"] = list(resized_from)
        model = self.agent.model
        with torch.inference_mode():
            query = model.embed(items, mask)
            return model.logit(self.support, self.labels, query)[0]

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return F.logsigmoid(self.logits(obs)).numpy().astype(np.float64)

    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return (self.logits(obs) > 0).numpy().astype(np.int8)

    def diagnostics(self) -> dict[str, Any]:
        return {"weights": self.agent.weights_path.name, **self._resized}


class NeuralAgent(Agent):
    """Shared loading and fitting for the episodic neural agents.

    Options: ``modality`` ("image" or "scene"; default: images where shipped), ``weights`` (a
    weight file with its JSON card, instead of the shipped one), ``resize`` (resize images of
    another size but the same aspect ratio to the trained size; False refuses them),
    ``allow_other_env`` (use weights trained for another env, e.g. to measure transfer),
    ``threads`` (torch intra-op threads for this process; None leaves torch's setting).
    """

    name = "neural"
    modalities: tuple[str, ...] = ("image", "scene", "both")

    def __init__(
        self,
        env_id: str | None = None,
        modality: str | None = None,
        weights: str | Path | None = None,
        resize: bool = True,
        allow_other_env: bool = False,
        threads: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(env_id, **options)
        if modality not in (None, "image", "scene"):
            raise ValueError(f"modality {modality!r} is not one the {self.name} agent reads; expected 'image' or 'scene'")
        if threads is not None:
            torch.set_num_threads(int(threads))
        path = Path(weights) if weights is not None else find_weights(self.name, env_id, modality)
        spec, state, card = load_weights(path)
        check_compatible(spec, path, None if allow_other_env else env_id, modality, self.name)
        self.spec: ModelSpec = spec
        self.card = card
        self.weights_path = path
        self.resize = bool(resize)
        self.model: EpisodeModel = build_model(spec)
        self.model.load_state_dict(state)
        self.model.eval()
        self.modalities = (spec.modality, "both")
        self._warned = False

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The env settings these weights were trained for (pass them to ``gym.make``/``evaluate_agent``)."""
        kwargs: dict[str, Any] = {"modality": self.spec.modality}
        if self.spec.image_shape is not None:
            kwargs["image_size"] = list(self.spec.image_shape)
        return kwargs

    def fit(self, obs: Mapping[str, np.ndarray]) -> NeuralClassifier:
        view = support_view(obs)
        items, mask, resized_from = item_tensors(view, "support", self.spec, self.resize)
        if resized_from is not None and not self._warned:
            self._warned = True
            warnings.warn(
                f"{self.name}: resizing {resized_from[0]}x{resized_from[1]} images to the trained "
                f"{self.spec.image_shape[0]}x{self.spec.image_shape[1]}; make the env with "
                f"image_size={list(self.spec.image_shape)} to score renders at the trained size",
                stacklevel=2,
            )
        labels = support_labels(view)
        with torch.inference_mode():
            support = self.model.embed(items, mask)
        return NeuralClassifier(self, support, labels, resized_from)


class ProtoNetAgent(NeuralAgent):
    """CURI's prototypical-network baseline ("CURI-B"), meta-trained here (``pix2code train protonet``)."""

    name = "protonet"


class TransformerAgent(NeuralAgent):
    """A BERT-style set model over the labelled support set and each query (``pix2code train transformer``)."""

    name = "transformer"
