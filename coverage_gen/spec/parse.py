"""YAML spec → ``Spec``: shape checks, scalar typing, every problem collected into one error.

The format (``spec_version: 1``)::

    spec_version: 1                       # optional; only 1 is accepted
    name: vendors                         # optional
    description: ...                      # optional
    coverage: {strength: 2, seed: 42}     # optional; defaults strength 2, seed 0
    tables:                               # exactly one table for now
      vendor:
        rows: 150                         # optional: records to produce
        description: ...                  # optional
        fields:                           # ordered; one shape key each (+ description)
          vendor_id: {template: "V-{seq:05d}", start: 1001}
          country:   {values: [US, DE, "NO"], type: string}
          spend:     {lognormal: {median: 50000, sigma: 1.1, clip: [500, 5000000], places: 2}}
          employees: {integer: {min: 1, max: 5000}}
          discount:  {decimal: {min: 0, max: 0.15, places: 3}}
          onboarded: {date: {start: 2015-01-01, end: 2024-12-31, format: "%Y-%m-%d"}}
          source:    {frequency: {SAP: 6, Oracle: 3, Manual: 1}}
        constraints:                      # PICT constraint syntax, one rule per item
          - IF [country] IN {"DE", "FR"} THEN [currency] = "EUR"

Every scalar is read as text (``NO``, ``0012``, ``on`` stay as written) and typed here by the
spec's own rules: integers are ``[+-]digits``, decimals are plain decimal notation (an
exponent is allowed), dates are ``YYYY-MM-DD``.

Diagnostic codes raised here (besides those of ``yamlsource``, ``constraints`` and ``check``):
``unknown-key``, ``missing-key``, ``wrong-type``, ``bad-shape``, ``empty-vocabulary``,
``duplicate-value``, ``empty-value``, ``bad-number``, ``bad-date``, ``bad-range``,
``bad-choice``, ``bad-template``, ``template-cycle``, ``bad-name``, ``unsupported-version``,
``multi-table``, ``strength`` (the same code ``check.check_model`` uses for PICT files).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import string
import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, TypeVar

from coverage_gen.errors import Diagnostic, Location, SpecError
from coverage_gen.spec.check import check_model
from coverage_gen.spec.constraints import is_number, parse_constraint
from coverage_gen.spec.model import (
    Categorical,
    Constraint,
    DateRange,
    DecimalRange,
    FieldSpec,
    Frequency,
    IntegerRange,
    LogNormal,
    Shape,
    Spec,
    Table,
    Template,
)
from coverage_gen.spec.provenance import read_provenance
from coverage_gen.spec.yamlsource import Node, load_yaml, parse_yaml

__all__ = ["ERROR_CODES", "SHAPE_KEYS", "load_spec", "parse_spec"]

ERROR_CODES = (
    "unknown-key", "missing-key", "wrong-type", "bad-shape", "empty-vocabulary",
    "duplicate-value", "empty-value", "bad-number", "bad-date", "bad-range", "bad-choice",
    "bad-template", "template-cycle", "bad-name", "unsupported-version", "multi-table", "strength",
)  # fmt: skip

SPEC_VERSIONS = ("1",)
TOP_KEYS = ("spec_version", "name", "description", "coverage", "tables", "sources", "contract", "sample")
COVERAGE_KEYS = ("strength", "seed")
TABLE_KEYS = ("rows", "description", "fields", "constraints", "source")
SHAPE_KEYS = ("values", "template", "integer", "decimal", "lognormal", "date", "frequency")
# Keys allowed next to a shape key, per shape.
SHAPE_SIBLINGS = {"values": ("type",), "template": ("start",)}
CATEGORICAL_TYPES = ("string", "number")
DEFAULT_STRENGTH = 2
DEFAULT_SEED = 0

_INT = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The format specs expand.values renders (zero pad, width, d/s); kept in step with it.
_TEMPLATE_SPEC = re.compile(r"0?(?:[1-9][0-9]{0,2})?[ds]?")
_BAD_NAME_CHARS = set("[]{}\"\n\r\t")  # would break constraint or template syntax

T = TypeVar("T")


# --------------------------------------------------------------------------- entry points
def load_spec(path: str | Path) -> Spec:
    """Read and validate a YAML spec file.

    Raises
    ------
    SpecError
        One error carrying every diagnostic found (file, line, column, key path, code).
    """
    return _build(load_yaml(path), str(path))


def parse_spec(text: str, file: str = "<string>") -> Spec:
    """Validate a YAML spec given as text; ``file`` names it in diagnostics.

    Examples
    --------
    >>> spec = parse_spec('''
    ... tables:
    ...   t:
    ...     fields:
    ...       country: {values: [US, "NO", CH]}
    ...       zip: {values: [0012, 1.50]}
    ... ''')
    >>> [f.shape.values for f in spec.table.fields]
    [('US', 'NO', 'CH'), ('0012', '1.50')]
    >>> spec.table.fields[1].shape.numeric
    True
    """
    return _build(parse_yaml(text, file=file), file)


# --------------------------------------------------------------------------- collector
@dataclass
class _Report:
    """Diagnostics collected while walking the tree (raised once at the end)."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, loc: Location, msg: str, **ctx: object) -> None:
        self.items.append(Diagnostic(code, loc, msg, "error", dict(ctx)))

    def extend(self, error: SpecError) -> None:
        self.items.extend(error.diagnostics)


