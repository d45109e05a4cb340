"""Flat indexing of all t-tuples of a problem, shared by greedy, local search and CP-SAT.

The t-sets are the combinations of ``t`` factors in lexicographic order. Tuple ``(s, vals)``
has the global index ``offsets[s] + sum(vals[j] * radix[s, j])`` (mixed radix, last factor
fastest). Everything is a flat numpy array so compiled loops (numba) can use it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Iterator, Sequence

import numpy as np

from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.errors import CoverageGenError

# The engine keeps about 40 bytes per t-tuple (coverable mask, cover counts, weights,
# uncovered lists) and scans every t-set per greedy row, so past this many tuples a run
# needs several GB and minutes before its first row (GCC at t=4: 1.1e9 tuples, 20 GB+
# before it was stopped). Refuse such a problem up front instead. The largest shared
# benchmark at its usual strength (Syn_19, t=3) has 1.5e7.
MAX_TUPLES = 100_000_000
BYTES_PER_TUPLE = 40


class ProblemTooLarge(CoverageGenError):
    """The t-tuples to cover exceed :data:`MAX_TUPLES`; ``fitting`` is the largest strength
    (at least 1) whose tuple count fits, for the caller's message."""

    def __init__(self, strength: int, factors: int, tsets: int, tuples: int, fitting: int) -> None:
        self.strength, self.factors, self.tsets, self.tuples = strength, factors, tsets, tuples
        self.fitting = fitting
        gigabytes = tuples * BYTES_PER_TUPLE / 1e9
        super().__init__(
            f"strength {strength} over {factors} factors means covering {tuples:,} value "
            f"combinations ({tsets:,} sets of {strength} factors), about {gigabytes:,.1f} GB of "
            f"working memory; the engine holds at most {MAX_TUPLES:,} combinations. Valid: "
            f"strength {fitting} or lower for these factors, fewer factors, or the high "
            f"strength only on a group of factors (a sub-model)"
        )


@dataclass(frozen=True, slots=True, eq=False)
class TupleIndex:
    strength: int
    levels: np.ndarray  # int64[k]
    tsets: np.ndarray  # int64[n_tsets, t]: factor indices, ascending
    radix: np.ndarray  # int64[n_tsets, t]: multiplier of each position
    offsets: np.ndarray  # int64[n_tsets + 1]: first global index of each t-set, then total

    @property
    def num_tuples(self) -> int:
        return int(self.offsets[-1])

    @property
    def num_tsets(self) -> int:
        return int(self.tsets.shape[0])

    def tuple_id(self, tset: int, values: Sequence[int]) -> int:
        return int(self.offsets[tset] + np.dot(self.radix[tset], np.asarray(values)))

    def decode(self, tuple_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Global index → (factors, values)."""
        s = int(np.searchsorted(self.offsets, tuple_id, side="right") - 1)
        rest = tuple_id - int(self.offsets[s])
        values = []
        for j in range(self.strength):
            r = int(self.radix[s, j])
            values.append(rest // r)
            rest %= r
        return tuple(int(f) for f in self.tsets[s]), tuple(values)

    def row_tuple_ids(self, row: Sequence[int] | np.ndarray) -> np.ndarray:
        """Global indices of the ``C(k, t)`` tuples one complete row covers."""
        r = np.asarray(row, dtype=np.int64)
        return self.offsets[:-1] + (r[self.tsets] * self.radix).sum(axis=1)

    def covered_mask(self, rows: np.ndarray) -> np.ndarray:
        """Boolean mask over all tuples: covered by at least one of ``rows``."""
        mask = np.zeros(self.num_tuples, dtype=bool)
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, self.levels.shape[0])
        for row in rows:
            mask[self.row_tuple_ids(row)] = True
        return mask


def tuple_space(levels: Sequence[int], strength: int) -> tuple[int, int]:
    """``(t-sets, t-tuples)`` of ``levels`` at ``strength``, exactly and without building
    them: the tuple count is the elementary symmetric polynomial of the level counts."""
    sums = [1] + [0] * strength  # sums[j]: tuples over every j-subset of the factors seen
    for size in levels:
        for j in range(strength, 0, -1):
            sums[j] += sums[j - 1] * int(size)
    return comb(len(levels), strength), sums[strength]


def check_size(levels: Sequence[int], strength: int) -> None:
    """Raise :class:`ProblemTooLarge` when the problem has more than MAX_TUPLES tuples."""
    tsets, tuples = tuple_space(levels, strength)
    if tuples <= MAX_TUPLES:
        return
    fitting = max([1] + [t for t in range(1, strength) if tuple_space(levels, t)[1] <= MAX_TUPLES])
    raise ProblemTooLarge(strength, len(levels), tsets, tuples, fitting)


def build_tuple_index(levels: Sequence[int], strength: int) -> TupleIndex:
    """The flat index of every t-tuple (raises :class:`ProblemTooLarge` past MAX_TUPLES)."""
    check_size(levels, strength)
    k = len(levels)
    lv = np.asarray(levels, dtype=np.int64)
    n = comb(k, strength)
    tsets = np.fromiter(
        (f for ts in combinations(range(k), strength) for f in ts),
        dtype=np.int64,
        count=n * strength,
    ).reshape(n, strength)
    sizes = lv[tsets]
    radix = np.ones_like(sizes)
    for j in range(strength - 2, -1, -1):
        radix[:, j] = radix[:, j + 1] * sizes[:, j + 1]
    counts = radix[:, 0] * sizes[:, 0] if strength else np.ones(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return TupleIndex(strength, lv, tsets, radix, offsets)


def index_for(problem: CoverageProblem) -> TupleIndex:
    return build_tuple_index(problem.levels, problem.strength)


def iter_tuples(index: TupleIndex, tuple_ids: Sequence[int]) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
    for tid in tuple_ids:
        yield index.decode(int(tid))
