"""Neural baselines: test accuracy of every shipped weight file, and throughput.

Accuracy: class-balanced accuracy on test-subset episodes, seeds 0..N-1 (default 200), made by
the env at the modality and image size each weight file was trained for, beside ``random`` on the
same episodes (``prior`` is exactly 0.5) and CURI's published schema/image figures (curi.md §9).
``--update-cards`` writes each figure into the weight file's JSON card.

Throughput: episodes per second of each shipped model (fit + predict, episodes already made;
and training steps), and PPO env steps per second with :class:`FewShotExtractor` against SB3's
default ``MultiInputPolicy`` at the same PPO settings on 48x72 CURI images.

    python benchmarks/bench_neural.py accuracy --episodes 200 [--update-cards] [--only protonet]
    python benchmarks/bench_neural.py throughput [--ppo-steps 3000 --default-steps 1000 --train-steps 10]
    python benchmarks/bench_neural.py table      # docs/BENCHMARKS.md's table from the cards' test figures
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.neural.data import Source, cached_episodes  # noqa: E402
from agents.neural.weights import read_card, sha256_file, shipped, write_json  # noqa: E402
from agents.reference import RandomAgent  # noqa: E402
from agents.registry import make_agent  # noqa: E402
from pix2code_env.scoring import bootstrap_ci, class_balanced_accuracy  # noqa: E402

console = Console()
CACHE = Path(os.environ.get("PIX2CODE_BENCH_CACHE", Path.home() / ".cache" / "pix2code-gym" / "bench-neural"))

#: curi.md §9, read from CURI's README figure (about ±0.02): (schema, image) class-balanced accuracy.
CURI_PUBLISHED = {
    "Pix2Code-CURI-v0": (0.89, 0.88), "Pix2Code-CURI-IID-v0": (0.89, 0.88), "Pix2Code-CURI-Comp-v0": (0.88, 0.88),
    "Pix2Code-CURI-BindingColor-v0": (0.76, 0.77), "Pix2Code-CURI-BindingShape-v0": (0.78, 0.79),
    "Pix2Code-CURI-Intrinsic-v0": (0.86, 0.86), "Pix2Code-CURI-Extrinsic-v0": (0.91, 0.92),
    "Pix2Code-CURI-Counting-v0": (0.82, 0.78), "Pix2Code-CURI-Boolean-v0": (0.87, 0.85),
    "Pix2Code-CURI-Complexity-v0": (0.87, 0.85),
}


def observations(arrays: dict[str, np.ndarray], i: int, modality: str) -> tuple[dict, dict]:
    """(support observation, query observation) of episode ``i`` in the env's key names."""
    if modality == "image":
        support = {"support_images": arrays["support"][i], "support_labels": arrays["support_labels"][i]}
        return support, {"query_images": arrays["query"][i]}
    support = {"support_objects": arrays["support"][i], "support_object_mask": arrays["support_mask"][i].astype(np.int8),
               "support_labels": arrays["support_labels"][i]}
    return support, {"query_objects": arrays["query"][i], "query_object_mask": arrays["query_mask"][i].astype(np.int8)}


def score(agent, arrays: dict[str, np.ndarray], modality: str) -> tuple[np.ndarray, float]:
    """Per-episode class-balanced accuracy and seconds per episode (fit + predict)."""
    scores = []
    start = time.perf_counter()
    for i in range(len(arrays["support_labels"])):
        support, query = observations(arrays, i, modality)
        predicted = agent.fit(support).predict(query)
        scores.append(class_balanced_accuracy(arrays["query_labels"][i], predicted))
    return np.array(scores), (time.perf_counter() - start) / len(scores)


def test_episodes(env_id: str, modality: str, image_shape, episodes: int) -> dict[str, np.ndarray]:
    source = Source(env_id, "test", modality, tuple(image_shape) if image_shape else None)
    with console.status(f"making {episodes} test episodes of {env_id} ({modality})"):
        return cached_episodes(source, range(episodes), CACHE)


