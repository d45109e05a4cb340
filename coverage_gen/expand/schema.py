"""Table schemas for multi-table output: the contract between ``expand.multi`` and ``sinks``.

``expand.multi.plan_tables(spec)`` returns one :class:`TableSchema` per table, parents first.
``expand.multi.iter_batches(...)`` yields ``(table_name, {column: values})`` batches, every
batch of a parent before any batch of its children. Values per column kind:

* ``text``, ``date`` (ISO ``YYYY-MM-DD``), ``decimal`` (formatted string) -> ``list[str | None]``
* ``integer`` -> ``numpy.ndarray`` of ``int64`` (never null), or ``list[int | None]`` when the
  column is nullable (a nullable integer foreign key).

``None`` stands for SQL NULL and occurs only in columns with ``nullable=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "integer", "decimal", "date"]


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """One output column."""

    name: str
    kind: ColumnKind
    primary_key: bool = False
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """``column`` of this table references ``parent_table.parent_column`` (its primary key)."""

    column: str
    parent_table: str
    parent_column: str


@dataclass(frozen=True, slots=True)
class TableSchema:
    """One output table: columns in output order and its foreign keys."""

    name: str
    columns: tuple[ColumnSchema, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> str | None:
        for c in self.columns:
            if c.primary_key:
                return c.name
        return None