def _build(root: Node, file: str) -> Spec:
    from coverage_gen.spec import multitable  # multi-table specs (issue 5) are read there

    if multitable.is_multi_table(root):
        return multitable.build_multi(root, file)
    report = _Report()
    spec = _spec(root, file, report)
    provenance, problems = read_provenance(root)  # issue 7: sources, citations, contract
    report.items.extend(problems)
    if spec is not None and not report.items:
        _check_model(spec, report)
    if report.items:
        raise SpecError(_sorted(report.items))
    assert spec is not None
    return dataclasses.replace(spec, provenance=provenance)


def _sorted(items: list[Diagnostic]) -> list[Diagnostic]:
    """Document order, so the first message is the first problem in the file."""
    return sorted(items, key=lambda d: (d.loc.line or 0, d.loc.col or 0))


def _check_model(spec: Spec, report: _Report) -> None:
    """Model-level rules (rule fields/values vs vocabularies, strength range) shared with PICT."""
    try:
        check_model(spec.combinatorial_model())
    except SpecError as exc:
        report.extend(exc)


# --------------------------------------------------------------------------- generic helpers
def _describe(node: Node) -> str:
    kind = node.kind()
    return f"'{node.value}'" if kind == "scalar" else f"a {kind}"


def _mapping(node: Node, what: str, report: _Report) -> dict[str, Node] | None:
    if isinstance(node.value, dict):
        return node.value
    report.add(
        "wrong-type",
        node.loc,
        f"{what} must be a mapping (key: value), got {_describe(node)}",
    )
    return None


def _list(node: Node, what: str, report: _Report) -> list[Node] | None:
    if isinstance(node.value, list):
        return node.value
    report.add("wrong-type", node.loc, f"{what} must be a list, got {_describe(node)}")
    return None


def _text(node: Node, what: str, report: _Report) -> str | None:
    if isinstance(node.value, str):
        return node.value
    report.add("wrong-type", node.loc, f"{what} must be text, got a {node.kind()}")
    return None


def _keys(
    mapping: dict[str, Node],
    owner: Node,
    what: str,
    valid: tuple[str, ...],
    report: _Report,
    required: tuple[str, ...] = (),
) -> None:
    """Report unknown keys (with a close match when there is one) and missing required ones."""
    for key, child in mapping.items():
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            report.add(
                "unknown-key",
                child.where,
                f"unknown key '{key}' in {what}{hint}; valid keys: {', '.join(valid)}",
                key=key,
                valid=list(valid),
            )
    for key in required:
        if key not in mapping:
            report.add("missing-key", owner.where, f"{what} needs the key '{key}'", key=key)


def _int(node: Node, what: str, report: _Report, minimum: int | None = None) -> int | None:
    text = _text(node, what, report)
    if text is None:
        return None
    if not _INT.fullmatch(text):
        report.add("bad-number", node.loc, f"{what} must be a whole number, got '{text}'")
        return None
    value = int(text)
    if minimum is not None and value < minimum:
        report.add("bad-range", node.loc, f"{what} must be at least {minimum}, got {value}")
        return None
    return value


