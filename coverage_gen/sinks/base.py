"""The sink contract and the atomic-write helper every sink uses.

A table format is a function ``(handle, columns, rows) -> None`` that writes one table to an
open text handle. ``atomic_write`` gives it a temporary file in the target's folder and moves
the finished file into place with ``os.replace``, so readers see either the old file or the
complete new one, never a half-written table; on any error the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TextIO

from coverage_gen.errors import SinkError

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
