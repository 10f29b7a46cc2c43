"""A fast CPU renderer of CLEVR-like images of CURI scenes.

Objects are ray-cast analytically (sphere, box rotated about the vertical, upright cylinder)
through each scene's own camera (:mod:`tasks.curi.camera`), so at 240x160 every object's
centre lands on its recorded (px, py). Work is vectorised over a batch of scenes: every
(object, pixel near its silhouette) pair becomes one flat sample, rays are cast per shape in
camera space (a ray's parameter is then the camera depth), and a depth buffer picks the nearest
hit per pixel. The pixels near a silhouette are those of its exact bounding octagon
(:func:`tasks.curi.scenes._silhouettes`, shared with the sampler's visibility rule).

Look: a grey floor with a soft vertical gradient and soft contact shadows stretched away from the
key light; Lambert lighting from a key light at the camera's upper left, a weak fill light and
sky/floor ambient; rubber is matte with a faint broad highlight; metal is a tinted mirror of a
bright sky and the lit floor with a sharp white highlight, so its flat faces contrast strongly.
Pixels on an object boundary are anti-aliased with three more sub-pixel rays. Lighting is fixed in
the camera's frame (CLEVR jitters its lights as well; the camera's jitter turns it by < 3 deg).

Other image sizes keep the horizontal field of view (Blender's horizontal sensor fit): the image
scales with the width; a different aspect ratio shows more or less floor above and below.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tasks.curi import camera as cam
from tasks.curi.scenes import (
    COLOR_RGB,
    COLORS,
    CUBE,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    MATERIALS,
    SHAPES,
    SIZES,
    SPHERE,
    CuriScene,
    SceneBatch,
    _frames,
    _silhouettes,
    half_extent,
)

MIN_SIZE, MAX_SIZE = 32, 640

_F32 = np.float32
_COLOR_TABLE = np.array([COLOR_RGB[c] for c in COLORS], dtype=_F32) / 255.0
# Anti-aliasing: an edge pixel averages its centre ray with three more on a circle around it.
_SUBSAMPLES = np.array([[0.0, -0.36], [-0.31, 0.18], [0.31, 0.18]], dtype=_F32)
_SHADOW_STRENGTH = 0.5


def _lights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Key light, fill light and world up in the un-jittered camera's frame (right, up, forward),
    and the world-xy drift of a shadow per unit of height (away from the key light)."""
    right, up, forward = cam.camera_axes(np.asarray(cam.BASE_LOCATION))
    behind = np.array([forward[0], forward[1], 0.0]) / np.linalg.norm(forward[:2])
    z = np.array([0.0, 0.0, 1.0])
    key = -0.55 * right - 0.35 * behind + 0.95 * z
    fill = 0.8 * right - 0.5 * behind + 0.6 * z
    key, fill = key / np.linalg.norm(key), fill / np.linalg.norm(fill)
    to_cam = np.stack([right, up, forward])
    drift = np.array([-key[0] / key[2], -key[1] / key[2], 0.0])
    return (to_cam @ key).astype(_F32), (to_cam @ fill).astype(_F32), (to_cam @ z).astype(_F32), drift


KEY_LIGHT, FILL_LIGHT, WORLD_UP, _SHADOW_DRIFT = _lights()


def _check_size(height: int, width: int) -> None:
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(f"{name} must lie in {MIN_SIZE}..{MAX_SIZE} pixels, got {value}")


@lru_cache(maxsize=16)
def _floor(height: int, width: int) -> np.ndarray:
    """The empty floor, (H * W, 3) float32: mid grey, lighter towards the viewer, a soft vignette."""
    v = (np.arange(height, dtype=_F32) + 0.5) / height
    u = (np.arange(width, dtype=_F32) + 0.5) / width
    grey = (0.44 + 0.1 * v[:, None]) * (1.0 - 0.08 * ((u[None, :] - 0.45) ** 2 * 2.0 + (v[:, None] - 0.6) ** 2))
    img = (grey[:, :, None] * np.array([1.0, 1.0, 1.02], dtype=_F32)).reshape(-1, 3)
    img.setflags(write=False)
    return img


