"""Shading in the camera frame: the fixed key and fill lights, and the colours of rubber and metal
surfaces. A colour is linear in the base colour, so shading computes two scalars per hit."""

from __future__ import annotations

import numpy as np

from tasks.curi import camera as cam
from tasks.curi.raster_objects import Objects, clip
from tasks.curi.sample_groups import Groups

_F32 = np.float32


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


KEY_LIGHT, FILL_LIGHT, WORLD_UP, SHADOW_DRIFT = _lights()
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


def shade(
    objs: Objects,
    g: Groups,
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
        clip(facing, _F32(1e-6), 1, out=facing)  # (above 0: facing^4 stays a normal float)
        sky = clip(r_up, 0, 1, out=t2)
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
        clip(horizon, 0, 1, out=horizon)
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
