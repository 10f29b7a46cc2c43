"""Reading and writing programs in DreamCoder's s-expression syntax.

``(lambda (exists (lambda (eq? (color $0) red)) $0))``: ``lambda`` (or stitch's ``lam``) is a
nameless binder, ``$i`` a de Bruijn index, ``#(...)`` an invention, anything else a primitive
name looked up in a table. Printing is :meth:`Term.show`; ``parse(t.show()) == t`` always.
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.pix2code.dsl.terms import Abstraction, Application, Index, Invented, Term


def parse(text: str, primitives: Mapping[str, Term] | None = None) -> Term:
    """Parse a program; a malformed one raises ValueError naming the character position.

    ``primitives`` maps names to :class:`Primitive` (or :class:`Invented`) terms; by default the
    full catalogue of every domain (:data:`agents.pix2code.dsl.primitives.CATALOGUE`).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse expects program text (str), got {type(text).__name__}")
    if primitives is None:
        from agents.pix2code.dsl.primitives import CATALOGUE

        primitives = CATALOGUE
    parser = _Parser(text, primitives)
    term = parser.term()
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.error(f"unexpected {text[parser.pos]!r} after a complete program")
    return term


class _Parser:
    def __init__(self, text: str, primitives: Mapping[str, Term]) -> None:
        self.text, self.pos, self.primitives = text, 0, primitives

    def error(self, message: str, pos: int | None = None) -> ValueError:
        p = self.pos if pos is None else pos
        snippet = self.text[max(0, p - 20) : p + 20]
        return ValueError(f"{message} at position {p} in program {self.text!r} (near {snippet!r})")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def atom(self) -> tuple[str, int]:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace() and self.text[self.pos] not in "()":
            self.pos += 1
        return self.text[start : self.pos], start

    def term(self) -> Term:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of program")
        c = self.text[self.pos]
        if c == ")":
            raise self.error("unexpected ')'")
        if c == "#":
            start = self.pos
            self.pos += 1
            body = self.term()
            try:
                return Invented(body)
            except ValueError as e:
                raise self.error(str(e), start) from None
        if c == "(":
            start = self.pos
            self.pos += 1
            self.skip_space()
            word_start = self.pos
            word, _ = self.atom()
            if word in ("lambda", "lam"):
                body = self.term()
                self.close(start)
                return Abstraction(body)
            self.pos = word_start
            head = self.term()
            args = []
            while True:
                self.skip_space()
                if self.pos >= len(self.text):
                    raise self.error(f"missing ')' to close the '(' opened at position {start}")
                if self.text[self.pos] == ")":
                    break
                args.append(self.term())
            self.pos += 1
            if not args:
                raise self.error("an application needs at least one argument", start)
            for a in args:
                head = Application(head, a)
            return head
        word, start = self.atom()
        if word.startswith("$"):
            if not word[1:].isdigit():
                raise self.error(f"bad variable {word!r} (expected $ followed by digits)", start)
            return Index(int(word[1:]))
        if word in ("lambda", "lam"):
            raise self.error("'lambda' must open a parenthesised abstraction", start)
        try:
            return self.primitives[word]
        except KeyError:
            raise self.error(f"unknown primitive {word!r}", start) from None

    def close(self, start: int) -> None:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.error(f"missing ')' to close the '(' opened at position {start}")
        if self.text[self.pos] != ")":
            raise self.error("a lambda takes exactly one body; expected ')'")
        self.pos += 1