def _decimal(node: Node, what: str, report: _Report) -> Decimal | None:
    text = _text(node, what, report)
    if text is None:
        return None
    if not is_number(text):
        report.add("bad-number", node.loc, f"{what} must be a number like 12 or 0.5, got '{text}'")
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # unreachable for texts the regex accepts; kept as a guard
        report.add("bad-number", node.loc, f"{what} must be a number, got '{text}'")
        return None


def _date(node: Node, what: str, report: _Report) -> _dt.date | None:
    text = _text(node, what, report)
    if text is None:
        return None
    if _DATE.fullmatch(text):
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            pass
    report.add("bad-date", node.loc, f"{what} must be a date written YYYY-MM-DD, got '{text}'")
    return None


def _name_ok(name: str, where: Location, what: str, report: _Report) -> bool:
    if name.strip() and not (_BAD_NAME_CHARS & set(name)):
        return True
    report.add(
        "bad-name",
        where,
        f"{what} name '{name}' must be non-empty and contain none of [ ] {{ }} \" or newlines",
    )
    return False


def _optional(
    mapping: dict[str, Node], key: str, parse: Callable[[Node], T | None], default: T
) -> T | None:
    """``parse(mapping[key])`` when the key is present, else ``default``."""
    return parse(mapping[key]) if key in mapping else default


# --------------------------------------------------------------------------- document level
@dataclass(frozen=True, slots=True)
class _Coverage:
    strength: int | None = DEFAULT_STRENGTH
    seed: int | None = DEFAULT_SEED
    strength_loc: Location | None = None  # where strength was written, for its range check


def _spec(root: Node, file: str, report: _Report) -> Spec | None:
    top = _mapping(root, "the spec", report)
    if top is None:
        return None
    _keys(top, root, "the spec", TOP_KEYS, report, required=("tables",))
    if "spec_version" in top:
        _version(top["spec_version"], report)
    name = _optional(top, "name", lambda n: _text(n, "name", report), "")
    description = _optional(top, "description", lambda n: _text(n, "description", report), "")
    coverage = _coverage(top["coverage"], report) if "coverage" in top else _Coverage()
    table = _tables(top["tables"], report) if "tables" in top else None
    if table is not None and coverage.strength is not None:
        _strength_range(coverage.strength, coverage.strength_loc, table, report)
    if table is None or coverage.strength is None or coverage.seed is None:
        return None
    return Spec(
        tables=(table,),
        strength=coverage.strength,
        seed=coverage.seed,
        source=file,
        name=name or "",
        description=description or "",
    )


def _version(node: Node, report: _Report) -> None:
    text = _text(node, "spec_version", report)
    if text is not None and text not in SPEC_VERSIONS:
        report.add(
            "unsupported-version",
            node.loc,
            f"spec_version '{text}' is not supported; valid versions: {', '.join(SPEC_VERSIONS)}",
        )


def _coverage(node: Node, report: _Report) -> _Coverage:
    mapping = _mapping(node, "coverage", report)
    if mapping is None:
        return _Coverage(None, None)
    _keys(mapping, node, "coverage", COVERAGE_KEYS, report)
    strength = _optional(mapping, "strength", lambda n: _strength(n, report), DEFAULT_STRENGTH)
    seed = _optional(mapping, "seed", lambda n: _int(n, "coverage.seed", report, 0), DEFAULT_SEED)
    where = mapping["strength"].loc if "strength" in mapping else None
    return _Coverage(strength, seed, where)


def _strength(node: Node, report: _Report) -> int | None:
    value = _int(node, "coverage.strength", report)
    if value is not None and value < 1:
        report.add("strength", node.loc, f"coverage.strength must be at least 1, got {value}")
        return None
    return value


def _strength_range(strength: int, where: Location | None, table: Table, report: _Report) -> None:
    """t-wise coverage needs at least t categorical fields to combine.

    ``where`` is ``None`` when strength was not written: the default is then at fault, and
    the message says so at the table.
    """
    count = len(table.categorical_fields())
    if strength <= count:
        return
    written = f"strength {strength}" + ("" if where else " (the default)")
    if count:
        msg = (
            f"{written} needs at least {strength} categorical fields, but table "
            f"'{table.name}' has {count}; valid strengths: 1..{count} (coverage.strength)"
        )
    else:
        msg = (
            f"{written} needs categorical fields (values: [...]), but table "
            f"'{table.name}' has none"
        )
    report.add("strength", where or table.loc, msg, strength=strength, factors=count)


