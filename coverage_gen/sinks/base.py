"""The sink contract and the atomic-write helper every sink uses.

A table format is a function ``(handle, columns, rows) -> None`` that writes one table to an
open text handle. ``atomic_write`` gives it a temporary file in the target's folder and moves
the finished file into place with ``os.replace``, so readers see either the old file or the
complete new one, never a half-written table; on any error the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Protocol, TextIO

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import TableSchema

Row = Sequence[str]


class TableWriter(Protocol):
    """Writes ``columns`` then ``rows`` to an open text handle (newline translation off)."""

    def __call__(self, handle: TextIO, columns: Sequence[str], rows: Sequence[Row]) -> None: ...


def _current_umask() -> int:
    # os.umask can only be read by setting it; done once at import, before any threads write.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()  # what open() would have given a new file


def atomic_write(path: Path, write: Callable[[TextIO], None]) -> Path:
    """Call ``write`` on a temp file next to ``path``, then move it over ``path``.

    Errors raised by ``write`` propagate unchanged (after cleanup); OS errors become
    ``SinkError`` naming the path.
    """
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise SinkError(f"cannot write {path}: {exc}") from exc
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""

    def write(handle: TextIO) -> None:
        handle.write(text)

    return atomic_write(Path(path), write)


def check_shape(columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Every row must have one value per column; a ragged table is a caller bug."""
    width = len(columns)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise SinkError(f"row {i + 1} has {len(row)} values for {width} columns")


# --------------------------------------------------------------------------------------------
# Multi-table datasets: one writer streams many batches into one file per table (or one
# database file), all of them temporary until ``close`` succeeds.
# --------------------------------------------------------------------------------------------

ColumnValues = Sequence[object]
"""One column of a batch: ``list[str | None]``, or an ``int64`` numpy array for integers."""


