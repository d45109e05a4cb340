"""The library API: covering arrays over plain Python values.

``cover`` takes factors as a dict of name → values (any Python objects), constraints as rule
strings in our PICT-style language or as Python predicates, and returns rows as dicts of the
ORIGINAL values. Inside, every value gets a text *label*; the labels form an ordinary
``CombinatorialModel`` that goes through the same checks and lowering as a spec file, so rule
strings mean exactly what they mean in a spec. Predicates are compiled to clauses here, at the
``CoverageProblem`` level, since they have no AST.

How a value is spelled (its label, see :func:`label_of`): an ``enum.Enum`` member by its
``.name``, a ``str`` as itself, anything else by ``str(value)``: ``True``, ``None``, ``3``,
``2.5``. A factor whose labels all parse as numbers is numeric (PICT's rule), so rules
compare it with unquoted numbers (``[retries] > 1``); every other factor compares quoted text
(``[debug] = "True"``, ``[proxy] = "None"``). Two values of one factor whose labels compare
equal (``1`` and ``"1"``, or ``1`` and ``1.0`` in a numeric factor) are ambiguous and rejected.

No printing here; heavy modules (the engine: numba, ortools) load inside the functions.
"""

from __future__ import annotations

import enum
import inspect
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_gen.engine.problem import Clause, CoverageProblem, normalise_clause
from coverage_gen.errors import Diagnostic, InfeasibleSpecError, Location, UsageError
from coverage_gen.spec.check import check_model
from coverage_gen.spec.constraints import is_number, parse_constraint, value_key
from coverage_gen.spec.model import CombinatorialModel, Constraint, Factor

if TYPE_CHECKING:
    import numpy as np

    from coverage_gen.engine.result import CoveringArray, LowerBound
    from coverage_gen.engine.tuples import TupleIndex

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "CoverResult",
    "Predicate",
    "ci_matrix",
    "cover",
    "label_of",
]

DEFAULT_TIME_LIMIT = 5.0
PREDICATE_CAP = 1_000_000  # most value combinations one predicate may be called with
# Local-search steps per second of ``time_limit`` when extending existing rows: a step count,
# not wall time, so the same call gives the same rows on every machine.
_STEPS_PER_SECOND = 200_000
_SOURCE = "<cover>"

Predicate = Callable[..., object]
Rule = str | Predicate


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, slots=True, eq=False)
class CoverResult:
    """The rows to run and how well they cover.

    Attributes
    ----------
    factors : tuple of str
        Factor names, in the order given.
    rows : tuple of dict
        The rows: factor name → the original value. With ``existing=`` these are only the
        rows to ADD; the existing rows plus these cover every feasible tuple.
    indices : tuple of tuple of int
        The same rows as positions in each factor's value list.
    labels : tuple of tuple of str
        Each factor's value labels (how values are spelled in rules and test ids).
    strength : int
        Every combination of this many factors' values that some valid row can hold is covered.
    required : int
        The number of such feasible t-tuples.
    covered : int
        Feasible t-tuples held by ``rows`` (plus the existing rows); equals ``required``.
    covered_by_existing : int
        Feasible t-tuples the existing rows already held (0 without ``existing=``).
    existing : int
        How many existing rows were given.
    lower_bound : int
        No row set smaller than this can add the missing coverage.
    optimal : bool
        ``len(rows)`` is proven minimal.
    seconds : float
        Wall time of the solve.
    """

    factors: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    indices: tuple[tuple[int, ...], ...]
    labels: tuple[tuple[str, ...], ...]
    strength: int
    required: int
    covered: int
    covered_by_existing: int
    existing: int
    lower_bound: int
    optimal: bool
    seconds: float

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def ids(self, sep: str = "-") -> list[str]:
        """One readable name per row: its labels joined by ``sep`` (``"chrome-linux"``)."""
        return [sep.join(self.labels[f][v] for f, v in enumerate(row)) for row in self.indices]

    def report(self) -> dict[str, object]:
        """A JSON-ready summary (only str, int, float, bool, lists and dicts)."""
        return {
            "strength": self.strength,
            "factors": list(self.factors),
            "rows": len(self.rows),
            "existing_rows": self.existing,
            "tuples": {
                "required": self.required,
                "covered": self.covered,
                "covered_by_existing": self.covered_by_existing,
            },
            "lower_bound": self.lower_bound,
            "optimal": self.optimal,
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------- labels
def label_of(value: object) -> str:
    """How ``value`` is spelled in rule strings, test ids and CI matrices.

    Examples
    --------
    >>> import enum
    >>> class Color(enum.Enum):
    ...     RED = 1
    >>> [label_of(v) for v in ("chrome", 3, 2.5, True, None, Color.RED)]
    ['chrome', '3', '2.5', 'True', 'None', 'RED']
    """
    if isinstance(value, enum.Enum):  # before str/int: StrEnum/IntEnum members too
        return value.name
    if isinstance(value, str):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class _Factors:
    """The validated factors: names, original values and their labels."""

    names: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]
    labels: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


