"""The engine driver: analysis → greedy → local search → exact improvement/proof → result.

Reproducibility: every phase is limited by a deterministic budget derived from
``time_limit`` and the model (local search: a step count from a fixed nominal speed;
CP-SAT: deterministic time), so the same ``(problem, seed, time_limit)`` gives the same array
on any machine. Wall-clock deadlines are only safety stops; when one fires, the result says
so (``ExitReason.TIME_LIMIT`` and a note) because the array may then depend on the machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from math import comb
from typing import Callable

import numpy as np

from coverage_gen._seed import derive_seed
from coverage_gen.engine import _kernels as kern
from coverage_gen.engine.analysis import Analysis, analyse
from coverage_gen.engine.bounds import best_known, lower_bound
from coverage_gen.engine.greedy import complete_seed_rows, greedy_array, tables_for
from coverage_gen.engine.localsearch import ShrinkResult, shrink
from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.result import CoveringArray, ExitReason, LowerBound, PhaseStats
from coverage_gen.engine.tuples import TupleIndex, index_for
from coverage_gen.errors import CoverageGenError, SolverError

Progress = Callable[[str, int, int, float], None]

# Nominal speed of the compiled kernels, in the abstract work units they count (t-set
# visits, row scans; see ``_kernels.ST_WORK``). Fixed on purpose: budgets must not depend on
# the machine. Calibrated conservatively on the 2-core reference machine (measured
# 0.4-2e8 units per CPU second across the benchmark models, lower under load), so a run
# normally ends within ``time_limit`` there.
NOMINAL_WORK_PER_SECOND = 0.7e8
NOMINAL_OPS_PER_SECOND = NOMINAL_WORK_PER_SECOND  # old name, kept for callers
RUN_SHARE = 0.85  # of time_limit for greedy + local search (+ exact when it applies)
LS_SHARE = 0.6  # of time_limit, nominal (used by callers that budget phases themselves)
EXACT_SHARE = 0.25  # of time_limit, as CP-SAT deterministic time
# CP-SAT deterministic time granted per second of the exact phase's share (one worker).
# At 0.5 the vendor.txt proof (104 rows infeasible needs ~1.2 deterministic s) did not fit
# in the default 5 s budget; at 1.0 it does, and the whole run still ends within ~4.5 s.
EXACT_DET_PER_SECOND = 1.0
# Wall-clock safety stops fire only when the machine runs this much slower than nominal
# (so the deterministic budgets, not the clock, decide on any sane machine).
SAFETY_FACTOR = 3.0


class Unsatisfiable(CoverageGenError):
    """The constraints admit no valid row; ``conflict`` holds a minimal set of rule
    ordinals (``clause_origin`` values) that together exclude every row."""

    def __init__(self, conflict: tuple[int, ...]) -> None:
        self.conflict = tuple(conflict)
        super().__init__(f"the constraints admit no valid row (conflicting rules {self.conflict})")


@dataclass(slots=True)
class _Run:
    """Mutable bookkeeping of one ``build_array`` call."""

    problem: CoverageProblem
    index: TupleIndex
    seed: int
    time_limit: float
    progress: Progress | None
    start: float
    phases: list[PhaseStats]
    notes: list[str]
    work: np.ndarray  # int64[1]: deterministic work spent so far (greedy, local search)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def report(self, phase: str, rows: int, lower: int) -> None:
        if self.progress is not None:
            self.progress(phase, rows, lower, self.elapsed())


def build_array(
    problem: CoverageProblem,
    *,
    seed: int = 0,
    time_limit: float = 5.0,
    progress: Progress | None = None,
) -> CoveringArray:
    """A small covering array of ``problem`` holding every coverable t-tuple.

    Raises :class:`Unsatisfiable` when no row satisfies the constraints. ``time_limit`` is
    nominal seconds: it sets deterministic budgets (see module docstring). ``progress`` is
    called as ``progress(phase, rows, lower_bound, elapsed_seconds)``.
    """
    if time_limit < 0:
        raise ValueError("time_limit must be >= 0")
    _warm_up()
    run = _Run(problem, index_for(problem), seed, float(time_limit), progress,
               time.monotonic(), [], [], np.zeros(1, dtype=np.int64))
    oracle = RowOracle(problem)
    analysis = _analyse(run, oracle)
    coverable = analysis.coverable
    lower = lower_bound(problem, run.index, coverable)
    run.report("analysis", 0, lower.value)

    rows, frozen = _greedy(run, coverable, oracle, lower)
    exact_share = EXACT_SHARE if _exact_applies(run, coverable, len(rows), frozen, lower.value) else 0.0
    ls = _local_search(run, coverable, rows, frozen, lower, exact_share)
    rows = ls.rows
    rows, lower, optimal, proof = _exact(run, coverable, rows, frozen, lower)
    return _result(run, analysis, rows, lower, optimal, proof, ls)


_warm = False


def _warm_up() -> None:
    """Load (or, on a new machine, compile) the numba kernels before the clock starts, so a
    cold cache cannot eat the budget and trip a wall-clock safety stop."""
    global _warm
    if _warm:
        return
    tiny = CoverageProblem((2, 2, 3), 2, (((0, frozenset({0})), (2, frozenset({1}))),), (0,))
    index = index_for(tiny)
    oracle = RowOracle(tiny)
    coverable = analyse(tiny, index, seed=0, oracle=oracle).coverable
    rows = greedy_array(tiny, index, coverable, oracle, seed=0)
    shrink(tiny, index, coverable, rows, None, seed=0, max_steps=50, lower=1)
    _warm = True


def _analyse(run: _Run, oracle: RowOracle) -> Analysis:
    deadline = run.start + max(run.time_limit, 1.0) * SAFETY_FACTOR
    analysis = analyse(run.problem, run.index, seed=derive_seed(run.seed, "analysis"),
                       deadline=deadline, oracle=oracle)
    if not analysis.satisfiable:
        raise Unsatisfiable(analysis.conflict)
    if analysis.undecided:
        run.notes.append(f"{analysis.undecided} constrained sub-tuples undecided; treated as excluded")
    run.phases.append(PhaseStats("analysis", 0, 0, analysis.seconds,
                                 f"{analysis.excluded} tuples excluded by constraints"))
    return analysis


def _greedy(
    run: _Run, coverable: np.ndarray, oracle: RowOracle, lower: LowerBound
) -> tuple[np.ndarray, int]:
    t0 = time.monotonic()
    seed = derive_seed(run.seed, "greedy")
    rows = greedy_array(run.problem, run.index, coverable, oracle, seed=seed, work=run.work)
    frozen = len(complete_seed_rows(run.problem, oracle, seed=seed)) if run.problem.seed_rows else 0
    if frozen < len(run.problem.seed_rows):
        run.notes.append(f"{len(run.problem.seed_rows) - frozen} seed rows violate the constraints; dropped")
    run.phases.append(PhaseStats("greedy", 0, len(rows), time.monotonic() - t0,
                                 f"{frozen} seed rows" if frozen else ""))
    run.report("greedy", len(rows), lower.value)
    return rows, frozen


def ls_step_budget(problem: CoverageProblem, n_rows: int, seconds: float) -> int:
    """Deterministic step budget worth ``seconds`` at the nominal speed (for callers that
    limit steps; the driver limits work, :func:`ls_work_budget`)."""
    return int(seconds * NOMINAL_WORK_PER_SECOND / _work_per_step(problem, n_rows))


def ls_work_budget(seconds: float) -> int:
    """Deterministic work budget (``shrink(max_work=...)``) worth ``seconds``."""
    return int(max(0.0, seconds) * NOMINAL_WORK_PER_SECOND)


def _work_per_step(problem: CoverageProblem, n_rows: int) -> float:
    """Rough work of one repair step, in the kernel's units: scan every row for its
    distance to the tuple, then score the closest rows over the t-sets of the changed cell."""
    k, t = problem.num_factors, problem.strength
    v = sum(problem.levels) / k
    closest = max(1.0, n_rows * t / v ** (t - 1))
    return 400.0 + n_rows * t + closest * comb(k - 1, t - 1)


_ops_per_step = _work_per_step  # old name


def _exact_applies(
    run: _Run, coverable: np.ndarray, n_rows: int, frozen: int, lower: int
) -> bool:
    """Whether the exact phase will build a model (decided before the local search, from
    deterministic facts, so the local search may take its share when it will not)."""
    if frozen or run.time_limit <= 0:
        return False
    from coverage_gen.engine.exact import MAX_MODEL_BOOLEANS

    n_cov = int(np.count_nonzero(coverable))
    # the local search may shrink the array a lot; assume it reaches 2/3 of the greedy size
    n_guess = max(lower, (2 * n_rows) // 3)
    return n_guess * n_cov <= MAX_MODEL_BOOLEANS


def _local_search(
    run: _Run, coverable: np.ndarray, rows: np.ndarray, frozen: int, lower: LowerBound,
    exact_share: float,
) -> ShrinkResult:
    t0 = time.monotonic()
    nominal = run.time_limit * (RUN_SHARE - exact_share)
    work = max(0, ls_work_budget(nominal) - int(run.work[0]))
    work = max(work, ls_work_budget(0.02 * run.time_limit))  # always try a little

    def chunk_done(best: int, _steps: int) -> None:
        run.report("local search", best, lower.value)

    res = shrink(
        run.problem, run.index, coverable, rows, None,
        seed=derive_seed(run.seed, "localsearch"), max_steps=1 << 62, max_work=work,
        deadline=run.start + max(run.time_limit, 1.0) * SAFETY_FACTOR, lower=lower.value,
        frozen=frozen, on_progress=chunk_done,
    )
    run.work[0] += res.work
    if res.deadline_hit:
        run.notes.append("local search stopped by the wall-clock safety limit; "
                         "the array may differ on a faster machine")
    run.phases.append(PhaseStats("local search", len(rows), len(res.rows), time.monotonic() - t0,
                                 f"{res.steps} steps, {res.work} of {work} work units"))
    run.report("local search", len(res.rows), lower.value)
    return res


def _exact(
    run: _Run, coverable: np.ndarray, rows: np.ndarray, frozen: int, lower: LowerBound
) -> tuple[np.ndarray, LowerBound, bool, str]:
    """CP-SAT improvement/proof when the colleague's module is present and useful."""
    if len(rows) <= lower.value:
        return rows, lower, True, lower.reason
    budget = run.time_limit * EXACT_SHARE * EXACT_DET_PER_SECOND
    if frozen or budget <= 0:
        return rows, lower, False, ""  # the exact model does not keep seed rows in place
    try:
        from coverage_gen.engine.exact import improve_or_prove  # imports ortools
    except ImportError:
        return rows, lower, False, ""
    t0 = time.monotonic()
    out = improve_or_prove(
        run.problem, run.index, coverable, rows, lower,
        seed=derive_seed(run.seed, "exact"), deterministic_budget=budget,
        wall_deadline=t0 + run.time_limit * EXACT_SHARE * SAFETY_FACTOR + 1.0,
    )
    new_rows = np.asarray(out.rows, dtype=np.int64)
    if len(new_rows) > len(rows):  # never accept a larger array
        new_rows = rows
    best_lower = out.lower_bound if out.lower_bound.value > lower.value else lower
    run.phases.append(PhaseStats("exact", len(rows), len(new_rows), time.monotonic() - t0,
                                 out.detail))
    run.report("exact", len(new_rows), best_lower.value)
    return new_rows, best_lower, bool(out.optimal), out.proof


