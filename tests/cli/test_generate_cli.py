"""The CLI end to end: outputs, exit codes, messages, determinism, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import main
from tests.conftest import BENCHMARKS, EXAMPLES

VENDORS = EXAMPLES / "vendors" / "spec.yaml"
CLAIMS = EXAMPLES / "insurance_claims" / "spec.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _generate(runner: CliRunner, *args: str) -> object:
    return runner.invoke(main, ["generate", *args, "--time-limit", "2"], catch_exceptions=False)


@pytest.mark.parametrize("spec", [VENDORS, CLAIMS], ids=["vendors", "claims"])
def test_example_generates_and_verifies(runner: CliRunner, tmp_path: Path, spec: Path) -> None:
    result = _generate(runner, str(spec), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "coverage.json").read_text())
    csv_files = list(tmp_path.glob("*.csv"))
    assert len(csv_files) == 1 and list(tmp_path.glob("*.jsonl"))
    check = runner.invoke(main, ["verify", str(spec), str(csv_files[0])])
    assert check.exit_code == 0, check.output
    assert report["tuples"]["covered"] == report["tuples"]["required"] > 0


def test_same_seed_same_bytes(runner: CliRunner, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert _generate(runner, str(VENDORS), "-o", str(tmp_path / name), "--rows", "150").exit_code == 0
    for fmt in ("csv", "jsonl"):
        first = next((tmp_path / "a").glob(f"*.{fmt}")).read_bytes()
        second = next((tmp_path / "b").glob(f"*.{fmt}")).read_bytes()
        assert first == second


def test_rows_option_adds_valid_rows(runner: CliRunner, tmp_path: Path) -> None:
    result = _generate(runner, str(VENDORS), "-o", str(tmp_path), "--rows", "400")
    assert result.exit_code == 0, result.output
    data = next(tmp_path.glob("*.csv"))
    assert len(data.read_text().splitlines()) == 401
    check = runner.invoke(main, ["verify", str(VENDORS), str(data)])
    assert check.exit_code == 0, check.output


def test_pict_model_prints_tsv_matrix(runner: CliRunner) -> None:
    result = runner.invoke(main, ["generate", str(BENCHMARKS / "vendor.txt"), "--strength", "2", "-q", "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["Country", "Currency", "PaymentTerms", "VendorType", "TaxStatus", "Channel"]
    assert all(len(line.split("\t")) == 6 for line in lines[1:])


def test_verify_fails_on_a_broken_row(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["generate", str(BENCHMARKS / "vendor.txt"), "-q", "--time-limit", "1"])
    lines = result.stdout.splitlines()
    cells = lines[1].split("\t")
    cells[0], cells[1] = "DE", "JPY"  # euro-area country paying in yen breaks a rule
    lines[1] = "\t".join(cells)
    data = tmp_path / "m.tsv"
    data.write_text("\n".join(lines) + "\n")
    check = runner.invoke(main, ["verify", str(BENCHMARKS / "vendor.txt"), str(data)])
    assert check.exit_code == 1
    assert "IN {\"DE\", \"FR\", \"IT\", \"ES\", \"NL\"}" in check.output


def test_verify_fails_on_a_missing_tuple(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["generate", str(BENCHMARKS / "vendor.txt"), "-q", "--time-limit", "1"])
    lines = result.stdout.splitlines()
    data = tmp_path / "m.tsv"
    data.write_text("\n".join(lines[:-5]) + "\n")  # drop rows: some tuple goes missing
    check = runner.invoke(main, ["verify", str(BENCHMARKS / "vendor.txt"), str(data)])
    assert check.exit_code == 1
    assert "missing" in check.output.lower()


BAD_INPUTS = {
    "missing-file": ("does-not-exist.yaml", "", 3, "does-not-exist.yaml"),
    "broken-yaml": ("bad.yaml", "tables:\n  t:\n    fields: [\n", 3, "bad.yaml:"),
    "unknown-field": (
        "bad.yaml",
        "tables:\n  t:\n    fields:\n      a: {values: [x, y]}\n      b: {values: [p, q]}\n"
        "    constraints:\n      - IF [a] = \"x\" THEN [c] = \"p\"\n",
        3, "bad.yaml:7",
    ),
    "empty-vocabulary": (
        "bad.yaml", "tables:\n  t:\n    fields:\n      a: {values: []}\n      b: {values: [p]}\n", 3, "bad.yaml:4",
    ),
    "value-not-in-vocabulary": (
        "bad.yaml",
        "tables:\n  t:\n    fields:\n      a: {values: [x, y]}\n      b: {values: [p, q]}\n"
        "    constraints:\n      - IF [a] = \"z\" THEN [b] = \"p\"\n",
        3, "bad.yaml:7",
    ),
    "strength-too-large": (
        "bad.yaml",
        "coverage: {strength: 3}\ntables:\n  t:\n    fields:\n      a: {values: [x, y]}\n      b: {values: [p, q]}\n",
        3, "strength",
    ),
    "unsatisfiable": (
        "bad.yaml",
        "tables:\n  t:\n    fields:\n      a: {values: [x, y]}\n      b: {values: [p, q]}\n"
        "    constraints:\n      - '[a] = \"x\"'\n      - '[a] = \"y\"'\n",
        4, "bad.yaml:7",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_nonzero_with_location_and_writes_nothing(
    runner: CliRunner, tmp_path: Path, case: str
) -> None:
    name, text, code, where = BAD_INPUTS[case]
    path = tmp_path / name
    if text:
        path.write_text(text)
    out = tmp_path / "out"
    result = runner.invoke(main, ["generate", str(path), "-o", str(out)])
    assert result.exit_code == code, result.output
    assert where in result.stderr
    assert result.stderr.count("error:") >= 1 and "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_too_large_strength_is_refused_at_once_naming_what_fits(runner: CliRunner, tmp_path: Path) -> None:
    # GCC at t=4 is 1.1e9 tuples: it once ran 10 minutes and 20 GB before it was killed.
    out = tmp_path / "out"
    model = BENCHMARKS / "GCC.txt"
    result = runner.invoke(main, ["generate", str(model), "-t", "4", "-o", str(out), "--time-limit", "2"])
    assert result.exit_code == 3, result.output
    assert f"{model}: error:" in result.stderr and "[too-large]" in result.stderr
    assert "strength 3 or lower" in result.stderr and "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())
