"""A weighted, type-conditioned grammar over the DSL: the prior of the search.

As in DreamCoder, a grammar is a set of productions (primitives and inventions) with
unnormalised log-weights plus one weight for variables, and a program's probability is a
product of choices, each normalised over the candidates that fit the requested type in the
current environment; arrow-typed positions get a λ for free, so programs are η-long and
β-normal.

Unlike DreamCoder the normalisation runs on **ground** requests: the grammar is compiled over
a finite universe of ground types (the domain's), the way DeepSynth compiles its CFGs. A
polymorphic production that can be used at several instantiations for one request (``eq?``
for ``bool``: on colours, shapes, integers...) splits its weight evenly between them, so the
distribution stays normalised and a term's cost depends only on its own type and environment
— which is what lets a bottom-up enumerator add up child costs. Function arguments may bind
only ``obj`` variables, at most ``max_depth`` deep.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np

from agents.pix2code.dsl.domains import Domain
from agents.pix2code.dsl.inference import type_scheme, typecheck
from agents.pix2code.dsl.terms import Abstraction, Application, Index, Invented, Primitive, Term
from agents.pix2code.dsl.types import (
    BOOL,
    OBJ,
    TCon,
    Type,
    Unifier,
    UnificationError,
    arguments,
    canonical,
    match,
    returns,
    substitute,
)

Env = tuple[Type, ...]  # variable types, innermost ($0) first


@dataclass(frozen=True)
class Production:
    """A primitive or invention with its unnormalised log-weight."""

    term: Primitive | Invented
    log_weight: float

    @property
    def name(self) -> str:
        return self.term.show()

    @property
    def type(self) -> Type:
        return type_scheme(self.term)


@dataclass(frozen=True)
class ArgSlot:
    """Where an argument is generated: its type (the body's type for a function argument),
    its environment, and how many λs wrap it."""

    type: Type
    env: Env
    binders: int


@dataclass(frozen=True)
class Rule:
    """One way to fill a nonterminal ``(type, env)``: a head (production or variable) at a
    ground instantiation, its argument slots, and its normalised log-probability."""

    head: Term
    head_type: Type
    args: tuple[ArgSlot, ...]
    log_probability: float
    production: int  # index into Grammar.productions, or -1 for a variable


def logsumexp(xs: Iterable[float]) -> float:
    xs = list(xs)
    if not xs:
        return -math.inf
    m = max(xs)
    if m == -math.inf:
        return m
    return m + math.log(sum(math.exp(x - m) for x in xs))


class Grammar:
    """Productions with log-weights, a variable log-weight and a ground type universe.

    Build one with :meth:`from_domain`; :meth:`with_weights` and :meth:`with_inventions` return
    modified copies (learned weights, library functions). ``rules(type, env)`` is the compiled,
    normalised rule list of a nonterminal; ``log_prior(program)`` scores a program.
    """

    def __init__(
        self,
        productions: Sequence[Production],
        log_variable: float,
        types: Sequence[Type],
        request: Type,
        max_depth: int = 2,
    ) -> None:
        names = [p.name for p in productions]
        if len(set(names)) != len(names):
            raise ValueError("duplicate productions in grammar")
        for t in types:
            if t.is_polymorphic or (isinstance(t, TCon) and t.is_arrow):
                raise ValueError(f"the type universe must hold ground non-function types, got {t}")
        self.productions = tuple(productions)
        self.log_variable = float(log_variable)
        self.types = tuple(types)
        self.universe = frozenset(types)
        self.request = request
        self.max_depth = max_depth
        self._index = {p.name: i for i, p in enumerate(self.productions)}
        self._rules: dict[tuple[Type, Env], tuple[Rule, ...]] = {}
        self._schemes = [canonical(p.type) for p in self.productions]

    # Construction ---------------------------------------------------------------------------
    @classmethod
    def from_domain(cls, domain: Domain, weights: Mapping[str, float] | None = None) -> Grammar:
        w = dict(domain.weights)
        if weights:
            unknown = set(weights) - set(domain.primitives)
            if unknown:
                raise ValueError(f"weights for primitives not in domain {domain.name}: {sorted(unknown)}")
            w.update(weights)
        productions = [Production(t, float(w.get(t.name, 0.0))) for t in domain.terms]
        return cls(productions, domain.log_variable, domain.types, domain.request, domain.max_depth)

    def with_weights(self, weights: Mapping[str, float], log_variable: float | None = None) -> Grammar:
        """A copy with some production weights replaced (names as printed, inventions ``#(...)``)."""
        unknown = set(weights) - set(self._index)
        if unknown:
            raise ValueError(f"no productions named {sorted(unknown)} in this grammar")
        productions = [Production(p.term, float(weights.get(p.name, p.log_weight))) for p in self.productions]
        lv = self.log_variable if log_variable is None else log_variable
        return Grammar(productions, lv, self.types, self.request, self.max_depth)

    def with_inventions(self, inventions: Iterable[Invented | Term], log_weight: float = 0.0) -> Grammar:
        """A copy with closed terms added as inventions (their types are inferred and checked)."""
        productions = list(self.productions)
        for inv in inventions:
            if not isinstance(inv, Invented):
                inv = Invented(inv)
            typecheck(inv.body)
            if inv.show() in self._index:
                continue
            productions.append(Production(inv, log_weight))
        return Grammar(productions, self.log_variable, self.types, self.request, self.max_depth)

    @property
    def weights(self) -> dict[str, float]:
        return {p.name: p.log_weight for p in self.productions}

    @property
    def parse_table(self) -> dict[str, Term]:
        return {p.name: p.term for p in self.productions if isinstance(p.term, Primitive)}

    # Compilation ----------------------------------------------------------------------------
    def _instantiations(self, scheme: Type, request: Type, env: Env) -> tuple[tuple[Type, tuple[ArgSlot, ...]], ...]:
        """Ground instantiations of a production scheme whose return type is ``request``."""
        return _instantiations(scheme, request, env, self.types, self.max_depth)

    def rules(self, request: Type, env: Env) -> tuple[Rule, ...]:
        """The normalised rules of nonterminal ``(request, env)`` (cached)."""
        key = (request, env)
        cached = self._rules.get(key)
        if cached is not None:
            return cached
        candidates: list[tuple[float, Rule]] = []
        masses: list[float] = []
        for i, (p, scheme) in enumerate(zip(self.productions, self._schemes)):
            inst = self._instantiations(scheme, request, env)
            if not inst:
                continue
            masses.append(p.log_weight)
            share = p.log_weight - math.log(len(inst))
            for ground, slots in inst:
                candidates.append((share, Rule(p.term, ground, slots, 0.0, i)))
        variables = [j for j, t in enumerate(env) if t == request]
        if variables:
            masses.append(self.log_variable)
            share = self.log_variable - math.log(len(variables))
            for j in variables:
                candidates.append((share, Rule(Index(j), request, (), 0.0, -1)))
        z = logsumexp(masses)
        rules = tuple(
            Rule(r.head, r.head_type, r.args, w - z, r.production) for w, r in candidates
        )
        self._rules[key] = rules
        return rules

    # Scoring --------------------------------------------------------------------------------
    def log_prior(self, program: Term, request: Type | None = None) -> float:
        """log P(program) under this grammar; -inf if it is outside the grammar's support
        (a primitive it lacks, a type outside the universe, binders too deep, not η-long)."""
        request = self.request if request is None else request
        try:
            choices = _choices(program, request)
        except (UnificationError, ValueError, IndexError):
            return -math.inf
        total = 0.0
        for head, head_type, req, env in choices:
            rule = self._find_rule(head, head_type, req, env)
            if rule is None:
                return -math.inf
            total += rule.log_probability
        return total

    def derivation(self, program: Term, request: Type | None = None) -> list[tuple[Rule, tuple[Rule, ...]]]:
        """The program's choices as (chosen rule, all rules of that nonterminal) — what
        inside–outside needs to count uses and normalisers. ValueError if it is outside the
        grammar's support."""
        request = self.request if request is None else request
        try:
            choices = _choices(program, request)
        except (UnificationError, IndexError) as e:
            raise ValueError(f"{program.show()} is not a well-typed η-long program of type {request}: {e}") from None
        out = []
        for head, head_type, req, env in choices:
            rule = self._find_rule(head, head_type, req, env)
            if rule is None:
                raise ValueError(f"{program.show()}: no rule for {head.show()} : {head_type} at {req} in {list(map(str, env))}")
            out.append((rule, self.rules(req, env)))
        return out

    def _find_rule(self, head: Term, head_type: Type, request: Type, env: Env) -> Rule | None:
        for r in self.rules(request, env):
            if r.head == head and r.head_type == head_type:
                return r
        return None

    def sample(
        self,
        rng: np.random.Generator,
        request: Type | None = None,
        max_size: int = 20,
        keep: Callable[[Rule], bool] = lambda rule: True,
        attempts: int = 100,
    ) -> Term:
        """Draw a program from the grammar (rules rejected by ``keep`` removed, weights
        renormalised), retrying draws that exceed ``max_size`` leaves; ValueError if none fits."""
        request = self.request if request is None else request
        for _ in range(attempts):
            try:
                return self._draw(rng, request, (), keep, [max_size])
            except _TooLarge:
                continue
        raise ValueError(f"no program of at most {max_size} leaves drawn in {attempts} attempts")

    def _draw(self, rng: np.random.Generator, request: Type, env: Env, keep, left: list[int]) -> Term:
        if isinstance(request, TCon) and request.is_arrow:
            return Abstraction(self._draw(rng, request.args[1], (request.args[0],) + env, keep, left))
        rules = [r for r in self.rules(request, env) if keep(r)]
        if not rules:
            raise _TooLarge
        weights = np.exp(np.array([r.log_probability for r in rules]))
        rule = rules[int(rng.choice(len(rules), p=weights / weights.sum()))]
        left[0] -= 1
        if left[0] < 0:
            raise _TooLarge
        out: Term = rule.head
        for slot in rule.args:
            body = self._draw(rng, slot.type, slot.env, keep, left)
            for _ in range(slot.binders):
                body = Abstraction(body)
            out = Application(out, body)
        return out


class _TooLarge(Exception):
    pass


def _choices(program: Term, request: Type) -> list[tuple[Term, Type, Type, Env]]:
    """Every choice point of an η-long program: (head, head type, request, env), all ground.

    Type variables the typing leaves free are grounded to ``bool`` (any choice gives the same
    program; the grammar then scores one of its instantiations).
    """
    u = Unifier(next_variable=max(request.variables(), default=-1) + 1)
    records: list[tuple[Term, Type, Type, list[Type]]] = []

    def walk(t: Term, req: Type, env: list[Type]) -> None:
        req_r = u.find(req)
        if isinstance(req_r, TCon) and req_r.is_arrow:
            if not isinstance(t, Abstraction):
                raise ValueError(f"{t.show()} is not η-long at type {u.resolve(req)}")
            walk(t.body, req_r.args[1], [req_r.args[0]] + env)
            return
        if isinstance(t, Abstraction):
            # a λ where a non-function is requested: the request must become an arrow
            a, r = u.fresh(), u.fresh()
            u.unify(req, TCon("->", (a, r)))
            walk(t, req, env)
            return
        head, args = t.spine()
        if isinstance(head, Index):
            head_type = env[head.i]
        elif isinstance(head, (Primitive, Invented)):
            head_type = u.instantiate(type_scheme(head))
        else:
            raise ValueError(f"{t.show()} is not β-normal")
        arg_types = []
        current = head_type
        for _ in args:
            current = u.find(current)
            if not (isinstance(current, TCon) and current.is_arrow):
                a, r = u.fresh(), u.fresh()
                u.unify(current, TCon("->", (a, r)))
                current = u.find(current)
            arg_types.append(current.args[0])
            current = current.args[1]
        u.unify(current, req)
        if isinstance(u.find(current), TCon) and u.find(current).is_arrow:
            raise ValueError(f"{t.show()} is not fully applied (not η-long)")
        records.append((head, head_type, req, env))
        for a, at in zip(args, arg_types):
            walk(a, at, env)

    walk(program, request, [])

    def ground(t: Type) -> Type:
        t = u.resolve(t)
        if t.is_polymorphic:
            t = substitute(t, {v: BOOL for v in t.variables()})
        return t

    out = []
    for head, head_type, req, env in records:
        out.append((head, ground(head_type), ground(req), tuple(ground(e) for e in env)))
    return out


@functools.lru_cache(maxsize=200_000)
def _instantiations(scheme: Type, request: Type, env: Env, types: tuple[Type, ...],
                    max_depth: int) -> tuple[tuple[Type, tuple[ArgSlot, ...]], ...]:
    """Ground instantiations of a scheme whose return type is ``request``, over the type
    universe ``types``. They depend on types only, not on weights: a grammar re-weighted per
    task (recognition model) shares them with every other (the enumerator compiles thousands)."""
    bindings = match(returns(scheme), request)
    if bindings is None:
        return ()
    free = sorted(set(scheme.variables()) - set(bindings))
    universe = frozenset(types)
    out = []
    for choice in product(types, repeat=len(free)):
        b = dict(bindings)
        b.update(zip(free, choice))
        ground = substitute(scheme, b)
        slots = _slots(ground, env, universe, max_depth)
        if slots is not None:
            out.append((ground, slots))
    return tuple(out)


def _slots(ground: Type, env: Env, universe: frozenset[Type], max_depth: int) -> tuple[ArgSlot, ...] | None:
    depth = sum(1 for t in env if t == OBJ)
    slots = []
    for a in arguments(ground):
        if isinstance(a, TCon) and a.is_arrow:
            binders = arguments(a)
            body = returns(a)
            if any(b != OBJ for b in binders) or depth + len(binders) > max_depth:
                return None
            if body not in universe:
                return None
            inner = tuple(reversed(binders)) + env
            slots.append(ArgSlot(body, inner, len(binders)))
        else:
            if a not in universe:
                return None
            slots.append(ArgSlot(a, env, 0))
    return tuple(slots)
