"""Collect the programs the Pix2Code agent finds on 200 test episodes (nine CURI splits, RelKP and
the classic Kandinsky patterns), stored as the fixture ``tests/data/agent_programs.json`` that
``tests/test_explain.py`` explains and reads back: each episode's maximum-posterior program, and
the other distinct programs of the agents' top-k lists. Runs the agent once per episode (~1-2 s
each), so it is a script, not a test.

    PYTHONPATH=. OMP_NUM_THREADS=1 nice -n 10 python benchmarks/collect_explain_programs.py [--out FILE]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import gymnasium as gym

import pix2code_env  # noqa: F401  (registers the ids)
from agents import make_agent

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "agent_programs.json"
# (env id, episodes): nine CURI splits, RelKP and the classic patterns; 200 episodes in all.
PLAN = [
    ("Pix2Code-CURI-IID-v0", 17), ("Pix2Code-CURI-Comp-v0", 17), ("Pix2Code-CURI-BindingColor-v0", 17),
    ("Pix2Code-CURI-BindingShape-v0", 17), ("Pix2Code-CURI-Intrinsic-v0", 17), ("Pix2Code-CURI-Extrinsic-v0", 17),
    ("Pix2Code-CURI-Counting-v0", 17), ("Pix2Code-CURI-Boolean-v0", 17), ("Pix2Code-CURI-Complexity-v0", 17),
    ("Pix2Code-Kandinsky-v0", 33),
    ("Pix2Code-Kandinsky-OneRed-v0", 2), ("Pix2Code-Kandinsky-OneTriangle-v0", 2), ("Pix2Code-Kandinsky-TwoPairs-v0", 2),
    ("Pix2Code-Kandinsky-ThreePairs-v0", 2), ("Pix2Code-Kandinsky-CloseBy-v0", 2), ("Pix2Code-Kandinsky-RedTriangle-v0", 2),
    ("Pix2Code-Kandinsky-OnlinePair-v0", 2),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[args.index("--out") + 1]) if "--out" in args else OUT
    episodes: list[dict] = []
    others: dict[str, set[str]] = {"curi": set(), "kandinsky": set()}
    start = time.time()
    for env_id, count in PLAN:
        agent = make_agent("pix2code", env_id=env_id, modality="scene")
        env = gym.make(env_id, subset="test", modality="scene")
        family = "curi" if "CURI" in env_id else "kandinsky"
        for seed in range(count):
            obs, info = env.reset(seed=seed)
            classifier = agent.fit(obs)
            episodes.append({"env_id": env_id, "family": family, "seed": seed, "concept_id": info["concept_id"],
                             "program": classifier.program})
            others[family].update(p.program for p in classifier.result.programs)
            print(f"{time.time() - start:7.1f}s {env_id} {seed} {classifier.program}", flush=True)
    mapped = {(e["family"], e["program"]) for e in episodes}
    out.write_text(json.dumps({
        "command": "PYTHONPATH=. python benchmarks/collect_explain_programs.py",
        "agent": "make_agent('pix2code', env_id=ID, modality='scene') (default budget), subset 'test', seeds 0..n-1",
        "seconds": round(time.time() - start, 1),
        "episodes": episodes,
        "other_programs": {f: sorted(p for p in ps if (f, p) not in mapped) for f, ps in others.items()},
    }, indent=1) + "\n")
    print(f"wrote {len(episodes)} episodes to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
