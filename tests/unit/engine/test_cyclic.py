"""Cyclic seed arrays: orbits, development, the tabu kernel's count, complete results.

Coverage is counted here with itertools over the developed rows, never with engine code.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coverage_gen.engine import _kernels as kern
from coverage_gen.engine import cyclic
from coverage_gen.engine.greedy import greedy_array
from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.search import build_array
from coverage_gen.engine.tuples import build_tuple_index, index_for


def missing_tuples(rows: np.ndarray, v: int, t: int) -> int:
    k = rows.shape[1]
    held = {(cols, tuple(int(x) for x in r[list(cols)]))
            for r in rows for cols in itertools.combinations(range(k), t)}
    return sum(1 for cols in itertools.combinations(range(k), t)
               for vals in itertools.product(range(v), repeat=t) if (cols, vals) not in held)


def rotation_class(cols: tuple[int, ...], k: int) -> frozenset[tuple[int, ...]]:
    return frozenset(tuple(sorted((c + s) % k for c in cols)) for s in range(k))


@pytest.mark.parametrize("k,t", [(7, 3), (8, 3), (9, 4), (6, 2)])
def test_one_representative_per_rotation_class(k: int, t: int) -> None:
    reps = cyclic.orbit_representatives(k, build_tuple_index((2,) * k, t).tsets)
    classes = {rotation_class(cols, k) for cols in itertools.combinations(range(k), t)}
    assert {rotation_class(tuple(int(c) for c in r), k) for r in reps} == classes
    assert len(reps) == len(classes)


def test_developed_array_is_constants_then_rotations() -> None:
    base = np.array([[0, 1, 2, 2, 1], [1, 1, 0, 2, 0]], dtype=np.int64)
    rows = cyclic.develop(base, 3)
    assert rows.shape == (3 + 2 * 5, 5)
    assert [set(r) for r in rows[:3].tolist()] == [{0}, {1}, {2}]
    rotated = {tuple(np.roll(r, -1)) for r in rows[3:].tolist()}
    assert rotated == {tuple(r) for r in rows[3:].tolist()}  # closed under rotation


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tabu_reports_the_uncovered_orbits_it_leaves(seed: int) -> None:
    k, v, t, m = 7, 3, 3, 2  # 7 prime: every orbit of 3-sets has 7 members
    reps = cyclic.orbit_representatives(k, build_tuple_index((v,) * k, t).tsets)
    rng = kern.new_rng(seed)
    base = np.array([[kern.rng_below(rng, v) for _ in range(k)] for _ in range(m)], dtype=np.int64)
    left = kern.cyclic_tabu(base, reps, v, rng, 2_000_000, 6)
    assert missing_tuples(cyclic.develop(base, v), v, t) == left * k


def test_seed_array_is_complete_smaller_and_repeatable() -> None:
    problem = CoverageProblem((3,) * 8, 3)
    index = index_for(problem)
    coverable = np.ones(index.num_tuples, dtype=bool)
    oracle = RowOracle(problem)
    greedy = greedy_array(problem, index, coverable, oracle, seed=0)
    first = cyclic.cyclic_seed(problem, index, coverable, oracle, len(greedy), seed=4,
                               max_work=50_000_000)
    again = cyclic.cyclic_seed(problem, index, coverable, oracle, len(greedy), seed=4,
                               max_work=50_000_000)
    assert first.cyclic_rows > 0 and first.work > 0 and first.rows is not None
    assert missing_tuples(first.rows, 3, 3) == 0 and len(first.rows) < len(greedy)
    assert again.rows is not None and np.array_equal(first.rows, again.rows)


@pytest.mark.parametrize("problem", [
    CoverageProblem((3,) * 8, 2),  # strength 2
    CoverageProblem((3,) * 7 + (2,), 3),  # mixed levels
    CoverageProblem((2,) * 8, 3, (((0, frozenset({0})), (1, frozenset({0}))),), (0,)),  # a rule
])
def test_only_uniform_unconstrained_high_strength_qualifies(problem: CoverageProblem) -> None:
    assert not cyclic.applies(problem)


def test_build_array_reaches_the_orthogonal_array_on_5_6() -> None:
    # OA(125; 3, 6, 5) exists (6 <= v + 1), so 125 rows is optimal; the greedy alone gives ~199.
    problem = CoverageProblem((5,) * 6, 3)
    ca = build_array(problem, seed=0, time_limit=3.0)
    assert missing_tuples(ca.rows, 5, 3) == 0
    assert ca.num_rows == 125 and ca.optimal
    assert any(p.name == "cyclic" for p in ca.phases)
