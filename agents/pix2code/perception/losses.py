"""Training losses: dense CenterNet-style targets for the encoder, sequence losses for the decoder.

Numeric quantities: means by smooth L1 and spreads by a robust likelihood (see
:func:`regression_loss`), in units of the quantity's scale, so the predicted spreads are
calibrated: they become the probabilities of location bins and size classes. Categorical
attributes use cross-entropy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from agents.pix2code.perception.encoder import Dense, gather_cells
from agents.pix2code.perception.spec import FamilySpec
from agents.pix2code.perception.tokens import Sequences

NEIGHBOUR_WEIGHT = 0.3


def centre_cells(spec: FamilySpec, numerics: torch.Tensor, valid: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, col) (B, K) of each object's centre cell (garbage where not valid)."""
    u = numerics[..., spec.numeric_names.index("u")].nan_to_num(0.0)
    v = numerics[..., spec.numeric_names.index("v")].nan_to_num(0.0)
    col = (u / spec.stride).floor().long().clamp(0, w - 1)
    row = (v / spec.stride).floor().long().clamp(0, h - 1)
    return row, col


T_DOF = 4.0  # degrees of freedom of the Student-t that scores the predicted spreads
SMOOTH = 0.01  # smooth-L1 threshold, in units of a quantity's scale


def regression_loss(target: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Means by smooth L1 (bounded gradients: a wrong early guess cannot swamp the class losses);
    spreads by the negative log-likelihood of a Student-t of the (detached) residual, whose
    gradients stay bounded too; a Gaussian of that scale then gives the bin probabilities."""
    r = target - mu
    mean = F.smooth_l1_loss(mu / scale, target / scale, beta=SMOOTH, reduction="none")
    z2 = (r.detach() / sigma) ** 2
    spread = 0.5 * (T_DOF + 1.0) * torch.log1p(z2 / T_DOF) + torch.log(sigma / scale)
    return mean + 0.1 * spread


def dense_loss(spec: FamilySpec, dense: Dense, numerics: torch.Tensor, classes: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
    B, h, w = dense.heat.shape
    row, col = centre_cells(spec, numerics, valid, h, w)
    n_obj = valid.sum().clamp_min(1)
    # objectness: Gaussian bumps (width from the box) and the focal loss of CenterNet
    names = spec.numeric_names
    bw = (numerics[..., names.index("x1")] - numerics[..., names.index("x0")]).nan_to_num(8.0)
    bh = (numerics[..., names.index("y1")] - numerics[..., names.index("y0")]).nan_to_num(8.0)
    sigma = ((bw * bh).clamp_min(1.0).sqrt() / (6.0 * spec.stride)).clamp(0.6, 2.5)
    gy = torch.arange(h, dtype=torch.float32).view(1, 1, h, 1)
    gx = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w)
    d2 = (gy - row.unsqueeze(-1).unsqueeze(-1)) ** 2 + (gx - col.unsqueeze(-1).unsqueeze(-1)) ** 2
    bumps = torch.exp(-d2 / (2 * sigma.view(B, -1, 1, 1) ** 2)) * valid.view(B, -1, 1, 1)
    target = bumps.amax(dim=1)
    p = dense.heat.sigmoid().clamp(1e-5, 1 - 1e-5)
    pos = target > 0.999
    focal = torch.where(pos, -((1 - p) ** 2) * p.log(), -((1 - target) ** 4) * p**2 * (1 - p).log())
    losses = {"heat": focal.sum() / n_obj}
    # regression and classes at each centre cell and its 8 neighbours, gathered at once
    offsets = torch.tensor([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    r = row.unsqueeze(-1) + offsets[:, 0]  # (B, K, 9)
    c = col.unsqueeze(-1) + offsets[:, 1]
    ok = valid.unsqueeze(-1) & (r >= 0) & (r < h) & (c >= 0) & (c < w)
    weight = torch.where((offsets[:, 0] == 0) & (offsets[:, 1] == 0), 1.0, NEIGHBOUR_WEIGHT) * ok.float()
    cells = (r.clamp(0, h - 1) * w + c.clamp(0, w - 1)).reshape(B, -1)
    mu = gather_cells(dense.mu, cells)  # (B, K * 9, n)
    sg = gather_cells(dense.sigma, cells)
    target = numerics.nan_to_num(0.0).repeat_interleave(9, dim=1)
    nll = regression_loss(target, mu, sg, dense.scale.view(1, 1, -1)).sum(-1)
    weight = weight.reshape(B, -1)
    losses["dense_numeric"] = (nll * weight).sum() / n_obj
    logits = gather_cells(dense.logits, cells).split(list(spec.class_sizes), dim=-1)
    labels = classes.clamp_min(0).repeat_interleave(9, dim=1)
    ce = sum(
        F.cross_entropy(lg.reshape(-1, lg.shape[-1]), labels[..., a].reshape(-1), reduction="none")
        for a, lg in enumerate(logits)
    )
    losses["dense_class"] = (ce * weight.reshape(-1)).sum() / n_obj
    return losses


def decoder_loss(spec: FamilySpec, out: dict[str, torch.Tensor], seq: Sequences, pointer_target: torch.Tensor) -> dict[str, torch.Tensor]:
    """``out``: the decoder heads (B, T, ·); ``pointer_target`` (B, K_obj): each object's candidate."""
    S = spec.n_slots
    real = seq.real
    n_real = real.sum().clamp_min(1)
    scale = torch.tensor([n.scale for n in spec.numerics])
    starts = torch.cumsum(torch.tensor([0, *spec.class_sizes]), 0)
    attribute_index = list(spec.classes)
    total_num = out["mu"].new_zeros(())
    total_cls = out["mu"].new_zeros(())
    for s, slot in enumerate(spec.slots):
        mask = real[:, s::S]
        if not mask.any():
            continue
        if slot.numeric is not None:
            j = spec.numeric_names.index(slot.numeric)
            mu = out["mu"][:, s::S, j]
            sigma = out["log_sigma"][:, s::S, j].exp() + spec.numerics[j].floor
            nll = regression_loss(seq.continuous[:, s::S], mu, sigma, scale[j])
            total_num = total_num + (nll * mask).sum()
        else:
            a = attribute_index.index(slot.attribute)
            logits = out["logits"][:, s::S, starts[a] : starts[a + 1]]
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), seq.target[:, s::S].reshape(-1), reduction="none")
            total_cls = total_cls + (ce * mask.reshape(-1)).sum()
    ptr_target = pointer_target.gather(1, seq.obj.clamp(max=pointer_target.shape[1] - 1))
    ptr = F.cross_entropy(out["pointer"].reshape(-1, out["pointer"].shape[-1]), ptr_target.reshape(-1), reduction="none")
    stop = F.binary_cross_entropy_with_logits(out["stop"], seq.stop_target, reduction="none")
    n_stop = seq.stop_at.sum().clamp_min(1)
    return {
        "seq_numeric": total_num / n_real,
        "seq_class": total_cls / n_real,
        "pointer": (ptr * real.reshape(-1)).sum() / n_real,
        "stop": (stop * seq.stop_at).sum() / n_stop,
    }
