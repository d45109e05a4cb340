"""coverage_gen.cover / coverage_gen.library: every array is checked by counting tuples here
(or with tests/support/brute.py), never with the engine's own bookkeeping."""

from __future__ import annotations

import doctest
import enum
import subprocess
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations, product
from typing import Any

import pytest

import coverage_gen
from coverage_gen import library
from coverage_gen.errors import InfeasibleSpecError, Location, SpecError, UsageError
from coverage_gen.library import CoverResult, cover, label_of
from coverage_gen.spec.constraints import parse_constraint
from coverage_gen.spec.model import CombinatorialModel, Factor
from tests.support.brute import check_array


class Tier(enum.Enum):
    FREE = 1
    PRO = 2


class Opaque:
    """An object with only the default repr (its address)."""


FACTORS: dict[str, list[Any]] = {
    "browser": ["chrome", "firefox", "safari"],
    "retries": [0, 1, 3],
    "debug": [True, False],
    "proxy": [None, "corp"],
    "tier": [Tier.FREE, Tier.PRO],
    "ratio": [0.5, 1.5],
}


# --------------------------------------------------------------------------- helpers
Predicate = Callable[[Mapping[str, Any]], bool]


def _feasible_tuples(
    factors: Mapping[str, Sequence[Any]], t: int, valid: Predicate = lambda row: True
) -> set[tuple[tuple[str, Any], ...]]:
    """Every t-tuple (name, value-position) some valid full row holds, by brute force."""
    names = list(factors)
    out: set[tuple[tuple[str, Any], ...]] = set()
    for combo in product(*(range(len(v)) for v in factors.values())):
        row = {n: factors[n][i] for n, i in zip(names, combo)}
        if valid(row):
            out |= _tuples_of(names, combo, t)
    return out


def _tuples_of(names: list[str], combo: Sequence[int], t: int) -> set[tuple[tuple[str, Any], ...]]:
    return {tuple((names[c], combo[c]) for c in cols) for cols in combinations(range(len(names)), t)}


def _positions(factors: Mapping[str, Sequence[Any]], row: Mapping[str, Any]) -> list[int]:
    """A result row back to value positions, by identity first (the original objects)."""
    out = []
    for name, values in factors.items():
        hits = [i for i, v in enumerate(values) if v is row[name]] or [
            i for i, v in enumerate(values) if v == row[name] and type(v) is type(row[name])
        ]
        assert hits, f"{row[name]!r} is not one of the original values of {name}"
        out.append(hits[0])
    return out


def _held(factors: Mapping[str, Sequence[Any]], rows: Sequence[Mapping[str, Any]], t: int) -> set[tuple[tuple[str, Any], ...]]:
    names = list(factors)
    held: set[tuple[tuple[str, Any], ...]] = set()
    for row in rows:
        held |= _tuples_of(names, _positions(factors, row), t)
    return held


def _assert_covers(
    result: CoverResult, factors: Mapping[str, Sequence[Any]], t: int,
    valid: Predicate = lambda row: True, existing: Sequence[Mapping[str, Any]] = (),
) -> None:
    feasible = _feasible_tuples(factors, t, valid)
    assert all(valid(row) for row in result.rows)
    assert _held(factors, [*existing, *result.rows], t) >= feasible
    assert result.required == len(feasible) == result.covered


# --------------------------------------------------------------------------- plain covering
def test_pairwise_over_mixed_python_values() -> None:
    result = cover(FACTORS)
    _assert_covers(result, FACTORS, 2)
    assert result.factors == tuple(FACTORS)
    assert all(list(row) == list(FACTORS) for row in result.rows)
    assert {type(row["tier"]) for row in result.rows} == {Tier}
    assert {row["proxy"] for row in result.rows} == {None, "corp"}
    assert result.lower_bound <= len(result) and result.lower_bound >= 9  # 3 x 3 values