class DatasetWriter(ABC):
    """Streams ``(table, {column: values})`` batches for a fixed set of tables.

    Every output file is written under a temporary name in ``out_dir`` (``.<name>.*.tmp``)
    and moved into place with ``os.replace`` only when :meth:`close` succeeds; any error, or
    an exception inside the ``with`` block, removes the temporaries instead, so an interrupted
    run leaves no file that looks complete. Batches must come parents first: a batch for a
    table after a batch of one of its children is a ``SinkError``.

    Subclasses implement ``_open`` (create the temporaries), ``_write`` (one validated batch,
    columns in schema order), ``_finish`` (flush, run final checks) and ``_discard`` (drop
    handles after a failure, never raising).
    """

    format_name: ClassVar[str] = ""

    def __init__(
        self, out_dir: Path, schemas: Sequence[TableSchema], *, fsync: bool = True
    ) -> None:
        self.out_dir = Path(out_dir)
        self.schemas: dict[str, TableSchema] = _check_schemas(schemas)
        self.rows_written: dict[str, int] = {name: 0 for name in self.schemas}
        self.paths: dict[str, Path] = {}  # table -> final path, filled by close()
        self._fsync = fsync
        self._children: dict[str, set[str]] = {name: set() for name in self.schemas}
        for schema in self.schemas.values():
            for fk in schema.foreign_keys:
                self._children[fk.parent_table].add(schema.name)
        self._started: set[str] = set()
        self._temps: list[tuple[Path, Path]] = []  # (temporary, final)
        self._closed = False
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._open()
        except BaseException as exc:
            self._abort()
            if isinstance(exc, OSError):
                raise SinkError(f"cannot write to {self.out_dir}: {exc}") from exc
            raise

    # -- public API ----------------------------------------------------------------------

    def write_batch(self, table: str, columns: Mapping[str, ColumnValues]) -> None:
        """Append one batch of rows to ``table``; columns may come in any order."""
        if self._closed:
            raise SinkError(f"{self.format_name} dataset in {self.out_dir} is already closed")
        schema = self.schemas.get(table)
        if schema is None:
            raise SinkError(f"unknown table {table!r}; tables: {', '.join(self.schemas)}")
        late = sorted(self._children[table] & self._started)
        if late:
            raise SinkError(
                f"batch for parent table {table!r} after its child table(s) {late}: "
                "write every batch of a parent before its children"
            )
        ordered, n = _ordered_columns(schema, columns)
        self._started.add(table)
        try:
            if n:
                self._write(schema, ordered, n)
        except BaseException as exc:
            self._abort()
            if isinstance(exc, OSError):
                raise SinkError(f"cannot write table {table!r}: {exc}") from exc
            raise
        self.rows_written[table] += n

    def close(self) -> dict[str, Path]:
        """Finish every file and move it into place; returns ``{table: path}``."""
        if self._closed:
            return self.paths
        try:
            self._finish()
            for tmp, final in self._temps:
                if self._fsync:
                    _fsync_path(tmp)
                os.chmod(tmp, _FILE_MODE)
            for tmp, final in self._temps:
                os.replace(tmp, final)
        except BaseException as exc:
            self._abort()
            if isinstance(exc, OSError):
                raise SinkError(f"cannot write to {self.out_dir}: {exc}") from exc
            raise
        self._closed = True
        self.paths = self._final_paths()
        return self.paths

    def abort(self) -> None:
        """Drop everything written so far; no output file is created."""
        self._abort()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    # -- for subclasses ------------------------------------------------------------------

    def _temp_for(self, final_name: str) -> Path:
        """A new empty temporary file in ``out_dir`` that becomes ``final_name`` on close."""
        fd, name = tempfile.mkstemp(dir=self.out_dir, prefix=f".{final_name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        self._temps.append((tmp, self.out_dir / final_name))
        return tmp

    def _final_paths(self) -> dict[str, Path]:
        """``{table: final path}``; one file per table unless a subclass says otherwise."""
        finals = [final for _, final in self._temps]
        if len(finals) == 1 and len(self.schemas) != 1:
            return {name: finals[0] for name in self.schemas}
        return dict(zip(self.schemas, finals))

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _write(self, schema: TableSchema, columns: list[ColumnValues], n: int) -> None: ...

    @abstractmethod
    def _finish(self) -> None: ...

    @abstractmethod
    def _discard(self) -> None: ...

    def _abort(self) -> None:
        self._closed = True
        try:
            self._discard()
        finally:
            for tmp, _ in self._temps:
                tmp.unlink(missing_ok=True)
            self._temps = []


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_schemas(schemas: Sequence[TableSchema]) -> dict[str, TableSchema]:
    by_name: dict[str, TableSchema] = {}
    for schema in schemas:
        if schema.name in by_name:
            raise SinkError(f"table {schema.name!r} is declared twice")
        names = [c.name for c in schema.columns]
        if not names:
            raise SinkError(f"table {schema.name!r} has no columns")
        if len(set(names)) != len(names):
            raise SinkError(f"table {schema.name!r} has duplicate column names: {names}")
        by_name[schema.name] = schema
    for schema in schemas:
        for fk in schema.foreign_keys:
            parent = by_name.get(fk.parent_table)
            if parent is None:
                raise SinkError(
                    f"table {schema.name!r}: foreign key {fk.column!r} references unknown "
                    f"table {fk.parent_table!r}"
                )
            if fk.column not in schema.column_names:
                raise SinkError(f"table {schema.name!r}: foreign key column {fk.column!r} missing")
            if fk.parent_column not in parent.column_names:
                raise SinkError(
                    f"table {schema.name!r}: foreign key {fk.column!r} references missing "
                    f"column {fk.parent_table}.{fk.parent_column}"
                )
    return by_name


def _ordered_columns(
    schema: TableSchema, columns: Mapping[str, ColumnValues]
) -> tuple[list[ColumnValues], int]:
    names = schema.column_names
    if len(columns) != len(names) or any(name not in columns for name in names):
        missing = [n for n in names if n not in columns]
        extra = [n for n in columns if n not in names]
        raise SinkError(
            f"table {schema.name!r}: batch columns do not match the schema "
            f"(missing {missing}, unexpected {extra})"
        )
    ordered = [columns[name] for name in names]
    n = len(ordered[0])
    for name, values in zip(names, ordered):
        if len(values) != n:
            raise SinkError(
                f"table {schema.name!r}: column {name!r} has {len(values)} values, "
                f"column {names[0]!r} has {n}"
            )
    return ordered, n


def as_list(values: ColumnValues) -> list[object]:
    """A column as a Python list (``ndarray.tolist`` gives Python ints, fast)."""
    tolist = getattr(values, "tolist", None)
    if tolist is not None:
        result: list[object] = tolist()
        return result
    return values if isinstance(values, list) else list(values)


class TextFilesDataset(DatasetWriter):
    """A text file per table (csv, tsv, jsonl): subclasses fill ``self._handles`` in
    ``_open``; closing and discarding the handles is shared here."""

    _handles: dict[str, TextIO]

    def _finish(self) -> None:
        for handle in self._handles.values():
            handle.close()

    def _discard(self) -> None:
        for handle in getattr(self, "_handles", {}).values():
            try:
                handle.close()
            except OSError:
                pass
