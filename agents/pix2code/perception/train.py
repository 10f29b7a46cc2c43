"""``pix2code train extractor --family curi|kandinsky [--out DIR] [--minutes M]``: train the extractor.

Every step renders a fresh batch of train-subset scenes (:mod:`agents.pix2code.perception.groundtruth`;
a batch is a pure function of the step number, so a resumed run sees the data an uninterrupted
one would) and takes one AdamW step on the dense and sequence losses. The learning rate warms up
and then follows a cosine over the time budget. The budget counts this process's CPU time by
default (``--clock cpu``: one thread, so on an idle core it is the wall-clock time; on a shared
machine it keeps the run the same whatever the load) or wall-clock time (``--clock wall``); the
card records both. The run validates on held-out scenes
(CURI: the val bank; Kandinsky: the test subset's stream, validation purpose), checkpoints
every few minutes (``DIR/checkpoint.pt``; run the same command again to resume), draws its
training curve (``DIR/curve.png``) and ends by printing the validation figures and writing the
weights (``DIR/<family>.pt``) with a JSON card (command, seeds, budget, wall time, figures).
``--ship`` also installs them as the package's weights.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from agents.pix2code.perception import groundtruth as data
from agents.pix2code.perception.metrics import figures, from_decoded, targets
from agents.pix2code.perception.model import ExtractorNet, NetConfig, count_parameters
from agents.pix2code.perception.spec import get_spec
from agents.pix2code.perception.weights import WEIGHTS_DIR, save_weights

console = Console()
VALIDATION_SUBSET = {"curi": "val", "kandinsky": "test"}
CHECKPOINT_EVERY = 180.0  # seconds
LOSS_WEIGHTS = {"heat": 1.0, "dense_numeric": 0.5, "dense_class": 1.0, "seq_numeric": 0.5, "seq_class": 1.0,
                "pointer": 1.0, "stop": 1.0}  # fmt: skip


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pix2code train extractor", description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["extractor"])
    parser.add_argument("--family", required=True, choices=["curi", "kandinsky"])
    parser.add_argument("--out", default=None, help="work directory (default out/extractor/<family>)")
    parser.add_argument("--minutes", type=float, default=60.0, help="training budget in minutes (default 60)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="what the budget counts: this process's CPU time (default; equals wall time on an "
                             "idle core, and stays fair on a shared machine) or wall-clock time")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps (tests)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    parser.add_argument("--validation", type=int, default=400, help="held-out scenes for validation")
    parser.add_argument("--validate-every", type=float, default=15.0, help="minutes between validations")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared: 1)")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--ship", action="store_true", help=f"install the weights in {WEIGHTS_DIR}")
    parser.add_argument("--small", action="store_true", help="a tiny network (tests)")
    return parser.parse_args(argv)


def _lr(base: float, step: int, frac: float, warmup: int = 150) -> float:
    return base * min(1.0, (step + 1) / warmup) * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * min(frac, 1.0))))


def validate(net: ExtractorNet, family: str, count: int, batch: int = 100) -> dict[str, float]:
    """Validation figures on ``count`` held-out scenes (the same scenes at every call)."""
    spec = net.spec
    was = net.training
    net.eval()
    totals: dict[str, float] = {}
    done = 0
    for index in range(-(-count // batch)):
        n = min(batch, count - done)
        truth = data.scenes(family, VALIDATION_SUBSET[family], "validation", index, n)
        figs = figures(spec, from_decoded(spec, net.decode(torch.from_numpy(truth.images))), truth)
        for k, v in figs.items():
            totals[k] = totals.get(k, 0.0) + v * n
        done += n
    net.train(was)
    return {k: (v / done if k != "scenes" else float(done)) for k, v in totals.items()}


def figure_table(title: str, figs: dict[str, float], spec) -> Table:
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    goals = targets(spec)
    for key, value in figs.items():
        goal = goals.get(key)
        mark = "" if goal is None else ("[green]✓[/green]" if value >= goal else "[red]✗[/red]")
        table.add_row(key, f"{value:.4f}" if key != "scenes" else f"{value:.0f}", f"≥ {goal} {mark}" if goal else "")
    return table


def curve(history: list[dict], validations: list[dict], path: Path, family: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    minutes = np.array([h["seconds"] for h in history]) / 60  # on the budget's clock
    for key in LOSS_WEIGHTS:
        values = np.array([h[key] for h in history])
        if len(values) > 20:
            values = np.convolve(values, np.ones(20) / 20, mode="same")
        ax.plot(minutes, values, label=key, lw=1)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("minutes")
    ax.set_title(f"{family}: training losses")
    ax.legend(fontsize=7)
    vm = [v["seconds"] / 60 for v in validations]
    for key in ("count_exact", "categorical_scene", "all_attributes_scene", "box_iou") + tuple(k for k in (validations[0] if validations else {}) if k.endswith("_accuracy")):
        if validations and key in validations[0]:
            bx.plot(vm, [v[key] for v in validations], marker="o", label=key)
    bx.set_xlabel("minutes")
    bx.set_title("validation")
    bx.set_ylim(0.8, 1.0)
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def depth_fit(family: str) -> list[float]:
    """CURI's depth column, as least squares on (1, py, py²) over train scenes (the DSL never reads
    depth; the extractor fills the column with this estimate)."""
    if family != "curi":
        return []
    truth = data.scenes(family, "train", "test", 0, 2000)
    live = np.arange(truth.tables.shape[1])[None, :] < truth.n_objects[:, None]
    rows = truth.tables[live]
    py = rows[:, 16] * 160.0
    coef, *_ = np.linalg.lstsq(np.stack([np.ones_like(py), py, py * py], 1), rows[:, 17], rcond=None)
    return [float(c) for c in coef]


def main(argv: list[str]) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    spec = get_spec(args.family)
    out = Path(args.out or f"out/extractor/{args.family}")
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    torch.manual_seed(args.seed)
    config = NetConfig(widths=(8, 8, 16, 16), channels=8, d_model=32, layers=1, heads=2) if args.small else NetConfig()
    net = ExtractorNet(spec, config)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    state = {"step": 0, "seconds": 0.0, "cpu": 0.0, "history": [], "validations": [], "images": 0}
    if ckpt_path.exists() and not args.fresh:
        saved = torch.load(ckpt_path, weights_only=False)
        if saved["config"] != config.to_json() or saved["family"] != args.family:
            console.print(f"[red]error:[/red] {ckpt_path} holds another model; use --fresh or another --out")
            return 2
        net.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        console.print(f"resuming from step {state['step']} ({state['seconds'] / 60:.1f} min done)")
    budget = args.minutes * 60.0
    console.print(f"[bold]extractor[/bold] {args.family}: {count_parameters(net):,} parameters, batch {args.batch}, "
                  f"budget {args.minutes:g} min, {args.threads} thread(s), load {os.getloadavg()[0]:.1f}")

    def save() -> None:
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "config": config.to_json(), "family": args.family}, ckpt_path.with_suffix(".tmp"))
        os.replace(ckpt_path.with_suffix(".tmp"), ckpt_path)

    net.train()
    started = time.perf_counter() - state["seconds"]
    cpu_started = time.process_time() - state["cpu"]
    spent = (lambda: state["cpu"]) if args.clock == "cpu" else (lambda: state["seconds"])
    last_save = last_val = last_log = time.perf_counter()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"train {args.family} ({args.clock} time)", total=budget, completed=spent(), info="")
        while spent() < budget and (args.steps is None or state["step"] < args.steps):
            step = state["step"]
            truth = data.scenes(args.family, "train", "train", step, args.batch)
            for group in opt.param_groups:
                group["lr"] = _lr(args.lr, step, spent() / budget)
            losses = net.loss(torch.from_numpy(truth.images), truth.numerics, truth.classes, truth.attributes, truth.n_objects)
            total = sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            state["step"] += 1
            state["images"] += args.batch
            state["seconds"] = time.perf_counter() - started
            state["cpu"] = time.process_time() - cpu_started
            state["history"].append({"step": step, "seconds": spent(), **{k: v.item() for k, v in losses.items()}})
            rate = state["images"] / max(state["seconds"], 1e-9)
            progress.update(task, completed=min(spent(), budget),
                            info=f"step {state['step']}  loss {total.item():.3f}  {rate:.1f} img/s")
            now = time.perf_counter()
            if not console.is_terminal and now - last_log > 60:  # a log file gets a line a minute
                console.print(f"{state['seconds'] / 60:5.1f} min wall, {state['cpu'] / 60:5.1f} min CPU  step {state['step']}  "
                              + "  ".join(f"{k} {v.item():.3f}" for k, v in losses.items()) + f"  {rate:.1f} img/s")
                last_log = now
            if now - last_val > args.validate_every * 60 and spent() < budget - 120:
                cpu_now = time.process_time()
                figs = validate(net, args.family, min(args.validation, 200))
                state["validations"].append({"seconds": spent(), "step": state["step"], **figs})
                progress.console.print(f"step {state['step']}: count {figs['count_exact']:.4f}, categorical "
                                       f"{figs['categorical_scene']:.4f}, all attributes {figs['all_attributes_scene']:.4f}, "
                                       f"IoU {figs['box_iou']:.3f}")
                started += time.perf_counter() - now  # validation time does not count against training
                cpu_started += time.process_time() - cpu_now
                last_val = time.perf_counter()
            if now - last_save > CHECKPOINT_EVERY:
                save()
                last_save = now
    save()
    train_seconds = state["seconds"]
    t0 = time.perf_counter()
    figs = validate(net, args.family, args.validation)
    state["validations"].append({"seconds": spent(), "step": state["step"], **figs})
    save()
    curve(state["history"], state["validations"], out / "curve.png", args.family)
    console.print(figure_table(f"{args.family} extractor: validation ({args.validation} held-out scenes)", figs, spec))
    card = {
        "family": args.family,
        "command": "pix2code train " + " ".join(argv),
        "data": {"train": f"{args.family} train-subset scenes, batch b = perception stream (train, b), fresh every step",
                 "validation": f"{args.family} {VALIDATION_SUBSET[args.family]}-subset scenes, validation stream"},
        "init_seed": args.seed,
        "budget_minutes": args.minutes,
        "budget_clock": args.clock,
        "train_wall_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(state["cpu"], 1),
        "validation_seconds": round(time.perf_counter() - t0, 1),
        "steps": state["step"],
        "images_seen": state["images"],
        "batch": args.batch,
        "threads": args.threads,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "parameters": count_parameters(net),
        "config": config.to_json(),
        "validation_scenes": args.validation,
        "figures": {k: round(v, 5) for k, v in figs.items()},
        "machine": f"{os.cpu_count()}-core CPU, torch {torch.__version__}",
    }
    weights = save_weights(out / f"{args.family}.pt", net, card, extras={"depth_fit": depth_fit(args.family)})
    console.print(f"weights: {weights} ({weights.stat().st_size / 1e6:.1f} MB), card {weights.with_suffix('.json')}, "
                  f"curve {out / 'curve.png'}")
    if args.ship:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        for suffix in (".pt", ".json"):
            shutil.copy(weights.with_suffix(suffix), WEIGHTS_DIR / f"{args.family}{suffix}")
        console.print(f"installed in {WEIGHTS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
