"""``ConceptEnv``: one Gymnasium environment class for every task family and every registered id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from pix2code_env.episode import MODALITIES, Episode, build_episode
from pix2code_env.grid import episode_grid
from pix2code_env.scoring import as_labels, class_balanced_accuracy
from tasks import make_family
from tasks.base import SUPPORT_NEGATIVES, SUPPORT_POSITIVES, SceneEpisode, TaskFamily

QUERY_MODES = ("batch", "sequential")
ENV_KWARGS = (
    "family", "family_options", "id_options", "subset", "modality", "query_mode",
    "image_size", "render_mode", "reveal_concept",
)
RESET_OPTIONS = ("concept",)


class ConceptEnv(gym.Env):
    """Few-shot visual concept learning: label the query images of a concept from a support set.

    ## Description
    Each episode draws a concept of the task family (or takes ``options={"concept": id}``), then a
    support set of 5 positives and 20 negatives with their labels and an unlabeled query set.
    The agent answers with query labels; the reward is class-balanced accuracy.

    ## Observation (``query_mode="batch"``)
    ``Dict`` with ``support_images (S,3,H,W) uint8``, ``support_labels (S,) int8`` and
    ``query_images (Q,3,H,W) uint8``; with ``modality="scene"`` or ``"both"`` also
    ``support_objects (S,K,F) float32``, ``support_object_mask (S,K) int8``, ``query_objects`` and
    ``query_object_mask`` (``modality="scene"`` drops the image keys).

    ## Action and reward
    Batch mode: ``MultiBinary(Q)``, one step, reward = class-balanced accuracy, ``terminated=True``.
    Sequential mode (for RL libraries): the observation holds one ``query_image`` (and its
    ``query_objects``/``query_object_mask``), the action is ``Discrete(2)``, and a correct label
    earns 1/(2P) on a positive query and 1/(2N) on a negative one (P, N: the episode's query
    counts), so the episode's return *is* its class-balanced accuracy; the episode terminates
    after the last query.

    ## Info
    ``reset``: ``fingerprint`` (SHA-256 of the episode's content: concept id, labels, object
    tables and images as rendered, so two identical episodes share it), ``identity`` (env id,
    subset, seed, modality, image size, query mode: what produced it), ``concept_id``, ``subset``
    and, with ``reveal_concept=True``, ``concept`` (the definition). After the final step:
    ``query_labels``, ``correct`` and ``score`` (class-balanced accuracy); sequential steps add
    ``query_label``.

    ## Randomness
    Each subset of each variant has its own random stream: the episode generator is seeded from
    (family, version, options, subset) and a draw from ``self.np_random``, so the same seed gives
    unrelated episodes in "train" and "test", and an episode is a pure function of (id, subset,
    seed).

    ## Arguments
    ``family`` and ``id_options`` pick the task family and the settings a registered id stands
    for; ``family_options`` adds options of your own (e.g. CURI's ``concept_list``) and may not
    contradict ``id_options``; ``subset`` ("train", "test", and "val" where the family has one);
    ``modality`` ("image", "scene", "both"); ``query_mode`` ("batch", "sequential");
    ``image_size`` (an int: the longer side, the other following the family's aspect ratio; or
    ``[height, width]``, which must keep the aspect ratio for families laid out for it, such as
    CURI's 3:2; each side within the family's ``image_side_range``, 16..640 pixels);
    ``render_mode`` (None or "rgb_array": an episode grid); ``reveal_concept``.

    Vector users: one-step episodes waste every other step under Gymnasium's default NEXT_STEP
    autoreset; pass ``vector_kwargs={"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP}``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1}

    def __init__(
        self,
        family: str | TaskFamily = "kandinsky",
        family_options: dict[str, Any] | None = None,
        id_options: dict[str, Any] | None = None,
        subset: str = "train",
        modality: str = "image",
        query_mode: str = "batch",
        image_size: int | list[int] | tuple[int, int] | None = None,
        render_mode: str | None = None,
        reveal_concept: bool = False,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise TypeError(
                f"unknown ConceptEnv argument(s) {sorted(unknown)}; expected any of {list(ENV_KWARGS)}"
            )
        if isinstance(family, TaskFamily):
            if family_options or id_options:
                raise ValueError("family_options and id_options only apply when family is given by name")
            self.family = family
            self.family_options = {}
        else:
            self.family_options = merge_options(family, id_options, family_options)
            self.family = make_family(family, **self.family_options)
        self.subset = self.family.check_subset(subset)
        if modality not in MODALITIES:
            raise ValueError(f"unknown modality {modality!r}; expected one of {list(MODALITIES)}")
        if query_mode not in QUERY_MODES:
            raise ValueError(f"unknown query_mode {query_mode!r}; expected one of {list(QUERY_MODES)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}; expected None or 'rgb_array'")
        if not isinstance(reveal_concept, bool):
            raise TypeError(f"reveal_concept must be a bool, got {reveal_concept!r}")
        self.modality = modality
        self.query_mode = query_mode
        self.render_mode = render_mode
        self.reveal_concept = reveal_concept
        self.image_shape = self._image_shape(image_size)

        self.n_support = SUPPORT_POSITIVES + SUPPORT_NEGATIVES
        self.n_query = sum(self.family.query_size(self.subset))
        self.observation_space = self._observation_space()
        self.action_space = spaces.MultiBinary(self.n_query) if query_mode == "batch" else spaces.Discrete(2)
        self._episode: Episode | None = None
        self._identity: dict[str, Any] = {}
        self._scenes: SceneEpisode | None = None
        self._cursor = 0
        self._answers: np.ndarray | None = None
        self._done = False

    # ------------------------------------------------------------------ construction helpers
    def _image_shape(self, image_size: int | list[int] | tuple[int, int] | None) -> tuple[int, int]:
        default_h, default_w = self.family.image_shape
        if image_size is None:
            return default_h, default_w
        if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
            longer = int(image_size)
            if default_w >= default_h:
                shape = (max(1, round(longer * default_h / default_w)), longer)
            else:
                shape = (longer, max(1, round(longer * default_w / default_h)))
        elif (
            isinstance(image_size, (list, tuple))
            and len(image_size) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in image_size)
        ):
            shape = (int(image_size[0]), int(image_size[1]))
            if self.family.fixed_aspect and shape[0] * default_w != shape[1] * default_h:
                g = np.gcd(default_h, default_w)
                raise ValueError(
                    f"image_size {list(image_size)!r} changes the {self.family.name} family's aspect ratio "
                    f"{default_w // g}:{default_h // g} (width:height), which its scenes are laid out for; "
                    f"pass [height, width] with height = width * {default_h // g} / {default_w // g}, or an int "
                    "for the longer side"
                )
        else:
            raise TypeError(f"image_size must be an int (the longer side) or [height, width], got {image_size!r}")
        low, high = self.family.image_side_range
        if not all(low <= side <= high for side in shape):
            raise ValueError(
                f"image_size {image_size!r} gives {shape[0]}x{shape[1]} pixels; each side must lie in "
                f"{low}..{high} for the {self.family.name} family"
            )
        return shape

    def _observation_space(self) -> spaces.Dict:
        height, width = self.image_shape
        k, f = self.family.max_objects, len(self.family.object_features)
        s, q = self.n_support, self.n_query
        per_query = q if self.query_mode == "batch" else None

        def images(n: int | None) -> spaces.Box:
            shape = (3, height, width) if n is None else (n, 3, height, width)
            return spaces.Box(0, 255, shape, dtype=np.uint8)

        def objects(n: int | None) -> spaces.Box:
            return spaces.Box(0.0, 1.0, (k, f) if n is None else (n, k, f), dtype=np.float32)

        def mask(n: int | None) -> spaces.MultiBinary:
            return spaces.MultiBinary(k if n is None else (n, k))

        query_key = "query_images" if self.query_mode == "batch" else "query_image"
        entries: dict[str, spaces.Space] = {"support_labels": spaces.MultiBinary(s)}
        if self.modality in ("image", "both"):
            entries["support_images"] = images(s)
            entries[query_key] = images(per_query)
        if self.modality in ("scene", "both"):
            entries["support_objects"] = objects(s)
            entries["support_object_mask"] = mask(s)
            entries["query_objects"] = objects(per_query)
            entries["query_object_mask"] = mask(per_query)
        return spaces.Dict(entries)

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"reset options must be a dict such as {{'concept': id}}, got {options!r}")
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; expected any of {list(RESET_OPTIONS)}")
        rng = np.random.default_rng([*self.family.stream_key(self.subset), *self.np_random.integers(0, 2**32, size=2)])
        if "concept" in options:
            concept = self.family.check_concept(options["concept"], self.subset)
        else:
            concept = self.family.sample_concept(rng, self.subset)
        scenes = self.family.sample_episode(rng, concept, self.subset)
        self._scenes = scenes
        self._episode = build_episode(self.family, scenes, self.subset, modality=self.modality, image_shape=self.image_shape)
        self._identity = {
            "env_id": None if self.spec is None else self.spec.id,
            "subset": self.subset,
            "seed": seed,
            "modality": self.modality,
            "image_size": list(self.image_shape),
            "query_mode": self.query_mode,
        }
        self._cursor = 0
        self._answers = np.zeros(self._episode.n_query, dtype=np.int8)
        self._done = False
        return self._observation(), self._base_info()

    def step(self, action: Any):
        if self._episode is None:
            raise RuntimeError("step() called before reset(); call env.reset() to start an episode")
        if self._done:
            raise RuntimeError("the episode is over; call env.reset() before stepping again")
        episode = self._episode
        if self.query_mode == "batch":
            self._answers = as_labels(action, "action", episode.n_query).astype(np.int8)
            self._cursor = episode.n_query
            info = self._final_info()
            reward = info["score"]
        else:
            answer = self._validate_sequential_action(action)
            index = self._cursor
            self._answers[index] = answer
            label = int(episode.query_labels[index])
            correct = bool(answer == label)
            same_class = int(np.sum(episode.query_labels == label))
            reward = 1.0 / (2 * same_class) if correct else 0.0
            self._cursor += 1
            info = self._base_info()
            info.update(query_index=index, query_label=int(episode.query_labels[index]), query_correct=correct)
            if self._cursor == episode.n_query:
                info.update(self._final_info())
        self._done = self._cursor == episode.n_query
        return self._observation(), float(reward), self._done, False, info

    @property
    def episode(self) -> Episode | None:
        """The current episode as arrays (labels included): for harnesses and tools, never for agents."""
        return self._episode

    def render(self) -> np.ndarray | None:
        if self.render_mode is None or self._episode is None:
            return None
        episode = self._episode
        if episode.support_images is None:
            episode = build_episode(self.family, self._scenes, self.subset, modality="image", image_shape=self.image_shape)
        answers = self._answers if self._done else None
        return episode_grid(episode, predictions=answers)

    def close(self) -> None:
        self._episode = None

    # ------------------------------------------------------------------ internals
    def _observation(self) -> dict[str, np.ndarray]:
        episode = self._episode
        assert episode is not None
        obs: dict[str, np.ndarray] = {"support_labels": episode.support_labels.astype(np.int8)}
        if self.query_mode == "batch":
            pick = slice(None)
        else:
            pick = min(self._cursor, episode.n_query - 1)
        if episode.support_images is not None:
            obs["support_images"] = episode.support_images.copy()
            key = "query_images" if self.query_mode == "batch" else "query_image"
            obs[key] = episode.query_images[pick].copy()
        if episode.support_objects is not None:
            obs["support_objects"] = episode.support_objects.copy()
            obs["support_object_mask"] = episode.support_object_mask.copy()
            obs["query_objects"] = episode.query_objects[pick].copy()
            obs["query_object_mask"] = episode.query_object_mask[pick].copy()
        return obs

    def _base_info(self) -> dict[str, Any]:
        episode = self._episode
        assert episode is not None
        info: dict[str, Any] = {
            "fingerprint": episode.fingerprint,
            "identity": dict(self._identity),
            "concept_id": episode.concept_id,
            "subset": episode.subset,
        }
        if self.reveal_concept:
            info["concept"] = self.family.concept_text(episode.concept_id)
        return info

    def _final_info(self) -> dict[str, Any]:
        episode = self._episode
        assert episode is not None and self._answers is not None
        info = self._base_info()
        info["query_labels"] = episode.query_labels.copy()
        info["correct"] = self._answers == episode.query_labels
        info["score"] = class_balanced_accuracy(episode.query_labels, self._answers)
        return info

    def _validate_sequential_action(self, action: Any) -> int:
        array = np.asarray(action)
        if array.shape not in ((), (1,)):
            raise ValueError(f"action has shape {array.shape}; expected a single 0/1 label in sequential mode")
        if array.dtype != bool and not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"action has dtype {array.dtype}; expected an integer or bool label")
        value = int(array.reshape(()))
        if value not in (0, 1):
            raise ValueError(f"action {value!r} is not a label; expected 0 or 1")
        return value


def merge_options(family: str, id_options: Mapping[str, Any] | None, family_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The family options of an env: the registered id's settings, plus the user's own.

    A registered id stands for its settings (CURI-Hans is confounded, Kandinsky-OneRed is the
    onered pattern); ``family_options`` may add options but never contradict them.
    """
    merged = dict(id_options or {})
    for key, value in (family_options or {}).items():
        if key in merged and merged[key] != value:
            raise ValueError(
                f"family_options sets {key}={value!r}, but this id is registered with {key}={merged[key]!r}; "
                f"the id's settings cannot be overridden (make the id with {key}={merged[key]!r}, or pick another id)"
            )
        merged[key] = value
    return merged
