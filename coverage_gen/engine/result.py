"""What the engine returns: the array and an account of how it was found."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class ExitReason(enum.Enum):
    """Why the search stopped."""

    OPTIMAL = "optimal"  # size equals a proven lower bound
    TIME_LIMIT = "time limit"
    STALLED = "stalled"  # no phase could improve further within its own limits
    COMPLETE = "complete"  # every phase ran to its natural end


@dataclass(frozen=True, slots=True)
class PhaseStats:
    name: str
    rows_before: int
    rows_after: int
    seconds: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LowerBound:
    value: int
    reason: str  # the argument, e.g. "largest number of coverable tuples over any 2 factors"
    factors: tuple[int, ...] = ()  # the factors the argument is about (names mapped by report)


@dataclass(frozen=True, slots=True, eq=False)
class CoveringArray:
    """Rows of value indices (``int64[n_rows, k]``) plus the solve account.

    ``required`` is the number of t-tuples some valid row can hold; ``excluded`` the number
    that constraints rule out; ``covered`` is checked against ``required`` by the search.
    """

    rows: np.ndarray
    strength: int
    required: int
    excluded: int
    covered: int
    lower_bound: LowerBound
    exit_reason: ExitReason
    seconds: float
    phases: tuple[PhaseStats, ...] = ()
    optimal: bool = False
    proof: str = ""  # why the size is optimal, when it is
    best_known: int | None = None  # published best size for a standard instance, if known
    analysis_seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())
    dead_values: tuple[tuple[int, int], ...] = ()  # (factor, value) no valid row can hold

    @property
    def num_rows(self) -> int:
        return int(self.rows.shape[0])

    @property
    def gap(self) -> float:
        """(size - bound) / size; 0 when optimal."""
        n = self.num_rows
        return 0.0 if n == 0 else (n - self.lower_bound.value) / n
