"""PICT model files → ``CombinatorialModel``.

Supported: parameter lines ``Name: v1, v2, v3`` (values trimmed, may contain spaces), whole-line
``#`` comments, blank lines, then constraints, each ending with ``;`` (may span lines; the last
one may omit it). UTF-8 with or without BOM. Comparisons (parameter names, values) are
case-insensitive unless ``PictOptions.case_sensitive`` (PICT's ``/c``); spelling is kept.

Values may carry aliases (``Server | Datacenter``), a negative prefix (``~-1``), a weight
(``Red (10)``) and may reuse another parameter's values (``B: <A>, extra``); the separators
and the prefix are ``PictOptions`` (``/d:`` ``/a:`` ``/n:``). A seed file (``/e:``) becomes
``CombinatorialModel.seed_rows``; its problems become warnings in ``model.notes``.
Sub-models ``{ A, B } @ 3`` (mixed strength) become ``CombinatorialModel.submodels``
(solved hierarchically by ``cover.submodels``); a parameter may be in at most one.
See docs/pict.md for every decision where PICT's documentation is ambiguous.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from coverage_gen.errors import Diagnostic, Location, SpecError, spec_error
from coverage_gen.spec.check import check_model
from coverage_gen.spec.constraints import is_number, parse_constraint, value_key
from coverage_gen.spec.model import (
    And,
    CombinatorialModel,
    Comparison,
    Constraint,
    Expr,
    Factor,
    FieldRef,
    IfThen,
    InSet,
    Like,
    Not,
    Or,
    SeedRow,
    SubModel,
)

__all__ = ["PictOptions", "load_pict", "read_seed_file"]

# A line opens a constraint when it starts like one (a field, a parenthesis, IF/NOT + space).
_CONSTRAINT_START = re.compile(r"(?:\[|\(|(?:IF|NOT)(?=[\s\[(]))", re.IGNORECASE)
# ``Name: values``; the name may hold anything but brackets and quotes (rules must name it).
_PARAMETER_LINE = re.compile(r"([^\[\]{}\":]+):(.*)")
_WEIGHT = re.compile(r"\(\s*(\d+)\s*\)\s*$")
_REUSE = re.compile(r"<([^<>]+)>")
# ``{ A, B, C } @ 3`` (the order is optional)
_SUBMODEL = re.compile(r"\{(?P<names>[^{}]*)\}\s*(?:@\s*(?P<order>\S*))?\s*")


@dataclass(frozen=True, slots=True)
class PictOptions:
    """PICT's model switches: ``/c`` ``/d:C`` ``/a:C`` ``/n:C`` ``/e:file``."""

    case_sensitive: bool = False
    value_separator: str = ","
    alias_separator: str = "|"
    negative_prefix: str = "~"
    seed_file: str | Path | None = None


@dataclass(frozen=True, slots=True)
class _Value:
    names: tuple[str, ...]  # first = the value
    negative: bool
    weight: int
    loc: Location


@dataclass
class _State:
    file: str
    options: PictOptions = field(default_factory=PictOptions)
    factors: list[Factor] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # the constraint being collected: its text (comment lines blanked) and start location
    pending: list[str] = field(default_factory=list)
    pending_loc: Location | None = None
    # sub-model lines: (names with their locations, order or None, location of the '{')
    submodels: list[tuple[list[tuple[str, Location]], int | None, Location]] = field(
        default_factory=list
    )

    def error(self, code: str, line: int, col: int, msg: str) -> None:
        self.diagnostics.append(Diagnostic(code, Location(self.file, line, col), msg))


