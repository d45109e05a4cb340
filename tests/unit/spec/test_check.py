"""Semantic model checks: every diagnostic collected, located and explained."""

from __future__ import annotations

import pytest

from coverage_gen.errors import Diagnostic, Location, SpecError
from coverage_gen.spec.check import check_model
from coverage_gen.spec.constraints import parse_constraint
from coverage_gen.spec.model import CombinatorialModel, Factor


def factor(name: str, *values: str, line: int = 1) -> Factor:
    numeric = all(v.lstrip("-").replace(".", "", 1).isdigit() for v in values) and bool(values)
    locs = tuple(Location("m", line, 10 + 3 * i) for i in range(len(values)))
    return Factor(name, tuple(values), numeric, Location("m", line, 1), locs)


FACTORS = (
    factor("Country", "US", "DE", "JP", line=1),
    factor("Currency", "USD", "EUR", line=2),
    factor("Age", "18", "30.0", "65", line=3),
    factor("Score", "1", "2", line=4),
)


def model(*rules: str, case_sensitive: bool = True, **kw: object) -> CombinatorialModel:
    constraints = tuple(
        parse_constraint(text, Location("m", 20 + i, 1), i) for i, text in enumerate(rules)
    )
    fields: dict[str, object] = {"factors": FACTORS, **kw}
    return CombinatorialModel(
        constraints=constraints, case_sensitive=case_sensitive, **fields  # type: ignore[arg-type]
    )


def diagnostics(m: CombinatorialModel) -> list[Diagnostic]:
    with pytest.raises(SpecError) as info:
        check_model(m)
    return info.value.diagnostics


def only(m: CombinatorialModel) -> Diagnostic:
    (diag,) = diagnostics(m)
    return diag


# --------------------------------------------------------------------------- accepted
@pytest.mark.parametrize(
    "rule",
    [
        'IF [Country] IN {"US", "JP"} THEN [Currency] = "USD"',
        "[Age] = 30",  # numeric factors compare numerically: "30.0" is 30
        "[Age] IN {18, 65.00}",
        "[Age] < 21 OR [Age] >= 100",  # ordering literals need not be values
        '[Country] > "M"',
        '[Country] LIKE "Z*" OR [Country] NOT LIKE "?"',  # LIKE patterns need not match
        "[Age] <= [Score] AND [Country] <> [Currency]",
        "NOT ([Score] = 1)",
    ],
)
def test_well_formed_rules_pass(rule: str) -> None:
    check_model(model(rule))


def test_case_insensitive_models_match_values_in_any_case() -> None:
    check_model(model('[Country] IN {"us", "De"}', case_sensitive=False))
    diag = only(model('[Country] = "us"'))
    assert diag.code == "unknown-value"
    assert diag.msg.endswith("did you mean 'US'?")


# --------------------------------------------------------------------------- unknown names
def test_unknown_field_lists_the_fields_and_suggests_the_closest() -> None:
    diag = only(model('IF [Contry] = "US" THEN [Currency] = "USD"'))
    assert diag.code == "unknown-field"
    assert (diag.loc.line, diag.loc.col) == (20, 4)
    assert diag.msg == (
        "unknown field [Contry]; the fields are: Country, Currency, Age, Score; "
        "did you mean [Country]?"
    )


def test_unknown_field_suggests_a_case_slip_and_checks_both_sides() -> None:
    diags = diagnostics(model("[age] = [Scroe]"))
    assert [d.code for d in diags] == ["unknown-field", "unknown-field"]
    assert diags[0].msg.endswith("did you mean [Age]?")
    assert diags[1].msg.endswith("did you mean [Score]?")
    assert [d.loc.col for d in diags] == [1, 9]


def test_long_field_lists_are_elided() -> None:
    many = tuple(factor(f"P{i}", "0", "1") for i in range(30))
    m = CombinatorialModel(many, (parse_constraint("[Q] = 1", Location("m", 1, 1), 0),))
    assert "P11, ... (30 in all)" in only(m).msg


