"""The driver end to end: sizes, accounting, strengths 1..k, unsatisfiable rules, seeds.

Every array is checked by the brute-force checker below, not by the result's own counts.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest

from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.result import ExitReason
from coverage_gen.engine.search import Unsatisfiable, build_array
from coverage_gen.errors import CoverageGenError

Tuples = set[tuple[tuple[int, ...], tuple[int, ...]]]


def satisfies(problem: CoverageProblem, row: tuple[int, ...]) -> bool:
    return all(any(row[f] in vals for f, vals in clause) for clause in problem.clauses)


def valid_rows(problem: CoverageProblem) -> list[tuple[int, ...]]:
    return [r for r in product(*(range(n) for n in problem.levels)) if satisfies(problem, r)]


def tuples_of(problem: CoverageProblem, rows: object) -> Tuples:
    return {
        (fs, tuple(int(r[f]) for f in fs))
        for r in rows  # type: ignore[attr-defined]
        for fs in combinations(range(problem.num_factors), problem.strength)
    }


def check(problem: CoverageProblem, rows: np.ndarray) -> tuple[int, int]:
    """Assert validity and full coverage; return (required, total) tuple counts."""
    for r in rows:
        assert satisfies(problem, tuple(int(x) for x in r)), f"invalid row {r}"
    total = sum(
        int(np.prod([problem.levels[f] for f in fs]))
        for fs in combinations(range(problem.num_factors), problem.strength)
    )
    held = tuples_of(problem, rows)
    if not problem.clauses:  # every tuple is required; no need to enumerate rows
        assert len(held) == total
        return total, total
    required = tuples_of(problem, valid_rows(problem))
    assert not required - held
    return len(required), total


def test_orthogonal_array_3_4() -> None:
    problem = CoverageProblem((3,) * 4, 2)
    ca = build_array(problem, seed=0, time_limit=2.0)
    check(problem, ca.rows)
    assert ca.num_rows == 9 and ca.optimal and ca.exit_reason is ExitReason.OPTIMAL


def test_binary_ten_factors_reaches_kleitman_spencer() -> None:
    problem = CoverageProblem((2,) * 10, 2)
    ca = build_array(problem, seed=0, time_limit=2.0)
    check(problem, ca.rows)
    assert ca.num_rows == 6


def test_3_13_default_budget() -> None:
    problem = CoverageProblem((3,) * 13, 2)
    ca = build_array(problem, seed=0)
    check(problem, ca.rows)
    assert ca.num_rows <= 16
    assert ca.lower_bound.value <= ca.num_rows


def test_accounting_is_recounted() -> None:
    clause = ((0, frozenset({0})), (1, frozenset({0, 1})))  # A=1 -> B in {0,1}
    problem = CoverageProblem((2, 3, 3, 2), 2, (clause,), (0,))
    ca = build_array(problem, seed=1, time_limit=1.0)
    required, total = check(problem, ca.rows)
    assert ca.required == required == ca.covered
    assert ca.excluded == total - required
    assert [p.name for p in ca.phases][:3] == ["analysis", "greedy", "local search"]
    assert ca.lower_bound.value <= ca.num_rows


@pytest.mark.parametrize("t", [1, 2, 3, 4])
def test_every_strength_up_to_k(t: int) -> None:
    clause = ((0, frozenset({0})), (2, frozenset({1, 2})))  # A=1 -> C != 0
    problem = CoverageProblem((2, 2, 3, 2), t, (clause,), (0,))
    ca = build_array(problem, seed=0, time_limit=1.0)
    check(problem, ca.rows)
    if t == problem.num_factors:
        assert sorted(map(tuple, ca.rows.tolist())) == sorted(valid_rows(problem))
    if t == 1:
        assert ca.num_rows == 3


def test_unsatisfiable_names_the_rules() -> None:
    clauses = (((0, frozenset({0})),), ((0, frozenset({1})),), ((1, frozenset({0})),))
    problem = CoverageProblem((2, 2), 2, clauses, (4, 7, 9))
    with pytest.raises(Unsatisfiable) as info:
        build_array(problem, time_limit=1.0)
    assert isinstance(info.value, CoverageGenError)
    assert set(info.value.conflict) == {4, 7}


def test_same_seed_same_array() -> None:
    problem = CoverageProblem((4,) * 6 + (2,) * 4, 2)
    a = build_array(problem, seed=5, time_limit=0.5)
    b = build_array(problem, seed=5, time_limit=0.5)
    check(problem, a.rows)
    assert np.array_equal(a.rows, b.rows)


def test_seed_rows_appear_first() -> None:
    clause = ((0, frozenset({0})), (1, frozenset({0})))  # not (A=1 and B=1)
    problem = CoverageProblem((2, 2, 3, 3), 2, (clause,), (0,), seed_rows=((1, 0, 2, 2), (-1, 1, 0, -1)))
    ca = build_array(problem, seed=0, time_limit=1.0)
    check(problem, ca.rows)
    assert ca.rows[0].tolist() == [1, 0, 2, 2]
    assert ca.rows[1][1] == 1 and ca.rows[1][2] == 0


def test_progress_is_reported() -> None:
    calls: list[tuple[str, int, int, float]] = []
    build_array(CoverageProblem((3,) * 5, 2), time_limit=0.5,
                progress=lambda *a: calls.append(a))
    phases = [c[0] for c in calls]
    assert phases[0] == "analysis" and "greedy" in phases and "local search" in phases
    assert all(c[3] >= 0 for c in calls)


def test_local_search_is_skipped_when_its_first_count_exceeds_the_budget() -> None:
    # 2^30 at t=3 under a 1 ms limit: counting the greedy's rows (rows x 4060 t-sets) costs
    # more than the whole budget, so the walk would stop before its first step anyway.
    problem = CoverageProblem((2,) * 30, 3)
    ca = build_array(problem, seed=0, time_limit=0.001)
    check(problem, ca.rows)
    walk = next(p for p in ca.phases if p.name == "local search")
    greedy = next(p for p in ca.phases if p.name == "greedy")
    assert walk.detail == "skipped" and walk.rows_after == walk.rows_before == greedy.rows_after
    assert any(note.startswith("local search skipped") for note in ca.notes)
    assert ca.exit_reason is ExitReason.TIME_LIMIT
