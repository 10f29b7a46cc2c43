"""The Pix2Code agent: concepts as typed λ-calculus programs over object tables.

``dsl/`` (types, terms, primitives, interpreters), ``search/`` (grammar, enumeration, the
maximum-posterior solver) and ``agent.py`` (the plug-in registered as ``pix2code``).
"""

from agents.pix2code.agent import Pix2CodeAgent, Pix2CodeClassifier

__all__ = ["Pix2CodeAgent", "Pix2CodeClassifier"]
