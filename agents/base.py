"""The agent protocol: ``Agent.fit(obs) -> Classifier``, ``Classifier.predict(obs) -> labels``.

An agent reads only the support keys of an observation to fit; the classifier reads only the
query keys to predict. Neither ever sees hidden labels or the concept. The same classifier
plays the sequential (one query per step) mode through :class:`SequentialPlayer`.
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from pix2code_env.scoring import as_labels

SUPPORT_KEYS = ("support_images", "support_labels", "support_objects", "support_object_mask")
QUERY_KEYS = ("query_images", "query_objects", "query_object_mask")
SINGLE_QUERY_KEYS = {"query_image": "query_images", "query_objects": "query_objects",
                     "query_object_mask": "query_object_mask"}


def support_view(obs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The support half of an observation (what ``fit`` may read), checked.

    Refuses what no env produces: labels that are not a 1-D 0/1 array, object tables without
    their mask (or the reverse), and arrays whose support sizes disagree.
    """
    if "support_labels" not in obs:
        raise KeyError("observation has no 'support_labels'; pass the observation returned by env.reset()")
    view = {key: obs[key] for key in SUPPORT_KEYS if key in obs}
    labels = as_labels(view["support_labels"], "support_labels")
    if labels.size == 0:
        raise ValueError("support_labels is empty; expected one 0/1 label per support item")
    _check_pair(view, "support_objects", "support_object_mask")
    if "support_images" not in view and "support_objects" not in view:
        raise ValueError("observation has neither 'support_images' nor 'support_objects'")
    for key in ("support_images", "support_objects", "support_object_mask"):
        if key in view and np.shape(view[key])[0] != labels.size:
            raise ValueError(f"{key} holds {np.shape(view[key])[0]} items but support_labels has {labels.size}")
    return view


def _check_pair(view: Mapping[str, np.ndarray], objects: str, mask: str) -> None:
    """Object tables are meaningless without their mask, and the reverse."""
    if (objects in view) != (mask in view):
        present, missing = (objects, mask) if objects in view else (mask, objects)
        raise ValueError(f"observation has {present!r} but no {missing!r}; object tables and their mask come together")


def query_view(obs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The query half of an observation as a batch (a sequential observation becomes a batch of one)."""
    if "query_image" in obs or ("query_objects" in obs and np.ndim(obs["query_objects"]) == 2):
        return {batch: np.asarray(obs[single])[None] for single, batch in SINGLE_QUERY_KEYS.items() if single in obs}
    view = {key: obs[key] for key in QUERY_KEYS if key in obs}
    if not view:
        raise KeyError("observation has no query keys ('query_images' or 'query_objects')")
    _check_pair(view, "query_objects", "query_object_mask")
    return view


def n_queries(obs: Mapping[str, np.ndarray]) -> int:
    view = query_view(obs)
    return int(next(iter(view.values())).shape[0])


def observation_seed(obs: Mapping[str, np.ndarray], salt: int = 0, keys: tuple[str, ...] = SUPPORT_KEYS) -> int:
    """A seed derived from an observation's ``keys`` (default: the support set), so stochastic
    agents are reproducible per episode."""
    digest = zlib.crc32(np.int64(salt).tobytes())
    for key in keys:
        if key in obs:
            digest = zlib.crc32(np.ascontiguousarray(obs[key]).tobytes(), digest)
    return digest


class Classifier(abc.ABC):
    """Labels the queries of observations that share the support set it was fitted on."""

    #: The classifier as program text, for program-synthesis agents (None for others).
    program: str | None = None
    #: The classifier in plain English, for agents that can say what they learned (None for others).
    explanation: str | None = None
    #: Set when the classifier could not do what it normally does and answers with a default
    #: instead: what it answers and why. Harnesses record and count it.
    fallback: str | None = None

    def diagnostics(self) -> dict[str, Any]:
        """JSON-able facts about how this classifier was fitted (e.g. search statistics), recorded per episode."""
        return {}

    @abc.abstractmethod
    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """One int8 0/1 label per query, shaped like the env's action (``(Q,)``)."""

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """Optional confidence that each query is positive, in [0, 1]; None when unavailable."""
        return None


MODALITIES = ("image", "scene", "both")


class Agent(abc.ABC):
    """Fits a classifier to the support set of one episode.

    Every agent accepts ``env_id`` so that it can load what was trained for that environment.
    ``modalities`` names the observation modalities the agent can read, preferred first;
    harnesses make the environment in the first unless told otherwise.
    """

    name: str = "agent"
    modalities: tuple[str, ...] = ("image", "scene", "both")

    def __init__(self, env_id: str | None = None, **options: Any) -> None:
        if options:
            raise TypeError(f"{type(self).__name__} got unknown option(s) {sorted(options)}")
        self.env_id = env_id

    @abc.abstractmethod
    def fit(self, obs: Mapping[str, np.ndarray]) -> Classifier:
        """Fit to ``obs``'s support keys (images and/or object tables, and labels)."""


class SequentialPlayer:
    """Plays the one-query-per-step mode with any agent: fit once per episode, then label each query."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._classifier: Classifier | None = None
        self._support_seed: int | None = None

    def act(self, obs: Mapping[str, np.ndarray]) -> int:
        seed = observation_seed(obs)
        if self._classifier is None or seed != self._support_seed:
            self._classifier = self.agent.fit(support_view(obs))
            self._support_seed = seed
        return int(self._classifier.predict(query_view(obs))[0])

    @property
    def classifier(self) -> Classifier | None:
        return self._classifier
