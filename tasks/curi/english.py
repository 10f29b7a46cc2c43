"""Plain-English descriptions of CURI concepts.

CURI stores concepts as postfix programs (``S color? purple exists= ... lambda S. exists=``),
which no one reads at a glance in an episode's title or a results table. :func:`describe` says
what a program means (curi.md §3.4) as a short lower-case sentence: exact rather than loose,
and never the same sentence for two concepts with different meanings.

- Bodies about the quantified object alone read naturally: "there is a large red cube",
  "every object is metal or left of column 3", "no object is in row 2".
- Parts that do not mention the object are said on their own, joined by ", and" / ", or"
  (exact: scenes are never empty): "there is a red object, and every object is large".
- Common bindings: "all objects have the same colour", "every object shares its shape with
  another object".
- Everything else names the object x: "there is a red object x such that every object other
  than x is a sphere", "for every object x, exactly one object has a row equal to x's column".

Sizes are "large" (0.7) and "small" (0.35); ``locationX?`` / ``locationY?`` are "column N"
(counted from the left) and "row N" (from the top): a greater column is further right, a greater
row further down.
"""

from __future__ import annotations

from tasks.curi.concepts import And, Attr, Bool, Compare, Concept, Const, Count, Not, Or, SetQuant, mentions_x, parse

__all__ = ["describe"]

NOUNS = {"color?": "colour", "shape?": "shape", "material?": "material", "size?": "size",
         "locationX?": "column", "locationY?": "row"}
SIZE_WORDS = {"0.7": "large", "0.35": "small"}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
ADJECTIVE_SLOTS = ("size", "color", "material")  # English order: large red metal cube

#: a piece of a noun phrase: (slot, singular text, plural text); the slots are the adjective
#: slots above, "noun" (a shape) and "post" (a modifier after the noun: "in column 3")
Fragment = tuple[str, str, str]


def describe(concept: Concept | str) -> str:
    """The plain-English meaning of a CURI concept (a :class:`Concept` or its postfix string)."""
    parsed = parse(concept) if isinstance(concept, str) else concept
    return _describe(_dedupe(parsed.body), parsed.quantifier)


# ----------------------------------------------------------------------------- the top level


def _describe(body: Bool, quantifier: str | None) -> str:
    free = quantifier is None or not mentions_x(body)
    if isinstance(body, (And, Or)):
        # "every object is A" and "every object is B" is "every object is A and B", and "there
        # is an A" or "there is a B" is "there is an object that is A or B" (S is never empty)
        merged = "for-all=" if isinstance(body, And) else "exists="
        inlined = _dedupe(_inline(body, merged))
        if quantifier in (None, merged) and _self_parts(inlined):
            return _natural(inlined, merged)
        if free or not mentions_x(body.left) or not mentions_x(body.right):
            # an x-free side moves out of the quantifier unchanged; it is said first
            word = "and" if isinstance(body, And) else "or"
            left, right = (body.right, body.left) if mentions_x(body.left) else (body.left, body.right)
            return f"{_describe(left, quantifier)}, {word} {_describe(right, quantifier)}"
    if free:
        return _clause(body)
    assert quantifier is not None
    return _natural(body, quantifier) or _named(body, quantifier)


def _natural(body: Bool, quantifier: str) -> str:
    """Phrasing without a variable, for the bodies where English does it exactly; else ""."""
    exists = quantifier == "exists="
    if parts := _self_parts(body):
        frags = [_self_fragment(p) for p in parts]
        word = "or" if isinstance(body, Or) else "and"
        phrase = _np(frags) if word == "and" else None
        if exists:
            return f"there is {phrase}" if phrase else f"there is an object that {_join(frags, word)}"
        if phrase and any(f[0] == "noun" for f in frags):
            return f"every object is {phrase}"
        return f"every object {_join(frags, word)}"
    if isinstance(body, Not) and _is_self(body.arg):
        vp = _vp(_self_fragment(body.arg))
        return f"there is an object that {_negate(vp)}" if exists else f"no object {vp}"
    if isinstance(body, SetQuant) and isinstance(body.value, Attr) and body.value.function == body.function:
        noun = NOUNS[body.function]
        if body.set == "S" and body.quantifier == "for-all=":  # ∃x∀y and ∀x∀y alike
            verb = "are in" if body.function.startswith("location") else "have"
            return f"all objects {verb} the same {noun}"
        if body.set == "non-x-S":
            whom = "another object" if body.quantifier == "exists=" else "every other object"
            return f"{'some' if exists else 'every'} object shares its {noun} with {whom}"
    return ""


def _named(body: Bool, quantifier: str) -> str:
    """Phrasing that names the quantified object x."""
    if quantifier == "for-all=":
        return f"for every object x, {_clause(body)}"
    if isinstance(body, And):
        for own, rest in ((body.left, body.right), (body.right, body.left)):
            if _is_self(own):
                return f"there is {_np([_self_fragment(own)], tag='x')} such that {_clause(rest)}"
    return f"there is an object x such that {_clause(body)}"


