"""Multi-table generation: covering arrays per table and across a parent chain, then
column-wise records, parents fully before children.

* ``plan_tables(spec)`` -> ``TableSchema`` per table, parents first (the sinks' contract).
* ``solve_tables(spec, ...)`` -> ``MultiSolution``: per-table covering arrays and the
  cross-table array (``coverage.across``), lowered with exact per-table projections of
  each table's rules, and every fixed categorical row per table.
* ``iter_batches(spec, lowered_by_table, arrays_by_table, *, linked, seed, chunk_rows)``
  yields ``(table, {column: values})``.

Rows of a table: first the ``linked`` rows of the cross-table array (row i of a child
references row i of its parent along the chain), then the table's own covering rows, then
random valid rows up to the volume (``rows:`` or the children ``per_parent`` counts give).
Every random draw comes from ``rng_for(seed, table, field, ..., block)`` per fixed block of
``keys.BLOCK`` rows, so values do not depend on ``chunk_rows``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from coverage_gen._seed import rng_for
from coverage_gen.engine.lower import Lowered, lower_model
from coverage_gen.engine.oracle import RowOracle
from coverage_gen.engine.result import CoveringArray
from coverage_gen.errors import Diagnostic, InfeasibleSpecError, Location, SpecError
from coverage_gen.expand import keys as K
from coverage_gen.expand.schema import ColumnSchema, ForeignKey, TableSchema
from coverage_gen.expand.values import (
    compile_template,
    render_template_array,
    sample_field_array,
    text_array,
)
from coverage_gen.spec.model import (
    Categorical,
    CombinatorialModel,
    Copy,
    DateRange,
    DBin,
    DCall,
    Derive,
    DExpr,
    DField,
    DNum,
    Factor,
    FieldSpec,
    Reference,
    Spec,
    SplitOf,
    Table,
    Template,
)
from coverage_gen.spec.multitable import _places_of, column_kind, key_field, table_model

__all__ = ["MultiSolution", "iter_batches", "plan_tables", "solve_tables", "table_order"]

Column = list[str | None] | list[int | None] | np.ndarray
_PROJECTION_LIMIT = 50_000


# --------------------------------------------------------------------------- schema
def table_order(spec: Spec) -> tuple[str, ...]:
    from coverage_gen.graph import generation_order

    return generation_order(spec)


def plan_tables(spec: Spec) -> list[TableSchema]:
    """One schema per table, parents first."""
    tables = {t.name: t for t in spec.tables}
    out = []
    for name in table_order(spec):
        table = tables[name]
        columns, fks = [], []
        for f in table.fields:
            kind = column_kind(tables, name, f.name)
            columns.append(ColumnSchema(f.name, kind, f.key, _nullable(tables, name, f)))  # type: ignore[arg-type]
            if isinstance(f.shape, Reference):
                fks.append(ForeignKey(f.name, f.shape.table, f.shape.field))
        out.append(TableSchema(name, tuple(columns), tuple(fks)))
    return out


def _nullable(tables: dict[str, Table], table: str, f: FieldSpec) -> bool:
    shape = f.shape
    if isinstance(shape, Reference):
        return shape.optional > 0 or shape.table == table
    vias: list[str] = []
    if isinstance(shape, (Copy, SplitOf)):
        vias = [shape.via]
    elif isinstance(shape, Derive):
        from coverage_gen.spec.derive import derive_fields

        for ref in derive_fields(shape.expr):
            if ref.via is not None:
                vias.append(ref.via)
            else:
                local = next(x for x in tables[table].fields if x.name == ref.name)
                if _nullable(tables, table, local):
                    return True
    for via in vias:
        ref_field = next(x for x in tables[table].fields if x.name == via)
        if _nullable(tables, table, ref_field):
            return True
        assert isinstance(ref_field.shape, Reference)
        if isinstance(shape, Copy):
            parent = tables[ref_field.shape.table]
            src = next(x for x in parent.fields if x.name == shape.field)
            if _nullable(tables, parent.name, src):
                return True
    return False


# --------------------------------------------------------------------------- solving
@dataclass(frozen=True, slots=True, eq=False)
class MultiSolution:
    """Covering arrays of a multi-table spec, ready for ``iter_batches``."""

    lowered: dict[str, Lowered]
    arrays: dict[str, np.ndarray]          # fixed categorical rows per table (value indices)
    own: dict[str, CoveringArray]          # each table's own covering array
    linked: int = 0                        # rows of the cross-table array
    chain: tuple[tuple[str, str | None, str | None], ...] = ()
    across: CoveringArray | None = None
    across_names: tuple[str, ...] = ()
    across_lowered: Lowered | None = None
    across_model: CombinatorialModel | None = None
    models: dict[str, CombinatorialModel] = field(default_factory=dict)


def solve_tables(spec: Spec, *, time_limit: float = 5.0, progress: object = None) -> MultiSolution:
    """Per-table covering arrays plus the cross-table array along ``coverage.across``."""
    from coverage_gen.engine.search import Unsatisfiable, build_array
    from coverage_gen.engine.tuples import ProblemTooLarge

    lowered: dict[str, Lowered] = {}
    own: dict[str, CoveringArray] = {}
    models: dict[str, CombinatorialModel] = {}
    for table in spec.tables:
        if not table.categorical_fields():
            continue
        model = table_model(spec, table)
        models[table.name] = model
        lowered[table.name] = lower_model(model)
        try:
            own[table.name] = build_array(lowered[table.name].problem, seed=spec.seed,
                                          time_limit=time_limit)
        except Unsatisfiable:
            raise InfeasibleSpecError([Diagnostic(
                "unsatisfiable", table.loc,
                f"the rules of table '{table.name}' admit no valid row")]) from None
        except ProblemTooLarge as exc:
            raise SpecError([Diagnostic("too-large", table.loc, f"table '{table.name}': {exc}")]) from None
    linked_rows: dict[str, np.ndarray] = {}
    across = None
    chain: tuple[tuple[str, str | None, str | None], ...] = ()
    across_lowered = None
    across_model = None
    names: tuple[str, ...] = ()
    if spec.across:
        from coverage_gen.graph import across_chain

        chain = across_chain(spec, [t for t, _ in spec.across])
        across_model, across_lowered = _across_problem(spec, lowered)
        names = across_model.factor_names()
        try:
            across = build_array(across_lowered.problem, seed=spec.seed, time_limit=time_limit)
        except Unsatisfiable:
            raise InfeasibleSpecError([Diagnostic(
                "unsatisfiable", Location(spec.source),
                "the tables' rules admit no row for the coverage.across fields")]) from None
        except ProblemTooLarge as exc:
            raise SpecError([Diagnostic("too-large", Location(spec.source, path=("coverage", "across")),
                                        f"coverage.across: {exc}")]) from None
        linked_rows = _complete_linked(spec, lowered, across.rows)
    arrays = {}
    for name, low in lowered.items():
        parts = [linked_rows[name]] if name in linked_rows else []
        parts.append(own[name].rows.astype(np.int64))
        arrays[name] = np.vstack(parts)
    linked = 0 if across is None else across.num_rows
    return MultiSolution(lowered, arrays, own, linked, chain, across, names, across_lowered,
                         across_model, models)


def _across_problem(spec: Spec, lowered: dict[str, Lowered]) -> tuple[CombinatorialModel, Lowered]:
    """Factors ``table.field`` for the across fields; per table, every combination of its
    across values that no valid row of the table extends becomes a forbidden clause."""
    tables = {t.name: t for t in spec.tables}
    factors = []
    for t, name in spec.across:
        f = next(x for x in tables[t].fields if x.name == name)
        assert isinstance(f.shape, Categorical)
        factors.append(Factor(f"{t}.{name}", f.shape.values, f.shape.numeric, f.loc))
    model = CombinatorialModel(tuple(factors), (), min(spec.strength, len(factors)), spec.seed,
                               spec.source)
    base = lower_model(model)
    clauses = []
    for t in dict.fromkeys(t for t, _ in spec.across):
        low = lowered[t]
        if not low.problem.clauses:
            continue
        oracle = RowOracle(low.problem)
        cols = [(i, low.names.factor_names.index(name)) for i, (tt, name) in enumerate(spec.across) if tt == t]
        levels = [low.problem.levels[j] for _, j in cols]
        if math.prod(levels) > _PROJECTION_LIMIT:
            continue
        for combo in itertools.product(*(range(n) for n in levels)):
            partial = np.full(low.problem.num_factors, -1, dtype=np.int64)
            for (_, j), v in zip(cols, combo):
                partial[j] = v
            if not oracle.extendable(partial):
                clauses.append(tuple(
                    (i, frozenset(range(n)) - {v}) for (i, _), n, v in zip(cols, levels, combo)
                ))
    problem = dataclasses.replace(base.problem, clauses=tuple(clauses),
                                  clause_origin=tuple(0 for _ in clauses))
    return model, Lowered(problem, base.names)


def _complete_linked(spec: Spec, lowered: dict[str, Lowered], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each chain table's categorical values for the cross-table rows (the across fields
    fixed, the rest a seeded valid completion)."""
    out = {}
    for t, low in lowered.items():
        cols = [(i, low.names.factor_names.index(name)) for i, (tt, name) in enumerate(spec.across) if tt == t]
        if not cols and t not in {c for c, _ in spec.across}:
            pass
        oracle = RowOracle(low.problem)
        rng = rng_for(spec.seed, t, "linked-rows")
        block = np.empty((len(rows), low.problem.num_factors), dtype=np.int64)
        for r, row in enumerate(rows.tolist()):
            partial = np.full(low.problem.num_factors, -1, dtype=np.int64)
            for i, j in cols:
                partial[j] = row[i]
            done = oracle.complete(partial, rng)
            if done is None:
                raise InfeasibleSpecError([Diagnostic(
                    "unsatisfiable", Location(spec.source),
                    f"table '{t}': no valid row holds the cross-table combination "
                    f"{[low.names.values[j][row[i]] for i, j in cols]}")])
            block[r] = done
        out[t] = block
    return out


