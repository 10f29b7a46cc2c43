"""CLEVR's camera, so that CURI scenes project to the pixel coordinates CURI's location bins were cut from.

CLEVR (``image_generation/render_images.py`` with ``data/base_scene.blend``) renders through a
perspective camera that a Track-To constraint keeps aimed at the world origin. Its values are
not written in the repository (they live inside the .blend file); we recovered them from
CLEVR's own scene files:

* Every CLEVR scene records the same ``directions`` (``right`` = (0.65631, 0.75449, 0)),
  i.e. the camera's yaw before jitter, and that is exactly the bearing of Blender 2.7x's
  startup camera location (7.4811, -6.5076, 5.3437) seen from the origin. CLEVR computes the
  directions from ``matrix_world`` before Blender re-evaluates the constraint, so they stay
  those of the un-jittered camera.
* Fitting location, orientation and focal ratio to the five objects of ``CLEVR_val_000000``
  (``3d_coords`` -> ``pixel_coords`` at 480x320) reproduces every pixel coordinate and depth
  to rounding (max error 0.23 px, 0.006 depth) with a camera at (7.854, -6.220, 4.946), i.e. the
  base location plus a jitter within CLEVR's +-0.5 box, aimed at the origin with no roll, and
  focal length / sensor width = 1.0947 (CLEVR: 35 mm lens, 32 mm sensor, horizontal fit).

The often-quoted Blender 2.8 startup values (7.3589, -6.9258, 4.9583; yaw 46.69 deg) do not fit
CLEVR's scene files (their yaw contradicts the recorded ``directions``).

Conventions: world z is up; pixel coordinates are continuous with the origin at the top-left
corner of the image and pixel (i, j) centred on (i + 0.5, j + 0.5); ``depth`` is the distance
along the optical axis (Blender's ``world_to_camera_view`` z, CURI's ``pixel_coords[2]``).
"""

from __future__ import annotations

import numpy as np

BASE_LOCATION = (7.4811, -6.5076, 5.3437)
TARGET = (0.0, 0.0, 0.0)
JITTER = 0.5  # CLEVR's --camera_jitter: uniform in [-0.5, 0.5] on each axis, once per image
LENS_MM = 35.0
SENSOR_WIDTH_MM = 32.0
FOCAL_RATIO = LENS_MM / SENSOR_WIDTH_MM  # focal length in units of the image width


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def camera_axes(location: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, forward) unit vectors of cameras at ``location`` (..., 3) aimed at the origin.

    Track-To with world z as the up axis: no roll, so ``right`` lies in the ground plane.
    """
    location = np.asarray(location, dtype=np.float64)
    forward = _unit(np.asarray(TARGET) - location)
    right = _unit(np.cross(forward, np.array([0.0, 0.0, 1.0])))
    up = np.cross(right, forward)
    return right, up, forward


def _ground_directions() -> tuple[tuple[float, float], tuple[float, float]]:
    right, _, forward = camera_axes(np.asarray(BASE_LOCATION))
    behind = _unit(forward[:2])
    return (float(right[0]), float(right[1])), (float(behind[0]), float(behind[1]))


# CLEVR's scene "directions" on the ground plane (from the un-jittered camera): the margin rule
# between objects is measured along these.
RIGHT_DIRECTION, BEHIND_DIRECTION = _ground_directions()


def focal_pixels(width: int) -> float:
    """Focal length in pixels for an image ``width`` pixels wide (square pixels)."""
    return FOCAL_RATIO * width


def project(
    points: np.ndarray, location: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project world ``points`` (..., 3) through cameras at ``location`` (broadcastable, (..., 3)).

    Returns continuous pixel coordinates ``(u, v)`` (top-left origin) and the camera depth.
    CLEVR's integer pixel coordinates are ``round(u)``, ``round(v)``.
    """
    right, up, forward = camera_axes(location)
    rel = np.asarray(points, dtype=np.float64) - np.asarray(location, dtype=np.float64)
    depth = np.einsum("...k,...k->...", rel, forward)
    f = focal_pixels(width)
    u = 0.5 * width + f * np.einsum("...k,...k->...", rel, right) / depth
    v = 0.5 * height - f * np.einsum("...k,...k->...", rel, up) / depth
    return u, v, depth
