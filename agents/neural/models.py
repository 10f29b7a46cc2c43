"""The two episodic few-shot models: CURI's prototypical network and a support-set transformer.

Both split an episode the same way, so an agent encodes the support set once per episode and
each query batch separately: :meth:`embed` maps items to vectors, :meth:`logit` maps
(support embeddings, support labels, query embeddings) to one logit per query,
``log p(positive) - log p(negative)``.

* :class:`ProtoNet` (Snell et al. 2017; CURI's "CURI-B"): prototypes are the mean support
  embeddings of each class, a query's class log-probabilities are the log-softmax of negative
  squared Euclidean distances to them, so the logit is ``d(q, neg)^2 - d(q, pos)^2``.
* :class:`SetTransformer`: a BERT encoder (HF ``transformers`` classes configured from scratch,
  no hub weights) over [support tokens; query tokens] fed through ``inputs_embeds``; the label
  of a support token (and "query" for queries) is its token type; every token shares one
  position, so the model is invariant to support order; each query attends to the support set
  and to itself only, so queries never inform each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertConfig, BertModel

from agents.neural.encoders import ImageCells, SchemaObjects
from agents.neural.pooling import make_head
from agents.neural.spec import ModelSpec


class ItemEncoder(nn.Module):
    """An item (an object table, or an image) -> one vector: object encoder + pooling head."""

    def __init__(self, spec: ModelSpec, out_dim: int) -> None:
        super().__init__()
        relative = spec.modality == "image" and spec.head == "rel_net"
        if spec.modality == "scene":
            self.objects: nn.Module = SchemaObjects(len(spec.schema or ()))
        else:
            assert spec.image_shape is not None
            self.objects = ImageCells(spec.encoder, spec.image_shape, position_codes=not relative)
        width = int(spec.options.get("head_width", 256))
        self.head = make_head(spec.head, self.objects.out_dim, out_dim, relative_positions=relative, width=width)

    def forward(self, items: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``items (N, K, F)`` with ``mask (N, K)``, or images ``(N, 3, H, W)`` -> ``(N, out_dim)``."""
        objects = self.objects(items) if mask is None else self.objects(items, mask)
        return self.head(objects)


class EpisodeModel(nn.Module):
    """Shared episode plumbing: flatten (B, S, ...) items, embed, un-flatten."""

    def __init__(self, spec: ModelSpec, item_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.item = ItemEncoder(spec, item_dim)

    def embed(self, items: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, N, ...)`` items -> ``(B, N, D)``."""
        b, n = items.shape[:2]
        flat_mask = None if mask is None else mask.flatten(0, 1)
        return self.item(items.flatten(0, 1), flat_mask).view(b, n, -1)

    def logit(self, support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """An episode batch (keys support, support_mask, support_labels, query, query_mask) -> ``(B, Q)`` logits."""
        support = self.embed(batch["support"], batch.get("support_mask"))
        query = self.embed(batch["query"], batch.get("query_mask"))
        return self.logit(support, batch["support_labels"], query)


class ProtoNet(EpisodeModel):
    """Prototypes = class means; logit = squared distance to the negative minus to the positive prototype."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec, spec.dim)

    def logit(self, support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        pos = labels.to(support.dtype).unsqueeze(-1)
        neg = 1.0 - pos
        proto_pos = (support * pos).sum(1) / pos.sum(1).clamp_min(1.0)
        proto_neg = (support * neg).sum(1) / neg.sum(1).clamp_min(1.0)
        d_pos = (query - proto_pos.unsqueeze(1)).pow(2).sum(-1)
        d_neg = (query - proto_neg.unsqueeze(1)).pow(2).sum(-1)
        return d_neg - d_pos


class SetTransformer(EpisodeModel):
    """BERT over [support tokens + label types; query tokens], one logit per query token."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec, spec.dim)
        options = spec.options
        config = BertConfig(
            vocab_size=1,
            hidden_size=spec.dim,
            num_hidden_layers=int(options.get("layers", 4)),
            num_attention_heads=int(options.get("heads", 4)),
            intermediate_size=2 * spec.dim,
            hidden_dropout_prob=float(options.get("dropout", 0.1)),
            attention_probs_dropout_prob=float(options.get("dropout", 0.1)),
            max_position_embeddings=1,
            type_vocab_size=3,  # 0: negative support, 1: positive support, 2: query
            pad_token_id=0,
        )
        config._attn_implementation = "sdpa"
        self.bert = BertModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(spec.dim, 1)

    def logit(self, support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        b, s, _ = support.shape
        q = query.shape[1]
        tokens = torch.cat([support, query], dim=1)
        types = torch.cat([labels.long(), torch.full((b, q), 2, dtype=torch.long, device=tokens.device)], dim=1)
        positions = torch.zeros(b, s + q, dtype=torch.long, device=tokens.device)
        allowed = torch.zeros(s + q, s + q, dtype=torch.bool, device=tokens.device)
        allowed[:, :s] = True
        allowed |= torch.eye(s + q, dtype=torch.bool, device=tokens.device)
        mask = torch.zeros(s + q, s + q, dtype=tokens.dtype, device=tokens.device)
        mask = mask.masked_fill(~allowed, torch.finfo(tokens.dtype).min).expand(b, 1, s + q, s + q)
        hidden = self.bert(
            inputs_embeds=tokens, token_type_ids=types, position_ids=positions, attention_mask=mask
        ).last_hidden_state
        return self.classifier(hidden[:, s:]).squeeze(-1)


def build_model(spec: ModelSpec) -> EpisodeModel:
    """The episodic model a spec describes (PPO's policy is built by :mod:`agents.neural.ppo`)."""
    if spec.model == "protonet":
        return ProtoNet(spec)
    if spec.model == "transformer":
        return SetTransformer(spec)
    raise ValueError(f"{spec.model!r} is not an episodic model; expected 'protonet' or 'transformer'")


def balanced_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Class-balanced binary cross-entropy: positives and negatives of each episode weigh half each,
    the objective whose optimum is the benchmark's class-balanced accuracy."""
    y = labels.to(logits.dtype)
    n_pos = y.sum(1, keepdim=True).clamp_min(1.0)
    n_neg = (1.0 - y).sum(1, keepdim=True).clamp_min(1.0)
    weights = y / (2 * n_pos) + (1.0 - y) / (2 * n_neg)
    losses = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (weights * losses).sum(1).mean()


def balanced_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-episode class-balanced accuracy of ``logit > 0`` (an episode without a class scores that half as 1)."""
    y = labels.bool()
    hit = (logits > 0) == y
    pos = (hit & y).sum(1) / y.sum(1).clamp_min(1)
    neg = (hit & ~y).sum(1) / (~y).sum(1).clamp_min(1)
    pos = torch.where(y.any(1), pos, torch.ones_like(pos))
    neg = torch.where((~y).any(1), neg, torch.ones_like(neg))
    return 0.5 * (pos + neg)
