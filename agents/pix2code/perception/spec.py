"""What the extractor reads and writes for each task family: image size, attributes, token slots.

The decoder emits, per object, the paper's token sequence ``[xmin, ymin, xmax, ymax, a1 … aC]``
(pix2code.md §2.2, §11) followed, after the last object, by an end token. Every slot is one of
three kinds, each with a full probability distribution over its token values:

* ``coord``: a pixel coordinate (1-pixel tokens, 0 … W-1 or 0 … H-1). Its distribution is a
  Gaussian over the continuous coordinate, discretised to pixels: a softmax over 240 bins would
  need far more training to become sub-pixel precise, and CURI's location bins need that.
* ``class``: one categorical attribute (softmax over its values).
* ``binned``: a categorical attribute that the family defines by thresholds on a continuous
  quantity (CURI's location bins on the projected centre; Kandinsky's size class on s). Its
  distribution is the Gaussian's mass between the thresholds, so an object a fraction of a pixel
  from a bin edge gets two likely bins — which the uncertainty-weighted search then weighs.

Numeric quantities ("numerics") are what the network regresses: box corners ``x0 y0 x1 y1``, the
centre ``u v`` in pixels and, for Kandinsky, the size ``s``. This module imports nothing from
``tasks/`` (agents may not); the trainer checks it against the families.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from pix2code_env import ObjectSchema, object_schema


@dataclass(frozen=True)
class Numeric:
    """A regressed quantity: ``value = anchor + scale * raw`` where the anchor is the x or y
    centre of the feature cell (``axis``) or 0; ``floor`` is the smallest standard deviation
    (in the quantity's own unit) the network may claim."""

    name: str
    axis: str | None
    scale: float
    floor: float


@dataclass(frozen=True)
class Slot:
    """One token of an object's sequence."""

    name: str
    kind: str  # "coord" | "class" | "binned"
    numeric: str | None = None  # coord / binned: the quantity it discretises
    attribute: str | None = None  # class / binned: the attribute (and probability key) it sets
    values: tuple[str, ...] = ()
    edges: tuple[float, ...] = ()  # binned: interior thresholds, ascending
    axis: str | None = None  # coord: "x" or "y"

    @property
    def size(self) -> int:
        return len(self.values) if self.kind != "coord" else 0


@dataclass(frozen=True)
class FamilySpec:
    family: str
    env_id: str
    image_shape: tuple[int, int]  # (H, W) the extractor works at
    max_objects: int
    numerics: tuple[Numeric, ...]
    classes: dict[str, tuple[str, ...]]  # softmax attributes predicted by the heads
    slots: tuple[Slot, ...]
    stride: int = 4
    schema: ObjectSchema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", object_schema(self.env_id))

    @property
    def numeric_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.numerics)

    def numeric(self, name: str) -> Numeric:
        return self.numerics[self.numeric_names.index(name)]

    @property
    def class_sizes(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.classes.values())

    @property
    def n_slots(self) -> int:
        return len(self.slots)

    @property
    def max_tokens(self) -> int:
        """Decoder positions: a start token, every object's slots, and the end token."""
        return 1 + self.max_objects * self.n_slots + 1

    @property
    def attributes(self) -> dict[str, tuple[str, ...]]:
        """Every categorical attribute with a probability array in the output (class and binned)."""
        return {s.attribute: s.values for s in self.slots if s.kind in ("class", "binned")}

    def feature_grid(self) -> tuple[int, int]:
        h, w = self.image_shape
        return -(-h // self.stride), -(-w // self.stride)


def _box_and_centre(box_floor: float, centre_floor: float) -> tuple[Numeric, ...]:
    return (
        Numeric("x0", "x", 16.0, box_floor),
        Numeric("y0", "y", 16.0, box_floor),
        Numeric("x1", "x", 16.0, box_floor),
        Numeric("y1", "y", 16.0, box_floor),
        Numeric("u", "x", 4.0, centre_floor),
        Numeric("v", "y", 4.0, centre_floor),
    )


_BOX_SLOTS = (
    Slot("xmin", "coord", numeric="x0", axis="x"),
    Slot("ymin", "coord", numeric="y0", axis="y"),
    Slot("xmax", "coord", numeric="x1", axis="x"),
    Slot("ymax", "coord", numeric="y1", axis="y"),
)


def _curi() -> FamilySpec:
    schema = object_schema("Pix2Code-CURI-v0")
    classes = {name: schema.categorical[name] for name in ("shape", "color", "material", "size")}
    bins = tuple(str(i) for i in range(8))
    # CURI's pixel centre is round(u); its bin is px // 30 (x) or py // 20 (y): bin b holds the
    # continuous centres in [30 b - 0.5, 30 b + 29.5).
    x_edges = tuple(30.0 * b - 0.5 for b in range(1, 8))
    y_edges = tuple(20.0 * b - 0.5 for b in range(1, 8))
    slots = _BOX_SLOTS + tuple(Slot(a, "class", attribute=a, values=v) for a, v in classes.items()) + (
        Slot("xbin", "binned", numeric="u", attribute="xbin", values=bins, edges=x_edges),
        Slot("ybin", "binned", numeric="v", attribute="ybin", values=bins, edges=y_edges),
        Slot("cx", "coord", numeric="u", axis="x"),
        Slot("cy", "coord", numeric="v", axis="y"),
    )
    return FamilySpec("curi", "Pix2Code-CURI-v0", (160, 240), schema.max_objects, _box_and_centre(0.08, 0.03), classes, slots)


def _kandinsky() -> FamilySpec:
    schema = object_schema("Pix2Code-Kandinsky-v0")
    classes = {name: schema.categorical[name] for name in ("shape", "color")}
    slots = _BOX_SLOTS + tuple(Slot(a, "class", attribute=a, values=v) for a, v in classes.items()) + (
        # size class: small if s <= 1/3, medium if s <= 2/3, else big (tasks/kandinsky/universe.py)
        Slot("size", "binned", numeric="s", attribute="size", values=schema.categorical["size"], edges=(1 / 3, 2 / 3)),
        Slot("cx", "coord", numeric="u", axis="x"),
        Slot("cy", "coord", numeric="v", axis="y"),
    )
    numerics = _box_and_centre(0.08, 0.03) + (Numeric("s", None, 0.25, 0.0008),)
    return FamilySpec("kandinsky", "Pix2Code-Kandinsky-v0", (128, 128), schema.max_objects, numerics, classes, slots)


SPECS: dict[str, FamilySpec] = {"curi": _curi(), "kandinsky": _kandinsky()}


def get_spec(family: str) -> FamilySpec:
    if family not in SPECS:
        raise ValueError(f"no extractor for family {family!r}; expected one of {sorted(SPECS)}")
    return SPECS[family]


def bin_masses(mu: torch.Tensor, sigma: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """Mass of N(mu, sigma) in each interval between ``edges`` (open ends): (..., len(edges) + 1)."""
    cdf = torch.special.ndtr((edges - mu.unsqueeze(-1)) / sigma.unsqueeze(-1))
    zeros = torch.zeros_like(cdf[..., :1])
    return torch.diff(torch.cat([zeros, cdf, zeros + 1.0], dim=-1), dim=-1).clamp_min(0.0)
