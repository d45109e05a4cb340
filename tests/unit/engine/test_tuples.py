"""The tuple index: counts computed without building it, and the size limit."""

from __future__ import annotations

import itertools
import math

import pytest

from coverage_gen.engine import tuples
from coverage_gen.engine.tuples import ProblemTooLarge, build_tuple_index, check_size, tuple_space


@pytest.mark.parametrize("levels,strength", [
    ((2, 2, 3), 2), ((3,) * 6, 3), ((5, 1, 4, 2, 7), 4), ((2, 3), 2), ((4, 4, 4), 1),
])
def test_tuple_space_counts_every_tuple(levels: tuple[int, ...], strength: int) -> None:
    by_hand = sum(math.prod(levels[f] for f in ts)
                  for ts in itertools.combinations(range(len(levels)), strength))
    tsets, count = tuple_space(levels, strength)
    assert (tsets, count) == (math.comb(len(levels), strength), by_hand)
    index = build_tuple_index(levels, strength)
    assert (index.num_tsets, index.num_tuples) == (tsets, count)


def test_oversized_problem_is_refused_before_anything_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuples, "MAX_TUPLES", 1000)
    levels = (3,) * 10  # t=2: 405 tuples, t=3: 3,240
    check_size(levels, 2)
    with pytest.raises(ProblemTooLarge) as caught:
        build_tuple_index(levels, 3)
    err = caught.value
    assert (err.strength, err.factors, err.tsets, err.tuples, err.fitting) == (3, 10, 120, 3240, 2)
    assert "3,240" in str(err) and "strength 2 or lower" in str(err)


def test_gcc_at_strength_four_exceeds_the_limit_by_arithmetic() -> None:
    # 199 factors (GCC's 189 binary and 10 ternary): checked on the closed-form count alone.
    levels = (2,) * 189 + (3,) * 10
    tsets, count = tuple_space(levels, 4)
    assert tsets == math.comb(199, 4) and count > tuples.MAX_TUPLES
    assert tuple_space(levels, 3)[1] <= tuples.MAX_TUPLES
