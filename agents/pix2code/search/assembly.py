"""Goal-directed assembly of the last connective: ``Q1 x. … Qc y. (A op B)`` from banked atoms.

Bottom-up enumeration pays for every term below a cost horizon, and the number of terms grows
exponentially with cost, so it stops short of concepts made of two expensive atoms (CURI's
"some object is purple and every other object is red" costs ≈ 29 nats, two atoms of ≈ 12).
But the last steps of such a program — one binary connective under a chain of quantifiers —
are exactly where the support labels prune hardest:

* every context built from ∃, ∀ and ``some_pair`` over fixed lists is monotone, so for
  ``C[A and B]`` to be true on all positives, ``C[A]`` and ``C[B]`` must each be; for
  ``C[A or B]`` to be false on all negatives, ``C[A]`` and ``C[B]`` must each be;
* a pair of survivors is then checked on the support scenes only, with all pairs for one ``A``
  at once as numpy word operations on the atoms' support projections (one 64-bit word per
  binding of the chain's variables; bit = support scene).

Pairs come out in bands of decreasing prior, so stopping early keeps the most probable ones,
and the search ends once no remaining band could enter the solver's top k. A chain whose
variable no atom uses is skipped (``∃x. ∃y. f(y)`` is ``∃y. f(y)``, found with the shorter
chain). Pairs that fit are rebuilt as ordinary :class:`Entry` terms and scored by the solver
like any enumerated program; a cheaper program with an already-seen behaviour replaces the
dearer one.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.pix2code.dsl.types import BOOL, LIST_OBJ, OBJ
from agents.pix2code.dsl.vector_context import VectorContext
from agents.pix2code.search.bottom_up import BottomUpEnumerator
from agents.pix2code.search.entries import CompiledRule, Entry

BAND = 1.0  # nats per band of total prior cost
BATCH = 4096  # atom pairs checked per numpy reduction


def _env(depth: int) -> tuple:
    return (OBJ,) * depth + (LIST_OBJ,)


@dataclass
class _Link:
    """One quantifier of a chain: its rule (at the outer depth), its list argument, and the
    support projections of that list (K, K**depth) and of the valid bindings (K**depth,).

    ``kind`` is "exists" or "forall" (one variable) or "pair" (``some_pair``: two variables,
    an ordered pair of distinct elements)."""

    rule: CompiledRule
    list_entry: Entry
    kind: str
    members: np.ndarray
    valid: np.ndarray

    @property
    def arity(self) -> int:
        return 2 if self.kind == "pair" else 1


def _chain_depth(chain: list[_Link]) -> int:
    return sum(link.arity for link in chain)


def _var_links(chain: list[_Link]) -> list[int]:
    """For each de Bruijn index below the chain (innermost first), the link that binds it."""
    out: list[int] = []
    for t in range(len(chain) - 1, -1, -1):
        out.extend([t] * chain[t].arity)
    return out


def _links_used(free: int, chain: list[_Link]) -> int:
    """Which links of ``chain`` a term under it uses (bit per link)."""
    out = 0
    for i, link in enumerate(_var_links(chain)):
        if free >> i & 1:
            out |= 1 << link
    return out


def _links_used_many(free: np.ndarray, chain: list[_Link]) -> np.ndarray:
    """:func:`_links_used` for an int64 array of free-variable masks at once."""
    out = np.zeros_like(free)
    for i, link in enumerate(_var_links(chain)):
        out |= ((free >> i) & 1) << link
    return out


def _lists_used(chain: list[_Link]) -> int:
    """Links whose variables the chain's own list arguments use (e.g. ``(remove $0 $1)``)."""
    out = 0
    for t, link in enumerate(chain):
        out |= _links_used(link.list_entry.free(), chain[:t])
    return out