# --------------------------------------------------------------------------- planning
class _Identity:
    """Row ``r`` -> parent ``r`` (a chain reference whose rows are all linked rows)."""

    def rows(self, lo: int, hi: int) -> np.ndarray:
        return np.arange(lo, hi, dtype=np.int64)


_FkSource = K.PerParentIndex | K.SampledParents | K.SelfParents | _Identity


@dataclass
class _Plan:
    table: Table
    n: int
    fk: dict[str, _FkSource]                # reference field -> parent row numbers (-1 NULL)
    split: dict[str, np.ndarray] = field(default_factory=dict)  # field -> share of parent


def _plan_rows(spec: Spec, sol_arrays: dict[str, np.ndarray], linked: int,
               chain: Sequence[tuple[str, str | None, str | None]]) -> dict[str, _Plan]:
    tables = {t.name: t for t in spec.tables}
    chain_ref = {t: ref for t, ref, _ in chain}
    plans: dict[str, _Plan] = {}
    for name in table_order(spec):
        table = tables[name]
        fixed = len(sol_arrays[name]) if name in sol_arrays else 0
        link = linked if name in chain_ref else 0
        fixed = max(fixed, link)  # a chain table holds every linked row, categorical or not
        refs = [f for f in table.fields if isinstance(f.shape, Reference) and f.shape.table != name]
        owner = next((f for f in refs if f.shape.per_parent is not None), None)  # type: ignore[union-attr]
        fk: dict[str, _FkSource] = {}
        if owner is not None:
            ref = owner.shape
            assert isinstance(ref, Reference) and ref.per_parent is not None
            head = link if chain_ref.get(name) == owner.name else 0
            index = K.PerParentIndex(ref.per_parent, plans[ref.table].n, seed=spec.seed,
                                     table=name, field=owner.name, linked=head)
            n = max(index.length, fixed, table.rows or 0)
            if n > index.length:  # further rows wrap around the parents
                _need_parents(plans[ref.table].n, name, owner)
            fk[owner.name] = index
        elif refs:
            first = refs[0].shape
            assert isinstance(first, Reference)
            n = max(table.rows if table.rows is not None else plans[first.table].n, fixed)
        else:
            n = max(table.rows if table.rows is not None else max(fixed, 1), fixed)
        for f in refs:
            if f.name in fk:
                continue
            ref = f.shape
            assert isinstance(ref, Reference)
            parents = plans[ref.table].n
            head = link if chain_ref.get(name) == f.name else 0
            if n > head:
                _need_parents(parents, name, f)
            fk[f.name] = K.SampledParents(
                n, parents, seed=spec.seed, table=name, field=f.name, power_law=ref.power_law,
                optional=ref.optional, start=head) if n > head else _Identity()
        for f in table.fields:
            ref = f.shape
            if isinstance(ref, Reference) and ref.table == name:
                fk[f.name] = K.SelfParents(n, ref.depth or 1, seed=spec.seed, table=name,
                                           field=f.name, optional=ref.optional)
        plan = _Plan(table, n, fk)
        for f in table.fields:
            if isinstance(f.shape, SplitOf):  # shares need every sibling: the whole column
                plan.split[f.name] = _split_shares(spec.seed, name, f.name,
                                                   fk[f.shape.via].rows(0, n),
                                                   plans[_parent_of(table, f.shape.via)].n)
        plans[name] = plan
    return plans


