"""Local search: never loses coverage, never grows, only valid rows, reproducible.

The coverage checker is written here (itertools brute force) and shares no code with the
engine's counters.
"""

from __future__ import annotations

import time
from itertools import combinations, product

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coverage_gen.engine.greedy import greedy_array
from coverage_gen.engine.localsearch import ShrinkResult, shrink
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for

# ---------------------------------------------------------------- independent checker

Tuples = set[tuple[tuple[int, ...], tuple[int, ...]]]


def satisfies(problem: CoverageProblem, row: tuple[int, ...]) -> bool:
    return all(any(row[f] in vals for f, vals in clause) for clause in problem.clauses)


def valid_rows(problem: CoverageProblem) -> list[tuple[int, ...]]:
    return [r for r in product(*(range(n) for n in problem.levels)) if satisfies(problem, r)]


def tuples_of(problem: CoverageProblem, rows: object) -> Tuples:
    t = problem.strength
    return {
        (fs, tuple(int(r[f]) for f in fs))
        for r in rows  # type: ignore[attr-defined]
        for fs in combinations(range(problem.num_factors), t)
    }


def assert_covering(problem: CoverageProblem, rows: np.ndarray) -> None:
    for r in rows:
        assert satisfies(problem, tuple(int(x) for x in r)), f"invalid row {r}"
    missing = tuples_of(problem, valid_rows(problem)) - tuples_of(problem, rows)
    assert not missing, f"uncovered: {sorted(missing)[:5]}"


def coverable_mask(problem: CoverageProblem) -> np.ndarray:
    index = index_for(problem)
    tsets = list(combinations(range(problem.num_factors), problem.strength))
    mask = np.zeros(index.num_tuples, dtype=bool)
    for fs, vals in tuples_of(problem, valid_rows(problem)):
        mask[index.tuple_id(tsets.index(fs), vals)] = True
    return mask


class BruteOracle:
    def __init__(self, problem: CoverageProblem) -> None:
        self.rows = np.array(valid_rows(problem), dtype=np.int64).reshape(-1, problem.num_factors)

    def extendable(self, partial: np.ndarray) -> bool:
        fixed = partial >= 0
        return bool(np.all(self.rows[:, fixed] == partial[fixed], axis=1).any())

    def complete(self, partial: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        fixed = partial >= 0
        hits = self.rows[np.all(self.rows[:, fixed] == partial[fixed], axis=1)]
        return None if len(hits) == 0 else hits[int(rng.integers(len(hits)))].copy()


def greedy_then_shrink(
    problem: CoverageProblem, *, seed: int = 0, max_steps: int = 20_000, lower: int = 1
) -> tuple[np.ndarray, ShrinkResult]:
    index, cov, oracle = index_for(problem), coverable_mask(problem), BruteOracle(problem)
    start = greedy_array(problem, index, cov, oracle, seed=seed)
    res = shrink(problem, index, cov, start, oracle, seed=seed, max_steps=max_steps,
                 deadline=None, lower=lower)
    return start, res


@st.composite
def problems(draw: st.DrawFn) -> CoverageProblem:
    k = draw(st.integers(2, 6))
    levels = tuple(draw(st.lists(st.integers(1, 4), min_size=k, max_size=k)))
    t = draw(st.integers(1, min(3, k)))
    clauses = []
    for _ in range(draw(st.integers(0, 4))):
        factors = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=3, unique=True))
        clauses.append(tuple(
            (f, frozenset(draw(st.sets(st.integers(0, levels[f] - 1), max_size=levels[f] - 1))))
            for f in factors
        ))
    problem = CoverageProblem(levels, t, tuple(clauses), tuple(range(len(clauses))))
    assume(valid_rows(problem))
    return problem


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 5))
def test_never_loses_coverage_never_grows(problem: CoverageProblem, seed: int) -> None:
    start, res = greedy_then_shrink(problem, seed=seed, max_steps=3_000)
    assert len(res.rows) <= len(start)
    assert_covering(problem, res.rows)
    assert not res.deadline_hit


def test_same_seed_same_array_and_chunking_does_not_matter() -> None:
    problem = CoverageProblem((3,) * 8, 2)
    _, a = greedy_then_shrink(problem, seed=3, max_steps=30_000)
    _, b = greedy_then_shrink(problem, seed=3, max_steps=30_000)
    assert np.array_equal(a.rows, b.rows) and a.steps == b.steps
    index, cov = index_for(problem), coverable_mask(problem)
    start = greedy_array(problem, index, cov, BruteOracle(problem), seed=3)
    far = shrink(problem, index, cov, start, None, seed=3, max_steps=30_000,
                 deadline=time.monotonic() + 3600)
    assert np.array_equal(far.rows, a.rows)


def test_reaches_known_optima() -> None:
    _, res = greedy_then_shrink(CoverageProblem((3,) * 4, 2), max_steps=50_000, lower=9)
    assert len(res.rows) == 9 and res.reached_floor
    problem = CoverageProblem((2,) * 10, 2)  # Kleitman–Spencer: CAN(2, 10, 2) = 6
    _, res = greedy_then_shrink(problem, max_steps=200_000, lower=6)
    assert len(res.rows) == 6
    assert_covering(problem, res.rows)


