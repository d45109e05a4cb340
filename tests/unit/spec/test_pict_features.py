"""PICT model features: aliases, negative values, weights, reuse, switches, seeding, and
awkward values. Generated arrays are checked by the independent checker (or, for negative
values, which the checker does not know, by the expected-coverage check written here)."""

from __future__ import annotations

from itertools import combinations, product
from pathlib import Path

import pytest

from coverage_gen import api
from coverage_gen.errors import InfeasibleSpecError, SpecError
from coverage_gen.spec.pict import PictOptions, load_pict
from coverage_gen.verify.checker import check_rows
from tests.conftest import BENCHMARKS


def write(tmp_path: Path, text: str, name: str = "m.txt", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def run(path: Path, **kwargs: object) -> api.PictResult:
    kwargs.setdefault("time_limit", 1.0)
    return api.generate_pict(path, **kwargs)  # type: ignore[arg-type]


def assert_checked(result: api.PictResult) -> None:
    model = result.matrix.model
    check = check_rows(model, list(result.header), [list(r) for r in result.rows])
    assert check.ok, check.render()


# --------------------------------------------------------------------------- aliases
def test_aliases_name_their_value_in_rules_and_output_uses_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, "OS: Windows | Win, Linux\nSKU: Home, Pro\n"
                           'IF [OS] = "win" THEN [SKU] = "Pro";\n')
    model = load_pict(path)
    assert model.factors[0].values == ("Windows", "Linux")
    assert model.factors[0].aliases == (("Win",), ())
    result = run(path)
    assert {r[0] for r in result.rows} == {"Windows", "Linux"}
    assert ("Windows", "Home") not in result.rows
    # the checker knows no aliases: check against the same model written without them
    plain = load_pict(write(tmp_path, "OS: Windows, Linux\nSKU: Home, Pro\n"
                                      'IF [OS] = "Windows" THEN [SKU] = "Pro";\n', "plain.txt"))
    check = check_rows(plain, list(result.header), [list(r) for r in result.rows])
    assert check.ok, check.render()


def test_custom_alias_and_value_separators_allow_pipes_and_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "Price: 1,000; 2,5|two and a half; a|b\nX: p, q\n")
    model = load_pict(path, options=PictOptions(value_separator=";", alias_separator="/"))
    assert model.factors[0].values == ("1,000", "2,5|two and a half", "a|b")
    assert model.factors[1].values == ("p, q",)


# --------------------------------------------------------------------------- negatives
def test_negative_values_sum_square_roots(tmp_path: Path) -> None:
    path = write(tmp_path, "A: ~-1, 0, 1, 2\nB: ~-1, 0, 1, 2\nC: x, y\n")
    result = run(path)
    assert result.header == ("A", "B", "C")
    negatives = {"~-1"}
    rows = result.rows
    # never two negative values in one row
    assert all(sum(cell in negatives for cell in row) <= 1 for row in rows)
    # every pair of valid values, and each negative with every valid value of the others
    values = [["~-1", "0", "1", "2"], ["~-1", "0", "1", "2"], ["x", "y"]]
    for (i, vi), (j, vj) in combinations(enumerate(values), 2):
        for a, b in product(vi, vj):
            if a in negatives and b in negatives:
                assert not any(r[i] == a and r[j] == b for r in rows)
            else:
                assert any(r[i] == a and r[j] == b for r in rows), (a, b)


def test_negative_prefix_switch_and_constraints_ignore_the_prefix(tmp_path: Path) -> None:
    path = write(tmp_path, "A: !-1, 0, ~1\nB: !x, y, z\nIF [A] = \"-1\" THEN [B] = \"y\";\n")
    result = run(path, options=PictOptions(negative_prefix="!"))
    model = result.matrix.model
    assert model.factors[0].values == ("-1", "0", "~1") and not model.factors[0].numeric
    assert any(r[0] == "!-1" for r in result.rows)
    assert all(r[1] == "y" for r in result.rows if r[0] == "!-1")
    assert not any(r[0] == "!-1" and r[1] == "!x" for r in result.rows)


def test_two_negatives_required_by_a_rule_is_a_named_conflict(tmp_path: Path) -> None:
    path = write(tmp_path, "A: ~-1, 0\nB: ~-1, 0\n[A] = -1 AND [B] = -1;\n")
    with pytest.raises(InfeasibleSpecError) as info:
        run(path)
    msg = info.value.diagnostics[0].msg
    assert "at most one negative" in msg and "line 3:" in msg


