"""Which library (and recognition model) the agent searches with for an environment.

Libraries trained by ``pix2code train pix2code`` on an env's *training* concepts ship in
``agents/pix2code/data/libraries/`` with their provenance inside; ``library=None`` picks the one
shipped for the env (the base DSL when there is none), ``"base"`` the base DSL with its starting
weights and no recognition model, and a path any library file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agents.pix2code.library.library import Library
from agents.pix2code.recognition.model import RecognitionModel, load_recognition
from agents.pix2code.search.grammar import Grammar

LIBRARIES = Path(__file__).resolve().parents[1] / "data" / "libraries"

#: env id -> shipped library file
SHIPPED: dict[str, str] = {
    "Pix2Code-CURI-v0": "curi-iid.json",
    "Pix2Code-CURI-IID-v0": "curi-iid.json",
    "Pix2Code-CURI-Comp-v0": "curi-comp.json",
    "Pix2Code-CURI-BindingColor-v0": "curi-bindingcolor.json",
    "Pix2Code-CURI-BindingShape-v0": "curi-bindingshape.json",
    "Pix2Code-CURI-Intrinsic-v0": "curi-intrinsic.json",
    "Pix2Code-CURI-Extrinsic-v0": "curi-extrinsic.json",
    "Pix2Code-CURI-Counting-v0": "curi-counting.json",
    "Pix2Code-CURI-Boolean-v0": "curi-boolean.json",
    "Pix2Code-CURI-Complexity-v0": "curi-complexity.json",
    "Pix2Code-CURIHans-v0": "curi-iid.json",
    "Pix2Code-Kandinsky-v0": "kandinsky-relkp.json",
    # a classic pattern is one concept: its library is learned from 20 of its train-subset episodes
    **{f"Pix2Code-Kandinsky-{name}-v0": f"kandinsky-{name.lower()}.json" for name in (
        "OneRed", "OneTriangle", "TwoPairs", "ThreePairs", "CloseBy", "RedTriangle", "OnlinePair")},
}


#: env id -> library learned from the paper's base DSL (``dsl="paper"``), the like-for-like reproduction
SHIPPED_PAPER: dict[str, str] = {
    "Pix2Code-CURI-v0": "curi-iid.paper.json",
    "Pix2Code-CURI-IID-v0": "curi-iid.paper.json",
}


def shipped_library(env_id: str | None, dsl: str = "default") -> Path | None:
    """The library file shipped for an env and base DSL, if any."""
    name = (SHIPPED_PAPER if dsl == "paper" else SHIPPED).get(env_id or "")
    return LIBRARIES / name if name and (LIBRARIES / name).exists() else None


@dataclass(frozen=True)
class Guide:
    """A library's grammar and, when it has one, its recognition model."""

    library: Library
    grammar: Grammar
    recognition: RecognitionModel | None
    source: str  # "base", or the library file

    def grammar_for(self, objects, mask, labels) -> Grammar:
        """The grammar to search a support set with: the recognition model's weights if any."""
        if self.recognition is None:
            return self.grammar
        w = self.recognition.weights(objects, mask, labels)
        names = {p.name: float(x) for p, x in zip(self.grammar.productions, w[:-1])}
        return self.grammar.with_weights(names, log_variable=float(w[-1]))


def resolve(env_id: str | None, family: str, library: Library | str | os.PathLike | None, dsl: str,
            recognition: bool = True) -> Guide:
    """The guide for an agent: see the module docstring (a :class:`Library` object is used as is)."""
    if isinstance(library, Library):
        if library.family != family:
            raise ValueError(f"the library was made for the {library.family!r} family, not {family!r}")
        return Guide(library, library.grammar(), None, "revised")
    if library is None:
        library = shipped_library(env_id, dsl) or "base"
    if isinstance(library, str) and library == "base":
        base = Library.base(family, dsl)
        return Guide(base, base.grammar(), None, "base")
    path = Path(library)
    lib = Library.load(path, family=family)
    if lib.dsl != dsl:
        raise ValueError(f"library {path} extends the {lib.dsl!r} base DSL, but the agent was asked for dsl={dsl!r}")
    grammar = lib.grammar()
    model = None
    if lib.recognition and recognition:
        model = load_recognition(path.parent / lib.recognition, [p.name for p in grammar.productions],
                                 rebuild=lib.provenance.get("command", ""))
    return Guide(lib, grammar, model, str(path))