def _tables(node: Node, report: _Report) -> Table | None:
    mapping = _mapping(node, "tables", report)
    if mapping is None:
        return None
    if not mapping:
        report.add("bad-shape", node.loc, "tables must declare one table (name: {fields: ...})")
        return None
    names = list(mapping)
    for extra in names[1:]:
        report.add(
            "multi-table",
            mapping[extra].where,
            f"multi-table specs are not supported yet; found tables {', '.join(names)}, "
            "declare only one",
        )
    return _table(names[0], mapping[names[0]], report)


# --------------------------------------------------------------------------- table level
def _table(name: str, node: Node, report: _Report) -> Table | None:
    what = f"table '{name}'"
    _name_ok(name, node.where, "table", report)
    mapping = _mapping(node, what, report)
    if mapping is None:
        return None
    _keys(mapping, node, what, TABLE_KEYS, report, required=("fields",))
    rows = _optional(mapping, "rows", lambda n: _int(n, f"{what}: rows", report, 1), None)
    if "description" in mapping:  # Table has no description slot yet: checked, not kept
        _text(mapping["description"], f"{what}: description", report)
    fields = _fields(mapping["fields"], what, report) if "fields" in mapping else None
    constraints: tuple[Constraint, ...] | None = ()
    if "constraints" in mapping:
        constraints = _constraints(mapping["constraints"], what, report)
    if fields is None or constraints is None:
        return None
    return Table(name=name, fields=fields, constraints=constraints, rows=rows, loc=node.where)


def _fields(node: Node, what: str, report: _Report) -> tuple[FieldSpec, ...] | None:
    mapping = _mapping(node, f"{what}: fields", report)
    if mapping is None:
        return None
    if not mapping:
        report.add(
            "bad-shape",
            node.where,
            f"{what} declares no fields; add at least one under fields:",
        )
        return None
    before = len(report.items)
    specs = [_field(name, child, report) for name, child in mapping.items()]
    _check_templates(mapping, report)
    if len(report.items) > before or any(s is None for s in specs):
        return None  # a partial field list would only cause follow-on errors in rules
    return tuple(s for s in specs if s is not None)


def _constraints(node: Node, what: str, report: _Report) -> tuple[Constraint, ...] | None:
    items = _list(node, f"{what}: constraints", report)
    if items is None:
        return None
    parsed: list[Constraint] = []
    for index, item in enumerate(items):
        if isinstance(item.value, dict) and "rule" in item.value:  # {rule: ..., source: id}
            _keys(item.value, item, f"constraint {index + 1}", ("rule", "source"), report)
            item = item.value["rule"]
        if not isinstance(item.value, str):
            # `- [a] = 1` is a YAML list, `- IF x: y` a mapping: the rule needs quotes.
            report.add(
                "wrong-type",
                item.loc,
                f"constraint {index + 1} must be text, got a {item.kind()}; quote the rule "
                "(e.g. - '[a] = 1') when it starts with [ or contains ': '",
            )
            continue
        text = item.value
        try:
            parsed.append(parse_constraint(text, _text_start(item), len(parsed)))
        except SpecError as exc:
            report.extend(exc)
    return tuple(parsed)


def _text_start(node: Node) -> Location:
    """Where a rule's first character is, so its syntax errors point at the right column.

    A quoted scalar starts one column after its quote; a block scalar (``|``/``>``) starts on
    the next line (its indentation is unknown here, so the column is left out).
    """
    loc = node.loc
    if node.style in ('"', "'") and loc.col is not None:
        return Location(loc.file, loc.line, loc.col + 1, loc.path)
    if node.style in ("|", ">") and loc.line is not None:
        return Location(loc.file, loc.line + 1, None, loc.path)
    return loc