def _factors(factors: Mapping[str, Sequence[object]]) -> _Factors:
    if not isinstance(factors, Mapping):
        raise UsageError(f"factors must be a dict of name -> values, got {type(factors).__name__}")
    names: list[str] = []
    values: list[tuple[object, ...]] = []
    for name, raw in factors.items():
        if not isinstance(name, str) or not name:
            raise UsageError(f"factor names must be non-empty strings, got {name!r}")
        if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
            raise UsageError(f"factor {name!r}: values must be a list, got {raw!r}")
        if isinstance(raw, (set, frozenset)):  # iteration order varies between runs
            raise UsageError(f"factor {name!r}: give the values as a list; a set has no stable order")
        vals = tuple(raw)
        if not vals:
            raise UsageError(f"factor {name!r} has no values")
        names.append(name)
        values.append(vals)
    labels = tuple(tuple(label_of(v) for v in vals) for vals in values)
    numeric = tuple(all(is_number(label) for label in ls) for ls in labels)
    for name, vals, ls, num in zip(names, values, labels, numeric):
        _check_unambiguous(name, vals, ls, num)
    return _Factors(tuple(names), tuple(values), labels, numeric)



def _check_unambiguous(name: str, values: tuple[object, ...], labels: tuple[str, ...], numeric: bool) -> None:
    """Reject two values a rule (or an existing row, or a test id) could not tell apart."""
    seen: dict[object, int] = {}
    for i, label in enumerate(labels):
        key = value_key(label, numeric, True)
        j = seen.setdefault(key, i)
        if j != i:
            a, b = values[j], values[i]
            raise UsageError(
                f"factor {name!r}: values {a!r} ({type(a).__name__}) and {b!r} "
                f"({type(b).__name__}) are both spelled {labels[j]!r}/{label!r} in rules; "
                "give every value a distinct spelling (see coverage_gen.label_of)"
            )


# --------------------------------------------------------------------------- rules
def _split_rules(constraints: Sequence[Rule]) -> tuple[list[Constraint], list[Predicate]]:
    """Parse the rule strings (ordinals first) and collect the predicates (ordinals after)."""
    if isinstance(constraints, str):
        raise UsageError("constraints must be a list of rules, not one string")
    texts = [c for c in constraints if isinstance(c, str)]
    predicates = [c for c in constraints if not isinstance(c, str)]
    for p in predicates:
        if not callable(p):
            raise UsageError(f"a constraint must be a rule string or a predicate, got {p!r}")
    rules = [
        parse_constraint(text, Location(_SOURCE, path=("constraints", i)), i)
        for i, text in enumerate(texts)
    ]
    return rules, predicates


