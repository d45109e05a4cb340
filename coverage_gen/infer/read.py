"""CSV samples → ``SampleTable``: encoding, delimiter and missing markers sniffed and reported.

Why our own reader rather than pandas: a sample is small, every cell must stay text exactly as
written (``0012``, ``NO``), and every problem must name the file and line it came from.

Diagnostic codes raised here: ``file-not-found``, ``empty-sample``, ``ragged-row``.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from coverage_gen.errors import Location, spec_error

__all__ = ["MISSING_MARKERS", "SampleTable", "read_sample", "sample_from_rows"]

# Spellings that mean "no value" in the samples we see. ``None`` is deliberately absent: it is a
# real category in the insurance sample (authorities_contacted = None).
MISSING_MARKERS = frozenset({"", "?", "NA", "N/A", "n/a", "null", "NULL", "Null"})
_DELIMITERS = ",;\t|"
# Tried in order when a file is not UTF-8: cp1252 is what spreadsheet exports usually are, and
# latin-1 decodes any byte sequence, so it is the last resort that always succeeds.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True, slots=True)
class SampleTable:
    """One sample file: unique column names, text rows, and what reading it found out.

    ``lines[i]`` is the 1-based line on which data row ``i`` started (for diagnostics).
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    source: str = "<rows>"
    encoding: str = "utf-8"
    delimiter: str = ","
    lines: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    missing: dict[str, Counter[str]] = field(default_factory=dict)

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def read_sample(path: str | Path) -> SampleTable:
    """Read one CSV sample; see the module docstring for what is sniffed.

    Raises
    ------
    SpecError
        The file is missing, empty, has a header only, or a row has the wrong number of cells.
    """
    path = Path(path)
    where = Location(str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise spec_error("file-not-found", where, f"cannot read sample {path}: {exc.strerror}") from exc
    text, encoding, notes = _decode(data)
    if not text.strip():
        raise spec_error("empty-sample", Location(str(path), 1), "the sample file is empty")
    delimiter = _sniff_delimiter(text)
    header, rows, lines = _parse(text, delimiter, str(path))
    columns, renamed = _unique_names(header)
    table = SampleTable(
        name=_table_name(path),
        columns=columns,
        rows=rows,
        source=str(path),
        encoding=encoding,
        delimiter=delimiter,
        lines=lines,
        notes=tuple(notes + renamed),
        missing=_missing_counts(columns, rows),
    )
    return table


def sample_from_rows(
    columns: list[str] | tuple[str, ...], rows: list[list[str]] | list[tuple[str, ...]], *, name: str = "sample"
) -> SampleTable:
    """A ``SampleTable`` from rows already in memory (names de-duplicated as for files)."""
    unique, renamed = _unique_names(list(columns))
    text_rows = tuple(tuple(str(c) for c in row) for row in rows)
    return SampleTable(
        name=name,
        columns=unique,
        rows=text_rows,
        lines=tuple(range(2, len(text_rows) + 2)),
        notes=tuple(renamed),
        missing=_missing_counts(unique, text_rows),
    )


# --------------------------------------------------------------------------- decoding
def _decode(data: bytes) -> tuple[str, str, list[str]]:
    """Text, the encoding used, and notes (BOM seen, fallback taken)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding, [f"byte-order mark found: read as {encoding}"]
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        bad = exc.start
    for encoding in _FALLBACK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        note = f"not valid UTF-8 (byte {bad}); decoded as {encoding} instead"
        return text, encoding, [note]
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _sniff_delimiter(text: str) -> str:
    """The delimiter of the first lines; a comma when the sniffer cannot tell (one column)."""
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _parse(text: str, delimiter: str, source: str) -> tuple[list[str], tuple[tuple[str, ...], ...], tuple[int, ...]]:
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    header = next(reader)
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    start = reader.line_num + 1
    for row in reader:
        if not any(cell.strip() for cell in row) and len(row) <= 1:
            start = reader.line_num + 1
            continue  # blank line
        if len(row) != len(header):
            raise spec_error(
                "ragged-row",
                Location(source, start),
                f"row has {len(row)} cells but the header has {len(header)}",
            )
        rows.append(tuple(row))
        lines.append(start)
        start = reader.line_num + 1
    if not rows:
        raise spec_error(
            "empty-sample",
            Location(source, 2),
            "the sample has a header but no data rows; infer needs at least one row",
        )
    return header, tuple(rows), tuple(lines)


# --------------------------------------------------------------------------- names and markers
_BAD_NAME_CHARS = str.maketrans({c: "_" for c in "[]{}\"\n\r\t"})


def _unique_names(header: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Names a spec accepts, distinct; duplicates get ``_2``, ``_3`` (and a note each).

    De-duplicating (rather than failing) keeps every column of an export that repeats a
    heading; the note tells the user which column was renamed.
    """
    names: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header, start=1):
        name = raw.strip().translate(_BAD_NAME_CHARS) or f"column_{i}"
        if name != raw:
            notes.append(f"column {i} '{raw}' renamed to '{name}' (spec field names must be plain)")
        base, k = name, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        if name != base:
            notes.append(f"column {i} '{raw}' repeats an earlier name; renamed to '{name}'")
        seen.add(name)
        names.append(name)
    return tuple(names), notes


def _missing_counts(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for i, name in enumerate(columns):
        found = Counter(row[i] for row in rows if row[i].strip() in MISSING_MARKERS)
        if found:
            counts[name] = found
    return counts


def _table_name(path: Path) -> str:
    """The file stem as a spec table name (no characters that break a spec name)."""
    return path.stem.translate(_BAD_NAME_CHARS).replace(" ", "_") or "sample"
