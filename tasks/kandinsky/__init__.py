"""Kandinsky patterns: Pix2Code's RelKP clause concepts and the classic HCAI/NSFR patterns.

Modules, in dependency order: ``universe`` (shapes, colours, sizes, scene type), ``placement``
(non-overlapping layout), ``predicates`` and ``clauses`` (the concept language), ``sampling``
(rejection sampling of RelKP figures), ``patterns`` (the classic patterns), ``concept_list``
(the versioned concept file ``data/relkp_v0.json``) and ``concepts`` (the command that builds it),
``render`` (images) and ``family`` (the TaskFamily). The specification is
/work/shared/reference/kandinsky.md.
"""

from tasks.kandinsky.family import KandinskyFamily

__all__ = ["KandinskyFamily"]
