"""Rendered scenes with their ground truth, for training and measuring the extractor.

Trusted trainer-side code: it imports ``tasks/`` (the agent's runtime extractor never does).
Scenes come from the families' own samplers and renderers, never from episodes, so no concept
label is involved; the renderer's geometry gives exact targets:

* CURI: scenes of a subset's scene bank (disjoint banks for train / val / test), drawn
  uniformly; boxes are the exact extents of each object's projected silhouette
  (:func:`tasks.curi.silhouettes.silhouettes`, the renderer's own bounding octagon, clipped to
  the image), the centre is the continuous projection of the object's centre, whose rounding
  is CURI's ``(px, py)``.
* Kandinsky: random pattern-free figures (:func:`tasks.kandinsky.figures.random_figures`, as
  Pix2Code's detector was trained) with 2–6 objects; boxes and centres follow from (x, y, s)
  and the drawn geometry (:mod:`tasks.kandinsky.render`).

Every batch is a pure function of (family, subset, purpose, index): a training step's data is
the same after a resume, and the validation and benchmark scenes of a subset never meet.
Objects are listed in the decoder's order: by the column, then the row, of their centre's
stride-4 feature cell (the order of the encoder's candidates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agents.pix2code.perception.spec import FamilySpec, get_spec
from tasks import make_family

PURPOSES = {"train": 1, "validation": 2, "benchmark": 3, "test": 4}


@dataclass(frozen=True)
class Truth:
    """A batch of rendered scenes and their objects (padded to ``max_objects``).

    ``numerics`` (N, K, len(spec.numerics)) in pixels (s: a fraction of the image side), nan in
    padding; ``classes`` (N, K, len(spec.classes)) int64 codes, -1 in padding; ``attributes``
    every categorical attribute of the output (class and binned) as codes; ``tables`` the
    family's own object-table rows (N, K, F) as ``modality="scene"`` gives them.
    """

    images: np.ndarray  # (N, 3, H, W) uint8
    n_objects: np.ndarray
    numerics: np.ndarray
    classes: np.ndarray
    attributes: dict[str, np.ndarray]
    tables: np.ndarray

    def __len__(self) -> int:
        return int(self.n_objects.shape[0])


def stream(family: str, subset: str, purpose: str, index: int) -> np.random.Generator:
    """The generator of one batch: keyed on the family's subset stream (disjoint subsets)."""
    key = make_family(family).stream_key(subset)
    return np.random.default_rng([*key, PURPOSES[purpose], index])


def scenes(family: str, subset: str, purpose: str, index: int, count: int) -> Truth:
    """``count`` rendered scenes of ``family`` from ``subset``'s stream."""
    rng = stream(family, subset, purpose, index)
    return _curi(rng, subset, count) if family == "curi" else _kandinsky(rng, count)


def _ordered(spec: FamilySpec, n: np.ndarray, numerics: np.ndarray) -> np.ndarray:
    """Permutation (N, K) that lists each scene's objects in the decoder's order, that of the
    encoder's candidate cells: by the column of the centre's feature cell, then its row (padding
    last). No two objects share a cell (CURI's centres are at least 11.6 px apart)."""
    u = numerics[..., spec.numeric_names.index("u")]
    v = numerics[..., spec.numeric_names.index("v")]
    live = np.arange(u.shape[1])[None, :] < n[:, None]
    key_u = np.where(live, np.floor(np.nan_to_num(u) / spec.stride), np.inf)
    key_v = np.where(live, np.floor(np.nan_to_num(v) / spec.stride), np.inf)
    return np.stack([np.lexsort((kv, ku)) for ku, kv in zip(key_u, key_v)]) if len(u) else np.zeros(u.shape, np.int64)


def _finish(spec: FamilySpec, images: np.ndarray, n: np.ndarray, numerics: np.ndarray, classes: np.ndarray,
            attributes: dict[str, np.ndarray], tables: np.ndarray) -> Truth:
    order = _ordered(spec, n, numerics)
    take = lambda a: np.take_along_axis(a, order.reshape(order.shape + (1,) * (a.ndim - 2)), axis=1)  # noqa: E731
    return Truth(
        images=np.ascontiguousarray(images.transpose(0, 3, 1, 2)),
        n_objects=n.astype(np.int64),
        numerics=take(numerics).astype(np.float32),
        classes=take(classes).astype(np.int64),
        attributes={k: take(v).astype(np.int64) for k, v in attributes.items()},
        tables=take(tables).astype(np.float32),
    )


