"""The object extractor's figures, its speed, and the Pix2Code agent on pixels beside object tables.

    python benchmarks/bench_perception.py figures            # 1,000 test-subset scenes per family
    python benchmarks/bench_perception.py speed              # images/s, batched, 1 and 2 threads
    python benchmarks/bench_perception.py agent --episodes 200 [--envs CURI-IID ...] [--out DIR]

``figures``: fresh scenes rendered from each family's *test*-subset stream (benchmark purpose:
never the training or validation scenes), decoded by the shipped extractor, scored by
:mod:`agents.pix2code.perception.metrics`, plus the calibration of doubtful decisions.

``agent``: for every CURI split and Kandinsky RelKP, test episodes (CURI: seeds 0..N-1; RelKP:
seed i with test concept i mod 100) made with modality "both"; on each episode the support and
query images are read once by the extractor, then the same Pix2Code classifier is fitted three
ways: on the ground-truth tables (modality "scene"), on the extracted tables with
uncertainty-weighted search, and on the extracted tables' most probable reading only. The
candidate budget has no wall-clock cap (a loaded machine gives the same programs). Per-episode
rows are appended to ``DIR/agent.jsonl`` (a re-run skips what is there) and summarised at the end.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import pix2code_env  # noqa: E402
from agents.base import query_view, support_view  # noqa: E402
from agents.pix2code.agent import Pix2CodeClassifier  # noqa: E402
from agents.pix2code.dsl import domain_for_env_id  # noqa: E402
from agents.pix2code.layouts import load_layouts  # noqa: E402
from agents.pix2code.perception import groundtruth, load_extractor  # noqa: E402
from agents.pix2code.perception.metrics import figures, from_decoded, targets  # noqa: E402
from agents.pix2code.perception.reader import Reader  # noqa: E402
from agents.pix2code.perception.spec import get_spec  # noqa: E402
from agents.pix2code.search import SearchBudget, solve  # noqa: E402
from agents.registry import make_agent  # noqa: E402
from pix2code_env.registration import CURI_SPLITS  # noqa: E402
from tasks import make_family  # noqa: E402

console = Console(width=150)
ENVS = [f"CURI-{name}" for name in CURI_SPLITS] + ["Kandinsky"]
MODES = ("scene", "image", "image-argmax")


def cmd_figures(args: argparse.Namespace) -> None:
    for family in ("curi", "kandinsky"):
        net = load_extractor(family).net
        spec = net.spec
        totals: dict[str, float] = {}
        doubt = {"decisions": 0, "doubtful": 0, "doubtful_wrong": 0, "sure_wrong": 0}
        started = time.perf_counter()
        for index in range(args.scenes // 100):
            truth = groundtruth.scenes(family, "test", "benchmark", index, 100)
            decoded = net.decode(torch.from_numpy(truth.images))
            pred = from_decoded(spec, decoded)
            for k, v in figures(spec, pred, truth).items():
                totals[k] = totals.get(k, 0.0) + v * 100
            _calibration(spec, decoded, pred, truth, doubt)
        seconds = time.perf_counter() - started
        n = args.scenes // 100 * 100
        figs = {k: v / n for k, v in totals.items()}
        figs["scenes"] = n
        table = Table(title=f"{family} extractor on {n} fresh test-subset scenes ({seconds:.0f} s)")
        for column in ("figure", "value", "target"):
            table.add_column(column, justify="right" if column != "figure" else "left")
        goals = targets(spec)
        for key, value in figs.items():
            goal = goals.get(key)
            mark = "" if goal is None else (" ✓" if value >= goal else " ✗")
            table.add_row(key, f"{value:.4f}" if key != "scenes" else str(n), f"≥ {goal}{mark}" if goal else "")
        console.print(table)
        rate = doubt["doubtful_wrong"] / max(doubt["doubtful"], 1)
        console.print(f"  calibration: {doubt['decisions']} attribute decisions on matched objects; "
                      f"{doubt['doubtful']} doubtful (top probability < 0.99), of which {rate:.1%} wrong; "
                      f"{doubt['sure_wrong']} wrong with probability ≥ 0.99")
        for key, value in figs.items():
            print(f"{family}.{key}={value:.5f}")


def _calibration(spec, decoded, pred, truth, doubt: dict) -> None:
    from agents.pix2code.perception.metrics import match

    names = spec.numeric_names
    centre = [names.index("u"), names.index("v")]
    for b in range(len(truth)):
        n = int(truth.n_objects[b])
        for i, j in match(pred.centres[b], truth.numerics[b, :n][:, centre]):
            for a in spec.attributes:
                p = decoded.probs[a][b, i]
                right = int(p.argmax()) == int(truth.attributes[a][b, j])
                doubt["decisions"] += 1
                if p.max() < 0.99:
                    doubt["doubtful"] += 1
                    doubt["doubtful_wrong"] += not right
                elif not right:
                    doubt["sure_wrong"] += 1


def _decode_rate(family: str, batch: int, repeats: int, start_at: float | None = None, threads: int = 1) -> float:
    """Best images/s of ``repeats`` batched decodes (from ``start_at``, a wall time, if given)."""
    torch.set_num_threads(threads)
    net = load_extractor(family).net
    images = torch.from_numpy(groundtruth.scenes(family, "test", "benchmark", 50, batch).images)
    net.decode(images[:8])
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        net.decode(images)
        best = max(best, len(images) / (time.perf_counter() - started))
    return best


def cmd_speed(args: argparse.Namespace) -> None:
    """One process with 1 and 2 torch threads, and two one-thread processes decoding at once (the
    way the harness's workers read images): their summed rate is the machine's."""
    from concurrent.futures import ProcessPoolExecutor

    for family in ("curi", "kandinsky"):
        h, w = get_spec(family).image_shape
        for threads in (1, 2):
            best = _decode_rate(family, args.batch, args.repeats, threads=threads)
            console.print(f"{family} {h}×{w}: {best:.0f} images/s, batch {args.batch}, one process, {threads} thread(s), "
                          f"load {os.getloadavg()[0]:.1f}")
            print(f"{family}.images_per_second.{threads}={best:.1f}")
        torch.set_num_threads(1)
        with ProcessPoolExecutor(2) as pool:
            start_at = time.time() + 15.0  # both processes loaded and warmed up before they start
            rates = list(pool.map(_decode_rate, [family] * 2, [args.batch] * 2, [args.repeats] * 2, [start_at] * 2))
        console.print(f"{family} {h}×{w}: {sum(rates):.0f} images/s, batch {args.batch}, two one-thread processes "
                      f"({' + '.join(f'{r:.0f}' for r in rates)}), load {os.getloadavg()[0]:.1f}")
        print(f"{family}.images_per_second.2x1={sum(rates):.1f}")
    torch.set_num_threads(1)


class _Fixed:
    """A reader that returns what was read once (the three fits share one extraction)."""

    def __init__(self, parts: dict, diagnostics: dict) -> None:
        self.parts, self._diagnostics = parts, diagnostics

    def read(self, view, part):
        return self.parts[part]

    def diagnostics(self) -> dict:
        return self._diagnostics


def _episodes(name: str, count: int) -> list[tuple[str, int, str | None]]:
    if name == "Kandinsky":
        concepts = make_family("kandinsky").concept_ids("test")
        return [("Pix2Code-Kandinsky-v0", i, concepts[i % len(concepts)]) for i in range(count)]
    return [(f"Pix2Code-{name}-v0", i, None) for i in range(count)]


def _play(env, env_id: str, seed: int, concept: str | None, budget: SearchBudget, modes: list[str], agent) -> list[dict]:
    """One episode, fitted in each of ``modes`` as the Pix2Code agent fits (its library, layout
    prior and options); the images are read once for the image modes."""
    domain = domain_for_env_id(env_id)
    obs, info = env.reset(seed=seed, options={"concept": concept} if concept else None)
    support, query = support_view(obs), query_view(obs)
    labels = np.asarray(support["support_labels"])
    truth = np.asarray(env.unwrapped.episode.query_labels)
    extraction, parts = 0.0, {}
    if any(m != "scene" for m in modes):
        started = time.perf_counter()
        reader = Reader(domain.name, uncertainty=True)
        parts = {"support": reader.read(support, "support"), "query": reader.read(query, "query")}
        extraction = time.perf_counter() - started
    layouts = load_layouts(domain.name)
    rows = []
    for mode in modes:
        t0 = time.perf_counter()
        if mode == "scene":
            tables, readings, fixed = (support["support_objects"], support["support_object_mask"]), None, None
        else:
            (s_objects, s_mask, s_readings), (q_objects, q_mask, q_readings) = parts["support"], parts["query"]
            uncertain = mode == "image"
            tables, readings = (s_objects, s_mask), (s_readings if uncertain else None)
            fixed = _Fixed({"query": (q_objects, q_mask, q_readings if uncertain else None)}, {})
        grammar = agent.guide(domain).grammar_for(*tables, labels)
        result = solve(domain, tables, labels, grammar=grammar, budget=budget, options=agent.options,
                       reference_scenes=layouts, support_readings=readings)
        classifier = Pix2CodeClassifier(result, domain, labels, agent.guide(domain).library.names, reader=fixed)
        predictions = classifier.predict(query)
        rows.append({
            "env_id": env_id, "seed": seed, "concept": info["concept_id"], "mode": mode,
            "score": pix2code_env.class_balanced_accuracy(truth, predictions),
            "seconds": time.perf_counter() - t0 + (extraction if mode != "scene" else 0.0),
            "extraction_seconds": extraction if mode != "scene" else 0.0,
            "doubtful_support": 0 if mode == "scene" or parts["support"][2] is None else len(parts["support"][2]),
            "program": result.program, "exact": result.exact, "fallback": classifier.fallback is not None,
            "doubted": None if result.best is None else result.best.doubted,
        })
    return rows


def cmd_agent(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "agent.jsonl"
    done = set()
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            done.add((row["env_id"], row["seed"], row["mode"]))
    budget = SearchBudget(seconds=None)
    envs = args.envs or ENVS
    for name in envs:
        todo = []
        for env_id, seed, concept in _episodes(name, args.episodes):
            modes = [m for m in args.modes if (env_id, seed, m) not in done
                     and not (m == "image-argmax" and seed >= args.argmax_episodes)]
            if modes:
                todo.append((env_id, seed, concept, modes))
        if not todo:
            continue
        env = gym.make(todo[0][0], subset="test", modality="both")
        load_extractor(domain_for_env_id(todo[0][0]).name)  # imports and weights: not part of any episode's time
        agent = make_agent("pix2code", env_id=todo[0][0])
        started = time.perf_counter()
        for k, (env_id, seed, concept, modes) in enumerate(todo):
            rows = _play(env, env_id, seed, concept, budget, modes, agent)
            with path.open("a") as handle:
                handle.writelines(json.dumps(row) + "\n" for row in rows)
            if (k + 1) % 25 == 0:
                console.print(f"{env_id}: {k + 1}/{len(todo)} episodes, {time.perf_counter() - started:.0f} s, "
                              f"load {os.getloadavg()[0]:.1f}")
        env.close()
    summarise(path, envs, args.episodes)


def summarise(path: Path, envs: list[str], episodes: int) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    table = Table(title=f"Pix2Code: class-balanced accuracy on pixels and on object tables (test episodes)")
    for column in ("environment", "scene (tables)", "image (uncertainty)", "image − scene", "image (argmax only)",
                   "drop without uncertainty (paired)", "fallbacks s/i/a", "median s on pixels"):
        table.add_column(column, justify="right")
    for name in envs:
        env_id = _episodes(name, 1)[0][0]
        by_mode = {m: {r["seed"]: r for r in rows if r["env_id"] == env_id and r["mode"] == m and r["seed"] < episodes}
                   for m in MODES}
        if not by_mode["image"]:
            continue
        cell, mean = {}, {}
        for m, have in by_mode.items():
            if have:
                ci = pix2code_env.bootstrap_ci([r["score"] for r in have.values()])
                mean[m] = ci.mean
                cell[m] = f"{ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}] ({len(have)})"
                print(f"{env_id}.{m}={ci.mean:.4f} n={len(have)}")
        gap = mean["image"] - mean["scene"] if "scene" in mean else float("nan")
        pairs = [(by_mode["image"][s]["score"], r["score"]) for s, r in by_mode["image-argmax"].items() if s in by_mode["image"]]
        drop = np.mean([a - b for a, b in pairs]) if pairs else float("nan")
        falls = "/".join(str(sum(r["fallback"] for r in by_mode[m].values())) for m in MODES)
        median = np.median([r["seconds"] for r in by_mode["image"].values()])
        table.add_row(env_id, cell.get("scene", "-"), cell.get("image", "-"), f"{gap:+.3f}",
                      cell.get("image-argmax", "-"), f"{drop:+.3f} (on {len(pairs)})", falls, f"{median:.2f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    f = commands.add_parser("figures")
    f.add_argument("--scenes", type=int, default=1000)
    s = commands.add_parser("speed")
    s.add_argument("--batch", type=int, default=200)
    s.add_argument("--repeats", type=int, default=3)
    a = commands.add_parser("agent")
    a.add_argument("--episodes", type=int, default=200)
    a.add_argument("--envs", nargs="*", choices=ENVS)
    a.add_argument("--out", default="out/bench_perception")
    a.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    a.add_argument("--argmax-episodes", type=int, default=10**9, help="run the argmax-only ablation on seeds below this")
    a.add_argument("--summary", action="store_true", help="only summarise what is in DIR/agent.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "agent" and args.summary:
        summarise(Path(args.out) / "agent.jsonl", args.envs or ENVS, args.episodes)
        return
    {"figures": cmd_figures, "speed": cmd_speed, "agent": cmd_agent}[args.command](args)


if __name__ == "__main__":
    main()
