"""A recognition model that reads a support set and predicts the grammar's weights for it.

DreamCoder's list-domain extractor flattens every example into one token sequence, losing where
an object ends (pix2code.md §4.5). Ours keeps the structure: each object row (the env's object
table, whatever its schema) goes through a shared MLP, a scene is the masked mean and max of its
objects, and the support set is summarised as the mean of its positive scenes, the mean of its
negatives and their difference. A head maps that to a correction of the library's log-weight for
each production plus one for variables (a unigram grammar): the search then uses the corrected
weights instead of the library's. The head starts at zero, so an untrained model leaves the
library's weights as they are and training moves only what the dreams give evidence about
(models saved before this predicted the weights outright; they load with a zero prior). The loss
is -log q(program | task) of the task's best program, computed from its likelihood summary
(:mod:`agents.pix2code.library.summary`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from agents.pix2code.library.summary import Summary

HIDDEN = 64


class RecognitionModel(nn.Module):
    """Support set (objects (S, K, F), mask (S, K), labels (S,)) -> log-weights (P + 1,)."""

    def __init__(self, n_features: int, n_productions: int, hidden: int = HIDDEN,
                 prior: Sequence[float] | None = None) -> None:
        super().__init__()
        self.n_features, self.n_productions, self.hidden = n_features, n_productions, hidden
        self.objects = nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = nn.Sequential(nn.Linear(6 * hidden, hidden), nn.Tanh(), nn.Linear(hidden, n_productions + 1))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)
        prior = torch.zeros(n_productions + 1) if prior is None else torch.as_tensor(prior, dtype=torch.float32)
        if prior.shape != (n_productions + 1,):
            raise ValueError(f"prior has {prior.shape[0]} weights; expected {n_productions + 1} (productions + variables)")
        self.register_buffer("prior", prior)  # the library's log-weights, which the head corrects

    def forward(self, objects: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Batched: objects (B, S, K, F), mask (B, S, K), labels (B, S) -> (B, P + 1)."""
        h = self.objects(objects)
        m = mask.unsqueeze(-1)
        mean = (h * m).sum(2) / m.sum(2).clamp(min=1)
        top = torch.where(m > 0, h, torch.full_like(h, -1.0)).amax(2)
        scene = torch.cat([mean, top], dim=-1)  # (B, S, 2H)
        pos = labels.unsqueeze(-1)
        positives = (scene * pos).sum(1) / pos.sum(1).clamp(min=1)
        negatives = (scene * (1 - pos)).sum(1) / (1 - pos).sum(1).clamp(min=1)
        return self.prior + self.head(torch.cat([positives, negatives, positives - negatives], dim=-1))

    def weights(self, objects: np.ndarray, mask: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Log-weights for one support set (numpy in, numpy out)."""
        with torch.no_grad():
            out = self(
                torch.as_tensor(np.asarray(objects, dtype=np.float32))[None],
                torch.as_tensor(np.asarray(mask, dtype=np.float32))[None],
                torch.as_tensor(np.asarray(labels, dtype=np.float32))[None],
            )
        return out[0].numpy().astype(np.float64)

    def save(self, path: str | os.PathLike, library_digest: str) -> None:
        torch.save({"state": self.state_dict(), "n_features": self.n_features, "n_productions": self.n_productions,
                    "hidden": self.hidden, "library": library_digest}, path)


def program_log_probability(weights: torch.Tensor, summary: Summary) -> torch.Tensor:
    """log q(program) under predicted log-weights (P + 1,), differentiably."""
    uses = torch.tensor(list(summary.uses.keys()), dtype=torch.long)
    counts = torch.tensor(list(summary.uses.values()), dtype=weights.dtype)
    total = summary.const + (weights[uses] * counts).sum()
    for alternatives, n in summary.normalizers.items():
        total = total - n * torch.logsumexp(weights[list(alternatives)], dim=0)
    return total


def library_digest(production_names: Sequence[str]) -> str:
    """Names the production list a model was trained for: its head is meaningless for another."""
    return hashlib.sha256("\n".join(production_names).encode()).hexdigest()[:16]


def load_recognition(path: str | os.PathLike, production_names: Sequence[str], rebuild: str = "") -> RecognitionModel:
    """A trained model for exactly this library's productions; a clear error otherwise."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        model = RecognitionModel(int(data["n_features"]), int(data["n_productions"]), int(data["hidden"]))
        # models saved before the residual head predicted the weights outright: a zero prior
        data["state"].setdefault("prior", torch.zeros(int(data["n_productions"]) + 1))
        model.load_state_dict(data["state"])
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        raise ValueError(f"recognition model {path} is missing or corrupt ({error}); rebuild it with {rebuild or 'pix2code train pix2code'}") from None
    if data["library"] != library_digest(production_names):
        raise ValueError(f"recognition model {path} was trained for another library; rebuild it with {rebuild or 'pix2code train pix2code'}")
    model.eval()
    return model