# --------------------------------------------------------------------------- field level
def _field(name: str, node: Node, report: _Report) -> FieldSpec | None:
    what = f"field '{name}'"
    if not _name_ok(name, node.where, "field", report):
        return None
    mapping = _mapping(node, what, report)
    if mapping is None:
        return None
    shapes = [k for k in mapping if k in SHAPE_KEYS]
    if not shapes:
        unknown = [k for k in mapping if k != "description"]
        _keys(mapping, node, what, SHAPE_KEYS + ("description",), report)
        if not unknown:  # nothing but a description: say what is missing, once
            report.add(
                "missing-key",
                node.where,
                f"{what} needs one shape key; valid shapes: {', '.join(SHAPE_KEYS)}",
            )
        return None
    if len(shapes) > 1:
        report.add(
            "bad-shape",
            mapping[shapes[1]].where,
            f"{what} has several shapes ({', '.join(shapes)}); give exactly one of: "
            f"{', '.join(SHAPE_KEYS)}",
        )
        return None
    kind = shapes[0]
    _keys(mapping, node, what, (kind, *SHAPE_SIBLINGS.get(kind, ()), "description", "source"), report)
    description = _optional(
        mapping, "description", lambda n: _text(n, f"{what}: description", report), ""
    )
    shape = _SHAPE_PARSERS[kind](mapping, what, report)
    if shape is None or description is None:
        return None
    return FieldSpec(name=name, shape=shape, loc=node.where, description=description)


def _categorical(mapping: dict[str, Node], what: str, report: _Report) -> Categorical | None:
    """A covering factor; its ``numeric`` flag follows the optional ``type`` key.

    ``type: number`` → numeric, and every value must parse as a number (``is_number``);
    ``type: string`` → compared as text even when every value looks like a number;
    no ``type`` → numeric exactly when every value parses as a number (PICT's rule).
    """
    node = mapping["values"]
    items = _list(node, f"{what}: values", report)
    kind = _optional(
        mapping, "type", lambda n: _choice(n, f"{what}: type", CATEGORICAL_TYPES, report), None
    )
    if items is not None and not items:
        report.add(
            "empty-vocabulary",
            node.loc,
            f"{what} has no values; list at least one under values:",
        )
        return None
    values = _vocabulary(items, what, report) if items is not None else None
    if values is None or ("type" in mapping and kind is None):
        return None
    texts = tuple(v.value for v in values if isinstance(v.value, str))
    numeric = kind == "number" or (kind is None and all(is_number(t) for t in texts))
    if kind == "number":
        bad = [v for v in values if not is_number(str(v.value))]
        for v in bad:
            report.add(
                "bad-number",
                v.loc,
                f"{what} has type: number but value '{v.value}' is not a number; "
                "write a number or use type: string",
            )
        if bad:
            return None
    return Categorical(values=texts, numeric=numeric, value_locs=tuple(v.loc for v in values))


def _vocabulary(items: list[Node], what: str, report: _Report) -> list[Node] | None:
    """Scalar, non-null, distinct values (exact spelling: ``No`` and ``NO`` differ)."""
    seen: dict[str, Node] = {}
    ok = True
    for item in items:
        if not isinstance(item.value, str):
            report.add(
                "wrong-type",
                item.loc,
                f"{what}: each value must be text, got a {item.kind()}",
            )
            ok = False
        elif item.is_null:
            report.add(
                "empty-value",
                item.loc,
                f"{what}: empty value; write text, or quote it (\"\") if an empty value is meant",
            )
            ok = False
        elif item.value in seen:
            first = seen[item.value].loc.line
            report.add(
                "duplicate-value",
                item.loc,
                f"{what}: value '{item.value}' is listed twice (first at line {first}); "
                "values must be distinct",
                value=item.value,
            )
            ok = False
        else:
            seen[item.value] = item
    return items if ok else None


def _choice(node: Node, what: str, valid: tuple[str, ...], report: _Report) -> str | None:
    text = _text(node, what, report)
    if text is None:
        return None
    if text not in valid:
        report.add(
            "bad-choice",
            node.loc,
            f"{what} must be one of: {', '.join(valid)}; got '{text}'",
        )
        return None
    return text


def _params(
    mapping: dict[str, Node],
    kind: str,
    what: str,
    report: _Report,
    valid: tuple[str, ...],
    required: tuple[str, ...],
) -> dict[str, Node] | None:
    """The parameter mapping under a shape key, with its keys checked."""
    node = mapping[kind]
    params = _mapping(node, f"{what}: {kind}", report)
    if params is None:
        return None
    _keys(params, node, f"{what}: {kind}", valid, report, required=required)
    if any(k not in params for k in required):
        return None
    return params


def _ordered(lo: T | None, hi: T | None, where: Location, msg: str, report: _Report) -> bool:
    """Both bounds parsed and ``lo <= hi`` (else ``bad-range`` at ``where``)."""
    if lo is None or hi is None:
        return False
    if lo > hi:  # type: ignore[operator]
        report.add("bad-range", where, msg)
        return False
    return True


