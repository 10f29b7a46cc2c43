"""Scenes read with uncertainty: alternative readings, and programs' correctness in expectation.

An extractor reports each object's attributes as distributions. Most attributes are certain;
a few are not (a dark metal sphere's colour, a centre a fraction of a pixel from a location
bin's edge). Each scene is then a mixture of readings: the most probable one (the object table
the search already uses) and *alternatives* that change one uncertain attribute of one object
(or drop an object that may not be there), each with the probability the extractor gives it.

A program's behaviour on a support scene becomes a probability of being right,
``c = base · [h(most probable) = y] + Σ_alt w_alt · [h(alt) = y]``, and the likelihood of its
label a mixture, ``c · P(y | right) + (1 - c) · P(y | wrong)``
(:meth:`~agents.pix2code.search.likelihood.SizePrinciple.uncertain`): a support label a program
gets wrong only on a reading the extractor doubted costs little, and a program that relies on a
doubtful reading pays for the doubt. Query scores are expectations over the same mixture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pix2code_env import ObjectSchema

MIN_PROBABILITY = 0.01  # alternatives less likely than this are ignored
PER_SCENE = 4
MIN_BASE = 0.05


@dataclass(frozen=True)
class Readings:
    """Alternative readings of some scenes of a table of ``n_scenes`` scenes.

    ``objects`` (M, K, F) and ``mask`` (M, K) hold the alternatives, ``parent`` (M,) the scene
    each rewrites, ``weight`` (M,) its probability; ``base`` (n_scenes,) is the probability of
    each scene's most probable reading (1 where a scene has no alternatives).
    """

    n_scenes: int
    objects: np.ndarray
    mask: np.ndarray
    parent: np.ndarray
    weight: np.ndarray
    base: np.ndarray

    def __len__(self) -> int:
        return int(self.parent.shape[0])

    @property
    def uncertain(self) -> np.ndarray:
        """Indices of the scenes that have alternatives."""
        return np.unique(self.parent)

    def limit(self, count: int) -> Readings:
        """The ``count`` most probable alternatives (their scenes' base weights grow back)."""
        if len(self) <= count:
            return self
        keep = np.sort(np.argsort(-self.weight, kind="stable")[:count])
        dropped = np.setdiff1d(np.arange(len(self)), keep)
        base = self.base.copy()
        np.add.at(base, self.parent[dropped], self.weight[dropped])
        return Readings(self.n_scenes, self.objects[keep], self.mask[keep], self.parent[keep], self.weight[keep], base)

    def expectation(self, first: np.ndarray, alternatives: np.ndarray) -> np.ndarray:
        """Mixture of per-reading values: ``first`` (n_scenes, ...) on the most probable readings,
        ``alternatives`` (M, ...) on the alternatives."""
        out = first * self.base.reshape((-1,) + (1,) * (first.ndim - 1))
        np.add.at(out, self.parent, alternatives * self.weight.reshape((-1,) + (1,) * (alternatives.ndim - 1)))
        return out


def readings(
    schema: ObjectSchema,
    objects: np.ndarray,
    mask: np.ndarray,
    probabilities: Sequence[Mapping[str, np.ndarray]],
    binned: Mapping[str, str] | None = None,
    min_probability: float = MIN_PROBABILITY,
    per_scene: int = PER_SCENE,
) -> Readings:
    """Alternative readings of padded tables (S, K, F) from per-scene probability dicts.

    ``probabilities[s][attribute]`` is (n_s, n_values) for the scene's n_s objects (rows in
    table order): one-hot attributes of the schema, and ``binned`` ones {probability key: numeric
    schema attribute} whose bins are the column's (CURI: {"xbin": "px", "ybin": "py"}: an
    alternative bin moves the centre to that bin's nearest pixel). ``exists`` (n_s,), if given,
    adds a reading without an object that may not be there.
    """
    binned = dict(binned or {})
    S, K, F = objects.shape
    alt_objects, alt_mask, parent, weight = [], [], [], []
    base = np.ones(S)
    for s in range(S):
        rows = np.flatnonzero(mask[s])
        options: list[tuple[float, int, str, int]] = []  # (probability, object, attribute, value)
        for name, probs in probabilities[s].items():
            probs = np.asarray(probs, dtype=np.float64)
            if name == "exists":
                for k in np.flatnonzero(1.0 - probs >= min_probability):
                    options.append((float(1.0 - probs[k]), int(k), name, -1))
                continue
            if name not in schema.categorical and name not in binned:
                continue
            top = probs.argmax(axis=1)
            for k, v in zip(*np.nonzero(probs >= min_probability)):
                if v != top[k]:
                    options.append((float(probs[k, v]), int(k), name, int(v)))
        options.sort(key=lambda o: -o[0])
        options = options[:per_scene]
        total = sum(o[0] for o in options)
        shrink = min(1.0, (1.0 - MIN_BASE) / total) if total > 0 else 1.0
        for p, k, name, value in options:
            table, live = objects[s].copy(), mask[s].copy()
            row = rows[k]
            if name == "exists":
                live[row] = False
                table[row] = 0.0
            elif name in schema.categorical:
                block = schema.block(name)
                table[row, block] = 0.0
                table[row, block.start + value] = 1.0
            else:
                column = schema.column(binned[name])
                index = schema.names.index(column.name)
                width = column.scale / column.bins  # pixels per bin
                pixel = round(float(table[row, index]) * column.scale)
                pixel = value * width if pixel < value * width else value * width + width - 1
                table[row, index] = pixel / column.scale
            alt_objects.append(table)
            alt_mask.append(live)
            parent.append(s)
            weight.append(p * shrink)
        base[s] = 1.0 - total * shrink
    if not parent:
        return Readings(S, np.zeros((0, K, F), np.float32), np.zeros((0, K), bool), np.zeros(0, np.int64), np.zeros(0), base)
    return Readings(S, np.stack(alt_objects), np.stack(alt_mask), np.array(parent), np.array(weight), base)


class SoftFit:
    """How a program's value on the enumeration context fits support labels read with doubt.

    The context holds the ``n_support`` support scenes (bits 0 … S-1) and right after them the
    ``M`` alternative readings (bits S … S+M-1). ``labels`` are the support labels.
    """

    def __init__(self, readings: Readings, labels: np.ndarray) -> None:
        labels = np.asarray(labels).astype(bool)
        S, M = readings.n_scenes, len(readings)
        if M + S > 64:
            raise ValueError(f"at most 64 support scenes and alternative readings together, got {S} + {M}")
        self.n_support, self.count = S, M
        self.labels = labels
        self.alt_mask = ((1 << M) - 1) << S
        self.alt_pos = sum(1 << (S + m) for m in range(M) if labels[readings.parent[m]])
        self.groups: list[tuple[int, int, float, list[tuple[int, float]]]] = []  # (scene, alt bits, base, alts)
        uncertain = 0
        for i in readings.uncertain:
            members = np.flatnonzero(readings.parent == i)
            alts = [(S + int(m), float(readings.weight[m])) for m in members]
            self.groups.append((int(i), sum(1 << pos for pos, _ in alts), float(readings.base[i]), alts))
            uncertain |= 1 << int(i)
        self.uncertain = uncertain
        # the same in 64-bit words, for the assembler (bit = context scene, support and alternatives)
        self.words = _Words(self, labels)

    def fit(self, value: int, wrong_support: int) -> list[tuple[int, float]] | None:
        """The soft correctness ``[(scene, c)]`` of each doubtful scene on which some reading
        disagrees with its label, or None when a support label is wrong on every reading."""
        if wrong_support & ~self.uncertain:
            return None
        wrong_alt = (value ^ self.alt_pos) & self.alt_mask
        if not wrong_alt and not wrong_support:
            return []
        out = []
        for i, bits, base, alts in self.groups:
            first_wrong = wrong_support >> i & 1
            if not (wrong_alt & bits) and not first_wrong:
                continue
            c = (0.0 if first_wrong else base) + sum(w for pos, w in alts if not wrong_alt >> pos & 1)
            if c <= 0.0:
                return None
            out.append((i, c))
        return out


class _Words:
    """:class:`SoftFit`'s fit tests on arrays of 64-bit support words (the assembler's)."""

    def __init__(self, soft: SoftFit, labels: np.ndarray) -> None:
        S = soft.n_support
        pos = sum(1 << i for i in range(S) if labels[i]) | soft.alt_pos
        full = (1 << (S + soft.count)) - 1
        self.pos, self.neg = np.uint64(pos), np.uint64(full & ~pos)
        groups = [(1 << i) | bits for i, bits, _, _ in soft.groups]
        self.groups = [np.uint64(g) for g in groups]
        self.certain = np.uint64(full & ~(soft.uncertain | soft.alt_mask))
        self.pos_groups = [np.uint64(g) for (i, *_), g in zip(soft.groups, groups) if labels[i]]
        self.neg_groups = [np.uint64(g) for (i, *_), g in zip(soft.groups, groups) if not labels[i]]

    def fits(self, words: np.ndarray) -> np.ndarray:
        """Every support scene right on at least one of its readings."""
        wrong = (words ^ self.pos) & (self.pos | self.neg)
        ok = (wrong & self.certain) == 0
        for g in self.groups:
            ok &= (wrong & g) != g
        return ok

    def all_positive(self, words: np.ndarray) -> np.ndarray:
        """True on some reading of every positive (necessary for C[A and B] to fit)."""
        missing = self.pos & ~words
        ok = (missing & self.certain) == 0
        for g in self.pos_groups:
            ok &= (missing & g) != (g & self.pos)
        return ok

    def no_negative(self, words: np.ndarray) -> np.ndarray:
        """False on some reading of every negative (necessary for C[A or B] to fit)."""
        extra = words & self.neg
        ok = (extra & self.certain) == 0
        for g in self.neg_groups:
            ok &= (extra & g) != (g & self.neg)
        return ok
