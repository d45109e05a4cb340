"""sinks layer: write tables to files in a named format, atomically.

Two entry points:

* ``write_table(fmt, path, columns, rows)`` -- one all-text table to one file.
* ``open_dataset(fmt, out_dir, schemas)`` -- a streaming multi-table writer (a context
  manager) fed ``write_batch(table, {column: values})`` parents first; csv/tsv/jsonl/parquet
  write one file per table, sqlite/duckdb one database file with declared keys.

Formats are registered by name as ``"module:attribute"`` strings and imported on first use,
so a format with a heavy dependency (parquet, duckdb) costs nothing until it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import TableSchema
from coverage_gen.sinks.base import (
    DatasetWriter,
    Row,
    TableWriter,
    atomic_write,
    write_text_atomic,
)

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


DATASET_FORMATS: dict[str, str] = {
    "csv": "coverage_gen.sinks.csv:CsvDataset",
    "tsv": "coverage_gen.sinks.csv:TsvDataset",
    "jsonl": "coverage_gen.sinks.jsonl:JsonlDataset",
    "parquet": "coverage_gen.sinks.parquet:ParquetDataset",
    "sqlite": "coverage_gen.sinks.sqlite:SqliteDataset",
    "duckdb": "coverage_gen.sinks.duckdb:DuckdbDataset",
}

# Third-party module a format needs -> the pip extra that installs it.
_EXTRAS = {"pyarrow": "parquet", "duckdb": "duckdb"}


def dataset_writer_class(fmt: str) -> type[DatasetWriter]:
    """The ``DatasetWriter`` class registered for ``fmt``, imported now.

    An unknown name lists the valid ones; a format whose optional dependency is missing
    says which extra to install.
    """
    target = DATASET_FORMATS.get(fmt)
    if target is None:
        valid = ", ".join(sorted(DATASET_FORMATS))
        raise SinkError(f"unknown dataset format {fmt!r}; valid formats: {valid}")
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        extra = _EXTRAS.get(root)
        if extra is None:
            raise
        raise SinkError(
            f"the {fmt} format needs the {root} package: pip install 'coverage-gen[{extra}]'"
        ) from exc
    cls: type[DatasetWriter] = getattr(module, attr)
    return cls


def open_dataset(
    fmt: str, out_dir: Path, schemas: Sequence[TableSchema], *, fsync: bool = True
) -> DatasetWriter:
    """Open a streaming multi-table writer for ``schemas`` in ``out_dir``.

    Use it as a context manager; files appear only when the block ends without an
    exception. ``fsync=False`` skips the final fsync of each file (faster, less durable).

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gen.expand.schema import ColumnSchema, TableSchema
    >>> t = TableSchema("t", (ColumnSchema("id", "integer", primary_key=True),))
    >>> out = Path(tempfile.mkdtemp())
    >>> with open_dataset("csv", out, [t]) as ds:
    ...     ds.write_batch("t", {"id": [1, 2]})
    >>> (out / "t.csv").read_text()
    'id\\n1\\n2\\n'
    """
    return dataset_writer_class(fmt)(Path(out_dir), schemas, fsync=fsync)


__all__ = [
    "DATASET_FORMATS",
    "FORMATS",
    "DatasetWriter",
    "dataset_writer_class",
    "open_dataset",
    "table_writer",
    "write_table",
    "write_text_atomic",
]
