"""Submissions: one JSON file per (agent, suite) — what ran, on what, by whom, and every episode.

JSON only: nothing in a submission is unpickled or executed. The file names its schema version,
the package version and git commit, the suite and version, an agent card, the run (modality,
options, backend, time), the mAP pools, per-episode records, a summary and the SHA-256 of the
records. The records hash covers what the agent produced and what identifies the episode; it
leaves out timings (``seconds``, ``diagnostics``) and the derived numbers (``score``,
``average_precision``), which ``verify`` recomputes from the predictions instead. Failed episodes
score 0 (no answer is a wrong answer) and count as AP 0.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from agents.registry import agent_class, available_agents
from leaderboard.suites import Suite
from pix2code_env.scoring import bootstrap_ci

SCHEMA_VERSION = 1
KIND = "pix2code-gym submission"
PACKAGE = "pix2code-gym"
ROOT = Path(__file__).resolve().parents[1]
DIGITS = 6
#: Record fields left out of the records hash: timings, and numbers verify recomputes.
UNHASHED = ("seconds", "diagnostics", "score", "average_precision")
#: Fields that differ between two honest runs of the same thing (timings and the clock).
TIMING_FIELDS = ("created", "wall_seconds", "seconds", "search_seconds")

#: What the built-in agents were trained on and cost, for their cards (an agent class can say it
#: itself with ``training_data`` / ``compute`` / ``description`` / ``version`` attributes, and
#: ``uses_ground_truth_objects = False`` when it is given object tables but never reads them).
BUILTIN_CARDS: dict[str, dict[str, Any]] = {
    "random": {"training_data": "none", "compute": "negligible: seeded coin flips",
               "uses_ground_truth_objects": False},
    "prior": {"training_data": "none", "compute": "negligible: the support set's majority class",
              "uses_ground_truth_objects": False},
    "oracle-strong": {
        "training_data": "none; privileged: every concept of the CURI pool (all splits) with its PCFG prior "
                         "and extension size (CURI's strong oracle)",
        "compute": "exact posterior over the pool, CPU, milliseconds per episode",
    },
    "oracle-weak": {
        "training_data": "none; privileged: the split's training concepts of the CURI pool (CURI's weak oracle)",
        "compute": "exact posterior over the training concepts, CPU, milliseconds per episode",
    },
    "pix2code": {
        "training_data": "hand-written base DSL; a library learned by wake-sleep on 100 training concepts' "
                         "train-subset episodes where one ships for the env (agents/pix2code/data/libraries/); "
                         "CURI layout prior from unlabelled query object tables of training episodes; from "
                         "pixels, an object extractor trained on train-subset scenes (no concept labels)",
        "compute": "one CPU core; guided enumeration under a candidate budget (plus a wall-clock cap unless "
                   "seconds=None); about 1 s per CURI and 6 s per RelKP test episode from object tables",
    },
    **{name: {
        "training_data": "meta-trained here on the env's train-subset episodes (training concepts only), validated "
                         "on val-subset episodes; weights and their command in agents/neural/weights/",
        "compute": "at most 15 minutes of training on 2 CPU cores per (model, env, modality); milliseconds "
                   "per test episode",
    } for name in ("protonet", "transformer", "ppo")},
}


def package_info() -> dict[str, Any]:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"name": PACKAGE, "version": version, "commit": git_commit()}


def git_commit() -> str:
    """HEAD of the checkout the harness runs from, ``-dirty`` when tracked code differs from it
    (result files excluded); "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
             ":(exclude)leaderboard/submissions", ":(exclude)leaderboard/site", ":(exclude)leaderboard/LEADERBOARD.md"],
            cwd=ROOT, capture_output=True, text=True, timeout=10,
        )
        return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def agent_card(name: str, modality: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Name, version, description, training data, compute, input modality and whether the agent
    read ground-truth object tables: from the agent class, the built-in cards, then ``overrides``."""
    cls = agent_class(name)
    builtin: dict[str, Any] = BUILTIN_CARDS.get(name, {}) if name in available_agents() else {}
    module = cls.__module__.split(".")[0]
    doc = (cls.__doc__ or "").strip().splitlines()
    card = {
        "name": getattr(cls, "name", name) if name in available_agents() else name,
        "version": str(getattr(cls, "version", package_info()["version"] if module == "agents" else "unknown")),
        "description": str(getattr(cls, "description", doc[0] if doc else cls.__name__)),
        "training_data": str(getattr(cls, "training_data", builtin.get("training_data", "not stated"))),
        "compute": str(getattr(cls, "compute", builtin.get("compute", "not stated"))),
        "input_modality": modality,
        "uses_ground_truth_objects": bool(getattr(cls, "uses_ground_truth_objects",
                                                   builtin.get("uses_ground_truth_objects", modality in ("scene", "both")))),
    }
    card.update(overrides or {})
    return card


def hardware() -> dict[str, Any]:
    import os

    return {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.system()}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


# ----------------------------------------------------------------------------- summary and hash


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def summarize(suite: Suite, records: Sequence[Mapping[str, Any]], pools: Mapping[str, Any]) -> dict[str, Any]:
    """Per env: episodes, failures, fallbacks, mean class-balanced accuracy with its bootstrap 95 %
    interval over episodes, and mAP (failures count 0) when every answered episode gave pool scores;
    overall: the mean over envs."""
    per_env: dict[str, Any] = {}
    for env_id in suite.env_ids:
        rows = [r for r in records if r["env_id"] == env_id]
        if not rows:
            continue
        ci = bootstrap_ci([r["score"] for r in rows])
        answered = [r for r in rows if r["failure"] is None]
        mean_ap = None
        if env_id in pools and answered and all(r["pool_ranks"] is not None for r in answered):
            aps = [0.0 if r["failure"] is not None else r["average_precision"] for r in rows]
            aps = [a for a in aps if a is not None]
            mean_ap = float(np.mean(aps)) if aps else None
        per_env[env_id] = {
            "episodes": len(rows),
            "failures": len(rows) - len(answered),
            "fallbacks": sum(r["fallback"] is not None for r in answered),
            "accuracy": {"mean": _round(ci.mean), "low": _round(ci.low), "high": _round(ci.high)},
            "map": _round(mean_ap),
        }
    means = [s["accuracy"]["mean"] for s in per_env.values()]
    maps = [s["map"] for env_id, s in per_env.items() if env_id in pools]
    return {
        "envs": per_env,
        "accuracy": _round(np.mean(means)) if means else None,
        "map": _round(np.mean(maps)) if maps and all(m is not None for m in maps) else None,
        "episodes": sum(s["episodes"] for s in per_env.values()),
        "failures": sum(s["failures"] for s in per_env.values()),
    }


def records_digest(records: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of the records without :data:`UNHASHED` fields."""
    digest = hashlib.sha256()
    for record in records:
        kept = {k: v for k, v in record.items() if k not in UNHASHED}
        digest.update(json.dumps(kept, sort_keys=True, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def dumps(submission: Mapping[str, Any]) -> str:
    """Stable text: sorted keys, two-space indents, one line per record (diffs stay readable)."""
    head = {k: v for k, v in submission.items() if k != "records"}
    lines = ["{"]
    items = sorted([*head.items(), ("records", None)])
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if key == "records":
            records = submission["records"]
            lines.append('  "records": [')
            for j, record in enumerate(records):
                tail = "," if j < len(records) - 1 else ""
                lines.append("    " + json.dumps(record, sort_keys=True, separators=(",", ":")) + tail)
            lines.append(f"  ]{comma}")
        else:
            text = json.dumps(value, sort_keys=True, indent=2).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {text}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def strip_timings(value: Any) -> Any:
    """A submission (or part) without the fields that differ between honest reruns."""
    if isinstance(value, dict):
        return {k: strip_timings(v) for k, v in value.items() if k not in TIMING_FIELDS}
    if isinstance(value, list):
        return [strip_timings(v) for v in value]
    return value


def make_submission(*, suite: Suite, limit: int | None, concept_list_sha256: str | None, card: dict[str, Any],
                    run: dict[str, Any], pools: Mapping[str, Any], records: list[dict[str, Any]],
                    package: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "package": package or package_info(),
        "suite": {"name": suite.name, "version": suite.version, "episodes_per_env": limit,
                  "concept_list_sha256": concept_list_sha256},
        "agent": card,
        "run": run,
        "map_pools": {env_id: {"scenes": len(spec), "sha256": spec.digest,
                               "per_concept": suite.map_pool.per_concept, "seed": suite.map_pool.seed}
                      for env_id, spec in pools.items()} if suite.map_pool else {},
        "summary": summarize(suite, records, pools),
        "records_sha256": records_digest(records),
        "records": records,
    }
