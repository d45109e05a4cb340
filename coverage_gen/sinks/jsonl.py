"""JSON Lines: one object per record, keys in column order, every value a string."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from coverage_gen.errors import SinkError
from coverage_gen.sinks.base import Row, check_shape

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
