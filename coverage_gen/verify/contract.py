"""Re-check a generated folder against its ``contract.json``.

``check_folder(out_dir)`` re-reads every output the contract lists and re-checks, with the
independent checker and no engine code:

* identity: each file's sha256 and row count as recorded (a missing file is a failure);
* keys: every key field (``key: true``, sequences, uuids, ``{seq}`` templates) unique;
* rules: no row of a data file breaks a rule of the spec embedded in the contract;
* coverage: every feasible t-tuple still appears in each data file;
* leakage: no sample value or row in the output (when the spec named a ``sample:``).

Multi-table folders (one file per table and format) add, per format: ``references`` (every
foreign key value names an existing parent key), rules and coverage per table (each table's
categorical fields at the spec's strength, capped), and ``across``: every feasible t-tuple of
the ``coverage.across`` fields in some record joined up the parent chain by key.

The file helpers here (``sha256_file``, ``read_records``, ``count_rows``) are also used by
``report.contract`` when it writes the contract, so both sides count the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coverage_gen.errors import SpecError
from coverage_gen.spec.model import CombinatorialModel, Spec, Table, Template
from coverage_gen.verify.checker import CheckResult, check_rows, read_table

__all__ = [
    "CONTRACT_FILE",
    "CONTRACT_VERSION",
    "ContractCheck",
    "KeyResult",
    "check_across",
    "check_folder",
    "check_table",
    "count_rows",
    "joined_records",
    "key_fields",
    "measure_keys",
    "read_records",
    "sha256_file",
    "table_view",
]

CONTRACT_FILE = "contract.json"
CONTRACT_VERSION = 1
DATA_FORMATS = ("csv", "tsv", "jsonl")


# --------------------------------------------------------------------------- file helpers
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_records(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows (all text) of a csv/tsv/jsonl data file."""
    path = Path(path)
    if path.suffix.lower() != ".jsonl":
        return read_table(path)
    header: list[str] = []
    rows: list[list[str]] = []
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if not header:
                header = list(record)
            rows.append(["" if record.get(k) is None else str(record.get(k)) for k in header])
    return header, rows


def count_rows(path: Path) -> int | None:
    """Data rows of a csv/tsv/jsonl file (header excluded); ``None`` for other files."""
    if Path(path).suffix.lower().lstrip(".") not in DATA_FORMATS:
        return None
    return len(read_records(path)[1])


