"""``CombinatorialModel`` → integer ``CoverageProblem`` (+ the map back to names).

Each rule is compiled on its own by small pure passes (see ``lower_rule``, the one place that
lists them):

1. ``resolve_atoms``   AST → formula whose leaves are set literals ``(factor, values)`` and
                       pair relations (field-to-field comparisons); IF/THEN/ELSE → AND/OR.
2. ``push_negations``  negation normal form: NOT only ever applies to a leaf, where it is the
                       complement set (or complement pair table).
3. ``expand_relations`` a pair relation becomes a few clauses ``[A] ∉ X ∨ [B] ∈ Y``.
4. ``distribute``      CNF by distribution, clauses normalised on the fly, capped per rule.
   ``enumerate_forbidden`` replaces 3–4 when the CNF would be too big: evaluate the rule over
                       the product of its factors' levels and forbid the failing combinations.
5. ``tidy``            normalise, drop tautologies, dedupe (an empty clause is kept: the rule
                       alone is unsatisfiable, which the analysis layer reports).

Model-level passes (``lower_model``): ``negative_clauses`` (PICT negative testing: no row holds
two out-of-range values; origin ``NEGATIVE_ORIGIN``) and ``seed_rows`` (required rows as
value indices, -1 = free).

Atom semantics are PICT's (see ``spec.constraints.value_key``): numeric factors compare as
numbers, others as text, casefolded when ``model.case_sensitive`` is False. Lowering assumes a
model that passed ``spec.check.check_model``; on an ill-typed literal it falls back to text
comparison rather than failing.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from math import prod

import numpy as np
import numpy.typing as npt

from coverage_gen.engine.problem import Clause, CoverageProblem, SetLiteral, normalise_clause
from coverage_gen.errors import UsageError, spec_error
from coverage_gen.spec.constraints import value_key
from coverage_gen.spec.model import (
    And,
    CombinatorialModel,
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

__all__ = [
    "CLAUSE_CAP",
    "NEGATIVE_ORIGIN",
    "SCOPE_CAP",
    "Lowered",
    "LoweringContext",
    "NameMap",
    "like_regex",
    "lower_model",
    "lower_rule",
    "negative_clauses",
    "seed_rows",
]

CLAUSE_CAP = 20_000  # most CNF clauses one rule may distribute into
SCOPE_CAP = 2_000_000  # most combinations the enumeration fallback may evaluate
# ``clause_origin`` of the clauses that keep negative values apart (not a user rule ordinal)
NEGATIVE_ORIGIN = -1


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class NameMap:
    """Value indices ↔ names; ``constraints[i]`` is the rule with ``index`` i."""

    factor_names: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    constraints: tuple[Constraint, ...]
    numeric: tuple[bool, ...] = ()
    case_sensitive: bool = True
    _lookup: dict[str, dict[object, int]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for f, name in enumerate(self.factor_names):
            table: dict[object, int] = {}
            for v, text in reversed(list(enumerate(self.values[f]))):  # first spelling wins
                table[self._key(f, text)] = v
                table[("exact", text)] = v
            self._lookup[name] = table

    def _key(self, f: int, text: str) -> object:
        numeric = bool(self.numeric) and self.numeric[f]
        return value_key(text, numeric, self.case_sensitive)

    def value_index(self, factor_name: str, value_text: str) -> int:
        """Index of ``value_text`` in the factor's vocabulary: the exact spelling, else the
        value it compares equal to (``"1.0"`` for ``1``, any case when case-insensitive)."""
        table = self._lookup.get(factor_name)
        if table is None:
            raise KeyError(f"unknown factor {factor_name!r}")
        f = self.factor_names.index(factor_name)
        found = table.get(("exact", value_text), table.get(self._key(f, value_text)))
        if found is None:
            raise KeyError(f"{value_text!r} is not a value of {factor_name!r}")
        return found

    def decode_row(self, row_indices: Sequence[int]) -> tuple[str, ...]:
        """The value names of a complete row of indices."""
        if len(row_indices) != len(self.values):
            raise UsageError(f"row has {len(row_indices)} cells, expected {len(self.values)}")
        if any(int(v) < 0 for v in row_indices):
            raise UsageError("cannot decode a partial row (free cells are -1)")
        return tuple(self.values[f][int(v)] for f, v in enumerate(row_indices))


@dataclass(frozen=True, slots=True)
class Lowered:
    problem: CoverageProblem
    names: NameMap


# --------------------------------------------------------------------------- formula IR
@dataclass(frozen=True, slots=True)
class Lit:
    """The row's value of ``factor`` is in ``values``."""

    factor: int
    values: frozenset[int]


