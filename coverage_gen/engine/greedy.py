"""Seeded AETG/density greedy: one row at a time, every row valid, every coverable tuple held.

Each row is the best of a few candidates. A candidate starts from a random uncovered tuple
of the t-set with the most uncovered tuples (AETG's seed), then fills the other factors in a
random order, each with the value that completes the most uncovered tuples (ties: the value
held by the most uncovered tuples, then random).

Cost: the kernels visit only "live" t-sets (some tuple still uncovered; lists compacted
now and then, see ``_greedy_kernels.live_compact``), which gives the same rows as visiting
all of them, and the work charged to the run's budget is what the live lists cost. Late
rows are cheap, so they get more candidates (:func:`candidates_for`, a deterministic
function of the live counts). The scan reads packed entries in order and the uncovered
tuples as bits, and the redundancy pass works from the tuples each row covered first; on
GCC t=3 the greedy with one candidate a row went from 4.3 s to 1.7 s with the same rows.

Constraints: the compiled candidate builder rejects values that falsify a clause whose
cells are all assigned, so every complete candidate is valid. That cheap check cannot see
every dead end; when all candidates of a row dead-end, the row is rebuilt value by value with
every constrained choice filtered through ``oracle.extendable`` (exact, never dead-ends).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from math import comb
from typing import Protocol

import numpy as np

from coverage_gen._seed import derive_seed, rng_for
from coverage_gen.engine import _greedy_kernels as gk
from coverage_gen.engine import _kernels as kern
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex
from coverage_gen.errors import SolverError

# Work (tuple look-ups) we allow the candidates of one row; more candidates buy a slightly
# smaller array at a linear cost, so large models get fewer.
_CANDIDATE_WORK = 4_000_000
_MAX_CANDIDATES = 24
# Per-row work up to which a cheap late row may use more candidates than the base count.
_GROW_WORK = 2_000_000
# Per-row work of a lean row (after the budget): late rows are cheap, and one candidate
# each cost GCC t=3 12 rows (121 against 109); a tenth of the growth allowance keeps most.
_LEAN_ROW_WORK = 200_000
# The live lists are compacted once dead t-sets make up 1/_COMPACT_WHEN of their entries:
# dead entries score nothing, and compacting after every row cost GCC t=3 a fifth of its
# greedy time (the scan of a dead entry is cheaper than moving the live ones).
_COMPACT_WHEN = 8


@dataclass(slots=True)
class GreedyBudget:
    """Limits of one greedy run and how it went.

    Once ``max_work`` (abstract work units, deterministic) or ``deadline``
    (``time.monotonic()``, a safety stop) is passed, the greedy goes *lean*: its candidates
    per row stop growing past ``_LEAN_ROW_WORK`` (one candidate for an expensive early row,
    a few for a cheap late one; on GCC at t = 3, 106 rows in 5.0 s against 109 in 6.7 s
    unbudgeted and 121 with one candidate a row). It always finishes: the first complete
    array is the anytime guarantee. ``lean_rows`` counts the rows built lean;
    ``deadline_hit`` says the clock (not the work budget) made the switch, so the rows may
    differ between machines.
    """

    max_work: int | None = None
    deadline: float | None = None
    lean_rows: int = 0
    deadline_hit: bool = False

    def exhausted(self, work: int) -> bool:
        if self.max_work is not None and work >= self.max_work:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.deadline_hit = True
            return True
        return False


class Oracle(Protocol):
    def extendable(self, partial: np.ndarray) -> bool: ...

    def complete(self, partial: np.ndarray, rng: np.random.Generator) -> np.ndarray | None: ...


_TABLES_CACHE: list[tuple[CoverageProblem, TupleIndex, kern.Tables]] = []


def tables_for(problem: CoverageProblem, index: TupleIndex) -> kern.Tables:
    """Compiled tables for (problem, index), cached for the last few pairs (the driver
    calls greedy and local search on the same objects; building costs a sort of all t-sets)."""
    for p, i, tb in _TABLES_CACHE:
        if p is problem and i is index:
            return tb
    tb = kern.build_tables(problem, index)
    _TABLES_CACHE.insert(0, (problem, index, tb))
    del _TABLES_CACHE[2:]
    return tb


def candidates_per_row(problem: CoverageProblem) -> int:
    """Deterministic candidate count from the model size (never from the clock)."""
    k, t = problem.num_factors, problem.strength
    vmax = max(problem.levels)
    work = k * comb(k - 1, t - 1) * (t + vmax) + comb(k, t) * t
    return max(1, min(_MAX_CANDIDATES, _CANDIDATE_WORK // max(1, work)))


def candidates_for(n_base: int, per_candidate: int) -> int:
    """Candidates for the next row: the model's base count, or more once the live lists
    (see :func:`greedy_array`) make a candidate cheap, up to ``_GROW_WORK`` per row.
    Depends only on deterministic counts."""
    if _GROW_WORK <= 0:
        return n_base
    return max(n_base, min(_MAX_CANDIDATES, _GROW_WORK // max(1, per_candidate)))


def complete_seed_rows(
    problem: CoverageProblem, oracle: Oracle, *, seed: int
) -> np.ndarray:
    """``problem.seed_rows`` as complete valid rows, in order.

    Free cells (-1) are completed by the oracle; a seed row that no valid row extends (or a
    complete one that breaks a clause) is dropped, since the array may only hold valid rows.
    """
    k = problem.num_factors
    rng = rng_for(seed, "greedy", "seed-rows")
    out: list[np.ndarray] = []
    for raw in problem.seed_rows:
        partial = np.asarray(raw, dtype=np.int64)
        if partial.shape != (k,) or np.any(partial >= np.asarray(problem.levels)):
            continue
        if np.all(partial >= 0):
            if problem.row_is_valid(partial.tolist()):
                out.append(partial)
            continue
        row = oracle.complete(partial, rng) if oracle.extendable(partial) else None
        if row is not None:
            out.append(np.asarray(row, dtype=np.int64))
    return np.array(out, dtype=np.int64).reshape(len(out), k)


def greedy_array(
    problem: CoverageProblem,
    index: TupleIndex,
    coverable: np.ndarray,
    oracle: Oracle,
    *,
    seed: int,
    work: np.ndarray | None = None,
    budget: GreedyBudget | None = None,
) -> np.ndarray:
    """A covering array (``int64[n, k]``) holding every ``coverable`` tuple.

    ``work`` (``int64[1]``), when given, grows by the abstract work spent (t-set visits),
    which the driver charges against the run's deterministic budget. ``budget`` limits the
    scoring work (see :class:`GreedyBudget`); the result is always complete.

    Seed rows (``problem.seed_rows``, completed via :func:`complete_seed_rows`) come first
    and are kept even when redundant; the greedy rows follow, and a row holding no
    ``coverable`` tuple that the other rows miss is dropped.
    The result depends only on ``(problem, coverable, seed)``.
    """
    tb = tables_for(problem, index)
    tset_unc = np.zeros(index.num_tsets, dtype=np.int64)
    fv_unc = np.zeros((problem.num_factors, max(problem.levels)), dtype=np.int64)
    coverable = np.asarray(coverable, dtype=np.bool_)
    gk.init_greedy_counts(tb, coverable, tset_unc, fv_unc)
    remaining = int(tset_unc.sum())
    ubits = gk.pack_bits(coverable)  # the uncovered tuples, as bits

    # Live lists (see ``_greedy_kernels.live_compact``): only t-sets with uncovered tuples are
    # visited, and the work charged is what the live lists cost.
    if index.num_tuples >= 2**31:
        raise SolverError("internal: the greedy's int32 tables need fewer than 2^31 tuples")
    ent = gk.live_entries(tb)
    live_len = np.diff(tb.fts_ptr).astype(np.int64)
    gl = np.arange(index.num_tsets, dtype=np.int64)
    gent = gk.global_entries(tb)
    gl_len = np.array([index.num_tsets], dtype=np.int64)

    rows = list(complete_seed_rows(problem, oracle, seed=seed))
    frozen = len(rows)
    died = np.zeros(1, dtype=np.int64)
    # Tuples in the order rows covered them first, for the redundancy pass.
    owned = np.empty(remaining, dtype=np.int32)
    n_owned = np.zeros(1, dtype=np.int64)
    owned_ptr = [0]
    for row in rows:
        remaining -= gk.commit_row_live(tb, ubits, tset_unc, fv_unc, row, gl, gent,
                                        gl_len, died, owned, n_owned)
        owned_ptr.append(int(n_owned[0]))

    counter = np.zeros(1, dtype=np.int64) if work is None else work
    counter[0] += 2 * index.num_tuples
    rng = kern.new_rng(derive_seed(seed, "greedy"))
    n_base = candidates_per_row(problem)
    row = np.empty(problem.num_factors, dtype=np.int64)
    live = gk.live_compact(tb, tset_unc, ent, live_len, gl, gent, gl_len)
    died[0] = 0
    counter[0] += int(tb.fts_set.shape[0]) + index.num_tsets
    fc = gk.new_domains(tb)
    t = index.strength
    lean = False
    while remaining > 0:
        # Exact live counts (each dead t-set leaves t per-factor entries and one global one),
        # so the work charged does not depend on when the lists were last compacted.
        live_now = live - t * int(died[0])
        gl_now = int(gl_len[0]) - int(died[0])
        per_cand = live_now + 2 * gl_now + problem.num_factors
        lean = lean or (budget is not None and budget.exhausted(int(counter[0])))
        if lean:
            n_cand = max(1, min(_MAX_CANDIDATES, _LEAN_ROW_WORK // max(1, per_cand)))
            budget.lean_rows += 1  # type: ignore[union-attr]
        else:
            n_cand = candidates_for(n_base, per_cand)
        counter[0] += n_cand * per_cand
        if gk.best_candidate_live(tb, ubits, tset_unc, fv_unc, rng, n_cand, row,
                                  ent, live_len, gl, gl_len, *fc) <= 0:
            row = _oracle_row(tb, ubits, tset_unc, fv_unc, rng, oracle, (ent, live_len, gl, gl_len))
            counter[0] += per_cand
        if not kern.row_valid(tb, row):
            raise SolverError("internal: the greedy built a row that breaks a constraint")
        gained = gk.commit_row_live(tb, ubits, tset_unc, fv_unc, row, gl, gent, gl_len,
                                    died, owned, n_owned)
        owned_ptr.append(int(n_owned[0]))
        if gained <= 0:
            raise SolverError("greedy produced a row that covers nothing new")
        remaining -= gained
        rows.append(row.copy())
        counter[0] += live_now + 2 * gl_now
        if t * int(died[0]) * _COMPACT_WHEN > live:
            live = gk.live_compact(tb, tset_unc, ent, live_len, gl, gent, gl_len)
            died[0] = 0
    array = np.array(rows, dtype=np.int64).reshape(len(rows), problem.num_factors)
    # Charged as the full redundancy pass (drop_redundant) it replaces, so the budgets
    # downstream stay as calibrated.
    counter[0] += len(rows) * index.num_tsets // kern.SCAN_DISCOUNT
    drop = gk.redundant_owned_rows(tb, array, frozen, owned,
                                   np.array(owned_ptr, dtype=np.int64))
    return np.ascontiguousarray(array[~drop])


def drop_redundant(tb: kern.Tables, rows: np.ndarray, *, frozen: int = 0) -> np.ndarray:
    """Remove rows (after the first ``frozen``) whose tuples other rows all hold."""
    cnt = np.zeros(int(tb.offsets[-1]), dtype=np.int64)
    kern.count_cover(tb, rows, rows.shape[0], cnt)
    drop = gk.redundant_rows(tb, rows, frozen, cnt)
    return np.ascontiguousarray(rows[~drop])


def _oracle_row(
    tb: kern.Tables,
    ubits: np.ndarray,
    tset_unc: np.ndarray,
    fv_unc: np.ndarray,
    rng: np.ndarray,
    oracle: Oracle,
    live: tuple[np.ndarray, ...],
) -> np.ndarray:
    """One row built value by value; constrained choices are filtered by the exact oracle.

    The seed tuple is coverable, hence extendable, and each constrained factor keeps the
    partial row extendable, so this never dead-ends and ends in a valid row.
    """
    k = tb.levels.shape[0]
    row = np.full(k, kern.FREE, dtype=np.int64)
    ent, live_len, gl, gl_len = live
    tid = gk.pick_seed_tuple_live(tb, ubits, tset_unc, rng, gl, int(gl_len[0]))
    gk.place_tuple(tb, tid, row)
    if not oracle.extendable(row):
        raise SolverError(f"tuple {tid} is marked coverable but no valid row holds it")
    order = np.empty(k, dtype=np.int64)
    m = gk.free_order(row, rng, order)
    newcov = np.empty(int(tb.levels.max()), dtype=np.int64)
    for f in order[:m].tolist():
        gk.score_values_live(tb, ubits, row, f, newcov, ent, live_len)
        levels = int(tb.levels[f])
        ranking = sorted(range(levels), key=lambda v: (-newcov[v], -fv_unc[f, v], v))
        if not tb.constrained[f]:
            row[f] = ranking[0]
            continue
        for v in ranking:
            row[f] = v
            if oracle.extendable(row):
                break
        else:
            raise SolverError("oracle found no value for an extendable partial row")
    return row