def _predicate_scope(predicate: Predicate, names: Sequence[str]) -> list[int]:
    """The factors a predicate judges: its parameter names, in order."""
    what = getattr(predicate, "__qualname__", repr(predicate))
    try:
        params = list(inspect.signature(predicate).parameters.values())
    except (TypeError, ValueError):
        raise UsageError(f"cannot read the parameters of predicate {what}") from None
    if not params:
        raise UsageError(f"predicate {what} takes no parameters; name the factors it judges")
    scope: list[int] = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise UsageError(
                f"predicate {what}: parameter {p.name!r} must be a plain named parameter; "
                "each parameter names one factor"
            )
        if p.name not in names:
            raise UsageError(
                f"predicate {what}: parameter {p.name!r} is not a factor; "
                f"the factors are: {', '.join(names)}"
            )
        scope.append(names.index(p.name))
    return scope


def _predicate_clauses(predicate: Predicate, fx: _Factors) -> list[Clause]:
    """Call the predicate on every combination of its factors' values; each combination it
    rejects (a false result) becomes a forbidden tuple, i.e. the clause "some factor of the
    scope differs from it"."""
    scope = _predicate_scope(predicate, fx.names)
    levels = [len(v) for v in fx.values]
    count = prod(levels[f] for f in scope)
    what = getattr(predicate, "__qualname__", repr(predicate))
    if count > PREDICATE_CAP:
        raise UsageError(
            f"predicate {what} would be called {count} times (limit {PREDICATE_CAP}); "
            "split it into predicates over fewer factors"
        )
    clauses: list[Clause] = []
    for combo in product(*(range(levels[f]) for f in scope)):
        kwargs = {fx.names[f]: fx.values[f][v] for f, v in zip(scope, combo)}
        try:
            ok = predicate(**kwargs)
        except Exception as exc:  # the user's code: say which call failed
            raise UsageError(f"predicate {what} raised {exc!r} for {kwargs!r}") from exc
        if not ok:
            literals = [(f, frozenset(range(levels[f])) - {v}) for f, v in zip(scope, combo)]
            clause = normalise_clause(literals, levels)
            if clause is not None:
                clauses.append(clause)
    return list(dict.fromkeys(clauses))


# --------------------------------------------------------------------------- problem
@dataclass(frozen=True, slots=True)
class _Compiled:
    problem: CoverageProblem
    rules: tuple[str, ...]  # ordinal → what to call the rule in messages


def _compile(fx: _Factors, constraints: Sequence[Rule], strength: int, seed: int) -> _Compiled:
    from coverage_gen.engine.lower import lower_model

    rules, predicates = _split_rules(constraints)
    model = CombinatorialModel(
        factors=tuple(
            Factor(name, labels, numeric)
            for name, labels, numeric in zip(fx.names, fx.labels, fx.numeric)
        ),
        constraints=tuple(rules),
        strength=strength,
        seed=seed,
        source=_SOURCE,
    )
    check_model(model)  # the same checks as a spec file: unknown field, unknown value, types
    base = lower_model(model).problem  # string rules: exactly the spec path's lowering
    clauses, origin = list(base.clauses), list(base.clause_origin)
    for j, predicate in enumerate(predicates):
        extra = _predicate_clauses(predicate, fx)
        clauses += extra
        origin += [len(rules) + j] * len(extra)
    problem = CoverageProblem(base.levels, strength, tuple(clauses), tuple(origin))
    names = [r.text for r in rules] + [
        f"predicate {getattr(p, '__qualname__', repr(p))}" for p in predicates
    ]
    return _Compiled(problem, tuple(names))


def _infeasible(compiled: _Compiled, conflict: Sequence[int]) -> InfeasibleSpecError:
    listed = "; ".join(compiled.rules[i] for i in conflict if 0 <= i < len(compiled.rules))
    msg = "the constraints admit no valid row"
    if listed:
        msg += f": these rules conflict: {listed}"
    return InfeasibleSpecError([Diagnostic("unsatisfiable", Location(_SOURCE), msg)])


