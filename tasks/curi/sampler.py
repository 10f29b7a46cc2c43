"""CURI's scene sampler: CLEVR's ``add_random_objects`` with its visibility rule, vectorised.

CURI renders its scenes with CLEVR's generator (``image_generation/render_images.py``) at
240x160 with 2..5 objects; its concepts read the objects' attributes and the location bins of
their projected centres. :func:`sample_scenes` follows CLEVR's procedure step by step, vectorised
over a batch of scenes:

1. per scene: the object count uniform in 2..5 and CLEVR's camera jitter (uniform in
   [-0.5, 0.5] on each axis, drawn once and kept when the scene is re-sampled; see
   :mod:`tasks.curi.camera`);
2. per object, in order: its size, then a position uniform in [-3, 3]^2, tried again until it is
   at least 0.25 from every earlier object after subtracting both radii and at least 0.4 from
   each along CLEVR's right and behind ground directions (CLEVR's quirk kept: the new object's
   radius is its raw size, an earlier cube's is its size / sqrt(2)); then shape, colour, rotation
   uniform in [0, 360) and material -- every attribute uniform and independent;
3. more than 50 tries for one object, or any object too little visible in the 240x160 image,
   throws the scene away and samples it again with the same object count and camera (CLEVR
   recurses into ``add_random_objects``; its rule is 200 visible pixels).

Visibility (step 3) is decided analytically, per object: the exact area of its perspective
silhouette, minus the part of the silhouette's bounding octagon outside the image, minus the
overlaps of that octagon with the octagons of objects that can be in front of it, a lower bound
of the visible area, must reach :data:`VISIBILITY_THRESHOLD` pixels. The rule shapes the scene
statistics: it culls small objects far from the camera, so fewer objects are small and the far
rows hold fewer small spheres and cubes. The threshold is *fitted*, not CLEVR's 200: at 208
(200 plus the 8 px by which an area can exceed a pixel count) 60 % of objects are large and 193
of CURI's 14,929 released concepts fire on 10 % or more of our scenes, which CURI's own filter
rules out; CURI's list implies 53-57.5 % large objects. At 168, 54 % of objects are large and
99.6 % of CURI's concepts pass CURI's filter (true on more than 10 and fewer than 10 % of the
reference bank's million scenes); see docs/BENCHMARKS.md for the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.curi import camera as cam
from tasks.curi.scenes import (
    GROUND_EXTENT,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    MARGIN,
    MAX_OBJECTS,
    MAX_RETRIES,
    MIN_DISTANCE,
    MIN_OBJECTS,
    SHAPE_SCALE,
    SIZE_VALUES,
    SceneBatch,
)
from tasks.curi.silhouettes import REACH, camera_rows, image_octagon, octagon_area, silhouettes

# The visibility rule (see the module notes): the lower bound of an object's visible area, in
# pixels of the 240x160 image, that it must reach. Fitted to CURI's released concepts; a pixel
# count in the renderer's id buffer can fall short of an area by up to ~12 px on small objects.
VISIBILITY_THRESHOLD = 168.0

# Candidate positions drawn per round for object k, each schedule summing to MAX_RETRIES; the
# first rounds are sized to the chance that one try succeeds (about 0.73, 0.51, 0.35, 0.22 for
# objects 1..4).
_TRY_BLOCKS = ((1,), (2, 4, 8, 12, 12, 12), (3, 5, 10, 10, 11, 11), (4, 8, 12, 13, 13), (6, 10, 12, 11, 11))
assert all(sum(b) == MAX_RETRIES for b in _TRY_BLOCKS[1:])


def _place(
    rng: np.random.Generator,
    k: int,
    rows: np.ndarray,
    pos: np.ndarray,
    raw_radius: np.ndarray,
    stored_radius: np.ndarray,
) -> np.ndarray:
    """Place object ``k`` of scenes ``rows``; returns the rows that ran out of tries.

    ``pos`` (4, 5, m) holds x, y and the coordinates along CLEVR's right and behind directions
    (an orthonormal basis, so distances can be taken there too). Tries are drawn in blocks and
    the first valid one is taken: the same distribution as CLEVR's one-at-a-time tries, with the
    same limit.
    """
    (rx, ry), (bx, by) = (np.float32(c) for c in cam.RIGHT_DIRECTION), (np.float32(c) for c in cam.BEHIND_DIRECTION)
    pending = rows
    for block in _TRY_BLOCKS[k]:
        if pending.size == 0:
            break
        cx, cy = rng.random((2, pending.size, block), dtype=np.float32) * np.float32(2 * GROUND_EXTENT) - np.float32(
            GROUND_EXTENT
        )
        cr, cb = cx * rx + cy * ry, cx * bx + cy * by
        if k == 0:
            found = np.ones(pending.size, dtype=bool)
            first = np.zeros(pending.size, dtype=np.intp)
        else:
            # CLEVR rejects 0 < |offset| < margin along a direction; an offset of exactly 0
            # (probability 0 for continuous positions) is treated as too close here.
            valid = np.ones(cx.shape, dtype=bool)
            reach = (raw_radius[k, pending] + MIN_DISTANCE).astype(np.float32)
            for j in range(k):
                dr = np.abs(cr - pos[2, j, pending, None])
                db = np.abs(cb - pos[3, j, pending, None])
                gap = (reach + stored_radius[j, pending].astype(np.float32))[:, None]
                valid &= (dr >= MARGIN) & (db >= MARGIN) & (dr * dr + db * db >= gap * gap)
            found = valid.any(axis=1)
            first = valid.argmax(axis=1)
        done, pick = pending[found], first[found]
        for c, arr in enumerate((cx, cy, cr, cb)):
            pos[c, k, done] = arr[found, pick]
        pending = pending[~found]
    return pending


@dataclass
class _Attempt:
    """One attempt at m scenes: attributes, positions, projections and which scenes succeeded."""

    ok: np.ndarray  # (m,)
    shape: np.ndarray  # (5, m) ints (slot-major)
    color: np.ndarray
    material: np.ndarray
    size: np.ndarray
    rotation: np.ndarray  # (5, m) floats
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    depth: np.ndarray


def _attempt(rng: np.random.Generator, counts: np.ndarray, fr: np.ndarray) -> _Attempt:
    """CLEVR's ``add_random_objects`` with its visibility check, once for every scene.

    A scene is given up as soon as one object is placed where it cannot be visible: CLEVR would
    reject it after placing the rest, so the accepted scenes are distributed the same.
    Arrays are slot-major (5, m) while working, for contiguous per-slot rows.
    """
    m = counts.shape[0]
    # shape, colour, material and size from one uniform draw over their 96 combinations
    combo = rng.integers(0, 96, size=(MAX_OBJECTS, m), dtype=np.int16)
    shape, color, material, size = combo % 3, (combo // 3) % 8, (combo // 24) % 2, combo // 48
    rotation = np.float32(360) * rng.random((MAX_OBJECTS, m), dtype=np.float32)
    raw_radius = np.asarray(SIZE_VALUES)[size]
    stored_radius = raw_radius * np.asarray(SHAPE_SCALE)[shape]
    pos = np.full((4, MAX_OBJECTS, m), np.nan, dtype=np.float32)
    u = np.full((MAX_OBJECTS, m), np.nan, dtype=np.float32)
    v = np.full((MAX_OBJECTS, m), np.nan, dtype=np.float32)
    depth = np.full((MAX_OBJECTS, m), np.nan, dtype=np.float32)
    area = np.zeros((MAX_OBJECTS, m), dtype=np.float32)
    lo = np.zeros((MAX_OBJECTS, 4, m), dtype=np.float32)
    hi = np.zeros((MAX_OBJECTS, 4, m), dtype=np.float32)
    img_lo, img_hi = image_octagon(IMAGE_WIDTH, IMAGE_HEIGHT)
    ok = np.ones(m, dtype=bool)
    for k in range(MAX_OBJECTS):
        rows = np.flatnonzero(ok & (counts > k))
        failed = _place(rng, k, rows, pos, raw_radius, stored_radius)
        if failed.size:
            ok[failed] = False
            rows = rows[ok[rows]]
        sil = silhouettes(
            shape[k, rows], size[k, rows], pos[0, k, rows], pos[1, k, rows], rotation[k, rows], fr[:, rows]
        )
        u[k, rows], v[k, rows], depth[k, rows] = sil.u, sil.v, sil.depth
        lo[k][:, rows], hi[k][:, rows] = sil.lo, sil.hi
        # the visible area left after clipping at the image border
        clipped = sil.area
        outside = np.flatnonzero(np.any((sil.lo < img_lo) | (sil.hi > img_hi), axis=0))
        if outside.size:
            o_lo, o_hi = sil.lo[:, outside], sil.hi[:, outside]
            clipped[outside] -= octagon_area(o_lo, o_hi) - octagon_area(
                np.maximum(o_lo, img_lo), np.minimum(o_hi, img_hi)
            )
        area[k, rows] = clipped
        ok[rows[clipped < VISIBILITY_THRESHOLD]] = False
    # Occlusion: subtract the octagon overlaps with every object that can be in front.
    reach = (stored_radius * REACH[shape]).astype(np.float32)
    for i in range(MAX_OBJECTS - 1):
        for j in range(i + 1, MAX_OBJECTS):
            both = np.flatnonzero(ok & (counts > j))
            meet = both[
                (np.maximum(lo[i, 0, both], lo[j, 0, both]) < np.minimum(hi[i, 0, both], hi[j, 0, both]))
                & (np.maximum(lo[i, 1, both], lo[j, 1, both]) < np.minimum(hi[i, 1, both], hi[j, 1, both]))
            ]
            if meet.size == 0:
                continue
            overlap = octagon_area(
                np.maximum(np.maximum(lo[i][:, meet], lo[j][:, meet]), img_lo),
                np.minimum(np.minimum(hi[i][:, meet], hi[j][:, meet]), img_hi),
            )
            # subtract from each object the other may be in front of (their depth ranges overlap)
            d_i, d_j, r_i, r_j = depth[i, meet], depth[j, meet], reach[i, meet], reach[j, meet]
            area[i, meet] -= np.where(d_j - r_j < d_i + r_i, overlap, np.float32(0))
            area[j, meet] -= np.where(d_i - r_i < d_j + r_j, overlap, np.float32(0))
    present = np.arange(MAX_OBJECTS)[:, None] < counts[None, :]
    ok &= np.all(~present | (area >= VISIBILITY_THRESHOLD), axis=0)
    return _Attempt(ok, shape, color, material, size, rotation, pos[0], pos[1], u, v, depth)


_CHUNK = 1 << 16
_MAX_COPIES = 16


def sample_scenes(rng: np.random.Generator, n: int) -> SceneBatch:
    """Sample ``n`` CLEVR-like scenes the way CLEVR's generator does (see the module docstring).

    Deterministic for the generator's state; vectorised over scenes, in chunks of 64k.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    parts = [_sample_chunk(rng, min(_CHUNK, n - start)) for start in range(0, n, _CHUNK)]
    if len(parts) == 1:
        return parts[0]
    return SceneBatch.concatenate(parts) if parts else _sample_chunk(rng, 0)


