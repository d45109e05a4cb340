"""Lowering rules to CNF over set literals, checked against a direct evaluation of the AST.

The reference evaluator below is written from the documented semantics only (PICT's): it
shares no code with ``cover.lower`` or ``spec.constraints`` (numbers via ``Decimal``, LIKE via
its own wildcard matcher, case folding via ``str.lower``).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gen.engine import lower
from coverage_gen.engine.lower import Lowered, lower_model
from coverage_gen.errors import Location, SpecError, UsageError
from coverage_gen.spec.constraints import parse_constraint
from coverage_gen.spec.model import (
    And,
    CombinatorialModel,
    Comparison,
    Const,
    Constraint,
    Expr,
    Factor,
    FieldRef,
    IfThen,
    InSet,
    Like,
    Not,
    Or,
)
from coverage_gen.spec.pict import load_pict
from tests.conftest import BENCHMARKS


# --------------------------------------------------------------------------- reference semantics
def wildcard(pattern: str, text: str) -> bool:
    """``*`` any run, ``?`` one character, everything else literal (dynamic programming)."""
    reachable = {0}
    for char in pattern:
        if char == "*":
            reachable = set(range(min(reachable), len(text) + 1)) if reachable else set()
        else:
            reachable = {i + 1 for i in reachable if i < len(text) and char in ("?", text[i])}
    return len(text) in reachable


class Reference:
    def __init__(self, model: CombinatorialModel) -> None:
        self.model = model
        self.factors = {f.name: f for f in model.factors}

    def fold(self, text: str) -> str:
        return text if self.model.case_sensitive else text.lower()

    def compare(self, op: str, left: object, right: object) -> bool:
        return {
            "=": left == right,
            "<>": left != right,
            "<": left < right,  # type: ignore[operator]
            "<=": left <= right,  # type: ignore[operator]
            ">": left > right,  # type: ignore[operator]
            ">=": left >= right,  # type: ignore[operator]
        }[op]

    def operands(self, value: str, other: str, numeric: bool) -> tuple[object, object]:
        if numeric:
            return Decimal(value), Decimal(other)
        return self.fold(value), self.fold(other)

    def holds(self, expr: Expr, row: dict[str, str]) -> bool:
        if isinstance(expr, Comparison):
            factor = self.factors[expr.left.name]
            if isinstance(expr.right, FieldRef):
                other = self.factors[expr.right.name]
                numeric = factor.numeric and other.numeric
                pair = self.operands(row[factor.name], row[other.name], numeric)
            else:
                pair = self.operands(row[factor.name], expr.right.text, factor.numeric)
            return self.compare(expr.op, *pair)
        if isinstance(expr, InSet):
            factor = self.factors[expr.field.name]
            hit = any(
                self.compare("=", *self.operands(row[factor.name], c.text, factor.numeric))
                for c in expr.values
            )
            return hit != expr.negated
        if isinstance(expr, Like):
            value = self.fold(row[expr.field.name])
            return wildcard(self.fold(expr.pattern.text), value) != expr.negated
        if isinstance(expr, Not):
            return not self.holds(expr.operand, row)
        if isinstance(expr, And):
            return all(self.holds(e, row) for e in expr.operands)
        if isinstance(expr, Or):
            return any(self.holds(e, row) for e in expr.operands)
        assert isinstance(expr, IfThen)
        if self.holds(expr.cond, row):
            return self.holds(expr.then, row)
        return expr.otherwise is None or self.holds(expr.otherwise, row)


def assert_equivalent(model: CombinatorialModel, lowered: Lowered) -> None:
    """For every complete row and every rule: the rule's clauses hold iff the AST holds."""
    problem = lowered.problem
    reference = Reference(model)
    for rule in model.constraints:
        clauses = [c for c, o in zip(problem.clauses, problem.clause_origin) if o == rule.index]
        for row in itertools.product(*(range(n) for n in problem.levels)):
            named = dict(zip(model.factor_names(), lowered.names.decode_row(row)))
            got = all(any(row[f] in s for f, s in clause) for clause in clauses)
            assert got == reference.holds(rule.expr, named), (rule.text, named)
    for row in itertools.product(*(range(n) for n in problem.levels)):
        named = dict(zip(model.factor_names(), lowered.names.decode_row(row)))
        expected = all(reference.holds(rule.expr, named) for rule in model.constraints)
        assert problem.row_is_valid(row) == expected


# --------------------------------------------------------------------------- random models
NUMERIC_POOL = ["-2", "0", "1", "1.5", "3", "10", "-0.5"]
STRING_POOL = ["a", "A", "b", "ab", "Ab", "W1", "w2", "x y", "*", "?", "[a]", ""]
LIKE_POOL = ["*", "a*", "A*", "?", "??", "*b", "*B*", "w?", "x y", "[a]", "*]", "?*", ""]
OPS = ["=", "<>", "<", "<=", ">", ">="]


