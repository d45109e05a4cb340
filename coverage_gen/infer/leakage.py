"""Leakage guard: generated records must not carry identifying sample data.

Two checks:

* no value of a sample identifier or free-text column (a spec field that is a ``template``,
  i.e. drafted as identifier, personal data or free text) appears in any output cell, unless the
  spec lists it as a categorical value (then it is vocabulary, not leaked data);
* no output record equals a sample record on all its non-categorical fields (a copied row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from coverage_gen.infer.read import MISSING_MARKERS, SampleTable, read_sample
from coverage_gen.spec.model import Categorical, Spec, Template

__all__ = ["LeakageReport", "RecordLeak", "ValueLeak", "check_leakage"]

SampleInput = str | Path | SampleTable | Sequence[str | Path | SampleTable]


@dataclass(frozen=True, slots=True)
class ValueLeak:
    """Output row ``row`` (0-based), column ``column`` holds sample value ``value`` of ``source``."""

    row: int
    column: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class RecordLeak:
    """Output row ``row`` equals the sample row starting at ``source``:``line`` on ``fields``."""

    row: int
    source: str
    line: int
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LeakageReport:
    protected_columns: tuple[str, ...]
    compared_fields: tuple[str, ...]
    value_leaks: tuple[ValueLeak, ...]
    record_leaks: tuple[RecordLeak, ...]

    @property
    def ok(self) -> bool:
        return not self.value_leaks and not self.record_leaks

    def render(self) -> str:
        lines = [
            f"leakage: {'OK' if self.ok else 'FOUND'} ({len(self.protected_columns)} protected "
            f"columns, {len(self.compared_fields)} non-categorical fields compared)"
        ]
        lines += [f"  row {v.row + 1}, {v.column}: sample value {v.value!r} from {v.source}"
                  for v in self.value_leaks]  # fmt: skip
        lines += [f"  row {r.row + 1} equals {r.source}:{r.line} on {', '.join(r.fields)}"
                  for r in self.record_leaks]  # fmt: skip
        return "\n".join(lines)


def check_leakage(
    sample: SampleInput,
    spec: Spec,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
) -> LeakageReport:
    """Check generated ``rows`` (with header ``columns``) against the sample(s) they came from.

    ``sample`` is a CSV path, a ``SampleTable`` (``infer.read.sample_from_rows`` builds one
    from rows in memory), or a list of either.
    """
    samples = _samples(sample)
    table = spec.table
    vocabulary = {v for f in table.categorical_fields() if isinstance(f.shape, Categorical) for v in f.shape.values}
    protected = tuple(f.name for f in table.fields if isinstance(f.shape, Template))
    compared = tuple(
        f.name for f in table.fields if not isinstance(f.shape, Categorical) and _varies(f.name, samples)
    )
    secrets = _secrets(samples, protected, vocabulary)
    output = [tuple(r) for r in rows]
    return LeakageReport(
        protected_columns=protected,
        compared_fields=compared,
        value_leaks=tuple(_value_leaks(output, list(columns), secrets)),
        record_leaks=tuple(_record_leaks(output, list(columns), samples, compared)),
    )


def _samples(sample: SampleInput) -> list[SampleTable]:
    items = [sample] if isinstance(sample, (str, Path, SampleTable)) else list(sample)
    return [s if isinstance(s, SampleTable) else read_sample(s) for s in items]


def _varies(name: str, samples: list[SampleTable]) -> bool:
    """A field worth comparing: present in a sample with at least one real value."""
    return any(
        name in s.columns and any(v.strip() not in MISSING_MARKERS for v in s.column(name)) for s in samples
    )


def _secrets(samples: list[SampleTable], protected: tuple[str, ...], vocabulary: set[str]) -> dict[str, str]:
    """Protected sample value → the file it came from (vocabulary values are not secrets)."""
    found: dict[str, str] = {}
    for s in samples:
        for name in protected:
            if name not in s.columns:
                continue
            for value in s.column(name):
                if value.strip() not in MISSING_MARKERS and value not in vocabulary:
                    found.setdefault(value, s.source)
    return found


def _value_leaks(output: list[tuple[str, ...]], columns: list[str], secrets: dict[str, str]) -> list[ValueLeak]:
    return [
        ValueLeak(i, columns[j], cell, secrets[cell])
        for i, row in enumerate(output)
        for j, cell in enumerate(row)
        if cell in secrets
    ]


def _record_leaks(
    output: list[tuple[str, ...]], columns: list[str], samples: list[SampleTable], fields: tuple[str, ...]
) -> list[RecordLeak]:
    leaks: list[RecordLeak] = []
    for s in samples:
        shared = tuple(f for f in fields if f in s.columns and f in columns)
        if not shared:
            continue
        seen = {tuple(row[s.columns.index(f)] for f in shared): k for k, row in enumerate(s.rows)}
        where = [columns.index(f) for f in shared]
        for i, row in enumerate(output):
            k = seen.get(tuple(row[j] for j in where))
            if k is not None:
                line = s.lines[k] if k < len(s.lines) else k + 2
                leaks.append(RecordLeak(i, s.source, line, shared))
    return leaks
