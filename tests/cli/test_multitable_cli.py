"""Multi-table examples through the CLI: every FK, key, cross-table rule and the
cross-table pairwise coverage, all checked here over the written files."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _read(out: Path, table: str) -> list[dict[str, str]]:
    """A table's rows as text, from the CSV file or, when the run wrote one, the SQLite
    database (NULL as empty text, as in CSV), so every check below runs on both."""
    database = out / "data.sqlite"
    if database.exists():
        with sqlite3.connect(database) as db:
            cursor = db.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            names = [c[0] for c in cursor.description]
            return [{n: "" if v is None else str(v) for n, v in zip(names, row)} for row in cursor]
    with open(out / f"{table}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _run(spec: Path, out: Path, *formats: str) -> None:
    args = ["generate", str(spec), "-o", str(out), "-q"] + (["--format", ",".join(formats)] if formats else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def _by_key(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    index = {r[key]: r for r in rows}
    assert len(index) == len(rows), f"duplicate {key}"
    return index


@pytest.fixture(scope="module", params=["csv", "sqlite"])
def ap(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The accounts-payable example, read back from CSV files or from the SQLite database."""
    out = tmp_path_factory.mktemp(f"ap-{request.param}")
    _run(EXAMPLES / "accounts_payable" / "spec.yaml", out, *(("jsonl", "sqlite") if request.param == "sqlite" else ()))
    return out


def test_ap_sqlite_declares_and_enforces_keys(tmp_path: Path) -> None:
    _run(EXAMPLES / "accounts_payable" / "spec.yaml", tmp_path, "sqlite")
    with sqlite3.connect(tmp_path / "data.sqlite") as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        refs = {(t, row[3], row[2]) for t in ("invoice", "payment")
                for row in db.execute(f'PRAGMA foreign_key_list("{t}")')}
        assert ("invoice", "vendor_id", "vendor") in refs and ("payment", "invoice_id", "invoice") in refs
        db.execute("PRAGMA foreign_keys = ON")
        columns = [r[1] for r in db.execute('PRAGMA table_info("payment")')]
        row = list(db.execute("SELECT * FROM payment LIMIT 1").fetchone())
        row[columns.index("payment_id")] = 10**9  # a fresh key: only the reference is wrong
        insert = f'INSERT INTO payment VALUES ({",".join("?" * len(columns))})'
        db.execute(insert, row)  # a valid copy is accepted...
        row[columns.index("payment_id")] += 1
        row[columns.index("invoice_id")] = 999_999_999
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.execute(insert, row)  # ...an orphan is refused by the declared foreign key


def test_ap_keys_and_foreign_keys(ap: Path) -> None:
    vendors = _by_key(_read(ap, "vendor"), "vendor_id")
    invoices = _by_key(_read(ap, "invoice"), "invoice_id")
    payments = _by_key(_read(ap, "payment"), "payment_id")
    assert len(vendors) == 60
    assert all(i["vendor_id"] in vendors for i in invoices.values())
    assert all(p["invoice_id"] in invoices for p in payments.values())
    # the JSONL copy holds the same rows
    lines = (ap / "payment.jsonl").read_text(encoding="utf-8").splitlines()  # written in both runs
    assert len(lines) == len(payments)
    assert json.loads(lines[0])["payment_id"] == 1


def test_ap_cross_table_rules(ap: Path) -> None:
    days = {"Immediate": 0, "Net 15": 15, "Net 30": 30, "Net 60": 60}
    vendors = _by_key(_read(ap, "vendor"), "vendor_id")
    invoices = _by_key(_read(ap, "invoice"), "invoice_id")
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for inv in invoices.values():
        vendor = vendors[inv["vendor_id"]]
        assert inv["currency"] == vendor["currency"]
        due = dt.date.fromisoformat(inv["issued"]) + dt.timedelta(days=days[vendor["payment_terms"]])
        assert inv["due_date"] == due.isoformat()
        assert not (inv["channel"] == "Paper" and inv["amount_band"] == "large")
    for pay in _read(ap, "payment"):
        inv = invoices[pay["invoice_id"]]
        paid[pay["invoice_id"]] += Decimal(pay["amount"])
        assert Decimal(pay["amount"]) >= 0
        due = dt.date.fromisoformat(inv["due_date"]) - dt.timedelta(days=2)
        assert pay["paid_on"] == due.isoformat()
        assert Decimal(pay["fee"]) == (Decimal(pay["amount"]) * Decimal("0.01") + Decimal("0.25")).quantize(Decimal("0.01"))
    for inv_id, total in paid.items():
        assert total <= Decimal(invoices[inv_id]["amount"])


