"""The reader's noun phrases and predicates: the inverse of
:mod:`~agents.pix2code.explain.phrases`.

Like every reader method (:mod:`~agents.pix2code.explain.hear_values`), these return all parses
from a position. Placeholders stand for what a phrase is about until its binder is known:
``@`` the subject of a predicate, ``%`` the referent of a noun phrase, ``@pair`` (``@1`` and
``@2``) the two objects of a pair; the clause level
(:mod:`~agents.pix2code.explain.listen`) substitutes the bound variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.pix2code.explain.hear_values import Parses, ValueHearing, memo
from agents.pix2code.explain.lexicon import (
    ATTRIBUTE_OF_NOUN,
    ATTRIBUTES,
    CONSTANT_CATEGORY,
    DIRECTION_OF_WORDS,
    SHAPE_OF_PLURAL,
    SHAPES,
)
from agents.pix2code.explain.nodes import SCENE, Lam, Node, Prim, Var, build_chain, call, substitute
from agents.pix2code.explain.phrases import ORT

AT, IT, PAIR = Var("@"), Var("%"), "@pair"
A1, A2 = Var("@1"), Var("@2")
_ADJECTIVE_CATEGORIES = ("color", "material", "size")
_DIRECTIONS = [tuple(words.split(" ")) for words in DIRECTION_OF_WORDS]


@dataclass(frozen=True)
class NP:
    """A noun phrase: properties of ``%``, where it ranges, its name, whether it said "other"."""

    props: tuple[Node, ...]
    lst: Node
    name: str | None
    other: bool = False

    def var(self, position: int) -> str:
        return self.name or f"_{position}"

    def body(self, var: str, *more: Node) -> Node:
        parts = [substitute(p, "%", Var(var)) for p in self.props] + list(more)
        return build_chain("and", parts) if parts else Prim("true")

    def domain(self, subject: Node) -> Node:
        return call("remove", subject, Var(SCENE)) if self.other else self.lst


class Hearing(ValueHearing):
    """Noun phrases and predicates; :class:`~agents.pix2code.explain.listen.Listener` adds clauses."""

    # -- noun phrases ---------------------------------------------------------------------------
    @memo
    def np(self, i: int, plural: bool, other: bool, named: bool) -> list[tuple[NP, int]]:
        """ "[other] large red cube [x] [other than y | among L] [in column 3 and ...]"."""
        out = []
        starts = [(i, False)] + ([(i + 1, True)] if other and self.word(i) == "other" else [])
        for j, said_other in starts:
            props: list[Node] = []
            while (w := self.word(j)) in CONSTANT_CATEGORY and CONSTANT_CATEGORY[w] in _ADJECTIVE_CATEGORIES:
                props.append(call("eq?", call(CONSTANT_CATEGORY[w], IT), Prim(w)))
                j += 1
            w = self.word(j)
            shape = SHAPE_OF_PLURAL.get(w) if plural else (w if w in SHAPES else None)  # type: ignore[arg-type]
            if shape is not None:
                props.append(call("eq?", call("shape", IT), Prim(shape)))
            elif w not in (("objects", "elements") if plural else ("object", "element")):
                self.far = max(self.far, j)
                continue
            j += 1
            names = [(None, j)] + ([(self.name(j), j + 1)] if named and self.name(j) else [])
            for name, k in names:
                for lst, m in self.dom(k):
                    for posts, p in self.posts(m, "%"):
                        out.append((NP(tuple(props + posts), lst, name, said_other), p))
        return out

    @memo
    def dom(self, i: int) -> Parses:
        out: Parses = [(Var(SCENE), i)]
        j = self.at(i, "other", "than")
        if j is not None:
            for refs, k in self.refs(j):
                lst: Node = Var(SCENE)
                for r in reversed(refs):
                    lst = call("remove", r, lst)
                out.append((lst, k))
        j = self.at(i, "among")
        if j is not None:
            out += self.value(j)
        return out

    @memo
    def refs(self, i: int) -> list[tuple[list[Node], int]]:
        """ "x", "x and y", "x, y and z"."""
        out = []
        for r, j in self.ref(i):
            out.append(([r], j))
            for sep in (",", "and"):
                k = self.at(j, sep)
                if k is not None:
                    out += [([r] + rest, m) for rest, m in self.refs(k) if sep == "," or len(rest) == 1]
        return out

    @memo
    def ref(self, i: int) -> Parses:
        if self.name(i):
            return [(Var(self.name(i)), i + 1)]  # type: ignore[arg-type]
        return self.parenthesised(i) if self.word(i) == "(" else []

    @memo
    def posts(self, i: int, subject: str) -> list[tuple[list[Node], int]]:
        out: list[tuple[list[Node], int]] = [([], i)]
        for node, j in self.post(i, subject):
            out.append(([node], j))
            k = self.at(j, "and")
            if k is not None:
                out += [([node] + rest, m) for rest, m in self.posts(k, subject) if rest]
        return out

    @memo
    def post(self, i: int, subject: str) -> Parses:
        """A property after a noun: a "be" complement that is not an adjective, or "with ..."."""
        s = Var(subject)
        out = self.be_post(i, s, quantified=False)
        j = self.at(i, "with")
        if j is not None:
            out += self.have(j, s, quantified=False)
        return out

    # -- predicates -------------------------------------------------------------------------------
    def be_post(self, i: int, s: Node, quantified: bool) -> Parses:
        out: Parses = []
        for attr in ("xbin", "ybin"):
            noun = ATTRIBUTES[attr][0]
            j = self.at(i, "in", noun)
            if j is not None and self.number(j) is not None:
                out.append((call("eq?", call(attr, s), Prim(str(self.number(j)))), j + 1))
            j = self.at(i, "in", "the", "same", noun, "as")
            if j is not None:
                out += self.target(j, s, lambda r, a=attr: call("eq?", call(a, s), call(a, r)), quantified)
        for words in _DIRECTIONS:
            j = self.at(i, *words)
            if j is None:
                continue
            attr, greater = DIRECTION_OF_WORDS[" ".join(words)]
            k = self.at(j, ATTRIBUTES[attr][0])
            if k is not None and self.number(k) is not None:
                n = Prim(str(self.number(k)))
                out.append((call("gt?", call(attr, s), n) if greater else call("gt?", n, call(attr, s)), k + 1))

            def build(r: Node, a: str = attr, g: bool = greater) -> Node:
                return call("gt?", call(a, s), call(a, r)) if g else call("gt?", call(a, r), call(a, s))

            out += self.target(j, s, build, quantified)
        j = self.at(i, "close", "to")
        if j is not None:
            out += self.target(j, s, lambda r: call("closeby", s, r), quantified)
        return out

    def have(self, i: int, s: Node, quantified: bool) -> Parses:
        out: Parses = []
        j = self.at(i, "the", "same")
        if j is not None and self.word(j) in ATTRIBUTE_OF_NOUN and self.at(j + 1, "as") is not None:
            attr = ATTRIBUTE_OF_NOUN[self.word(j)]  # type: ignore[index]
            out += self.target(j + 2, s, lambda r: call("eq?", call(attr, s), call(attr, r)), quantified)
        j = self.at(i, "a")
        if j is not None and self.word(j) in ATTRIBUTE_OF_NOUN:
            attr = ATTRIBUTE_OF_NOUN[self.word(j)]  # type: ignore[index]
            for words, build in (
                (("equal", "to"), lambda v: call("eq?", call(attr, s), v)),
                (("greater", "than"), lambda v: call("gt?", call(attr, s), v)),
                (("less", "than"), lambda v: call("gt?", v, call(attr, s))),
            ):
                k = self.at(j + 1, *words)
                if k is not None:
                    out += [(build(v), m) for v, m in self.value(k)]
        return out

    def target(self, i: int, s: Node, build: Callable[[Node], Node], quantified: bool) -> Parses:
        """What a relation points at: a reference, or (in a predicate) "some/every [other] NP"."""
        out = [(build(r), j) for r, j in self.ref(i)]
        if not quantified:
            return out
        for det, q in (("some", "exists"), ("every", "forall")):
            j = self.at(i, det)
            if j is None:
                continue
            for np, k in self.np(j, False, True, False):
                if q == "forall" and np.props:
                    continue
                z = np.var(j)
                out.append((call(q, Lam((z,), np.body(z, build(Var(z)))), np.domain(s)), k))
        return out

    @memo
    def be_complement(self, i: int, subject: str, plural: bool) -> Parses:
        s = Var(subject)
        out: Parses = []
        w = self.word(i)
        if w in CONSTANT_CATEGORY and CONSTANT_CATEGORY[w] in _ADJECTIVE_CATEGORIES:
            out.append((call("eq?", call(CONSTANT_CATEGORY[w], s), Prim(w)), i + 1))  # type: ignore[arg-type]
        j = i if plural else (self.at(i, "a") or self.at(i, "an"))
        if j is not None:
            for np, k in self.np(j, plural, False, False):
                if np.props and np.lst == Var(SCENE):
                    out.append((np.body(subject), k))
        out += self.be_post(i, s, quantified=True)
        for words, build in (
            (("equal", "to"), lambda v: call("eq?", s, v)),
            (("greater", "than"), lambda v: call("gt?", s, v)),
            (("less", "than"), lambda v: call("gt?", v, s)),
        ):
            k = self.at(i, *words)
            if k is not None:
                out += [(build(v), m) for v, m in self.value(k)]
        return out

    @memo
    def vp_atom(self, i: int, subject: str, plural: bool, bare: bool) -> list[tuple[Node, int, str]]:
        """One predicate: (node about the subject, end, verb); ``bare`` for "is" left out."""
        if subject == PAIR:
            return self.pair_atom(i, bare)
        out: list[tuple[Node, int, str]] = []
        be, neg_be = ("are", "are not") if plural else ("is", "is not")
        heads = [((), False), (("not",), True)] if bare else [((be,), False), (tuple(neg_be.split()), True)]
        for words, negated in heads:
            j = self.at(i, *words) if words else i
            if j is not None:
                out += [(call("not", n) if negated else n, k, "be") for n, k in self.be_complement(j, subject, plural)]
        if bare:
            return out
        for words, negated in (((("have",) if plural else ("has",)), False), (("do" if plural else "does", "not", "have"), True)):
            j = self.at(i, *words)
            if j is not None:
                out += [(call("not", n) if negated else n, k, "have") for n, k in self.have(j, Var(subject), not negated)]
        return out

    def pair_atom(self, i: int, bare: bool) -> list[tuple[Node, int, str]]:
        out: list[tuple[Node, int, str]] = []
        for words, negated in ([((), False), (("not",), True)] if bare else [(("are",), False), (("are", "not"), True)]):
            j = self.at(i, *words) if words else i
            if j is None:
                continue
            for attr in ("xbin", "ybin"):
                k = self.at(j, "in", "the", "same", ATTRIBUTES[attr][0])
                if k is not None:
                    out.append((_neg(call("eq?", call(attr, A1), call(attr, A2)), negated), k, "be"))
            k = self.at(j, "close", "to", "each", "other")
            if k is not None:
                out.append((_neg(call("closeby", A1, A2), negated), k, "be"))
        if bare:
            return out
        for verb, words, build in (
            ("have", ("the", "same"), None),
            ("contain", tuple(ORT.split(" ")), lambda: call("one_red_triangle", call("pair", A1, A2))),
            ("lie", ("on", "a", "line"), lambda: call("online", call("pair", A1, A2))),
        ):
            for lead, negated in (((verb,), False), (("do", "not", verb), True)):
                j = self.at(i, *lead)
                k = self.at(j, *words) if j is not None else None
                if k is None:
                    continue
                if build is not None:
                    out.append((_neg(build(), negated), k, verb))
                elif self.word(k) in ATTRIBUTE_OF_NOUN:
                    a = ATTRIBUTE_OF_NOUN[self.word(k)]  # type: ignore[index]
                    out.append((_neg(call("eq?", call(a, A1), call(a, A2)), negated), k + 1, verb))
        return out

    @memo
    def vps(self, i: int, subject: str, plural: bool) -> Parses:
        """Predicates joined by one connective: "is red or blue", "has ... and is ..."."""
        out: Parses = []
        for node, j, verb in self.vp_atom(i, subject, plural, False):
            out.append((node, j))
            for op in ("and", "or"):
                out += [(build_chain(op, [node] + rest), k) for rest, k in self.vp_tail(j, subject, plural, op, verb)]
        return out

    @memo
    def vp_tail(self, i: int, subject: str, plural: bool, op: str, verb: str) -> list[tuple[list[Node], int]]:
        j = self.at(i, op)
        if j is None:
            return []
        out: list[tuple[list[Node], int]] = []
        for bare in (False, True) if verb == "be" else (False,):
            for node, k, v in self.vp_atom(j, subject, plural, bare):
                out.append(([node], k))
                out += [([node] + rest, m) for rest, m in self.vp_tail(k, subject, plural, op, v)]
        return out

def _neg(node: Node, negated: bool) -> Node:
    return call("not", node) if negated else node