@st.composite
def factors(draw: st.DrawFn, case_sensitive: bool) -> tuple[Factor, ...]:
    out = []
    for i in range(draw(st.integers(2, 4))):
        numeric = draw(st.booleans())
        pool = NUMERIC_POOL if numeric else STRING_POOL
        # distinct under the model's comparison (no "a"/"A" pair when case-insensitive)
        key = (lambda v: v) if numeric or case_sensitive else str.lower
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique_by=key))
        out.append(Factor(f"F{i}", tuple(values), numeric))
    return tuple(out)


def const_for(draw: st.DrawFn, factor: Factor) -> Const:
    if factor.numeric:
        return Const(draw(st.sampled_from([*factor.values, *NUMERIC_POOL, "2", "-1"])), False)
    text = draw(st.sampled_from([*factor.values, *STRING_POOL, "B", "zz"]))
    return Const(text.upper() if draw(st.booleans()) else text, True)


@st.composite
def leaves(draw: st.DrawFn, fs: tuple[Factor, ...]) -> Expr:
    factor = draw(st.sampled_from(fs))
    ref = FieldRef(factor.name)
    same_type = [f for f in fs if f.numeric == factor.numeric]
    kinds = ["const", "field", "in"] + ([] if factor.numeric else ["like"])
    kind = draw(st.sampled_from(kinds))
    if kind == "const":
        return Comparison(draw(st.sampled_from(OPS)), ref, const_for(draw, factor))
    if kind == "field":
        other = FieldRef(draw(st.sampled_from(same_type)).name)
        return Comparison(draw(st.sampled_from(OPS)), ref, other)
    if kind == "in":
        values = tuple(const_for(draw, factor) for _ in range(draw(st.integers(1, 3))))
        return InSet(ref, values, draw(st.booleans()))
    return Like(ref, Const(draw(st.sampled_from(LIKE_POOL)), True), draw(st.booleans()))


def predicates(fs: tuple[Factor, ...]) -> st.SearchStrategy[Expr]:
    return st.recursive(
        leaves(fs),
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        ),
        max_leaves=7,
    )


@st.composite
def models(draw: st.DrawFn) -> CombinatorialModel:
    case_sensitive = draw(st.booleans())
    fs = draw(factors(case_sensitive))
    preds = predicates(fs)
    rule_exprs = st.one_of(preds, st.builds(IfThen, preds, preds, st.one_of(st.none(), preds)))
    exprs = draw(st.lists(rule_exprs, min_size=1, max_size=3))
    rules = tuple(Constraint(e, f"rule {i}", Location(line=i + 1), i) for i, e in enumerate(exprs))
    return CombinatorialModel(fs, rules, strength=1, case_sensitive=case_sensitive)


@settings(max_examples=300, deadline=None)
@given(models())
def test_lowered_clauses_agree_with_the_ast_on_every_row(model: CombinatorialModel) -> None:
    assert_equivalent(model, lower_model(model))


@settings(max_examples=150, deadline=None)
@given(models())
def test_enumeration_fallback_agrees_with_the_ast_on_every_row(model: CombinatorialModel) -> None:
    with mock.patch.object(lower, "CLAUSE_CAP", 0):  # every non-trivial rule enumerates
        lowered = lower_model(model)
    assert_equivalent(model, lowered)


# --------------------------------------------------------------------------- specific cases
def pict_model(tmp_path: Path, text: str) -> CombinatorialModel:
    path = tmp_path / "m.txt"
    path.write_text(text, "utf-8")
    return load_pict(path)


def literals(lowered: Lowered) -> list[list[tuple[str, list[str]]]]:
    names = lowered.names
    return [
        [(names.factor_names[f], [names.values[f][v] for v in sorted(s)]) for f, s in clause]
        for clause in lowered.problem.clauses
    ]


def test_if_then_lowers_to_one_clause_per_conjunct(tmp_path: Path) -> None:
    model = pict_model(
        tmp_path,
        'A: x, y, z\nB: 1, 2, 3\nIF [A] = "X" THEN [B] > 1 AND [B] <> 3;\n[B] <> 1;\n',
    )
    lowered = lower_model(model)
    assert literals(lowered) == [
        [("A", ["y", "z"]), ("B", ["2", "3"])],
        [("A", ["y", "z"]), ("B", ["1", "2"])],
        [("B", ["2", "3"])],
    ]
    assert lowered.problem.clause_origin == (0, 0, 1)
    assert lowered.names.constraints == model.constraints


