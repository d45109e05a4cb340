"""analyse() against brute-force enumeration; conflicts are minimal."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from coverage_gen.engine.analysis import analyse, tset_ranks
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import build_tuple_index, index_for

from ._problems import coverable_tuples, small_problems, valid_rows


@settings(max_examples=200, deadline=None)
@given(small_problems(max_factors=5, max_level=3, max_clauses=6))
def test_coverable_mask_matches_enumeration(problem: CoverageProblem) -> None:
    index = index_for(problem)
    result = analyse(problem, index, seed=1)
    expected = coverable_tuples(problem)
    got = {index.decode(int(i)) for i in np.flatnonzero(result.coverable)}
    assert got == expected
    assert result.excluded == index.num_tuples - len(expected)
    assert result.satisfiable == bool(valid_rows(problem))
    held = {(f, row[f]) for row in valid_rows(problem) for f in range(problem.num_factors)}
    all_values = {(f, v) for f, n in enumerate(problem.levels) for v in range(n)}
    if result.satisfiable:
        assert set(result.dead_values) == all_values - held


def _without_rules(problem: CoverageProblem, dropped: set[int]) -> CoverageProblem:
    keep = [i for i, o in enumerate(problem.clause_origin) if o not in dropped]
    return CoverageProblem(
        problem.levels,
        problem.strength,
        tuple(problem.clauses[i] for i in keep),
        tuple(problem.clause_origin[i] for i in keep),
    )


@settings(max_examples=150, deadline=None)
@given(small_problems(max_factors=4, max_level=3, max_clauses=8))
def test_conflict_is_minimal(problem: CoverageProblem) -> None:
    result = analyse(problem, index_for(problem))
    if result.satisfiable:
        assert result.conflict == ()
        return
    conflict = set(result.conflict)
    assert conflict <= set(problem.clause_origin)
    others = set(problem.clause_origin) - conflict
    assert not valid_rows(_without_rules(problem, others))  # the conflict alone is unsat
    for rule in conflict:
        assert valid_rows(_without_rules(problem, others | {rule}))


def test_conflict_names_the_clashing_rules() -> None:
    a0 = (0, frozenset({0}))
    a1 = (0, frozenset({1}))
    b0 = (1, frozenset({0}))
    problem = CoverageProblem(
        (2, 2), 2, clauses=((a0,), (a1,), (b0,)), clause_origin=(3, 7, 9)
    )
    result = analyse(problem, index_for(problem))
    assert not result.satisfiable
    assert result.conflict == (3, 7)
    assert not result.coverable.any()


def test_tset_ranks_follow_the_index_order() -> None:
    index = build_tuple_index((2, 3, 2, 4, 3, 2, 2), 3)
    assert np.array_equal(tset_ranks(index, index.tsets), np.arange(index.num_tsets))


def test_strength_three_mixed_levels_against_enumeration() -> None:
    # factor 4 is unconstrained; a 3-factor clause and a 2-factor clause
    clauses = (
        ((0, frozenset({0})), (1, frozenset({1})), (2, frozenset({2}))),
        ((1, frozenset({0})), (3, frozenset({1}))),
    )
    problem = CoverageProblem((2, 3, 3, 2, 3), 3, clauses, (0, 1))
    index = index_for(problem)
    result = analyse(problem, index)
    got = {index.decode(int(i)) for i in np.flatnonzero(result.coverable)}
    assert got == coverable_tuples(problem)
