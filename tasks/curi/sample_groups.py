"""A chunk's (object, pixel) samples grouped by object: runs of one shape for the ray casts
(:mod:`tasks.curi.raycast`), runs of one (material, shape) for shading (:mod:`tasks.curi.shading`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.curi.raster_objects import Objects


@dataclass
class Groups:
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
class Layout:
    """A chunk's objects (ordered by shape, then material) as runs of one shape, for ray casts, and
    as runs of one (material, shape), rubber first, for shading; and where each object's samples
    start in the chunk's sample order."""

    o0: int
    o1: int
    by_shape: list[tuple[int, int, int]]  # (shape, first object, end object)
    by_material: list[tuple[int, int, int, bool]]  # (shape, first object, end object, metal)
    starts: np.ndarray  # (n + 1,) first sample of each object, then the sample count

    @staticmethod
    def of_chunk(objs: Objects, o0: int, o1: int, counts: np.ndarray) -> Layout:
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
        return Layout(o0, o1, by_shape, by_material, np.concatenate([[0], np.cumsum(counts)]))

    def subset_counts(self, index: np.ndarray) -> np.ndarray:
        """Per-object counts of the sorted sample indices ``index``."""
        return np.diff(np.searchsorted(index, self.starts))

    def shapes(self, counts: np.ndarray) -> Groups:
        """Groups for samples in object order."""
        before = np.concatenate([[0], np.cumsum(counts)]).tolist()
        runs = [(k, q0, q1, before[q0 - self.o0], before[q1 - self.o0]) for k, q0, q1 in self.by_shape]
        return Groups(counts, self.o0, runs, before[-1])

    def materials(self, index: np.ndarray) -> tuple[Groups, np.ndarray]:
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
        return Groups(counts, self.o0, runs, pos if metal_start is None else metal_start), order
