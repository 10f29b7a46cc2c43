"""The submission schema (version 1) as plain data, and a checker whose errors name the field.

Plain Python rather than jsonschema: the schema is a dozen fields deep, the checker is 40 lines,
and its messages ("records[3].predictions[7]: expected 0 or 1, got 2") are the ones a submitter
needs. Records and the top level are closed (unknown keys are refused, so nothing rides along
unchecked); the agent card and run block are open (extra facts are welcome).
"""

from __future__ import annotations

import math
from typing import Any

NUMBER = "number"
LABEL = "label"
HEX64 = "hex64"

#: field -> type: a Python type, NUMBER (finite int or float), HEX64, a nested dict spec, a
#: ("list", item) pair, or a tuple of alternatives (None allowed where listed).
RECORD: dict[str, Any] = {
    "env_id": str, "subset": str, "seed": int, "options": (dict, None),
    "fingerprint": HEX64, "concept_id": str,
    "predictions": (("list", LABEL), None), "scores": (("list", NUMBER), None), "pool_ranks": (str, None),
    "score": NUMBER, "average_precision": (NUMBER, None),
    "program": (str, None), "explanation": (str, None), "fallback": (str, None),
    "diagnostics": dict, "seconds": NUMBER, "failure": (str, None),
}
ACCURACY = {"mean": NUMBER, "low": NUMBER, "high": NUMBER}
ENV_SUMMARY = {"episodes": int, "failures": int, "fallbacks": int, "accuracy": ACCURACY, "map": (NUMBER, None)}
SUBMISSION: dict[str, Any] = {
    "schema_version": int,
    "kind": str,
    "package": {"name": str, "version": str, "commit": str},
    "suite": {"name": str, "version": int, "episodes_per_env": (int, None), "concept_list_sha256": (HEX64, None)},
    "agent": {"name": str, "version": str, "description": str, "training_data": str, "compute": str,
              "input_modality": str, "uses_ground_truth_objects": bool, "...": True},
    "run": {"modality": str, "agent_options": dict, "...": True},
    "map_pools": ("mapping", {"scenes": int, "sha256": HEX64, "per_concept": int, "seed": int}),
    "summary": {"envs": ("mapping", ENV_SUMMARY), "accuracy": (NUMBER, None), "map": (NUMBER, None),
                "episodes": int, "failures": int},
    "records_sha256": HEX64,
    "records": ("list", RECORD),
}


class SchemaError(ValueError):
    pass


def _name(spec: Any) -> str:
    if spec is None:
        return "null"
    if isinstance(spec, type):
        return {str: "a string", int: "an integer", bool: "true or false", dict: "an object", list: "a list"}[spec]
    if isinstance(spec, dict):
        return "an object"
    if isinstance(spec, tuple) and spec and spec[0] in ("list", "mapping"):
        return "a list" if spec[0] == "list" else "an object"
    if isinstance(spec, tuple):
        return " or ".join(_name(s) for s in spec)
    return {NUMBER: "a finite number", LABEL: "0 or 1", HEX64: "64 lowercase hex digits"}[spec]


def _matches(value: Any, spec: Any, path: str) -> bool:
    """True when ``value`` has the shape of ``spec`` (nested problems raise with their own path)."""
    if spec is None:
        return value is None
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(spec, type):
        return isinstance(value, spec)
    if spec == NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if spec == LABEL:
        return isinstance(value, int) and not isinstance(value, bool) and value in (0, 1)
    if spec == HEX64:
        return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return False
        check_object(value, spec, path)
        return True
    if isinstance(spec, tuple) and spec and spec[0] == "list":
        if not isinstance(value, list):
            return False
        for i, item in enumerate(value):
            check(item, spec[1], f"{path}[{i}]")
        return True
    if isinstance(spec, tuple) and spec and spec[0] == "mapping":
        if not isinstance(value, dict):
            return False
        for key, item in value.items():
            check(item, spec[1], f"{path}.{key}")
        return True
    return any(_matches(value, option, path) for option in spec)


def check(value: Any, spec: Any, path: str) -> None:
    if not _matches(value, spec, path):
        shown = repr(value) if len(repr(value)) < 60 else type(value).__name__
        raise SchemaError(f"{path}: expected {_name(spec)}, got {shown}")


def check_object(value: dict[str, Any], spec: dict[str, Any], path: str) -> None:
    for key, field in spec.items():
        if key == "...":
            continue
        if key not in value:
            raise SchemaError(f"{path}: missing field {key!r}")
        check(value[key], field, f"{path}.{key}")
    if "..." not in spec:
        extra = sorted(set(value) - set(spec))
        if extra:
            raise SchemaError(f"{path}: unknown field {extra[0]!r}")


def check_submission(data: Any) -> None:
    if not isinstance(data, dict):
        raise SchemaError(f"the file holds {type(data).__name__}, not a submission object")
    check_object(data, SUBMISSION, "submission")
