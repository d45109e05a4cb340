"""Exception families and structured diagnostics.

Three families, never mixed (pydantic/networkx style):

* ``SpecError``: the user's input is wrong (file, line, key path, what would be valid).
* ``InfeasibleSpecError``: the input is well formed but its constraints admit no row.
* ``UsageError``: the library was called wrongly (bad argument types or values).

Everything raised on purpose by coverage_gen derives from ``CoverageGenError``, so the CLI maps
each family to its own exit code. This module imports the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file, a 1-based line and column, and a key path."""

    file: str | None = None
    line: int | None = None
    col: int | None = None
    path: tuple[str | int, ...] = ()

    def child(self, key: str | int) -> "Location":
        """The same place one key deeper (line and column are the caller's to refine)."""
        return Location(self.file, self.line, self.col, self.path + (key,))

    def dotted_path(self) -> str:
        parts: list[str] = []
        for key in self.path:
            if isinstance(key, int):
                parts.append(f"[{key}]")
            else:
                parts.append(("." if parts else "") + key)
        return "".join(parts)

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        if self.path:
            where += f" ({self.dotted_path()})"
        return where


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the input; ``code`` is stable and documented."""

    code: str
    loc: Location
    msg: str
    severity: Severity = "error"
    ctx: dict[str, object] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"{self.loc}: {self.severity}: {self.msg} [{self.code}]"


class CoverageGenError(Exception):
    """Root of every error coverage_gen raises on purpose."""


class UsageError(CoverageGenError, ValueError):
    """The library API was called with arguments that cannot work."""


class SpecError(CoverageGenError):
    """The input (spec, model, data file) is wrong; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class InfeasibleSpecError(SpecError):
    """The constraints admit no valid row at all (or no row with a required value)."""


class SolverError(CoverageGenError):
    """The solver failed in a way that is not the input's fault."""


class SinkError(CoverageGenError):
    """Output could not be written."""


class VerificationFailed(CoverageGenError):
    """``verify`` found missing tuples, violated constraints or a broken contract."""


def spec_error(code: str, loc: Location, msg: str, **ctx: object) -> SpecError:
    """Shorthand for raising a single-diagnostic ``SpecError``."""
    return SpecError(Diagnostic(code, loc, msg, "error", dict(ctx)))
