"""``pix2code leaderboard verify FILE``: trust nothing in a submission that can be recomputed.

In order: the file is read and parsed (JSON only; a cut-off file is told apart from other invalid
JSON), checked against the schema and its version, matched with its suite and version, checked to
hold every episode of the suite's plan exactly once; then every episode is regenerated from its
(env id, subset, seed, options) and its content fingerprint compared, the records' SHA-256
recomputed, every score re-scored from the predictions and every AP from the pool ranks, and the
summary recomputed from the records. The first problem found is reported as one line, with a
``code`` naming its kind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leaderboard.episode import episode_env
from leaderboard.pool import average_precision, decode_ranks, scene_pool, suite_pool_specs
from leaderboard.schema import SchemaError, check_submission
from leaderboard.submission import KIND, SCHEMA_VERSION, records_digest, summarize
from leaderboard.suites import SUITES, concept_list_environment, resolve_concept_list
from pix2code_env.episode import MODALITIES
from pix2code_env.scoring import class_balanced_accuracy

TOLERANCE = 1e-9


class Rejected(Exception):
    """A submission that does not verify; ``code`` names the kind of problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Verified:
    agent: str
    suite: str
    version: int
    episodes: int
    failures: int
    submission: dict[str, Any]


def _reject_constant(name: str) -> Any:
    raise Rejected("invalid-json", f"not valid JSON: {name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise Rejected("malformed", f"malformed submission: the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def load(path: Path) -> Any:
    """The parsed file, or Rejected: unreadable, truncated (the JSON stops before the document
    closes), or otherwise invalid JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Rejected("unreadable", f"cannot read the file: {getattr(error, 'strerror', None) or error}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        if text.strip() and (error.pos >= len(text.rstrip()) or _unclosed(text)):
            raise Rejected("truncated", f"truncated file: the JSON stops at character {error.pos} before the "
                                        "submission is complete") from None
        raise Rejected("invalid-json", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None


def _unclosed(text: str) -> bool:
    """Whether the text stops inside a string or with objects/lists still open: a cut-off file."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def check_header(data: Any) -> None:
    if isinstance(data, dict) and "schema_version" in data and data["schema_version"] != SCHEMA_VERSION:
        raise Rejected("schema-version", f"schema version {data['schema_version']!r} is not supported; "
                                         f"this package reads schema version {SCHEMA_VERSION}")
    try:
        check_submission(data)
    except SchemaError as error:
        raise Rejected("malformed", f"malformed submission: {error}") from None
    if data["kind"] != KIND:
        raise Rejected("malformed", f"malformed submission: kind is {data['kind']!r}, expected {KIND!r}")
    if data["agent"]["input_modality"] != data["run"]["modality"]:
        raise Rejected("malformed", "malformed submission: the agent card's input_modality differs from run.modality")
    if data["run"]["modality"] not in MODALITIES:
        raise Rejected("malformed", f"malformed submission: run.modality {data['run']['modality']!r} is not one of "
                                    f"{list(MODALITIES)}")


def _where(record: dict[str, Any], index: int) -> str:
    options = f" {record['options']}" if record.get("options") else ""
    return f"record {index} ({record['env_id']} seed {record['seed']}{options})"


def verify_submission(data: Any, concept_list: str | None = None,
                      on_episode: Callable[[], None] | None = None, sample: int | None = None) -> Verified:
    """Verify a parsed submission; raise :class:`Rejected` on the first problem. ``sample``
    regenerates and re-scores only that many records spread over the file (a quick check: the
    hash and the summary still cover every record)."""
    check_header(data)
    name, version = data["suite"]["name"], data["suite"]["version"]
    if name not in SUITES:
        raise Rejected("suite", f"unknown suite {name!r}; this package has {list(SUITES)}")
    suite = SUITES[name]
    if version != suite.version:
        raise Rejected("suite-version", f"made for suite {name} version {version}; this package runs version "
                                        f"{suite.version}, whose episodes differ")
    concept_list = _concept_list(suite, data, concept_list)
    limit = data["suite"]["episodes_per_env"]
    if limit is not None and limit < 1:
        raise Rejected("malformed", f"malformed submission: suite.episodes_per_env is {limit}; expected null or >= 1")
    plan = suite.episodes(limit)
    records = data["records"]
    _check_plan(records, plan)

    pools = suite_pool_specs(suite, concept_list)
    if set(data["map_pools"]) != set(pools):
        raise Rejected("pool", f"the file names mAP pools for {sorted(data['map_pools'])}; the suite has them for "
                               f"{sorted(pools)}")
    for env_id, spec in pools.items():
        stated = data["map_pools"].get(env_id)
        if stated is None or stated["sha256"] != spec.digest or stated["scenes"] != len(spec):
            raise Rejected("pool", f"the mAP pool of {env_id} is not this suite's ({len(spec)} scenes, SHA-256 "
                                   f"{spec.digest[:12]}…)")
    modality = data["run"]["modality"]
    family_options = tuple(sorted(suite.family_options(concept_list).items()))
    checked = range(len(records))
    if sample is not None and sample < len(records):
        checked = sorted({round(k * (len(records) - 1) / max(1, sample - 1)) for k in range(sample)})
    truths = {}
    with concept_list_environment(concept_list):
        for i in checked:
            truths[i] = _regenerate(records[i], i, modality, family_options)
            if on_episode is not None:
                on_episode()
    if records_digest(records) != data["records_sha256"]:
        raise Rejected("records-hash", "the records do not match records_sha256: predictions, scores, programs "
                                       "or episode fields were changed after the run")
    with concept_list_environment(concept_list):
        for i, labels in truths.items():
            _rescore(records[i], i, labels, pools.get(records[i]["env_id"]))
    recomputed = summarize(suite, records, pools)
    difference = _first_difference(data["summary"], recomputed, "summary")
    if difference:
        raise Rejected("summary", f"the summary does not follow from the records: {difference}")
    return Verified(data["agent"]["name"], name, version, len(records), recomputed["failures"], data)


def _concept_list(suite: Any, data: dict[str, Any], given: str | None) -> str | None:
    stated = data["suite"]["concept_list_sha256"]
    if not suite.needs_concept_list:
        if stated is not None:
            raise Rejected("malformed", f"malformed submission: suite {suite.name} runs on the generated pool, "
                                        "but the file names a concept list")
        return None
    try:
        path = resolve_concept_list(suite, given)
    except ValueError as error:
        raise Rejected("concept-list", f"cannot verify: {error}") from None
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != stated:
        raise Rejected("concept-list", f"the submission was made on a concept list with SHA-256 {str(stated)[:12]}…, "
                                       f"but {path} has {digest[:12]}…")
    return path


def _check_plan(records: list[dict[str, Any]], plan: list[Any]) -> None:
    keys = [json.dumps([r["env_id"], r["subset"], r["seed"], r["options"]], sort_keys=True) for r in records]
    expected = [spec.key for spec in plan]
    index = {key: i for i, key in enumerate(expected)}
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key not in index:
            raise Rejected("not-in-suite", f"{_where(records[i], i)} is not an episode of the suite")
        if key in seen:
            raise Rejected("duplicate", f"{_where(records[i], i)} appears twice")
        seen.add(key)
    missing = [spec for spec in plan if spec.key not in seen]
    if missing:
        first = missing[0]
        raise Rejected("incomplete", f"incomplete: {len(missing)} of the suite's {len(plan)} episodes are missing "
                                     f"(first: {first.env_id} seed {first.seed})")
    if keys != expected:
        raise Rejected("malformed", "malformed submission: records are not in the suite's order")


_EPISODES: dict[str, tuple[str, str, np.ndarray]] = {}  # regenerated episodes, shared by the files of a build


def _regenerate(record: dict[str, Any], i: int, modality: str, family_options: tuple) -> np.ndarray:
    key = json.dumps([record["env_id"], record["subset"], record["seed"], record["options"], modality,
                      family_options], sort_keys=True)
    if key not in _EPISODES:
        env = episode_env(record["env_id"], record["subset"], modality, family_options)
        _, info = env.reset(seed=record["seed"], options=record["options"])
        _EPISODES[key] = (info["fingerprint"], info["concept_id"], env.unwrapped.episode.query_labels.copy())
    fingerprint, concept_id, labels = _EPISODES[key]
    if fingerprint != record["fingerprint"] or concept_id != record["concept_id"]:
        raise Rejected("fingerprint", f"{_where(record, i)}: its fingerprint does not match the regenerated episode "
                                      "(edited, or made by another version of the environments)")
    return labels


def _rescore(record: dict[str, Any], i: int, labels: np.ndarray, pool_spec: Any) -> None:
    where = _where(record, i)
    if record["failure"] is not None:
        if record["predictions"] is not None or record["score"] != 0 or record["average_precision"] is not None:
            raise Rejected("score", f"{where}: a failed episode has no predictions, score 0 and no AP")
        return
    predictions = record["predictions"]
    if predictions is None or len(predictions) != labels.size:
        raise Rejected("malformed", f"malformed submission: {where}: expected {labels.size} predictions")
    if record["scores"] is not None and len(record["scores"]) != labels.size:
        raise Rejected("malformed", f"malformed submission: {where}: expected {labels.size} query scores")
    score = class_balanced_accuracy(labels, np.asarray(predictions))
    if abs(score - record["score"]) > TOLERANCE:
        raise Rejected("score", f"{where}: reported score {record['score']:.6g}, but its predictions score {score:.6g}")
    if record["pool_ranks"] is None:
        if record["average_precision"] is not None:
            raise Rejected("average-precision", f"{where}: an AP is reported without pool scores")
        return
    if pool_spec is None:
        raise Rejected("malformed", f"malformed submission: {where}: pool ranks for an env without a pool")
    try:
        ranks = decode_ranks(record["pool_ranks"], len(pool_spec))
    except ValueError as error:
        raise Rejected("malformed", f"malformed submission: {where}: {error}") from None
    ap = average_precision(scene_pool(pool_spec).truth(record["concept_id"]), ranks)
    stated = record["average_precision"]
    if (ap is None) != (stated is None) or (ap is not None and abs(ap - stated) > TOLERANCE):
        raise Rejected("average-precision", f"{where}: reported AP {stated}, but its pool ranks give {ap}")


def _first_difference(stated: Any, recomputed: Any, path: str) -> str | None:
    if isinstance(recomputed, dict):
        if not isinstance(stated, dict) or set(stated) != set(recomputed):
            return f"{path} has other fields than recomputed"
        for key in recomputed:
            found = _first_difference(stated[key], recomputed[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(recomputed, float) and isinstance(stated, (int, float)) and not isinstance(stated, bool):
        return None if abs(stated - recomputed) <= TOLERANCE else f"{path} is {stated}, recomputed {recomputed}"
    return None if stated == recomputed else f"{path} is {stated!r}, recomputed {recomputed!r}"


def verify_file(path: str | Path, concept_list: str | None = None,
                on_episode: Callable[[], None] | None = None) -> Verified:
    return verify_submission(load(Path(path)), concept_list, on_episode)
