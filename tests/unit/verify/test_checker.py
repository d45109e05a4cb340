"""The independent checker against a brute-force enumeration written here, plus examples."""

from __future__ import annotations

import fnmatch
import itertools
import operator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gen.errors import Location, SpecError, UsageError
from coverage_gen.spec.model import (
    And,
    CombinatorialModel,
    Comparison,
    Const,
    Constraint,
    Factor,
    FieldRef,
    IfThen,
    InSet,
    Like,
    Not,
    Or,
)
from coverage_gen.verify import checker as checker_module
from coverage_gen.verify.checker import check_rows, read_table

# --------------------------------------------------------------------------- brute force
OPS = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}


def _cmp(op: str, a: str, b: str, numeric: bool, fold: bool) -> bool:
    if numeric:
        try:
            return OPS[op](float(a), float(b))
        except ValueError:
            pass
    if fold:
        a, b = a.lower(), b.lower()
    return OPS[op](a, b)


def holds(expr, row: dict[str, str], model: CombinatorialModel) -> bool:
    numeric = {f.name: f.numeric for f in model.factors}
    fold = not model.case_sensitive
    if isinstance(expr, Comparison):
        if isinstance(expr.right, FieldRef):
            num = numeric[expr.left.name] and numeric[expr.right.name]
            return _cmp(expr.op, row[expr.left.name], row[expr.right.name], num, fold)
        num = numeric[expr.left.name] and not expr.right.quoted
        return _cmp(expr.op, row[expr.left.name], expr.right.text, num, fold)
    if isinstance(expr, InSet):
        num = numeric[expr.field.name]
        hit = any(_cmp("=", row[expr.field.name], c.text, num and not c.quoted, fold)
                  for c in expr.values)
        return hit != expr.negated
    if isinstance(expr, Like):
        value, pattern = row[expr.field.name], expr.pattern.text
        if fold:
            value, pattern = value.lower(), pattern.lower()
        return fnmatch.fnmatchcase(value, pattern) != expr.negated
    if isinstance(expr, Not):
        return not holds(expr.operand, row, model)
    if isinstance(expr, And):
        return all(holds(e, row, model) for e in expr.operands)
    if isinstance(expr, Or):
        return any(holds(e, row, model) for e in expr.operands)
    assert isinstance(expr, IfThen)
    c = holds(expr.cond, row, model)
    if expr.otherwise is None:
        return (not c) or holds(expr.then, row, model)
    return (c and holds(expr.then, row, model)) or (not c and holds(expr.otherwise, row, model))


def brute_force(model, rows, t):
    names = [f.name for f in model.factors]
    vocab = [set(f.values) for f in model.factors]
    valid_full = []
    for values in itertools.product(*(f.values for f in model.factors)):
        row = dict(zip(names, values))
        if all(holds(c.expr, row, model) for c in model.constraints):
            valid_full.append(values)
    violations, valid_data, unknown = [], [], 0
    for number, values in enumerate(rows, start=1):
        row = dict(zip(names, values))
        broken = [(number, c.text) for c in model.constraints if not holds(c.expr, row, model)]
        bad = sum(v not in vocab[i] for i, v in enumerate(values))
        violations += broken
        unknown += bad
        if not broken and not bad:
            valid_data.append(values)
    covered = feasible = total = 0
    missing = set()
    for combo in itertools.combinations(range(len(names)), t):
        feas = {tuple(r[i] for i in combo) for r in valid_full}
        cov = {tuple(r[i] for i in combo) for r in valid_data}
        assert cov <= feas
        covered += len(cov)
        feasible += len(feas)
        total += len(list(itertools.product(*(model.factors[i].values for i in combo))))
        missing |= {frozenset(zip([names[i] for i in combo], v)) for v in feas - cov}
    return dict(covered=covered, feasible=feasible, excluded=total - feasible,
                missing=missing, violations=violations, unknown=unknown)


# --------------------------------------------------------------------------- random models
STRING_POOL = ["a", "b", "c", "Ab"]
NUMBER_POOL = ["1", "2", "10", "2.5"]
STRING_CONSTS = STRING_POOL + ["A", "B", "ab", "zz"]
NUMBER_CONSTS = NUMBER_POOL + ["0", "2.50"]
PATTERNS = ["a*", "*b", "?", "*", "1*", "?0", "A?"]


@st.composite
def factors(draw):
    k = draw(st.integers(2, 4))
    out = []
    for i in range(k):
        numeric = draw(st.booleans())
        pool = NUMBER_POOL if numeric else STRING_POOL
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        out.append(Factor(f"F{i}", tuple(values), numeric=numeric))
    return out


