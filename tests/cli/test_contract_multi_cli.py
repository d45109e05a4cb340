"""Every example writes a data contract that ``coverage-gen verify OUT_DIR`` accepts, and the
multi-table contract (issue 7): keys, references, per-table rules, coverage across tables."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VERIFY_FAILED, main
from tests.conftest import EXAMPLES

ALL_EXAMPLES = sorted(EXAMPLES.glob("*/spec.yaml"))  # future examples are covered too
AP = EXAMPLES / "accounts_payable" / "spec.yaml"
CONTRACT_FILES = ("contract.json", "contract.md", "report.html", "contract.odcs.yaml")


def _generate(spec: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(out), "--time-limit", "2", "-q", *extra],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output


def _verify(out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", str(out)])
    return result.exit_code, result.output


def _edit_csv(path: Path, edit: object) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    edit(rows)  # type: ignore[operator]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.fixture(scope="module")
def ap_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ap") / "out"
    _generate(AP, out, "--strict")
    return out


@pytest.fixture
def ap_copy(ap_out: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(ap_out, tmp_path / "out"))


@pytest.mark.parametrize("spec", ALL_EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_writes_a_contract_that_verifies(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _generate(spec, out, "--strict")  # every example cites its sources
    for name in CONTRACT_FILES:
        assert (out / name).is_file(), name
    code, output = _verify(out)
    assert code == EXIT_OK, output
    assert "verify contract: OK" in output


def test_multi_table_contract_content(ap_out: Path) -> None:
    c = json.loads((ap_out / "contract.json").read_text())
    assert c["multi_table"] and c["identity"]["tables"] == ["vendor", "invoice", "payment"]
    rows = {o["file"]: o["rows"] for o in c["outputs"]}
    assert rows["vendor.csv"] == 60 == c["tables"]["vendor"]["rows"]
    assert {o["table"] for o in c["outputs"] if o.get("table")} == {"vendor", "invoice", "payment"}
    across = c["coverage"]["across"]
    assert across["strength"] == 2 and across["feasible"] == across["covered"] > 0 and across["missing"] == 0
    assert across["feasible"] == across["engine"]["feasible_tuples"]
    assert across["chain"] == ["vendor", "invoice", "payment"]
    for name, table in c["tables"].items():
        cert = table["coverage"]
        assert cert["checker"]["missing"] == 0 and cert["checker"]["covered"] == cert["feasible_tuples"], name
        assert all(r["violations"] == 0 and r["source"] for r in table["rules"]), name
    fks = c["tables"]["payment"]["keys"]["foreign"]
    assert fks == [{"column": "invoice_id", "rows": c["tables"]["payment"]["rows"], "ok": True,
                    "parent": "invoice", "parent_key": "invoice_id", "unresolved": 0, "nulls": 0}]  # fmt: skip
    prov = {(p["table"], p["field"]): p for p in c["provenance"]}
    assert "Poisson(mean 3)" in prov[("invoice", "vendor_id")]["generated"]
    assert prov[("invoice", "vendor_id")]["source"] == "ap_expert"
    assert prov[("invoice", "currency")]["shape"] == "copy of vendor_id.currency"
    assert prov[("payment", "amount")]["shape"].startswith("split of invoice_id.amount")
    assert prov[("invoice", "due_date")]["shape"] == "derived: issued + days(vendor_id.payment_terms)"
    assert c["leakage"]["ok"] is True and set(c["leakage"]["tables"]) == {"vendor", "invoice", "payment"}
    md = (ap_out / "contract.md").read_text()
    assert "## Coverage certificate across tables" in md and "## Table payment" in md
    odcs = (ap_out / "contract.odcs.yaml").read_text()
    assert "relationships:" in odcs and "to: vendor.vendor_id" in odcs
    assert "Coverage certificate across tables" in (ap_out / "report.html").read_text()


def test_child_fk_to_missing_parent_fails_naming_table_and_column(ap_copy: Path) -> None:
    def edit(rows: list[list[str]]) -> None:
        rows[3][rows[0].index("vendor_id")] = "V-99999"

    _edit_csv(ap_copy / "invoice.csv", edit)
    code, output = _verify(ap_copy)
    assert code == EXIT_VERIFY_FAILED, output
    assert "FAIL references: invoice.csv: invoice.vendor_id: 1 value(s) reference no vendor.vendor_id" in output
    assert "'V-99999' in row 3" in output


def test_value_breaking_a_table_rule_fails_naming_the_rule(ap_copy: Path) -> None:
    def edit(rows: list[list[str]]) -> None:
        header = rows[0]
        row = next(r for r in rows[1:] if r[header.index("channel")] == "Paper")
        row[header.index("amount_band")] = "large"

    _edit_csv(ap_copy / "invoice.csv", edit)
    code, output = _verify(ap_copy)
    assert code == EXIT_VERIFY_FAILED, output
    assert "FAIL rules: invoice.csv: rule 1 'IF [channel] = \"Paper\" THEN [amount_band] <> \"large\"'" in output
    assert "FAIL identity: file invoice.csv: sha256" in output


def test_dropped_linked_row_loses_coverage_across(ap_copy: Path) -> None:
    """Re-hashed so only the content checks object: the joined records miss tuples."""

    def edit(rows: list[list[str]]) -> None:
        del rows[3:]  # two payments left: far too few joined records for the across pairs

    _edit_csv(ap_copy / "payment.csv", edit)
    contract = json.loads((ap_copy / "contract.json").read_text())
    from coverage_gen.verify.contract import count_rows, sha256_file

    for entry in contract["outputs"]:
        if entry["file"] == "payment.csv":
            entry["sha256"], entry["rows"] = sha256_file(ap_copy / "payment.csv"), count_rows(ap_copy / "payment.csv")
    (ap_copy / "contract.json").write_text(json.dumps(contract))
    code, output = _verify(ap_copy)
    assert code == EXIT_VERIFY_FAILED, output
    assert "FAIL across: csv joined vendor -> invoice -> payment:" in output and "not covered" in output


def test_strict_refuses_an_uncited_reference(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(AP.read_text().replace("per_parent: {poisson: 3}, source: ap_expert}", "per_parent: {poisson: 3}}"))
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "out"), "--strict",
                                       "--time-limit", "1"])  # fmt: skip
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "field 'vendor_id' (cardinality) cites no source" in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_source_in_a_multi_table_spec_is_bad_input(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(AP.read_text().replace("method:     {values: [ACH, Wire, Check, Card], source: ap_expert}",
                                           "method:     {values: [ACH, Wire, Check, Card], source: ap_exprt}"))  # fmt: skip
    result = CliRunner().invoke(main, ["generate", str(spec), "--time-limit", "1"])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "did you mean 'ap_expert'?" in result.output


def test_streamed_run_one_format_verifies(tmp_path: Path) -> None:
    """Without --strict the tables are streamed to disk; the contract is measured on them."""
    out = tmp_path / "out"
    _generate(EXAMPLES / "claims_multi" / "spec.yaml", out, "--format", "csv")
    assert not list(out.glob("*.jsonl"))
    code, output = _verify(out)
    assert code == EXIT_OK and "ok   across: 1 check(s)" in output, output
