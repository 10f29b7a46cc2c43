"""The Pix2Code agent's eyes: observation images → padded object tables and doubtful readings.

One :class:`Reader` per fitted task: it runs the family's extractor on the support (at ``fit``)
and the query images (at ``predict``), pads the tables to the observation's ``(S, K, F)`` form
and, with ``uncertainty``, turns the extractor's probabilities into alternative readings
(:func:`agents.pix2code.search.uncertain.readings`) for the search and the query votes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.pix2code.perception import load_extractor
from agents.pix2code.perception.spec import get_spec
from agents.pix2code.search.uncertain import Readings, readings

#: probability keys that are location bins of a numeric column (an alternative moves the centre)
BINNED = {"curi": {"xbin": "px", "ybin": "py"}, "kandinsky": {}}
CONTEXT_BITS = 64  # support scenes and their alternative readings share one 64-bit word in the search


class Reader:
    def __init__(self, family: str, uncertainty: bool = True, path: str | None = None) -> None:
        self.family = family
        self.uncertainty = uncertainty
        self.extractor = load_extractor(family, path)
        self.seconds = 0.0
        self.images = 0
        self.doubtful = 0
        self.notes: list[str] = []

    @staticmethod
    def fits(family: str, images: np.ndarray) -> bool:
        """Whether images of this shape look like the family's (same aspect ratio)."""
        H, W = get_spec(family).image_shape
        shape = np.shape(images)
        h, w = (shape[-2], shape[-1]) if shape[-3] == 3 else (shape[-3], shape[-2])
        return abs(h * W - w * H) <= max(H, W)

    def read(self, view: Mapping[str, np.ndarray], part: str) -> tuple[np.ndarray, np.ndarray, Readings | None]:
        """(objects (N, K, F), mask (N, K), alternative readings or None) of ``view[part + '_images']``
        (a single query image, sequential mode, is read as a batch of one)."""
        key = f"{part}_images" if f"{part}_images" in view else f"{part}_image"
        if key not in view:
            raise ValueError(f"the observation has no {part} images ({part}_images)")
        images = np.asarray(view[key])
        if key.endswith("_image"):
            images = images[None]
        started = time.perf_counter()
        found = self.extractor.detect(images)
        self.seconds += time.perf_counter() - started
        self.images += len(found)
        schema = self.extractor.schema
        K = schema.max_objects
        objects = np.zeros((len(found), K, schema.width), dtype=np.float32)
        mask = np.zeros((len(found), K), dtype=np.int8)
        for i, det in enumerate(found):
            n = min(len(det.table), K)
            objects[i, :n] = det.table[:n]
            mask[i, :n] = 1
            self.notes.extend(note for note in det.notes if note not in self.notes)
        if not self.uncertainty:
            return objects, mask, None
        alt = readings(schema, objects, mask.astype(bool), [d.probabilities for d in found], BINNED[self.family])
        if part == "support":
            alt = alt.limit(max(0, CONTEXT_BITS - len(found)))
        self.doubtful += len(alt)
        return objects, mask, alt if len(alt) else None

    def diagnostics(self) -> dict[str, Any]:
        return {
            "extraction_seconds": round(self.seconds, 4),
            "images_read": self.images,
            "doubtful_readings": self.doubtful,
            "uncertainty": self.uncertainty,
            "perception_notes": list(self.notes),
        }
