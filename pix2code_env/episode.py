"""The observed episode: a family's scenes turned into the arrays an agent sees, plus a fingerprint.

The fingerprint is a SHA-256 over the episode's *content*, everything an agent and a scorer see:
the concept id (and what ids mean: the family, and the digest of an external concept list),
labels, object tables, and images when rendered. It names no seed, subset or env id, so two
identical episodes always share a fingerprint, whatever produced them; the identity is reported
beside it (``info["identity"]``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from tasks.base import SceneEpisode, TaskFamily

MODALITIES = ("image", "scene", "both")


@dataclass(frozen=True)
class Episode:
    """One episode as arrays. Image and object fields are ``None`` when the modality omits them."""

    concept_id: str
    subset: str
    support_labels: np.ndarray  # (S,) uint8
    query_labels: np.ndarray  # (Q,) uint8
    support_images: np.ndarray | None  # (S, 3, H, W) uint8
    query_images: np.ndarray | None  # (Q, 3, H, W) uint8
    support_objects: np.ndarray | None  # (S, K, F) float32, zero rows past the mask
    support_object_mask: np.ndarray | None  # (S, K) int8
    query_objects: np.ndarray | None
    query_object_mask: np.ndarray | None
    fingerprint: str

    @property
    def n_support(self) -> int:
        return int(self.support_labels.shape[0])

    @property
    def n_query(self) -> int:
        return int(self.query_labels.shape[0])


def render_images(family: TaskFamily, scenes: tuple, height: int, width: int) -> np.ndarray:
    """Render scenes as a channel-first ``(n, 3, H, W)`` uint8 batch."""
    return np.ascontiguousarray(family.render_many(scenes, height, width).transpose(0, 3, 1, 2))


def object_tables(family: TaskFamily, scenes: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Pad each scene's object table to ``family.max_objects`` rows, with a validity mask."""
    n_features = len(family.object_features)
    objects = np.zeros((len(scenes), family.max_objects, n_features), dtype=np.float32)
    mask = np.zeros((len(scenes), family.max_objects), dtype=np.int8)
    for i, scene in enumerate(scenes):
        table = family.object_table(scene)
        if table.shape[0] > family.max_objects or table.shape[1] != n_features:
            raise ValueError(
                f"{family.name} object table has shape {table.shape}; expected at most "
                f"{family.max_objects} rows of {n_features} features"
            )
        objects[i, : table.shape[0]] = table
        mask[i, : table.shape[0]] = 1
    return objects, mask


def build_episode(
    family: TaskFamily,
    scenes: SceneEpisode,
    subset: str,
    *,
    modality: str,
    image_shape: tuple[int, int],
) -> Episode:
    """Render and tabulate a scene episode for ``modality`` and fingerprint its content."""
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; expected one of {list(MODALITIES)}")
    height, width = image_shape
    support_images = query_images = None
    support_objects = support_mask = query_objects = query_mask = None
    if modality in ("image", "both"):
        support_images = render_images(family, scenes.support_scenes, height, width)
        query_images = render_images(family, scenes.query_scenes, height, width)
    if modality in ("scene", "both"):
        support_objects, support_mask = object_tables(family, scenes.support_scenes)
        query_objects, query_mask = object_tables(family, scenes.query_scenes)

    support_labels = np.asarray(scenes.support_labels, dtype=np.uint8)
    query_labels = np.asarray(scenes.query_labels, dtype=np.uint8)
    fingerprint = content_fingerprint(
        family.content_key,
        scenes.concept_id,
        {
            "support_labels": support_labels, "query_labels": query_labels,
            "support_images": support_images, "query_images": query_images,
            "support_objects": support_objects, "support_object_mask": support_mask,
            "query_objects": query_objects, "query_object_mask": query_mask,
        },
    )
    return Episode(
        concept_id=scenes.concept_id,
        subset=subset,
        support_labels=support_labels,
        query_labels=query_labels,
        support_images=support_images,
        query_images=query_images,
        support_objects=support_objects,
        support_object_mask=support_mask,
        query_objects=query_objects,
        query_object_mask=query_mask,
        fingerprint=fingerprint,
    )


def content_fingerprint(content_key: dict[str, object], concept_id: str, arrays: dict[str, np.ndarray | None]) -> str:
    """SHA-256 of an episode's content: what its concept ids mean, the concept id, and each
    present array with its name, dtype and shape."""
    digest = hashlib.sha256(json.dumps({**content_key, "concept_id": concept_id}, sort_keys=True).encode())
    for name, array in arrays.items():
        if array is not None:
            array = np.ascontiguousarray(array)
            digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
