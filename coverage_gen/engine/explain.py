"""Why the constraints exclude what they exclude: minimal sets of rules (cores).

Pure logic over a ``CoverageProblem`` (CP-SAT is reached through ``cover.cpsat`` only, and
only when something needs explaining). Every question is "which rules, at the least, forbid
these fixed values?", answered by ``cpsat.bounded_core``: a core of rule ordinals
(``clause_origin`` values) from which no rule can be dropped. Chains of rules (``A → B``,
``B → ¬C`` excluding ``A ∧ C``) come out whole because the question is asked of the full
rule set.

* ``dead_value_causes``      the rules that kill each dead value;
* ``seed_row_conflicts``     the rules each seed row breaks (complete or partial rows);
* ``excluded_combinations``  the excluded t-tuples, grouped by their smallest excluded part
                             (a t-tuple excluded because two of its values cannot meet is
                             listed under that pair), each with its core.

Every function takes an absolute ``deadline`` (``time.monotonic()``); work left when it
passes is counted, never silently dropped, so callers can report a bounded analysis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import combinations
from typing import Sequence

import numpy as np

from coverage_gen.engine.lower import NEGATIVE_ORIGIN
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex
from coverage_gen.spec.model import CombinatorialModel, Constraint

__all__ = [
    "Core",
    "DeadValue",
    "ExcludedCombination",
    "ExcludedReport",
    "SeedConflict",
    "dead_value_causes",
    "describe_rules",
    "excluded_combinations",
    "seed_row_conflicts",
]

NEGATIVE_RULE_TEXT = "at most one negative (~) value per row (PICT negative testing)"


@dataclass(frozen=True, slots=True)
class Core:
    """Rule ordinals that together forbid something; ``exact`` False when the time bound
    stopped the shrinking (then a rule may be listed that is not strictly needed);
    ``rules is None`` when the solver could not decide at all."""

    rules: tuple[int, ...] | None
    exact: bool = True


@dataclass(frozen=True, slots=True)
class DeadValue:
    factor: int
    value: int
    core: Core


@dataclass(frozen=True, slots=True)
class SeedConflict:
    row: int  # position in problem.seed_rows
    core: Core


@dataclass(frozen=True, slots=True)
class ExcludedCombination:
    factors: tuple[int, ...]
    values: tuple[int, ...]
    core: Core
    tuples: int  # how many excluded t-tuples contain this combination


@dataclass(frozen=True, slots=True)
class ExcludedReport:
    combinations: tuple[ExcludedCombination, ...]
    excluded: int  # excluded t-tuples in all
    by_dead_value: int  # of which hold a dead value (explained by the dead-value report)
    by_negative_rule: int  # of which hold two negative values
    unexplained: int  # left when the deadline or the listing limit was reached
    seconds: float
    complete: bool = True
    notes: tuple[str, ...] = field(default=())


class _Cores:
    """One CP-SAT row model, cores memoised by the fixed values."""

    def __init__(self, problem: CoverageProblem, seed: int, deadline: float | None) -> None:
        from coverage_gen.engine.cpsat import RowModel  # ortools only when explaining

        self.model = RowModel(problem, seed=seed)
        self.deadline = deadline
        self.memo: dict[tuple[tuple[int, int], ...], Core] = {}

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def core(self, fixed: dict[int, int]) -> Core:
        from coverage_gen.engine.cpsat import bounded_core

        key = tuple(sorted(fixed.items()))
        found = self.memo.get(key)
        if found is None:
            rules, exact = bounded_core(self.model, fixed, deadline=self.deadline)
            found = self.memo[key] = Core(rules, exact)
        return found


def dead_value_causes(
    problem: CoverageProblem,
    dead_values: Sequence[tuple[int, int]],
    *,
    seed: int = 0,
    deadline: float | None = None,
) -> list[DeadValue]:
    """For each dead ``(factor, value)`` a minimal set of rules that kills it."""
    if not dead_values:
        return []
    cores = _Cores(problem, seed, deadline)
    return [DeadValue(f, v, cores.core({f: v})) for f, v in dead_values]


def seed_row_conflicts(
    problem: CoverageProblem,
    rows: Sequence[Sequence[int]],
    *,
    seed: int = 0,
    deadline: float | None = None,
) -> list[SeedConflict]:
    """The seed rows no valid row extends, each with a minimal set of rules it breaks.
    Assumes the rules alone are satisfiable (else every row conflicts)."""
    if not rows:
        return []
    cores = _Cores(problem, seed, deadline)
    out = []
    for i, row in enumerate(rows):
        fixed = {f: int(v) for f, v in enumerate(row) if v >= 0}
        if len(fixed) == problem.num_factors and problem.row_is_valid(list(row)):
            continue  # complete and valid: no solver needed
        core = cores.core(fixed)
        if core.rules != ():
            out.append(SeedConflict(i, core))
    return out


def excluded_combinations(
    problem: CoverageProblem,
    index: TupleIndex,
    coverable: np.ndarray,
    dead_values: Sequence[tuple[int, int]],
    negative: Sequence[frozenset[int]],
    *,
    seed: int = 0,
    deadline: float | None = None,
    limit: int = 200,
) -> ExcludedReport:
    """Every excluded t-tuple, grouped under its smallest excluded part, with its core.

    ``negative[f]`` holds factor f's negative values. Tuples holding a dead value or two
    negative values are only counted (the dead-value report and the negative rule explain
    them). At most ``limit`` combinations are explained; the rest are counted.
    """
    start = time.perf_counter()
    dead = set(dead_values)
    cores = _Cores(problem, seed, deadline) if not coverable.all() else None
    groups: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
    found: dict[tuple[tuple[int, ...], tuple[int, ...]], Core] = {}
    by_dead = by_negative = unexplained = 0
    excluded_ids = np.flatnonzero(~coverable)
    complete = True
    for n, tid in enumerate(excluded_ids.tolist()):
        factors, values = index.decode(int(tid))
        pairs = list(zip(factors, values))
        if any(p in dead for p in pairs):
            by_dead += 1
            continue
        if sum(1 for f, v in pairs if v in negative[f]) >= 2:
            by_negative += 1
            continue
        assert cores is not None
        if cores.expired():
            unexplained += len(excluded_ids) - n
            complete = False
            break
        key = _smallest_excluded(pairs, cores)
        if key is None:
            unexplained += 1
            complete = False
            continue
        if key not in groups and len(groups) >= limit:
            unexplained += 1
            continue
        groups[key] = groups.get(key, 0) + 1
        if key not in found:
            found[key] = cores.core(dict(zip(*key)))
    combos = tuple(
        ExcludedCombination(k[0], k[1], found[k], count) for k, count in groups.items()
    )
    complete = complete and all(c.core.exact and c.core.rules is not None for c in combos)
    return ExcludedReport(combos, int(excluded_ids.size), by_dead, by_negative, unexplained,
                          time.perf_counter() - start, complete)


def _smallest_excluded(
    pairs: list[tuple[int, int]], cores: _Cores
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The first (smallest, then leftmost) part of the tuple that no valid row holds."""
    for size in range(1, len(pairs) + 1):
        for part in combinations(pairs, size):
            core = cores.core(dict(part))
            if core.rules is None:
                return None
            if core.rules:
                return tuple(f for f, _ in part), tuple(v for _, v in part)
    return None


# --------------------------------------------------------------------------- rendering
def describe_rules(rules: Sequence[int], constraints: Sequence[Constraint]) -> list[str]:
    """``line N: text`` per rule ordinal (the negative-value rule in words)."""
    by_index = {c.index: c for c in constraints}
    out = []
    for r in rules:
        if r == NEGATIVE_ORIGIN:
            out.append(NEGATIVE_RULE_TEXT)
        elif r in by_index:
            rule = by_index[r]
            text = " ".join(rule.text.split()).rstrip(";").rstrip()
            out.append(f"line {rule.loc.line}: {text}")
    return out


def describe_values(
    model: CombinatorialModel, factors: Sequence[int], values: Sequence[int]
) -> str:
    """``[A] = "x", [B] = 3`` (the constraint language's own spelling)."""
    parts = []
    for f, v in zip(factors, values):
        factor = model.factors[f]
        text = factor.values[v]
        parts.append(f"[{factor.name}] = {text if factor.numeric else repr_quoted(text)}")
    return ", ".join(parts)


def repr_quoted(text: str) -> str:
    return f'"{text}"'