def key_fields(table: Table) -> tuple[str, ...]:
    """Fields whose values must be unique: declared keys, sequences, uuids, ``{seq}`` templates."""
    out = []
    for f in table.fields:
        shape = type(f.shape).__name__
        seq = isinstance(f.shape, Template) and "{seq" in f.shape.pattern
        if getattr(f, "key", False) or shape in ("IntSequence", "Uuid") or seq:
            out.append(f.name)
    return tuple(out)


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, slots=True)
class Check:
    name: str  # identity, keys, rules, coverage, leakage
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ContractCheck:
    """What ``check_folder`` found; ``ok`` when every check holds."""

    folder: str
    checks: tuple[Check, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(c.detail for c in self.checks if not c.ok)

    def render(self) -> str:
        failed = [c for c in self.checks if not c.ok]
        lines = [f"verify contract: {'OK' if self.ok else 'FAILED'} ({self.folder}, "
                 f"{len(self.checks)} checks, {len(failed)} failed)"]  # fmt: skip
        lines += [f"  FAIL {c.name}: {c.detail}" for c in failed]
        passed: dict[str, int] = {}
        for c in self.checks:
            if c.ok:
                passed[c.name] = passed.get(c.name, 0) + 1
        lines += [f"  ok   {name}: {n} check(s)" for name, n in passed.items()]
        return "\n".join(lines)


# --------------------------------------------------------------------------- checking
def check_folder(out_dir: str | Path, *, max_listed: int = 20) -> ContractCheck:
    """Re-check ``out_dir`` against its ``contract.json`` (see the module docstring)."""
    folder = Path(out_dir)
    checks: list[Check] = []
    path = folder / CONTRACT_FILE
    try:
        contract = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return ContractCheck(str(folder), (Check("identity", False, f"cannot read {path}: {exc}"),))
    outputs = contract.get("outputs", [])
    checks += [_identity(folder, entry) for entry in outputs]
    spec = _spec(contract, checks)
    if spec is not None and spec.multi_table:  # several linked tables: keys, references, across
        checks += _check_multi(spec, contract, folder, outputs, max_listed)
    elif spec is not None:
        data = [e for e in outputs if e.get("format") in DATA_FORMATS and (folder / e["file"]).is_file()]
        for entry in data:
            header, rows = read_records(folder / entry["file"])
            checks += _keys(spec, entry["file"], header, rows)
            checks += _rules_and_coverage(spec, contract, entry["file"], header, rows, max_listed)
            checks += _leakage(spec, contract, entry["file"], header, rows)
    return ContractCheck(str(folder), tuple(checks))


def _identity(folder: Path, entry: dict[str, object]) -> Check:
    name = str(entry.get("file"))
    path = folder / name
    if not path.is_file():
        return Check("identity", False, f"file {name} is listed in the contract but missing")
    digest = sha256_file(path)
    if digest != entry.get("sha256"):
        return Check("identity", False, f"file {name}: sha256 {digest[:16]}... does not match the "
                                        f"contract's {str(entry.get('sha256'))[:16]}... (the file was changed)")
    rows = entry.get("rows")
    if rows is not None:
        counted = count_rows(path)
        if counted != rows:
            return Check("identity", False, f"file {name}: {counted} rows, the contract says {rows}")
    return Check("identity", True, f"file {name}: sha256 and row count match")


def _spec(contract: dict[str, object], checks: list[Check]) -> Spec | None:
    from coverage_gen.spec.parse import parse_spec

    identity = contract.get("identity", {})
    assert isinstance(identity, dict)
    spec_info = identity.get("spec", {})
    text = contract.get("spec_text")
    if not isinstance(text, str) or not isinstance(spec_info, dict):
        checks.append(Check("identity", False, "the contract embeds no spec text; cannot re-check rules"))
        return None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != spec_info.get("sha256"):
        checks.append(Check("identity", False, "the embedded spec does not match the spec hash"))
        return None
    try:
        spec = parse_spec(text, file=str(spec_info.get("path", "<spec>")))
    except SpecError as exc:
        checks.append(Check("identity", False, f"the embedded spec no longer parses: {exc}"))
        return None
    checks.append(Check("identity", True, f"spec sha256 {digest[:16]}... matches"))
    strength = identity.get("strength", spec.strength)
    seed = identity.get("seed", spec.seed)
    return dataclasses.replace(spec, strength=int(strength), seed=int(seed))  # type: ignore[arg-type]


def _duplicates(rows: list[list[str]], column: int) -> list[str]:
    """Each repeated value of ``column``, with the (1-based) rows it first and again stands in."""
    seen: dict[str, int] = {}
    dupes = []
    for i, row in enumerate(rows, start=1):
        value = row[column] if column < len(row) else ""
        if value in seen:
            dupes.append(f"{value!r} in rows {seen[value]} and {i}")
        seen.setdefault(value, i)
    return dupes


def _keys(spec: Spec, name: str, header: list[str], rows: list[list[str]]) -> list[Check]:
    out = []
    for key in key_fields(spec.table):
        if key not in header:
            out.append(Check("keys", False, f"{name}: key column {key!r} is missing"))
            continue
        dupes = _duplicates(rows, header.index(key))
        if dupes:
            out.append(Check("keys", False, f"{name}: key {key} is not unique: {', '.join(dupes[:5])}"))
        else:
            out.append(Check("keys", True, f"{name}: key {key} unique"))
    return out


def _rules_and_coverage(
    spec: Spec, contract: dict[str, object], name: str, header: list[str], rows: list[list[str]], limit: int
) -> list[Check]:
    model = spec.combinatorial_model()
    if not model.factors:
        return []
    try:
        result = check_rows(model, header, rows, strength=model.strength, max_missing=limit)
    except SpecError as exc:
        return [Check("coverage", False, f"{name}: {exc}")]
    return _rule_checks(model.constraints, name, result, limit) + [_coverage_check(contract, name, result, limit)]


def _rule_checks(rules: Sequence[object], name: str, result: CheckResult, limit: int) -> list[Check]:
    out = []
    by_rule: dict[str, list[int]] = {}
    for v in result.violations:
        by_rule.setdefault(v.rule, []).append(v.row)
    for position, rule in enumerate(rules):
        text = getattr(rule, "text", str(rule))
        where = getattr(rule, "loc", None)
        broken = by_rule.get(text, [])
        if broken:
            shown = ", ".join(str(r) for r in broken[:limit])
            out.append(Check("rules", False, f"{name}: rule {position + 1} {text!r} ({where}) is broken "
                                             f"in row(s) {shown}"))  # fmt: skip
        else:
            out.append(Check("rules", True, f"{name}: rule {position + 1} holds"))
    for u in result.unknown_values[:limit]:
        out.append(Check("rules", False, f"{name}: row {u.row}: {u.value!r} is not a value of {u.column}"))
    return out


def _coverage_check(contract: dict[str, object], name: str, result: CheckResult, limit: int,
                    *, promised: object = None, check: str = "coverage") -> Check:
    if result.missing_count:
        tuples = ["(" + ", ".join(f"{k}={v}" for k, v in m.items()) + ")" for m in result.missing[:limit]]
        more = f" and {result.missing_count - len(tuples)} more" if result.missing_count > len(tuples) else ""
        return Check(check, False, f"{name}: {result.missing_count} feasible {result.strength}-tuple(s) "
                                   f"not covered: {', '.join(tuples)}{more}")  # fmt: skip
    coverage = contract.get("coverage", {})
    if promised is None and isinstance(coverage, dict):
        promised = coverage.get("feasible_tuples")
    if promised is not None and promised != result.feasible_tuples:
        return Check(check, False, f"{name}: the checker finds {result.feasible_tuples} feasible "
                                   f"tuples, the contract certifies {promised}")  # fmt: skip
    return Check(check, True, f"{name}: {result.covered_tuples}/{result.feasible_tuples} "
                              f"{result.strength}-tuples covered")  # fmt: skip


def _leakage(spec: Spec, contract: dict[str, object], name: str, header: list[str], rows: list[list[str]]) -> list[Check]:
    leakage = contract.get("leakage")
    if not isinstance(leakage, dict) or not leakage.get("sample_path"):
        return []
    sample = Path(str(leakage["sample_path"]))
    if leakage.get("ok") is None:  # the contract itself says the sample was not there
        return [Check("leakage", True, f"{name}: not checked (sample {sample} was not found at generation)")]
    if not sample.is_file():
        return [Check("leakage", False, f"{name}: cannot re-check leakage, sample {sample} not found")]
    from coverage_gen.infer.leakage import check_leakage

    report = check_leakage(sample, spec, header, rows)
    if report.ok:
        return [Check("leakage", True, f"{name}: no sample value or record in the output")]
    return [Check("leakage", False, f"{name}: {report.render()}")]



# --------------------------------------------------------------------------- multi-table
# Shared by ``report.contract`` (measuring when the contract is written) and ``check_folder``
# (re-checking): keys, references, per-table rules and coverage, and coverage across the
# ``coverage.across`` chain counted over joined records. Spec topology comes from ``spec``
# and ``graph``; counting and rule evaluation from the independent checker only.
TableData = dict[str, tuple[list[str], list[list[str]]]]


@dataclass(frozen=True, slots=True)
class KeyResult:
    """One measured key: ``kind`` primary (unique values) or foreign (every value resolves)."""

    table: str
    column: str
    kind: str
    rows: int
    problems: int  # duplicates (primary) or values naming no parent row (foreign)
    examples: tuple[str, ...] = ()
    parent: str | None = None
    parent_key: str | None = None
    nulls: int = 0
    missing_column: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_column

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"column": self.column, "rows": self.rows, "ok": self.ok}
        if self.kind == "primary":
            out["duplicates"] = self.problems
        else:
            out.update({"parent": self.parent, "parent_key": self.parent_key,
                        "unresolved": self.problems, "nulls": self.nulls})  # fmt: skip
        if self.missing_column:
            out["missing_column"] = True
        return out

    def describe(self, name: str) -> str:
        where = f"{name}: {self.table}.{self.column}"
        if self.missing_column:
            return f"{where}: column is missing"
        shown = ", ".join(self.examples)
        if self.kind == "primary":
            if self.problems:
                return f"{where}: key column is not unique: {shown}"
            return f"{where}: key column unique ({self.rows} rows)"
        if self.problems:
            return (f"{where}: {self.problems} value(s) reference no {self.parent}.{self.parent_key}: "
                    f"{shown}")  # fmt: skip
        return f"{where}: every value resolves to {self.parent}.{self.parent_key}"


