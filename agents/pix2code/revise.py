"""Revising what the Pix2Code agent may think with: removing, adding and editing primitives.

Pix2Code's point is that a concept learned as a program can be corrected by changing the library
it is searched in (pix2code.md §9): remove the colour primitives and a colour shortcut can no
longer be learned; add "the number of objects of a colour" and counting concepts become short.
Every change is checked before anything is kept — an ill-typed body, an unknown name or a kept
primitive left without something it needs refuses the whole revision with a one-line message —
and recorded in the library, which is written atomically.

    pix2code revise --env Pix2Code-CURIHans-v0 --remove color --out no-colour.json
    pix2code revise --env Pix2Code-CURI-Counting-v0 \\
        --add 'count_color=(lambda (lambda (count (map (lambda (color $0)) $1) $0)))' --out counting.json
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from agents.pix2code.dsl.inference import DSLTypeError, type_scheme, typecheck
from agents.pix2code.dsl.primitives import CATEGORIES
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import Invented, Term
from agents.pix2code.dsl.types import canonical
from agents.pix2code.library.library import Invention, Library

#: Groups of primitives that one name removes: an attribute's accessor and all its constants.
ATTRIBUTE_GROUPS = ("color", "shape", "material", "size")


class RevisionError(ValueError):
    """A revision that cannot be applied; the library is left as it was."""


def groups(library: Library) -> dict[str, tuple[str, ...]]:
    """Group name -> the base primitives it stands for, in this library's DSL."""
    present = set(library.domain.primitives)
    out = {}
    for attribute in ATTRIBUTE_GROUPS:
        members = tuple(p for p in (attribute, *CATEGORIES[attribute]) if p in present)
        if attribute in present:
            out[attribute] = members
    if {"xbin", "ybin"} <= present:
        out["location"] = ("xbin", "ybin")
    return out


def revise(
    library: Library,
    remove: Iterable[str] = (),
    add: Mapping[str, str | Mapping[str, object]] | None = None,
    edit: Mapping[str, str] | None = None,
) -> Library:
    """A new library with primitives removed (names or groups; learned primitives that use them go
    too), added (name -> program, or a dict with ``program``, ``weight``, ``description``) and
    edited (learned primitive name -> new body). All or nothing."""
    remove, add, edit = list(remove), dict(add or {}), dict(edit or {})
    record: dict[str, object] = {}
    revised = library
    if remove:
        revised, gone = _remove(revised, remove)
        record["remove"] = remove
        record["removed"] = gone
    for name, body in edit.items():
        revised = _edit(revised, name, body)
    if edit:
        record["edit"] = edit
    for name, spec in add.items():
        revised = _add(revised, name, spec)
    if add:
        record["add"] = {name: (spec if isinstance(spec, str) else dict(spec)) for name, spec in add.items()}
    if revised.recognition:
        record["recognition"] = "dropped: it was trained for the unrevised library's productions"
    return replace(revised, recognition=None, revisions=(*library.revisions, record))


def _names(library: Library) -> dict[str, Term]:
    """Every name a revision program may use: the remaining base primitives and learned ones."""
    table: dict[str, Term] = {name: term for name, term in library.domain.parse_table.items() if name not in library.removed}
    for inv in library.inventions:
        table[inv.name] = inv.term(library.domain.parse_table)
    return table


def _remove(library: Library, names: list[str]) -> tuple[Library, list[str]]:
    known_groups = groups(library)
    base = set(library.domain.primitives) - set(library.removed)
    learned = {inv.name for inv in library.inventions}
    targets: set[str] = set()
    for name in names:
        if name in known_groups:
            targets |= set(known_groups[name])
        elif name in base:
            targets.add(name)
        elif name not in learned:
            raise RevisionError(
                f"cannot remove {name!r}: it is not a primitive, a learned primitive or a group of this library "
                f"(groups: {sorted(known_groups)})"
            )
    doomed_terms = {library.domain.parse_table[n] for n in targets}
    kept, gone = [], []
    for inv in library.inventions:
        term = inv.term(library.domain.parse_table)
        if inv.name in names or _uses(term, doomed_terms):
            doomed_terms.add(term)
            gone.append(inv.name)
        else:
            kept.append(inv)
    weights = {n: w for n, w in library.weights.items() if n not in targets}
    removed = tuple(sorted(set(library.removed) | targets))
    return replace(library, weights=weights, inventions=tuple(kept), removed=removed), sorted(targets) + gone


