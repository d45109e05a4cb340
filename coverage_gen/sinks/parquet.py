"""Parquet through pyarrow (the ``parquet`` extra); the only module that imports pyarrow.

One ``<table>.parquet`` per table, written with a ``ParquetWriter``: each batch becomes one
row group, so memory stays bounded by the batch size however many rows are written.

Column types by kind: ``text`` -> ``string``; ``integer`` -> ``int64``; ``date`` (ISO text)
-> ``date32``; ``decimal`` -> ``string``. Decimals stay text on purpose: the schema gives no
precision or scale, and ``decimal128`` would need one fixed scale per column (rounding or
padding values such as ``"10.5"`` versus ``"10.50"``); text keeps the exact spelling the
generator produced and every reader can cast it. Columns with ``nullable=False`` are
declared non-nullable (Parquet ``REQUIRED``), and a ``None`` in one is a ``SinkError``.

Writer settings are fixed (snappy, dictionary encoding, statistics, format 2.6, no
timestamps in the footer), so the same batches give the same bytes with the same pyarrow.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import ColumnSchema, TableSchema
from coverage_gen.sinks.base import ColumnValues, DatasetWriter

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "integer": pa.int64(),
    "decimal": pa.string(),
    "date": pa.date32(),
}

WRITER_OPTIONS: dict[str, Any] = {
    "compression": "snappy",
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
}


def arrow_schema(schema: TableSchema) -> pa.Schema:
    """The Arrow schema a table is written with."""
    try:
        return pa.schema(
            [pa.field(c.name, _ARROW_TYPES[c.kind], nullable=c.nullable) for c in schema.columns]
        )
    except KeyError as exc:
        raise SinkError(f"table {schema.name!r}: unknown column kind {exc.args[0]!r}") from None


class ParquetDataset(DatasetWriter):
    """One ``<table>.parquet`` per table, one row group per batch."""

    format_name = "parquet"

    def _open(self) -> None:
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._arrow: dict[str, pa.Schema] = {}
        for name, schema in self.schemas.items():
            self._arrow[name] = arrow_schema(schema)
            tmp = self._temp_for(f"{name}.parquet")
            self._writers[name] = pq.ParquetWriter(str(tmp), self._arrow[name], **WRITER_OPTIONS)

    def _write(self, schema: TableSchema, columns: list[ColumnValues], n: int) -> None:
        arrays = [_to_arrow(schema, c, v) for c, v in zip(schema.columns, columns)]
        table = pa.Table.from_arrays(arrays, schema=self._arrow[schema.name])
        self._writers[schema.name].write_table(table, row_group_size=n)

    def _finish(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def _discard(self) -> None:
        for writer in getattr(self, "_writers", {}).values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the files are deleted next; nothing to report
                pass


def _to_arrow(schema: TableSchema, column: ColumnSchema, values: ColumnValues) -> pa.Array:
    try:
        if column.kind == "date":
            array = pa.array(values, pa.string()).cast(pa.date32())
        else:
            array = pa.array(values, _ARROW_TYPES[column.kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise SinkError(
            f"table {schema.name!r}, column {column.name!r} ({column.kind}): {exc}"
        ) from exc
    if array.null_count and not column.nullable:
        raise SinkError(
            f"table {schema.name!r}, column {column.name!r}: {array.null_count} null value(s) "
            "in a column that is not nullable"
        )
    return array
