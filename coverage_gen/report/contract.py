"""The data contract written beside the records: ``contract.json`` and ``contract.md``.

It says what the data is (identity: spec hash, seed, versions, file hashes and row counts),
what it is for and not for (declared purpose plus the limits the tool knows), where every
field came from (provenance), what it guarantees (the coverage certificate) and what was
measured on the written files by the independent checker (rule violations, coverage,
leakage). ``coverage-gen verify OUT_DIR`` re-checks it (``verify.contract``).

The dict is JSON-ready and has no timestamps: the same spec and seed give the same contract
(up to the dependency versions it records).
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from coverage_gen.spec.model import (
    Categorical,
    Copy,
    CountSpec,
    DateRange,
    DecimalRange,
    Derive,
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
from coverage_gen.spec.provenance import Provenance, Source
from coverage_gen.verify.checker import CheckResult, check_rows
from coverage_gen.verify.contract import CONTRACT_VERSION, count_rows, key_fields, read_records, sha256_file

__all__ = ["DEPENDENCIES", "ENFORCEMENT", "build_contract", "describe_output", "describe_shape", "render_markdown"]

DEPENDENCIES = ("ortools", "numpy", "numba", "PyYAML", "click", "matplotlib")
ENFORCEMENT = "compiled to CNF, enforced during construction"
REALISM_LIMIT = (
    "categorical frequencies are chosen for coverage, not realism: "
    "do not train or calibrate models on them"
)


def build_contract(
    spec: Spec,
    coverage: Mapping[str, object],
    files: Mapping[str, Path],
    *,
    out_dir: Path,
) -> dict[str, object]:
    """The contract for ``files`` (name -> path) written from ``spec`` into ``out_dir``.

    Rule violations, coverage and leakage are measured on the first data file (csv, tsv or
    jsonl) as written, by the independent checker. A multi-table spec gets the contract of
    :func:`build_multi_contract`.
    """
    if spec.multi_table:
        return build_multi_contract(spec, coverage, files, out_dir=out_dir)
    data = _first_data_file(files)
    header, rows = read_records(data) if data is not None else ([], [])
    check = _check(spec, header, rows)
    prov = spec.provenance or Provenance()
    return {
        "contract_version": CONTRACT_VERSION,
        "identity": _identity(spec),
        "outputs": [describe_output(name, path, out_dir, spec) for name, path in files.items()],
        "purpose": _purpose(prov),
        "limits": {"declared": list(prov.contract.not_appropriate_for) if prov.contract else [],
                   "known": _known_limits(spec, prov, coverage)},  # fmt: skip
        "sources": [_source(s) for s in prov.sources],
        "provenance": [_field_row(spec, f, prov) for f in spec.table.fields],
        "keys": list(key_fields(spec.table)),
        "coverage": _certificate(coverage, check),
        "rules": _rules(spec, prov, check),
        "leakage": _leakage(spec, prov, header, rows),
        "measured_on": data.name if data is not None else None,
        "warnings": [str(w) for w in prov.warnings],
        "spec_text": _spec_text(spec),
    }


# --------------------------------------------------------------------------- identity
def _spec_bytes(spec: Spec) -> bytes:
    if spec.source and Path(spec.source).is_file():
        return Path(spec.source).read_bytes()
    return b""


def _spec_text(spec: Spec) -> str:
    return _spec_bytes(spec).decode("utf-8")


def _identity(spec: Spec) -> dict[str, object]:
    return {
        "spec": {
            "path": str(Path(spec.source).resolve()) if spec.source else None,
            "name": spec.name,
            "sha256": hashlib.sha256(_spec_bytes(spec)).hexdigest(),
        },
        "seed": spec.seed,
        "strength": spec.strength,
        "tool": {"name": "coverage-gen", "version": _version("coverage-gen")},
        "python": platform.python_version(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _first_data_file(files: Mapping[str, Path]) -> Path | None:
    for fmt in ("csv", "tsv", "jsonl"):
        if fmt in files:
            return Path(files[fmt])
    return None


def describe_output(name: str, path: Path, out_dir: Path, spec: Spec) -> dict[str, object]:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    entry: dict[str, object] = {
        "file": path.name if path.parent.resolve() == out_dir.resolve() else str(path),
        "format": fmt,
        "sha256": sha256_file(path),
        "rows": count_rows(path),
    }
    if entry["rows"] is not None:
        entry["table"] = spec.table.name
    return entry


# --------------------------------------------------------------------------- purpose, limits
def _purpose(prov: Provenance) -> dict[str, object]:
    c = prov.contract
    if c is None:
        return {"declared": False}
    return {
        "declared": True,
        "purpose": c.purpose,
        "appropriate_for": list(c.appropriate_for),
        "not_appropriate_for": list(c.not_appropriate_for),
        "owner": c.owner,
        "contacts": [{"who": x.who, "about": x.about} for x in c.contacts],
        "review_date": c.review_date.isoformat() if c.review_date else None,
    }


_DISTRIBUTIONS = (IntegerRange, DecimalRange, LogNormal, DateRange, Frequency)


def _known_limits(spec: Spec, prov: Provenance, coverage: Mapping[str, object]) -> list[str]:
    table = spec.table
    out = []
    for f in table.fields:
        if isinstance(f.shape, _DISTRIBUTIONS):
            out.append(_distribution_limit(f.name, prov.field_source(table.name, f.name)))
    out.append(REALISM_LIMIT)
    rows, records = coverage.get("rows"), coverage.get("records")
    if isinstance(rows, int) and isinstance(records, int) and records > rows:
        out.append(f"records beyond the {rows} covering rows are sampled uniformly from the valid "
                   "combinations: their mix is not realistic either")  # fmt: skip
    out.append(f"only combinations of up to {spec.strength} categorical values are guaranteed; "
               "higher-order interactions may be missing")  # fmt: skip
    ids = [f.name for f in table.fields if isinstance(f.shape, Template)]
    if ids:
        out.append(f"identifiers and names ({', '.join(ids)}) are synthetic; they match no real record")
    return out


def _distribution_limit(name: str, source: Source | None) -> str:
    if source is None:
        return f"distribution of {name} cites no source: treat it as a guess; do not use for estimating {name}"
    who = f" ({source.who})" if source.who else ""
    if source.kind == "domain-expert":
        return f"distribution of {name} came from an expert's guess{who}, not data; do not use for estimating {name}"
    if source.kind == "tool-default":
        return f"distribution of {name} is a tool default{who}, not data; do not use for estimating {name}"
    if source.kind == "public-standard":
        return f"distribution of {name} follows a public standard{who}, not observed data; do not use for estimating {name}"
    conf = f", confidence {source.confidence}" if source.confidence else ""
    return (f"distribution of {name} was fitted to an observed sample{who}{conf}; it is a rough "
            f"fit, not an estimate of {name}")  # fmt: skip


# --------------------------------------------------------------------------- provenance
def _source(s: Source) -> dict[str, object]:
    return {
        "id": s.id, "kind": s.kind, "who": s.who,
        "when": s.when.isoformat() if s.when else None,
        "confidence": s.confidence, "note": s.note,
    }  # fmt: skip


def describe_shape(f: FieldSpec, strength: int) -> tuple[str, str]:
    """(shape, how generated) in words, for the provenance table."""
    s = f.shape
    if isinstance(s, Categorical):
        return (f"vocabulary of {len(s.values)} values",
                f"covering array: every allowed {strength}-tuple of values appears")  # fmt: skip
    if isinstance(s, IntegerRange):
        return f"integer {s.min}..{s.max}", "uniform per record (seeded)"
    if isinstance(s, DecimalRange):
        return f"decimal {s.min}..{s.max} ({s.places} places)", "uniform per record (seeded)"
    if isinstance(s, LogNormal):
        clip = f", clipped to [{s.clip_min}, {s.clip_max}]" if s.clip_min is not None or s.clip_max is not None else ""
        return f"log-normal median {s.median}, sigma {s.sigma}{clip}", "sampled per record (seeded)"
    if isinstance(s, DateRange):
        return f"date {s.start}..{s.end} ({s.format})", "uniform per record (seeded)"
    if isinstance(s, Template):
        return f"template {s.pattern!r} from {s.start}", "rendered per record (synthetic)"
    if isinstance(s, Frequency):
        table = ", ".join(f"{v}: {w:g}" for v, w in zip(s.values, s.weights))
        return f"frequency table {{{table}}}", "drawn per record by weight (seeded)"
    if isinstance(s, Reference):
        return f"reference to {s.table}.{s.field}", _reference_words(s)
    if isinstance(s, Copy):
        return (f"copy of {s.via}.{s.field}",
                f"copied from the {s.field} of the parent row that {s.via} references")  # fmt: skip
    if isinstance(s, Derive):
        places = "" if s.places is None else f", rounded to {s.places} places"
        return f"derived: {s.text}", f"computed per record from its own and its parents' fields{places}"
    if isinstance(s, SplitOf):
        return (f"split of {s.via}.{s.field} (max share {s.max_share})",
                f"random shares (seeded): the children of one parent sum to at most {s.max_share} "
                f"x the parent's {s.field}")  # fmt: skip
    if isinstance(s, Uuid):
        return "uuid", "derived from seed, table and row number (unique)"
    if isinstance(s, IntSequence):
        return f"sequence from {s.start}", "start, start + 1, ... one per record (unique)"
    return type(s).__name__, "per record"


def describe_count(count: CountSpec) -> str:
    """A ``per_parent`` count in words."""
    p = [f"{x:g}" for x in count.params]
    if count.kind == "fixed":
        return f"exactly {p[0]}"
    if count.kind == "range":
        return f"uniform {p[0]}..{p[1]}"
    if count.kind == "poisson":
        return f"Poisson(mean {p[0]})"
    if count.kind == "zipf":
        return f"Zipf(a = {p[0]}) up to {p[1]}"
    table = ", ".join(f"{c}: {w:g}" for c, w in zip(count.counts, count.weights))
    return f"frequency {{{table}}}"


def _reference_words(ref: Reference) -> str:
    if ref.depth is not None:
        how = f"self-reference: chains at most {ref.depth} deep, the top rows empty"
    elif ref.per_parent is not None:
        how = f"each {ref.table} row gets {describe_count(ref.per_parent)} children (seeded)"
    elif ref.power_law is not None:
        how = f"each row picks a {ref.table} row, power-law weight {ref.power_law:g} (seeded)"
    else:
        how = f"each row picks a {ref.table} row uniformly (seeded)"
    if ref.optional:
        how += f"; {ref.optional:.0%} left empty"
    return how + "; every value is an existing key"


def _field_row(spec: Spec, f: FieldSpec, prov: Provenance) -> dict[str, object]:
    shape, how = describe_shape(f, spec.strength)
    cited = prov.citation(spec.table.name, "field", f.name)
    source = prov.source(cited.source) if cited else None
    return {
        "field": f.name,
        "shape": shape,
        "generated": how,
        "source": source.id if source else None,
        "source_kind": source.kind if source else None,
        "source_who": source.who if source else None,
        "confidence": source.confidence if source else None,
    }


# --------------------------------------------------------------------------- measured
def _check(spec: Spec, header: list[str], rows: list[list[str]]) -> CheckResult | None:
    model = spec.combinatorial_model()
    if not model.factors or not header:
        return None
    return check_rows(model, header, rows, strength=spec.strength, max_missing=20)


def _certificate(coverage: Mapping[str, object], check: CheckResult | None) -> dict[str, object]:
    tuples = coverage.get("tuples", {})
    bound = coverage.get("lower_bound", {})
    assert isinstance(tuples, dict) and isinstance(bound, dict)
    out: dict[str, object] = {
        "strength": coverage.get("strength"),
        "feasible_tuples": tuples.get("required"),
        "covered": tuples.get("covered"),
        "excluded": tuples.get("excluded"),
        "excluded_by": list(coverage.get("rules", [])),  # type: ignore[call-overload]
        "rows": coverage.get("rows"),
        "records": coverage.get("records"),
        "lower_bound": bound.get("value"),
        "lower_bound_reason": bound.get("reason"),
        "optimal": coverage.get("optimal"),
        "proof": coverage.get("proof"),
        "status": coverage.get("status"),
        "gap": coverage.get("gap"),
    }
    if check is not None:
        out["checker"] = {
            "feasible_tuples": check.feasible_tuples,
            "covered": check.covered_tuples,
            "missing": check.missing_count,
            "excluded": check.excluded_tuples,
            "unknown_values": len(check.unknown_values),
        }
    return out


def _rules(spec: Spec, prov: Provenance, check: CheckResult | None) -> list[dict[str, object]]:
    broken: dict[str, int] = {}
    for v in check.violations if check else []:
        broken[v.rule] = broken.get(v.rule, 0) + 1
    out = []
    for position, rule in enumerate(spec.table.constraints):
        source = prov.rule_source(spec.table.name, position)
        out.append({
            "rule": rule.text,
            "line": rule.loc.line,
            "source": source.id if source else None,
            "enforced": ENFORCEMENT,
            "violations": broken.get(rule.text, 0) if check else None,
        })  # fmt: skip
    return out


def _leakage(spec: Spec, prov: Provenance, header: Sequence[str], rows: list[list[str]]) -> dict[str, object] | None:
    if not prov.sample:
        return None
    base = Path(spec.source).parent if spec.source else Path(".")
    path = (base / prov.sample).resolve()
    if not path.is_file():
        return {"sample": prov.sample, "sample_path": str(path), "ok": None,
                "detail": f"sample {path} not found: leakage not checked"}  # fmt: skip
    from coverage_gen.infer.leakage import check_leakage

    report = check_leakage(path, spec, header, rows)
    return {
        "sample": prov.sample,
        "sample_path": str(path),
        "ok": report.ok,
        "protected_columns": list(report.protected_columns),
        "compared_fields": list(report.compared_fields),
        "value_leaks": len(report.value_leaks),
        "record_leaks": len(report.record_leaks),
        "detail": report.render(),
    }


# --------------------------------------------------------------------------- markdown
def render_markdown(contract: Mapping[str, object]) -> str:
    """``contract.md``: the same content as ``contract.json``, for people."""
    c: dict = dict(contract)  # type: ignore[type-arg]
    if c.get("multi_table"):
        return _markdown_multi(c)
    ident, cov = c["identity"], c["coverage"]
    name = ident["spec"]["name"] or "spec"
    lines = [f"# Data contract: {name}", ""]
    lines += _md_purpose(c["purpose"], c["limits"])
    lines += _md_identity(ident) + ["| file | rows | sha256 |", "|---|---|---|"]
    lines += [f"| {o['file']} | {'' if o['rows'] is None else o['rows']} | `{o['sha256']}` |" for o in c["outputs"]]
    lines += ["", "## Provenance", "", "| field | shape | generated | source | kind | who | confidence |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for p in c["provenance"]:
        cells = [p["field"], p["shape"], p["generated"], p["source"] or "**none**",
                 p["source_kind"] or "", p["source_who"] or "", p["confidence"] or ""]  # fmt: skip
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if c["sources"]:
        lines += ["", "Sources:", ""]
        lines += [f"- `{s['id']}`: {s['kind']}, {s['who']}, {s['when'] or 'undated'}, "
                  f"confidence {s['confidence'] or 'unstated'}" + (f"; {s['note']}" if s["note"] else "")
                  for s in c["sources"]]  # fmt: skip
    lines += ["", "## Coverage certificate", ""]
    lines += _md_certificate(cov)
    lines += ["", "## Rules", ""] + _md_rules_table(c["rules"])
    measured = f"`{c['measured_on']}`"
    lines += _md_closing(c, f"Violations were counted on {measured} by the independent checker")
    return "\n".join(lines)


def _md_identity(ident: dict, seed_note: str = "") -> list[str]:  # type: ignore[type-arg]
    """Spec hash, seed and strength, tool and dependency versions (single or multi-table)."""
    return ["## Identity", "",
            f"- spec: `{ident['spec']['path']}` sha256 `{ident['spec']['sha256']}`",
            f"- seed {ident['seed']}, strength {ident['strength']}{seed_note}",
            f"- tool: coverage-gen {ident['tool']['version']}, Python {ident['python']}; "
            + ", ".join(f"{k} {v}" for k, v in ident["dependencies"].items() if v), ""]  # fmt: skip


def _md_rules_table(rules: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """The rules with their source, how they were enforced and the measured violations."""
    lines = ["| # | rule | line | source | enforced | violations (measured) |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(rules, start=1):
        cells = [str(i), f"`{r['rule']}`", str(r["line"] or ""), r["source"] or "**none**", r["enforced"],
                 "not measured" if r["violations"] is None else str(r["violations"])]  # fmt: skip
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    return lines


def _md_closing(c: dict, measured: str) -> list[str]:  # type: ignore[type-arg]
    """Where things were measured, the leakage check, warnings and how to re-check."""
    lines = ["", f"{measured} (it shares no code with the engine).", "", "## Leakage", ""]
    leak = c["leakage"]
    if leak is None:
        lines.append("No sample was used (no `sample:` in the spec): nothing to leak.")
    else:
        lines += [f"Sample `{leak['sample']}`: " + {True: "no leak found", False: "LEAK FOUND",
                  None: "not checked"}[leak["ok"]] + ".", "", "```", str(leak["detail"]), "```"]  # fmt: skip
    if c["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in c["warnings"]]
    lines += ["", "Re-check: `coverage-gen verify <this folder>`.", ""]
    return lines


def _md_purpose(purpose: dict, limits: dict) -> list[str]:  # type: ignore[type-arg]
    lines = ["## Purpose and limits", ""]
    if purpose.get("declared"):
        lines += [purpose["purpose"] or "(no purpose given)", ""]
        lines += [f"- appropriate for: {x}" for x in purpose["appropriate_for"]]
        lines += [f"- **not** appropriate for: {x}" for x in purpose["not_appropriate_for"]]
        lines += [f"- owner: {purpose['owner'] or 'unstated'}; review by {purpose['review_date'] or 'unstated'}"]
        lines += [f"- ask {x['who']} about {x['about'] or 'anything'}" for x in purpose["contacts"]]
    else:
        lines.append("No purpose declared (add a `contract:` section to the spec).")
    lines += ["", "Limits the tool knows:", ""] + [f"- {x}" for x in limits["known"]] + [""]
    return lines


def _md_certificate(cov: dict) -> list[str]:  # type: ignore[type-arg]
    t = cov["strength"]
    lines = [
        f"- strength t = {t}",
        f"- feasible {t}-tuples: {cov['feasible_tuples']}; covered: {cov['covered']}",
        f"- excluded by constraints: {cov['excluded']}"
        + (" (by: " + "; ".join(f"`{r}`" for r in cov["excluded_by"]) + ")" if cov["excluded_by"] else ""),
        f"- covering rows: {cov['rows']}; records: {cov['records']}",
        f"- lower bound: {cov['lower_bound']} ({cov['lower_bound_reason']})",
        f"- optimality: {cov['status']}" + (f", {cov['proof']}" if cov.get("proof") else "")
        + ("" if cov["optimal"] else f", gap {cov['gap']}"),
    ]
    chk = cov.get("checker")
    if chk:
        lines.append(f"- measured by the independent checker: {chk['covered']}/{chk['feasible_tuples']} "
                     f"covered, {chk['missing']} missing, {chk['excluded']} excluded")  # fmt: skip
    return lines


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- multi-table
def build_multi_contract(
    spec: Spec,
    coverage: Mapping[str, object],
    files: Mapping[str, Path],
    *,
    out_dir: Path,
) -> dict[str, object]:
    """The contract of a multi-table run: identity with every file per table, provenance per
    table and field, a coverage certificate per table and across the ``coverage.across``
    chain, rules per table, keys (unique, references resolving) and leakage, each measured on
    the first data format written (csv, tsv or jsonl) by the independent checker."""
    from coverage_gen.verify.contract import check_across, check_table, measure_keys

    prov = spec.provenance or Provenance()
    names = {t.name for t in spec.tables}
    outputs, seen = [], set()
    for path in files.values():
        if Path(path).resolve() in seen:  # a database format holds every table in one file
            continue
        seen.add(Path(path).resolve())
        entry = describe_output("", Path(path), out_dir, spec)
        stem = Path(path).stem
        if entry["rows"] is not None and stem in names:
            entry["table"] = stem
        else:
            entry.pop("table", None)
        outputs.append(entry)
    measured_on = _measured_files(outputs, names)
    data = {t: read_records(out_dir / f) for t, f in measured_on.items()}
    keys = measure_keys(spec, data)
    engine = coverage.get("tables", {})
    assert isinstance(engine, dict)
    tables: dict[str, object] = {}
    rules: list[dict[str, object]] = []
    for table in spec.tables:
        header, rows = data.get(table.name, ([], []))
        check = check_table(spec, table, header, rows) if table.name in data else None
        own = engine.get(table.name)
        cert = None
        if isinstance(own, dict):
            cert = _certificate({**own, "records": len(rows)}, check)
        table_rules = [{"table": table.name, **r} for r in _table_rules(table, prov, check)]
        rules += table_rules
        tables[table.name] = {
            "file": measured_on.get(table.name),
            "rows": len(rows) if table.name in data else None,
            "coverage": cert,
            "rules": table_rules,
            "keys": {
                "primary": [k.to_dict() for k in keys if k.table == table.name and k.kind == "primary"],
                "foreign": [k.to_dict() for k in keys if k.table == table.name and k.kind == "foreign"],
            },
        }
    return {
        "contract_version": CONTRACT_VERSION,
        "multi_table": True,
        "identity": {**_identity(spec), "tables": [t.name for t in spec.tables]},
        "outputs": outputs,
        "purpose": _purpose(prov),
        "limits": {"declared": list(prov.contract.not_appropriate_for) if prov.contract else [],
                   "known": _multi_limits(spec, prov)},  # fmt: skip
        "sources": [_source(s) for s in prov.sources],
        "provenance": [_field_row_in(spec, t, f, prov) for t in spec.tables for f in t.fields],
        "keys": {t.name: list(key_fields(t)) for t in spec.tables},
        "coverage": {
            "across": _across_certificate(spec, coverage, check_across(spec, data) if data else None),
            "tables": {t: v["coverage"] for t, v in tables.items()},  # type: ignore[index]
        },
        "tables": tables,
        "rules": rules,
        "leakage": _multi_leakage(spec, prov, data),
        "measured_on": measured_on,
        "warnings": [str(w) for w in prov.warnings],
        "spec_text": _spec_text(spec),
    }


def _measured_files(outputs: Sequence[Mapping[str, object]], names: set[str]) -> dict[str, str]:
    """table -> the file of the first data format that has every table."""
    for fmt in ("csv", "tsv", "jsonl"):
        found = {str(o["table"]): str(o["file"]) for o in outputs if o.get("format") == fmt and o.get("table")}
        if found and set(found) == names:
            return found
    return {}


def _field_row_in(spec: Spec, table: Table, f: FieldSpec, prov: Provenance) -> dict[str, object]:
    strength = max(1, min(spec.strength, len(table.categorical_fields())))
    view = spec.__class__(tables=(table,), strength=strength, seed=spec.seed, source=spec.source)
    row = _field_row(view, f, prov)
    return {"table": table.name, **row, "key": f.key}


def _table_rules(table: Table, prov: Provenance, check: CheckResult | None) -> list[dict[str, object]]:
    view = Spec(tables=(table,))
    return _rules(view, prov, check)


def _across_certificate(spec: Spec, coverage: Mapping[str, object], check: CheckResult | None) -> dict[str, object] | None:
    if not spec.across:
        return None
    from coverage_gen.verify.contract import across_chain

    tuples = coverage.get("tuples", {})
    bound = coverage.get("lower_bound", {})
    assert isinstance(tuples, dict) and isinstance(bound, dict)
    return {
        "fields": [f"{t}.{f}" for t, f in spec.across],
        "chain": [t for t, _, _ in across_chain(spec)],
        "strength": check.strength if check else coverage.get("strength"),
        # measured: the independent checker over records joined up the chain by key
        "feasible": check.feasible_tuples if check else None,
        "covered": check.covered_tuples if check else None,
        "missing": check.missing_count if check else None,
        "excluded": check.excluded_tuples if check else None,
        "joined_records": check.rows if check else None,
        "engine": {
            "feasible_tuples": tuples.get("required"),
            "covered": tuples.get("covered"),
            "excluded": tuples.get("excluded"),
            "rows": coverage.get("rows"),
            "lower_bound": bound.get("value"),
            "lower_bound_reason": bound.get("reason"),
            "optimal": coverage.get("optimal"),
            "proof": coverage.get("proof"),
            "status": coverage.get("status"),
            "gap": coverage.get("gap"),
        },
    }


def _multi_limits(spec: Spec, prov: Provenance) -> list[str]:
    out = []
    for table in spec.tables:
        for f in table.fields:
            name = f"{table.name}.{f.name}"
            if isinstance(f.shape, _DISTRIBUTIONS):
                out.append(_distribution_limit(name, prov.field_source(table.name, f.name)))
            elif isinstance(f.shape, Reference) and (f.shape.per_parent or f.shape.power_law):
                source = prov.field_source(table.name, f.name)
                cited = f" ({source.kind}, {source.who})" if source else " (no source cited: a guess)"
                out.append(f"children per parent along {name} follow the declared count{cited}; "
                           f"do not use them to estimate volumes")  # fmt: skip
    out.append(REALISM_LIMIT)
    out.append(f"within each table only combinations of up to {spec.strength} categorical values "
               "are guaranteed; higher-order interactions may be missing")  # fmt: skip
    if spec.across:
        fields = ", ".join(f"{t}.{f}" for t, f in spec.across)
        out.append(f"across tables only the coverage.across fields ({fields}) are combined at "
                   f"strength {min(spec.strength, len(spec.across))} along the parent chain; "
                   "other cross-table combinations are not guaranteed")  # fmt: skip
    else:
        out.append("no coverage.across: no combination of values from different tables is guaranteed")
    derived = [f"{t.name}.{f.name}" for t in spec.tables for f in t.fields if isinstance(f.shape, (Copy, Derive, SplitOf))]
    if derived:
        out.append(f"copied, derived and split fields ({', '.join(derived)}) are computed mechanically "
                   "from their parents: they are consistent, not realistic")  # fmt: skip
    ids = [f"{t.name}.{f.name}" for t in spec.tables for f in t.fields
           if isinstance(f.shape, (Template, Uuid, IntSequence))]  # fmt: skip
    if ids:
        out.append(f"identifiers and names ({', '.join(ids)}) are synthetic; they match no real record")
    return out


def _multi_leakage(spec: Spec, prov: Provenance, data: Mapping[str, tuple[list[str], list[list[str]]]]) -> dict[str, object] | None:
    if not prov.sample:
        return None
    from coverage_gen.verify.contract import table_view

    base = Path(spec.source).parent if spec.source else Path(".")
    path = (base / prov.sample).resolve()
    if not path.is_file():
        return {"sample": prov.sample, "sample_path": str(path), "ok": None,
                "detail": f"sample {path} not found: leakage not checked"}  # fmt: skip
    from coverage_gen.infer.leakage import check_leakage

    per_table, details, ok = {}, [], True
    for table in spec.tables:
        if table.name not in data:
            continue
        report = check_leakage(path, table_view(spec, table), *data[table.name])
        ok = ok and report.ok
        per_table[table.name] = {
            "ok": report.ok,
            "protected_columns": list(report.protected_columns),
            "compared_fields": list(report.compared_fields),
            "value_leaks": len(report.value_leaks),
            "record_leaks": len(report.record_leaks),
        }
        details.append(f"[{table.name}] {report.render()}")
    return {"sample": prov.sample, "sample_path": str(path), "ok": ok, "tables": per_table,
            "detail": "\n".join(details)}  # fmt: skip


def _markdown_multi(c: dict) -> str:  # type: ignore[type-arg]
    ident = c["identity"]
    name = ident["spec"]["name"] or "spec"
    lines = [f"# Data contract: {name} ({len(ident['tables'])} linked tables)", ""]
    lines += _md_purpose(c["purpose"], c["limits"])
    lines += _md_identity(ident, f"; tables {', '.join(ident['tables'])}")
    lines += ["| file | table | rows | sha256 |", "|---|---|---|---|"]
    lines += [f"| {o['file']} | {o.get('table') or ''} | {'' if o['rows'] is None else o['rows']} | `{o['sha256']}` |"
              for o in c["outputs"]]  # fmt: skip
    lines += ["", "## Provenance", "", "| table | field | shape | generated | source | kind | who | confidence |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for p in c["provenance"]:
        cells = [p["table"], p["field"] + (" (key)" if p.get("key") else ""), p["shape"], p["generated"],
                 p["source"] or "**none**", p["source_kind"] or "", p["source_who"] or "", p["confidence"] or ""]  # fmt: skip
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if c["sources"]:
        lines += ["", "Sources:", ""]
        lines += [f"- `{s['id']}`: {s['kind']}, {s['who']}, {s['when'] or 'undated'}, "
                  f"confidence {s['confidence'] or 'unstated'}" + (f"; {s['note']}" if s["note"] else "")
                  for s in c["sources"]]  # fmt: skip
    across = c["coverage"]["across"]
    lines += ["", "## Coverage certificate across tables", ""]
    if across is None:
        lines.append("No `coverage.across` in the spec: no cross-table combination is guaranteed.")
    else:
        eng = across["engine"]
        lines += [
            f"- fields: {', '.join(across['fields'])} along {' -> '.join(across['chain'])}",
            f"- strength t = {across['strength']}",
            f"- measured over {across['joined_records']} records joined up the chain by key: "
            f"{across['covered']}/{across['feasible']} feasible tuples covered, {across['missing']} missing, "
            f"{across['excluded']} excluded by the tables' rules",
            f"- engine: {eng['covered']}/{eng['feasible_tuples']} in {eng['rows']} linked rows; lower bound "
            f"{eng['lower_bound']} ({eng['lower_bound_reason']}); {eng['status']}"
            + (f", {eng['proof']}" if eng.get("proof") else ""),
        ]  # fmt: skip
    for table, t in c["tables"].items():
        lines += ["", f"## Table {table}", "", f"- file `{t['file']}`: {t['rows']} rows"]
        if t["coverage"]:
            lines += _md_certificate(t["coverage"])
        else:
            lines.append("- no categorical field: nothing to cover")
        for k in t["keys"]["primary"]:
            lines.append(f"- key `{k['column']}`: {'unique' if k['ok'] else 'NOT unique'} "
                         f"({k['duplicates']} duplicates, measured)")  # fmt: skip
        for k in t["keys"]["foreign"]:
            lines.append(f"- reference `{k['column']}` -> `{k['parent']}.{k['parent_key']}`: "
                         f"{k['unresolved']} unresolved, {k['nulls']} empty (measured)")  # fmt: skip
        if t["rules"]:
            lines += [""] + _md_rules_table(t["rules"])
    files = ", ".join(f"`{f}`" for f in c["measured_on"].values())
    lines += _md_closing(c, f"Keys, rules and coverage were measured on {files} by the independent checker")
    return "\n".join(lines)
