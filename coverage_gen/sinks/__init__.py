"""sinks layer: write one table to a file in a named format, atomically.

Formats are registered by name as ``"module:function"`` strings and imported on first use,
so a format with a heavy dependency (parquet) costs nothing until it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from coverage_gen.errors import SinkError
from coverage_gen.sinks.base import Row, TableWriter, atomic_write, write_text_atomic

FORMATS: dict[str, str] = {
    "csv": "coverage_gen.sinks.csv:write_csv",
    "tsv": "coverage_gen.sinks.csv:write_tsv",
    "jsonl": "coverage_gen.sinks.jsonl:write_jsonl",
}


def table_writer(fmt: str) -> TableWriter:
    """The writer registered for ``fmt``; an unknown name lists the valid ones."""
    target = FORMATS.get(fmt)
    if target is None:
        valid = ", ".join(sorted(FORMATS))
        raise SinkError(f"unknown output format {fmt!r}; valid formats: {valid}")
    module_name, attr = target.split(":")
    writer: TableWriter = getattr(importlib.import_module(module_name), attr)
    return writer


def write_table(fmt: str, path: Path, columns: Sequence[str], rows: Sequence[Row]) -> Path:
    """Write ``columns`` and ``rows`` to ``path`` in format ``fmt``; returns the path."""
    writer = table_writer(fmt)
    return atomic_write(Path(path), lambda handle: writer(handle, columns, rows))


__all__ = ["FORMATS", "table_writer", "write_table", "write_text_atomic"]
