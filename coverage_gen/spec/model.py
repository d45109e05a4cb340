"""Frozen model objects shared by every input form (our YAML spec, PICT model files).

Two levels:

* ``CombinatorialModel``: factors (named value lists), constraints (parsed ASTs), strength and
  seed. Both the YAML spec and a PICT file become one; the cover layer lowers it to integers.
* ``Spec``: a table with all its fields (categorical ones plus the shapes that fill the rest),
  from which ``Spec.combinatorial_model()`` takes the categorical part.

Every node keeps the ``Location`` it was written at, so later errors can point at the file.
This module imports only ``errors`` and the standard library.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from coverage_gen.errors import Diagnostic, Location

if TYPE_CHECKING:
    from coverage_gen.spec.provenance import Provenance

# --------------------------------------------------------------------------- constraint AST
# Operators as written in the constraint language (PICT's): = <> < <= > >=.
COMPARISON_OPERATORS = ("=", "<>", "<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``[Name]``: the value a row holds for a factor."""

    name: str
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: ``"text"`` (quoted, a string) or ``12.5`` (a number)."""

    text: str
    quoted: bool
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``[A] op "x"`` or ``[A] op [B]``; ``op`` is one of COMPARISON_OPERATORS."""

    op: str
    left: FieldRef
    right: FieldRef | Const
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class InSet:
    """``[A] IN {"x", "y"}`` (or ``NOT IN``)."""

    field: FieldRef
    values: tuple[Const, ...]
    negated: bool = False
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Like:
    """``[A] LIKE "W*"``: ``*`` matches any run of characters, ``?`` one character."""

    field: FieldRef
    pattern: Const
    negated: bool = False
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple["Expr", ...]
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple["Expr", ...]
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class IfThen:
    """``IF cond THEN then [ELSE otherwise]``."""

    cond: "Expr"
    then: "Expr"
    otherwise: "Expr | None" = None
    loc: Location = field(default=Location(), compare=False)


Expr = Comparison | InSet | Like | Not | And | Or | IfThen


@dataclass(frozen=True, slots=True)
class Constraint:
    """One user rule: its AST, its text as written, where it was written, its ordinal."""

    expr: Expr
    text: str
    loc: Location
    index: int


# --------------------------------------------------------------------------- factors
@dataclass(frozen=True, slots=True)
class Factor:
    """A categorical field: its name and legal values, spelt exactly as written.

    ``numeric`` follows PICT's typing: a factor whose every value parses as a number compares
    numerically (``[A] < 10``); otherwise values compare as strings.
    """

    name: str
    values: tuple[str, ...]
    numeric: bool = False
    loc: Location = field(default=Location(), compare=False)
    value_locs: tuple[Location, ...] = field(default=(), compare=False)
    # PICT extras, one entry per value when present (empty = none of the feature):
    # further names of a value (``Server | Datacenter``), accepted wherever a value is named;
    aliases: tuple[tuple[str, ...], ...] = ()
    # out-of-range values (``~-1``): at most one per row; the prefix is not part of the value;
    negative: tuple[bool, ...] = ()
    # preference weights (``Red (10)``, default 1): only break ties, never cost coverage.
    weights: tuple[int, ...] = ()

    def is_negative(self, v: int) -> bool:
        return bool(self.negative) and self.negative[v]

    def names_of(self, v: int) -> tuple[str, ...]:
        """Every name of value ``v``: the value itself first, then its aliases."""
        return (self.values[v],) + (self.aliases[v] if self.aliases else ())


@dataclass(frozen=True, slots=True)
class SeedRow:
    """A required row (PICT ``/e:`` seeding): per factor the value text, or ``None`` when
    the cell is free; ``loc`` is the seed file line it came from."""

    values: tuple[str | None, ...]
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class SubModel:
    """A PICT sub-model ``{ A, B, C } @ 3``: these factors (names as the model spells them)
    get their own strength; ``strength`` None = the model's strength (capped at the size).
    Every factor belongs to at most one sub-model. See docs/pict.md and engine/submodels.py."""

    factor_names: tuple[str, ...]
    strength: int | None = None
    loc: Location = field(default=Location(), compare=False)

    def order(self, main_strength: int) -> int:
        """The strength this sub-model is covered at, given the model's (main) strength."""
        if self.strength is not None:
            return self.strength
        return max(1, min(main_strength, len(self.factor_names)))


@dataclass(frozen=True, slots=True)
class CombinatorialModel:
    """Factors, constraints, strength and seed: everything the covering-array engine needs."""

    factors: tuple[Factor, ...]
    constraints: tuple[Constraint, ...] = ()
    strength: int = 2
    seed: int = 0
    source: str | None = None
    case_sensitive: bool = True
    seed_rows: tuple[SeedRow, ...] = ()
    # warnings found while reading the input (seed file problems, ...); not errors
    notes: tuple[Diagnostic, ...] = field(default=(), compare=False)
    # PICT sub-models (mixed strength); empty = every factor at ``strength``
    submodels: tuple[SubModel, ...] = ()

    def factor_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)