def _inline(node: And | Or, quantifier: str) -> And | Or:
    """``S F v for-all=`` as ``x F v =`` on each side of a conjunction under for-all
    (``exists=`` and a disjunction under exists): the quantifiers then coincide."""
    sides = [
        Compare("=", Attr(side.function), side.value)
        if isinstance(side, SetQuant) and side.set == "S" and side.quantifier == quantifier
        and isinstance(side.value, Const) else side
        for side in (node.left, node.right)
    ]
    return type(node)(*sides)


def _dedupe(node: Bool) -> Bool:
    """``a and a`` / ``a or a`` is ``a`` (also when ``=`` has its arguments swapped)."""
    if isinstance(node, (And, Or)):
        left, right = _dedupe(node.left), _dedupe(node.right)
        return left if _canonical(left) == _canonical(right) else type(node)(left, right)
    if isinstance(node, Not):
        return Not(_dedupe(node.arg))
    return node


def _canonical(node: Bool) -> Bool:
    if isinstance(node, Compare) and node.op == "=" and repr(node.left) > repr(node.right):
        return Compare("=", node.right, node.left)
    return node


# ----------------------------------------------------------------------------- clauses about x


def _clause(node: Bool, nested: bool = False) -> str:
    """A sentence in which the quantified object, if mentioned, is called x."""
    if isinstance(node, Compare):
        return f"x {_vp(_self_fragment(node))}" if _is_self(node) else _compare(node)
    if isinstance(node, SetQuant):
        vp, other = _vp(_value_fragment(node.function, node.value)), _other(node.set)
        if node.quantifier == "for-all=":
            return f"every object{other} {vp}"
        if mentions_x(node):
            return f"some object{other} {vp}"
        return f"there is {_np([_value_fragment(node.function, node.value)])}"
    if isinstance(node, Not):
        arg = node.arg
        if isinstance(arg, Compare) and _is_self(arg):
            return f"x {_negate(_vp(_self_fragment(arg)))}"
        if isinstance(arg, SetQuant):
            vp, other = _vp(_value_fragment(arg.function, arg.value)), _other(arg.set)
            return f"{'not every' if arg.quantifier == 'for-all=' else 'no'} object{other} {vp}"
        return f"it is not the case that {_clause(arg, nested=True)}"
    word = "and" if isinstance(node, And) else "or"
    left, right = node.left, node.right
    if (
        isinstance(left, SetQuant) and isinstance(right, SetQuant) and left.set == right.set
        and left.quantifier == right.quantifier == ("for-all=" if word == "and" else "exists=")
    ):  # every object other than x is metal and purple
        frags = [_value_fragment(q.function, q.value) for q in (left, right)]
        text = f"{'every' if word == 'and' else 'some'} object{_other(left.set)} {_join(frags, word)}"
    else:
        text = f"{_clause(left, nested=True)} {word} {_clause(right, nested=True)}"
    return f"({text})" if nested else text


def _compare(node: Compare) -> str:
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Count) and isinstance(right, Count):
        a, b = _count_np(left), _count_np(right)
        if " than " in a + b:
            return f"the number of {a} {'equals' if op == '=' else 'is greater than'} the number of {b}"
        return f"there are as many {a} as {b}" if op == "=" else f"there are more {a} than {b}"
    if isinstance(left, Count) and isinstance(right, Const):
        return _counted(left, op, int(right.token), count_first=True)
    if isinstance(right, Count) and isinstance(left, Const):
        return _counted(right, op, int(left.token), count_first=False)
    # not sampled by CURI (constant-only comparisons), but still in the language
    return f"{_value(left)} {'equals' if op == '=' else 'is greater than'} {_value(right)}"


def _counted(count: Count, op: str, n: int, count_first: bool) -> str:
    """A count compared with the number n: "exactly two objects other than x are red"."""
    if op == "=":
        det, k = "exactly", n
    elif count_first:
        det, k = "at least", n + 1
    else:
        det, k = "at most", n - 1
    subject = "no object" if k == 0 else f"{det} {NUMBER_WORDS.get(k, str(k))} object{'s' if k > 1 else ''}"
    vp = _vp(_value_fragment(count.function, count.value), plural=k > 1)
    return f"{subject}{_other(count.set)} {vp}"


def _value(value: Const | Attr | Count) -> str:
    if isinstance(value, Attr):
        return f"x's {NOUNS[value.function]}"
    if isinstance(value, Count):
        return f"the number of {_count_np(value)}"
    return SIZE_WORDS.get(value.token, value.token)


def _count_np(count: Count) -> str:
    phrase = _np([_value_fragment(count.function, count.value)], plural=True, tag=_other(count.set).strip())
    assert phrase is not None
    return phrase


