"""CSV and TSV through the stdlib ``csv`` module: UTF-8, minimal quoting, ``\\n`` line ends.

A fixed line terminator (not the platform's) keeps output byte-identical across machines.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from coverage_gen.sinks.base import Row, check_shape


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
