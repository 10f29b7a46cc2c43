"""The speaker's sentences about several objects at once: pairs of different objects (RelKP's
``some_pair``/``two_pairs``/``three_pairs`` and the same thing spelled out with nested
``exists`` over ``remove``), relations of a whole list ("all objects have the same shape"),
emptiness, and counting ("there are exactly two spheres", "there are more red objects than
cubes")."""

from __future__ import annotations

from agents.pix2code.dsl.types import OBJ
from agents.pix2code.explain.lexicon import ATTRIBUTES, ORDINALS, number_word
from agents.pix2code.explain.nodes import SCENE, App, Lam, Node, Prim, Var, build_chain, chain, head_name, is_call
from agents.pix2code.explain.phrases import ORT, RELATION_NOUNS, VP, Phrase, PhraseMixin, noun_phrase, say_vps


class ListsMixin(PhraseMixin):
    """Needs ``clause`` and ``_single`` from :class:`~agents.pix2code.explain.speak.Speaker`."""

    def all_same(self, lam: Lam, lst: Node) -> str | None:
        """The attribute A of ``forall x in L. forall y in L. (A x) = (A y)``, else None."""
        inner = lam.body
        if is_call(lst, "pair") or not (is_call(inner, "forall", 2) and inner.args[1] == lst and isinstance(inner.args[0], Lam)):  # type: ignore[union-attr]
            return None
        (x,), (y,) = lam.params, inner.args[0].params  # type: ignore[union-attr]
        body = inner.args[0].body  # type: ignore[union-attr]
        if not is_call(body, "eq?", 2) or self.types.get(x) != OBJ:
            return None
        a, b = body.args  # type: ignore[union-attr]
        attr = head_name(a)
        if attr in ("color", "shape", "size") and head_name(b) == attr and {a.args, b.args} == {(Var(x),), (Var(y),)}:  # type: ignore[union-attr]
            return attr
        return None

    # -- pairs ------------------------------------------------------------------------------------
    def nested_pair(self, lam: Lam, lst: Node) -> Phrase | None:
        """exists x in L. exists y in L without x. B: "two different objects" (as ``some_pair``)."""
        inner = lam.body
        if not (is_call(inner, "exists", 2) and isinstance(inner.args[0], Lam)):  # type: ignore[union-attr]
            return None
        if inner.args[1] != App(Prim("remove"), (Var(lam.params[0]), lst)) or self.types.get(lam.params[0]) != OBJ:  # type: ignore[union-attr]
            return None
        rel = Lam(lam.params + inner.args[0].params, inner.args[0].body)  # type: ignore[union-attr]
        return self.some_pair(rel, lst)

    def some_pair(self, rel: Lam, lst: Node) -> Phrase:
        dom = self.domain(lst)
        dom = f" {dom}" if dom else ""
        said = self.pair_vps(rel)
        if said is not None:
            return Phrase(f"there are two different objects{dom} that {said}")
        a, b = (self.bind(p) for p in rel.params)
        c = self.clause(rel.body)
        for p in rel.params:
            self.unbind(p)
        return Phrase(f"there are two different objects {a} and {b}{dom} such that {c.text}", True)

    def pairs(self, node: App) -> Phrase:
        *rels, lst = node.args
        if not all(isinstance(r, Lam) and len(r.params) == 2 for r in rels):
            return Phrase(f"{self.generic(node).closed} is true")
        if len(rels) == 1:
            return self.some_pair(rels[0], lst)  # type: ignore[arg-type]
        dom = self.domain(lst)
        slots = []
        for i, rel in enumerate(rels):
            said = self.pair_vps(rel)  # type: ignore[arg-type]
            if said is not None:
                slots.append(Phrase(f"the objects of the {ORDINALS[i]} pair {said}"))
                continue
            a, b = (self.bind(p) for p in rel.params)  # type: ignore[union-attr]
            c = self.clause(rel.body)  # type: ignore[union-attr]
            for p in rel.params:  # type: ignore[union-attr]
                self.unbind(p)
            slots.append(Phrase(f"in the {ORDINALS[i]} pair {a} and {b}, {c.text}", True))
        text = " and ".join(s.closed if i < len(slots) - 1 else s.text for i, s in enumerate(slots))
        count = number_word(len(rels))
        return Phrase(f"there are {count} disjoint pairs of different objects{' ' + dom if dom else ''} such that {text}", slots[-1].open)

    def pair_vps(self, rel: Lam) -> str | None:
        a, b = rel.params
        for op in ("and", "or"):
            parts = chain(rel.body, op)
            if len(parts) > 1 or op == "or":
                vps = [self.pair_vp(p, a, b) for p in parts]
                return None if any(v is None for v in vps) else say_vps(vps, op, plural=True)  # type: ignore[arg-type]
        return None

    def pair_vp(self, node: Node, a: str, b: str) -> VP | None:
        h = head_name(node)
        both = {Var(a), Var(b)}
        if h == "not":
            inner = self.pair_vp(node.args[0], a, b)  # type: ignore[union-attr]
            return inner.negate() if inner is not None and not inner.negated else None
        if h == "eq?":
            x, y = node.args  # type: ignore[union-attr]
            attr = head_name(x)
            if attr in ATTRIBUTES and head_name(y) == attr and {x.args[0], y.args[0]} == both and len(x.args) == len(y.args) == 1:  # type: ignore[union-attr]
                noun = ATTRIBUTES[attr][0]
                if attr in ("xbin", "ybin"):
                    return VP("be", f"in the same {noun}", f"in the same {noun}")
                return VP("have", f"the same {noun}", f"the same {noun}")
            return None
        if h == "closeby" and set(node.args) == both and len(node.args) == 2:  # type: ignore[union-attr]
            return VP("be", "close to each other", "close to each other")
        if h == "one_red_triangle" and is_call(node.args[0], "pair", 2) and set(node.args[0].args) == both:  # type: ignore[union-attr]
            return VP("contain", ORT, ORT)
        if h == "online" and is_call(node.args[0], "pair", 2) and set(node.args[0].args) == both:  # type: ignore[union-attr]
            return VP("lie", "on a line", "on a line")
        return None

    # -- relations of a list, emptiness -------------------------------------------------------
    def list_subject(self, lst: Node) -> str:
        if lst == Var(SCENE):
            return "the objects"
        if is_call(lst, "pair", 2):
            return f"{self.ref(lst.args[0])} and {self.ref(lst.args[1])}"  # type: ignore[union-attr]
        others = self.others(lst)
        return f"the objects {others}" if others else f"the elements of {self.value(lst).closed}"

    def list_relation(self, node: Node, negated: bool) -> Phrase | None:
        h = head_name(node)
        if h in RELATION_NOUNS and len(node.args) == 1:  # type: ignore[union-attr]
            lst = node.args[0]  # type: ignore[union-attr]
            noun = RELATION_NOUNS[h]
            subject = self.list_subject(lst)
            subject = "objects" + subject[len("the objects"):] if subject.startswith("the objects") else subject[len("the "):]
            return Phrase(f"{'not all' if negated else 'all'} {subject} have the same {noun}")
        if h == "one_red_triangle" and len(node.args) == 1:  # type: ignore[union-attr]
            return Phrase(f"{self.list_subject(node.args[0])} {'do not contain' if negated else 'contain'} {ORT}")  # type: ignore[union-attr]
        if h == "online" and len(node.args) == 1:  # type: ignore[union-attr]
            return Phrase(f"{self.list_subject(node.args[0])} {'do not lie' if negated else 'lie'} on a line")  # type: ignore[union-attr]
        return None

    def emptiness(self, lst: Node) -> Phrase:
        if lst == Var(SCENE) or self.others(lst) is not None:
            dom = self.domain(lst)
            return Phrase(f"there are no objects{' ' + dom if dom else ''}")
        return Phrase(f"{self.value(lst).closed} is empty")

    # -- counting -------------------------------------------------------------------------------
    def counted(self, node: Node) -> tuple[str, Phrase] | None:
        """What a count counts, as (singular, plural) noun phrases: "red object", "red objects"."""
        h = head_name(node)
        if h == "length":
            lst = node.args[0]  # type: ignore[union-attr]
            if self.type_of(lst).args != (OBJ,):  # type: ignore[union-attr]
                return None
            dom = self.domain(lst)
            return f"object{' ' + dom if dom else ''}", Phrase(f"objects{' ' + dom if dom else ''}")
        if h != "count" or not is_call(node.args[0], "map", 2):  # type: ignore[union-attr]
            return None
        (lam, lst), value = node.args[0].args, node.args[1]  # type: ignore[union-attr]
        if not isinstance(lam, Lam) or self.types.get(lam.params[0]) != OBJ:
            return None
        s = lam.params[0]
        if value == Prim("true"):
            body = lam.body
        elif head_name(lam.body) in ATTRIBUTES and lam.body.args == (Var(s),):  # type: ignore[union-attr]
            body = App(Prim("eq?"), (lam.body, value))
        else:
            return None
        dom = self.domain(lst)
        props, rest = self.props(body, s)
        if not rest:
            return noun_phrase(props, "object", dom=dom), Phrase(noun_phrase(props, "object", dom=dom, plural=True))
        if value != Prim("true"):
            return None
        vps = self.vp_chain(build_chain("and", rest), s) or self._single(build_chain("and", rest), s)
        if vps is not None:
            sg, pl = noun_phrase(props, "object", dom=dom), noun_phrase(props, "object", dom=dom, plural=True)
            return f"{sg} that {say_vps(*vps)}", Phrase(f"{pl} that {say_vps(vps[0], vps[1], plural=True)}")
        name = self.bind(s)
        c = self.clause(build_chain("and", rest))
        self.unbind(s)
        sg = noun_phrase(props, "object", name=name, dom=dom)
        pl = noun_phrase(props, "object", name=name, dom=dom, plural=True)
        return f"{sg} such that {c.text}", Phrase(f"{pl} such that {c.text}", True)

    def counting(self, op: str, a: Node, b: Node) -> Phrase | None:
        ca, cb = self.counted(a), self.counted(b)
        digits = {Prim(str(i)): i for i in range(10)}
        if ca is not None and b in digits or cb is not None and a in digits:
            sg, pl = ca if ca is not None and b in digits else cb  # type: ignore[misc]
            n = digits[b] if ca is not None and b in digits else digits[a]
            counted, verb = (sg, "is") if n == 1 else (pl.text, "are")
            if op == "eq?":
                return Phrase(f"there {verb} exactly {number_word(n)} {counted}", pl.open)
            more = ca is not None and b in digits
            return Phrase(f"there {verb} {'more' if more else 'fewer'} than {number_word(n)} {counted}", pl.open)
        if ca is not None and cb is not None and not ca[1].open:
            if op == "eq?":
                return Phrase(f"there are as many {ca[1].text} as {cb[1].text}", cb[1].open)
            return Phrase(f"there are more {ca[1].text} than {cb[1].text}", cb[1].open)
        return None
