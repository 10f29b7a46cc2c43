"""A fast CPU renderer of CLEVR-like images of CURI scenes.

Objects are ray-cast analytically (sphere, box rotated about the vertical, upright cylinder)
through each scene's own camera (:mod:`tasks.curi.camera`), so at 240x160 every object's
centre lands on its recorded (px, py). Work is vectorised over a batch of scenes: every
(object, pixel near its silhouette) pair becomes one flat sample, rays are cast per shape in
camera space (a ray's parameter is then the camera depth), and a depth buffer picks the nearest
hit per pixel. The pixels near a silhouette are those of its exact bounding octagon
(:func:`tasks.curi.silhouettes.silhouettes`, shared with the sampler's visibility rule).

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
    CYLINDER,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    MATERIALS,
    SHAPES,
    SIZES,
    SPHERE,
    CuriScene,
    SceneBatch,
    half_extent,
)
from tasks.curi.silhouettes import camera_rows, silhouettes

MIN_SIZE, MAX_SIZE = 32, 640

_F32 = np.float32
_COLOR_TABLE = np.array([COLOR_RGB[c] for c in COLORS], dtype=np.float64) / 255.0
# Anti-aliasing: an edge pixel averages its centre ray with three more on a circle around it.
_SUBSAMPLES = np.array([[0.0, -0.36], [-0.31, 0.18], [0.31, 0.18]])
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


def _clip(x: np.ndarray, lo: float, hi: float, out: np.ndarray | None = None) -> np.ndarray:
    """np.clip as two ufuncs (np.clip's Python wrapper costs more than the work on small arrays)."""
    out = np.maximum(x, lo, out=out)
    return np.minimum(out, hi, out=out)


def _check_size(height: int, width: int) -> None:
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(f"{name} must lie in {MIN_SIZE}..{MAX_SIZE} pixels, got {value}")


@lru_cache(maxsize=16)
def _floor(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The empty floor's red (= green) and blue planes, (H * W,) float32 in 0..1: mid grey,
    lighter towards the viewer, a soft vignette, a hint of blue."""
    v = (np.arange(height, dtype=_F32) + 0.5) / height
    u = (np.arange(width, dtype=_F32) + 0.5) / width
    grey = (0.44 + 0.1 * v[:, None]) * (1.0 - 0.08 * ((u[None, :] - 0.45) ** 2 * 2.0 + (v[:, None] - 0.6) ** 2))
    planes = (grey.ravel(), grey.ravel() * _F32(1.02))
    for plane in planes:
        plane.setflags(write=False)
    return planes


@lru_cache(maxsize=16)
def _floor_uint8(height: int, width: int) -> np.ndarray:
    """The empty floor, (H * W, 3) uint8."""
    red, blue = _floor(height, width)
    img = np.empty((height * width, 3), dtype=np.uint8)
    for c, plane in enumerate((red, red, blue)):
        img[:, c] = np.clip(plane * _F32(255) + _F32(0.5), 0, 255)
    img.setflags(write=False)
    return img


def background(height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """The floor as the renderer draws it with no objects (and no shadows), (H, W, 3) uint8."""
    _check_size(height, width)
    return _floor_uint8(height, width).reshape(height, width, 3).copy()


# ---------------------------------------------------------------------------------------------
# Scenes -> flat object arrays in camera space
#
# Speed notes. Per-pixel work dominates, and numpy's cost there is set by how an array is walked
# more than by arithmetic: a float32 ufunc over a contiguous array costs ~0.2 ns an element, a
# repeat of per-row values ~0.25 ns, a gather from a small table ~0.6 ns, but a scatter into an
# image ~3 ns, ufunc.at ~5 ns, a (n, 3) by (n, 1) broadcast ~3 ns and a selection by an irregular
# mask ~3.5 ns; arithmetic on subnormal floats is ~100x slower than on normal ones. So:
# * samples are generated row by row (each row of an octagon belongs to one object) and every
#   per-object quantity reaches the samples by np.repeat, never by a gather;
# * objects are ordered by (chunk, shape, material): rays are cast in one run per shape, and the
#   nearest hits are reordered by (material, shape) once, so that shading splits in two runs;
# * only the nearest hit of a pixel gets a normal and a colour; a colour is linear in the base
#   colour, so shading computes two scalars per hit, and colours stay in planes (3, n) until they
#   are written as 3-byte items;
# * index arrays are intp (numpy converts any other index type before it gathers or scatters);
# * the per-object set-up (camera frames, silhouettes, shadow boxes) runs once per call and the
#   per-pixel work in a few equal chunks of scenes, as large as the CPU caches reward.
# A miss is a depth of _MISS rather than inf, so that blends never multiply inf by 0.

_MISS = _F32(1e30)
_RENDER_CHUNK = 25  # scenes per vectorised pass: larger passes fall out of the CPU caches
_SPAN_PAD = 1.5  # pixels: every 4-neighbour of a covered pixel lies within 1.5 px of the silhouette
_SLAB_NORM = np.array([1.0, 1.0, np.sqrt(2.0), np.sqrt(2.0)])[:, None]
_SHADOW_CELL = 3  # shadows are soft: evaluate them on 3x3-pixel cells
_PIXEL = np.dtype((np.void, 3))  # one RGB pixel as a single item, for fast scatters


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
class _Objects:
    """All objects of a call in each scene's camera frame (x right, y up, z forward), ordered by
    (chunk, shape, material); every per-object field is 1-D over objects."""

    height: int
    width: int
    focal: float
    f: dict[str, np.ndarray]  # per-object float32 fields (see _prepare)
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


def _prepare(objs: _Flat, height: int, width: int) -> _Objects:
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
    return _Objects(
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


def _spans(lo_y: np.ndarray, hi_y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    y0 = _clip(np.ceil(lo[1] - 0.5), 0, height).astype(np.int64)
    y1 = _clip(np.floor(hi[1] - 0.5) + 1, 0, height).astype(np.int64)
    owner, y, _ = _spans(y0, y1)
    v = y + 0.5
    u_lo = np.maximum(np.maximum(lo[0].take(owner), lo[2].take(owner) - v), lo[3].take(owner) + v)
    u_hi = np.minimum(np.minimum(hi[0].take(owner), hi[2].take(owner) - v), hi[3].take(owner) + v)
    x0 = _clip(np.ceil(u_lo - 0.5), 0, width).astype(np.int64)
    count = _clip(np.floor(u_hi - 0.5) + 1, 0, width).astype(np.int64) - x0
    keep = count > 0
    owner, y, x0, count = owner[keep], y[keep], x0[keep], count[keep]
    first = np.searchsorted(owner, np.arange(lo.shape[1] + 1))
    return _Rows(scene.take(owner), y, x0, count, first)


# ---------------------------------------------------------------------------------------------
# Samples grouped by object


@dataclass
class _Groups:
    """Samples grouped by object, in runs of objects of one kind whose samples are contiguous:
    per-object counts and the (shape, first object, end object, first sample, end sample) of each
    run."""

    counts: np.ndarray  # samples per object of the chunk
    o0: int  # the chunk's first object
    runs: list[tuple[int, int, int, int, int]]
    metal_start: int  # shading order only: the first sample of a metal object

    def expand(self, values: np.ndarray, run: tuple[int, int, int, int, int]) -> np.ndarray:
        """Per-object ``values`` repeated over the run's samples."""
        _, q0, q1, _, _ = run
        return values[q0:q1].repeat(self.counts[q0 - self.o0 : q1 - self.o0])

    def expand_all(self, values: np.ndarray) -> np.ndarray:
        """Per-object ``values`` repeated over all samples, in the runs' order."""
        objects = np.concatenate([np.arange(q0, q1) for _, q0, q1, _, _ in self.runs])
        return values[objects].repeat(self.counts[objects - self.o0])


@dataclass
class _Layout:
    """A chunk's objects (ordered by shape, then material) as runs of one shape, for ray casts, and
    as runs of one (material, shape), rubber first, for shading; and where each object's samples
    start in the chunk's sample order."""

    o0: int
    o1: int
    by_shape: list[tuple[int, int, int]]  # (shape, first object, end object)
    by_material: list[tuple[int, int, int, bool]]  # (shape, first object, end object, metal)
    starts: np.ndarray  # (n + 1,) first sample of each object, then the sample count

    @staticmethod
    def of_chunk(objs: _Objects, o0: int, o1: int, counts: np.ndarray) -> _Layout:
        shape, metal = objs.shape[o0:o1], objs.metal[o0:o1]
        kind = shape * 2 + metal
        cuts = (np.flatnonzero(np.diff(kind)) + 1).tolist()
        runs = [(int(kind[q0]), o0 + q0, o0 + q1) for q0, q1 in zip([0] + cuts, cuts + [o1 - o0])]
        by_shape: list[tuple[int, int, int]] = []
        for k, q0, q1 in runs:
            if by_shape and by_shape[-1][0] == k // 2:
                by_shape[-1] = (k // 2, by_shape[-1][1], q1)
            else:
                by_shape.append((k // 2, q0, q1))
        by_material = [(k // 2, q0, q1, bool(k % 2)) for k, q0, q1 in sorted(runs, key=lambda r: r[0] % 2)]
        return _Layout(o0, o1, by_shape, by_material, np.concatenate([[0], np.cumsum(counts)]))

    def subset_counts(self, index: np.ndarray) -> np.ndarray:
        """Per-object counts of the sorted sample indices ``index``."""
        return np.diff(np.searchsorted(index, self.starts))

    def shapes(self, counts: np.ndarray) -> _Groups:
        """Groups for samples in object order."""
        before = np.concatenate([[0], np.cumsum(counts)]).tolist()
        runs = [(k, q0, q1, before[q0 - self.o0], before[q1 - self.o0]) for k, q0, q1 in self.by_shape]
        return _Groups(counts, self.o0, runs, before[-1])

    def materials(self, index: np.ndarray) -> tuple[_Groups, np.ndarray]:
        """Groups for the samples ``index`` (sorted) reordered for shading, and the positions in
        ``index`` of the reordered samples."""
        counts = self.subset_counts(index)
        before = np.concatenate([[0], np.cumsum(counts)]).tolist()
        runs, parts, pos, metal_start = [], [], 0, None
        for k, q0, q1, metal in self.by_material:
            s0, s1 = before[q0 - self.o0], before[q1 - self.o0]
            if metal and metal_start is None:
                metal_start = pos
            runs.append((k, q0, q1, pos, pos + s1 - s0))
            parts.append(np.arange(s0, s1))
            pos += s1 - s0
        order = np.concatenate(parts) if parts else np.arange(0)
        return _Groups(counts, self.o0, runs, pos if metal_start is None else metal_start), order


# ---------------------------------------------------------------------------------------------
# Ray casting in camera space: the ray through slopes (a, b) is t * (a, b, 1), t = depth.


def _depth(objs: _Objects, g: _Groups, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth (_MISS on a miss) of rays (a, b) against their objects, and the face they hit (a
    cube's slab axis; 1 on a cylinder's top cap). ``a``, ``b`` are (..., samples)."""
    t = np.empty(a.shape, dtype=_F32)
    face = np.zeros(a.shape, dtype=np.int8)
    f = objs.f
    for run in g.runs:
        kind, _, _, s0, s1 = run
        if s1 == s0:
            continue

        def ex(key: str) -> np.ndarray:
            return g.expand(f[key], run)

        sa, sb = a[..., s0:s1], b[..., s0:s1]
        if kind == SPHERE:
            dc = sa * ex("cx")
            dc += sb * ex("cy")
            dc += ex("cz")
            dd = sa * sa
            dd += 1
            dd += sb * sb
            disc = dc * dc
            disc -= dd * ex("cc")
            miss = disc < 0
            np.maximum(disc, 0, out=disc)
            np.sqrt(disc, out=disc)
            dc -= disc
            dc /= dd
            np.copyto(dc, _MISS, where=miss)
            t[..., s0:s1] = dc
        elif kind == CUBE:
            lo, hi = [], []
            with np.errstate(divide="ignore", invalid="ignore"):
                for k in range(3):
                    d = sa * ex(f"e{k}x")
                    d += sb * ex(f"e{k}y")
                    d += ex(f"e{k}z")  # the ray direction along the box axis k
                    np.divide(1, d, out=d)
                    t1, t2 = ex(f"lo{k}") * d, ex(f"hi{k}") * d
                    lo.append(np.minimum(t1, t2))
                    hi.append(np.maximum(t1, t2, out=t2))
            m12 = np.maximum(lo[1], lo[2])
            near = np.maximum(lo[0], m12)
            far = np.minimum(hi[0], hi[1], out=hi[0])
            np.minimum(far, hi[2], out=far)
            miss = near > far
            miss |= near <= 0
            np.copyto(near, _MISS, where=miss)
            t[..., s0:s1] = near
            # the entry face: the slab whose entry is the latest (the earlier axis on a tie)
            later = (lo[0] < m12).view(np.int8)
            face[..., s0:s1] = later + (later & (lo[2] > lo[1]))
        else:
            uy, uz, h = ex("upy"), ex("upz"), ex("h")
            dz = sb * uy
            dz += uz  # the camera never rolls: world up has no x component
            cx, cy, cz = ex("cx"), ex("cy"), ex("cz")
            # top cap (the camera is always above it)
            t_top = ex("top") / dz
            q = t_top * sa
            q -= cx
            r2 = q * q
            np.multiply(t_top, sb, out=q)
            q -= cy
            r2 += q * q
            np.subtract(t_top, cz, out=q)
            r2 += q * q
            top = r2 <= ex("two_h2")
            top &= t_top > 0
            # side: distance from the axis = h, nearer root, within the height
            qa = sa * sa
            qa += 1
            qa += sb * sb
            qa -= dz * dz
            qb = sa * ex("cpx")
            qb += sb * ex("cpy")
            qb += ex("cpz")
            disc = qb * qb
            disc -= qa * ex("cpp")
            side = disc >= 0
            np.maximum(disc, 0, out=disc)
            np.sqrt(disc, out=disc)
            qb -= disc
            qb /= qa  # t_side
            axial = qb * dz
            axial -= ex("axis_c")
            np.abs(axial, out=axial)
            side &= axial <= h
            side &= qb > 0
            np.copyto(qb, _MISS, where=~side)
            np.copyto(qb, t_top, where=top)
            t[..., s0:s1] = qb
            face[..., s0:s1] = top
    return t, face


def _normals(
    objs: _Objects, g: _Groups, a: np.ndarray, b: np.ndarray, t: np.ndarray, face: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals (nx, ny, nz) at the hits (depth ``t``, ``face`` from _depth) of rays (a, b) on
    the objects of their groups ``g``."""
    n3 = tuple(np.empty(a.shape, dtype=_F32) for _ in range(3))
    f = objs.f
    for run in g.runs:
        kind, _, _, s0, s1 = run
        if s1 == s0:
            continue

        def ex(key: str) -> np.ndarray:
            return g.expand(f[key], run)

        sa, sb, st = a[s0:s1], b[s0:s1], t[s0:s1]
        nx, ny, nz = (n[s0:s1] for n in n3)
        if kind == CUBE:
            index = g.expand(objs.table_row, run)
            index += face[s0:s1]
            for n, table in zip((nx, ny, nz), objs.normal_table):
                table.take(index, out=n)
            continue
        inv_h = ex("inv_h")
        np.multiply(st, sa, out=nx)
        nx -= ex("cx")
        np.multiply(st, sb, out=ny)
        ny -= ex("cy")
        np.subtract(st, ex("cz"), out=nz)
        if kind == CYLINDER:
            uy, uz = ex("upy"), ex("upz")
            axial = sb * uy
            axial += uz
            axial *= st
            axial -= ex("axis_c")
            ny -= axial * uy
            nz -= axial * uz
        nx *= inv_h
        ny *= inv_h
        nz *= inv_h
        if kind == CYLINDER:
            top = face[s0:s1].view(bool)
            np.copyto(nx, 0, where=top)
            np.copyto(ny, uy, where=top)
            np.copyto(nz, uz, where=top)
    return n3


# ---------------------------------------------------------------------------------------------
# Shading (camera frame)

_KEY_UP = float(KEY_LIGHT @ WORLD_UP)
_KEY_FLAT = float(np.linalg.norm(KEY_LIGHT - _KEY_UP * WORLD_UP))  # the key light's horizontal part


def _dot(n: tuple[np.ndarray, ...], v: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """n . v for planes ``n`` and a constant vector ``v`` (zero components skipped); ``tmp`` is
    scratch of the planes' size."""
    terms = [(c, w) for c, w in zip(n, v) if w != 0]
    out = np.multiply(terms[0][0], terms[0][1])
    for c, w in terms[1:]:
        out += np.multiply(c, w, out=tmp)
    return out


def _pow(x: np.ndarray, n: int) -> np.ndarray:
    """x ** n for x in [0, 1] and a positive integer n by repeated squaring, in place.

    Only correctly rounded operations, so images are the same bytes on every CPU (numpy's exp and
    log are not). Arithmetic on subnormal floats is ~100x slower than on normal ones and high
    powers of small numbers land there, so x is first raised to where x ** n is still a normal
    float (~1e-36, far below what an 8-bit colour can show).
    """
    np.maximum(x, _F32(np.exp(-83.0 / n)), out=x)
    result, square = None, x
    while n:
        if n & 1:
            result = square.copy() if result is None else np.multiply(result, square, out=result)
        n >>= 1
        if n:
            square = np.multiply(square, square, out=square)
    return result


def _shade(
    objs: _Objects,
    g: _Groups,
    normal: tuple[np.ndarray, np.ndarray, np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
) -> np.ndarray:
    """Colours (3, S) in 0..255 (not clipped) of the surface points with unit normals ``normal``
    on the rays (a, b) of the samples grouped by ``g``.

    Rubber: sky and floor-bounce ambient plus Lambert from the key and fill lights, a faint broad
    highlight. Metal: a dark diffuse term plus a mirror reflection of the environment (bright sky
    above the horizon, the floor below, brightest towards the key light), tinted by the base
    colour, with a reflected key light and a sharp white highlight. Every colour is linear in the
    base colour, col * scale + offset, so only the two scalars are computed per sample.
    """
    key, fill, up = KEY_LIGHT, FILL_LIGHT, WORLD_UP
    n = a.size
    tmp = np.empty(n, dtype=_F32)
    inv = a * a
    inv += np.multiply(b, b, out=tmp)
    inv += 1
    np.sqrt(inv, out=inv)
    np.divide(1, inv, out=inv)
    nk = _dot(normal, key, tmp)
    scale = np.maximum(nk, 0)
    scale *= _F32(0.62)
    scale += _F32(0.3)
    fill_light = _dot(normal, fill, tmp)
    np.maximum(fill_light, 0, out=fill_light)
    fill_light *= _F32(0.16)
    scale += fill_light
    nw = _dot(normal, up, tmp)
    scale += np.multiply(nw, _F32(0.12), out=tmp)  # diffuse
    # towards the eye v = -(a, b, 1) * inv; the half vector of v and the key light
    nv = normal[0] * a
    nv += np.multiply(normal[1], b, out=tmp)
    nv += normal[2]
    nv *= inv
    np.negative(nv, out=nv)
    vk = _dot((a, b), key[:2], tmp)
    vk += _F32(key[2])
    vk *= inv
    np.negative(vk, out=vk)
    n_half = np.add(nk, nv, out=fill_light)
    np.multiply(vk, 2, out=tmp)
    tmp += 2
    np.sqrt(tmp, out=tmp)
    n_half /= tmp
    np.maximum(n_half, 0, out=n_half)
    m0 = g.metal_start
    # rubber: col * diffuse + 0.07 n_half^10
    offset = np.empty_like(inv)
    sq = np.maximum(n_half[:m0], _F32(1e-3), out=tmp[:m0])
    sq *= sq
    o = offset[:m0]
    np.multiply(sq, sq, out=o)
    o *= o
    o *= sq
    o *= _F32(0.07 * 255)
    if m0 < n:
        s = slice(m0, None)
        nv, nw, nk, vk, inv, diffuse = nv[s], nw[s], nk[s], vk[s], inv[s], scale[s]
        ms = nv.size
        t1, t2 = np.empty(ms, dtype=_F32), np.empty(ms, dtype=_F32)
        vw = _dot((a[s], b[s]), up[:2], t1)
        vw += _F32(up[2])
        vw *= inv
        nv2 = np.multiply(nv, 2, out=nv)
        r_up = np.multiply(nv2, nw, out=nw)
        r_up += vw  # the reflection's component along world up (vw is -v . up)
        r_key = np.multiply(nv2, nk, out=nk)
        r_key -= vk
        # horizontal part of the reflection against the key light's horizontal bearing; its length
        # is ill-conditioned where the reflection points straight down, so |r|^2 is taken exactly:
        # |r|^2 = 1 + 4 (n . v)^2 (|n|^2 - 1)
        ns = tuple(c[s] for c in normal)
        flat = np.multiply(ns[0], ns[0], out=vw)
        for c in ns[1:]:
            flat += np.multiply(c, c, out=t1)
        flat -= 1
        flat *= nv2
        flat *= nv2
        flat += 1
        flat -= np.multiply(r_up, r_up, out=t1)
        np.maximum(flat, 0, out=flat)
        np.sqrt(flat, out=flat)
        flat *= _F32(_KEY_FLAT)
        flat += _F32(1e-9)
        facing = np.multiply(r_up, _F32(-_KEY_UP), out=t1)
        facing += r_key
        facing /= flat
        _clip(facing, _F32(1e-6), 1, out=facing)  # (above 0: facing^4 stays a normal float)
        sky = _clip(r_up, 0, 1, out=t2)
        np.sqrt(sky, out=sky)
        sky *= _F32(0.4)
        sky += _F32(0.8)
        ground = np.multiply(facing, facing, out=flat)
        ground *= ground
        ground *= _F32(0.55)
        ground += _F32(0.22)
        ground += np.multiply(r_up, _F32(0.1), out=vk)
        horizon = np.multiply(r_up, _F32(12), out=r_up)
        horizon += _F32(0.5)
        _clip(horizon, 0, 1, out=horizon)
        sky -= ground
        sky *= horizon
        env = np.add(ground, sky, out=ground)
        streak = _pow(facing, 120)
        np.subtract(1, horizon, out=horizon)
        streak *= horizon
        streak *= _F32(0.3)  # the key light's reflection on the floor
        glint = _pow(r_key, 300)
        spot = sky  # (free again)
        spot[:] = n_half[s]
        spot = _pow(spot, 90)
        # col * (0.08 + 0.15 diffuse) + tint * 0.9 env + (0.5 + 0.5 tint) * streak + 1.2 spot
        # + 0.9 glint with tint = 0.06 + 0.94 col
        diffuse *= _F32(0.15)
        diffuse += _F32(0.08)
        diffuse += np.multiply(env, _F32(0.846), out=inv)
        diffuse += np.multiply(streak, _F32(0.47), out=inv)
        o = offset[s]
        np.multiply(env, _F32(0.054), out=o)
        o += np.multiply(streak, _F32(0.53), out=inv)
        o += np.multiply(spot, _F32(1.2), out=inv)
        o += np.multiply(glint, _F32(0.9), out=inv)
        o *= _F32(255)
    rgb = np.empty((3, n), dtype=_F32)
    for c in range(3):
        np.multiply(g.expand_all(objs.color255[c]), scale, out=rgb[c])
    rgb += offset
    return rgb


# ---------------------------------------------------------------------------------------------
# The pipeline

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


def _to_pixels(rgb: np.ndarray) -> np.ndarray:
    """Colours (3, n) in 0..255 as n 3-byte items (rounded, clipped)."""
    rgb += _F32(0.5)
    _clip(rgb, 0, 255, out=rgb)
    out = np.empty((rgb.shape[1], 3), dtype=np.uint8)
    for c in range(3):
        out[:, c] = rgb[c]
    return out.view(_PIXEL).reshape(-1)


@dataclass
class _Raster:
    """Nearest object per pixel over a chunk, from (object, pixel near its silhouette) samples,
    grouped by object.

    Pixels index a padded layout (scene, row + 1, column + 1) of (H + 2) x (W + 2) per scene, so
    a 4-neighbour never leaves its scene; the border reads -2 in ``ids``.
    """

    layout: _Layout
    pixel: np.ndarray  # (S,) padded flat pixel of every sample
    out_pixel: np.ndarray  # (S,) flat pixel (scene, row, column) in the output
    a: np.ndarray
    b: np.ndarray
    win: np.ndarray  # indices of the samples that are their pixel's nearest hit (sorted)
    t: np.ndarray  # depth and face of every sample
    face: np.ndarray
    ids: np.ndarray  # padded (scene, row, column) -> slot of the nearest object, -1 floor, -2 border
    covered: np.ndarray  # the pixel and the slot of every winning sample
    slot: np.ndarray


def _nearest(pixel: np.ndarray, t: np.ndarray, n_pixels: int) -> np.ndarray:
    """The samples (sorted) that are their pixel's nearest hit (all of them on a tie)."""
    hit = np.flatnonzero(t < _MISS)
    hit_pixel, hit_t = pixel.take(hit), t.take(hit)
    depth = _scratch("depth", n_pixels, _F32)
    depth[hit_pixel] = _MISS
    np.minimum.at(depth, hit_pixel, hit_t)
    return hit[hit_t == depth.take(hit_pixel)]


def _rasterise(objs: _Objects, o0: int, o1: int, scene0: int, n_scenes: int) -> _Raster:
    H, W = objs.height, objs.width
    Wp = W + 2
    rows = objs.rows
    r0, r1 = rows.first[o0], rows.first[o1]
    count = rows.count[r0:r1]
    sc = rows.scene[r0:r1] - scene0
    y, x0 = rows.y[r0:r1], rows.x0[r0:r1]
    start = np.cumsum(count) - count
    size = int(count.sum()) if count.size else 0
    col = np.arange(size, dtype=np.intp)
    col += (x0 - start).repeat(count)  # the sample's column
    pixel = col + ((sc * (H + 2) + y + 1) * Wp + 1).repeat(count)
    out_pixel = col + ((sc * H + y) * W).repeat(count)
    focal = _F32(objs.focal)
    a = col.astype(_F32)
    a -= _F32(0.5 * W - 0.5)
    a /= focal
    b = np.repeat(((_F32(0.5 * H) - (y + 0.5).astype(_F32)) / focal).astype(_F32), count)
    counts = np.diff(np.concatenate([[0], np.cumsum(count)])[rows.first[o0 : o1 + 1] - r0])
    layout = _Layout.of_chunk(objs, o0, o1, counts)
    t, face = _depth(objs, layout.shapes(counts), a, b)
    win = _nearest(pixel, t, n_scenes * (H + 2) * Wp)
    ids = np.full((n_scenes, H + 2, Wp), -2, dtype=np.int8)
    ids[:, 1:-1, 1:-1] = -1
    ids = ids.reshape(-1)
    covered = pixel.take(win)
    slot = objs.slot[o0:o1].repeat(layout.subset_counts(win))
    ids[covered] = slot
    return _Raster(layout, pixel, out_pixel, a, b, win, t, face, ids, covered, slot)


def _edges(r: _Raster, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded flat indices of the pixels on an id boundary -- a covered pixel and its 4-neighbour
    that show different objects (or the floor) --, the samples at those pixels (sorted) and the
    position of their pixel in the first array. Every 4-neighbour of a covered pixel was sampled
    by its object."""
    covered = r.covered
    q = covered + np.array([-1, 1, -(width + 2), width + 2])[:, None]
    nb = r.ids.take(q)
    differ = nb != r.slot
    differ &= nb != -2
    on_edge = differ.any(axis=0)
    floor = q[nb == -1]
    inner = covered[on_edge]
    # de-duplicate the floor pixels without sorting: the last write of each pixel wins
    rank = _scratch("rank", r.ids.size, np.intp)
    rank[floor] = np.arange(floor.size)
    floor = floor[rank.take(floor) == np.arange(floor.size)]
    edge = np.concatenate([inner, floor])
    rank[edge] = np.arange(edge.size)
    marked = np.zeros(r.ids.size, dtype=bool)
    marked[edge] = True
    pair = np.flatnonzero(marked.take(r.pixel))
    return edge, pair, rank.take(r.pixel.take(pair))


@dataclass
class _ShadowRows:
    """Rows of 3x3-pixel shadow cells, one object each, grouped by object in order, with the
    per-row and per-object quantities their cells need (float32, see _shadow_rows)."""

    scene: np.ndarray
    cy: np.ndarray
    cx0: np.ndarray
    count: np.ndarray
    first: np.ndarray  # (n_objects + 1,) row range of each object
    v: dict[str, np.ndarray]


def _shadow_rows(objs: _Objects) -> _ShadowRows:
    """The cells of each object's soft contact shadow: a soft blob around the segment from its foot
    towards where its top's shadow falls (shortened), measured on the floor.

    A cell's floor point is where the ray through its centre meets the floor; along a row of cells
    only the ray's slope a changes, so everything else is computed once per row.
    """
    H, W, f, cell = objs.height, objs.width, objs.f, _SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    h = f["h"].astype(np.float64)
    up = np.stack([np.zeros_like(h), f["upy"], f["upz"]])
    foot = np.stack([f["cx"], f["cy"], f["cz"]]) - h * up
    wx, wy = f["world_x"].astype(np.float64), f["world_y"].astype(np.float64)
    seg = (wx * _SHADOW_DRIFT[0] + wy * _SHADOW_DRIFT[1]) * (1.6 * h)
    radius = np.where(objs.shape == CUBE, 1.2, 1.0) * h
    reach = 1.45 * radius
    offsets = np.array([(s, dx, dy) for s in (0, 1) for dx in (-1, 1) for dy in (-1, 1)], dtype=np.float64)
    p = foot[:, None] + offsets[:, 0, None] * seg[:, None] + (offsets[:, 1, None] * wx[:, None]
                                                               + offsets[:, 2, None] * wy[:, None]) * reach
    u = (0.5 * W + objs.focal * p[0] / p[2]) / cell
    v = (0.5 * H - objs.focal * p[1] / p[2]) / cell
    cx0 = _clip(np.floor(u.min(0)), 0, Wc).astype(np.int64)
    cx1 = _clip(np.ceil(u.max(0)), 0, Wc).astype(np.int64)
    cy0 = _clip(np.floor(v.min(0)), 0, Hc).astype(np.int64)
    cy1 = _clip(np.ceil(v.max(0)), 0, Hc).astype(np.int64)
    cy1 = np.where(cx1 > cx0, cy1, cy0)
    owner, cy, first = _spans(cy0, cy1)
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
    return _ShadowRows(objs.scene.take(owner), cy, cx0.take(owner), (cx1 - cx0).take(owner), first, v32)


def _shadows(objs: _Objects, sr: _ShadowRows, o0: int, o1: int, scene0: int, n_scenes: int) -> np.ndarray:
    """Floor darkening factors of the chunk's shadows, one per cell (n_scenes * Hc * Wc,);
    where shadows overlap the darkest wins."""
    H, W, cell = objs.height, objs.width, _SHADOW_CELL
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
    _clip(w, 0, 1, out=w)
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
    _clip(strength, 0, 1, out=strength)
    strength *= strength
    strength *= _F32(_SHADOW_STRENGTH)
    w *= _F32(-0.45)
    w += 1
    strength *= w
    factor = np.subtract(1, strength, out=strength)
    cx += (((sr.scene[r0:r1] - scene0) * Hc + sr.cy[r0:r1]) * Wc).repeat(count)
    np.minimum.at(coarse, cx, factor)
    return coarse


def _decode(padded: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scene, row, column) of padded flat pixel indices."""
    Wp = width + 2
    scene = padded // ((height + 2) * Wp)
    rest = padded - scene * ((height + 2) * Wp)
    y = rest // Wp
    return scene, y - 1, rest - y * Wp - 1


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


def _render(flat: _Flat, height: int, width: int) -> np.ndarray:
    N = flat.camera.shape[0]
    out = np.empty((N, height * width, 3), dtype=np.uint8)
    out[:] = _floor_uint8(height, width)
    if flat.scene.size:
        objs = _prepare(flat, height, width)
        sr = _shadow_rows(objs)
        for c in range(objs.chunk_scenes.size - 1):
            s0, s1 = objs.chunk_scenes[c], objs.chunk_scenes[c + 1]
            _render_chunk(objs, sr, c, out[s0:s1].reshape(-1, 3))
    return out.reshape(N, height, width, 3)


def _render_chunk(objs: _Objects, sr: _ShadowRows, chunk: int, out: np.ndarray) -> None:
    """Draw the objects of one chunk of scenes onto ``out``, (n_scenes * H * W, 3) uint8 holding
    the empty floor."""
    o0, o1 = int(objs.chunk_objects[chunk]), int(objs.chunk_objects[chunk + 1])
    if o1 == o0:
        return
    scene0 = int(objs.chunk_scenes[chunk])
    n_scenes = out.shape[0] // (objs.height * objs.width)
    shade = _shadows(objs, sr, o0, o1, scene0, n_scenes)
    r = _rasterise(objs, o0, o1, scene0, n_scenes)
    _draw_shadows(objs, shade, r.ids, out)
    _draw_objects(objs, r, out)
    _antialias(objs, r, shade, out)


def _draw_shadows(objs: _Objects, shade: np.ndarray, ids: np.ndarray, out: np.ndarray) -> None:
    """Darken the floor of ``out`` under the shadow cells (one factor ``shade`` per cell), where
    the (padded) id buffer ``ids`` shows the floor."""
    H, W, cell = objs.height, objs.width, _SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    dark = np.flatnonzero(shade < _F32(0.99))
    if dark.size == 0:
        return
    scene = dark // (Hc * Wc)
    cy = dark - scene * (Hc * Wc)
    cx = cy % Wc
    cy //= Wc
    step = np.arange(cell)
    # cells past the image's last row or column hold only pixels of that row or column
    py = np.minimum(cy * cell + step.repeat(cell)[:, None], H - 1).ravel()
    px = np.minimum(cx * cell + np.tile(step, cell)[:, None], W - 1).ravel()
    scene = np.broadcast_to(scene, (cell * cell, dark.size)).ravel()
    floor = np.flatnonzero(ids.take((scene * (H + 2) + py + 1) * (W + 2) + px + 1) == -1)
    local = py.take(floor) * W + px.take(floor)
    factor = np.broadcast_to(shade.take(dark), (cell * cell, dark.size)).ravel().take(floor)
    red, blue = _floor(H, W)
    rgb = np.empty((3, local.size), dtype=_F32)
    np.multiply(red.take(local), factor, out=rgb[0])
    np.multiply(blue.take(local), factor, out=rgb[2])
    rgb[::2] *= _F32(255)
    rgb[1] = rgb[0]
    out.view(_PIXEL).reshape(-1)[scene.take(floor) * (H * W) + local] = _to_pixels(rgb)


def _draw_objects(objs: _Objects, r: _Raster, out: np.ndarray) -> None:
    """Shade the nearest hit of every covered pixel."""
    g, order = r.layout.materials(r.win)
    win = r.win.take(order)
    a, b = r.a.take(win), r.b.take(win)
    normal = _normals(objs, g, a, b, r.t.take(win), r.face.take(win))
    out.view(_PIXEL).reshape(-1)[r.out_pixel.take(win)] = _to_pixels(_shade(objs, g, normal, a, b))


def _antialias(objs: _Objects, r: _Raster, shade: np.ndarray, out: np.ndarray) -> None:
    """Anti-aliasing: every pixel on an id boundary averages its centre ray with three more; the
    candidate objects of a pixel are those that sampled it."""
    H, W, cell = objs.height, objs.width, _SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    edge, pair, key = _edges(r, W)
    if edge.size == 0:
        return
    k = len(_SUBSAMPLES)
    focal = _F32(objs.focal)
    _, y, x = _decode(r.pixel.take(pair), H, W)
    a = x.astype(_F32) + _F32(0.5) + _SUBSAMPLES[:, :1].astype(_F32)
    a -= _F32(0.5 * W)
    a /= focal
    b = _F32(0.5 * H) - (y.astype(_F32) + _F32(0.5) + _SUBSAMPLES[:, 1:].astype(_F32))
    b /= focal
    t, face = _depth(objs, r.layout.shapes(r.layout.subset_counts(pair)), a, b)  # (k, pairs)
    E = edge.size
    won = t < _MISS
    # a depth test only where a pixel has several candidates
    shared = np.flatnonzero(np.bincount(key, minlength=E).take(key) > 1)
    if shared.size:
        sub = key.take(shared) + (np.arange(k) * E)[:, None]
        ts = t[:, shared]
        depth = np.full(k * E, _MISS, dtype=_F32)
        np.minimum.at(depth, sub.ravel(), ts.ravel())
        won[:, shared] &= ts == depth.take(sub)
    # coverage of each (pixel, object) pair; shade it once, from its first winning sub-ray
    count = won.sum(axis=0)
    seen = np.flatnonzero(count)
    first = won[:, seen].argmax(axis=0)
    first *= pair.size
    first += seen
    g, order = r.layout.materials(pair.take(seen))  # reordered for shading
    first = first.take(order)
    order = seen.take(order)
    a, b = a.take(first), b.take(first)
    normal = _normals(objs, g, a, b, t.take(first), face.take(first))
    color = _shade(objs, g, normal, a, b)
    weight = count.take(order).astype(np.float64)
    target = key.take(order)
    floor_share = k - np.bincount(target, weights=weight, minlength=E)
    scene, y, x = _decode(edge, H, W)
    local = y * W + x
    index = scene * (H * W) + local
    centre = out.take(index, axis=0)  # the centre ray, as already drawn
    floor_share *= shade.take((scene * Hc + y // cell) * Wc + x // cell)
    floor_share *= 255
    acc = np.empty((3, E), dtype=_F32)
    red, blue = _floor(H, W)
    for c, plane in enumerate((red, red, blue)):
        acc[c] = np.bincount(target, weights=color[c] * weight, minlength=E)
        acc[c] += plane.take(local) * floor_share + centre[:, c]
    acc *= _F32(1 / (k + 1))
    out.view(_PIXEL).reshape(-1)[index] = _to_pixels(acc)


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
    if not scene.objects:
        return np.full((height, width), -1, dtype=np.int8)
    objs = _prepare(_Flat.of_scenes([scene]), height, width)
    r = _rasterise(objs, 0, objs.scene.size, 0, 1)
    return r.ids.reshape(height + 2, width + 2)[1:-1, 1:-1].copy()


def visible_pixels(scene: CuriScene, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Per-object visible pixel counts in the id buffer, (n_objects,) int64, in scene order."""
    ids = id_buffer(scene, height, width)
    return np.bincount(ids[ids >= 0].astype(np.int64), minlength=len(scene.objects))
