"""Multi-table dataset writers: keys, types, atomicity, determinism, chunking."""

from __future__ import annotations

import ast
import builtins
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from coverage_gen.errors import SinkError
from coverage_gen.expand.schema import ColumnSchema, ForeignKey, TableSchema
from coverage_gen.sinks import DATASET_FORMATS, dataset_writer_class, open_dataset

VENDOR = TableSchema(
    "vendor",
    (
        ColumnSchema("vendor_id", "integer", primary_key=True),
        ColumnSchema("name", "text"),
        ColumnSchema("since", "date"),
    ),
)
INVOICE = TableSchema(
    "invoice",
    (
        ColumnSchema("invoice_id", "integer", primary_key=True),
        ColumnSchema("vendor_id", "integer"),
        ColumnSchema("amount", "decimal"),
        ColumnSchema("issued", "date"),
        ColumnSchema("note", "text", nullable=True),
    ),
    (ForeignKey("vendor_id", "vendor", "vendor_id"),),
)
PAYMENT = TableSchema(
    "payment",
    (
        ColumnSchema("payment_id", "integer", primary_key=True),
        ColumnSchema("invoice_id", "integer", nullable=True),
        ColumnSchema("method", "text"),
    ),
    (ForeignKey("invoice_id", "invoice", "invoice_id"),),
)
SCHEMAS = [VENDOR, INVOICE, PAYMENT]

VENDORS = {
    "vendor_id": np.array([1, 2, 3], dtype=np.int64),
    "name": ["Acme, Inc.", 'Say "hi"', "Zürich AG"],
    "since": ["2020-01-31", "1999-12-31", "2024-02-29"],
}
INVOICES = {
    "invoice_id": np.arange(10, 16, dtype=np.int64),
    "vendor_id": np.array([1, 1, 2, 3, 3, 3], dtype=np.int64),
    "amount": ["10.50", "0.01", "-3", "123456789.99", "7.10", "0"],
    "issued": ["2024-01-01", "2024-01-02", "2024-03-04", "2023-12-31", "2024-06-30", "2024-07-01"],
    "note": ["line\nbreak", None, "", "tab\there", "ü", None],
}
PAYMENTS = {
    "payment_id": np.array([100, 101, 102], dtype=np.int64),
    "invoice_id": [10, None, 15],
    "method": ["card", "wire", "cash"],
}

TEXT_FORMATS = ["csv", "tsv", "jsonl"]
FILE_FORMATS = [*TEXT_FORMATS, "parquet"]


def _slice(batch: dict[str, object], start: int, stop: int) -> dict[str, object]:
    return {k: v[start:stop] for k, v in batch.items()}  # type: ignore[index]


def write_all(fmt: str, out: Path, chunk: int | None = None) -> dict[str, Path]:
    with open_dataset(fmt, out, SCHEMAS) as ds:
        for table, batch in (("vendor", VENDORS), ("invoice", INVOICES), ("payment", PAYMENTS)):
            n = len(next(iter(batch.values())))  # type: ignore[arg-type]
            step = chunk or n
            for start in range(0, n, step):
                ds.write_batch(table, _slice(batch, start, start + step))
    return ds.paths


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- registry --------------------------------------------------------------------------------


def test_registry_is_lazy_strings_and_lists_formats(tmp_path: Path) -> None:
    assert all(":" in target for target in DATASET_FORMATS.values())
    with pytest.raises(SinkError, match="csv, duckdb, jsonl, parquet, sqlite, tsv"):
        open_dataset("xlsx", tmp_path, SCHEMAS)


def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_duckdb(name: str, *args: object, **kwargs: object) -> object:
        if name == "duckdb" or name.startswith("duckdb."):
            raise ModuleNotFoundError("No module named 'duckdb'", name="duckdb")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "coverage_gen.sinks.duckdb", raising=False)
    monkeypatch.delitem(sys.modules, "duckdb", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_duckdb)
    with pytest.raises(SinkError, match=r"pip install 'coverage-gen\[duckdb\]'"):
        dataset_writer_class("duckdb")


def test_only_the_duckdb_sink_imports_duckdb() -> None:
    package = Path(__file__).resolve().parents[3] / "coverage_gen"
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                if name.split(".")[0] in {"duckdb", "pyarrow"}:
                    rel = path.relative_to(package).as_posix()
                    assert rel == f"sinks/{name.split('.')[0].replace('pyarrow', 'parquet')}.py", rel


# -- text formats ----------------------------------------------------------------------------


def test_csv_files_per_table_with_header_and_nulls_empty(tmp_path: Path) -> None:
    paths = write_all("csv", tmp_path)
    assert _files(tmp_path) == ["invoice.csv", "payment.csv", "vendor.csv"]
    assert paths == {t: tmp_path / f"{t}.csv" for t in ("vendor", "invoice", "payment")}
    text = (tmp_path / "payment.csv").read_text(encoding="utf-8")
    assert text == "payment_id,invoice_id,method\n100,10,card\n101,,wire\n102,15,cash\n"
    assert (tmp_path / "vendor.csv").read_bytes().startswith(
        b'vendor_id,name,since\n1,"Acme, Inc.",2020-01-31\n2,"Say ""hi""",1999-12-31\n'
    )


