"""``coverage-gen verify OUT_DIR``, ``generate --strict`` on citations, and report.html in a
real browser."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VERIFY_FAILED, main
from tests.conftest import EXAMPLES

VENDORS = EXAMPLES / "vendors" / "spec.yaml"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "out"
    result = CliRunner().invoke(main, ["generate", str(VENDORS), "-o", str(out), "--time-limit", "2", "--strict"],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_generate_reports_the_contract_files(generated: Path) -> None:
    names = {p.name for p in generated.iterdir()}
    assert {"contract.json", "contract.md", "contract.odcs.yaml", "report.html"} <= names


def test_verify_folder_passes(generated: Path) -> None:
    result = CliRunner().invoke(main, ["verify", str(generated)])
    assert result.exit_code == EXIT_OK, result.output
    assert "verify contract: OK" in result.output


def test_verify_folder_fails_on_an_edited_value(generated: Path, tmp_path: Path) -> None:
    out = Path(shutil.copytree(generated, tmp_path / "out"))
    data = out / "vendor.csv"
    with data.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    row = next(r for r in rows[1:] if r[header.index("bank_scheme")] == "ACH")
    row[header.index("bank_scheme")] = "IBAN"  # a US vendor on IBAN breaks the SEPA rule
    with data.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == EXIT_VERIFY_FAILED
    assert "FAIL identity: file vendor.csv: sha256" in result.output
    assert 'FAIL rules: vendor.csv: rule 7 \'IF [country] IN {"GB"' in result.output


def test_verify_model_data_still_works(generated: Path) -> None:
    result = CliRunner().invoke(main, ["verify", str(VENDORS), str(generated / "vendor.csv")])
    assert result.exit_code == EXIT_OK, result.output
    assert result.output.startswith("verify: OK")


def test_verify_needs_a_folder_or_two_arguments() -> None:
    result = CliRunner().invoke(main, ["verify", str(VENDORS)])
    assert result.exit_code == 2 and "OUT_DIR" in result.output


def test_strict_refuses_uncited_spec(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(VENDORS.read_text().replace("        source: iso\n", "", 1))
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "out"), "--strict",
                                       "--time-limit", "1"])  # fmt: skip
    assert result.exit_code == EXIT_BAD_INPUT
    assert "field 'country' (vocabulary) cites no source" in result.output
    assert not (tmp_path / "out").exists()
    relaxed = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "out"), "--time-limit", "1"])
    assert relaxed.exit_code == EXIT_OK and "warning:" in relaxed.output


def test_unknown_source_exits_with_bad_input(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    text = VENDORS.read_text()
    spec.write_text(text.replace("        source: iso\n", "        source: isoo\n", 1))
    result = CliRunner().invoke(main, ["generate", str(spec), "--time-limit", "1"])
    line = text.splitlines().index("        source: iso") + 1
    assert result.exit_code == EXIT_BAD_INPUT
    assert f"spec.yaml:{line}:" in result.output and "did you mean 'iso'?" in result.output


@pytest.mark.browser
def test_report_renders_in_headless_chromium(generated: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    pytest.importorskip("matplotlib")
    shot = tmp_path / "report.png"
    dump = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         (generated / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "Coverage certificate" in dump.stdout and dump.stdout.count("<img") == 2
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
         "--window-size=1200,2400", (generated / "report.html").as_uri()],
        capture_output=True, timeout=120, check=True, cwd=tmp_path,
    )  # fmt: skip
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a rendered page, not a blank
