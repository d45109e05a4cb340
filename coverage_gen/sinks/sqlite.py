"""SQLite (stdlib ``sqlite3``): every table in one database file, ``data.sqlite``.

The schema declares each table's PRIMARY KEY, NOT NULL for non-nullable columns and every
FOREIGN KEY. The load runs with ``PRAGMA foreign_keys=ON``, parents first, one transaction
per batch (``executemany``), so an orphan row fails at once with a ``SinkError`` naming its
table. At close ``PRAGMA foreign_key_check`` must come back empty, else ``SinkError`` (and no
file). Column types: ``integer`` -> INTEGER; ``text``, ``decimal`` and ``date`` -> TEXT
(decimals keep their exact spelling -- NUMERIC affinity would turn ``"10.50"`` into the REAL
``10.5`` -- and dates stay ISO ``YYYY-MM-DD``, which sorts and compares correctly).

The database is built under a temporary name (journal in memory, no syncs while loading,
one fsync at the end) and renamed into place on close.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import TableSchema
from coverage_gen.sinks.base import ColumnValues, DatasetWriter, as_list

DATABASE_NAME = "data.sqlite"

_SQL_TYPES = {"text": "TEXT", "integer": "INTEGER", "decimal": "TEXT", "date": "TEXT"}


def quote(name: str) -> str:
    """An SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(schema: TableSchema, sql_types: Mapping[str, str] = _SQL_TYPES) -> str:
    """``CREATE TABLE`` for one table, with its primary and foreign keys; ``sql_types``
    maps column kinds to the database's type names (DuckDB passes its own)."""
    lines = []
    for c in schema.columns:
        line = f"{quote(c.name)} {sql_types[c.kind]}"
        if not c.nullable:
            line += " NOT NULL"
        if c.primary_key:
            line += " PRIMARY KEY"
        lines.append(line)
    for fk in schema.foreign_keys:
        lines.append(
            f"FOREIGN KEY ({quote(fk.column)}) "
            f"REFERENCES {quote(fk.parent_table)} ({quote(fk.parent_column)})"
        )
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {quote(schema.name)} (\n  {body}\n)"


class SqliteDataset(DatasetWriter):
    """All tables in one ``data.sqlite`` with declared and enforced keys."""

    format_name = "sqlite"

    def _open(self) -> None:
        tmp = self._temp_for(DATABASE_NAME)
        self._conn: sqlite3.Connection | None = sqlite3.connect(str(tmp), isolation_level=None)
        conn = self._conn
        conn.execute("PRAGMA journal_mode=MEMORY")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=ON")
        if conn.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
            raise SinkError("this SQLite build cannot enforce foreign keys")
        self._insert: dict[str, str] = {}
        conn.execute("BEGIN")
        for schema in self.schemas.values():
            conn.execute(create_table_sql(schema))
            names = ", ".join(quote(n) for n in schema.column_names)
            marks = ", ".join("?" * len(schema.columns))
            self._insert[schema.name] = f"INSERT INTO {quote(schema.name)} ({names}) VALUES ({marks})"
        conn.execute("COMMIT")

    def _write(self, schema: TableSchema, columns: list[ColumnValues], n: int) -> None:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            conn.executemany(self._insert[schema.name], zip(*map(as_list, columns)))
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise SinkError(f"table {schema.name!r}: {exc}") from exc
        conn.execute("COMMIT")

    def _finish(self) -> None:
        conn = self._connection()
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            tables = sorted({row[0] for row in problems})
            first = problems[0]
            raise SinkError(
                f"foreign key check failed in table(s) {', '.join(map(repr, tables))}: "
                f"{len(problems)} row(s) without a parent (first: {first[0]!r} rowid {first[1]} "
                f"-> {first[2]!r})"
            )
        conn.close()
        self._conn = None

    def _discard(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        assert self._conn is not None, "sqlite dataset used after close"
        return self._conn