def accuracy(args: argparse.Namespace) -> None:
    rows = []
    for (model, env_id, modality), path in sorted(shipped().items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        if args.only and model not in args.only:
            continue
        if args.env and env_id not in args.env:
            continue
        agent = make_agent(model, env_id=env_id, modality=modality, threads=1)
        arrays = test_episodes(env_id, modality, agent.spec.image_shape, args.episodes)
        scores, seconds = score(agent, arrays, modality)
        random_scores, _ = score(RandomAgent(env_id), arrays, modality)
        summary = bootstrap_ci(scores)
        card = read_card(path)
        row = {"model": model, "env_id": env_id, "modality": modality, "mean": round(summary.mean, 4),
               "ci95": [round(summary.low, 4), round(summary.high, 4)], "random": round(float(random_scores.mean()), 4),
               "prior": 0.5, "episodes": len(scores), "seeds": [0, len(scores) - 1], "subset": "test",
               "image_shape": agent.spec.image_shape, "seconds_per_episode": round(seconds, 4),
               "published": CURI_PUBLISHED.get(env_id), "wall_seconds": card.get("wall_seconds"),
               "steps": card.get("steps"), "val": card.get("val", {}).get("class_balanced_accuracy")}
        rows.append(row)
        console.print(f"{model:12s} {env_id:32s} {modality:6s} {row['mean']:.3f} [{row['ci95'][0]:.3f}, {row['ci95'][1]:.3f}] "
                      f"random {row['random']:.3f}")
        if args.update_cards:
            card["test"] = {"class_balanced_accuracy": row["mean"], "ci95": row["ci95"], "episodes": row["episodes"],
                            "seeds": row["seeds"], "subset": "test", "random": row["random"], "prior": 0.5,
                            "command": f"python benchmarks/bench_neural.py accuracy --episodes {args.episodes} --update-cards",
                            "measured": time.strftime("%Y-%m-%d")}
            assert card["sha256"] == sha256_file(path)
            write_json(path.with_suffix(".json"), card)
    table = Table(title=f"class-balanced accuracy, {args.episodes} test episodes (seeds 0..{args.episodes - 1})")
    for name in ("model", "env", "modality", "accuracy [95% CI]", "random", "CURI published schema / image", "train s / steps"):
        table.add_column(name)
    for r in rows:
        published = "" if r["published"] is None else f"{r['published'][0]:.2f} / {r['published'][1]:.2f}"
        table.add_row(r["model"], r["env_id"], r["modality"], f"{r['mean']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]",
                      f"{r['random']:.3f}", published, f"{r['wall_seconds']} / {r['steps']}")
    console.print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


COLUMNS = (("protonet", "scene"), ("transformer", "scene"), ("protonet", "image"), ("transformer", "image"), ("ppo", "image"))


SUBMISSIONS = Path(__file__).resolve().parents[1] / "leaderboard" / "submissions"
#: env id -> (suite, the env's name in that suite's submissions)
LEADERBOARD_ENVS = {"Pix2Code-CURI-v0": ("curi-v0", "Pix2Code-CURI-IID-v0"), "Pix2Code-Kandinsky-v0": ("kandinsky-v0", "Pix2Code-Kandinsky-v0")}


def leaderboard_mean(agent: str, env_id: str) -> float | None:
    """An agent's mean accuracy on an env in the published leaderboard runs (their own test episodes)."""
    suite, name = LEADERBOARD_ENVS.get(env_id, ("curi-v0", env_id))
    path = SUBMISSIONS / f"{agent}--{suite}.json"
    if not path.exists():
        return None
    env = json.loads(path.read_text())["summary"]["envs"].get(name)
    return None if env is None else env["accuracy"]["mean"]


def markdown(rows: list[dict]) -> str:
    """The accuracy rows as one markdown table: an env a row, a (model, modality) a column; then
    Pix2Code (object tables / pixels) and the strong oracle from the published leaderboard runs."""
    by_env: dict[str, dict] = {}
    for r in rows:
        by_env.setdefault(r["env_id"], {})[(r["model"], r["modality"])] = r
    head = ["env"] + [f"{m} {mod}" for m, mod in COLUMNS] + ["random", "prior", "CURI published schema / image",
                                                            "Pix2Code objects / pixels*", "oracle-strong*"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for env_id, cells in by_env.items():
        values = []
        for key in COLUMNS:
            r = cells.get(key)
            values.append("–" if r is None else f"{r['mean']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]")
        randoms = [r["random"] for r in cells.values()]
        published = CURI_PUBLISHED.get(env_id)
        ours = [leaderboard_mean(agent, env_id) for agent in ("pix2code", "pix2code-image", "oracle-strong")]
        lines.append("| " + " | ".join([env_id, *values, f"{np.mean(randoms):.3f}", "0.500",
                                        "" if published is None else f"{published[0]:.2f} / {published[1]:.2f}",
                                        " / ".join("–" if x is None else f"{x:.3f}" for x in ours[:2]),
                                        "–" if ours[2] is None else f"{ours[2]:.3f}"]) + " |")
    lines.append("")
    lines.append("\\* the published leaderboard runs (`leaderboard/submissions/`: suites `curi-v0` and "
                 "`kandinsky-v0`, their own 200 and 100 test episodes per env)")
    return "\n".join(lines)


def from_cards() -> list[dict]:
    """The test rows written into the cards by ``accuracy --update-cards`` (cards without one are left out)."""
    rows = []
    for (model, env_id, modality), path in sorted(shipped().items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        test = read_card(path).get("test")
        if test is not None:
            rows.append({"model": model, "env_id": env_id, "modality": modality, "mean": test["class_balanced_accuracy"],
                         "ci95": test["ci95"], "random": test["random"]})
    return rows


def training_rate(model: str, env_id: str, modality: str, steps: int) -> float:
    """Training episodes per CPU second of one model at its default settings (episodes already made)."""
    from agents.neural.config import model_spec, settings
    from agents.neural.models import balanced_loss, build_model
    from agents.neural.train import tensors

    s = settings([model, "--env", env_id, "--modality", modality, "--out", "unused"])
    torch.manual_seed(0)
    net = build_model(model_spec(s))
    optimizer = torch.optim.Adam(net.parameters(), lr=s.lr)
    arrays = test_episodes(env_id, modality, s.image_shape, 20)
    if arrays["query"].shape[1] > 25:  # Kandinsky test episodes have 200 queries; training episodes 25
        arrays = {k: (v[:, :25] if k.startswith("query") else v) for k, v in arrays.items()}
    rng = np.random.default_rng(0)
    cpu = 0.0
    for step in range(steps + 1):
        batch = tensors(arrays, rng.integers(0, len(arrays["support"]), size=s.batch))
        start = time.process_time()
        loss = balanced_loss(net(batch), batch["query_labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        cpu += (time.process_time() - start) if step else 0.0  # the first step warms up
    return steps * s.batch / cpu


def throughput(args: argparse.Namespace) -> None:
    from agents.neural.ppo_train import steps_per_second

    torch.set_num_threads(1)
    table = Table(title="throughput, one process, torch threads 1 (per CPU second of the process; wall in brackets)")
    for name in ("measure", "value"):
        table.add_column(name)
    for model, modality in (("protonet", "scene"), ("transformer", "scene"), ("protonet", "image"), ("transformer", "image")):
        for env_id in ("Pix2Code-CURI-v0", "Pix2Code-Kandinsky-v0"):
            rate = training_rate(model, env_id, modality, args.train_steps)
            table.add_row(f"{model} {modality} {env_id}: training episodes / CPU s", f"{rate:.1f}")
            console.print(f"train {model} {modality} {env_id}: {rate:.1f} episodes per CPU second")
    for (model, env_id, modality), _ in sorted(shipped().items()):
        if env_id not in ("Pix2Code-CURI-v0", "Pix2Code-Kandinsky-v0"):
            continue
        agent = make_agent(model, env_id=env_id, modality=modality)
        arrays = test_episodes(env_id, modality, agent.spec.image_shape, 20)
        cpu = time.process_time()
        _, seconds = score(agent, arrays, modality)
        cpu = (time.process_time() - cpu) / len(arrays["support"])
        table.add_row(f"{model} {env_id} {modality}: test episodes / CPU s (fit + predict)", f"{1 / cpu:.1f} [{1 / seconds:.1f}]")
        console.print(f"{model} {env_id} {modality}: {1 / cpu:.1f} test episodes per CPU second")
    env_id = "Pix2Code-CURI-v0"
    fewshot = steps_per_second(env_id, "fewshot", args.ppo_steps)
    default = steps_per_second(env_id, "default", args.default_steps)
    for name, (wall, cpu) in (("FewShotPolicy", fewshot), ("SB3 default MultiInputPolicy", default)):
        table.add_row(f"PPO {name}, {env_id} 48x72, env steps / CPU s", f"{cpu:.1f} [{wall:.1f}]")
    table.add_row("PPO speed-up (CPU s; wall)", f"{fewshot[1] / default[1]:.1f}x; {fewshot[0] / default[0]:.1f}x")
    console.print(table)
    console.print(f"load average {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--episodes", type=int, default=200)
    acc.add_argument("--only", nargs="*", help="models to score (default: all shipped)")
    acc.add_argument("--env", nargs="*", help="env ids to score (default: all shipped)")
    acc.add_argument("--update-cards", action="store_true")
    acc.add_argument("--json", help="write the rows as JSON here")
    sub.add_parser("table")
    thr = sub.add_parser("throughput")
    thr.add_argument("--ppo-steps", type=int, default=2000)
    thr.add_argument("--default-steps", type=int, default=1000)
    thr.add_argument("--train-steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    {"accuracy": accuracy, "throughput": throughput, "table": lambda _: print(markdown(from_cards()))}[args.command](args)


if __name__ == "__main__":
    main()
