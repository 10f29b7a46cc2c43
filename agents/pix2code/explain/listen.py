"""The reader's clauses: the inverse of :mod:`~agents.pix2code.explain.speak`, template by template.

:meth:`Listener.clause` returns every parse of a clause starting at a position; connectives
are flat chains ("A and B and C"), a chain of the other connective nested as the last part is
marked "either"/"both", anything else nested is parenthesised — as the speaker writes them.
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.pix2code.dsl.inference import type_scheme
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.types import BOOL, TCon, arguments, returns
from agents.pix2code.explain.hear import IT, NP, PAIR, Hearing, Parses, memo
from agents.pix2code.explain.infer import VOCABULARY
from agents.pix2code.explain.lexicon import ATTRIBUTE_OF_NOUN, ATTRIBUTES, ORDINALS, PLACEHOLDERS, tokens
from agents.pix2code.explain.nodes import App, Inv, Lam, Node, Prim, Var, build_chain, call, substitute, walk
from agents.pix2code.explain.phrases import ORT

_RELATIONS = {"colour": "same_color", "color": "same_color", "shape": "same_shape", "size": "same_size"}


class Listener(Hearing):
    def __init__(self, words: list[str], templates: Mapping[str, tuple[str, str]] | None = None) -> None:
        super().__init__(words)
        self.templates: list[tuple] = []  # (invention text, pattern tokens, parameter types, returns bool)
        self.names: dict[str, str] = {}
        for text, (name, description) in (templates or {}).items():
            scheme = type_scheme(parse(text, VOCABULARY))  # type: ignore[arg-type]
            params = arguments(scheme)
            pattern = [w if w in PLACEHOLDERS else w.lower() for w in tokens(description, keep_case=True)]
            self.names[name.lower()] = text
            if not any(isinstance(p, TCon) and p.is_arrow for p in params):  # usable templates only
                self.templates.append((text, pattern, params, returns(scheme) == BOOL))

    # -- chains -----------------------------------------------------------------------------------
    @memo
    def clause(self, i: int) -> Parses:
        out: Parses = []
        for e, j in self.element(i):
            out.append((e, j))
            if self.closed(e, j):
                for op in ("and", "or"):
                    out += [(build_chain(op, [e] + rest), k) for rest, k in self.tail(j, op)]
        return out

    @memo
    def tail(self, i: int, op: str) -> list[tuple[list[Node], int]]:
        j = self.at(i, op)
        if j is None:
            return []
        out: list[tuple[list[Node], int]] = []
        for e, k in self.element(j):
            out.append(([e], k))
            if self.closed(e, k):
                out += [([e] + rest, m) for rest, m in self.tail(k, op)]
        other = "or" if op == "and" else "and"
        k = self.at(j, "either" if other == "or" else "both")
        if k is not None:
            for e, m in self.element(k):
                if self.closed(e, m):
                    out += [([build_chain(other, [e] + rest)], p) for rest, p in self.tail(m, other)]
        return out

    @memo
    def element(self, i: int) -> Parses:
        return self.element_base(i) + self.templated(i, "clause")

    @memo
    def element_base(self, i: int) -> Parses:
        out: Parses = []
        w = self.word(i)
        if w == "(":
            out += self.parenthesised(i)
            for args, k in self.pattern(i, "( if {c} then {c} , otherwise {c} )".split(" ")):
                out.append((call("if", *args), k))
            for (a, b), k in self.pattern(i, "( {c} ) if and only if ( {c} )".split(" ")):
                out.append((call("eq?", a, b), k))
        if w == "true":
            out.append((Prim("true"), i + 1))
        if w == "false":
            out.append((call("not", Prim("true")), i + 1))
        j = self.at(i, "it", "is", "not", "the", "case", "that")
        if j is not None:
            out += self.opening([(call("not", c), k) for c, k in self.clause(j)])
        if w == "there":
            out += self.there(i + 1)
        for det, build in (("some", _exists), ("every", _forall), ("no", _no)):
            j = self.at(i, det)
            if j is not None:
                out += self.quantified(j, build)
        j = self.at(i, "not", "every")
        if j is not None:
            out += [(call("not", n), k) for n, k in self.quantified(j, _forall)]
        j = self.at(i, "for", "every")
        if j is not None and self.word(j) in ("object", "element") and self.name(j + 1):
            for lst, k in self.dom(j + 2):
                m = self.at(k, ",")
                if m is not None:
                    out += self.opening([(_forall(self.t[j + 1], c, lst), p) for c, p in self.clause(m)])
        out += self.list_clause(i)
        out += self.about(i)
        return out

    # -- "there is/are ..." -------------------------------------------------------------------
    def there(self, i: int) -> Parses:
        out: Parses = []
        j = self.at(i, "is")
        if j is not None:
            k = self.at(j, "no")
            if k is not None:
                out += [(call("not", n), m) for n, m in self.described(k, False)]
            for a in ("a", "an"):
                k = self.at(j, a)
                if k is not None:
                    out += self.described(k, False)
            for words, build in ((("exactly", "one"), lambda c: call("eq?", c, Prim("1"))),
                                 (("more", "than", "one"), lambda c: call("gt?", c, Prim("1"))),
                                 (("fewer", "than", "one"), lambda c: call("gt?", Prim("1"), c))):
                k = self.at(j, *words)
                if k is not None:
                    out += [(build(c), m) for c, m in self.counted(k, False)]
        j = self.at(i, "are")
        if j is None:
            return out
        for word, build in (("exactly", lambda c, n: call("eq?", c, n)), ("more", lambda c, n: call("gt?", c, n)),
                            ("fewer", lambda c, n: call("gt?", n, c))):
            k = self.at(j, word) if word == "exactly" else self.at(j, word, "than")
            if k is not None and self.number(k) is not None:
                n = Prim(str(self.number(k)))
                out += [(build(c, n), m) for c, m in self.counted(k + 1, True)]
        k = self.at(j, "as", "many")
        if k is not None:
            for a, m in self.counted(k, True):
                p = self.at(m, "as")
                if p is not None:
                    out += [(call("eq?", a, b), q) for b, q in self.counted(p, True)]
        k = self.at(j, "more")
        if k is not None:
            for a, m in self.counted(k, True):
                p = self.at(m, "than")
                if p is not None:
                    out += [(call("gt?", a, b), q) for b, q in self.counted(p, True)]
        k = self.at(j, "no", "objects")
        if k is not None:
            out += [(call("empty?", lst), m) for lst, m in self.dom(k) if self.word(k) != "among"]
        k = self.at(j, "two", "different", "objects")
        if k is not None:
            out += self.some_pair(k)
        for count, name in ((2, "two_pairs"), (3, "three_pairs")):
            k = self.at(j, ("two", "three")[count - 2], "disjoint", "pairs", "of", "different", "objects")
            if k is not None:
                out += self.disjoint_pairs(k, count, name)
        return out

    def quantified(self, i: int, build) -> Parses:  # type: ignore[no-untyped-def]
        """ "[other] object [other than x] VP" after some / every / no."""
        out: Parses = []
        for np, j in self.np(i, False, False, False):
            z = np.var(i)
            for vp, k in self.vps(j, "@", False):
                out.append((build(z, np.body(z, substitute(vp, "@", Var(z))), np.lst), k))
        return out

    def restricted(self, i: int, plural: bool) -> list[tuple[NP, str, Node | None, int, bool]]:
        """A noun phrase and what restricts it further: (np, its variable, the "that VP" /
        "such that C" condition or None, end, whether it ends in a bare clause)."""
        out: list[tuple[NP, str, Node | None, int, bool]] = []
        for np, j in self.np(i, plural, False, True):
            z = np.var(i)
            if np.name is None:
                out.append((np, z, None, j, False))
                k = self.at(j, "that")
                if k is not None:
                    out += [(np, z, substitute(vp, "@", Var(z)), m, False) for vp, m in self.vps(k, "@", plural)]
            else:
                k = self.at(j, "such", "that")
                if k is not None:
                    out += [(np, z, c, m, True) for c, m in self.clause(k)]
        return out

    def described(self, i: int, plural: bool) -> Parses:
        """ "red cube [other than x] [in column 3] [that VP | x such that C]" as an ``exists``."""
        parses = [(_exists(z, np.body(z, *([c] if c else [])), np.lst), m, o) for np, z, c, m, o in self.restricted(i, plural)]
        self.opened.update((m, n) for n, m, o in parses if o)
        return [(n, m) for n, m, _ in parses]

    def counted(self, i: int, plural: bool) -> Parses:
        """What "the number of ..." counts: length, count of an attribute, or count of true."""
        parses = [(_count(z, np, c), m, o) for np, z, c, m, o in self.restricted(i, plural)]
        self.opened.update((m, n) for n, m, o in parses if o)
        return [(n, m) for n, m, _ in parses]

    # -- pairs ------------------------------------------------------------------------------------
    def pair_relation(self, i: int, first: int) -> Parses:
        """ "that PVP" or "x and y such that C" (after the domain), as a two-parameter λ."""
        out: Parses = []
        k = self.at(i, "that")
        if k is not None:
            a, b = f"_{first}a", f"_{first}b"
            for vp, m in self.vps(k, PAIR, True):
                out.append((Lam((a, b), substitute(substitute(vp, "@1", Var(a)), "@2", Var(b))), m))
        return out

    def some_pair(self, i: int) -> Parses:
        out: Parses = []
        names = [(None, i)]
        if self.name(i) and self.at(i + 1, "and") is not None and self.name(i + 2):
            names.append(((self.t[i], self.t[i + 2]), i + 3))  # type: ignore[arg-type]
        for pair, j in names:
            for lst, k in self.dom(j):
                if pair is None:
                    out += [(call("some_pair", rel, lst), m) for rel, m in self.pair_relation(k, i)]
                    continue
                m = self.at(k, "such", "that")
                if m is not None:
                    out += self.opening([(call("some_pair", Lam(pair, c), lst), p) for c, p in self.clause(m)])
        return out

    def disjoint_pairs(self, i: int, count: int, name: str) -> Parses:
        out: Parses = []
        for lst, j in self.dom(i):
            k = self.at(j, "such", "that")
            if k is None:
                continue
            states: list[tuple[list[Node], int]] = [([], k)]
            for slot in range(count):
                nxt = []
                for rels, m in states:
                    if slot and not self.closed(rels[-1], m):
                        continue
                    m = self.at(m, "and") if slot else m
                    if m is not None:
                        nxt += [(rels + [rel], p) for rel, p in self.pair_slot(m, slot)]
                states = nxt
            out += [(call(name, *rels, lst), m) for rels, m in states]
        return out

    @memo
    def pair_slot(self, i: int, slot: int) -> Parses:
        out: Parses = []
        j = self.at(i, "the", "objects", "of", "the", ORDINALS[slot], "pair")
        if j is not None:
            a, b = f"_{i}a", f"_{i}b"
            for vp, m in self.vps(j, PAIR, True):
                out.append((Lam((a, b), substitute(substitute(vp, "@1", Var(a)), "@2", Var(b))), m))
        j = self.at(i, "in", "the", ORDINALS[slot], "pair")
        if j is not None and self.name(j) and self.at(j + 1, "and") is not None and self.name(j + 2):
            k = self.at(j + 3, ",")
            if k is not None:
                out += self.opening([(Lam((self.t[j], self.t[j + 2]), c), m) for c, m in self.clause(k)])
        j = self.at(i, "(")
        if j is not None:
            out += [(rel, k + 1) for rel, k in self.pair_slot(j, slot) if self.at(k, ")") is not None]
        return out

    # -- relations of a list, named subjects, comparisons --------------------------------------
    def list_subject(self, i: int) -> list[tuple[Node, int, bool]]:
        """ "the objects [other than x]", "x and y" (a pair: True), "the elements of L"."""
        out: list[tuple[Node, int, bool]] = []
        j = self.at(i, "the", "objects")
        if j is not None:
            out += [(lst, k, False) for lst, k in self.dom(j) if self.word(j) != "among"]
        for r, j in self.ref(i):
            k = self.at(j, "and")
            if k is not None:
                out += [(call("pair", r, r2), m, True) for r2, m in self.ref(k)]
        j = self.at(i, "the", "elements", "of")
        if j is not None:
            out += [(lst, k, False) for lst, k in self.value(j)]
        return out

    def list_clause(self, i: int) -> Parses:
        out: Parses = []
        for words, negated in ((("all",), False), (("not", "all"), True)):
            j = self.at(i, *words)
            if j is None:
                continue
            subjects = []
            k = self.at(j, "objects")
            if k is not None:
                subjects += [(lst, m) for lst, m in self.dom(k) if self.word(k) != "among"]
            k = self.at(j, "elements", "of")
            if k is not None:
                subjects += self.value(k)
            for lst, m in subjects:
                p = self.at(m, "have", "the", "same")
                if p is not None and self.word(p) in _RELATIONS:
                    out.append((_not(call(_RELATIONS[self.word(p)], lst), negated), p + 1))  # type: ignore[index]
        for lst, j, is_pair in self.list_subject(i):
            for verb, words, build in (("contain", tuple(ORT.split(" ")), "one_red_triangle"), ("lie", ("on", "a", "line"), "online")):
                for lead, negated in (((verb,), False), (("do", "not", verb), True)):
                    k = self.at(j, *lead)
                    if k is not None and (m := self.at(k, *words)) is not None:
                        out.append((_not(call(build, lst), negated), m))
            for lead, negated in ((("have", "the", "same"), False), (("do", "not", "have", "the", "same"), True)):
                k = self.at(j, *lead)
                if k is not None and is_pair and self.word(k) in ATTRIBUTE_OF_NOUN:
                    attr = ATTRIBUTE_OF_NOUN[self.word(k)]  # type: ignore[index]
                    a, b = lst.args  # type: ignore[union-attr]
                    out.append((_not(call("eq?", call(attr, a), call(attr, b)), negated), k + 1))
        return out

    def about(self, i: int) -> Parses:
        """A named subject's predicate ("x is red"), a comparison of values, "V is true/empty"."""
        out: Parses = []
        for r, j in self.ref(i):
            out += [(substitute(vp, "@", r), k) for vp, k in self.vps(j, "@", False)]
        for v, j in self.value_base(i):
            for words, build in ((("is", "equal", "to"), lambda a, b: call("eq?", a, b)),
                                 (("is", "not", "equal", "to"), lambda a, b: call("not", call("eq?", a, b))),
                                 (("is", "greater", "than"), lambda a, b: call("gt?", a, b)),
                                 (("is", "not", "greater", "than"), lambda a, b: call("not", call("gt?", a, b)))):
                k = self.at(j, *words)
                if k is not None:
                    out += [(build(v, w), m) for w, m in self.value(k)]
            k = self.at(j, "is", "true")
            if k is not None:
                out.append((v, k))
            k = self.at(j, "is", "empty")
            if k is not None:
                out.append((call("empty?", v), k))
            k = self.at(j, "is", "close", "to")
            if k is not None:
                out += [(call("closeby", v, w), m) for w, m in self.ref(k)]
            k = self.at(j, "is", "not", "close", "to")
            if k is not None:
                out += [(call("not", call("closeby", v, w)), m) for w, m in self.ref(k)]
        return out

    # -- named inventions -------------------------------------------------------------------------
    @memo
    def templated(self, i: int, category: str) -> Parses:
        out: Parses = []
        for text, pattern, params, is_clause in self.templates:
            if is_clause != (category == "clause"):
                continue
            states: list[tuple[list[Node], int]] = [([], i)]
            for token in pattern:
                nxt = []
                for args, j in states:
                    if token in PLACEHOLDERS:
                        bool_slot = params[PLACEHOLDERS.index(token)] == BOOL
                        if j == i:
                            parses = self.element_base(j) if bool_slot else self.value_base(j)
                        else:
                            parses = self.element(j) if bool_slot else self.value(j)
                        nxt += [(args + [(token, n)], k) for n, k in parses]
                    elif (k := self.at(j, token)) is not None:
                        nxt.append((args, k))
                states = nxt
            for args, j in states:
                filled = dict(args)
                if len(filled) == len(params) and all(filled.get(p) == n for p, n in args):
                    out.append((App(Inv(text), tuple(filled[p] for p in PLACEHOLDERS[: len(params)])), j))
        return out

    def invention_names(self, i: int) -> Parses:
        w = self.word(i)
        return [(Inv(self.names[w]), i + 1)] if w in self.names else []


