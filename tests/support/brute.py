"""Ground truth by brute force, for small models only: written for the tests, sharing no
code with the engine or with coverage_gen.verify (a third, deliberately naive evaluator)."""

from __future__ import annotations

import fnmatch
from itertools import combinations, product
from typing import Iterable, Sequence

from coverage_gen.spec.model import (
    And, CombinatorialModel, Comparison, Const, FieldRef, IfThen, InSet, Like, Not, Or,
)


def _num(text: str) -> float:
    return float(text)


def _compare(a: str, op: str, b: str, numeric: bool, case_sensitive: bool) -> bool:
    if numeric:
        x, y = _num(a), _num(b)
    elif case_sensitive:
        x, y = a, b
    else:
        x, y = a.lower(), b.lower()
    return {
        "=": x == y, "<>": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y,
    }[op]


def holds(expr: object, row: dict[str, str], model: CombinatorialModel) -> bool:
    numeric = {f.name: f.numeric for f in model.factors}
    cs = model.case_sensitive
    if isinstance(expr, Comparison):
        left = row[expr.left.name]
        if isinstance(expr.right, FieldRef):
            both = numeric[expr.left.name] and numeric[expr.right.name]
            return _compare(left, expr.op, row[expr.right.name], both, cs)
        return _compare(left, expr.op, expr.right.text, numeric[expr.left.name], cs)
    if isinstance(expr, InSet):
        name = expr.field.name
        hit = any(_compare(row[name], "=", c.text, numeric[name], cs) for c in expr.values)
        return hit != expr.negated
    if isinstance(expr, Like):
        value, pattern = row[expr.field.name], expr.pattern.text
        if not cs:
            value, pattern = value.lower(), pattern.lower()
        hit = fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))
        return hit != expr.negated
    if isinstance(expr, Not):
        return not holds(expr.operand, row, model)
    if isinstance(expr, And):
        return all(holds(e, row, model) for e in expr.operands)
    if isinstance(expr, Or):
        return any(holds(e, row, model) for e in expr.operands)
    if isinstance(expr, IfThen):
        if holds(expr.cond, row, model):
            return holds(expr.then, row, model)
        return True if expr.otherwise is None else holds(expr.otherwise, row, model)
    raise TypeError(f"unknown node {expr!r}")


def row_ok(row: dict[str, str], model: CombinatorialModel) -> bool:
    return all(holds(c.expr, row, model) for c in model.constraints)


def valid_rows(model: CombinatorialModel) -> list[tuple[str, ...]]:
    names = [f.name for f in model.factors]
    return [
        values
        for values in product(*(f.values for f in model.factors))
        if row_ok(dict(zip(names, values)), model)
    ]


def tuples_of(rows: Iterable[Sequence[str]], k: int, t: int) -> set[tuple[tuple[int, ...], tuple[str, ...]]]:
    out = set()
    for row in rows:
        for cols in combinations(range(k), t):
            out.add((cols, tuple(row[c] for c in cols)))
    return out


def check_array(model: CombinatorialModel, rows: Sequence[Sequence[str]], t: int) -> tuple[set, list]:
    """Return (missing feasible tuples, invalid rows) of ``rows`` against ``model``."""
    names = [f.name for f in model.factors]
    k = len(names)
    feasible = tuples_of(valid_rows(model), k, t)
    present = tuples_of(rows, k, t)
    invalid = [r for r in rows if not row_ok(dict(zip(names, r)), model)]
    return feasible - present, invalid