def _result(
    run: _Run,
    analysis: Analysis,
    rows: np.ndarray,
    lower: LowerBound,
    optimal: bool,
    proof: str,
    ls: ShrinkResult,
) -> CoveringArray:
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    coverable = analysis.coverable
    required = int(np.count_nonzero(coverable))
    tb = tables_for(run.problem, run.index)
    counts = np.zeros(run.index.num_tuples, dtype=np.int32)
    kern.count_cover(tb, rows, rows.shape[0], counts)
    covered = int(np.count_nonzero((counts > 0) & coverable))
    del counts
    if covered != required:
        raise SolverError(f"internal: array covers {covered} of {required} required tuples")
    if not all(kern.row_valid(tb, row) for row in rows):
        raise SolverError("internal: the array holds a row that breaks a constraint")
    if len(rows) <= lower.value:
        optimal, proof = True, proof or lower.reason
    if optimal:
        reason = ExitReason.OPTIMAL
    elif ls.deadline_hit:
        reason = ExitReason.TIME_LIMIT
    elif ls.last_improvement_step * 2 < ls.steps:
        reason = ExitReason.STALLED  # the second half of the budget found nothing
    else:
        reason = ExitReason.TIME_LIMIT
    known = best_known(run.problem.levels, run.problem.strength) if not run.problem.clauses else None
    return CoveringArray(
        rows=rows,
        strength=run.problem.strength,
        required=required,
        excluded=run.index.num_tuples - required,
        covered=covered,
        lower_bound=lower,
        exit_reason=reason,
        seconds=run.elapsed(),
        phases=tuple(run.phases),
        optimal=optimal,
        proof=proof if optimal else "",
        best_known=known,
        analysis_seconds=analysis.seconds,
        notes=tuple(run.notes),
        dead_values=tuple(analysis.dead_values),
    )
