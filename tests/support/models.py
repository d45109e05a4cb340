"""Hypothesis strategies for small random models with random rules (as AST objects)."""

from __future__ import annotations

from hypothesis import strategies as st

from coverage_gen.errors import Location
from coverage_gen.spec.model import (
    And, CombinatorialModel, Comparison, Const, Constraint, Factor, FieldRef, IfThen, InSet,
    Not, Or,
)

OPS = ("=", "<>", "<", "<=", ">", ">=")


@st.composite
def factors(draw: st.DrawFn, min_factors: int = 2, max_factors: int = 5, max_levels: int = 4) -> tuple[Factor, ...]:
    k = draw(st.integers(min_factors, max_factors))
    out = []
    for i in range(k):
        n = draw(st.integers(1, max_levels))
        numeric = draw(st.booleans())
        values = tuple(str(v * 10) for v in range(n)) if numeric else tuple(f"v{i}{chr(97 + v)}" for v in range(n))
        out.append(Factor(name=f"F{i}", values=values, numeric=numeric))
    return tuple(out)


def _atom(draw: st.DrawFn, fs: tuple[Factor, ...]) -> object:
    f = draw(st.sampled_from(fs))
    kind = draw(st.sampled_from(["cmp", "in", "field"]))
    if kind == "field":
        same_type = [g for g in fs if g.numeric == f.numeric]
        g = draw(st.sampled_from(same_type))
        return Comparison(draw(st.sampled_from(OPS)), FieldRef(f.name), FieldRef(g.name))
    if kind == "in":
        vals = draw(st.lists(st.sampled_from(f.values), min_size=1, max_size=len(f.values), unique=True))
        return InSet(FieldRef(f.name), tuple(Const(v, not f.numeric) for v in vals), draw(st.booleans()))
    op = draw(st.sampled_from(OPS)) if f.numeric else draw(st.sampled_from(("=", "<>")))
    return Comparison(op, FieldRef(f.name), Const(draw(st.sampled_from(f.values)), not f.numeric))


def _expr(draw: st.DrawFn, fs: tuple[Factor, ...], depth: int) -> object:
    if depth == 0:
        return _atom(draw, fs)
    kind = draw(st.sampled_from(["atom", "not", "and", "or", "if", "ifelse"]))
    sub = lambda: _expr(draw, fs, depth - 1)  # noqa: E731
    if kind == "atom":
        return _atom(draw, fs)
    if kind == "not":
        return Not(sub())
    if kind == "and":
        return And((sub(), sub()))
    if kind == "or":
        return Or((sub(), sub()))
    if kind == "if":
        return IfThen(sub(), sub())
    return IfThen(sub(), sub(), sub())


@st.composite
def models(draw: st.DrawFn, max_rules: int = 3, max_factors: int = 5, max_levels: int = 4) -> CombinatorialModel:
    fs = draw(factors(max_factors=max_factors, max_levels=max_levels))
    n_rules = draw(st.integers(0, max_rules))
    rules = tuple(
        Constraint(expr=_expr(draw, fs, draw(st.integers(0, 2))), text=f"rule {i}", loc=Location("m", i + 1), index=i)
        for i in range(n_rules)
    )
    t = draw(st.integers(1, len(fs)))
    seed = draw(st.integers(0, 3))
    return CombinatorialModel(factors=fs, constraints=rules, strength=t, seed=seed, source="m")
