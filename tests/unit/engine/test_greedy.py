"""Greedy construction: valid rows only, every coverable tuple held, reproducible.

Coverage and validity are checked here by brute force (itertools), sharing nothing with the
engine's bookkeeping beyond the fixed ``TupleIndex`` numbering of the coverable mask.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coverage_gen.engine.greedy import greedy_array
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import index_for

# ---------------------------------------------------------------- independent checker


def satisfies(problem: CoverageProblem, row: tuple[int, ...]) -> bool:
    return all(any(row[f] in vals for f, vals in clause) for clause in problem.clauses)


def valid_rows(problem: CoverageProblem) -> list[tuple[int, ...]]:
    return [r for r in product(*(range(n) for n in problem.levels)) if satisfies(problem, r)]


def required_tuples(problem: CoverageProblem) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    t = problem.strength
    return {
        (fs, tuple(r[f] for f in fs))
        for r in valid_rows(problem)
        for fs in combinations(range(problem.num_factors), t)
    }


def held_tuples(problem: CoverageProblem, rows: np.ndarray) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    t = problem.strength
    return {
        (fs, tuple(int(r[f]) for f in fs))
        for r in rows
        for fs in combinations(range(problem.num_factors), t)
    }


def assert_covering(problem: CoverageProblem, rows: np.ndarray) -> None:
    assert rows.ndim == 2 and rows.shape[1] == problem.num_factors
    for r in rows:
        assert all(0 <= int(r[f]) < problem.levels[f] for f in range(problem.num_factors))
        assert satisfies(problem, tuple(int(x) for x in r)), f"invalid row {r}"
    missing = required_tuples(problem) - held_tuples(problem, rows)
    assert not missing, f"uncovered: {sorted(missing)[:5]}"


def coverable_mask(problem: CoverageProblem) -> np.ndarray:
    index = index_for(problem)
    mask = np.zeros(index.num_tuples, dtype=bool)
    for (fs, vals) in required_tuples(problem):
        s = list(combinations(range(problem.num_factors), problem.strength)).index(fs)
        mask[index.tuple_id(s, vals)] = True
    return mask


class BruteOracle:
    """Extendability by enumeration of the valid rows (small models only)."""

    def __init__(self, problem: CoverageProblem) -> None:
        self.rows = np.array(valid_rows(problem), dtype=np.int64).reshape(-1, problem.num_factors)

    def _matches(self, partial: np.ndarray) -> np.ndarray:
        fixed = partial >= 0
        return np.all(self.rows[:, fixed] == partial[fixed], axis=1)

    def extendable(self, partial: np.ndarray) -> bool:
        return bool(self._matches(np.asarray(partial)).any())

    def complete(self, partial: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        hits = self.rows[self._matches(np.asarray(partial))]
        return None if len(hits) == 0 else hits[int(rng.integers(len(hits)))].copy()


def run_greedy(problem: CoverageProblem, seed: int = 0) -> np.ndarray:
    return greedy_array(problem, index_for(problem), coverable_mask(problem), BruteOracle(problem), seed=seed)


# ---------------------------------------------------------------- random problems


@st.composite
def problems(draw: st.DrawFn) -> CoverageProblem:
    k = draw(st.integers(2, 6))
    levels = tuple(draw(st.lists(st.integers(1, 4), min_size=k, max_size=k)))
    t = draw(st.integers(1, min(3, k)))
    clauses = []
    for _ in range(draw(st.integers(0, 4))):
        factors = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=3, unique=True))
        clause = []
        for f in factors:
            values = draw(st.sets(st.integers(0, levels[f] - 1), max_size=max(0, levels[f] - 1)))
            clause.append((f, frozenset(values)))
        clauses.append(tuple(clause))
    problem = CoverageProblem(levels, t, tuple(clauses), tuple(range(len(clauses))))
    assume(valid_rows(problem))
    return problem


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 3))
def test_greedy_rows_valid_and_covering(problem: CoverageProblem, seed: int) -> None:
    assert_covering(problem, run_greedy(problem, seed))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_greedy_with_engine_oracle(problem: CoverageProblem) -> None:
    from coverage_gen.engine.oracle import RowOracle

    rows = greedy_array(problem, index_for(problem), coverable_mask(problem), RowOracle(problem), seed=1)
    assert_covering(problem, rows)


def test_no_redundant_rows() -> None:
    problem = CoverageProblem((3, 3, 3, 2, 2), 2)
    rows = run_greedy(problem)
    for i in range(len(rows)):
        others = np.delete(rows, i, axis=0)
        assert required_tuples(problem) - held_tuples(problem, others), f"row {i} is redundant"


@pytest.mark.parametrize("levels,t", [((3,) * 6, 3), ((3,) * 6, 4), ((4, 3, 3, 2, 2, 2), 2)])
def test_partial_mask_gives_a_covering_irredundant_array(levels: tuple[int, ...], t: int) -> None:
    """With only part of the tuples to cover (the cyclic completion, extending existing rows),
    every masked tuple is held and every row holds a masked tuple no other row holds; tuples
    outside the mask never keep a row (the count-based pass kept such rows)."""
    problem = CoverageProblem(levels, t)
    index = index_for(problem)
    gen = np.random.default_rng(11)
    for seed in range(4):
        mask = gen.random(index.num_tuples) < 0.5
        rows = greedy_array(problem, index, mask, BruteOracle(problem), seed=seed)
        held = [set(index.row_tuple_ids(row).tolist()) & set(np.flatnonzero(mask).tolist())
                for row in rows]
        assert set().union(*held) == set(np.flatnonzero(mask).tolist())
        for i, mine in enumerate(held):
            others = set().union(*(h for j, h in enumerate(held) if j != i))
            assert mine - others, f"row {i} holds no masked tuple of its own (seed {seed})"


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_same_array(seed: int) -> None:
    problem = CoverageProblem((3,) * 6 + (2,) * 3, 2)
    assert np.array_equal(run_greedy(problem, seed), run_greedy(problem, seed))


def test_unconstrained_sizes_are_reasonable() -> None:
    # AETG-class sizes: 3^4 pairwise is an orthogonal array of 9 rows; 2^10 needs >= 6.
    assert len(run_greedy(CoverageProblem((3,) * 4, 2))) <= 11
    assert 6 <= len(run_greedy(CoverageProblem((2,) * 10, 2))) <= 10


def test_strength_equal_to_factors_lists_every_valid_row() -> None:
    clause = ((0, frozenset({0})), (1, frozenset({1})))  # A=0 or B=1: forbids A=1 & B=0
    problem = CoverageProblem((2, 2, 3), 3, (clause,), (0,))
    rows = run_greedy(problem)
    assert sorted(map(tuple, rows.tolist())) == sorted(valid_rows(problem))


def test_dead_end_prone_constraints_give_valid_covering_rows() -> None:
    # A=B and B=C over 4 values: a builder without propagation dead-ends often here.
    clauses = []
    for f, g in ((0, 1), (1, 2)):
        for v in range(4):
            clauses.append(((f, frozenset(set(range(4)) - {v})), (g, frozenset({v}))))
    problem = CoverageProblem((4, 4, 4, 3), 2, tuple(clauses), tuple(range(len(clauses))))
    assert_covering(problem, run_greedy(problem))


def test_seed_rows_come_first_and_free_cells_are_completed() -> None:
    clause = ((0, frozenset({0})), (1, frozenset({0})))  # not (A=1 and B=1)
    problem = CoverageProblem(
        (2, 2, 3), 2, (clause,), (0,), seed_rows=((1, 0, 2), (-1, 1, -1), (1, 1, 0))
    )
    rows = run_greedy(problem)
    assert_covering(problem, rows)
    assert rows[0].tolist() == [1, 0, 2]
    assert rows[1][1] == 1 and rows[1][0] == 0  # completed within the rules
    assert not any(r.tolist() == [1, 1, 0] for r in rows)  # the invalid seed row is dropped


# ---------------------------------------------------------------- live t-set lists


def _plain_kernel_greedy(problem: CoverageProblem, coverable: np.ndarray, seed: int) -> np.ndarray:
    """The greedy loop on the plain kernels (every t-set visited), no candidate growth."""
    from coverage_gen._seed import derive_seed
    from coverage_gen.engine import _greedy_kernels as gk
    from coverage_gen.engine import _kernels as kern
    from coverage_gen.engine.greedy import candidates_per_row, drop_redundant, tables_for
    from tests.support import plain_greedy

    index = index_for(problem)
    tb = tables_for(problem, index)
    uncov = np.array(coverable, dtype=np.bool_, copy=True)
    tset_unc = np.zeros(index.num_tsets, dtype=np.int64)
    fv_unc = np.zeros((problem.num_factors, max(problem.levels)), dtype=np.int64)
    gk.init_greedy_counts(tb, uncov, tset_unc, fv_unc)
    rng = kern.new_rng(derive_seed(seed, "greedy"))
    row = np.empty(problem.num_factors, dtype=np.int64)
    rows = []
    work = np.zeros(1, dtype=np.int64)
    while tset_unc.sum() > 0:
        got = plain_greedy.best_candidate(tb, uncov, tset_unc, fv_unc, rng, candidates_per_row(problem), row, work)
        assert got > 0  # unconstrained: no dead ends
        plain_greedy.commit_row(tb, uncov, tset_unc, fv_unc, row)
        rows.append(row.copy())
    return drop_redundant(tb, np.array(rows, dtype=np.int64))


@pytest.mark.parametrize("levels,t", [((3,) * 7, 3), ((2,) * 9 + (3, 4), 3), ((4, 3, 3, 2, 2, 2), 2)])
def test_live_lists_give_the_plain_kernels_result(levels: tuple[int, ...], t: int, monkeypatch) -> None:
    """Skipping fully covered t-sets must not change a single draw or score."""
    import coverage_gen.engine.greedy as greedy_mod

    monkeypatch.setattr(greedy_mod, "_GROW_WORK", 0)  # same candidate count as the plain loop
    problem = CoverageProblem(levels, t)
    coverable = np.ones(index_for(problem).num_tuples, dtype=bool)
    for seed in (0, 3):
        plain = _plain_kernel_greedy(problem, coverable, seed)
        # compacting after every row that kills a t-set, at the default rate, and never
        for compact_when in (1 << 40, greedy_mod._COMPACT_WHEN, 0):
            monkeypatch.setattr(greedy_mod, "_COMPACT_WHEN", compact_when)
            live = greedy_array(problem, index_for(problem), coverable, BruteOracle(problem),
                                seed=seed)
            assert np.array_equal(live, plain), (seed, compact_when)


@pytest.mark.parametrize("levels,t", [((3,) * 6, 3), ((2, 3, 2, 4, 2), 2)])
def test_owned_tuple_redundancy_matches_cover_counts(levels: tuple[int, ...], t: int) -> None:
    """The greedy's redundancy pass (from the tuples each row covered first) drops exactly
    the rows the count-based pass drops, on arrays full of redundant rows."""
    from coverage_gen.engine import _greedy_kernels as gk
    from coverage_gen.engine.greedy import tables_for

    problem = CoverageProblem(levels, t)
    index = index_for(problem)
    tb = tables_for(problem, index)
    gen = np.random.default_rng(5)
    dropped = 0
    for trial in range(20):
        n = int(gen.integers(5, 60))
        rows = np.stack([gen.integers(0, v, size=n) for v in levels], axis=1).astype(np.int64)
        rows[n // 2:] = rows[gen.integers(0, n, size=n - n // 2)]  # duplicates: redundant
        frozen = int(gen.integers(0, 3))
        uncov = np.ones(index.num_tuples, dtype=np.bool_)
        tset_unc = np.zeros(index.num_tsets, dtype=np.int64)
        fv_unc = np.zeros((len(levels), max(levels)), dtype=np.int64)
        gk.init_greedy_counts(tb, uncov, tset_unc, fv_unc)
        gl = np.arange(index.num_tsets, dtype=np.int64)
        gl_len = np.array([index.num_tsets], dtype=np.int64)
        owned = np.empty(index.num_tuples, dtype=np.int32)
        n_owned = np.zeros(1, dtype=np.int64)
        ptr = [0]
        ubits, gent = gk.pack_bits(uncov), gk.global_entries(tb)
        for row in rows:
            gk.commit_row_live(tb, ubits, tset_unc, fv_unc, row, gl, gent, gl_len,
                               np.zeros(1, dtype=np.int64), owned, n_owned)
            ptr.append(int(n_owned[0]))
        cnt = np.zeros(index.num_tuples, dtype=np.int64)
        for row in rows:
            for s in range(index.num_tsets):
                cnt[index.offsets[s] + sum(int(row[f]) * int(r) for f, r in
                                           zip(index.tsets[s], index.radix[s]))] += 1
        expected = gk.redundant_rows(tb, rows, frozen, cnt)
        got = gk.redundant_owned_rows(tb, rows, frozen, owned, np.array(ptr, dtype=np.int64))
        assert np.array_equal(got, expected), trial
        dropped += int(expected.any())
    assert dropped >= 10  # the duplicates make most trials drop rows


@pytest.mark.parametrize("grow", [0, 1, 10**9])
def test_candidate_growth_keeps_rows_valid_and_covering(grow: int, monkeypatch) -> None:
    import coverage_gen.engine.greedy as greedy_mod

    monkeypatch.setattr(greedy_mod, "_GROW_WORK", grow)
    problem = CoverageProblem(
        (3, 3, 2, 2, 3, 2), 3,
        (((0, frozenset({0})), (1, frozenset({1, 2}))), ((2, frozenset({1})), (4, frozenset({0})))),
        (0, 1),
    )
    rows = run_greedy(problem, seed=2)
    assert_covering(problem, rows)
    assert greedy_mod.candidates_for(3, 10**12) == 3
