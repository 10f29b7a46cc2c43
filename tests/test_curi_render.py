"""The CURI renderer: image format, geometry agreement with the scenes, readable attributes."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from tasks.curi import camera as cam
from tasks.curi.render import background, id_buffer, render_batch, render_scene, render_scenes, visible_pixels
from tasks.curi.scenes import (
    COLOR_RGB,
    COLORS,
    MATERIALS,
    SHAPES,
    SIZES,
    CuriObject,
    CuriScene,
    SceneBatch,
    half_extent,
)
from tasks.curi.sampler import sample_scenes

_HUES = {c: colorsys.rgb_to_hsv(*(np.array(COLOR_RGB[c]) / 255))[0] for c in COLORS if c != "gray"}


def _colour_name(rgb: np.ndarray) -> str:
    """What a viewer would call a colour: gray if unsaturated, else the palette colour of nearest hue."""
    h, s, _ = colorsys.rgb_to_hsv(*(np.asarray(rgb, dtype=float) / 255))
    if s < 0.25:
        return "gray"
    return min(_HUES, key=lambda c: min(abs(h - _HUES[c]), 1 - abs(h - _HUES[c])))


def _placed(shape: str, color: str, material: str, size: str, x: float, y: float, rotation: float = 30.0
            ) -> CuriObject:
    """An object with the pixel coordinates the un-jittered camera gives it."""
    h = float(half_extent(np.asarray(SHAPES.index(shape)), np.asarray(SIZES.index(size))))
    u, v, d = cam.project(np.array([x, y, h]), np.asarray(cam.BASE_LOCATION), 240, 160)
    return CuriObject(shape, color, material, size, x, y, rotation, int(np.round(u)), int(np.round(v)), float(d))


@pytest.fixture(scope="module")
def scenes() -> SceneBatch:
    return sample_scenes(np.random.default_rng(31), 120)


@pytest.fixture(scope="module")
def images(scenes: SceneBatch) -> np.ndarray:
    return render_batch(scenes)


def test_format_and_sizes(scenes: SceneBatch, images: np.ndarray) -> None:
    assert images.shape == (len(scenes), 160, 240, 3) and images.dtype == np.uint8
    one = render_scene(scenes.scene(0))
    assert one.shape == (160, 240, 3) and one.dtype == np.uint8
    assert np.array_equal(one, images[0])
    assert np.array_equal(render_scenes(scenes.scenes()[:3]), images[:3])
    for height, width in ((32, 48), (64, 64), (320, 480), (427, 640)):
        assert render_scene(scenes.scene(1), height, width).shape == (height, width, 3)
    assert render_batch(scenes.take([])).shape == (0, 160, 240, 3)


def test_deterministic(scenes: SceneBatch, images: np.ndarray) -> None:
    assert np.array_equal(render_batch(scenes.take(np.arange(5))), images[:5])


def test_a_scene_draws_the_same_in_any_batch(scenes: SceneBatch, images: np.ndarray) -> None:
    # 120 scenes render in five vectorised passes of 24 scenes: those at the passes' ends and
    # starts draw exactly as they do alone or in another batch
    for i in (23, 24, 71, 72, 119):
        assert np.array_equal(render_scene(scenes.scene(i)), images[i]), i
    assert np.array_equal(render_scenes(scenes.scenes()[20:70]), images[20:70])


def test_floor_at_the_corners(images: np.ndarray) -> None:
    floor = background()
    assert floor.shape == (160, 240, 3)
    assert np.all(images[:, 0, 0] == floor[0, 0]) and np.all(images[:, 0, -1] == floor[0, -1])
    assert 90 < floor[0, 0].mean() < 160 and np.ptp(floor[0, 0].astype(int)) <= 4  # mid grey
    empty = render_scene(CuriScene(()))
    assert np.array_equal(empty, floor)


def test_objects_sit_at_their_pixel_coordinates(scenes: SceneBatch) -> None:
    for i in range(40):
        scene = scenes.scene(i)
        ids = id_buffer(scene)
        shown = visible_pixels(scene)
        for k, obj in enumerate(scene.objects):
            alone = visible_pixels(CuriScene((obj,), scene.camera))[0]
            if shown[k] == alone:  # unoccluded: its projected centre shows it
                assert ids[obj.py, obj.px] == k


def test_colour_readable_at_the_centre(scenes: SceneBatch, images: np.ndarray) -> None:
    checked = 0
    for i in range(len(scenes)):
        scene = scenes.scene(i)
        ids = id_buffer(scene)
        shown = visible_pixels(scene)
        for k, obj in enumerate(scene.objects):
            if shown[k] != visible_pixels(CuriScene((obj,), scene.camera))[0]:
                continue
            y0, x0 = max(obj.py - 2, 0), max(obj.px - 2, 0)
            window = images[i, y0 : obj.py + 3, x0 : obj.px + 3][ids[y0 : obj.py + 3, x0 : obj.px + 3] == k]
            assert _colour_name(np.median(window, axis=0)) == obj.color, (i, k, obj)
            checked += 1
    assert checked > 200


def test_metal_is_shinier_than_rubber() -> None:
    def luminance(obj: CuriObject) -> np.ndarray:
        scene = CuriScene((obj,))
        return render_scene(scene)[id_buffer(scene) == 0].astype(float) @ np.array([0.299, 0.587, 0.114])

    for shape in SHAPES:
        for color in COLORS:
            metal, rubber = (
                np.concatenate([luminance(_placed(shape, color, mat, "large", 0.5, -0.5, r)) for r in (0, 45)])
                for mat in ("metal", "rubber")
            )
            assert np.percentile(metal, 99) > np.percentile(rubber, 99), (shape, color)
            assert metal.std() > 1.3 * rubber.std(), (shape, color)


def test_large_objects_cover_four_times_small_ones() -> None:
    ratios = []
    for shape in SHAPES:
        for x, y in ((1.5, -1.5), (0.0, 0.0), (-1.5, 1.5), (-2.0, -1.0)):
            big = visible_pixels(CuriScene((_placed(shape, "red", "rubber", "large", x, y),)))[0]
            small = visible_pixels(CuriScene((_placed(shape, "red", "rubber", "small", x, y),)))[0]
            ratios.append(big / small)
    assert 3.6 < np.mean(ratios) < 4.4
    assert min(ratios) > 3.3 and max(ratios) < 4.7


def test_occlusion_and_id_buffer() -> None:
    front = _placed("cube", "blue", "rubber", "large", 1.5, -1.5)
    back = _placed("sphere", "red", "metal", "small", 0.6, -0.7)  # farther along the same sight line
    scene = CuriScene((back, front))
    ids = id_buffer(scene)
    counts = visible_pixels(scene)
    alone = visible_pixels(CuriScene((back,)))[0]
    assert counts[1] == visible_pixels(CuriScene((front,)))[0]
    assert counts[0] < alone
    assert counts.sum() == np.sum(ids >= 0)


def test_more_objects_than_a_batch_holds() -> None:
    objs = tuple(_placed("sphere", c, m, "small", -2.5 + 0.9 * i, 2.0 - 0.8 * i) for i, (c, m) in
                 enumerate(zip(COLORS, MATERIALS * 4)))
    assert len(objs) == 8
    assert (visible_pixels(CuriScene(objs)) > 0).all()


def test_bad_arguments(scenes: SceneBatch) -> None:
    scene = scenes.scene(0)
    with pytest.raises(ValueError, match="width must lie in 16..640"):
        render_scene(scene, 160, 641)
    with pytest.raises(ValueError, match="height must lie in 16..640"):
        render_scene(scene, 15, 240)
    with pytest.raises(TypeError, match="height must be an int"):
        render_scene(scene, 160.0, 240)
    with pytest.raises(TypeError, match="CuriScene"):
        render_scene(scenes)
    with pytest.raises(TypeError, match="SceneBatch"):
        render_batch([scene])
    with pytest.raises(TypeError, match=r"scenes\[1\] must be a CuriScene"):
        render_scenes([scene, "scene"])
    with pytest.raises(ValueError, match="width"):
        background(160, 1000)
