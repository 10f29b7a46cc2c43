"""``pix2code train ppo``: stable-baselines3 PPO on the sequential mode with :class:`FewShotExtractor`.

Each env step labels one query; the reward is the class-balanced share of a correct answer, so
every step's reward depends on that step's action only and ``gamma=0`` is the exact objective
(the advantage is reward minus the value of the state). Validation scores the deterministic
policy on the validation episodes (batch view, class-balanced accuracy) every ``--val-every``
env steps; the run stops early after ``--patience`` validations without improvement, or when
its ``--minutes`` are spent. ``DIR/ppo_checkpoint.zip`` (SB3's format) plus
``DIR/ppo_state.pt`` resume an interrupted run; the best policy's weights and card are written
as for the episodic models.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.neural.config import Settings
from agents.neural.data import Source
from agents.neural.ppo import EpisodeBlockRolloutBuffer, FewShotPolicy, PPOClassifier, policy_kwargs, start_from
from agents.neural.runs import Budget, CheckpointError, History
from agents.neural.train import begin, console, episodes, finish

N_ENVS = 4
N_STEPS = 250  # per env: a rollout of 1,000 steps = 40 episodes of 25 queries


class ConceptSubset(gym.Wrapper):
    """Resets draw the concept from a fixed list (SB3 autoresets pass no options, so the wrapper does)."""

    def __init__(self, env: gym.Env, concepts: tuple[str, ...], seed: int) -> None:
        super().__init__(env)
        self.concepts = concepts
        self.rng = np.random.default_rng([seed, 0xC0C0])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        concept = self.concepts[int(self.rng.integers(len(self.concepts)))]
        return self.env.reset(seed=seed, options={**(options or {}), "concept": concept})


def make_vec_env(source: Source, seed: int) -> DummyVecEnv:
    def factory(rank: int):
        def make() -> gym.Env:
            env = gym.make(source.env_id, subset=source.subset, modality="image", query_mode="sequential",
                           image_size=list(source.image_shape))
            return ConceptSubset(env, source.concepts, seed + rank) if source.concepts else env
        return make

    vec = DummyVecEnv([factory(rank) for rank in range(N_ENVS)])
    vec.seed(seed)
    return vec


class PolicyView:
    """The pieces :class:`PPOClassifier` needs, taken from a live PPO model."""

    def __init__(self, model: PPO, spec: Any) -> None:
        self.policy, self.spec, self.resize = model.policy, spec, False


def validate(model: PPO, spec: Any, val: dict[str, np.ndarray]) -> float:
    view = PolicyView(model, spec)
    model.policy.set_training_mode(False)
    scores = []
    extractor = model.policy.features_extractor
    with torch.inference_mode():
        for i in range(len(val["support_labels"])):
            support = extractor.encode(torch.from_numpy(val["support"][i]))[None]
            labels = torch.from_numpy(val["support_labels"][i].astype(np.int64))[None]
            classifier = PPOClassifier(view, support, labels)  # type: ignore[arg-type]
            predicted = classifier.predict({"query_images": val["query"][i]})
            truth = val["query_labels"][i].astype(bool)
            scores.append(0.5 * ((predicted[truth] == 1).mean() + (predicted[~truth] == 0).mean()))
    return float(np.mean(scores))


class Monitor(BaseCallback):
    """Progress, validation, early stopping, checkpoints and the time budget, inside ``PPO.learn``."""

    def __init__(self, s: Settings, spec: Any, out: Path, val: dict[str, np.ndarray], budget: Budget,
                 state: dict[str, Any], progress: Progress, task: Any) -> None:
        super().__init__()
        self.s, self.spec, self.out, self.val, self.budget = s, spec, out, val, budget
        self.state, self.progress, self.task = state, progress, task
        self.next_val = state["last_val_step"] + s.val_every
        self.rewards: list[float] = []
        self.stopped = "budget"

    def _on_step(self) -> bool:
        self.rewards.extend(float(r) for r in self.locals["rewards"])
        step = self.num_timesteps
        if step >= self.next_val:
            self.next_val = step + self.s.val_every
            self.evaluate(step)
            if self.state["stale"] >= self.s.patience:
                self.stopped = "early_stopping"
                return False
        if self.s.max_steps is not None and step >= self.s.max_steps:
            self.stopped = "max_steps"
            return False
        history: History = self.state["history"]
        if len(self.rewards) >= 1000:
            history.steps.append(step)
            history.train_accuracy.append(float(np.sum(self.rewards)) * 25 / len(self.rewards))  # return per 25-query episode
            history.loss.append(float(self.model.logger.name_to_value.get("train/loss", np.nan)))
            self.rewards.clear()
        self.progress.update(self.task, completed=min(self.budget.spent, self.budget.limit),
                             info=f"step {step}  val best {self.state['best']:.3f}")
        return not self.budget.exhausted

    def evaluate(self, step: int) -> None:
        accuracy = validate(self.model, self.spec, self.val)
        self.model.policy.set_training_mode(True)
        history: History = self.state["history"]
        history.validated(step, accuracy, self.budget.spent)
        if accuracy > self.state["best"]:
            self.state.update(best=accuracy, stale=0,
                              best_state={k: v.detach().clone() for k, v in self.model.policy.state_dict().items()})
        else:
            self.state["stale"] += 1
        self.state["last_val_step"] = step
        self.progress.console.print(f"step {step:7d}  {self.budget.spent:6.0f} s  val {accuracy:.3f}")
        self.save()

    def save(self) -> None:
        self.model.save(self.out / "ppo_checkpoint.zip")
        torch.save({**self.state, "history": self.state["history"].to_json(), "seconds": self.budget.spent,
                    "spec": self.spec.to_json()}, self.out / "ppo_state.pt")


def run_ppo(s: Settings, argv: list[str]) -> dict[str, Any]:
    out, spec, command = begin(s, argv)
    train_source, val_note, val = episodes(s, out)
    vec = make_vec_env(train_source, s.seed)
    state: dict[str, Any] = {"best": -1.0, "stale": 0, "best_state": None, "last_val_step": 0, "history": History()}
    spent = 0.0
    checkpoint = out / "ppo_checkpoint.zip"
    if checkpoint.exists():
        try:
            saved = torch.load(out / "ppo_state.pt", map_location="cpu", weights_only=False)
            model = PPO.load(checkpoint, env=vec, device="cpu")
        except Exception as error:
            raise CheckpointError(f"checkpoint {checkpoint} (or ppo_state.pt beside it) is corrupt ({type(error).__name__}: "
                                  f"{error}); delete both and rebuild with: {command}") from None
        if saved.get("spec") != spec.to_json():
            raise CheckpointError(f"checkpoint {checkpoint} belongs to another run than {spec.describe()}; use another --out")
        state.update({k: saved[k] for k in ("best", "stale", "best_state", "last_val_step")})
        state["init"] = saved.get("init")
        state["history"] = History(**saved["history"])
        spent = saved["seconds"]
        console.print(f"resuming {checkpoint} at step {model.num_timesteps} ({spent:.0f} s spent)")
    else:
        model = PPO(FewShotPolicy, vec, learning_rate=s.lr, n_steps=s.rollout, batch_size=s.batch, n_epochs=s.epochs,
                    gamma=0.0, gae_lambda=1.0, ent_coef=0.01, policy_kwargs=policy_kwargs(spec), seed=s.seed,
                    rollout_buffer_class=EpisodeBlockRolloutBuffer,
                    device="cpu", verbose=0)
        if s.init is not None:
            state["init"] = start_from(model.policy, spec, Path(s.init))
            console.print(f"extractor starts from {s.init}")
    budget = Budget(s.minutes, spent)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                        TimeElapsedColumn(), console=console)
    with progress:
        task = progress.add_task(f"ppo {s.env_id}", total=budget.limit, completed=budget.spent, info="")
        monitor = Monitor(s, spec, out, val, budget, state, progress, task)
        total = s.max_steps if s.max_steps is not None else 10**9
        model.learn(total_timesteps=total, callback=monitor, reset_num_timesteps=not checkpoint.exists())
        if state["last_val_step"] != model.num_timesteps:
            monitor.evaluate(model.num_timesteps)
        monitor.save()
    vec.close()
    (out / "ppo_summary.json").write_text(json.dumps({"steps": model.num_timesteps, "seconds": budget.spent}))
    extra = {"env_steps": model.num_timesteps, "episodes_played": model.num_timesteps // 25, "n_envs": N_ENVS,
             "ppo": {"n_steps": s.rollout, "batch_size": s.batch, "n_epochs": s.epochs, "gamma": 0.0, "ent_coef": 0.01,
                     "learning_rate": s.lr}}
    if state.get("init"):
        extra["init"] = state["init"]
    card = finish(s, spec, out, model.policy, state["best_state"], state["best"], state["history"], model.num_timesteps,
                  budget.spent, monitor.stopped, 0, val_note, command, extra)
    return card


def steps_per_second(env_id: str, policy: str, steps: int, seed: int = 0,
                     image_shape: tuple[int, int] = (48, 72)) -> tuple[float, float]:
    """PPO training throughput (env steps per wall-clock second and per CPU second of this process,
    rollouts and updates included) with our policy (``policy="fewshot"``: :class:`FewShotPolicy`,
    :class:`FewShotExtractor`, episode-block minibatches) or SB3's default ``MultiInputPolicy``
    (``"default"``), at the same PPO settings. CPU seconds make figures comparable on a shared machine."""
    source = Source(env_id, "train", "image", image_shape)
    vec = make_vec_env(source, seed)
    kwargs: dict[str, Any] = {}
    policy_class: Any = "MultiInputPolicy"
    if policy == "fewshot":
        policy_class = FewShotPolicy
        from agents.neural.spec import ModelSpec

        spec = ModelSpec("ppo", env_id, "image", "tiny", "proto", 64, image_shape=image_shape)
        kwargs["policy_kwargs"] = policy_kwargs(spec)
        kwargs["rollout_buffer_class"] = EpisodeBlockRolloutBuffer
    model = PPO(policy_class, vec, n_steps=N_STEPS, batch_size=250, n_epochs=4, gamma=0.0, seed=seed,
                device="cpu", verbose=0, **kwargs)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=steps)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    vec.close()
    return model.num_timesteps / elapsed, model.num_timesteps / cpu
