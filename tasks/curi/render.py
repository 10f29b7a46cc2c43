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

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from tasks.curi import raycast, shading
from tasks.curi.raster_objects import Flat, Objects, clip, prepare
from tasks.curi.rasterise import Raster, edges, rasterise
from tasks.curi.scenes import IMAGE_HEIGHT, IMAGE_WIDTH, CuriScene, SceneBatch
from tasks.curi.shading import FILL_LIGHT, KEY_LIGHT, WORLD_UP
from tasks.curi.shadows import SHADOW_CELL, ShadowRows, shadow_rows, shadows

# The renderer's public names; the light directions are defined in tasks.curi.shading.
__all__ = [
    "FILL_LIGHT",
    "KEY_LIGHT",
    "MAX_SIZE",
    "MIN_SIZE",
    "WORLD_UP",
    "background",
    "id_buffer",
    "render_batch",
    "render_scene",
    "render_scenes",
    "visible_pixels",
]

MIN_SIZE, MAX_SIZE = 16, 640

_F32 = np.float32
# Anti-aliasing: an edge pixel averages its centre ray with three more on a circle around it.
_SUBSAMPLES = np.array([[0.0, -0.36], [-0.31, 0.18], [0.31, 0.18]])
_PIXEL = np.dtype((np.void, 3))  # one RGB pixel as a single item, for fast scatters


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
# The pipeline
#
# Speed notes. Per-pixel work dominates, and numpy's cost there is set by how an array is walked
# more than by arithmetic: a float32 ufunc over a contiguous array costs ~0.2 ns an element, a
# repeat of per-row values ~0.25 ns, a gather from a small table ~0.6 ns, but a scatter into an
# image ~3 ns, ufunc.at ~5 ns, a (n, 3) by (n, 1) broadcast ~3 ns and a selection by an irregular
# mask ~3.5 ns; arithmetic on subnormal floats is ~100x slower than on normal ones. So:
# * samples are generated row by row and objects are ordered for the ray casts and for shading
#   (:mod:`tasks.curi.raster_objects`);
# * only the nearest hit of a pixel gets a normal and a colour (:mod:`tasks.curi.shading`), and
#   colours stay in planes (3, n) until they are written as 3-byte items;
# * index arrays are intp (numpy converts any other index type before it gathers or scatters);
# * the per-object set-up (camera frames, silhouettes, shadow boxes) runs once per call and the
#   per-pixel work in a few equal chunks of scenes, as large as the CPU caches reward.


def _to_pixels(rgb: np.ndarray) -> np.ndarray:
    """Colours (3, n) in 0..255 as n 3-byte items (rounded, clipped)."""
    rgb += _F32(0.5)
    clip(rgb, 0, 255, out=rgb)
    out = np.empty((rgb.shape[1], 3), dtype=np.uint8)
    for c in range(3):
        out[:, c] = rgb[c]
    return out.view(_PIXEL).reshape(-1)


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
    return _render(Flat.of_scenes(scenes), height, width)


def render_batch(scenes: SceneBatch, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Draw every scene of a :class:`SceneBatch` as an (N, height, width, 3) uint8 array."""
    if not isinstance(scenes, SceneBatch):
        raise TypeError(f"scenes must be a SceneBatch, got {type(scenes).__name__}")
    _check_size(height, width)
    return _render(Flat.of_batch(scenes), height, width)


def _render(flat: Flat, height: int, width: int) -> np.ndarray:
    N = flat.camera.shape[0]
    out = np.empty((N, height * width, 3), dtype=np.uint8)
    out[:] = _floor_uint8(height, width)
    if flat.scene.size:
        objs = prepare(flat, height, width)
        sr = shadow_rows(objs)
        for c in range(objs.chunk_scenes.size - 1):
            s0, s1 = objs.chunk_scenes[c], objs.chunk_scenes[c + 1]
            _render_chunk(objs, sr, c, out[s0:s1].reshape(-1, 3))
    return out.reshape(N, height, width, 3)


def _render_chunk(objs: Objects, sr: ShadowRows, chunk: int, out: np.ndarray) -> None:
    """Draw the objects of one chunk of scenes onto ``out``, (n_scenes * H * W, 3) uint8 holding
    the empty floor."""
    o0, o1 = int(objs.chunk_objects[chunk]), int(objs.chunk_objects[chunk + 1])
    if o1 == o0:
        return
    scene0 = int(objs.chunk_scenes[chunk])
    n_scenes = out.shape[0] // (objs.height * objs.width)
    shade = shadows(objs, sr, o0, o1, scene0, n_scenes)
    r = rasterise(objs, o0, o1, scene0, n_scenes)
    _draw_shadows(objs, shade, r.ids, out)
    _draw_objects(objs, r, out)
    _antialias(objs, r, shade, out)


def _draw_shadows(objs: Objects, shade: np.ndarray, ids: np.ndarray, out: np.ndarray) -> None:
    """Darken the floor of ``out`` under the shadow cells (one factor ``shade`` per cell), where
    the (padded) id buffer ``ids`` shows the floor."""
    H, W, cell = objs.height, objs.width, SHADOW_CELL
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


def _draw_objects(objs: Objects, r: Raster, out: np.ndarray) -> None:
    """Shade the nearest hit of every covered pixel."""
    g, order = r.layout.materials(r.win)
    win = r.win.take(order)
    a, b = r.a.take(win), r.b.take(win)
    normal = raycast.normals(objs, g, a, b, r.t.take(win), r.face.take(win))
    out.view(_PIXEL).reshape(-1)[r.out_pixel.take(win)] = _to_pixels(shading.shade(objs, g, normal, a, b))


def _antialias(objs: Objects, r: Raster, shade: np.ndarray, out: np.ndarray) -> None:
    """Anti-aliasing: every pixel on an id boundary averages its centre ray with three more; the
    candidate objects of a pixel are those that sampled it."""
    H, W, cell = objs.height, objs.width, SHADOW_CELL
    Hc, Wc = -(-H // cell), -(-W // cell)
    edge, pair, key = edges(r, W)
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
    t, face = raycast.depth(objs, r.layout.shapes(r.layout.subset_counts(pair)), a, b)  # (k, pairs)
    E = edge.size
    won = t < raycast.MISS
    # a depth test only where a pixel has several candidates
    shared = np.flatnonzero(np.bincount(key, minlength=E).take(key) > 1)
    if shared.size:
        sub = key.take(shared) + (np.arange(k) * E)[:, None]
        ts = t[:, shared]
        depth = np.full(k * E, raycast.MISS, dtype=_F32)
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
    normal = raycast.normals(objs, g, a, b, t.take(first), face.take(first))
    color = shading.shade(objs, g, normal, a, b)
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
    objs = prepare(Flat.of_scenes([scene]), height, width)
    r = rasterise(objs, 0, objs.scene.size, 0, 1)
    return r.ids.reshape(height + 2, width + 2)[1:-1, 1:-1].copy()


def visible_pixels(scene: CuriScene, height: int = IMAGE_HEIGHT, width: int = IMAGE_WIDTH) -> np.ndarray:
    """Per-object visible pixel counts in the id buffer, (n_objects,) int64, in scene order."""
    ids = id_buffer(scene, height, width)
    return np.bincount(ids[ids >= 0].astype(np.int64), minlength=len(scene.objects))
