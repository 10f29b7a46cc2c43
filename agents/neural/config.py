"""Training settings: defaults per (model, modality, family), the CLI that overrides them, checks.

Defaults are sized for two shared CPU cores: narrow heads, small batches, modest image sizes
(CURI 32x48, Kandinsky 64x64 — renders at that size, recorded with the weights).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

import pix2code_env
from agents.neural.encoders import IMAGE_TRUNKS, feature_map_shape
from agents.neural.pooling import HEADS
from agents.neural.spec import MODELS, ModelSpec

#: Default image size (height, width) per family: small enough for CPU training, large enough
#: that CURI's objects (about 1/10 of the width) stay several pixels wide.
IMAGE_SHAPES = {"curi": (32, 48), "kandinsky": (64, 64)}
PPO_IMAGE_SHAPES = {"curi": (48, 72), "kandinsky": (64, 64)}

#: Data and validation settings shared by the episodic models, per modality.
TABLES = dict(encoder="schema", head="gap", batch=16, chunk=250, window=24, steps_per_chunk=80, val_every=250, val_episodes=200)
IMAGES = dict(encoder="conv4", head="gap", batch=8, chunk=100, window=8, steps_per_chunk=12, val_every=100, val_episodes=100)

#: (model, modality) -> defaults; every key is a CLI option.
DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("protonet", "scene"): {**TABLES, "dim": 256, "head_width": 128, "lr": 2e-3},
    ("protonet", "image"): {**IMAGES, "dim": 256, "head_width": 256, "lr": 1e-3},
    ("transformer", "scene"): {**TABLES, "dim": 128, "head_width": 128, "lr": 5e-4},
    ("transformer", "image"): {**IMAGES, "dim": 128, "head_width": 128, "lr": 5e-4},
    ("ppo", "image"): dict(encoder="tiny", head="proto", dim=64, head_width=0, batch=125, lr=1e-3, val_every=10_000,
                          steps_per_chunk=0, chunk=0, window=0, val_episodes=100),
}


@dataclass
class Settings:
    model: str
    env_id: str
    modality: str
    out: str
    minutes: float
    seed: int
    encoder: str
    head: str
    dim: int
    head_width: int
    image_shape: tuple[int, int] | None
    batch: int
    lr: float
    val_episodes: int
    val_every: int
    patience: int
    max_steps: int | None
    workers: int
    threads: int
    chunk: int
    window: int
    steps_per_chunk: int
    holdout: float
    rollout: int
    epochs: int
    ship: bool
    init: str | None = None


def parser(model: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"pix2code train {model}",
        description=f"Meta-train the {model} baseline on train-subset episodes of one env, with early stopping on "
        "validation episodes, resumable checkpoints and a training curve in --out.",
    )
    p.add_argument("--env", required=True, help="environment id (pix2code list)")
    p.add_argument("--modality", choices=("image", "scene"), default="image" if model == "ppo" else None,
                   help="image or scene (object tables); default: scene for protonet/transformer, image for ppo")
    p.add_argument("--out", required=True, help="run directory: checkpoint, curve.png, weights and card")
    p.add_argument("--minutes", type=float, default=15.0, help="wall-time budget of the run, resumes included (default 15)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--encoder", choices=("schema", "tiny", *IMAGE_TRUNKS), help="image trunk (conv4, resnet18) or schema")
    p.add_argument("--head", choices=(*HEADS, "proto"), help="pooling head: gap, rel_net, transformer")
    p.add_argument("--dim", type=int, help="embedding (protonet) or hidden (transformer) size")
    p.add_argument("--head-width", type=int, help="hidden width of the pooling head (CURI: 256)")
    p.add_argument("--image-size", help="image HxW (e.g. 32x48) or the longer side; default per family")
    p.add_argument("--batch", type=int, help="episodes per step (PPO: minibatch of steps)")
    p.add_argument("--lr", type=float)
    p.add_argument("--val-episodes", type=int, help="validation episodes (default 200 tables, 100 images)")
    p.add_argument("--val-every", type=int, help="steps between validations (PPO: env steps)")
    p.add_argument("--patience", type=int, default=6, help="validations without improvement before stopping")
    p.add_argument("--max-steps", type=int, help="stop after this many steps (exactly reproducible runs)")
    p.add_argument("--workers", type=int, default=1, help="episode-making processes beside the trainer (0: inline)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machine is shared)")
    p.add_argument("--chunk", type=int, help="episodes per cached chunk (default 250 tables, 100 images)")
    p.add_argument("--window", type=int, help="chunks a step may draw from, the latest ones (default 24 tables, 8 images)")
    p.add_argument("--steps-per-chunk", type=int, help="steps before the next chunk joins the window")
    p.add_argument("--holdout", type=float, default=0.2,
                   help="share of train concepts held out for validation where the env has no val subset (Kandinsky)")
    p.add_argument("--rollout", type=int, default=250, help="PPO: env steps per env per rollout (4 envs)")
    p.add_argument("--epochs", type=int, default=10, help="PPO: passes over each rollout")
    p.add_argument("--ship", action="store_true", help="also install the best weights and card into the package")
    if model == "ppo":
        p.add_argument("--init", help="start the extractor from a trained image protonet's weights (its trunk, head, "
                       "dim and image size become the defaults)")
    return p


def parse_image_size(text: str | None, family: str, model: str) -> tuple[int, int]:
    if text is None:
        return (PPO_IMAGE_SHAPES if model == "ppo" else IMAGE_SHAPES)[family]
    try:
        if "x" in text:
            h, w = (int(v) for v in text.lower().split("x"))
            return h, w
        longer = int(text)
    except ValueError:
        raise SystemExit(f"--image-size {text!r}: expected HxW (e.g. 32x48) or one integer (the longer side)") from None
    h0, w0 = IMAGE_SHAPES[family]
    return (round(longer * h0 / w0), longer) if w0 >= h0 else (longer, round(longer * w0 / h0))


def settings(argv: list[str]) -> Settings:
    model, rest = argv[0], argv[1:]
    if model not in MODELS:
        raise SystemExit(f"unknown neural model {model!r}; expected one of {list(MODELS)}")
    args = parser(model).parse_args(rest)
    if args.env not in pix2code_env.env_ids():
        raise SystemExit(f"unknown environment id {args.env!r}; expected one of {pix2code_env.env_ids()}")
    modality = args.modality or "scene"
    if (model, modality) not in DEFAULTS:
        raise SystemExit(f"the {model} model reads {', '.join(m for (n, m) in DEFAULTS if n == model)} observations, not {modality!r}")
    family = pix2code_env.env_spec(args.env).family
    defaults = dict(DEFAULTS[(model, modality)])
    init = getattr(args, "init", None)
    if init is not None:
        defaults.update(init_defaults(init))
    elif model == "ppo" and args.encoder not in (None, "tiny"):
        defaults.update(head="gap", head_width=256)
    pick = lambda name: defaults[name] if getattr(args, name) is None else getattr(args, name)  # noqa: E731
    return Settings(
        model=model, env_id=args.env, modality=modality, out=args.out, minutes=args.minutes, seed=args.seed,
        encoder=pick("encoder"), head=pick("head"), dim=pick("dim"), head_width=pick("head_width"),
        image_shape=(parse_image_size(args.image_size, family, model) if args.image_size or "image_shape" not in defaults
                     else defaults["image_shape"]) if modality == "image" else None,
        batch=pick("batch"), lr=pick("lr"), val_episodes=pick("val_episodes"), val_every=pick("val_every"),
        patience=args.patience, max_steps=args.max_steps, workers=args.workers, threads=args.threads,
        chunk=pick("chunk"), window=pick("window"), steps_per_chunk=pick("steps_per_chunk"), holdout=args.holdout,
        rollout=args.rollout, epochs=args.epochs, ship=args.ship, init=init,
    )


def init_defaults(path: str) -> dict[str, Any]:
    """PPO's ``--init``: the architecture of the image protonet it starts from."""
    from agents.neural.weights import WeightsError, read_card

    try:
        spec = ModelSpec.from_json(read_card(Path(path))["spec"])
    except (WeightsError, KeyError, TypeError, ValueError) as error:
        raise SystemExit(f"--init {path}: not a readable weight card ({error})") from None
    if spec.model != "protonet" or spec.modality != "image":
        raise SystemExit(f"--init {path}: expected image protonet weights, got {spec.model} on {spec.modality}")
    return {"encoder": spec.encoder, "head": spec.head, "dim": spec.dim, "image_shape": spec.image_shape,
            "head_width": int(spec.options.get("head_width", 256))}


