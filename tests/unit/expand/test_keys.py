"""Keys from row numbers; parent row numbers for references."""

from __future__ import annotations

import numpy as np

from coverage_gen.expand.keys import (
    BLOCK, draw_counts, key_values, per_parent_index, sampled_parents, self_parents, sibling_rank,
)
from coverage_gen.spec.model import CountSpec, IntSequence, Template, Uuid


def test_keys_unique_and_pure() -> None:
    rows = np.arange(BLOCK + 10)
    uuids = key_values(Uuid(), "t", 3, rows)
    assert len(set(uuids)) == len(uuids)
    assert key_values(Uuid(), "t", 3, rows[-5:]) == uuids[-5:]
    assert key_values(Uuid(), "u", 3, rows[:1]) != uuids[:1]
    assert key_values(Template("A-{seq:03d}", 999), "t", 0, np.array([0, 1])) == ["A-999", "A-1000"]
    assert key_values(IntSequence(5), "t", 0, np.array([2])).tolist() == [7]


def test_counts() -> None:
    rng = np.random.default_rng(0)
    assert draw_counts(CountSpec("range", (1, 3)), 100, rng).min() >= 1
    z = draw_counts(CountSpec("zipf", (1.5, 4)), 100, rng)
    assert z.min() >= 1 and z.max() <= 4
    f = draw_counts(CountSpec("frequency", (), (0, 2), (1, 1)), 100, rng)
    assert set(f.tolist()) <= {0, 2}
    idx = per_parent_index(CountSpec("fixed", (2,)), 3, seed=0, table="c", field="p", linked=2)
    assert idx.tolist() == [0, 1, 0, 0, 1, 1, 2, 2]


def test_sampled_parents_are_valid_and_start_independent() -> None:
    full = sampled_parents(1000, 7, seed=1, table="c", field="p", power_law=1.2, optional=0.1)
    assert full.min() >= -1 and full.max() < 7 and (full == -1).any()
    tail = sampled_parents(1000, 7, seed=1, table="c", field="p", power_law=1.2, optional=0.1, start=10)
    assert tail.tolist() == full[10:].tolist()


def test_self_parents_bounded_depth() -> None:
    for n, depth in [(1, 1), (10, 1), (100, 3), (50, 2)]:
        parent = self_parents(n, depth, seed=0, table="e", field="m", optional=0.0)
        assert (parent < np.arange(n)).all()
        for i in range(n):
            hops, j = 0, i
            while parent[j] >= 0:
                j, hops = parent[j], hops + 1
            assert hops <= depth


def test_sibling_rank() -> None:
    rank, counts = sibling_rank(np.array([2, 0, 2, 1, 0, 2]), 4)
    assert rank.tolist() == [0, 0, 1, 0, 1, 2]
    assert counts.tolist() == [2, 1, 3, 0]
