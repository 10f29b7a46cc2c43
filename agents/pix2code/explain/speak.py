"""The speaker: a normal-form program (:mod:`~agents.pix2code.explain.nodes`) as one sentence.

Each construct has a few templates, tried from the most natural to the most general:

* quantifiers: "there is a red metal cube", "some object other than x is to the left of
  column 3", "every object has the same shape as some cylinder", "no object is red", and, when
  the body needs its variable by name, "there is a red object x such that ..." / "for every
  object x, ...";
* pairs of objects: "there are two different objects that have the same colour", RelKP's
  disjoint pairs; relations of a list: "all objects have the same shape";
* counting: "there are exactly two spheres", "there are more red objects than cubes";
* a named object: "x is red", "x is to the right of y", "x is not close to y";
* connectives: "A and B", "A or either B or C", "it is not the case that ...";
* everything else compositionally: "V is equal to W", "(the first element of ...) is true".

Chains put closed parts first and parenthesise open parts that more words follow (see
:class:`~agents.pix2code.explain.phrases.Phrase`), so each sentence reads back one way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agents.pix2code.dsl.types import OBJ, Type
from agents.pix2code.explain.lexicon import ATTRIBUTES, DIRECTIONS, PLACEHOLDERS
from agents.pix2code.explain.nodes import SCENE, App, Inv, Lam, Node, Prim, Var, build_chain, chain, free_vars, head_name, is_call
from agents.pix2code.explain.phrases import VP, Phrase, noun_phrase, say_vps
from agents.pix2code.explain.speak_lists import ListsMixin

#: predicates whose object can be "some ..." / "every ...": the reader knows these
_RELATIONAL = re.compile(
    r"^(the same \w+ as|in the same \w+ as|close to|" + "|".join(DIRECTIONS.values()) + ") \x00$"
)


class Speaker(ListsMixin):
    def __init__(self, types: Mapping[str, Type], templates: Mapping[str, tuple[str, str]] | None = None, display: Mapping[str, str] | None = None) -> None:
        self.types = dict(types)
        self.templates = dict(templates or {})
        self.display = dict(display or {})

    # -- clauses --------------------------------------------------------------------------------
    def clause(self, node: Node) -> Phrase:
        h = head_name(node)
        if h in ("and", "or") and len(node.args) == 2:  # type: ignore[union-attr]
            return self.connective(node, h)
        if h == "not" and len(node.args) == 1:  # type: ignore[union-attr]
            return self.negation(node.args[0])  # type: ignore[union-attr]
        if node == Prim("true"):
            return Phrase("true")
        if h in ("exists", "forall") and isinstance(node.args[0], Lam):  # type: ignore[union-attr]
            return self.quantified(node)  # type: ignore[arg-type]
        if h in ("some_pair", "two_pairs", "three_pairs"):
            return self.pairs(node)  # type: ignore[arg-type]
        said = self.list_relation(node, negated=False)
        if said is not None:
            return said
        if h in ("eq?", "gt?", "closeby"):
            return self.comparison(node, negated=False)  # type: ignore[arg-type]
        if h == "empty?":
            return self.emptiness(node.args[0])  # type: ignore[union-attr]
        if h == "if" and len(node.args) == 3:  # type: ignore[union-attr]
            c, a, b = (self.clause(x) for x in node.args)  # type: ignore[union-attr]
            return Phrase(f"(if {c.closed} then {a.closed}, otherwise {b.text})")
        if isinstance(node, App) and isinstance(node.head, Inv):
            template = self.template(node)
            if template is not None:
                return template
        said = self.value_of_bool(node)
        return Phrase(said if said in PLACEHOLDERS else f"{said} is true")

    def value_of_bool(self, node: Node) -> str:
        if isinstance(node, Var) and self.display.get(node.name) in PLACEHOLDERS:  # a description's "A"
            return self.display[node.name]
        if isinstance(node, Var):
            return self.display.get(node.name, node.name)
        return self.generic(node).closed

    def connective(self, node: Node, op: str) -> Phrase:
        other = "or" if op == "and" else "and"
        parts = [self.about(p, op) if isinstance(p, list) else (p, self.clause(p)) for p in self.runs(chain(node, op))]
        parts.sort(key=lambda pp: pp[1].open)  # closed parts first: only the last may stay open
        words = []
        for i, (part, phrase) in enumerate(parts):
            nested = head_name(part) == other and phrase.open  # a chain, not one run about one object
            if i == len(parts) - 1:
                words.append(("either " if other == "or" else "both ") + phrase.text if nested else phrase.text)
            else:
                words.append(f"({phrase.text})" if nested or phrase.open else phrase.text)
        return Phrase(f" {op} ".join(words), len(parts) > 1 or parts[0][1].open)

    def runs(self, parts: list[Node]) -> list:
        """Consecutive parts about one named object, to be said as one predicate chain
        ("x is a red triangle", "y is not red and is not a triangle"), as [subject, part, ...]."""
        out: list = []
        for part in parts:
            subjects = [s for s in self._subjects(part) if self._plain(part, s)]
            last = out[-1] if out and isinstance(out[-1], list) else None
            if last is not None and last[0] in subjects:
                last.append(part)
            else:
                out.append([subjects[0], part] if subjects else part)
        return [p[1] if isinstance(p, list) and len(p) == 2 else p for p in out]

    def _plain(self, node: Node, s: str) -> bool:
        vp = self.property_vp(node, s)
        return vp is not None and not vp.quantified

    def about(self, run: list, op: str) -> tuple[Node, Phrase]:
        """A run [subject, part, part, ...] as "x VP op VP"."""
        s, parts = run[0], run[1:]
        vps = self.vp_chain(build_chain(op, parts), s)
        assert vps is not None
        return build_chain(op, parts), Phrase(f"{self.display[s]} {say_vps(*vps)}")

    def negation(self, inner: Node) -> Phrase:
        h = head_name(inner)
        if inner == Prim("true"):
            return Phrase("false")
        if h == "exists" and isinstance(inner.args[0], Lam):  # type: ignore[union-attr]
            return self.no(inner.args[0], inner.args[1])  # type: ignore[union-attr, arg-type]
        if h == "forall" and isinstance(inner.args[0], Lam):  # type: ignore[union-attr]
            lam, lst = inner.args  # type: ignore[union-attr]
            said = self.every(lam, lst, negated=True)  # type: ignore[arg-type]
            if said is not None:
                return said
        said = self.list_relation(inner, negated=True)
        if said is not None:
            return said
        if h in ("eq?", "gt?", "closeby"):
            said = self.comparison(inner, negated=True)  # type: ignore[arg-type]
            if said is not None:
                return said
        c = self.clause(inner)
        return Phrase(f"it is not the case that {c.text}", True)

    # -- quantifiers ----------------------------------------------------------------------------
    def quantified(self, node: App) -> Phrase:
        lam, lst = node.args
        assert isinstance(lam, Lam)
        if head_name(node) == "forall":
            same = self.all_same(lam, lst)
            if same is not None:
                return Phrase(f"all {self.list_subject(lst)[len('the '):]} have the same {ATTRIBUTES[same][0]}")
            if is_call(lam.body, "not", 1):
                return self.no(Lam(lam.params, lam.body.args[0]), lst)  # type: ignore[union-attr]
            said = self.every(lam, lst, negated=False)
            if said is not None:
                return said
            name = self.bind(lam.params[0])
            c = self.clause(lam.body)
            self.unbind(lam.params[0])
            dom = self.domain(lst)
            return Phrase(f"for every {self.noun(lam.params[0])} {name}{' ' + dom if dom else ''}, {c.text}", True)
        pair = self.nested_pair(lam, lst)
        if pair is not None:
            return pair
        return self.some(lam, lst, det="a")

    def some(self, lam: Lam, lst: Node, det: str) -> Phrase:
        """ "there is a red cube [that VP | x such that C]" (det "a") or "there is no ..." (det "no")."""
        (s,) = lam.params
        dom, noun = self.domain(lst), self.noun(s)
        props, rest = self.props(lam.body, s)
        lead = "there is"
        if not rest:
            return Phrase(f"{lead} {noun_phrase(props, noun, det, dom=dom)}")
        vps = self.vp_chain(build_chain("and", rest), s)
        if vps is not None:
            if not props:
                return Phrase(f"{'some' if det == 'a' else 'no'} {noun}{' ' + dom if dom else ''} {say_vps(*vps)}")
            return Phrase(f"{lead} {noun_phrase(props, noun, det, dom=dom)} that {say_vps(*vps)}")
        name = self.bind(s)
        c = self.clause(build_chain("and", rest))
        self.unbind(s)
        return Phrase(f"{lead} {noun_phrase(props, noun, det, name=name, dom=dom)} such that {c.text}", True)

    def no(self, lam: Lam, lst: Node) -> Phrase:
        return self.some(lam, lst, det="no")

    def every(self, lam: Lam, lst: Node, negated: bool) -> Phrase | None:
        (s,) = lam.params
        vps = self.vp_chain(lam.body, s) or self._single(lam.body, s)
        if vps is None:
            return None
        dom = self.domain(lst)
        return Phrase(f"{'not every' if negated else 'every'} {self.noun(s)}{' ' + dom if dom else ''} {say_vps(*vps)}")

    def _single(self, node: Node, s: str) -> tuple[list[VP], str] | None:
        vp = self.property_vp(node, s)
        return ([vp], "and") if vp is not None else None

    def quantified_vp(self, node: App, s: str) -> VP | None:
        """ "has the same shape as some cylinder": a relation of ``s`` to some (every) object."""
        lam, lst = node.args
        if not isinstance(lam, Lam) or len(lam.params) != 1 or self.types.get(lam.params[0]) != OBJ:
            return None
        (z,) = lam.params
        other = is_call(lst, "remove", 2) and lst.args == (Var(s), Var(SCENE))  # type: ignore[union-attr]
        if not other and s in free_vars(lst):
            return None
        parts = chain(lam.body, "and")
        rest = [p for p in parts if s in free_vars(p)]
        plain = [p for p in parts if s not in free_vars(p)]
        props, extra = self.props(build_chain("and", plain), z) if plain else ([], [])
        if len(rest) != 1 or extra or (props and head_name(node) == "forall"):
            return None
        self.display[z] = "\x00"
        vp = self.property_vp(rest[0], s)
        self.unbind(z)
        if vp is None or vp.slot != "post" or vp.sg.count("\x00") != 1 or not _RELATIONAL.match(vp.sg):
            return None
        det = "some" if head_name(node) == "exists" else "every"
        dom = "" if other else self.domain(lst)
        np = noun_phrase(props, "object", det, dom=dom, other=other)
        return VP(vp.verb, vp.sg.replace("\x00", np), vp.pl.replace("\x00", np), quantified=True)

    # -- comparisons --------------------------------------------------------------------------
    def comparison(self, node: App, negated: bool) -> Phrase | None:
        h = head_name(node)
        a, b = node.args
        if not negated and h in ("eq?", "gt?"):
            said = self.counting(h, a, b)
            if said is not None:
                return said
        for subject in self._subjects(node):
            vp = self.property_vp(node, subject)
            if vp is not None and not vp.quantified:
                return Phrase(f"{self.display[subject]} {(vp.negate() if negated else vp).say()}")
        if h == "closeby":
            return Phrase(f"{self.ref(a)} is {'not ' if negated else ''}close to {self.ref(b)}")
        if h == "eq?" and self.is_bool(a):
            if negated:
                return None
            left, right = (self.clause(x).text for x in (a, b))
            return Phrase(f"({left}) if and only if ({right})")
        relation = "equal to" if h == "eq?" else "greater than"
        return Phrase(f"{self.value(a).closed} is {'not ' if negated else ''}{relation} {self.value(b).closed}")

    def _subjects(self, node: Node) -> list[str]:
        """Named object variables an atom could be said of, left to right."""
        out: list[str] = []

        def visit(n: Node) -> None:
            if isinstance(n, Var):
                if n.name in self.display and self.types.get(n.name) == OBJ and n.name not in out:
                    out.append(n.name)
            elif isinstance(n, App):
                for x in n.args:
                    visit(x)

        visit(node)
        return out