def test_tautologies_are_dropped_and_contradictions_kept(tmp_path: Path) -> None:
    text = (
        'A: x, y\nB: 1, 2\n[A] = "x" OR [A] <> "x";\n[B] > 5;\n[B] = [B];\n'
        "[B] = 1 AND [B] = 2;\n"
    )
    problem = lower_model(pict_model(tmp_path, text)).problem
    assert problem.clauses == ((), ((1, frozenset({0})),), ((1, frozenset({1})),))
    assert problem.clause_origin == (1, 3, 3)  # rules 0 and 2 always hold


def test_field_to_field_comparison_groups_values_with_the_same_partners(tmp_path: Path) -> None:
    text = "A: 1, 2, 3, 4\nB: 2, 3\n[A] < [B];\n"
    lowered = lower_model(pict_model(tmp_path, text))
    # A=1 → B any (tautology, dropped); A=2 → B=3; A=3,4 → no B at all.
    assert sorted(literals(lowered)) == [
        [("A", ["1", "2"])],
        [("A", ["1", "3", "4"]), ("B", ["3"])],
    ]


def test_like_treats_brackets_literally_and_ignores_case_in_pict_files(tmp_path: Path) -> None:
    text = 'A: [x], x, Xy, W1\nB: p, q\nIF [A] LIKE "[x]" THEN [B] = "p";\n[A] NOT LIKE "w?";\n'
    assert literals(lower_model(pict_model(tmp_path, text))) == [
        [("A", ["x", "Xy", "W1"]), ("B", ["p"])],
        [("A", ["[x]", "x", "Xy"])],
    ]


def test_numeric_factors_compare_as_numbers(tmp_path: Path) -> None:
    text = "N: 9, 10, 1.50, -2\nS: 9, 10, x\n[N] >= 1.5;\n[S] < \"9\";\n"
    assert literals(lower_model(pict_model(tmp_path, text))) == [
        [("N", ["9", "10", "1.50"])],
        [("S", ["10"])],  # string order: "10" < "9" < "x"
    ]


def test_huge_cnf_falls_back_to_enumerating_the_rule_scope() -> None:
    values = tuple(str(v) for v in range(16))
    fs = (Factor("A", values, True), Factor("B", values, True))
    # The diagonal as a disjunction of conjunctions distributes into 2^16 clauses.
    text = " OR ".join(f"([A] = {v} AND [B] = {v})" for v in values)
    rule = parse_constraint(text, Location("m", 1, 1), 0)
    model = CombinatorialModel(fs, (rule,))
    lowered = lower_model(model)
    assert len(lowered.problem.clauses) == 16  # one per A value: [A] ≠ v ∨ [B] = v
    assert_equivalent(model, lowered)


def test_rule_too_complex_names_the_rule() -> None:
    fs = tuple(Factor(f"P{i}", ("0", "1"), True) for i in range(40))
    text = " OR ".join(f"([P{2 * i}] = 0 AND [P{2 * i + 1}] = 0)" for i in range(20))
    rule = parse_constraint(text, Location("big.txt", 7, 1), 3)
    with pytest.raises(SpecError) as info:
        lower_model(CombinatorialModel(fs, (rule,)))
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.loc.file, diag.loc.line) == ("rule-too-complex", "big.txt", 7)
    assert "rule too complex" in diag.msg and "40 fields" in diag.msg


def test_name_map_lookups(tmp_path: Path) -> None:
    names = lower_model(pict_model(tmp_path, "A: Yes, no\nN: 1, 2.0\n")).names
    assert names.value_index("A", "no") == 1
    assert names.value_index("A", "YES") == 0  # PICT files compare case-insensitively
    assert names.value_index("N", "2") == 1  # numeric factors compare numerically
    assert names.decode_row((1, 0)) == ("no", "1")
    with pytest.raises(KeyError):
        names.value_index("A", "maybe")
    with pytest.raises(KeyError):
        names.value_index("Z", "x")
    with pytest.raises(UsageError):
        names.decode_row((0, -1))


def test_strength_and_levels_carry_over(tmp_path: Path) -> None:
    problem = lower_model(load_pict(BENCHMARKS / "vendor.txt", strength=3)).problem
    assert (problem.levels, problem.strength) == ((20, 6, 5, 4, 3, 3), 3)


@pytest.mark.parametrize(
    "path", sorted(p for p in BENCHMARKS.glob("*.txt") if p.name != "vendor.txt"),
    ids=lambda p: p.name,
)
def test_benchmark_rules_each_forbid_one_combination(path: Path) -> None:
    model = load_pict(path)
    problem = lower_model(model).problem
    # CASA-derived benchmarks: every rule is one clause of single-value exclusions.
    assert problem.clause_origin == tuple(range(len(model.constraints)))
    for clause in problem.clauses:
        assert all(len(s) == problem.levels[f] - 1 for f, s in clause)
