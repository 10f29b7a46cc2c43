"""CURI's Bayes oracles (curi.md §7.3): exact posterior predictive over the concept pool.

Both oracles read only the support set's object tables (never the concept id or query labels).
They decode each object row back to CURI's attributes and location bins, keep the pool concepts
consistent with the support set, weight each by its posterior

    log post(h) = log prior(h) - sum_pos log |ext(h)| - sum_neg log (N - |ext(h)|)

(the PCFG prior times the size principle, with |ext(h)| counted on the N-scene bank the pool
was filtered on; CURI's code drops the positives' term by a bug, we use the intended formula),
and label a query positive when the posterior predictive exceeds 0.5.

The pool is the environment's: the generated one, or CURI's released list when the env uses it
(pass the same ``concept_list``, or set ``$PIX2CODE_CURI_CONCEPT_LIST`` for both).

* ``StrongOracle`` (``oracle-strong``): every pool concept of every split.
* ``WeakOracle`` (``oracle-weak``): renormalised over the split's *training* concepts only; the
  gap between the two is CURI's compositionality gap. When no training concept fits the support
  set the weak oracle answers "negative" everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.base import Agent, Classifier, query_view, support_view
from tasks import make_family
from tasks.curi import scenes
from tasks.curi.evaluate import SIZE_CODES, Objects
from tasks.curi.family import decode_object_table
from tasks.curi.pool import Pool
from tasks.curi.splits import check_split, split_indices



def decode_objects(objects: np.ndarray, mask: np.ndarray) -> Objects:
    """CURI schema rows (N, K, 19) with their slot mask (N, K) back to concept codes, valid
    objects first in their order, in CURI's 5 slots."""
    codes = decode_object_table(objects, mask)
    valid = np.asarray(mask).astype(bool)
    n, k = valid.shape
    width = scenes.MAX_OBJECTS
    if valid.sum(axis=1).max(initial=0) > width:
        raise ValueError(f"CURI scenes hold at most {width} objects")
    order = np.argsort(~valid, axis=1, kind="stable")[:, :width]
    size = np.where(codes["size"] >= 0, np.asarray(SIZE_CODES)[codes["size"]], -1)
    bins_x = np.where(codes["px"] >= 0, codes["px"] // scenes.X_BIN_WIDTH, -1)
    bins_y = np.where(codes["py"] >= 0, codes["py"] // scenes.Y_BIN_HEIGHT, -1)
    planes = np.stack([codes["color"], codes["shape"], codes["material"], size, bins_x, bins_y])
    planes = np.take_along_axis(planes, np.broadcast_to(order, (6, *order.shape)), axis=2)
    if order.shape[1] < width:
        planes = np.concatenate([planes, np.full((6, n, width - order.shape[1]), -1)], axis=2)
    return Objects(np.ascontiguousarray(planes.transpose(0, 2, 1).astype(np.int8)), valid.sum(axis=1).astype(np.int8))


def _tables(view: Mapping[str, Any], prefix: str) -> Objects:
    """Decode the support or query object tables of an observation view."""
    key = f"{prefix}_objects"
    if key not in view or f"{prefix}_object_mask" not in view:
        raise ValueError(
            f"the CURI oracles read object tables, but the observation has no {key!r}: "
            "make the environment with modality 'scene' or 'both'"
        )
    return decode_objects(view[key], view[f"{prefix}_object_mask"])


def _split_from(env_id: str | None, split: str | None) -> str:
    """The CURI split an oracle serves: ``split`` if given, else the registered env's, else iid."""
    if split is not None:
        return check_split(split)
    if env_id is None:
        return "iid"
    from pix2code_env.registration import ENV_SPECS

    curi = {spec.id: spec for spec in ENV_SPECS if spec.family == "curi"}
    if env_id not in curi:
        raise ValueError(f"the CURI oracles serve CURI environments; got {env_id!r}, expected one of {sorted(curi)}")
    return check_split(curi[env_id].family_options.get("split", "iid"))


class PosteriorClassifier(Classifier):
    """Labels queries by the posterior predictive of a fixed weighted set of pool concepts."""

    def __init__(self, pool: Pool, concepts: np.ndarray, weights: np.ndarray) -> None:
        self.pool = pool
        self.concepts = concepts
        self.weights = weights

    def scores(self, obs: Mapping[str, Any]) -> np.ndarray:
        """(Q,) posterior predictive probability that each query is a positive."""
        query = _tables(query_view(obs), "query")
        if self.concepts.size == 0:
            return np.zeros(len(query))
        truth = self.pool.compiled.evaluate(query, self.concepts)
        return np.clip(truth.astype(np.float64) @ self.weights, 0.0, 1.0)

    def predict(self, obs: Mapping[str, Any]) -> np.ndarray:
        return (self.scores(obs) > 0.5).astype(np.int8)


class StrongOracle(Agent):
    """Bayes-optimal learner over every pool concept (CURI's strong oracle)."""

    name = "oracle-strong"
    modalities = ("scene", "both")

    def __init__(
        self, env_id: str | None = None, split: str | None = None, concept_list: str | None = None, **options: Any
    ) -> None:
        super().__init__(env_id, **options)
        self.split = _split_from(env_id, split)
        # the env's pool: the generated one, or CURI's released list (option or $PIX2CODE_CURI_CONCEPT_LIST)
        self.pool = make_family("curi", split=self.split, concept_list=concept_list).pool

    @functools.cached_property
    def hypotheses(self) -> np.ndarray:
        """Pool indices of the concepts the oracle may believe in."""
        return np.arange(len(self.pool))

    def posterior(self, obs: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(pool indices, posterior weights) of the concepts consistent with the support set."""
        view = support_view(obs)
        support = _tables(view, "support")
        labels = np.asarray(view["support_labels"]).astype(bool)
        if labels.shape != (len(support),):
            raise ValueError(f"support_labels must have shape ({len(support)},), got {labels.shape}")
        hyp = self.hypotheses
        truth = self.pool.compiled.evaluate(support, hyp)
        consistent = hyp[(truth == labels[:, None]).all(axis=0)]
        if consistent.size == 0:
            return consistent, np.zeros(0)
        pool = self.pool
        ext = pool.count[consistent].astype(np.float64)
        n_pos, n_neg = int(labels.sum()), int((~labels).sum())
        log_post = pool.log_prior[consistent] - n_pos * np.log(ext) - n_neg * np.log(pool.bank_size - ext)
        log_post -= log_post.max()
        weights = np.exp(log_post)
        return consistent, weights / weights.sum()

    def fit(self, obs: Mapping[str, Any]) -> PosteriorClassifier:
        concepts, weights = self.posterior(obs)
        return PosteriorClassifier(self.pool, concepts, weights)


class WeakOracle(StrongOracle):
    """The strong oracle's posterior renormalised over the split's training concepts (CURI's weak oracle)."""

    name = "oracle-weak"

    @functools.cached_property
    def hypotheses(self) -> np.ndarray:
        return split_indices(self.split, "train", self.pool)