def _other(set_name: str) -> str:
    return " other than x" if set_name == "non-x-S" else ""  # non-x-S is all objects but x


# ----------------------------------------------------------------------------- phrases


def _is_self(node: Bool) -> bool:
    """An atom about the quantified object alone: ``x color? red =``, ``x locationX? x locationY? >``."""
    sides = (node.left, node.right) if isinstance(node, Compare) else ()
    return any(isinstance(v, Attr) for v in sides) and all(isinstance(v, (Attr, Const)) for v in sides)


def _self_parts(node: Bool) -> list[Bool]:
    """The atoms of a body that is one atom about the object, or "and" / "or" of two; else []."""
    if _is_self(node):
        return [node]
    if isinstance(node, (And, Or)) and _is_self(node.left) and _is_self(node.right):
        return [node.left, node.right]
    return []


def _self_fragment(node: Bool) -> Fragment:
    """What an atom about the object says of it, as a noun-phrase piece ("its" is the object's)."""
    assert isinstance(node, Compare)
    left, right = node.left, node.right
    if isinstance(left, Attr) and isinstance(right, Attr):
        relation = "equal to" if node.op == "=" else "greater than"
        return _post(f"with a {NOUNS[left.function]} {relation} its {NOUNS[right.function]}")
    attr, const = (left, right) if isinstance(left, Attr) else (right, left)
    assert isinstance(attr, Attr) and isinstance(const, Const)
    if node.op == "=":
        return _const_fragment(const, attr.function)
    greater = attr is left  # the object's attribute is the greater side
    if const.kind == "size":
        if greater == (const.token == "0.35"):  # larger than small / smaller than large
            return _const_fragment(Const("size", "0.7" if greater else "0.35"), attr.function)
        return _post("larger than a large object" if greater else "smaller than a small object")
    noun = NOUNS[attr.function]
    if noun == "column":
        return _post(f"{'right' if greater else 'left'} of column {const.token}")
    return _post(f"{'below' if greater else 'above'} row {const.token}")


def _value_fragment(function: str, value: Const | Attr | Count) -> Fragment:
    """What ``F(y) = value`` says of an object y, as a noun-phrase piece."""
    if isinstance(value, Const):
        return _const_fragment(value, function)
    assert isinstance(value, Attr)
    noun = NOUNS[value.function]
    if value.function != function:
        return _post(f"with a {NOUNS[function]} equal to x's {noun}")
    return _post(f"in x's {noun}" if function.startswith("location") else f"with x's {noun}")


def _const_fragment(const: Const, function: str) -> Fragment:
    if const.kind == "shape":
        return ("noun", const.token, const.token + "s")
    if const.kind == "size":
        return ("size", SIZE_WORDS[const.token], SIZE_WORDS[const.token])
    if const.kind == "location":
        return _post(f"in {NOUNS[function]} {const.token}")
    return (const.kind, const.token, const.token)


def _post(text: str) -> Fragment:
    return ("post", text, text)


def _np(frags: list[Fragment], plural: bool = False, tag: str = "") -> str | None:
    """"a large red cube", "objects other than x in column 3"; None if two pieces fill one slot."""
    slots = [f[0] for f in frags if f[0] != "post"]
    if len(set(slots)) != len(slots):
        return None
    index = 2 if plural else 1
    filled = {f[0]: f[index] for f in frags if f[0] != "post"}
    words = [filled[s] for s in ADJECTIVE_SLOTS if s in filled]
    words.append(filled.get("noun", "objects" if plural else "object"))
    words += [tag] if tag else []
    words += [" and ".join(f[index] for f in frags if f[0] == "post")] if "post" in [f[0] for f in frags] else []
    text = " ".join(words)
    return text if plural else ("an " if text[0] in "aeiou" else "a ") + text


def _vp(frag: Fragment, plural: bool = False) -> str:
    """The piece as a predicate: "is a cube", "are in column 3", "has x's colour"."""
    slot, singular, many = frag
    if slot == "post" and singular.startswith("with "):
        return ("have " if plural else "has ") + singular[len("with ") :]
    if slot == "noun" and not plural:
        return f"is a {singular}"
    return f"are {many}" if plural else f"is {singular}"


def _join(frags: list[Fragment], word: str) -> str:
    """Predicates joined by "and" / "or", sharing one "is": "is red and in column 3"."""
    vps = [_vp(f) for f in frags]
    for i in range(1, len(vps)):
        if vps[i].startswith("is ") and vps[i - 1].startswith("is "):
            vps[i] = vps[i][len("is ") :]
    return f" {word} ".join(vps)


def _negate(vp: str) -> str:
    if vp.startswith("has "):
        return "does not have " + vp[len("has ") :]
    return "is not " + vp[len("is ") :]
