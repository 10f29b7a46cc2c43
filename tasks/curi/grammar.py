"""CURI's concept grammar: productions with their PCFG weights, the prior, and the sampler's dynamics.

The productions are those of CURI's ``v2_typed_simple_fol.json`` in its order (curi.md §3.1);
the weights follow CURI's ``GrammarExpander`` (§3.2): emphasised lists (BOOL, SET) take the
mode of a Dirichlet with alpha 4 / 1.5 / 2 for ``+`` / ``-`` / ``*``, i.e. weights 3 / 0.5 / 1;
grouped lists (NUM, C, SH, M, SI, L) give each group an equal share, split evenly inside it;
plain lists are uniform. A concept's prior is the sum of the log-weights of its derivation.

CURI did not enumerate its concepts: it ran the expander 2,000,000 times and kept the distinct
strings. The expander has a particular failure discipline (``hypothesis_utils.expand``):

* a node expanded at depth ``MAX_DEPTH`` fails (START is depth 0; this is CURI's
  ``MAX_RECURSION_DEPTH`` = 6 counted from 1, and it is what bounds concepts to <= 2 atoms);
* a node whose children are all terminal constants fails (``red blue =``);
* a failed child is re-expanded, up to 12 attempts in all, before its parent fails too.

:func:`outcomes` enumerates every tree one call of the expander can return, with both its
prior and the exact probability that a call returns it (checked against :func:`expand`, the
expander written out literally), so the pool builder knows how likely each string was to be
among CURI's samples (:func:`appearance_probability`).

CURI's driver (not released) then threw whole samples away; :func:`rejection` encodes the two
rules the released list implies. Neither is a retry: a rejected sample still used up one of the
2,000,000 trials, which is what makes the expected number of released concepts come out right
(15,084 expected against 14,929 released; as retried node failures they would predict ~18,600).

* ``BAN_STRINGS_WITH_SAME_ARGS``: an atomic predicate whose two arguments are the same once the
  variables are dropped -- ``x color? x color? =`` but also ``S shape? x shape? for-all=`` and
  ``non-x-S color? x color? exists=``. None of the 14,929 released strings has one, against
  21,952 such strings that pass the firing filter on our scene bank; ``a a and`` is not banned
  (58 are released) and neither are counts (``S color? x color? count=``, 599 released).
* ``non-x-S`` under a top-level ``for-all=``: none released, against 37,768 passing the filter
  (4,819 released concepts use ``non-x-S``, all under ``exists=``). Probably the unreleased
  executor failed on them (CURI drops concepts whose evaluation is None); the rule is inferred.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from tasks.curi.concepts import (
    COLOR_TOKENS,
    LOCATION_TOKENS,
    MATERIAL_TOKENS,
    NUMBER_TOKENS,
    SHAPE_TOKENS,
    SIZE_TOKENS,
    And,
    Attr,
    Bool,
    Compare,
    Concept,
    Const,
    Not,
    Or,
    SetQuant,
    Value,
    bool_tokens,
    value_tokens,
    collapse,
    parse,
    to_text,
)

MAX_DEPTH = 5  # a nonterminal expanded at this depth (START = 0) fails
EXPANSION_ATTEMPTS = 12  # CURI's MAX_EXPANSION_ATTEMPTS = 10 allows 1 + 11 tries
CURI_TRIALS = 2_000_000  # NUM_HYPOTHESES: expander calls behind CURI's pool
EMPHASIS = {"+": 4.0, "-": 1.5, "*": 2.0}  # CURI's EMPHASIS_MAP (Dirichlet alphas)


@dataclass(frozen=True)
class Production:
    """``lhs -> children op``: nonterminal children first, then the operator's own tokens (postfix)."""

    lhs: str
    children: tuple[str, ...]
    op: tuple[str, ...]
    prob: float

    @property
    def constant(self) -> bool:
        """A terminal constant (CURI's ``_terminal_constants``): one literal token, no children."""
        return not self.children and len(self.op) == 1 and self.op[0] in TERMINAL_CONSTANTS


TERMINAL_CONSTANTS = frozenset(
    COLOR_TOKENS + SHAPE_TOKENS + MATERIAL_TOKENS + SIZE_TOKENS + LOCATION_TOKENS + NUMBER_TOKENS
)
_SETF = {"C": "SETFC", "SH": "SETFSH", "M": "SETFM", "SI": "SETFSI", "L": "SETFL"}
_FUNC = {"C": "FC", "SH": "FSH", "M": "FM", "SI": "FSI", "L": "FL"}


