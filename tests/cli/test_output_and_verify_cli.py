"""Output options fail before any work; verify picks the right table or says why not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import main
from tests.conftest import EXAMPLES

VENDORS = EXAMPLES / "vendors" / "spec.yaml"
AP = EXAMPLES / "accounts_payable" / "spec.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_unknown_format_is_a_usage_error_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, ["generate", str(VENDORS), "-o", str(out), "--format", "csv,xml"])
    assert result.exit_code == 2
    assert "unknown output format 'xml'" in result.stderr and "parquet" in result.stderr
    assert not out.exists()


def test_output_folder_below_a_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = runner.invoke(main, ["generate", str(VENDORS), "-o", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "is not a folder" in result.stderr and "Traceback" not in result.output


def test_single_table_spec_writes_sqlite_and_parquet(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, ["generate", str(VENDORS), "-o", str(out), "--format", "csv,sqlite,parquet",
                                  "--time-limit", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert {"vendor.csv", "data.sqlite", "vendor.parquet", "contract.json"} <= {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "staging folder left behind"
    check = runner.invoke(main, ["verify", str(out)])
    assert check.exit_code == 0, check.output


def test_verify_picks_the_table_named_by_the_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "ap"
    assert runner.invoke(main, ["generate", str(AP), "-o", str(out), "--time-limit", "1", "-q"]).exit_code == 0
    ok = runner.invoke(main, ["verify", str(AP), str(out / "invoice.csv")])
    assert ok.exit_code == 0, ok.output
    renamed = tmp_path / "data.csv"
    shutil.copy(out / "invoice.csv", renamed)
    bad = runner.invoke(main, ["verify", str(AP), str(renamed)])
    assert bad.exit_code == 3
    assert "tables: vendor, invoice, payment" in bad.stderr


def test_verify_folder_without_contract_is_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["verify", str(tmp_path)])
    assert result.exit_code == 3
    assert "contract.json" in result.stderr