@pytest.mark.parametrize(
    ("rule", "col", "msg"),
    [
        ('[Country] = "FR"', 13,
         '"FR" is not a value of [Country]; valid values: US, DE, JP'),
        ('[Country] <> "USA"', 14,
         "\"USA\" is not a value of [Country]; valid values: US, DE, JP; did you mean 'US'?"),
        ('[Currency] NOT IN {"EUR", "GBP"}', 27,
         '"GBP" is not a value of [Currency]; valid values: USD, EUR'),
        ("[Age] = 31", 9, "31 is not a value of [Age]; valid values: 18, 30.0, 65"),
    ],
)
def test_equality_literals_must_be_values(rule: str, col: int, msg: str) -> None:
    diag = only(model(rule))
    assert (diag.code, diag.loc.line, diag.loc.col, diag.msg) == ("unknown-value", 20, col, msg)


# --------------------------------------------------------------------------- typing
@pytest.mark.parametrize(
    ("rule", "col", "fragment"),
    [
        ('[Age] = "30"', 9, '[Age] is numeric, but "30" is a quoted string'),
        ('[Age] < "x"', 9, "write numbers without quotes"),
        ("[Country] < 3", 13,
         '[Country] has string values, but 3 is a number; write it in quotes: "3"'),
        ("[Currency] IN {1}", 16, "[Currency] has string values"),
        ("[Age] = [Country]", 1, "cannot compare [Age] (numeric) with [Country] (string)"),
        ('[Score] LIKE "1*"', 1, "LIKE needs a string factor, but [Score] is numeric"),
    ],
)
def test_type_mismatches(rule: str, col: int, fragment: str) -> None:
    diag = only(model(rule))
    assert (diag.code, diag.loc.line, diag.loc.col) == ("type-mismatch", 20, col)
    assert fragment in diag.msg


# --------------------------------------------------------------------------- factors/strength
def test_factor_problems() -> None:
    factors = (
        factor("A", "x", "y", "x", line=1),
        factor("B", line=2),
        factor("A", "1", line=3),
        factor("C", "1", "1.0", "2", line=4),
    )
    diags = diagnostics(CombinatorialModel(factors, strength=2))
    assert [(d.code, d.loc.line, d.loc.col) for d in diags] == [
        ("duplicate-factor", 3, 1),
        ("duplicate-value", 1, 16),
        ("empty-vocabulary", 2, 1),
        ("duplicate-value", 4, 13),
    ]
    assert diags[0].msg == "factor 'A' is defined twice (first at m:1:1)"
    assert diags[1].msg == "factor 'A' lists the value 'x' twice"
    assert diags[3].msg == "factor 'C' lists the value '1.0' twice (same as '1' when compared)"


def test_case_insensitive_models_reject_values_differing_only_in_case() -> None:
    factors = (factor("A", "yes", "Yes"), factor("b", "1"), factor("B", "2"))
    strict = CombinatorialModel(factors, case_sensitive=True)
    check_model(strict)
    loose = CombinatorialModel(factors, case_sensitive=False)
    assert [d.code for d in diagnostics(loose)] == ["duplicate-factor", "duplicate-value"]


@pytest.mark.parametrize(
    ("strength", "msg"),
    [
        (0, "strength must be at least 1, got 0"),
        (5, "strength 5 needs at least 5 factors; this model has 4: Country, Currency, Age, Score"),
    ],
)
def test_strength_out_of_range(strength: int, msg: str) -> None:
    diag = only(model(strength=strength, source="m.txt"))
    assert (diag.code, diag.msg, diag.loc.file) == ("strength", msg, "m.txt")


def test_all_problems_are_reported_together() -> None:
    m = model('[Contry] = "US"', '[Age] = "x"', "[Score] = 3", strength=9)
    assert [d.code for d in diagnostics(m)] == [
        "strength", "unknown-field", "type-mismatch", "unknown-value",
    ]