def _need_parents(parents: int, table: str, f: FieldSpec) -> None:
    if parents < 1:
        ref = f.shape
        assert isinstance(ref, Reference)
        raise SpecError(Diagnostic(
            "bad-reference", f.loc,
            f"field '{table}.{f.name}' needs parent rows, but table '{ref.table}' has none "
            "(give it rows: or categorical fields)"))


def _parent_of(table: Table, via: str) -> str:
    ref = next(f for f in table.fields if f.name == via).shape
    assert isinstance(ref, Reference)
    return ref.table


def _split_shares(seed: int, table: str, name: str, parent: np.ndarray, parents: int) -> np.ndarray:
    """Each child's share of its parent's value: exponential weights normalised over the
    siblings plus one unpaid remainder, so shares of one parent sum to less than 1."""
    rank, _ = K.sibling_rank(parent, parents)
    w = -np.log(K.hash_uniform(seed, (table, name, "share"), parent, rank))
    rest = -np.log(K.hash_uniform(seed, (table, name, "rest"), np.arange(parents), np.zeros(parents)))
    total = np.bincount(parent, weights=w, minlength=parents) + rest
    return w / total[parent] * (1.0 - 1e-9)


# --------------------------------------------------------------------------- generation
def iter_batches(
    spec: Spec,
    lowered_by_table: dict[str, Lowered],
    arrays_by_table: dict[str, np.ndarray],
    *,
    linked: int = 0,
    seed: int,
    chunk_rows: int = K.BLOCK,
) -> Iterator[tuple[str, dict[str, Column]]]:
    """Column batches of at most ``chunk_rows`` rows, table by table, parents first."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    spec = dataclasses.replace(spec, seed=seed)
    chain = ()
    if spec.across and linked:
        from coverage_gen.graph import across_chain

        chain = across_chain(spec, [t for t, _ in spec.across])
    plans = _plan_rows(spec, arrays_by_table, linked, chain)
    tables = {t.name: t for t in spec.tables}
    kinds = {s.name: {c.name: c.kind for c in s.columns} for s in plan_tables(spec)}
    kept: dict[str, dict[str, np.ndarray]] = {}
    needed = _needed_columns(spec)
    for name in table_order(spec):
        plan = plans[name]
        ctx = _Ctx(spec, tables, plans, kept, kinds, lowered_by_table.get(name),
                   arrays_by_table.get(name))
        store: dict[str, list[Column]] = {c: [] for c in needed.get(name, ())}
        pending: dict[str, list[Column]] = {}
        count = 0
        for b, lo in enumerate(range(0, plan.n, K.BLOCK)):
            hi = min(plan.n, lo + K.BLOCK)
            block = ctx.block(plan, b, lo, hi)
            for c in store:
                store[c].append(block[c])
            for c, values in block.items():
                pending.setdefault(c, []).append(values)
            count += hi - lo
            while count >= chunk_rows:
                yield name, _take(pending, chunk_rows, tables[name])
                count -= chunk_rows
        if count or plan.n == 0:
            yield name, _take(pending, count, tables[name])
        kept[name] = {c: _keep(parts) for c, parts in store.items()}


def _needed_columns(spec: Spec) -> dict[str, set[str]]:
    """Per table, the columns children read (copy, derive, split_of) and must be kept."""
    from coverage_gen.spec.derive import derive_fields

    out: dict[str, set[str]] = {}
    for table in spec.tables:
        for f in table.fields:
            pairs: list[tuple[str, str]] = []
            if isinstance(f.shape, (Copy, SplitOf)):
                pairs = [(f.shape.via, f.shape.field)]
            elif isinstance(f.shape, Derive):
                pairs = [(r.via, r.name) for r in derive_fields(f.shape.expr) if r.via]
            for via, col in pairs:
                out.setdefault(_parent_of(table, via), set()).add(col)
    return out


def _keep(parts: list[Column]) -> np.ndarray:
    """A parent column children read: one compact numpy array (text or int64) when no
    value is NULL, else an object array."""
    if all(isinstance(p, np.ndarray) and p.dtype.kind in "iU" for p in parts):
        kinds = {p.dtype.kind for p in parts}  # type: ignore[union-attr]
        if len(kinds) <= 1:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=object)  # type: ignore[arg-type]
    values = list(itertools.chain.from_iterable(_as_list(p) for p in parts))
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _as_list(values: Column) -> list[object]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _take(pending: dict[str, list[Column]], n: int, table: Table) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for c in table.field_names():
        parts = pending.get(c, [])
        if parts and isinstance(parts[0], np.ndarray):
            joined = np.concatenate(parts) if len(parts) > 1 else parts[0]
            out[c], rest = joined[:n], joined[n:]
            pending[c] = [rest] if len(rest) else []
            if out[c].dtype.kind in "UO":  # text columns are lists (expand/schema.py)
                out[c] = out[c].tolist()
        else:
            flat = parts[0] if len(parts) == 1 else list(itertools.chain.from_iterable(
                p.tolist() if isinstance(p, np.ndarray) else p for p in parts))
            if len(flat) > n:
                out[c], pending[c] = flat[:n], [flat[n:]]
            else:
                out[c], pending[c] = flat, []
        if not isinstance(out[c], np.ndarray) and parts == [] and n:
            out[c] = []
    return out


@dataclass
class _Ctx:
    spec: Spec
    tables: dict[str, Table]
    plans: dict[str, _Plan]
    kept: dict[str, dict[str, np.ndarray]]
    kinds: dict[str, dict[str, str]]
    lowered: Lowered | None
    fixed: np.ndarray | None
    fkb: dict[str, np.ndarray] = field(default_factory=dict)  # this block's parent rows

    def block(self, plan: _Plan, b: int, lo: int, hi: int) -> dict[str, Column]:
        table, seed, m = plan.table, self.spec.seed, hi - lo
        self.fkb = {name: source.rows(lo, hi) for name, source in plan.fk.items()}
        cols: dict[str, Column] = {}
        cats = self._categoricals(table, b, lo, hi)
        cols.update(cats)
        for f in table.fields:
            shape = f.shape
            if f.key:
                cols[f.name] = K.key_values(shape, table.name, seed, np.arange(lo, hi))
            elif isinstance(shape, Reference):
                cols[f.name] = self._fk(shape, self.fkb[f.name])
            elif isinstance(shape, Copy):
                cols[f.name] = _lookup(self.kept[_parent_of(table, shape.via)][shape.field],
                                       self.fkb[shape.via])
            elif isinstance(shape, SplitOf):
                cols[f.name] = self._split(table, f, shape, plan, lo, hi)
            elif not isinstance(shape, (Categorical, Template, Derive)):
                cols[f.name] = sample_field_array(shape, m, rng_for(seed, table.name, f.name, b))
        for f in table.fields:
            if isinstance(f.shape, Derive):
                cols[f.name] = self._derive(table, f, plan, cols, lo, hi)
        for f in table.fields:
            if isinstance(f.shape, Template) and not f.key:
                compiled = compile_template(f.shape.pattern, start=f.shape.start + lo, loc=f.loc)
                texts = {k: _texts(cols[k]) for k in compiled.names if k in cols}
                cols[f.name] = render_template_array(compiled, texts, m, loc=f.loc)
        return {f.name: self._typed(table.name, f, cols[f.name]) for f in table.fields}

    def _typed(self, table: str, f: FieldSpec, values: Column) -> Column:
        if self.kinds[table][f.name] != "integer" or (
                isinstance(values, np.ndarray) and values.dtype.kind == "i"):
            return values
        ints = [None if v is None else int(v) for v in _as_list(values)]
        if any(v is None for v in ints):
            return ints
        return np.asarray(ints, dtype=np.int64)

    def _categoricals(self, table: Table, b: int, lo: int, hi: int) -> dict[str, Column]:
        low = self.lowered
        if low is None:
            return {}
        k = low.problem.num_factors
        fixed = self.fixed if self.fixed is not None else np.zeros((0, k), dtype=np.int64)
        rows = np.empty((hi - lo, k), dtype=np.int64)
        take = fixed[lo:min(hi, len(fixed))]
        rows[: len(take)] = take
        extra = hi - lo - len(take)
        if extra:
            rng = rng_for(self.spec.seed, table.name, "extra-rows", b)
            if not low.problem.clauses:
                levels = np.asarray(low.problem.levels, dtype=np.int64)
                rows[len(take):] = rng.integers(0, levels, size=(extra, k))
            else:
                oracle = RowOracle(low.problem)
                empty = np.full(k, -1, dtype=np.int64)
                for r in range(len(take), hi - lo):
                    done = oracle.complete(empty.copy(), rng)
                    assert done is not None
                    rows[r] = done
        out: dict[str, Column] = {}
        for j, name in enumerate(low.names.factor_names):
            out[name] = text_array(low.names.values[j])[rows[:, j]]
        return out

    def _fk(self, ref: Reference, idx: np.ndarray) -> Column:
        parent = self.tables[ref.table]
        key = key_field(parent)
        assert key is not None
        valid = idx >= 0
        values = K.key_values(key.shape, parent.name, self.spec.seed, idx[valid])
        if valid.all():
            return values
        it = iter(_as_list(values))
        return [next(it) if ok else None for ok in valid.tolist()]

    def _split(self, table: Table, f: FieldSpec, shape: SplitOf, plan: _Plan, lo: int, hi: int) -> Column:
        parent = _parent_of(table, shape.via)
        places = _places_of(self.tables, parent, shape.field)
        src = self.kept[parent][shape.field]
        idx = self.fkb[shape.via]
        share = plan.split[f.name][lo:hi] * float(shape.max_share)
        scale = 10 ** places
        out: list[str | None] = []
        for i, s in zip(idx.tolist(), share.tolist()):
            if i < 0 or src[i] is None:
                out.append(None)
                continue
            units = int(Decimal(str(src[i])) * scale)
            amount = max(0, math.floor(units * s))
            out.append(format(Decimal(amount).scaleb(-places), "f"))
        return out

    def _derive(self, table: Table, f: FieldSpec, plan: _Plan, cols: dict[str, Column],
                lo: int, hi: int) -> Column:
        shape = f.shape
        assert isinstance(shape, Derive)
        value = _eval(shape.expr, self, table, plan, cols, lo, hi)
        kind = self.kinds[table.name][f.name]
        out: list[str | None] = []
        places = shape.places if shape.places is not None else 2
        for x in value.tolist():
            if math.isnan(x):
                out.append(None)
            elif kind == "date":
                out.append((_EPOCH + _dt.timedelta(days=int(round(x)))).isoformat())
            elif kind == "integer":
                out.append(str(int(round(x))))
            else:
                out.append(format(Decimal(repr(round(x, places))).quantize(Decimal(1).scaleb(-places)), "f"))
        return out


_EPOCH = _dt.date(1970, 1, 1)


def _eval(expr: DExpr, ctx: _Ctx, table: Table, plan: _Plan, cols: dict[str, Column],
          lo: int, hi: int) -> np.ndarray:
    """Float64 values (dates as days since 1970-01-01, NaN = NULL)."""
    m = hi - lo
    if isinstance(expr, DNum):
        return np.full(m, float(expr.value))
    if isinstance(expr, DBin):
        a = _eval(expr.left, ctx, table, plan, cols, lo, hi)
        b = _eval(expr.right, ctx, table, plan, cols, lo, hi)
        return a + b if expr.op == "+" else a - b if expr.op == "-" else a * b
    if isinstance(expr, DCall):
        assert isinstance(expr.arg, DField)
        texts = _field_values(expr.arg, ctx, table, plan, cols, lo, hi)
        lookup = {k: float(v) for k, v in dict(ctx.spec.lookups)[expr.func].items()} \
            if isinstance(dict(ctx.spec.lookups)[expr.func], dict) else \
            {k: float(v) for k, v in dict(ctx.spec.lookups)[expr.func]}
        out = np.empty(m)
        for i, t in enumerate(texts):
            if t is None:
                out[i] = np.nan
            elif t in lookup:
                out[i] = lookup[t]
            else:
                raise SpecError(Diagnostic("bad-derive", Location(ctx.spec.source),
                                           f"lookup '{expr.func}' has no entry for {t!r}"))
        return out
    assert isinstance(expr, DField)
    texts = _field_values(expr, ctx, table, plan, cols, lo, hi)
    where = table if expr.via is None else ctx.tables[_parent_of(table, expr.via)]
    src = next(x for x in where.fields if x.name == expr.name)
    kind = ctx.kinds[where.name][expr.name]
    fmt = src.shape.format if isinstance(src.shape, DateRange) else "%Y-%m-%d"
    out = np.empty(m)
    for i, t in enumerate(texts):
        if t is None:
            out[i] = np.nan
        elif kind == "date" or isinstance(src.shape, DateRange):
            out[i] = (_dt.datetime.strptime(str(t), fmt).date() - _EPOCH).days
        else:
            out[i] = float(t)
    return out


def _field_values(ref: DField, ctx: _Ctx, table: Table, plan: _Plan, cols: dict[str, Column],
                  lo: int, hi: int) -> list[object]:
    if ref.via is None:
        return _as_list(cols[ref.name])
    return _lookup(ctx.kept[_parent_of(table, ref.via)][ref.name], ctx.fkb[ref.via])


def _lookup(src: np.ndarray, idx: np.ndarray) -> list[object]:
    """``src[i]`` per parent row number ``i`` (``None`` for -1), as a list."""
    if not len(src):
        return [None] * len(idx)
    values: list[object] = src[np.maximum(idx, 0)].tolist()
    if len(idx) and idx.min() < 0:
        for i in np.flatnonzero(idx < 0).tolist():
            values[i] = None
    return values


def _texts(values: Column) -> list[str] | np.ndarray:
    """A column as template text (``None`` -> empty)."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iU":
            return values.astype(str)
        values = values.tolist()
    return ["" if x is None else str(x) for x in values]
