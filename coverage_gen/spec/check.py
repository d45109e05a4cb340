"""Semantic checks shared by every input form; collect every problem, then raise once.

Each ``_check_*`` function yields ``Diagnostic``s for one concern; ``check_model`` runs them
all. Typing follows PICT: a numeric factor is compared with unquoted numbers, a string factor
with quoted strings, and field-to-field comparisons need two factors of the same type.
For ``=``, ``<>`` and ``IN`` the literal must name a value of the vocabulary (otherwise the
rule is almost certainly a typo); ``<``/``>``/... and ``LIKE`` may use any literal.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from coverage_gen.errors import Diagnostic, Location, SpecError
from coverage_gen.spec.constraints import value_key
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

__all__ = ["check_model", "atoms"]

_MAX_LISTED = 12  # how many names/values a message lists before eliding


def check_model(model: CombinatorialModel) -> None:
    """Raise one ``SpecError`` carrying every diagnostic found in ``model``."""
    diagnostics = [
        *_check_factor_names(model),
        *_check_vocabularies(model),
        *_check_strength(model),
        *(d for rule in model.constraints for d in _check_rule(model, rule)),
    ]
    if diagnostics:
        raise SpecError(diagnostics)


# --------------------------------------------------------------------------- factors
def _check_factor_names(model: CombinatorialModel) -> Iterator[Diagnostic]:
    seen: dict[str, Factor] = {}
    for factor in model.factors:
        key = factor.name if model.case_sensitive else factor.name.casefold()
        if key in seen:
            first = seen[key]
            yield Diagnostic(
                "duplicate-factor",
                factor.loc,
                f"factor {factor.name!r} is defined twice (first at {first.loc})",
            )
        else:
            seen[key] = factor


def _check_vocabularies(model: CombinatorialModel) -> Iterator[Diagnostic]:
    for factor in model.factors:
        if not factor.values:
            msg = f"factor {factor.name!r} has no values"
            yield Diagnostic("empty-vocabulary", factor.loc, msg)
        seen: dict[object, str] = {}
        for i, value in enumerate(factor.values):
            key = value_key(value, factor.numeric, model.case_sensitive)
            if key in seen:
                same = "" if seen[key] == value else f" (same as {seen[key]!r} when compared)"
                if not model.case_sensitive and seen[key] != value and (
                    seen[key].casefold() == value.casefold()
                ):
                    same += "; values differing only in case need case-sensitive matching (/c)"
                yield Diagnostic(
                    "duplicate-value",
                    _value_loc(factor, i),
                    f"factor {factor.name!r} lists the value {value!r} twice{same}",
                )
            else:
                seen[key] = value


def _value_loc(factor: Factor, i: int) -> Location:
    return factor.value_locs[i] if i < len(factor.value_locs) else factor.loc


def _check_strength(model: CombinatorialModel) -> Iterator[Diagnostic]:
    t, k = model.strength, len(model.factors)
    loc = Location(model.source)
    if t < 1:
        yield Diagnostic("strength", loc, f"strength must be at least 1, got {t}")
    elif t > k:
        names = _listing([f.name for f in model.factors])
        have = f"this model has {k}" + (f": {names}" if k else "")
        yield Diagnostic("strength", loc, f"strength {t} needs at least {t} factors; {have}")


# --------------------------------------------------------------------------- rules
Atom = Comparison | InSet | Like


def atoms(expr: Expr) -> Iterator[Atom]:
    """The comparison/IN/LIKE leaves of a rule, left to right."""
    if isinstance(expr, (Comparison, InSet, Like)):
        yield expr
    elif isinstance(expr, Not):
        yield from atoms(expr.operand)
    elif isinstance(expr, (And, Or)):
        for operand in expr.operands:
            yield from atoms(operand)
    elif isinstance(expr, IfThen):
        yield from atoms(expr.cond)
        yield from atoms(expr.then)
        if expr.otherwise is not None:
            yield from atoms(expr.otherwise)


def _check_rule(model: CombinatorialModel, rule: Constraint) -> Iterator[Diagnostic]:
    factors = {f.name: f for f in model.factors}
    for atom in atoms(rule.expr):
        left = atom.left if isinstance(atom, Comparison) else atom.field
        factor = factors.get(left.name)
        if factor is None:
            yield _unknown_field(model, left)
        if isinstance(atom, Comparison) and isinstance(atom.right, FieldRef):
            other = factors.get(atom.right.name)
            if other is None:
                yield _unknown_field(model, atom.right)
            elif factor is not None and factor.numeric != other.numeric:
                yield _field_type_mismatch(atom, factor, other)
            continue
        if factor is None:
            continue
        if isinstance(atom, Like):
            if factor.numeric:
                yield Diagnostic(
                    "type-mismatch",
                    atom.loc,
                    f"LIKE needs a string factor, but [{factor.name}] is numeric; "
                    "use =, <, >, ... or IN",
                )
            continue
        consts = (atom.right,) if isinstance(atom, Comparison) else atom.values
        check_membership = isinstance(atom, InSet) or atom.op in ("=", "<>")
        for const in consts:
            assert isinstance(const, Const)
            yield from _check_literal(model, factor, const, check_membership)


def _check_literal(
    model: CombinatorialModel, factor: Factor, const: Const, membership: bool
) -> Iterator[Diagnostic]:
    if factor.numeric and const.quoted:
        yield Diagnostic(
            "type-mismatch",
            const.loc,
            f'[{factor.name}] is numeric, but "{const.text}" is a quoted string; '
            "write numbers without quotes",
        )
    elif not factor.numeric and not const.quoted:
        yield Diagnostic(
            "type-mismatch",
            const.loc,
            f"[{factor.name}] has string values, but {const.text} is a number; "
            f'write it in quotes: "{const.text}"',
        )
    elif membership:  # a value's aliases name it too
        keys = {
            value_key(name, factor.numeric, model.case_sensitive)
            for v in range(len(factor.values))
            for name in factor.names_of(v)
        }
        if value_key(const.text, factor.numeric, model.case_sensitive) not in keys:
            yield _unknown_value(factor, const)


def _unknown_field(model: CombinatorialModel, ref: FieldRef) -> Diagnostic:
    names = [f.name for f in model.factors]
    msg = f"unknown field [{ref.name}]; the fields are: {_listing(names)}"
    close = difflib.get_close_matches(ref.name, names, n=1, cutoff=0.6)
    if not close:  # a case slip is the commonest typo; difflib scores it low on short names
        close = [n for n in names if n.casefold() == ref.name.casefold()][:1]
    if close:
        msg += f"; did you mean [{close[0]}]?"
    return Diagnostic("unknown-field", ref.loc, msg, ctx={"field": ref.name, "fields": names})


def _unknown_value(factor: Factor, const: Const) -> Diagnostic:
    shown = f'"{const.text}"' if const.quoted else const.text
    msg = (
        f"{shown} is not a value of [{factor.name}]; "
        f"valid values: {_listing(list(factor.values))}"
    )
    close = difflib.get_close_matches(const.text, list(factor.values), n=1, cutoff=0.6)
    if not close:
        close = [v for v in factor.values if v.casefold() == const.text.casefold()][:1]
    if close:
        msg += f"; did you mean {close[0]!r}?"
    return Diagnostic(
        "unknown-value", const.loc, msg, ctx={"field": factor.name, "value": const.text}
    )


def _field_type_mismatch(atom: Comparison, left: Factor, right: Factor) -> Diagnostic:
    def kind(f: Factor) -> str:
        return "numeric" if f.numeric else "string"

    return Diagnostic(
        "type-mismatch",
        atom.loc,
        f"cannot compare [{left.name}] ({kind(left)}) with [{right.name}] ({kind(right)}); "
        "field-to-field comparisons need two factors of the same type",
    )


def _listing(items: Sequence[str]) -> str:
    if len(items) <= _MAX_LISTED:
        return ", ".join(items)
    return ", ".join(items[:_MAX_LISTED]) + f", ... ({len(items)} in all)"
