"""Forward checking in the greedy's candidate builder: sound (never refuses a value that
some valid row completes) and strong enough that equality chains never dead-end.

Ground truth is brute-force enumeration of the valid rows (``test_greedy.valid_rows``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gen.engine import _greedy_kernels as gk
from coverage_gen.engine.greedy import GreedyBudget, greedy_array, tables_for
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for

from .test_greedy import BruteOracle, assert_covering, coverable_mask, problems, run_greedy


def _extendable(valid: np.ndarray, partial: dict[int, int]) -> bool:
    if valid.size == 0:
        return False
    mask = np.ones(len(valid), dtype=bool)
    for f, v in partial.items():
        mask &= valid[:, f] == v
    return bool(mask.any())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), data=st.data())
def test_forward_checking_never_refuses_an_extendable_value(problem: CoverageProblem, data) -> None:
    valid = BruteOracle(problem).rows
    tb = tables_for(problem, index_for(problem))
    fc = gk.new_domains(tb)
    dom, size, trail, tlen, queue, queued, _ = fc
    order = data.draw(st.permutations(range(problem.num_factors)))
    partial: dict[int, int] = {}
    for f in order:
        v = data.draw(st.integers(0, problem.levels[f] - 1))
        ok = gk._assign(tb, dom, size, trail, tlen, queue, queued, f, v)
        if _extendable(valid, {**partial, f: v}):
            assert ok, f"refused {f}={v} after {partial}, yet a valid row completes it"
        if not ok:
            break
        partial[f] = v
        for g in range(problem.num_factors):  # a pruned value is really impossible
            for x in range(problem.levels[g]):
                if not dom[g, x] and g not in partial:
                    assert not _extendable(valid, {**partial, g: x})


def test_equality_chain_never_dead_ends() -> None:
    # A = B and B = C over 4 values: the plain "no falsified clause" check dead-ended on
    # most candidates here; forward checking follows the chain.
    clauses = []
    for f, g in ((0, 1), (1, 2)):
        for v in range(4):
            clauses.append(((f, frozenset(set(range(4)) - {v})), (g, frozenset({v}))))
    problem = CoverageProblem((4, 4, 4, 3), 2, tuple(clauses), tuple(range(len(clauses))))
    index = index_for(problem)
    tb = tables_for(problem, index)
    uncov = coverable_mask(problem)
    tset_unc = np.array([uncov[index.offsets[s]:index.offsets[s + 1]].sum()
                         for s in range(index.num_tsets)], dtype=np.int64)
    fv_unc = np.zeros((4, 4), dtype=np.int64)
    ent, ubits = gk.live_entries(tb), gk.pack_bits(uncov)
    live_len = np.diff(tb.fts_ptr).astype(np.int64)
    gl = np.arange(index.num_tsets, dtype=np.int64)
    gl_len = np.array([index.num_tsets], dtype=np.int64)
    rng = np.array([7], dtype=np.uint64)
    row = np.empty(4, dtype=np.int64)
    fc = gk.new_domains(tb)
    for _ in range(50):
        gain = gk.best_candidate_live(tb, ubits, tset_unc, fv_unc, rng, 1, row, ent, live_len,
                                      gl, gl_len, *fc)
        assert gain > 0 and row[0] == row[1] == row[2]


def test_lean_greedy_stays_complete_and_valid() -> None:
    problem = CoverageProblem(
        (3, 3, 2, 2, 3, 2), 3,
        (((0, frozenset({0})), (1, frozenset({1, 2}))), ((2, frozenset({1})), (4, frozenset({0})))),
        (0, 1),
    )
    budget = GreedyBudget(max_work=0)
    rows = greedy_array(problem, index_for(problem), coverable_mask(problem), BruteOracle(problem),
                        seed=3, budget=budget)
    assert_covering(problem, rows)
    assert budget.lean_rows >= len(rows) and not budget.deadline_hit
    past = GreedyBudget(deadline=0.0)
    rows = greedy_array(problem, index_for(problem), coverable_mask(problem), BruteOracle(problem),
                        seed=3, budget=past)
    assert_covering(problem, rows)
    assert past.deadline_hit and past.lean_rows >= len(rows)
    assert len(run_greedy(problem, seed=3)) <= len(rows) + 2  # lean costs little here
