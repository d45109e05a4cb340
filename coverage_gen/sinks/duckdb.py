"""DuckDB (the ``duckdb`` extra); the only module that imports duckdb.

Every table goes into one database file, ``data.duckdb``, with PRIMARY KEY, NOT NULL and
FOREIGN KEY constraints declared; DuckDB checks them on every insert, so an orphan row is a
``SinkError`` naming its table. Batches are inserted column-wise (a registered dict of numpy
arrays), not row by row. Types: ``integer`` -> BIGINT, ``date`` -> DATE, ``text`` and
``decimal`` -> VARCHAR (decimals keep their exact spelling, as in the Parquet sink).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import TableSchema
from coverage_gen.sinks.base import ColumnValues, DatasetWriter
from coverage_gen.sinks.sqlite import create_table_sql as sqlite_create_table_sql
from coverage_gen.sinks.sqlite import quote

DATABASE_NAME = "data.duckdb"

_SQL_TYPES = {"text": "VARCHAR", "integer": "BIGINT", "decimal": "VARCHAR", "date": "DATE"}
_VIEW = "__coverage_gen_batch"


def create_table_sql(schema: TableSchema) -> str:
    return sqlite_create_table_sql(schema, _SQL_TYPES)


class DuckdbDataset(DatasetWriter):
    """All tables in one ``data.duckdb`` with declared and enforced keys."""

    format_name = "duckdb"

    def _open(self) -> None:
        self._tmp = self._temp_for(DATABASE_NAME)
        self._tmp.unlink()  # DuckDB refuses an existing empty file; it creates its own
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(str(self._tmp))
        try:
            for schema in self.schemas.values():
                self._con.execute(create_table_sql(schema))
        except duckdb.Error as exc:
            raise SinkError(f"cannot create the DuckDB schema: {exc}") from exc

    def _write(self, schema: TableSchema, columns: list[ColumnValues], n: int) -> None:
        con = self._connection()
        batch = {
            c.name: (np.asarray(v, dtype=np.int64) if c.kind == "integer" and not c.nullable
                     else np.asarray(v, dtype=object))
            for c, v in zip(schema.columns, columns)
        }
        names = ", ".join(quote(c) for c in schema.column_names)
        con.register(_VIEW, batch)
        try:
            con.execute(f"INSERT INTO {quote(schema.name)} ({names}) SELECT {names} FROM {_VIEW}")
        except duckdb.Error as exc:
            raise SinkError(f"table {schema.name!r}: {exc}") from exc
        finally:
            con.unregister(_VIEW)

    def _finish(self) -> None:
        con = self._connection()
        con.execute("CHECKPOINT")
        con.close()
        self._con = None

    def _discard(self) -> None:
        con = getattr(self, "_con", None)
        if con is not None:
            try:
                con.close()
            except duckdb.Error:
                pass
            self._con = None
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            Path(str(tmp) + ".wal").unlink(missing_ok=True)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        assert self._con is not None, "duckdb dataset used after close"
        return self._con
