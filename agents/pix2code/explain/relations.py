"""Spelling out the relation primitives a family's DSL lacks, so that a read program runs there.

The reader turns "all objects have the same shape" into ``same_shape`` and "there are two
different objects that ..." into ``some_pair``; the default Kandinsky DSL is losing those
relations (they stay in the catalogue) and CURI never had them. :func:`spell_out` replaces each
one the family's domain does not list by an equivalent program over base primitives:

* ``same_shape L``: every object of L has the same shape as every object of L;
* ``one_red_triangle L``: one red object, one triangle, and a red triangle among L;
* ``some_pair R L``: some x in L and some y in L without x with R x y; ``two_pairs`` and
  ``three_pairs`` nest further, each pair drawn from what the earlier pairs left and its
  relation checked as soon as it is drawn (the same meaning, and much less search);
* ``pair a b``: ``(if (eq? a b) (cons a empty) (cons a (cons b empty)))``.
"""

from __future__ import annotations

import itertools

from agents.pix2code.dsl.domains import get_domain
from agents.pix2code.explain.nodes import App, Lam, Node, Prim, Var, build_chain, call, substitute

_SAME = {"same_color": "color", "same_shape": "shape", "same_size": "size"}
_PAIRS = {"some_pair": 1, "two_pairs": 2, "three_pairs": 3}


def missing(family: str) -> frozenset[str]:
    """The relation primitives (and ``pair``) that ``family``'s DSL lacks."""
    return (frozenset(_SAME) | frozenset(_PAIRS) | {"one_red_triangle", "pair"}) - frozenset(get_domain(family).primitives)


def spell_out(node: Node, family: str) -> Node:
    """``node`` with every relation primitive missing from ``family``'s domain expanded."""
    available = frozenset(get_domain(family).primitives)
    fresh = (f"~{i}" for i in itertools.count())

    def go(n: Node) -> Node:
        if isinstance(n, Lam):
            return Lam(n.params, go(n.body))
        if not isinstance(n, App):
            return n
        n = App(go(n.head), tuple(go(a) for a in n.args))
        name = n.head.name if isinstance(n.head, Prim) else None
        if name is None or name in available:
            return n
        if name in _SAME and len(n.args) == 1:
            (lst,) = n.args
            z, w = next(fresh), next(fresh)
            attr = _SAME[name]
            inner = call("forall", Lam((w,), call("eq?", call(attr, Var(z)), call(attr, Var(w)))), lst)
            return call("forall", Lam((z,), inner), lst)
        if name == "one_red_triangle" and len(n.args) == 1:
            (lst,) = n.args

            def count(attr: str, value: str) -> Node:
                z = next(fresh)
                return call("eq?", call("count", call("map", Lam((z,), call(attr, Var(z))), lst), Prim(value)), Prim("1"))

            z = next(fresh)
            both = call("and", call("eq?", call("color", Var(z)), Prim("red")), call("eq?", call("shape", Var(z)), Prim("triangle")))
            return build_chain("and", [count("color", "red"), count("shape", "triangle"), call("exists", Lam((z,), both), lst)])
        if name in _PAIRS and len(n.args) == _PAIRS[name] + 1 and all(isinstance(r, Lam) for r in n.args[:-1]):
            *rels, lst = n.args
            return pairs(rels, lst)  # type: ignore[arg-type]
        if name == "pair" and len(n.args) == 2:
            a, b = n.args
            one = call("cons", a, Prim("empty"))
            return call("if", call("eq?", a, b), one, call("cons", a, call("cons", b, Prim("empty"))))
        return n

    def pairs(rels: list[Lam], lst: Node) -> Node:
        """Pair k drawn from what pairs 1..k-1 left, its relation checked as soon as it is drawn."""
        rel, *more = rels
        a, b = next(fresh), next(fresh)
        body = substitute(substitute(rel.body, rel.params[0], Var(a)), rel.params[1], Var(b))
        if more:
            body = call("and", body, pairs(more, call("remove", Var(b), call("remove", Var(a), lst))))
        inner = call("exists", Lam((b,), body), call("remove", Var(a), lst))
        return call("exists", Lam((a,), inner), lst)

    return go(node)
