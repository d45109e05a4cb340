"""PICT model files: parameters, constraints, unsupported features, benchmarks."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from coverage_gen.errors import SpecError
from coverage_gen.spec.model import Comparison, IfThen, InSet
from coverage_gen.spec.pict import load_pict
from tests.conftest import BENCHMARKS


def write(tmp_path: Path, text: str, name: str = "m.txt", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def errors(path: Path) -> list[tuple[str, int | None, int | None, str]]:
    with pytest.raises(SpecError) as info:
        load_pict(path)
    return [(d.code, d.loc.line, d.loc.col, d.msg) for d in info.value.diagnostics]


# --------------------------------------------------------------------------- happy path
def test_vendor_model(benchmarks_dir: Path) -> None:
    model = load_pict(benchmarks_dir / "vendor.txt", strength=3, seed=9)
    assert model.factor_names() == (
        "Country", "Currency", "PaymentTerms", "VendorType", "TaxStatus", "Channel",
    )
    assert model.factors[1].values == ("USD", "EUR", "GBP", "JPY", "CHF", "CNY")
    assert (model.strength, model.seed, model.case_sensitive) == (3, 9, False)
    assert model.source == str(benchmarks_dir / "vendor.txt")
    assert len(model.constraints) == 8
    assert [c.index for c in model.constraints] == list(range(8))
    first = model.constraints[0]
    assert first.text == 'IF [Country] IN {"DE", "FR", "IT", "ES", "NL"} THEN [Currency] = "EUR";'
    assert (first.loc.line, first.loc.col) == (13, 1)
    assert isinstance(first.expr, IfThen) and isinstance(first.expr.cond, InSet)
    assert (model.factors[0].loc.line, model.factors[0].loc.col) == (5, 1)


def test_values_are_trimmed_keep_inner_spaces_and_get_typed(tmp_path: Path) -> None:
    path = write(tmp_path, "  Size :  1, 2.5 ,-3\nName: New York,  San José \n", bom=True)
    model = load_pict(path)
    size, name = model.factors
    assert (size.name, size.values, size.numeric) == ("Size", ("1", "2.5", "-3"), True)
    assert (name.values, name.numeric) == (("New York", "San José"), False)
    assert [(loc.line, loc.col) for loc in size.value_locs] == [(1, 11), (1, 14), (1, 19)]
    assert (size.loc.line, size.loc.col) == (1, 3)


def test_mixed_values_make_a_string_factor(tmp_path: Path) -> None:
    model = load_pict(write(tmp_path, "A: 1, 2, x\nB: 1, 2\n"))
    assert [f.numeric for f in model.factors] == [False, True]


def test_constraints_span_lines_share_lines_and_skip_comments(tmp_path: Path) -> None:
    text = (
        "# header\n"
        "A: a, b\n"
        "B: 1, 2\n"
        "\n"
        "IF [A] = \"a\"\n"
        "# a comment inside the rule\n"
        "   THEN [B] > 1;  [B] <> 2; IF [A] LIKE \"x;*\"\n"
        "THEN [B] = 1\n"
    )
    model = load_pict(write(tmp_path, text))
    rules = model.constraints
    assert len(rules) == 3
    assert [(r.loc.line, r.loc.col) for r in rules] == [(5, 1), (7, 19), (7, 29)]
    then = rules[0].expr.then if isinstance(rules[0].expr, IfThen) else None
    assert isinstance(then, Comparison) and (then.loc.line, then.loc.col) == (7, 9)
    assert rules[2].text == 'IF [A] LIKE "x;*"\nTHEN [B] = 1'  # the last rule may omit ';'


def test_lowercase_keywords_and_parenthesised_start(tmp_path: Path) -> None:
    text = 'A: a, b\nB: c, d\nif [A] = "a" then [B] = "c";\n([A] = "b") OR [B] = "d";\n'
    assert len(load_pict(write(tmp_path, text)).constraints) == 2


def test_parameter_names_that_start_with_keywords_are_parameters(tmp_path: Path) -> None:
    model = load_pict(write(tmp_path, "IFace: a, b\nNotes: c, d\n"))
    assert model.factor_names() == ("IFace", "Notes")


def test_names_with_parentheses_and_values_with_colons(tmp_path: Path) -> None:
    text = "Size (MB): 1, 2\r\nStart: 10:00, 11:30\r\n[Size (MB)] = 2 OR [Start] = \"10:00\";\r\n"
    model = load_pict(write(tmp_path, text))
    assert model.factor_names() == ("Size (MB)", "Start")
    assert model.factors[1].values == ("10:00", "11:30")
    assert len(model.constraints) == 1


# --------------------------------------------------------------------------- errors
def test_missing_file() -> None:
    with pytest.raises(SpecError) as info:
        load_pict("/nonexistent/model.txt")
    assert info.value.diagnostics[0].code == "file-not-found"
    assert "/nonexistent/model.txt" in str(info.value)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.txt"
    path.write_bytes(b"A: a, b\nB: \xff\n")
    assert [(c, line) for c, line, _, _ in errors(path)] == [("file-encoding", 2)]


def test_overlapping_sub_models_are_rejected(tmp_path: Path) -> None:
    # sub-models themselves are supported (tests/unit/engine/test_submodels.py); a parameter
    # in two of them is not
    path = write(tmp_path, "A: x, y\nB: x, y\nC: x, y\n{ A, B } @ 2\n{ B, C } @ 1\n")
    (found,) = errors(path)
    assert found[:3] == ("pict-unsupported", 5, 3)
    assert "at most one sub-model" in found[3]
    with pytest.raises(SpecError, match=re.escape(f"{path}:5:3")):
        load_pict(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "A: a, b\n"
        "a: c, d\n"  # duplicate (names are case-insensitive in PICT)
        "B:\n"  # empty value list
        "C: x, <Nope>\n"  # reuse of an unknown parameter
        "just some words\n"
        '[A] = "a" AND;\n'
        "D: late, param\n"
    )
    assert errors(write(tmp_path, text)) == [
        ("duplicate-factor", 2, 1, "parameter 'a' is defined twice"),
        ("empty-vocabulary", 3, 1, "parameter 'B' has no values"),
        ("unknown-parameter", 4, 7,
         "<Nope> reuses an unknown parameter; parameters defined above: A"),
        ("pict-syntax", 5, 1,
         "expected a parameter line 'Name: value1, value2, ...' or a constraint"),
        ("constraint-syntax", 6, 14,
         "expected a field reference like [Name], NOT or '(', found ';'"),
        ("pict-syntax", 7, 1, "parameter definitions must come before the constraints"),
    ]


def test_semantic_errors_come_from_check_model(tmp_path: Path) -> None:
    text = 'Country: US, DE\nCurrency: USD, EUR\nIF [Contry] = "DE" THEN [Currency] = "EURO";\n'
    found = errors(write(tmp_path, text))
    assert [(c, line, col) for c, line, col, _ in found] == [
        ("unknown-field", 3, 4),
        ("unknown-value", 3, 38),
    ]
    assert "did you mean [Country]?" in found[0][3]


def test_case_insensitive_values_are_accepted(tmp_path: Path) -> None:
    model = load_pict(write(tmp_path, 'A: Yes, No\nB: 1, 2\n[A] = "yes" OR [B] = 2.0;\n'))
    assert len(model.constraints) == 1


# --------------------------------------------------------------------------- benchmarks
BENCHMARK_FILES = sorted(BENCHMARKS.glob("*.txt"))


def expected_signature(path: Path) -> tuple[Counter[int] | None, int | None]:
    """Levels multiset and rule count claimed by the file's header comment or its name."""
    head = "\n".join(line for line in path.read_text("utf-8").splitlines() if line.startswith("#"))
    parts: list[tuple[int, int]] = []
    if m := re.search(r"Signature:\s*((?:\d+\^\d+\s*)+)", head):
        parts = [(int(v), int(c)) for v, c in re.findall(r"(\d+)\^(\d+)", m.group(1))]
    elif m := re.search(r"CA\(\d+,\s*([^)]*)\)", head):
        parts = [(int(v), int(c)) for v, c in re.findall(r"(\d+)\^(\d+)", m.group(1))]
    elif re.fullmatch(r"(?:CA|TCAS)(?:_\d+\^\d+)+", path.stem):
        parts = [(int(v), int(c)) for v, c in re.findall(r"(\d+)\^(\d+)", path.stem)]
    elif m := re.fullmatch(r"ca\d+_(\d+)x(\d+)", path.stem):
        parts = [(int(m.group(1)), int(m.group(2)))]
    rules = re.search(r"(\d+) constraint", head)
    levels = Counter({v: c for v, c in parts}) if parts else None
    return levels, int(rules.group(1)) if rules else None


def test_every_benchmark_has_a_signature_to_check() -> None:
    assert len(BENCHMARK_FILES) >= 40
    assert all(expected_signature(p)[0] is not None for p in BENCHMARK_FILES)


@pytest.mark.parametrize("path", BENCHMARK_FILES, ids=lambda p: p.name)
def test_benchmark_parses_with_its_signature(path: Path) -> None:
    model = load_pict(path)
    levels, rules = expected_signature(path)
    assert Counter(len(f.values) for f in model.factors) == levels
    if rules is not None:
        assert len(model.constraints) == rules
    assert all(f.numeric for f in model.factors) or path.name == "vendor.txt"


def test_gcc_has_199_factors() -> None:
    assert len(load_pict(BENCHMARKS / "GCC.txt").factors) == 199
