"""Task families: procedural concept-learning tasks as pure functions of a seeded generator.

``make_family(name, **options)`` builds (and caches) a family; the environment package is its
only intended caller, but tests and tools may use it directly.
"""

from __future__ import annotations

import functools
import importlib
import json
import os

from tasks.base import SceneEpisode, TaskFamily

FAMILIES: dict[str, str] = {
    "kandinsky": "tasks.kandinsky:KandinskyFamily",
    "curi": "tasks.curi:CuriFamily",
}

__all__ = ["FAMILIES", "SceneEpisode", "TaskFamily", "make_family"]


def make_family(name: str, **options: object) -> TaskFamily:
    """Build the family ``name`` with its options; equal arguments (and equal values of the
    environment variables it reads) return the same instance."""
    if name not in FAMILIES:
        raise ValueError(f"unknown task family {name!r}; expected one of {sorted(FAMILIES)}")
    try:
        key = json.dumps(options, sort_keys=True)
    except TypeError as error:
        raise TypeError(f"family options must be JSON values (they are part of the env's identity): {error}") from None
    environment = tuple(os.environ.get(variable) for variable in _family_class(name).environment_variables)
    return _cached_family(name, key, environment)


def _family_class(name: str) -> type[TaskFamily]:
    module_name, class_name = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


@functools.lru_cache(maxsize=None)
def _cached_family(name: str, options_json: str, environment: tuple[str | None, ...]) -> TaskFamily:
    cls = _family_class(name)
    return cls(**json.loads(options_json))
