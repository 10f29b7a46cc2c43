"""The words of the explanation grammar, shared by the speaker and the reader.

One table per kind of word, so that what :mod:`~agents.pix2code.explain.speak` says and what
:mod:`~agents.pix2code.explain.listen` accepts cannot drift apart: attribute nouns ("colour",
"column"), constants as adjectives or nouns, number words, variable names, and the tokeniser.
"""

from __future__ import annotations

import re

from agents.pix2code.dsl.primitives import CATEGORIES

#: attribute accessor -> (noun, plural noun)
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "color": ("colour", "colours"),
    "shape": ("shape", "shapes"),
    "material": ("material", "materials"),
    "size": ("size", "sizes"),
    "xbin": ("column", "columns"),
    "ybin": ("row", "rows"),
}
ATTRIBUTE_OF_NOUN = {noun: attr for attr, (noun, _) in ATTRIBUTES.items()}
ATTRIBUTE_OF_NOUN.update({plural: attr for attr, (_, plural) in ATTRIBUTES.items()})
ATTRIBUTE_OF_NOUN["color"] = "color"  # American spelling accepted when reading
ATTRIBUTE_OF_NOUN["colors"] = "color"

#: adjective slots in English order ("a large red metal cube"); shapes are nouns
ADJECTIVE_SLOTS = ("size", "color", "material")
SHAPES = CATEGORIES["shape"]
CONSTANT_CATEGORY = {value: category for category, values in CATEGORIES.items() for value in values}
SHAPE_OF_PLURAL = {s + "s": s for s in SHAPES}

#: gt? between positions: (attribute, subject is the greater side) -> relation words
DIRECTIONS: dict[tuple[str, bool], str] = {
    ("xbin", True): "to the right of",
    ("xbin", False): "to the left of",
    ("ybin", True): "below",
    ("ybin", False): "above",
}
DIRECTION_OF_WORDS = {words: key for key, words in DIRECTIONS.items()}

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ORDINALS = ("first", "second", "third")

#: names given to bound variables, in order of nesting; "a" and "i" are words, so never names
VARIABLE_NAMES = ("x", "y", "z", "w", "v", "u", "p", "q", "r", "s", "t")
VARIABLE_RE = re.compile(r"^(?:[xyzwvupqrst]\d*)$")
PLACEHOLDERS = ("A", "B", "C", "D", "E", "F", "G", "H")

_TOKEN_RE = re.compile(r"\(|\)|,|'s\b|[A-Za-z_][A-Za-z0-9_?!-]*|\d+|[^\sA-Za-z0-9]")


def variable_name(index: int) -> str:
    if index < len(VARIABLE_NAMES):
        return VARIABLE_NAMES[index]
    return f"{VARIABLE_NAMES[index % len(VARIABLE_NAMES)]}{index // len(VARIABLE_NAMES)}"


def article(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


def number_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def tokens(sentence: str, keep_case: bool = False) -> list[str]:
    """Words, parentheses and commas; a final full stop is dropped. Lower-cased unless
    ``keep_case`` (description templates keep their capital placeholders)."""
    text = sentence.strip()
    if text.endswith("."):
        text = text[:-1]
    out = _TOKEN_RE.findall(text)
    return out if keep_case else [t.lower() for t in out]


def join(words: list[str]) -> str:
    """Tokens back into text: no space inside parentheses or before a comma."""
    text = " ".join(w for w in words if w)
    return text.replace("( ", "(").replace(" )", ")").replace(" ,", ",").replace(" 's", "'s")
