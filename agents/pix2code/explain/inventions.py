"""Learned primitives in English: a name and a description template for an invention's body, and
the templates filled in when a program uses the invention.

A description is a phrase of the grammar with the invention's parameters as the capital
placeholders ``A``, ``B``, ... (first parameter ``A``): ``#(lambda (lambda (eq? (color $0) (color
$1))))`` is described "B has the same colour as A". Filled with the arguments' phrases it is
what :func:`~agents.pix2code.explain.explain` says for a use of the invention, and it reads back
as the invention (given the same ``names``) or, without them, as the invention's unfolded body.
A template is usable only when it names every parameter and no parameter is a function; an
invention whose template is not usable is explained by its unfolded body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agents.pix2code.dsl.inference import eta_long, infer, type_scheme
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Abstraction, Invented, Term, beta_normal
from agents.pix2code.dsl.types import BOOL, TCon, Type, arguments, returns
from agents.pix2code.explain.infer import VOCABULARY
from agents.pix2code.explain.lexicon import PLACEHOLDERS, join, tokens
from agents.pix2code.explain.nodes import App, to_named
from agents.pix2code.explain.phrases import Phrase

_STOP = frozenset(
    "a an the of is are there that such to as and or than with in no some every for each it case "
    "has have does do whether number other objects object element elements list among applied true".split()
)
_LEADS = (("there is no", "no"), ("there is", "some"), ("some", "some"), ("every", "all"), ("for every", "all"),
          ("no", "no"), ("the number of", "count"), ("there are", "count"))


def _body(body_text: str) -> Term:
    if not isinstance(body_text, str):
        raise ValueError(f"an invention body must be text, got {type(body_text).__name__}")
    term = parse(body_text.strip(), VOCABULARY)
    body = term.body if isinstance(term, Invented) else term
    if body.free_indices():
        raise ValueError(f"an invention must be closed, but {body_text!r} has free variables")
    return body


def describe_invention(body_text: str, family: str) -> tuple[str, str]:
    """A snake_case name and a one-line description template for an invention's body
    (``#(lambda ...)`` or ``(lambda ...)``); ValueError if it does not parse or type-check."""
    from agents.pix2code.explain import check_family
    from agents.pix2code.explain.speak import Speaker

    check_family(family)
    body = _body(body_text)
    try:
        ty = infer(body)
        term = eta_long(beta_normal(body, inline_inventions=True), ty)
    except TypeError as error:
        raise ValueError(f"ill-typed invention {body_text!r}: {error}") from None
    params = arguments(ty)
    if len(params) > len(PLACEHOLDERS):
        raise ValueError(f"an invention with {len(params)} parameters cannot be described (at most {len(PLACEHOLDERS)})")
    inner = term
    for _ in params:
        assert isinstance(inner, Abstraction)
        inner = inner.body
    names = list(reversed(PLACEHOLDERS[: len(params)]))  # innermost first
    env = {PLACEHOLDERS[k]: p for k, p in enumerate(params)}
    node, types = to_named(inner, env, names)
    speaker = Speaker(types, display={p: p for p in PLACEHOLDERS[: len(params)]})
    phrase = speaker.clause(node) if returns(ty) == BOOL else speaker.value(node)
    return invention_name(phrase.text), phrase.text


def invention_name(description: str) -> str:
    """snake_case from what the description says: its leading quantifier and first content
    words, a negation kept ("some_red", "same_colour", "some_not_same_shape")."""
    text = description.lower()
    lead = next((name for start, name in _LEADS if text.startswith(start)), "")
    words = [w for w in re.findall(r"[a-z]+", text) if w not in _STOP and len(w) > 1]
    if lead == "no" and words[:1] == ["not"]:
        words = words[1:]
    return "_".join(([lead] if lead else []) + words[: 3 if lead else 4]) or "invention"


def usable(text: str, description: str) -> bool:
    """Whether a description can stand for uses of invention ``text``: a placeholder for every
    parameter, no other placeholder, and no function-typed parameter."""
    params = arguments(type_scheme(parse(text, VOCABULARY)))  # type: ignore[arg-type]
    if any(isinstance(p, TCon) and p.is_arrow for p in params) or len(params) > len(PLACEHOLDERS):
        return False
    used = {w for w in tokens(description, keep_case=True) if w in PLACEHOLDERS}
    return used == set(PLACEHOLDERS[: len(params)])


def fill(description: str, speaker, node: App) -> Phrase | None:  # type: ignore[no-untyped-def]
    """The description with each placeholder replaced by its argument's (closed) phrase."""
    params: list[Type] = arguments(type_scheme(parse(node.head.text, VOCABULARY)))  # type: ignore[union-attr, arg-type]
    if len(params) != len(node.args):
        return None
    template = tokens(description, keep_case=True)
    words = []
    for w in template:
        if w in PLACEHOLDERS:
            arg = node.args[PLACEHOLDERS.index(w)]
            words.append(speaker.clause(arg).closed if params[PLACEHOLDERS.index(w)] == BOOL else speaker.value(arg).closed)
        else:
            words.append(w)
    return Phrase(join(_rename_own_variables(template, words)), True)


_VARIABLES = "xyzuvwpqrst"


def _rename_own_variables(template: list[str], words: list[str]) -> list[str]:
    """The description's own variable names (``x`` in "every object x among A") renamed where an
    argument's phrase already uses them: "for every object x, every object x among ..." would
    read as one variable."""
    own = {w for w in template if len(w) == 1 and w in _VARIABLES}
    spoken = {t for w, v in zip(template, words) if w in PLACEHOLDERS for t in tokens(v, keep_case=True)}
    clashes = sorted(own & spoken)
    if not clashes:
        return words
    free = iter(v for v in _VARIABLES if v not in own | spoken)
    rename = {v: next(free) for v in clashes}
    return [rename.get(v, v) if w not in PLACEHOLDERS else v for w, v in zip(template, words)]


def usable_templates(names: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {text: nd for text, nd in names.items() if usable(text, nd[1])}
