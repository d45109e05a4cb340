"""JSON Lines: one object per record, keys in column order, every value a string."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import TableSchema
from coverage_gen.sinks.base import ColumnValues, Row, TextFilesDataset, as_list, check_shape

# Fixed separators and no ASCII escaping: compact, readable and identical on every machine.
_SEPARATORS = (",", ":")


def write_jsonl(handle: TextIO, columns: Sequence[str], rows: Sequence[Row]) -> None:
    check_shape(columns, rows)
    if len(set(columns)) != len(columns):
        raise SinkError(f"duplicate column names cannot be JSON keys: {list(columns)}")
    for row in rows:
        record = {name: _text(value) for name, value in zip(columns, row)}
        handle.write(json.dumps(record, ensure_ascii=False, separators=_SEPARATORS))
        handle.write("\n")


def _text(value: object) -> str:
    # Records are text by contract; coerce stray non-strings so the file stays all-string.
    return value if isinstance(value, str) else str(value)


class JsonlDataset(TextFilesDataset):
    """One ``<table>.jsonl`` per table: one object per row, keys in schema order.

    Unlike the all-string single-table writer, values are typed by column kind: integers
    are JSON numbers, ``None`` is ``null``; text, decimal (exact text) and date (ISO) are
    strings. Encoding is done a column at a time, which is several times faster than
    ``json.dumps`` per row and gives the same bytes.
    """

    format_name = "jsonl"

    def _open(self) -> None:
        self._handles: dict[str, TextIO] = {}
        self._prefixes: dict[str, list[str]] = {}
        for name, schema in self.schemas.items():
            tmp = self._temp_for(f"{name}.jsonl")
            self._handles[name] = tmp.open("w", encoding="utf-8", newline="")
            keys = [_encode_string(c) + ":" for c in schema.column_names]
            self._prefixes[name] = ["{" + keys[0]] + ["," + k for k in keys[1:]]

    def _write(self, schema: TableSchema, columns: list[ColumnValues], n: int) -> None:
        parts = [
            _encode_column(column.kind, values, prefix)
            for column, values, prefix in zip(schema.columns, columns, self._prefixes[schema.name])
        ]
        handle = self._handles[schema.name]
        handle.write("".join(["".join(row) + "}\n" for row in zip(*parts)]))



# json's own string encoder (C-accelerated when available), as used by json.dumps with
# ensure_ascii=False.
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _encode_column(kind: str, values: ColumnValues, prefix: str) -> list[str]:
    items = as_list(values)
    if kind == "integer":
        return [prefix + ("null" if v is None else str(int(v))) for v in items]  # type: ignore[call-overload]
    return [prefix + ("null" if v is None else _encode_string(_text(v))) for v in items]