# --------------------------------------------------------------------------- existing rows
def _existing_indices(existing: Sequence[Mapping[str, object]], fx: _Factors) -> list[list[int]]:
    """Existing rows as value positions; every row must name every factor, nothing else."""
    out: list[list[int]] = []
    for r, row in enumerate(existing):
        if not isinstance(row, Mapping):
            raise UsageError(f"existing row {r} must be a dict of factor -> value, got {row!r}")
        missing = [n for n in fx.names if n not in row]
        unknown = [str(k) for k in row if k not in fx.names]
        problems = [f"missing factors {', '.join(missing)}"] if missing else []
        problems += [f"unknown factors {', '.join(unknown)}"] if unknown else []
        if problems:
            raise UsageError(f"existing row {r}: {'; '.join(problems)}")
        out.append([_value_position(fx, f, row[name], r) for f, name in enumerate(fx.names)])
    return out


def _value_position(fx: _Factors, f: int, value: object, r: int) -> int:
    """By label first (so ``"FREE"`` names ``Tier.FREE``), else by equality (``1.0``, ``1``)."""
    label = label_of(value)
    if label in fx.labels[f]:  # labels are unique per factor (checked), so this is exact
        return fx.labels[f].index(label)
    for v, known in enumerate(fx.values[f]):
        if known == value:
            return v
    raise UsageError(
        f"existing row {r}: {value!r} is not a value of factor {fx.names[f]!r}; "
        f"its values are: {', '.join(fx.labels[f])}"
    )


# --------------------------------------------------------------------------- solving
@dataclass(frozen=True, slots=True, eq=False)
class _Solved:
    rows: "np.ndarray"
    required: int
    covered: int
    covered_by_existing: int
    lower_bound: int
    optimal: bool


def _solve(problem: CoverageProblem, *, seed: int, time_limit: float) -> _Solved:
    """A fresh array: the engine driver does everything."""
    from coverage_gen.engine.search import build_array

    array: CoveringArray = build_array(problem, seed=seed, time_limit=time_limit)
    return _Solved(
        array.rows, array.required, array.covered, 0, array.lower_bound.value, array.optimal
    )


def _extend(
    problem: CoverageProblem, existing: list[list[int]], *, seed: int, time_limit: float
) -> _Solved:
    """The fewest rows that, with ``existing``, cover every feasible tuple.

    Every engine phase takes the tuples still to cover as a mask, so the existing rows just
    shrink that mask: analysis (what is feasible) → greedy on the remainder → local search
    (never loses the remainder) → the exact model, with the driver's deterministic budgets.
    Not ``problem.seed_rows``: the driver drops seed rows that break a rule (their tuples
    would be covered again) and skips the exact phase when seed rows are present. Existing
    rows that break a rule still count for the feasible tuples they hold: those
    combinations were exercised.
    """
    import numpy as np

    from coverage_gen._seed import derive_seed
    from coverage_gen.engine import search
    from coverage_gen.engine.analysis import analyse
    from coverage_gen.engine.bounds import lower_bound
    from coverage_gen.engine.greedy import greedy_array
    from coverage_gen.engine.localsearch import shrink
    from coverage_gen.engine.oracle import RowOracle
    from coverage_gen.engine.tuples import index_for

    start = time.monotonic()
    index = index_for(problem)
    oracle = RowOracle(problem)
    analysis = analyse(problem, index, seed=derive_seed(seed, "analysis"),
                       deadline=start + max(time_limit, 1.0) * search.SAFETY_FACTOR, oracle=oracle)
    if not analysis.satisfiable:
        raise search.Unsatisfiable(analysis.conflict)
    held = index.covered_mask(np.asarray(existing, dtype=np.int64).reshape(-1, problem.num_factors))
    remainder = analysis.coverable & ~held
    required = int(np.count_nonzero(analysis.coverable))
    by_existing = int(np.count_nonzero(analysis.coverable & held))
    if not remainder.any():
        empty = np.zeros((0, problem.num_factors), dtype=np.int64)
        return _Solved(empty, required, by_existing, by_existing, 0, True)
    bound = lower_bound(problem, index, remainder)
    rows = greedy_array(problem, index, remainder, oracle, seed=derive_seed(seed, "greedy"))
    nominal = time_limit * search.LS_SHARE
    rows = shrink(
        problem, index, remainder, rows, None,
        seed=derive_seed(seed, "localsearch"),
        max_steps=1 << 62, max_work=search.ls_work_budget(nominal, problem),
        deadline=time.monotonic() + nominal * search.SAFETY_FACTOR + 1.0, lower=bound.value,
    ).rows
    rows, bound_value, optimal = _exact(problem, index, remainder, rows, bound, seed, time_limit)
    covered = int(np.count_nonzero(analysis.coverable & (held | index.covered_mask(rows))))
    _verify(problem, rows, covered, required)
    return _Solved(rows, required, covered, by_existing, bound_value, optimal)


