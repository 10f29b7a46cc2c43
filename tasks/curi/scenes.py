"""CURI's scene world: CLEVR objects, scenes as dataclasses and as padded arrays, and the sampler.

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
3. more than 50 tries for one object, or any object with fewer than 200 visible pixels in the
   240x160 image, throws the scene away and samples it again with the same object count and
   camera (CLEVR recurses into ``add_random_objects``).

Visibility (step 3) is decided analytically, per object: the exact area of its perspective
silhouette, minus the part of the silhouette's bounding octagon outside the image, minus the
overlaps of that octagon with the octagons of objects that can be in front of it. That is a
lower bound of the visible area; it must reach 200 + RASTER_MARGIN (8) pixels, which keeps every
accepted object at >= 200 pixels in the renderer's id buffer
(:func:`tasks.curi.render.visible_pixels`). At 240x160 the rule matters: small spheres and cubes
beyond mid-depth fall under 200 pixels, so accepted scenes hold about 60 % large objects and
fewer small spheres/cubes in the far rows (CURI's pool agrees: "all objects are small" fires on
fewer than 10 % of its scenes, which uniform sizes would not give).

Location bins are CURI's: floor(px / 30) and floor(py / 20) with the origin at the top-left
corner, so 0..7. CURI's grammar names them with the constants 1..8, an off-by-one quirk kept for
fidelity: bin 0 is never named and the constant 8 never equals a bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tasks.curi import camera as cam

SHAPES = ("cube", "sphere", "cylinder")
COLORS = ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow")
COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "gray": (87, 87, 87),
    "red": (173, 35, 35),
    "blue": (42, 75, 215),
    "green": (29, 105, 20),
    "brown": (129, 74, 25),
    "purple": (129, 38, 192),
    "cyan": (41, 208, 208),
    "yellow": (255, 238, 51),
}
MATERIALS = ("rubber", "metal")
SIZES = ("large", "small")
SIZE_VALUES = (0.7, 0.35)

IMAGE_WIDTH, IMAGE_HEIGHT, DEPTH_NORM = 240, 160, 16
MIN_OBJECTS, MAX_OBJECTS = 2, 5
LOCATION_BINS = 8
X_BIN_WIDTH = IMAGE_WIDTH // LOCATION_BINS  # 30 px
Y_BIN_HEIGHT = IMAGE_HEIGHT // LOCATION_BINS  # 20 px

# CLEVR's placement parameters (render_images.py defaults).
GROUND_EXTENT = 3.0
MIN_DISTANCE = 0.25
MARGIN = 0.4
MAX_RETRIES = 50
MIN_VISIBLE_PIXELS = 200

# A CLEVR asset of "size" r: a sphere of radius r, a cylinder of radius r and height 2r, a cube
# of half-side r / sqrt(2); each rests on the ground, so its centre is at height = half-extent.
SHAPE_SCALE = (1.0 / np.sqrt(2.0), 1.0, 1.0)

CUBE, SPHERE, CYLINDER = 0, 1, 2


_HALF_EXTENT = np.outer(SHAPE_SCALE, SIZE_VALUES)  # [shape, size]


def half_extent(shape: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Half-extent (= centre height) of objects given shape and size indices (any shape array)."""
    return _HALF_EXTENT[shape, size]


@dataclass(frozen=True)
class CuriObject:
    """One CLEVR object with CURI's attributes and its projection in the 240x160 image.

    ``x``, ``y`` are CLEVR's ``3d_coords`` on the ground plane, ``rotation`` is in degrees,
    (``px``, ``py``, ``depth``) are CLEVR's ``pixel_coords`` (top-left origin, camera depth).
    """

    shape: str
    color: str
    material: str
    size: str
    x: float
    y: float
    rotation: float
    px: int
    py: int
    depth: float

    @property
    def xbin(self) -> int:
        """CURI's x location bin, 0..7 (the grammar's constants are 1..8; see the module notes)."""
        return int(self.px) // X_BIN_WIDTH

    @property
    def ybin(self) -> int:
        """CURI's y location bin, 0..7 (the grammar's constants are 1..8; see the module notes)."""
        return int(self.py) // Y_BIN_HEIGHT


