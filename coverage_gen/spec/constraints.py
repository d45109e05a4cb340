"""The constraint mini-language (PICT's): tokenizer + recursive-descent parser → AST.

Grammar (keywords case-insensitive, whitespace and newlines free)::

    rule      := IF pred THEN pred [ELSE pred] [";"]  |  pred [";"]
    pred      := conj { OR conj }
    conj      := unary { AND unary }
    unary     := NOT unary | "(" pred ")" | term
    term      := field op (value | field)
               | field [NOT] IN "{" value { "," value } "}"
               | field [NOT] LIKE string
    field     := "[" any characters except "]" "]"      (surrounding spaces trimmed)
    value     := string | number
    string    := '"' any characters except '"' '"'      (no escapes, as in PICT)
    number    := [+-] digits [. digits] [e [+-] digits]

Precedence is NOT > AND > OR. Errors are ``SpecError`` (code ``constraint-syntax``) located
at the offending token: the rule's own ``Location`` shifted by the token's line/column within
the text. The text is never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from coverage_gen.errors import Location, spec_error
from coverage_gen.spec.model import (
    COMPARISON_OPERATORS,
    And,
    Comparison,
    Const,
    Constraint,
    Expr,
    FieldRef,
    IfThen,
    InSet,
    Like,
    Not,
    Or,
)

__all__ = ["parse_constraint", "parse_number", "is_number", "value_key", "NUMBER_RE"]

CODE = "constraint-syntax"
KEYWORDS = frozenset({"IF", "THEN", "ELSE", "AND", "OR", "NOT", "IN", "LIKE"})
OPERATOR_HINT = "a comparison operator (=, <>, <, <=, >, >=, IN, LIKE)"

# One number syntax for the whole spec layer (factor typing uses it too): no nan/inf/1_000.
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(text: str) -> Decimal | None:
    """The value of ``text`` if it is a number in the constraint language, else ``None``."""
    stripped = text.strip()
    if not NUMBER_RE.fullmatch(stripped):
        return None
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


def is_number(text: str) -> bool:
    return parse_number(text) is not None


def value_key(text: str, numeric: bool, case_sensitive: bool) -> Decimal | str:
    """What a value compares as: its number (numeric factors, ``"1.0"`` equals ``"1"``),
    else its text, casefolded when the model compares case-insensitively (PICT files).

    Shared by ``check`` (vocabulary membership) and ``cover.lower`` (atom semantics) so the
    two can never disagree about which literal names which value.
    """
    if numeric:
        number = parse_number(text)
        if number is not None:
            return number
    return text if case_sensitive else text.casefold()


# --------------------------------------------------------------------------- tokens
Kind = Literal["field", "string", "number", "op", "punct", "word", "end"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # as written (for field/string: the content without brackets/quotes)
    line: int  # 0-based line offset within the rule text
    col: int  # 1-based column within that line

    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "word" and upper in KEYWORDS else None

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the rule"
        if self.kind == "field":
            return f"[{self.text}]"
        if self.kind == "string":
            return f'"{self.text}"'
        return f"'{self.text}'"


_OPERATOR_RE = re.compile(r"<>|<=|>=|==|!=|=|<|>")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PUNCT = "(){},;"


class _Tokenizer:
    """Splits rule text into tokens, tracking line/column so errors point into the text."""

    def __init__(self, text: str, base: Location) -> None:
        self.text = text
        self.base = base
        self.pos = 0
        self.line = 0
        self.line_start = 0

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                out.append(Token("end", "", self.line, self._col()))
                return out
            out.append(self._next())

    def _col(self, pos: int | None = None) -> int:
        return (self.pos if pos is None else pos) - self.line_start + 1

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            if self.text[self.pos] == "\n":
                self.line += 1
                self.line_start = self.pos + 1
            self.pos += 1

    def _next(self) -> Token:
        char = self.text[self.pos]
        if char == "[":
            return self._delimited("field", "]", "field name", "']'")
        if char == '"':
            return self._delimited("string", '"', "string", 'a closing \'"\'')
        match = NUMBER_RE.match(self.text, self.pos)
        if match:
            return self._take("number", match.end())
        match = _OPERATOR_RE.match(self.text, self.pos)
        if match:
            return self._take("op", match.end())
        match = _WORD_RE.match(self.text, self.pos)
        if match:
            return self._take("word", match.end())
        if char in _PUNCT:
            return self._take("punct", self.pos + 1)
        raise _error(self.base, self.line, self._col(), f"unexpected character {char!r}")

    def _take(self, kind: Kind, end: int) -> Token:
        token = Token(kind, self.text[self.pos : end], self.line, self._col())
        self.pos = end
        return token

    def _delimited(self, kind: Kind, close: str, what: str, expected: str) -> Token:
        """``[name]`` or ``"text"``: content up to the closing char (may span lines)."""
        start_line, start_col = self.line, self._col()
        end = self.text.find(close, self.pos + 1)
        if end < 0:
            raise _error(
                self.base, start_line, start_col, f"unterminated {what}: expected {expected}"
            )
        content = self.text[self.pos + 1 : end]
        newlines = content.count("\n")
        if newlines:  # keep line tracking right after a value spanning lines
            self.line += newlines
            self.line_start = self.pos + 1 + content.rfind("\n") + 1
        self.pos = end + 1
        if kind == "field":
            content = content.strip()
            if not content:
                raise _error(self.base, start_line, start_col, "empty field name '[]'")
        return Token(kind, content, start_line, start_col)


# --------------------------------------------------------------------------- locations/errors
def _locate(base: Location, line: int, col: int) -> Location:
    """The absolute location of (line offset, column) inside a rule written at ``base``."""
    first_line = base.line if base.line is not None else 1
    if line == 0 and base.col is not None:
        col = base.col + col - 1
    return Location(base.file, first_line + line, col, base.path)


def _error(base: Location, line: int, col: int, msg: str) -> Exception:
    return spec_error(CODE, _locate(base, line, col), msg)


# --------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, tokens: list[Token], base: Location) -> None:
        self.tokens = tokens
        self.base = base
        self.i = 0

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "end":
            self.i += 1
        return token

    def _loc(self, token: Token) -> Location:
        return _locate(self.base, token.line, token.col)

    def _fail(self, expected: str, after: str | None = None, hint: str = "") -> Exception:
        where = f" after {after}" if after else ""
        msg = f"expected {expected}{where}, found {self.tok.describe()}"
        return _error(self.base, self.tok.line, self.tok.col, msg + (f" ({hint})" if hint else ""))

    def _at_keyword(self, *words: str) -> bool:
        return self.tok.keyword() in words

    def _at_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    def _expect_keyword(self, word: str, after: str) -> Token:
        if not self._at_keyword(word):
            raise self._fail(word, after)
        return self._advance()

    # -- grammar
    def rule(self) -> Expr:
        if self._at_keyword("IF"):
            start = self._advance()
            cond = self.pred()
            self._expect_keyword("THEN", "the IF condition")
            then = self.pred()
            otherwise: Expr | None = None
            if self._at_keyword("ELSE"):
                self._advance()
                otherwise = self.pred()
            expr: Expr = IfThen(cond, then, otherwise, loc=self._loc(start))
        else:
            expr = self.pred()
        if self._at_punct(";"):
            self._advance()
        if self.tok.kind != "end":
            raise self._fail(self._end_expectation(expr))
        return expr

    def _end_expectation(self, expr: Expr) -> str:
        if isinstance(expr, IfThen):
            if expr.otherwise is None:
                return "AND, OR, ELSE, ';' or the end of the rule"
        return "AND, OR, ';' or the end of the rule"

    def pred(self) -> Expr:
        start = self.tok
        operands = [self.conj()]
        while self._at_keyword("OR"):
            self._advance()
            operands.append(self.conj())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), loc=self._loc(start))

    def conj(self) -> Expr:
        start = self.tok
        operands = [self.unary()]
        while self._at_keyword("AND"):
            self._advance()
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands), loc=self._loc(start))

    def unary(self) -> Expr:
        if self._at_keyword("NOT"):
            start = self._advance()
            return Not(self.unary(), loc=self._loc(start))
        if self._at_punct("("):
            self._advance()
            inner = self.pred()
            if not self._at_punct(")"):
                raise self._fail("')' or AND/OR")
            self._advance()
            return inner
        if self._at_keyword("IF"):
            raise self._fail("a condition", hint="IF may only start a rule")
        return self.term()

    def term(self) -> Expr:
        if self.tok.kind != "field":
            raise self._fail("a field reference like [Name], NOT or '('")
        field_tok = self._advance()
        ref = FieldRef(field_tok.text, loc=self._loc(field_tok))
        after = f"[{ref.name}]"
        loc = ref.loc
        if self.tok.kind == "op":
            return self._comparison(ref, loc)
        negated = False
        if self._at_keyword("NOT"):
            self._advance()
            negated = True
            after += " NOT"
            if not self._at_keyword("IN", "LIKE"):
                raise self._fail("IN or LIKE", after)
        if self._at_keyword("IN"):
            self._advance()
            return InSet(ref, self._value_set(), negated, loc=loc)
        if self._at_keyword("LIKE"):
            self._advance()
            if self.tok.kind != "string":
                raise self._fail('a quoted pattern like "W*"', "LIKE")
            pattern_tok = self._advance()
            pattern = Const(pattern_tok.text, True, loc=self._loc(pattern_tok))
            return Like(ref, pattern, negated, loc=loc)
        raise self._fail(OPERATOR_HINT, after)

    def _comparison(self, ref: FieldRef, loc: Location) -> Comparison:
        op_tok = self.tok
        if op_tok.text not in COMPARISON_OPERATORS:
            hint = "write '<>' for not equal" if op_tok.text == "!=" else "write '=' for equal"
            raise self._fail(OPERATOR_HINT, f"[{ref.name}]", hint)
        self._advance()
        right: FieldRef | Const
        if self.tok.kind == "field":
            other = self._advance()
            right = FieldRef(other.text, loc=self._loc(other))
        else:
            right = self._value(f"'{op_tok.text}'")
        return Comparison(op_tok.text, ref, right, loc=loc)

    def _value(self, after: str) -> Const:
        token = self.tok
        if token.kind in ("string", "number"):
            self._advance()
            return Const(token.text, token.kind == "string", loc=self._loc(token))
        hint = "strings must be in double quotes" if token.kind == "word" else ""
        raise self._fail("a value (a quoted string or a number)", after, hint)

    def _value_set(self) -> tuple[Const, ...]:
        if not self._at_punct("{"):
            raise self._fail("'{' to start the value set", "IN")
        self._advance()
        values = [self._value("'{'")]
        while self._at_punct(","):
            self._advance()
            values.append(self._value("','"))
        if not self._at_punct("}"):
            raise self._fail("',' or '}'", "a value in the set")
        self._advance()
        return tuple(values)


def parse_constraint(text: str, loc: Location, index: int) -> Constraint:
    """Parse one rule written at ``loc`` (the position of ``text``'s first character).

    >>> rule = parse_constraint('IF [A] = "x" THEN [B] <> 2;', Location(line=3), 0)
    >>> rule.expr.then.op, rule.expr.then.right.text, rule.expr.then.loc.col
    ('<>', '2', 19)
    """
    tokens = _Tokenizer(text, loc).tokens()
    if tokens[0].kind == "end":
        raise _error(loc, 0, 1, "empty rule: expected a condition or IF")
    expr = _Parser(tokens, loc).rule()
    return Constraint(expr=expr, text=text.strip(), loc=loc, index=index)
