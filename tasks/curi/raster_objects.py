"""CURI scenes as flat arrays of objects in each scene's camera space, ordered for the renderer,
with the pixel rows near each object's silhouette (:mod:`tasks.curi.render` draws them).

Speed notes (the costs behind them: :mod:`tasks.curi.render`):
* samples are generated row by row (each row of an octagon belongs to one object) and every
  per-object quantity reaches the samples by np.repeat, never by a gather;
* objects are ordered by (chunk, shape, material): rays are cast in one run per shape, and the
  nearest hits are reordered by (material, shape) once, so that shading splits in two runs
  (:mod:`tasks.curi.sample_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tasks.curi import camera as cam
from tasks.curi.scenes import (
    COLOR_RGB,
    COLORS,
    MATERIALS,
    SHAPES,
    SIZES,
    CuriScene,
    SceneBatch,
    half_extent,
)
from tasks.curi.silhouettes import camera_rows, silhouettes

_F32 = np.float32
_COLOR_TABLE = np.array([COLOR_RGB[c] for c in COLORS], dtype=np.float64) / 255.0
_RENDER_CHUNK = 25  # scenes per vectorised pass: larger passes fall out of the CPU caches
_SPAN_PAD = 1.5  # pixels: every 4-neighbour of a covered pixel lies within 1.5 px of the silhouette
_SLAB_NORM = np.array([1.0, 1.0, np.sqrt(2.0), np.sqrt(2.0)])[:, None]


def clip(x: np.ndarray, lo: float, hi: float, out: np.ndarray | None = None) -> np.ndarray:
    """np.clip as two ufuncs (np.clip's Python wrapper costs more than the work on small arrays)."""
    out = np.maximum(x, lo, out=out)
    return np.minimum(out, hi, out=out)


@dataclass
class Flat:
    """Objects of N scenes as flat arrays, in scene order (any number of objects per scene)."""

    scene: np.ndarray
    slot: np.ndarray
    shape: np.ndarray
    color: np.ndarray
    material: np.ndarray
    size: np.ndarray
    x: np.ndarray
    y: np.ndarray
    rotation: np.ndarray
    camera: np.ndarray  # (N, 3)

    OBJECT_FIELDS = ("slot", "shape", "color", "material", "size", "x", "y", "rotation")

    @staticmethod
    def of_batch(batch: SceneBatch) -> Flat:
        mask = batch.mask
        scene, slot = np.nonzero(mask)
        fields = {name: getattr(batch, name)[mask] for name in Flat.OBJECT_FIELDS[1:]}
        return Flat(scene=scene, slot=slot, camera=batch.camera, **fields)

    @staticmethod
    def of_scenes(scenes: Sequence[CuriScene]) -> Flat:
        index = {name: {v: i for i, v in enumerate(values)} for name, values in _TABLES.items()}
        rows = [
            (i, k, *(index[name][getattr(o, name)] for name in _TABLES), o.x, o.y, o.rotation)
            for i, sc in enumerate(scenes)
            for k, o in enumerate(sc.objects)
        ]
        cols = np.array(rows, dtype=np.float64).reshape(len(rows), 9).T
        ints = cols[:6].astype(np.int64)
        camera = np.array([sc.camera for sc in scenes], dtype=np.float64).reshape(len(scenes), 3)
        return Flat(*ints, cols[6], cols[7], cols[8], camera)


_TABLES = {"shape": SHAPES, "color": COLORS, "material": MATERIALS, "size": SIZES}


@dataclass
class _Rows:
    """Horizontal pixel spans, one object each, grouped by object in order: (scene, row y, first
    column x0, pixel count)."""

    scene: np.ndarray
    y: np.ndarray
    x0: np.ndarray
    count: np.ndarray
    first: np.ndarray  # (n_objects + 1,) row range of each object


@dataclass
class Objects:
    """All objects of a call in each scene's camera frame (x right, y up, z forward), ordered by
    (chunk, shape, material); every per-object field is 1-D over objects."""

    height: int
    width: int
    focal: float
    f: dict[str, np.ndarray]  # per-object float32 fields (see prepare)
    scene: np.ndarray  # scene of each object (within the call)
    slot: np.ndarray  # index of each object in its scene
    shape: np.ndarray
    metal: np.ndarray  # bool
    normal_table: np.ndarray  # (3, 3 * n): a cube's outward normal on the visible face of axis k
    table_row: np.ndarray  # 3 * object index: an object's first column in normal_table
    color255: np.ndarray  # (3, n) base colour in 0..255
    rows: _Rows  # the pixels near each silhouette
    chunk_scenes: np.ndarray  # (n_chunks + 1,) scene range of each chunk (see _chunks)
    chunk_objects: np.ndarray  # (n_chunks + 1,) object range of each chunk


def _chunks(n_scenes: int) -> np.ndarray:
    """Scene ranges (n_chunks + 1,) of the vectorised passes: as few as _RENDER_CHUNK allows, of
    equal sizes (a small last pass would cost nearly as much as a full one)."""
    n_chunks = max(-(-n_scenes // _RENDER_CHUNK), 1)
    return -(-np.arange(n_chunks + 1) * n_scenes // n_chunks)


def prepare(objs: Flat, height: int, width: int) -> Objects:
    metal = objs.material.astype(np.int64)
    shape = objs.shape.astype(np.int64)
    n_scenes = objs.camera.shape[0]
    chunks = _chunks(n_scenes)
    part = np.searchsorted(chunks, objs.scene, side="right") - 1
    order = np.lexsort((metal, shape, part))
    scene, slot, metal, shape = objs.scene[order], objs.slot[order], metal[order], shape[order]
    n = order.size
    size = objs.size.astype(np.int64)[order]
    xyr = np.stack([objs.x, objs.y, objs.rotation]).astype(np.float64).reshape(3, -1)[:, order]
    location = np.asarray(objs.camera, dtype=np.float64).reshape(-1, 3)
    fr = camera_rows(location)[:, scene]  # (11, n) camera rows per object
    lx, ly, lz, rx, ry, ux, uy, uz, fx, fy, fz = fr
    h = half_extent(shape, size)
    px, py, pz = xyr[0] - lx, xyr[1] - ly, h - lz
    c = np.stack([px * rx + py * ry, px * ux + py * uy + pz * uz, px * fx + py * fy + pz * fz])
    world_x, world_y = np.stack([rx, ux, fx]), np.stack([ry, uy, fy])
    up = np.stack([np.zeros(n), uz, fz])
    theta = np.deg2rad(xyr[2])
    cos, sin = np.cos(theta), np.sin(theta)
    ax = [cos * world_x + sin * world_y, -sin * world_x + cos * world_y, up]
    oc = [np.sum(e * c, axis=0) for e in ax]
    cp = c - oc[2] * up
    f = {
        "h": h,
        "cx": c[0],
        "cy": c[1],
        "cz": c[2],
        "cc": np.sum(c * c, axis=0) - h * h,
        "cpx": cp[0],
        "cpy": cp[1],
        "cpz": cp[2],
        "cpp": np.sum(cp * cp, axis=0) - h * h,
        "upy": uz,
        "upz": fz,
        "axis_c": oc[2],  # a cylinder's centre along its axis
        "cam_height": lz,
        "world_x": world_x,  # (3, n) world axes in camera space
        "world_y": world_y,
    }
    for k in range(3):
        f[f"o{k}"] = oc[k]
        for comp, name in enumerate("xyz"):
            f[f"e{k}{name}"] = ax[k][comp]
    f = {key: np.ascontiguousarray(val, dtype=_F32) for key, val in f.items()}
    # derived in single precision, as the ray casts would compute them
    h32 = f["h"]
    f["inv_h"] = 1 / h32
    f["two_h2"] = 2 * h32 * h32
    f["top"] = f["axis_c"] + h32  # a cylinder's top cap along its axis
    for k in range(3):
        f[f"lo{k}"], f[f"hi{k}"] = f[f"o{k}"] - h32, f[f"o{k}"] + h32
    # A ray enters a box through the face of axis k that faces the camera (the camera is outside
    # that slab whenever the slab's entry decides the hit), whose outward normal is -sign(oc_k) e_k.
    normal_table = np.stack([-np.sign(oc[k]) * ax[k] for k in range(3)], axis=-1).reshape(3, 3 * n)
    # the exact bounding octagon of each silhouette (tasks.curi.silhouettes)
    sil = silhouettes(shape, size, xyr[0], xyr[1], xyr[2], fr, width, height)
    chunk_objects = np.searchsorted(part[order], np.arange(chunks.size))
    return Objects(
        height=height,
        width=width,
        focal=cam.focal_pixels(width),
        f=f,
        scene=scene,
        slot=slot.astype(np.int8),
        shape=shape,
        metal=metal == 1,
        normal_table=normal_table.astype(_F32),
        table_row=np.arange(0, 3 * n, 3, dtype=np.intp),
        color255=(_COLOR_TABLE[objs.color.astype(np.int64)[order]].T * 255).astype(_F32),
        rows=_octagon_rows(sil.lo.astype(np.float64), sil.hi.astype(np.float64), scene, height, width),
        chunk_scenes=chunks,
        chunk_objects=chunk_objects,
    )


def spans(lo_y: np.ndarray, hi_y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row ranges [y0, y1) per item -> (item of each row, row index, first row of each item)."""
    rows = np.maximum(hi_y - lo_y, 0)
    first = np.concatenate([[0], np.cumsum(rows)])
    owner = np.repeat(np.arange(rows.size), rows)
    return owner, lo_y.take(owner) + np.arange(owner.size) - first[:-1].take(owner), first


def _octagon_rows(lo: np.ndarray, hi: np.ndarray, scene: np.ndarray, height: int, width: int) -> _Rows:
    """The pixels whose centres lie in the octagons (4, n) grown by _SPAN_PAD, as row spans: far
    fewer than the octagons' bounding boxes hold."""
    lo = lo - _SPAN_PAD * _SLAB_NORM
    hi = hi + _SPAN_PAD * _SLAB_NORM
    y0 = clip(np.ceil(lo[1] - 0.5), 0, height).astype(np.int64)
    y1 = clip(np.floor(hi[1] - 0.5) + 1, 0, height).astype(np.int64)
    owner, y, _ = spans(y0, y1)
    v = y + 0.5
    u_lo = np.maximum(np.maximum(lo[0].take(owner), lo[2].take(owner) - v), lo[3].take(owner) + v)
    u_hi = np.minimum(np.minimum(hi[0].take(owner), hi[2].take(owner) - v), hi[3].take(owner) + v)
    x0 = clip(np.ceil(u_lo - 0.5), 0, width).astype(np.int64)
    count = clip(np.floor(u_hi - 0.5) + 1, 0, width).astype(np.int64) - x0
    keep = count > 0
    owner, y, x0, count = owner[keep], y[keep], x0[keep], count[keep]
    first = np.searchsorted(owner, np.arange(lo.shape[1] + 1))
    return _Rows(scene.take(owner), y, x0, count, first)
