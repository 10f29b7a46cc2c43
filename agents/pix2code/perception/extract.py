"""``pix2code extract IMAGE.png --family curi [--out PATH]``: read an image's objects.

Prints the object table as a rich table with every attribute's most likely value and its
probability, and writes the image (enlarged) with the boxes, centres and labels drawn on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console
from rich.table import Table

from agents.pix2code.perception import load_extractor
from agents.pix2code.perception.draw import draw
from agents.pix2code.perception.weights import WeightsError

console = Console()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pix2code extract", description=__doc__.splitlines()[0])
    parser.add_argument("image", help="a PNG/JPEG image of the family's scenes")
    parser.add_argument("--family", required=True, choices=["curi", "kandinsky"])
    parser.add_argument("--out", default=None, help="picture with the detections (default IMAGE-objects.png)")
    parser.add_argument("--weights", default=None, help="a weights file instead of the shipped one")
    parser.add_argument("--scale", type=int, default=3, help="enlargement of the written picture")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    path = Path(args.image)
    try:
        image = np.asarray(Image.open(path).convert("RGB"))
    except (OSError, ValueError) as error:
        console.print(f"[red]error:[/red] cannot read {path}: {error}")
        return 2
    try:
        extractor = load_extractor(args.family, args.weights)
        det = extractor.detect(image[None])[0]
    except (WeightsError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        return 2
    attributes = list(extractor.spec.attributes)
    table = Table(title=f"{path.name}: {len(det.table)} object(s), {args.family} extractor")
    table.add_column("#", justify="right")
    for name in attributes:
        table.add_column(name)
    table.add_column("centre (px)", justify="right")
    table.add_column("box (px)", justify="right")
    table.add_column("there", justify="right")
    for i in range(len(det.table)):
        cells = []
        for name in attributes:
            p = det.probabilities[name][i]
            value = det.labels[i][name]
            colour = "green" if p.max() >= 0.99 else "yellow" if p.max() >= 0.9 else "red"
            cells.append(f"{value} [{colour}]{p.max():.3f}[/{colour}]")
        cx, cy = det.centres[i]
        box = " ".join(f"{v:.1f}" for v in det.boxes[i])
        table.add_row(str(i), *cells, f"{cx:.1f}, {cy:.1f}", box, f"{det.probabilities['exists'][i]:.3f}")
    console.print(table)
    for note in det.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    out = Path(args.out) if args.out else path.with_name(path.stem + "-objects.png")
    draw(image, det, scale=args.scale).save(out)
    console.print(f"picture: {out}")
    names = extractor.schema.names
    console.print("object table (scene-modality rows): " + ", ".join(names))
    for row in det.table:
        console.print("  " + " ".join(f"{v:.3f}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
