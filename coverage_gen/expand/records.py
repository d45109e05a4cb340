"""Covering rows (categorical values) → full records (every field of the table, as text).

The api layer hands over the covering rows, then any extra valid rows it sampled for
``--rows N``; this module only fills the non-categorical fields. Each field draws from its
own stream ``rng_for(seed, table, field)``, so adding a field never changes another's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coverage_gen._seed import rng_for
from coverage_gen.errors import UsageError, spec_error
from coverage_gen.expand.values import (
    SEQ,
    CompiledTemplate,
    compile_template,
    render_template,
    sample_field,
)
from coverage_gen.spec.model import Categorical, FieldSpec, Spec, Table, Template


@dataclass(frozen=True, slots=True)
class Records:
    """One table's records: column names in spec field order and string-valued rows."""

    table: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


def expand_records(
    spec: Spec,
    factor_rows: Sequence[tuple[str, ...]],
    *,
    extra_rows: Sequence[tuple[str, ...]] = (),
    seed: int,
) -> Records:
    """Fill every field of ``spec.table`` for the covering rows followed by ``extra_rows``.

    Each input row holds the categorical values in the order of
    ``spec.table.categorical_fields()``.
    """
    table = spec.table
    factor_rows = [*factor_rows, *extra_rows]
    _check_widths(table, factor_rows)
    n = len(factor_rows)
    columns = _categorical_columns(table, factor_rows)
    columns.update(_sampled_columns(table, n, seed))
    columns.update(_template_columns(table, columns, n))
    names = table.field_names()
    rows = list(zip(*(columns[name] for name in names))) if n else []
    return Records(table=table.name, columns=names, rows=rows)


def _check_widths(table: Table, rows: Sequence[tuple[str, ...]]) -> None:
    width = len(table.categorical_fields())
    for i, row in enumerate(rows):
        if len(row) != width:
            raise UsageError(
                f"row {i} has {len(row)} categorical values; table {table.name!r} has {width}"
            )


def _categorical_columns(table: Table, rows: Sequence[tuple[str, ...]]) -> dict[str, list[str]]:
    fields = table.categorical_fields()
    return {f.name: [row[j] for row in rows] for j, f in enumerate(fields)}


def _sampled_columns(table: Table, n: int, seed: int) -> dict[str, list[str]]:
    return {
        f.name: sample_field(f.shape, n, rng_for(seed, table.name, f.name))
        for f in table.fields
        if not isinstance(f.shape, (Categorical, Template))
    }


def _template_columns(
    table: Table, known: dict[str, list[str]], n: int
) -> dict[str, list[str]]:
    """Render templates in dependency order, so one template may read another."""
    pending = {f.name: f for f in table.fields if isinstance(f.shape, Template)}
    compiled = {name: _compile(f) for name, f in pending.items()}
    done = dict(known)
    while pending:
        ready = [
            name for name in pending if not ((compiled[name].names - {SEQ}) & pending.keys())
        ]
        if not ready:
            first = next(iter(pending.values()))
            raise spec_error(
                "template-cycle",
                first.loc,
                f"templates read each other in a cycle: {sorted(pending)}",
            )
        for name in ready:
            f = pending.pop(name)
            done[name] = render_template(compiled[name], done, n, loc=f.loc)
    return {name: done[name] for name in compiled}


def _compile(f: FieldSpec) -> CompiledTemplate:
    assert isinstance(f.shape, Template)
    return compile_template(f.shape.pattern, start=f.shape.start, loc=f.loc)