def table_view(spec: Spec, table: Table) -> Spec:
    """One table of a multi-table spec as a single-table spec (for leakage and charts)."""
    return dataclasses.replace(spec, tables=(table,), multi_table=False, across=())


def measure_keys(spec: Spec, data: TableData) -> list[KeyResult]:
    """Primary keys unique and every foreign key resolving, for each table in ``data``."""
    from coverage_gen.spec.model import Reference

    tables = {t.name: t for t in spec.tables}
    out: list[KeyResult] = []
    for name, (header, rows) in data.items():
        table = tables.get(name)
        if table is None:
            continue
        for key in key_fields(table):
            if key not in header:
                out.append(KeyResult(name, key, "primary", len(rows), 0, missing_column=True))
                continue
            dupes = _duplicates(rows, header.index(key))
            out.append(KeyResult(name, key, "primary", len(rows), len(dupes), tuple(dupes[:5])))
        for f in table.fields:
            ref = f.shape
            if not isinstance(ref, Reference) or ref.table not in data:
                continue
            if f.name not in header:
                out.append(KeyResult(name, f.name, "foreign", len(rows), 0, parent=ref.table,
                                     parent_key=ref.field, missing_column=True))  # fmt: skip
                continue
            p_header, p_rows = data[ref.table]
            if ref.field not in p_header:
                out.append(KeyResult(name, f.name, "foreign", len(rows), 0, parent=ref.table,
                                     parent_key=ref.field, missing_column=True))  # fmt: skip
                continue
            pj = p_header.index(ref.field)
            known = {r[pj] for r in p_rows if pj < len(r)}
            nullable = ref.optional > 0 or ref.table == name
            j = header.index(f.name)
            bad, nulls = [], 0
            for i, row in enumerate(rows, start=1):
                value = row[j] if j < len(row) else ""
                if value == "" and nullable:
                    nulls += 1
                elif value not in known:
                    bad.append(f"{value!r} in row {i}")
            out.append(KeyResult(name, f.name, "foreign", len(rows), len(bad), tuple(bad[:5]),
                                 ref.table, ref.field, nulls))  # fmt: skip
    return out