def _to_uint8(img: np.ndarray) -> np.ndarray:
    scaled = np.multiply(img, _F32(255), dtype=_F32)
    scaled += _F32(0.5)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


@lru_cache(maxsize=16)
def _floor_uint8(height: int, width: int) -> np.ndarray:
    img = _to_uint8(_floor(height, width))
    img.setflags(write=False)
    return img


def background(height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """The floor as the renderer draws it with no objects (and no shadows), (H, W, 3) uint8."""
    _check_size(height, width)
    return _floor_uint8(height, width).reshape(height, width, 3).copy()


# ---------------------------------------------------------------------------------------------
# Scenes -> flat object arrays in camera space
#
# Speed notes: arrays are one row per component (structure of arrays), objects are ordered by
# (material, shape) so that every shape/material case is a contiguous run of samples, and
# branches are arithmetic blends (numpy's masked selections are slow on irregular masks). A miss
# is a depth of _MISS rather than inf, so that blends never multiply inf by 0.

_MISS = _F32(1e30)


@dataclass
class _Batch:
    """All objects of a batch of scenes in each scene's camera frame (x right, y up, z forward),
    ordered by (material, shape); every per-object field is 1-D over objects."""

    height: int
    width: int
    focal: float
    n_scenes: int
    n_rubber: int  # objects [0, n_rubber) are rubber, the rest metal
    runs: list[tuple[int, int, int]]  # (first object, end object, shape) of each shape run
    f: dict[str, np.ndarray]  # per-object float32 fields (see _prepare)
    scene: np.ndarray
    slot: np.ndarray
    lo: np.ndarray  # (4, n) the silhouette's bounding octagon: extents along u, v, u + v, u - v
    hi: np.ndarray


@dataclass
class _Flat:
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
    def of_batch(batch: SceneBatch) -> _Flat:
        mask = batch.mask
        scene, slot = np.nonzero(mask)
        fields = {name: getattr(batch, name)[mask] for name in _Flat.OBJECT_FIELDS[1:]}
        return _Flat(scene=scene, slot=slot, camera=batch.camera, **fields)

    @staticmethod
    def of_scenes(scenes: Sequence[CuriScene]) -> _Flat:
        index = {name: {v: i for i, v in enumerate(values)} for name, values in _TABLES.items()}
        rows = [
            (i, k, *(index[name][getattr(o, name)] for name in _TABLES), o.x, o.y, o.rotation)
            for i, sc in enumerate(scenes)
            for k, o in enumerate(sc.objects)
        ]
        cols = np.array(rows, dtype=np.float64).reshape(len(rows), 9).T
        ints = cols[:6].astype(np.int64)
        camera = np.array([sc.camera for sc in scenes], dtype=np.float64).reshape(len(scenes), 3)
        return _Flat(*ints, cols[6], cols[7], cols[8], camera)


_TABLES = {"shape": SHAPES, "color": COLORS, "material": MATERIALS, "size": SIZES}


def _prepare(objs: _Flat, height: int, width: int) -> _Batch:
    metal = objs.material.astype(np.int64)
    shape = objs.shape.astype(np.int64)
    order = np.lexsort((shape, metal))
    scene, slot, metal, shape = objs.scene[order], objs.slot[order], metal[order], shape[order]
    n = order.size
    size = objs.size.astype(np.int64)[order]
    color = _COLOR_TABLE[objs.color.astype(np.int64)[order]].T
    xyr = np.stack([objs.x, objs.y, objs.rotation]).astype(np.float64).reshape(3, -1)[:, order]
    location = np.asarray(objs.camera, dtype=np.float64).reshape(-1, 3)
    fr = _frames(location)[:, scene]  # (11, n) camera rows per object
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
        "cam_height": lz,
        "red": color[0],
        "green": color[1],
        "blue": color[2],
    }
    for k in range(3):
        f[f"o{k}"] = oc[k]
        for comp, name in enumerate("xyz"):
            f[f"e{k}{name}"] = ax[k][comp]
    for comp, name in enumerate("xyz"):
        f[f"wx{name}"], f[f"wy{name}"] = world_x[comp], world_y[comp]
    f = {key: np.ascontiguousarray(val, dtype=_F32) for key, val in f.items()}
    # the exact bounding octagon of each silhouette (scenes._silhouettes)
    sil = _silhouettes(shape, size, xyr[0], xyr[1], xyr[2], fr, width, height)
    edges = np.flatnonzero(np.diff(shape * 2 + metal)) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    ends = np.concatenate([edges, [n]]).astype(np.int64)
    runs = [(int(s0), int(s1), int(shape[s0])) for s0, s1 in zip(starts, ends) if s1 > s0]
    return _Batch(
        height=height,
        width=width,
        focal=cam.focal_pixels(width),
        n_scenes=location.shape[0],
        n_rubber=int(np.sum(metal == 0)),
        runs=runs,
        f=f,
        scene=scene,
        slot=slot,
        lo=sil.lo.astype(np.float64),
        hi=sil.hi.astype(np.float64),
    )


