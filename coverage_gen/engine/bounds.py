"""Lower bounds on the number of rows, and a table of published best-known sizes.

Only proven arguments are used:

* **t-set bound** — each row covers exactly one tuple of every t-set, so ``N`` is at least
  the number of coverable tuples in any one t-set (any strength, any constraints).
* The remaining bounds need *every* t-tuple to be coverable; then the array is an ordinary
  covering array and the CAN bounds hold. Collapsing values (mapping a factor's values onto
  fewer) keeps coverage, so the factors with at least ``v`` values give a ``CA(t, k_v, v)``:
  - **Kleitman–Spencer / Katona** (1973): ``CAN(2, k, 2)`` is the least ``N`` with
    ``C(N-1, ceil(N/2)) >= k`` (exact);
  - **Bush bound for orthogonal arrays**: ``v^2`` rows covering every pair exactly once form
    an OA of index 1, which has at most ``v + 1`` columns, so ``CAN(2, k, v) >= v^2 + 1``
    when ``k >= v + 2``;
  - **derived arrays**: the rows with one column fixed to one value cover every
    ``(t-1)``-tuple of the other columns, so ``CAN(t, k, v) >= v * CAN(t-1, k-1, v)``.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb, prod
from typing import Sequence

import numpy as np

from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.result import LowerBound
from coverage_gen.engine.tuples import TupleIndex


def tset_bound(index: TupleIndex, coverable: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """(largest number of coverable tuples in one t-set, that t-set's factor indices)."""
    if index.num_tsets == 0:
        return 0, ()
    counts = np.add.reduceat(coverable.astype(np.int64), index.offsets[:-1])
    counts[np.diff(index.offsets) == 0] = 0  # reduceat quirk on empty segments
    s = int(np.argmax(counts))
    return int(counts[s]), tuple(int(f) for f in index.tsets[s])


def lower_bound(problem: CoverageProblem, index: TupleIndex, coverable: np.ndarray) -> LowerBound:
    """The best proven lower bound for ``problem`` given its coverable tuples.

    The bound's ``factors`` are the t-set that attains it; the report maps them to names.
    """
    count, factors = tset_bound(index, coverable)
    best = LowerBound(
        count,
        f"largest number of coverable tuples over any {index.strength} factors: {count}",
        factors,
    )
    if coverable.size and bool(coverable.all()):
        closed = closed_form_bound(problem.levels, index.strength)
        if closed is not None and closed.value > best.value:
            best = closed
    return best


def closed_form_bound(levels: Sequence[int], strength: int) -> LowerBound | None:
    """The best CAN lower bound over the uniform instances obtained by collapsing values."""
    best: LowerBound | None = None
    for v in sorted(set(levels)):
        if v < 2:
            continue
        k_v = sum(1 for n in levels if n >= v)
        if k_v < strength:
            continue
        value, why = _uniform_bound(strength, k_v, v)
        if best is None or value > best.value:
            note = "" if k_v == len(levels) else f" (the {k_v} factors with >= {v} values)"
            best = LowerBound(value, f"{why}{note}")
    return best


@lru_cache(maxsize=None)
def _uniform_bound(t: int, k: int, v: int) -> tuple[int, str]:
    """Lower bound on CAN(t, k, v) with its argument, recursively."""
    trivial = (v**t, f"{v}^{t} = {v**t}")
    if t == 1:
        return v, f"{v} values"
    if t == 2:
        if v == 2:
            n = kleitman_spencer(k)
            return max(n, 4), f"Kleitman-Spencer/Katona: CAN(2,{k},2) = {n}"
        if k >= v + 2:
            return v * v + 1, f"no orthogonal array OA({v * v}; 2, {k}, {v}) for {k} > {v}+1"
        return trivial
    inner, why = _uniform_bound(t - 1, k - 1, v)
    if v * inner > trivial[0]:
        return v * inner, f"CAN({t},{k},{v}) >= {v}*CAN({t - 1},{k - 1},{v}) >= {v * inner} ({why})"
    return trivial


def kleitman_spencer(k: int) -> int:
    """CAN(2, k, 2): the least N with C(N-1, ceil(N/2)) >= k (Kleitman–Spencer 1973)."""
    if k <= 1:
        return 2 if k == 1 else 1
    n = 2
    while comb(n - 1, -(-n // 2)) < k:
        n += 1
    return max(n, 4)


# Published best-known sizes of *unconstrained* instances: Colbourn's covering array
# tables (Nov 2024 snapshot) and exact results; see docs/ENGINE-NOTES and
# data/benchmarks/REFERENCE.csv. Key: ((level, count), ... descending by level), strength.
_BEST_KNOWN: dict[tuple[tuple[tuple[int, int], ...], int], int] = {
    (((3, 4),), 2): 9,  # OA(9; 2, 4, 3), optimal
    (((3, 13),), 2): 15,
    (((4, 15),), 2): 26,
    (((10, 20),), 2): 155,
    (((10, 10),), 2): 115,
    (((6, 20),), 2): 61,
    (((3, 100),), 2): 22,
    (((5, 1), (3, 8), (2, 2)), 2): 15,  # optimal: 5*3
    (((10, 2), (4, 1), (3, 2), (2, 7)), 2): 100,  # TCAS, optimal: 10*10
    (((3, 4),), 3): 27,
    (((3, 6),), 3): 33,
    (((4, 6),), 3): 64,
    (((5, 6),), 3): 125,
    (((6, 6),), 3): 258,
    (((2, 10),), 3): 12,
    (((3, 13),), 3): 45,
    (((4, 10),), 3): 100,
    (((4, 15),), 3): 124,
    (((10, 10),), 3): 1215,
}


def _signature(levels: Sequence[int]) -> tuple[tuple[int, int], ...]:
    counts: dict[int, int] = {}
    for n in levels:
        counts[n] = counts.get(n, 0) + 1
    return tuple(sorted(counts.items(), reverse=True))


def best_known(levels: Sequence[int], strength: int) -> int | None:
    """Published best-known size of the unconstrained instance, if it is a standard one.

    Binary strength-2 instances are answered exactly by Kleitman–Spencer for every k.
    """
    if strength == 2 and len(levels) >= 2 and all(n == 2 for n in levels):
        return kleitman_spencer(len(levels))
    return _BEST_KNOWN.get((_signature(levels), strength))


def trivial_bound(levels: Sequence[int], strength: int) -> int:
    """Product of the ``strength`` largest level counts."""
    return prod(sorted(levels, reverse=True)[:strength])