def check_table(spec: Spec, table: Table, header: list[str], rows: list[list[str]],
                *, max_missing: int = 20) -> CheckResult | None:
    """One table's rules and own coverage (its categorical fields, strength capped at their
    number), by the independent checker; None when the table has no categorical field."""
    from coverage_gen.spec.multitable import table_model

    if not table.categorical_fields():
        return None
    model = table_model(spec, table)
    return check_rows(model, header, rows, strength=model.strength, max_missing=max_missing)


def across_chain(spec: Spec) -> tuple[tuple[str, str | None, str | None], ...]:
    """``(table, reference field, parent)`` top-down through the ``coverage.across`` tables."""
    from coverage_gen.graph import across_chain as chain

    return chain(spec, [t for t, _ in spec.across]) if spec.across else ()


def joined_records(spec: Spec, data: TableData) -> tuple[list[str], list[list[str]]]:
    """One record per row of the chain's last table, joined up the chain to its parents by
    key: columns ``table.field`` for every categorical field of every chain table. Rows whose
    reference does not resolve are left out (the key check reports them)."""
    chain = across_chain(spec)
    tables = {t.name: t for t in spec.tables}
    if not chain or any(t not in data for t, _, _ in chain):
        return [], []
    cols: list[tuple[str, str, int]] = []
    for t, _, _ in chain:
        header = data[t][0]
        cols += [(t, f.name, header.index(f.name)) for f in tables[t].categorical_fields() if f.name in header]
    index: dict[str, dict[str, list[str]]] = {}
    for t, _, parent in chain[1:]:
        assert parent is not None
        key = next(f.name for f in tables[parent].fields if f.key)
        p_header, p_rows = data[parent]
        k = p_header.index(key)
        index[parent] = {r[k]: r for r in p_rows}
    leaf = chain[-1][0]
    out: list[list[str]] = []
    for row in data[leaf][1]:
        picked = {leaf: row}
        current = row
        for t, ref, parent in reversed(chain[1:]):
            assert ref is not None and parent is not None
            j = data[t][0].index(ref)
            found = index[parent].get(current[j] if j < len(current) else "")
            if found is None:
                break
            picked[parent] = current = found
        else:
            out.append([picked[t][j] if j < len(picked[t]) else "" for t, _, j in cols])
    return [f"{t}.{name}" for t, name, _ in cols], out


