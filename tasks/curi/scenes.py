"""CURI's scene world: CLEVR objects and scenes, as dataclasses and as padded arrays.

CURI renders its scenes with CLEVR's generator (``image_generation/render_images.py``) at
240x160 with 2..5 objects; its concepts read the objects' attributes and the location bins of
their projected centres. This module holds the attribute tables, the scene types and
:class:`SceneBatch`, the padded-array form concepts are evaluated on; the sampler lives in
:mod:`tasks.curi.sampler`, the projections it and the renderer share in
:mod:`tasks.curi.silhouettes`.

Location bins are CURI's: floor(px / 30) and floor(py / 20) with the origin at the top-left
corner, so 0..7. CURI's grammar names them with the constants 1..8, an off-by-one quirk kept for
fidelity: bin 0 is never named and the constant 8 never equals a bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tasks.curi import camera as cam

SHAPES = ("cube", "sphere", "cylinder")
COLORS = ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow")
COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "gray": (87, 87, 87),
    "red": (173, 35, 35),
    "blue": (42, 75, 215),
    "green": (29, 105, 20),
    "brown": (129, 74, 25),
    "purple": (129, 38, 192),
    "cyan": (41, 208, 208),
    "yellow": (255, 238, 51),
}
MATERIALS = ("rubber", "metal")
SIZES = ("large", "small")
SIZE_VALUES = (0.7, 0.35)

IMAGE_WIDTH, IMAGE_HEIGHT, DEPTH_NORM = 240, 160, 16
MIN_OBJECTS, MAX_OBJECTS = 2, 5
LOCATION_BINS = 8
X_BIN_WIDTH = IMAGE_WIDTH // LOCATION_BINS  # 30 px
Y_BIN_HEIGHT = IMAGE_HEIGHT // LOCATION_BINS  # 20 px

# CLEVR's placement parameters (render_images.py defaults).
GROUND_EXTENT = 3.0
MIN_DISTANCE = 0.25
MARGIN = 0.4
MAX_RETRIES = 50

# A CLEVR asset of "size" r: a sphere of radius r, a cylinder of radius r and height 2r, a cube
# of half-side r / sqrt(2); each rests on the ground, so its centre is at height = half-extent.
SHAPE_SCALE = (1.0 / np.sqrt(2.0), 1.0, 1.0)

CUBE, SPHERE, CYLINDER = 0, 1, 2


_HALF_EXTENT = np.outer(SHAPE_SCALE, SIZE_VALUES)  # [shape, size]


def half_extent(shape: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Half-extent (= centre height) of objects given shape and size indices (any shape array)."""
    return _HALF_EXTENT[shape, size]


@dataclass(frozen=True)
class CuriObject:
    """One CLEVR object with CURI's attributes and its projection in the 240x160 image.

    ``x``, ``y`` are CLEVR's ``3d_coords`` on the ground plane, ``rotation`` is in degrees,
    (``px``, ``py``, ``depth``) are CLEVR's ``pixel_coords`` (top-left origin, camera depth).
    """

    shape: str
    color: str
    material: str
    size: str
    x: float
    y: float
    rotation: float
    px: int
    py: int
    depth: float

    @property
    def xbin(self) -> int:
        """CURI's x location bin, 0..7 (the grammar's constants are 1..8; see the module notes)."""
        return int(self.px) // X_BIN_WIDTH

    @property
    def ybin(self) -> int:
        """CURI's y location bin, 0..7 (the grammar's constants are 1..8; see the module notes)."""
        return int(self.py) // Y_BIN_HEIGHT


@dataclass(frozen=True)
class CuriScene:
    """A scene: its objects in sampling order, and the (jittered) camera location it was shot from.

    The camera defaults to CLEVR's un-jittered camera, so scenes built by hand render sensibly;
    the pixel coordinates of sampled objects are those of the scene's own camera.
    """

    objects: tuple[CuriObject, ...]
    camera: tuple[float, float, float] = cam.BASE_LOCATION


