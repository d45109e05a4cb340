"""CSV and TSV through the stdlib ``csv`` module: UTF-8, minimal quoting, ``\\n`` line ends.

A fixed line terminator (not the platform's) keeps output byte-identical across machines.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any, TextIO

from coverage_gen.expand.schema import TableSchema
from coverage_gen.sinks.base import ColumnValues, Row, TextFilesDataset, as_list, check_shape


def _write_delimited(
    handle: TextIO, columns: Sequence[str], rows: Sequence[Row], delimiter: str
) -> None:
    check_shape(columns, rows)
    writer = csv.writer(
        handle, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL
    )
    writer.writerow(columns)
    writer.writerows(rows)


def write_csv(handle: TextIO, columns: Sequence[str], rows: Sequence[Row]) -> None:
    _write_delimited(handle, columns, rows, ",")


def write_tsv(handle: TextIO, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Tab-separated; a value holding a tab, quote or newline is quoted as in CSV."""
    _write_delimited(handle, columns, rows, "\t")


class CsvDataset(TextFilesDataset):
    """One ``<table>.csv`` per table: a header row, then every batch as it arrives.

    ``None`` (SQL NULL) is written as an empty field, integers in decimal notation.
    """

    format_name = "csv"
    extension = "csv"
    delimiter = ","

    def _open(self) -> None:
        self._handles: dict[str, TextIO] = {}
        self._writers: dict[str, Any] = {}
        for name, schema in self.schemas.items():
            tmp = self._temp_for(f"{name}.{self.extension}")
            handle = tmp.open("w", encoding="utf-8", newline="")
            self._handles[name] = handle
            writer = csv.writer(
                handle, delimiter=self.delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL
            )
            writer.writerow(schema.column_names)
            self._writers[name] = writer

    def _write(self, schema: TableSchema, columns: list[ColumnValues], n: int) -> None:
        self._writers[schema.name].writerows(zip(*map(as_list, columns)))



class TsvDataset(CsvDataset):
    """One ``<table>.tsv`` per table, quoted like CSV where a value needs it."""

    format_name = "tsv"
    extension = "tsv"
    delimiter = "\t"
