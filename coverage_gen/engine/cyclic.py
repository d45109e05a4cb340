"""Cyclic seed arrays for uniform, unconstrained problems at strength 3 and up.

The local search shrinks a greedy array of CA(3; 3^13) to 61-62 rows and stalls there.
Arrays with structure do better: ``m`` base rows developed under the rotation of the
columns, plus the ``v`` constant rows (the shape of the cyclic constructions in the
covering-array literature). On 3^13, 4 base rows give 3 + 4 * 13 = 55 rows; a tabu search
on the base rows (``_kernels.cyclic_tabu``, counts per orbit of t-sets, so a change costs a
few hundred look-ups) completes the array for most seeds (at 60 s for each of seeds 0-7),
and the redundancy pass and the walk take it to 52-55. :func:`cyclic_seed` searches until
an array is complete or its budget is spent, completes the best one with the greedy, and
returns it when it is smaller than the greedy array; the driver starts the walk from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from math import comb

import numpy as np

from coverage_gen._seed import derive_seed
from coverage_gen.engine import _kernels as kern
from coverage_gen.engine.greedy import Oracle, drop_redundant, greedy_array, tables_for
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex

MIN_STRENGTH = 3  # at t = 2 the greedy and the walk already reach the classic targets
MAX_ROTATED_TSETS = 2_000_000  # C(k, t) * k: the cost of finding the orbit representatives
# Rows of the cyclic part, as a share of the greedy array's (3^13: 73 greedy rows, 4 base
# rows, 55 rows; 3 base rows, 42 rows, left 18-24 orbits to the completion and the walk
# stalled at 60-61).
ROWS_SHARE = 0.8
# Tabu steps of one round (1e8 work units on 3^13). Over 8 rounds, redrawing one base row
# of the best completed 3^13 in 4 runs of 6; fresh random restarts in 1 of 6; annealing
# did worse still (1 run of 4 at 3e8 units, none of 24 at 1e8).
ROUND_STEPS = 5_000
TABU_TENURE = 6  # steps a changed cell stays fixed, plus 0-2 at random
# Rounds without gain after which a fresh basin starts: at 60 s, 3^13 seeds 2 and 3 spent
# some 20 rounds redrawing rows of one base that stayed 1-2 orbit tuples short.
FRESH_AFTER = 6


def applies(problem: CoverageProblem) -> bool:
    """Uniform levels, no rules, no seed rows, ``MIN_STRENGTH <= t < k``, and few enough
    t-sets to find their orbits cheaply."""
    levels = problem.levels
    k, t = len(levels), problem.strength
    return (not problem.clauses and not problem.seed_rows and len(set(levels)) == 1
            and levels[0] >= 2 and MIN_STRENGTH <= t < k
            and comb(k, t) * k <= MAX_ROTATED_TSETS)


def base_rows_for(problem: CoverageProblem, greedy_rows: int) -> int:
    """How many base rows the cyclic part gets (0: none fits under the greedy size)."""
    k, v = problem.num_factors, int(problem.levels[0])
    return max(0, int(ROWS_SHARE * greedy_rows - v) // k)


def orbit_representatives(k: int, tsets: np.ndarray) -> np.ndarray:
    """One t-set per orbit under rotating ``k`` columns (the smallest code of each orbit)."""
    t = tsets.shape[1]
    weights = k ** np.arange(t - 1, -1, -1, dtype=np.int64)
    codes = np.full(tsets.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
    for s in range(k):
        rotated = np.sort((tsets + s) % k, axis=1)
        np.minimum(codes, rotated @ weights, out=codes)
    return np.ascontiguousarray(tsets[tsets @ weights == codes])


def develop(base: np.ndarray, v: int) -> np.ndarray:
    """The constant rows, then every rotation of every base row."""
    m, k = base.shape
    read = (np.arange(k)[None, :] + np.arange(k)[:, None]) % k  # [shift, column] -> column read
    rotations = base[:, read].reshape(m * k, k)
    constants = np.repeat(np.arange(v, dtype=np.int64)[:, None], k, axis=1)
    return np.ascontiguousarray(np.vstack([constants, rotations]), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class CyclicSeed:
    """What :func:`cyclic_seed` did: ``rows`` (None: no smaller array), the cyclic part's
    size, the orbit tuples it left to the greedy, the work spent, whether the clock cut it."""

    rows: np.ndarray | None
    cyclic_rows: int
    left: int
    work: int
    deadline_hit: bool


def search_base(m: int, k: int, v: int, reps: np.ndarray, *, seed: int, max_work: int,
                deadline: float | None = None) -> tuple[np.ndarray, int, int, bool]:
    """Iterated tabu search: rounds of ROUND_STEPS, each from the best base of the current
    basin with one base row drawn afresh; a basin starts from random base rows, and a new
    one after FRESH_AFTER rounds without gain. Ends when a round leaves no orbit tuple
    uncovered, ``max_work`` is spent or (a safety stop) ``deadline`` passes. Returns
    ``(best base, its uncovered orbit tuples, work spent, deadline hit)``."""
    rng = kern.new_rng(seed)
    round_work = ROUND_STEPS * kern.cyclic_step_work(m, k, v, reps)
    start = _random_rows(rng, m, k, v)
    best, best_left = start, -1
    basin, basin_left, stale = start, -1, 0
    spent, late = 0, False
    while spent < max_work and best_left != 0:
        if best_left >= 0 and deadline is not None and time.monotonic() >= deadline:
            late = True
            break
        if stale >= FRESH_AFTER:
            base, basin_left, stale = _random_rows(rng, m, k, v), -1, 0
        else:
            base = basin.copy()
            if basin_left >= 0:
                base[kern.rng_below(rng, m)] = _random_rows(rng, 1, k, v)[0]
        run = min(round_work, max_work - spent)
        left = int(kern.cyclic_tabu(base, reps, v, rng, run, TABU_TENURE))
        spent += run
        if basin_left < 0 or left < basin_left:
            basin, basin_left, stale = base, left, 0
        else:
            stale += 1
        if best_left < 0 or left < best_left:
            best, best_left = base, left
    return best, best_left, spent, late


def _random_rows(rng: np.ndarray, m: int, k: int, v: int) -> np.ndarray:
    return np.array([[kern.rng_below(rng, v) for _ in range(k)] for _ in range(m)], dtype=np.int64)


def cyclic_seed(
    problem: CoverageProblem,
    index: TupleIndex,
    coverable: np.ndarray,
    oracle: Oracle,
    greedy_rows: int,
    *,
    seed: int,
    max_work: int,
    deadline: float | None = None,
) -> CyclicSeed:
    """A complete array (the searched cyclic part, then greedy rows for what it misses)
    when the problem qualifies and the array is smaller than ``greedy_rows``. The restarts
    are counted in work units, so the result is deterministic unless ``deadline`` fires."""
    m = base_rows_for(problem, greedy_rows) if applies(problem) else 0
    if m < 1 or max_work <= 0:
        return CyclicSeed(None, 0, 0, 0, False)
    k, v = problem.num_factors, int(problem.levels[0])
    reps = orbit_representatives(k, index.tsets)
    base, left, spent, late = search_base(m, k, v, reps, seed=derive_seed(seed, "cyclic"),
                                          max_work=max_work, deadline=deadline)
    cyclic = develop(base, v)
    missing = coverable & ~index.covered_mask(cyclic)
    rest = (greedy_array(problem, index, missing, oracle, seed=derive_seed(seed, "cyclic-rest"))
            if missing.any() else cyclic[:0])
    rows = drop_redundant(tables_for(problem, index), np.vstack([cyclic, rest]))
    return CyclicSeed(rows if len(rows) < greedy_rows else None, len(cyclic), left, spent, late)


def warm_up() -> None:
    """Compile (or load) the tabu kernel on a toy problem."""
    tsets = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], dtype=np.int64)
    search_base(1, 4, 2, orbit_representatives(4, tsets), seed=0, max_work=1000)