@dataclass(frozen=True, slots=True)
class Rel:
    """The pair (value of ``a``, value of ``b``) is in ``pairs`` (a field-to-field atom)."""

    a: int
    b: int
    pairs: frozenset[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Conj:
    parts: tuple["Formula", ...]


@dataclass(frozen=True, slots=True)
class Disj:
    parts: tuple["Formula", ...]


@dataclass(frozen=True, slots=True)
class Neg:
    part: "Formula"


Formula = Lit | Rel | Conj | Disj | Neg


@dataclass(frozen=True, slots=True)
class LoweringContext:
    """What atom resolution needs to know about the model."""

    index: dict[str, int]
    values: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    case_sensitive: bool
    aliases: tuple[tuple[tuple[str, ...], ...], ...] = ()  # per factor, per value

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.values)


class _TooManyClauses(Exception):
    """Distribution would exceed ``CLAUSE_CAP``; the caller enumerates instead."""


# --------------------------------------------------------------------------- driver
def lower_model(model: CombinatorialModel) -> Lowered:
    """Compile every rule to clauses; ``clause_origin`` holds each clause's rule ``index``."""
    ctx = LoweringContext(
        index={f.name: i for i, f in enumerate(model.factors)},
        values=tuple(f.values for f in model.factors),
        numeric=tuple(f.numeric for f in model.factors),
        case_sensitive=model.case_sensitive,
        aliases=tuple(f.aliases for f in model.factors),
    )
    clauses: list[Clause] = []
    origin: list[int] = []
    for rule in model.constraints:
        for clause in lower_rule(rule, ctx):
            clauses.append(clause)
            origin.append(rule.index)
    for clause in negative_clauses(model):
        clauses.append(clause)
        origin.append(NEGATIVE_ORIGIN)
    problem = CoverageProblem(
        levels=ctx.levels,
        strength=model.strength,
        clauses=tuple(clauses),
        clause_origin=tuple(origin),
        seed_rows=seed_rows(model),
    )
    names = NameMap(
        factor_names=model.factor_names(),
        values=ctx.values,
        constraints=model.constraints,
        numeric=ctx.numeric,
        case_sensitive=model.case_sensitive,
    )
    return Lowered(problem, names)


def negative_clauses(model: CombinatorialModel) -> list[Clause]:
    """PICT negative testing: for every two factors with out-of-range values, the clause
    ``[A] ∉ neg(A) ∨ [B] ∉ neg(B)``, so no row holds two of them. Tuples with two negative
    values become uncoverable (excluded); every tuple with one negative value and valid
    values elsewhere stays required."""
    levels = [len(f.values) for f in model.factors]
    negs = [
        (f, frozenset(v for v in range(levels[f]) if factor.is_negative(v)))
        for f, factor in enumerate(model.factors)
        if any(factor.is_negative(v) for v in range(levels[f]))
    ]
    out: list[Clause] = []
    for i, (a, neg_a) in enumerate(negs):
        for b, neg_b in negs[i + 1:]:
            clause = normalise_clause(
                [(a, _complement(neg_a, levels[a])), (b, _complement(neg_b, levels[b]))], levels
            )
            if clause is not None:
                out.append(clause)
    return out


