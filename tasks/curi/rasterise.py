"""Rasterisation of a chunk of scenes: the nearest object at every pixel centre from the
(object, pixel near its silhouette) samples, and the pixels on an object boundary."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from tasks.curi import raycast
from tasks.curi.raster_objects import Objects
from tasks.curi.sample_groups import Layout

_F32 = np.float32
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
class Raster:
    """Nearest object per pixel over a chunk, from (object, pixel near its silhouette) samples,
    grouped by object.

    Pixels index a padded layout (scene, row + 1, column + 1) of (H + 2) x (W + 2) per scene, so
    a 4-neighbour never leaves its scene; the border reads -2 in ``ids``.
    """

    layout: Layout
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
    hit = np.flatnonzero(t < raycast.MISS)
    hit_pixel, hit_t = pixel.take(hit), t.take(hit)
    depth = _scratch("depth", n_pixels, _F32)
    depth[hit_pixel] = raycast.MISS
    np.minimum.at(depth, hit_pixel, hit_t)
    return hit[hit_t == depth.take(hit_pixel)]


def rasterise(objs: Objects, o0: int, o1: int, scene0: int, n_scenes: int) -> Raster:
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
    layout = Layout.of_chunk(objs, o0, o1, counts)
    t, face = raycast.depth(objs, layout.shapes(counts), a, b)
    win = _nearest(pixel, t, n_scenes * (H + 2) * Wp)
    ids = np.full((n_scenes, H + 2, Wp), -2, dtype=np.int8)
    ids[:, 1:-1, 1:-1] = -1
    ids = ids.reshape(-1)
    covered = pixel.take(win)
    slot = objs.slot[o0:o1].repeat(layout.subset_counts(win))
    ids[covered] = slot
    return Raster(layout, pixel, out_pixel, a, b, win, t, face, ids, covered, slot)


def edges(r: Raster, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
