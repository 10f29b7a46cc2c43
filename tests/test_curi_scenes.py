"""The CURI scene world: representation, CLEVR's camera and the vectorised CLEVR-like sampler."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tasks.curi import camera as cam
from tasks.curi.render import visible_pixels
from tasks.curi.scenes import (
    COLOR_RGB,
    COLORS,
    CUBE,
    DEPTH_NORM,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    MATERIALS,
    MAX_OBJECTS,
    MIN_OBJECTS,
    SHAPES,
    SIZE_VALUES,
    SIZES,
    CuriObject,
    CuriScene,
    SceneBatch,
    concatenate,
    half_extent,
)
from tasks.curi.sampler import VISIBILITY_THRESHOLD, sample_scenes
from tests.reference_data import CURI_REFERENCE, require

REFERENCE = CURI_REFERENCE


@pytest.fixture(scope="module")
def big() -> SceneBatch:
    return sample_scenes(np.random.default_rng(2024), 100_000)


@pytest.fixture(scope="module")
def small() -> SceneBatch:
    return sample_scenes(np.random.default_rng(7), 200)


def test_attributes_match_curi_properties() -> None:
    data = json.loads(require(REFERENCE / "clevr_typed_fol_properties.json").read_text())
    props, meta = data["properties"], data["metadata"]
    assert tuple(props["shapes"]) == SHAPES
    assert tuple(props["materials"]) == MATERIALS
    assert {name: tuple(rgb) for name, rgb in props["colors"].items()} == COLOR_RGB
    assert tuple(props["colors"]) == COLORS
    assert dict(zip(SIZES, SIZE_VALUES)) == props["sizes"]
    assert meta["min_objects"] == MIN_OBJECTS
    assert (meta["image_size"]["x"], meta["image_size"]["y"], meta["image_size"]["z"]) == (
        IMAGE_WIDTH,
        IMAGE_HEIGHT,
        DEPTH_NORM,
    )


def test_camera_is_clevrs() -> None:
    # CLEVR's scenes all record right = (0.6563, 0.7545, 0): the base camera's bearing.
    assert cam.RIGHT_DIRECTION == pytest.approx((0.65631, 0.75449), abs=1e-4)
    assert cam.BEHIND_DIRECTION == pytest.approx((-0.75449, 0.65631), abs=1e-4)
    # CLEVR_val_000000 (public CLEVR v1.0 scene file, 480x320): 3d_coords -> pixel_coords, shot by
    # a camera within the jitter box around the base location, aimed at the origin.
    coords = np.array(
        [[-1.4937, -1.9936, 0.7], [1.5557, -2.1047, 0.7], [-2.3422, -0.5205, 0.35], [-0.8073, 1.9141, 0.7],
         [2.6764, 0.0345, 0.35]]
    )
    pixels = np.array(
        [[119, 131, 10.802], [198, 190, 8.601], [161, 118, 12.373], [282, 100, 12.495], [337, 195, 9.161]]
    )
    location = np.array([7.8541, -6.2199, 4.9457])
    assert np.all(np.abs(location - cam.BASE_LOCATION) <= cam.JITTER)
    u, v, depth = cam.project(coords, location, 480, 320)
    assert np.abs(u - pixels[:, 0]).max() < 0.5
    assert np.abs(v - pixels[:, 1]).max() < 0.5
    assert np.abs(depth - pixels[:, 2]).max() < 0.01


def test_object_counts_uniform(big: SceneBatch) -> None:
    counts = np.bincount(big.n_objects, minlength=MAX_OBJECTS + 1)
    assert counts[:MIN_OBJECTS].sum() == 0
    assert np.allclose(counts[MIN_OBJECTS:] / len(big), 0.25, atol=0.01)


def test_attribute_marginals(big: SceneBatch) -> None:
    m = big.mask
    # colour and material do not affect visibility: uniform
    assert np.allclose(np.bincount(big.color[m]) / m.sum(), 1 / 8, atol=0.005)
    assert np.allclose(np.bincount(big.material[m]) / m.sum(), 1 / 2, atol=0.01)
    # the visibility rule keeps small spheres and cubes out of the far rows: CURI's list implies
    # 53-57.5 % large objects
    large = np.mean(big.size[m] == 0)
    assert 0.52 < large < 0.58
    shares = np.bincount(big.shape[m]) / m.sum()
    assert shares[2] == shares.max() and np.all((shares > 0.27) & (shares < 0.42))
    assert np.all((big.rotation[m] >= 0) & (big.rotation[m] < 360))
    assert np.all(np.abs(big.x[m]) <= 3) and np.all(np.abs(big.y[m]) <= 3)
    # padding
    assert np.all(big.shape[~m] == -1) and np.all(big.px[~m] == -1) and np.all(np.isnan(big.x[~m]))


def test_bins(big: SceneBatch) -> None:
    m = big.mask
    assert np.all((big.xbin[m] >= 0) & (big.xbin[m] <= 7))
    assert np.all((big.ybin[m] >= 0) & (big.ybin[m] <= 7))
    assert np.array_equal(big.xbin[m], big.px[m] // 30)
    assert np.array_equal(big.ybin[m], big.py[m] // 20)
    assert np.all(big.xbin[~m] == -1) and np.all(big.ybin[~m] == -1)
    # CURI's pool implies bins 1..6 common and 7 rare along x, far (1) and near (6, 7) rows rare
    x_share = np.bincount(big.xbin[m], minlength=8) / m.sum()
    y_share = np.bincount(big.ybin[m], minlength=8) / m.sum()
    assert x_share[7] < 0.03 and x_share[0] < 0.03 and np.all(x_share[1:7] > 0.05)
    assert y_share[1] < 0.03 and y_share[6] < 0.05 and y_share[7] < 0.01 and np.all(y_share[2:6] > 0.05)
    obj = big.scene(0).objects[0]
    assert (obj.xbin, obj.ybin) == (obj.px // 30, obj.py // 20)


def test_pixel_coordinates_follow_the_camera(small: SceneBatch) -> None:
    m = small.mask
    h = half_extent(small.shape[m].astype(int), small.size[m].astype(int))
    centres = np.stack([small.x[m], small.y[m], h], axis=1).astype(np.float64)
    cams = np.repeat(small.camera, small.n_objects, axis=0).astype(np.float64)
    u, v, depth = cam.project(centres, cams, 240, 160)
    assert np.abs(u - small.px[m]).max() <= 0.51
    assert np.abs(v - small.py[m]).max() <= 0.51
    assert np.allclose(depth, small.depth[m], atol=1e-3)
    assert np.all(np.abs(small.camera - cam.BASE_LOCATION) <= cam.JITTER + 1e-6)


def test_deterministic_per_seed() -> None:
    a = sample_scenes(np.random.default_rng(11), 3000)
    b = sample_scenes(np.random.default_rng(11), 3000)
    c = sample_scenes(np.random.default_rng(12), 3000)
    for name in ("n_objects", "shape", "color", "material", "size", "px", "py", "camera"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert np.array_equal(a.x, b.x, equal_nan=True)
    assert not np.array_equal(a.x, c.x, equal_nan=True)


def test_spacing_and_margins(big: SceneBatch) -> None:
    sub = big.take(np.arange(20_000))
    raw = np.asarray(SIZE_VALUES)[np.maximum(sub.size, 0)]
    stored = raw / np.where(sub.shape == CUBE, np.sqrt(2), 1.0)
    right, behind = np.array(cam.RIGHT_DIRECTION), np.array(cam.BEHIND_DIRECTION)
    for j in range(MAX_OBJECTS):
        for k in range(j + 1, MAX_OBJECTS):
            both = sub.n_objects > k
            dx = (sub.x[both, k] - sub.x[both, j]).astype(np.float64)
            dy = (sub.y[both, k] - sub.y[both, j]).astype(np.float64)
            # CLEVR measures the newer object with its raw size, the earlier one with its radius
            gap = np.hypot(dx, dy) - raw[both, k] - stored[both, j]
            assert gap.min() >= 0.25 - 1e-5
            assert np.abs(dx * right[0] + dy * right[1]).min() >= 0.4 - 1e-5
            assert np.abs(dx * behind[0] + dy * behind[1]).min() >= 0.4 - 1e-5


def test_every_object_visible_in_the_renderer(small: SceneBatch) -> None:
    """The visibility rule holds in the rendered image, to the ~12 px by which a pixel count of a
    small object can fall short of its area."""
    for i in range(len(small)):
        counts = visible_pixels(small.scene(i))
        assert counts.min() >= VISIBILITY_THRESHOLD - 12, (i, counts)


def test_batch_round_trip(small: SceneBatch) -> None:
    scenes = small.scenes()
    again = SceneBatch.from_scenes(scenes)
    for name in ("n_objects", "shape", "color", "material", "size", "px", "py", "camera"):
        assert np.array_equal(getattr(again, name), getattr(small, name))
    assert np.allclose(again.x, small.x, equal_nan=True)
    assert isinstance(scenes[0], CuriScene) and isinstance(scenes[0].objects[0], CuriObject)
    assert len(scenes[3].objects) == small.n_objects[3]
    part = small.take([5, 1])
    assert len(part) == 2 and part.scene(0) == small.scene(5) and part.scene(-1) == small.scene(1)
    joined = concatenate([part, small.take(np.arange(3))])
    assert len(joined) == 5 and joined.scene(2) == small.scene(0)
    assert SceneBatch.concatenate([small]).scene(7) == small.scene(7)
    assert small.mask.sum() == small.n_objects.sum()


def test_empty_and_single() -> None:
    assert len(sample_scenes(np.random.default_rng(0), 0)) == 0
    one = sample_scenes(np.random.default_rng(0), 1)
    assert len(one) == 1 and MIN_OBJECTS <= one.n_objects[0] <= MAX_OBJECTS


def test_bad_arguments(small: SceneBatch) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        sample_scenes(rng, -1)
    with pytest.raises(TypeError, match="n must be an int"):
        sample_scenes(rng, 2.5)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        sample_scenes(np.random.RandomState(0), 3)
    with pytest.raises(IndexError):
        small.scene(len(small))
    with pytest.raises(ValueError, match="shape"):
        SceneBatch(**{**_fields(small), "shape": small.shape[:, :3]})
    bad_color = small.color.copy()
    bad_color[0, 0] = 8
    with pytest.raises(ValueError, match="color"):
        SceneBatch(**{**_fields(small), "color": bad_color})
    weird = CuriObject("cone", "red", "rubber", "large", 0.0, 0.0, 0.0, 120, 80, 11.0)
    with pytest.raises(ValueError, match="unknown shape 'cone'"):
        SceneBatch.from_scenes([CuriScene((weird,))])
    with pytest.raises(ValueError, match="at least one batch"):
        concatenate([])


def _fields(batch: SceneBatch) -> dict:
    names = ("n_objects", "shape", "color", "material", "size", "px", "py", "depth", "rotation", "x", "y", "camera")
    return {name: getattr(batch, name) for name in names}
