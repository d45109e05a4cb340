"""infer: reading samples, roles, the drafted spec (accepted by generate), leakage guard, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen import api
from coverage_gen.cli import main
from coverage_gen.errors import SpecError
from coverage_gen.infer import (
    Role,
    check_leakage,
    infer_spec,
    profile_table,
    read_sample,
    sample_from_rows,
)
from coverage_gen.spec.model import Categorical
from coverage_gen.spec.parse import load_spec, parse_spec

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "samples"
INSURANCE = SAMPLES / "insurance_claims_12.csv"
VENDORS = SAMPLES / "vendors_12.csv"

INSURANCE_ROLES = {
    "months_as_customer": Role.NUMERIC, "age": Role.NUMERIC, "policy_number": Role.IDENTIFIER,
    "policy_bind_date": Role.DATE, "policy_state": Role.CATEGORICAL, "policy_csl": Role.CATEGORICAL,
    "policy_deductable": Role.CATEGORICAL, "policy_annual_premium": Role.NUMERIC,
    "umbrella_limit": Role.CATEGORICAL, "insured_zip": Role.PERSONAL,
    "insured_sex": Role.CATEGORICAL, "insured_education_level": Role.CATEGORICAL,
    "insured_occupation": Role.CATEGORICAL, "insured_hobbies": Role.CATEGORICAL,
    "insured_relationship": Role.CATEGORICAL, "capital-gains": Role.NUMERIC,
    "capital-loss": Role.NUMERIC, "incident_date": Role.DATE, "incident_type": Role.CATEGORICAL,
    "collision_type": Role.CATEGORICAL, "incident_severity": Role.CATEGORICAL,
    "authorities_contacted": Role.CATEGORICAL, "incident_state": Role.CATEGORICAL,
    "State": Role.CATEGORICAL, "incident_city": Role.CATEGORICAL,
    "incident_location": Role.FREE_TEXT, "incident_hour_of_the_day": Role.NUMERIC,
    "number_of_vehicles_involved": Role.CATEGORICAL, "property_damage": Role.CATEGORICAL,
    "bodily_injuries": Role.CATEGORICAL, "witnesses": Role.CATEGORICAL,
    "police_report_available": Role.CATEGORICAL, "total_claim_amount": Role.DERIVED,
    "injury_claim": Role.NUMERIC, "property_claim": Role.NUMERIC, "vehicle_claim": Role.NUMERIC,
    "auto_make": Role.CATEGORICAL, "auto_model": Role.CATEGORICAL, "auto_year": Role.NUMERIC,
    "fraud_reported": Role.CATEGORICAL, "_c39": Role.MISSING,
}  # fmt: skip
VENDOR_ROLES = {
    "vendor_id": Role.IDENTIFIER, "name": Role.PERSONAL, "country": Role.CATEGORICAL,
    "currency": Role.CATEGORICAL, "payment_terms": Role.CATEGORICAL,
    "iban_country": Role.CATEGORICAL, "annual_spend": Role.NUMERIC, "onboarded": Role.DATE,
}  # fmt: skip


def _write(tmp_path: Path, text: str, name: str = "s.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _values(spec_text: str, field: str) -> tuple[str, ...]:
    spec = parse_spec(spec_text)
    shape = next(f.shape for f in spec.table.fields if f.name == field)
    assert isinstance(shape, Categorical)
    return shape.values


def _generate_and_verify(spec_text: str, tmp_path: Path) -> api.GenerationResult:
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(spec_text, encoding="utf-8")
    load_spec(spec_path)  # accepted unchanged
    result = api.generate(spec_path, tmp_path / "out", time_limit=2.0, formats=["csv"])
    check = api.verify_file(spec_path, result.files["csv"])
    assert check.ok, check.render()
    return result


# --------------------------------------------------------------------------- the two samples
@pytest.mark.parametrize(("path", "expected"), [(INSURANCE, INSURANCE_ROLES), (VENDORS, VENDOR_ROLES)])
def test_roles_a_tester_would_agree_with(path: Path, expected: dict[str, Role]) -> None:
    profile = profile_table(read_sample(path))
    assert {c.name: c.role for c in profile.columns} == expected


def test_insurance_relations() -> None:
    profile = profile_table(read_sample(INSURANCE))
    total = profile.column("total_claim_amount")
    assert set(total.derived_from) == {"injury_claim", "property_claim", "vehicle_claim"}
    pairs = {(h.child, h.parent): h for h in profile.hierarchies}
    assert pairs[("auto_model", "auto_make")].mapping["92x"] == "Saab"
    mirror = pairs[("State", "incident_state")]
    assert mirror.one_to_one and any("Albany" in n for n in mirror.notes)
    assert profile.keys == ("policy_number",)
    assert profile.column("incident_date").date is not None
    assert profile.column("incident_date").date.format == "%m/%d/%Y"  # type: ignore[union-attr]


@pytest.mark.slow
def test_insurance_spec_generates_verifies_and_does_not_leak(tmp_path: Path) -> None:
    text = infer_spec([INSURANCE]).text
    states = _values(text, "policy_state")
    assert {"OH", "IN", "IL"} <= set(states) and "CA" in states and len(states) <= 12
    assert "California" in _values(text, "State")
    assert 'IF [auto_model] = "92x" THEN [auto_make] = "Saab"' in text
    assert "derived (sum)" in text and "ISO 3166-2:US" in text
    result = _generate_and_verify(text, tmp_path)
    assert result.spec is not None
    report = check_leakage(INSURANCE, result.spec, result.columns, result.records)
    assert report.ok, report.render()
    assert "policy_number" in report.protected_columns and "insured_zip" in report.protected_columns


@pytest.mark.slow
def test_vendor_spec_widens_country_and_currency_from_iso(tmp_path: Path) -> None:
    text = infer_spec([VENDORS]).text
    countries = _values(text, "country")
    currencies = _values(text, "currency")
    assert countries[:2] == ("US", "DE") and "NO" in countries and '"NO"' in text
    assert {"USD", "EUR", "GBP", "NOK", "JPY"} <= set(currencies)
    assert "Net 60" in _values(text, "payment_terms")
    assert "ISO 3166-1" in text and "ISO 4217" in text
    result = _generate_and_verify(text, tmp_path)
    assert result.spec is not None
    assert check_leakage([VENDORS], result.spec, result.columns, result.records).ok


# --------------------------------------------------------------------------- tricky samples
def test_norway_and_leading_zeros_stay_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "country,branch,flag\nNO,0012,on\nUS,0034,off\nNO,0012,on\nUS,0034,on\n")
    text = infer_spec([path]).text
    assert _values(text, "country")[:2] == ("NO", "US")
    assert _values(text, "branch") == ("0012", "0034")
    assert _values(text, "flag") == ("on", "off")
    assert '"0012"' in text and '"on"' in text


def test_mixed_date_formats_use_the_majority_and_say_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "when,k\n2020-01-05,a\n2020-02-07,b\n3/15/2021,a\n2019-12-31,b\n")
    col = profile_table(read_sample(path)).column("when")
    assert col.role is Role.DATE and col.date is not None
    assert col.date.format == "%Y-%m-%d"
    assert str(col.date.end) == "2021-03-15" and any("mixed formats" in n for n in col.date.notes)
    parse_spec(infer_spec([path]).text)


def test_all_missing_column_and_missing_markers(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,c\nx,NA,\ny,N/A,\nx,null,\ny,?,\n")
    sample = read_sample(path)
    assert set(sample.missing["b"]) == {"NA", "N/A", "null", "?"}
    profile = profile_table(sample)
    assert profile.column("b").role is Role.MISSING and profile.column("c").role is Role.MISSING
    parse_spec(infer_spec([path]).text)


def test_single_row_gives_a_valid_spec(tmp_path: Path) -> None:
    path = _write(tmp_path, "vendor_id,country,amount\nV-1,DE,10.5\n")
    profile = profile_table(read_sample(path))
    assert profile.column("vendor_id").role is Role.IDENTIFIER
    spec = parse_spec(infer_spec([path]).text)
    assert spec.strength == 1 or len(spec.table.categorical_fields()) >= 2


def test_header_only_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b\n")
    with pytest.raises(SpecError) as info:
        read_sample(path)
    d = info.value.diagnostics[0]
    assert d.code == "empty-sample" and d.loc.file == str(path) and d.loc.line == 2


def test_ragged_row_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b\n1,2\n3\n")
    with pytest.raises(SpecError) as info:
        read_sample(path)
    assert info.value.diagnostics[0].code == "ragged-row" and info.value.diagnostics[0].loc.line == 3


def test_duplicate_column_names_are_renamed_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path, "k,amount,amount\na,1,2\nb,3,4\na,1,2\n")
    sample = read_sample(path)
    assert sample.columns == ("k", "amount", "amount_2")
    assert any("amount_2" in n for n in sample.notes)
    assert "amount_2" in infer_spec([path]).text


def test_non_utf8_input_falls_back_and_reports(tmp_path: Path) -> None:
    path = _write(tmp_path, "city;kind\nMünchen;a\nZürich;b\nMünchen;a\n", encoding="cp1252")
    sample = read_sample(path)
    assert sample.encoding == "cp1252" and sample.delimiter == ";"
    assert sample.column("city")[0] == "München"
    assert any("not valid UTF-8" in n for n in sample.notes)


def test_bom_is_handled(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeffname_code,k\nA1,x\nB2,y\n")
    sample = read_sample(path)
    assert sample.columns[0] == "name_code" and sample.encoding == "utf-8-sig"


def test_high_cardinality_text_is_not_a_covering_factor(tmp_path: Path) -> None:
    rows = "\n".join(f"w{i % 20},{i % 2}" for i in range(40))
    path = _write(tmp_path, "word,flag\n" + rows + "\n")
    profile = profile_table(read_sample(path), max_values=12)
    assert profile.column("word").high_cardinality
    spec = parse_spec(infer_spec([path]).text)
    assert [f.name for f in spec.table.categorical_fields()] == ["flag"]


def test_foreign_keys_across_files(tmp_path: Path) -> None:
    vendors = _write(tmp_path, "vendor_id,kind\nV1,a\nV2,b\nV3,a\n", "vendors.csv")
    invoices = _write(tmp_path, "invoice_id,vendor_id,kind\nI1,V1,x\nI2,V1,y\nI3,V3,x\n", "invoices.csv")
    result = infer_spec([invoices, vendors])
    assert any(f.column == "vendor_id" and f.ref_table == "vendors" for f in result.foreign_keys)
    assert "foreign key?: invoices.vendor_id -> vendors.vendor_id" in result.text
    parse_spec(result.text)  # the second table is commented out


# --------------------------------------------------------------------------- leakage
def test_leakage_finds_copied_identifiers_and_rows(tmp_path: Path) -> None:
    sample = sample_from_rows(["id", "kind", "amount"], [["A-17", "x", "5"], ["A-18", "y", "7"]])
    spec = parse_spec(
        "coverage: {strength: 1}\ntables:\n  t:\n    fields:\n"
        '      id: {template: "A-{seq:02d}", start: 19}\n'
        "      kind: {values: [x, y]}\n"
        "      amount: {integer: {min: 1, max: 9}}\n"
    )
    clean = check_leakage(sample, spec, ["id", "kind", "amount"], [["A-19", "x", "5"], ["A-20", "y", "6"]])
    assert clean.ok and clean.compared_fields == ("id", "amount")
    leaked = check_leakage(sample, spec, ["id", "kind", "amount"], [["A-17", "y", "7"]])
    assert not leaked.ok
    assert leaked.value_leaks[0].value == "A-17"
    assert leaked.record_leaks == () and "A-17" in leaked.render()
    copied = check_leakage(sample, spec, ["id", "kind", "amount"], [["A-18", "y", "7"]])
    assert copied.record_leaks[0].line == 3


# --------------------------------------------------------------------------- CLI
def test_cli_infer_writes_a_spec(tmp_path: Path) -> None:
    out = tmp_path / "spec.yaml"
    result = CliRunner().invoke(main, ["infer", str(VENDORS), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_spec(out).table.name == "vendors_12"


def test_cli_infer_bad_input_exits_3(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b\n")
    result = CliRunner().invoke(main, ["infer", str(path)])
    assert result.exit_code == 3
    assert "empty-sample" in result.output


def test_quoted_cells_keep_delimiters_and_newlines(tmp_path: Path) -> None:
    """A quoted cell with the delimiter and a newline stays one cell."""
    path = _write(tmp_path, 'a,b\n"x, y",1\n"p\nq",2\n')
    sample = read_sample(path)
    assert sample.column("a") == ["x, y", "p\nq"] and sample.lines == (2, 3)