def _exists(z: str, body: Node, lst: Node) -> Node:
    return call("exists", Lam((z,), body), lst)


def _forall(z: str, body: Node, lst: Node) -> Node:
    return call("forall", Lam((z,), body), lst)


def _no(z: str, body: Node, lst: Node) -> Node:
    return call("not", _exists(z, body, lst))


def _not(node: Node, negated: bool) -> Node:
    return call("not", node) if negated else node


def _count(z: str, np: NP, extra: Node | None) -> Node:
    """length / count of an attribute value / count of true, as the speaker says them."""
    if extra is None and not np.props:
        return call("length", np.lst)
    if extra is None and len(np.props) == 1:
        prop = np.props[0]
        head = prop.head.name if isinstance(prop, App) and isinstance(prop.head, Prim) else None  # type: ignore[union-attr]
        if head == "eq?":
            attr, value = prop.args  # type: ignore[union-attr]
            if isinstance(attr, App) and attr.args == (IT,) and attr.head.name in ATTRIBUTES and IT not in _vars(value):  # type: ignore[union-attr]
                return call("count", call("map", Lam((z,), call(attr.head.name, Var(z))), np.lst), value)  # type: ignore[union-attr]
    body = np.body(z, extra) if extra is not None else np.body(z)
    return call("count", call("map", Lam((z,), body), np.lst), Prim("true"))


def _vars(node: Node) -> set[Node]:
    return {n for n in walk(node) if isinstance(n, Var)}


