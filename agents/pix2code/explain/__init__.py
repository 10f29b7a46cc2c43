"""Programs as plain English, and back: a reversible grammar for the Pix2Code DSLs.

``explain(program, family)`` says any well-typed ``list(obj) -> bool`` program as one sentence
("there is a red metal cube", "every object has the same shape as some cylinder", "there is a
gray object x such that there are exactly two spheres to the right of x"); ``read(sentence,
family)`` parses such a sentence back into a program that means the same (the same truth value
on every scene; not necessarily the same text: "x is red" reads back as ``(eq? (color x) red)``
whichever way round it was written). Natural templates are tried first; every construct also
has a compositional, parenthesised form, so unusual programs ("(the first element of the
objects) is close to x") still read back.

Learned primitives: with ``names`` (invention text -> (name, description template)) a known
invention is said by its description, its placeholders ``A``, ``B``... filled with its
arguments, and read back as that invention; any other invention is said (and read back) by its
unfolded body. :func:`describe_invention` makes a name and a description for a body.

Layout: :mod:`.nodes` (named terms, normal form, exact tidying), :mod:`.infer` (fast typing),
:mod:`.lexicon` (the words), the speaker :mod:`.phrases` / :mod:`.speak_lists` / :mod:`.speak`,
the reader :mod:`.hear_values` / :mod:`.hear` / :mod:`.listen` / :mod:`.reading`,
:mod:`.relations` (RelKP's relations spelled out for DSLs without them), :mod:`.inventions`.
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.pix2code.explain.inventions import describe_invention, usable_templates
from agents.pix2code.explain.nodes import named_program, tidy
from agents.pix2code.explain.reading import read
from agents.pix2code.explain.speak import Speaker

__all__ = ["describe_invention", "explain", "read"]

FAMILIES = ("curi", "kandinsky")


def check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {list(FAMILIES)}")


def templates_of(names: Mapping[str, tuple[str, str]] | None) -> dict[str, tuple[str, str]]:
    """``names`` keyed by each invention's canonical text (``#(lambda ...)``)."""
    from agents.pix2code.dsl.syntax import parse
    from agents.pix2code.explain.infer import VOCABULARY

    out = {}
    for text, (name, description) in (names or {}).items():
        key = text if text.startswith("#") else "#" + text
        try:
            out[parse(key, VOCABULARY).show()] = (name, description)
        except ValueError as error:
            raise ValueError(f"names: invention {text!r} does not parse: {error}") from None
    return out


def explain(program_text: str, family: str, names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """One plain-English sentence that means exactly what the program means.

    ``family`` is "curi" or "kandinsky"; ``names`` maps invention text to (name, description
    template). Raises ValueError for a program that does not parse or type-check.
    """
    check_family(family)
    templates = usable_templates(templates_of(names))
    node, types = named_program(program_text, keep=frozenset(templates))
    return Speaker(types, templates).clause(tidy(node.body)).text  # type: ignore[union-attr]