# --------------------------------------------------------------------------- weights
def test_weights_are_parsed_and_only_spend_freedom(tmp_path: Path) -> None:
    text = "A: a, b, c\nB: x, y\nC: p (10), q, r\nD: u (1), v (50)\n"
    path = write(tmp_path, text)
    model = load_pict(path)
    assert model.factors[2].weights == (10, 1, 1) and model.factors[1].weights == ()
    assert model.factors[3].values == ("u", "v")
    plain = run(write(tmp_path, "A: a, b, c\nB: x, y\nC: p, q, r\nD: u, v\n", "plain.txt"))
    weighted = run(path)
    assert len(weighted.rows) == len(plain.rows)  # never costs rows
    assert_checked(weighted)
    count = lambda rows, col, v: sum(r[col] == v for r in rows)  # noqa: E731
    assert count(weighted.rows, 3, "v") >= count(plain.rows, 3, "v")


# --------------------------------------------------------------------------- reuse, case
def test_parameter_reuse_copies_values_aliases_and_negatives(tmp_path: Path) -> None:
    path = write(tmp_path, "OS_1: Win7, ~Bad | B, Win10 (3)\nOS_2: <os_1>, Hindi\n")
    model = load_pict(path)
    f = model.factors[1]
    assert f.values == ("Win7", "Bad", "Win10", "Hindi")
    assert f.negative == (False, True, False, False)
    assert f.aliases == ((), ("B",), (), ())
    assert f.weights == (1, 1, 3, 1)


def test_case_insensitive_by_default_and_case_sensitive_with_c(tmp_path: Path) -> None:
    path = write(tmp_path, 'OS: Win, Linux\nos_ver: 1, 2\nIF [os] = "WIN" THEN [OS_VER] = 1;\n')
    result = run(path)
    assert all(r[1] == "1" for r in result.rows if r[0] == "Win")
    assert_checked(result)
    with pytest.raises(SpecError) as info:
        load_pict(path, options=PictOptions(case_sensitive=True))
    assert {d.code for d in info.value.diagnostics} >= {"unknown-field"}


def test_values_differing_only_in_case(tmp_path: Path) -> None:
    path = write(tmp_path, "A: a, A, b\nB: x, y\n")
    with pytest.raises(SpecError) as info:
        load_pict(path)
    assert "(/c)" in info.value.diagnostics[0].msg
    result = run(path, options=PictOptions(case_sensitive=True))
    assert {r[0] for r in result.rows} == {"a", "A", "b"}
    assert_checked(result)


# --------------------------------------------------------------------------- awkward values
def test_awkward_values_round_trip(tmp_path: Path) -> None:
    text = (
        "Città: Zürich, 東京, São Paulo\n"
        'Quote: say "hi", it\'s, a~b\n'
        "Code: 007, 010, 1\n"
        "Neg: -5, -1.5, 3\n"
        "Blank: , x\n"
        'IF [Città] = "東京" THEN [Code] = 7 AND [Neg] < 0;\n'
        'IF [Blank] = "" THEN [Quote] LIKE "say*";\n'
    )
    path = write(tmp_path, text, bom=True)
    model = load_pict(path)
    assert model.factors[2].values == ("007", "010", "1") and model.factors[2].numeric
    assert model.factors[3].numeric and model.factors[4].values == ("", "x")
    result = run(path)
    assert result.header[0] == "Città"
    assert all(r[2] == "007" and r[3] in ("-5", "-1.5") for r in result.rows if r[0] == "東京")
    assert all(r[1] == 'say "hi"' for r in result.rows if r[4] == "")
    assert_checked(result)


# --------------------------------------------------------------------------- seeding
def test_seed_rows_come_first_and_bad_ones_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "Ver: Win7, Win10\nSKU: Home, Pro | Professional\nArch: x86, x64\n"
                           'IF [Ver] = "Win7" THEN [Arch] = "x86";\n')
    seed = write(tmp_path, "ver\tSKU\tArch\nWin10\tprofessional\tx64\nWin7\t\tx64\n\tHome\t\n",
                 "seed.tsv", bom=True)
    result = run(path, options=PictOptions(seed_file=seed))
    assert result.rows[0] == ("Win10", "Pro", "x64")
    assert result.rows[1][1] == "Home"
    (warning,) = result.warnings
    assert (warning.code, warning.loc.line) == ("seed-row-violates", 3)
    assert "line 4:" in warning.msg
    assert_checked(result)


def test_orders_and_max(tmp_path: Path) -> None:
    path = write(tmp_path, "A: 1, 2\nB: 1, 2, 3\nC: x, y\n")
    full = run(path, strength="max")
    assert len(full.rows) == 12 and full.matrix.model.strength == 3
    assert_checked(full)
    one = run(path, strength=1)
    assert len(one.rows) == 3


# --------------------------------------------------------------------------- benchmarks
@pytest.mark.parametrize("name", ["vendor.txt", "SPIN-S.txt", "Bugzilla.txt"])
def test_constrained_benchmarks_through_pict(name: str) -> None:
    result = run(BENCHMARKS / name, time_limit=2.0)
    assert_checked(result)