def _expand(box: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pixel of every box (4, n) as flat (owner, x, y) arrays, grouped by owner in order."""
    w = np.maximum(box[1] - box[0], 0)
    h = np.maximum(box[3] - box[2], 0)
    count = w * h
    owner = np.repeat(np.arange(box.shape[1]), count)
    local = np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
    wo = w.take(owner)
    return owner, box[0].take(owner) + local % wo, box[2].take(owner) + local // wo


_SPAN_PAD = 1.5  # pixels: every 4-neighbour of a covered pixel lies within 1.5 px of the silhouette
_SLAB_NORM = np.array([1.0, 1.0, np.sqrt(2.0), np.sqrt(2.0)])[:, None]


def _octagon_pixels(lo: np.ndarray, hi: np.ndarray, height: int, width: int) -> tuple[np.ndarray, ...]:
    """Pixels whose centres lie in the octagons (4, n) grown by _SPAN_PAD, as (owner, x, y) arrays
    grouped by owner in order: far fewer than the octagons' bounding boxes hold."""
    lo = lo - _SPAN_PAD * _SLAB_NORM
    hi = hi + _SPAN_PAD * _SLAB_NORM
    y0 = np.clip(np.ceil(lo[1] - 0.5), 0, height).astype(np.int64)
    y1 = np.clip(np.floor(hi[1] - 0.5) + 1, 0, height).astype(np.int64)
    rows = np.maximum(y1 - y0, 0)
    row_owner = np.repeat(np.arange(lo.shape[1]), rows)
    row_y = y0.take(row_owner) + np.arange(row_owner.size) - np.repeat(np.cumsum(rows) - rows, rows)
    v = row_y + 0.5
    u_lo = np.maximum(np.maximum(lo[0].take(row_owner), lo[2].take(row_owner) - v), lo[3].take(row_owner) + v)
    u_hi = np.minimum(np.minimum(hi[0].take(row_owner), hi[2].take(row_owner) - v), hi[3].take(row_owner) + v)
    x0 = np.clip(np.ceil(u_lo - 0.5), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(u_hi - 0.5) + 1, 0, width).astype(np.int64)
    count = np.maximum(x1 - x0, 0)
    owner = np.repeat(row_owner, count)
    x = np.repeat(x0, count) + np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
    return owner, x, np.repeat(row_y, count)


# ---------------------------------------------------------------------------------------------
# Ray casting in camera space: the ray through slopes (a, b) is t * (a, b, 1), t = depth.


def _pow(x: np.ndarray, n: int) -> np.ndarray:
    """x ** n for a positive integer n by repeated squaring (numpy's float power is slow)."""
    result, square = None, x
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    return result


def _cast(
    batch: _Batch, owner: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depth (_MISS on a miss) and unit normal (nx, ny, nz) of rays (a, b) against objects
    ``owner`` (sorted, as _octagon_pixels makes them)."""
    t = np.empty(owner.shape, dtype=_F32)
    nx, ny, nz = (np.empty(owner.shape, dtype=_F32) for _ in range(3))
    f = batch.f
    bounds = np.searchsorted(owner, [r[0] for r in batch.runs] + [batch.runs[-1][1]] if batch.runs else [0])
    for (_, _, kind), s0, s1 in zip(batch.runs, bounds[:-1], bounds[1:]):
        if s1 == s0:
            continue
        o = owner[s0:s1]
        sa, sb = a[s0:s1], b[s0:s1]
        h, cx, cy, cz = (f[key].take(o) for key in ("h", "cx", "cy", "cz"))
        if kind == SPHERE:
            dc = sa * cx + sb * cy + cz
            dd = 1 + sa * sa + sb * sb
            disc = dc * dc - dd * f["cc"].take(o)
            tt = (dc - np.sqrt(np.maximum(disc, 0))) / dd + _MISS * (disc < 0)
            inv = 1 / h
            n3 = ((tt * sa - cx) * inv, (tt * sb - cy) * inv, (tt - cz) * inv)
        elif kind == CUBE:
            t_near = t_far = None
            with np.errstate(divide="ignore", invalid="ignore"):
                for k in range(3):
                    ex, ey, ez = (f[f"e{k}{comp}"].take(o) for comp in "xyz")
                    d = sa * ex + sb * ey + ez  # ray direction along the box axis k
                    oc = f[f"o{k}"].take(o)
                    inv = 1 / d
                    t1 = (oc - h) * inv
                    t2 = (oc + h) * inv
                    lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
                    if t_near is None:
                        t_near, t_far = lo, hi
                        side = -np.sign(d)
                        n3 = [side * ex, side * ey, side * ez]
                    else:
                        better = lo > t_near
                        side = -np.sign(d) * better
                        keep = 1 - better
                        n3 = [n3[0] * keep + side * ex, n3[1] * keep + side * ey, n3[2] * keep + side * ez]
                        t_near = np.maximum(t_near, lo)
                        t_far = np.minimum(t_far, hi)
            hit = (t_near <= t_far) & (t_near > 0)
            tt = np.minimum(t_near * hit + _MISS * ~hit, _MISS)
        else:
            uy, uz = f["upy"].take(o), f["upz"].take(o)
            dz = sb * uy + uz  # the camera never rolls: world up has no x component
            czu = f["o2"].take(o)
            # top cap (the camera is always above it)
            t_top = (czu + h) / dz
            qx, qy, qz = t_top * sa - cx, t_top * sb - cy, t_top - cz
            top = (qx * qx + qy * qy + qz * qz <= 2 * h * h) & (t_top > 0)
            # side: distance from the axis = h, nearer root, within the height
            qa = 1 + sa * sa + sb * sb - dz * dz
            qb = sa * f["cpx"].take(o) + sb * f["cpy"].take(o) + f["cpz"].take(o)
            disc = qb * qb - qa * f["cpp"].take(o)
            t_side = (qb - np.sqrt(np.maximum(disc, 0))) / qa
            axial = t_side * dz - czu
            side = (disc >= 0) & (np.abs(axial) <= h) & (t_side > 0) & ~top
            miss = ~(top | side)
            tt = t_top * top + t_side * side + _MISS * miss
            inv = (1 - top) / h
            n3 = (
                (t_side * sa - cx) * inv,
                (t_side * sb - cy - axial * uy) * inv + uy * top,
                (t_side - cz - axial * uz) * inv + uz * top,
            )
        t[s0:s1] = tt
        nx[s0:s1], ny[s0:s1], nz[s0:s1] = n3
    return t, nx, ny, nz


# ---------------------------------------------------------------------------------------------
# Shading (camera frame)


def _shade(
    normal: tuple[np.ndarray, np.ndarray, np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    owner: np.ndarray,
    batch: _Batch,
) -> np.ndarray:
    """Colours (S, 3) of the surface points of objects ``owner`` (sorted) with unit normals
    ``normal`` on the rays (a, b).

    Rubber: sky and floor-bounce ambient plus Lambert from the key and fill lights, a faint broad
    highlight. Metal: a dark diffuse term plus a mirror reflection of the environment (bright sky
    above the horizon, the floor below, brightest towards the key light), tinted by the base
    colour, with a reflected key light and a sharp white highlight.
    """
    nx, ny, nz = normal
    inv = 1 / np.sqrt(1 + a * a + b * b)
    vx, vy, vz = -a * inv, -b * inv, -inv  # towards the eye
    (kx, ky, kz), (gx, gy, gz), (wx, wy, wz) = KEY_LIGHT, FILL_LIGHT, WORLD_UP
    diffuse = (
        _F32(0.3)
        + _F32(0.12) * (nx * wx + ny * wy + nz * wz)
        + _F32(0.62) * np.maximum(nx * kx + ny * ky + nz * kz, 0)
        + _F32(0.16) * np.maximum(nx * gx + ny * gy + nz * gz, 0)
    )
    hx, hy, hz = kx + vx, ky + vy, kz + vz
    n_half = np.maximum((nx * hx + ny * hy + nz * hz) / np.sqrt(hx * hx + hy * hy + hz * hz), 0)
    color = np.stack([batch.f[key].take(owner) for key in ("red", "green", "blue")], axis=1)
    out = color * diffuse[:, None] + (_F32(0.07) * _pow(n_half, 10))[:, None]
    m0 = int(np.searchsorted(owner, batch.n_rubber))
    if m0 < owner.size:
        s = slice(m0, None)
        nx, ny, nz, vx, vy, vz = (arr[s] for arr in (nx, ny, nz, vx, vy, vz))
        nv2 = 2 * (nx * vx + ny * vy + nz * vz)
        rx, ry, rz = nv2 * nx - vx, nv2 * ny - vy, nv2 * nz - vz
        r_up = rx * wx + ry * wy + rz * wz
        # horizontal part of the reflection against the key light's horizontal bearing
        k_up = kx * wx + ky * wy + kz * wz
        hkx, hky, hkz = kx - k_up * wx, ky - k_up * wy, kz - k_up * wz
        hk = np.sqrt(hkx * hkx + hky * hky + hkz * hkz)
        px, py, pz = rx - r_up * wx, ry - r_up * wy, rz - r_up * wz
        facing = np.clip((px * hkx + py * hky + pz * hkz) / (np.sqrt(px * px + py * py + pz * pz) * hk + 1e-9), 0, 1)
        sky = 0.8 + 0.4 * np.sqrt(np.clip(r_up, 0, 1))
        ground = 0.12 + 0.1 * (1 + r_up) + 0.55 * _pow(facing, 4)
        horizon = np.clip(r_up * 12 + 0.5, 0, 1)
        env = ground + (sky - ground) * horizon
        glint = _pow(np.maximum(rx * kx + ry * ky + rz * kz, 0), 300)
        streak = 0.3 * _pow(facing, 120) * (1 - horizon)  # the key light's reflection on the floor
        col = color[s]
        tint = 0.06 + 0.94 * col
        out[s] = (
            col * (0.08 + 0.15 * diffuse[s])[:, None]
            + tint * (0.9 * env)[:, None]
            + (0.5 + 0.5 * tint) * streak[:, None]
            + (1.2 * _pow(n_half[s], 90) + 0.9 * glint)[:, None]
        )
    return out


# ---------------------------------------------------------------------------------------------
# The pipeline


def _slopes(batch: _Batch, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = _F32(batch.focal)
    return (x.astype(_F32) - _F32(0.5 * batch.width)) / f, (_F32(0.5 * batch.height) - y.astype(_F32)) / f


_SCRATCH = threading.local()


def _scratch(name: str, size: int, dtype: type) -> np.ndarray:
    """A per-thread reusable buffer of at least ``size`` elements (contents undefined).

    The pipeline's image-sized index buffers are only touched where objects are, so reusing them
    saves the page faults of fresh allocations.
    """
    buf = getattr(_SCRATCH, name, None)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype=dtype)
        setattr(_SCRATCH, name, buf)
    return buf[:size]


@dataclass
class _Raster:
    """Nearest object per pixel over the batch, from (object, pixel near its silhouette) samples."""

    pixel: np.ndarray  # (S,) flat pixel index (scene, row, column) of every sample
    owner: np.ndarray  # (S,) object of the sample
    nearest: np.ndarray  # (n_scenes * H * W,) object index, -1 for the floor; valid at sampled pixels only
    win: np.ndarray  # (S,) indices of the samples that are their pixel's nearest hit
    normal: tuple[np.ndarray, np.ndarray, np.ndarray]
    a: np.ndarray
    b: np.ndarray


def _rasterise(batch: _Batch) -> _Raster:
    H, W = batch.height, batch.width
    owner, x, y = _octagon_pixels(batch.lo, batch.hi, H, W)
    pixel = (batch.scene.take(owner) * H + y) * W + x
    a, b = _slopes(batch, x + 0.5, y + 0.5)
    t, nx, ny, nz = _cast(batch, owner, a, b)
    # full-size buffers, initialised only where sampled
    depth = _scratch("depth", batch.n_scenes * H * W, _F32)
    depth[pixel] = _MISS
    np.minimum.at(depth, pixel, t)
    win = np.flatnonzero((t == depth.take(pixel)) & (t < _MISS))
    nearest = _scratch("nearest", batch.n_scenes * H * W, np.int32)
    nearest[pixel] = -1
    nearest[pixel.take(win)] = owner.take(win)
    return _Raster(pixel, owner, nearest, win, (nx, ny, nz), a, b)


def _edges(r: _Raster, height: int, width: int, rank: np.ndarray) -> np.ndarray:
    """Flat indices of the pixels on an id boundary: a covered pixel and its 4-neighbour that show
    different objects (or the floor); every 4-neighbour of a covered pixel was sampled. Leaves
    ``rank`` (a scratch buffer) holding each edge pixel's position in the result, -1 at the other
    sampled pixels."""
    covered = r.pixel.take(r.win)
    own = r.nearest.take(covered)
    x = covered % width
    y = (covered // width) % height
    found = []
    for ok, step in ((x > 0, -1), (x < width - 1, 1), (y > 0, -width), (y < height - 1, width)):
        c = covered[ok]
        q = c + step
        differ = r.nearest.take(q) != own[ok]
        found += [c[differ], q[differ]]
    found = np.concatenate(found)
    # de-duplicate without sorting: the last write of each pixel wins
    rank[r.pixel] = -1
    rank[found] = np.arange(found.size)
    edge = found[rank.take(found) == np.arange(found.size)]
    rank[edge] = np.arange(edge.size)
    return edge


_SHADOW_CELL = 3  # shadows are soft: evaluate them on 3x3-pixel cells


def _shadows(batch: _Batch) -> np.ndarray:
    """Floor darkening factors of soft contact shadows, one per 3x3-pixel cell (N * Hc * Wc,).

    A shadow is a soft blob around the segment from an object's foot towards where its top's
    shadow falls (shortened), measured on the floor; where shadows overlap the darkest wins.
    """
    H, W, f, cell = batch.height, batch.width, batch.f, _SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    h = f["h"]
    up = (np.zeros_like(h), f["upy"], f["upz"])
    foot = [c - h * u for c, u in zip((f["cx"], f["cy"], f["cz"]), up)]
    wx = (f["wxx"], f["wxy"], f["wxz"])
    wy = (f["wyx"], f["wyy"], f["wyz"])
    seg = [(ex * _SHADOW_DRIFT[0] + ey * _SHADOW_DRIFT[1]) * (1.6 * h) for ex, ey in zip(wx, wy)]
    shape = np.zeros(h.size, dtype=np.int64)
    for s0, s1, kind in batch.runs:
        shape[s0:s1] = kind
    radius = np.where(shape == CUBE, _F32(1.2), _F32(1.0)) * h
    reach = 1.45 * radius
    us, vs = [], []
    for base in (foot, [p + s for p, s in zip(foot, seg)]):
        for dx in (-1, 1):
            for dy in (-1, 1):
                p = [q + (dx * ex + dy * ey) * reach for q, ex, ey in zip(base, wx, wy)]
                us.append((0.5 * W + batch.focal * p[0] / p[2]) / cell)
                vs.append((0.5 * H - batch.focal * p[1] / p[2]) / cell)
    u, v = np.stack(us), np.stack(vs)
    box = np.stack(
        [
            np.clip(np.floor(u.min(0)), 0, Wc),
            np.clip(np.ceil(u.max(0)), 0, Wc),
            np.clip(np.floor(v.min(0)), 0, Hc),
            np.clip(np.ceil(v.max(0)), 0, Hc),
        ]
    ).astype(np.int64)
    owner, x, y = _expand(box)
    a, b = _slopes(batch, (x + 0.5) * cell, (y + 0.5) * cell)
    # the ray t (a, b, 1) meets the floor where its height relative to the camera is -cam height
    t = -f["cam_height"].take(owner) / (b * up[1].take(owner) + up[2].take(owner))
    gx, gy, gz = t * a - foot[0].take(owner), t * b - foot[1].take(owner), t - foot[2].take(owner)
    sx, sy, sz = (s.take(owner) for s in seg)
    w = np.clip((gx * sx + gy * sy + gz * sz) / (sx * sx + sy * sy + sz * sz), 0, 1)
    dx, dy, dz = gx - w * sx, gy - w * sy, gz - w * sz
    dist = np.sqrt(dx * dx + dy * dy + dz * dz) / radius.take(owner)
    strength = np.clip(1.3 - 0.9 * dist, 0, 1)
    factor = 1 - _SHADOW_STRENGTH * strength * strength * (1 - 0.45 * w)
    coarse = np.ones(batch.n_scenes * Hc * Wc, dtype=_F32)
    np.minimum.at(coarse, (batch.scene.take(owner) * Hc + y) * Wc + x, factor.astype(_F32))
    return coarse


def _cell_of(pixel: np.ndarray, height: int, width: int) -> np.ndarray:
    """The shadow cell of flat pixel indices (scene, row, column)."""
    cell = _SHADOW_CELL
    Hc, Wc = -(-height // cell), -(-width // cell)
    scene, rest = np.divmod(pixel, height * width)
    y, x = np.divmod(rest, width)
    return (scene * Hc + y // cell) * Wc + x // cell


def render_scenes(scenes: Sequence[CuriScene], height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Draw CURI scenes as an (N, height, width, 3) uint8 array, vectorised over the batch."""
    for i, scene in enumerate(scenes):
        if not isinstance(scene, CuriScene):
            raise TypeError(f"scenes[{i}] must be a CuriScene, got {type(scene).__name__}")
    _check_size(height, width)
    return _render(_Flat.of_scenes(scenes), height, width)


def render_batch(scenes: SceneBatch, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Draw every scene of a :class:`SceneBatch` as an (N, height, width, 3) uint8 array."""
    if not isinstance(scenes, SceneBatch):
        raise TypeError(f"scenes must be a SceneBatch, got {type(scenes).__name__}")
    _check_size(height, width)
    return _render(_Flat.of_batch(scenes), height, width)


_RENDER_CHUNK = 16  # scenes per vectorised pass: larger passes fall out of the CPU caches


def _render(objs: _Flat, height: int, width: int) -> np.ndarray:
    N = objs.camera.shape[0]
    if N <= _RENDER_CHUNK:
        return _render_chunk(objs, height, width)
    out = np.empty((N, height, width, 3), dtype=np.uint8)
    bounds = np.searchsorted(objs.scene, np.arange(0, N + _RENDER_CHUNK, _RENDER_CHUNK).clip(max=N))
    for start, (o0, o1) in zip(range(0, N, _RENDER_CHUNK), zip(bounds[:-1], bounds[1:])):
        part = _Flat(
            scene=objs.scene[o0:o1] - start,
            camera=objs.camera[start : start + _RENDER_CHUNK],
            **{name: getattr(objs, name)[o0:o1] for name in _Flat.OBJECT_FIELDS},
        )
        out[start : start + _RENDER_CHUNK] = _render_chunk(part, height, width)
    return out


def _render_chunk(objs: _Flat, height: int, width: int) -> np.ndarray:
    H, W, N = height, width, objs.camera.shape[0]
    out = np.empty((N, H * W, 3), dtype=np.uint8)
    out[:] = _floor_uint8(H, W)
    out = out.reshape(N * H * W, 3)
    batch = _prepare(objs, H, W)
    if batch.scene.size == 0:
        return out.reshape(N, H, W, 3)
    floor = _floor(H, W)
    # the floor with shadows: expand the shadowed cells to their pixels
    shade = _shadows(batch)
    cell = _SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    dark = np.flatnonzero(shade < _F32(0.99))
    scene, rest = np.divmod(dark, Hc * Wc)
    cy, cx = np.divmod(rest, Wc)
    dy, dx = np.divmod(np.arange(cell * cell), cell)
    py = (cy * cell)[:, None] + dy
    px = (cx * cell)[:, None] + dx
    inside = (py < H) & (px < W)
    local = (py * W + px)[inside]
    out[(scene[:, None] * (H * W) + py * W + px)[inside]] = _to_uint8(
        floor[local] * np.repeat(shade.take(dark), cell * cell).reshape(-1, cell * cell)[inside][:, None]
    )
    # objects
    r = _rasterise(batch)
    win = r.win
    normal = tuple(n.take(win) for n in r.normal)
    out[r.pixel.take(win)] = _to_uint8(_shade(normal, r.a.take(win), r.b.take(win), r.owner.take(win), batch))
    # anti-aliasing: every pixel on an id boundary averages its centre ray with three more; the
    # candidate objects of a pixel are those that sampled it
    rank = _scratch("rank", N * H * W, np.int64)
    edge_pixels = _edges(r, H, W, rank)
    pair = np.flatnonzero(rank.take(r.pixel) >= 0)
    k = len(_SUBSAMPLES)
    owner = np.repeat(r.owner.take(pair), k)
    pix = np.repeat(r.pixel.take(pair), k)
    key = rank.take(pix) * k + np.tile(np.arange(k), pair.size)
    x = (pix % W).astype(_F32) + _F32(0.5) + np.tile(_SUBSAMPLES[:, 0], pair.size)
    y = ((pix // W) % H).astype(_F32) + _F32(0.5) + np.tile(_SUBSAMPLES[:, 1], pair.size)
    a, b = _slopes(batch, x, y)
    t, nx, ny, nz = _cast(batch, owner, a, b)
    depth = np.full(edge_pixels.size * k, _MISS, dtype=_F32)
    np.minimum.at(depth, key, t)
    won = (t == depth.take(key)) & (t < _MISS)
    # coverage of each (pixel, object) pair; shade it once, from its first winning sub-ray
    cover = won.reshape(-1, k)
    count = cover.sum(axis=1)
    seen = np.flatnonzero(count)
    first = seen * k + cover[seen].argmax(axis=1)
    normal = (nx.take(first), ny.take(first), nz.take(first))
    color = _shade(normal, a.take(first), b.take(first), owner.take(first), batch)
    floor_share = np.full(edge_pixels.size, k, dtype=_F32)
    target = rank.take(r.pixel.take(pair.take(seen)))
    np.add.at(floor_share, target, -count.take(seen).astype(_F32))
    acc = floor[edge_pixels % (H * W)] * (shade.take(_cell_of(edge_pixels, H, W)) * floor_share)[:, None]
    acc += out[edge_pixels] * _F32(1 / 255)  # the centre ray, as already drawn
    np.add.at(acc, target, color * count.take(seen)[:, None].astype(_F32))
    out[edge_pixels] = _to_uint8(acc / (k + 1))
    return out.reshape(N, H, W, 3)


def render_scene(scene: CuriScene, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Draw a CURI scene as an (height, width, 3) uint8 RGB image (see :func:`render_scenes`)."""
    if not isinstance(scene, CuriScene):
        raise TypeError(f"scene must be a CuriScene, got {type(scene).__name__}")
    return render_scenes([scene], height, width)[0]


def id_buffer(scene: CuriScene, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """(H, W) int8: at each pixel centre, the index of the nearest object, or -1 for the floor."""
    if not isinstance(scene, CuriScene):
        raise TypeError(f"scene must be a CuriScene, got {type(scene).__name__}")
    _check_size(height, width)
    batch = _prepare(_Flat.of_scenes([scene]), height, width)
    if batch.scene.size == 0:
        return np.full((height, width), -1, dtype=np.int8)
    r = _rasterise(batch)
    ids = np.full(height * width, -1, dtype=np.int8)
    ids[r.pixel.take(r.win)] = batch.slot.take(r.owner.take(r.win))
    return ids.reshape(height, width)


def visible_pixels(scene: CuriScene, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Per-object visible pixel counts in the id buffer, (n_objects,) int64, in scene order."""
    ids = id_buffer(scene, height, width)
    return np.bincount(ids[ids >= 0].astype(np.int64), minlength=len(scene.objects))
