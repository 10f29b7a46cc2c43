"""Exact areas and bounding octagons of CURI objects' perspective projections.

The scene sampler's visibility rule (:mod:`tasks.curi.sampler`) and the renderer
(:mod:`tasks.curi.render`) share these: the sampler needs each object's visible area, the
renderer the pixels near each silhouette.

Image points are written as ray slopes (a, b): the ray forward + a right + b up meets the image
at u = W/2 + f a, v = H/2 - f b. A camera is held as an (11, n) array of rows: location xyz,
right xy (right has no z: the camera never rolls), up xyz, forward xyz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.curi import camera as cam
from tasks.curi.scenes import CUBE, CYLINDER, IMAGE_HEIGHT, IMAGE_WIDTH, SPHERE, half_extent

_BIG = 1e9
# The bounding octagon of a silhouette is its extent along four pixel-space directions:
# u, v, u + v and u - v.
_SLABS = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, -1.0))
# Bounding-sphere radius / half-extent per shape (cube, sphere, cylinder).
REACH = np.array([np.sqrt(3.0), 1.0, np.sqrt(2.0)])


def camera_rows(camera: np.ndarray) -> np.ndarray:
    """(11, n) camera rows for cameras at ``camera`` (n, 3) aimed at the origin (see above)."""
    lx, ly, lz = np.asarray(camera, dtype=np.float64).T
    norm = np.sqrt(lx * lx + ly * ly + lz * lz)
    fx, fy, fz = -lx / norm, -ly / norm, -lz / norm
    flat = np.sqrt(fx * fx + fy * fy)
    rx, ry = fy / flat, -fx / flat
    return np.stack([lx, ly, lz, rx, ry, ry * fz, -rx * fz, rx * fy - ry * fx, fx, fy, fz])


@dataclass
class Silhouettes:
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


def silhouettes(
    shape: np.ndarray,
    size: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    rotation: np.ndarray,
    fr: np.ndarray,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
) -> Silhouettes:
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
    out = Silhouettes(
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


def octagon_area(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
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


def image_octagon(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([0.0, 0.0, -_BIG, -_BIG], dtype=np.float32)[:, None]
    hi = np.array([width, height, _BIG, _BIG], dtype=np.float32)[:, None]
    return lo, hi
