"""Re-check a generated folder against its ``contract.json``.

``check_folder(out_dir)`` re-reads every output the contract lists and re-checks, with the
independent checker and no engine code:

* identity: each file's sha256 and row count as recorded (a missing file is a failure);
* keys: every key field (``key: true``, sequences, uuids, ``{seq}`` templates) unique;
* rules: no row of a data file breaks a rule of the spec embedded in the contract;
* coverage: every feasible t-tuple still appears in each data file;
* leakage: no sample value or row in the output (when the spec named a ``sample:``).

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
from coverage_gen.spec.model import Spec, Table, Template
from coverage_gen.verify.checker import CheckResult, check_rows, read_table

__all__ = [
    "CONTRACT_FILE",
    "CONTRACT_VERSION",
    "ContractCheck",
    "check_folder",
    "count_rows",
    "key_fields",
    "read_records",
    "sha256_file",
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
    if spec is not None:
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


def _keys(spec: Spec, name: str, header: list[str], rows: list[list[str]]) -> list[Check]:
    out = []
    for key in key_fields(spec.table):
        if key not in header:
            out.append(Check("keys", False, f"{name}: key column {key!r} is missing"))
            continue
        j = header.index(key)
        seen: dict[str, int] = {}
        dupes = []
        for i, row in enumerate(rows, start=1):
            value = row[j] if j < len(row) else ""
            if value in seen:
                dupes.append(f"{value!r} in rows {seen[value]} and {i}")
            seen.setdefault(value, i)
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


def _coverage_check(contract: dict[str, object], name: str, result: CheckResult, limit: int) -> Check:
    if result.missing_count:
        tuples = ["(" + ", ".join(f"{k}={v}" for k, v in m.items()) + ")" for m in result.missing[:limit]]
        more = f" and {result.missing_count - len(tuples)} more" if result.missing_count > len(tuples) else ""
        return Check("coverage", False, f"{name}: {result.missing_count} feasible {result.strength}-tuple(s) "
                                        f"not covered: {', '.join(tuples)}{more}")  # fmt: skip
    coverage = contract.get("coverage", {})
    promised = coverage.get("feasible_tuples") if isinstance(coverage, dict) else None
    if promised is not None and promised != result.feasible_tuples:
        return Check("coverage", False, f"{name}: the checker finds {result.feasible_tuples} feasible "
                                        f"tuples, the contract certifies {promised}")  # fmt: skip
    return Check("coverage", True, f"{name}: {result.covered_tuples}/{result.feasible_tuples} "
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