def _exact(
    problem: CoverageProblem,
    index: "TupleIndex",
    remainder: "np.ndarray",
    rows: "np.ndarray",
    bound: "LowerBound",
    seed: int,
    time_limit: float,
) -> tuple["np.ndarray", int, bool]:
    """Let CP-SAT shrink the added rows or prove them minimal (its own size cap applies)."""
    from coverage_gen._seed import derive_seed
    from coverage_gen.engine import search
    from coverage_gen.engine.exact import improve_or_prove

    if rows.shape[0] <= bound.value:
        return rows, bound.value, True
    budget = time_limit * search.EXACT_SHARE
    outcome = improve_or_prove(
        problem, index, remainder, rows, bound,
        seed=derive_seed(seed, "exact"), deterministic_budget=budget,
        wall_deadline=time.monotonic() + budget * search.SAFETY_FACTOR + 1.0,
    )
    if len(outcome.rows) > len(rows):  # never accept more rows
        return rows, bound.value, False
    best = max(bound.value, outcome.lower_bound.value)
    return outcome.rows, best, outcome.optimal or len(outcome.rows) <= best


def _verify(problem: CoverageProblem, rows: "np.ndarray", covered: int, required: int) -> None:
    """The driver checks its own result; this path must too."""
    from coverage_gen.errors import SolverError

    if covered != required:
        raise SolverError(f"internal: rows cover {covered} of {required} required tuples")
    if not all(problem.row_is_valid(row) for row in rows.tolist()):
        raise SolverError("internal: an added row breaks a constraint")


