"""The harness: honest views, failures recorded per episode (crash, wrong answer, timeout, dead
worker), backends that agree, and a killed run that resumes to the same submission."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents.base import QUERY_KEYS, SUPPORT_KEYS, Agent, Classifier
from agents.reference import RandomAgent
from leaderboard.harness import HarnessRun, JournalMismatch, journal_path
from leaderboard.submission import strip_timings
from leaderboard.suites import get_suite
from leaderboard.verify import verify_file

ROOT = Path(__file__).resolve().parents[1]
HERE = "tests.test_leaderboard_harness"
SMOKE = get_suite("smoke")


# --------------------------------------------------------------------------- agents that misbehave


class ViewChecker(Agent):
    """Refuses to work unless fit sees only support keys and predict only query keys."""

    name = "view-checker"
    modalities = ("scene", "image", "both")

    def fit(self, obs):
        assert set(obs) <= set(SUPPORT_KEYS) and "support_labels" in obs, sorted(obs)

        class Checked(Classifier):
            def predict(self, queries):
                assert set(queries) <= set(QUERY_KEYS), sorted(queries)
                return np.zeros(len(next(iter(queries.values()))), dtype=np.int8)

            def scores(self, queries):
                assert set(queries) <= set(QUERY_KEYS), sorted(queries)
                return np.zeros(len(next(iter(queries.values()))))

        return Checked()


class _Answer(Classifier):
    def __init__(self, answer):
        self.answer = answer

    def predict(self, queries):
        return self.answer(len(next(iter(queries.values()))))


class Misbehaving(Agent):
    """In turn (episodes run in suite order on the serial backend): raises, answers one label
    short, answers float labels, answers properly."""

    name = "misbehaving"
    modalities = ("scene",)
    calls = 0

    def fit(self, obs):
        Misbehaving.calls += 1
        kind = Misbehaving.calls % 4
        if kind == 1:
            raise RuntimeError("boom")
        if kind == 2:
            return _Answer(lambda q: np.zeros(q - 1, dtype=np.int8))
        if kind == 3:
            return _Answer(lambda q: np.zeros(q, dtype=np.float32))
        return _Answer(lambda q: np.zeros(q, dtype=np.int8))


class Sleeper(RandomAgent):
    """Random, but never answers an episode whose support starts with a positive label (in the smoke
    suite: the first episode of Pix2Code-CURI-v0 and of Pix2Code-Kandinsky-OneRed-v0)."""

    name = "sleeper"

    def fit(self, obs):
        if obs["support_labels"][0] == 1:
            time.sleep(60)
        return super().fit(obs)


class Stubborn(RandomAgent):
    """Like Sleeper, but deaf to the alarm (SIGALRM blocked, as in a long C call): only killing the
    worker stops it."""

    name = "stubborn"

    def fit(self, obs):
        if obs["support_labels"][0] == 1:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(60)
        return super().fit(obs)


class Crasher(RandomAgent):
    """Kills its own process on episodes whose support starts with a positive label."""

    name = "crasher"

    def fit(self, obs):
        if obs["support_labels"][0] == 1:
            os._exit(3)
        return super().fit(obs)


class SlowRandom(RandomAgent):
    """Random, a quarter second per episode, and it counts its episodes in $LB_CALLS."""

    name = "slow-random"

    def fit(self, obs):
        time.sleep(0.25)
        if os.environ.get("LB_CALLS"):
            with open(os.environ["LB_CALLS"], "a") as calls:
                calls.write("fit\n")
        return super().fit(obs)


def _run(tmp_path, agent, name="out.json", **kwargs):
    kwargs.setdefault("suite", SMOKE)
    return HarnessRun(agent=agent, out=tmp_path / name, **kwargs).execute()


def _records(submission):
    return strip_timings(submission["records"])


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def serial_random(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("serial"), "random")


def test_an_honest_run_writes_a_submission_that_verifies(serial_random, tmp_path):
    assert serial_random["summary"]["episodes"] == len(SMOKE.episodes())
    assert serial_random["summary"]["failures"] == 0
    record = serial_random["records"][0]
    assert len(record["predictions"]) == 25 and set(record["predictions"]) <= {0, 1}
    assert record["average_precision"] is not None and record["pool_ranks"]
    assert serial_random["agent"]["input_modality"] == "scene" and not serial_random["agent"]["uses_ground_truth_objects"]
    path = tmp_path / "random.json"
    path.write_text(json.dumps(serial_random))
    assert verify_file(path).episodes == len(SMOKE.episodes())


def test_agents_see_only_the_support_view_in_fit_and_query_views_in_predict(tmp_path):
    for modality in ("scene", "image"):
        submission = _run(tmp_path, f"{HERE}:ViewChecker", modality=modality, episodes=1, name=f"{modality}.json")
        assert submission["summary"]["failures"] == 0, [r["failure"] for r in submission["records"]]
        assert submission["run"]["modality"] == modality


def test_crashes_and_malformed_answers_are_recorded_per_episode(tmp_path):
    Misbehaving.calls = 0
    submission = _run(tmp_path, f"{HERE}:Misbehaving", episodes=2)
    failures = [r["failure"] for r in submission["records"]]
    assert failures[0].startswith("error: RuntimeError: boom (at tests/test_leaderboard_harness.py:")
    assert failures[1] == "malformed answer: predictions has shape (24,); expected (25,): one 0/1 label per query"
    assert failures[2] == "malformed answer: predictions has dtype float32; expected integer or bool 0/1 labels"
    assert failures[3] is None and failures[4].startswith("error: RuntimeError")
    failed = submission["records"][0]
    assert failed["predictions"] is None and failed["score"] == 0.0 and failed["fingerprint"]
    assert failures[5].startswith("malformed answer: predictions has shape (199,); expected (200,)")
    assert submission["summary"]["failures"] == 5


def test_a_timeout_stops_the_agent_in_every_backend(tmp_path):
    serial = _run(tmp_path, f"{HERE}:Sleeper", episodes=1, timeout=1.0, name="serial.json")
    pool = _run(tmp_path, f"{HERE}:Sleeper", episodes=1, timeout=1.0, backend="process", workers=1, name="pool.json")
    for submission in (serial, pool):
        failures = [r["failure"] for r in submission["records"]]
        assert failures[0] == failures[2] == "timed out: no answer within 1 s" and failures[1] is None, failures


def test_an_agent_deaf_to_the_alarm_is_killed_with_its_worker(tmp_path):
    pool = _run(tmp_path, f"{HERE}:Stubborn", episodes=1, timeout=1.0, kill_grace=1.0, backend="process", workers=1)
    failures = [r["failure"] for r in pool["records"]]
    assert failures[0] == failures[2] == "timed out: no answer within 1 s (worker stopped)" and failures[1] is None


def test_a_dead_worker_is_replaced_and_its_episode_recorded(tmp_path):
    submission = _run(tmp_path, f"{HERE}:Crasher", episodes=2, backend="process", workers=2)
    failures = [r["failure"] for r in submission["records"]]
    assert any(f and f.startswith("error: the worker process died (exit code 3)") for f in failures), failures
    assert any(f is None for f in failures)


def test_process_pool_results_equal_serial_results(serial_random, tmp_path):
    pool = _run(tmp_path, "random", backend="process", workers=2)
    assert _records(pool) == _records(serial_random)
    assert pool["summary"] == serial_random["summary"] and pool["records_sha256"] == serial_random["records_sha256"]


def _without_timings(text):
    text = re.sub(r'"(seconds|wall_seconds)": ?[0-9.e-]+', r'"\1": T', text)
    return re.sub(r'"created": ?"[^"]*"', '"created": T', text)


def test_a_killed_run_resumes_to_the_same_submission(tmp_path, monkeypatch):
    agent = f"{HERE}:SlowRandom"
    whole = _run(tmp_path, agent, name="whole.json")
    out = tmp_path / "resumed.json"
    calls = tmp_path / "calls.txt"
    command = [sys.executable, "-m", "leaderboard.cli", "evaluate", "--agent", agent, "--suite", "smoke", "--out", str(out)]
    env = dict(os.environ, LB_CALLS=str(calls), PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = journal_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 5:  # header + 4 episodes
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists(), "the run finished before it could be killed"
    done = len(journal.read_text().splitlines()) - 1
    assert 4 <= done < len(SMOKE.episodes())
    before = len(calls.read_text().splitlines())
    monkeypatch.setenv("LB_CALLS", str(calls))
    HarnessRun(agent=agent, suite=SMOKE, out=out).execute()
    assert len(calls.read_text().splitlines()) - before == len(SMOKE.episodes()) - done  # only the missing ones ran
    assert not journal.exists()
    assert _without_timings(out.read_text()) == _without_timings((tmp_path / "whole.json").read_text())
    assert whole["records_sha256"] == json.loads(out.read_text())["records_sha256"]


def test_a_journal_of_another_run_is_refused(tmp_path):
    out = tmp_path / "out.json"
    journal_path(out).write_text(json.dumps({"journal": 1, "run": {"agent": "prior", "suite": "smoke"}}) + "\n")
    with pytest.raises(JournalMismatch, match="belongs to another run .*agent 'prior'.*delete it"):
        HarnessRun(agent="random", suite=SMOKE, out=out).execute()


def test_bad_names_list_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown agent 'nobody'; expected one of \[.*'random'"):
        HarnessRun(agent="nobody", suite=SMOKE, out=tmp_path / "x.json")
    with pytest.raises(ValueError, match=r"reads modalities \['scene', 'image', 'both'\]; got --modality 'pixels'"):
        HarnessRun(agent="pix2code", suite=SMOKE, out=tmp_path / "x.json", modality="pixels")
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        HarnessRun(agent="random", suite=SMOKE, out=tmp_path / "x.json", backend="gpu")


def test_the_command_line_keeps_both_evaluate_forms(tmp_path, capsys):
    from leaderboard.cli import main

    assert main(["evaluate", "random", "Pix2Code-CURI-v0", "--episodes", "2"]) == 0
    out = tmp_path / "cli.json"
    assert main(["evaluate", "--agent", "prior", "--suite", "smoke", "--episodes", "1", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["summary"]["episodes"] == 3
    assert main(["evaluate", "--agent", "prior", "--suite", "nope"]) == 2
    assert main(["evaluate"]) == 2
    text = capsys.readouterr().out
    assert "unknown suite 'nope'; expected one of" in text and "--agent AGENT --suite SUITE" in text
