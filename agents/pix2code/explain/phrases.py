"""The speaker's phrases below the clause: predicates (VPs), noun phrases, values, lists and the
generic parenthesised forms every term has.

A :class:`Phrase` remembers whether it is *open*: whether it ends in an unbracketed clause
that would swallow a following "and ..." ("there is an object x such that x is red"). Every
slot that more words follow is closed by wrapping an open phrase in parentheses, and generic
forms are parenthesised themselves; that is what makes the English parse back one way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agents.pix2code.dsl.primitives import CATEGORIES, SPECS
from agents.pix2code.dsl.types import BOOL, OBJ, Type, returns
from agents.pix2code.explain.infer import Inference, from_type, to_type
from agents.pix2code.explain.lexicon import ATTRIBUTES, DIRECTIONS, article, variable_name
from agents.pix2code.explain.nodes import SCENE, App, Inv, Lam, Node, Prim, Var, chain, free_vars, head_name, is_call, node_type

#: generic templates: {i} is the i-th argument (closed), all parenthesised
GENERIC: dict[str, str] = {
    "+": "({0} plus {1})",
    "-": "({0} minus {1})",
    "max": "(the larger of {0} and {1})",
    "min": "(the smaller of {0} and {1})",
    "car": "(the first element of {0})",
    "cdr": "(all but the first element of {0})",
    "cons": "({0} followed by {1})",
    "index": "(the element at position {0} of {1})",
    "find": "(the position of {0} in {1})",
    "length": "(the number of elements of {0})",
    "count": "(the number of times {1} occurs in {0})",
    "remove": "(the elements of {1} other than {0})",
    "pair": "(the pair of {0} and {1})",
}
#: verbs of predicates: (singular, plural, negated singular, negated plural)
VERBS: dict[str, tuple[str, str, str, str]] = {
    "be": ("is", "are", "is not", "are not"),
    "have": ("has", "have", "does not have", "do not have"),
    "contain": ("contains", "contain", "does not contain", "do not contain"),
    "lie": ("lies", "lie", "does not lie", "do not lie"),
}
ORT = "exactly one red triangle and no other red objects or triangles"
RELATION_NOUNS = {"same_color": "colour", "same_shape": "shape", "same_size": "size"}


@dataclass(frozen=True)
class Phrase:
    text: str
    open: bool = False

    @property
    def closed(self) -> str:
        return f"({self.text})" if self.open else self.text


@dataclass(frozen=True)
class VP:
    """A predicate of a subject: verb, complement (singular and plural), negation, and the noun
    phrase slot it fills when it is a plain property ("size", "color", "material", "noun",
    "post"; None when it cannot stand inside a noun phrase)."""

    verb: str
    sg: str
    pl: str
    negated: bool = False
    slot: str | None = None
    word: str = ""  # the adjective or noun itself, for noun phrases
    quantified: bool = False  # "... as some cylinder": not negated, not said of a named subject

    def say(self, plural: bool = False) -> str:
        forms = VERBS[self.verb]
        return f"{forms[2 * self.negated + plural]} {self.pl if plural else self.sg}"

    def negate(self) -> VP:
        return replace(self, negated=True, slot=None)

    @property
    def post(self) -> str:
        """The property as a modifier after the noun: "in column 3", "with the same colour as x"."""
        return self.sg if self.verb == "be" else f"with {self.sg}"


def say_vps(vps: list[VP], op: str, plural: bool = False) -> str:
    """Predicates joined by "and"/"or"; a "be" after an affirmative "be" drops its verb ("is red
    or blue", "is red and not a cube", but "is not red and is blue")."""
    words = []
    for i, vp in enumerate(vps):
        text = vp.say(plural)
        if i and vp.verb == "be" and vps[i - 1].verb == "be" and not vps[i - 1].negated:
            text = text.split(" ", 1)[1]
        words.append(text)
    return f" {op} ".join(words)


def noun_phrase(props: list[VP], noun: str, det: str = "", name: str = "", dom: str = "", plural: bool = False, other: bool = False) -> str:
    """ "a large red cube x other than y in column 3"; ``det`` is "a", "no", "some", "every" or ""."""
    slots = {p.slot: p.word for p in props if p.slot not in ("post", "noun")}
    words = [slots[s] for s in ("size", "color", "material") if s in slots]
    shape = next((p.word for p in props if p.slot == "noun"), None)
    words.append((shape + "s" if plural else shape) if shape else (noun + "s" if plural else noun))
    text = " ".join((["other"] if other else []) + words + [w for w in (name, dom) if w])
    posts = [p.post for p in props if p.slot == "post"]
    if posts:
        text += " " + " and ".join(posts)
    if det == "a":
        return article(text)
    return f"{det} {text}" if det else text


def np_able(props: list[VP] | None) -> bool:
    if not props or any(p.slot is None for p in props):
        return False
    slots = [p.slot for p in props if p.slot != "post"]
    return len(slots) == len(set(slots))


class PhraseMixin:
    """Values, references, lists, predicates and generic forms; :class:`Speaker` adds clauses."""

    types: dict[str, Type]
    display: dict[str, str]
    templates: dict[str, tuple[str, str]]

    # -- types and names ------------------------------------------------------------------------
    def type_of(self, node: Node) -> Type:
        if isinstance(node, Var):
            return self.types[node.name]
        inf = Inference(start=10**9)  # above the variables of the binders' types
        env = {name: from_type(t) for name, t in self.types.items()}
        return to_type(inf.resolve(node_type(node, env, inf)))

    def bind(self, name: str) -> str:
        """Give a binder the first variable name not used by an enclosing named binder."""
        used = set(self.display.values())
        i = 0
        while variable_name(i) in used:
            i += 1
        self.display[name] = variable_name(i)
        return self.display[name]

    def unbind(self, name: str) -> None:
        self.display.pop(name, None)

    def noun(self, var: str) -> str:
        return "object" if self.types.get(var) == OBJ else "element"

    # -- references, values, lists ------------------------------------------------------------
    def ref(self, node: Node) -> str:
        if isinstance(node, Var) and node.name in self.display:
            return self.display[node.name]
        return self.value(node).closed

    def is_bool(self, node: Node) -> bool:
        """Whether a term is a truth value (inference only for polymorphic heads: car, if...)."""
        h = head_name(node)
        if h is not None:
            result = returns(SPECS[h].type)
            if not result.is_polymorphic:
                return result == BOOL
        return self.type_of(node) == BOOL

    def value(self, node: Node) -> Phrase:
        """Any non-clause term as a noun phrase (a bool as "whether ...")."""
        if isinstance(node, Var):
            if node.name == SCENE:
                return Phrase("the objects")
            return Phrase(self.display.get(node.name, node.name))
        if self.is_bool(node):
            c = self.clause(node)  # type: ignore[attr-defined]
            return Phrase(f"whether {c.text}", c.open)
        if isinstance(node, Prim):
            if node.name == "empty":
                return Phrase("the empty list")
            return Phrase(node.name)
        if isinstance(node, Lam):
            return self.function(node)
        h = head_name(node)
        if h in ATTRIBUTES and len(node.args) == 1:
            return Phrase(f"the {ATTRIBUTES[h][0]} of {self.ref(node.args[0])}")
        if h in ("count", "length"):
            counted = self.counted(node)
            if counted is not None:
                return Phrase(f"the number of {counted[1].text}", counted[1].open)
        if h == "map":
            lam, lst = node.args
            if isinstance(lam, Lam) and len(lam.params) == 1 and head_name(lam.body) in ATTRIBUTES and lam.body.args == (Var(lam.params[0]),):  # type: ignore[union-attr]
                return Phrase(f"the {ATTRIBUTES[head_name(lam.body)][1]} of {self.value(lst).closed}")  # type: ignore[index]
        if h == "remove" and self.others(node) is not None:
            return Phrase(f"the objects {self.others(node)}")
        return self.generic(node)

    def others(self, lst: Node) -> str | None:
        """ "other than x and y" for removals from the scene, else None."""
        refs = []
        while is_call(lst, "remove", 2):
            refs.append(self.ref(lst.args[0]))  # type: ignore[union-attr]
            lst = lst.args[1]  # type: ignore[union-attr]
        if not refs or lst != Var(SCENE):
            return None
        return "other than " + (refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + " and " + refs[-1])

    def domain(self, lst: Node) -> str:
        """Where a quantified variable ranges: "", "other than x", "among (...)"."""
        if lst == Var(SCENE):
            return ""
        others = self.others(lst)
        return others if others is not None else f"among {self.value(lst).closed}"

    def function(self, lam: Lam) -> Phrase:
        names = [self.bind(p) for p in lam.params]
        body = self.value(lam.body)
        for p in lam.params:
            self.unbind(p)
        return Phrase(f"(the function taking {' and '.join(names)} to {body.text})")

    def generic(self, node: Node) -> Phrase:
        """The parenthesised form of any application (and of a named invention)."""
        if isinstance(node, Inv):
            node = App(node, ())
        assert isinstance(node, App), node
        h = head_name(node)
        if isinstance(node.head, Inv):
            template = self.template(node)
            if template is not None:
                return template
        if h in GENERIC and len(node.args) == GENERIC[h].count("{"):
            return Phrase(GENERIC[h].format(*(self.value(a).closed for a in node.args)))
        if h == "if" and len(node.args) == 3:
            c, a, b = (self.value(x) if i else self.clause(x) for i, x in enumerate(node.args))  # type: ignore[attr-defined]
            return Phrase(f"(if {c.closed} then {a.closed}, otherwise {b.text})")
        if h == "map" and isinstance(node.args[0], Lam):
            lam, lst = node.args
            var = lam.params[0]  # type: ignore[union-attr]
            name = self.bind(var)
            body = self.value(lam.body).closed  # type: ignore[union-attr]
            self.unbind(var)
            return Phrase(f"(the list of {body} for each {self.noun(var)} {name} {self.domain(lst)})".replace(" )", ")"))
        if h == "fold" and isinstance(node.args[2], Lam):
            lst, init, lam = node.args
            names = [self.bind(p) for p in lam.params]  # type: ignore[union-attr]
            body = self.value(lam.body).text  # type: ignore[union-attr]
            for p in lam.params:  # type: ignore[union-attr]
                self.unbind(p)
            return Phrase(
                f"(the result of folding {self.value(lst).closed} from the right, starting from "
                f"{self.value(init).closed} and combining each element {names[0]} with the result so far {names[1]} into {body})"
            )
        # a function variable, a named invention without a usable template, or a primitive
        # applied to more arguments than its arity (it returns a function)
        head, rest = node.head, node.args
        if isinstance(head, Prim) and 0 < SPECS[head.name].arity < len(rest):
            head, rest = App(head, rest[: SPECS[head.name].arity]), rest[SPECS[head.name].arity :]
        if isinstance(head, Var):
            f = self.display.get(head.name, head.name)
        elif isinstance(head, Inv):
            f = self.templates[head.text][0] if head.text in self.templates else head.text
        else:
            f = self.value(head).closed
        if not rest:
            return Phrase(f)
        return Phrase(f"({f} applied to " + ", then to ".join(self.value(a).closed for a in rest) + ")")

    def template(self, node: App) -> Phrase | None:
        """A named invention said by its description, its placeholders A, B... filled in."""
        text = node.head.text  # type: ignore[union-attr]
        if text not in self.templates:
            return None
        from agents.pix2code.explain.inventions import fill

        return fill(self.templates[text][1], self, node)

    # -- predicates of a subject ---------------------------------------------------------------
    def property_vp(self, node: Node, s: str) -> VP | None:
        """``node`` as a predicate of variable ``s`` ("is red", "has the same colour as x"),
        or None. Only ``s`` itself may mention ``s``."""
        h = head_name(node)
        if h == "not" and len(node.args) == 1:  # type: ignore[union-attr]
            inner = self.property_vp(node.args[0], s)  # type: ignore[union-attr]
            return inner.negate() if inner is not None and not inner.negated and not inner.quantified else None
        if h in ("eq?", "gt?"):
            a, b = node.args  # type: ignore[union-attr]
            for first, (x, y) in enumerate(((a, b), (b, a))):
                vp = self._compare_vp(h, x, y, s, swapped=bool(first))
                if vp is not None:
                    return vp
            return None
        if h == "closeby":
            a, b = node.args  # type: ignore[union-attr]
            for x, y in ((a, b), (b, a)):
                if x == Var(s) and s not in free_vars(y):
                    return VP("be", f"close to {self.ref(y)}", f"close to {self.ref(y)}", slot="post")
            return None
        if h in ("exists", "forall"):
            return self.quantified_vp(node, s)  # type: ignore[attr-defined]
        return None

    def _compare_vp(self, op: str, x: Node, y: Node, s: str, swapped: bool) -> VP | None:
        if s in free_vars(y):
            return None
        if x == Var(s):
            if op == "eq?":
                v = f"equal to {self.value(y).closed}"
            else:
                v = f"{'less' if swapped else 'greater'} than {self.value(y).closed}"
            return VP("be", v, v)
        attr = head_name(x)
        if attr not in ATTRIBUTES or x.args != (Var(s),):  # type: ignore[union-attr]
            return None
        noun = ATTRIBUTES[attr][0]
        if op == "eq?":
            if isinstance(y, Prim) and y.name in CATEGORIES.get(attr, ()):
                if attr == "shape":
                    return VP("be", article(y.name), y.name + "s", slot="noun", word=y.name)
                return VP("be", y.name, y.name, slot=attr, word=y.name)
            if attr in ("xbin", "ybin") and isinstance(y, Prim) and y.name.isdigit():
                return VP("be", f"in {noun} {y.name}", f"in {noun} {y.name}", slot="post")
            if head_name(y) == attr and len(y.args) == 1:  # type: ignore[union-attr]
                other = self.ref(y.args[0])  # type: ignore[union-attr]
                if attr in ("xbin", "ybin"):
                    return VP("be", f"in the same {noun} as {other}", f"in the same {noun} as {other}", slot="post")
                return VP("have", f"the same {noun} as {other}", f"the same {noun} as {other}", slot="post")
            v = f"a {noun} equal to {self.value(y).closed}"
            return VP("have", v, v, slot="post")
        greater = not swapped
        if attr in ("xbin", "ybin"):
            where = DIRECTIONS[(attr, greater)]
            if isinstance(y, Prim) and y.name.isdigit():
                return VP("be", f"{where} {noun} {y.name}", f"{where} {noun} {y.name}", slot="post")
            if head_name(y) == attr and len(y.args) == 1:  # type: ignore[union-attr]
                other = self.ref(y.args[0])  # type: ignore[union-attr]
                return VP("be", f"{where} {other}", f"{where} {other}", slot="post")
        v = f"a {noun} {'greater' if greater else 'less'} than {self.value(y).closed}"
        return VP("have", v, v, slot="post")

    def vp_chain(self, node: Node, s: str) -> tuple[list[VP], str] | None:
        """A body as predicates of ``s`` joined by one connective, several plain properties
        joined by "and" said as one noun phrase ("is a large red cube")."""
        for op in ("and", "or"):
            parts = chain(node, op)
            if len(parts) > 1 or op == "or":
                vps = [self.property_vp(p, s) for p in parts]
                if any(v is None for v in vps):
                    return None
                props: list[VP] = vps  # type: ignore[assignment]
                if op == "and" and len(props) > 1 and np_able(props) and any(p.slot != "post" for p in props):
                    noun = self.noun(s)
                    return [VP("be", noun_phrase(props, noun, "a"), noun_phrase(props, noun, plural=True))], "and"
                return props, op
        return None

    def props(self, node: Node, s: str) -> tuple[list[VP], list[Node]]:
        """The conjuncts of ``node`` that are plain properties of ``s`` (noun-phrase material),
        and the rest; the properties must fill distinct adjective/noun slots."""
        props: list[VP] = []
        rest: list[Node] = []
        if self.types.get(s) != OBJ:
            return [], [node]
        for part in chain(node, "and"):
            vp = self.property_vp(part, s)
            if vp is not None and vp.slot is not None and np_able(props + [vp]):
                props.append(vp)
            else:
                rest.append(part)
        return props, rest