def atoms(fs):
    ref = st.sampled_from(fs)

    def const_for(f):
        return st.sampled_from(NUMBER_CONSTS if f.numeric else STRING_CONSTS).map(
            lambda text: Const(text, quoted=not f.numeric)
        )

    compare_const = ref.flatmap(lambda f: st.builds(
        Comparison, st.sampled_from(list(OPS)), st.just(FieldRef(f.name)), const_for(f)))
    compare_fields = st.builds(
        lambda op, a, b: Comparison(op, FieldRef(a.name), FieldRef(b.name)),
        st.sampled_from(list(OPS)), ref, ref)
    in_set = ref.flatmap(lambda f: st.builds(
        InSet, st.just(FieldRef(f.name)),
        st.lists(const_for(f), min_size=1, max_size=3).map(tuple), st.booleans()))
    like = st.builds(lambda f, p, neg: Like(FieldRef(f.name), Const(p, True), neg),
                     ref, st.sampled_from(PATTERNS), st.booleans())
    return st.one_of(compare_const, compare_fields, in_set, like)


def exprs(fs):
    def extend(children):
        pair = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(
            children.map(Not),
            pair.map(And),
            pair.map(Or),
            st.builds(IfThen, children, children, st.none() | children),
        )

    return st.recursive(atoms(fs), extend, max_leaves=5)


@st.composite
def cases(draw):
    fs = draw(factors())
    rules = draw(st.lists(exprs(fs), max_size=3))
    model = CombinatorialModel(
        factors=tuple(fs),
        constraints=tuple(
            Constraint(e, f"rule{i}", Location(line=i + 1), i) for i, e in enumerate(rules)
        ),
        strength=draw(st.integers(1, min(3, len(fs)))),
        case_sensitive=draw(st.booleans()),
    )
    cell = lambda f: st.sampled_from(f.values) | st.just("zz")  # noqa: E731
    rows = draw(st.lists(st.tuples(*(cell(f) for f in fs)), max_size=12))
    return model, [list(r) for r in rows]


@settings(max_examples=200, deadline=None)
@given(cases())
def test_check_rows_matches_brute_force(case) -> None:
    _compare_with_brute_force(case)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_wide_rules_path_matches_brute_force(case) -> None:
    """With no rule small enough for a table, every rule goes through 3-valued checks."""
    saved = checker_module._TABLE_LIMIT
    checker_module._TABLE_LIMIT = 0
    try:
        _compare_with_brute_force(case)
    finally:
        checker_module._TABLE_LIMIT = saved


def _compare_with_brute_force(case) -> None:
    model, rows = case
    expected = brute_force(model, rows, model.strength)
    header = [f.name for f in model.factors]
    result = check_rows(model, header, rows, max_missing=10**6)
    assert result.covered_tuples == expected["covered"]
    assert result.feasible_tuples == expected["feasible"]
    assert result.excluded_tuples == expected["excluded"]
    assert result.missing_count == len(expected["missing"])
    assert {frozenset(m.items()) for m in result.missing} == expected["missing"]
    assert [(v.row, v.rule) for v in result.violations] == expected["violations"]
    assert len(result.unknown_values) == expected["unknown"]
    assert result.ok == (not expected["missing"] and not expected["violations"]
                         and not expected["unknown"])


# --------------------------------------------------------------------------- examples
def eq(name: str, text: str, quoted: bool = True) -> Comparison:
    return Comparison("=", FieldRef(name), Const(text, quoted))


def rule(expr, i: int = 0, text: str = "") -> Constraint:
    return Constraint(expr, text or f"rule{i}", Location("m.txt", i + 1), i)


A = Factor("A", ("a", "b"))
B = Factor("B", ("x", "y"))
C = Factor("C", ("1", "2", "10"), numeric=True)
CHAIN = CombinatorialModel(
    (A, B, C),
    (
        rule(IfThen(eq("A", "a"), eq("B", "x")), 0),  # A=a -> B=x
        rule(IfThen(eq("B", "x"), Comparison("<", FieldRef("C"), Const("10", False))), 1),
    ),
)


def test_chain_excludes_indirectly() -> None:
    rows = [["a", "x", "1"], ["a", "x", "2"], ["b", "y", "10"], ["b", "x", "1"],
            ["b", "y", "1"], ["b", "y", "2"], ["b", "x", "2"]]
    result = check_rows(CHAIN, ["A", "B", "C"], rows)
    # (A=a, C=10) is excluded although no single rule mentions A and C together
    assert result.excluded_tuples == 3
    assert result.ok, result
    short = check_rows(CHAIN, ["A", "B", "C"], rows[:3])
    assert {"A": "a", "C": "10"} not in short.missing
    assert {"A": "b", "C": "1"} in short.missing
    assert short.missing_count == short.feasible_tuples - short.covered_tuples


def test_violations_are_reported_with_rule_and_location() -> None:
    result = check_rows(CHAIN, ["A", "B", "C"], [["a", "y", "1"], ["b", "x", "10"]])
    assert [(v.row, v.rule, v.loc.line) for v in result.violations] == [
        (1, "rule0", 1), (2, "rule1", 2)]
    assert result.covered_tuples == 0 and not result.ok  # violating rows cover nothing


def test_columns_matched_by_name_extra_ignored_missing_is_error() -> None:
    result = check_rows(CHAIN, ["id", "C", "B", "A"], [["r1", "1", "x", "a"]])
    assert not result.violations and result.covered_tuples == 3
    with pytest.raises(SpecError, match="no column"):
        check_rows(CHAIN, ["A", "B"], [["a", "x"]])
    with pytest.raises(SpecError, match="appears 2 times"):
        check_rows(CHAIN, ["A", "A", "B", "C"], [])