def load_pict(
    path: str | Path, strength: int = 2, seed: int = 0, *, options: PictOptions | None = None
) -> CombinatorialModel:
    """Read a PICT model file; raise one ``SpecError`` with every problem found.

    The result has been through ``check_model`` (unknown fields, values, strength, ...).
    ``options`` holds PICT's switches; a seed file's rows land in ``model.seed_rows``.
    """
    options = options or PictOptions()
    file = str(path)
    state = _State(file, options)
    lines = _read_lines(Path(path))
    in_constraints = False
    for number, line in enumerate(lines, start=1):
        in_constraints = _read_line(state, number, line, in_constraints)
    _flush_pending(state, final=True)
    submodels = _resolve_submodels(state)
    if state.diagnostics:
        raise SpecError(state.diagnostics)
    constraints = tuple(state.constraints)
    if not options.case_sensitive:  # PICT matches [names] case-insensitively too
        canonical = {f.name.casefold(): f.name for f in state.factors}
        constraints = tuple(_canonical_fields(c, canonical) for c in constraints)
    model = CombinatorialModel(
        factors=tuple(state.factors),
        constraints=constraints,
        strength=strength,
        seed=seed,
        source=file,
        case_sensitive=options.case_sensitive,
        submodels=submodels,
    )
    check_model(model)
    if options.seed_file is not None:
        rows, notes = read_seed_file(options.seed_file, model, options)
        model = dataclasses.replace(model, seed_rows=rows, notes=model.notes + notes)
    return model