# --------------------------------------------------------------------------- field shapes
@dataclass(frozen=True, slots=True)
class Categorical:
    """A covering factor: the legal values (vocabulary)."""

    values: tuple[str, ...]
    numeric: bool = False
    value_locs: tuple[Location, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class IntegerRange:
    """Uniform integer in [min, max] (both inclusive)."""

    min: int
    max: int


@dataclass(frozen=True, slots=True)
class DecimalRange:
    """Uniform decimal in [min, max], rounded to ``places`` decimals."""

    min: Decimal
    max: Decimal
    places: int = 2


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal with the given median (= exp(mu)) and sigma, optionally clipped."""

    median: Decimal
    sigma: float
    clip_min: Decimal | None = None
    clip_max: Decimal | None = None
    places: int = 2


@dataclass(frozen=True, slots=True)
class DateRange:
    """Uniform date in [start, end], written with ``format`` (strftime, default ISO)."""

    start: _dt.date
    end: _dt.date
    format: str = "%Y-%m-%d"


@dataclass(frozen=True, slots=True)
class Template:
    """A string built per record: ``{seq}``/``{seq:05d}`` is the 1-based record number
    (offset by ``start - 1``); ``{field}`` is another field's value in the same record."""

    pattern: str
    start: int = 1


@dataclass(frozen=True, slots=True)
class Frequency:
    """A non-covering field drawn from a frequency table (values with relative weights)."""

    values: tuple[str, ...]
    weights: tuple[float, ...]


# ----- multi-table shapes (issue 5): keys, references and cross-table fields
@dataclass(frozen=True, slots=True)
class IntSequence:
    """An integer key: ``start``, ``start + 1``, ... (one per record)."""

    start: int = 1


@dataclass(frozen=True, slots=True)
class Uuid:
    """A text key: a UUID derived from seed, table and row number (never ``uuid4``)."""


@dataclass(frozen=True, slots=True)
class CountSpec:
    """How many children a parent gets: ``kind`` is fixed/range/poisson/zipf/frequency.

    fixed: ``params=(n,)``; range: ``(min, max)``; poisson: ``(lam,)``; zipf: ``(a, max)``;
    frequency: ``counts`` with relative ``weights``.
    """

    kind: str
    params: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """A foreign key to ``table.field`` (the parent's key).

    ``per_parent`` gives each parent a number of children; without it every child picks a
    parent (uniformly, or by ``power_law`` exponent). ``optional`` is the share of nulls;
    ``depth`` bounds a self-reference's chain length.
    """

    table: str
    field: str
    per_parent: CountSpec | None = None
    power_law: float | None = None
    optional: float = 0.0
    depth: int | None = None
    loc: Location = field(default=Location(), compare=False)
    key_type: str | None = None  # ``type:`` as written, checked against the parent key


@dataclass(frozen=True, slots=True)
class Copy:
    """The value of ``field`` in the parent row that reference field ``via`` points to."""

    via: str
    field: str


@dataclass(frozen=True, slots=True)
class DNum:
    value: Decimal


@dataclass(frozen=True, slots=True)
class DField:
    """``name`` (this record) or ``via.name`` (the parent row through reference ``via``)."""

    name: str
    via: str | None = None


@dataclass(frozen=True, slots=True)
class DCall:
    """``lookup(arg)``: a lookup table declared under the spec's ``lookups:``."""

    func: str
    arg: "DExpr"


@dataclass(frozen=True, slots=True)
class DBin:
    op: str  # + - *
    left: "DExpr"
    right: "DExpr"


DExpr = DNum | DField | DCall | DBin


@dataclass(frozen=True, slots=True)
class Derive:
    """A value computed from this record's and its parents' fields (``text`` as written)."""

    text: str
    expr: DExpr
    places: int | None = None


@dataclass(frozen=True, slots=True)
class SplitOf:
    """Children (through reference ``via``) whose values sum to at most
    ``max_share`` times the parent's ``field``."""

    via: str
    field: str
    max_share: Decimal = Decimal(1)


Shape = (
    Categorical | IntegerRange | DecimalRange | LogNormal | DateRange | Template | Frequency
    | IntSequence | Uuid | Reference | Copy | Derive | SplitOf
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    shape: Shape
    loc: Location = field(default=Location(), compare=False)
    description: str = ""
    key: bool = False  # the table's primary key (multi-table specs)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    fields: tuple[FieldSpec, ...]
    constraints: tuple[Constraint, ...] = ()
    rows: int | None = None
    loc: Location = field(default=Location(), compare=False)

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def categorical_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if isinstance(f.shape, Categorical))


@dataclass(frozen=True, slots=True)
class Spec:
    """A validated spec: one table for now (multi-table specs come with references)."""

    tables: tuple[Table, ...]
    strength: int = 2
    seed: int = 0
    source: str | None = None
    name: str = ""
    description: str = ""
    # multi-table specs (issue 5): cross-table coverage fields as (table, field), lookup
    # tables for derivations as (name, ((key, number), ...)), and the flag itself
    across: tuple[tuple[str, str], ...] = ()
    lookups: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...] = ()
    multi_table: bool = False
    # issue 7: sources register, citations, contract and sample (spec/provenance.py)
    provenance: "Provenance | None" = field(default=None, compare=False)

    @property
    def table(self) -> Table:
        return self.tables[0]

    def combinatorial_model(self) -> CombinatorialModel:
        """The covering part of the (single) table: its categorical fields and rules."""
        table = self.table
        factors = tuple(
            Factor(
                name=f.name,
                values=f.shape.values,
                numeric=f.shape.numeric,
                loc=f.loc,
                value_locs=f.shape.value_locs,
            )
            for f in table.categorical_fields()
            if isinstance(f.shape, Categorical)
        )
        return CombinatorialModel(
            factors=factors,
            constraints=table.constraints,
            strength=self.strength,
            seed=self.seed,
            source=self.source,
        )
