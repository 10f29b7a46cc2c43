"""Episode grids: support positives and negatives framed apart, then the query images.

A person judging a concept looks at a grid, not at arrays; ``render()`` and ``pix2code show``
both draw this one picture.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

POSITIVE = (46, 160, 67)
NEGATIVE = (200, 55, 55)
UNLABELED = (140, 140, 140)
PAPER = (255, 255, 255)
INK = (30, 30, 30)
FRAME, GAP, HEADER, LINE = 4, 6, 22, 18


def episode_grid(
    episode,
    *,
    predictions: np.ndarray | None = None,
    columns: int = 10,
    max_queries: int = 50,
    title: str | None = None,
    caption: str | None = None,
) -> np.ndarray:
    """Draw an episode (needs its images) as an ``(H, W, 3)`` uint8 picture, ``title`` above and
    ``caption`` (e.g. what an agent learned) below.

    Query frames are grey until ``predictions`` are given; then each frame shows the true label's
    colour and a corner tag with the prediction (green when right, red when wrong).
    """
    if episode.support_images is None:
        raise ValueError("this episode has no images (modality='scene'); build it with modality 'image' or 'both'")
    support, labels = episode.support_images, episode.support_labels
    queries = episode.query_images[:max_queries]
    _, _, height, width = support.shape
    cell_w, cell_h = width + 2 * FRAME + GAP, height + 2 * FRAME + GAP
    sections = [
        ("Support: positives", support[labels == 1], [POSITIVE] * int((labels == 1).sum()), None),
        ("Support: negatives", support[labels == 0], [NEGATIVE] * int((labels == 0).sum()), None),
    ]
    if predictions is None:
        sections.append((f"Query ({episode.n_query} images)", queries, [UNLABELED] * len(queries), None))
    else:
        truth = episode.query_labels[: len(queries)]
        frames = [POSITIVE if t else NEGATIVE for t in truth]
        tags = [(int(p), bool(p == t)) for p, t in zip(predictions[: len(queries)], truth)]
        sections.append((f"Query: frame = truth, tag = prediction ({episode.n_query} images)", queries, frames, tags))

    rows = sum(HEADER + cell_h * -(-len(images) // columns) for _, images, _, _ in sections)
    font = ImageFont.load_default(size=14)
    canvas_width = GAP + columns * cell_w
    title_lines = wrap(title, font, canvas_width - 2 * GAP) if title else []
    top = LINE * len(title_lines) + (HEADER - LINE if title_lines else 0)
    caption_lines = wrap(caption, font, canvas_width - 2 * GAP) if caption else []
    bottom = LINE * len(caption_lines) + (GAP if caption_lines else 0)
    canvas = Image.new("RGB", (canvas_width, top + rows + GAP + bottom), PAPER)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(title_lines):
        draw.text((GAP, 4 + i * LINE), line, fill=INK, font=font)
    for i, line in enumerate(caption_lines):
        draw.text((GAP, top + rows + GAP + i * LINE), line, fill=INK, font=font)
    y = top
    for heading, images, frames, tags in sections:
        draw.text((GAP, y + 4), heading, fill=INK, font=font)
        y += HEADER
        for i, image in enumerate(images):
            x0 = GAP + (i % columns) * cell_w
            y0 = y + (i // columns) * cell_h
            draw.rectangle((x0, y0, x0 + width + 2 * FRAME - 1, y0 + height + 2 * FRAME - 1), fill=frames[i])
            canvas.paste(Image.fromarray(image.transpose(1, 2, 0)), (x0 + FRAME, y0 + FRAME))
            if tags is not None:
                predicted, right = tags[i]
                tag = (x0, y0, x0 + 15, y0 + 15)
                draw.rectangle(tag, fill=POSITIVE if right else NEGATIVE)
                draw.text((x0 + 4, y0), "+" if predicted else "-", fill=PAPER, font=font)
        y += cell_h * -(-len(images) // columns)
    return np.asarray(canvas)


def wrap(text: str, font: ImageFont.ImageFont, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels (at spaces; a word longer than a
    line gets a line of its own), so long concept titles are wrapped instead of cut."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines
