"""The evaluation harness: an agent on every episode of a suite, journaled, resumable, on any backend.

    run = HarnessRun(agent="random", suite=get_suite("smoke"), out=Path("random--smoke.json"))
    submission = run.execute()

Each finished episode is appended to a JSON-lines journal beside the output (``OUT.journal.jsonl``)
as it arrives; a run that is killed and started again with the same arguments reads the journal,
plays only what is missing, and writes the same submission an uninterrupted run writes (records
are put in suite order, whatever order the backend finished them in). The journal is removed once
the submission is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.registry import agent_class
from leaderboard.backends import BACKENDS, ProcessPool, run_ray, run_serial
from leaderboard.episode import Job
from leaderboard.pool import suite_pool_specs
from leaderboard.suites import EpisodeSpec, Suite, resolve_concept_list
from leaderboard.submission import SCHEMA_VERSION, agent_card, dumps, hardware, make_submission, now, package_info

JOURNAL_FORMAT = 1


class JournalMismatch(ValueError):
    pass


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


def read_journal(path: Path, identity: dict[str, Any], plan: list[EpisodeSpec]) -> dict[int, dict[str, Any]]:
    """Records already finished by an earlier run of the same thing. A torn last line (the run was
    killed while writing it) is dropped; a journal of another run is an error, never mixed in."""
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if header is None:
        return {}
    if header.get("journal") != JOURNAL_FORMAT or header.get("run") != identity:
        raise JournalMismatch(
            f"journal {path} belongs to another run ({_describe(header.get('run'))}); "
            "delete it, or pass another --out, to start afresh"
        )
    done: dict[int, dict[str, Any]] = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            entry = json.loads(line)
            index, key, record = entry["index"], entry["key"], entry["record"]
        except (json.JSONDecodeError, KeyError, TypeError):
            if number == len(lines):
                break  # torn last line
            raise JournalMismatch(f"journal {path} line {number} is damaged; delete the journal to start afresh") from None
        if not (isinstance(index, int) and 0 <= index < len(plan) and plan[index].key == key):
            raise JournalMismatch(f"journal {path} line {number} is not an episode of this run's plan")
        done[index] = record
    return done


def _describe(identity: Any) -> str:
    if not isinstance(identity, dict):
        return "unreadable header"
    return f"agent {identity.get('agent')!r}, suite {identity.get('suite')!r}, modality {identity.get('modality')!r}"


class Journal:
    """Append-only JSON lines; the header names the run so a resume cannot mix two runs."""

    def __init__(self, path: Path, identity: dict[str, Any], fresh: bool) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.write_text(json.dumps({"journal": JOURNAL_FORMAT, "run": identity}, sort_keys=True) + "\n")
        else:
            self._drop_torn_tail()
        self.file = path.open("a")

    def _drop_torn_tail(self) -> None:
        text = self.path.read_text()
        if text and not text.endswith("\n"):
            self.path.write_text(text[: text.rfind("\n") + 1])

    def append(self, index: int, key: str, record: dict[str, Any]) -> None:
        self.file.write(json.dumps({"index": index, "key": key, "record": record}, sort_keys=True) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


@dataclass
class HarnessRun:
    """One (agent, suite) run. ``on_record(env_id)`` is called per finished episode (progress bars)."""

    agent: str
    suite: Suite
    out: Path
    agent_options: dict[str, Any] = field(default_factory=dict)
    modality: str | None = None
    episodes: int | None = None
    backend: str = "serial"
    workers: int | None = None  # default: 1 serial, the CPU count for process, the cluster's CPUs for ray
    timeout: float | None = 300.0
    kill_grace: float | None = None  # a worker silent for timeout + this is killed (default: max(30 s, timeout))
    concept_list: str | None = None
    ray_address: str | None = None
    card: dict[str, Any] = field(default_factory=dict)
    keep_journal: bool = False
    on_record: Callable[[str], None] | None = None
    on_stage: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; expected one of {list(BACKENDS)}")
        cls = agent_class(self.agent)  # unknown names list the known ones
        declared = tuple(getattr(cls, "modalities", ("image",)))
        self.modality = self.modality or declared[0]
        if self.modality not in declared:
            raise ValueError(f"agent {self.agent!r} reads modalities {list(declared)}; got --modality {self.modality!r}")
        for key, value in self.agent_options.items():
            json.dumps(value)  # options are part of the run's identity: JSON values only
        self.concept_list = resolve_concept_list(self.suite, self.concept_list)
        self.concept_list_sha256 = None
        if self.concept_list is not None:
            self.concept_list_sha256 = hashlib.sha256(Path(self.concept_list).read_bytes()).hexdigest()
        self.plan = self.suite.episodes(self.episodes)
        self.package = package_info()  # the code as it is when the run starts

    @property
    def identity(self) -> dict[str, Any]:
        """What makes two runs the same run (and their journals interchangeable)."""
        return {"agent": self.agent, "agent_options": self.agent_options, "suite": self.suite.name,
                "suite_version": self.suite.version, "episodes_per_env": self.episodes, "modality": self.modality,
                "concept_list_sha256": self.concept_list_sha256, "schema_version": SCHEMA_VERSION}

    def _stage(self, text: str) -> None:
        if self.on_stage is not None:
            self.on_stage(text)

    def jobs(self, pools: dict[str, Any], indices: list[int]) -> list[Job]:
        family_options = tuple(sorted(self.suite.family_options(self.concept_list).items()))
        options = tuple(sorted(self.agent_options.items()))
        return [Job(i, self.plan[i], self.agent, options, self.modality, family_options, pools.get(self.plan[i].env_id))
                for i in indices]

    def _results(self, jobs: list[Job]) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.backend == "serial":
            return run_serial(jobs, self.timeout, self.concept_list)
        if self.backend == "process":
            return ProcessPool(self.workers or os.cpu_count() or 1, self.timeout, self.concept_list,
                               self.kill_grace).run(jobs)
        return run_ray(jobs, self.timeout, self.concept_list, self.ray_address, self.workers, self.kill_grace)

    def execute(self) -> dict[str, Any]:
        """Run what the journal does not hold yet, write the submission to ``out``, return it."""
        started = time.perf_counter()
        journal_file = journal_path(self.out)
        done = read_journal(journal_file, self.identity, self.plan)
        if done:
            self._stage(f"resuming from {journal_file}: {len(done)} of {len(self.plan)} episodes already done")
        for index in done:
            if self.on_record:
                self.on_record(self.plan[index].env_id)
        self._stage("preparing the mAP pools" if self.suite.map_pool else "starting")
        pools = suite_pool_specs(self.suite, self.concept_list)
        todo = [i for i in range(len(self.plan)) if i not in done]
        journal = Journal(journal_file, self.identity, fresh=not done)
        try:
            for index, record in self._results(self.jobs(pools, todo)):
                journal.append(index, self.plan[index].key, record)
                done[index] = record
                if self.on_record:
                    self.on_record(self.plan[index].env_id)
        finally:
            journal.close()
        records = [done[i] for i in range(len(self.plan))]
        run = {"modality": self.modality, "agent_options": self.agent_options, "backend": self.backend,
               "workers": self.workers, "timeout_s": self.timeout, "created": now(),
               "wall_seconds": round(time.perf_counter() - started, 2), "hardware": hardware()}
        submission = make_submission(
            suite=self.suite, limit=self.episodes, concept_list_sha256=self.concept_list_sha256,
            card=agent_card(self.agent, self.modality, self.card), run=run, pools=pools, records=records,
            package=self.package,
        )
        write_atomic(self.out, dumps(submission))
        if not self.keep_journal:
            journal_file.unlink(missing_ok=True)
        return submission


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, path)