def _integer(mapping: dict[str, Node], what: str, report: _Report) -> IntegerRange | None:
    params = _params(mapping, "integer", what, report, ("min", "max"), ("min", "max"))
    if params is None:
        return None
    lo = _int(params["min"], f"{what}: integer.min", report)
    hi = _int(params["max"], f"{what}: integer.max", report)
    why = f"{what}: integer.min {lo} is greater than max {hi}"
    if not _ordered(lo, hi, params["min"].loc, why, report):
        return None
    assert lo is not None and hi is not None
    return IntegerRange(lo, hi)


def _places(params: dict[str, Node], what: str, report: _Report) -> int | None:
    return _optional(params, "places", lambda n: _int(n, f"{what}: places", report, 0), 2)


def _decimal_range(mapping: dict[str, Node], what: str, report: _Report) -> DecimalRange | None:
    params = _params(mapping, "decimal", what, report, ("min", "max", "places"), ("min", "max"))
    if params is None:
        return None
    lo = _decimal(params["min"], f"{what}: decimal.min", report)
    hi = _decimal(params["max"], f"{what}: decimal.max", report)
    places = _places(params, what, report)
    why = f"{what}: decimal.min {lo} is greater than max {hi}"
    if not _ordered(lo, hi, params["min"].loc, why, report):
        return None
    if places is None:
        return None
    assert lo is not None and hi is not None
    return DecimalRange(lo, hi, places)


def _lognormal(mapping: dict[str, Node], what: str, report: _Report) -> LogNormal | None:
    valid = ("median", "sigma", "clip", "places")
    params = _params(mapping, "lognormal", what, report, valid, ("median", "sigma"))
    if params is None:
        return None
    median = _positive(params["median"], f"{what}: lognormal.median", report)
    sigma = _positive(params["sigma"], f"{what}: lognormal.sigma", report)
    places = _places(params, what, report)
    clip = _clip(params["clip"], what, report) if "clip" in params else (None, None)
    if median is None or sigma is None or places is None or clip is None:
        return None
    return LogNormal(median, float(sigma), clip[0], clip[1], places)


def _positive(node: Node, what: str, report: _Report) -> Decimal | None:
    value = _decimal(node, what, report)
    if value is not None and value <= 0:
        report.add("bad-range", node.loc, f"{what} must be greater than 0, got {value}")
        return None
    return value


def _clip(node: Node, what: str, report: _Report) -> tuple[Decimal | None, Decimal | None] | None:
    items = _list(node, f"{what}: lognormal.clip", report)
    if items is None:
        return None
    if len(items) != 2:
        report.add(
            "bad-shape",
            node.loc,
            f"{what}: lognormal.clip must be [min, max], got {len(items)} items",
        )
        return None
    lo = _decimal(items[0], f"{what}: lognormal.clip min", report)
    hi = _decimal(items[1], f"{what}: lognormal.clip max", report)
    why = f"{what}: lognormal.clip min {lo} is greater than max {hi}"
    if not _ordered(lo, hi, node.loc, why, report):
        return None
    return lo, hi


def _date_range(mapping: dict[str, Node], what: str, report: _Report) -> DateRange | None:
    params = _params(mapping, "date", what, report, ("start", "end", "format"), ("start", "end"))
    if params is None:
        return None
    start = _date(params["start"], f"{what}: date.start", report)
    end = _date(params["end"], f"{what}: date.end", report)
    fmt = _optional(params, "format", lambda n: _date_format(n, what, report), "%Y-%m-%d")
    why = f"{what}: date.start {start} is after end {end}"
    if not _ordered(start, end, params["start"].loc, why, report):
        return None
    if fmt is None:
        return None
    assert start is not None and end is not None
    return DateRange(start, end, fmt)


def _date_format(node: Node, what: str, report: _Report) -> str | None:
    text = _text(node, f"{what}: date.format", report)
    if text is None:
        return None
    if "%" not in text:  # a constant would make every date the same text
        report.add(
            "bad-choice",
            node.loc,
            f"{what}: date.format needs strftime codes like %Y-%m-%d, got '{text}'",
        )
        return None
    try:
        _dt.date(2000, 1, 2).strftime(text)
    except ValueError as exc:
        report.add(
            "bad-choice",
            node.loc,
            f"{what}: date.format '{text}' is not a valid strftime format ({exc})",
        )
        return None
    return text


