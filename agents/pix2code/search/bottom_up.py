"""Grammar-driven bottom-up enumeration by quantised cost, with observational equivalence.

Probe-style: every nonterminal ``(type, env)`` of the compiled grammar keeps a bank of terms
bucketed by integer cost level (``level = Σ max(1, round(-log p / quantum))`` over the term's
choices). Level ``L`` of a nonterminal is built from each rule and every split of
``L - rule level`` among its arguments' banks, so terms come out in (quantised) prior order and
each is evaluated exactly once, from its children's cached values, as a bitset over every scene
and variable binding (:mod:`agents.pix2code.dsl.vector`). A term whose value its nonterminal
has already seen is dropped: it is observationally equivalent, in every context, to a cheaper
one.

:meth:`BottomUpEnumerator.run` advances level by level and reports every new top-level value (a
complete program) to a callback, stopping on a time, candidate or memory budget.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

from agents.pix2code.dsl.terms import Index
from agents.pix2code.dsl.types import LIST_OBJ, OBJ, TCon, Type, arguments, returns
from agents.pix2code.dsl.vector import evaluate_open, strip_parameters
from agents.pix2code.dsl.vector_compile import compile_body
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_primitives import VECTOR_IMPLS, specialise, supports
from agents.pix2code.dsl.vector_values import Unsupported, kind
from agents.pix2code.search.entries import CompiledRule, Entry, closure_ready, inner_binders, invented_value
from agents.pix2code.search.grammar import Grammar, Rule

NT = tuple[Type, tuple[Type, ...]]

_COMMUTATIVE = {"and", "or", "eq?", "+", "max", "min"}


class BottomUpEnumerator:
    """Enumerates programs of the grammar's request ``list(obj) -> t`` bottom-up.

    ``quantum`` is the cost (in nats) of one level. Nonterminals are numbered; ``nts[i]`` is the
    ``(type, env)`` of number ``i``, ``rules[i]`` its compiled rules, ``bank[i][level]`` the
    ``(values, entries)`` kept at that level and ``values[i]`` the value → entry table used for
    observational equivalence.
    """

    def __init__(self, grammar: Grammar, ctx: VectorContext, quantum: float = 0.5, compiled: bool = True) -> None:
        request = grammar.request
        if not (isinstance(request, TCon) and request.is_arrow and arguments(request) == [LIST_OBJ]):
            raise ValueError(f"the enumerator needs a request list(obj) -> t, got {request}")
        self.grammar, self.ctx, self.quantum = grammar, ctx, quantum
        self.compiled = compiled  # False: every applied invention inlined and evaluated afresh (the reference)
        self.nts: list[NT] = []
        self.index: dict[NT, int] = {}
        self.rules: list[list[CompiledRule]] = []
        self.root = self._nt((returns(request), (LIST_OBJ,)))
        self._compile()
        self.values: list[dict] = [{} for _ in self.nts]
        self.bank: list[list[tuple[list, list]]] = [[] for _ in self.nts]
        self.filled: list[list[int]] = [[] for _ in self.nts]  # levels with kept terms, ascending
        self.level = 0
        self.evaluated = 0
        self.kept = 0
        self.failed = 0

    def nt_id(self, t: Type, env: tuple[Type, ...]) -> int | None:
        return self.index.get((t, env))

    # Compilation ---------------------------------------------------------------------------
    def _nt(self, nt: NT) -> int:
        i = self.index.get(nt)
        if i is None:
            i = len(self.nts)
            self.index[nt] = i
            self.nts.append(nt)
            self.rules.append([])
        return i

    def _compile(self) -> None:
        done: set[int] = set()
        todo = [self.root]
        while todo:
            i = todo.pop()
            if i in done:
                continue
            done.add(i)
            t, env = self.nts[i]
            depth = sum(1 for e in env if e == OBJ)
            compiled = [c for c in (self._compile_rule(r, depth) for r in self.grammar.rules(t, env)) if c is not None]
            self.rules[i] = compiled
            for c in compiled:
                todo.extend(ch for ch in c.children if ch not in done)

    def _compile_rule(self, rule: Rule, depth: int) -> CompiledRule | None:
        if rule.log_probability == -math.inf:
            return None
        level = max(1, round(-rule.log_probability / self.quantum))
        head = rule.head
        arg_types = tuple(arguments(rule.head_type))
        ret = returns(rule.head_type)
        binders = tuple(slot.binders for slot in rule.args)
        if isinstance(head, Index):
            if rule.head_type not in (OBJ, LIST_OBJ):
                return None
            return CompiledRule(rule, level, (), (), "var", None, (), rule.head_type, depth, False, self.ctx)
        name = head.show()
        if name in VECTOR_IMPLS:
            if not supports(name, arg_types, ret, self.grammar.max_depth, depth):
                return None
            op = name if name in ("and", "or", "not") else "prim"
            children = tuple(self._nt((slot.type, slot.env)) for slot in rule.args)
            commutative = name in _COMMUTATIVE and len(set(children)) == 1
            return CompiledRule(
                rule, level, children, binders, op, VECTOR_IMPLS[name], arg_types, ret, depth, commutative, self.ctx,
                specialise(name, self.ctx, depth, arg_types, ret),
            )
        if name.startswith("#"):
            if depth + inner_binders(head) > self.grammar.max_depth:
                return None  # its body would bind objects deeper than the evaluator goes
            try:
                kind(ret)
                for a in arg_types:
                    if not (isinstance(a, TCon) and a.is_arrow):
                        kind(a)
            except Unsupported:
                return None
            children = tuple(self._nt((slot.type, slot.env)) for slot in rule.args)
            # not self.compiled: no parameter-free body, so every application is inlined (the reference)
            try:
                inner = strip_parameters(head.body, len(arg_types)) if self.compiled else None  # type: ignore[attr-defined]
            except Unsupported:  # a body that passes parameters on η-reduced: inlined, as the reference does
                inner = None
            closures = inner is not None and any(binders) and closure_ready(inner, binders)
            compiled = None
            if inner is not None and (closures or not any(binders)):
                try:
                    compiled = compile_body(inner, arg_types, depth, self.grammar.max_depth)
                except Unsupported:
                    pass  # the interpreter covers it
            return CompiledRule(rule, level, children, binders, "inv", None, arg_types, ret, depth, False, self.ctx,
                                inner=inner, closures=closures, compiled=compiled)
        return None

    # Enumeration ---------------------------------------------------------------------------
    def entries(self, nt: int) -> list[Entry]:
        """Every kept entry of a nonterminal, cheapest levels first."""
        out: list[Entry] = []
        for _, es in self.bank[nt]:
            out.extend(es)
        return out

    def _leaf_value(self, r: CompiledRule):
        if r.op == "var":
            i = r.rule.head.i  # type: ignore[attr-defined]
            return self.ctx.onehot(r.depth, i) if r.ret == OBJ else self.ctx.scene_list(r.depth)
        if r.op == "inv":
            return evaluate_open(r.rule.head, r.depth, self.ctx)
        return r.impl(self.ctx, r.depth, r.arg_types, r.ret)

    def run(
        self,
        on_program: Callable[[object, Entry], None],
        deadline: float = math.inf,
        max_candidates: int = 10**12,
        max_kept: int = 3_000_000,
        max_level: int = 400,
    ) -> str:
        """Enumerate until a budget runs out; returns why it stopped: 'time', 'candidates',
        'memory' or 'exhausted' (``max_level`` reached). The root is filled last in each level."""
        clock = time.perf_counter
        order = sorted(range(len(self.nts)), key=lambda i: i == self.root)
        while self.level < max_level:
            self.level += 1
            L = self.level
            for nt in order:
                seen = self.values[nt]
                new_vals: list = []
                new_entries: list = []
                report = on_program if nt == self.root else None
                stop = None
                for r in self.rules[nt]:
                    rem = L - r.level
                    if rem < 0:
                        continue
                    if not r.children:
                        if rem == 0:
                            self._leaf(r, seen, new_vals, new_entries, report)
                        continue
                    self._expand(r, rem, seen, new_vals, new_entries, report)
                    if self.evaluated > max_candidates:
                        stop = "candidates"
                    elif clock() > deadline:
                        stop = "time"
                    if stop:
                        break
                self._commit(nt, L, new_vals, new_entries)
                if stop:
                    return stop
                if self.kept > max_kept:
                    return "memory"
        return "exhausted"

    def _leaf(self, r: CompiledRule, seen: dict, new_vals: list, new_entries: list, report) -> None:
        try:
            v = self._leaf_value(r)
        except Exception:  # a candidate's failure is only that candidate's
            self.failed += 1
            return
        self.evaluated += 1
        if v not in seen:
            e = Entry(r, (), r.rule.log_probability, v)
            seen[v] = e
            new_vals.append(v)
            new_entries.append(e)
            if report is not None:
                report(v, e)

    def _commit(self, nt: int, level: int, vals: list, entries: list) -> None:
        bank = self.bank[nt]
        while len(bank) <= level:
            bank.append(([], []))
        bank[level][0].extend(vals)
        bank[level][1].extend(entries)
        if vals and (not self.filled[nt] or self.filled[nt][-1] != level):
            self.filled[nt].append(level)
        self.kept += len(vals)

    def _lists(self, nt: int, level: int) -> tuple[list, list] | None:
        bank = self.bank[nt]
        if level < len(bank):
            vals, ents = bank[level]
            if vals:
                return vals, ents
        return None

    def _expand(self, r: CompiledRule, rem: int, seen: dict, new_vals: list, new_entries: list, report) -> None:
        n = len(r.children)
        lp = r.rule.log_probability
        if n == 1:
            got = self._lists(r.children[0], rem)
            if got is None:
                return
            vals, ents = got
            self.evaluated += len(vals)
            ctx = self.ctx
            if r.op == "not":
                valid = ctx.valid[r.depth]
                for a, ea in zip(vals, ents):
                    v = valid & ~a
                    if v in seen:
                        continue
                    self._keep(Entry(r, (ea,), lp + ea.log_prior, v), seen, new_vals, new_entries, report)
                return
            fast = r.fast
            inv = r.op == "inv"
            for a, ea in zip(vals, ents):
                try:
                    v = invented_value(r, (ea,), self.ctx) if inv else fast(a)
                except Exception:
                    self.failed += 1
                    continue
                if v in seen:
                    continue
                self._keep(Entry(r, (ea,), lp + ea.log_prior, v), seen, new_vals, new_entries, report)
            return
        if n == 2:
            c0, c1 = r.children
            for l0 in range(1, rem):
                l1 = rem - l0
                if r.commutative and l0 > l1:
                    break
                a = self._lists(c0, l0)
                if a is None:
                    continue
                b = self._lists(c1, l1)
                if b is None:
                    continue
                self._pairs(r, lp, a[0], a[1], b[0], b[1], r.commutative and l0 == l1, seen, new_vals, new_entries, report)
            return
        for lists in self._level_splits(r.children, rem):
            self._product(r, lp, lists, seen, new_vals, new_entries, report)

    def _level_splits(self, children: tuple[int, ...], rem: int) -> list[list[tuple[list, list]]]:
        """The children's banks at every split of ``rem`` into one level per child (each >= 1)
        where every bank is non-empty, splits in lexicographic order of their levels."""
        n = len(children)
        out: list[list[tuple[list, list]]] = []

        def go(i: int, left: int, acc: list[tuple[list, list]]) -> None:
            if i == n - 1:
                got = self._lists(children[i], left)
                if got is not None:
                    out.append(acc + [got])
                return
            for level in self.filled[children[i]]:
                if level > left - (n - 1 - i):
                    break
                go(i + 1, left - level, acc + [self.bank[children[i]][level]])

        go(0, rem, [])
        return out

    @staticmethod
    def _keep(entry: Entry, seen: dict, new_vals: list, new_entries: list, report) -> None:
        """Record a term whose value is new at its (type, environment), and report it."""
        seen[entry.value] = entry
        new_vals.append(entry.value)
        new_entries.append(entry)
        if report is not None:
            report(entry.value, entry)

    def _pairs(self, r, lp, va, ea_, vb, eb_, same, seen, new_vals, new_entries, report) -> None:
        op = r.op
        if op == "and" or op == "or":
            is_and = op == "and"
            for i, a in enumerate(va):
                ea = ea_[i]
                bs = vb[i + 1 :] if same else vb
                es = eb_[i + 1 :] if same else eb_
                self.evaluated += len(bs)
                base = lp + ea.log_prior
                for j, b in enumerate(bs):
                    v = (a & b) if is_and else (a | b)
                    if v in seen:
                        continue
                    eb = es[j]
                    self._keep(Entry(r, (ea, eb), base + eb.log_prior, v), seen, new_vals, new_entries, report)
            return
        fast = r.fast
        inv = op == "inv"
        for i, a in enumerate(va):
            ea = ea_[i]
            bs = vb[i + 1 :] if same else vb
            es = eb_[i + 1 :] if same else eb_
            self.evaluated += len(bs)
            base = lp + ea.log_prior
            for j, b in enumerate(bs):
                try:
                    v = invented_value(r, (ea, es[j]), self.ctx) if inv else fast(a, b)
                except Exception:
                    self.failed += 1
                    continue
                if v in seen:
                    continue
                eb = es[j]
                self._keep(Entry(r, (ea, eb), base + eb.log_prior, v), seen, new_vals, new_entries, report)

    def _product(self, r, lp, lists, seen, new_vals, new_entries, report) -> None:
        inv = r.op == "inv"
        for combo in itertools.product(*[tuple(zip(vs, es)) for vs, es in lists]):
            self.evaluated += 1
            ents = tuple(e for _, e in combo)
            try:
                v = invented_value(r, ents, self.ctx) if inv else r.fast(*[x for x, _ in combo])
            except Exception:
                self.failed += 1
                continue
            if v in seen:
                continue
            self._keep(Entry(r, ents, lp + sum(x.log_prior for x in ents), v), seen, new_vals, new_entries, report)
