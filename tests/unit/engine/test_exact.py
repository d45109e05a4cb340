"""improve_or_prove: every returned array is checked here, by counting tuples directly."""

from __future__ import annotations

import time
from itertools import combinations

import numpy as np

from coverage_gen.engine.analysis import analyse
from coverage_gen.engine.bounds import lower_bound
from coverage_gen.engine.exact import improve_or_prove
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for

from ._problems import coverable_tuples, uncovered, valid_rows


def _check_array(problem: CoverageProblem, rows: np.ndarray) -> None:
    as_tuples = [tuple(int(x) for x in r) for r in rows]
    assert all(problem.row_is_valid(r) for r in as_tuples)
    assert not uncovered(problem, as_tuples)


def _all_valid_rows_array(problem: CoverageProblem) -> np.ndarray:
    return np.array(valid_rows(problem), dtype=np.int64)


def _run(problem: CoverageProblem, rows: np.ndarray, budget: float = 30.0):
    index = index_for(problem)
    coverable = analyse(problem, index).coverable
    bound = lower_bound(problem, index, coverable)
    return improve_or_prove(
        problem, index, coverable, rows, bound,
        seed=0, deterministic_budget=budget, wall_deadline=time.monotonic() + 120,
    )


def test_finds_and_proves_nine_rows_for_3_pow_4() -> None:
    problem = CoverageProblem((3, 3, 3, 3), 2)
    # the naive cover plus three spare rows, so the descent has work to do
    start = np.vstack([_greedy(problem), _all_valid_rows_array(problem)[:3]])
    out = _run(problem, start)
    assert out.rows.shape[0] == 9
    assert out.optimal
    _check_array(problem, out.rows)


def test_proves_three_pow_five_by_infeasibility() -> None:
    problem = CoverageProblem((3,) * 5, 2)
    out = _run(problem, _greedy(problem))
    assert out.rows.shape[0] == 11  # CAN(2,5,3) = 11
    assert out.optimal and out.proof == "CP-SAT: 10 rows infeasible"
    assert out.lower_bound.value == 11
    _check_array(problem, out.rows)


def _greedy(problem: CoverageProblem) -> np.ndarray:
    """Naive cover: add the valid row that covers most missing tuples (test-local)."""
    need = coverable_tuples(problem)
    pool = valid_rows(problem)
    chosen: list[tuple[int, ...]] = []
    sets = range(problem.num_factors)
    while need:
        best = max(pool, key=lambda r: sum((fs, tuple(r[f] for f in fs)) in need
                                           for fs in combinations(sets, problem.strength)))
        chosen.append(best)
        need -= {(fs, tuple(best[f] for f in fs)) for fs in combinations(sets, problem.strength)}
    return np.array(chosen, dtype=np.int64)


def _minimum(problem: CoverageProblem) -> int:
    need = coverable_tuples(problem)
    rows = valid_rows(problem)
    sets = list(combinations(range(problem.num_factors), problem.strength))
    for n in range(len(rows) + 1):
        for chosen in combinations(rows, n):
            if need <= {(fs, tuple(r[f] for f in fs)) for r in chosen for fs in sets}:
                return n
    raise AssertionError("unreachable")


def test_constrained_instance_matches_brute_force_minimum() -> None:
    # 3 x 2 x 2 x 2 with rules: f0=2 → f1=0; f2=1 → f3=0; f1=0 → f3=1 or f0=0
    clauses = (
        ((0, frozenset({0, 1})), (1, frozenset({0}))),
        ((2, frozenset({0})), (3, frozenset({0}))),
        ((1, frozenset({1})), (3, frozenset({1})), (0, frozenset({0}))),
    )
    problem = CoverageProblem((3, 2, 2, 2), 2, clauses, (0, 1, 2))
    out = _run(problem, _all_valid_rows_array(problem))
    assert out.optimal
    assert out.rows.shape[0] == _minimum(problem)
    _check_array(problem, out.rows)


def test_strength_three_binary() -> None:
    problem = CoverageProblem((2,) * 5, 3)
    out = _run(problem, _greedy(problem))
    assert out.optimal and out.rows.shape[0] == 10  # CAN(3,5,2) = 10
    _check_array(problem, out.rows)


def test_too_large_models_are_left_alone() -> None:
    problem = CoverageProblem((3,) * 5, 2)
    start = _greedy(problem)
    index = index_for(problem)
    coverable = analyse(problem, index).coverable
    out = improve_or_prove(problem, index, coverable, start, lower_bound(problem, index, coverable),
                           max_booleans=10)
    assert out.rows.shape[0] <= start.shape[0] and not out.optimal
    assert "too large" in out.detail
    _check_array(problem, out.rows)


def test_vendor_minimum_is_proved(benchmarks_dir) -> None:  # type: ignore[no-untyped-def]
    from coverage_gen.engine import cpsat
    from coverage_gen.engine.lower import lower_model
    from coverage_gen.spec.pict import load_pict

    problem = lower_model(load_pict(benchmarks_dir / "vendor.txt", strength=2)).problem
    index = index_for(problem)
    coverable = analyse(problem, index).coverable
    start = cpsat.solve_covering(problem, index, coverable, 106, deterministic_time=30).rows
    assert start is not None
    bound = lower_bound(problem, index, coverable)
    assert bound.value == 100
    out = improve_or_prove(problem, index, coverable, start, bound, seed=0,
                           deterministic_budget=30.0, wall_deadline=time.monotonic() + 120)
    assert out.optimal and out.rows.shape[0] == 105
    assert out.proof == "CP-SAT: 104 rows infeasible"
    # independent check: count the pairs the rows hold against a brute-force pair set
    rows = [tuple(int(x) for x in r) for r in out.rows]
    assert all(problem.row_is_valid(r) for r in rows)
    held = {(a, b, r[a], r[b]) for r in rows for a, b in combinations(range(6), 2)}
    need = {(a, b, r[a], r[b]) for r in valid_rows(problem) for a, b in combinations(range(6), 2)}
    assert need <= held
