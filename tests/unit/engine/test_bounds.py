"""Lower bounds never exceed known optima."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings

from coverage_gen.engine.analysis import analyse
from coverage_gen.engine.bounds import best_known, closed_form_bound, kleitman_spencer, lower_bound
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for

from ._problems import coverable_tuples, small_problems, valid_rows


def _bound(problem: CoverageProblem) -> int:
    index = index_for(problem)
    return lower_bound(problem, index, analyse(problem, index).coverable).value


def test_orthogonal_array_instance() -> None:
    assert _bound(CoverageProblem((3, 3, 3, 3), 2)) == 9
    assert best_known((3, 3, 3, 3), 2) == 9


@pytest.mark.parametrize("k", range(3, 21))
def test_binary_closed_form_matches_known_values(k: int) -> None:
    # CAN(2,k,2) for k = 2..20 (Sloane's table): 4 up to 3, 5 for 4, 6 for 5..10, 7 for 11..15, 8 for 16..35
    known = 4 if k <= 3 else 5 if k == 4 else 6 if k <= 10 else 7 if k <= 15 else 8
    assert kleitman_spencer(k) == known
    assert _bound(CoverageProblem((2,) * k, 2)) == known
    assert best_known((2,) * k, 2) == known


@pytest.mark.parametrize(
    ("levels", "t"),
    [((3,) * 13, 2), ((2,) * 100, 2), ((10,) * 20, 2), ((4,) * 15, 2), ((3,) * 6, 3), ((4,) * 6, 3),
     ((3,) * 13, 3), ((10,) * 10, 2), ((6,) * 20, 2), ((3,) * 100, 2), ((5,) * 6, 3), ((6,) * 6, 3),
     ((2,) * 10, 3), ((4,) * 15, 3), ((10,) * 10, 3), ((3,) * 4, 3), ((4,) * 10, 3),
     ((5,) + (3,) * 8 + (2,) * 2, 2)],
)
def test_closed_forms_never_exceed_best_known(levels: tuple[int, ...], t: int) -> None:
    known = best_known(levels, t)
    assert known is not None
    bound = closed_form_bound(levels, t)
    assert bound is not None and bound.value <= known


def test_excluded_tuples_switch_closed_forms_off() -> None:
    # the closed forms assume every tuple is needed; with one excluded pair only the t-set
    # bound (4) is proven, not Kleitman-Spencer's 7
    clause = ((0, frozenset({0})), (1, frozenset({0})))
    problem = CoverageProblem((2,) * 12, 2, (clause,), (0,))
    assert _bound(problem) == 4
    assert _bound(CoverageProblem((2,) * 12, 2)) == 7


def _minimum_by_brute_force(problem: CoverageProblem) -> int:
    need = coverable_tuples(problem)
    rows = valid_rows(problem)
    for n in range(0, len(rows) + 1):
        for chosen in combinations(rows, n):
            held = {
                (fs, tuple(r[f] for f in fs))
                for r in chosen
                for fs in combinations(range(problem.num_factors), problem.strength)
            }
            if need <= held:
                return n
    raise AssertionError("unreachable: all valid rows cover everything")


@settings(max_examples=40, deadline=None)
@given(small_problems(max_factors=4, max_level=2, max_clauses=3, strength=2))
def test_bound_below_brute_force_minimum(problem: CoverageProblem) -> None:
    assert _bound(problem) <= _minimum_by_brute_force(problem)


# exact CAN(2,k,v) from the literature (Colbourn's tables; small cases are classical)
_KNOWN_CAN = {(3, 3): 9, (3, 4): 9, (3, 5): 11, (3, 6): 12, (3, 7): 12, (4, 5): 16, (4, 6): 19}


@pytest.mark.parametrize(("v", "k"), sorted(_KNOWN_CAN))
def test_uniform_bound_below_exact_values(v: int, k: int) -> None:
    bound = closed_form_bound((v,) * k, 2)
    assert bound is not None and bound.value <= _KNOWN_CAN[v, k]
