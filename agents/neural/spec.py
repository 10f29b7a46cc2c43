"""What a set of weights is for: model, environment, modality, input shape and architecture.

A :class:`ModelSpec` travels with every checkpoint and shipped weight file (in its JSON card),
so loading weights can refuse an environment, modality or image size they were not trained for
with an error that names both sides, and rebuild exactly the architecture they belong to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MODELS = ("protonet", "transformer", "ppo")
NEURAL_MODALITIES = ("image", "scene")


@dataclass(frozen=True)
class ModelSpec:
    """Architecture and input contract of one trained model.

    ``image_shape`` is (height, width) for image models (None for object tables);
    ``schema`` the object-table column names for scene models (None for images).
    ``encoder`` is ``"schema"`` for object tables, else an image trunk (``resnet18``, ``conv4``,
    or ``tiny`` for PPO's extractor); ``head`` a CURI pooling head; ``dim`` the embedding
    (protonet) or hidden (transformer) size; ``options`` model-specific extras.
    """

    model: str
    env_id: str
    modality: str
    encoder: str
    head: str
    dim: int
    image_shape: tuple[int, int] | None = None
    schema: tuple[str, ...] | None = None
    n_support: int = 25
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown neural model {self.model!r}; expected one of {list(MODELS)}")
        if self.modality not in NEURAL_MODALITIES:
            raise ValueError(f"modality {self.modality!r} is not one a neural model reads; expected one of {list(NEURAL_MODALITIES)}")
        if self.modality == "image" and self.image_shape is None:
            raise ValueError("an image model needs image_shape (height, width)")
        if self.modality == "scene" and not self.schema:
            raise ValueError("an object-table model needs the schema's column names")
        if self.image_shape is not None:
            object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))
        if self.schema is not None:
            object.__setattr__(self, "schema", tuple(self.schema))

    def describe(self) -> str:
        """"env X, modality Y[, image HxW]": how errors name what weights were trained for."""
        text = f"env {self.env_id}, modality {self.modality!r}"
        if self.image_shape is not None:
            text += f", image {self.image_shape[0]}x{self.image_shape[1]} (height x width)"
        return text

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["image_shape"] = None if self.image_shape is None else list(self.image_shape)
        data["schema"] = None if self.schema is None else list(self.schema)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"model spec has unknown field(s) {unknown}; expected {sorted(known)}")
        return cls(**data)
