"""The only module that imports OR-Tools: one-row models and the exact covering model.

* :class:`RowModel` — one row, one-hot booleans per (factor, value), each clause an
  ``AddBoolOr`` enforced by the enable literal of its rule (one per ``clause_origin``).
  Answers satisfiability, minimal conflicting rule sets (assumption cores shrunk by
  deletion) and feasibility of partial assignments.
* :func:`solve_covering` — the exact model for ``N`` rows with symmetry breaking
  (ENGINE-NOTES §2): ``N - 1`` infeasible proves ``N`` optimal.

Every solve uses one worker, an explicit ``random_seed`` and a deterministic time limit, so
results do not depend on machine load; a wall-clock limit is only a safety net.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
from ortools.sat.python import cp_model

from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex
from coverage_gen.errors import SolverError


class Status(enum.Enum):
    """Solver-neutral outcome of one solve."""

    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


def _status(code: int) -> Status:
    # A satisfaction model reports OPTIMAL when it finds a solution (notes §6).
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Status.FEASIBLE
    if code == cp_model.INFEASIBLE:
        return Status.INFEASIBLE
    if code == cp_model.MODEL_INVALID:
        raise SolverError("CP-SAT rejected the model as invalid (internal error)")
    return Status.UNKNOWN


def _solver(seed: int, deterministic_time: float, wall_time: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = 1  # reproducible, and cores are only reliable with one worker
    params.random_seed = int(seed) % (2**31)
    params.max_deterministic_time = float(max(deterministic_time, 0.0))
    params.max_time_in_seconds = float(max(wall_time, 0.0))
    params.log_search_progress = False
    return solver


# ---------------------------------------------------------------------------------------
# one-row model
# ---------------------------------------------------------------------------------------


class RowModel:
    """One row of ``problem`` with an enable literal per rule ordinal.

    ``rules`` maps each rule ordinal (a ``clause_origin`` value) to its enable literal;
    queries assume the enable literals of the rules they keep, so one built model answers
    satisfiability, cores and partial-assignment feasibility.
    """

    def __init__(self, problem: CoverageProblem, *, seed: int = 0) -> None:
        self.problem = problem
        self.seed = seed
        model = cp_model.CpModel()
        self.model = model
        self.value = [
            [model.new_bool_var(f"x{f}_{v}") for v in range(n)]
            for f, n in enumerate(problem.levels)
        ]
        for lits in self.value:
            model.add_exactly_one(lits)
        self.rules: dict[int, cp_model.IntVar] = {}
        for origin in sorted(set(problem.clause_origin)):
            self.rules[origin] = model.new_bool_var(f"rule{origin}")
        for clause, origin in zip(problem.clauses, problem.clause_origin):
            lits = [self.value[f][v] for f, values in clause for v in sorted(values)]
            model.add_bool_or(lits).only_enforce_if(self.rules[origin])

    def _solve(
        self,
        rules: Iterable[int],
        fixed: Mapping[int, int],
        *,
        deterministic_time: float = 10.0,
        wall_time: float = 30.0,
    ) -> tuple[Status, cp_model.CpSolver]:
        self.model.clear_assumptions()
        assumptions = [self.rules[r] for r in rules]
        assumptions += [self.value[f][v] for f, v in fixed.items()]
        self.model.add_assumptions(assumptions)
        solver = _solver(self.seed, deterministic_time, wall_time)
        return _status(solver.solve(self.model)), solver

    def satisfiable(
        self, *, rules: Iterable[int] | None = None, fixed: Mapping[int, int] | None = None
    ) -> bool | None:
        """Is there a row obeying ``rules`` (default: all) with the ``fixed`` values?
        ``None`` when the solver gave up."""
        chosen = self.rules.keys() if rules is None else rules
        status, _ = self._solve(chosen, fixed or {})
        return None if status is Status.UNKNOWN else status is Status.FEASIBLE

    def witness(self, fixed: Mapping[int, int] | None = None) -> np.ndarray | None:
        """A valid row with the ``fixed`` values, or ``None``."""
        status, solver = self._solve(self.rules.keys(), fixed or {})
        if status is not Status.FEASIBLE:
            return None
        return np.array(
            [next(v for v, b in enumerate(lits) if solver.boolean_value(b)) for lits in self.value],
            dtype=np.int64,
        )

    def minimal_conflict(self, fixed: Mapping[int, int] | None = None) -> tuple[int, ...]:
        """A minimal set of rule ordinals that admit no row (with ``fixed``); ``()`` when
        all rules together are satisfiable. Removing any returned rule makes the rest
        satisfiable (deletion-based shrinking of CP-SAT's assumption core)."""
        fixed = dict(fixed or {})
        status, solver = self._solve(self.rules.keys(), fixed)
        if status is not Status.INFEASIBLE:
            return ()
        core = self._core(solver)
        kept = list(core)
        for rule in list(core):
            trial = [r for r in kept if r != rule]
            st, _ = self._solve(trial, fixed)
            if st is Status.INFEASIBLE:
                kept = trial
        return tuple(sorted(kept))

    def _core(self, solver: cp_model.CpSolver) -> list[int]:
        # Filter against our own literals: presolve may return foreign indices (or-tools
        # #5141), and older versions returned every assumption.
        by_index = {var.index: rule for rule, var in self.rules.items()}
        found = solver.sufficient_assumptions_for_infeasibility()
        core = sorted({by_index[i] for i in found if i in by_index})
        return core or sorted(self.rules)


# ---------------------------------------------------------------------------------------
# exact covering model
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoveringSolve:
    status: Status
    rows: np.ndarray | None  # int64[n_rows, k] when FEASIBLE
    seconds: float
    num_booleans: int
    deterministic_time: float = 0.0


def covering_model_size(n_rows: int, num_coverable: int) -> int:
    """Rough number of booleans of the exact model (the notes' N·T measure)."""
    return int(n_rows) * int(num_coverable)


def richest_tset(index: TupleIndex, coverable: np.ndarray) -> tuple[int, np.ndarray]:
    """The t-set with the most coverable tuples and the global ids of those tuples."""
    counts = np.add.reduceat(coverable.astype(np.int64), index.offsets[:-1])
    s = int(np.argmax(counts))
    lo, hi = int(index.offsets[s]), int(index.offsets[s + 1])
    return s, lo + np.flatnonzero(coverable[lo:hi])


def solve_covering(
    problem: CoverageProblem,
    index: TupleIndex,
    coverable: np.ndarray,
    n_rows: int,
    *,
    seed: int = 0,
    deterministic_time: float = 10.0,
    wall_time: float = 60.0,
) -> CoveringSolve:
    """Is there an array of ``n_rows`` valid rows covering every coverable tuple?"""
    start = time.perf_counter()
    s0, prefix_ids = richest_tset(index, coverable)
    if prefix_ids.size > n_rows:  # one row covers one tuple of a t-set
        return CoveringSolve(Status.INFEASIBLE, None, time.perf_counter() - start, 0)
    if not coverable.any():
        return CoveringSolve(Status.FEASIBLE, np.zeros((0, problem.num_factors), np.int64),
                             time.perf_counter() - start, 0)
    builder = _CoveringBuilder(problem, index, coverable, n_rows, s0, prefix_ids)
    builder.build()
    solver = _solver(seed, deterministic_time, max(0.0, wall_time - (time.perf_counter() - start)))
    status = _status(solver.solve(builder.model))
    rows = builder.read(solver) if status is Status.FEASIBLE else None
    return CoveringSolve(status, rows, time.perf_counter() - start, builder.num_booleans,
                         solver.deterministic_time)


class _CoveringBuilder:
    """Builds the exact model in a fixed order (variables, rows, symmetry, cover)."""

    def __init__(
        self,
        problem: CoverageProblem,
        index: TupleIndex,
        coverable: np.ndarray,
        n_rows: int,
        s0: int,
        prefix_ids: np.ndarray,
    ) -> None:
        self.problem = problem
        self.index = index
        self.coverable = coverable
        self.n = n_rows
        self.k = problem.num_factors
        self.model = cp_model.CpModel()
        self.s0 = s0
        self.s0_factors = [int(f) for f in index.tsets[s0]]
        self.prefix = [index.decode(int(t))[1] for t in prefix_ids]
        # fixed[r][f] = value for the symmetry-breaking prefix cells
        self.fixed: list[dict[int, int]] = [
            dict(zip(self.s0_factors, vals)) for vals in self.prefix
        ] + [{} for _ in range(n_rows - len(self.prefix))]
        self.num_booleans = 0
        self.b: list[list[list[cp_model.IntVar]]] = []

    def build(self) -> None:
        self._cells()
        self._clauses()
        self._value_precedence()
        self._lex_tail()
        self._counts()
        self._cover()

    def _bool(self, name: str) -> cp_model.IntVar:
        self.num_booleans += 1
        return self.model.new_bool_var(name)

    def _cells(self) -> None:
        levels = self.problem.levels
        for r in range(self.n):
            row = []
            for f in range(self.k):
                lits = [self._bool(f"b{r}_{f}_{v}") for v in range(levels[f])]
                self.model.add_exactly_one(lits)
                if f in self.fixed[r]:
                    self.model.add(lits[self.fixed[r][f]] == 1)
                row.append(lits)
            self.b.append(row)

    def _clauses(self) -> None:
        for r in range(self.n):
            for clause in self.problem.clauses:
                self.model.add_bool_or(
                    [self.b[r][f][v] for f, values in clause for v in sorted(values)]
                )

    def _value_precedence(self) -> None:
        """Values of a factor no clause mentions are interchangeable, so relabel them in
        order of first use in the prefix rows (whose order is already fixed)."""
        constrained = {f for clause in self.problem.clauses for f, _ in clause}
        m = len(self.prefix)
        for f in range(self.k):
            if f in constrained or f in self.s0_factors:
                continue
            for r in range(m):
                for v in range(1, self.problem.levels[f]):
                    earlier = [self.b[q][f][v - 1] for q in range(r)]
                    # b[r][f][v] → value v-1 already used in an earlier prefix row
                    self.model.add_bool_or(earlier + [self.b[r][f][v].Not()])

    def _lex_tail(self) -> None:
        """Rows after the prefix are interchangeable: keep them in lexicographic order
        (equality chain; no integer row encoding, which would overflow int64)."""
        m = len(self.prefix)
        if self.n - m < 2:
            return
        levels = self.problem.levels
        x = [
            [self._int_of(r, f) for f in range(self.k)] for r in range(m, self.n)
        ]
        for i in range(len(x) - 1):
            prefix_equal = None  # literal: rows agree on all columns so far
            for f in range(self.k):
                if levels[f] == 1:
                    continue
                le = self.model.add(x[i][f] <= x[i + 1][f])
                if prefix_equal is not None:
                    le.only_enforce_if(prefix_equal)
                nxt = self._bool(f"eq{i}_{f}")
                eq_here = self._bool(f"same{i}_{f}")
                self.model.add(x[i][f] != x[i + 1][f]).only_enforce_if(eq_here.Not())
                body = [eq_here.Not(), nxt]
                if prefix_equal is not None:
                    body.insert(0, prefix_equal.Not())
                self.model.add_bool_or(body)
                prefix_equal = nxt

    def _int_of(self, r: int, f: int) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.weighted_sum(
            self.b[r][f], list(range(self.problem.levels[f]))
        )

    def _counts(self) -> None:
        """Implied: value (f, v) appears at least as often as the number of coverable
        tuples holding it in any one t-set (each row covers one tuple per t-set)."""
        need = _value_demand(self.index, self.coverable)
        for f in range(self.k):
            for v in range(self.problem.levels[f]):
                if need[f][v] > 1:
                    self.model.add(sum(self.b[r][f][v] for r in range(self.n)) >= need[f][v])

    def _cover(self) -> None:
        index = self.index
        t = index.strength
        for tid in np.flatnonzero(self.coverable):
            factors, values = index.decode(int(tid))
            options = []
            done = False
            for r in range(self.n):
                fixed = self.fixed[r]
                free = []
                clash = False
                for f, v in zip(factors, values):
                    if f in fixed:
                        clash = clash or fixed[f] != v
                    else:
                        free.append(self.b[r][f][v])
                if clash:
                    continue
                if not free:
                    done = True  # a prefix row holds the tuple already
                    break
                if len(free) == 1:
                    options.append(free[0])
                    continue
                y = self._bool(f"y{r}_{tid}")
                for lit in free:
                    self.model.add_implication(y, lit)  # one-way is enough (notes §6)
                options.append(y)
            if not done:
                self.model.add_bool_or(options)
        del t

    def read(self, solver: cp_model.CpSolver) -> np.ndarray:
        rows = np.zeros((self.n, self.k), dtype=np.int64)
        for r in range(self.n):
            for f in range(self.k):
                rows[r, f] = next(
                    v for v, lit in enumerate(self.b[r][f]) if solver.boolean_value(lit)
                )
        return rows


def _value_demand(index: TupleIndex, coverable: np.ndarray) -> list[list[int]]:
    """need[f][v] = max over t-sets containing f of #coverable tuples with f = v."""
    levels = index.levels
    need = [[0] * int(n) for n in levels]
    for s in range(index.num_tsets):
        lo, hi = int(index.offsets[s]), int(index.offsets[s + 1])
        shape = tuple(int(levels[f]) for f in index.tsets[s])
        block = coverable[lo:hi].reshape(shape)
        for j, f in enumerate(index.tsets[s]):
            axes = tuple(a for a in range(len(shape)) if a != j)
            per_value = block.sum(axis=axes) if axes else block.astype(np.int64)
            row = need[int(f)]
            for v, c in enumerate(per_value.tolist()):
                if c > row[v]:
                    row[v] = int(c)
    return need


def rows_as_fixed(row: Sequence[int]) -> dict[int, int]:
    """Partial row (-1 = free) → the ``fixed`` mapping the one-row queries take."""
    return {f: int(v) for f, v in enumerate(row) if v >= 0}


# ---------------------------------------------------------------------------------------
# bounded explanations (used by cover.explain)
# ---------------------------------------------------------------------------------------


def bounded_core(
    row_model: RowModel,
    fixed: Mapping[int, int],
    *,
    deadline: float | None = None,
    deterministic_time: float = 2.0,
) -> tuple[tuple[int, ...] | None, bool]:
    """A minimal set of rule ordinals that, with the ``fixed`` values, admit no row.

    Returns ``(core, exact)``: ``core`` is ``()`` when the fixed values extend to a valid row,
    ``None`` when the solver could not decide in time; ``exact`` is False when the deadline
    (``time.monotonic()``) stopped the deletion-based shrinking early, so the core may
    hold a rule more than needed. Each solve is bounded by ``deterministic_time``.
    """

    def solve(rules: Iterable[int]) -> Status:
        wall = 30.0 if deadline is None else max(0.05, deadline - time.monotonic())
        status, solver = row_model._solve(
            rules, fixed, deterministic_time=deterministic_time, wall_time=wall
        )
        solve.solver = solver  # type: ignore[attr-defined]
        return status

    status = solve(row_model.rules.keys())
    if status is Status.UNKNOWN:
        return None, False
    if status is Status.FEASIBLE:
        return (), True
    kept = row_model._core(solve.solver)  # type: ignore[attr-defined]
    exact = True
    for rule in list(kept):
        if deadline is not None and time.monotonic() > deadline:
            return tuple(sorted(kept)), False
        trial = [r for r in kept if r != rule]
        verdict = solve(trial)
        if verdict is Status.INFEASIBLE:
            kept = trial
        elif verdict is Status.UNKNOWN:
            exact = False  # kept the rule without proof that it is needed
    return tuple(sorted(kept)), exact
