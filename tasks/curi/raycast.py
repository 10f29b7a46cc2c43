"""Analytic ray casts of spheres, boxes rotated about the vertical and upright cylinders in camera
space: the ray through slopes (a, b) is t * (a, b, 1), so its parameter t is the camera depth."""

from __future__ import annotations

import numpy as np

from tasks.curi.raster_objects import Objects
from tasks.curi.sample_groups import Groups
from tasks.curi.scenes import CUBE, CYLINDER, SPHERE

_F32 = np.float32
# A miss is a depth of MISS rather than inf, so that blends never multiply inf by 0.
MISS = _F32(1e30)


def depth(objs: Objects, g: Groups, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth (MISS on a miss) of rays (a, b) against their objects, and the face they hit (a
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
            np.copyto(dc, MISS, where=miss)
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
            np.copyto(near, MISS, where=miss)
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
            np.copyto(qb, MISS, where=~side)
            np.copyto(qb, t_top, where=top)
            t[..., s0:s1] = qb
            face[..., s0:s1] = top
    return t, face


def normals(
    objs: Objects, g: Groups, a: np.ndarray, b: np.ndarray, t: np.ndarray, face: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals (nx, ny, nz) at the hits (depth ``t``, ``face`` from :func:`depth`) of rays
    (a, b) on the objects of their groups ``g``."""
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
