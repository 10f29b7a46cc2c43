"""The reference semantics: a tree-walking interpreter with a step budget and no ``eval``.

A program is compiled once into nested Python closures (an abstraction becomes a closure that
pushes its argument onto the environment; a fully applied primitive calls its uncurried
implementation directly), then run on each scene. Every node evaluation costs one step from a
budget, so a runaway program (a fold over a long list inside a map inside a fold...) stops with
:class:`StepBudgetExceeded` instead of hanging; every other exception a candidate raises is a
failure of that candidate on that input, reported, never propagated.

The vectorised evaluator (:mod:`agents.pix2code.dsl.vector`) must agree with this module on
every program of its fragment; tests check that on many random programs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.pix2code.dsl.inference import DSLTypeError, typecheck
from agents.pix2code.dsl.primitives import SPECS
from agents.pix2code.dsl.terms import Abstraction, Application, Index, Invented, Primitive, Term
from agents.pix2code.dsl.types import Type

DEFAULT_STEP_BUDGET = 100_000


class StepBudgetExceeded(Exception):
    """The program used more evaluation steps than allowed (a timeout in step units)."""


class _Budget:
    __slots__ = ("left",)

    def __init__(self, steps: int) -> None:
        self.left = steps

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise StepBudgetExceeded


Env = tuple  # innermost variable first, as a linked tuple (value, rest)
Compiled = Callable[[Any, _Budget], Any]


def _lookup(env: Any, i: int) -> Any:
    for _ in range(i):
        env = env[1]
    return env[0]


def _curried(arity: int, impl: Callable[..., Any], collected: tuple = ()) -> Any:
    """A primitive applied to fewer arguments than its arity: a curried Python function."""
    if arity == len(collected):
        return impl(*collected)
    return lambda x: _curried(arity, impl, collected + (x,))


def compile_term(term: Term) -> Compiled:
    """Compile a term into a closure ``run(env, budget) -> value``."""
    if isinstance(term, Index):
        i = term.i

        def run_index(env: Any, budget: _Budget) -> Any:
            budget.spend()
            return _lookup(env, i)

        return run_index
    if isinstance(term, Primitive):
        spec = SPECS[term.name]
        if spec.arity == 0:
            impl = spec.impl

            def run_constant(env: Any, budget: _Budget) -> Any:
                budget.spend()
                return impl()

            return run_constant
        value = _curried(spec.arity, spec.impl) if not spec.lazy else _curried(
            spec.arity, lambda c, a, b: a if c else b
        )

        def run_function(env: Any, budget: _Budget) -> Any:
            budget.spend()
            return value

        return run_function
    if isinstance(term, Invented):
        body = compile_term(term.body)

        def run_invented(env: Any, budget: _Budget) -> Any:
            return body(None, budget)

        return run_invented
    if isinstance(term, Abstraction):
        body = compile_term(term.body)

        def run_abstraction(env: Any, budget: _Budget) -> Any:
            budget.spend()
            return lambda x: body((x, env), budget)

        return run_abstraction
    assert isinstance(term, Application)
    head, args = term.spine()
    if isinstance(head, Primitive) and SPECS[head.name].arity == len(args) and len(args) > 0:
        spec = SPECS[head.name]
        compiled_args = [compile_term(a) for a in args]
        impl = spec.impl
        if spec.lazy:
            cond, then, otherwise = compiled_args

            def run_if(env: Any, budget: _Budget) -> Any:
                budget.spend()
                return then(env, budget) if cond(env, budget) else otherwise(env, budget)

            return run_if
        if len(compiled_args) == 1:
            (a0,) = compiled_args

            def run_prim1(env: Any, budget: _Budget) -> Any:
                budget.spend()
                return impl(a0(env, budget))

            return run_prim1
        if len(compiled_args) == 2:
            a0, a1 = compiled_args

            def run_prim2(env: Any, budget: _Budget) -> Any:
                budget.spend()
                return impl(a0(env, budget), a1(env, budget))

            return run_prim2

        def run_prim(env: Any, budget: _Budget) -> Any:
            budget.spend()
            return impl(*[a(env, budget) for a in compiled_args])

        return run_prim
    f = compile_term(term.f)
    x = compile_term(term.x)

    def run_application(env: Any, budget: _Budget) -> Any:
        budget.spend()
        return f(env, budget)(x(env, budget))

    return run_application


@dataclass(frozen=True)
class RunResult:
    """The outcome of running one program on one input."""

    value: Any = None
    error: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


def evaluate(term: Term, *arguments: Any, steps: int = DEFAULT_STEP_BUDGET) -> Any:
    """Apply a closed, well-typed program to arguments and return the value; exceptions
    propagate (:class:`StepBudgetExceeded` on timeout). Use :func:`run` to have failures reported."""
    typecheck(term)
    budget = _Budget(steps)
    value = compile_term(term)(None, budget)
    for a in arguments:
        budget.spend()
        value = value(a)
    return value


class Program:
    """A compiled closed program, reusable across inputs. It is type-checked first (against
    ``request`` when given): an ill-typed program raises DSLTypeError and never runs."""

    def __init__(self, term: Term, steps: int = DEFAULT_STEP_BUDGET, request: Type | str | None = None) -> None:
        if term.free_indices():
            raise DSLTypeError(f"{term.show()} has free variables; a program must be closed")
        typecheck(term, request)
        self.term, self.steps = term, steps
        self._run = compile_term(term)

    def __call__(self, *arguments: Any) -> RunResult:
        budget = _Budget(self.steps)
        try:
            value = self._run(None, budget)
            for a in arguments:
                budget.spend()
                value = value(a)
            return RunResult(value=value)
        except StepBudgetExceeded:
            return RunResult(timed_out=True)
        except RecursionError:
            return RunResult(error="recursion too deep")
        except Exception as e:  # any failure inside a candidate is that candidate's failure
            return RunResult(error=f"{type(e).__name__}: {e}")


def run(term: Term, scenes: Sequence[Any], steps: int = DEFAULT_STEP_BUDGET) -> list[RunResult]:
    """Run a ``list(obj) -> t`` program on every scene; each result reports value, error or
    timeout (an ill-typed program raises DSLTypeError before running)."""
    program = Program(term, steps, request="list(obj) -> t0")
    return [program(scene) for scene in scenes]


def classify(term: Term, scenes: Sequence[Any], steps: int = DEFAULT_STEP_BUDGET) -> list[bool | None]:
    """Labels of a ``scene -> bool`` program; None where it failed or timed out."""
    out: list[bool | None] = []
    for r in run(term, scenes, steps):
        out.append(bool(r.value) if r.ok and isinstance(r.value, bool) else None)
    return out
