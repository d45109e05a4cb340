"""Shared kernels against plain Python counting."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from coverage_gen.engine import _kernels as kern
from coverage_gen.engine.greedy import tables_for
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for


@pytest.mark.parametrize("levels,t,n", [((3, 4, 2, 5), 2, 7), ((2, 3, 3, 2, 4), 3, 11), ((6, 2, 3), 3, 1)])
def test_count_cover_counts_every_row_of_every_tuple(levels: tuple[int, ...], t: int, n: int) -> None:
    problem = CoverageProblem(levels, t)
    index = index_for(problem)
    rng = np.random.default_rng(n)
    rows = np.stack([rng.integers(0, v, n + 3) for v in levels], axis=1).astype(np.int64)
    cnt = np.zeros(index.num_tuples, dtype=np.int32)
    kern.count_cover(tables_for(problem, index), rows, n, cnt)  # only the first n rows
    expected = np.zeros(index.num_tuples, dtype=np.int32)
    for s, fs in enumerate(combinations(range(len(levels)), t)):
        for r in rows[:n]:
            expected[index.tuple_id(s, tuple(int(r[f]) for f in fs))] += 1
    assert np.array_equal(cnt, expected)