def seed_rows(model: CombinatorialModel) -> tuple[tuple[int, ...], ...]:
    """The model's seed rows as value indices (-1 = free cell), in file order."""
    out = []
    for row in model.seed_rows:
        cells = []
        for factor, text in zip(model.factors, row.values):
            cells.append(-1 if text is None else factor.values.index(text))
        out.append(tuple(cells))
    return tuple(out)


def lower_rule(rule: Constraint, ctx: LoweringContext) -> list[Clause]:
    """The passes, in order (see the module docstring)."""
    levels = ctx.levels
    nnf = push_negations(resolve_atoms(rule.expr, ctx), levels)
    try:
        clauses = distribute(expand_relations(nnf, levels), levels, CLAUSE_CAP)
    except _TooManyClauses:
        clauses = enumerate_forbidden(nnf, levels, rule)
    return tidy(clauses, levels)


# --------------------------------------------------------------------------- 1. atoms
_OPS: dict[str, Callable[[object, object], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def resolve_atoms(expr: Expr, ctx: LoweringContext) -> Formula:
    if isinstance(expr, Comparison):
        if isinstance(expr.right, FieldRef):
            return _relation(expr.op, expr.left, expr.right, ctx)
        return _compare_const(expr.op, expr.left, expr.right, ctx)
    if isinstance(expr, InSet):
        f = _factor(expr.field, ctx)
        hits = frozenset[int]().union(
            *(_compare_const("=", expr.field, c, ctx).values for c in expr.values)
        )
        return Lit(f, _complement(hits, len(ctx.values[f])) if expr.negated else hits)
    if isinstance(expr, Like):
        return _like(expr, ctx)
    if isinstance(expr, Not):
        return Neg(resolve_atoms(expr.operand, ctx))
    if isinstance(expr, And):
        return Conj(tuple(resolve_atoms(e, ctx) for e in expr.operands))
    if isinstance(expr, Or):
        return Disj(tuple(resolve_atoms(e, ctx) for e in expr.operands))
    # IF c THEN a ELSE b  ==  (NOT c OR a) AND (c OR b): already CNF-shaped at the top.
    cond = resolve_atoms(expr.cond, ctx)
    then = Disj((Neg(cond), resolve_atoms(expr.then, ctx)))
    if expr.otherwise is None:
        return then
    return Conj((then, Disj((cond, resolve_atoms(expr.otherwise, ctx)))))


def _factor(ref: FieldRef, ctx: LoweringContext) -> int:
    try:
        return ctx.index[ref.name]
    except KeyError:
        raise spec_error("unknown-field", ref.loc, f"unknown field [{ref.name}]") from None


def _keys(f: int, ctx: LoweringContext, numeric: bool) -> list[Decimal | str]:
    return [value_key(v, numeric, ctx.case_sensitive) for v in ctx.values[f]]


def _compare_const(op: str, ref: FieldRef, const: Const, ctx: LoweringContext) -> Lit:
    f = _factor(ref, ctx)
    numeric = ctx.numeric[f] and isinstance(value_key(const.text, True, True), Decimal)
    target = value_key(const.text, numeric, ctx.case_sensitive)
    compare = _OPS[op]
    keys = _keys(f, ctx, numeric)
    hits = frozenset(v for v, key in enumerate(keys) if compare(key, target))
    if op in ("=", "<>") and ctx.aliases and ctx.aliases[f]:  # an alias names its value
        named = frozenset(
            v for v, names in enumerate(ctx.aliases[f])
            if any(value_key(n, numeric, ctx.case_sensitive) == target for n in names)
        )
        hits = hits | named if op == "=" else hits - named
    return Lit(f, hits)


def _relation(op: str, left: FieldRef, right: FieldRef, ctx: LoweringContext) -> Formula:
    a, b = _factor(left, ctx), _factor(right, ctx)
    numeric = ctx.numeric[a] and ctx.numeric[b]  # mixed types compare as text
    keys_a, keys_b = _keys(a, ctx, numeric), _keys(b, ctx, numeric)
    compare = _OPS[op]
    if a == b:  # [A] op [A] holds per value: a plain set literal
        return Lit(a, frozenset(v for v, key in enumerate(keys_a) if compare(key, key)))
    pairs = frozenset(
        (i, j) for i, ka in enumerate(keys_a) for j, kb in enumerate(keys_b) if compare(ka, kb)
    )
    return Rel(a, b, pairs)


def like_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """``*`` = any run, ``?`` = one character, everything else literal (no ``[...]`` classes)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile(body, flags)


def _like(expr: Like, ctx: LoweringContext) -> Lit:
    f = _factor(expr.field, ctx)
    regex = like_regex(expr.pattern.text, ctx.case_sensitive)
    hits = frozenset(v for v, text in enumerate(ctx.values[f]) if regex.fullmatch(text))
    return Lit(f, _complement(hits, len(ctx.values[f])) if expr.negated else hits)


def _complement(values: frozenset[int], level: int) -> frozenset[int]:
    return frozenset(range(level)) - values


# --------------------------------------------------------------------------- 2. NNF
def push_negations(formula: Formula, levels: Sequence[int], negate: bool = False) -> Formula:
    """Negation normal form without ``Neg``: negated leaves become complements."""
    if isinstance(formula, Neg):
        return push_negations(formula.part, levels, not negate)
    if isinstance(formula, Lit):
        if not negate:
            return formula
        return Lit(formula.factor, _complement(formula.values, levels[formula.factor]))
    if isinstance(formula, Rel):
        if not negate:
            return formula
        every = {(i, j) for i in range(levels[formula.a]) for j in range(levels[formula.b])}
        return Rel(formula.a, formula.b, frozenset(every - formula.pairs))
    parts = tuple(push_negations(p, levels, negate) for p in formula.parts)
    is_and = isinstance(formula, Conj) != negate  # De Morgan swaps AND/OR under NOT
    return Conj(parts) if is_and else Disj(parts)


# --------------------------------------------------------------------------- 3. relations
def expand_relations(formula: Formula, levels: Sequence[int]) -> Formula:
    """Replace each pair relation by ``AND over S: ([A] ∉ A_S OR [B] ∈ S)`` where ``A_S`` is
    the set of A values whose allowed B values are exactly ``S`` (one clause per distinct S)."""
    if isinstance(formula, Rel):
        allowed: dict[frozenset[int], set[int]] = {}
        for i in range(levels[formula.a]):
            s = frozenset(j for j in range(levels[formula.b]) if (i, j) in formula.pairs)
            allowed.setdefault(s, set()).add(i)
        not_a = {s: _complement(frozenset(a_s), levels[formula.a]) for s, a_s in allowed.items()}
        return Conj(
            tuple(Disj((Lit(formula.a, not_a[s]), Lit(formula.b, s))) for s in allowed)
        )
    if isinstance(formula, Conj):
        return Conj(tuple(expand_relations(p, levels) for p in formula.parts))
    if isinstance(formula, Disj):
        return Disj(tuple(expand_relations(p, levels) for p in formula.parts))
    return formula


# --------------------------------------------------------------------------- 4. CNF
def distribute(formula: Formula, levels: Sequence[int], cap: int) -> list[Clause]:
    """CNF of an NNF formula over set literals. ``[]`` is true; ``[()]`` is false."""
    if isinstance(formula, Lit):
        clause = normalise_clause([(formula.factor, formula.values)], levels)
        return [] if clause is None else [clause]
    if isinstance(formula, Conj):
        out: list[Clause] = []
        for part in formula.parts:
            out.extend(distribute(part, levels, cap))
            if len(out) > cap:
                raise _TooManyClauses
        return _dedupe(out)
    if isinstance(formula, Disj):
        acc: list[Clause] = [()]  # the empty disjunction: false
        for part in formula.parts:
            cnf = distribute(part, levels, cap)
            if not cnf:
                return []  # one true disjunct makes the whole OR true
            if len(acc) * len(cnf) > cap:
                raise _TooManyClauses
            acc = _dedupe(
                merged
                for left in acc
                for right in cnf
                if (merged := normalise_clause(left + right, levels)) is not None
            )
            if not acc:
                return []
        return acc
    raise TypeError(f"not in NNF: {formula!r}")  # pragma: no cover - internal invariant


def _dedupe(clauses: Iterable[Clause]) -> list[Clause]:
    return list(dict.fromkeys(clauses))


# --------------------------------------------------------------------------- 4'. enumeration
BoolArray = npt.NDArray[np.bool_]


def enumerate_forbidden(
    formula: Formula, levels: Sequence[int], rule: Constraint
) -> list[Clause]:
    """Evaluate the rule over its scope and forbid every failing combination, one clause per
    failing prefix (the last scope factor's failing values merge into one literal)."""
    scope = sorted(_scope(formula))
    shape = tuple(levels[f] for f in scope)
    if prod(shape) > SCOPE_CAP:
        raise spec_error(
            "rule-too-complex",
            rule.loc,
            f"rule too complex: its CNF exceeds {CLAUSE_CAP} clauses and its "
            f"{len(scope)} fields have {prod(shape)} value combinations (limit {SCOPE_CAP}); "
            "split it into several simpler rules",
            rule=rule.text,
        )
    axis = {f: i for i, f in enumerate(scope)}
    holds = np.broadcast_to(_evaluate(formula, levels, axis, len(scope)), shape)
    failing = ~holds.reshape(-1, shape[-1])
    clauses: list[Clause] = []
    for flat in np.flatnonzero(failing.any(axis=1)):
        prefix = np.unravel_index(int(flat), shape[:-1]) if len(shape) > 1 else ()
        literals: list[SetLiteral] = [
            (f, _complement(frozenset({int(v)}), levels[f])) for f, v in zip(scope, prefix)
        ]
        bad_last = frozenset(int(v) for v in np.flatnonzero(failing[flat]))
        literals.append((scope[-1], _complement(bad_last, levels[scope[-1]])))
        clauses.append(tuple(literals))
    return clauses


def _scope(formula: Formula) -> set[int]:
    if isinstance(formula, Lit):
        return {formula.factor}
    if isinstance(formula, Rel):
        return {formula.a, formula.b}
    if isinstance(formula, Neg):
        return _scope(formula.part)
    return set().union(*(_scope(p) for p in formula.parts))


def _evaluate(
    formula: Formula, levels: Sequence[int], axis: dict[int, int], ndim: int
) -> BoolArray:
    """Truth of an NNF formula as a boolean array broadcastable to the scope's shape."""
    if isinstance(formula, Lit):
        table = np.zeros(levels[formula.factor], dtype=bool)
        table[list(formula.values)] = True
        return _along(table, [axis[formula.factor]], ndim)
    if isinstance(formula, Rel):
        table = np.zeros((levels[formula.a], levels[formula.b]), dtype=bool)
        for i, j in formula.pairs:
            table[i, j] = True
        ia, ib = axis[formula.a], axis[formula.b]
        return _along(table if ia < ib else table.T, sorted((ia, ib)), ndim)
    if isinstance(formula, Neg):
        return ~_evaluate(formula.part, levels, axis, ndim)
    parts = [_evaluate(p, levels, axis, ndim) for p in formula.parts]
    combine = np.logical_and if isinstance(formula, Conj) else np.logical_or
    return reduce(combine, parts)


def _along(table: BoolArray, axes: list[int], ndim: int) -> BoolArray:
    """Reshape ``table`` so its dimensions sit on ``axes`` of an ``ndim``-dim array."""
    shape = [1] * ndim
    for dim, ax in enumerate(axes):
        shape[ax] = table.shape[dim]
    return table.reshape(shape)


# --------------------------------------------------------------------------- 5. tidy
def tidy(clauses: Iterable[Clause], levels: Sequence[int]) -> list[Clause]:
    """Normalise every clause, drop tautologies, drop duplicates (order kept)."""
    out = (normalise_clause(c, levels) for c in clauses)
    return _dedupe(c for c in out if c is not None)
