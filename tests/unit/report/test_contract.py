"""The contract: sources/contract/citations in the spec, contract.json/.md, ODCS, report.html."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from coverage_gen import api
from coverage_gen.errors import InfeasibleSpecError, SpecError
from coverage_gen.report.contract import REALISM_LIMIT
from coverage_gen.spec.parse import parse_spec
from tests.conftest import EXAMPLES, SAMPLES

VENDORS = EXAMPLES / "vendors" / "spec.yaml"

SPEC = """\
sources:                                       #1
  s1: {kind: observed-sample, who: export, when: 2024-01-31, confidence: high}   #2
  guess: {kind: domain-expert, who: Ann, when: 2024-02-01, confidence: low}      #3
contract:                                      #4
  purpose: test the intake                     #5
  appropriate_for: [integration tests]         #6
  not_appropriate_for: [estimating amounts]    #7
  owner: team-a                                #8
  contacts: [{who: ann@example.com, about: rules}]   #9
  review_date: 2025-01-31                      #10
tables:                                        #11
  t:                                           #12
    rows: 6                                    #13
    source: guess                              #14
    fields:                                    #15
      id: {template: "T-{seq:03d}"}            #16
      a: {values: [x, y], source: s1}          #17
      b: {values: [p, q, r], source: s1}       #18
      amount: {integer: {min: 1, max: 9}, source: guess}   #19
    constraints:                               #20
      - {rule: 'IF [a] = "x" THEN [b] <> "r"', source: guess}   #21
