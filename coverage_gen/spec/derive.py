"""The tiny derivation language of multi-table specs (parsed, never ``eval``-ed).

Grammar::

    expr   := term (("+" | "-") term)*
    term   := factor ("*" factor)*
    factor := NUMBER | NAME | NAME "." NAME | NAME "(" expr ")" | "(" expr ")" | "-" factor

``NAME`` alone is a field of the same record, ``ref.NAME`` a field of the parent row that
reference field ``ref`` points to, ``lookup(expr)`` a lookup table from the spec's
``lookups:`` section. Dates plus or minus a number of days are dates; numbers combine with
``+ - *``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from coverage_gen.errors import Location, SpecError, spec_error
from coverage_gen.spec.model import DBin, DCall, DExpr, DField, DNum

__all__ = ["parse_derive", "derive_fields"]

_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*().]))")


def _tokens(text: str, loc: Location) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _error(text, loc, f"unexpected character {text[pos:].strip()[:1]!r} at offset {pos}")
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _error(text: str, loc: Location, why: str) -> SpecError:
    return spec_error("bad-derive", loc, f"derive {text!r}: {why}", text=text)


def parse_derive(text: str, loc: Location = Location()) -> DExpr:
    """Parse a derivation.

    Examples
    --------
    >>> parse_derive("issued + days(vendor_id.payment_terms)")
    DBin(op='+', left=DField(name='issued', via=None), right=DCall(func='days', arg=DField(name='payment_terms', via='vendor_id')))
    """
    tokens = _tokens(text, loc)
    if not tokens:
        raise _error(text, loc, "empty expression")
    parser = _Parser(text, tokens, loc)
    expr = parser.expr()
    if parser.pos != len(tokens):
        raise _error(text, loc, f"unexpected {tokens[parser.pos][1]!r}")
    return expr


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, str]], loc: Location) -> None:
        self.text, self.tokens, self.loc, self.pos = text, tokens, loc, 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise _error(self.text, self.loc, "expression ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _expect(self, op: str) -> None:
        kind, value = self._take()
        if value != op or kind != "op":
            raise _error(self.text, self.loc, f"expected {op!r}, got {value!r}")

    def expr(self) -> DExpr:
        left = self.term()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            left = DBin(op, left, self.term())
        return left

    def term(self) -> DExpr:
        left = self.factor()
        while self._peek() == "*":
            self._take()
            left = DBin("*", left, self.factor())
        return left

    def factor(self) -> DExpr:
        kind, value = self._take()
        if kind == "num":
            return DNum(Decimal(value))
        if value == "(":
            inner = self.expr()
            self._expect(")")
            return inner
        if value == "-":
            return DBin("-", DNum(Decimal(0)), self.factor())
        if kind != "name":
            raise _error(self.text, self.loc, f"unexpected {value!r}")
        if self._peek() == "(":
            self._take()
            arg = self.expr()
            self._expect(")")
            return DCall(value, arg)
        if self._peek() == ".":
            self._take()
            kind2, name = self._take()
            if kind2 != "name":
                raise _error(self.text, self.loc, f"expected a field name after '{value}.'")
            return DField(name, via=value)
        return DField(value)


def derive_fields(expr: DExpr) -> list[DField]:
    """Every field reference in ``expr``, left to right."""
    if isinstance(expr, DField):
        return [expr]
    if isinstance(expr, DCall):
        return derive_fields(expr.arg)
    if isinstance(expr, DBin):
        return derive_fields(expr.left) + derive_fields(expr.right)
    return []


def derive_calls(expr: DExpr) -> list[DCall]:
    if isinstance(expr, DCall):
        return [expr, *derive_calls(expr.arg)]
    if isinstance(expr, DBin):
        return derive_calls(expr.left) + derive_calls(expr.right)
    return []
