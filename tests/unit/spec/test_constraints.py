"""Constraint parser: grammar, precedence, locations, error messages, round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coverage_gen.errors import Location, SpecError
from coverage_gen.spec.constraints import is_number, parse_constraint
from coverage_gen.spec.model import (
    And,
    Comparison,
    Const,
    Expr,
    FieldRef,
    IfThen,
    InSet,
    Like,
    Not,
    Or,
)

HERE = Location("m.txt", 10, 5)


def parse(text: str) -> Expr:
    return parse_constraint(text, HERE, 0).expr


def A(op: str, value: str, quoted: bool = True, name: str = "A") -> Comparison:
    return Comparison(op, FieldRef(name), Const(value, quoted))


def syntax_error(text: str) -> tuple[int | None, int | None, str]:
    with pytest.raises(SpecError) as info:
        parse_constraint(text, HERE, 0)
    (diag,) = info.value.diagnostics
    assert diag.code == "constraint-syntax"
    assert diag.loc.file == "m.txt"
    return diag.loc.line, diag.loc.col, diag.msg


# --------------------------------------------------------------------------- grammar
def test_if_then_else_with_sets_like_and_numbers() -> None:
    expr = parse('IF [A] IN {"x", 3} THEN [B] NOT LIKE "W*" ELSE [C] >= -1.5;')
    assert expr == IfThen(
        InSet(FieldRef("A"), (Const("x", True), Const("3", False))),
        Like(FieldRef("B"), Const("W*", True), negated=True),
        Comparison(">=", FieldRef("C"), Const("-1.5", False)),
    )


def test_bare_predicate_is_an_invariant_and_semicolon_is_optional() -> None:
    assert parse('[A] <> "x"') == parse('[A] <> "x";') == A("<>", "x")


@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
def test_every_comparison_operator(op: str) -> None:
    assert parse(f"[A] {op} 2") == A(op, "2", quoted=False)
    assert parse(f"[A]{op}[B]") == Comparison(op, FieldRef("A"), FieldRef("B"))


def test_precedence_not_over_and_over_or() -> None:
    a, b, c = A("=", "a"), A("=", "b"), A("=", "c")
    assert parse('[A] = "a" OR [A] = "b" AND NOT [A] = "c"') == Or((a, And((b, Not(c)))))
    assert parse('([A] = "a" OR [A] = "b") AND [A] = "c"') == And((Or((a, b)), c))
    assert parse('NOT ([A] = "a" AND [A] = "b")') == Not(And((a, b)))


def test_keywords_are_case_insensitive() -> None:
    expr = parse('if [A] = "x" then not [B] in {"y"} or [C] not like "z" else [D] = 1')
    assert isinstance(expr, IfThen)
    assert isinstance(expr.then, Or)
    assert expr.otherwise == A("=", "1", quoted=False, name="D")


def test_field_names_keep_spaces_and_punctuation_and_are_trimmed() -> None:
    expr = parse('[ Payment terms (days) ] = "Net 30"')
    assert expr == A("=", "Net 30", name="Payment terms (days)")


def test_strings_end_at_the_next_quote_and_keep_everything_else() -> None:
    assert parse('[A] = "a;b[c]{d} IF \\"') == A("=", "a;b[c]{d} IF \\")


def test_numbers_negative_and_decimal() -> None:
    expr = parse("[A] IN {-3, 2.50, .5, 1e3}")
    assert isinstance(expr, InSet)
    assert [c.text for c in expr.values] == ["-3", "2.50", ".5", "1e3"]
    assert not any(c.quoted for c in expr.values)


def test_is_number_rejects_python_only_spellings() -> None:
    assert is_number("-1.5") and is_number(" 7 ")
    assert not any(is_number(t) for t in ["nan", "inf", "1_000", "0x10", "", "1,5"])


def test_constraint_keeps_text_loc_and_index() -> None:
    rule = parse_constraint('  [A] = "x";\n', HERE, 7)
    assert (rule.text, rule.loc, rule.index) == ('[A] = "x";', HERE, 7)


# --------------------------------------------------------------------------- locations
def test_every_node_is_located_on_its_first_token() -> None:
    text = 'IF [A] = "x"\n   THEN NOT [B] IN {1, 2}'
    expr = parse_constraint(text, HERE, 0).expr
    assert isinstance(expr, IfThen)
    assert (expr.loc.line, expr.loc.col) == (10, 5)
    assert isinstance(expr.cond, Comparison)
    assert (expr.cond.loc.line, expr.cond.loc.col) == (10, 8)
    assert (expr.cond.right.loc.line, expr.cond.right.loc.col) == (10, 14)
    negation = expr.then
    assert isinstance(negation, Not)
    # line 2 of the text: columns are absolute, not shifted by the rule's start column
    assert (negation.loc.line, negation.loc.col) == (11, 9)
    inset = negation.operand
    assert isinstance(inset, InSet)
    assert (inset.field.loc.line, inset.field.loc.col) == (11, 13)
    assert [(c.loc.line, c.loc.col) for c in inset.values] == [(11, 21), (11, 24)]


def test_location_without_line_or_col_starts_at_one() -> None:
    with pytest.raises(SpecError) as info:
        parse_constraint("[A] = ", Location(), 0)
    assert (info.value.diagnostics[0].loc.line, info.value.diagnostics[0].loc.col) == (1, 7)


# --------------------------------------------------------------------------- errors
def test_unknown_operator_word() -> None:
    line, col, msg = syntax_error('IF [Country] EQUALS "US" THEN [A] = 1')
    assert (line, col) == (10, 18)
    assert msg == (
        "expected a comparison operator (=, <>, <, <=, >, >=, IN, LIKE) after [Country], "
        "found 'EQUALS'"
    )


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("[A] != 1", (10, 9), "found '!=' (write '<>' for not equal)"),
        ("[A] == 1", (10, 9), "found '==' (write '=' for equal)"),
        ("[A] = abc", (10, 11), "expected a value (a quoted string or a number) after '='"),
        ("[A] = abc", (10, 11), "(strings must be in double quotes)"),
        ('IF [A] = 1 [B] = 2', (10, 16), "expected THEN after the IF condition, found [B]"),
        ('[A] = 1 [B] = 2', (10, 13), "expected AND, OR, ';' or the end of the rule, found [B]"),
        ('IF [A] = 1 THEN [B] = 2 [C]', (10, 29), "expected AND, OR, ELSE, ';' or the end"),
        ('[A] IN ("x")', (10, 12), "expected '{' to start the value set after IN, found '('"),
        ('[A] IN {"x" "y"}', (10, 17), "expected ',' or '}' after a value in the set"),
        ('[A] IN {}', (10, 13), "expected a value (a quoted string or a number) after '{'"),
        ('[A] NOT = 1', (10, 13), "expected IN or LIKE after [A] NOT, found '='"),
        ("[A] LIKE 3", (10, 14), 'expected a quoted pattern like "W*" after LIKE, found \'3\''),
        ('([A] = 1', (10, 13), "expected ')' or AND/OR, found the end of the rule"),
        ('[A] = 1 AND', (10, 16), "expected a field reference like [Name], NOT or '('"),
        ('"x" = [A]', (10, 5), "expected a field reference like [Name], NOT or '(', found \"x\""),
        ('[A] = "x', (10, 11), "unterminated string: expected a closing '\"'"),
        ('[A = 1', (10, 5), "unterminated field name: expected ']'"),
        ("[ ] = 1", (10, 5), "empty field name '[]'"),
        ("[A] = 1 $", (10, 13), "unexpected character '$'"),
        ("[A] = 1 AND IF [B] = 2 THEN [C] = 3", (10, 17), "(IF may only start a rule)"),
        ("  ;", (10, 7), "expected a field reference like [Name], NOT or '(', found ';'"),
        ("   ", (10, 5), "empty rule"),
    ],
)
def test_syntax_errors_point_at_the_offending_token(
    text: str, where: tuple[int, int], fragment: str
) -> None:
    line, col, msg = syntax_error(text)
    assert (line, col) == where
    assert fragment in msg


def test_errors_on_later_lines_use_that_lines_columns() -> None:
    line, col, msg = syntax_error('IF [A] = 1\nTHEN [B] IN {"a",\n    2 3}')
    assert (line, col) == (12, 7)
    assert "found '3'" in msg


# --------------------------------------------------------------------------- round trip
NAMES = st.sampled_from(["A", "b", "Pay term", "x(1)", "Ünï"])
STRINGS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='"\r\n'), max_size=6
)
NUMBERS = st.sampled_from(["0", "-1", "2.5", "-0.75", "10", ".5", "3e2"])
CONSTS = st.one_of(
    STRINGS.map(lambda s: Const(s, True)), NUMBERS.map(lambda s: Const(s, False))
)
FIELDS = NAMES.map(FieldRef)
LEAVES = st.one_of(
    st.builds(Comparison, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), FIELDS,
              st.one_of(CONSTS, FIELDS)),
    st.builds(InSet, FIELDS, st.lists(CONSTS, min_size=1, max_size=3).map(tuple), st.booleans()),
    st.builds(Like, FIELDS, STRINGS.map(lambda s: Const(s, True)), st.booleans()),
)
PREDICATES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=8,
)
RULES = st.one_of(
    PREDICATES,
    st.builds(IfThen, PREDICATES, PREDICATES, st.one_of(st.none(), PREDICATES)),
)


def render(expr: Expr) -> str:
    """Text for ``expr``; every compound operand is parenthesised (the parser keeps nesting)."""
    if isinstance(expr, IfThen):
        text = f"IF {render(expr.cond)} THEN {render(expr.then)}"
        return text + (f" ELSE {render(expr.otherwise)}" if expr.otherwise is not None else "")
    if isinstance(expr, Comparison):
        return f"[{expr.left.name}] {expr.op} {render_operand(expr.right)}"
    if isinstance(expr, InSet):
        values = ", ".join(render_operand(c) for c in expr.values)
        return f"[{expr.field.name}] {'NOT IN' if expr.negated else 'in'} {{{values}}}"
    if isinstance(expr, Like):
        keyword = "not like" if expr.negated else "LIKE"
        return f'[{expr.field.name}] {keyword} "{expr.pattern.text}"'
    if isinstance(expr, Not):
        return f"NOT {wrap(expr.operand)}"
    joiner = " AND " if isinstance(expr, And) else "\n  Or "
    return joiner.join(wrap(e) for e in expr.operands)


def wrap(expr: Expr) -> str:
    simple = isinstance(expr, (Comparison, InSet, Like, Not))
    return render(expr) if simple else f"({render(expr)})"


def render_operand(value: FieldRef | Const) -> str:
    if isinstance(value, FieldRef):
        return f"[{value.name}]"
    return f'"{value.text}"' if value.quoted else value.text


@given(RULES)
def test_rendered_rules_parse_back_to_the_same_ast(expr: Expr) -> None:
    assert parse(render(expr) + ";") == expr