class SupportView:
    """Projections of depth-d values onto the support scenes as (K**d,) uint64 words.

    The support scenes are the first ``n_support`` (≤ 64) scenes of the context; when the
    context holds a multiple of 64 scenes the projection is a reshape of the value's bytes.
    """

    def __init__(self, ctx: VectorContext, n_support: int) -> None:
        if n_support > 64:
            raise ValueError(f"the assembly packs support scenes into 64-bit words; got {n_support} scenes")
        self.ctx, self.n = ctx, n_support
        self.mask = (1 << n_support) - 1
        self.aligned = ctx.N % 64 == 0

    def project(self, value: int, depth: int) -> np.ndarray:
        return self.project_many([value], depth)[0]

    def project_many(self, values: list[int], depth: int) -> np.ndarray:
        ctx, words = self.ctx, self.ctx.K**depth
        if self.aligned:
            nbytes = ctx.block[depth] // 8
            raw = np.frombuffer(b"".join(v.to_bytes(nbytes, "little") for v in values), dtype="<u8")
            return raw.reshape(len(values), words, ctx.N // 64)[:, :, 0] & np.uint64(self.mask)
        out = np.empty((len(values), words), dtype=np.uint64)
        N, m = ctx.N, self.mask
        for j in range(words):
            out[:, j] = [(v >> (j * N)) & m for v in values]
        return out


class Assembler:
    """Builds and checks ``C[A op B]`` candidates for one enumerator and support labelling."""

    def __init__(
        self,
        enumerator: BottomUpEnumerator,
        n_support: int,
        positives: int,
        consider: Callable[[int, Entry], None],
        worth: Callable[[float], bool] = lambda log_prior: True,
        list_choices: int = 2,
        max_atoms: int = 6000,
        words=None,
        n_view: int | None = None,
    ) -> None:
        self.en = enumerator
        self.ctx = enumerator.ctx
        # with uncertain inputs the support words also hold the alternative readings (bits S …)
        # and ``words`` (uncertain.SoftFit.words) decides fits; otherwise a fit is exact
        self.words = words
        self.view = SupportView(self.ctx, n_support if n_view is None else n_view)
        self.pos = np.uint64(positives) if words is None else words.pos
        self.neg = np.uint64(self.view.mask & ~positives) if words is None else words.neg
        self.consider = consider
        self.worth = worth
        self.list_choices = list_choices
        self.max_atoms = max_atoms
        self.checked = 0
        self.fitted = 0
        self.max_checks = 10**12

    # Chains ---------------------------------------------------------------------------------
    def _rules(self, depth: int, name: str) -> list[CompiledRule]:
        nt = self.en.nt_id(BOOL, _env(depth))
        return [] if nt is None else [r for r in self.en.rules[nt] if r.name == name]

    def _bank(self, t, depth: int) -> list[Entry]:
        nt = self.en.nt_id(t, _env(depth))
        return [] if nt is None else self.en.entries(nt)

    def chains(self) -> list[list[_Link]]:
        """Every chain of nested ∃/∀ (and ``some_pair``, where the grammar has it) over the
        cheapest list arguments, up to the depth bound."""
        K, max_depth = self.ctx.K, self.en.grammar.max_depth
        out: list[list[_Link]] = [[]]
        frontier: list[list[_Link]] = [[]]
        while frontier:
            nxt = []
            for chain in frontier:
                depth = _chain_depth(chain)
                lists = sorted(self._bank(LIST_OBJ, depth), key=lambda e: -e.log_prior)[: self.list_choices]
                valid = self.view.project(self.ctx.valid[depth], depth)
                for name, kind, arity in (("exists", "exists", 1), ("forall", "forall", 1), ("some_pair", "pair", 2)):
                    if depth + arity > max_depth:
                        continue
                    for rule in self._rules(depth, name):
                        for entry in lists:
                            members = self.view.project(entry.value, depth + 1).reshape(K, -1)
                            if kind == "pair":  # (b, a, outer): both in the list, a ≠ b
                                members = members[:, None, :] & members[None, :, :]
                                members[np.arange(K), np.arange(K)] = 0
                            nxt.append(chain + [_Link(rule, entry, kind, members, valid)])
            out.extend(nxt)
            frontier = nxt
        return out

    def _reduce(self, values: np.ndarray, chain: list[_Link]) -> np.ndarray:
        """Apply a chain to (F, K**c) support projections: (F,) scene words."""
        K = self.ctx.K
        v = values
        depth = _chain_depth(chain)
        for link in reversed(chain):
            depth -= link.arity
            if link.kind == "pair":
                v = v.reshape(v.shape[0], K * K, K**depth)
                v = np.bitwise_or.reduce(v & link.members.reshape(K * K, -1), axis=1)
                continue
            v = v.reshape(v.shape[0], K, K**depth)
            if link.kind == "forall":
                v = np.bitwise_and.reduce(v | ~link.members, axis=1) & link.valid
            else:
                v = np.bitwise_or.reduce(v & link.members, axis=1)
        return v.reshape(v.shape[0])

    # Search ---------------------------------------------------------------------------------
    def run(self, deadline: float, max_checks: int = 10**12) -> str:
        """Assemble and check pairs until ``deadline`` or ``max_checks`` pair checks; returns
        'time', 'candidates', 'bound' (nothing left could enter the top k) or 'exhausted'.

        A chain whose quantifier binds a variable that neither atom nor an inner list uses is
        skipped (``∃x. ∃y. f(y)`` is ``∃y. f(y)``, assembled with the shorter chain)."""
        self.max_checks = max_checks
        atoms_at: dict[int, tuple[list[Entry], np.ndarray, np.ndarray]] = {}
        jobs = []
        for chain in self.chains():
            if time.perf_counter() > deadline:
                return "time"
            depth = _chain_depth(chain)
            if depth not in atoms_at:
                atoms = sorted(self._bank(BOOL, depth), key=lambda e: -e.log_prior)[: self.max_atoms]
                proj = self.view.project_many([e.value for e in atoms], depth) if atoms else None
                atoms_at[depth] = (atoms, proj, np.array([e.free() for e in atoms], dtype=np.int64))
            atoms, proj, free = atoms_at[depth]
            if not atoms:
                continue
            uses = _links_used_many(free, chain)
            needed = ((1 << len(chain)) - 1) & ~_lists_used(chain)
            single = self._reduce(proj, chain)
            chain_lp = sum(link.rule.rule.log_probability + link.list_entry.log_prior for link in chain)
            self._singles(atoms, single, chain, (uses & needed) == needed)
            for name in ("and", "or"):
                for rule in self._rules(depth, name):
                    if name == "and":
                        keep = (single & self.pos) == self.pos if self.words is None else self.words.all_positive(single)
                    else:
                        keep = (single & self.neg) == 0 if self.words is None else self.words.no_negative(single)
                    idx = np.flatnonzero(keep)
                    if idx.size < 2 or not np.bitwise_or.reduce(uses[idx] & needed) == needed:
                        continue
                    jobs.append(
                        _Job(self, chain, chain_lp, rule, [atoms[i] for i in idx], proj[idx], uses[idx], needed, name == "and")
                    )
        if not jobs:
            return "exhausted"
        top = max(j.top for j in jobs)
        band = 0
        while True:
            hi = top - band * BAND
            lo = hi - BAND
            if not self.worth(hi):
                return "bound"  # no program this improbable can enter the top k
            active = False
            for job in jobs:
                if job.run_band(lo, hi, deadline):
                    active = True
                if self.checked >= self.max_checks:
                    return "candidates"
                if time.perf_counter() > deadline:
                    return "time"
            if not active:
                return "exhausted"
            band += 1

    def _singles(self, atoms: list[Entry], single: np.ndarray, chain: list[_Link], allowed: np.ndarray) -> None:
        """Chains around one atom (cheap: the enumerator may not have reached them)."""
        lp = sum(link.rule.rule.log_probability + link.list_entry.log_prior for link in chain)
        for i in np.flatnonzero(self._fits(single) & allowed):
            if self.worth(lp + atoms[i].log_prior):
                self._emit(chain, atoms[i])

    def _fits(self, words: np.ndarray) -> np.ndarray:
        return words == self.pos if self.words is None else self.words.fits(words)

    def _emit(self, chain: list[_Link], body: Entry) -> None:
        value = body.value
        entry = body
        for link in reversed(chain):
            value = link.rule.fast(value, link.list_entry.value)
            entry = Entry(
                link.rule,
                (entry, link.list_entry),
                link.rule.rule.log_probability + entry.log_prior + link.list_entry.log_prior,
                value,
            )
        seen = self.en.values[self.en.root]
        old = seen.get(value)
        if old is not None and old.log_prior >= entry.log_prior:
            return  # an equivalent program at least as probable is known
        seen[value] = entry
        self.fitted += 1
        self.consider(value, entry)


class _Job:
    """Pairs of filtered atoms for one (chain, connective)."""

    def __init__(
        self,
        owner: Assembler,
        chain: list[_Link],
        chain_lp: float,
        rule: CompiledRule,
        atoms: list[Entry],
        proj: np.ndarray,
        uses: np.ndarray,
        needed: int,
        conjunction: bool,
    ) -> None:
        self.owner, self.chain, self.rule, self.atoms, self.proj = owner, chain, rule, atoms, proj
        self.uses, self.needed = uses, needed
        self.conjunction = conjunction
        self.base = chain_lp + rule.rule.log_probability
        self.lps = [a.log_prior for a in atoms]  # descending
        self.neg_lps = [-x for x in self.lps]  # ascending, for bisect
        self.top = self.base + self.lps[0] + self.lps[1]
        self.bottom = self.base + self.lps[-1] + self.lps[-2]

    def run_band(self, lo: float, hi: float, deadline: float) -> bool:
        """Check pairs with lo < total log prior ≤ hi; returns whether cheaper bands remain.

        Pairs are checked in batches of about :data:`BATCH` (one numpy reduction each) and
        fits are emitted in the order of a pair-by-pair scan, so results do not depend on it."""
        lps, neg = self.lps, self.neg_lps
        owner = self.owner
        pending: list[tuple[int, np.ndarray]] = []
        size = 0
        stopped = False
        for i in range(len(lps) - 1):
            first = self.base + lps[i]
            if first + lps[i + 1] <= lo:
                break  # later i only have cheaper pairs: they belong to later bands
            # partners j > i with lo < first + lps[j] <= hi  ⇔  first - hi <= -lps[j] < first - lo
            j0 = max(i + 1, bisect.bisect_left(neg, first - hi))
            j1 = bisect.bisect_left(neg, first - lo)
            if j1 > j0:
                budget = owner.max_checks - owner.checked - size
                if budget <= 0:
                    stopped = True
                    break
                partners = self._partners(i, j0, min(j1, j0 + budget))
                if partners.size:
                    pending.append((i, partners))
                    size += partners.size
                if size >= BATCH:
                    self._check(pending)
                    pending, size = [], 0
                    if time.perf_counter() > deadline:
                        return True
        if pending:
            self._check(pending)
        return stopped or lo > self.bottom

    def _partners(self, i: int, j0: int, j1: int) -> np.ndarray:
        """The atoms j in [j0, j1) that, with atom i, use every variable the chain needs."""
        missing = self.needed & ~int(self.uses[i])
        if missing:
            return j0 + np.flatnonzero((self.uses[j0:j1] & missing) == missing)
        return np.arange(j0, j1)

    def _check(self, pending: list[tuple[int, np.ndarray]]) -> None:
        owner = self.owner
        firsts = np.concatenate([np.full(p.size, i) for i, p in pending])
        partners = np.concatenate([p for _, p in pending])
        a, block = self.proj[firsts], self.proj[partners]
        values = (block & a) if self.conjunction else (block | a)
        result = owner._reduce(values, self.chain)
        owner.checked += partners.size
        for k in np.flatnonzero(owner._fits(result)):
            i, j = int(firsts[k]), int(partners[k])
            if owner.worth(self.base + self.lps[i] + self.lps[j]):
                self._emit(i, j)

    def _emit(self, i: int, j: int) -> None:
        a, b = self.atoms[i], self.atoms[j]
        value = (a.value & b.value) if self.conjunction else (a.value | b.value)
        body = Entry(self.rule, (a, b), self.rule.rule.log_probability + a.log_prior + b.log_prior, value)
        self.owner._emit(self.chain, body)
