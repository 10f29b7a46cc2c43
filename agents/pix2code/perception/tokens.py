"""Object sequences: ground truth → teacher-forcing inputs and targets for the decoder.

Position ``p`` of a sequence predicts token ``p``: object ``p // S``, slot ``p % S`` (S slots per
object). Its input is token ``p - 1`` (a start token at ``p = 0``). At every object start
(``p = i S``, ``i ≤ n``) the decoder also says whether the sequence ends there: the end token
of the paper's format, as a stop probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents.pix2code.perception.spec import FamilySpec


def token_values(spec: FamilySpec, numerics: np.ndarray, attributes: dict[str, np.ndarray]) -> np.ndarray:
    """(N, K, S) int64 tokens of every object: pixels for coordinates, codes for attributes."""
    H, W = spec.image_shape
    out = np.zeros(numerics.shape[:2] + (spec.n_slots,), dtype=np.int64)
    for s, slot in enumerate(spec.slots):
        if slot.kind == "coord":
            value = numerics[..., spec.numeric_names.index(slot.numeric)]
            extent = W if slot.axis == "x" else H
            out[..., s] = np.clip(np.rint(np.nan_to_num(value)), 0, extent - 1)
        else:
            out[..., s] = np.maximum(attributes[slot.attribute], 0)
    return out


@dataclass
class Sequences:
    """Teacher-forcing tensors for a batch, (B, T) unless noted."""

    prev_slot: torch.Tensor  # -1 at the start token
    prev_value: torch.Tensor
    real: torch.Tensor  # bool: position holds a real object token
    stop_at: torch.Tensor  # bool: an object start (i <= n) where the end decision is taken
    stop_target: torch.Tensor  # float: 1 where the sequence ends
    obj: torch.Tensor  # object index of the position
    target: torch.Tensor  # (B, T) token values
    continuous: torch.Tensor  # (B, T) the continuous quantity of coord / binned slots


def sequences(spec: FamilySpec, numerics: np.ndarray, attributes: dict[str, np.ndarray], n_objects: np.ndarray) -> Sequences:
    S = spec.n_slots
    n = np.asarray(n_objects)
    T = int(n.max()) * S + 1 if n.size else 1
    B, K = numerics.shape[:2]
    tokens = token_values(spec, numerics, attributes).reshape(B, K * S)
    cont = np.zeros((B, K, S), dtype=np.float32)
    for s, slot in enumerate(spec.slots):
        if slot.numeric is not None:
            cont[..., s] = np.nan_to_num(numerics[..., spec.numeric_names.index(slot.numeric)])
    cont = cont.reshape(B, K * S)
    p = np.arange(T)
    obj, slot = p // S, p % S
    pad = np.zeros((B, 1), dtype=np.int64)
    flat = np.concatenate([tokens, pad.repeat(S + 1, axis=1)], axis=1)
    flat_cont = np.concatenate([cont, np.zeros((B, S + 1), np.float32)], axis=1)
    target = flat[:, :T]
    prev_value = np.concatenate([pad, flat[:, : T - 1]], axis=1)
    prev_slot = np.broadcast_to(np.where(p == 0, -1, (p - 1) % S), (B, T))
    real = obj[None, :] < n[:, None]
    stop_at = (slot[None, :] == 0) & (obj[None, :] <= n[:, None])
    stop_target = (obj[None, :] == n[:, None]) & stop_at
    as_t = torch.from_numpy
    return Sequences(
        prev_slot=as_t(np.ascontiguousarray(prev_slot)), prev_value=as_t(prev_value), real=as_t(real),
        stop_at=as_t(stop_at), stop_target=as_t(stop_target.astype(np.float32)),
        obj=as_t(np.broadcast_to(obj, (B, T)).copy()), target=as_t(np.ascontiguousarray(target)),
        continuous=as_t(np.ascontiguousarray(flat_cont[:, :T])),
    )


def bin_pixels(spec: FamilySpec, slot_index: int, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The pixel range [lo, hi] of the coordinates that round into bin ``code`` of a binned slot."""
    slot = spec.slots[slot_index]
    H, W = spec.image_shape
    extent = W if spec.numeric(slot.numeric).axis == "x" else H
    edges = torch.tensor([-0.5, *slot.edges, extent - 0.5], dtype=torch.float32)
    lo = torch.ceil(edges[code])
    hi = torch.ceil(edges[code + 1]) - 1
    return lo, hi
