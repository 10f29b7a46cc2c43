"""Where episodes run: this process, a pool of worker processes, or Ray tasks on a cluster.

Every backend takes the same :class:`~leaderboard.episode.Job` list and yields ``(index, record)``
as episodes finish, in any order; the harness puts records back in suite order, so the results
do not depend on the backend. The per-episode timeout is enforced twice: an alarm in the worker
stops the agent after ``timeout`` seconds of its own time (Python code; a call blocked in C does
not see it), and a worker that still has not answered ``timeout`` + ``grace`` seconds after the
agent started (pool; after it got the episode: Ray) is killed — the pool process is replaced, the Ray task
cancelled (which kills its worker) — and the episode recorded as timed out.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from leaderboard.episode import Job, failure_record, run_episode
from leaderboard.suites import concept_list_environment

BACKENDS = ("serial", "process", "ray")
SETUP_ALLOWANCE = 300.0  # seconds a worker may take to load an env and its scene bank before the agent starts
Result = tuple[int, dict[str, Any]]


def timeout_reason(seconds: float) -> str:
    return f"timed out: no answer within {seconds:g} s (worker stopped)"


def kill_after(timeout: float | None, grace: float | None) -> float | None:
    """Seconds after which a worker that has not answered is killed (None: never)."""
    if not timeout:
        return None
    return timeout + (max(30.0, timeout) if grace is None else grace)


def run_serial(jobs: list[Job], timeout: float | None, concept_list: str | None) -> Iterator[Result]:
    with concept_list_environment(concept_list):
        for job in jobs:
            yield job.index, run_episode(replace(job, timeout=timeout))


# ----------------------------------------------------------------------------- process pool


def _worker_main(conn: Connection, concept_list: str | None) -> None:
    """A pool worker: play the jobs it is sent until told to stop (None) or its parent goes."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if "torch" in sys.modules:  # the forkserver may have imported it before the variable was set
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    with concept_list_environment(concept_list):
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            record = run_episode(job, on_start=lambda: conn.send(("started", job.index)))
            conn.send(("done", job.index, record))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    job: Job | None = None
    deadline: float = float("inf")
    started: float = 0.0


class ProcessPool:
    """``workers`` processes, one episode each at a time; a worker past its deadline is killed and
    replaced, and its episode recorded as timed out."""

    def __init__(self, workers: int, timeout: float | None, concept_list: str | None, grace: float | None = None) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            self.context.set_forkserver_preload(["leaderboard.episode"])
        self.size = workers
        self.timeout = timeout
        self.kill_after = kill_after(timeout, grace)
        self.concept_list = concept_list
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker_main, args=(child, self.concept_list), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _stop(self, worker: _Worker, kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def run(self, jobs: list[Job]) -> Iterator[Result]:
        pending = deque(jobs)
        self.workers = [self._start() for _ in range(min(self.size, max(1, len(jobs))))]
        try:
            while pending or any(w.job is not None for w in self.workers):
                now = time.monotonic()
                for worker in self.workers:
                    if worker.job is None and pending:
                        worker.job = replace(pending.popleft(), timeout=self.timeout)
                        worker.started = now
                        # until the worker says its set-up is done, allow for a slow start
                        worker.deadline = now + self.kill_after + SETUP_ALLOWANCE if self.kill_after else float("inf")
                        worker.conn.send(worker.job)
                busy = [w for w in self.workers if w.job is not None]
                next_deadline = min(w.deadline for w in busy)
                ready = wait([w.conn for w in busy], timeout=None if next_deadline == float("inf")
                             else max(0.0, next_deadline - time.monotonic()))
                for worker in busy:
                    if worker.conn in ready:
                        result = self._collect(worker)
                        if result is not None:
                            yield result
                    elif time.monotonic() >= worker.deadline:
                        yield self._replace(worker, timeout_reason(self.timeout or 0.0))
        finally:
            for worker in self.workers:
                self._stop(worker, kill=worker.job is not None)
            self.workers = []

    def _collect(self, worker: _Worker) -> Result | None:
        """The worker's finished episode, or None when it only said that the agent has started."""
        job = worker.job
        assert job is not None
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            return self._replace(worker, f"error: the worker process died (exit code {worker.process.exitcode})")
        if message[0] == "started":
            worker.started = time.monotonic()
            worker.deadline = worker.started + self.kill_after if self.kill_after else float("inf")
            return None
        worker.job = None
        return message[1], message[2]

    def _replace(self, worker: _Worker, reason: str) -> Result:
        """Record the worker's episode as failed, kill it and start a fresh one in its place."""
        job = worker.job
        assert job is not None
        seconds = time.monotonic() - worker.started
        self._stop(worker, kill=True)
        self.workers[self.workers.index(worker)] = self._start()
        with concept_list_environment(dict(job.family_options).get("concept_list")):
            return job.index, failure_record(job, reason, seconds)


# ----------------------------------------------------------------------------- Ray


def _ray_episode(job: Job, concept_list: str | None) -> dict[str, Any]:
    with concept_list_environment(concept_list):
        return run_episode(job)


def ray_init(address: str | None, workers: int | None) -> Any:
    """Connect to the cluster at ``address`` (or $RAY_ADDRESS), or start a local one with ``workers``
    CPUs whose workers import this checkout."""
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs Ray: pip install 'pix2code-gym[ray]'") from None
    if not ray.is_initialized():
        if address or os.environ.get("RAY_ADDRESS"):
            ray.init(address=address, log_to_driver=False)
        else:
            root = str(Path(__file__).resolve().parents[1])
            path = os.pathsep.join([root, *(p for p in sys.path if p)])
            ray.init(num_cpus=workers or 2, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}})
    return ray


def run_ray(jobs: list[Job], timeout: float | None, concept_list: str | None,
            address: str | None = None, workers: int | None = None, grace: float | None = None) -> Iterator[Result]:
    """One remote task per episode, at most ``workers`` (default: the cluster's CPUs) in flight.

    A task that has not answered ``timeout`` + ``grace`` seconds after it was submitted (queueing
    and worker start-up included) is cancelled, which kills its worker."""
    ray = ray_init(address, workers)
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_episode)
    limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    hard = kill_after(timeout, grace)
    pending = deque(jobs)
    running: dict[Any, tuple[Job, float]] = {}
    while pending or running:
        while pending and len(running) < limit:
            job = replace(pending.popleft(), timeout=timeout)
            running[remote.remote(job, concept_list)] = (job, time.monotonic())
        deadline = min(started + hard for _, started in running.values()) if hard else None
        wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
        done, _ = ray.wait(list(running), num_returns=1, timeout=wait_for)
        for ref in done:
            job, started = running.pop(ref)
            try:
                yield job.index, ray.get(ref)
            except Exception as error:  # the worker died (killed, out of memory): the episode failed
                with concept_list_environment(concept_list):
                    yield job.index, failure_record(job, f"error: the Ray task failed ({type(error).__name__})",
                                                    time.monotonic() - started)
        if hard:
            now = time.monotonic()
            for ref, (job, started) in list(running.items()):
                if now - started >= hard:
                    ray.cancel(ref, force=True)
                    running.pop(ref)
                    with concept_list_environment(concept_list):
                        yield job.index, failure_record(job, timeout_reason(timeout), now - started)
