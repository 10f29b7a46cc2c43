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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agents.pix2code.dsl.terms import Abstraction, Application, Index, Term
from agents.pix2code.dsl.types import LIST_OBJ, OBJ, TCon, Type, arguments, returns
from agents.pix2code.dsl.vector import Closure, evaluate_applied, evaluate_open, strip_parameters
from agents.pix2code.dsl.vector_compile import compile_body
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_primitives import VECTOR_IMPLS, specialise, supports
from agents.pix2code.dsl.vector_values import Unsupported, kind
from agents.pix2code.search.grammar import Grammar, Rule

NT = tuple[Type, tuple[Type, ...]]

_COMMUTATIVE = {"and", "or", "eq?", "+", "max", "min"}


@dataclass
class CompiledRule:
    """A grammar rule ready for the enumerator: integer level, child nonterminal ids, and the
    vectorised implementation with its ground argument types."""

    rule: Rule
    level: int
    children: tuple[int, ...]
    binders: tuple[int, ...]
    op: str  # 'and' | 'or' | 'not' | 'var' | 'prim' | 'inv'
    impl: Callable | None
    arg_types: tuple[Type, ...]
    ret: Type
    depth: int
    commutative: bool
    ctx: VectorContext  # the enumeration context, on which Entry.value is computed
    fast: Callable | None = None  # impl specialised to ctx, depth and types: fast(*args)
    inner: Term | None = None  # an invention: its parameter-free body (None: evaluate it applied, afresh)
    closures: bool = False  # an invention whose function arguments can be passed as closures (:func:`_closure_ready`)
    compiled: Callable | None = None  # an invention's body compiled: compiled(ctx, argument values or closures)

    @property
    def name(self) -> str:
        return self.rule.head.show()


class Entry:
    """A kept term: its rule, children entries, exact log-probability and its value on the
    enumeration context.

    ``value_on(ctx)`` evaluates the term on another scene set from its children's values
    there (memoised), so a second context (a large pool for extension estimates) costs one
    primitive call per term that is actually asked about.
    """

    __slots__ = ("rule", "children", "log_prior", "value", "_cache", "_free", "_compiled")

    def __init__(self, rule: CompiledRule, children: tuple, log_prior: float, value: object = None) -> None:
        self.rule, self.children, self.log_prior, self.value = rule, children, log_prior, value
        self._cache: dict[int, object] | None = None
        self._free: int | None = None
        self._compiled: dict | None = None

    def closures(self) -> dict:
        """The term's bodies compiled as a closure, per application depth (filled on use)."""
        if self._compiled is None:
            self._compiled = {}
        return self._compiled

    def free(self) -> int:
        """The term's free de Bruijn indices as a bitmask (bit i: ``$i`` occurs free); memoised."""
        if self._free is None:
            r = self.rule
            if r.op == "var":
                mask = 1 << r.rule.head.i  # type: ignore[attr-defined]
            else:
                mask = 0
                for child, b in zip(self.children, r.binders):
                    mask |= child.free() >> b
            self._free = mask
        return self._free

    def term(self) -> Term:
        r = self.rule
        out: Term = r.rule.head
        for child, b in zip(self.children, r.binders):
            t = child.term()
            for _ in range(b):
                t = Abstraction(t)
            out = Application(out, t)
        return out

    def value_on(self, ctx: VectorContext) -> object:
        if ctx is self.rule.ctx:
            return self.value
        key = id(ctx)
        if self._cache is None:
            self._cache = {}
        elif key in self._cache:
            return self._cache[key]
        r = self.rule
        if r.op == "var":
            i = r.rule.head.i  # type: ignore[attr-defined]
            value = ctx.onehot(r.depth, i) if r.ret == OBJ else ctx.scene_list(r.depth)
        elif r.op == "inv":
            value = invented_value(r, self.children, ctx)
        else:
            impl = r.impl if r.impl is not None else VECTOR_IMPLS[r.name]
            value = impl(ctx, r.depth, r.arg_types, r.ret, *[c.value_on(ctx) for c in self.children])
        self._cache[key] = value
        return value


