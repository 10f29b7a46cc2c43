"""Perception for the Pix2Code agent: images → object tables with per-attribute probabilities.

A Pix2Seq-style extractor (pix2code.md §11) trained here from scratch on our own renders: a CNN
encoder with dense object heads, and a GPT-2 decoder that writes each object as
``[xmin, ymin, xmax, ymax, a1 … aC]`` tokens and then an end token, keeping every token's
distribution. ``load_extractor(family).extract(images)`` gives one object table per image in the
family's scene-modality row format (``pix2code_env.object_schema``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.pix2code.perception.extractor import Extractor

__all__ = ["load_extractor"]


def load_extractor(family: str, path: str | None = None) -> Extractor:
    """The trained extractor of ``family`` ("curi" or "kandinsky"), cached per process."""
    from agents.pix2code.perception.extractor import load_extractor as load

    return load(family, path)
