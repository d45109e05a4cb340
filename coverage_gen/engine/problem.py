"""The solver-neutral covering problem: integers only (PICT's engine boundary).

A row assigns each factor ``f`` a value index in ``range(levels[f])``. Constraints are CNF
clauses over *set literals*: the literal ``(f, S)`` holds when the row's value of ``f`` is in
``S``; a clause holds when one of its literals does; a row is valid when every clause holds.
Negating a literal is its complement set, so any Boolean rule over ``[A] op value`` atoms
lowers to clauses without auxiliary variables. ``clause_origin[i]`` is the ordinal of the
user rule clause ``i`` came from (for explanations); names live in ``cover.lower.NameMap``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

SetLiteral = tuple[int, frozenset[int]]
Clause = tuple[SetLiteral, ...]


@dataclass(frozen=True, slots=True)
class CoverageProblem:
    levels: tuple[int, ...]
    strength: int
    clauses: tuple[Clause, ...] = ()
    clause_origin: tuple[int, ...] = ()
    seed_rows: tuple[tuple[int, ...], ...] = field(default=())  # -1 = free cell

    def __post_init__(self) -> None:
        if any(level < 1 for level in self.levels):
            raise ValueError("every factor needs at least one value")
        if not 1 <= self.strength <= max(1, len(self.levels)):
            raise ValueError(
                f"strength {self.strength} needs 1..{len(self.levels)} factors"
            )
        if len(self.clause_origin) != len(self.clauses):
            raise ValueError("clause_origin must give one origin per clause")
        for clause in self.clauses:
            for f, values in clause:
                if not 0 <= f < len(self.levels) or any(
                    not 0 <= v < self.levels[f] for v in values
                ):
                    raise ValueError(f"clause literal out of range: {(f, sorted(values))}")

    @property
    def num_factors(self) -> int:
        return len(self.levels)

    def row_is_valid(self, row: Sequence[int]) -> bool:
        """True when the complete row satisfies every clause."""
        return all(any(row[f] in values for f, values in clause) for clause in self.clauses)

    def violated_clauses(self, row: Sequence[int]) -> list[int]:
        return [
            i
            for i, clause in enumerate(self.clauses)
            if not any(row[f] in values for f, values in clause)
        ]


def normalise_clause(clause: Iterable[SetLiteral], levels: Sequence[int]) -> Clause | None:
    """Merge literals on the same factor, drop empty ones; ``None`` if the clause is always
    true (some literal allows every value). An empty tuple is a clause no row can satisfy."""
    merged: dict[int, set[int]] = {}
    for f, values in clause:
        merged.setdefault(f, set()).update(values)
    out: list[SetLiteral] = []
    for f in sorted(merged):
        values = merged[f]
        if len(values) >= levels[f]:
            return None
        if values:
            out.append((f, frozenset(values)))
    return tuple(out)
