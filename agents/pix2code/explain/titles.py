"""CURI concept titles in the explanations' own words.

A CURI concept's program (its translation into the DSL, :mod:`agents.pix2code.dsl.translate`) said
by the reversible grammar, so that an episode's title and what the agent found read alike and can
be compared word for word (``pix2code show``, the leaderboard page). Other families keep their own
descriptions: their concepts are named patterns, not programs.
"""

from __future__ import annotations

from agents.pix2code.dsl.translate import curi_program_text
from agents.pix2code.explain import explain


def concept_title(family: str, concept: str) -> str | None:
    """The English of ``concept``'s program (a CURI postfix string); None outside CURI."""
    if family != "curi":
        return None
    return explain(curi_program_text(concept), "curi")
