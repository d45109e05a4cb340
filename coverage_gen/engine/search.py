"""The engine driver: analysis → greedy → local search → exact improvement/proof → result.

Reproducibility: every phase is limited by a deterministic budget derived from
``time_limit`` and the model (greedy and local search: abstract work units at a nominal
speed; CP-SAT: deterministic time), so the same ``(problem, seed, time_limit)`` gives the
same array on any machine that is fast enough. ``time_limit`` is also a wall-clock bound on
the whole call: the greedy switches to cheap rows, the local search and CP-SAT stop when
their wall-clock share is spent. When the clock rather than a budget ends a phase, the
result says so in its notes, because the array may then depend on the machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from coverage_gen._seed import derive_seed
from coverage_gen.engine import _kernels as kern
from coverage_gen.engine import cyclic
from coverage_gen.engine.analysis import Analysis, analyse
from coverage_gen.engine.bounds import best_known, lower_bound
from coverage_gen.engine.greedy import GreedyBudget, complete_seed_rows, greedy_array, tables_for
from coverage_gen.engine.localsearch import ShrinkResult, shrink
from coverage_gen.engine.localsearch import warm_up as warm_up_local_search
from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.result import CoveringArray, ExitReason, LowerBound, PhaseStats
from coverage_gen.engine.tuples import TupleIndex, index_for
from coverage_gen.errors import CoverageGenError, SolverError

Progress = Callable[[str, int, int, float], None]

# Nominal speed of the compiled kernels, in the abstract work units they count (t-set
# visits, row scans, annealing steps; see ``_kernels.ST_WORK``). Fixed on purpose: budgets
# must not depend on the machine. Calibrated on the 2-core reference machine with
# ``shrink(max_work=5e8)`` per model (benchmarks/README.md, "Calibration"): unconstrained
# models ran at 0.77-1.34e8 units/s, constrained ones at 0.50-1.0e8 (their clause checks
# are not all charged), so each class gets about its slowest measured speed and a run's
# budget normally ends before the wall-clock stop at ``time_limit``.
NOMINAL_WORK_PER_SECOND = 0.75e8
CONSTRAINED_SPEED = 0.65  # factor on the nominal speed for models with clauses
RUN_SHARE = 0.85  # of time_limit for greedy + local search (+ exact when it applies)
LS_SHARE = 0.6  # of time_limit, nominal (used by callers that budget phases themselves)
EXACT_SHARE = 0.25  # of time_limit, as CP-SAT deterministic time
# The greedy may grow its candidate count until it has spent this share of time_limit
# (nominal work units, deterministic) or the wall clock passes GREEDY_WALL_SHARE of it;
# then it finishes lean, with few candidates per row (see greedy.GreedyBudget).
# At 0.5/0.6 GCC t=3 went lean after 21 of 120 rows at a 10 s limit (unbudgeted it builds
# 109 rows): where the budget binds, greedy rows are worth more than a few steps.
GREEDY_SHARE = 0.6
GREEDY_WALL_SHARE = 0.7
# Neither grows past a 10 s limit (6 nominal seconds of work, 7 s of wall clock): beyond it
# more candidates per row bought nothing the walk did not (GCC t=3 at 60 s: 99 rows against
# 97 at 10 s), while Syn_19 t=3 spent 4-5 s in the greedy.
GREEDY_MAX_SECONDS = 6.0
# The local search keeps at least this share of time_limit (nominal) however much the
# greedy spent (GCC t=3 at 10 s: 107 -> 97 rows with 0.4, 117 with 0.02); when the greedy
# ran long, the wall clock stops the walk at the time limit and the notes say so.
LS_MIN_SHARE = 0.4
# Work for the cyclic construction (uniform unconstrained t >= 3 only; engine/cyclic.py),
# taken from the local search's share: 3^13 t=3 at 60 s reaches 55 rows through it.
CYCLIC_SHARE = 0.5
# Wall-clock time kept after the local search for the result's own checks.
RESULT_RESERVE = 0.03
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

    @property
    def end(self) -> float:
        """The wall-clock end of the run: ``time_limit`` bounds the whole call."""
        return self.start + self.time_limit

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
    rows = _cyclic(run, coverable, oracle, rows, lower)
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
    warm_up_local_search()  # both walks: a short shrink only reaches the first
    cyclic.warm_up()
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
    nominal = min(run.time_limit * GREEDY_SHARE, GREEDY_MAX_SECONDS)
    budget = GreedyBudget(max_work=ls_work_budget(nominal, run.problem),
                          deadline=run.start + nominal / GREEDY_SHARE * GREEDY_WALL_SHARE)
    rows = greedy_array(run.problem, run.index, coverable, oracle, seed=seed, work=run.work,
                        budget=budget)
    frozen = len(complete_seed_rows(run.problem, oracle, seed=seed)) if run.problem.seed_rows else 0
    if frozen < len(run.problem.seed_rows):
        run.notes.append(f"{len(run.problem.seed_rows) - frozen} seed rows violate the constraints; dropped")
    details = [f"{frozen} seed rows"] if frozen else []
    if budget.lean_rows:
        details.append(f"{budget.lean_rows} lean rows (few candidates) after its budget")
        if budget.deadline_hit:
            run.notes.append("the greedy went lean (few candidates per row) by the wall clock, "
                             "so the array may differ on another machine")
    if time.monotonic() > run.end:
        run.notes.append(f"the greedy alone took {time.monotonic() - t0:.1f} s, more than the "
                         f"time limit; the first complete array is always built")
    run.phases.append(PhaseStats("greedy", 0, len(rows), time.monotonic() - t0, ", ".join(details)))
    run.report("greedy", len(rows), lower.value)
    return rows, frozen


def _cyclic(
    run: _Run, coverable: np.ndarray, oracle: RowOracle, rows: np.ndarray, lower: LowerBound
) -> np.ndarray:
    """A cyclic seed array instead of the greedy's, when one is smaller (see engine/cyclic)."""
    if not cyclic.applies(run.problem) or len(rows) <= lower.value:
        return rows
    t0 = time.monotonic()
    found = cyclic.cyclic_seed(
        run.problem, run.index, coverable, oracle, len(rows), seed=run.seed,
        max_work=ls_work_budget(CYCLIC_SHARE * run.time_limit, run.problem),
        deadline=run.end - run.time_limit * LS_MIN_SHARE / 2,  # leaves the walk some time
    )
    run.work[0] += found.work
    if found.deadline_hit:
        run.notes.append("the cyclic construction's restarts were cut by the wall clock, "
                         "so the array may differ on another machine")
    chosen = rows if found.rows is None else found.rows
    if not found.cyclic_rows:
        detail = "no base row fits under the greedy size"
    else:
        left = f"{found.left} orbit tuples left to the greedy" if found.left else "complete"
        detail = f"{found.cyclic_rows} cyclic rows, {left}"
        if found.rows is None:
            detail += "; not smaller than the greedy array, unused"
    run.phases.append(PhaseStats("cyclic", len(rows), len(chosen), time.monotonic() - t0, detail))
    run.report("cyclic", len(chosen), lower.value)
    return chosen


