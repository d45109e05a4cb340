"""PICT sub-models (mixed strength), solved the way PICT solves them: hierarchically.

A model with sub-models ``{ A, B, C } @ 3`` is solved without a mixed-strength engine:

1. ``sub_array``      each sub-model's own covering array at its strength: its factors, the
                      rules that name only its factors (``build_array`` on the sub-model);
2. ``compound_values`` the array's rows become the values of ONE compound factor. Rows no
                      valid row of the whole model extends (a rule crossing the boundary
                      kills them) are dropped, and every sub-model tuple they alone held that
                      the whole model allows gets a replacement row (a valid completion);
3. ``lower_onto_compounds`` every clause of the whole model is rewritten onto the compound
                      factors: a set literal ``(A, S)`` becomes the set of compound values
                      whose A cell is in S (exact, since a clause is a disjunction of literals);
                      seed rows are mapped the same way;
4. the compound model is solved at the main strength (capped at its number of factors);
5. ``expand``         each compound column is expanded back into its factors, in the model's
                      factor order; ``repair`` adds a valid row for every required tuple
                      still missing (only rules crossing a sub-model boundary can cause one),
                      so the result always meets ``requirement_sets``; ``prune`` then drops
                      rows whose required tuples other rows hold (covering every pair of
                      compound values is far more than the requirement needs).

The requirement (PICT's): every t_M-tuple of each sub-model M, and every t-tuple (t = main
strength) over factor sets S with ``|S ∩ M| <= t_M`` for every sub-model M, as far as the
rules allow. A sub-model at a lower strength than the main one deliberately limits the
combinations inside it (fewer distinct configurations); one at a higher strength adds some.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coverage_gen._seed import rng_for
from coverage_gen.engine.lower import Lowered, lower_model
from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.problem import Clause, CoverageProblem, normalise_clause
from coverage_gen.engine.result import CoveringArray, LowerBound, PhaseStats
from coverage_gen.spec.model import (
    And,
    CombinatorialModel,
    Comparison,
    Expr,
    FieldRef,
    IfThen,
    InSet,
    Like,
    Not,
    Or,
)

__all__ = [
    "Hierarchy",
    "coverable_mask",
    "expr_fields",
    "requirement_sets",
    "solve_submodels",
    "submodel_groups",
]

@dataclass(frozen=True, slots=True)
class Hierarchy:
    """The compound model: ``groups[g]`` are the original factors of compound factor g (one
    factor for a factor in no sub-model); ``values[g][c]`` the original value indices of
    compound value c, one per factor of the group."""

    groups: tuple[tuple[int, ...], ...]
    values: tuple[tuple[tuple[int, ...], ...], ...]
    problem: CoverageProblem

    def expand(self, rows: np.ndarray, num_factors: int) -> np.ndarray:
        """Compound rows → rows over the original factors (original order)."""
        out = np.empty((rows.shape[0], num_factors), dtype=np.int64)
        for g, members in enumerate(self.groups):
            table = np.asarray(self.values[g], dtype=np.int64).reshape(-1, len(members))
            out[:, list(members)] = table[rows[:, g]]
        return out


# --------------------------------------------------------------------------- requirement
def submodel_groups(model: CombinatorialModel, strength: int) -> list[tuple[tuple[int, ...], int]]:
    """Each sub-model as (factor indices in model order, its strength)."""
    index = {f.name: i for i, f in enumerate(model.factors)}
    return [
        (tuple(sorted(index[n] for n in sm.factor_names)), sm.order(strength))
        for sm in model.submodels
    ]


def requirement_sets(
    num_factors: int, strength: int, groups: Sequence[tuple[tuple[int, ...], int]]
) -> list[tuple[int, ...]]:
    """The factor sets whose tuples must be covered: every t_M-set inside each sub-model M,
    then every t-set S (t = ``strength``) with ``|S ∩ M| <= t_M`` for each M."""
    out: dict[tuple[int, ...], None] = {}
    for members, t_m in groups:
        for s in itertools.combinations(members, t_m):
            out[s] = None
    sets = [frozenset(m) for m, _ in groups]
    for s in itertools.combinations(range(num_factors), min(strength, num_factors)):
        if all(len(m.intersection(s)) <= t_m for m, (_, t_m) in zip(sets, groups)):
            out[s] = None
    return list(out)


def expr_fields(expr: Expr) -> set[str]:
    """The factor names a rule reads."""
    if isinstance(expr, Comparison):
        names = {expr.left.name}
        if isinstance(expr.right, FieldRef):
            names.add(expr.right.name)
        return names
    if isinstance(expr, (InSet, Like)):
        return {expr.field.name}
    if isinstance(expr, Not):
        return expr_fields(expr.operand)
    if isinstance(expr, (And, Or)):
        return set().union(*(expr_fields(e) for e in expr.operands))
    assert isinstance(expr, IfThen)
    parts = [expr.cond, expr.then] + ([expr.otherwise] if expr.otherwise is not None else [])
    return set().union(*(expr_fields(e) for e in parts))


# --------------------------------------------------------------------------- driver
def solve_submodels(
    model: CombinatorialModel,
    lowered: Lowered,
    *,
    seed: int = 0,
    time_limit: float = 5.0,
    progress: object = None,
) -> CoveringArray:
    """Solve ``model`` (with ``model.submodels``) hierarchically; ``lowered`` is the whole
    model lowered (its seed rows already checked). Returns an array over the original
    factors meeting ``requirement_sets``; raises ``search.Unsatisfiable`` like
    ``build_array``. ``time_limit`` bounds each solve (each sub-model, then the main one)."""
    from coverage_gen.engine.search import build_array

    start = time.perf_counter()
    problem = lowered.problem
    k, t = problem.num_factors, problem.strength
    oracle = RowOracle(problem)
    rng = rng_for(seed, "submodels")
    groups = submodel_groups(model, t)
    phases: list[PhaseStats] = []
    analysis_seconds = 0.0
    compound: dict[int, tuple[tuple[int, ...], ...]] = {}  # first factor → values
    for n, (members, t_m) in enumerate(groups, start=1):
        sub = sub_array(model, members, t_m, seed=seed, time_limit=time_limit, build=build_array)
        analysis_seconds += sub.analysis_seconds
        phases += [dataclasses.replace(p, name=f"sub-model {n}: {p.name}") for p in sub.phases]
        compound[members[0]] = compound_values(sub.rows, members, t_m, problem, oracle, rng)
    hierarchy = lower_onto_compounds(problem, groups, compound)
    main = build_array(hierarchy.problem, seed=seed, time_limit=time_limit,
                       progress=progress)  # type: ignore[arg-type]
    analysis_seconds += main.analysis_seconds
    phases += list(main.phases)
    rows = hierarchy.expand(main.rows, k)
    required_sets = requirement_sets(k, t, groups)
    rows, counts, repaired = repair(rows, required_sets, problem, oracle, rng)
    before = rows.shape[0]
    rows = prune(rows, required_sets, frozen=len(hierarchy.problem.seed_rows))
    phases.append(PhaseStats("prune", before, rows.shape[0], 0.0,
                             "rows whose required tuples other rows hold"))
    covered, total, widest = counts
    notes = list(main.notes) + [
        "mixed strength (PICT sub-models): "
        + "; ".join(f"{{{', '.join(lowered.names.factor_names[f] for f in m)}}} @ {t_m}"
                    for m, t_m in groups)
        + f"; main strength {t} across them (compound model of {len(hierarchy.groups)} "
          f"factors at strength {hierarchy.problem.strength})"
    ]
    if repaired:
        notes.append(f"{repaired} row(s) added for tuples that rules crossing a sub-model "
                     "boundary kept out of the compound model")
    bound = LowerBound(widest[0], "largest number of required tuples over one set of factors",
                       widest[1])
    optimal = rows.shape[0] == bound.value
    return CoveringArray(
        rows=rows,
        strength=t,
        required=covered,
        excluded=total - covered,
        covered=covered,
        lower_bound=bound,
        exit_reason=main.exit_reason,
        seconds=time.perf_counter() - start,
        phases=tuple(phases),
        optimal=optimal,
        proof="size equals the lower bound" if optimal else "",
        best_known=None,
        analysis_seconds=analysis_seconds,
        notes=tuple(notes),
        dead_values=dead_values(problem, oracle),
    )


# --------------------------------------------------------------------------- passes
def sub_array(
    model: CombinatorialModel,
    members: tuple[int, ...],
    strength: int,
    *,
    seed: int,
    time_limit: float,
    build: object,
) -> CoveringArray:
    """The sub-model's own covering array: its factors (model order), the rules naming only
    them (they keep their ordinals, so a conflict names the user's rules)."""
    names = {model.factors[f].name for f in members}
    sub_model = CombinatorialModel(
        factors=tuple(model.factors[f] for f in members),
        constraints=tuple(c for c in model.constraints if expr_fields(c.expr) <= names),
        strength=strength,
        seed=seed,
        source=model.source,
        case_sensitive=model.case_sensitive,
    )
    problem = lower_model(sub_model).problem
    return build(problem, seed=seed, time_limit=time_limit)  # type: ignore[operator, no-any-return]


def compound_values(
    sub_rows: np.ndarray,
    members: tuple[int, ...],
    strength: int,
    problem: CoverageProblem,
    oracle: RowOracle,
    rng: np.random.Generator,
) -> tuple[tuple[int, ...], ...]:
    """The sub-array rows some valid row of the whole model extends; when rows had to go, a
    valid completion for every sub-model tuple only they held and the model allows."""
    k = problem.num_factors
    kept: list[tuple[int, ...]] = []
    dropped = False
    for row in np.asarray(sub_rows, dtype=np.int64).tolist():
        partial = np.full(k, -1, dtype=np.int64)
        partial[list(members)] = row
        if oracle.extendable(partial):
            if tuple(row) not in kept:
                kept.append(tuple(row))
        else:
            dropped = True
    if not dropped:
        return tuple(kept)
    positions = list(itertools.combinations(range(len(members)), strength))
    held = {(p, tuple(v[i] for i in p)) for v in kept for p in positions}
    for p in positions:
        for values in itertools.product(*(range(problem.levels[members[i]]) for i in p)):
            if (p, values) in held:
                continue
            partial = np.full(k, -1, dtype=np.int64)
            for i, v in zip(p, values):
                partial[members[i]] = v
            full = oracle.complete(partial, rng)
            if full is None:
                continue
            new = tuple(int(full[f]) for f in members)
            kept.append(new)
            held.update((q, tuple(new[i] for i in q)) for q in positions)
    return tuple(kept)


def lower_onto_compounds(
    problem: CoverageProblem,
    groups: Sequence[tuple[tuple[int, ...], int]],
    compound: dict[int, tuple[tuple[int, ...], ...]],
) -> Hierarchy:
    """The whole model's clauses and seed rows over compound factors (one per sub-model,
    placed at its first factor; every other factor stays itself)."""
    k = problem.num_factors
    owner = {f: members for members, _ in groups for f in members}
    order: list[tuple[int, ...]] = []
    values: list[tuple[tuple[int, ...], ...]] = []
    for f in range(k):
        members = owner.get(f)
        if members is None:
            order.append((f,))
            values.append(tuple((v,) for v in range(problem.levels[f])))
        elif members[0] == f:
            order.append(members)
            values.append(compound[f])
    where = {f: (g, i) for g, members in enumerate(order) for i, f in enumerate(members)}
    levels = tuple(len(v) for v in values)
    clauses: list[Clause] = []
    origin: list[int] = []
    for clause, rule in zip(problem.clauses, problem.clause_origin):
        mapped = []
        for f, allowed in clause:
            g, i = where[f]
            mapped.append((g, frozenset(c for c, cells in enumerate(values[g]) if cells[i] in allowed)))
        lowered = normalise_clause(mapped, levels)
        if lowered is not None and lowered not in clauses:
            clauses.append(lowered)
            origin.append(rule)
    seeds = tuple(_seed_row(row, order, values, problem) for row in problem.seed_rows)
    compound_problem = CoverageProblem(
        levels=levels,
        strength=max(1, min(problem.strength, len(levels))),
        clauses=tuple(clauses),
        clause_origin=tuple(origin),
        seed_rows=tuple(s for s in seeds if s is not None),
    )
    return Hierarchy(tuple(order), tuple(values), compound_problem)


def _seed_row(
    row: Sequence[int],
    order: list[tuple[int, ...]],
    values: list[tuple[tuple[int, ...], ...]],
    problem: CoverageProblem,
) -> tuple[int, ...] | None:
    """A seed row over compound factors: a group with all cells free stays free; otherwise
    the first compound value agreeing with the given cells that keeps the row extendable.
    Without one the cells are dropped (the group is left free)."""
    oracle = RowOracle(problem)
    partial = np.asarray(row, dtype=np.int64).copy()
    out: list[int] = []
    for g, members in enumerate(order):
        given = [(i, row[f]) for i, f in enumerate(members) if row[f] >= 0]
        if not given:
            out.append(-1)
            continue
        choice = -1
        for c, cells in enumerate(values[g]):
            if all(cells[i] == v for i, v in given):
                trial = partial.copy()
                trial[list(members)] = cells
                if oracle.extendable(trial):
                    choice = c
                    partial = trial
                    break
        out.append(choice)
    return tuple(out)


def repair(
    rows: np.ndarray,
    sets: Sequence[tuple[int, ...]],
    problem: CoverageProblem,
    oracle: RowOracle,
    rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[int, int, tuple[int, tuple[int, ...]]], int]:
    """Append a valid row for every required tuple no row holds but the rules allow.
    Returns the rows, (covered, total, (widest count, its factors)) and the rows added."""
    extra: list[np.ndarray] = []
    covered = total = 0
    widest: tuple[int, tuple[int, ...]] = (0, ())
    k = problem.num_factors
    for s in sets:
        cols = list(s)
        held = {tuple(r) for r in rows[:, cols].tolist()}
        held.update(tuple(int(r[f]) for f in cols) for r in extra)
        size = math.prod(problem.levels[f] for f in s)
        total += size
        count = len(held)
        if count < size:
            for values in itertools.product(*(range(problem.levels[f]) for f in s)):
                if values in held:
                    continue
                partial = np.full(k, -1, dtype=np.int64)
                partial[cols] = values
                full = oracle.complete(partial, rng)
                if full is not None:
                    extra.append(full)
                    held.add(values)
                    count += 1
        covered += count
        widest = max(widest, (count, tuple(s)), key=lambda w: w[0])
    if extra:
        rows = np.vstack([rows, np.asarray(extra, dtype=np.int64)])
        # earlier sets may have gained tuples from the added rows: recount exactly
        covered = sum(len({tuple(r) for r in rows[:, list(s)].tolist()}) for s in sets)
    return rows, (covered, total, widest), len(extra)


def prune(rows: np.ndarray, sets: Sequence[tuple[int, ...]], *, frozen: int = 0) -> np.ndarray:
    """Drop rows every required tuple of which another kept row also holds (the compound
    model asks for every combination of compound values, more than the requirement needs).
    The first ``frozen`` rows (seed rows) stay; later rows are tried last to first. Counts
    only fall, so one sweep finds every row it can drop."""
    n = rows.shape[0]
    if n <= 1 or not sets:
        return rows
    keys = [np.unique(rows[:, list(s)], axis=0, return_inverse=True)[1].reshape(-1) for s in sets]
    counts = [np.bincount(k) for k in keys]
    alive = np.ones(n, dtype=bool)
    for r in reversed(range(frozen, n)):
        if all(c[k[r]] >= 2 for c, k in zip(counts, keys)):
            alive[r] = False
            for c, k in zip(counts, keys):
                c[k[r]] -= 1
    return rows[alive]


def dead_values(problem: CoverageProblem, oracle: RowOracle) -> tuple[tuple[int, int], ...]:
    """(factor, value) pairs no valid row holds."""
    k = problem.num_factors
    out = []
    for f in range(k):
        for v in range(problem.levels[f]):
            partial = np.full(k, -1, dtype=np.int64)
            partial[f] = v
            if not oracle.extendable(partial):
                out.append((f, v))
    return tuple(out)


def coverable_mask(problem: CoverageProblem, index: object, rows: np.ndarray) -> np.ndarray:
    """Which t-tuples of ``index`` some valid row holds: those ``rows`` hold, plus the
    others the oracle can complete (the rows of a mixed-strength array need not hold
    every coverable t-tuple, so ``covered_mask`` alone is not the answer)."""
    from coverage_gen.engine.tuples import TupleIndex, iter_tuples

    assert isinstance(index, TupleIndex)
    mask = index.covered_mask(rows).copy()
    oracle = RowOracle(problem)
    missing = np.flatnonzero(~mask)
    for tid, (factors, values) in zip(missing.tolist(), iter_tuples(index, missing.tolist())):
        partial = np.full(problem.num_factors, -1, dtype=np.int64)
        partial[list(factors)] = values
        mask[tid] = oracle.extendable(partial)
    return mask
