"""Observation halves -> model tensors, checked against what the weights were trained on.

A model reads one modality at one input shape. These functions turn the support or query half
of an observation into tensors and refuse, naming both sides, an observation the model cannot
read: no object tables for a table model, tables of another width, images of another size.
Images of another size with the same aspect ratio are resized *explicitly* when the agent was
made with ``resize=True`` (the default): antialiased bilinear resampling to the trained size,
reported in the classifier's diagnostics, since renders at the trained size are what the
weights expect and a resampled render is close to but not the same as one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from agents.neural.spec import ModelSpec

ASPECT_TOLERANCE = 0.02


class ObservationError(ValueError):
    """An observation this model cannot read."""


def item_tensors(
    obs: Mapping[str, np.ndarray], half: str, spec: ModelSpec, resize: bool
) -> tuple[torch.Tensor, torch.Tensor | None, tuple[int, int] | None]:
    """``(items (1, N, ...), mask (1, N, K) or None, resized_from)`` for ``half`` ("support" or "query")."""
    if spec.modality == "scene":
        key, mask_key = f"{half}_objects", f"{half}_object_mask"
        if key not in obs or mask_key not in obs:
            raise ObservationError(
                f"the {spec.model} weights for {spec.describe()} read object tables, but the observation has no "
                f"{key!r}; make the env with modality='scene' or 'both'"
            )
        objects = np.asarray(obs[key], dtype=np.float32)
        width = len(spec.schema or ())
        if objects.ndim != 3 or objects.shape[-1] != width:
            raise ObservationError(
                f"{key} has shape {objects.shape}, but the {spec.model} weights for {spec.describe()} read tables of "
                f"{width} columns {list(spec.schema or ())}; these tables come from another family"
            )
        mask = np.asarray(obs[mask_key]).astype(bool)
        return torch.from_numpy(objects)[None], torch.from_numpy(mask)[None], None
    key = f"{half}_images"
    if key not in obs:
        raise ObservationError(
            f"the {spec.model} weights for {spec.describe()} read images, but the observation has no {key!r}; "
            "make the env with modality='image' or 'both'"
        )
    images = torch.from_numpy(np.ascontiguousarray(obs[key]))
    if images.ndim != 4 or images.shape[1] != 3:
        raise ObservationError(f"{key} has shape {tuple(images.shape)}; expected (N, 3, H, W) channel-first images")
    images, resized_from = fit_image_size(images, spec, resize)
    return images[None], None, resized_from


def fit_image_size(images: torch.Tensor, spec: ModelSpec, resize: bool) -> tuple[torch.Tensor, tuple[int, int] | None]:
    """Images at the trained size: as they are, resized (same aspect ratio, ``resize=True``), or refused."""
    assert spec.image_shape is not None
    have = (int(images.shape[-2]), int(images.shape[-1]))
    want = spec.image_shape
    if have == want:
        return images, None
    same_aspect = abs(have[0] / have[1] - want[0] / want[1]) <= ASPECT_TOLERANCE * want[0] / want[1]
    advice = f"make the env with image_size=[{want[0]}, {want[1]}]"
    if not same_aspect:
        raise ObservationError(
            f"observation images are {have[0]}x{have[1]} but the {spec.model} weights were trained on "
            f"{want[0]}x{want[1]} images ({spec.describe()}); the aspect ratio differs, so they are not resized: {advice}"
        )
    if not resize:
        raise ObservationError(
            f"observation images are {have[0]}x{have[1]} but the {spec.model} weights were trained on "
            f"{want[0]}x{want[1]} images ({spec.describe()}); {advice}, or make the agent with resize=True"
        )
    resized = F.interpolate(images.float(), size=want, mode="bilinear", antialias=True, align_corners=False)
    return resized.round().clamp(0, 255).to(torch.uint8), have


def support_labels(obs: Mapping[str, np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.asarray(obs["support_labels"]).astype(np.int64))[None]
