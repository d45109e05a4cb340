"""The plain greedy kernels (every t-set visited, no forward checking): the reference the
live-list kernels in ``coverage_gen.engine._greedy_kernels`` must reproduce draw for draw on
unconstrained models (``tests/unit/engine/test_greedy.py``). Test-only code."""

from __future__ import annotations

import numpy as np
from numba import njit

from coverage_gen.engine._kernels import FREE, Tables, factor_clauses_ok, rng_below, tuple_id
from coverage_gen.engine._greedy_kernels import free_order, place_tuple


@njit(cache=True)
def pick_seed_tuple(tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, rng: np.ndarray) -> int:
    """AETG's seed: a random uncovered tuple of a t-set with the most uncovered tuples."""
    best = -1
    best_c = 0
    ties = 0
    for s in range(tset_unc.shape[0]):
        c = tset_unc[s]
        if c > best_c:
            best, best_c, ties = s, c, 1
        elif c == best_c and c > 0:
            ties += 1
            if rng_below(rng, ties) == 0:
                best = s
    if best < 0:
        return -1
    pick = rng_below(rng, best_c)
    for tid in range(tb.offsets[best], tb.offsets[best + 1]):
        if uncov[tid]:
            if pick == 0:
                return tid
            pick -= 1
    return -1


@njit(cache=True, inline="always")
def score_values(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, row: np.ndarray, f: int,
    newcov: np.ndarray,
) -> None:
    """``newcov[v]``: uncovered tuples that ``row[f] = v`` completes, counting only t-sets
    whose other factors are already assigned (AETG's criterion). T-sets without uncovered
    tuples are skipped (most of them, after the first rows)."""
    t = tb.tsets.shape[1]
    for v in range(tb.levels[f]):
        newcov[v] = 0
    for m in range(tb.fts_ptr[f], tb.fts_ptr[f + 1]):
        s = tb.fts_set[m]
        if tset_unc[s] == 0:
            continue
        pos = tb.fts_pos[m]
        base = tb.offsets[s]
        ok = True
        for j in range(t):
            if j != pos:
                x = row[tb.tsets[s, j]]
                if x < 0:
                    ok = False
                    break
                base += x * tb.radix[s, j]
        if ok:
            r = tb.radix[s, pos]
            for v in range(tb.levels[f]):
                if uncov[base + v * r]:
                    newcov[v] += 1


@njit(cache=True)
def count_new(tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, row: np.ndarray) -> int:
    c = 0
    for s in range(tb.tsets.shape[0]):
        if tset_unc[s] != 0 and uncov[tuple_id(tb, row, s)]:
            c += 1
    return c


@njit(cache=True)
def build_candidate(
    tb: Tables,
    uncov: np.ndarray,
    tset_unc: np.ndarray,
    fv_unc: np.ndarray,
    rng: np.ndarray,
    row: np.ndarray,
    order: np.ndarray,
    newcov: np.ndarray,
) -> int:
    """One AETG candidate row; returns its new coverage, or -1 at a dead end.

    Values are ranked by (tuples completed, uncovered tuples holding the value, random).
    A value is skipped when it falsifies a clause whose cells are all assigned; that keeps
    complete rows valid but cannot see every dead end, which the caller then handles with
    the exact oracle.
    """
    row[:] = FREE
    tid = pick_seed_tuple(tb, uncov, tset_unc, rng)
    if tid < 0:
        return -1
    place_tuple(tb, tid, row)
    m = free_order(row, rng, order)
    for i in range(m):
        f = order[i]
        score_values(tb, uncov, tset_unc, row, f, newcov)
        best_v = -1
        best_a = -1
        best_b = -1
        ties = 0
        for v in range(tb.levels[f]):
            if tb.constrained[f]:
                row[f] = v
                ok = factor_clauses_ok(tb, row, f)
                row[f] = FREE
                if not ok:
                    continue
            a = newcov[v]
            b = fv_unc[f, v]
            if a > best_a or (a == best_a and b > best_b):
                best_v, best_a, best_b, ties = v, a, b, 1
            elif a == best_a and b == best_b:
                ties += 1
                if rng_below(rng, ties) == 0:
                    best_v = v
        if best_v < 0:
            return -1
        row[f] = best_v
    return count_new(tb, uncov, tset_unc, row)


@njit(cache=True)
def best_candidate(
    tb: Tables,
    uncov: np.ndarray,
    tset_unc: np.ndarray,
    fv_unc: np.ndarray,
    rng: np.ndarray,
    n_cand: int,
    out_row: np.ndarray,
    work: np.ndarray,
) -> int:
    """Best of ``n_cand`` candidates into ``out_row``; -1 when every candidate dead-ended.
    ``work[0]`` grows by the t-set visits spent (the greedy's deterministic cost)."""
    k = out_row.shape[0]
    row = np.empty(k, dtype=np.int64)
    order = np.empty(k, dtype=np.int64)
    newcov = np.empty(tb.levels.max(), dtype=np.int64)
    best = -1
    S = tb.tsets.shape[0]
    for _ in range(n_cand):
        work[0] += tb.fts_set.shape[0] + 2 * S
        gain = build_candidate(tb, uncov, tset_unc, fv_unc, rng, row, order, newcov)
        if gain > best:
            best = gain
            out_row[:] = row
    return best


@njit(cache=True)
def commit_row(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray, row: np.ndarray
) -> int:
    """Mark the tuples of a complete row covered; returns how many were new."""
    t = tb.tsets.shape[1]
    c = 0
    for s in range(tb.tsets.shape[0]):
        tid = tuple_id(tb, row, s)
        if uncov[tid]:
            uncov[tid] = False
            tset_unc[s] -= 1
            for j in range(t):
                f = tb.tsets[s, j]
                fv_unc[f, row[f]] -= 1
            c += 1
    return c
