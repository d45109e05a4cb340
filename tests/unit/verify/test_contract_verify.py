"""``check_folder``: a generated folder re-checked against its contract.json."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from coverage_gen import api
from coverage_gen.verify.contract import check_folder, key_fields, read_records, sha256_file
from tests.conftest import EXAMPLES

VENDORS = EXAMPLES / "vendors" / "spec.yaml"
# Single-table examples here; every example (multi-table too): tests/cli/test_contract_multi_cli.py.
SINGLE_TABLE = [p for p in sorted(EXAMPLES.glob("*/spec.yaml")) if p.parent.name in ("vendors", "insurance_claims")]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pristine")
    api.generate(VENDORS, out, time_limit=2)
    return out


@pytest.fixture
def folder(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "out"))


def _rewrite_csv(path: Path, edit: object) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    edit(rows)  # type: ignore[operator]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _rehash(folder: Path, name: str) -> None:
    """Make the contract agree with an edited file, so only the content checks can object."""
    contract = json.loads((folder / "contract.json").read_text())
    for entry in contract["outputs"]:
        if entry["file"] == name:
            entry["sha256"] = sha256_file(folder / name)
    (folder / "contract.json").write_text(json.dumps(contract))


@pytest.mark.parametrize("spec", SINGLE_TABLE, ids=lambda p: p.parent.name)
def test_every_example_writes_a_contract_that_verifies(spec: Path, tmp_path: Path) -> None:
    api.generate(spec, tmp_path, time_limit=2)
    for name in ("contract.json", "contract.md", "contract.odcs.yaml", "report.html"):
        assert (tmp_path / name).is_file(), name
    result = check_folder(tmp_path)
    assert result.ok, result.render()
    assert {c.name for c in result.checks} == {"identity", "keys", "rules", "coverage", "leakage"}


def test_untouched_folder_passes(folder: Path) -> None:
    result = check_folder(folder)
    assert result.ok and not result.problems, result.render()


def test_edited_value_breaks_a_named_rule(folder: Path) -> None:
    def edit(rows: list[list[str]]) -> None:
        header = rows[0]
        row = next(r for r in rows[1:] if r[header.index("country")] == "US")
        row[header.index("currency")] = "JPY"  # a US vendor paid in yen

    _rewrite_csv(folder / "vendor.csv", edit)
    result = check_folder(folder)
    assert not result.ok
    text = "\n".join(result.problems)
    assert "vendor.csv: sha256" in text  # the file changed ...
    assert 'IF [currency] = "JPY" THEN [country] = "JP"' in text  # ... and the rule it breaks is named
    assert "spec.yaml:" in text


def test_dropped_row_names_the_missing_tuple(folder: Path) -> None:
    def edit(rows: list[list[str]]) -> None:
        header = rows[0]
        jp = [r for r in rows[1:] if r[header.index("country")] == "JP"]
        for r in jp:  # only JP vendors pay in JPY: without them (JP, JPY) is gone
            rows.remove(r)

    _rewrite_csv(folder / "vendor.csv", edit)
    _rehash(folder, "vendor.csv")
    result = check_folder(folder)
    text = "\n".join(result.problems)
    assert "country=JP" in text and "not covered" in text
    assert "rows, the contract says 150" in text


def test_hash_mismatch_names_the_file(folder: Path) -> None:
    def edit(rows: list[list[str]]) -> None:
        header = rows[0]
        rows[1][header.index("annual_spend")] = "123.45"  # still valid data: only the hash objects

    _rewrite_csv(folder / "vendor.csv", edit)
    result = check_folder(folder)
    assert not result.ok
    assert [c.name for c in result.checks if not c.ok] == ["identity"]
    assert "vendor.csv" in result.problems[0] and "sha256" in result.problems[0]


def test_duplicate_key_is_reported(folder: Path) -> None:
    def edit(rows: list[list[str]]) -> None:
        header = rows[0]
        rows[2][header.index("vendor_id")] = rows[1][header.index("vendor_id")]

    _rewrite_csv(folder / "vendor.csv", edit)
    _rehash(folder, "vendor.csv")
    problems = "\n".join(check_folder(folder).problems)
    assert "key vendor_id is not unique" in problems


def test_missing_file_and_missing_contract(folder: Path, tmp_path: Path) -> None:
    (folder / "vendor.jsonl").unlink()
    assert "vendor.jsonl is listed in the contract but missing" in check_folder(folder).problems[0]
    assert not check_folder(tmp_path / "nowhere").ok


def test_jsonl_reads_like_csv(pristine: Path) -> None:
    assert read_records(pristine / "vendor.jsonl") == read_records(pristine / "vendor.csv")


def test_key_fields_of_the_vendors_spec() -> None:
    from coverage_gen.spec import load_spec

    assert key_fields(load_spec(VENDORS).table) == ("vendor_id", "name")
