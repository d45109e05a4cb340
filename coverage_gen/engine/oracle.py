"""The row oracle: can a partial row still be completed to a valid row?

Exact: a depth-first search with unit propagation over the set-literal clauses, domains as
bitmasks, smallest domain first (``cover._oracle_kernels``, compiled with numba). Only
factors that occur in some clause take part; every other factor is free, so its value never
matters. Decisions are memoised on the restriction of the partial row to the constrained
factors, because a greedy asks about the same constrained prefix many times.
"""

from __future__ import annotations

import numpy as np

from coverage_gen.engine import _oracle_kernels as kern
from coverage_gen.engine.problem import Clause, CoverageProblem, normalise_clause
from coverage_gen.errors import UsageError

_MEMO_LIMIT = 1 << 20  # entries; cleared when full so memory stays bounded on long runs


class RowOracle:
    """Decides extendability of partial rows and samples valid completions.

    Parameters
    ----------
    problem:
        The covering problem whose clauses define validity.

    Examples
    --------
    >>> p = CoverageProblem((2, 2), 2, clauses=(((0, frozenset({1})),),), clause_origin=(0,))
    >>> o = RowOracle(p)
    >>> o.extendable(np.array([0, -1])), o.extendable(np.array([1, -1]))
    (False, True)
    """

    def __init__(self, problem: CoverageProblem) -> None:
        self.problem = problem
        self.levels = np.asarray(problem.levels, dtype=np.int64)
        clauses = _normalised(problem)
        self._never = any(len(c) == 0 for c in clauses)  # an empty clause: no valid row
        used = sorted({f for clause in clauses for f, _ in clause})
        self.constrained = np.asarray(used, dtype=np.int64)
        self._local = {f: i for i, f in enumerate(used)}
        local_levels = self.levels[self.constrained]
        self._words = max(1, (int(local_levels.max(initial=1)) + 63) // 64)
        self._k_levels = local_levels
        self._lit_start, self._lit_f, self._lit_mask = self._flatten(clauses)
        self._full = _full_domains(local_levels, self._words)
        self._value_prio = np.broadcast_to(
            np.arange(int(local_levels.max(initial=1)), dtype=np.float64),
            (len(used), int(local_levels.max(initial=1))),
        ).copy()
        self._memo: dict[bytes, bool] = {}

    # -- public -------------------------------------------------------------------------

    @property
    def has_constraints(self) -> bool:
        return self._never or self.constrained.size > 0

    def extendable(self, partial: np.ndarray) -> bool:
        """True iff some complete valid row agrees with ``partial`` (-1 = free cell)."""
        result = self.decide(partial, node_limit=-1)
        assert result is not None  # no node limit: always decided
        return result

    def decide(self, partial: np.ndarray, *, node_limit: int = -1) -> bool | None:
        """Like :meth:`extendable`, but ``None`` after ``node_limit`` branches (< 0: none)."""
        if self._never:
            return False
        if self.constrained.size == 0:
            return True
        key_values = self._restrict(partial)
        key = key_values.tobytes()
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        dom = self._domains(key_values)
        out = np.empty_like(dom)
        status = kern.search(
            dom, self._lit_start, self._lit_f, self._lit_mask,
            self._k_levels, self._value_prio, node_limit, out,
        )
        if status == kern.LIMIT:
            return None
        result = status == kern.FOUND
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = result
        return result

    def complete(self, partial: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        """A valid row agreeing with ``partial``, or ``None`` if there is none.

        Random but reproducible: values are tried in an order drawn from ``rng`` and free
        cells of unconstrained factors are drawn uniformly from ``rng``.
        """
        row = np.array(partial, dtype=np.int64, copy=True).reshape(-1)
        self._check_partial(row)
        if self._never:
            return None
        k = self.levels.shape[0]
        free = row < 0
        draws = rng.integers(0, np.iinfo(np.int64).max, size=k) % self.levels
        row[free] = draws[free]
        if self.constrained.size == 0:
            return row
        restricted = row[self.constrained]
        restricted[free[self.constrained]] = -1
        if self._memo.get(restricted.tobytes()) is False:
            return None
        prio = rng.random(self._value_prio.shape)
        dom = self._domains(restricted)
        out = np.empty_like(dom)
        status = kern.search(
            dom, self._lit_start, self._lit_f, self._lit_mask,
            self._k_levels, prio, -1, out,
        )
        if status != kern.FOUND:
            return None
        for i, f in enumerate(self.constrained):
            row[f] = kern.pick_value(out, i, self._k_levels, prio)
        return row

    # -- internals ----------------------------------------------------------------------

    def _check_partial(self, row: np.ndarray) -> None:
        if row.shape != self.levels.shape:
            raise UsageError(f"partial row needs {self.levels.shape[0]} cells, got {row.shape}")
        if np.any(row >= self.levels):
            raise UsageError("partial row holds a value index beyond its factor's levels")

    def _restrict(self, partial: np.ndarray) -> np.ndarray:
        row = np.asarray(partial, dtype=np.int64).reshape(-1)
        self._check_partial(row)
        return row[self.constrained]

    def _domains(self, values: np.ndarray) -> np.ndarray:
        dom = self._full.copy()
        for i in np.flatnonzero(values >= 0):
            v = int(values[i])
            dom[i] = 0
            dom[i, v >> 6] = np.uint64(1) << np.uint64(v & 63)
        return dom

    def _flatten(self, clauses: list[Clause]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_lits = sum(len(c) for c in clauses)
        lit_start = np.zeros(len(clauses) + 1, dtype=np.int64)
        lit_f = np.zeros(n_lits, dtype=np.int64)
        lit_mask = np.zeros((n_lits, self._words), dtype=np.uint64)
        pos = 0
        for c, clause in enumerate(clauses):
            for f, values in clause:
                lit_f[pos] = self._local[f]
                for v in values:
                    lit_mask[pos, v >> 6] |= np.uint64(1) << np.uint64(v & 63)
                pos += 1
            lit_start[c + 1] = pos
        return lit_start, lit_f, lit_mask


def _normalised(problem: CoverageProblem) -> list[Clause]:
    """Clauses with one literal per factor and tautologies dropped, so that "one possible
    literal" in propagation really means one factor."""
    out: list[Clause] = []
    for clause in problem.clauses:
        norm = normalise_clause(clause, problem.levels)
        if norm is not None:
            out.append(norm)
    return out


def _full_domains(levels: np.ndarray, words: int) -> np.ndarray:
    dom = np.zeros((levels.shape[0], words), dtype=np.uint64)
    for i, n in enumerate(levels):
        for w in range(words):
            bits = min(64, max(0, int(n) - 64 * w))
            dom[i, w] = np.uint64((1 << bits) - 1) if bits < 64 else np.uint64(2**64 - 1)
    return dom
