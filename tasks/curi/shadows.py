"""Soft contact shadows on the floor, stretched away from the key light and evaluated on cells of
3x3 pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.curi.raster_objects import Objects, clip, spans
from tasks.curi.scenes import CUBE
from tasks.curi.shading import SHADOW_DRIFT

_F32 = np.float32
SHADOW_CELL = 3  # shadows are soft: evaluate them on 3x3-pixel cells
_SHADOW_STRENGTH = 0.5


@dataclass
class ShadowRows:
    """Rows of 3x3-pixel shadow cells, one object each, grouped by object in order, with the
    per-row and per-object quantities their cells need (float32, see shadow_rows)."""

    scene: np.ndarray
    cy: np.ndarray
    cx0: np.ndarray
    count: np.ndarray
    first: np.ndarray  # (n_objects + 1,) row range of each object
    v: dict[str, np.ndarray]


def shadow_rows(objs: Objects) -> ShadowRows:
    """The cells of each object's soft contact shadow: a soft blob around the segment from its foot
    towards where its top's shadow falls (shortened), measured on the floor.

    A cell's floor point is where the ray through its centre meets the floor; along a row of cells
    only the ray's slope a changes, so everything else is computed once per row.
    """
    H, W, f, cell = objs.height, objs.width, objs.f, SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    h = f["h"].astype(np.float64)
    up = np.stack([np.zeros_like(h), f["upy"], f["upz"]])
    foot = np.stack([f["cx"], f["cy"], f["cz"]]) - h * up
    wx, wy = f["world_x"].astype(np.float64), f["world_y"].astype(np.float64)
    seg = (wx * SHADOW_DRIFT[0] + wy * SHADOW_DRIFT[1]) * (1.6 * h)
    radius = np.where(objs.shape == CUBE, 1.2, 1.0) * h
    reach = 1.45 * radius
    offsets = np.array([(s, dx, dy) for s in (0, 1) for dx in (-1, 1) for dy in (-1, 1)], dtype=np.float64)
    p = foot[:, None] + offsets[:, 0, None] * seg[:, None] + (offsets[:, 1, None] * wx[:, None]
                                                               + offsets[:, 2, None] * wy[:, None]) * reach
    u = (0.5 * W + objs.focal * p[0] / p[2]) / cell
    v = (0.5 * H - objs.focal * p[1] / p[2]) / cell
    cx0 = clip(np.floor(u.min(0)), 0, Wc).astype(np.int64)
    cx1 = clip(np.ceil(u.max(0)), 0, Wc).astype(np.int64)
    cy0 = clip(np.floor(v.min(0)), 0, Hc).astype(np.int64)
    cy1 = clip(np.ceil(v.max(0)), 0, Hc).astype(np.int64)
    cy1 = np.where(cx1 > cx0, cy1, cy0)
    owner, cy, first = spans(cy0, cy1)
    # per row: the floor point's depth t (the ray t (a, b, 1) meets the floor where its height
    # relative to the camera is -camera height) and its y, z offsets from the foot
    b = (0.5 * H - (cy + 0.5) * cell) / objs.focal
    t = -f["cam_height"].astype(np.float64).take(owner) / (b * up[1].take(owner) + up[2].take(owner))
    gy, gz = t * b - foot[1].take(owner), t - foot[2].take(owner)
    sx, sy, sz = (s.take(owner) for s in seg)
    values = {
        "t": t,
        "foot_x": foot[0].take(owner),
        "sx": sx,
        "dot0": gy * sy + gz * sz,
        "g0": gy * gy + gz * gz,
        "s2": sx * sx + sy * sy + sz * sz,
        "inv_r": 1 / radius.take(owner),
    }
    values["inv_s2"] = 1 / values["s2"]
    v32 = {key: val.astype(_F32) for key, val in values.items()}
    return ShadowRows(objs.scene.take(owner), cy, cx0.take(owner), (cx1 - cx0).take(owner), first, v32)


def shadows(objs: Objects, sr: ShadowRows, o0: int, o1: int, scene0: int, n_scenes: int) -> np.ndarray:
    """Floor darkening factors of the chunk's shadows, one per cell (n_scenes * Hc * Wc,);
    where shadows overlap the darkest wins."""
    H, W, cell = objs.height, objs.width, SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    coarse = np.ones(n_scenes * Hc * Wc, dtype=_F32)
    r0, r1 = sr.first[o0], sr.first[o1]
    count = sr.count[r0:r1]
    size = int(count.sum()) if count.size else 0
    if size == 0:
        return coarse
    start = np.cumsum(count) - count
    cx = np.arange(size, dtype=np.intp)
    cx += (sr.cx0[r0:r1] - start).repeat(count)

    def rep(key: str) -> np.ndarray:
        return sr.v[key][r0:r1].repeat(count)

    a = cx.astype(_F32)
    a += _F32(0.5)
    a *= _F32(cell)
    a -= _F32(0.5 * W)
    a /= _F32(objs.focal)
    gx = a * rep("t")
    gx -= rep("foot_x")
    dot = gx * rep("sx")
    dot += rep("dot0")
    w = dot * rep("inv_s2")
    clip(w, 0, 1, out=w)
    # squared distance from the segment: |g|^2 - 2 w (g . s) + w^2 |s|^2
    dist = w * rep("s2")
    dist -= dot
    dist -= dot
    dist *= w
    dist += rep("g0")
    dist += gx * gx
    np.maximum(dist, 0, out=dist)
    np.sqrt(dist, out=dist)
    dist *= rep("inv_r")
    strength = np.multiply(dist, _F32(-0.9), out=dist)
    strength += _F32(1.3)
    clip(strength, 0, 1, out=strength)
    strength *= strength
    strength *= _F32(_SHADOW_STRENGTH)
    w *= _F32(-0.45)
    w += 1
    strength *= w
    factor = np.subtract(1, strength, out=strength)
    cx += (((sr.scene[r0:r1] - scene0) * Hc + sr.cy[r0:r1]) * Wc).repeat(count)
    np.minimum.at(coarse, cx, factor)
    return coarse
