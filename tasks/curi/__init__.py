"""CURI (Vedantam et al., ICML 2021) re-created procedurally: scenes, concepts, pool, splits, episodes.

Modules, in dependency order: ``scenes`` / ``camera`` / ``render`` (the CLEVR-like world),
``concepts`` (CURI's postfix language: parse / print), ``grammar`` (PCFG weights, prior, the
expander's exact sampling dynamics), ``evaluate`` (vectorised truth on scene batches),
``pool`` (scene bank, build command, loader), ``splits`` (the nine splits), ``episodes``
(support / query sampling with hard negatives) and ``family`` (the :class:`TaskFamily`).

The public names are imported lazily, so ``python -m tasks.curi.pool build`` does not load
the pool module twice.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SPLITS", "CuriFamily", "concept_pool", "split_concepts", "split_concepts_for"]


def concept_pool() -> tuple[str, ...]:
    """The generated pool's concept strings, alphabetical (CURI's id order)."""
    from tasks.curi.pool import load_pool

    return load_pool().concepts


def split_concepts(split: str, subset: str) -> tuple[str, ...]:
    """The concept strings of a split's subset of the generated pool."""
    from tasks.curi import splits
    from tasks.curi.pool import load_pool

    return splits.split_concepts(split, subset, load_pool())


def __getattr__(name: str) -> Any:
    if name == "CuriFamily":
        from tasks.curi.family import CuriFamily

        return CuriFamily
    if name in ("SPLITS", "split_concepts_for"):
        from tasks.curi import splits

        return getattr(splits, name)
    raise AttributeError(f"module 'tasks.curi' has no attribute {name!r}")
