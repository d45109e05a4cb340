"""The independent checker: does a table of rows cover every feasible t-tuple of a model
without breaking a rule?

It shares no code with ``coverage_gen/engine/`` on purpose: it reads the constraint ASTs of
``spec.model`` with its own evaluator and decides tuple feasibility with its own backtracking
search, so a bug in the engine cannot hide itself by being repeated here.

Semantics (PICT's, see docs/architecture.md): a numeric factor compares numerically with
unquoted literals and with other numeric factors, everything else compares as text
(case-folded when ``model.case_sensitive`` is False); ``LIKE`` takes ``*`` and ``?``;
``IF c THEN a`` is ``not c or a`` and ``IF c THEN a ELSE b`` is ``(c and a) or (not c and b)``.

Counting: a tuple is *covered* when a valid data row (no rule broken, every factor cell in
the vocabulary) holds it. Tuples seen in valid rows are feasible by construction; every other
tuple is feasible when some complete assignment satisfying all rules contains it (then it is
*missing*), otherwise it is *excluded*.
"""

from __future__ import annotations

import csv
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from coverage_gen._seed import rng_for
from coverage_gen.errors import Location, UsageError, spec_error
from coverage_gen.spec.model import (
    And,
    CombinatorialModel,
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

Truth = bool | None  # three-valued: None = not decided yet by a partial row
Atom = Comparison | InSet | Like


# --------------------------------------------------------------------------- results
class Violation(NamedTuple):
    row: int  # 1-based data row number (the header is not counted)
    rule: str
    loc: Location


class UnknownValue(NamedTuple):
    row: int  # 1-based data row number
    column: str
    value: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What ``check_rows`` found; ``ok`` when nothing is missing, broken or unknown."""

    strength: int
    feasible_tuples: int
    covered_tuples: int
    missing: list[dict[str, str]]  # the first ``max_missing`` missing tuples, name -> value
    missing_count: int
    violations: list[Violation]
    excluded_tuples: int
    unknown_values: list[UnknownValue]
    rows: int = 0
    # mixed strength (PICT sub-models): (factor names, strength) per sub-model
    submodels: tuple[tuple[tuple[str, ...], int], ...] = ()

    @property
    def ok(self) -> bool:
        return self.missing_count == 0 and not self.violations and not self.unknown_values

    def render(self, *, limit: int = 20) -> str:
        """A human summary: verdict, tuple counts, then the first problems of each kind."""
        lines = [
            f"verify: {'OK' if self.ok else 'FAILED'} ({self.rows} rows, strength {self.strength}"
            + "".join(f"; {{{', '.join(n)}}} @ {t}" for n, t in self.submodels) + ")",
            f"{self.covered_tuples}/{self.feasible_tuples} feasible tuples covered, "
            f"{self.missing_count} missing, {self.excluded_tuples} excluded by rules",
        ]
        missing = [", ".join(f"{k}={v}" for k, v in m.items()) for m in self.missing]
        violations = [f"row {v.row} breaks {v.rule!r} ({v.loc})" for v in self.violations]
        unknown = [
            f"row {u.row}: {u.value!r} is not a value of {u.column}" for u in self.unknown_values
        ]
        lines += _section("missing", missing, self.missing_count, limit)
        lines += _section("violations", violations, len(violations), limit)
        lines += _section("unknown values", unknown, len(unknown), limit)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (locations as text)."""
        return {
            "ok": self.ok,
            "strength": self.strength,
            "submodels": [{"factors": list(n), "strength": t} for n, t in self.submodels],
            "rows": self.rows,
            "feasible_tuples": self.feasible_tuples,
            "covered_tuples": self.covered_tuples,
            "excluded_tuples": self.excluded_tuples,
            "missing_count": self.missing_count,
            "missing": [dict(m) for m in self.missing],
            "violations": [
                {"row": v.row, "rule": v.rule, "location": str(v.loc)} for v in self.violations
            ],
            "unknown_values": [u._asdict() for u in self.unknown_values],
        }


def _section(title: str, items: list[str], total: int, limit: int) -> list[str]:
    if total == 0:
        return []
    shown = items[:limit]
    lines = [f"{title} ({total}):", *(f"  {item}" for item in shown)]
    if total > len(shown):
        lines.append(f"  ... and {total - len(shown)} more")
    return lines


# --------------------------------------------------------------------------- value semantics
def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


_OPS: dict[str, Callable[[object, object], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(op: str, left: str, right: str, *, numeric: bool, fold: bool) -> bool:
    if numeric:
        x, y = _number(left), _number(right)
        if x is not None and y is not None:
            return _OPS[op](x, y)
    if fold:
        left, right = left.casefold(), right.casefold()
    return _OPS[op](left, right)


def _like_regex(pattern: str, fold: bool) -> re.Pattern[str]:
    text = pattern.casefold() if fold else pattern
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(body, re.DOTALL)


class _Semantics:
    """Names, vocabularies and typing of a model; evaluates atoms on cell text."""

    def __init__(self, model: CombinatorialModel) -> None:
        self.names = model.factor_names()
        self.index = {name: i for i, name in enumerate(self.names)}
        self.values = [f.values for f in model.factors]
        self.numeric = [f.numeric for f in model.factors]
        self.fold = not model.case_sensitive
        self.lookup = [self._vocab_lookup(vals) for vals in self.values]
        self._regex: dict[int, re.Pattern[str]] = {}

    def key(self, text: str) -> str:
        return text.casefold() if self.fold else text

    def _vocab_lookup(self, values: Sequence[str]) -> dict[str, int]:
        lookup: dict[str, int] = {}
        for i, v in enumerate(values):
            lookup.setdefault(self.key(v), i)  # with folding, the first spelling wins
        return lookup

    def factor(self, ref: FieldRef) -> int:
        try:
            return self.index[ref.name]
        except KeyError:
            raise spec_error(
                "unknown-field", ref.loc, f"rule names unknown field [{ref.name}]"
            ) from None

    def atom_factors(self, atom: Atom) -> tuple[int, ...]:
        if isinstance(atom, Comparison):
            left = self.factor(atom.left)
            if isinstance(atom.right, FieldRef):
                return (left, self.factor(atom.right))
            return (left,)
        return (self.factor(atom.field),)

    def atom_holds(self, atom: Atom, cells: Sequence[str]) -> bool:
        """``cells[i]`` is the text of factor i (only the atom's factors are read)."""
        if isinstance(atom, Comparison):
            i = self.factor(atom.left)
            if isinstance(atom.right, FieldRef):
                j = self.factor(atom.right)
                numeric = self.numeric[i] and self.numeric[j]
                return _compare(atom.op, cells[i], cells[j], numeric=numeric, fold=self.fold)
            return self._against(atom.op, i, cells[i], atom.right)
        if isinstance(atom, InSet):
            i = self.factor(atom.field)
            hit = any(self._against("=", i, cells[i], c) for c in atom.values)
            return hit != atom.negated
        i = self.factor(atom.field)
        hit = self._like(atom.pattern).fullmatch(self.key(cells[i])) is not None
        return hit != atom.negated

    def _against(self, op: str, i: int, cell: str, const: Const) -> bool:
        numeric = self.numeric[i] and not const.quoted
        return _compare(op, cell, const.text, numeric=numeric, fold=self.fold)

    def _like(self, pattern: Const) -> re.Pattern[str]:
        regex = self._regex.get(id(pattern))
        if regex is None:
            regex = self._regex[id(pattern)] = _like_regex(pattern.text, self.fold)
        return regex


# --------------------------------------------------------------------------- 3-valued logic
def evaluate(expr: Expr, atom: Callable[[Atom], Truth]) -> Truth:
    """Kleene three-valued evaluation; ``atom`` decides leaves (None = undecided)."""
    if isinstance(expr, Not):
        value = evaluate(expr.operand, atom)
        return None if value is None else not value
    if isinstance(expr, And):
        return _all3(evaluate(e, atom) for e in expr.operands)
    if isinstance(expr, Or):
        return _any3(evaluate(e, atom) for e in expr.operands)
    if isinstance(expr, IfThen):
        return _if3(expr, atom)
    return atom(expr)


def _all3(values: Iterable[Truth]) -> Truth:
    undecided = False
    for v in values:
        if v is False:
            return False
        undecided |= v is None
    return None if undecided else True


def _any3(values: Iterable[Truth]) -> Truth:
    undecided = False
    for v in values:
        if v is True:
            return True
        undecided |= v is None
    return None if undecided else False


def _if3(expr: IfThen, atom: Callable[[Atom], Truth]) -> Truth:
    cond = evaluate(expr.cond, atom)
    then = evaluate(expr.then, atom)
    if expr.otherwise is None:
        # not c or a
        return _any3([None if cond is None else not cond, then])
    otherwise = evaluate(expr.otherwise, atom)
    if cond is True:
        return then
    if cond is False:
        return otherwise
    # Whatever c turns out to be, the result is a or b: decided if they agree.
    return then if then == otherwise else None


# --------------------------------------------------------------------------- feasibility
# A rule over factors whose value combinations number at most this is turned into an explicit
# table of allowed combinations, which lets the search propagate (prune values early); wider
# rules are only checked, three-valued, on the partial row.
_TABLE_LIMIT = 20_000

Domains = dict[int, set[int]]  # factor -> value indices still possible


@dataclass(slots=True)
class _Group:
    """Factors linked by rules, with the rules as tables (small) or expressions (wide)."""

    factors: list[int]
    tables: list[tuple[tuple[int, ...], list[tuple[int, ...]]]] = field(default_factory=list)
    wide: list[Expr] = field(default_factory=list)
    watch: dict[int, list[int]] = field(default_factory=dict)  # factor -> tables reading it
    root: Domains | None = None  # domains after propagating the rules alone


class _Feasibility:
    """Decides whether a partial assignment extends to a row satisfying every rule.

    Rules split into independent groups (factors linked by sharing a rule); an assignment is
    feasible iff each group's part is, so each group is searched alone (backtracking with
    propagation over the rule tables) and answers are cached by the group's part. Every
    satisfying row found also proves all its small parts feasible, which answers most later
    questions without a search.
    """

    def __init__(self, sem: _Semantics, rules: Sequence[Expr], strength: int) -> None:
        self.sem = sem
        self.strength = strength
        self.levels = [len(v) for v in sem.values]
        self.atoms: dict[int, tuple[tuple[int, ...], dict[tuple[int, ...], bool]]] = {}
        rule_factors = [self._prepare(rule) for rule in rules]
        # Only steers which witness the search finds, never an answer; fixed for repeatability.
        self._rng = rng_for(0, "verify", "witness-search")
        factors_of = {id(rule): fs for rule, fs in zip(rules, rule_factors)}
        self.groups = [
            self._group(fs, rs, factors_of) for fs, rs in _groups(rule_factors, list(rules))
        ]
        self.group_of = {f: g for g, grp in enumerate(self.groups) for f in grp.factors}
        self.cache: dict[tuple[int, tuple[tuple[int, int], ...]], bool] = {}
        self.satisfiable = all(self._group_feasible(g, ()) for g in range(len(self.groups)))

    def constrained(self, factor: int) -> bool:
        return factor in self.group_of

    def feasible(self, fixed: Sequence[tuple[int, int]]) -> bool:
        """``fixed`` is (factor, value index) pairs, factors ascending."""
        if not self.satisfiable:
            return False
        parts: dict[int, list[tuple[int, int]]] = {}
        for f, v in fixed:
            if f in self.group_of:
                parts.setdefault(self.group_of[f], []).append((f, v))
        return all(self._group_feasible(g, tuple(p)) for g, p in parts.items())

    # -- atoms as truth tables over value indices (computed once with the text semantics)
    def _prepare(self, expr: Expr) -> set[int]:
        if isinstance(expr, Not):
            return self._prepare(expr.operand)
        if isinstance(expr, (And, Or)):
            return set().union(*(self._prepare(e) for e in expr.operands))
        if isinstance(expr, IfThen):
            parts = [expr.cond, expr.then] + ([expr.otherwise] if expr.otherwise else [])
            return set().union(*(self._prepare(e) for e in parts))
        factors = self.sem.atom_factors(expr)
        table: dict[tuple[int, ...], bool] = {}
        cells = [""] * len(self.levels)
        for combo in itertools.product(*(range(self.levels[f]) for f in factors)):
            for f, v in zip(factors, combo):
                cells[f] = self.sem.values[f][v]
            table[combo] = self.sem.atom_holds(expr, cells)
        self.atoms[id(expr)] = (factors, table)
        return set(factors)

    def _atom_on(self, assign: list[int | None]) -> Callable[[Atom], Truth]:
        def atom(node: Atom) -> Truth:
            factors, table = self.atoms[id(node)]
            combo = tuple(assign[f] for f in factors)
            return None if None in combo else table[combo]  # type: ignore[index]

        return atom

    def _group(
        self, factors: list[int], rules: list[Expr], factors_of: dict[int, set[int]]
    ) -> _Group:
        grp = _Group(factors)
        for rule in rules:
            fs = tuple(sorted(factors_of[id(rule)]))
            if math.prod(self.levels[f] for f in fs) > _TABLE_LIMIT:
                grp.wide.append(rule)
                continue
            grp.tables.append((fs, self._allowed(rule, fs)))
            for f in fs:
                grp.watch.setdefault(f, []).append(len(grp.tables) - 1)
        return grp

    def _allowed(self, rule: Expr, fs: tuple[int, ...]) -> list[tuple[int, ...]]:
        assign: list[int | None] = [None] * len(self.levels)
        atom = self._atom_on(assign)
        allowed = []
        for combo in itertools.product(*(range(self.levels[f]) for f in fs)):
            for f, v in zip(fs, combo):
                assign[f] = v
            if evaluate(rule, atom) is True:
                allowed.append(combo)
        return allowed

    # -- search
    def _group_feasible(self, g: int, fixed: tuple[tuple[int, int], ...]) -> bool:
        key = (g, fixed)
        if key not in self.cache:
            witness = self._solve_fixed(self.groups[g], fixed)
            self.cache[key] = witness is not None
            if witness is not None:
                self._remember_witness(g, witness)
        return self.cache[key]

    def _solve_fixed(
        self, grp: _Group, fixed: tuple[tuple[int, int], ...]
    ) -> dict[int, int] | None:
        if grp.root is None:
            root = {f: set(range(self.levels[f])) for f in grp.factors}
            if not self._propagate(grp, root, range(len(grp.tables))):
                return None
            grp.root = root
        domains = {f: set(d) for f, d in grp.root.items()}
        for f, v in fixed:
            if v not in domains[f]:
                return None
            domains[f] = {v}
        touched = {t for f, _ in fixed for t in grp.watch.get(f, [])}
        if not self._propagate(grp, domains, sorted(touched)):
            return None
        return self._search(grp, domains)

    def _propagate(self, grp: _Group, domains: Domains, queue: Iterable[int]) -> bool:
        """Keep only values with support in every table (arc consistency); False on a wipe-out."""
        order = list(queue)
        pending = set(order)
        while order:
            t = order.pop()
            pending.discard(t)
            fs, allowed = grp.tables[t]
            supported = allowed
            for i, f in enumerate(fs):
                dom = domains[f]
                if len(dom) < self.levels[f]:  # a full domain filters nothing
                    supported = [c for c in supported if c[i] in dom]
            if not supported:
                return False
            for i, f in enumerate(fs):
                kept = {c[i] for c in supported}
                if len(kept) < len(domains[f]):
                    domains[f] = kept
                    for other in grp.watch[f]:
                        if other != t and other not in pending:
                            pending.add(other)
                            order.append(other)
        return True

    def _search(self, grp: _Group, domains: Domains) -> dict[int, int] | None:
        assign: list[int | None] = [None] * len(self.levels)
        for f, d in domains.items():
            if len(d) == 1:
                assign[f] = next(iter(d))
        status = _all3(evaluate(rule, self._atom_on(assign)) for rule in grp.wide)
        if status is False:
            return None
        open_factors = [f for f in grp.factors if len(domains[f]) > 1]
        if not open_factors:
            return {f: next(iter(d)) for f, d in domains.items()}
        f = min(open_factors, key=lambda x: (len(domains[x]), x))
        # A random value order spreads witnesses out, so each one proves more new tuples.
        for v in self._rng.permutation(sorted(domains[f])).tolist():
            child = {x: set(d) for x, d in domains.items()}
            child[f] = {v}
            if self._propagate(grp, child, grp.watch.get(f, [])):
                found = self._search(grp, child)
                if found is not None:
                    return found
        return None

    def _remember_witness(self, g: int, witness: dict[int, int]) -> None:
        factors = sorted(witness)
        for size in range(1, min(self.strength, len(factors)) + 1):
            for subset in itertools.combinations(factors, size):
                self.cache[(g, tuple((f, witness[f]) for f in subset))] = True


def _groups(
    rule_factors: list[set[int]], rules: list[Expr]
) -> list[tuple[list[int], list[Expr]]]:
    """Connected groups of factors (linked by rules), each with its rules.

    Factors inside a group are ordered most-constrained first so the search prunes early.
    """
    parent = {f: f for factors in rule_factors for f in factors}
    degree = dict.fromkeys(parent, 0)

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for factors in rule_factors:
        ordered = sorted(factors)
        for f in ordered:
            degree[f] += 1
            parent[find(f)] = find(ordered[0])
    by_root: dict[int, tuple[list[int], list[Expr]]] = {}
    for f in sorted(parent):
        by_root.setdefault(find(f), ([], []))[0].append(f)
    for factors, rule in zip(rule_factors, rules):
        by_root[find(min(factors))][1].append(rule)
    for factors, _ in by_root.values():
        factors.sort(key=lambda f: (-degree[f], f))
    return [by_root[root] for root in sorted(by_root)]


# --------------------------------------------------------------------------- check_rows
def check_rows(
    model: CombinatorialModel,
    header: list[str],
    rows: list[list[str]],
    *,
    strength: int | None = None,
    max_missing: int = 50,
    submodels: Sequence[tuple[Sequence[str], int]] | None = None,
    within: Sequence[str] | None = None,
    data_file: str | None = None,
) -> CheckResult:
    """Check ``rows`` (data rows, matched to factors by ``header`` name) against ``model``.

    ``within`` (factor names): only t-tuples of these factors are required; the other
    factors still take part in the rules and in deciding which tuples are feasible (the
    cross-table check of multi-table specs: the ``coverage.across`` fields of joined rows).

    Mixed strength (PICT sub-models): ``submodels`` lists (factor names, strength); None
    reads ``model.submodels``. Then the required tuples are every t_M-tuple of each sub-model
    M, and every t-tuple over factor sets holding at most t_M factors of each M.
    """
    sem = _Semantics(model)
    t = model.strength if strength is None else strength
    if not 1 <= t <= len(sem.names):
        raise UsageError(f"strength {t} is outside 1..{len(sem.names)} (the number of factors)")
    mixed = _mixed(sem, model, t, submodels)
    sets = _tuple_sets(len(sem.names), t, mixed)
    if within is not None:
        keep = {i for i, name in enumerate(sem.names) if sem.key(name) in {sem.key(n) for n in within}}
        sets = [s for s in sets if keep.issuperset(s)]
    columns = _factor_columns(sem, header, model, data_file)
    rules = [c.expr for c in model.constraints]
    # also validates every rule's field names up front
    feas = _Feasibility(sem, rules, max((len(s) for s in sets), default=t))
    violations: list[Violation] = []
    unknown: list[UnknownValue] = []
    valid: list[tuple[int, ...]] = []
    for number, row in enumerate(rows, start=1):
        cells = [row[c] if c < len(row) else "" for c in columns]
        broken = _violations(sem, model, cells, number)
        indices = _indices(sem, cells, number, unknown)
        violations.extend(broken)
        if not broken and indices is not None:
            valid.append(indices)
    counts = _count_tuples(sem, feas, valid, sets, max_missing)
    return CheckResult(
        strength=t,
        feasible_tuples=counts.covered + counts.missing,
        covered_tuples=counts.covered,
        missing=counts.listed,
        missing_count=counts.missing,
        violations=violations,
        excluded_tuples=counts.excluded,
        unknown_values=unknown,
        rows=len(rows),
        submodels=tuple((tuple(sem.names[f] for f in fs), s) for fs, s in mixed),
    )


def _mixed(
    sem: _Semantics,
    model: CombinatorialModel,
    t: int,
    submodels: Sequence[tuple[Sequence[str], int]] | None,
) -> list[tuple[tuple[int, ...], int]]:
    """Sub-models as (factor indices ascending, strength); names match like rule names."""
    if submodels is None:
        submodels = [(sm.factor_names, sm.order(t)) for sm in getattr(model, "submodels", ())]
    keyed = {sem.key(name): i for i, name in enumerate(sem.names)}
    out = []
    for names, s in submodels:
        try:
            fs = tuple(sorted({keyed[sem.key(n)] for n in names}))
        except KeyError as exc:
            raise UsageError(f"sub-model names unknown factor {exc.args[0]!r}") from None
        if not 1 <= s <= len(fs):
            raise UsageError(f"sub-model strength {s} is outside 1..{len(fs)}")
        out.append((fs, s))
    return out


def _tuple_sets(
    k: int, t: int, mixed: list[tuple[tuple[int, ...], int]]
) -> list[tuple[int, ...]]:
    """The factor sets whose tuples are required: each sub-model's t_M-sets, then every
    t-set with at most t_M factors of each sub-model (all t-sets without sub-models)."""
    out: dict[tuple[int, ...], None] = {}
    for fs, s in mixed:
        out.update(dict.fromkeys(itertools.combinations(fs, s)))
    members = [set(fs) for fs, _ in mixed]
    for combo in itertools.combinations(range(k), t):
        if all(len(m.intersection(combo)) <= s for m, (_, s) in zip(members, mixed)):
            out[combo] = None
    return list(out)


def _factor_columns(
    sem: _Semantics, header: list[str], model: CombinatorialModel, data_file: str | None = None
) -> list[int]:
    """Column position of each factor; names match exactly (case-folded for PICT models).
    A problem is located in the data file's header line when the file is known."""
    positions: dict[str, list[int]] = {}
    for pos, name in enumerate(header):
        positions.setdefault(sem.key(name.strip()), []).append(pos)
    where = Location(file=data_file, line=1) if data_file else Location(file=model.source)
    columns: list[int] = []
    missing: list[str] = []
    for name in sem.names:
        found = positions.get(sem.key(name), [])
        if len(found) > 1:
            raise spec_error(
                "duplicate-column", where, f"column {name!r} appears {len(found)} times"
            )
        if not found:
            missing.append(name)
        else:
            columns.append(found[0])
    if missing:
        raise spec_error(
            "missing-column",
            where,
            f"data has no column for factor(s) {missing}; its header is {header} "
            "(a .tsv/.txt file is read as tab-separated, anything else as comma-separated)",
            missing=missing,
        )
    return columns


def _violations(
    sem: _Semantics, model: CombinatorialModel, cells: list[str], number: int
) -> list[Violation]:
    def atom(node: Atom) -> Truth:
        return sem.atom_holds(node, cells)

    return [
        Violation(number, rule.text, rule.loc)
        for rule in model.constraints
        if evaluate(rule.expr, atom) is False
    ]


def _indices(
    sem: _Semantics, cells: list[str], number: int, unknown: list[UnknownValue]
) -> tuple[int, ...] | None:
    """Value indices of a row, or None (after noting each unknown cell) if any is unknown."""
    out: list[int] = []
    for f, cell in enumerate(cells):
        index = sem.lookup[f].get(sem.key(cell))
        if index is None:
            unknown.append(UnknownValue(number, sem.names[f], cell))
        else:
            out.append(index)
    return tuple(out) if len(out) == len(cells) else None


@dataclass(slots=True)
class _Counts:
    covered: int = 0
    missing: int = 0
    excluded: int = 0
    listed: list[dict[str, str]] = field(default_factory=list)


def _count_tuples(
    sem: _Semantics,
    feas: _Feasibility,
    valid: list[tuple[int, ...]],
    sets: Iterable[tuple[int, ...]],
    max_missing: int,
) -> _Counts:
    counts = _Counts()
    levels = [len(v) for v in sem.values]
    for combo in sets:
        seen = {tuple(row[f] for f in combo) for row in valid}
        counts.covered += len(seen)
        if feas.satisfiable and not any(feas.constrained(f) for f in combo):
            # No rule touches these factors: every tuple is feasible, so count, don't search.
            counts.missing += math.prod(levels[f] for f in combo) - len(seen)
            if len(counts.listed) < max_missing:
                _list_missing(sem, combo, seen, counts, max_missing)
            continue
        for values in itertools.product(*(range(levels[f]) for f in combo)):
            if values in seen:
                continue
            if feas.feasible(tuple(zip(combo, values))):
                counts.missing += 1
                if len(counts.listed) < max_missing:
                    counts.listed.append(_named(sem, combo, values))
            else:
                counts.excluded += 1
    return counts


def _list_missing(
    sem: _Semantics,
    combo: tuple[int, ...],
    seen: set[tuple[int, ...]],
    counts: _Counts,
    max_missing: int,
) -> None:
    for values in itertools.product(*(range(len(sem.values[f])) for f in combo)):
        if len(counts.listed) >= max_missing:
            return
        if values not in seen:
            counts.listed.append(_named(sem, combo, values))


def _named(sem: _Semantics, combo: tuple[int, ...], values: tuple[int, ...]) -> dict[str, str]:
    return {sem.names[f]: sem.values[f][v] for f, v in zip(combo, values)}


# --------------------------------------------------------------------------- reading files
def read_table(path: Path | str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a CSV (comma) or TSV/TXT (tab) file; a UTF-8 BOM is fine.

    Blank lines are skipped. An empty file or an unreadable one raises ``SpecError``.
    """
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".txt"} else ","
    where = Location(file=str(path))
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            table = [row for row in csv.reader(handle, delimiter=delimiter) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise spec_error("unreadable-data", where, f"cannot read {path}: {exc}") from exc
    if not table:
        raise spec_error("empty-data", where, f"{path} has no header row")
    return table[0], table[1:]


__all__ = ["CheckResult", "UnknownValue", "Violation", "check_rows", "evaluate", "read_table"]