def test_ap_cross_table_pairs_covered(ap: Path) -> None:
    vendors = _by_key(_read(ap, "vendor"), "vendor_id")
    invoices = _by_key(_read(ap, "invoice"), "invoice_id")
    fields = [("vendor", "country"), ("vendor", "payment_terms"), ("invoice", "channel"),
              ("invoice", "amount_band"), ("payment", "method")]
    seen = set()
    for pay in _read(ap, "payment"):
        inv = invoices[pay["invoice_id"]]
        joined = {"payment": pay, "invoice": inv, "vendor": vendors[inv["vendor_id"]]}
        values = [joined[t][f] for t, f in fields]
        for (i, a), (j, b) in itertools.combinations(enumerate(values), 2):
            seen.add((i, a, j, b))
    vocab = [["US", "DE", "GB", "JP", "BR"], ["Immediate", "Net 15", "Net 30", "Net 60"],
             ["EDI", "Portal", "Email", "Paper"], ["small", "medium", "large"],
             ["ACH", "Wire", "Check", "Card"]]
    required = {
        (i, a, j, b)
        for i, j in itertools.combinations(range(5), 2)
        for a in vocab[i] for b in vocab[j]
    } - {(2, "Paper", 3, "large")}
    assert required <= seen, sorted(required - seen)[:5]
    report = json.loads((ap / "coverage.json").read_text(encoding="utf-8"))
    assert report["tuples"]["required"] == len(required)
    assert report["chain"] == ["vendor", "invoice", "payment"]


def test_claims_example(tmp_path: Path) -> None:
    _run(EXAMPLES / "claims_multi" / "spec.yaml", tmp_path)
    policies = _by_key(_read(tmp_path, "policy"), "policy_id")
    claims = _read(tmp_path, "claim")
    _by_key(claims, "claim_id")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    pairs = set()
    for c in claims:
        p = policies[c["policy_id"]]
        assert c["product"] == p["product"]
        start = dt.date.fromisoformat(p["start_date"])
        assert c["reported"] == (start + dt.timedelta(days=30)).isoformat()
        assert Decimal(c["reserve"]) == Decimal(p["premium"]) * 2
        totals[c["policy_id"]] += Decimal(c["amount"])
        values = [p["product"], p["region"], c["claim_type"], c["channel"]]
        pairs |= {(i, values[i], j, values[j]) for i, j in itertools.combinations(range(4), 2)}
    for pid, total in totals.items():
        assert total <= Decimal(policies[pid]["premium"]) * 10
    report = json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))
    assert len(pairs) >= report["tuples"]["required"]
    assert ("Medical", "Web") not in {(c["claim_type"], c["channel"]) for c in claims}


def test_multitable_spec_error_exit_code(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "tables:\n"
        "  a:\n"
        "    fields:\n"
        "      id: {sequence: {}, key: true}\n"
        "      b_id: {ref: b.id}\n"
        "  b:\n"
        "    fields:\n"
        "      id: {sequence: {}, key: true}\n"
        "      a_id: {ref: a.id}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "cycle" in result.output and "bad.yaml:" in result.output


def test_table_past_the_engine_limit_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coverage_gen.engine import tuples

    monkeypatch.setattr(tuples, "MAX_TUPLES", 10)  # every table of the example is larger
    spec = EXAMPLES / "accounts_payable" / "spec.yaml"
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(out), "-q"])
    assert result.exit_code == 3, result.output
    assert f"{spec}:" in result.stderr and "[too-large]" in result.stderr and "table '" in result.stderr
    assert not out.exists() or not any(out.iterdir())
