"""The Pix2Code DSL: typed λ-terms, primitives, parsing, type checking and two evaluators.

``parse(text)`` reads DreamCoder's s-expression syntax; ``typecheck(term, request)`` rejects an
ill-typed program before it runs; :mod:`~agents.pix2code.dsl.interpreter` is the reference
tree-walking semantics with a step budget; :mod:`~agents.pix2code.dsl.vector` evaluates a term
over all scenes and variable bindings at once with integer bitsets; a
:class:`~agents.pix2code.dsl.domains.Domain` fixes a family's primitives and object decoding.
"""

from agents.pix2code.dsl.domains import CURI, DOMAINS, KANDINSKY, Domain, base_primitives, domain_for_env_id, get_domain
from agents.pix2code.dsl.inference import DSLTypeError, eta_long, infer, typecheck
from agents.pix2code.dsl.interpreter import Program, RunResult, StepBudgetExceeded, classify, evaluate, run
from agents.pix2code.dsl.primitives import CATALOGUE, SceneObject
from agents.pix2code.dsl.syntax import parse
from agents.pix2code.dsl.terms import (
    Abstraction,
    Application,
    Index,
    Invented,
    Primitive,
    Term,
    beta_normal,
)
from agents.pix2code.dsl.types import Type, parse_type

__all__ = [
    "CATALOGUE",
    "CURI",
    "DOMAINS",
    "KANDINSKY",
    "Abstraction",
    "Application",
    "DSLTypeError",
    "Domain",
    "Index",
    "Invented",
    "Primitive",
    "Program",
    "RunResult",
    "SceneObject",
    "StepBudgetExceeded",
    "Term",
    "Type",
    "base_primitives",
    "beta_normal",
    "classify",
    "domain_for_env_id",
    "eta_long",
    "evaluate",
    "get_domain",
    "infer",
    "parse",
    "parse_type",
    "run",
    "typecheck",
]
