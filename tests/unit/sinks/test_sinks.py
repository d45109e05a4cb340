"""Sinks: format registry, atomic writes, CSV quoting, JSONL round trip."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from coverage_gen.errors import SinkError
from coverage_gen.sinks import FORMATS, write_table, write_text_atomic
from coverage_gen.sinks import base as sink_base

COLUMNS = ("id", "note", "city")
ROWS = [
    ("1", 'says "hi", twice', "Zürich"),
    ("2", "line one\nline two", "São Paulo"),
    ("3", "tab\there", ""),
]


def test_csv_quotes_commas_quotes_newlines(tmp_path: Path) -> None:
    path = write_table("csv", tmp_path / "out.csv", COLUMNS, ROWS)
    data = path.read_bytes()
    assert b"\r\n" not in data
    assert data.startswith(b"id,note,city\n1,\"says \"\"hi\"\", twice\",Z\xc3\xbcrich\n")
    with path.open(newline="", encoding="utf-8") as handle:
        back = list(csv.reader(handle))
    assert back == [list(COLUMNS), *map(list, ROWS)]


def test_tsv_round_trip(tmp_path: Path) -> None:
    path = write_table("tsv", tmp_path / "out.tsv", COLUMNS, ROWS)
    with path.open(newline="", encoding="utf-8") as handle:
        back = list(csv.reader(handle, delimiter="\t"))
    assert back == [list(COLUMNS), *map(list, ROWS)]
    assert path.read_text(encoding="utf-8").splitlines()[0] == "id\tnote\tcity"


def test_jsonl_round_trip_keys_in_column_order(tmp_path: Path) -> None:
    path = write_table("jsonl", tmp_path / "out.jsonl", COLUMNS, ROWS)
    text = path.read_text(encoding="utf-8")
    assert "Zürich" in text  # ensure_ascii=False
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(ROWS) + 1
    objects = [json.loads(line) for line in lines[:-1]]
    assert [list(o) for o in objects] == [list(COLUMNS)] * len(ROWS)
    assert [tuple(o.values()) for o in objects] == ROWS
    assert lines[0].startswith('{"id":"1","note":')


def test_unknown_format_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="csv, jsonl, tsv"):
        write_table("xlsx", tmp_path / "x.xlsx", COLUMNS, ROWS)
    assert set(FORMATS) >= {"csv", "jsonl", "tsv"}


def test_failing_write_leaves_no_file_and_no_temp(tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    def rows():
        yield ("1", "a", "b")
        raise Boom

    class ExplodingRows(list):
        def __iter__(self):
            return rows()

    target = tmp_path / "out.csv"
    with pytest.raises(Boom):
        write_table("csv", target, COLUMNS, ExplodingRows([("1", "a", "b")]))
    assert list(tmp_path.iterdir()) == []


def test_failing_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(SinkError):
        write_table("csv", target, COLUMNS, [("only", "two")])  # ragged row
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_missing_folder_is_sink_error(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="cannot write"):
        write_table("csv", tmp_path / "no" / "out.csv", COLUMNS, ROWS)


def test_replace_failure_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(src: object, dst: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(sink_base.os, "replace", fail)
    with pytest.raises(SinkError, match="read-only"):
        write_text_atomic(tmp_path / "coverage.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_write_text_atomic_and_permissions(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "coverage.json", '{"a": "ü"}\n')
    assert path.read_bytes() == '{"a": "ü"}\n'.encode("utf-8")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_output_is_byte_identical_between_runs(tmp_path: Path) -> None:
    a = write_table("csv", tmp_path / "a.csv", COLUMNS, ROWS).read_bytes()
    b = write_table("csv", tmp_path / "b.csv", COLUMNS, ROWS).read_bytes()
    assert a == b


def test_empty_table(tmp_path: Path) -> None:
    assert write_table("csv", tmp_path / "e.csv", COLUMNS, []).read_text() == "id,note,city\n"
    assert write_table("jsonl", tmp_path / "e.jsonl", COLUMNS, []).read_text() == ""


def test_writers_work_on_any_text_handle() -> None:
    from coverage_gen.sinks.csv import write_csv

    handle = io.StringIO(newline="")
    write_csv(handle, ["a"], [["x,y"]])
    assert handle.getvalue() == 'a\n"x,y"\n'