def test_unknown_values_and_short_rows() -> None:
    result = check_rows(CHAIN, ["A", "B", "C"], [["a", "x", "3"], ["b", "y"]])
    assert [(u.row, u.column, u.value) for u in result.unknown_values] == [
        (1, "C", "3"), (2, "C", "")]
    assert result.covered_tuples == 0


def test_numeric_versus_string_comparison() -> None:
    num = CombinatorialModel((C,), (rule(Comparison(">", FieldRef("C"), Const("2", False))),),
                             strength=1)
    assert check_rows(num, ["C"], [["10"]]).violations == []
    text = CombinatorialModel((Factor("S", ("10", "2", "x")),),
                              (rule(Comparison(">", FieldRef("S"), Const("2", True))),),
                              strength=1)
    result = check_rows(text, ["S"], [["10"], ["x"]])
    assert [v.row for v in result.violations] == [1]  # "10" < "2" as text
    assert result.excluded_tuples == 2


def test_case_insensitive_models_fold_values_and_like() -> None:
    model = CombinatorialModel(
        (Factor("OS", ("Win10", "Linux")), Factor("FS", ("NTFS", "ext4"))),
        (rule(IfThen(Like(FieldRef("OS"), Const("win*", True)), eq("FS", "ntfs"))),),
        case_sensitive=False,
    )
    result = check_rows(model, ["os", "fs"], [["WIN10", "ntfs"], ["linux", "EXT4"],
                                              ["Linux", "NTFS"]])
    assert result.ok and result.excluded_tuples == 1
    assert check_rows(model, ["OS", "FS"], [["Win10", "ext4"]]).violations
    strict = CombinatorialModel(model.factors, model.constraints, case_sensitive=True)
    assert not check_rows(strict, ["OS", "FS"], [["Win10", "ext4"]]).violations  # win* vs Win10


def test_if_then_else_semantics() -> None:
    model = CombinatorialModel((A, B), (rule(IfThen(eq("A", "a"), eq("B", "x"), eq("B", "y"))),))
    result = check_rows(model, ["A", "B"], [["a", "x"], ["b", "y"], ["b", "x"], ["a", "y"]])
    assert [v.row for v in result.violations] == [3, 4]
    assert result.excluded_tuples == 2 and result.missing_count == 0


def test_unsatisfiable_model_excludes_everything() -> None:
    model = CombinatorialModel((A, B), (rule(eq("A", "a")), rule(eq("A", "b"), 1)))
    result = check_rows(model, ["A", "B"], [])
    assert result.feasible_tuples == 0 and result.excluded_tuples == 4 and result.ok


def test_unconstrained_factors_counted_and_missing_capped() -> None:
    model = CombinatorialModel(tuple(Factor(f"F{i}", ("0", "1", "2")) for i in range(4)))
    result = check_rows(model, [f.name for f in model.factors], [], max_missing=5)
    assert result.missing_count == 6 * 9 and len(result.missing) == 5
    assert result.missing[0] == {"F0": "0", "F1": "0"}


def test_strength_and_unknown_rule_field() -> None:
    with pytest.raises(UsageError):
        check_rows(CHAIN, ["A", "B", "C"], [], strength=4)
    assert check_rows(CHAIN, ["A", "B", "C"], [], strength=3).strength == 3
    bad = CombinatorialModel((A,), (rule(eq("Z", "a")),), strength=1)
    with pytest.raises(SpecError, match=r"\[Z\]"):
        check_rows(bad, ["A"], [])


def test_to_dict_is_json_ready() -> None:
    import json

    result = check_rows(CHAIN, ["A", "B", "C"], [["a", "y", "1"]])
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["violations"][0]["location"] == "m.txt:1"  # type: ignore[index]


# --------------------------------------------------------------------------- read_table
def test_read_table_csv_with_bom_and_tsv(tmp_path: Path) -> None:
    csv_path = tmp_path / "d.csv"
    csv_path.write_bytes("\ufeffA,B\n\"a,1\",x\n\nb,y\n".encode("utf-8"))
    assert read_table(csv_path) == (["A", "B"], [["a,1", "x"], ["b", "y"]])
    tsv_path = tmp_path / "d.txt"
    tsv_path.write_text("A\tB\na,1\tx\n", encoding="utf-8")
    assert read_table(tsv_path) == (["A", "B"], [["a,1", "x"]])


def test_read_table_errors(tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SpecError, match="no header"):
        read_table(empty)
    with pytest.raises(SpecError, match="cannot read"):
        read_table(tmp_path / "missing.csv")


def test_render_lists_problems() -> None:
    result = check_rows(CHAIN, ["A", "B", "C"], [["a", "y", "1"], ["q", "x", "1"]], max_missing=2)
    text = result.render(limit=1)
    assert text.startswith("verify: FAILED (2 rows, strength 2)")
    assert "violations (1):\n  row 1 breaks 'rule0' (m.txt:1)" in text
    assert "unknown values (1):\n  row 2: 'q' is not a value of A" in text
    assert f"missing ({result.missing_count}):" in text and "... and" in text