def test_strength_three() -> None:
    factors = {"a": [1, 2], "b": ["x", "y", "z"], "c": [True, False], "d": [None, 0]}
    result = cover(factors, 3)
    _assert_covers(result, factors, 3)
    assert len(result) >= 12


def test_same_arguments_same_rows() -> None:
    assert cover(FACTORS, seed=3).indices == cover(FACTORS, seed=3).indices


def test_ids_and_report() -> None:
    result = cover({"os": ["linux", "mac"], "tier": [Tier.FREE, Tier.PRO]})
    assert sorted(result.ids()) == ["linux-FREE", "linux-PRO", "mac-FREE", "mac-PRO"]
    report = result.report()
    assert report["tuples"] == {"required": 4, "covered": 4, "covered_by_existing": 0}
    assert report["rows"] == 4 and report["optimal"] is True


def test_objects_without_a_readable_str_are_accepted() -> None:
    a, b = Opaque(), Opaque()
    factors = {"thing": [a, b], "n": [1, 2]}
    result = cover(factors)
    assert {id(r["thing"]) for r in result.rows} == {id(a), id(b)}
    _assert_covers(result, factors, 2)


# --------------------------------------------------------------------------- rule strings
RULES = [
    'IF [browser] = "safari" THEN [tier] = "PRO"',  # enum by name
    "IF [retries] > 1 THEN [ratio] < 1",  # numeric factors compare as numbers
    'IF [debug] = "True" THEN [proxy] = "None"',  # bool and None by str()
]


def _rules_hold(row: Mapping[str, Any]) -> bool:
    return (
        (row["browser"] != "safari" or row["tier"] is Tier.PRO)
        and (row["retries"] <= 1 or row["ratio"] < 1)
        and (row["debug"] is not True or row["proxy"] is None)
    )


def test_rule_strings_over_labels() -> None:
    result = cover(FACTORS, constraints=RULES)
    _assert_covers(result, FACTORS, 2, _rules_hold)


def test_rule_strings_agree_with_the_brute_force_evaluator() -> None:
    """The same rules through tests/support/brute.py, over the labels."""
    result = cover(FACTORS, constraints=RULES)
    model = CombinatorialModel(
        factors=tuple(
            Factor(name, labels, all(_is_num(x) for x in labels))
            for name, labels in zip(result.factors, result.labels)
        ),
        constraints=tuple(parse_constraint(r, Location(), i) for i, r in enumerate(RULES)),
    )
    rows = [tuple(result.labels[f][v] for f, v in enumerate(row)) for row in result.indices]
    missing, invalid = check_array(model, rows, 2)
    assert not missing and not invalid


def _is_num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_a_bad_rule_string_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match=r"unknown field \[brwser\]"):
        cover(FACTORS, constraints=['[brwser] = "chrome"'])
    with pytest.raises(SpecError, match="is not a value of"):
        cover(FACTORS, constraints=['[browser] = "opera"'])


# --------------------------------------------------------------------------- predicates
def test_predicates_forbid_exactly_what_they_reject() -> None:
    calls: list[dict[str, Any]] = []

    def no_safari_with_retries(browser: str, retries: int) -> bool:
        calls.append({"browser": browser, "retries": retries})
        return not (browser == "safari" and retries > 0)

    result = cover(FACTORS, constraints=[no_safari_with_retries, lambda debug, tier: debug or tier is Tier.FREE])

    def valid(row: Mapping[str, Any]) -> bool:
        return not (row["browser"] == "safari" and row["retries"] > 0) and (
            row["debug"] or row["tier"] is Tier.FREE
        )

    _assert_covers(result, FACTORS, 2, valid)
    # Called once per combination of exactly its own factors, with the original values.
    assert len(calls) == 9 and all(set(c) == {"browser", "retries"} for c in calls)