def test_jsonl_typed_values_equal_json_dumps(tmp_path: Path) -> None:
    write_all("jsonl", tmp_path)
    lines = (tmp_path / "invoice.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first == {
        "invoice_id": 10, "vendor_id": 1, "amount": "10.50", "issued": "2024-01-01",
        "note": "line\nbreak",
    }
    assert json.loads(lines[1])["note"] is None
    for line in lines:  # same bytes json.dumps would give
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_chunked_write_equals_single_batch_byte_for_byte(fmt: str, tmp_path: Path) -> None:
    write_all(fmt, tmp_path / "one")
    write_all(fmt, tmp_path / "chunked", chunk=1)
    write_all(fmt, tmp_path / "pairs", chunk=2)
    for name in _files(tmp_path / "one"):
        one = (tmp_path / "one" / name).read_bytes()
        assert (tmp_path / "chunked" / name).read_bytes() == one
        assert (tmp_path / "pairs" / name).read_bytes() == one


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_same_input_gives_same_bytes(fmt: str, tmp_path: Path) -> None:
    write_all(fmt, tmp_path / "a")
    write_all(fmt, tmp_path / "b")
    names = _files(tmp_path / "a")
    assert names == _files(tmp_path / "b") and len(names) == 3
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_tables_without_batches_still_get_a_file(tmp_path: Path) -> None:
    with open_dataset("csv", tmp_path, SCHEMAS) as ds:
        ds.write_batch("vendor", VENDORS)
    assert (tmp_path / "payment.csv").read_text() == "payment_id,invoice_id,method\n"