def _rhs(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a right-hand side like ``"C C ="`` into nonterminal children and operator tokens."""
    tokens = text.split()
    return tuple(t for t in tokens if t in _NONTERMINALS), tuple(t for t in tokens if t not in _NONTERMINALS)


_NONTERMINALS = frozenset(
    ["START", "BOOL", "NUM", "C", "SH", "M", "SI", "L", "FC", "FSH", "FM", "FSI", "FL", "OBJECT", "SET"]
    + list(_SETF.values())
)


def _emphasised(lhs: str, items: list[tuple[str, str]]) -> list[Production]:
    weights = [EMPHASIS[mark] - 1.0 for _, mark in items]  # mode of Dirichlet(alpha)
    total = sum(weights)
    return [Production(lhs, *_rhs(text), w / total) for (text, _), w in zip(items, weights)]


def _grouped(lhs: str, groups: list[list[str]]) -> list[Production]:
    return [Production(lhs, *_rhs(text), 1.0 / len(groups) / len(g)) for g in groups for text in g]


def _uniform(lhs: str, items: list[str]) -> list[Production]:
    return [Production(lhs, *_rhs(text), 1.0 / len(items)) for text in items]


def _build_rules() -> dict[str, tuple[Production, ...]]:
    bool_items = [("BOOL BOOL and", "+"), ("BOOL BOOL or", "-"), ("BOOL not", "*")]
    bool_items += [("C C =", "+"), ("SH SH =", "+"), ("M M =", "+")]
    bool_items += [("SI SI =", "-"), ("L L =", "-"), ("NUM NUM =", "-")]
    bool_items += [("SI SI >", "*"), ("L L >", "*"), ("NUM NUM >", "*")]
    for quant in ("for-all=", "exists="):
        bool_items += [(f"{_SETF[v]} {v} {quant}", "*") for v in ("C", "SH", "M", "SI", "L")]
    rules = {
        "START": _uniform("START", ["BOOL lambda S. exists=", "BOOL lambda S. for-all="]),
        "BOOL": _emphasised("BOOL", bool_items),
        "NUM": _grouped(
            "NUM", [[f"{_SETF[v]} {v} count=" for v in ("C", "SH", "M", "SI", "L")], list(NUMBER_TOKENS)]
        ),
        "C": _grouped("C", [list(COLOR_TOKENS), ["OBJECT FC"]]),
        "SH": _grouped("SH", [list(SHAPE_TOKENS), ["OBJECT FSH"]]),
        "M": _grouped("M", [list(MATERIAL_TOKENS), ["OBJECT FM"]]),
        "SI": _grouped("SI", [list(SIZE_TOKENS), ["OBJECT FSI"]]),
        "L": _grouped("L", [list(LOCATION_TOKENS), ["OBJECT FL"]]),
        "FC": _uniform("FC", ["color?"]),
        "FSH": _uniform("FSH", ["shape?"]),
        "FM": _uniform("FM", ["material?"]),
        "FSI": _uniform("FSI", ["size?"]),
        "FL": _uniform("FL", ["locationX?", "locationY?"]),
        "OBJECT": _uniform("OBJECT", ["x"]),
        "SET": _emphasised("SET", [("S", "*"), ("non-x-S", "*")]),
    }
    for v, setf in _SETF.items():
        rules[setf] = _uniform(setf, [f"SET {_FUNC[v]}"])
    return {lhs: tuple(prods) for lhs, prods in rules.items()}


RULES: dict[str, tuple[Production, ...]] = _build_rules()
_CDF = {lhs: np.cumsum([p.prob for p in prods]) for lhs, prods in RULES.items()}


# ----------------------------------------------------------------------------- expander dynamics


@dataclass(frozen=True)
class Outcome:
    """One tree a single expander call can return: its tokens, prior and probability of being returned."""

    tokens: tuple[str, ...]
    log_prior: float
    prob: float
    constant: bool


def _retry_factor(fail: float) -> float:
    """P(a child ends as tree T) / P(one call returns T): the geometric sum over retries."""
    if fail >= 1.0:
        return 0.0
    return (1.0 - fail**EXPANSION_ATTEMPTS) / (1.0 - fail)


@functools.lru_cache(maxsize=None)
def outcomes(symbol: str, depth: int = 0) -> tuple[Outcome, ...]:
    """Every tree one call ``expand(symbol, depth)`` can return, with its exact probability."""
    if depth >= MAX_DEPTH:
        return ()
    result: list[Outcome] = []
    for prod in RULES[symbol]:
        parts: list[list[tuple[tuple[str, ...], float, float, bool]]] = []
        for child in prod.children:
            child_out = outcomes(child, depth + 1)
            factor = _retry_factor(1.0 - sum(o.prob for o in child_out))
            parts.append([(o.tokens, o.log_prior, o.prob * factor, o.constant) for o in child_out])
        combos = _product(parts)
        log_w = math.log(prod.prob)
        for combo in combos:
            if prod.children and all(c[3] for c in combo):
                continue  # constant-only node
            tokens = tuple(t for c in combo for t in c[0]) + prod.op
            prob = prod.prob
            log_prior = log_w
            for c in combo:
                prob *= c[2]
                log_prior += c[1]
            result.append(Outcome(tokens, log_prior, prob, prod.constant))
    return tuple(result)


def _product(parts: list[list[tuple]]) -> list[list[tuple]]:
    combos: list[list[tuple]] = [[]]
    for part in parts:
        combos = [c + [p] for c in combos for p in part]
    return combos


def expand(rng: np.random.Generator, symbol: str = "START", depth: int = 0) -> Outcome | None:
    """One call of CURI's expander, literally: a random tree, or None when the call fails.

    :func:`outcomes` computes the distribution of this function exactly; it exists to test
    that claim and to show the dynamics in a dozen lines.
    """
    prods, cdf = RULES[symbol], _CDF[symbol]
    prod = prods[min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(prods) - 1)]
    if depth >= MAX_DEPTH:
        return None
    children: list[Outcome] = []
    for child in prod.children:
        for _ in range(EXPANSION_ATTEMPTS):
            result = expand(rng, child, depth + 1)
            if result is not None:
                break
        if result is None:
            return None
        children.append(result)
    if children and all(c.constant for c in children):
        return None
    tokens = tuple(t for c in children for t in c.tokens) + prod.op
    log_p = math.log(prod.prob) + sum(c.log_prior for c in children)
    return Outcome(tokens, log_p, float("nan"), prod.constant)


def failure_probability(symbol: str = "START", depth: int = 0) -> float:
    """Probability that one expander call for ``symbol`` at ``depth`` fails."""
    return max(0.0, 1.0 - sum(o.prob for o in outcomes(symbol, depth)))


@dataclass(frozen=True)
class Candidate:
    """A concept string the grammar can produce (quantifier collapsed), with its sampling statistics."""

    text: str
    log_prior: float
    sample_prob: float  # probability that one START expansion prints exactly this string


@functools.lru_cache(maxsize=1)
def candidates() -> tuple[Candidate, ...]:
    """Every collapsed concept string the expander can produce, in the order first reached.

    Two trees (``exists=`` / ``for-all=`` over an x-free body) print the same collapsed string;
    their probabilities add up, and the prior is that of either (both pick START with 1/2).
    """
    merged: dict[str, list[float]] = {}
    for o in outcomes("START", 0):
        toks = o.tokens
        if "x" not in toks and "non-x-S" not in toks:
            toks = toks[:-1]
        text = " ".join(toks)
        if text in merged:
            merged[text][1] += o.prob
        else:
            merged[text] = [o.log_prior, o.prob]
    return tuple(Candidate(t, lp, p) for t, (lp, p) in merged.items())


def appearance_probability(sample_prob: float, trials: int = CURI_TRIALS) -> float:
    """Probability that a string with per-call probability ``sample_prob`` shows up in ``trials`` calls."""
    return -math.expm1(trials * math.log1p(-sample_prob))


# ----------------------------------------------------------------------------- prior of a parsed concept

_CONST_SYMBOL = {"color": "C", "shape": "SH", "material": "M", "size": "SI", "location": "L", "number": "NUM"}
_FUNC_SYMBOL = {"color?": "C", "shape?": "SH", "material?": "M", "size?": "SI", "locationX?": "L", "locationY?": "L"}


def _prob(lhs: str, children: tuple[str, ...], op: tuple[str, ...]) -> float:
    for prod in RULES[lhs]:
        if prod.children == children and prod.op == op:
            return prod.prob
    raise ValueError(f"no production {lhs} -> {' '.join(children + op)} in CURI's grammar")


def _log_value(value: Value, symbol: str) -> float:
    if isinstance(value, Const):
        return math.log(_prob(symbol, (), (value.token,)))
    if isinstance(value, Attr):
        lp = math.log(_prob(symbol, ("OBJECT", _FUNC[symbol]), ()))
        return lp + math.log(_prob(_FUNC[symbol], (), (value.function,)))
    v = _FUNC_SYMBOL[value.function]
    lp = math.log(_prob("NUM", (_SETF[v], v), ("count=",)))
    return lp + _log_list(value.set, value.function) + _log_value(value.value, v)


def _log_list(set_name: str, function: str) -> float:
    v = _FUNC_SYMBOL[function]
    return math.log(_prob("SET", (), (set_name,))) + math.log(_prob(_FUNC[v], (), (function,)))


def _log_bool(node: Bool) -> float:
    if isinstance(node, Not):
        return math.log(_prob("BOOL", ("BOOL",), ("not",))) + _log_bool(node.arg)
    if isinstance(node, (And, Or)):
        op = ("and",) if isinstance(node, And) else ("or",)
        return math.log(_prob("BOOL", ("BOOL", "BOOL"), op)) + _log_bool(node.left) + _log_bool(node.right)
    if isinstance(node, Compare):
        symbol = _value_symbol(node.left)
        lp = math.log(_prob("BOOL", (symbol, symbol), (node.op,)))
        return lp + _log_value(node.left, symbol) + _log_value(node.right, symbol)
    v = _FUNC_SYMBOL[node.function]
    lp = math.log(_prob("BOOL", (_SETF[v], v), (node.quantifier,)))
    return lp + _log_list(node.set, node.function) + _log_value(node.value, v)


def _value_symbol(value: Value) -> str:
    if isinstance(value, Const):
        return _CONST_SYMBOL[value.kind]
    if isinstance(value, Attr):
        return _FUNC_SYMBOL[value.function]
    return "NUM"


def log_prior(concept: Concept | str) -> float:
    """The PCFG log-probability of a concept's derivation (CURI's ``logprob``, the oracle's prior)."""
    c = parse(concept) if isinstance(concept, str) else concept
    return math.log(RULES["START"][0].prob) + _log_bool(c.body)


# ----------------------------------------------------------------------------- sampling constraints


def _value_depth(value: Value, depth: int) -> int:
    """Deepest nonterminal expansion below a value nonterminal expanded at ``depth``."""
    if isinstance(value, Const):
        return depth
    if isinstance(value, Attr):
        return depth + 1  # OBJECT and the function symbol
    return max(depth + 2, _value_depth(value.value, depth + 1))  # SETF*, then SET / F*


def _bool_depth(node: Bool, depth: int) -> int:
    if isinstance(node, Not):
        return _bool_depth(node.arg, depth + 1)
    if isinstance(node, (And, Or)):
        return max(_bool_depth(node.left, depth + 1), _bool_depth(node.right, depth + 1))
    if isinstance(node, Compare):
        return max(_value_depth(node.left, depth + 1), _value_depth(node.right, depth + 1))
    return max(depth + 2, _value_depth(node.value, depth + 1))


def derivation_depth(concept: Concept | str) -> int:
    """Depth of the deepest nonterminal in the concept's derivation (START = 0)."""
    c = parse(concept) if isinstance(concept, str) else concept
    return _bool_depth(c.body, 1)


def _bools(node: Bool) -> list[Bool]:
    if isinstance(node, Not):
        return [node, *_bools(node.arg)]
    if isinstance(node, (And, Or)):
        return [node, *_bools(node.left), *_bools(node.right)]
    return [node]


def _strip_variables(tokens: list[str]) -> tuple[str, ...]:
    return tuple(t for t in tokens if t not in ("x", "S", "non-x-S"))


def rejection(concept: Concept | str) -> str | None:
    """Why CURI's driver threw this (expander-valid) concept away, or None if it kept it."""
    c = parse(concept) if isinstance(concept, str) else concept
    if c.quantifier == "for-all=" and "non-x-S" in to_text(c).split(" "):
        return "non-x-S under a top-level for-all="
    for node in _bools(c.body):
        if isinstance(node, Compare):
            left, right = value_tokens(node.left), value_tokens(node.right)
        elif isinstance(node, SetQuant):
            left, right = [node.set, node.function], value_tokens(node.value)
        else:
            continue
        if _strip_variables(left) == _strip_variables(right):
            return f"the arguments of {' '.join(bool_tokens(node))!r} agree once variables are dropped"
    return None


def violations(concept: Concept | str) -> list[str]:
    """Why CURI could never have released this concept string (empty when it could)."""
    c = parse(concept) if isinstance(concept, str) else concept
    found = []
    if derivation_depth(c) >= MAX_DEPTH:
        found.append(f"derivation depth {derivation_depth(c)} reaches the limit {MAX_DEPTH}")
    for node in _bools(c.body):
        if isinstance(node, Compare) and isinstance(node.left, Const) and isinstance(node.right, Const):
            found.append(f"constant-only comparison {' '.join(bool_tokens(node))!r}")
    reason = rejection(c)
    if reason is not None:
        found.append(f"rejected: {reason}")
    if collapse(c) != c:
        found.append("the quantifier of an x-free body is collapsed in CURI's strings")
    return found
