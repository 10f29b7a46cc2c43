"""Hindley–Milner type inference for terms (and inventions' type schemes), the type check that
guards every run, and η-long form.

Every use of a primitive or invention instantiates its type scheme afresh (let-polymorphism);
forgetting that makes two uses of ``eq?`` interfere silently. Errors name the subterm and show
both clashing types, e.g. ``(eq? (color $0) cube): argument cube has type shape, but eq? expects
color``.
"""

from __future__ import annotations

from agents.pix2code.dsl.terms import (
    Abstraction,
    Application,
    Index,
    Invented,
    Primitive,
    Term,
)
from agents.pix2code.dsl.types import (
    ARROW,
    TCon,
    Type,
    Unifier,
    UnificationError,
    arguments,
    canonical,
    returns,
)


class DSLTypeError(TypeError):
    """A program is ill-typed; ``expected`` and ``found`` are the two clashing types."""

    def __init__(self, message: str, expected: Type | None = None, found: Type | None = None) -> None:
        super().__init__(message)
        self.expected, self.found = expected, found


def _infer(term: Term, env: list[Type], u: Unifier) -> Type:
    if isinstance(term, Index):
        if term.i >= len(env):
            raise DSLTypeError(f"unbound variable ${term.i} (only {len(env)} in scope)")
        return env[term.i]
    if isinstance(term, (Primitive, Invented)):
        return u.instantiate(type_scheme(term))
    if isinstance(term, Abstraction):
        arg = u.fresh()
        body = _infer(term.body, [arg] + env, u)
        return TCon(ARROW, (arg, body))
    assert isinstance(term, Application)
    f_type = _infer(term.f, env, u)
    x_type = _infer(term.x, env, u)
    result = u.fresh()
    f_resolved = u.find(f_type)
    if isinstance(f_resolved, TCon) and f_resolved.is_arrow:
        expected = f_resolved.args[0]
        try:
            u.unify(expected, x_type)
        except UnificationError:
            head, _ = term.spine()
            raise DSLTypeError(
                f"in {term.show()}: argument {term.x.show()} has type {u.resolve(x_type)}, "
                f"but {head.show()} expects {u.resolve(expected)} there",
                expected=u.resolve(expected),
                found=u.resolve(x_type),
            ) from None
        try:
            u.unify(f_resolved.args[1], result)
        except UnificationError as e:  # cannot happen with a fresh variable; kept for safety
            raise DSLTypeError(str(e)) from None
        return result
    try:
        u.unify(f_type, TCon(ARROW, (x_type, result)))
    except UnificationError:
        raise DSLTypeError(
            f"in {term.show()}: {term.f.show()} has type {u.resolve(f_type)}, which is not a "
            f"function of {u.resolve(x_type)}",
            expected=TCon(ARROW, (u.resolve(x_type), result)),
            found=u.resolve(f_type),
        ) from None
    return result


def infer(term: Term, env: list[Type] | None = None) -> Type:
    """The principal type of ``term`` (type variables renamed canonically)."""
    u = Unifier(next_variable=1 + max((max(t.variables(), default=-1) for t in env or []), default=-1))
    t = _infer(term, list(env or []), u)
    return canonical(u.resolve(t))


def type_scheme(head: Primitive | Invented) -> Type:
    """The type scheme of a primitive, or of an invention: its body's principal type, inferred on
    first use and cached on the invention."""
    if isinstance(head, Primitive):
        return head.type
    if head.inferred_type is None:
        head.inferred_type = infer(head.body)
    return head.inferred_type


def typecheck(term: Term, request: Type | str | None = None) -> Type:
    """Check that ``term`` is well typed (and, given a request, that it has that type).

    Returns the term's type, specialised to the request when one is given. Raises
    :class:`DSLTypeError` (a TypeError) naming the clashing types.
    """
    from agents.pix2code.dsl.types import parse_type

    if isinstance(request, str):
        request = parse_type(request)
    if request is None:
        return infer(term)
    if term.free_indices():
        raise DSLTypeError(f"{term.show()} has free variables {sorted(term.free_indices())}; a program must be closed")
    u = Unifier(next_variable=max(request.variables(), default=-1) + 1)
    t = _infer(term, [], u)
    try:
        u.unify(t, request)
    except UnificationError:
        raise DSLTypeError(
            f"{term.show()} has type {canonical(u.resolve(t))}, but the request is {request}",
            expected=request,
            found=canonical(u.resolve(t)),
        ) from None
    return u.resolve(request)


# ---------------------------------------------------------------------------------------------
# η-long form


def eta_long(term: Term, request: Type) -> Term:
    """The η-long form of a β-normal term: every arrow-typed position is a λ, every head fully applied.

    ``(map color $0)`` at request ``list(color)`` becomes ``(map (lambda (color $0)) $0)`` (with
    the indices shifted correctly). Raises :class:`DSLTypeError` if the term does not have the
    requested type.
    """
    typecheck(term, request)
    u = Unifier(next_variable=max(request.variables(), default=-1) + 1)

    def go(t: Term, req: Type, env: list[Type]) -> Term:
        req = u.find(req)
        if isinstance(req, TCon) and req.is_arrow:
            if isinstance(t, Abstraction):
                return Abstraction(go(t.body, req.args[1], [req.args[0]] + env))
            # λ.(t↑1) $0
            expanded = Application(t.shift(1), Index(0))
            return Abstraction(go(expanded, req.args[1], [req.args[0]] + env))
        head, args = t.spine()
        if isinstance(head, Abstraction):
            raise ValueError(f"eta_long needs a β-normal term; {t.show()} has a redex")
        if isinstance(head, Index):
            head_type = env[head.i]
        elif isinstance(head, (Primitive, Invented)):
            head_type = u.instantiate(type_scheme(head))
        else:
            raise ValueError(f"unexpected head {head.show()}")
        arg_types = arguments(u.resolve(head_type))
        # A head whose return type is a variable may take more arguments than its scheme shows.
        while len(arg_types) < len(args):
            a, r = u.fresh(), u.fresh()
            u.unify(returns(u.resolve(head_type)), TCon(ARROW, (a, r)))
            arg_types = arguments(u.resolve(head_type))
        ret = u.resolve(head_type)
        for _ in args:
            ret = ret.args[1]  # type: ignore[union-attr]
        u.unify(ret, req)
        new_args = [go(a, at, env) for a, at in zip(args, arg_types)]
        out: Term = head
        for a in new_args:
            out = Application(out, a)
        return out

    return go(term, request, [])
