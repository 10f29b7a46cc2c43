"""The Ray backend: episodes as remote tasks on a local cluster (2 CPUs) give the serial results.

Ray is an optional extra (``pip install .[ray]``); CI installs it and sets
``PIX2CODE_REQUIRE_RAY=1`` so that this test fails there instead of skipping.
"""

import os

import pytest

from leaderboard.harness import HarnessRun
from leaderboard.submission import strip_timings
from leaderboard.suites import get_suite

if os.environ.get("PIX2CODE_REQUIRE_RAY"):
    import ray
else:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install '.[ray]')")


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
                 [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.environ.get("PYTHONPATH", "")])}})
    yield
    ray.shutdown()


def test_ray_results_equal_serial_results(local_cluster, tmp_path):
    suite = get_suite("smoke")
    serial = HarnessRun(agent="random", suite=suite, out=tmp_path / "serial.json").execute()
    on_ray = HarnessRun(agent="random", suite=suite, out=tmp_path / "ray.json", backend="ray", workers=2).execute()
    assert strip_timings(on_ray["records"]) == strip_timings(serial["records"])
    assert on_ray["summary"] == serial["summary"] and on_ray["records_sha256"] == serial["records_sha256"]
    assert on_ray["run"]["backend"] == "ray"


def test_ray_tasks_that_run_too_long_are_cancelled_and_recorded(local_cluster, tmp_path):
    agent = "tests.test_leaderboard_harness:Sleeper"
    submission = HarnessRun(agent=agent, suite=get_suite("smoke"), out=tmp_path / "sleepy.json", backend="ray",
                            workers=2, episodes=1, timeout=2.0).execute()
    failures = [r["failure"] for r in submission["records"]]
    assert failures[0] == failures[2] == "timed out: no answer within 2 s" and failures[1] is None, failures


def test_a_ray_task_deaf_to_the_alarm_is_cancelled(local_cluster, tmp_path):
    agent = "tests.test_leaderboard_harness:Stubborn"
    submission = HarnessRun(agent=agent, suite=get_suite("smoke"), out=tmp_path / "stubborn.json", backend="ray",
                            workers=2, episodes=1, timeout=1.0, kill_grace=5.0).execute()
    failures = [r["failure"] for r in submission["records"]]
    assert failures[0] == failures[2] == "timed out: no answer within 1 s (worker stopped)" and failures[1] is None
