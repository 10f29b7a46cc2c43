"""CURI's pooling heads (curi.md §8): a set of object vectors becomes one item embedding.

``gap``: masked mean, then an MLP 256-512-384-256 with BatchNorm. ``rel_net``: a relation
network — an MLP g over every ordered pair of objects (for image cells with their *relative*
position), summed, then an MLP f. ``transformer``: a 4-layer, 2-head Transformer encoder (FFN
512, BERT-style initialisation) over the objects, pooled by concatenating max, min, sum and mean,
then a linear map. Every head respects the object mask, so padding never changes an embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from agents.neural.encoders import ObjectSet

HEADS = ("gap", "rel_net", "transformer")


def mlp(sizes: tuple[int, ...], batch_norm: bool = False) -> nn.Sequential:
    """Linear layers with ReLU (and BatchNorm) between them, none after the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(x.dtype)
    return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class GapHead(nn.Module):
    def __init__(self, in_dim: int, out_dim: int = 256, width: int = 256) -> None:
        super().__init__()
        self.mlp = mlp((in_dim, width, 2 * width, 3 * width // 2, out_dim), batch_norm=True)

    def forward(self, objects: ObjectSet) -> torch.Tensor:
        return self.mlp(masked_mean(objects.features, objects.mask))


class RelNetHead(nn.Module):
    """Santoro et al.'s relation network over all ordered pairs (i, j) of valid objects."""

    def __init__(self, in_dim: int, out_dim: int = 256, relative_positions: bool = False, width: int = 256) -> None:
        super().__init__()
        self.relative_positions = relative_positions
        pair_dim = 2 * in_dim + (2 if relative_positions else 0)
        self.g = nn.Sequential(mlp((pair_dim, width, width, width, width)), nn.ReLU(inplace=True))
        self.f = mlp((width, 256, 256, out_dim))

    def forward(self, objects: ObjectSet) -> torch.Tensor:
        x, mask = objects.features, objects.mask
        b, n, d = x.shape
        parts = [x.unsqueeze(2).expand(b, n, n, d), x.unsqueeze(1).expand(b, n, n, d)]
        if self.relative_positions:
            if objects.positions is None:
                raise ValueError("rel_net with relative positions needs object positions (image cells)")
            pos = objects.positions
            parts.append(pos.unsqueeze(2) - pos.unsqueeze(1))
        pairs = torch.cat(parts, dim=-1)
        pair_mask = (mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(-1).to(x.dtype)
        return self.f((self.g(pairs) * pair_mask).sum(dim=(1, 2)))


class TransformerHead(nn.Module):
    """A Transformer encoder over the objects, pooled by [max; min; sum; mean]."""

    def __init__(self, in_dim: int, out_dim: int = 256, d_model: int = 128, layers: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(in_dim, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(4 * d_model, out_dim)
        for module in self.modules():  # BERT-style initialisation, as CURI's head
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, objects: ObjectSet) -> torch.Tensor:
        mask = objects.mask
        h = self.encoder(self.embed(objects.features), src_key_padding_mask=~mask)
        valid = mask.unsqueeze(-1)
        big = torch.finfo(h.dtype).max
        pooled = torch.cat(
            [
                h.masked_fill(~valid, -big).amax(1),
                h.masked_fill(~valid, big).amin(1),
                (h * valid).sum(1),
                masked_mean(h, mask),
            ],
            dim=-1,
        )
        return self.out(pooled)


def make_head(head: str, in_dim: int, out_dim: int = 256, relative_positions: bool = False, width: int = 256) -> nn.Module:
    """One of CURI's pooling heads by name; ``width`` scales its hidden layers (CURI: 256)."""
    if head == "gap":
        return GapHead(in_dim, out_dim, width)
    if head == "rel_net":
        return RelNetHead(in_dim, out_dim, relative_positions, width)
    if head == "transformer":
        return TransformerHead(in_dim, out_dim, d_model=width // 2, layers=4 if width >= 256 else 2)
    raise ValueError(f"unknown pooling head {head!r}; expected one of {list(HEADS)}")
