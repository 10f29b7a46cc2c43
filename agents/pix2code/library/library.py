"""A learned library: a base DSL, learned inventions and grammar weights, as a JSON file.

What wake–sleep learning produces and what the agent searches with. The file says which family
and base DSL it extends, lists each invention's body (a closed program over the base primitives
and earlier inventions), inferred type, weight, generated name and one-line description, and
records the command, seeds and figures that made it (and any revisions since). Loading checks
everything: a file that does not parse, an invention that is ill-typed or uses a primitive the
base lacks, or a library made for another family is refused with a message naming the file and
the first bad entry.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agents.pix2code.dsl.domains import Domain, get_domain
from agents.pix2code.dsl.inference import DSLTypeError, type_scheme, typecheck
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Invented, Primitive, Term
from agents.pix2code.dsl.types import TCon, Type, canonical, match
from agents.pix2code.search.grammar import Grammar, Production

FORMAT = "pix2code-gym library"
VERSION = 1


class LibraryError(ValueError):
    """A library file that cannot be used; the message names the file and the first bad entry."""


@dataclass(frozen=True)
class Invention:
    """A learned primitive: its closed body, generated name and description, type and weight."""

    body: str
    name: str
    description: str
    type: str
    weight: float
    uses: int = 0

    def term(self, table: Mapping[str, Term] | None = None) -> Invented:
        """The invention as a term, its body read with a base DSL's names (``table``: the
        catalogue when None; the paper DSL's ``index`` differs from the catalogue's)."""
        return Invented(parse(self.body, table))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "body": self.body, "type": self.type, "weight": round(self.weight, 6),
                "description": self.description, "uses": self.uses}


@dataclass(frozen=True)
class Library:
    """A base DSL with weights, plus inventions (each may use earlier ones)."""

    family: str
    dsl: str
    weights: Mapping[str, float]
    log_variable: float
    inventions: tuple[Invention, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    revisions: tuple[Mapping[str, Any], ...] = ()
    recognition: str | None = None  # file name of the recognition model, beside the library file
    removed: tuple[str, ...] = ()  # base primitives a revision took out

    @property
    def names(self) -> dict[str, tuple[str, str]]:
        """Invention text (as programs print it) -> (name, description), for explanations."""
        table = self.domain.parse_table
        return {inv.term(table).show(): (inv.name, inv.description) for inv in self.inventions if inv.description}

    @property
    def domain(self) -> Domain:
        return get_domain(self.family, self.dsl)

    @classmethod
    def base(cls, family: str, dsl: str = "default") -> Library:
        """The base DSL with its starting weights (the default DSL's hand-set prior)."""
        domain = get_domain(family, dsl)
        return cls(family, dsl, {p: float(domain.weights.get(p, 0.0)) for p in domain.primitives}, domain.log_variable)

    def grammar(self) -> Grammar:
        """The search grammar: base productions and inventions, with this library's weights."""
        domain = self.domain
        removed = set(self.removed)
        productions = [Production(t, float(self.weights.get(t.name, 0.0))) for t in domain.terms if t.name not in removed]
        productions += [Production(inv.term(domain.parse_table), inv.weight) for inv in self.inventions]
        return Grammar(productions, self.log_variable, domain.types, domain.request, domain.max_depth)

    @classmethod
    def from_grammar(cls, grammar: Grammar, family: str, dsl: str, old: Library | None = None, **changes: Any) -> Library:
        """A library holding a grammar's weights and inventions (names kept from ``old``)."""
        known = {inv.body: inv for inv in (old.inventions if old else ())}
        weights, inventions = {}, []
        for p in grammar.productions:
            if isinstance(p.term, Primitive):
                weights[p.term.name] = p.log_weight
                continue
            body = p.term.body.show()
            previous = known.get(body)
            inventions.append(Invention(
                body, previous.name if previous else f"f{len(inventions)}", previous.description if previous else "",
                str(canonical(type_scheme(p.term))), p.log_weight, previous.uses if previous else 0,
            ))  # fmt: skip
        base = old if old is not None else cls(family, dsl, {}, grammar.log_variable)
        return replace(base, family=family, dsl=dsl, weights=weights, log_variable=grammar.log_variable,
                       inventions=tuple(inventions), **changes)

    # ------------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        domain = self.domain
        return {
            "format": FORMAT,
            "version": VERSION,
            "family": self.family,
            "dsl": self.dsl,
            "base_primitives": list(domain.primitives),
            "weights": {name: round(float(w), 6) for name, w in self.weights.items()},
            "log_variable": round(self.log_variable, 6),
            "inventions": [inv.to_json() for inv in self.inventions],
            "recognition": self.recognition,
            "removed": list(self.removed),
            "provenance": dict(self.provenance),
            "revisions": [dict(r) for r in self.revisions],
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the library atomically: a reader never sees a half-written file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as out:
            json.dump(self.to_json(), out, indent=1)
            out.write("\n")
        os.replace(out.name, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, family: str | None = None) -> Library:
        """Read and check a library file (``family``: the family it must be made for)."""
        path = Path(path)
        where = f"library {path}"
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise LibraryError(f"{where}: cannot be read ({error.strerror or error})") from None
        except json.JSONDecodeError as error:
            raise LibraryError(f"{where}: not valid JSON ({error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LibraryError(f"{where}: not a {FORMAT} file (missing 'format': {FORMAT!r})")
        if data.get("version") != VERSION:
            raise LibraryError(f"{where}: format version {data.get('version')!r}; this code reads version {VERSION}")
        if family is not None and data.get("family") != family:
            raise LibraryError(f"{where} was made for the {data.get('family')!r} family, not {family!r}")
        try:
            domain = get_domain(data["family"], data.get("dsl", "default"))
        except (KeyError, ValueError) as error:
            raise LibraryError(f"{where}: {error}") from None
        table = dict(domain.parse_table)
        for name in data.get("removed", []):
            if table.pop(name, None) is None:
                raise LibraryError(f"{where}: removes {name!r}, which the {data.get('dsl')} {data['family']} DSL lacks")
        for name in data.get("weights", {}):
            if name not in table:
                raise LibraryError(f"{where}: weight for {name!r}, which the {data.get('dsl')} {data['family']} DSL lacks")
        inventions = []
        for i, entry in enumerate(data.get("inventions", [])):
            inventions.append(_check_invention(entry, i, table, where, domain.types))
        return cls(
            family=data["family"], dsl=data.get("dsl", "default"), weights=dict(data.get("weights", {})),
            log_variable=float(data.get("log_variable", 0.0)), inventions=tuple(inventions),
            provenance=data.get("provenance", {}), revisions=tuple(data.get("revisions", [])),
            recognition=data.get("recognition"), removed=tuple(data.get("removed", [])),
        )  # fmt: skip


def _check_invention(entry: Mapping[str, Any], i: int, table: dict[str, Term], where: str, universe: Sequence[Type]) -> Invention:
    body = entry.get("body") if isinstance(entry, Mapping) else None
    if not isinstance(body, str):
        raise LibraryError(f"{where}: invention {i} has no program text under 'body'")
    label = f"{where}: invention {i} ({entry.get('name', '?')}: {body})"
    try:
        term = parse(body, table)
    except ValueError as error:
        raise LibraryError(f"{label} does not parse: {error}") from None
    for prim in _primitives(term):
        if prim not in table:
            raise LibraryError(f"{label} uses {prim!r}, which the base DSL lacks")
    try:
        typecheck(term)
        scheme = canonical(type_scheme(Invented(term)))
    except (DSLTypeError, ValueError) as error:
        raise LibraryError(f"{label} is ill-typed: {error}") from None
    foreign = [t for t in _value_parts(scheme) if not any(match(t, u) is not None for u in universe)]
    if foreign:
        raise LibraryError(f"{label} is ill-typed in this base DSL: its type {scheme} involves {foreign[0]}, "
                           f"which no value of the DSL has (types: {', '.join(map(str, universe))})")
    inferred = str(scheme)
    return Invention(body, str(entry.get("name", f"f{i}")), str(entry.get("description", "")), inferred,
                     float(entry.get("weight", 0.0)), int(entry.get("uses", 0)))


def _value_parts(t: Type) -> list[Type]:
    """The value types inside a type scheme (the arguments and results of its arrows)."""
    if isinstance(t, TCon) and t.is_arrow:
        return [p for a in t.args for p in _value_parts(a)]
    return [t]


def _primitives(term: Term) -> Sequence[str]:
    """Names of the primitives a term uses, inside inventions too."""
    out: list[str] = []
    for t in term.subterms():
        if isinstance(t, Primitive):
            out.append(t.name)
        elif isinstance(t, Invented):
            out.extend(_primitives(t.body))
    return out