def joined_model(spec: Spec) -> CombinatorialModel:
    """The chain tables' categorical fields as one model, named ``table.field``, with every
    table's rules renamed to match (their conjunction decides which tuples are feasible)."""
    from coverage_gen.spec.model import (
        And, Categorical, Comparison, Constraint, Factor, FieldRef, IfThen, InSet, Like, Not, Or,
    )  # fmt: skip

    ast_nodes = (Comparison, InSet, Like, Not, And, Or, IfThen)

    def rename(node: object, prefix: str) -> object:
        if isinstance(node, FieldRef):
            return dataclasses.replace(node, name=prefix + node.name)
        if isinstance(node, tuple):
            return tuple(rename(x, prefix) for x in node)
        if isinstance(node, ast_nodes):
            return dataclasses.replace(node, **{f.name: rename(getattr(node, f.name), prefix)  # type: ignore[arg-type]
                                                for f in dataclasses.fields(node) if f.name != "loc"})
        return node

    tables = {t.name: t for t in spec.tables}
    factors, rules = [], []
    for t, _, _ in across_chain(spec):
        for f in tables[t].categorical_fields():
            assert isinstance(f.shape, Categorical)
            factors.append(Factor(f"{t}.{f.name}", f.shape.values, f.shape.numeric, f.loc, f.shape.value_locs))
        for c in tables[t].constraints:
            rules.append(Constraint(rename(c.expr, f"{t}."), f"{t}: {c.text}", c.loc, len(rules)))  # type: ignore[arg-type]
    strength = max(1, min(spec.strength, len(spec.across)))
    return CombinatorialModel(tuple(factors), tuple(rules), strength, spec.seed, spec.source)


