"""Self-describing object tables: what each column of a family's object rows means.

An agent must be able to read an object table without importing ``tasks/``: the schema names
every column, groups one-hot columns into attributes with their values, and gives the range
and unit of every numeric column. :meth:`ObjectSchema.decode` turns padded tables into one
code array per attribute, the form program synthesisers and oracles work on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("one_hot", "number")


@dataclass(frozen=True)
class Column:
    """One column of an object row.

    ``kind="one_hot"``: the column is 1 when ``attribute`` has ``value``; the columns of one
    attribute are contiguous and exactly one of them is 1 per object. ``kind="number"``: the
    column holds ``attribute`` in ``[low, high]``; ``scale`` converts it to ``unit`` (e.g. a
    pixel x-coordinate stored as px / 240 has scale 240, unit "pixels"), and ``bins`` > 0 says
    how the family's concepts discretise it (CURI's location bins: floor(v * bins)).
    """

    name: str
    attribute: str
    kind: str
    value: str | None = None
    low: float = 0.0
    high: float = 1.0
    scale: float = 1.0
    unit: str = ""
    bins: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}; expected one of {list(KINDS)}")
        if (self.kind == "one_hot") != (self.value is not None):
            raise ValueError(f"column {self.name!r}: a one-hot column has a value, a number column has none")

    def to_json(self) -> dict[str, Any]:
        keep = {"name": self.name, "attribute": self.attribute, "kind": self.kind}
        if self.kind == "one_hot":
            keep["value"] = self.value
        else:
            keep.update(low=self.low, high=self.high, scale=self.scale, unit=self.unit, bins=self.bins)
        if self.description:
            keep["description"] = self.description
        return keep


@dataclass(frozen=True)
class ObjectSchema:
    """The columns of a family's ``(K, F)`` object tables, padded to ``max_objects`` rows."""

    family: str
    columns: tuple[Column, ...]
    max_objects: int
    _one_hot: dict[str, tuple[int, tuple[str, ...]]] = field(init=False, repr=False, compare=False)
    _numbers: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        one_hot: dict[str, tuple[int, list[str]]] = {}
        numbers: dict[str, int] = {}
        previous = None
        for i, column in enumerate(self.columns):
            if column.attribute in numbers or (column.kind == "number" and column.attribute in one_hot):
                raise ValueError(f"{self.family} schema: attribute {column.attribute!r} appears twice")
            if column.kind == "number":
                numbers[column.attribute] = i
            elif column.attribute not in one_hot:
                one_hot[column.attribute] = (i, [column.value])
            elif previous != column.attribute:
                raise ValueError(f"{self.family} schema: the one-hot columns of {column.attribute!r} are not contiguous")
            else:
                one_hot[column.attribute][1].append(column.value)
            previous = column.attribute
        object.__setattr__(self, "_one_hot", {k: (s, tuple(v)) for k, (s, v) in one_hot.items()})
        object.__setattr__(self, "_numbers", numbers)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def width(self) -> int:
        return len(self.columns)

    @property
    def categorical(self) -> dict[str, tuple[str, ...]]:
        """Attribute -> the values of its one-hot block, in column order."""
        return {name: values for name, (_, values) in self._one_hot.items()}

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(self._numbers)

    def block(self, attribute: str) -> slice:
        """The columns of a one-hot attribute."""
        if attribute not in self._one_hot:
            raise KeyError(f"{self.family} schema has no one-hot attribute {attribute!r}; it has {list(self._one_hot)}")
        start, values = self._one_hot[attribute]
        return slice(start, start + len(values))

    def column(self, attribute: str) -> Column:
        """The column of a numeric attribute."""
        if attribute not in self._numbers:
            raise KeyError(f"{self.family} schema has no numeric attribute {attribute!r}; it has {list(self._numbers)}")
        return self.columns[self._numbers[attribute]]

    def decode(self, objects: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Padded tables ``(N, K, F)`` with masks ``(N, K)`` -> one ``(N, K)`` array per attribute.

        One-hot attributes become int64 indices into :attr:`categorical` (the argmax of the block,
        -1 where the mask is off); numeric attributes are returned in their unit (value * scale,
        float64, nan where the mask is off).
        """
        objects = np.asarray(objects, dtype=np.float64)
        valid = np.asarray(mask).astype(bool)
        if objects.ndim != 3 or objects.shape[-1] != self.width or valid.shape != objects.shape[:2]:
            raise ValueError(
                f"expected {self.family} object tables (N, K, {self.width}) and a mask (N, K); "
                f"got {objects.shape} and {valid.shape}"
            )
        out: dict[str, np.ndarray] = {}
        for name in self._one_hot:
            out[name] = np.where(valid, objects[..., self.block(name)].argmax(axis=-1), -1)
        for name, index in self._numbers.items():
            out[name] = np.where(valid, objects[..., index] * self.columns[index].scale, np.nan)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family, "max_objects": self.max_objects, "columns": [c.to_json() for c in self.columns]}


def one_hot_columns(attribute: str, values: Sequence[str]) -> tuple[Column, ...]:
    """The ``attribute=value`` columns of one categorical attribute."""
    return tuple(Column(f"{attribute}={v}", attribute, "one_hot", value=v) for v in values)


def schema_from(family: str, blocks: Mapping[str, Sequence[str]], numbers: Sequence[Column], max_objects: int) -> ObjectSchema:
    """A schema of one-hot blocks (in order) followed by numeric columns."""
    columns = tuple(c for name, values in blocks.items() for c in one_hot_columns(name, values)) + tuple(numbers)
    return ObjectSchema(family, columns, max_objects)