# --------------------------------------------------------------------------- the API
def cover(
    factors: Mapping[str, Sequence[object]],
    strength: int = 2,
    *,
    constraints: Sequence[Rule] = (),
    seed: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
    existing: Sequence[Mapping[str, object]] | None = None,
) -> CoverResult:
    """Rows that hold every feasible combination of ``strength`` factors' values.

    Parameters
    ----------
    factors : dict of str to list
        Factor name → its values: any Python objects (str, int, float, bool, None, enum
        members, ...). Rows hold the original objects. Each value is spelled by
        :func:`label_of`; the spellings of one factor must be distinct.
    strength : int, default 2
        Cover every combination of this many factors (2 = pairwise).
    constraints : list of str or callable
        Rules every row must satisfy. A string is a rule in the PICT-style language of spec
        files, over the labels: ``'IF [os] = "mac" THEN [browser] <> "edge"'``; a factor
        whose labels are all numbers compares numerically (``[retries] > 1``), others
        compare quoted text (``[debug] = "True"``). A callable is a predicate: its
        PARAMETER NAMES name the factors it judges; it is called with exactly those factors
        (as keyword arguments holding original values) for every combination of their
        values, and each combination for which it returns a false value is forbidden.
    seed : int, default 0
        Same arguments and seed give the same rows, on every machine.
    time_limit : float, default 5.0
        Seconds the engine may spend shrinking the array (the budget is counted in steps and
        deterministic solver time, so it does not make the result machine-dependent).
    existing : list of dict, optional
        Rows already run (factor name → value). Only the fewest rows that complete coverage
        are returned; existing rows count for every feasible tuple they hold.

    Returns
    -------
    CoverResult
        ``rows`` (dicts of original values) and the coverage counts.

    Raises
    ------
    UsageError
        Bad arguments: ambiguous value spellings, a predicate parameter that is not a
        factor, an existing row with an unknown value, ...
    SpecError
        A rule string that does not parse or names an unknown factor or value.
    InfeasibleSpecError
        The constraints admit no row at all.

    Examples
    --------
    >>> result = cover({"browser": ["chrome", "firefox"], "os": ["linux", "mac"], "debug": [True, False]})
    >>> len(result), result.covered == result.required == 12
    (4, True)
    >>> sorted(result.rows[0])
    ['browser', 'debug', 'os']
    >>> no_edge_on_linux = lambda browser, os: not (browser == "edge" and os == "linux")
    >>> result = cover(
    ...     {"browser": ["chrome", "edge"], "os": ["linux", "windows"], "retries": [0, 1, 3]},
    ...     constraints=['IF [retries] > 1 THEN [os] = "linux"', no_edge_on_linux],
    ... )
    >>> any(r["browser"] == "edge" and r["os"] == "linux" for r in result.rows)
    False
    >>> more = cover({"a": [1, 2], "b": [1, 2]}, existing=[{"a": 1, "b": 1}, {"a": 2, "b": 2}])
    >>> len(more), more.covered_by_existing, more.required
    (2, 2, 4)
    """
    started = time.perf_counter()
    fx = _factors(factors)
    if isinstance(strength, bool) or not isinstance(strength, int):
        raise UsageError(f"strength must be an int, got {strength!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a non-negative int, got {seed!r}")
    if not time_limit > 0:
        raise UsageError(f"time_limit must be positive, got {time_limit!r}")
    compiled = _compile(fx, constraints, strength, seed)
    solved = _run(compiled, existing, fx, seed=seed, time_limit=time_limit)
    indices = tuple(tuple(int(v) for v in row) for row in solved.rows.tolist())
    return CoverResult(
        factors=fx.names,
        rows=tuple(_decode(fx, row) for row in indices),
        indices=indices,
        labels=fx.labels,
        strength=strength,
        required=solved.required,
        covered=solved.covered,
        covered_by_existing=solved.covered_by_existing,
        existing=len(existing or ()),
        lower_bound=solved.lower_bound,
        optimal=solved.optimal,
        seconds=time.perf_counter() - started,
    )


def _run(
    compiled: _Compiled,
    existing: Sequence[Mapping[str, object]] | None,
    fx: _Factors,
    *,
    seed: int,
    time_limit: float,
) -> _Solved:
    from coverage_gen.engine.search import Unsatisfiable

    try:
        if existing is None:
            return _solve(compiled.problem, seed=seed, time_limit=time_limit)
        rows = _existing_indices(existing, fx)
        return _extend(compiled.problem, rows, seed=seed, time_limit=time_limit)
    except Unsatisfiable as exc:
        raise _infeasible(compiled, exc.conflict) from None


def _decode(fx: _Factors, row: Sequence[int]) -> dict[str, Any]:
    return {name: fx.values[f][v] for f, (name, v) in enumerate(zip(fx.names, row))}


# --------------------------------------------------------------------------- CI matrices
def ci_matrix(
    source: str | Path,
    *,
    strength: int | None = None,
    seed: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> list[dict[str, str]]:
    r"""The covering rows of a spec or PICT model as CI matrix entries (factor → value).

    Values stay the strings written in the model: ``"3.10"`` must not become the number
    3.1 in a CI matrix.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     model = pathlib.Path(tmp) / "ci.txt"
    ...     _ = model.write_text("os: linux, mac\npython: 3.10, 3.11\n")
    ...     entries = ci_matrix(model)
    >>> len(entries), sorted(entries[0])
    (4, ['os', 'python'])
    >>> sorted(e["python"] for e in entries)
    ['3.10', '3.10', '3.11', '3.11']
    """
    from coverage_gen.api import generate_matrix

    matrix = generate_matrix(source, strength=strength, seed=seed, time_limit=time_limit)
    return [dict(zip(matrix.header, row)) for row in matrix.rows]
