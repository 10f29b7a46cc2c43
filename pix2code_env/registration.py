"""Every environment id, registered at import (Gymnasium 1.x has no plugin discovery).

Ids differ only in kwargs, Minigrid-style. Changing what a seed produces means a new ``-vN`` id;
old ids keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from tasks import make_family
from tasks.schema import ObjectSchema

ENTRY_POINT = "pix2code_env.env:ConceptEnv"

KANDINSKY_PATTERNS = {
    "OneRed": "onered",
    "OneTriangle": "onetriangle",
    "TwoPairs": "twopairs",
    "ThreePairs": "threepairs",
    "CloseBy": "closeby",
    "RedTriangle": "red-triangle",
    "OnlinePair": "online-pair",
}

CURI_SPLITS = {
    "IID": "iid",
    "Comp": "comp",
    "BindingColor": "color",
    "BindingShape": "shape",
    "Intrinsic": "color_material",
    "Extrinsic": "color_location",
    "Counting": "color_count",
    "Boolean": "color_boolean",
    "Complexity": "length_threshold_10",
}


@dataclass(frozen=True)
class EnvSpec:
    """A registered id and the ConceptEnv kwargs it stands for."""

    id: str
    family: str
    family_options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"family": self.family, "id_options": dict(self.family_options)}


def _specs() -> list[EnvSpec]:
    specs = [EnvSpec("Pix2Code-Kandinsky-v0", "kandinsky", {}, "RelKP: 200 relational clause concepts (100 train / 100 test)")]
    specs += [
        EnvSpec(f"Pix2Code-Kandinsky-{name}-v0", "kandinsky", {"pattern": pattern}, f"classic Kandinsky pattern '{pattern}'")
        for name, pattern in KANDINSKY_PATTERNS.items()
    ]
    specs.append(EnvSpec("Pix2Code-CURI-v0", "curi", {"split": "iid"}, "CURI, IID split"))
    specs += [
        EnvSpec(f"Pix2Code-CURI-{name}-v0", "curi", {"split": split}, f"CURI, {name} split ({split})")
        for name, split in CURI_SPLITS.items()
    ]
    specs.append(
        EnvSpec("Pix2Code-CURIHans-v0", "curi", {"split": "iid", "confounded": True},
                "CURI with a colour confounder in the support positives (revision experiment)")
    )
    return specs


ENV_SPECS: tuple[EnvSpec, ...] = tuple(_specs())


def register_all() -> None:
    for spec in ENV_SPECS:
        if spec.id not in gym.registry:
            gym.register(id=spec.id, entry_point=ENTRY_POINT, kwargs=spec.kwargs)


def env_ids() -> list[str]:
    return [spec.id for spec in ENV_SPECS]


def env_spec(env_id: str) -> EnvSpec:
    for spec in ENV_SPECS:
        if spec.id == env_id:
            return spec
    raise ValueError(f"unknown environment id {env_id!r}; expected one of {env_ids()}")


def object_schema(env_id: str) -> ObjectSchema:
    """What each column of an id's object tables means (names, one-hot values, numeric ranges).

    Agents decode object tables from this, never by importing ``tasks/``.
    """
    spec = env_spec(env_id)
    return make_family(spec.family, **spec.family_options).object_schema