def _check_index_array(name: str, values: np.ndarray, n_values: int, mask: np.ndarray) -> None:
    live = values[mask]
    if live.size and (live.min() < 0 or live.max() >= n_values):
        raise ValueError(f"SceneBatch.{name} holds indices outside 0..{n_values - 1}")
    if np.any(values[~mask] != -1):
        raise ValueError(f"SceneBatch.{name} must be -1 in padding slots")


@dataclass(frozen=True)
class SceneBatch:
    """N scenes as padded (N, MAX_OBJECTS) arrays so concepts can be evaluated on millions at once.

    Integer attributes index :data:`SHAPES`, :data:`COLORS`, :data:`MATERIALS`, :data:`SIZES`;
    slots past a scene's ``n_objects`` are padding (-1, or nan for floats). ``camera`` is each
    scene's camera location (N, 3).
    """

    n_objects: np.ndarray
    shape: np.ndarray
    color: np.ndarray
    material: np.ndarray
    size: np.ndarray
    px: np.ndarray
    py: np.ndarray
    depth: np.ndarray
    rotation: np.ndarray
    x: np.ndarray
    y: np.ndarray
    camera: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        n = np.asarray(self.n_objects)
        if n.ndim != 1:
            raise ValueError(f"SceneBatch.n_objects must be 1-D, got shape {n.shape}")
        if n.size and (n.min() < 0 or n.max() > MAX_OBJECTS):
            raise ValueError(f"SceneBatch.n_objects must lie in 0..{MAX_OBJECTS}")
        casts = {
            "n_objects": np.int8,
            "shape": np.int8,
            "color": np.int8,
            "material": np.int8,
            "size": np.int8,
            "px": np.int16,
            "py": np.int16,
            "depth": np.float32,
            "rotation": np.float32,
            "x": np.float32,
            "y": np.float32,
        }
        for name, dtype in casts.items():
            value = np.asarray(getattr(self, name))
            expected = (n.size,) if name == "n_objects" else (n.size, MAX_OBJECTS)
            if value.shape != expected:
                raise ValueError(f"SceneBatch.{name} must have shape {expected}, got {value.shape}")
            object.__setattr__(self, name, value.astype(dtype, copy=False))
        if self.camera is None:
            camera = np.broadcast_to(np.asarray(cam.BASE_LOCATION, dtype=np.float32), (n.size, 3))
        else:
            camera = np.asarray(self.camera, dtype=np.float32)
            if camera.shape != (n.size, 3):
                raise ValueError(f"SceneBatch.camera must have shape {(n.size, 3)}, got {camera.shape}")
        object.__setattr__(self, "camera", camera)
        mask = self.mask
        for name, n_values in (
            ("shape", len(SHAPES)),
            ("color", len(COLORS)),
            ("material", len(MATERIALS)),
            ("size", len(SIZES)),
        ):
            _check_index_array(name, getattr(self, name), n_values, mask)

    @classmethod
    def unchecked(cls, **fields: np.ndarray) -> SceneBatch:
        """A batch from arrays already validated once (e.g. a checksummed cache), skipping the
        checks that cost a second per million scenes."""
        batch = object.__new__(cls)
        for name in _FIELDS:
            object.__setattr__(batch, name, fields[name])
        return batch

    def __len__(self) -> int:
        return int(self.n_objects.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """(N, MAX_OBJECTS) bool: which slots hold an object."""
        return np.arange(MAX_OBJECTS)[None, :] < self.n_objects[:, None]

    @property
    def xbin(self) -> np.ndarray:
        """(N, MAX_OBJECTS) int8 CURI x bins 0..7, -1 in padding (grammar constants are 1..8)."""
        return np.where(self.mask, self.px // X_BIN_WIDTH, -1).astype(np.int8)

    @property
    def ybin(self) -> np.ndarray:
        """(N, MAX_OBJECTS) int8 CURI y bins 0..7, -1 in padding (grammar constants are 1..8)."""
        return np.where(self.mask, self.py // Y_BIN_HEIGHT, -1).astype(np.int8)

    def scene(self, i: int) -> CuriScene:
        """Scene ``i`` as a :class:`CuriScene` (negative indices count from the end)."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"scene index {i} out of range for a batch of {n}")
        objects = tuple(
            CuriObject(
                shape=SHAPES[self.shape[i, k]],
                color=COLORS[self.color[i, k]],
                material=MATERIALS[self.material[i, k]],
                size=SIZES[self.size[i, k]],
                x=float(self.x[i, k]),
                y=float(self.y[i, k]),
                rotation=float(self.rotation[i, k]),
                px=int(self.px[i, k]),
                py=int(self.py[i, k]),
                depth=float(self.depth[i, k]),
            )
            for k in range(int(self.n_objects[i]))
        )
        return CuriScene(objects, tuple(float(c) for c in self.camera[i]))

    def scenes(self) -> list[CuriScene]:
        return [self.scene(i) for i in range(len(self))]

    def take(self, indices: Sequence[int] | np.ndarray) -> SceneBatch:
        """The scenes at ``indices`` (any integer index array or boolean mask), in that order."""
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.intp)
        elif idx.dtype != bool and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"SceneBatch.take needs integer indices or a boolean mask, got dtype {idx.dtype}")
        return SceneBatch(**{name: getattr(self, name)[idx] for name in _FIELDS})

    @staticmethod
    def concatenate(batches: Sequence[SceneBatch]) -> SceneBatch:
        """One batch holding the scenes of ``batches`` in order."""
        if not batches:
            raise ValueError("SceneBatch.concatenate needs at least one batch")
        return SceneBatch(**{name: np.concatenate([getattr(b, name) for b in batches]) for name in _FIELDS})

    @staticmethod
    def from_scenes(scenes: Sequence[CuriScene]) -> SceneBatch:
        """Pack :class:`CuriScene` objects into a batch (the inverse of :meth:`scene`)."""
        n = len(scenes)
        ints = {name: np.full((n, MAX_OBJECTS), -1, dtype=np.int16) for name in _INT_FIELDS}
        floats = {name: np.full((n, MAX_OBJECTS), np.nan, dtype=np.float32) for name in _FLOAT_FIELDS}
        counts = np.zeros(n, dtype=np.int8)
        camera = np.zeros((n, 3), dtype=np.float32)
        tables = {"shape": SHAPES, "color": COLORS, "material": MATERIALS, "size": SIZES}
        for i, scene in enumerate(scenes):
            if len(scene.objects) > MAX_OBJECTS:
                raise ValueError(f"scene {i} has {len(scene.objects)} objects; at most {MAX_OBJECTS} fit")
            counts[i] = len(scene.objects)
            camera[i] = scene.camera
            for k, obj in enumerate(scene.objects):
                for name, table in tables.items():
                    value = getattr(obj, name)
                    if value not in table:
                        raise ValueError(f"scene {i} object {k}: unknown {name} {value!r}; expected one of {table}")
                    ints[name][i, k] = table.index(value)
                ints["px"][i, k], ints["py"][i, k] = obj.px, obj.py
                for name in _FLOAT_FIELDS:
                    floats[name][i, k] = getattr(obj, name)
        return SceneBatch(n_objects=counts, camera=camera, **ints, **floats)


_INT_FIELDS = ("shape", "color", "material", "size", "px", "py")
_FLOAT_FIELDS = ("depth", "rotation", "x", "y")
_FIELDS = ("n_objects", *_INT_FIELDS, *_FLOAT_FIELDS, "camera")


def concatenate(batches: Sequence[SceneBatch]) -> SceneBatch:
    """Module-level alias of :meth:`SceneBatch.concatenate`."""
    return SceneBatch.concatenate(batches)
