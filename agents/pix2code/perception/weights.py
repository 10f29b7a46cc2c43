"""Shipped weights: one ``<family>.pt`` per family with its JSON card beside it.

The ``.pt`` file holds the network's configuration, its state dict and small extras; the card
(``<family>.json``) the command that made it, seeds, budget, wall time, figures and the weight
file's SHA-256. A missing or corrupt file raises :class:`WeightsError` naming the command that
rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from agents.pix2code.perception.model import ExtractorNet, NetConfig
from agents.pix2code.perception.spec import get_spec

WEIGHTS_DIR = Path(__file__).resolve().parent / "data"
FORMAT = 1


class WeightsError(RuntimeError):
    """The extractor's weights are missing or unreadable."""


def rebuild_command(family: str) -> str:
    return f"pix2code train extractor --family {family} --ship"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_weights(path: Path, net: ExtractorNet, card: dict, extras: dict | None = None) -> Path:
    path = Path(path)
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    torch.save({"format": FORMAT, "family": net.spec.family, "config": net.config.to_json(), "state_dict": state,
                "extras": extras or {}}, path)
    card = dict(card, weights=path.name, sha256=_sha256(path), bytes=path.stat().st_size)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return path


def load_weights(family: str, path: str | Path | None = None) -> tuple[ExtractorNet, dict, dict]:
    """(network in eval mode, card, extras) of a family's weights (default: the shipped ones)."""
    spec = get_spec(family)
    path = Path(path) if path is not None else WEIGHTS_DIR / f"{family}.pt"
    fix = f"rebuild them with `{rebuild_command(family)}`"
    if not path.exists():
        raise WeightsError(f"no {family} extractor weights at {path}; {fix}")
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    if card.get("sha256") and card["sha256"] != _sha256(path):
        raise WeightsError(f"the {family} extractor weights at {path} do not match their card's SHA-256 (corrupt?); {fix}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        if saved.get("format") != FORMAT or saved.get("family") != family:
            raise ValueError(f"format {saved.get('format')!r} for family {saved.get('family')!r}")
        net = ExtractorNet(spec, NetConfig.from_json(saved["config"]))
        net.load_state_dict(saved["state_dict"])
    except Exception as error:  # any unpickling or shape error means the same thing to the user
        raise WeightsError(f"cannot read the {family} extractor weights at {path} ({error}); {fix}") from None
    net.eval()
    return net, card, saved.get("extras", {})
