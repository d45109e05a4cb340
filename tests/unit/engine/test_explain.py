"""cover.explain: minimal cores for dead values, seed rows and excluded combinations."""

from __future__ import annotations

import time

import numpy as np

from coverage_gen.engine.explain import (
    dead_value_causes,
    describe_rules,
    excluded_combinations,
    seed_row_conflicts,
)
from coverage_gen.engine.lower import NEGATIVE_ORIGIN
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for


def lit(f: int, *values: int) -> tuple[int, frozenset[int]]:
    return (f, frozenset(values))


# factors 0..2 with 2 values: rule 0: f0=1 -> f1=0 ; rule 1: f1=0 -> f2=0 ; rule 2: f2=1
CHAIN = CoverageProblem(
    (2, 2, 2), 2,
    clauses=((lit(0, 0), lit(1, 0)), (lit(1, 1), lit(2, 0)), (lit(2, 1),)),
    clause_origin=(0, 1, 2),
)


def test_dead_value_core_is_the_whole_chain() -> None:
    (dead,) = dead_value_causes(CHAIN, [(0, 1)])
    assert dead.core.rules == (0, 1, 2) and dead.core.exact


def test_seed_rows_partial_and_complete() -> None:
    rows = [(1, -1, -1), (0, 1, 1), (0, 1, 0)]
    found = seed_row_conflicts(CHAIN, rows)
    assert [(c.row, c.core.rules) for c in found] == [(0, (0, 1, 2)), (2, (2,))]


def test_excluded_pairs_grouped_with_cores() -> None:
    problem = CoverageProblem((2, 2, 2), 2, clauses=((lit(0, 0), lit(1, 0)), (lit(1, 1), lit(2, 0))),
                              clause_origin=(0, 1))
    index = index_for(problem)
    coverable = np.ones(index.num_tuples, dtype=bool)
    for tid in range(index.num_tuples):
        fs, vs = index.decode(tid)
        row_ok = any(problem.row_is_valid(r) and all(r[f] == v for f, v in zip(fs, vs))
                     for r in np.ndindex(2, 2, 2))
        coverable[tid] = row_ok
    report = excluded_combinations(problem, index, coverable, [], [frozenset()] * 3)
    got = {(c.factors, c.values): c.core.rules for c in report.combinations}
    assert got == {((0, 1), (1, 1)): (0,), ((0, 2), (1, 1)): (0, 1), ((1, 2), (0, 1)): (1,)}
    assert report.complete and report.excluded == 3


def test_deadline_in_the_past_is_reported_not_hidden() -> None:
    problem = CoverageProblem((2, 2), 2, clauses=((lit(0, 0), lit(1, 0)),), clause_origin=(0,))
    index = index_for(problem)
    coverable = np.ones(index.num_tuples, dtype=bool)
    coverable[index.tuple_id(0, (1, 1))] = False
    report = excluded_combinations(problem, index, coverable, [], [frozenset()] * 2,
                                   deadline=time.monotonic() - 1)
    assert not report.complete and report.unexplained == 1


def test_negative_rule_is_named_in_words() -> None:
    assert describe_rules([NEGATIVE_ORIGIN], []) == [
        "at most one negative (~) value per row (PICT negative testing)"
    ]
