"""parse: the YAML spec → Spec; every diagnostic code pinned to its line.

Inline YAML marks line numbers with ``# N`` comments so a moved line breaks the test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from coverage_gen.errors import SpecError
from coverage_gen.spec import load_model, load_spec, parse_spec
from coverage_gen.spec.model import (
    Categorical,
    DateRange,
    DecimalRange,
    Frequency,
    IfThen,
    IntegerRange,
    LogNormal,
    Spec,
    Template,
)

# Two valid categorical fields (lines 4-5); a field under test goes on line 6.
HEAD = (
    "tables:\n"                  # 1
    "  t:\n"                     # 2
    "    fields:\n"              # 3
    "      a: {values: [x, y]}\n"  # 4
    "      b: {values: [p, q]}\n"  # 5
)


def with_field(line: str) -> str:
    return HEAD + f"      {line}\n"  # 6


def with_top(line: str) -> str:
    return f"{line}\n" + HEAD  # the extra line is line 1; fields move to lines 5-6


# A table with two categorical fields on line 3, for table-level keys on line 4.
TWO = "tables:\n  t:\n    fields: {a: {values: [x]}, b: {values: [y]}}\n"


def errors(text: str) -> list[tuple[str, int | None]]:
    with pytest.raises(SpecError) as exc:
        parse_spec(text, file="spec.yaml")
    return [(d.code, d.loc.line) for d in exc.value.diagnostics]


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as exc:
        parse_spec(text, file="spec.yaml")
    return exc.value


# --------------------------------------------------------------------------- valid specs
FULL = """\
spec_version: 1
name: vendors
description: test spec
coverage: {strength: 2, seed: 42}
tables:
  vendor:
    rows: 150
    fields:
      vendor_id: {template: "V-{seq:05d}", start: 1001, description: key}
      country: {values: [US, DE, "NO", "on"], type: string}
      zip: {values: [0012, 1.50, 7]}
      spend: {lognormal: {median: 50000, sigma: 1.1, clip: [500, 5000000], places: 2}}
      employees: {integer: {min: 1, max: 5000}}
      discount: {decimal: {min: 0, max: 0.15, places: 3}}
      onboarded: {date: {start: 2015-01-01, end: 2024-12-31, format: "%d.%m.%Y"}}
      source: {frequency: {SAP: 6, Oracle: 3, Manual: 1}}
    constraints:
      - IF [country] IN {"DE", "NO"} THEN [zip] > 1
      - '[zip] <> 7'
