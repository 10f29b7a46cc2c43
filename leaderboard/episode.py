"""One episode of a harness run, as any worker (this process, a pool process, a Ray task) plays it.

The agent gets the support view for ``fit`` and query views (the episode's queries, then the mAP
pool) for ``predict``/``scores``, nothing else. Whatever it does wrong — raises, answers with
the wrong length or type, returns scores that are not finite numbers, runs past its time — is
recorded as a failed episode with its reason; the run goes on.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import pix2code_env  # noqa: F401  (registers the ids in every worker)
from agents.base import Agent, Classifier, query_view, support_view
from agents.registry import agent_class
from leaderboard.pool import PoolSpec, average_precision, dense_ranks, encode_ranks, scene_pool
from leaderboard.suites import EpisodeSpec
from pix2code_env.scoring import as_labels

SCORE_DIGITS = 6  # query scores are stored rounded: they are shown, not re-scored


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to play one episode (plain values: it crosses process boundaries)."""

    index: int
    spec: EpisodeSpec
    agent: str
    agent_options: tuple[tuple[str, Any], ...]
    modality: str
    family_options: tuple[tuple[str, Any], ...] = ()
    pool: PoolSpec | None = None
    timeout: float | None = None  # enforced in-process by an alarm when the backend cannot kill


class EpisodeTimeout(BaseException):
    """Raised into the agent when its time is up; a BaseException, so that an agent's own
    ``except Exception`` cannot swallow it."""


class Malformed(Exception):
    """The agent answered, but not with what the protocol asks for."""


_AGENTS: dict[tuple, Agent] = {}
_ENVS: dict[tuple, gym.Env] = {}


def build_agent(name: str, env_id: str, options: Mapping[str, Any], modality: str, concept_list: str | None) -> Agent:
    """The agent for one env, told the modality and concept list when its constructor takes them."""
    cls = agent_class(name)
    parameters = inspect.signature(cls).parameters
    kwargs = dict(options)
    if "modality" in parameters and "modality" not in kwargs:
        kwargs["modality"] = modality
    if concept_list is not None and "concept_list" in parameters and "concept_list" not in kwargs:
        kwargs["concept_list"] = concept_list
    return cls(env_id=env_id, **kwargs)


def _agent(job: Job) -> Agent:
    key = (job.agent, job.agent_options, job.spec.env_id, job.modality, job.family_options)
    if key not in _AGENTS:
        concept_list = dict(job.family_options).get("concept_list")
        _AGENTS[key] = build_agent(job.agent, job.spec.env_id, dict(job.agent_options), job.modality, concept_list)
    return _AGENTS[key]


def episode_env(env_id: str, subset: str, modality: str, family_options: tuple[tuple[str, Any], ...]) -> gym.Env:
    """One env per (id, subset, modality, options) and process, reused across episodes."""
    key = (env_id, subset, modality, family_options)
    if key not in _ENVS:
        _ENVS[key] = gym.make(env_id, subset=subset, modality=modality, family_options=dict(family_options) or None)
    return _ENVS[key]


def _base_record(spec: EpisodeSpec, info: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **spec.to_json(),
        "fingerprint": info["fingerprint"],
        "concept_id": info["concept_id"],
        "predictions": None, "scores": None, "pool_ranks": None,
        "score": 0.0, "average_precision": None,
        "program": None, "explanation": None, "fallback": None, "diagnostics": {},
        "seconds": 0.0, "failure": None,
    }


def failure_record(job: Job, reason: str, seconds: float = 0.0) -> dict[str, Any]:
    """The record of an episode whose worker never answered (killed, crashed): regenerated here."""
    spec = job.spec
    env = episode_env(spec.env_id, spec.subset, job.modality, job.family_options)
    _, info = env.reset(seed=spec.seed, options=spec.options)
    record = _base_record(spec, info)
    record.update(failure=reason, seconds=round(seconds, 4))
    return record


