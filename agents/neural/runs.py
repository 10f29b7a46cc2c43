"""A training run's directory: resumable checkpoints, history, the training curve, the weights card.

``DIR/checkpoint.pt`` holds everything a resumed run needs (model, optimiser, scheduler, step,
history, best weights, random states, wall time spent so far); it is rewritten atomically, so
an interruption at any moment leaves the previous checkpoint intact. A checkpoint that cannot
be read is reported with its path and the command that rebuilds it (delete it and rerun).
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.neural.spec import ModelSpec

CHECKPOINT = "checkpoint.pt"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed from."""


@dataclass
class History:
    """What the curve shows: (step, value) series and validation points."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    val_seconds: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average at each validation

    def validated(self, step: int, accuracy: float, seconds: float) -> None:
        self.val_steps.append(step)
        self.val_accuracy.append(accuracy)
        self.val_seconds.append(seconds)
        self.load.append(round(os.getloadavg()[0], 2))

    def to_json(self) -> dict[str, list]:
        return dict(self.__dict__)


def command_line(argv: list[str]) -> str:
    """The ``pix2code train`` command that reproduces a run."""
    return "pix2code train " + " ".join(shlex.quote(a) for a in argv)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
    }


def save_checkpoint(directory: Path, state: dict[str, Any]) -> Path:
    path = Path(directory) / CHECKPOINT
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(fd)
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(directory: Path, spec: ModelSpec, rebuild: str) -> dict[str, Any] | None:
    """The run's checkpoint, None if there is none; refuses one for another model or a corrupt file."""
    path = Path(directory) / CHECKPOINT
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # a truncated or damaged file raises many types
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(error).__name__}: {error}); delete it and rebuild with: {rebuild}"
        ) from None
    if not isinstance(state, dict) or "spec" not in state:
        raise CheckpointError(f"checkpoint {path} is not a pix2code neural checkpoint; delete it and rebuild with: {rebuild}")
    saved = ModelSpec.from_json(state["spec"])
    if saved != spec:
        raise CheckpointError(
            f"checkpoint {path} belongs to another run ({saved.model}, {saved.describe()}, encoder {saved.encoder}, "
            f"head {saved.head}, dim {saved.dim}) than the one asked for ({spec.model}, {spec.describe()}, encoder "
            f"{spec.encoder}, head {spec.head}, dim {spec.dim}); use another --out directory"
        )
    return state


def random_states() -> dict[str, Any]:
    return {"torch": torch.get_rng_state()}


def restore_random_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])


def plot_curve(history: History, path: Path, title: str) -> None:
    """Training loss/accuracy (smoothed) and validation accuracy against steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if history.steps:
        k = max(1, len(history.steps) // 50)
        smooth = lambda v: np.convolve(v, np.ones(k) / k, mode="valid")  # noqa: E731
        steps = history.steps[k - 1 :]
        left.plot(steps, smooth(history.loss), color="tab:red")
        right.plot(steps, smooth(history.train_accuracy), color="tab:gray", label="train episodes (running)")
    right.plot(history.val_steps, history.val_accuracy, "o-", color="tab:blue", label="validation episodes")
    right.axhline(0.5, color="black", lw=0.8, ls=":", label="random / prior")
    left.set(title="class-balanced loss", xlabel="step")
    right.set(title="class-balanced accuracy", xlabel="step", ylim=(0.4, 1.0))
    right.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class Budget:
    """Wall time spent by a run, accumulated over resumes, against its limit in minutes."""

    def __init__(self, minutes: float, spent: float = 0.0) -> None:
        self.limit = 60.0 * minutes
        self.spent_before = spent
        self.start = time.monotonic()

    @property
    def spent(self) -> float:
        return self.spent_before + time.monotonic() - self.start

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit


def argv_of(model: str, args: list[str]) -> list[str]:
    return [model, *args] if not args or args[0] != model else list(args)


def python_command() -> str:
    return sys.executable
