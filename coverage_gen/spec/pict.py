"""PICT model files → ``CombinatorialModel``.

Supported: parameter lines ``Name: v1, v2, v3`` (values trimmed, may contain spaces), whole-line
``#`` comments, blank lines, then constraints, each ending with ``;`` (may span lines; the last
one may omit it). UTF-8 with or without BOM. Value comparisons are case-insensitive (PICT's
default), so the model has ``case_sensitive=False``; spelling is kept as written.

PICT features we do not implement are rejected with ``pict-unsupported`` naming file:line,
never silently ignored: value aliases ``a | b``, negative values ``~x``, weights ``x (10)``,
sub-models ``{ A, B } @ 3`` and parameter reuse ``<Param>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from coverage_gen.errors import Diagnostic, Location, SpecError, spec_error
from coverage_gen.spec.check import check_model
from coverage_gen.spec.constraints import is_number, parse_constraint
from coverage_gen.spec.model import CombinatorialModel, Constraint, Factor

__all__ = ["load_pict"]

# A line opens a constraint when it starts like one (a field, a parenthesis, IF/NOT + space).
_CONSTRAINT_START = re.compile(r"(?:\[|\(|(?:IF|NOT)(?=[\s\[(]))", re.IGNORECASE)
# ``Name: values``; the name may hold anything but brackets and quotes (rules must name it).
_PARAMETER_LINE = re.compile(r"([^\[\]{}\":]+):(.*)")
_WEIGHT = re.compile(r"\(\s*[+-]?\d+(?:\.\d*)?\s*\)\s*$")


@dataclass
class _State:
    file: str
    factors: list[Factor] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # the constraint being collected: its text (comment lines blanked) and start location
    pending: list[str] = field(default_factory=list)
    pending_loc: Location | None = None

    def error(self, code: str, line: int, col: int, msg: str) -> None:
        self.diagnostics.append(Diagnostic(code, Location(self.file, line, col), msg))


def load_pict(path: str | Path, strength: int = 2, seed: int = 0) -> CombinatorialModel:
    """Read a PICT model file; raise one ``SpecError`` with every problem found.

    The result has been through ``check_model`` (unknown fields, values, strength, ...).
    """
    file = str(path)
    state = _State(file)
    lines = _read_lines(Path(path))
    in_constraints = False
    for number, line in enumerate(lines, start=1):
        in_constraints = _read_line(state, number, line, in_constraints)
    _flush_pending(state, final=True)
    if state.diagnostics:
        raise SpecError(state.diagnostics)
    model = CombinatorialModel(
        factors=tuple(state.factors),
        constraints=tuple(state.constraints),
        strength=strength,
        seed=seed,
        source=file,
        case_sensitive=False,
    )
    check_model(model)
    return model


def _read_lines(path: Path) -> list[str]:
    loc = Location(str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise spec_error("file-not-found", loc, f"model file not found: {path}") from None
    except OSError as exc:
        raise spec_error("file-unreadable", loc, f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")  # strips a BOM when present
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise spec_error(
            "file-encoding", Location(str(path), line), "model file is not valid UTF-8"
        ) from None
    return text.splitlines()


# --------------------------------------------------------------------------- line dispatch
def _read_line(state: _State, number: int, line: str, in_constraints: bool) -> bool:
    """Handle one line; return whether we are now in the constraints section."""
    stripped = line.strip()
    indent = len(line) - len(line.lstrip())
    if state.pending:  # inside a multi-line constraint: keep line offsets intact
        state.pending.append("" if stripped.startswith("#") else line)
        _flush_pending(state)
        return True
    if not stripped or stripped.startswith("#"):
        return in_constraints
    if stripped.startswith("{"):
        state.error(
            "pict-unsupported", number, indent + 1, "sub-models ('{ A, B } @ n') are not supported"
        )
        return in_constraints
    if _CONSTRAINT_START.match(stripped):
        state.pending = [line[indent:]]
        state.pending_loc = Location(state.file, number, indent + 1)
        _flush_pending(state)
        return True
    match = _PARAMETER_LINE.fullmatch(line)
    if match and not in_constraints:
        _read_parameter(state, number, line, match)
    elif match:
        state.error("pict-syntax", number, indent + 1,
                    "parameter definitions must come before the constraints")
    else:
        state.error(
            "pict-syntax", number, indent + 1,
            "expected a parameter line 'Name: value1, value2, ...' or a constraint",
        )
    return in_constraints


def _flush_pending(state: _State, final: bool = False) -> None:
    """Parse every complete (';'-terminated) rule collected so far."""
    while state.pending:
        text = "\n".join(state.pending)
        end = _statement_end(text)
        if end is None and not final:
            return
        rule_text = text if end is None else text[: end + 1]
        rest = "" if end is None else text[end + 1 :]
        loc = state.pending_loc or Location(state.file)
        _parse_rule(state, rule_text, loc)
        state.pending, state.pending_loc = _remainder(rest, loc, rule_text)


def _remainder(rest: str, loc: Location, consumed: str) -> tuple[list[str], Location | None]:
    """What follows a ';' on the same line(s) starts the next rule, at its own location."""
    if not rest.strip():
        return [], None
    skipped = consumed + rest[: len(rest) - len(rest.lstrip())]
    line = (loc.line or 1) + skipped.count("\n")
    last_nl = skipped.rfind("\n")
    col = len(skipped) - last_nl if last_nl >= 0 else (loc.col or 1) + len(skipped)
    return [rest.lstrip()], Location(loc.file, line, col)


def _statement_end(text: str) -> int | None:
    """Index of the ';' that ends the first rule (ignoring ';' inside strings/field names)."""
    closer: str | None = None
    for i, char in enumerate(text):
        if closer is not None:
            if char == closer:
                closer = None
        elif char == '"':
            closer = '"'
        elif char == "[":
            closer = "]"
        elif char == ";":
            return i
    return None


def _parse_rule(state: _State, text: str, loc: Location) -> None:
    try:
        rule = parse_constraint(text, loc, len(state.constraints))
    except SpecError as exc:
        state.diagnostics.extend(exc.diagnostics)
        return
    state.constraints.append(rule)


# --------------------------------------------------------------------------- parameters
def _read_parameter(state: _State, number: int, line: str, match: re.Match[str]) -> None:
    name = match.group(1).strip()
    name_col = match.start(1) + (len(match.group(1)) - len(match.group(1).lstrip())) + 1
    if any(f.name.casefold() == name.casefold() for f in state.factors):
        state.error("duplicate-factor", number, name_col, f"parameter {name!r} is defined twice")
        return
    values, locs = _split_values(state, number, line, match.start(2))
    if values is None:
        return
    if not values:
        state.error("empty-vocabulary", number, name_col, f"parameter {name!r} has no values")
        return
    state.factors.append(
        Factor(
            name=name,
            values=tuple(values),
            numeric=all(is_number(v) for v in values),
            loc=Location(state.file, number, name_col),
            value_locs=tuple(locs),
        )
    )


def _split_values(
    state: _State, number: int, line: str, start: int
) -> tuple[list[str] | None, list[Location]]:
    """The comma-separated values after the ':' with their columns; None after an error."""
    values: list[str] = []
    locs: list[Location] = []
    ok = True
    pos = start
    raw_items = line[start:].split(",")
    if len(raw_items) == 1 and not raw_items[0].strip():
        return [], []
    for raw in raw_items:
        value = raw.strip()
        col = pos + (len(raw) - len(raw.lstrip())) + 1
        pos += len(raw) + 1
        problem = _unsupported_value(value)
        if problem:
            state.error("pict-unsupported", number, col, problem)
            ok = False
        elif not value:
            state.error("empty-value", number, col, "empty value in the value list")
            ok = False
        values.append(value)
        locs.append(Location(state.file, number, col))
    return (values if ok else None), locs


def _unsupported_value(value: str) -> str | None:
    if value.startswith("<") and value.endswith(">") and len(value) > 2:
        return f"parameter reuse {value!r} is not supported; list the values"
    if "|" in value:
        return f"value aliases ({value!r}) are not supported"
    if value.startswith("~"):
        return f"negative values ({value!r}) are not supported"
    if _WEIGHT.search(value):
        return f"value weights ({value!r}) are not supported"
    return None