def _read_lines(path: Path, what: str = "model file") -> list[str]:
    loc = Location(str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise spec_error("file-not-found", loc, f"{what} not found: {path}") from None
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
        if in_constraints:
            state.error("pict-syntax", number, indent + 1,
                        "sub-model definitions must come before the constraints")
        else:
            _read_submodel(state, number, line, indent)
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
    if _find_factor(state, name) is not None:
        state.error("duplicate-factor", number, name_col, f"parameter {name!r} is defined twice")
        return
    values = _split_values(state, number, line, match.start(2))
    if values is None:
        return
    if not values:
        state.error("empty-vocabulary", number, name_col, f"parameter {name!r} has no values")
        return
    state.factors.append(
        Factor(
            name=name,
            values=tuple(v.names[0] for v in values),
            # PICT types a parameter by the first names, without the negative prefix
            numeric=all(is_number(v.names[0]) for v in values),
            loc=Location(state.file, number, name_col),
            value_locs=tuple(v.loc for v in values),
            aliases=tuple(v.names[1:] for v in values) if any(len(v.names) > 1 for v in values) else (),
            negative=tuple(v.negative for v in values) if any(v.negative for v in values) else (),
            weights=tuple(v.weight for v in values) if any(v.weight != 1 for v in values) else (),
        )
    )


def _find_factor(state: _State, name: str) -> Factor | None:
    fold = not state.options.case_sensitive
    for f in state.factors:
        if f.name == name or (fold and f.name.casefold() == name.casefold()):
            return f
    return None


def _split_values(state: _State, number: int, line: str, start: int) -> list[_Value] | None:
    """The separated values after the ':' with their columns; None after an error."""
    sep = state.options.value_separator
    values: list[_Value] = []
    ok = True
    pos = start
    raw_items = line[start:].split(sep)
    if len(raw_items) == 1 and not raw_items[0].strip():
        return []
    for raw in raw_items:
        text = raw.strip()
        col = pos + (len(raw) - len(raw.lstrip())) + 1
        pos += len(raw) + len(sep)
        loc = Location(state.file, number, col)
        reuse = _REUSE.fullmatch(text)
        if reuse:
            found = _reused(state, reuse.group(1).strip(), loc)
            ok = ok and found is not None
            values.extend(found or [])
            continue
        values.append(_parse_value(state, text, loc))
    return values if ok else None


def _reused(state: _State, name: str, loc: Location) -> list[_Value] | None:
    """``<Param>``: every value (with aliases, prefix and weight) of an earlier parameter."""
    factor = _find_factor(state, name)
    if factor is None:
        known = ", ".join(f.name for f in state.factors) or "none yet"
        state.error("unknown-parameter", loc.line or 0, loc.col or 0,
                    f"<{name}> reuses an unknown parameter; parameters defined above: {known}")
        return None
    return [
        _Value(factor.names_of(v), factor.is_negative(v),
               factor.weights[v] if factor.weights else 1, loc)
        for v in range(len(factor.values))
    ]


def _parse_value(state: _State, text: str, loc: Location) -> _Value:
    """``[~]name [| alias ...] [(weight)]``: prefix only on the first name counts."""
    weight = 1
    match = _WEIGHT.search(text)
    if match and text[: match.start()].strip():
        weight = int(match.group(1))
        text = text[: match.start()].strip()
    names = [n.strip() for n in text.split(state.options.alias_separator)]
    prefix = state.options.negative_prefix
    negative = bool(prefix) and names[0].startswith(prefix)
    if negative:
        names[0] = names[0][len(prefix):].strip()
    return _Value(tuple(names), negative, weight, loc)


# --------------------------------------------------------------------------- sub-models
def _read_submodel(state: _State, number: int, line: str, indent: int) -> None:
    """``{ A, B, C } @ order``: names separated like values (``/d:``); order optional."""
    match = _SUBMODEL.fullmatch(line, indent)
    loc = Location(state.file, number, indent + 1)
    if match is None:
        state.error("pict-syntax", number, indent + 1,
                    "expected a sub-model '{ Name1, Name2, ... } @ order'")
        return
    order: int | None = None
    if match.group("order") is not None:
        text = match.group("order")
        if not text.isdigit():
            state.error("pict-syntax", number, match.start("order") + 1,
                        f"sub-model order must be a whole number, got {text!r}")
            return
        order = int(text)
    names: list[tuple[str, Location]] = []
    pos = match.start("names")
    sep = state.options.value_separator
    for raw in match.group("names").split(sep):
        col = pos + (len(raw) - len(raw.lstrip())) + 1
        pos += len(raw) + len(sep)
        if raw.strip():
            names.append((raw.strip(), Location(state.file, number, col)))
    if not names:
        state.error("pict-syntax", number, indent + 1, "sub-model names no parameters")
        return
    state.submodels.append((names, order, loc))


def _resolve_submodels(state: _State) -> tuple[SubModel, ...]:
    """Check sub-model names (known, once per sub-model, in at most one sub-model) and
    orders (1..size); the names are spelt as their parameters are."""
    out: list[SubModel] = []
    owner: dict[str, Location] = {}
    for names, order, loc in state.submodels:
        resolved: list[str] = []
        ok = True
        for name, where in names:
            factor = _find_factor(state, name)
            if factor is None:
                known = ", ".join(f.name for f in state.factors) or "none"
                state.diagnostics.append(Diagnostic(
                    "unknown-parameter", where,
                    f"sub-model names unknown parameter {name!r}; parameters: {known}"))
                ok = False
            elif factor.name in resolved:
                state.diagnostics.append(Diagnostic(
                    "duplicate-parameter", where,
                    f"parameter {factor.name!r} is named twice in this sub-model"))
                ok = False
            elif factor.name in owner:
                state.diagnostics.append(Diagnostic(
                    "pict-unsupported", where,
                    f"parameter {factor.name!r} is already in the sub-model at "
                    f"{owner[factor.name]}; a parameter may belong to at most one sub-model "
                    "(PICT allows overlapping sub-models; we do not)"))
                ok = False
            else:
                resolved.append(factor.name)
        if order is not None and not 1 <= order <= len(names):
            state.diagnostics.append(Diagnostic(
                "strength", loc,
                f"sub-model order {order} must be between 1 and its number of "
                f"parameters ({len(names)})"))
            ok = False
        if ok:
            for name in resolved:
                owner[name] = loc
            out.append(SubModel(tuple(resolved), order, loc))
    return tuple(out)


# --------------------------------------------------------------------------- field names
def _canonical_fields(rule: Constraint, canonical: dict[str, str]) -> Constraint:
    """The rule with every ``[name]`` spelt as its parameter is (case-insensitive files)."""
    return dataclasses.replace(rule, expr=_rename(rule.expr, canonical))


def _ref(ref: FieldRef, canonical: dict[str, str]) -> FieldRef:
    name = canonical.get(ref.name.casefold(), ref.name)
    return ref if name == ref.name else FieldRef(name, loc=ref.loc)


def _rename(expr: Expr, canonical: dict[str, str]) -> Expr:
    if isinstance(expr, Comparison):
        right = _ref(expr.right, canonical) if isinstance(expr.right, FieldRef) else expr.right
        return dataclasses.replace(expr, left=_ref(expr.left, canonical), right=right)
    if isinstance(expr, (InSet, Like)):
        return dataclasses.replace(expr, field=_ref(expr.field, canonical))
    if isinstance(expr, Not):
        return dataclasses.replace(expr, operand=_rename(expr.operand, canonical))
    if isinstance(expr, (And, Or)):
        return dataclasses.replace(
            expr, operands=tuple(_rename(e, canonical) for e in expr.operands)
        )
    assert isinstance(expr, IfThen)
    otherwise = None if expr.otherwise is None else _rename(expr.otherwise, canonical)
    return dataclasses.replace(
        expr, cond=_rename(expr.cond, canonical), then=_rename(expr.then, canonical),
        otherwise=otherwise,
    )


# --------------------------------------------------------------------------- seed files
def read_seed_file(
    path: str | Path, model: CombinatorialModel, options: PictOptions | None = None
) -> tuple[tuple[SeedRow, ...], tuple[Diagnostic, ...]]:
    """PICT seeding (``/e:file``): tab-separated, a header row of parameter names, then one
    required row per line (an empty cell is free). As in PICT, an unknown column or value is
    ignored with a warning (a complete row may become partial). Whether a row breaks a rule
    is decided later (``cover.explain.seed_row_conflicts``), which reports it by line.
    """
    options = options or PictOptions(case_sensitive=model.case_sensitive)
    file = str(path)
    lines = _read_lines(Path(path), "seed file (/e:)")
    notes: list[Diagnostic] = []

    def warn(code: str, line: int, col: int | None, msg: str) -> None:
        notes.append(Diagnostic(code, Location(file, line, col), msg, "warning"))

    header_at = next((i for i, l in enumerate(lines) if l.strip()), None)
    if header_at is None:
        warn("seed-empty", 1, None, "seed file has no header row; no seed rows used")
        return (), tuple(notes)
    columns = _seed_columns(model, lines[header_at], header_at + 1, warn)
    rows: list[SeedRow] = []
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        values: list[str | None] = [None] * len(model.factors)
        col = 1
        for i, cell in enumerate(cells):
            f = columns[i] if i < len(columns) else None
            text = cell.strip()
            if f is not None and text:
                found = _seed_value(model, options, f, text)
                if found is None:
                    factor = model.factors[f]
                    warn("seed-unknown-value", number, col,
                         f"{text!r} is not a value of {factor.name}; the cell is left free")
                else:
                    values[f] = found
            col += len(cell) + 1
        if len(cells) > len(columns):
            warn("seed-extra-cells", number, None,
                 f"row has {len(cells)} cells but the header names {len(columns)}; extra cells ignored")
        rows.append(SeedRow(tuple(values), Location(file, number)))
    return tuple(rows), tuple(notes)


def _seed_columns(model: CombinatorialModel, header: str, number: int, warn) -> list[int | None]:  # type: ignore[no-untyped-def]
    fold = not model.case_sensitive
    by_name = {(f.name.casefold() if fold else f.name): i for i, f in enumerate(model.factors)}
    columns: list[int | None] = []
    col = 1
    for cell in header.split("\t"):
        name = cell.strip()
        f = by_name.get(name.casefold() if fold else name)
        if f is None:
            warn("seed-unknown-parameter", number, col,
                 f"seed column {name!r} is not a parameter of the model; column ignored")
        elif f in columns:
            warn("seed-duplicate-parameter", number, col,
                 f"seed column {name!r} appears twice; the later column is ignored")
            f = None
        columns.append(f)
        col += len(cell) + 1
    return columns


def _seed_value(model: CombinatorialModel, options: PictOptions, f: int, text: str) -> str | None:
    """The value (its first name) that ``text`` names: a name or alias, with or without the
    negative prefix; exact spelling first, then the model's comparison rules."""
    factor = model.factors[f]
    prefix = options.negative_prefix
    candidates = [text]
    if prefix and text.startswith(prefix):
        candidates.append(text[len(prefix):].strip())
    for exact in (True, False):
        for candidate in candidates:
            for v in range(len(factor.values)):
                for name in factor.names_of(v):
                    if exact and name == candidate:
                        return factor.values[v]
                    if not exact and value_key(name, factor.numeric, model.case_sensitive) == \
                            value_key(candidate, factor.numeric, model.case_sensitive):
                        return factor.values[v]
    return None
