"""Exact improvement and optimality proofs on small models (ENGINE-NOTES §5.5).

Descend from the incumbent: solve the exact model at ``N - 1`` rows. FEASIBLE gives a
smaller array and the descent continues; INFEASIBLE proves ``N`` optimal; UNKNOWN stops.
Nothing is solved when the model would be too large (``N·T`` booleans) or ``N`` already
meets the lower bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from coverage_gen.engine import cpsat
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.result import LowerBound
from coverage_gen.engine.tuples import TupleIndex

# Above ~200k booleans the model is too big to build and solve usefully (notes §4).
MAX_MODEL_BOOLEANS = 200_000


@dataclass(frozen=True, slots=True, eq=False)
class ExactOutcome:
    rows: np.ndarray  # never larger than the input array, always complete and valid
    lower_bound: LowerBound
    optimal: bool
    proof: str  # why ``rows`` is optimal, when it is
    detail: str  # what was tried, for the phase statistics


def improve_or_prove(
    problem: CoverageProblem,
    index: TupleIndex,
    coverable: np.ndarray,
    rows: np.ndarray,
    lower: LowerBound,
    *,
    seed: int = 0,
    deterministic_budget: float = 30.0,
    wall_deadline: float | None = None,
    max_booleans: int = MAX_MODEL_BOOLEANS,
) -> ExactOutcome:
    """Shrink ``rows`` with the exact model, and prove optimality when possible.

    ``deterministic_budget`` is CP-SAT deterministic time for the whole descent (the
    reproducible limit); ``wall_deadline`` an absolute ``time.monotonic()`` safety net.
    """
    n_cov = int(np.count_nonzero(coverable))
    rows = np.asarray(rows, dtype=np.int64)
    if rows.shape[0] > lower.value:
        size = cpsat.covering_model_size(rows.shape[0] - 1, n_cov)
        if size > max_booleans:  # decided before touching the (possibly huge) tuple space
            return ExactOutcome(rows, lower, False, "",
                                f"model for {rows.shape[0] - 1} rows too large ({size} booleans)")
    best = drop_redundant(index, coverable, rows)
    steps: list[str] = []
    budget = float(deterministic_budget)
    while True:
        n = best.shape[0]
        if n <= lower.value:
            return ExactOutcome(best, lower, True, lower.reason, _join(steps, "meets the bound"))
        size = cpsat.covering_model_size(n - 1, n_cov)
        if size > max_booleans:
            return ExactOutcome(best, lower, False, "",
                                _join(steps, f"model for {n - 1} rows too large ({size} booleans)"))
        wall = _wall_left(wall_deadline)
        if budget <= 0 or wall <= 0:
            return ExactOutcome(best, lower, False, "", _join(steps, "budget spent"))
        solve = cpsat.solve_covering(
            problem, index, coverable, n - 1,
            seed=seed, deterministic_time=budget, wall_time=wall,
        )
        budget -= max(solve.deterministic_time, 1e-3)
        steps.append(f"{n - 1} rows: {solve.status.value} ({solve.seconds:.2f}s)")
        if solve.status is cpsat.Status.INFEASIBLE:
            proof = f"CP-SAT: {n - 1} rows infeasible"
            return ExactOutcome(best, LowerBound(n, proof), True, proof, _join(steps, ""))
        if solve.status is cpsat.Status.UNKNOWN or solve.rows is None:
            return ExactOutcome(best, lower, False, "", _join(steps, ""))
        best = drop_redundant(index, coverable, solve.rows)


def drop_redundant(index: TupleIndex, coverable: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Remove rows (last first) whose coverable tuples all occur in other rows; the
    exact model at N rows may return spare rows, and every dropped row saves a solve."""
    if rows.shape[0] == 0:
        return rows
    ids = np.stack([index.row_tuple_ids(r) for r in rows])
    counts = np.zeros(index.num_tuples, dtype=np.int64)
    np.add.at(counts, ids.reshape(-1), 1)
    keep = np.ones(rows.shape[0], dtype=bool)
    for r in range(rows.shape[0] - 1, -1, -1):
        mine = ids[r][coverable[ids[r]]]
        if np.all(counts[mine] > 1):
            keep[r] = False
            np.subtract.at(counts, ids[r], 1)
    return rows[keep]


def _wall_left(deadline: float | None) -> float:
    return 3600.0 if deadline is None else deadline - time.monotonic()


def _join(steps: list[str], last: str) -> str:
    return "; ".join(steps + ([last] if last else []))
