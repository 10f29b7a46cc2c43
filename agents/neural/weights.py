"""Weight files and their JSON cards: saving, finding shipped ones, loading with clear refusals.

Every weight file ``NAME.pt`` (a torch state dict) has a card ``NAME.json`` beside it: the
:class:`~agents.neural.spec.ModelSpec` that rebuilds the architecture, the SHA-256 of the
weight file, and how it was made (command, seeds, budget, wall time, machine load, steps,
validation and test figures). Shipped weights live in ``agents/neural/weights/`` and are named
``<model>.<env id>.<modality>.pt``.

Loading refuses, naming both sides: weights trained for another env, modality or image size;
a weight file whose SHA-256 differs from its card, or that torch cannot read (the error names
the file and the command that rebuilds it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

import pix2code_env
from agents.neural.spec import ModelSpec

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CARD_FORMAT = 1


class WeightsError(ValueError):
    """Weights that cannot be used: missing, corrupt, or made for something else."""


def same_episodes(a: str, b: str) -> bool:
    """Whether two env ids stand for the same settings (e.g. Pix2Code-CURI-v0 and Pix2Code-CURI-IID-v0,
    both CURI's IID split): their episodes are identical, so are the weights for them."""
    if a == b:
        return True
    try:
        spec_a, spec_b = pix2code_env.env_spec(a), pix2code_env.env_spec(b)
    except ValueError:
        return False
    return (spec_a.family, spec_a.family_options) == (spec_b.family, spec_b.family_options)


def weights_name(model: str, env_id: str, modality: str) -> str:
    return f"{model}.{env_id}.{modality}"


def shipped_path(model: str, env_id: str, modality: str) -> Path:
    return WEIGHTS_DIR / f"{weights_name(model, env_id, modality)}.pt"


def shipped(model: str | None = None) -> dict[tuple[str, str, str], Path]:
    """(model, env id, modality) -> weight file, for every shipped weight file with a card."""
    found: dict[tuple[str, str, str], Path] = {}
    if WEIGHTS_DIR.is_dir():
        for card in sorted(WEIGHTS_DIR.glob("*.json")):
            parts = card.stem.split(".")
            if len(parts) == 3 and (model is None or parts[0] == model) and card.with_suffix(".pt").is_file():
                found[(parts[0], parts[1], parts[2])] = card.with_suffix(".pt")
    return found


def train_command(model: str, env_id: str, modality: str) -> str:
    return f"pix2code train {model} --env {env_id} --modality {modality} --out runs/{model}-{env_id}-{modality}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (a crash never leaves half a card)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp makes files private; cards and weights are package data
    os.replace(tmp, path)


def save_weights(state_dict: dict[str, torch.Tensor], spec: ModelSpec, path: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write ``path`` (the state dict) and its card; returns the card."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    torch.save({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    full = {"format": CARD_FORMAT, "model": spec.model, "env_id": spec.env_id, "modality": spec.modality,
            "spec": spec.to_json(), "weights": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}
    full.update({k: v for k, v in card.items() if k not in full})
    write_json(path.with_suffix(".json"), full)
    return full


def read_card(path: Path) -> dict[str, Any]:
    card_path = Path(path).with_suffix(".json")
    try:
        return json.loads(card_path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"weight file {path} has no card {card_path}; it cannot be trusted or rebuilt") from None
    except (OSError, json.JSONDecodeError) as error:
        raise WeightsError(f"card {card_path} is unreadable ({error}); restore it from git or retrain") from None


def load_weights(path: Path) -> tuple[ModelSpec, dict[str, torch.Tensor], dict[str, Any]]:
    """Spec, state dict and card of a weight file, after checking the file against its card."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weight file {path} does not exist")
    card = read_card(path)
    spec = ModelSpec.from_json(card["spec"])
    rebuild = card.get("command") or train_command(spec.model, spec.env_id, spec.modality)
    digest = sha256_file(path)
    if card.get("sha256") not in (None, digest):
        raise WeightsError(
            f"weight file {path} is corrupt: its SHA-256 {digest[:12]}… differs from its card's "
            f"{card['sha256'][:12]}…; rebuild it with: {rebuild}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise WeightsError(f"weight file {path} is corrupt or truncated ({type(error).__name__}: {error}); rebuild it with: {rebuild}") from None
    return spec, state, card


def find_weights(model: str, env_id: str | None, modality: str | None) -> Path:
    """The shipped weight file for (model, env, modality); modality None prefers images."""
    available = shipped(model)
    if env_id is None:
        raise WeightsError(
            f"the {model} agent needs env_id (to load the weights shipped for it) or weights=PATH; "
            f"shipped: {sorted(f'{e}/{m}' for _, e, m in available)}"
        )
    for candidate in ([modality] if modality else ["image", "scene"]):
        for (_, trained_for, trained_modality), path in available.items():
            if trained_modality == candidate and same_episodes(trained_for, env_id):
                return path
    what = f"{env_id} ({modality})" if modality else env_id
    raise WeightsError(
        f"no {model} weights are shipped for {what}; shipped: {sorted(f'{e}/{m}' for _, e, m in available) or 'none'}. "
        f"Train them with: {train_command(model, env_id, modality or 'scene')} and pass weights=runs/.../{model}.pt"
    )


def check_compatible(spec: ModelSpec, path: Path, env_id: str | None, modality: str | None, model: str) -> None:
    """Refuse weights made for another model, env or modality, naming both."""
    if spec.model != model:
        raise WeightsError(f"weight file {path} holds a {spec.model} model, not a {model} model")
    if env_id is not None and not same_episodes(spec.env_id, env_id):
        raise WeightsError(
            f"weight file {path} was trained for {spec.describe()}, but this agent is for env {env_id}; "
            f"use the weights shipped for {env_id} or train them: {train_command(model, env_id, spec.modality)}"
        )
    if modality is not None and spec.modality != modality:
        raise WeightsError(
            f"weight file {path} was trained for {spec.describe()}, but modality {modality!r} was asked for"
        )