def model_spec(s: Settings) -> ModelSpec:
    """The spec of the model a run trains, after checking the env's observation can feed it."""
    check_readable(s)
    schema = pix2code_env.object_schema(s.env_id).names if s.modality == "scene" else None
    options: dict[str, Any] = {"head_width": s.head_width} if s.model != "ppo" or s.encoder != "tiny" else {}
    if s.model == "transformer":
        options.update(layers=4, heads=4, dropout=0.1)
    return ModelSpec(s.model, s.env_id, s.modality, s.encoder, s.head, s.dim, image_shape=s.image_shape, schema=schema,
                     options=options)


def check_readable(s: Settings) -> None:
    """Refuse, naming env and model, an env whose observation the model cannot read."""
    if s.modality == "scene" and s.encoder != "schema":
        raise SystemExit(f"--encoder {s.encoder} reads images; object tables (--modality scene) use --encoder schema")
    if s.modality == "image" and s.encoder == "schema":
        raise SystemExit("--encoder schema reads object tables; use --modality scene, or an image trunk (conv4, resnet18)")
    kwargs: dict[str, Any] = {"modality": s.modality}
    if s.image_shape is not None:
        kwargs["image_size"] = list(s.image_shape)
    try:
        env = gym.make(s.env_id, **kwargs)
    except (ValueError, TypeError) as error:
        raise SystemExit(f"the {s.model} model cannot read {s.env_id}: {error}") from None
    space = env.observation_space
    env.close()
    needed = ("support_images", "query_images") if s.modality == "image" else ("support_objects", "query_objects")
    missing = [key for key in (*needed, "support_labels") if key not in space.spaces]
    if missing:
        raise SystemExit(f"the {s.model} model reads {list(needed)}, but {s.env_id}'s observation has no {missing}")
    if s.modality == "image" and s.encoder in IMAGE_TRUNKS and min(feature_map_shape(s.encoder, s.image_shape)) < 1:
        raise SystemExit(f"{s.image_shape} images are too small for the {s.encoder} trunk")
