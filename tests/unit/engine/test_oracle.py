"""RowOracle against brute-force enumeration of valid rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.problem import CoverageProblem

from ._problems import small_problems, valid_rows


def _agrees(row: tuple[int, ...], partial: np.ndarray) -> bool:
    return all(p < 0 or p == v for p, v in zip(partial, row))


@st.composite
def problem_and_partial(draw: st.DrawFn) -> tuple[CoverageProblem, np.ndarray]:
    problem = draw(small_problems(max_factors=6, max_level=4, max_clauses=7))
    partial = np.array(
        [draw(st.integers(-1, n - 1)) for n in problem.levels], dtype=np.int64
    )
    return problem, partial


@settings(max_examples=300, deadline=None)
@given(problem_and_partial(), st.integers(0, 2**32))
def test_extendable_and_complete_match_enumeration(case, seed: int) -> None:
    problem, partial = case
    oracle = RowOracle(problem)
    expected = any(_agrees(r, partial) for r in valid_rows(problem))
    assert oracle.extendable(partial) == expected
    assert oracle.extendable(partial) == expected  # memoised answer is the same
    row = oracle.complete(partial, np.random.default_rng(seed))
    if not expected:
        assert row is None
        return
    assert row is not None
    assert problem.row_is_valid(row.tolist())
    assert _agrees(tuple(row.tolist()), partial)
    again = oracle.complete(partial, np.random.default_rng(seed))
    assert again is not None and np.array_equal(row, again)


def test_unconstrained_is_always_extendable() -> None:
    oracle = RowOracle(CoverageProblem((3, 3, 3), 2))
    assert oracle.extendable(np.array([2, -1, 0]))
    row = oracle.complete(np.array([-1, 1, -1]), np.random.default_rng(0))
    assert row is not None and row[1] == 1


def test_empty_clause_admits_no_row() -> None:
    oracle = RowOracle(CoverageProblem((2, 2), 2, clauses=((),), clause_origin=(0,)))
    assert not oracle.extendable(np.array([-1, -1]))
    assert oracle.complete(np.array([-1, -1]), np.random.default_rng(0)) is None


def test_wide_domains_use_several_words() -> None:
    # 100 values need two 64-bit words; value 99 of factor 0 forces factor 1 to 0
    clause = ((0, frozenset(range(99))), (1, frozenset({0})))
    oracle = RowOracle(CoverageProblem((100, 3), 2, clauses=(clause,), clause_origin=(0,)))
    assert oracle.extendable(np.array([99, 0]))
    assert not oracle.extendable(np.array([99, 2]))
    row = oracle.complete(np.array([99, -1]), np.random.default_rng(1))
    assert row is not None and row.tolist() == [99, 0]