def _uses(term: Term, doomed: set[Term]) -> bool:
    for t in term.subterms():
        if t in doomed:
            return True
        if isinstance(t, Invented) and t is not term and _uses(t, doomed):
            return True
    if isinstance(term, Invented):
        return _uses(term.body, doomed)
    return False


def _body(library: Library, name: str, program: str) -> Invented:
    """A checked body for a named primitive: parsed with the library's names, closed, well typed."""
    try:
        term = parse(program, _names(library))
    except ValueError as error:
        raise RevisionError(f"{name}: {error}") from None
    if isinstance(term, Invented):
        term = term.body
    try:
        invention = Invented(term)
        typecheck(term)
        type_scheme(invention)
    except (ValueError, DSLTypeError) as error:
        raise RevisionError(f"{name} = {program}: ill-typed: {error}") from None
    return invention


def _add(library: Library, name: str, spec: str | Mapping[str, object]) -> Library:
    if isinstance(spec, str):
        spec = {"program": spec}
    program = spec.get("program")
    if not isinstance(program, str):
        raise RevisionError(f"{name}: give the new primitive's body as program text")
    if not name.isidentifier() or name in _names(library) or name in library.domain.parse_table:
        raise RevisionError(f"cannot add {name!r}: the name is taken or not an identifier")
    invention = _body(library, name, program)
    if any(inv.body == invention.body.show() for inv in library.inventions):
        raise RevisionError(f"{name}: the library already has a primitive with this body")
    description = str(spec.get("description") or _describe(invention, library.family))
    entry = Invention(invention.body.show(), name, description, str(canonical(type_scheme(invention))),
                      float(spec.get("weight", 0.0)))
    return replace(library, inventions=(*library.inventions, entry))


def _edit(library: Library, name: str, program: str) -> Library:
    index = next((i for i, inv in enumerate(library.inventions) if inv.name == name), None)
    if index is None:
        raise RevisionError(f"cannot edit {name!r}: only learned or added primitives can be edited, and this library "
                            f"has {[inv.name for inv in library.inventions] or 'none'}")
    old = library.inventions[index]
    new = _body(library, name, program)
    old_text, new_text = old.term(library.domain.parse_table).show(), new.show()
    inventions = []
    for i, inv in enumerate(library.inventions):
        if i == index:
            inventions.append(replace(inv, body=new.body.show(), type=str(canonical(type_scheme(new)))))
            continue
        if old_text not in inv.body:
            inventions.append(inv)
            continue
        body = inv.body.replace(old_text, new_text)
        try:
            term = Invented(parse(body, library.domain.parse_table))
            typecheck(term.body)
            inferred = str(canonical(type_scheme(term)))
        except (ValueError, DSLTypeError) as error:
            raise RevisionError(f"editing {name} breaks {inv.name}, which uses it: {error}") from None
        inventions.append(replace(inv, body=body, type=inferred))
    return replace(library, inventions=tuple(inventions))


def _describe(invention: Invented, family: str) -> str:
    from agents.pix2code.explain import describe_invention

    return describe_invention(invention.body.show(), family)[1]


# ------------------------------------------------------------------------ command line


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    from agents.pix2code.dsl.domains import domain_for_env_id
    from agents.pix2code.library.shipped import shipped_library

    console = Console()
    parser = argparse.ArgumentParser(prog="pix2code revise", description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="the environment whose library is revised")
    parser.add_argument("--library", default=None, help="a library file, or 'base' (default: the env's shipped one)")
    parser.add_argument("--remove", nargs="*", default=[], help="primitive or group names (color, shape, ...)")
    parser.add_argument("--add", nargs="*", default=[], help="NAME=PROGRAM")
    parser.add_argument("--weight", type=float, default=0.0, help="log-weight of added primitives")
    parser.add_argument("--description", default=None, help="English for an added primitive")
    parser.add_argument("--edit", nargs="*", default=[], help="NAME=PROGRAM (learned or added primitives)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        family = domain_for_env_id(args.env).name
        source = args.library or str(shipped_library(args.env) or "base")
        library = Library.base(family) if source == "base" else Library.load(source, family=family)
        additions = {}
        for item in args.add:
            name, _, program = item.partition("=")
            additions[name.strip()] = {"program": program, "weight": args.weight, "description": args.description}
        edits = dict(item.partition("=")[::2] for item in args.edit)
        revised = revise(library, args.remove, additions, edits)
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        return 2
    revised.save(args.out)
    last = revised.revisions[-1] if revised.revisions else {}
    console.print(f"revised {source} -> {args.out}: removed {last.get('removed', [])}, added {list(additions)}, "
                  f"edited {list(edits)}; {len(revised.inventions)} learned/added primitives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