"""


# --------------------------------------------------------------------------- spec syntax
def test_sources_contract_and_citations_are_read() -> None:
    prov = parse_spec(SPEC).provenance
    assert prov is not None and not prov.warnings
    assert [s.id for s in prov.sources] == ["s1", "guess"]
    assert prov.field_source("t", "amount").kind == "domain-expert"  # type: ignore[union-attr]
    assert prov.rule_source("t", 0).id == "guess"  # type: ignore[union-attr]
    assert prov.citation("t", "rows", "rows").source == "guess"  # type: ignore[union-attr]
    c = prov.contract
    assert c is not None and c.purpose == "test the intake" and c.review_date.isoformat() == "2025-01-31"  # type: ignore[union-attr]
    assert c.contacts[0].who == "ann@example.com" and c.not_appropriate_for == ("estimating amounts",)


def test_rule_given_as_mapping_still_parses_as_a_rule() -> None:
    spec = parse_spec(SPEC)
    assert [r.text for r in spec.table.constraints] == ['IF [a] = "x" THEN [b] <> "r"']


def test_unknown_source_is_an_error_at_its_line() -> None:
    with pytest.raises(SpecError) as exc:
        parse_spec(SPEC.replace("source: s1}          #17", "source: s2}          #17"))
    [d] = exc.value.diagnostics
    assert d.code == "unknown-source" and d.loc.line == 17 and "'s2'" in d.msg and "s1" in d.msg


def test_missing_citation_is_a_warning_naming_the_field_and_line() -> None:
    prov = parse_spec(SPEC.replace("q, r], source: s1}", "q, r]}")).provenance
    assert prov is not None
    [w] = prov.warnings
    assert (w.code, w.severity, w.loc.line) == ("missing-source", "warning", 18) and "'b'" in w.msg


def test_strict_turns_missing_citations_into_spec_errors() -> None:
    prov = parse_spec(SPEC.replace(", source: guess}   #21", "}   #21")).provenance
    assert prov is not None
    failure = api.strict_failure(prov.warnings)
    assert isinstance(failure, SpecError) and not isinstance(failure, InfeasibleSpecError)
    assert failure.diagnostics[0].loc.line == 21 and failure.diagnostics[0].severity == "error"


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("kind: observed-sample", "kind: hearsay", "bad-choice"),
        ("when: 2024-01-31", "when: 31/01/2024", "bad-date"),
        ("owner: team-a", "owners: team-a", "unknown-key"),
    ],
)
def test_bad_register_entries_are_errors(old: str, new: str, code: str) -> None:
    with pytest.raises(SpecError) as exc:
        parse_spec(SPEC.replace(old, new))
    assert code in [d.code for d in exc.value.diagnostics]


# --------------------------------------------------------------------------- written contract
@pytest.fixture(scope="module")
def vendors_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vendors")
    api.generate(VENDORS, out, time_limit=2)
    return out


def test_contract_identity_matches_the_files(vendors_out: Path) -> None:
    contract = json.loads((vendors_out / "contract.json").read_text())
    ident = contract["identity"]
    assert ident["spec"]["sha256"] == hashlib.sha256(VENDORS.read_bytes()).hexdigest()
    assert ident["seed"] == 42 and ident["tool"]["version"] and ident["dependencies"]["ortools"]
    listed = {o["file"]: o for o in contract["outputs"]}
    assert {"vendor.csv", "vendor.jsonl", "coverage.json", "report.html", "contract.md",
            "contract.odcs.yaml"} <= set(listed)  # fmt: skip
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256((vendors_out / name).read_bytes()).hexdigest(), name
    assert listed["vendor.csv"]["rows"] == listed["vendor.jsonl"]["rows"] == 150


def test_contract_certificate_rules_and_limits(vendors_out: Path) -> None:
    contract = json.loads((vendors_out / "contract.json").read_text())
    coverage = json.loads((vendors_out / "coverage.json").read_text())
    cert = contract["coverage"]
    assert cert["feasible_tuples"] == coverage["tuples"]["required"] == cert["checker"]["feasible_tuples"]
    assert cert["covered"] == cert["checker"]["covered"] and cert["checker"]["missing"] == 0
    assert cert["lower_bound"] == coverage["lower_bound"]["value"] and cert["rows"] == coverage["rows"]
    assert len(contract["rules"]) == 11
    assert all(r["violations"] == 0 and "CNF" in r["enforced"] and r["source"] for r in contract["rules"])
    known = contract["limits"]["known"]
    assert REALISM_LIMIT in known
    assert any("onboarded came from an expert's guess" in x and "do not use for estimating onboarded" in x for x in known)
    assert contract["purpose"]["not_appropriate_for"] and contract["sources"]
    assert contract["leakage"]["ok"] is True and contract["warnings"] == []


def test_provenance_table_names_every_field(vendors_out: Path) -> None:
    contract = json.loads((vendors_out / "contract.json").read_text())
    rows = {p["field"]: p for p in contract["provenance"]}
    assert list(rows)[:3] == ["vendor_id", "name", "country"] and len(rows) == 11
    assert rows["country"]["source_kind"] == "public-standard"
    assert rows["annual_spend"]["source"] == "sample12" and "log-normal" in rows["annual_spend"]["shape"]
    md = (vendors_out / "contract.md").read_text()
    for heading in ("## Purpose and limits", "## Identity", "## Provenance", "## Coverage certificate",
                    "## Rules", "## Leakage"):  # fmt: skip
        assert heading in md


def test_odcs_export_uses_v3_field_names(vendors_out: Path) -> None:
    doc = yaml.safe_load((vendors_out / "contract.odcs.yaml").read_text())
    assert (doc["apiVersion"], doc["kind"], doc["status"]) == ("v3.1.0", "DataContract", "active")
    assert {"version", "id", "description", "schema"} <= set(doc)
    [table] = doc["schema"]
    props = {p["name"]: p for p in table["properties"]}
    assert len(props) == 11 and props["vendor_id"]["primaryKey"] is True
    assert props["onboarded"]["logicalType"] == "date"
    assert props["annual_spend"]["logicalTypeOptions"] == {"minimum": 500.0, "maximum": 5000000.0}
    assert props["country"]["quality"][0]["metric"] == "invalidValues"
    assert {"type": "library", "metric": "rowCount", "mustBe": 150, "name": "row_count"} in table["quality"]
    assert doc["team"]["members"][0] == {"username": "ap-platform team", "role": "owner"}


def test_html_report_embeds_charts(vendors_out: Path) -> None:
    pytest.importorskip("matplotlib")
    page = (vendors_out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "id='growth'" in page
    assert page.count("data:image/png;base64,") == 2  # growth + annual_spend (onboarded is a date)
    assert "http" not in page.split("<body>")[1].split("data:image")[0]  # self-contained


def test_growth_curve_counts_reach_the_feasible_total(vendors_out: Path) -> None:
    from coverage_gen.report.html import growth_curves
    from coverage_gen.spec import load_spec
    from coverage_gen.verify.checker import read_table

    header, rows = read_table(vendors_out / "vendor.csv")
    curves = growth_curves(load_spec(VENDORS), header, rows)
    assert sorted(curves) == [1, 2, 3]
    for t, (counts, feasible) in curves.items():
        assert counts == sorted(counts) and len(counts) == 150
        if t <= 2:
            assert counts[-1] == feasible
        else:
            assert counts[-1] < feasible


def test_leakage_found_when_output_copies_sample_ids(tmp_path: Path) -> None:
    spec_text = VENDORS.read_text().replace("start: 5001", "start: 1001")
    spec_text = spec_text.replace("sample: ../../../shared/data/samples/vendors_12.csv", f"sample: {SAMPLES / 'vendors_12.csv'}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text)
    api.generate(spec, tmp_path / "out", time_limit=1)
    contract = json.loads((tmp_path / "out" / "contract.json").read_text())
    assert contract["leakage"]["ok"] is False and contract["leakage"]["value_leaks"] > 0
    assert "LEAK FOUND" in (tmp_path / "out" / "contract.md").read_text()


def test_html_without_matplotlib_says_how_to_get_charts(vendors_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coverage_gen.report import html
    from coverage_gen.spec import load_spec
    from coverage_gen.verify.checker import read_table

    monkeypatch.setattr(html, "have_matplotlib", lambda: False)
    contract = json.loads((vendors_out / "contract.json").read_text())
    header, rows = read_table(vendors_out / "vendor.csv")
    page = html.render_html(load_spec(VENDORS), header, rows, contract)
    assert "coverage-gen[report]" in page and "<img" not in page and "Coverage growth (numbers)" in page
