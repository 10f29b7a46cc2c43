"""Every sampled positive is in its concept and every negative is not: 1,000+ episodes over all concepts.

Each label is checked twice: through ``KandinskyFamily.satisfies`` and through the independent
definitions below, which read the concept name with plain string handling and evaluate it by
brute force over pairings (no code shared with tasks.kandinsky beyond the scene type).
"""

from __future__ import annotations

import functools
import itertools
import math
import re

import numpy as np
import pytest

from tasks.kandinsky import KandinskyFamily

RELKP = KandinskyFamily()
PATTERN_NAMES = ("onered", "onetriangle", "twopairs", "threepairs", "closeby", "red-triangle", "online-pair")
PATTERN_FAMILIES = {name: KandinskyFamily(pattern=name) for name in PATTERN_NAMES}

# 100 train concepts × 6 episodes + 100 test concepts × 2 + 7 patterns × (20 train + 9 test) = 1,003
EPISODES = {"train": 6, "test": 2}
PATTERN_EPISODES = {"train": 20, "test": 9}
CHUNKS = 8


# --- independent definitions -------------------------------------------------------------------

def size_class(s: float) -> str:
    return "small" if s <= 1 / 3 else "medium" if s <= 2 / 3 else "big"


def literal_holds(literal: str, objs) -> bool:
    negated = literal.startswith("not_")
    predicate = literal[4:] if negated else literal
    if predicate == "same_color":
        value = len({o.color for o in objs}) == 1
    elif predicate == "same_shape":
        value = len({o.shape for o in objs}) == 1
    elif predicate == "same_size":
        value = len({size_class(o.size) for o in objs}) == 1
    elif predicate == "one_is_red_triangle":
        red_triangles = [i for i, o in enumerate(objs) if o.color == "red" and o.shape == "triangle"]
        value = len(red_triangles) == 1 and all(
            o.color != "red" and o.shape != "triangle" for i, o in enumerate(objs) if i != red_triangles[0]
        )
    else:
        raise AssertionError(f"unexpected predicate {predicate!r}")
    return value != negated


@functools.cache
def formula_parts(formula: str) -> list[str]:
    return re.split(r"_(and|or)_", formula)


def formula_holds(formula: str, objs) -> bool:
    parts = formula_parts(formula)
    value = literal_holds(parts[0], objs)
    for connective, literal in zip(parts[1::2], parts[2::2]):
        other = literal_holds(literal, objs)
        value = (value and other) if connective == "and" else (value or other)
    return value


def pairings(items: list[int]):
    """Every split of ``items`` into unordered pairs."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for k, partner in enumerate(rest):
        for tail in pairings(rest[:k] + rest[k + 1 :]):
            yield [(first, partner)] + tail


def relkp_holds(concept_id: str, scene) -> bool:
    count, rest = concept_id.split("_", 1)
    objs = scene.objects
    assert len(objs) == int(count)
    if not rest.startswith("pair1_"):
        return formula_holds(rest, objs)
    slots = re.split(r"(?:^|_)pair\d_", rest)[1:]
    fits = [{(a, b) for a, b in itertools.combinations(range(len(objs)), 2) if formula_holds(slot, [objs[a], objs[b]])}
            for slot in slots]
    for split in pairings(list(range(len(objs)))):
        for chosen in itertools.permutations(split, len(slots)):
            if all(pair in fit for fit, pair in zip(fits, chosen)):
                return True
    return False


def distance(a, b) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def collinear(objs, tolerance: float = 0.01) -> bool:
    # the largest distance of a centre from the line through the two farthest-apart centres
    a, b = max(itertools.combinations(objs, 2), key=lambda p: distance(*p))
    length = distance(a, b)
    return all(abs((b.x - a.x) * (a.y - o.y) - (a.x - o.x) * (b.y - a.y)) / length <= tolerance for o in objs)


def pattern_holds(pattern: str, scene) -> bool:
    objs = scene.objects
    pairs = list(itertools.combinations(objs, 2))
    if pattern == "onered":
        return any(o.color == "red" for o in objs)
    if pattern == "onetriangle":
        return any(o.shape == "triangle" for o in objs)
    if pattern in ("twopairs", "threepairs"):
        for split in pairings(list(range(len(objs)))):
            kinds = []
            for a, b in split:
                if objs[a].shape != objs[b].shape:
                    break
                kinds.append(objs[a].color == objs[b].color)
            else:
                if sorted(kinds) == [False] * (len(split) - 1) + [True]:
                    return True
        return False
    if pattern == "closeby":
        return any(distance(a, b) < 120 / 640 for a, b in pairs)
    if pattern == "red-triangle":
        def lonely(t, o):
            return t.color == "red" and t.shape == "triangle" and o.color != "red" and o.shape != "triangle"

        return any((lonely(a, b) or lonely(b, a)) and distance(a, b) < 120 / 640 for a, b in pairs)
    if pattern == "online-pair":
        twins = any(a.shape == b.shape and a.color == b.color for a, b in pairs)
        return twins and collinear(objs)
    raise AssertionError(pattern)


# --- the check ---------------------------------------------------------------------------------

def jobs() -> list[tuple[str | None, str, str, int]]:
    out = []
    for subset, repeats in EPISODES.items():
        for i, concept in enumerate(RELKP.concept_ids(subset)):
            out += [(None, subset, concept, 1000 * i + k) for k in range(repeats)]
    for p, name in enumerate(PATTERN_NAMES):
        for subset, repeats in PATTERN_EPISODES.items():
            out += [(name, subset, name, 100_000 + 1000 * p + k) for k in range(repeats)]
    return out


JOBS = jobs()


def test_episode_budget():
    assert len(JOBS) >= 1000
    covered = {concept for _, _, concept, _ in JOBS}
    assert covered == set(RELKP.concept_ids("train")) | set(RELKP.concept_ids("test")) | set(PATTERN_NAMES)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_labels_match_concepts(chunk):
    for pattern, subset, concept, seed in JOBS[chunk::CHUNKS]:
        family = RELKP if pattern is None else PATTERN_FAMILIES[pattern]
        episode = family.sample_episode(np.random.default_rng(seed), concept, subset)
        query_pos, query_neg = family.query_size(subset)
        assert int(episode.support_labels.sum()) == 5 and len(episode.support_labels) == 25
        assert int(episode.query_labels.sum()) == query_pos and len(episode.query_labels) == query_pos + query_neg
        scenes = episode.support_scenes + episode.query_scenes
        labels = np.concatenate([episode.support_labels, episode.query_labels]).tolist()
        independent = relkp_holds if pattern is None else pattern_holds
        for scene, label in zip(scenes, labels):
            assert family.satisfies(concept, scene) == bool(label), (concept, seed, scene)
            assert independent(concept, scene) == bool(label), (concept, seed, scene)
