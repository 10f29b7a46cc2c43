"""The extractor network: encoder → candidate tokens → decoder, its training loss and greedy decoding."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.pix2code.perception.decoder import Decoder
from agents.pix2code.perception.encoder import (
    LOG_SIGMA_RANGE, Dense, Encoder, candidates, gather_cells, neighbourhood, strong_peaks,
)
from agents.pix2code.perception.losses import centre_cells, decoder_loss, dense_loss
from agents.pix2code.perception.spec import FamilySpec, bin_masses
from agents.pix2code.perception.tokens import bin_pixels, sequences


@dataclass(frozen=True)
class NetConfig:
    widths: tuple[int, int, int, int] = (16, 24, 48, 96)
    channels: int = 32
    d_model: int = 128
    layers: int = 2
    heads: int = 4
    extra_candidates: int = 4

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> NetConfig:
        data = dict(data)
        data["widths"] = tuple(data["widths"])
        return NetConfig(**data)


@dataclass
class Decoded:
    """Greedy decoding of a batch, as numpy arrays; K = max_objects object slots.

    ``n_objects`` (B,); ``tokens`` (B, K, S); ``mu`` / ``sigma`` (B, K, S) of the Gaussian of
    every coord / binned slot (nan elsewhere); ``probs`` {attribute: (B, K, n_values)} of every
    class / binned slot; ``exists`` (B, K + 1): the probability that object i is there (one
    minus the end probability at its start); ``candidate`` (B, K) the pointed candidate cell.
    """

    n_objects: np.ndarray
    tokens: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    probs: dict[str, np.ndarray]
    exists: np.ndarray
    candidate: np.ndarray
    peaks: np.ndarray  # (B,) objectness maxima above 0.5: how many objects the encoder sees


class ExtractorNet(nn.Module):
    def __init__(self, spec: FamilySpec, config: NetConfig = NetConfig()) -> None:
        super().__init__()
        self.spec, self.config = spec, config
        self.encoder = Encoder(spec, config.widths, config.channels)
        self.k = spec.max_objects + config.extra_candidates
        memory_dim = 9 * config.channels + self.encoder.n_out + 2
        self.decoder = Decoder(spec, memory_dim, self.k, config.d_model, config.layers, config.heads)
        self.register_buffer("floor", torch.tensor([n.floor for n in spec.numerics]), persistent=False)

    def read(self, images: torch.Tensor, forced: torch.Tensor | None = None, limit: int | None = None, encoded=None):
        """Encoder pass: (dense views, candidate cells (B, k), memory tokens, candidate estimates)."""
        f4, raw = self.encoder(images) if encoded is None else encoded
        dense = Dense(self.spec, raw)
        cells = candidates(dense.heat, self.k, forced, limit)
        B, _, h, w = raw.shape
        pos = torch.stack([((cells % w).float() + 0.5) / w, ((cells // w).float() + 0.5) / h], dim=-1)
        n = len(self.spec.numerics)
        # the dense estimates are detached where the decoder reads them: its losses train the
        # pointer and the corrections, and must not pull the dense heads off their targets
        raw_c = gather_cells(raw.detach(), cells)
        raw_c = torch.cat([raw_c[..., : 1 + n], raw_c[..., 1 + n : 1 + 2 * n].clamp(*LOG_SIGMA_RANGE), raw_c[..., 1 + 2 * n :]], -1)
        memory = self.decoder.memory_tokens(torch.cat([neighbourhood(f4, cells), raw_c, pos], dim=-1))
        cand = {
            "mu": gather_cells(dense.mu.detach(), cells),
            "log_sigma": gather_cells(dense.sigma.detach(), cells).log(),
            "logits": gather_cells(dense.logits.detach(), cells),
        }
        return dense, cells, memory, cand

    # -- training
    def loss(self, images: torch.Tensor, numerics: np.ndarray, classes: np.ndarray, attributes: dict[str, np.ndarray],
             n_objects: np.ndarray) -> dict[str, torch.Tensor]:
        spec = self.spec
        B, K = numerics.shape[:2]
        h, w = spec.feature_grid()
        num_t = torch.from_numpy(numerics)
        valid = torch.arange(K).unsqueeze(0) < torch.from_numpy(n_objects).unsqueeze(1)
        row, col = centre_cells(spec, num_t, valid, h, w)
        f4, raw = self.encoder(images)
        dense = Dense(spec, raw)
        losses = dense_loss(spec, dense, num_t, torch.from_numpy(classes), valid)
        forced = assign(dense.heat, row, col, valid)
        # list the objects in the order of their candidates, as the decoder reads them
        key = torch.where(valid, (forced % w) * h + forced // w, torch.full_like(forced, 1 << 30))
        order = key.argsort(dim=1)
        forced = forced.gather(1, order)
        perm = order.numpy()
        numerics = np.take_along_axis(numerics, perm[..., None], axis=1)
        attributes = {k: np.take_along_axis(v, perm, axis=1) for k, v in attributes.items()}
        _, cells, memory, cand = self.read(images, forced, encoded=(f4, raw))
        seq = sequences(spec, numerics, attributes, n_objects)
        # each object's candidate: the index of its cell among the candidates
        match = (cells.unsqueeze(1) == forced.unsqueeze(2)).float()  # (B, K_obj, k)
        pointer_target = match.argmax(dim=-1)
        # the candidate fed back: the previous object's at an object start, the current one's elsewhere
        at = seq.obj - ((torch.arange(seq.obj.shape[1]) % spec.n_slots) == 0).long()
        context = torch.where(at >= 0, pointer_target.gather(1, at.clamp(0, K - 1)), torch.full_like(at, -1))
        embeds = self.decoder.contextualise(self.decoder.embed(seq.prev_slot, seq.prev_value), memory, context)
        hidden = self.decoder(embeds, memory)
        out = self.decoder.heads(hidden, memory, cand)
        losses.update(decoder_loss(spec, out, seq, pointer_target))
        return losses

    # -- inference
    @torch.no_grad()
    def decode(self, images: torch.Tensor, limit: int | None = None) -> Decoded:
        """Greedy decoding; rows whose sequence has ended leave the batch at the next object start.
        ``limit``: read only that many objectness peaks (see :func:`candidates`)."""
        spec = self.spec
        S, K = spec.n_slots, spec.max_objects
        H, W = spec.image_shape
        dense, cells, memory, cand = self.read(images, limit=limit)
        seen = strong_peaks(dense.heat)
        B = images.shape[0]
        dec = self.decoder
        state = dec.start(memory, spec.max_tokens)
        tokens = torch.zeros(B, K, S, dtype=torch.long)
        mu_out = torch.full((B, K, S), float("nan"))
        sigma_out = torch.full((B, K, S), float("nan"))
        probs = {a: torch.zeros(B, K, len(v)) for a, v in spec.attributes.items()}
        exists = torch.zeros(B, K + 1)
        pointed = torch.zeros(B, K, dtype=torch.long)
        n_objects = torch.zeros(B, dtype=torch.long)
        rows = torch.arange(B)
        prev_slot = torch.full((B,), -1, dtype=torch.long)
        prev_value = torch.zeros(B, dtype=torch.long)
        starts = [int(x) for x in torch.cumsum(torch.tensor([0, *spec.class_sizes]), 0)]
        class_names = list(spec.classes)
        binned_choice: dict[str, tuple[int, torch.Tensor]] = {}
        at = torch.full((B,), -1, dtype=torch.long)  # the candidate the sequence is at (fed back)
        dmu_w, dmu_b = dec.delta_mu.weight, dec.delta_mu.bias
        dls_w, dls_b = dec.delta_log_sigma.weight, dec.delta_log_sigma.bias
        dlg_w, dlg_b = dec.delta_logits.weight, dec.delta_logits.bias
        edges = {s.name: torch.tensor(s.edges) for s in spec.slots if s.kind == "binned"}
        finished = False
        for i in range(K + 1):
            for s, slot in enumerate(spec.slots):
                embed = dec.contextualise(dec.embed(prev_slot, prev_value).unsqueeze(1), memory, at.unsqueeze(1))
                hidden = dec.step(embed.squeeze(1), state)
                ptr = dec.pointer(hidden, state)
                if s == 0:
                    go = 1.0 - dec.stop(hidden).squeeze(-1).sigmoid()
                    exists[rows, i] = go
                    keep = go >= 0.5
                    if i == K or not keep.any():
                        finished = True
                        break
                    if not keep.all():
                        rows, hidden, ptr, memory = rows[keep], hidden[keep], ptr[keep], memory[keep]
                        cand = {k: v[keep] for k, v in cand.items()}
                        dec.select(state, keep)
                    n_objects[rows] += 1
                    at = ptr.argmax(-1)
                    pointed[rows, i] = at
                p = ptr.softmax(-1)
                if slot.numeric is not None:
                    j = spec.numeric_names.index(slot.numeric)
                    mu = (p * cand["mu"][:, :, j]).sum(1) + dec.scale[j] * (hidden @ dmu_w[j] + dmu_b[j])
                    log_sigma = (p * cand["log_sigma"][:, :, j]).sum(1) + hidden @ dls_w[j] + dls_b[j]
                    sigma = log_sigma.clamp(-8.0, 4.0).exp() + self.floor[j]
                    mu_out[rows, i, s], sigma_out[rows, i, s] = mu, sigma
                if slot.kind == "coord":
                    value = mu.round().clamp(0, (W if slot.axis == "x" else H) - 1)
                    if slot.numeric in binned_choice:  # stay inside the bin chosen before
                        lo, hi = bin_pixels(spec, *binned_choice[slot.numeric])
                        value = torch.maximum(torch.minimum(value, hi), lo)
                    value = value.long()
                elif slot.kind == "binned":
                    q = bin_masses(mu, sigma, edges[slot.name])
                    probs[slot.attribute][rows, i] = q
                    value = q.argmax(-1)
                    binned_choice[slot.numeric] = (s, value)
                else:
                    a = class_names.index(slot.attribute)
                    lo_, hi_ = starts[a], starts[a + 1]
                    logits = (p.unsqueeze(1) @ cand["logits"][:, :, lo_:hi_]).squeeze(1)
                    q = (logits + torch.addmm(dlg_b[lo_:hi_], hidden, dlg_w[lo_:hi_].t())).softmax(-1)
                    probs[slot.attribute][rows, i] = q
                    value = q.argmax(-1)
                tokens[rows, i, s] = value
                prev_slot = torch.full((len(rows),), s, dtype=torch.long)
                prev_value = value
            if finished:
                break
        live = torch.arange(K).unsqueeze(0) < n_objects.unsqueeze(1)
        cell = cells.gather(1, pointed)
        return Decoded(
            n_objects=n_objects.numpy(), tokens=tokens.numpy(), mu=mu_out.numpy(), sigma=sigma_out.numpy(),
            probs={a: (p * live.unsqueeze(-1)).numpy() for a, p in probs.items()}, exists=exists.numpy(),
            candidate=torch.where(live, cell, torch.full_like(cell, -1)).numpy(), peaks=seen.numpy(),
        )


def assign(heat: torch.Tensor, row: torch.Tensor, col: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Each object's candidate cell for training (B, K; -1 where not valid): the network's own
    objectness peak in the 3×3 cells around the true centre cell when it has one — so the decoder
    learns to read the peaks it will see at inference — else the true centre cell (forced in)."""
    B, h, w = heat.shape
    with torch.no_grad():
        p = heat.sigmoid().unsqueeze(1)
        score = torch.where((F.max_pool2d(p, 3, 1, 1) == p) & (p > 0.1), p, torch.zeros_like(p)).reshape(B, -1)
        offsets = torch.tensor([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
        r, c = row.unsqueeze(-1) + offsets[:, 0], col.unsqueeze(-1) + offsets[:, 1]  # (B, K, 9)
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        cells = r.clamp(0, h - 1) * w + c.clamp(0, w - 1)
        s = score.gather(1, cells.reshape(B, -1)).reshape(cells.shape) * inside
        best = s.argmax(-1, keepdim=True)
        own = row * w + col
        chosen = torch.where(s.gather(-1, best).squeeze(-1) > 0, cells.gather(-1, best).squeeze(-1), own)
        K = row.shape[1]
        for k in range(K):  # a peak claimed before, or another object's centre cell: use the own cell
            clash = torch.zeros(B, dtype=torch.bool)
            for j in range(K):
                if j != k:
                    clash |= valid[:, j] & ((j < k) & (chosen[:, j] == chosen[:, k]) | (own[:, j] == chosen[:, k]))
            chosen[:, k] = torch.where(clash, own[:, k], chosen[:, k])
        return torch.where(valid, chosen, torch.full_like(chosen, -1))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
