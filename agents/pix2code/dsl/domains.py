"""Domains: per task family, the primitive set, the type universe, and how object tables decode.

A :class:`Domain` is everything the synthesiser needs to know about a family and nothing
about its concepts: which catalogue primitives programs may use (with default grammar
log-weights), the request type (``list(obj) -> bool``: a scene is its list of objects), the
finite set of ground types the enumerator instantiates polymorphic primitives at, and how an
observation's ``(S, K, F)`` object table becomes scenes for both evaluators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from agents.pix2code.dsl.primitives import BASE_NAMES, CATEGORIES, PAPER_INDEX, SPECS, PrimitiveSpec, SceneObject
from agents.pix2code.dsl.scene_table import SceneTable
from agents.pix2code.dsl.terms import Primitive
from agents.pix2code.dsl.types import BOOL, INT, LIST_OBJ, OBJ, TCon, Type, arrow, list_of
from pix2code_env import ObjectSchema, object_schema

Scene = tuple[SceneObject, ...]


@dataclass(frozen=True)
class Domain:
    """A family's DSL and object decoding.

    ``weights`` gives the default (unnormalised) log-weight of each primitive; a grammar may
    override them (learned weights) and add inventions. ``max_depth`` bounds nested object
    binders for the enumerator. ``decode`` maps ``(objects (S, K, F), mask (S, K))`` to a
    :class:`SceneTable`. ``attribute_values`` gives the values of each categorical column (its
    one-hot block) and ``layout`` the columns of a scene's spatial layout; the search draws
    synthetic scenes with observed layouts and uniform attributes
    (see :mod:`agents.pix2code.search.pool`). ``negatives`` is how the family picks support
    negatives, as the likelihood models it: "weak" for chosen near misses (CURI's hard
    negatives), "uniform" for random non-members (Kandinsky); see
    :class:`~agents.pix2code.search.likelihood.SizePrinciple`. ``dsl`` names the base DSL;
    ``overrides`` replaces catalogue primitives of the same name (the paper DSL's ``index``).
    """

    name: str
    primitives: tuple[str, ...]
    weights: Mapping[str, float]
    log_variable: float
    types: tuple[Type, ...]
    n_features: int
    max_objects: int
    decode: Callable[[np.ndarray, np.ndarray], SceneTable]
    attribute_values: Mapping[str, tuple[str, ...]]
    layout: tuple[str, ...] = ()
    negatives: str = "weak"
    max_depth: int = 2
    request: Type = field(default_factory=lambda: arrow(LIST_OBJ, BOOL))
    dsl: str = "default"
    overrides: Mapping[str, PrimitiveSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [p for p in self.primitives if p not in SPECS]
        if unknown:
            raise ValueError(f"domain {self.name}: unknown primitives {unknown}")

    def spec(self, name: str) -> PrimitiveSpec:
        return self.overrides.get(name) or SPECS[name]

    @property
    def terms(self) -> list[Primitive]:
        return [self.spec(p).term for p in self.primitives]

    @property
    def parse_table(self) -> dict[str, Primitive]:
        return {t.name: t for t in self.terms}

    def table(self, objects: np.ndarray, mask: np.ndarray) -> SceneTable:
        """Decode a batch of object tables (``(S, K, F)`` and ``(S, K)``) for the vectorised evaluator."""
        objects = np.asarray(objects, dtype=np.float64)
        mask = np.asarray(mask).astype(bool)
        if objects.ndim != 3 or objects.shape[2] != self.n_features:
            raise ValueError(
                f"domain {self.name}: object table must have shape (scenes, slots, {self.n_features}), got {objects.shape}"
            )
        if mask.shape != objects.shape[:2]:
            raise ValueError(f"domain {self.name}: mask shape {mask.shape} does not match objects {objects.shape[:2]}")
        return self.decode(objects, mask)

    def scenes(self, objects: np.ndarray, mask: np.ndarray) -> list[Scene]:
        """The same scenes as tuples of :class:`SceneObject` for the tree-walking interpreter."""
        return scenes_from_table(self.table(objects, mask))


def scenes_from_table(table: SceneTable) -> list[Scene]:
    out = []
    for s in range(table.n_scenes):
        objs = []
        for k in range(table.n_slots):
            if not table.mask[s, k]:
                continue
            attrs: dict[str, object] = {}
            for name, (category, codes) in table.categorical.items():
                attrs[name] = CATEGORIES[category][int(codes[s, k])]
            for name in (*table.integer, *table.derived):
                attrs[name] = int(table.column(name)[s, k])
            for name, values in table.continuous.items():
                attrs[name] = float(values[s, k])
            objs.append(SceneObject(k, attrs))
        out.append(tuple(objs))
    return out


@dataclass(frozen=True)
class SchemaDecoder:
    """Decodes an env's object tables through its self-described schema (``object_schema``).

    One-hot attributes named like a DSL category (shape, colour, material, size) become codes
    into :data:`CATEGORIES`; ``bins`` maps a numeric attribute to the integer attribute of its
    bin (CURI's location bins: floor(pixels / (scale / bins))); ``continuous`` maps a DSL
    attribute to a numeric column, kept as stored (0..1).
    """

    schema: ObjectSchema
    bins: Mapping[str, str] = field(default_factory=dict)
    continuous: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, objects: np.ndarray, mask: np.ndarray) -> SceneTable:
        codes = self.schema.decode(objects, mask)
        categorical = {}
        for name, values in self.schema.categorical.items():
            if name in CATEGORIES:
                lookup = np.array([CATEGORIES[name].index(v) for v in values], dtype=np.int64)
                categorical[name] = (name, lookup[np.maximum(codes[name], 0)])
        integer = {}
        for attribute, name in self.bins.items():
            column = self.schema.column(attribute)
            pixels = np.rint(np.nan_to_num(codes[attribute], nan=0.0))
            integer[name] = np.floor_divide(pixels, column.scale / column.bins).astype(np.int64)
        continuous = {
            name: objects[..., self.schema.names.index(self.schema.column(attribute).name)]
            for name, attribute in self.continuous.items()
        }
        return SceneTable(mask, categorical, integer, continuous)


def _universe(*categories: str) -> tuple[Type, ...]:
    """Atoms, and lists of everything an object can be mapped to except booleans: counting
    "objects satisfying p" is ``count`` over an attribute list, and list(bool) would mostly
    add the truth tables of every predicate again, as lists."""
    atoms: list[Type] = [BOOL, INT, OBJ] + [TCon(c) for c in categories]
    return tuple(atoms) + tuple(list_of(t) for t in atoms if t != BOOL)


# Default log-weights. Uniform weights (DreamCoder's starting point) spread probability over
# list plumbing (fold, cons, index, ...) that no concept of these families needs; these
# defaults make the relational core (quantifiers, equality, attributes, connectives) cheaper
# and the rest dearer, the role inside–outside plays after a first round of learning. They are
# a prior, not a restriction: every primitive keeps non-zero probability.
_COMMON_WEIGHTS: dict[str, float] = {
    "true": -3.0, "not": -0.5, "and": 0.0, "or": -1.0, "eq?": 1.0, "gt?": -0.5,
    "max": -5.0, "min": -5.0, "map": -0.5, "index": -5.0, "fold": -5.0, "length": -3.0,
    "if": -5.0, "+": -5.0, "-": -5.0, "empty": -5.0, "cons": -5.0, "car": -5.0, "cdr": -5.0,
    "empty?": -5.0, "forall": 0.0, "exists": 0.0, "count": -0.5, "find": -5.0,
}  # fmt: skip

CURI_DECODER = SchemaDecoder(
    object_schema("Pix2Code-CURI-v0"), bins={"px": "xbin", "py": "ybin"}, continuous={"x": "px", "y": "py"}
)
CURI_SHAPES, CURI_COLORS, CURI_MATERIALS, CURI_SIZES = (
    CURI_DECODER.schema.categorical[name] for name in ("shape", "color", "material", "size")
)
KANDINSKY_DECODER = SchemaDecoder(object_schema("Pix2Code-Kandinsky-v0"), continuous={"x": "x", "y": "y", "s": "s"})
KANDINSKY_SHAPES, KANDINSKY_COLORS, KANDINSKY_SIZES = (
    KANDINSKY_DECODER.schema.categorical[name] for name in ("shape", "color", "size")
)

CURI_PRIMITIVES = BASE_NAMES + (
    "color", "shape", "material", "size", "xbin", "ybin", "remove",
) + CURI_COLORS + CURI_SHAPES + CURI_MATERIALS + CURI_SIZES  # fmt: skip

CURI_WEIGHTS: dict[str, float] = {
    **_COMMON_WEIGHTS,
    **{str(i): -1.0 for i in range(10)},
    "color": 0.0, "shape": 0.0, "material": 0.0, "size": 0.0, "xbin": 0.0, "ybin": 0.0, "remove": -0.5,
    **{c: 0.0 for c in CURI_COLORS + CURI_SHAPES + CURI_MATERIALS + CURI_SIZES},
}  # fmt: skip

CURI = Domain(
    name="curi",
    primitives=CURI_PRIMITIVES,
    weights=CURI_WEIGHTS,
    log_variable=0.0,
    types=_universe("color", "shape", "material", "size"),
    n_features=CURI_DECODER.schema.width,
    max_objects=CURI_DECODER.schema.max_objects,
    decode=CURI_DECODER,
    attribute_values={"shape": CURI_SHAPES, "color": CURI_COLORS, "material": CURI_MATERIALS, "size": CURI_SIZES},
    layout=("xbin", "ybin", "x", "y"),
    max_depth=2,
)

#: Relations that name concepts of the Kandinsky family (RelKP's predicates and pair clauses): in
#: the catalogue, but in no base DSL — a library must learn them (the paper's point).
KANDINSKY_CONCEPT_RELATIONS = (
    "same_color", "same_shape", "same_size", "one_red_triangle", "some_pair", "two_pairs", "three_pairs",
)  # fmt: skip

# ``closeby`` and ``online`` stay: they are perceptual relations (distance and collinearity of
# centres, as NSFR's neural predicates), not concepts of the family.
KANDINSKY_PRIMITIVES = BASE_NAMES + (
    "color", "shape", "size", "remove", "pair", "closeby", "online",
) + KANDINSKY_COLORS + KANDINSKY_SHAPES + KANDINSKY_SIZES  # fmt: skip

KANDINSKY_WEIGHTS: dict[str, float] = {
    **_COMMON_WEIGHTS,
    **{str(i): -1.0 for i in range(10)},
    "color": 0.0, "shape": 0.0, "size": 0.0, "remove": -0.5, "pair": 0.0, "closeby": 0.0, "online": 0.0,
    **{c: 0.0 for c in KANDINSKY_COLORS + KANDINSKY_SHAPES + KANDINSKY_SIZES},
}  # fmt: skip

KANDINSKY = Domain(
    name="kandinsky",
    primitives=KANDINSKY_PRIMITIVES,
    weights=KANDINSKY_WEIGHTS,
    log_variable=0.0,
    types=_universe("color", "shape", "size"),
    n_features=KANDINSKY_DECODER.schema.width,
    max_objects=KANDINSKY_DECODER.schema.max_objects,
    decode=KANDINSKY_DECODER,
    attribute_values={"shape": KANDINSKY_SHAPES, "color": KANDINSKY_COLORS},
    layout=("size", "s", "x", "y"),
    negatives="uniform",
    max_depth=2,
)

DOMAINS: dict[str, Domain] = {"curi": CURI, "kandinsky": KANDINSKY}


# The paper DSL (``dsl="paper"``, pix2code.md §4-5): Pix2Code's 24 primitives and the integers
# 0-9 with uniform weights, objects read only as ``index k o`` of their integer vectors: a box
# in pixels (x1, y1, x2, y2), then category ids in the paper's codes. CURI's box comes from the
# centre and the size class (a CLEVR object of size "large" is twice as wide as a "small" one;
# the clevr-vqa heuristic Pix2Code used needs the 3-D scene, which an observation lacks);
# Kandinsky's from the centre and the relative size on the paper's 640-pixel canvas.
def _box(axis: str, sign: int, canvas: float, half: Callable[[SceneTable], np.ndarray]):
    return lambda t: np.rint(t.continuous[axis] * canvas + sign * half(t))


def _ids(attribute: str, order: tuple[str, ...]):
    def column(t: SceneTable) -> np.ndarray:
        category, codes = t.categorical[attribute]
        return np.array([order.index(v) if v in order else -1 for v in CATEGORIES[category]])[codes]

    return column


def _curi_half(t: SceneTable) -> np.ndarray:
    return np.where(t.categorical["size"][1] == CATEGORIES["size"].index("large"), 16.0, 8.0)


def _kandinsky_half(t: SceneTable) -> np.ndarray:
    return t.continuous["s"] * 320.0


def _vector(half, width: float, height: float, *ids) -> dict[str, Callable[[SceneTable], np.ndarray]]:
    box = (_box("x", -1, width, half), _box("y", -1, height, half), _box("x", 1, width, half), _box("y", 1, height, half))
    return {f"index{i}": f for i, f in enumerate(box + ids)}


#: position -> column of the paper's object vectors: CURI [x1, y1, x2, y2, size, color, shape, material]
#: on our 240x160 renders, Kandinsky [x1, y1, x2, y2, size, color, shape] on 640x640 (pix2code.md §4.2-4.3)
PAPER_VECTORS = {
    "curi": _vector(_curi_half, 240.0, 160.0, _ids("size", ("small", "large")),
                    _ids("color", ("gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan")),
                    _ids("shape", ("cube", "sphere", "cylinder")), _ids("material", ("rubber", "metal"))),
    "kandinsky": _vector(_kandinsky_half, 640.0, 640.0, _ids("size", ("small", "medium", "big")),
                         _ids("color", ("red", "blue", "yellow")), _ids("shape", ("triangle", "square", "circle"))),
}  # fmt: skip


@dataclass(frozen=True)
class VectorDecoder:
    """A family's decoder whose tables also hold the paper's object vectors (derived columns)."""

    base: Callable[[np.ndarray, np.ndarray], SceneTable]
    vector: Mapping[str, Callable[[SceneTable], np.ndarray]]

    def __call__(self, objects: np.ndarray, mask: np.ndarray) -> SceneTable:
        t = self.base(objects, mask)
        return SceneTable(t.mask, t.categorical, t.integer, t.continuous, self.vector)


def _paper(domain: Domain) -> Domain:
    return replace(
        domain, primitives=BASE_NAMES, weights={p: 0.0 for p in BASE_NAMES}, log_variable=0.0,
        types=(BOOL, INT, OBJ, list_of(INT), LIST_OBJ), decode=VectorDecoder(domain.decode, PAPER_VECTORS[domain.name]),
        dsl="paper", overrides={"index": PAPER_INDEX},
    )  # fmt: skip


PAPER_DOMAINS: dict[str, Domain] = {name: _paper(d) for name, d in DOMAINS.items()}
DSLS = ("default", "paper")


def base_primitives(family: str, dsl: str = "default") -> tuple[str, ...]:
    """The names of a base DSL's primitives (``dsl="default"``: the readable accessors and
    constants, no relation that names a concept of the family; ``"paper"``: Pix2Code's 24
    primitives and the integers 0-9)."""
    return get_domain(family, dsl).primitives

def domain_for_env_id(env_id: str, dsl: str = "default") -> Domain:
    """The domain of a registered ConceptEnv id: the one named after its task family."""
    import gymnasium as gym

    import pix2code_env  # noqa: F401  (registers the ids)

    try:
        family = gym.spec(env_id).kwargs.get("family")
    except gym.error.Error as error:
        raise ValueError(f"no DSL domain for env id {env_id!r}: {error}") from None
    if family not in DOMAINS:
        raise ValueError(f"no DSL domain for env id {env_id!r}: its family {family!r} is not one of {sorted(DOMAINS)}")
    return get_domain(family, dsl)


def get_domain(name: str, dsl: str = "default") -> Domain:
    if dsl not in DSLS:
        raise ValueError(f"unknown base DSL {dsl!r}; expected one of {list(DSLS)}")
    try:
        return (PAPER_DOMAINS if dsl == "paper" else DOMAINS)[name]
    except KeyError:
        raise ValueError(f"unknown domain {name!r}; expected one of {sorted(DOMAINS)}") from None
