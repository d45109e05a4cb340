"""Multi-table specs (issue 5): several tables, keys, references and cross-table fields.

``parse.py`` hands a document here when it declares more than one table, or uses any
multi-table key (``key``, ``ref``, ``copy``, ``derive``, ``split_of``, ``uuid``, ``sequence``,
``coverage.across``, ``lookups``). The existing field shapes are parsed by ``parse.py``'s own
helpers; this module adds::

    coverage: {strength: 2, seed: 7, across: [vendor.country, invoice.channel, payment.method]}
    lookups:  {days: {"Net 30": 30, "Net 60": 60}}
    tables:
      vendor:
        fields:
          vendor_id: {template: "V-{seq:05d}", key: true}     # or {uuid: {}, key: true},
                                                             # or {sequence: {start: 1}, key: true}
      invoice:
        fields:
          vendor_id: {ref: vendor.vendor_id, per_parent: {poisson: 3}}
          buyer_id:  {ref: employee.employee_id, weight: {power_law: 1.2}, optional: 0.1}
          currency:  {copy: vendor_id.currency}
          due_date:  {derive: "issued + days(vendor_id.payment_terms)"}
      payment:
        fields:
          amount:    {split_of: invoice_id.amount, max_share: 1.0}
      employee:
        fields:
          manager_id: {ref: employee.employee_id, depth: 3}

Count specs (``per_parent``): an integer, ``{min, max}``, ``{poisson: lam}``,
``{zipf: a, max: n}`` or ``{frequency: {0: 1, 1: 5}}``.

Diagnostic codes added here: ``unknown-table``, ``unknown-field``, ``not-a-key``, ``bad-key``,
``key-type-mismatch``, ``fk-two-parents``, ``reference-cycle``, ``across-chain``,
``bad-derive``, ``bad-reference``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from coverage_gen.errors import Diagnostic, Location, SpecError
from coverage_gen.spec import parse as _p
from coverage_gen.spec.check import check_model
from coverage_gen.spec.derive import derive_calls, derive_fields, parse_derive
from coverage_gen.spec.model import (
    Categorical,
    CombinatorialModel,
    Copy,
    CountSpec,
    DateRange,
    DBin,
    DCall,
    DecimalRange,
    Derive,
    DExpr,
    DField,
    DNum,
    Factor,
    FieldSpec,
    Frequency,
    IntegerRange,
    IntSequence,
    LogNormal,
    Reference,
    Spec,
    SplitOf,
    Table,
    Template,
    Uuid,
)
from coverage_gen.spec.provenance import read_provenance
from coverage_gen.spec.yamlsource import Node

__all__ = ["MULTI_KEYS", "build_multi", "column_kind", "is_multi_table", "table_model"]

MULTI_KEYS = ("ref", "copy", "derive", "split_of", "uuid", "sequence")
FIELD_EXTRAS = {
    "ref": ("per_parent", "weight", "optional", "depth", "type"),
    "derive": ("places",),
    "split_of": ("max_share",),
}
KINDS = ("text", "integer", "decimal", "date")


# --------------------------------------------------------------------------- dispatch
def is_multi_table(root: Node) -> bool:
    """True when the document uses anything of the multi-table format."""
    top = root.value if isinstance(root.value, dict) else {}
    if "lookups" in top:
        return True
    cov = top.get("coverage")
    if cov is not None and isinstance(cov.value, dict) and "across" in cov.value:
        return True
    tables = top.get("tables")
    if tables is None or not isinstance(tables.value, dict):
        return False
    if len(tables.value) > 1:
        return True
    for table in tables.value.values():
        fields = table.value.get("fields") if isinstance(table.value, dict) else None
        if fields is None or not isinstance(fields.value, dict):
            continue
        for f in fields.value.values():
            if isinstance(f.value, dict) and ({"key", *MULTI_KEYS} & f.value.keys()):
                return True
    return False


def build_multi(root: Node, file: str) -> Spec:
    report = _p._Report()
    spec = _spec(root, file, report)
    provenance, problems = read_provenance(root)  # issue 7: sources, citations, contract
    report.items.extend(problems)
    if spec is not None and not report.items:
        _validate(spec, report, _across_loc(root, file))
    if report.items:
        raise SpecError(_p._sorted(report.items))
    assert spec is not None
    return dataclasses.replace(spec, provenance=provenance)


# --------------------------------------------------------------------------- document
def _spec(root: Node, file: str, report: _p._Report) -> Spec | None:
    top = _p._mapping(root, "the spec", report)
    if top is None:
        return None
    _p._keys(top, root, "the spec", _p.TOP_KEYS + ("lookups",), report, required=("tables",))
    if "spec_version" in top:
        _p._version(top["spec_version"], report)
    name = _p._optional(top, "name", lambda n: _p._text(n, "name", report), "")
    description = _p._optional(top, "description", lambda n: _p._text(n, "description", report), "")
    strength, seed, across = _coverage(top.get("coverage"), report)
    lookups = _lookups(top["lookups"], report) if "lookups" in top else ()
    tables = _tables(top["tables"], report) if "tables" in top else None
    if tables is None or strength is None or seed is None or across is None or lookups is None:
        return None
    return Spec(
        tables=tables, strength=strength, seed=seed, source=file, name=name or "",
        description=description or "", across=across, lookups=lookups, multi_table=True,
    )


def _coverage(
    node: Node | None, report: _p._Report
) -> tuple[int | None, int | None, tuple[tuple[str, str], ...] | None]:
    if node is None:
        return _p.DEFAULT_STRENGTH, _p.DEFAULT_SEED, ()
    mapping = _p._mapping(node, "coverage", report)
    if mapping is None:
        return None, None, None
    _p._keys(mapping, node, "coverage", _p.COVERAGE_KEYS + ("across",), report)
    strength = _p._optional(mapping, "strength", lambda n: _p._strength(n, report), _p.DEFAULT_STRENGTH)
    seed = _p._optional(mapping, "seed", lambda n: _p._int(n, "coverage.seed", report, 0), _p.DEFAULT_SEED)
    across: tuple[tuple[str, str], ...] | None = ()
    if "across" in mapping:
        items = _p._list(mapping["across"], "coverage.across", report)
        pairs = []
        for item in items or []:
            text = _p._text(item, "coverage.across item", report)
            if text is None:
                continue
            if text.count(".") != 1:
                report.add("bad-shape", item.loc,
                           f"coverage.across: write table.field, got '{text}'")
                continue
            t, f = text.split(".")
            pairs.append((t, f))
        across = tuple(pairs) if items is not None else None
    return strength, seed, across


def _lookups(node: Node, report: _p._Report) -> tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...] | None:
    mapping = _p._mapping(node, "lookups", report)
    if mapping is None:
        return None
    out = []
    for name, child in mapping.items():
        table = _p._mapping(child, f"lookups.{name}", report)
        if table is None:
            continue
        pairs = []
        for key, value in table.items():
            number = _p._decimal(value, f"lookups.{name}['{key}']", report)
            if number is not None:
                pairs.append((key, number))
        out.append((name, tuple(pairs)))
    return tuple(out)


def _tables(node: Node, report: _p._Report) -> tuple[Table, ...] | None:
    mapping = _p._mapping(node, "tables", report)
    if mapping is None:
        return None
    if not mapping:
        report.add("bad-shape", node.loc, "tables must declare at least one table")
        return None
    tables = [_table(name, child, report) for name, child in mapping.items()]
    if any(t is None for t in tables):
        return None
    return tuple(t for t in tables if t is not None)


def _table(name: str, node: Node, report: _p._Report) -> Table | None:
    what = f"table '{name}'"
    _p._name_ok(name, node.where, "table", report)
    mapping = _p._mapping(node, what, report)
    if mapping is None:
        return None
    _p._keys(mapping, node, what, _p.TABLE_KEYS, report, required=("fields",))
    rows = _p._optional(mapping, "rows", lambda n: _p._int(n, f"{what}: rows", report, 0), None)
    if "description" in mapping:
        _p._text(mapping["description"], f"{what}: description", report)
    fields = _fields(mapping["fields"], what, report) if "fields" in mapping else None
    constraints = _p._constraints(mapping["constraints"], what, report) if "constraints" in mapping else ()
    if fields is None or constraints is None:
        return None
    return Table(name=name, fields=fields, constraints=constraints, rows=rows, loc=node.where)


def _fields(node: Node, what: str, report: _p._Report) -> tuple[FieldSpec, ...] | None:
    mapping = _p._mapping(node, f"{what}: fields", report)
    if mapping is None:
        return None
    if not mapping:
        report.add("bad-shape", node.where, f"{what} declares no fields; add at least one under fields:")
        return None
    before = len(report.items)
    specs = [_field(name, child, report) for name, child in mapping.items()]
    _p._check_templates(mapping, report)
    if len(report.items) > before or any(s is None for s in specs):
        return None
    return tuple(s for s in specs if s is not None)


# --------------------------------------------------------------------------- fields
def _field(name: str, node: Node, report: _p._Report) -> FieldSpec | None:
    what = f"field '{name}'"
    if not isinstance(node.value, dict):
        return _p._field(name, node, report)
    mapping = node.value
    key = False
    if "key" in mapping:
        key = _p._choice(mapping["key"], f"{what}: key", ("true", "false"), report) == "true"
    rest = {k: v for k, v in mapping.items() if k != "key"}
    multi = [k for k in rest if k in MULTI_KEYS]
    if not multi:
        spec = _p._field(name, dataclasses.replace(node, value=rest), report)
        return dataclasses.replace(spec, key=key) if spec is not None else None
    if not _p._name_ok(name, node.where, "field", report):
        return None
    shapes = [k for k in rest if k in MULTI_KEYS + _p.SHAPE_KEYS]
    if len(shapes) > 1:
        report.add("bad-shape", rest[shapes[1]].where,
                   f"{what} has several shapes ({', '.join(shapes)}); give exactly one")
        return None
    kind = multi[0]
    extras = FIELD_EXTRAS.get(kind, ())
    _p._keys(rest, node, what, (kind, *extras, "description", "source"), report)
    description = _p._optional(rest, "description", lambda n: _p._text(n, f"{what}: description", report), "")
    shape = _MULTI_PARSERS[kind](rest, what, report)
    if shape is None or description is None:
        return None
    return FieldSpec(name=name, shape=shape, loc=node.where, description=description, key=key)


def _dotted(node: Node, what: str, report: _p._Report) -> tuple[str, str] | None:
    if isinstance(node.value, list):
        if len(node.value) > 1:
            report.add("fk-two-parents", node.loc,
                       f"{what} names {len(node.value)} parents "
                       f"({', '.join(str(n.value) for n in node.value)}); a foreign key column "
                       "references exactly one parent table; declare one field per parent")
            return None
        if node.value:
            node = node.value[0]
    text = _p._text(node, what, report)
    if text is None:
        return None
    if text.count(".") != 1 or not all(text.split(".")):
        report.add("bad-reference", node.loc, f"{what} must be written name.field, got '{text}'")
        return None
    a, b = text.split(".")
    return a.strip(), b.strip()


def _ref(m: dict[str, Node], what: str, report: _p._Report) -> Reference | None:
    target = _dotted(m["ref"], f"{what}: ref", report)
    per_parent = _count(m["per_parent"], f"{what}: per_parent", report) if "per_parent" in m else None
    power = None
    if "weight" in m:
        wm = _p._mapping(m["weight"], f"{what}: weight", report)
        if wm is not None:
            _p._keys(wm, m["weight"], f"{what}: weight", ("power_law",), report, required=("power_law",))
            if "power_law" in wm:
                power = _p._positive(wm["power_law"], f"{what}: weight.power_law", report)
    optional = Decimal(0)
    if "optional" in m:
        optional = _p._decimal(m["optional"], f"{what}: optional", report) or Decimal(0)
        if not Decimal(0) <= optional < Decimal(1):
            report.add("bad-range", m["optional"].loc, f"{what}: optional must be in [0, 1), got {optional}")
    depth = _p._int(m["depth"], f"{what}: depth", report, 1) if "depth" in m else None
    declared = _p._choice(m["type"], f"{what}: type", KINDS, report) if "type" in m else None
    if target is None:
        return None
    if per_parent is not None and (power is not None or optional):
        report.add("bad-reference", m["per_parent"].where,
                   f"{what}: per_parent gives each parent its children; weight and optional "
                   "apply only to references without per_parent")
    return Reference(target[0], target[1], per_parent, float(power) if power else None,
                     float(optional), depth, loc=m["ref"].loc, key_type=declared)


def _count(node: Node, what: str, report: _p._Report) -> CountSpec | None:
    if isinstance(node.value, str):
        n = _p._int(node, what, report, 0)
        return None if n is None else CountSpec("fixed", (float(n),))
    m = _p._mapping(node, what, report)
    if m is None:
        return None
    if "min" in m or "max" in m and "zipf" not in m:
        _p._keys(m, node, what, ("min", "max"), report, required=("min", "max"))
        lo = _p._int(m["min"], f"{what}.min", report, 0) if "min" in m else None
        hi = _p._int(m["max"], f"{what}.max", report, 0) if "max" in m else None
        if lo is None or hi is None or not _p._ordered(lo, hi, node.loc, f"{what}: min {lo} > max {hi}", report):
            return None
        return CountSpec("range", (float(lo), float(hi)))
    if "poisson" in m:
        _p._keys(m, node, what, ("poisson",), report)
        lam = _p._positive(m["poisson"], f"{what}.poisson", report)
        return None if lam is None else CountSpec("poisson", (float(lam),))
    if "zipf" in m:
        _p._keys(m, node, what, ("zipf", "max"), report, required=("zipf", "max"))
        a = _p._positive(m["zipf"], f"{what}.zipf", report)
        hi = _p._int(m["max"], f"{what}.max", report, 1) if "max" in m else None
        if a is None or hi is None:
            return None
        return CountSpec("zipf", (float(a), float(hi)))
    if "frequency" in m:
        _p._keys(m, node, what, ("frequency",), report)
        table = _p._mapping(m["frequency"], f"{what}.frequency", report)
        if not table:
            if table is not None:
                report.add("empty-vocabulary", node.loc, f"{what}.frequency is empty")
            return None
        counts, weights = [], []
        for key, child in table.items():
            k = _p._int(Node(key, child.where), f"{what}.frequency count", report, 0)
            w = _p._weight(child, f"{what}.frequency weight of {key}", report)
            if k is None or w is None:
                return None
            counts.append(k)
            weights.append(float(w))
        if not any(weights):
            report.add("bad-range", node.loc, f"{what}.frequency weights are all 0")
            return None
        return CountSpec("frequency", (), tuple(counts), tuple(weights))
    report.add("bad-shape", node.loc,
               f"{what} must be a count, {{min, max}}, {{poisson: lam}}, {{zipf: a, max: n}} "
               "or {frequency: {count: weight}}")
    return None


def _copy(m: dict[str, Node], what: str, report: _p._Report) -> Copy | None:
    target = _dotted(m["copy"], f"{what}: copy", report)
    return None if target is None else Copy(*target)


def _split(m: dict[str, Node], what: str, report: _p._Report) -> SplitOf | None:
    target = _dotted(m["split_of"], f"{what}: split_of", report)
    share = Decimal(1)
    if "max_share" in m:
        share = _p._positive(m["max_share"], f"{what}: max_share", report) or Decimal(1)
    return None if target is None else SplitOf(target[0], target[1], share)


def _derive(m: dict[str, Node], what: str, report: _p._Report) -> Derive | None:
    node = m["derive"]
    text = _p._text(node, f"{what}: derive", report)
    places = _p._int(m["places"], f"{what}: places", report, 0) if "places" in m else None
    if text is None:
        return None
    try:
        expr = parse_derive(text, node.loc)
    except SpecError as exc:
        report.extend(exc)
        return None
    return Derive(text, expr, places)


def _uuid(m: dict[str, Node], what: str, report: _p._Report) -> Uuid | None:
    node = m["uuid"]
    if not node.is_null:
        params = _p._mapping(node, f"{what}: uuid", report)
        if params:
            _p._keys(params, node, f"{what}: uuid", (), report)
    return Uuid()


def _sequence(m: dict[str, Node], what: str, report: _p._Report) -> IntSequence | None:
    node = m["sequence"]
    if node.is_null:
        return IntSequence()
    params = _p._mapping(node, f"{what}: sequence", report)
    if params is None:
        return None
    _p._keys(params, node, f"{what}: sequence", ("start",), report)
    start = _p._optional(params, "start", lambda n: _p._int(n, f"{what}: sequence.start", report), 1)
    return None if start is None else IntSequence(start)


_MULTI_PARSERS = {
    "ref": _ref, "copy": _copy, "derive": _derive, "split_of": _split,
    "uuid": _uuid, "sequence": _sequence,
}


# --------------------------------------------------------------------------- semantics
def key_field(table: Table) -> FieldSpec | None:
    return next((f for f in table.fields if f.key), None)


def column_kind(tables: dict[str, Table], table: str, name: str, _seen: frozenset[tuple[str, str]] = frozenset()) -> str:
    """The output kind of a field: text, integer, decimal or date."""
    if (table, name) in _seen:
        return "text"
    seen = _seen | {(table, name)}
    f = next(x for x in tables[table].fields if x.name == name)
    shape = f.shape
    if isinstance(shape, (IntSequence, IntegerRange)):
        return "integer"
    if isinstance(shape, (DecimalRange, LogNormal)):
        return "decimal"
    if isinstance(shape, DateRange):
        return "date" if shape.format == "%Y-%m-%d" else "text"
    if isinstance(shape, Reference):
        key = key_field(tables[shape.table]) if shape.table in tables else None
        return column_kind(tables, shape.table, key.name, seen) if key else "text"
    if isinstance(shape, (Copy, SplitOf)):
        parent = _via_parent(tables, table, shape.via)
        if parent is None:
            return "text"
        kind = column_kind(tables, parent, shape.field, seen)
        return ("decimal" if kind == "integer" and isinstance(shape, SplitOf)
                and _places_of(tables, parent, shape.field) else kind)
    if isinstance(shape, Derive):
        return _expr_kind(tables, table, shape.expr, shape.places, seen)
    return "text"


def _places_of(tables: dict[str, Table], table: str, name: str) -> int:
    f = next(x for x in tables[table].fields if x.name == name)
    shape = f.shape
    if isinstance(shape, (DecimalRange, LogNormal)):
        return shape.places
    if isinstance(shape, (Copy, SplitOf)):
        parent = _via_parent(tables, table, shape.via)
        return _places_of(tables, parent, shape.field) if parent else 0
    if isinstance(shape, Derive):
        return shape.places if shape.places is not None else 2
    return 0


def _via_parent(tables: dict[str, Table], table: str, via: str) -> str | None:
    f = next((x for x in tables[table].fields if x.name == via), None)
    return f.shape.table if f is not None and isinstance(f.shape, Reference) else None


def _expr_kind(tables: dict[str, Table], table: str, expr: DExpr, places: int | None,
               seen: frozenset[tuple[str, str]]) -> str:
    if isinstance(expr, DNum):
        return "integer" if expr.value == expr.value.to_integral_value() else "decimal"
    if isinstance(expr, DCall):
        return "integer"
    if isinstance(expr, DField):
        where = table if expr.via is None else _via_parent(tables, table, expr.via)
        if where is None:
            return "text"
        kind = column_kind(tables, where, expr.name, seen)
        if kind == "text":
            f = next(x for x in tables[where].fields if x.name == expr.name)
            if isinstance(f.shape, Categorical) and f.shape.numeric:
                return "decimal"
        return kind
    assert isinstance(expr, DBin)
    left = _expr_kind(tables, table, expr.left, places, seen)
    right = _expr_kind(tables, table, expr.right, places, seen)
    if "date" in (left, right):
        return "date" if expr.op in "+-" and not (left == right == "date") else "integer"
    if places is not None:
        return "decimal" if places else "integer"
    return "integer" if left == right == "integer" else "decimal"


def table_model(spec: Spec, table: Table) -> CombinatorialModel:
    """The covering part of one table: its categorical fields and rules, strength capped
    at the number of categorical fields."""
    factors = tuple(
        Factor(name=f.name, values=f.shape.values, numeric=f.shape.numeric, loc=f.loc,
               value_locs=f.shape.value_locs)
        for f in table.categorical_fields() if isinstance(f.shape, Categorical)
    )
    return CombinatorialModel(
        factors=factors, constraints=table.constraints,
        strength=max(1, min(spec.strength, len(factors))), seed=spec.seed, source=spec.source,
    )


def _across_loc(root: Node, file: str) -> Location:
    try:
        return root.value["coverage"].value["across"].where  # type: ignore[index,union-attr]
    except (KeyError, TypeError, AttributeError):
        return Location(file)


def _validate(spec: Spec, report: _p._Report, across_loc: Location) -> None:
    tables = {t.name: t for t in spec.tables}
    lookups = {name: dict(pairs) for name, pairs in spec.lookups}
    for table in spec.tables:
        _check_key(table, report)
        fields = {f.name: f for f in table.fields}
        for f in table.fields:
            shape = f.shape
            if isinstance(shape, Reference):
                _check_ref(table, f, shape, tables, report)
            elif isinstance(shape, (Copy, SplitOf)):
                _check_via_field(table, f, shape.via, shape.field, tables, report)
                if isinstance(shape, SplitOf):
                    _check_split(table, f, shape, tables, report)
            elif isinstance(shape, Derive):
                _check_derive(table, f, shape, tables, lookups, report)
        del fields
        if table.categorical_fields():
            try:
                check_model(table_model(spec, table))
            except SpecError as exc:
                report.extend(exc)
    if report.items:
        return
    from coverage_gen import graph  # networkx: only multi-table specs pay for it

    try:
        graph.generation_order(spec)
    except SpecError as exc:
        report.extend(exc)
        return
    _check_across(spec, tables, report, across_loc)


def _check_key(table: Table, report: _p._Report) -> None:
    keys = [f for f in table.fields if f.key]
    for extra in keys[1:]:
        report.add("bad-key", extra.loc, f"table '{table.name}' has several key fields "
                   f"({', '.join(k.name for k in keys)}); mark exactly one with key: true")
    for k in keys[:1]:
        shape = k.shape
        if isinstance(shape, (Uuid, IntSequence)):
            continue
        if isinstance(shape, Template) and "{seq" in shape.pattern and not _other_slots(shape.pattern):
            continue
        report.add("bad-key", k.loc,
                   f"key field '{table.name}.{k.name}' must be generated unique: a template "
                   "using {seq} and no other field, sequence: {start: 1}, or uuid: {}")
    for f in table.fields:
        if not f.key and isinstance(f.shape, (Uuid, IntSequence)):
            report.add("bad-key", f.loc, f"field '{table.name}.{f.name}': uuid and sequence "
                       "are key shapes; add key: true")


def _other_slots(pattern: str) -> bool:
    import string

    try:
        return any(ref not in (None, "seq") for _, ref, _, _ in string.Formatter().parse(pattern))
    except ValueError:
        return True


def _check_ref(table: Table, f: FieldSpec, ref: Reference, tables: dict[str, Table],
               report: _p._Report) -> None:
    where = f"field '{table.name}.{f.name}'"
    parent = tables.get(ref.table)
    if parent is None:
        report.add("unknown-table", ref.loc, f"{where} references unknown table '{ref.table}'; "
                   f"tables: {', '.join(tables)}", table=ref.table)
        return
    target = next((x for x in parent.fields if x.name == ref.field), None)
    if target is None:
        report.add("unknown-field", ref.loc, f"{where} references unknown field "
                   f"'{ref.table}.{ref.field}'; fields of '{ref.table}': "
                   f"{', '.join(parent.field_names())}", field=ref.field)
        return
    if not target.key:
        report.add("not-a-key", ref.loc, f"{where} references '{ref.table}.{ref.field}', which "
                   f"is not the key of table '{ref.table}'; mark it key: true or reference the key")
        return
    kind = column_kind(tables, parent.name, target.name)
    if ref.key_type is not None and ref.key_type != kind:
        report.add("key-type-mismatch", ref.loc, f"{where} is declared type: {ref.key_type}, "
                   f"but the key '{ref.table}.{ref.field}' it references is {kind}")
    if ref.table == table.name:
        if ref.depth is None:
            report.add("reference-cycle", ref.loc, f"{where} references its own table "
                       f"'{table.name}'; give depth: N to bound the chain")
        if ref.per_parent is not None:
            report.add("bad-reference", ref.loc, f"{where}: a self-reference takes depth, not per_parent")
    elif ref.depth is not None:
        report.add("bad-reference", ref.loc, f"{where}: depth applies only to a table referencing itself")


def _check_via_field(table: Table, f: FieldSpec, via: str, name: str, tables: dict[str, Table],
                     report: _p._Report) -> str | None:
    where = f"field '{table.name}.{f.name}'"
    ref_field = next((x for x in table.fields if x.name == via), None)
    if ref_field is None or not isinstance(ref_field.shape, Reference):
        report.add("unknown-field", f.loc, f"{where}: '{via}' is not a reference field of table "
                   f"'{table.name}'; write <reference field>.<parent field>", field=via)
        return None
    parent = tables.get(ref_field.shape.table)
    if parent is None:
        return None
    if name not in parent.field_names():
        report.add("unknown-field", f.loc, f"{where}: parent table '{parent.name}' (through "
                   f"'{via}') has no field '{name}'; fields: {', '.join(parent.field_names())}",
                   field=name)
        return None
    if parent.name == table.name:
        report.add("bad-reference", f.loc, f"{where}: copying through a self-reference is not supported")
        return None
    return parent.name


def _check_split(table: Table, f: FieldSpec, shape: SplitOf, tables: dict[str, Table],
                 report: _p._Report) -> None:
    parent = _via_parent(tables, table.name, shape.via)
    if parent is None:
        return
    kind = column_kind(tables, parent, shape.field)
    if kind not in ("integer", "decimal"):
        report.add("bad-reference", f.loc, f"field '{table.name}.{f.name}': split_of needs a "
                   f"number field, but '{parent}.{shape.field}' is {kind}")
    ref = next(x for x in table.fields if x.name == shape.via).shape
    assert isinstance(ref, Reference)
    if ref.optional:
        report.add("bad-reference", f.loc, f"field '{table.name}.{f.name}': split_of through an "
                   "optional reference is not supported")


def _check_derive(table: Table, f: FieldSpec, shape: Derive, tables: dict[str, Table],
                  lookups: dict[str, dict[str, Decimal]], report: _p._Report) -> None:
    where = f"field '{table.name}.{f.name}': derive '{shape.text}'"
    ok = True
    for ref in derive_fields(shape.expr):
        if ref.via is None:
            if ref.name not in table.field_names() or ref.name == f.name:
                report.add("bad-derive", f.loc, f"{where} reads unknown field '{ref.name}'")
                ok = False
            elif isinstance(next(x for x in table.fields if x.name == ref.name).shape, Derive):
                report.add("bad-derive", f.loc, f"{where}: a derivation cannot read another derived field ('{ref.name}')")
                ok = False
        elif _check_via_field(table, f, ref.via, ref.name, tables, report) is None:
            ok = False
    for call in derive_calls(shape.expr):
        if call.func not in lookups:
            report.add("bad-derive", f.loc, f"{where} calls '{call.func}', which is no lookup; "
                       f"lookups: {', '.join(lookups) or '(none declared)'}")
            ok = False
        elif isinstance(call.arg, DField):
            values = _vocabulary(tables, table, call.arg)
            missing = [v for v in values if v not in lookups[call.func]]
            if missing:
                report.add("bad-derive", f.loc, f"{where}: lookup '{call.func}' has no entry for "
                           f"{', '.join(map(repr, missing))}")
                ok = False
    if ok and _expr_kind(tables, table.name, shape.expr, shape.places, frozenset()) == "text":
        report.add("bad-derive", f.loc, f"{where} does not compute a number or a date")
    if ok:
        _check_types(where, f, shape.expr, tables, table.name, report)


def _check_types(where: str, f: FieldSpec, expr: DExpr, tables: dict[str, Table], table: str,
                 report: _p._Report) -> None:
    if isinstance(expr, DBin):
        kinds = [_expr_kind(tables, table, e, None, frozenset()) for e in (expr.left, expr.right)]
        if "text" in kinds or (expr.op == "*" and "date" in kinds) or (expr.op == "+" and kinds == ["date", "date"]):
            report.add("bad-derive", f.loc, f"{where}: cannot apply '{expr.op}' to {kinds[0]} and {kinds[1]}")
            return
        _check_types(where, f, expr.left, tables, table, report)
        _check_types(where, f, expr.right, tables, table, report)


def _vocabulary(tables: dict[str, Table], table: Table, ref: DField) -> tuple[str, ...]:
    where = table.name if ref.via is None else _via_parent(tables, table.name, ref.via)
    if where is None:
        return ()
    f = next((x for x in tables[where].fields if x.name == ref.name), None)
    if f is None:
        return ()
    if isinstance(f.shape, Categorical):
        return f.shape.values
    if isinstance(f.shape, Frequency):
        return f.shape.values
    if isinstance(f.shape, Copy):
        return _vocabulary(tables, tables[where], DField(f.shape.field, f.shape.via))
    return ()


def _check_across(spec: Spec, tables: dict[str, Table], report: _p._Report,
                  loc: Location) -> None:
    if not spec.across:
        return
    ok = True
    for t, name in spec.across:
        table = tables.get(t)
        if table is None:
            report.add("unknown-table", loc, f"coverage.across names unknown table '{t}'")
            ok = False
            continue
        f = next((x for x in table.fields if x.name == name), None)
        if f is None or not isinstance(f.shape, Categorical):
            report.add("unknown-field", loc, f"coverage.across: '{t}.{name}' is not a categorical "
                       f"field (values: [...]) of table '{t}'")
            ok = False
    if len(set(spec.across)) < len(spec.across):
        report.add("bad-shape", loc, "coverage.across lists a field twice")
        ok = False
    if ok and len(spec.across) < spec.strength:
        report.add("strength", loc, f"strength {spec.strength} needs at least {spec.strength} "
                   f"fields in coverage.across, got {len(spec.across)}")
        ok = False
    if not ok:
        return
    from coverage_gen import graph

    try:
        graph.across_chain(spec, [t for t, _ in spec.across], loc)
    except SpecError as exc:
        report.extend(exc)
