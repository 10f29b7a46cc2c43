"""The shipped RelKP concept list: its record types and the versioned JSON file that holds it.

The file is made by ``python -m tasks.kandinsky.concepts build`` (see :mod:`tasks.kandinsky.concepts`)
and read here, so that using the family never imports the build machinery.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VERSION = 0
DATA_FILE = Path(__file__).with_name("data") / f"relkp_v{VERSION}.json"


@dataclass(frozen=True)
class ConceptEntry:
    id: str
    group: str
    positive_rate: float  # acceptance rate of the boosted positive proposals (before placement)
    negative_rate: float


@dataclass(frozen=True)
class GroupReport:
    """How one clause group fared in the selection."""

    group: str
    cap: int
    candidates: int  # clauses in the group
    examined: int
    unsampleable: int
    equivalent: int
    kept: int  # passed validation, up to the cap
    selected: int  # after the cut to the final count


@dataclass(frozen=True)
class ConceptList:
    train: tuple[ConceptEntry, ...]
    test: tuple[ConceptEntry, ...]
    groups: tuple[GroupReport, ...]
    metadata: dict[str, Any] = field(default_factory=dict)  # how the list was made

    def to_json(self) -> dict[str, Any]:
        return {
            "name": "relkp",
            "version": VERSION,
            **self.metadata,
            "groups": [asdict(g) for g in self.groups],
            "train": [asdict(e) for e in self.train],
            "test": [asdict(e) for e in self.test],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ConceptList":
        if data.get("version") != VERSION:
            raise ValueError(f"RelKP concept file has version {data.get('version')!r}; expected {VERSION}")
        reserved = {"name", "version", "groups", "train", "test"}
        return cls(
            train=tuple(ConceptEntry(**e) for e in data["train"]),
            test=tuple(ConceptEntry(**e) for e in data["test"]),
            groups=tuple(GroupReport(**g) for g in data["groups"]),
            metadata={k: v for k, v in data.items() if k not in reserved},
        )


def load_concepts(path: Path = DATA_FILE) -> ConceptList:
    """The concept list stored at ``path`` (by default the shipped ``data/relkp_v0.json``)."""
    return ConceptList.from_json(json.loads(path.read_text()))


def write_concepts(concepts: ConceptList, path: Path = DATA_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(concepts.to_json(), indent=1) + "\n")