# -- atomicity -------------------------------------------------------------------------------


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("fmt", [*FILE_FORMATS, "sqlite", "duckdb"])
def test_interrupted_run_leaves_no_file(fmt: str, tmp_path: Path) -> None:
    if fmt == "duckdb":
        pytest.importorskip("duckdb")
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    with pytest.raises(Interrupted):
        with open_dataset(fmt, tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", VENDORS)
            ds.write_batch("invoice", _slice(INVOICES, 0, 3))
            assert _files(tmp_path), "temporaries exist while writing"
            assert all(n.startswith(".") and ".tmp" in n for n in _files(tmp_path))  # duckdb: .tmp.wal
            raise Interrupted
    assert _files(tmp_path) == []


def test_interrupted_run_keeps_previous_complete_output(tmp_path: Path) -> None:
    write_all("csv", tmp_path)
    before = {n: (tmp_path / n).read_bytes() for n in _files(tmp_path)}
    with pytest.raises(Interrupted):
        with open_dataset("csv", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", _slice(VENDORS, 0, 1))
            raise Interrupted
    assert {n: (tmp_path / n).read_bytes() for n in _files(tmp_path)} == before


def test_bad_batch_aborts_everything(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match=r"missing \['since'\]"):
        with open_dataset("csv", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", {"vendor_id": [1], "name": ["x"]})
    assert _files(tmp_path) == []


def test_ragged_batch_and_unknown_table_are_errors(tmp_path: Path) -> None:
    with open_dataset("csv", tmp_path, SCHEMAS) as ds:
        with pytest.raises(SinkError, match="column 'name' has 2 values"):
            ds.write_batch("vendor", {"vendor_id": [1], "name": ["x", "y"], "since": ["2020-01-01"]})
    with open_dataset("csv", tmp_path, SCHEMAS) as ds:
        with pytest.raises(SinkError, match="unknown table 'nope'"):
            ds.write_batch("nope", {})


def test_parent_batch_after_child_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="parent table 'vendor' after its child"):
        with open_dataset("jsonl", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", _slice(VENDORS, 0, 1))
            ds.write_batch("invoice", _slice(INVOICES, 0, 2))
            ds.write_batch("vendor", _slice(VENDORS, 1, 3))
    assert _files(tmp_path) == []


def test_fk_to_unknown_table_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="unknown table 'vendor'"):
        open_dataset("csv", tmp_path, [INVOICE])
    assert _files(tmp_path) == []


# -- sqlite ----------------------------------------------------------------------------------


def test_sqlite_declares_keys_and_loads_everything(tmp_path: Path) -> None:
    paths = write_all("sqlite", tmp_path)
    assert _files(tmp_path) == ["data.sqlite"]
    assert set(paths.values()) == {tmp_path / "data.sqlite"}
    con = sqlite3.connect(tmp_path / "data.sqlite")
    fks = con.execute("PRAGMA foreign_key_list(invoice)").fetchall()
    assert [(r[2], r[3], r[4]) for r in fks] == [("vendor", "vendor_id", "vendor_id")]
    pk = [r[1] for r in con.execute("PRAGMA table_info(invoice)") if r[5]]
    assert pk == ["invoice_id"]
    notnull = {r[1]: r[3] for r in con.execute("PRAGMA table_info(invoice)")}
    assert notnull["amount"] == 1 and notnull["note"] == 0
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("SELECT amount, note FROM invoice WHERE invoice_id = 11").fetchone() == (
        "0.01", None,
    )
    assert con.execute("SELECT count(*) FROM payment WHERE invoice_id IS NULL").fetchone() == (1,)
    # The declared keys are enforced for anyone who opens the file with foreign_keys on.
    con.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        con.execute("INSERT INTO invoice VALUES (99, 42, '1.00', '2024-01-01', NULL)")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        con.execute("INSERT INTO vendor VALUES (1, 'dup', '2024-01-01')")
    con.close()


def test_sqlite_orphan_batch_raises_naming_the_table(tmp_path: Path) -> None:
    orphan = dict(INVOICES, vendor_id=np.array([1, 1, 2, 3, 3, 42], dtype=np.int64))
    with pytest.raises(SinkError, match="table 'invoice'.*FOREIGN KEY"):
        with open_dataset("sqlite", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", VENDORS)
            ds.write_batch("invoice", orphan)
    assert _files(tmp_path) == []


def test_sqlite_foreign_key_check_at_close(tmp_path: Path) -> None:
    ds = open_dataset("sqlite", tmp_path, SCHEMAS)
    ds.write_batch("vendor", VENDORS)
    ds._conn.execute("PRAGMA foreign_keys=OFF")  # type: ignore[attr-defined]  # sneak one in
    ds.write_batch("invoice", dict(INVOICES, vendor_id=np.full(6, 7, dtype=np.int64)))
    with pytest.raises(SinkError, match="foreign key check failed in table\\(s\\) 'invoice'"):
        ds.close()
    assert _files(tmp_path) == []


# -- parquet ---------------------------------------------------------------------------------


def test_parquet_schema_and_values_round_trip(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    import datetime as dt

    write_all("parquet", tmp_path, chunk=4)
    invoice = pq.read_table(tmp_path / "invoice.parquet")
    assert invoice.schema == pa.schema([
        pa.field("invoice_id", pa.int64(), nullable=False),
        pa.field("vendor_id", pa.int64(), nullable=False),
        pa.field("amount", pa.string(), nullable=False),
        pa.field("issued", pa.date32(), nullable=False),
        pa.field("note", pa.string(), nullable=True),
    ])
    assert invoice.column("invoice_id").to_pylist() == list(range(10, 16))
    assert invoice.column("amount").to_pylist() == INVOICES["amount"]
    assert invoice.column("issued").to_pylist()[0] == dt.date(2024, 1, 1)
    assert invoice.column("note").to_pylist() == INVOICES["note"]
    assert pq.ParquetFile(tmp_path / "invoice.parquet").metadata.num_row_groups == 2  # 4 + 2
    payment = pq.read_table(tmp_path / "payment.parquet")
    assert payment.column("invoice_id").to_pylist() == [10, None, 15]
    assert payment.schema.field("invoice_id").type == pa.int64()


def test_parquet_rejects_bad_dates_and_nulls_in_required_columns(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    with pytest.raises(SinkError, match="column 'since' \\(date\\)"):
        with open_dataset("parquet", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", dict(VENDORS, since=["2020-02-30", "x", "y"]))
    with pytest.raises(SinkError, match="column 'name': 1 null"):
        with open_dataset("parquet", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", dict(VENDORS, name=["a", None, "c"]))
    assert _files(tmp_path) == []


# -- duckdb ----------------------------------------------------------------------------------


def test_duckdb_declares_and_enforces_keys(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    write_all("duckdb", tmp_path, chunk=4)
    assert _files(tmp_path) == ["data.duckdb"]
    con = duckdb.connect(str(tmp_path / "data.duckdb"))
    assert con.execute("SELECT count(*) FROM invoice").fetchone() == (6,)
    assert con.execute(
        "SELECT amount, issued::VARCHAR, note FROM invoice WHERE invoice_id = 11"
    ).fetchone() == ("0.01", "2024-01-02", None)
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO invoice VALUES (99, 42, '1.00', DATE '2024-01-01', NULL)")
    con.close()


def test_duckdb_orphan_batch_raises_naming_the_table(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    with pytest.raises(SinkError, match="table 'invoice'.*foreign key"):
        with open_dataset("duckdb", tmp_path, SCHEMAS) as ds:
            ds.write_batch("vendor", VENDORS)
            ds.write_batch("invoice", dict(INVOICES, vendor_id=np.full(6, 9, dtype=np.int64)))
    assert _files(tmp_path) == []
