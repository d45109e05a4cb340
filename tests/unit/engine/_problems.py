"""Random small covering problems and brute-force references shared by the cover tests.

The references enumerate every complete row, so they share no logic with the engine.
"""

from __future__ import annotations

from itertools import combinations, product

from hypothesis import strategies as st

from coverage_gen.engine.problem import CoverageProblem


@st.composite
def small_problems(
    draw: st.DrawFn,
    *,
    max_factors: int = 5,
    max_level: int = 3,
    max_clauses: int = 5,
    strength: int | None = None,
) -> CoverageProblem:
    k = draw(st.integers(2 if strength is None else max(2, strength), max_factors))
    levels = tuple(draw(st.lists(st.integers(1, max_level), min_size=k, max_size=k)))
    t = strength if strength is not None else draw(st.integers(1, min(3, k)))
    n_clauses = draw(st.integers(0, max_clauses))
    clauses = []
    for _ in range(n_clauses):
        factors = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=3, unique=True))
        clause = []
        for f in factors:
            values = draw(st.sets(st.integers(0, levels[f] - 1), max_size=levels[f]))
            clause.append((f, frozenset(values)))
        clauses.append(tuple(clause))
    origin = tuple(draw(st.integers(0, 3)) for _ in clauses)
    return CoverageProblem(levels, t, tuple(clauses), origin)


def valid_rows(problem: CoverageProblem) -> list[tuple[int, ...]]:
    return [
        row
        for row in product(*(range(n) for n in problem.levels))
        if all(any(row[f] in vals for f, vals in clause) for clause in problem.clauses)
    ]


def coverable_tuples(problem: CoverageProblem) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every (factors, values) t-tuple that some valid row holds."""
    out = set()
    for row in valid_rows(problem):
        for fs in combinations(range(problem.num_factors), problem.strength):
            out.add((fs, tuple(row[f] for f in fs)))
    return out


def uncovered(problem: CoverageProblem, rows: list[tuple[int, ...]]) -> set:
    """Coverable tuples that ``rows`` miss (counted here, not by the engine)."""
    held = set()
    for row in rows:
        for fs in combinations(range(problem.num_factors), problem.strength):
            held.add((fs, tuple(int(row[f]) for f in fs)))
    return coverable_tuples(problem) - held
