"""RelKP figures are drawn as Pix2Code's generator draws them (whole-object redraw, persistent shrink).

The reference figures were measured by running the original sampler (``_randomkf`` with its
1024-pixel raster overlap test) on thousands of figures: a uniform size in the size range would
make two thirds of 4-object figures' objects medium; the redraw-on-overlap makes it about half.
"""

import numpy as np
import pytest

from tasks.kandinsky.clauses import enumerate_group, parse_concept
from tasks.kandinsky.concept_list import load_concepts
from tasks.kandinsky.figures import overlap, overlapping, random_figures
from tasks.kandinsky.placement import Footprint, overlaps
from tasks.kandinsky.sampling import boost, figure_codes, sample_scenes, scene_codes
from tasks.kandinsky.universe import size_classes

# n objects: (share of medium objects, share of figures whose objects all have one size class)
REFERENCE = {4: (0.48, 0.065), 5: (0.40, 0.055), 6: (0.24, 0.175)}
TOLERANCE = 0.03


@pytest.mark.parametrize("n", sorted(REFERENCE))
def test_size_statistics_match_the_reference_sampler(n):
    figures = random_figures(np.random.default_rng([2024, n]), n, 2000)
    classes = size_classes(figures.size)
    medium, same = REFERENCE[n]
    assert abs(np.mean(classes == 1) - medium) <= TOLERANCE
    assert abs(np.mean((classes == classes[:, :1]).all(axis=1)) - same) <= TOLERANCE
    assert not overlapping(figures).any()
    assert np.all(figures.x - figures.size / 2 >= 0) and np.all(figures.x + figures.size / 2 <= 1)


def test_vectorised_overlap_agrees_with_the_pairwise_test():
    rng = np.random.default_rng(5)
    n = 20_000
    sa, sb = rng.integers(0, 3, n), rng.integers(0, 3, n)
    xa, ya, xb, yb = rng.random((4, n))
    za, zb = rng.uniform(0.05, 0.6, (2, n))
    expected = [overlaps(Footprint(int(sa[i]), xa[i], ya[i], za[i]), Footprint(int(sb[i]), xb[i], yb[i], zb[i])) for i in range(n)]
    assert np.array_equal(overlap(sa, xa, ya, za, sb, xb, yb, zb), np.array(expected))


def test_shrinking_persists_for_the_rest_of_the_figure():
    """Later objects of crowded figures are smaller: the shrunk size range is kept, not reset."""
    figures = random_figures(np.random.default_rng(7), 6, 3000)
    assert figures.size[:, -1].mean() < figures.size[:, 0].mean() - 0.02


def test_boosted_figures_never_overlap():
    rng = np.random.default_rng(3)
    figures = random_figures(rng, 6, 2000)
    edited, valid = boost(rng, figures, (("same_shape", 0.5), ("same_size", 0.5)))
    assert not overlapping(edited.take(np.flatnonzero(valid))).any()
    assert 0 < valid.mean() < 1


def test_sampled_figures_have_the_wanted_label():
    clause = parse_concept("6_pair1_same_shape_pair2_not_same_color")
    for label in (True, False):
        scenes = sample_scenes(np.random.default_rng(1), clause, label, 20)
        assert all(bool(clause.evaluate(scene_codes(s))[0]) == label for s in scenes)


def test_six_object_two_pair_clauses_follow_the_reference_negation_patterns():
    """Pix2Code writes 6_pair_2_1 with [[F], [F]] and [[F], [T]] only: never both pairs negated."""
    group = enumerate_group("6_pair_2_1")
    assert len(group) == 26  # 10 unnegated multisets + 16 with exactly one negated pair
    assert not any(all(slot.literals[0].negated for slot in clause.slots) for clause in group)
    assert len(enumerate_group("4_pair_2_1")) == 36  # 4 objects: every pattern
    listing = load_concepts()
    for entry in listing.train + listing.test:
        if entry.group == "6_pair_2_1":
            assert not all(slot.literals[0].negated for slot in parse_concept(entry.id).slots), entry.id


def test_figure_codes_are_the_figures_attributes():
    figures = random_figures(np.random.default_rng(0), 3, 10)
    codes = figure_codes(figures)
    assert np.array_equal(codes.shape, figures.shape) and np.array_equal(codes.size, size_classes(figures.size))
