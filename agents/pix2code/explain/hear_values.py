"""The reader's values: numbers, constants, names, attributes, counts, lists, "whether ...", and
the generic parenthesised forms every term has (:data:`~agents.pix2code.explain.phrases.GENERIC`,
``if``, ``map``, ``fold``, functions, applications), with the parsing infrastructure they share.

Every method takes a token position and returns *all* its parses as ``(node, end)`` pairs,
memoised per position (:func:`memo`), so ambiguity costs a list, not a backtracking blow-up.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.pix2code.explain.lexicon import ATTRIBUTE_OF_NOUN, ATTRIBUTES, CONSTANT_CATEGORY, NUMBER_WORDS, VARIABLE_RE
from agents.pix2code.explain.nodes import App, Lam, Node, Prim, Var, call
from agents.pix2code.explain.phrases import GENERIC

Parses = list[tuple[Node, int]]
_GENERIC_PATTERNS = {name: template[1:-1].split(" ") for name, template in GENERIC.items()}


def memo(f: Callable) -> Callable:
    def wrapper(self, *args):  # type: ignore[no-untyped-def]
        key = (f.__name__, args)
        hit = self.memo.get(key)
        if hit is None:
            self.memo[key] = []  # a re-entry at the same position finds nothing (no left recursion)
            hit = self.memo[key] = f(self, *args)
        return hit

    return wrapper


class ValueHearing:
    """Parsing infrastructure, values and the generic parenthesised forms."""

    def __init__(self, words: list[str]) -> None:
        self.t, self.n = tuple(words), len(words)
        self.memo: dict = {}
        self.far = 0
        self.opened: set[tuple[int, Node]] = set()  # (end, node): parses that end in a bare clause

    def opening(self, parses: Parses) -> Parses:
        """Mark parses that end in an unbracketed clause: the speaker never lets more words follow
        one, so a chain may not continue after it (that is what keeps readings unique)."""
        self.opened.update((j, n) for n, j in parses)
        return parses

    def closed(self, node: Node, end: int) -> bool:
        return (end, node) not in self.opened

    def at(self, i: int, *words: str) -> int | None:
        """The position after ``words`` if they stand at ``i`` (remembering the furthest miss)."""
        j = i + len(words)
        if self.t[i:j] == words:
            return j
        if j > self.far:
            k = i
            while k < self.n and k < j and self.t[k] == words[k - i]:
                k += 1
            self.far = max(self.far, k)
        return None

    def word(self, i: int) -> str | None:
        return self.t[i] if i < self.n else None

    def name(self, i: int) -> str | None:
        w = self.word(i)
        return w if w is not None and VARIABLE_RE.match(w) else None

    def number(self, i: int) -> int | None:
        w = self.word(i)
        if w is None:
            return None
        if w.isdigit() and len(w) == 1:
            return int(w)
        return NUMBER_WORDS.index(w) if w in NUMBER_WORDS else None

    # -- values -----------------------------------------------------------------------------------
    @memo
    def value(self, i: int) -> Parses:
        return self.value_base(i) + self.templated(i, "value")  # type: ignore[attr-defined]

    @memo
    def value_base(self, i: int) -> Parses:
        out: Parses = []
        w = self.word(i)
        if w is None:
            return out
        if self.number(i) is not None:
            out.append((Prim(str(self.number(i))), i + 1))
        if w in CONSTANT_CATEGORY:
            out.append((Prim(w), i + 1))
        if self.name(i):
            out.append((Var(w), i + 1))
        if w == "(":
            out += self.parenthesised(i)
        j = self.at(i, "whether")
        if j is not None:
            out += self.clause(j)  # type: ignore[attr-defined]
        j = self.at(i, "the", "empty", "list")
        if j is not None:
            out.append((Prim("empty"), j))
        j = self.at(i, "the", "objects")
        if j is not None:
            out += [(lst, k) for lst, k in self.dom(j) if not (self.word(j) == "among")]
        j = self.at(i, "the")
        if j is not None and self.word(j) in ATTRIBUTE_OF_NOUN and self.at(j + 1, "of") is not None:
            attr = ATTRIBUTE_OF_NOUN[self.word(j)]  # type: ignore[index]
            if self.word(j) == ATTRIBUTES[attr][1]:
                out += [(call("map", Lam((f"_{i}",), call(attr, Var(f"_{i}"))), lst), k) for lst, k in self.value(j + 2)]
            else:
                out += [(call(attr, r), k) for r, k in self.value(j + 2)]
        j = self.at(i, "the", "number", "of")
        if j is not None:
            out += self.counted(j, True)  # type: ignore[attr-defined]
        return out

    @memo
    def parenthesised(self, i: int) -> Parses:
        """ "(...)": a wrapped value or clause, or a generic form."""
        j = self.at(i, "(")
        if j is None:
            return []
        inner = self.value(j) + self.clause(j) + self.generic(j)  # type: ignore[attr-defined]
        return [(node, k + 1) for node, k in inner if self.at(k, ")") is not None]

    @memo
    def generic(self, i: int) -> Parses:
        out: Parses = []
        for name, pattern in _GENERIC_PATTERNS.items():
            out += [(call(name, *args), k) for args, k in self.pattern(i, pattern)]
        for args, k in self.pattern(i, "if {c} then {v} , otherwise {v}".split(" ")):
            out.append((call("if", *args), k))
        j = self.at(i, "the", "list", "of")
        if j is not None:
            for body, k in self.value(j):
                m = self.at(k, "for", "each")
                if m is not None and self.word(m) in ("object", "element") and self.name(m + 1):
                    out += [(call("map", Lam((self.t[m + 1],), body), lst), p) for lst, p in self.dom(m + 2)]
        pattern = "the result of folding {v} from the right , starting from {v} and combining each element {n} with the result so far {n} into {v}"
        for (lst, init, a, b, body), k in self.pattern(i, pattern.split(" ")):
            out.append((call("fold", lst, init, Lam((a.name, b.name), body)), k))  # type: ignore[union-attr]
        j = self.at(i, "the", "function", "taking")
        if j is not None:
            names = []
            while self.name(j):
                names.append(self.t[j])
                if self.at(j + 1, "to") is not None:
                    out += [(Lam(tuple(names), body), k) for body, k in self.value(j + 2)]
                j = self.at(j + 1, "and") or self.n + 1
        out += self.application(i)
        return out

    def application(self, i: int) -> Parses:
        """ "f applied to A, then to B": a function variable, a named invention, or a
        primitive applied to more arguments than its arity."""
        out: Parses = []
        for head, j in self.value_base(i) + self.invention_names(i):  # type: ignore[attr-defined]
            frontier: list[tuple[list[Node], int]] = [([], j)]
            while frontier:
                nxt = []
                for args, k in frontier:
                    m = self.at(k, ",", "then", "to") if args else self.at(k, "applied", "to")
                    for arg, p in self.value(m) if m is not None else []:
                        nxt.append((args + [arg], p))
                        full = tuple(args + [arg])
                        out.append((App(head.head, head.args + full) if isinstance(head, App) else App(head, full), p))
                frontier = nxt
        return out

    def pattern(self, i: int, pattern: list[str]) -> list[tuple[list[Node], int]]:
        """Literal words and slots: {0}.. / {v} a value, {c} a clause, {n} a name."""
        states: list[tuple[list[Node], int]] = [([], i)]
        for token in pattern:
            nxt = []
            for args, j in states:
                if token.startswith("{"):
                    if token == "{n}":
                        parses = [(Var(self.t[j]), j + 1)] if self.name(j) else []
                    elif token == "{c}":
                        parses = self.clause(j)  # type: ignore[attr-defined]
                    else:
                        parses = self.value(j) + (self.clause(j) if token == "{v}" else [])  # type: ignore[attr-defined]
                    nxt += [(args + [node], k) for node, k in parses]
                else:
                    k = self.at(j, token)
                    if k is not None:
                        nxt.append((args, k))
            states = nxt
        numbered = [t for t in pattern if t[:1] == "{" and t[1:-1].isdigit()]
        if numbered:  # "{1} occurs in {0}": arguments in the order of their numbers
            order = sorted(range(len(numbered)), key=lambda k: int(numbered[k][1:-1]))
            states = [([args[k] for k in order], j) for args, j in states]
        return states