def _frequency(mapping: dict[str, Node], what: str, report: _Report) -> Frequency | None:
    node = mapping["frequency"]
    table = _mapping(node, f"{what}: frequency", report)
    if table is None:
        return None
    if not table:
        report.add(
            "empty-vocabulary",
            node.loc,
            f"{what}: frequency has no values; write value: weight pairs",
        )
        return None
    weights = [
        _weight(child, f"{what}: frequency weight of '{key}'", report)
        for key, child in table.items()
    ]
    if any(w is None for w in weights):
        return None
    if not any(w for w in weights):
        report.add(
            "bad-range",
            node.loc,
            f"{what}: frequency weights are all 0; give at least one a positive weight",
        )
        return None
    return Frequency(tuple(table), tuple(float(w) for w in weights if w is not None))


def _weight(node: Node, what: str, report: _Report) -> Decimal | None:
    value = _decimal(node, what, report)
    if value is not None and value < 0:
        report.add("bad-range", node.loc, f"{what} must be 0 or more, got {value}")
        return None
    return value


def _template(mapping: dict[str, Node], what: str, report: _Report) -> Template | None:
    pattern = _text(mapping["template"], f"{what}: template", report)
    start = _optional(mapping, "start", lambda n: _int(n, f"{what}: start", report), 1)
    if pattern is None or start is None:
        return None
    return Template(pattern, start)  # placeholders are checked with all field names known


_SHAPE_PARSERS: dict[str, Callable[[dict[str, Node], str, _Report], Shape | None]] = {
    "values": _categorical,
    "template": _template,
    "integer": _integer,
    "decimal": _decimal_range,
    "lognormal": _lognormal,
    "date": _date_range,
    "frequency": _frequency,
}


# --------------------------------------------------------------------------- templates
def _check_templates(fields: dict[str, Node], report: _Report) -> None:
    """Placeholders name ``seq`` or another field; templates do not read each other in a loop."""
    refs: dict[str, list[str]] = {}
    for name, node in fields.items():
        pattern_node = node.value.get("template") if isinstance(node.value, dict) else None
        if pattern_node is None or not isinstance(pattern_node.value, str):
            continue
        found = _placeholders(pattern_node, name, fields, report)
        if found is not None:
            refs[name] = found
    _template_cycles(refs, fields, report)


def _placeholders(
    node: Node, name: str, fields: dict[str, Node], report: _Report
) -> list[str] | None:
    what = f"field '{name}': template"
    valid = ["seq", *(f for f in fields if f != name)]
    try:
        parts = list(string.Formatter().parse(str(node.value)))
    except ValueError as exc:  # unbalanced braces and the like
        report.add(
            "bad-template",
            node.loc,
            f"{what} '{node.value}' is malformed ({exc}); write {{{{ }}}} for a literal brace",
        )
        return None
    refs: list[str] = []
    for _, ref, spec, conversion in parts:
        if ref is None:
            continue
        if ref == name:
            report.add("bad-template", node.loc, f"{what} cannot contain its own field {{{name}}}")
            return None
        if ref not in valid:
            shown = f"{{{ref}}}" if ref else "{}"
            report.add(
                "bad-template",
                node.loc,
                f"{what} placeholder {shown} names no field; valid names: {', '.join(valid)}",
                placeholder=ref,
            )
            return None
        if conversion or not _TEMPLATE_SPEC.fullmatch(spec or ""):
            report.add(
                "bad-template",
                node.loc,
                f"{what} placeholder {{{ref}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not supported; write {{name}}, {{name:8s}} "
                "or {seq:05d}",
            )
            return None
        refs.append(ref)
    return refs


def _template_cycles(refs: dict[str, list[str]], fields: dict[str, Node], report: _Report) -> None:
    """A template that reaches itself through other templates could never be filled."""
    for name in refs:
        stack, seen = list(refs[name]), set()
        while stack:
            current = stack.pop()
            if current == name:
                node = fields[name].value["template"]  # type: ignore[index]
                report.add(
                    "template-cycle",
                    node.loc,
                    f"field '{name}': template refers back to itself through other templates",
                )
                break
            if current not in seen:
                seen.add(current)
                stack.extend(refs.get(current, []))