@dataclass(frozen=True)
class CuriScene:
    """A scene: its objects in sampling order, and the (jittered) camera location it was shot from.

    The camera defaults to CLEVR's un-jittered camera, so scenes built by hand render sensibly;
    the pixel coordinates of sampled objects are those of the scene's own camera.
    """

    objects: tuple[CuriObject, ...]
    camera: tuple[float, float, float] = cam.BASE_LOCATION


def _check_index_array(name: str, values: np.ndarray, n_values: int, mask: np.ndarray) -> None:
    live = values[mask]
    if live.size and (live.min() < 0 or live.max() >= n_values):
        raise ValueError(f"SceneBatch.{name} holds indices outside 0..{n_values - 1}")
    if np.any(values[~mask] != -1):
        raise ValueError(f"SceneBatch.{name} must be -1 in padding slots")


@dataclass(frozen=True)
class SceneBatch:
    """N scenes as padded (N, MAX_OBJECTS) arrays so concepts can be evaluated on millions at once.

    Integer attributes index :data:`SHAPES`, :data:`COLORS`, :data:`MATERIALS`, :data:`SIZES`;
    slots past a scene's ``n_objects`` are padding (-1, or nan for floats). ``camera`` is each
    scene's camera location (N, 3).
    """

    n_objects: np.ndarray
    shape: np.ndarray
    color: np.ndarray
    material: np.ndarray
    size: np.ndarray
    px: np.ndarray
    py: np.ndarray
    depth: np.ndarray
    rotation: np.ndarray
    x: np.ndarray
    y: np.ndarray
    camera: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        n = np.asarray(self.n_objects)
        if n.ndim != 1:
            raise ValueError(f"SceneBatch.n_objects must be 1-D, got shape {n.shape}")
        if n.size and (n.min() < 0 or n.max() > MAX_OBJECTS):
            raise ValueError(f"SceneBatch.n_objects must lie in 0..{MAX_OBJECTS}")
        casts = {
            "n_objects": np.int8,
            "shape": np.int8,
            "color": np.int8,
            "material": np.int8,
            "size": np.int8,
            "px": np.int16,
            "py": np.int16,
            "depth": np.float32,
            "rotation": np.float32,
            "x": np.float32,
            "y": np.float32,
        }
        for name, dtype in casts.items():
            value = np.asarray(getattr(self, name))
            expected = (n.size,) if name == "n_objects" else (n.size, MAX_OBJECTS)
            if value.shape != expected:
                raise ValueError(f"SceneBatch.{name} must have shape {expected}, got {value.shape}")
            object.__setattr__(self, name, value.astype(dtype, copy=False))
        if self.camera is None:
            camera = np.broadcast_to(np.asarray(cam.BASE_LOCATION, dtype=np.float32), (n.size, 3))
        else:
            camera = np.asarray(self.camera, dtype=np.float32)
            if camera.shape != (n.size, 3):
                raise ValueError(f"SceneBatch.camera must have shape {(n.size, 3)}, got {camera.shape}")
        object.__setattr__(self, "camera", camera)
        mask = self.mask
        for name, n_values in (
            ("shape", len(SHAPES)),
            ("color", len(COLORS)),
            ("material", len(MATERIALS)),
            ("size", len(SIZES)),
        ):
            _check_index_array(name, getattr(self, name), n_values, mask)

    def __len__(self) -> int:
        return int(self.n_objects.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """(N, MAX_OBJECTS) bool: which slots hold an object."""
        return np.arange(MAX_OBJECTS)[None, :] < self.n_objects[:, None]

    @property
    def xbin(self) -> np.ndarray:
        """(N, MAX_OBJECTS) int8 CURI x bins 0..7, -1 in padding (grammar constants are 1..8)."""
        return np.where(self.mask, self.px // X_BIN_WIDTH, -1).astype(np.int8)

    @property
    def ybin(self) -> np.ndarray:
        """(N, MAX_OBJECTS) int8 CURI y bins 0..7, -1 in padding (grammar constants are 1..8)."""
        return np.where(self.mask, self.py // Y_BIN_HEIGHT, -1).astype(np.int8)

    def scene(self, i: int) -> CuriScene:
        """Scene ``i`` as a :class:`CuriScene` (negative indices count from the end)."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"scene index {i} out of range for a batch of {n}")
        objects = tuple(
            CuriObject(
                shape=SHAPES[self.shape[i, k]],
                color=COLORS[self.color[i, k]],
                material=MATERIALS[self.material[i, k]],
                size=SIZES[self.size[i, k]],
                x=float(self.x[i, k]),
                y=float(self.y[i, k]),
                rotation=float(self.rotation[i, k]),
                px=int(self.px[i, k]),
                py=int(self.py[i, k]),
                depth=float(self.depth[i, k]),
            )
            for k in range(int(self.n_objects[i]))
        )
        return CuriScene(objects, tuple(float(c) for c in self.camera[i]))

    def scenes(self) -> list[CuriScene]:
        return [self.scene(i) for i in range(len(self))]

    def take(self, indices: Sequence[int] | np.ndarray) -> SceneBatch:
        """The scenes at ``indices`` (any integer index array or boolean mask), in that order."""
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.intp)
        elif idx.dtype != bool and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"SceneBatch.take needs integer indices or a boolean mask, got dtype {idx.dtype}")
        return SceneBatch(**{name: getattr(self, name)[idx] for name in _FIELDS})

    @staticmethod
    def concatenate(batches: Sequence[SceneBatch]) -> SceneBatch:
        """One batch holding the scenes of ``batches`` in order."""
        if not batches:
            raise ValueError("SceneBatch.concatenate needs at least one batch")
        return SceneBatch(**{name: np.concatenate([getattr(b, name) for b in batches]) for name in _FIELDS})

    @staticmethod
    def from_scenes(scenes: Sequence[CuriScene]) -> SceneBatch:
        """Pack :class:`CuriScene` objects into a batch (the inverse of :meth:`scene`)."""
        n = len(scenes)
        ints = {name: np.full((n, MAX_OBJECTS), -1, dtype=np.int16) for name in _INT_FIELDS}
        floats = {name: np.full((n, MAX_OBJECTS), np.nan, dtype=np.float32) for name in _FLOAT_FIELDS}
        counts = np.zeros(n, dtype=np.int8)
        camera = np.zeros((n, 3), dtype=np.float32)
        tables = {"shape": SHAPES, "color": COLORS, "material": MATERIALS, "size": SIZES}
        for i, scene in enumerate(scenes):
            if len(scene.objects) > MAX_OBJECTS:
                raise ValueError(f"scene {i} has {len(scene.objects)} objects; at most {MAX_OBJECTS} fit")
            counts[i] = len(scene.objects)
            camera[i] = scene.camera
            for k, obj in enumerate(scene.objects):
                for name, table in tables.items():
                    value = getattr(obj, name)
                    if value not in table:
                        raise ValueError(f"scene {i} object {k}: unknown {name} {value!r}; expected one of {table}")
                    ints[name][i, k] = table.index(value)
                ints["px"][i, k], ints["py"][i, k] = obj.px, obj.py
                for name in _FLOAT_FIELDS:
                    floats[name][i, k] = getattr(obj, name)
        return SceneBatch(n_objects=counts, camera=camera, **ints, **floats)


_INT_FIELDS = ("shape", "color", "material", "size", "px", "py")
_FLOAT_FIELDS = ("depth", "rotation", "x", "y")
_FIELDS = ("n_objects", *_INT_FIELDS, *_FLOAT_FIELDS, "camera")


def concatenate(batches: Sequence[SceneBatch]) -> SceneBatch:
    """Module-level alias of :meth:`SceneBatch.concatenate`."""
    return SceneBatch.concatenate(batches)


# ---------------------------------------------------------------------------------------------
# Silhouettes: exact areas of the objects' perspective projections and their bounding octagons
#
# Image points are written as ray slopes (a, b): the ray forward + a right + b up meets the image
# at u = W/2 + f a, v = H/2 - f b. A camera is held as an (11, n) array of rows: location xyz,
# right xy (right has no z: the camera never rolls), up xyz, forward xyz.

_BIG = 1e9
# The bounding octagon of a silhouette is its extent along four pixel-space directions:
# u, v, u + v and u - v.
_SLABS = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, -1.0))
# Bounding-sphere radius / half-extent per shape (cube, sphere, cylinder).
_REACH = np.array([np.sqrt(3.0), 1.0, np.sqrt(2.0)])


def _frames(camera: np.ndarray) -> np.ndarray:
    """(11, n) camera rows for cameras at ``camera`` (n, 3) aimed at the origin (see above)."""
    lx, ly, lz = np.asarray(camera, dtype=np.float64).T
    norm = np.sqrt(lx * lx + ly * ly + lz * lz)
    fx, fy, fz = -lx / norm, -ly / norm, -lz / norm
    flat = np.sqrt(fx * fx + fy * fy)
    rx, ry = fy / flat, -fx / flat
    return np.stack([lx, ly, lz, rx, ry, ry * fz, -rx * fz, rx * fy - ry * fx, fx, fy, fz])


@dataclass
class _Silhouettes:
    """Per-object projections: exact area (px^2), centre (u, v), depth, bounding octagon."""

    area: np.ndarray
    u: np.ndarray
    v: np.ndarray
    depth: np.ndarray
    lo: np.ndarray  # (4, n) lower extents along _SLABS
    hi: np.ndarray  # (4, n) upper extents


def _octagon_of_ellipse(
    uc: np.ndarray, vc: np.ndarray, s_uu: np.ndarray, s_uv: np.ndarray, s_vv: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Octagon extents (4, n) of the ellipse {p: (p - c)^T S^-1 (p - c) <= 1} in pixels."""
    lo, hi = np.empty((4,) + uc.shape), np.empty((4,) + uc.shape)
    for k, (w0, w1) in enumerate(_SLABS):
        mid = w0 * uc + w1 * vc
        half = np.sqrt(w0 * w0 * s_uu + 2 * w0 * w1 * s_uv + w1 * w1 * s_vv)
        lo[k], hi[k] = mid - half, mid + half
    return lo, hi


def _disc_ellipse(
    cx: np.ndarray, cy: np.ndarray, z: np.ndarray, radius: np.ndarray, fr: np.ndarray, f: float, width: int, height: int
) -> tuple[np.ndarray, ...]:
    """Area, centre and shape (pixels) of the image of a horizontal disc; ``fr`` are camera rows.

    A ray meets the disc's plane inside the disc iff |w d_z + s d_xy|^2 <= radius^2 d_z^2 with
    w = camera_xy - centre_xy and s = z - camera_z: a conic in the ray slopes (a, b).
    """
    lx, ly, lz, rx, ry, ux, uy, uz, fx, fy, fz = fr
    wx, wy, s = lx - cx, ly - cy, z - lz
    r2 = radius * radius
    # linear forms (constant, a, b) of d_z, and of w_k d_z + s d_k for k = x, y
    # d_z has no a term (right is horizontal)
    A = -(s * rx) ** 2 - (s * ry) ** 2
    C = r2 * uz * uz
    D = 0.0
    E = 2 * r2 * fz * uz
    F = r2 * fz * fz
    B = 0.0
    for l0, la, lb in ((wx * fz + s * fx, s * rx, wx * uz + s * ux), (wy * fz + s * fy, s * ry, wy * uz + s * uy)):
        B = B - 2 * la * lb
        C = C - lb * lb
        D = D - 2 * l0 * la
        E = E - 2 * l0 * lb
        F = F - l0 * l0
    det2 = A * C - B * B / 4
    ca = (B * E / 4 - D * C / 2) / det2
    cb = (B * D / 4 - E * A / 2) / det2
    k = F + (D * ca + E * cb) / 2
    area = np.abs(k) / np.sqrt(det2) * (np.pi * f * f)
    scale = k / det2 * (f * f)  # S = k (-M2)^-1; the v axis points down, flipping S_uv
    return area, width / 2 + f * ca, height / 2 - f * cb, -C * scale, -B / 2 * scale, -A * scale


def _silhouettes(
    shape: np.ndarray,
    size: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    rotation: np.ndarray,
    fr: np.ndarray,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
) -> _Silhouettes:
    """Silhouettes of objects given as flat arrays; ``fr`` holds each object's camera rows (11, n).

    Areas are exact for spheres (a closed form of the ellipse) and cubes (the visible faces'
    projections); a cylinder's silhouette, the hull of its two cap ellipses, is taken as half the
    caps' areas plus the band between them (exact for an orthographic view, within 0.5 % here).
    """
    n = x.shape[0]
    dtype = fr.dtype
    f = dtype.type(cam.focal_pixels(width))
    w2, h2_ = dtype.type(0.5 * width), dtype.type(0.5 * height)
    h = half_extent(shape, size).astype(dtype)
    lx, ly, lz, rx, ry, ux, uy, uz, fx, fy, fz = fr
    px, py, pz = x - lx, y - ly, h - lz
    X = px * rx + py * ry
    Y = px * ux + py * uy + pz * uz
    Z = px * fx + py * fy + pz * fz
    out = _Silhouettes(
        area=np.empty(n, dtype),
        u=w2 + f * X / Z,
        v=h2_ - f * Y / Z,
        depth=Z,
        lo=np.empty((4, n), dtype),
        hi=np.empty((4, n), dtype),
    )

    sph = np.flatnonzero(shape == SPHERE)
    if sph.size:
        Xs, Ys, Zs, R = X[sph], Y[sph], Z[sph], h[sph]
        r2 = R * R
        P = Zs * Zs - r2
        K = Xs * Xs + Ys * Ys + P
        out.area[sph] = dtype.type(np.pi) * f * f * r2 * np.sqrt(K) / (P * np.sqrt(P))
        # centre: the projected centre pushed out by Z^2 / P; radial / tangential semi-axes
        scale = f * Zs / P
        uc, vc = w2 + Xs * scale, h2_ - Ys * scale
        rad2 = r2 * K / (P * P) * (f * f)
        tan2 = r2 / P * (f * f)
        norm2 = np.maximum(Xs * Xs + Ys * Ys, dtype.type(1e-30))
        extra = (rad2 - tan2) / norm2  # S = tan2 I + extra e e^T with e = (X, -Y) in pixels
        out.lo[:, sph], out.hi[:, sph] = _octagon_of_ellipse(
            uc, vc, tan2 + extra * Xs * Xs, -extra * Xs * Ys, tan2 + extra * Ys * Ys
        )

    cyl = np.flatnonzero(shape == CYLINDER)
    if cyl.size:
        # (single precision keeps the caps' areas within 2e-4 of double precision)
        R, sub = h[cyl], fr[:, cyl]
        caps = [_disc_ellipse(x[cyl], y[cyl], z, R, sub, f, width, height) for z in (2 * R, np.zeros_like(R))]
        (a_t, u_t, v_t, *s_t), (a_b, u_b, v_b, *s_b) = caps
        lo_t, hi_t = _octagon_of_ellipse(u_t, v_t, *s_t)
        lo_b, hi_b = _octagon_of_ellipse(u_b, v_b, *s_b)
        # the caps' widths across their (nearly vertical) join, from their u extents
        gap = np.hypot(u_b - u_t, v_b - v_t)
        out.area[cyl] = 0.5 * (a_t + a_b) + 0.5 * gap * ((hi_t[0] - lo_t[0]) + (hi_b[0] - lo_b[0]))
        out.lo[:, cyl] = np.minimum(lo_t, lo_b)
        out.hi[:, cyl] = np.maximum(hi_t, hi_b)

    cube = np.flatnonzero(shape == CUBE)
    if cube.size:
        hc = h[cube]
        theta = np.deg2rad(rotation[cube]).astype(dtype)
        cos, sin = np.cos(theta) * hc, np.sin(theta) * hc
        rx_, ry_, ux_, uy_, uz_, fx_, fy_, fz_ = (row[cube] for row in fr[3:])
        centre = (X[cube], Y[cube], Z[cube])
        # camera coordinates of the half-edge vectors along the cube's x, y and z axes
        edges = (
            (cos * rx_ + sin * ry_, cos * ux_ + sin * uy_, cos * fx_ + sin * fy_),
            (-sin * rx_ + cos * ry_, -sin * ux_ + cos * uy_, -sin * fx_ + cos * fy_),
            (0.0, hc * uz_, hc * fz_),
        )
        pu, pv = {}, {}
        for sx in (1, -1):
            px_ = [centre[c] + sx * edges[0][c] for c in range(3)]
            for sy in (1, -1):
                pxy = [px_[c] + sy * edges[1][c] for c in range(3)]
                for sz in (1, -1):
                    Xv, Yv, Zv = pxy[0], pxy[1] + sz * edges[2][1], pxy[2] + sz * edges[2][2]
                    inv = f / Zv
                    pu[sx, sy, sz] = w2 + Xv * inv
                    pv[sx, sy, sz] = h2_ - Yv * inv

        def quad(corners: list[tuple[int, int, int]]) -> np.ndarray:
            total = pu[corners[-1]] * pv[corners[0]] - pu[corners[0]] * pv[corners[-1]]
            for p, q in zip(corners, corners[1:]):
                total += pu[p] * pv[q] - pu[q] * pv[p]
            return dtype.type(0.5) * np.abs(total)

        area = quad([(1, 1, 1), (-1, 1, 1), (-1, -1, 1), (1, -1, 1)])
        # The side whose outward half-edge is s E faces the camera iff s (centre . E) < -|E|^2.
        h2 = hc * hc
        for axis in (0, 1):
            e = edges[axis]
            along = centre[0] * e[0] + centre[1] * e[1] + centre[2] * e[2]
            for sgn in (1, -1):
                corners = [(sgn, 1, -1), (sgn, -1, -1), (sgn, -1, 1), (sgn, 1, 1)]
                if axis == 1:
                    corners = [(c[1], c[0], c[2]) for c in corners]
                area += np.where(sgn * along < -h2, quad(corners), dtype.type(0))
        out.area[cube] = area
        keys = list(pu)
        for slab, (w0, w1) in enumerate(_SLABS):
            vals = [w0 * pu[k] + w1 * pv[k] for k in keys] if w0 and w1 else [pu[k] if w0 else pv[k] for k in keys]
            lo, hi = vals[0], vals[0]
            for val in vals[1:]:
                lo, hi = np.minimum(lo, val), np.maximum(hi, val)
            out.lo[slab, cube], out.hi[slab, cube] = lo, hi
    return out


def _octagon_area(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Area of {lo <= (u, v, u + v, u - v) <= hi} for octagon extents (4, n) (exact)."""
    x0, y0, s0, d0 = lo
    x1, y1, s1, d1 = hi
    # Between consecutive breakpoints the column height top(x) - bottom(x) is linear in x.
    xs = np.stack([x0, x1, s1 - y1, y1 + d0, 0.5 * (s1 + d0), s0 - y0, y0 + d1, 0.5 * (s0 + d1)])
    xs = np.sort(np.clip(xs, x0, x1), axis=0)
    top = np.minimum(np.minimum(y1, s1 - xs), xs - d0)
    bottom = np.maximum(np.maximum(y0, s0 - xs), xs - d1)
    length = top - bottom
    la, lb, w = length[:-1], length[1:], np.diff(xs, axis=0)
    both = w * np.maximum(0.5 * (la + lb), 0.0)
    pos, neg = np.maximum(la, lb), np.minimum(la, lb)
    crossing = w * pos * pos / (2 * np.maximum(pos - neg, 1e-30))
    return np.sum(np.where(la * lb >= 0, both, crossing), axis=0)


def _image_octagon(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([0.0, 0.0, -_BIG, -_BIG], dtype=np.float32)[:, None]
    hi = np.array([width, height, _BIG, _BIG], dtype=np.float32)[:, None]
    return lo, hi


# ---------------------------------------------------------------------------------------------
# Sampling

# The visibility rule: an object needs MIN_VISIBLE_PIXELS visible pixels (CLEVR). We accept it
# when a lower bound of its visible area -- its exact silhouette area, minus the part of its
# bounding octagon outside the image, minus the overlaps of its octagon with those of the objects
# that can be in front of it -- reaches MIN_VISIBLE_PIXELS + RASTER_MARGIN. The margin covers
# the difference between an area and a count of pixel centres (measured on small objects: std
# 2-3.5 px, max 12 px), so accepted objects have at least 200 pixels in the renderer's id
# buffer; it is also of the order by which CLEVR's meshes (a UV sphere, a bevelled cube and
# cylinder) are smaller than ideal solids.
RASTER_MARGIN = 8.0
VISIBILITY_THRESHOLD = MIN_VISIBLE_PIXELS + RASTER_MARGIN

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
    img_lo, img_hi = _image_octagon(IMAGE_WIDTH, IMAGE_HEIGHT)
    ok = np.ones(m, dtype=bool)
    for k in range(MAX_OBJECTS):
        rows = np.flatnonzero(ok & (counts > k))
        failed = _place(rng, k, rows, pos, raw_radius, stored_radius)
        if failed.size:
            ok[failed] = False
            rows = rows[ok[rows]]
        sil = _silhouettes(
            shape[k, rows], size[k, rows], pos[0, k, rows], pos[1, k, rows], rotation[k, rows], fr[:, rows]
        )
        u[k, rows], v[k, rows], depth[k, rows] = sil.u, sil.v, sil.depth
        lo[k][:, rows], hi[k][:, rows] = sil.lo, sil.hi
        # the visible area left after clipping at the image border
        clipped = sil.area
        outside = np.flatnonzero(np.any((sil.lo < img_lo) | (sil.hi > img_hi), axis=0))
        if outside.size:
            o_lo, o_hi = sil.lo[:, outside], sil.hi[:, outside]
            clipped[outside] -= _octagon_area(o_lo, o_hi) - _octagon_area(
                np.maximum(o_lo, img_lo), np.minimum(o_hi, img_hi)
            )
        area[k, rows] = clipped
        ok[rows[clipped < VISIBILITY_THRESHOLD]] = False
    # Occlusion: subtract the octagon overlaps with every object that can be in front.
    reach = (stored_radius * _REACH[shape]).astype(np.float32)
    for i in range(MAX_OBJECTS - 1):
        for j in range(i + 1, MAX_OBJECTS):
            both = np.flatnonzero(ok & (counts > j))
            meet = both[
                (np.maximum(lo[i, 0, both], lo[j, 0, both]) < np.minimum(hi[i, 0, both], hi[j, 0, both]))
                & (np.maximum(lo[i, 1, both], lo[j, 1, both]) < np.minimum(hi[i, 1, both], hi[j, 1, both]))
            ]
            if meet.size == 0:
                continue
            overlap = _octagon_area(
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
    fr = _frames(camera).astype(np.float32)
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