def nominal_speed(problem: CoverageProblem) -> float:
    """Work units per nominal second for ``problem`` (deterministic: from the model only)."""
    return NOMINAL_WORK_PER_SECOND * (CONSTRAINED_SPEED if problem.clauses else 1.0)


def ls_work_budget(seconds: float, problem: CoverageProblem | None = None) -> int:
    """Deterministic work budget (``shrink(max_work=...)``, the greedy's budget) worth
    ``seconds`` at the nominal speed of ``problem`` (unconstrained speed when omitted)."""
    speed = NOMINAL_WORK_PER_SECOND if problem is None else nominal_speed(problem)
    return int(max(0.0, seconds) * speed)


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
    work = max(0, ls_work_budget(nominal, run.problem) - int(run.work[0]))
    work = max(work, ls_work_budget(LS_MIN_SHARE * run.time_limit, run.problem))
    counting = len(rows) * run.index.num_tsets // kern.SCAN_DISCOUNT  # the walk's first count
    if counting >= work:  # shrink would stop before its first step (e.g. after a slow greedy)
        run.notes.append(f"local search skipped: counting the greedy's {len(rows)} rows alone "
                         f"({counting} work units) exceeds its budget ({work})")
        run.phases.append(PhaseStats("local search", len(rows), len(rows), 0.0, "skipped"))
        return ShrinkResult(rows, 0, False, len(rows) <= max(1, lower.value, frozen), 0, 0)

    def chunk_done(best: int, _steps: int) -> None:
        run.report("local search", best, lower.value)

    res = shrink(
        run.problem, run.index, coverable, rows, None,
        seed=derive_seed(run.seed, "localsearch"), max_steps=1 << 62, max_work=work,
        deadline=run.end - run.time_limit * (exact_share + RESULT_RESERVE), lower=lower.value,
        frozen=frozen, on_progress=chunk_done,
    )
    run.work[0] += res.work
    if res.deadline_hit:
        run.notes.append("local search stopped by the wall clock at the time limit before "
                         "its work budget was spent; the array may differ on another machine")
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
        wall_deadline=min(t0 + run.time_limit * EXACT_SHARE * SAFETY_FACTOR + 1.0,
                          run.end - run.time_limit * RESULT_RESERVE),
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