def test_constrained_rows_stay_valid_under_pressure() -> None:
    # Implications A=v -> B=v chained: most single-cell moves are invalid.
    clauses = []
    for f, g in ((0, 1), (1, 2)):
        for v in range(3):
            clauses.append(((f, frozenset(set(range(3)) - {v})), (g, frozenset({v}))))
    problem = CoverageProblem((3, 3, 3, 3, 2), 2, tuple(clauses), tuple(range(len(clauses))))
    start, res = greedy_then_shrink(problem, max_steps=20_000)
    assert len(res.rows) <= len(start)
    assert_covering(problem, res.rows)


def test_deadline_in_the_past_stops_and_keeps_coverage() -> None:
    problem = CoverageProblem((3,) * 10, 2)
    index, cov = index_for(problem), coverable_mask(problem)
    start = greedy_array(problem, index, cov, BruteOracle(problem), seed=0)
    res = shrink(problem, index, cov, start, None, seed=0, max_steps=10**9, deadline=time.monotonic() - 1)
    assert res.deadline_hit and res.steps < 10**9
    assert len(res.rows) <= len(start)
    assert_covering(problem, res.rows)


def test_frozen_rows_are_kept_in_place() -> None:
    problem = CoverageProblem((3,) * 5, 2)
    index, cov = index_for(problem), coverable_mask(problem)
    start = greedy_array(problem, index, cov, BruteOracle(problem), seed=0)
    first = np.array([[2, 2, 2, 2, 2], [0, 0, 0, 0, 0]], dtype=np.int64)
    rows = np.vstack([first, start])
    res = shrink(problem, index, cov, rows, None, seed=0, max_steps=20_000, frozen=2)
    assert np.array_equal(res.rows[:2], first)
    assert_covering(problem, res.rows)


def test_zero_budget_returns_the_input() -> None:
    problem = CoverageProblem((2, 3, 2), 2)
    start, res = greedy_then_shrink(problem, max_steps=0)
    assert np.array_equal(res.rows, start) and res.steps == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 3))
def test_slack_and_weight_forgetting_keep_coverage(problem: CoverageProblem, seed: int) -> None:
    """The optional knobs (wider candidate rows, halving weights) never lose coverage."""
    import coverage_gen.engine.localsearch as ls_mod

    old = ls_mod.DIST_SLACK, ls_mod.WEIGHT_CAP
    ls_mod.DIST_SLACK, ls_mod.WEIGHT_CAP = 2, 3
    try:
        start, res = greedy_then_shrink(problem, seed=seed, max_steps=2_000)
    finally:
        ls_mod.DIST_SLACK, ls_mod.WEIGHT_CAP = old
    assert len(res.rows) <= len(start)
    assert_covering(problem, res.rows)


# ---------------------------------------------------------------- annealing and the hybrid


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 3), st.sampled_from(["sa", "hybrid"]))
def test_annealing_and_hybrid_keep_coverage(
    problem: CoverageProblem, seed: int, method: str
) -> None:
    """The annealing walk alone, and the hybrid forced to hand over every few steps, keep
    every row valid and every coverable tuple covered, and never grow the array."""
    import coverage_gen.engine.localsearch as ls_mod

    old = ls_mod.METHOD, ls_mod.SWITCH_WORK
    ls_mod.METHOD, ls_mod.SWITCH_WORK = method, 50
    try:
        start, res = greedy_then_shrink(problem, seed=seed, max_steps=3_000)
    finally:
        ls_mod.METHOD, ls_mod.SWITCH_WORK = old
    assert len(res.rows) <= len(start)
    assert_covering(problem, res.rows)


def test_hybrid_hands_over_reproducibly_and_keeps_frozen_rows(monkeypatch) -> None:
    import coverage_gen.engine.localsearch as ls_mod

    monkeypatch.setattr(ls_mod, "SWITCH_WORK", 2_000)  # many hand-overs in a short run
    problem = CoverageProblem((3,) * 7, 2)
    index, cov = index_for(problem), coverable_mask(problem)
    start = greedy_array(problem, index, cov, BruteOracle(problem), seed=1)
    first = np.array([[2] * 7, [0] * 7], dtype=np.int64)
    rows = np.vstack([first, start])
    runs = [shrink(problem, index, cov, rows, None, seed=1, max_steps=40_000, frozen=2)
            for _ in range(2)]
    assert np.array_equal(runs[0].rows, runs[1].rows) and runs[0].work == runs[1].work
    assert np.array_equal(runs[0].rows[:2], first)
    assert_covering(problem, runs[0].rows)


def test_annealing_alone_reaches_a_known_optimum(monkeypatch) -> None:
    import coverage_gen.engine.localsearch as ls_mod

    monkeypatch.setattr(ls_mod, "METHOD", "sa")
    problem = CoverageProblem((3,) * 4, 2)
    _, res = greedy_then_shrink(problem, max_steps=200_000, lower=9)
    assert len(res.rows) == 9 and res.reached_floor
    assert_covering(problem, res.rows)


def test_warm_up_runs_both_walks_and_a_bad_method_is_refused() -> None:
    import pytest

    from coverage_gen.engine.localsearch import warm_up

    warm_up()
    problem = CoverageProblem((2, 3), 2)
    index, cov = index_for(problem), coverable_mask(problem)
    rows = np.array([[a, b] for a in range(2) for b in range(3)], dtype=np.int64)
    with pytest.raises(ValueError, match="unknown local search method"):
        shrink(problem, index, cov, rows, None, seed=0, max_steps=10, method="annealing")
