"""``pix2code train protonet|transformer|ppo --env ID [--modality image|scene] [--minutes M] --out DIR``.

Episodic meta-training on train-subset episodes, validation on val-subset episodes (Kandinsky
has no val subset: a seeded share of its train concepts, ``--holdout``, is held out of training
and validated on instead, and the card says so), early stopping on validation accuracy, a rich
progress bar, ``DIR/curve.png``, checkpoints in ``DIR/checkpoint.pt`` that a rerun of the same
command resumes from, and the best weights in ``DIR/<model>.pt`` with their JSON card.

Determinism: the model is initialised from ``--seed``; the episodes of step ``t`` are drawn
with a generator seeded by ``(seed, t)`` from chunks whose availability depends on ``t`` only.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

import pix2code_env
from agents.neural.config import Settings, model_spec, settings
from agents.neural.data import EpisodeStream, Source, cached_episodes
from agents.neural.models import EpisodeModel, balanced_accuracy, balanced_loss, build_model
from agents.neural.runs import (
    Budget, CheckpointError, History, command_line, load_checkpoint, machine, plot_curve, random_states,
    restore_random_states, save_checkpoint,
)
from agents.neural.spec import ModelSpec
from agents.neural.weights import WEIGHTS_DIR, save_weights, weights_name

console = Console(stderr=True)
VAL_SEED_OFFSET = 1_000_000  # held-out-concept validation seeds, disjoint from training seeds


def sources(s: Settings) -> tuple[Source, Source, dict[str, Any]]:
    """Train and validation sources, and how validation was separated (for the card)."""
    family = pix2code_env.env_spec(s.env_id)
    env = Source(s.env_id, "train", s.modality, s.image_shape).make_env()
    subsets = env.unwrapped.family.subsets
    concepts = tuple(env.unwrapped.family.concept_ids("train"))
    env.close()
    if "val" in subsets:
        return (Source(s.env_id, "train", s.modality, s.image_shape), Source(s.env_id, "val", s.modality, s.image_shape),
                {"validation": "val subset", "val_seeds": [0, s.val_episodes - 1]})
    if len(concepts) < 2:
        raise SystemExit(
            f"{s.env_id} ({family.family}) has no val subset and only {len(concepts)} train concept(s): nothing to hold out "
            "for validation"
        )
    order = np.random.default_rng([s.seed, 0xF01D]).permutation(len(concepts))
    n_val = max(1, round(s.holdout * len(concepts)))
    held = tuple(sorted(concepts[i] for i in order[:n_val]))
    kept = tuple(sorted(concepts[i] for i in order[n_val:]))
    note = {
        "validation": f"{n_val} of the {len(concepts)} train concepts held out (seeded by --seed), the rest trained on",
        "val_concepts": list(held), "val_seeds": [VAL_SEED_OFFSET, VAL_SEED_OFFSET + s.val_episodes - 1],
    }
    return (Source(s.env_id, "train", s.modality, s.image_shape, kept),
            Source(s.env_id, "train", s.modality, s.image_shape, held), note)


def tensors(arrays: dict[str, np.ndarray], index: Any) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in arrays.items():
        part = value[index]
        out[key] = torch.from_numpy(part.astype(np.int64) if key.endswith("labels") else part)
    return out


def validate(model: EpisodeModel, val: dict[str, np.ndarray], batch: int) -> float:
    model.eval()
    scores = []
    with torch.inference_mode():
        for start in range(0, len(val["support_labels"]), batch):
            part = tensors(val, slice(start, start + batch))
            scores.append(balanced_accuracy(model(part), part["query_labels"]))
    model.train()
    return float(torch.cat(scores).mean())


class Window:
    """The chunks training step ``t`` draws from: chunks ``c-W+1 .. c`` with ``c = t // steps_per_chunk``."""

    def __init__(self, stream: EpisodeStream, size: int, steps_per_chunk: int) -> None:
        self.stream, self.size, self.steps_per_chunk = stream, size, max(1, steps_per_chunk)
        self.loaded: dict[int, dict[str, np.ndarray]] = {}

    def batch(self, step: int, n: int, seed: int) -> dict[str, torch.Tensor]:
        last = step // self.steps_per_chunk
        first = max(0, last - self.size + 1)
        for index in range(first, last + 1):
            if index not in self.loaded:
                self.loaded[index] = self.stream.chunk(index)
        for index in [i for i in self.loaded if i < first]:
            del self.loaded[index]
        rng = np.random.default_rng([seed, step])
        picks = np.sort(rng.integers(0, (last - first + 1) * self.stream.chunk_size, size=n))
        size = self.stream.chunk_size
        parts = [tensors(self.loaded[first + c], picks[picks // size == c] % size) for c in np.unique(picks // size)]
        return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}


def begin(s: Settings, argv: list[str]) -> tuple[Path, ModelSpec, str]:
    """Thread count, run directory, the model's spec (after checking the env can feed it), the command."""
    torch.set_num_threads(s.threads)
    out = Path(s.out)
    out.mkdir(parents=True, exist_ok=True)
    return out, model_spec(s), command_line(argv)


def episodes(s: Settings, out: Path) -> tuple[Source, dict[str, Any], dict[str, np.ndarray]]:
    """The training source, how validation was separated, and the validation episodes (cached in ``out``)."""
    train_source, val_source, val_note = sources(s)
    val_seeds = range(val_note["val_seeds"][0], val_note["val_seeds"][1] + 1)
    with console.status(f"making {s.val_episodes} validation episodes"):
        val = cached_episodes(val_source, val_seeds, out / "cache")
    return train_source, val_note, val


def run(s: Settings, argv: list[str]) -> dict[str, Any]:
    """Train (or resume) the run ``s`` describes; returns the card of its best weights."""
    out, spec, command = begin(s, argv)
    state = load_checkpoint(out, spec, command)
    train_source, val_note, val = episodes(s, out)

    torch.manual_seed(s.seed)
    model = build_model(spec)
    optimizer = torch.optim.Adam(model.parameters(), lr=s.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)
    history, step, best, best_state, stale, spent, made = History(), 0, -1.0, None, 0, 0.0, 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history = History(**state["history"])
        step, best, best_state, stale = state["step"], state["best"], state["best_state"], state["stale"]
        spent, made = state["seconds"], state["episodes_made"]
        restore_random_states(state["random"])
        console.print(f"resuming {out / 'checkpoint.pt'} at step {step} ({spent:.0f} s spent, best val {best:.3f})")
    budget = Budget(s.minutes, spent)
    cache = out / "cache"
    stopped = "budget"

    def checkpoint() -> None:
        save_checkpoint(out, {
            "spec": spec.to_json(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "history": history.to_json(), "step": step, "best": best,
            "best_state": best_state, "stale": stale, "seconds": budget.spent, "episodes_made": made + stream.made,
            "random": random_states(), "command": command,
        })

    eval_batch = 50 if s.modality == "scene" else 10
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                        TimeElapsedColumn(), console=console)
    with EpisodeStream(train_source, cache, s.chunk, s.workers) as stream, progress:
        window = Window(stream, s.window, s.steps_per_chunk)
        task = progress.add_task(f"{s.model} {s.env_id} {s.modality}", total=budget.limit, info="", completed=budget.spent)
        last_save = time.monotonic()
        model.train()
        while True:
            if budget.exhausted:
                break
            if s.max_steps is not None and step >= s.max_steps:
                stopped = "max_steps"
                break
            batch = window.batch(step, s.batch, s.seed)
            logits = model(batch)
            loss = balanced_loss(logits, batch["query_labels"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            history.steps.append(step)
            history.loss.append(float(loss.detach()))
            history.train_accuracy.append(float(balanced_accuracy(logits.detach(), batch["query_labels"]).mean()))
            if step % s.val_every == 0:
                accuracy = validate(model, val, eval_batch)
                history.validated(step, accuracy, budget.spent)
                scheduler.step(accuracy)
                progress.console.print(f"step {step:6d}  {budget.spent:6.0f} s  loss {np.mean(history.loss[-s.val_every:]):.3f}  "
                                       f"train {np.mean(history.train_accuracy[-s.val_every:]):.3f}  val {accuracy:.3f}  "
                                       f"lr {optimizer.param_groups[0]['lr']:.1e}")
                if accuracy > best:
                    best, stale = accuracy, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    stale += 1
                checkpoint()
                last_save = time.monotonic()
                if stale >= s.patience:
                    stopped = "early_stopping"
                    break
            elif time.monotonic() - last_save > 120:
                checkpoint()
                last_save = time.monotonic()
            recent = np.mean(history.train_accuracy[-100:])
            progress.update(task, completed=min(budget.spent, budget.limit),
                            info=f"step {step}  loss {np.mean(history.loss[-100:]):.3f}  train {recent:.3f}  val best {best:.3f}")
        if not history.val_steps or history.val_steps[-1] != step:
            accuracy = validate(model, val, eval_batch)
            history.validated(step, accuracy, budget.spent)
            if accuracy > best:
                best, best_state = accuracy, {k: v.detach().clone() for k, v in model.state_dict().items()}
        checkpoint()
        made += stream.made
    return finish(s, spec, out, model, best_state, best, history, step, budget.spent, stopped, made, val_note, command)


def train_note(s: Settings, step: int) -> dict[str, Any]:
    """Which train-subset episodes a run of ``step`` steps drew from."""
    if s.model == "ppo":
        return {"subset": "train", "seeds": "drawn by the envs' own generators after seeding with --seed (SB3 autoresets)"}
    chunks = (max(step, 1) - 1) // max(1, s.steps_per_chunk) + 1
    return {"subset": "train", "seeds": [0, chunks * s.chunk - 1]}


def finish(s: Settings, spec: ModelSpec, out: Path, model: torch.nn.Module, best_state: dict | None, best: float,
           history: History, step: int, seconds: float, stopped: str, made: int, val_note: dict[str, Any],
           command: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the curve, history, best weights and card (and install them with --ship)."""
    title = f"{s.model} on {s.env_id} ({s.modality}): best validation accuracy {best:.3f} at {step} steps, {seconds / 60:.1f} min"
    plot_curve(history, out / "curve.png", title)
    (out / "history.json").write_text(json.dumps(history.to_json()))
    best_step = history.val_steps[int(np.argmax(history.val_accuracy))] if history.val_accuracy else step
    card = {
        "command": command, "seed": s.seed, "train": train_note(s, step),
        **val_note, "budget_minutes": s.minutes, "wall_seconds": round(seconds, 1), "stopped": stopped,
        "steps": step, "best_step": best_step, **(extra or {"episodes_per_step": s.batch, "episodes_made": made}),
        "settings": {k: v for k, v in vars(s).items() if k not in ("out", "ship")},
        "val": {"class_balanced_accuracy": round(best, 4), "episodes": s.val_episodes},
        "machine": machine(), "load_average_during_run": round(float(np.mean(history.load)), 2) if history.load else None,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    card = save_weights(best_state or model.state_dict(), spec, out / f"{s.model}.pt", card)
    if s.ship:
        target = WEIGHTS_DIR / f"{weights_name(s.model, s.env_id, s.modality)}.pt"
        save_weights(best_state or model.state_dict(), spec, target, {k: v for k, v in card.items() if k not in ("weights", "sha256", "bytes")})
        console.print(f"installed {target}")
    console.print(f"best validation accuracy {best:.3f} (step {best_step}); {step} steps in {seconds:.0f} s ({stopped}); "
                  f"weights {out / (s.model + '.pt')}, curve {out / 'curve.png'}")
    return card


def main(argv: list[str]) -> int:
    """Entry point of ``pix2code train protonet|transformer|ppo``; ``argv[0]`` is the model name."""
    if not argv:
        print("usage: pix2code train protonet|transformer|ppo --env ID --out DIR [...]", file=sys.stderr)
        return 2
    s = settings(list(argv))
    try:
        if s.model == "ppo":
            from agents.neural.ppo_train import run_ppo

            run_ppo(s, list(argv))
        else:
            run(s, list(argv))
    except CheckpointError as error:
        console.print(f"[red]error:[/red] {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