def invented_value(r: CompiledRule, children: Sequence[Entry], ctx: VectorContext) -> object:
    """Value on ``ctx`` of an invention applied to ``children``: its body on their values, the
    function arguments passed as closures over the enumerator's environment (no inlining, so no
    deeper binders than the evaluator goes); else (a body that uses a function argument other
    than by applying it to objects) its applied, β-reduced body evaluated afresh."""
    if r.inner is not None and not any(r.binders):
        values = [c.value_on(ctx) for c in children]
    elif r.closures:
        values = [Closure(c.term(), b, None, r.depth, c.closures()) if b else c.value_on(ctx)
                  for c, b in zip(children, r.binders)]
    else:
        return _applied_afresh(r, children, ctx)
    if r.compiled is not None:
        return r.compiled(ctx, values)
    return evaluate_applied(r.inner, r.arg_types, values, r.depth, ctx)  # type: ignore[arg-type]


def _closure_ready(inner: Term, binders: Sequence[int]) -> bool:
    """Whether a parameter-free invention body uses each function parameter (``binders[p] > 0``)
    only as the head of an application to exactly that many arguments, or unapplied (passed on
    as a function argument), as closures require."""
    n = len(binders)

    def ok(t: Term, depth: int, applied: int) -> bool:
        if isinstance(t, Index):
            p = n - 1 - (t.i - depth)
            return not (depth <= t.i < depth + n) or binders[p] == 0 or applied in (0, binders[p])
        if isinstance(t, Abstraction):
            return ok(t.body, depth + 1, 0)
        if isinstance(t, Application):
            head, args = t.spine()
            return ok(head, depth, len(args)) and all(ok(a, depth, 0) for a in args)
        return True

    return ok(inner, 0, 0)


def _applied_afresh(r: CompiledRule, children: Sequence[Entry], ctx: VectorContext) -> object:
    term: Term = r.rule.head
    for child, b in zip(children, r.binders):
        t = child.term()
        for _ in range(b):
            t = Abstraction(t)
        term = Application(term, t)
    return evaluate_open(term, r.depth, ctx)


def _inner_binders(invention: Term) -> int:
    """How deep an invention's body nests λs below its own parameters (each binds an object:
    the grammar's function arguments bind only objects), inventions inside counted too."""
    body = invention.body  # type: ignore[attr-defined]
    while isinstance(body, Abstraction):
        body = body.body

    def deepest(t: Term) -> int:
        if isinstance(t, Abstraction):
            return 1 + deepest(t.body)
        if isinstance(t, Application):
            return max(deepest(t.f), deepest(t.x))
        if t.show().startswith("#"):
            return _inner_binders(t)
        return 0

    return deepest(body)


class BottomUpEnumerator:
    """Enumerates programs of the grammar's request ``list(obj) -> t`` bottom-up.

    ``quantum`` is the cost (in nats) of one level. Nonterminals are numbered; ``nts[i]`` is the
    ``(type, env)`` of number ``i``, ``rules[i]`` its compiled rules, ``bank[i][level]`` the
    ``(values, entries)`` kept at that level and ``values[i]`` the value → entry table used for
    observational equivalence.
    """

    def __init__(self, grammar: Grammar, ctx: VectorContext, quantum: float = 0.5) -> None:
        request = grammar.request
        if not (isinstance(request, TCon) and request.is_arrow and arguments(request) == [LIST_OBJ]):
            raise ValueError(f"the enumerator needs a request list(obj) -> t, got {request}")
        self.grammar, self.ctx, self.quantum = grammar, ctx, quantum
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
            if depth + _inner_binders(head) > self.grammar.max_depth:
                return None  # its body would bind objects deeper than the evaluator goes
            try:
                kind(ret)
                for a in arg_types:
                    if not (isinstance(a, TCon) and a.is_arrow):
                        kind(a)
            except Unsupported:
                return None
            children = tuple(self._nt((slot.type, slot.env)) for slot in rule.args)
            inner = strip_parameters(head.body, len(arg_types))  # type: ignore[attr-defined]
            closures = any(binders) and _closure_ready(inner, binders)
            compiled = None
            if closures or not any(binders):
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
