"""Local search that shrinks a complete covering array without losing coverage.

Two walks share one working array and its cover counts; whenever the array is complete it is
recorded as the best (if smaller) and its row with the fewest uniquely held tuples is dropped,
so both always work at one row below the best size.

* TCA-style walk (``_kernels.ls_run``): pick a random uncovered tuple, apply the best non-tabu
  change that makes some row hold it (the rows needing the fewest changed cells, so normally
  a single cell), scored by weighted newly covered tuples minus weighted tuples that lose
  their only row; at a local minimum, apply the best change for a random uncovered tuple
  whatever its score and add weight to every uncovered tuple.
* Focused annealing (``_kernels.sa_run``): pick a random uncovered tuple and a random row one
  cell away from holding it, and apply that change by the Metropolis rule on the change in
  uncovered tuples (temperature ``SA_TEMP_HI`` -> ``SA_TEMP_LO`` every ``SA_CYCLE`` steps).
  About 30x cheaper per step; far better on big-v models (CA(2; 10^20): 182-183 against 187).

The hybrid (``METHOD``) opens with TCA, which is best on small and t = 3 models, and hands the
array to the other walk whenever the current one has not improved the best for its patience
(``SWITCH_WORK`` work units, doubled per row it has removed more than the other walk since the
first hand-over, halved per row fewer; see :func:`_patience`). A change that would break a
clause is never made, so every row stays valid.

Determinism: the result depends only on (problem, coverable, rows, seed, max_steps,
max_work, lower, frozen, method); hand-overs are decided between compiled chunks, from the
work count only. ``max_steps`` and ``max_work`` (abstract work units counted by the
kernel: t-set visits and row scans) are the real limits; ``deadline`` is a safety stop checked between
chunks of steps, and :class:`ShrinkResult.deadline_hit` says whether it cut the run short
(only then may the result differ between machines).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from coverage_gen._seed import derive_seed
from coverage_gen.engine import _kernels as kern
from coverage_gen.engine.greedy import Oracle, tables_for
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex, index_for

# Steps per compiled call between wall-clock checks (and hand-over checks: fixed sizes, so
# the chunking is part of the deterministic run, never of the clock).
_CHUNK_STEPS = 4096
_SA_CHUNK_STEPS = 1 << 16  # annealing steps are ~30x cheaper
_CHUNK_WORK = 20_000_000  # also cut chunks by work, so a slow step cannot hide a deadline
# A changed cell may not change again for this many steps (TCA-style tabu).
TABU_TENURE = 4
# Rows scored per step: at least this many, else as many as _MOVE_WORK t-set visits allow.
_MIN_CANDS = 8
_MOVE_WORK = 400_000
# Rows examined when choosing the row to drop: all, unless that exceeds this many t-set
# visits (then a deterministic random sample of at least 4 rows).
_REMOVE_WORK = 30_000_000
# Uncovered tuples sampled per greedy-mode step.
GREEDY_SAMPLES = 1
# Rows scored per step: those needing at most this many more changed cells than the closest.
DIST_SLACK = 0
# When a tuple weight passes this, every weight is halved (forgetting); 0 = never.
WEIGHT_CAP = 0
# The walk: "sa" (fixed-N focused annealing, ``_kernels.sa_run``), "tca" (``ls_run``) or
# "hybrid" (TCA first, then alternating whenever the current walk stalls).
METHOD = "hybrid"
# Hybrid: a walk that has not improved the best for this much work hands over to the other.
SWITCH_WORK = 100_000_000
# Annealing temperature, in uncovered tuples: from SA_TEMP_HI down to SA_TEMP_LO over
# SA_CYCLE steps, then again. Tuned on CA(2; 10^20): 0.3/0.2 reached 183 in 15 s where 1.0/0.3
# and 0.5/0.2 stayed at 189-195; hotter runs keep too many tuples uncovered to ever complete.
SA_TEMP_HI = 0.3
SA_TEMP_LO = 0.2
SA_CYCLE = 200_000


@dataclass(frozen=True, slots=True, eq=False)
class ShrinkResult:
    """The best complete array seen and how the run ended.

    ``rows`` is never larger than the input and holds every coverable tuple the input held.
    ``reached_floor`` means the array reached ``lower`` (or only frozen rows are left), so no
    further shrinking is possible; ``deadline_hit`` means the wall-clock safety stop fired.
    """

    rows: np.ndarray
    steps: int
    deadline_hit: bool
    reached_floor: bool
    last_improvement_step: int
    work: int = 0  # abstract work units spent (the deterministic clock of ``max_work``)


def warm_up() -> None:
    """Load (or compile) both walks' kernels on a tiny model, so neither compiles inside a
    timed run (a short ``shrink`` call only reaches the TCA walk)."""
    problem = CoverageProblem((2, 2, 3), 2)
    index = index_for(problem)
    cov = np.ones(index.num_tuples, dtype=np.bool_)
    rows = np.array([[a, b, c] for a in range(2) for b in range(2) for c in range(3)],
                    dtype=np.int64)
    for method in ("tca", "sa"):
        shrink(problem, index, cov, rows, None, seed=0, max_steps=50, lower=1, method=method)


def _patience(credit: list[int], walk: int) -> int:
    """Work a walk may spend without improving before it hands over: SWITCH_WORK, doubled
    for each row it removed more than the other walk (halved for each fewer), within limits."""
    lead = max(-2, min(3, credit[walk] - credit[1 - walk]))
    return int(SWITCH_WORK * 2.0**lead)


def candidate_rows(index: TupleIndex) -> int:
    """Rows scored per repair step: all of them on normal models; on huge ones (one move
    visits C(k-1, t-1) t-sets) a deterministic cap keeps a step cheap."""
    per_move = max(1, index.num_tsets * index.strength // max(1, index.levels.shape[0]))
    return max(_MIN_CANDS, _MOVE_WORK // per_move)


def shrink(
    problem: CoverageProblem,
    index: TupleIndex,
    coverable: np.ndarray,
    rows: np.ndarray,
    oracle: Oracle | None = None,
    *,
    seed: int,
    max_steps: int,
    max_work: int | None = None,
    deadline: float | None = None,
    lower: int = 1,
    frozen: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
    method: str | None = None,
) -> ShrinkResult:
    """Shrink the complete, valid array ``rows`` (``int64[n, k]``).

    ``oracle`` is unused: rows are complete, so the compiled clause check is exact for them;
    it is accepted for interface symmetry with the greedy. The first ``frozen`` rows (seed
    rows) are never changed or dropped. ``deadline`` is a ``time.monotonic()`` value.
    ``method`` overrides :data:`METHOD` ("hybrid", "tca" or "sa").
    """
    del oracle
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n, k = rows.shape
    tb = tables_for(problem, index)
    cov = np.ascontiguousarray(coverable, dtype=np.bool_)
    num = index.num_tuples

    work = rows.copy()
    best = rows.copy()
    tabu = np.full((n, k), kern.TABU_NEVER, dtype=np.int64)
    cnt = np.zeros(num, dtype=np.int32)
    weight = np.ones(num, dtype=np.int64)
    unc_list = np.empty(num, dtype=np.int64)
    unc_pos = np.empty(num, dtype=np.int64)
    st = np.zeros(kern.ST_SIZE, dtype=np.int64)
    kern.ls_init(tb, cov, work, n, cnt, unc_list, unc_pos, st)
    st[kern.ST_WORK] = n * index.num_tsets // kern.SCAN_DISCOUNT  # the initial count
    st[kern.ST_BEST] = n + 1 if st[kern.ST_UNC] == 0 else n  # a complete input is re-recorded
    rng = kern.new_rng(derive_seed(seed, "localsearch"))

    max_cands = candidate_rows(index)
    floor = max(1, lower, frozen)
    done = n <= floor
    deadline_hit = False
    work_end = (1 << 62) if max_work is None else int(max_work)
    remove_sample = max(4, _REMOVE_WORK // max(1, index.num_tsets))
    method = METHOD if method is None else method
    if method not in ("hybrid", "tca", "sa"):
        raise ValueError(f"unknown local search method {method!r}")
    use_sa = method == "sa"  # the current walk; the hybrid opens with TCA
    mark = int(st[kern.ST_WORK])  # work at the phase's start or its last improvement
    mark_best = int(st[kern.ST_BEST])
    credit = [0, 0]  # rows removed by each walk (tca, sa): the better one gets more patience
    switched = False
    while not done and st[kern.ST_STEP] < max_steps and st[kern.ST_WORK] < work_end:
        chunk_work = min(work_end, int(st[kern.ST_WORK]) + _CHUNK_WORK)
        if use_sa:
            end = min(max_steps, int(st[kern.ST_STEP]) + _SA_CHUNK_STEPS)
            done = kern.sa_run(
                tb, cov, work, tabu, cnt, unc_list, unc_pos, best, st, rng, end, chunk_work,
                frozen, floor, remove_sample, SA_TEMP_HI, SA_TEMP_LO, SA_CYCLE,
            )
        else:
            end = min(max_steps, int(st[kern.ST_STEP]) + _CHUNK_STEPS)
            done = kern.ls_run(
                tb, cov, work, tabu, cnt, weight, unc_list, unc_pos, best, st, rng, end,
                chunk_work, frozen, floor, TABU_TENURE, GREEDY_SAMPLES, max_cands,
                remove_sample, DIST_SLACK, WEIGHT_CAP,
            )
        if st[kern.ST_BEST] < mark_best:
            if switched:  # the opening walk's easy early gains earn it no credit
                credit[use_sa] += mark_best - int(st[kern.ST_BEST])
            mark, mark_best = int(st[kern.ST_WORK]), int(st[kern.ST_BEST])
        elif method == "hybrid" and st[kern.ST_WORK] - mark >= _patience(credit, use_sa):
            use_sa = not use_sa  # this walk stalled: hand the array to the other one
            mark, switched = int(st[kern.ST_WORK]), True
        if on_progress is not None:
            on_progress(min(int(st[kern.ST_BEST]), n), int(st[kern.ST_STEP]))
        if not done and deadline is not None and time.monotonic() >= deadline:
            deadline_hit = st[kern.ST_STEP] < max_steps and st[kern.ST_WORK] < work_end
            break
    size = min(int(st[kern.ST_BEST]), n)
    return ShrinkResult(
        rows=np.ascontiguousarray(best[:size]),
        steps=int(st[kern.ST_STEP]),
        deadline_hit=deadline_hit,
        reached_floor=bool(done) or n <= floor,
        last_improvement_step=int(st[kern.ST_LAST]),
        work=int(st[kern.ST_WORK]),
    )
