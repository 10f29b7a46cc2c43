"""The extractor's figures on rendered scenes with ground truth (validation and benchmark).

Predicted objects are matched to true ones one-to-one by centre distance (closest pairs first,
at most 12 px apart: CURI's centres are never closer than 11.6 px, Kandinsky's much further).
Figures: object count exact (share of scenes); each attribute correct (share of matched
objects); per scene, the count exact *and* every object's categorical attributes right (shape,
colour, material, size: the issue's figure) and, stricter, every attribute right, location bins
included (a centre near a bin edge is a coin toss there); mean box IoU of matched objects
(boxes from the coordinate Gaussians' means; the pixel tokens are those rounded) and of the
rounded tokens; centre error in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.pix2code.perception.spec import FamilySpec

MATCH_DISTANCE = 12.0
BINS = ("xbin", "ybin")


@dataclass
class Prediction:
    """One batch of predictions in the ground truth's terms: per scene lists of objects with
    ``boxes`` (n, 4) from Gaussian means, ``token_boxes`` (n, 4) pixel tokens, ``centres`` (n, 2)
    and ``attributes`` {name: (n,) codes}."""

    boxes: list[np.ndarray]
    token_boxes: list[np.ndarray]
    centres: list[np.ndarray]
    attributes: list[dict[str, np.ndarray]]


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes (n, 4) and (n, 4), row by row."""
    x0, y0 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x1, y1 = np.minimum(a[:, 2], b[:, 2]), np.minimum(a[:, 3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def match(pred: np.ndarray, true: np.ndarray) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of centres (n, 2) and (m, 2), closest pairs first."""
    if len(pred) == 0 or len(true) == 0:
        return []
    d = np.linalg.norm(pred[:, None, :] - true[None, :, :], axis=-1)
    pairs, used_p, used_t = [], set(), set()
    for flat in np.argsort(d, axis=None):
        i, j = divmod(int(flat), d.shape[1])
        if d[i, j] > MATCH_DISTANCE:
            break
        if i not in used_p and j not in used_t:
            pairs.append((i, j))
            used_p.add(i)
            used_t.add(j)
    return pairs


def figures(spec: FamilySpec, pred: Prediction, truth) -> dict[str, float]:
    """The extractor's figures on a batch (``truth``: :class:`~agents.pix2code.perception.data.Truth`)."""
    names = spec.numeric_names
    box_cols = [names.index(c) for c in ("x0", "y0", "x1", "y1")]
    centre_cols = [names.index("u"), names.index("v")]
    attributes = list(spec.attributes)
    categorical = [a for a in attributes if a not in BINS]
    count_ok, scene_ok, categorical_ok = [], [], []
    correct = {a: 0 for a in attributes}
    matched, true_total, ious, token_ious, errors = 0, 0, [], [], []
    for b in range(len(truth)):
        n = int(truth.n_objects[b])
        true_boxes = truth.numerics[b, :n][:, box_cols]
        true_centres = truth.numerics[b, :n][:, centre_cols]
        pairs = match(pred.centres[b], true_centres)
        true_total += n
        matched += len(pairs)
        ok = len(pred.centres[b]) == n
        count_ok.append(ok)
        all_right = categorical_right = ok and len(pairs) == n
        for i, j in pairs:
            for a in attributes:
                right = int(pred.attributes[b][a][i]) == int(truth.attributes[a][b, j])
                correct[a] += right
                all_right &= right
                if a in categorical:
                    categorical_right &= right
        if pairs:
            pi, tj = np.array(pairs).T
            ious.extend(iou(pred.boxes[b][pi], true_boxes[tj]))
            token_ious.extend(iou(pred.token_boxes[b][pi].astype(float), true_boxes[tj]))
            errors.extend(np.linalg.norm(pred.centres[b][pi] - true_centres[tj], axis=-1))
        scene_ok.append(all_right)
        categorical_ok.append(categorical_right)
    out = {
        "scenes": float(len(truth)),
        "count_exact": float(np.mean(count_ok)),
        "matched_objects": matched / max(true_total, 1),
        "categorical_scene": float(np.mean(categorical_ok)),
        "all_attributes_scene": float(np.mean(scene_ok)),
        "box_iou": float(np.mean(ious)) if ious else 0.0,
        "box_iou_tokens": float(np.mean(token_ious)) if token_ious else 0.0,
        "centre_error_px": float(np.mean(errors)) if errors else float("nan"),
        "centre_error_p99_px": float(np.percentile(errors, 99)) if errors else float("nan"),
    }
    for a in attributes:
        out[f"{a}_accuracy"] = correct[a] / max(matched, 1)
    return out


def from_decoded(spec: FamilySpec, decoded) -> Prediction:
    """Predictions of :meth:`ExtractorNet.decode` output, per scene."""
    slot = {s.name: i for i, s in enumerate(spec.slots)}
    boxes, token_boxes, centres, attrs = [], [], [], []
    for b in range(len(decoded.n_objects)):
        n = int(decoded.n_objects[b])
        mu = decoded.mu[b, :n]
        boxes.append(mu[:, [slot["xmin"], slot["ymin"], slot["xmax"], slot["ymax"]]].astype(np.float64))
        token_boxes.append(decoded.tokens[b, :n][:, [slot["xmin"], slot["ymin"], slot["xmax"], slot["ymax"]]])
        centres.append(mu[:, [slot["cx"], slot["cy"]]].astype(np.float64))
        attrs.append({s.attribute: decoded.tokens[b, :n, i] for i, s in enumerate(spec.slots) if s.attribute})
    return Prediction(boxes, token_boxes, centres, attrs)


THRESHOLDS = {
    "count_exact": 0.995,
    "categorical_scene": 0.98,
    "box_iou": 0.9,
}
BIN_THRESHOLD = 0.98
ATTRIBUTE_THRESHOLD = 0.995


def targets(spec: FamilySpec) -> dict[str, float]:
    """The issue's floors for every figure of a family."""
    out = dict(THRESHOLDS)
    for a in spec.attributes:
        out[f"{a}_accuracy"] = BIN_THRESHOLD if a in BINS else ATTRIBUTE_THRESHOLD
    return out
