"""The Pix2Code agent plug-in: object tables in, the maximum-posterior program out.

``fit`` decodes the support set's object tables into the family's DSL domain, runs the
synthesiser (:func:`agents.pix2code.search.solve`) and returns a classifier that runs the
top programs on the queries, voting by posterior weight. ``classifier.program`` is the MAP
program's text. When no program reproduces the support labels within the budget, the
classifier says so (``classifier.fallback``) and answers with the best near fit when it beats
the support's majority class, else with the majority class ("negative").

The agent reads object tables (``modality="scene"`` or ``"both"``) or, with ``modality="image"``,
pixels: the trained extractor (:mod:`agents.pix2code.perception`) turns support and query images
into object tables with per-attribute probabilities, and the same search runs on those. Beyond
the paper, with ``uncertainty=True`` (the default) the search scores programs in expectation
over the extractor's doubtful readings and the query scores are expectations too
(:mod:`agents.pix2code.search.uncertain`), so one misread attribute does not make a task
unsolvable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.base import Agent, Classifier, query_view, support_view
from agents.pix2code.dsl.domains import DOMAINS, Domain, domain_for_env_id, get_domain
from agents.pix2code.layouts import load_layouts
from agents.pix2code.library.shipped import Guide, resolve
from agents.pix2code.search import SearchBudget, SearchResult, SolverOptions, predict, solve
from agents.pix2code.search.uncertain import Readings

MODALITIES = ("scene", "image")


class Pix2CodeClassifier(Classifier):
    """Runs the synthesiser's top programs on query object tables.

    With no exact fit it uses the best near fit only when that fit gets fewer support labels
    wrong than the support set's majority class would; otherwise it answers the majority class.
    """

    def __init__(
        self, result: SearchResult, domain: Domain, support_labels: np.ndarray,
        names: Mapping[str, tuple[str, str]] | None = None, reader: Any = None,
    ) -> None:
        self.result = result
        self.domain = domain
        self.names = dict(names or {})  # invention text -> (name, description), for explanations
        self.reader = reader  # perception.reader.Reader when the agent reads pixels
        self.program = result.program
        positives = int(np.sum(support_labels))
        self.majority = int(2 * positives >= len(support_labels))
        majority_errors = positives if self.majority == 0 else len(support_labels) - positives
        label = "positive" if self.majority else "negative"
        self.use_programs = bool(result.programs) and (result.exact or result.best.errors < majority_errors)
        if not result.programs:
            self.fallback = (
                f"no program fits the support set within the search budget; answering {label} "
                "(the support set's majority class)"
            )
        elif not result.exact and not self.use_programs:
            self.fallback = (
                f"the best near fit gets {result.best.errors} support labels wrong, no better than the "
                f"majority class; answering {label}"
            )
        elif not result.exact:
            self.fallback = f"no exact fit within the search budget; using the best near fit ({result.best.errors} support label(s) wrong)"

    def _tables(self, obs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, Readings | None]:
        view = query_view(obs)
        if self.reader is not None:
            return self.reader.read(view, "query")
        if "query_objects" not in view:
            raise ValueError(
                "the Pix2Code agent reads object tables, but the observation has no 'query_objects': "
                "make the environment with modality 'scene' or 'both'"
            )
        return view["query_objects"], view["query_object_mask"], None

    def scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        objects, mask, readings = self._tables(obs)
        if not self.use_programs:
            return np.full(len(objects), float(self.majority))
        return predict(self.result, (objects, mask), self.domain, readings)[1]

    def predict(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return (self.scores(obs) > 0.5).astype(np.int8)

    def explain(self) -> str:
        """The MAP program as one English sentence (:mod:`agents.pix2code.explain`)."""
        from agents.pix2code.explain import explain

        if not self.program:
            return f"no program was found: {self.fallback}"
        return explain(self.program, self.domain.name, names=self.names)

    @property
    def explanation(self) -> str | None:  # type: ignore[override]
        return self.explain() if self.program else None

    def diagnostics(self) -> dict[str, Any]:
        best = self.result.best
        extra = {} if self.reader is None else self.reader.diagnostics()
        return extra | {
            "exact": self.result.exact,
            "support_errors": None if best is None else best.errors,
            "support_doubted": None if best is None else best.doubted,
            "candidates": None if best is None else best.found_after,  # enumerated before the chosen program
            "candidates_total": self.result.candidates_evaluated,
            "search_seconds": round(self.result.seconds, 4),
            "timed_out": self.result.timed_out,
            "stop_reason": self.result.stop_reason,
        }


def copy_agent(agent: Pix2CodeAgent) -> Pix2CodeAgent:
    """A shallow copy with its own guide cache."""
    import copy

    clone = copy.copy(agent)
    clone._guides = {}
    return clone


class Pix2CodeAgent(Agent):
    """Few-shot concepts as λ-calculus programs, found by guided enumeration (registered as ``pix2code``).

    Options: ``modality`` ("scene": object tables; "image": pixels through the trained extractor),
    ``uncertainty`` (image modality: weigh the extractor's doubts in the search and the query
    scores; False: use its most probable reading only), ``extractor`` (a weights file instead of
    the shipped one), ``seconds`` (wall-clock safety cap per task;
    a run cut by it depends on the machine and says so in ``diagnostics()["timed_out"]``),
    ``enumerated`` / ``assembled`` (the candidate budget: a run that stops on it is
    reproducible), ``top_k`` (programs that vote), ``seed`` (the synthetic scene pools),
    ``layout_prior`` (use the domain's shipped layout prior, :mod:`agents.pix2code.layouts`),
    ``library`` (None: the library learned for the env, shipped with the package; ``"base"``:
    the base DSL with its starting weights and no recognition model; or a library file),
    ``dsl`` (the base DSL: ``"default"``, readable accessors with a hand-set prior, or
    ``"paper"``, Pix2Code's 34 uniform productions reading objects as integer vectors; the
    library shipped for the env is the one learned from that base) and ``recognition`` (False:
    search with the library's own weights, without its recognition model — an ablation).
    """

    name = "pix2code"
    modalities = ("scene", "image", "both")  # what it can be built for; an instance reads one

    def __init__(
        self,
        env_id: str | None = None,
        modality: str = "scene",
        seconds: float | None = 5.0,
        enumerated: int = SearchBudget.enumerated,
        assembled: int = SearchBudget.assembled,
        top_k: int = SolverOptions.top_k,
        seed: int = 0,
        layout_prior: bool = True,
        library: str | None = None,
        dsl: str = "default",
        recognition: bool = True,
        uncertainty: bool = True,
        extractor: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(env_id, **options)
        if modality not in MODALITIES:
            raise ValueError(
                f"the Pix2Code agent supports modality {list(MODALITIES)} (object tables or pixels), got {modality!r}"
            )
        self.modality = modality
        self.modalities = (modality, "both")  # object tables or pixels, not both: make envs with that one
        self.uncertainty = uncertainty
        self.extractor_path = extractor
        self.domain = domain_for_env_id(env_id, dsl) if env_id is not None else None
        self.budget = SearchBudget(seconds=seconds, enumerated=enumerated, assembled=assembled)
        self.options = SolverOptions(seed=seed, top_k=top_k)
        self.layout_prior = layout_prior
        self.library, self.dsl, self.recognition = library, dsl, recognition
        self._guides: dict[str, Guide] = {}

    def revise(self, remove=(), add=None, edit=None) -> Pix2CodeAgent:
        """A new agent searching a revised copy of this agent's library (see
        :func:`agents.pix2code.revise.revise`); this agent is unchanged."""
        from agents.pix2code.revise import revise

        if self.domain is None:
            raise ValueError("revise needs an agent made with env_id (to know whose library to revise)")
        revised = revise(self.guide(self.domain).library, remove, add, edit)
        clone = copy_agent(self)
        clone.library = revised
        return clone

    def guide(self, domain: Domain) -> Guide:
        """The library (and recognition model) searched with in ``domain`` (loaded once)."""
        if domain.name not in self._guides:
            self._guides[domain.name] = resolve(self.env_id, domain.name, self.library, self.dsl, self.recognition)
        return self._guides[domain.name]

    def _domain(self, obs: Mapping[str, np.ndarray]) -> Domain:
        """The env id's domain, or the one whose object schema has the observation's width."""
        if self.domain is not None:
            return self.domain
        width = np.shape(obs["support_objects"])[-1]
        matches = [get_domain(d.name, self.dsl) for d in DOMAINS.values() if d.n_features == width]
        if len(matches) != 1:
            raise ValueError(f"cannot tell the DSL domain from {width} object features; pass env_id")
        return matches[0]

    def fit(self, obs: Mapping[str, np.ndarray]) -> Pix2CodeClassifier:
        support = support_view(obs)
        reader, readings = None, None
        if self.modality == "image":
            domain, reader = self._reader(support)
            objects, mask, readings = reader.read(support, "support")
        else:
            if "support_objects" not in support:
                raise ValueError(
                    "the Pix2Code agent reads object tables, but the observation has no 'support_objects': "
                    "make the environment with modality 'scene' or 'both'"
                )
            domain = self._domain(support)
            objects, mask = support["support_objects"], support["support_object_mask"]
        labels = support["support_labels"]
        result = solve(
            domain,
            (objects, mask),
            labels,
            grammar=self.guide(domain).grammar_for(objects, mask, labels),
            budget=self.budget,
            options=self.options,
            reference_scenes=load_layouts(domain.name) if self.layout_prior else None,
            support_readings=readings,
        )
        return Pix2CodeClassifier(result, domain, np.asarray(labels), self.guide(domain).library.names, reader)

    def _reader(self, support: Mapping[str, np.ndarray]) -> tuple[Domain, Any]:
        """The domain and a perception reader for an observation with images."""
        from agents.pix2code.perception.reader import Reader

        if "support_images" not in support:
            raise ValueError("the Pix2Code agent with modality 'image' reads images, but the observation has none: "
                             "make the environment with modality 'image' or 'both'")
        domain = self.domain
        if domain is None:
            matches = [get_domain(d.name, self.dsl) for d in DOMAINS.values() if Reader.fits(d.name, support["support_images"])]
            if len(matches) != 1:
                raise ValueError("cannot tell the family from the images' size; pass env_id")
            domain = matches[0]
        return domain, Reader(domain.name, uncertainty=self.uncertainty, path=self.extractor_path)