def test_predicates_and_rule_strings_together() -> None:
    result = cover(FACTORS, constraints=[*RULES, lambda proxy, ratio: proxy is None or ratio > 1])

    def valid(row: Mapping[str, Any]) -> bool:
        return _rules_hold(row) and (row["proxy"] is None or row["ratio"] > 1)

    _assert_covers(result, FACTORS, 2, valid)


def test_keyword_only_parameters_are_factors_too() -> None:
    def rule(browser: str, *, debug: bool) -> bool:
        return browser != "chrome" or not debug

    result = cover(FACTORS, constraints=[rule])
    assert not any(r["browser"] == "chrome" and r["debug"] for r in result.rows)


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        (lambda browsr: True, "parameter 'browsr' is not a factor"),
        (lambda *names: True, "must be a plain named parameter"),
        (lambda: True, "takes no parameters"),
        (lambda browser: 1 / 0, r"raised ZeroDivisionError.*'browser': 'chrome'"),
        ("not callable".encode(), "a rule string or a predicate"),
    ],
    ids=["unknown-factor", "varargs", "no-parameters", "raises", "not-callable"],
)
def test_predicate_mistakes_are_usage_errors(predicate: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cover(FACTORS, constraints=[predicate])


def test_infeasible_constraints_name_the_rules() -> None:
    def never_chrome(browser: str) -> bool:
        return browser != "chrome"

    with pytest.raises(InfeasibleSpecError, match="no valid row"):
        cover({"browser": ["chrome"], "os": ["linux", "mac"]}, constraints=[never_chrome])


# --------------------------------------------------------------------------- labels
@pytest.mark.parametrize(
    "values",
    [[1, "1"], [1, 1.0], [Tier.FREE, "FREE"], [True, "True"], [None, "None"]],
    ids=["int-str", "int-float", "enum-str", "bool-str", "none-str"],
)
def test_ambiguous_spellings_are_rejected(values: list[Any]) -> None:
    with pytest.raises(UsageError, match="both spelled"):
        cover({"x": values, "y": [1, 2]})


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({"x": {1, 2}, "y": [1]}, "a set has no stable order"),
        ({"x": "ab", "y": [1]}, "values must be a list"),
        ({"x": [], "y": [1]}, "has no values"),
        ({1: [1], "y": [1]}, "non-empty strings"),
        ([("x", [1])], "must be a dict"),
    ],
)
def test_bad_factors_are_usage_errors(factors: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cover(factors)


def test_label_spelling() -> None:
    assert [label_of(v) for v in ("a b", -2, 1e-05, False, None, Tier.PRO)] == [
        "a b", "-2", "1e-05", "False", "None", "PRO",
    ]


# --------------------------------------------------------------------------- existing rows
def test_existing_rows_that_cover_everything_need_nothing() -> None:
    factors = {"a": [1, 2], "b": ["x", "y"]}
    existing = [{"a": a, "b": b} for a, b in product([1, 2], ["x", "y"])]
    result = cover(factors, existing=existing)
    assert len(result) == 0 and result.optimal
    assert result.covered == result.covered_by_existing == result.required == 4


def test_existing_rows_get_only_the_missing_rows() -> None:
    factors = {"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [True, False]}
    existing = [{"a": 1, "b": "x", "c": True}, {"a": 2, "b": "y", "c": False}]
    result = cover(factors, existing=existing)
    _assert_covers(result, factors, 2, existing=existing)
    assert result.existing == 2 and result.covered_by_existing == 6
    # a x b alone needs 9 rows; 2 of those pairs are already held, so at least 7 are added
    assert result.lower_bound >= 7 and len(result) >= 7
    assert len(result) <= len(cover(factors))
    held_before = _held(factors, existing, 2)
    for row in result.rows:  # every added row contributes something new
        assert _tuples_of(list(factors), _positions(factors, row), 2) - held_before


def test_extension_is_minimal_on_a_small_case() -> None:
    factors = {"a": [1, 2], "b": [1, 2]}
    result = cover(factors, existing=[{"a": 1, "b": 1}, {"a": 2, "b": 2}])
    assert sorted((r["a"], r["b"]) for r in result.rows) == [(1, 2), (2, 1)]
    assert result.optimal and result.lower_bound == 2


def test_existing_rows_that_break_a_rule_still_count() -> None:
    factors = {"os": ["linux", "mac"], "browser": ["safari", "chrome"], "n": [1, 2]}
    rule = 'IF [browser] = "safari" THEN [os] = "mac"'
    existing = [{"os": "linux", "browser": "safari", "n": 1}]  # run before the rule existed
    result = cover(factors, constraints=[rule], existing=existing)

    def valid(row: Mapping[str, Any]) -> bool:
        return row["browser"] != "safari" or row["os"] == "mac"

    _assert_covers(result, factors, 2, valid, existing=existing)
    assert result.covered_by_existing == 2  # safari-1 and linux-1; linux-safari is infeasible


def test_existing_rows_with_constraints_and_predicates() -> None:
    existing = [dict(zip(FACTORS, values)) for values in [
        ("chrome", 0, True, None, Tier.FREE, 0.5),
        ("firefox", 3, False, "corp", Tier.PRO, 0.5),
    ]]
    rules = [*RULES, lambda browser, debug: browser != "firefox" or not debug]

    def valid(row: Mapping[str, Any]) -> bool:
        return _rules_hold(row) and (row["browser"] != "firefox" or not row["debug"])

    result = cover(FACTORS, constraints=rules, existing=existing)
    _assert_covers(result, FACTORS, 2, valid, existing=existing)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"a": 1}, "missing factors b"),
        ({"a": 1, "b": "x", "c": 0}, "unknown factors c"),
        ({"a": 7, "b": "x"}, "7 is not a value of factor 'a'"),
        (["a", 1], "must be a dict"),
    ],
)
def test_bad_existing_rows_are_usage_errors(row: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cover({"a": [1, 2], "b": ["x", "y"]}, existing=[row])


def test_existing_values_match_by_label_or_equality() -> None:
    result = cover({"a": [1, 2], "b": [Tier.FREE, Tier.PRO]}, existing=[{"a": 1.0, "b": "FREE"}])
    assert result.covered_by_existing == 1


# --------------------------------------------------------------------------- the package API
def test_docstring_examples_run() -> None:
    for module in (library, coverage_gen):
        outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert outcome.attempted > 0 and outcome.failed == 0, module.__name__


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name for name in dir(coverage_gen)
        if not name.startswith("_") and not isinstance(getattr(coverage_gen, name), types.ModuleType)
    }
    assert public == set(coverage_gen.__all__) - {"__version__"}
    for name in coverage_gen.__all__:
        assert getattr(coverage_gen, name) is not None


def test_cover_is_the_function_after_the_engine_is_imported() -> None:
    """The engine lives in ``coverage_gen.engine``, so importing it cannot shadow ``cover``."""
    import coverage_gen.engine.search

    assert coverage_gen.engine.search.build_array is not None
    assert len(coverage_gen.cover({"a": [1, 2], "b": [1, 2]})) == 4
    from coverage_gen import cover as imported

    assert len(imported({"a": [1, 2]}, 1)) == 2


def test_reaching_cover_is_light() -> None:
    code = (
        "import sys, coverage_gen; from coverage_gen import cover, CoverResult; "
        "print(sorted(m for m in ('numpy', 'numba', 'ortools') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strength": 2.0}, "strength must be an int"),
        ({"seed": -1}, "seed must be a non-negative int"),
        ({"time_limit": 0}, "time_limit must be positive"),
        ({"constraints": '[a] = 1'}, "not one string"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cover({"a": [1, 2], "b": [1, 2]}, **kwargs)


def test_strength_beyond_the_factors_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="strength 3 needs at least 3 factors"):
        cover({"a": [1, 2], "b": [1, 2]}, 3)
