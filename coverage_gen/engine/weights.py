"""Value weights (PICT ``Red (10)``): a post-pass that only spends freedom.

PICT's weights are opportunistic hints: they decide a value only when the choice does not
affect coverage. ``prefer_weights`` does exactly that after the search: it visits every
cell of the finished array (rows after ``frozen`` seed rows) and moves it to a heavier value
when the row stays valid and every tuple the old value covered is still covered by another
row. Coverage and size never change; the array only leans toward heavy values.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex

__all__ = ["prefer_weights"]


def prefer_weights(
    problem: CoverageProblem,
    index: TupleIndex,
    rows: np.ndarray,
    weights: Sequence[Sequence[int]],
    *,
    frozen: int = 0,
) -> np.ndarray:
    """``rows`` with free cells moved to heavier values; ``weights[f]`` empty = no weights."""
    rows = np.array(rows, dtype=np.int64, copy=True)
    if not any(weights) or len(rows) == 0:
        return rows
    counts = np.zeros(index.num_tuples, dtype=np.int64)
    for row in rows:
        np.add.at(counts, index.row_tuple_ids(row), 1)
    for r in range(frozen, len(rows)):
        for f, w in enumerate(weights):
            if not w:
                continue
            current = int(rows[r, f])
            for v in sorted(range(len(w)), key=lambda v: (-w[v], v)):
                if w[v] <= w[current]:
                    break
                if _try_move(problem, index, rows, counts, r, f, v):
                    break
    return rows


def _try_move(
    problem: CoverageProblem,
    index: TupleIndex,
    rows: np.ndarray,
    counts: np.ndarray,
    r: int,
    f: int,
    v: int,
) -> bool:
    old = rows[r].copy()
    new = old.copy()
    new[f] = v
    if not problem.row_is_valid(new.tolist()):
        return False
    old_ids = index.row_tuple_ids(old)
    new_ids = index.row_tuple_ids(new)
    changed = old_ids != new_ids
    if np.any(counts[old_ids[changed]] < 2):  # some tuple only this row covers
        return False
    np.add.at(counts, old_ids[changed], -1)
    np.add.at(counts, new_ids[changed], 1)
    rows[r] = new
    return True