def check_across(spec: Spec, data: TableData, *, max_missing: int = 20) -> CheckResult | None:
    """Every feasible t-tuple of the ``coverage.across`` fields in some joined record
    (``joined_records``), counted by the independent checker; None without ``across``."""
    if not spec.across:
        return None
    header, rows = joined_records(spec, data)
    model = joined_model(spec)
    if not header:
        header = [f.name for f in model.factors]
    return check_rows(model, header, rows, strength=model.strength, max_missing=max_missing,
                      within=[f"{t}.{f}" for t, f in spec.across])


def _check_multi(spec: Spec, contract: dict[str, object], folder: Path, outputs: list[dict[str, object]],
                 limit: int) -> list[Check]:
    """Per data format: keys and references, each table's rules and own coverage, coverage
    across the chain over joined records, leakage per table."""
    tables = {t.name: t for t in spec.tables}
    by_format: dict[str, dict[str, str]] = {}
    for e in outputs:
        name, table = str(e.get("file")), e.get("table")
        if e.get("format") in DATA_FORMATS and table in tables and (folder / name).is_file():
            by_format.setdefault(str(e["format"]), {})[str(table)] = name
    promised = contract.get("tables", {})
    assert isinstance(promised, dict)
    checks: list[Check] = []
    for fmt, files in by_format.items():
        missing = [t for t in tables if t not in files]
        if missing:
            checks.append(Check("identity", False, f"{fmt}: no file for table(s) {', '.join(missing)}"))
        data = {t: read_records(folder / name) for t, name in files.items()}
        for key in measure_keys(spec, data):
            checks.append(Check("keys" if key.kind == "primary" else "references", key.ok,
                                key.describe(files[key.table])))  # fmt: skip
        for t, (header, rows) in data.items():
            try:
                result = check_table(spec, tables[t], header, rows, max_missing=limit)
            except SpecError as exc:
                checks.append(Check("coverage", False, f"{files[t]}: {exc}"))
                continue
            if result is None:
                continue
            entry = promised.get(t)
            cert = entry.get("coverage") if isinstance(entry, dict) else None
            checks += _rule_checks(tables[t].constraints, files[t], result, limit)
            checks.append(_coverage_check(contract, files[t], result, limit,
                                          promised=cert.get("feasible_tuples") if isinstance(cert, dict) else None))
        if spec.across:
            checks.append(_across_check(spec, contract, data, fmt, limit))
        checks += _multi_leakage(spec, contract, data, files)
    return checks


def _across_check(spec: Spec, contract: dict[str, object], data: TableData, fmt: str, limit: int) -> Check:
    name = f"{fmt} joined " + " -> ".join(t for t, _, _ in across_chain(spec))
    try:
        result = check_across(spec, data, max_missing=limit)
    except SpecError as exc:
        return Check("across", False, f"{name}: {exc}")
    assert result is not None
    coverage = contract.get("coverage", {})
    across = coverage.get("across") if isinstance(coverage, dict) else None
    promised = across.get("feasible") if isinstance(across, dict) else None
    return _coverage_check(contract, name, result, limit, promised=promised, check="across")


def _multi_leakage(spec: Spec, contract: dict[str, object], data: TableData, files: dict[str, str]) -> list[Check]:
    leakage = contract.get("leakage")
    if not isinstance(leakage, dict) or not leakage.get("sample_path"):
        return []
    sample = Path(str(leakage["sample_path"]))
    if leakage.get("ok") is None:
        return [Check("leakage", True, f"not checked (sample {sample} was not found at generation)")]
    if not sample.is_file():
        return [Check("leakage", False, f"cannot re-check leakage, sample {sample} not found")]
    from coverage_gen.infer.leakage import check_leakage

    out = []
    for table in spec.tables:
        if table.name not in data:
            continue
        report = check_leakage(sample, table_view(spec, table), *data[table.name])
        name = files[table.name]
        out.append(Check("leakage", report.ok, f"{name}: no sample value or record in the output"
                         if report.ok else f"{name}: {report.render()}"))  # fmt: skip
    return out
