"""Constraint analysis: satisfiability, a minimal conflict, dead values, coverable tuples.

A t-tuple is coverable iff its restriction to the *constrained* factors (those some clause
mentions) extends to a valid row, since every other factor is free. So the work happens on
sub-tuples over constrained factors only, of size 1..t:

1. a sub-tuple that violates a clause whose scope lies inside it is excluded at once;
2. sub-tuples held by a few hundred random valid rows (``RowOracle.complete``) are coverable;
3. every leftover is decided exactly by the oracle (CP-SAT when the oracle hits its node
   limit). Only *minimal* non-coverable sub-tuples are searched for: one whose smaller
   sub-tuples are not all coverable is excluded already.

The full mask starts all-true and each minimal non-coverable sub-tuple clears every
t-tuple that extends it (vectorised with numpy over the t-sets containing its factors).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex

WITNESS_ROWS = 300
ORACLE_NODE_LIMIT = 200_000  # beyond this a single CP-SAT call is cheaper

SubTuple = tuple[tuple[int, ...], tuple[int, ...]]  # (factors ascending, values)


@dataclass(frozen=True, slots=True, eq=False)
class Analysis:
    """What the constraints allow.

    ``conflict`` holds rule ordinals (``clause_origin`` values), minimal, when the rules
    admit no row; ``dead_values`` the (factor, value) pairs no valid row can hold;
    ``coverable[i]`` whether tuple ``i`` of the index occurs in some valid row;
    ``excluded`` the number of tuples that do not. ``undecided`` counts constrained
    sub-tuples the solvers could not decide before ``deadline`` (treated as excluded; 0 in
    practice).
    """

    satisfiable: bool
    conflict: tuple[int, ...]
    dead_values: tuple[tuple[int, int], ...]
    coverable: np.ndarray
    excluded: int
    seconds: float
    undecided: int = 0


def analyse(
    problem: CoverageProblem,
    index: TupleIndex,
    *,
    seed: int = 0,
    deadline: float | None = None,
    oracle: RowOracle | None = None,
) -> Analysis:
    """Analyse ``problem``'s constraints against the tuples of ``index``.

    ``deadline`` is an absolute ``time.monotonic()`` value; it only bounds the CP-SAT
    fallback, the oracle work is always done (the mask must be exact).
    """
    start = time.perf_counter()
    oracle = oracle or RowOracle(problem)
    n = index.num_tuples
    if not oracle.extendable(np.full(problem.num_factors, -1, dtype=np.int64)):
        conflict = _conflict(problem, seed)
        return Analysis(False, conflict, (), np.zeros(n, dtype=bool), n,
                        time.perf_counter() - start)
    finder = _ExcludedFinder(problem, index, oracle, seed, deadline)
    minimal = finder.run()
    coverable = np.ones(n, dtype=bool)
    for factors, values in minimal:
        coverable[_extensions(index, factors, values)] = False
    dead = tuple(sorted((fs[0], vs[0]) for fs, vs in minimal if len(fs) == 1))
    excluded = int(n - np.count_nonzero(coverable))
    return Analysis(True, (), dead, coverable, excluded, time.perf_counter() - start,
                    finder.undecided)


def _conflict(problem: CoverageProblem, seed: int) -> tuple[int, ...]:
    from coverage_gen.engine.cpsat import RowModel  # ortools only when rules conflict

    return RowModel(problem, seed=seed).minimal_conflict()


class _ExcludedFinder:
    """Finds the minimal non-coverable sub-tuples over constrained factors, size 1..t."""

    def __init__(
        self,
        problem: CoverageProblem,
        index: TupleIndex,
        oracle: RowOracle,
        seed: int,
        deadline: float | None,
    ) -> None:
        self.problem = problem
        self.oracle = oracle
        self.constrained = [int(f) for f in oracle.constrained]
        self.t = min(index.strength, len(self.constrained))
        self.seed = seed
        self.deadline = deadline
        self.levels = np.asarray(problem.levels, dtype=np.int64)
        self.witnesses = self._witness_rows()
        self.undecided = 0
        self._row_model = None

    def run(self) -> list[SubTuple]:
        minimal: list[SubTuple] = []
        bad: set[SubTuple] = set()  # every non-coverable sub-tuple of the previous size
        for j in range(1, self.t + 1):
            found = self._size(j, bad)
            minimal.extend(s for s, is_min in found if is_min)
            bad = {s for s, _ in found}
        return minimal

    def _witness_rows(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0x5EED])
        free = np.full(self.problem.num_factors, -1, dtype=np.int64)
        rows = [self.oracle.complete(free, rng) for _ in range(WITNESS_ROWS)]
        return np.array([r for r in rows if r is not None], dtype=np.int64)

    def _size(self, j: int, smaller_bad: set[SubTuple]) -> list[tuple[SubTuple, bool]]:
        """Non-coverable sub-tuples of size ``j``, each flagged minimal or not."""
        out: list[tuple[SubTuple, bool]] = []
        rng = np.random.default_rng([self.seed, j])
        for factors in combinations(self.constrained, j):
            held = self._held(factors)
            for values in np.ndindex(*(int(self.levels[f]) for f in factors)):
                if held[values]:
                    continue
                sub = (factors, tuple(int(v) for v in values))
                if j > 1 and self._has_bad_part(sub, smaller_bad):
                    out.append((sub, False))
                    continue
                if self._violates_local_clause(sub) or not self._coverable(sub, rng, held):
                    out.append((sub, True))
        return out

    def _held(self, factors: tuple[int, ...]) -> np.ndarray:
        """bool array over the value grid of ``factors``: held by some witness row."""
        shape = tuple(int(self.levels[f]) for f in factors)
        held = np.zeros(shape, dtype=bool)
        if self.witnesses.size:
            held[tuple(self.witnesses[:, f] for f in factors)] = True
        return held

    @staticmethod
    def _has_bad_part(sub: SubTuple, smaller_bad: set[SubTuple]) -> bool:
        factors, values = sub
        j = len(factors)
        for drop in range(j):
            part = (factors[:drop] + factors[drop + 1:], values[:drop] + values[drop + 1:])
            if part in smaller_bad:
                return True
        return False

    def _violates_local_clause(self, sub: SubTuple) -> bool:
        assignment = dict(zip(*sub))
        for clause in self.problem.clauses:
            if all(f in assignment for f, _ in clause) and not any(
                assignment[f] in vals for f, vals in clause
            ):
                return True
        return False

    def _coverable(self, sub: SubTuple, rng: np.random.Generator, held: np.ndarray) -> bool:
        partial = np.full(self.problem.num_factors, -1, dtype=np.int64)
        partial[list(sub[0])] = sub[1]
        verdict = self.oracle.decide(partial, node_limit=ORACLE_NODE_LIMIT)
        if verdict is None:
            verdict = self._cpsat(partial)
        if verdict:
            # a fresh witness often settles many leftovers of the same t-set at once
            row = self.oracle.complete(partial, rng)
            if row is not None:
                held[tuple(row[f] for f in sub[0])] = True
        return bool(verdict)

    def _cpsat(self, partial: np.ndarray) -> bool:
        from coverage_gen.engine.cpsat import RowModel, rows_as_fixed

        if self._row_model is None:
            self._row_model = RowModel(self.problem, seed=self.seed)
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.undecided += 1
            return False
        verdict = self._row_model.satisfiable(fixed=rows_as_fixed(partial))
        if verdict is None:
            self.undecided += 1
            return False
        return verdict


# ---------------------------------------------------------------------------------------
# vectorised marking
# ---------------------------------------------------------------------------------------


def tset_ranks(index: TupleIndex, tsets: np.ndarray) -> np.ndarray:
    """Lexicographic rank of each sorted t-set row (its row in ``index.tsets``):
    ``C(k,t) - 1 - sum_i C(k-1-c_i, t-i)``."""
    k = int(index.levels.shape[0])
    t = index.strength
    pascal = _pascal(k, t)
    rank = np.full(tsets.shape[0], comb(k, t) - 1, dtype=np.int64)
    for i in range(t):
        rank -= pascal[k - 1 - tsets[:, i], t - i]
    return rank


def _pascal(n: int, t: int) -> np.ndarray:
    table = np.zeros((n + 1, t + 1), dtype=np.int64)
    for a in range(n + 1):
        for b in range(t + 1):
            table[a, b] = comb(a, b)
    return table


def _extensions(index: TupleIndex, factors: tuple[int, ...], values: tuple[int, ...]) -> np.ndarray:
    """Global ids of every t-tuple whose factors include ``factors`` with ``values``."""
    t = index.strength
    k = int(index.levels.shape[0])
    j = len(factors)
    others = np.array([f for f in range(k) if f not in factors], dtype=np.int64)
    extra = np.array(list(combinations(others.tolist(), t - j)), dtype=np.int64)
    extra = extra.reshape(len(extra), t - j)
    fixed = np.broadcast_to(np.asarray(factors, dtype=np.int64), (extra.shape[0], j))
    tsets = np.concatenate([fixed, extra], axis=1)
    order = np.argsort(tsets, axis=1, kind="stable")
    tsets = np.take_along_axis(tsets, order, axis=1)
    ranks = tset_ranks(index, tsets)
    radix = index.radix[ranks]  # radix of each position, sorted order
    base = index.offsets[ranks].copy()
    is_fixed = order < j  # position holds one of ``factors``
    padded = np.asarray(tuple(values) + (0,) * (t - j), dtype=np.int64)
    base += (np.where(is_fixed, padded[order], 0) * radix).sum(axis=1)
    m = tsets.shape[0]
    ids = base[:, None]
    valid = np.ones((m, 1), dtype=bool)
    free_pos = np.argsort(is_fixed, axis=1, kind="stable")[:, : t - j]
    rows = np.arange(m)
    for p in range(t - j):
        # every value of the p-th free position (levels differ between t-sets)
        pos = free_pos[:, p]
        lv = index.levels[tsets[rows, pos]]
        grid = np.arange(int(lv.max()))
        ids = (ids[:, :, None] + grid[None, None, :] * radix[rows, pos][:, None, None]).reshape(m, -1)
        ok = grid[None, :] < lv[:, None]
        valid = (valid[:, :, None] & ok[:, None, :]).reshape(m, -1)
    return ids[valid]