def _sample_chunk(rng: np.random.Generator, n: int) -> SceneBatch:
    counts = rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1, size=n)
    camera = np.asarray(cam.BASE_LOCATION) + rng.uniform(-cam.JITTER, cam.JITTER, size=(n, 3))
    fr = camera_rows(camera).astype(np.float32)
    names = ("shape", "color", "material", "size", "rotation", "x", "y", "u", "v", "depth")
    out: dict[str, np.ndarray] = {}
    pending = np.arange(n)
    while pending.size:
        # Once few scenes are left, try each several times at once and keep its first success:
        # the same as retrying one after another, in fewer vectorised rounds.
        reps = int(np.clip(-(-n // (4 * pending.size)), 1, _MAX_COPIES))
        rows = np.repeat(pending, reps)
        att = _attempt(rng, counts[rows], fr[:, rows])
        ok = att.ok.reshape(pending.size, reps)
        won = ok.any(axis=1)
        pick = np.flatnonzero(won) * reps + ok[won].argmax(axis=1)
        for name in names:
            value = getattr(att, name)
            if name not in out:
                out[name] = np.empty((MAX_OBJECTS, n), dtype=value.dtype)
            out[name][:, pending[won]] = value[:, pick]
        pending = pending[~won]
    mask = (np.arange(MAX_OBJECTS)[:, None] < counts[None, :]) if n else np.zeros((MAX_OBJECTS, 0), bool)
    if not out:
        out = {name: np.zeros((MAX_OBJECTS, 0)) for name in names}
    ints = {name: np.where(mask, out[name], -1).T for name in ("shape", "color", "material", "size")}
    floats = {name: np.where(mask, out[name], np.nan).T for name in ("rotation", "x", "y", "depth")}
    return SceneBatch(
        n_objects=counts,
        px=np.where(mask, np.round(out["u"]), -1).T,
        py=np.where(mask, np.round(out["v"]), -1).T,
        camera=camera,
        **ints,
        **floats,
    )