@contextlib.contextmanager
def alarm(seconds: float | None) -> Iterator[None]:
    """Raise :class:`EpisodeTimeout` after ``seconds`` (main thread of a Unix process only; the
    process backend enforces its timeout by killing the worker instead)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise EpisodeTimeout(f"timed out: no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def describe_error(error: BaseException) -> str:
    """``error: Type: message (at file:line in function)``: one line, where the agent failed."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {'/'.join(last.filename.replace(chr(92), '/').split('/')[-2:])}:{last.lineno} in {last.name})"
    text = str(error).strip()
    message = text.splitlines()[0] if text else ""
    return f"error: {type(error).__name__}: {message}{where}"[:500]


def check_scores(values: Any, length: int, what: str) -> np.ndarray | None:
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise Malformed(f"{what} are not numbers ({error})") from None
    if array.shape != (length,):
        raise Malformed(f"{what} have shape {array.shape}; expected ({length},): one score per item")
    if not np.all(np.isfinite(array)):
        raise Malformed(f"{what} hold a value that is not finite ({array[~np.isfinite(array)][0]})")
    return array


def _json_safe(value: Any) -> Any:
    """Diagnostics as plain JSON (numpy scalars become numbers; anything else its text)."""
    try:
        return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    except (TypeError, ValueError):
        return {"unserialisable": str(value)[:200]}


def _answer(classifier: Classifier, queries: Mapping[str, np.ndarray], n_query: int) -> tuple[np.ndarray, np.ndarray | None]:
    raw = classifier.predict(queries)
    try:
        predictions = as_labels(raw, "predictions", n_query)
    except (TypeError, ValueError) as error:
        raise Malformed(str(error)) from None
    return predictions.astype(np.int8), check_scores(classifier.scores(queries), n_query, "query scores")


def run_episode(job: Job, on_start: Callable[[], None] | None = None) -> dict[str, Any]:
    """Play one episode and return its record (JSON values only). ``job.timeout`` bounds the
    agent's own time (fit, predict, scores), not building the agent or the harness's set-up."""
    spec = job.spec
    env = episode_env(spec.env_id, spec.subset, job.modality, job.family_options)
    obs, info = env.reset(seed=spec.seed, options=spec.options)
    record = _base_record(spec, info)
    n_query = int(env.unwrapped.n_query)
    pool = pool_view = None
    if job.pool is not None:
        pool = scene_pool(job.pool)
        pool_view = pool.view(job.modality, tuple(env.unwrapped.image_shape))
    if on_start is not None:
        on_start()  # the set-up is done: from here on the clock runs against the agent
    start = time.perf_counter()
    try:
        agent = _agent(job)
        start = time.perf_counter()
        with alarm(job.timeout):
            classifier = agent.fit(support_view(obs))
            predictions, scores = _answer(classifier, query_view(obs), n_query)
            pool_ranks = None
            if pool_view is not None and scores is not None:
                pool_scores = check_scores(classifier.scores(pool_view), len(job.pool), "pool scores")
                pool_ranks = None if pool_scores is None else dense_ranks(pool_scores)
            extras = {
                "program": _text(classifier.program),
                "explanation": _text(getattr(classifier, "explanation", None)),
                "fallback": _text(classifier.fallback),
                "diagnostics": _json_safe(classifier.diagnostics() or {}),
            }
    except EpisodeTimeout as error:
        record.update(failure=str(error))
    except Malformed as error:
        record.update(failure=f"malformed answer: {error}")
    except Exception as error:  # the agent's own failure: recorded, never a lost run
        record.update(failure=describe_error(error))
    else:
        _, _, _, _, step_info = env.step(predictions)
        record.update(
            predictions=[int(p) for p in predictions],
            scores=None if scores is None else [round(float(s), SCORE_DIGITS) for s in scores],
            score=float(step_info["score"]),
            **extras,
        )
        if pool_ranks is not None and pool is not None:
            record["pool_ranks"] = encode_ranks(pool_ranks)
            record["average_precision"] = average_precision(pool.truth(info["concept_id"]), pool_ranks)
    record["seconds"] = round(time.perf_counter() - start, 4)
    return record


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
