"""What the bottom-up enumerator keeps: compiled grammar rules, banked terms (:class:`Entry`) and
the value of an invention applied to banked terms.

An invention is evaluated on its arguments' cached values (its body compiled once by
:mod:`agents.pix2code.dsl.vector_compile`); function arguments are passed as closures over the
enumerator's environment, so nothing is inlined or β-reduced per candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agents.pix2code.dsl.terms import Abstraction, Application, Index, Term
from agents.pix2code.dsl.types import OBJ, Type
from agents.pix2code.dsl.vector import Closure, evaluate_applied, evaluate_open
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.dsl.vector_primitives import VECTOR_IMPLS
from agents.pix2code.search.grammar import Rule


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
    closures: bool = False  # an invention whose function arguments can be passed as closures (:func:`closure_ready`)
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

    def compiled_bodies(self) -> dict:
        """The term's body compiled for use as a closure, per application depth (filled on use)."""
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
        values = [Closure(c.term(), b, None, r.depth, c.compiled_bodies()) if b else c.value_on(ctx)
                  for c, b in zip(children, r.binders)]
    else:
        return _applied_afresh(r, children, ctx)
    if r.compiled is not None:
        return r.compiled(ctx, values)
    return evaluate_applied(r.inner, r.arg_types, values, r.depth, ctx)  # type: ignore[arg-type]


def closure_ready(inner: Term, binders: Sequence[int]) -> bool:
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


def inner_binders(invention: Term) -> int:
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
            return inner_binders(t)
        return 0

    return deepest(body)
