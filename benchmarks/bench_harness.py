"""Throughput of the leaderboard harness: episodes per second with the ``random`` agent on
``curi-v0``, serially, on a process pool and on a local Ray cluster.

    python benchmarks/bench_harness.py                          # 200 episodes per split (1,800)
    python benchmarks/bench_harness.py --episodes 50 --backends serial process

Each backend runs the same episodes end to end (worker start-up, episode generation, the agent,
the mAP pool scores, the journal, the submission); the mAP pools are built once beforehand
(they are cached on disk for every later run anyway). Prints one line per backend and the
speed-ups over serial, with the machine's load average before and after.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from leaderboard.harness import HarnessRun  # noqa: E402
from leaderboard.pool import suite_pool_specs  # noqa: E402
from leaderboard.submission import strip_timings  # noqa: E402
from leaderboard.suites import get_suite  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200, help="episodes per CURI split (200: the whole suite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["serial", "process", "ray"])
    parser.add_argument("--agent", default="random")
    args = parser.parse_args()
    suite = get_suite("curi-v0")
    started = time.perf_counter()
    suite_pool_specs(suite)
    print(f"mAP pools ready in {time.perf_counter() - started:.1f} s; load average {os.getloadavg()}")
    results = {}
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            workers = 1 if backend == "serial" else args.workers
            run = HarnessRun(agent=args.agent, suite=suite, out=Path(tmp) / f"{backend}.json", episodes=args.episodes,
                             backend=backend, workers=workers)
            first: list[float] = []
            run.on_record = lambda _env: first.append(time.perf_counter()) if not first else None
            began = time.perf_counter()
            submission = run.execute()
            wall = time.perf_counter() - began
            n = len(submission["records"])
            records = strip_timings(submission["records"])
            same = "" if reference is None else (" (records identical to serial)" if records == reference
                                                 else " (RECORDS DIFFER FROM SERIAL)")
            reference = records if reference is None else reference
            results[backend] = n / wall
            print(f"{backend:8s} workers={workers}: {n} episodes in {wall:.1f} s = {n / wall:.1f} episodes/s; "
                  f"first episode after {first[0] - began:.1f} s{same}")
    if "serial" in results:
        for backend, rate in results.items():
            if backend != "serial":
                print(f"speed-up {backend} / serial: {rate / results['serial']:.2f}x")
    print(f"load average after: {os.getloadavg()}")
    if "ray" in results:
        import ray

        ray.shutdown()


if __name__ == "__main__":
    main()