def _curi(rng: np.random.Generator, subset: str, count: int) -> Truth:
    from tasks.curi.render import render_batch
    from tasks.curi.scenes import X_BIN_WIDTH, Y_BIN_HEIGHT
    from tasks.curi.silhouettes import camera_rows, silhouettes

    spec = get_spec("curi")
    family = make_family("curi")
    bank = family.sampler(subset).bank.batch
    batch = bank.take(rng.integers(0, len(bank), size=count))
    images = render_batch(batch)
    H, W = spec.image_shape
    K = spec.max_objects
    mask = batch.mask
    scene_of, slot_of = np.nonzero(mask)
    fr = camera_rows(batch.camera.astype(np.float64))[:, scene_of]
    sil = silhouettes(
        batch.shape[mask].astype(np.intp), batch.size[mask].astype(np.intp), batch.x[mask].astype(np.float64),
        batch.y[mask].astype(np.float64), batch.rotation[mask].astype(np.float64), fr, W, H,
    )
    values = {
        "x0": np.clip(sil.lo[0], 0, W), "y0": np.clip(sil.lo[1], 0, H),
        "x1": np.clip(sil.hi[0], 0, W), "y1": np.clip(sil.hi[1], 0, H),
        # the sampler rounds float32 projections; keep our continuous centre on the same side
        # of every half-pixel as the recorded (px, py), so round(u) is exactly px
        "u": _agree(sil.u, batch.px[mask]), "v": _agree(sil.v, batch.py[mask]),
    }
    numerics = np.full((count, K, len(spec.numerics)), np.nan)
    for j, name in enumerate(spec.numeric_names):
        numerics[scene_of, slot_of, j] = values[name]
    classes = np.stack([getattr(batch, name) for name in spec.classes], axis=-1).astype(np.int64)
    attributes = {name: classes[..., i] for i, name in enumerate(spec.classes)}
    attributes["xbin"] = np.where(mask, batch.px // X_BIN_WIDTH, -1)
    attributes["ybin"] = np.where(mask, batch.py // Y_BIN_HEIGHT, -1)
    tables = np.zeros((count, K, spec.schema.width), dtype=np.float32)
    for i in range(count):
        scene = batch.scene(i)
        tables[i, : len(scene.objects)] = family.object_table(scene)
    return _finish(spec, images, batch.n_objects, numerics, classes, attributes, tables)


def _agree(continuous: np.ndarray, rounded: np.ndarray) -> np.ndarray:
    """``continuous`` nudged by at most 1e-3 px so that it rounds to ``rounded`` (the sampler
    rounded a float32 projection; a centre within 1e-3 px of a half pixel may round either way)."""
    out = continuous.copy()
    low, high = rounded - 0.5 + 1e-4, rounded + 0.5 - 1e-4
    near = np.abs(out - rounded) > 0.5 - 1e-4
    out[near] = np.clip(out[near], low[near], high[near])
    return out


def _kandinsky(rng: np.random.Generator, count: int) -> Truth:
    from tasks.kandinsky.figures import random_figures
    from tasks.kandinsky.render import render_scene
    from tasks.kandinsky.universe import (
        CIRCLE_RADIUS, COLORS, SHAPES, SQUARE_HALF_SIDE, TRIANGLE_RADIUS, KandinskyObject, KandinskyScene, size_classes,
    )  # fmt: skip

    spec = get_spec("kandinsky")
    family = make_family("kandinsky")
    H, W = spec.image_shape
    K = spec.max_objects
    n = rng.integers(2, K + 1, size=count)
    numerics = np.full((count, K, len(spec.numerics)), np.nan)
    classes = np.full((count, K, len(spec.classes)), -1, dtype=np.int64)
    sizes = np.full((count, K), -1, dtype=np.int64)
    tables = np.zeros((count, K, spec.schema.width), dtype=np.float32)
    images = np.empty((count, H, W, 3), dtype=np.uint8)
    L = float(min(H, W))
    sin60 = math.sqrt(3.0) / 2.0
    for k in range(2, K + 1):
        rows = np.flatnonzero(n == k)
        if rows.size == 0:
            continue
        figs = random_figures(rng, k, rows.size)
        for r, i in enumerate(rows):
            objs = tuple(
                KandinskyObject(SHAPES[figs.shape[r, j]], COLORS[figs.color[r, j]], float(figs.size[r, j]),
                                float(figs.x[r, j]), float(figs.y[r, j]))
                for j in range(k)
            )  # fmt: skip
            scene = KandinskyScene(objs)
            images[i] = render_scene(scene, H, W)
            tables[i, :k] = family.object_table(scene)
        s = figs.size
        cx, cy, unit = figs.x * W, figs.y * H, s * L
        half_w = np.select([figs.shape == 0, figs.shape == 1], [TRIANGLE_RADIUS * sin60, SQUARE_HALF_SIDE], CIRCLE_RADIUS) * unit
        top = np.select([figs.shape == 0, figs.shape == 1], [TRIANGLE_RADIUS, SQUARE_HALF_SIDE], CIRCLE_RADIUS) * unit
        bottom = np.where(figs.shape == 0, 0.5 * TRIANGLE_RADIUS * unit, top)
        values = {"x0": cx - half_w, "y0": cy - top, "x1": cx + half_w, "y1": cy + bottom, "u": cx, "v": cy, "s": s}
        for j, name in enumerate(spec.numeric_names):
            numerics[rows, :k, j] = np.clip(values[name], 0, W if name in ("x0", "x1", "u") else H) if name != "s" else s
        classes[rows, :k, 0] = figs.shape
        classes[rows, :k, 1] = figs.color
        sizes[rows, :k] = size_classes(s)
    attributes = {"shape": classes[..., 0], "color": classes[..., 1], "size": sizes}
    return _finish(spec, images, n, numerics, classes, attributes, tables)
