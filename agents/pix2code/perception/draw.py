"""Pictures of what the extractor read: boxes, centres and labels drawn on images."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from agents.pix2code.perception.extractor import Detections

PALETTE = [(255, 64, 64), (64, 200, 255), (255, 220, 0), (120, 255, 120), (255, 120, 255), (255, 160, 60)]
#: attributes shown in a label, shortest first (location bins are shown as "x3 y5")
SHORT = ("size", "color", "material", "shape")


def label(det: Detections, i: int) -> str:
    attrs = det.labels[i]
    words = [attrs[a] for a in SHORT if a in attrs]
    if "xbin" in attrs:
        words.append(f"x{attrs['xbin']}y{attrs['ybin']}")
    return " ".join(words) + f" {det.confidence[i]:.2f}"


def draw(image: np.ndarray, det: Detections, scale: int = 2, labels: bool = True) -> Image.Image:
    """``image`` (H, W, 3) or (3, H, W) uint8 with the detections drawn, enlarged ``scale`` times
    (labels need the room). Low-confidence objects (< 0.9) get a dashed look: a thinner box."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] == 3 and array.shape[-1] != 3:
        array = array.transpose(1, 2, 0)
    picture = Image.fromarray(array).resize((array.shape[1] * scale, array.shape[0] * scale), Image.NEAREST)
    pen = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(9, 5 * scale))
    for i, box in enumerate(det.boxes):
        colour = PALETTE[i % len(PALETTE)]
        x0, y0, x1, y1 = (float(v) * scale for v in box)
        width = 2 if det.confidence[i] >= 0.9 else 1
        pen.rectangle((x0, y0, x1, y1), outline=colour, width=width)
        cx, cy = (float(v) * scale for v in det.centres[i])
        pen.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=colour)
        if labels:
            text = label(det, i)
            ty = y0 - font.size - 2 if y0 - font.size - 2 >= 0 else y1 + 1
            tw = pen.textlength(text, font=font)
            tx = min(max(0.0, x0), picture.width - tw - 1)
            pen.rectangle((tx, ty, tx + tw + 2, ty + font.size + 1), fill=(0, 0, 0))
            pen.text((tx + 1, ty), text, fill=colour, font=font)
    return picture


def draw_boxes(images: np.ndarray, detections: list[Detections]) -> np.ndarray:
    """(N, 3, H, W) images with boxes and centres drawn at their own size (for episode grids)."""
    out = np.array(images, copy=True)
    for n, det in enumerate(detections):
        picture = draw(out[n], det, scale=1, labels=False)
        out[n] = np.asarray(picture).transpose(2, 0, 1)
    return out


def agent_annotation(agent_name: str, modality: str | None):
    """For ``pix2code show --agent NAME [--modality M]``: a function (env id, episode) →
    (episode, query predictions, notes) that fits the agent on the episode's support, predicts its
    queries and, for the Pix2Code agent on pixels, draws the extractor's boxes on every image."""

    def annotate(env_id: str, episode):
        import dataclasses

        from agents.registry import make_agent

        options = {} if modality is None else {"modality": modality}
        agent = make_agent(agent_name, env_id=env_id, **options)
        obs = {"support_images": episode.support_images, "support_labels": episode.support_labels,
               "query_images": episode.query_images}
        if episode.support_objects is not None and modality != "image":
            obs.update(support_objects=episode.support_objects, support_object_mask=episode.support_object_mask,
                       query_objects=episode.query_objects, query_object_mask=episode.query_object_mask)
        classifier = agent.fit({k: v for k, v in obs.items() if k.startswith("support")})
        predictions = np.asarray(classifier.predict({k: v for k, v in obs.items() if k.startswith("query")}))
        notes = {"agent": f"{agent_name} ({modality or agent.modalities[0]})", "program": classifier.program,
                 "explanation": classifier.explanation,
                 "query accuracy": f"{float(np.mean(predictions == episode.query_labels)):.3f}"}
        if agent_name == "pix2code" and modality == "image":
            from agents.pix2code.dsl import domain_for_env_id
            from agents.pix2code.perception import load_extractor

            extractor = load_extractor(domain_for_env_id(env_id).name)
            boxed = {}
            for part in ("support", "query"):
                images = getattr(episode, f"{part}_images")
                boxed[f"{part}_images"] = draw_boxes(images, extractor.detect(images))
            episode = dataclasses.replace(episode, **boxed)
            notes["boxes"] = "drawn: the extractor's objects on every image"
        return episode, predictions, notes

    return annotate
