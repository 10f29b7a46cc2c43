"""``read``: a sentence back into a program, through every parse the grammar allows.

The listener (:mod:`~agents.pix2code.explain.listen`) returns all parses that span the
sentence; the well-typed ones are turned into programs, and the one whose explanation is the
sentence itself is chosen (the speaker's output has exactly one such reading; a sentence
written by hand takes the first well-typed parse). RelKP's relations (``same_color``,
``some_pair``...) are spelled out with ``forall``/``exists``/``eq?``/``remove`` when the family's
DSL does not have them (:mod:`~agents.pix2code.explain.relations`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from agents.pix2code.dsl.inference import DSLTypeError, typecheck
from agents.pix2code.explain.lexicon import join, tokens
from agents.pix2code.explain.listen import Listener
from agents.pix2code.explain.nodes import REQUEST, SCENE, Lam, Node, to_term, well_typed
from agents.pix2code.explain.relations import missing, spell_out


def read(sentence: str, family: str, names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The program (text) an explanation says; ValueError naming the first word that does not fit.

    ``names`` (invention text -> (name, description template)) lets a known invention's
    description read back as that invention.
    """
    from agents.pix2code.explain import check_family, explain, templates_of
    from agents.pix2code.explain.inventions import usable_templates

    check_family(family)
    if not isinstance(sentence, str) or not sentence.strip():
        raise ValueError(f"read expects a non-empty sentence, got {sentence!r}")
    templates = usable_templates(templates_of(names))
    words = tokens(sentence)
    listener = Listener(words, templates)
    parses = [node for node, end in listener.clause(0) if end == len(words)]
    if not parses:
        raise ValueError(_unplaced(words, listener.far))
    programs: list[str] = []
    first_error = None
    lacking = missing(family)
    for node in parses:
        program: Node = Lam((SCENE,), node)
        try:
            text = to_term(program).show()
        except ValueError as error:  # a name used but never introduced
            first_error = first_error or error
            continue
        if any(name in text for name in lacking):  # a relation this DSL does not have
            program = spell_out(program, family)
            text = to_term(program).show()
        if not well_typed(program):
            if first_error is None:  # the reference checker says why
                try:
                    typecheck(to_term(program), REQUEST)
                except (ValueError, DSLTypeError) as error:
                    first_error = error
            continue
        if text not in programs:
            programs.append(text)
    if not programs:
        raise ValueError(f"cannot read {join(words)!r}: it parses, but not as a well-typed program ({first_error})")
    if len(programs) == 1:
        return programs[0]
    said = [tokens(explain(text, family, names)) for text in programs]
    for text, words_said in zip(programs, said):
        if words_said == words:
            return text
    # a sentence written by hand: the reading whose own explanation is closest to it
    scores = [difflib.SequenceMatcher(None, words, w, autojunk=False).ratio() for w in said]
    return programs[scores.index(max(scores))]


def _unplaced(words: list[str], far: int) -> str:
    sentence = join(words)
    if far >= len(words):
        return f"cannot read {sentence!r}: it ends too early (after {words[-1]!r})"
    return f"cannot read {sentence!r}: the word {words[far]!r} (word {far + 1}) does not fit there"