"""


def test_full_spec_parses_into_model_objects() -> None:
    spec = parse_spec(FULL, file="full.yaml")
    assert isinstance(spec, Spec)
    assert (spec.name, spec.description, spec.strength, spec.seed) == ("vendors", "test spec", 2, 42)
    assert spec.source == "full.yaml"
    table = spec.table
    assert table.name == "vendor" and table.rows == 150
    shapes = {f.name: f.shape for f in table.fields}
    assert list(shapes) == [
        "vendor_id", "country", "zip", "spend", "employees", "discount", "onboarded", "source",
    ]
    assert shapes["vendor_id"] == Template("V-{seq:05d}", 1001)
    assert shapes["country"] == Categorical(("US", "DE", "NO", "on"), numeric=False)
    assert shapes["zip"] == Categorical(("0012", "1.50", "7"), numeric=True)
    assert shapes["spend"] == LogNormal(Decimal("50000"), 1.1, Decimal("500"), Decimal("5000000"), 2)
    assert shapes["employees"] == IntegerRange(1, 5000)
    assert shapes["discount"] == DecimalRange(Decimal("0"), Decimal("0.15"), 3)
    assert shapes["onboarded"] == DateRange(dt.date(2015, 1, 1), dt.date(2024, 12, 31), "%d.%m.%Y")
    assert shapes["source"] == Frequency(("SAP", "Oracle", "Manual"), (6.0, 3.0, 1.0))
    assert table.fields[0].description == "key"


def test_constraints_carry_their_scalar_location_and_ordinal() -> None:
    spec = parse_spec(FULL, file="full.yaml")
    first, second = spec.table.constraints
    assert (first.loc.file, first.loc.line, first.loc.col) == ("full.yaml", 18, 9)
    assert first.loc.path == ("tables", "vendor", "constraints", 0)
    assert isinstance(first.expr, IfThen) and first.index == 0
    assert second.loc.line == 19 and second.index == 1 and second.text == "[zip] <> 7"
    # A quoted rule's text starts one column after the quote.
    assert second.expr.left.loc.col == 10


def test_combinatorial_model_takes_the_categorical_fields() -> None:
    model = parse_spec(FULL).combinatorial_model()
    assert model.factor_names() == ("country", "zip")
    assert (model.strength, model.seed, len(model.constraints)) == (2, 42, 2)
    assert model.factors[1].values == ("0012", "1.50", "7")


def test_defaults() -> None:
    spec = parse_spec(HEAD + "      c: {decimal: {min: 0, max: 1}}\n      d: {date: {start: 2020-01-01, end: 2020-01-01}}\n")
    assert (spec.strength, spec.seed, spec.table.rows, spec.name) == (2, 0, None, "")
    assert spec.table.constraints == ()
    shapes = {f.name: f.shape for f in spec.table.fields}
    assert shapes["c"].places == 2
    assert shapes["d"].format == "%Y-%m-%d"


@pytest.mark.parametrize("written", ["NO", "no", "on", "off", "yes", "Y", "0012", "1.50", "~x", "None", "null"])
def test_values_stay_text_as_written(written: str) -> None:
    spec = parse_spec(with_field(f"c: {{values: [{written}, other]}}"))
    assert spec.table.fields[2].shape.values == (written, "other")


@pytest.mark.parametrize(
    ("values", "type_line", "numeric"),
    [
        ("[1, 2.5, 0012]", "", True),      # every value parses: PICT's rule
        ("[1, 2, x]", "", False),          # one does not
        ("[1, 2]", ", type: string", False),
        ("[1, 2]", ", type: number", True),
        ("[1e3, -4, +.5]", "", True),
        ("[nan, inf]", "", False),         # not numbers in the constraint language
    ],
)
def test_numeric_flag(values: str, type_line: str, numeric: bool) -> None:
    spec = parse_spec(with_field(f"c: {{values: {values}{type_line}}}"))
    assert spec.table.fields[2].shape.numeric is numeric


def test_template_may_reference_other_fields_and_templates() -> None:
    spec = parse_spec(with_field('c: {template: "{a}-{b}-{seq:04d}"}') + '      d: {template: "{c}/{seq}"}\n')
    assert spec.table.fields[3].shape == Template("{c}/{seq}", 1)


def test_load_spec_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(with_field("c: {values: []}"), encoding="utf-8")
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    (diag,) = exc.value.diagnostics
    assert (diag.loc.file, diag.loc.line, diag.code) == (str(path), 6, "empty-vocabulary")
    assert str(exc.value).startswith(f"{path}:6:")


# --------------------------------------------------------------------------- field errors (line 6)
@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("c: {values: []}", "empty-vocabulary"),
        ("c: {values: [x, y, x]}", "duplicate-value"),
        ("c: {values: [1, z], type: number}", "bad-number"),
        ("c: {values: [x], type: text}", "bad-choice"),
        ("c: {values: [x], colour: red}", "unknown-key"),
        ("c: {values: [x], start: 1}", "unknown-key"),  # start belongs to templates
        ("c: {description: only}", "missing-key"),
        ("c: {values: [x], integer: {min: 1, max: 2}}", "bad-shape"),
        ("c: [x, y]", "wrong-type"),
        ("c: {values: x}", "wrong-type"),
        ("c: {values: [x, [y]]}", "wrong-type"),
        ("c: {integer: {min: 5, max: 1}}", "bad-range"),
        ("c: {integer: {min: 1.5, max: 2}}", "bad-number"),
        ("c: {integer: {min: 1}}", "missing-key"),
        ("c: {integer: 5}", "wrong-type"),
        ("c: {decimal: {min: 0, max: x}}", "bad-number"),
        ("c: {decimal: {min: 0, max: 1, places: -1}}", "bad-range"),
        ("c: {lognormal: {median: 10, sigma: 0}}", "bad-range"),
        ("c: {lognormal: {median: -1, sigma: 1}}", "bad-range"),
        ("c: {lognormal: {median: ten, sigma: 1}}", "bad-number"),
        ("c: {lognormal: {median: 10, sigma: 1, clip: [9, 1]}}", "bad-range"),
        ("c: {lognormal: {median: 10, sigma: 1, clip: [1]}}", "bad-shape"),
        ("c: {lognormal: {median: 10, sigma: 1, mean: 3}}", "unknown-key"),
        ("c: {date: {start: 2020-13-01, end: 2021-01-01}}", "bad-date"),
        ("c: {date: {start: 2020/01/01, end: 2021-01-01}}", "bad-date"),
        ("c: {date: {start: 2021-02-29, end: 2021-03-01}}", "bad-date"),
        ("c: {date: {start: 2021-01-01, end: 2020-01-01}}", "bad-range"),
        ("c: {date: {start: 2020-01-01, end: 2021-01-01, format: plain}}", "bad-choice"),
        ("c: {frequency: {}}", "empty-vocabulary"),
        ("c: {frequency: {s: -1}}", "bad-range"),
        ("c: {frequency: {s: 0, u: 0}}", "bad-range"),
        ("c: {frequency: {s: x}}", "bad-number"),
        ("c: {frequency: [s, u]}", "wrong-type"),
        ('c: {template: "X-{nope}"}', "bad-template"),
        ('c: {template: "X-{c}"}', "bad-template"),
        ('c: {template: "X-{seq:>5}"}', "bad-template"),
        ('c: {template: "X-{seq!r}"}', "bad-template"),
        ('c: {template: "X-{a.x}"}', "bad-template"),
        ('c: {template: "X-{seq"}', "bad-template"),
        ('c: {template: "X-{}"}', "bad-template"),
        ('c: {template: "X", start: one}', "bad-number"),
        ('c: {template: "X", type: string}', "unknown-key"),
        ('"c]": {values: [x]}', "bad-name"),
    ],
)
def test_field_error_code_and_line(line: str, code: str) -> None:
    assert errors(with_field(line)) == [(code, 6)]


def test_block_style_field_errors_point_at_the_field_key() -> None:
    text = HEAD + (
        "      c:\n"                  # 6
        "        description: none\n"  # 7
    )
    assert errors(text) == [("missing-key", 6)]


def test_empty_list_item_is_an_error_but_quoted_empty_text_is_a_value() -> None:
    text = HEAD + (
        "      c:\n"            # 6
        "        values:\n"     # 7
        "          - x\n"       # 8
        "          -\n"         # 9
        "          - ''\n"      # 10
    )
    assert errors(text) == [("empty-value", 9)]
    ok = parse_spec(HEAD + "      c: {values: [x, '']}\n")
    assert ok.table.fields[2].shape.values == ("x", "")


def test_template_cycle() -> None:
    text = HEAD + (
        '      c: {template: "{d}"}\n'  # 6
        '      d: {template: "{c}"}\n'  # 7
    )
    assert errors(text) == [("template-cycle", 6), ("template-cycle", 7)]


# --------------------------------------------------------------------------- document-level errors
@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("spec_version: 2", "unsupported-version"),
        ("nmae: x", "unknown-key"),
        ("name: [a]", "wrong-type"),
        ("coverage: {strength: 0}", "strength"),
        ("coverage: {strength: 3}", "strength"),  # only 2 categorical fields
        ("coverage: {strength: two}", "bad-number"),
        ("coverage: {seed: -1}", "bad-range"),
        ("coverage: {seed: 1.5}", "bad-number"),
        ("coverage: {stregth: 2}", "unknown-key"),
        ("coverage: [2]", "wrong-type"),
    ],
)
def test_top_level_error_code_and_line(line: str, code: str) -> None:
    assert errors(with_top(line)) == [(code, 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", [("wrong-type", 1)]),
        ("name: x\n", [("missing-key", 1)]),
        ("tables: {}\n", [("bad-shape", 1)]),
        ("tables:\n  t: {rows: 5}\n", [("missing-key", 2)]),
        ("tables:\n  t: {fields: {}}\n", [("bad-shape", 2)]),
        ("tables:\n  t: [a]\n", [("wrong-type", 2)]),
        (f"{TWO}    rows: 0\n", [("bad-range", 4)]),
        (f"{TWO}    colour: red\n", [("unknown-key", 4)]),
        (f"{TWO}    constraints: '[a] = \"x\"'\n", [("wrong-type", 4)]),
        # Default strength 2 but one categorical field: reported at the table.
        ("tables:\n  t:\n    fields: {c: {values: [1, 2]}}\n", [("strength", 2)]),
        ("tables:\n  t:\n    fields: {c: {integer: {min: 1, max: 2}}}\n", [("strength", 2)]),
        ("coverage: {strength: 1}\ntables:\n  t:\n    fields: {c: {integer: {min: 1, max: 2}}}\n", [("strength", 1)]),
    ],
)
def test_structure_errors(text: str, expected: list[tuple[str, int]]) -> None:
    assert errors(text) == expected


def test_several_tables_are_a_multi_table_spec() -> None:
    # issue 5: several tables are read by spec/multitable.py (was: a "multi-table" error)
    text = (
        "tables:\n"                       # 1
        "  a: {fields: {x: {values: [1, 2]}, y: {values: [1, 2]}}}\n"  # 2
        "  b: {fields: {x: {values: [1]}}}\n"  # 3
    )
    spec = parse_spec(text)
    assert spec.multi_table and [t.name for t in spec.tables] == ["a", "b"]


# --------------------------------------------------------------------------- constraint errors
def test_constraint_errors_are_located_and_collected() -> None:
    text = HEAD + (
        "    constraints:\n"                         # 6
        '      - IF [a] = "x" THEN [b] = "p"\n'      # 7 fine
        '      - IF [a] = "x" THEN\n'                # 8 syntax
        '      - IF [zz] = "x" THEN [b] = "p"\n'     # 9 unknown field (check_model)
        "      - [a]\n"                              # 10 YAML reads a list
    )
    # The syntax error and the YAML-list rule are found while parsing; model checks
    # (the unknown field) run only on a spec that parsed cleanly.
    assert errors(text) == [("constraint-syntax", 8), ("wrong-type", 10)]


def test_model_check_errors_carry_the_rule_line() -> None:
    text = HEAD + (
        "    constraints:\n"                         # 6
        '      - IF [a] = "x" THEN [b] = "p"\n'      # 7
        '      - IF [zz] = "x" THEN [b] = "r"\n'     # 8
    )
    codes = errors(text)
    assert ("unknown-field", 8) in codes and ("unknown-value", 8) in codes
    assert all(line == 8 for _, line in codes)


def test_quote_hint_for_a_rule_that_yaml_reads_as_a_list() -> None:
    text = HEAD + "    constraints:\n      - [a] = 1\n"
    with pytest.raises(SpecError):
        parse_spec(text)  # `- [a] = 1` is not even valid YAML: a flow list then text
    err = error_of(HEAD + "    constraints:\n      - [a]\n")
    assert "quote the rule" in err.diagnostics[0].msg


# --------------------------------------------------------------------------- messages
def test_unknown_key_message_names_valid_keys_and_a_close_match() -> None:
    (diag,) = error_of(with_top("coverage: {stregth: 2, seed: 1}")).diagnostics
    assert diag.msg == (
        "unknown key 'stregth' in coverage (did you mean 'strength'?); valid keys: strength, seed"
    )
    assert diag.loc.path == ("coverage", "stregth") and diag.loc.col == 12


def test_messages_name_what_would_be_valid() -> None:
    (shape,) = error_of(with_field("c: {description: d}")).diagnostics
    assert "values, template, integer, decimal, lognormal, date, frequency" in shape.msg
    (kind,) = error_of(with_field("c: {values: [x], type: text}")).diagnostics
    assert "string, number" in kind.msg and "'text'" in kind.msg
    (bad,) = error_of(with_field("c: {values: [1, z], type: number}")).diagnostics
    assert "'z'" in bad.msg and bad.loc.path[-2:] == ("values", 1)
    (tpl,) = error_of(with_field('c: {template: "{nope}"}')).diagnostics
    assert "{nope}" in tpl.msg and "seq, a, b" in tpl.msg


def test_every_problem_is_collected_in_one_error_in_document_order() -> None:
    text = (
        "spec_version: 3\n"                           # 1
        "coverage: {strength: x, sed: 1}\n"           # 2
        "tables:\n"                                   # 3
        "  t:\n"                                      # 4
        "    rows: -5\n"                              # 5
        "    fields:\n"                               # 6
        "      a: {values: [x, x]}\n"                 # 7
        "      b: {integer: {min: 9, max: 1}}\n"      # 8
        "      c: {date: {start: 2020-02-30, end: 2021-01-01}}\n"  # 9
        "      d: {vals: [1]}\n"                      # 10
        "    constraints:\n"                          # 11
        "      - IF [a] = \n"                         # 12
    )
    assert errors(text) == [
        ("unsupported-version", 1),
        ("bad-number", 2),
        ("unknown-key", 2),
        ("bad-range", 5),
        ("duplicate-value", 7),
        ("bad-range", 8),
        ("bad-date", 9),
        ("unknown-key", 10),
        ("constraint-syntax", 12),
    ]


# --------------------------------------------------------------------------- load_model
def test_load_model_yaml_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "spec.yml"
    path.write_text(with_top("coverage: {strength: 2, seed: 5}"), encoding="utf-8")
    model, spec = load_model(path)
    assert (model.strength, model.seed) == (2, 5)
    model, spec = load_model(path, strength=1, seed=9)
    assert spec is not None
    assert (model.strength, model.seed, spec.strength, spec.seed) == (1, 9, 1, 9)
    assert model.factor_names() == ("a", "b")


def test_load_model_override_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD, encoding="utf-8")
    with pytest.raises(SpecError) as exc:
        load_model(path, strength=3)
    assert [d.code for d in exc.value.diagnostics] == ["strength"]


def test_load_model_dispatches_other_suffixes_to_pict(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_text("A: 1, 2\nB: x, y\n", encoding="utf-8")
    model, spec = load_model(path, seed=3)
    assert spec is None
    assert model.factor_names() == ("A", "B") and (model.strength, model.seed) == (2, 3)


@pytest.mark.parametrize("name", ["vendors", "insurance_claims"])
def test_shipped_examples_load(name: str) -> None:
    root = Path(__file__).resolve().parents[3] / "examples" / name
    model, spec = load_model(root / "spec.yaml")
    assert spec is not None and spec.name == name
    assert len(model.factors) >= 7 and len(model.constraints) >= 6
